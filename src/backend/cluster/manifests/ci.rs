//! The raibid server and the agents KEDA starts per waiting job, committed to the gitops
//! repository and applied by Flux. Both read one in-cluster config from a ConfigMap and
//! their secrets from the environment, except the agents' clone credential: a file.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVar, PodSpec, Volume, VolumeMount};

use super::builders::{
    App, config_map_volume, container, container_port, empty_dir_volume, env, env_from_secret,
    http_probe, mount, optional_env_from_secret, pvc_volume, resources, secret_volume,
    service_host,
};
use super::redis::{REDIS_PORT, REDIS_SERVICE};
use super::{GIT_CLONE_SECRET, REDIS_SECRET, SERVER_SECRET, TOKENS_SECRET, forwarded_credentials};
use crate::backend::cluster::crds::{
    LocalRef, ScaleTrigger, ScaledJob, ScaledJobSpec, ScalingStrategy, SecretTargetRef,
    TriggerAuthentication, TriggerAuthenticationSpec,
};
use crate::backend::cluster::{Component, Manifest};
use crate::backend::mirror::push_hook;
use crate::backend::queue::contract::Keys;
use crate::config::Config;

/// The ConfigMap holding `config.toml`, shared with Sparky's CronJobs.
pub(super) const CONFIG_MAP: &str = "raibid-config";
const CONFIG_KEY: &str = "config.toml";
const CONFIG_VOLUME: &str = "config";
const CONFIG_DIR: &str = "/etc/raibid";

const SERVER: &str = "raibid-server";
const SERVER_PORT: i32 = 8080;
const AGENT: &str = "raibid-agent";
/// The agents' build caches (per repository: cargo home and target dir), kept between
/// the ephemeral agent pods.
const CARGO_CACHE: &str = "cargo-cache";
const CACHE_DIR: &str = "/cache";
const WORKSPACE: &str = "/work";
const TRIGGER_AUTH: &str = "redis-queue";
const GIT_CLONE_VOLUME: &str = "git-clone";
const GIT_CLONE_DIR: &str = "/var/run/secrets/raibid/git-clone";
/// How much longer than a job's timeout its agent's Job may run: clone, clean-up, reporting.
const AGENT_GRACE_SECS: u64 = 300;

pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    let namespace = &config.cluster.namespace;
    let shared = App {
        component: Component::Ci,
        name: "raibid",
        namespace,
    };
    let server = App {
        name: SERVER,
        ..shared
    };
    let agent = App {
        name: AGENT,
        ..shared
    };
    vec![
        config_map(&shared, config),
        server.deployment(server_pod(config), "RollingUpdate"),
        server.service("http", SERVER_PORT),
        agent.pvc(
            CARGO_CACHE,
            &config.cluster,
            &config.cluster.cargo_cache_storage,
        ),
        agent.manifest(TriggerAuthentication::new(
            TRIGGER_AUTH,
            namespace,
            TriggerAuthenticationSpec {
                secret_target_ref: vec![SecretTargetRef {
                    parameter: "password".into(),
                    name: REDIS_SECRET.into(),
                    key: "password".into(),
                }],
            },
        )),
        agent.manifest(scaled_job(&agent, config)),
    ]
}

/// Where Gitea's push webhook reaches the server inside the cluster.
pub fn server_webhook_url(config: &Config) -> String {
    format!(
        "http://{}:{SERVER_PORT}{}",
        service_host(SERVER, &config.cluster.namespace),
        push_hook::SERVER_PATH
    )
}

/// The user's config as the pods run it: listening on all addresses, workspaces and build
/// caches on their volumes, logging to stderr only (`kubectl logs`), Gitea at its
/// in-cluster Service, secrets from the environment the pods set, and the cluster section
/// and key bindings at their defaults (they mean nothing inside).
fn in_cluster_config(config: &Config) -> Config {
    let defaults = Config::default();
    let mut inside = config.clone();
    inside.server.listen = format!("0.0.0.0:{SERVER_PORT}");
    // Host paths of file secrets do not exist in pods: every secret comes from its default
    // variable, which the pods set (the server's) or leave unset.
    inside.server.token = defaults.server.token;
    inside.server.gitea_webhook_secret = defaults.server.gitea_webhook_secret;
    inside.server.github_webhook_secret = defaults.server.github_webhook_secret;
    inside.gitea.token = defaults.gitea.token;
    inside.gitea.url = super::flux::gitea_url_in_cluster();
    // Webhooks carry clone URLs under Gitea's ROOT_URL, which pods cannot reach.
    inside.gitea.public_url = super::gitea::root_url(config);
    inside.ci.clone_credentials_file = format!("{GIT_CLONE_DIR}/credentials").into();
    inside.github.token = defaults.github.token;
    inside.github.cache_dir = defaults.github.cache_dir;
    inside.publish.token = defaults.publish.token;
    inside.ci.workspace_dir = WORKSPACE.into();
    inside.ci.cache_dir = CACHE_DIR.into();
    inside.log.file = false;
    inside.cluster = defaults.cluster;
    inside.keys = defaults.keys;
    inside
}

fn config_map(app: &App, config: &Config) -> Manifest {
    let toml = toml::to_string(&in_cluster_config(config)).expect("the config serializes to TOML");
    app.manifest(ConfigMap {
        metadata: app.meta(CONFIG_MAP),
        data: Some(BTreeMap::from([(CONFIG_KEY.to_owned(), toml)])),
        ..ConfigMap::default()
    })
}

/// `RAIBID_CONFIG` pointing at the mounted ConfigMap.
pub(super) fn config_env() -> EnvVar {
    env("RAIBID_CONFIG", &format!("{CONFIG_DIR}/{CONFIG_KEY}"))
}

pub(super) fn config_volume() -> (Volume, VolumeMount) {
    (
        config_map_volume(CONFIG_VOLUME, CONFIG_MAP),
        mount(CONFIG_VOLUME, CONFIG_DIR),
    )
}

/// The environment of the server and the agents. Kubernetes expands `$(REDIS_PASSWORD)`
/// because it is defined earlier in the list.
fn shared_env(config: &Config) -> Vec<EnvVar> {
    let redis = service_host(REDIS_SERVICE, &config.cluster.namespace);
    vec![
        config_env(),
        env_from_secret("REDIS_PASSWORD", REDIS_SECRET, "password"),
        env(
            "RAIBID_CI_REDIS_URL",
            &format!("redis://:$(REDIS_PASSWORD)@{redis}:{REDIS_PORT}/0"),
        ),
        env_from_secret("RAIBID_SERVER_TOKEN", SERVER_SECRET, "token"),
        env_from_secret(
            "RAIBID_GITEA_WEBHOOK_SECRET",
            SERVER_SECRET,
            "gitea-webhook-secret",
        ),
        env_from_secret(
            "RAIBID_GITHUB_WEBHOOK_SECRET",
            SERVER_SECRET,
            "github-webhook-secret",
        ),
    ]
    .into_iter()
    .chain(token_env(config))
    .collect()
}

/// The API tokens the config forwards into the cluster; each may be absent.
pub(super) fn token_env(config: &Config) -> impl Iterator<Item = EnvVar> {
    forwarded_credentials(config)
        .into_iter()
        .map(|(key, var, _)| optional_env_from_secret(var, TOKENS_SECRET, key))
}

fn server_pod(config: &Config) -> PodSpec {
    let (config_volume, config_mount) = config_volume();
    let server = Container {
        args: Some(vec!["server".into()]),
        env: Some(shared_env(config)),
        ports: Some(vec![container_port("http", SERVER_PORT)]),
        readiness_probe: Some(http_probe("/readyz", SERVER_PORT)),
        liveness_probe: Some(http_probe("/healthz", SERVER_PORT)),
        volume_mounts: Some(vec![config_mount]),
        ..container("server", &config.cluster.image)
    };
    PodSpec {
        containers: vec![server],
        volumes: Some(vec![config_volume]),
        ..PodSpec::default()
    }
}

/// One agent Job (`raibid agent --once`) per job waiting in the queue.
fn scaled_job(app: &App, config: &Config) -> ScaledJob {
    let cluster = &config.cluster;
    let (config_volume, config_mount) = config_volume();
    let agent = Container {
        args: Some(vec!["agent".into(), "--once".into()]),
        env: Some(shared_env(config)),
        resources: Some(resources(
            &[
                ("cpu", &cluster.agent_cpu_request),
                ("memory", &cluster.agent_memory_request),
            ],
            &[
                ("cpu", &cluster.agent_cpu_limit),
                ("memory", &cluster.agent_memory_limit),
            ],
        )),
        volume_mounts: Some(vec![
            config_mount,
            mount(CARGO_CACHE, CACHE_DIR),
            mount("work", WORKSPACE),
            VolumeMount {
                read_only: Some(true),
                ..mount(GIT_CLONE_VOLUME, GIT_CLONE_DIR)
            },
        ]),
        ..container("agent", &cluster.image)
    };
    let job = JobSpec {
        backoff_limit: Some(0),
        active_deadline_seconds: Some(
            i64::try_from(config.ci.job_timeout_secs + AGENT_GRACE_SECS).unwrap_or(i64::MAX),
        ),
        template: app.pod_template(PodSpec {
            restart_policy: Some("Never".into()),
            containers: vec![agent],
            volumes: Some(vec![
                config_volume,
                pvc_volume(CARGO_CACHE, CARGO_CACHE),
                empty_dir_volume("work"),
                secret_volume(GIT_CLONE_VOLUME, GIT_CLONE_SECRET),
            ]),
            ..PodSpec::default()
        }),
        ..JobSpec::default()
    };
    ScaledJob::new(
        AGENT,
        &cluster.namespace,
        ScaledJobSpec {
            job_target_ref: job,
            polling_interval: i32::try_from(cluster.agent_polling_secs).unwrap_or(i32::MAX),
            max_replica_count: i32::try_from(cluster.agent_max_replicas).unwrap_or(i32::MAX),
            successful_jobs_history_limit: 3,
            failed_jobs_history_limit: 5,
            scaling_strategy: ScalingStrategy {
                strategy: "default".into(),
            },
            triggers: vec![queue_trigger(config)],
        },
    )
}

/// Scales on the consumer group's lag (entries not yet delivered to any agent). Without
/// `lagCount` KEDA counts pending entries, 0 while no agent runs, so none would ever start.
fn queue_trigger(config: &Config) -> ScaleTrigger {
    let keys = Keys::new(&config.ci.queue_prefix);
    let address = format!(
        "{}:{REDIS_PORT}",
        service_host(REDIS_SERVICE, &config.cluster.namespace)
    );
    let metadata = [
        ("address", address),
        ("stream", keys.jobs()),
        ("consumerGroup", keys.group().to_owned()),
        ("lagCount", "1".to_owned()),
        ("activationLagCount", "0".to_owned()),
    ];
    ScaleTrigger {
        type_: "redis-streams".into(),
        metadata: metadata
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        authentication_ref: Some(LocalRef {
            name: TRIGGER_AUTH.into(),
        }),
    }
}
