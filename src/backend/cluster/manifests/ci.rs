//! The raibid server and the agents KEDA starts per waiting job, committed to the gitops
//! repository and applied by Flux. Each reads an in-cluster config from a ConfigMap.
//!
//! Agents run untrusted build steps, so they hold only what an agent needs (the queue's
//! password, the Gitea status token and the clone credential), all as files of Secret
//! volumes readable by root only, while the steps run as [`STEP_USER`]: no secret is in
//! their environment or in their config. The server runs no untrusted code: its own
//! secrets are files too, the queue's URL and the forwarded API tokens come from its
//! environment (`raibid server` reads `ci.redis_url` as it is).

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, EnvVar, PodSecurityContext, PodSpec, SeccompProfile,
    SecurityContext, Volume, VolumeMount,
};

use super::builders::{
    App, config_map_volume, container, container_port, empty_dir_volume, env, env_from_secret,
    http_probe, mount, optional_env_from_secret, optional_secret_key_volume, pvc_volume, resources,
    secret_volume, service_host,
};
use super::redis::{REDIS_PORT, REDIS_SERVICE};
use super::{
    GIT_CLONE_SECRET, GITEA_TOKEN_KEY, REDIS_SECRET, SERVER_SECRET, TOKENS_SECRET, agent_network,
    forwarded_credentials,
};
use crate::backend::cluster::crds::{
    LocalRef, ScaleTrigger, ScaledJob, ScaledJobSpec, ScalingStrategy, SecretTargetRef,
    TriggerAuthentication, TriggerAuthenticationSpec,
};
use crate::backend::cluster::{Component, Manifest};
use crate::backend::mirror::push_hook;
use crate::backend::queue::contract::Keys;
use crate::config::{Config, Secret};

/// The ConfigMap holding `config.toml`, shared with Sparky's CronJobs.
pub(super) const CONFIG_MAP: &str = "raibid-config";
/// The agents' own `config.toml`, naming only the secrets an agent reads.
const AGENT_CONFIG_MAP: &str = "raibid-agent-config";
const CONFIG_KEY: &str = "config.toml";
const CONFIG_VOLUME: &str = "config";
const CONFIG_DIR: &str = "/etc/raibid";

const SERVER: &str = "raibid-server";
const SERVER_PORT: i32 = 8080;
const AGENT: &str = "raibid-agent";
/// The `uid:gid` build steps run as in an agent pod (`ci.step_user`): not the agent's root,
/// so its `/proc` and its secret files are out of their reach.
pub const STEP_USER: &str = "1001:1001";
/// What the agent, root in its container, keeps of root's powers: starting steps as
/// [`STEP_USER`] (SETUID, SETGID), handing it the workspace and cache (CHOWN), cleaning up
/// and signalling what the steps left and started (DAC_OVERRIDE, FOWNER, KILL).
const AGENT_CAPABILITIES: [&str; 6] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "KILL",
    "SETGID",
    "SETUID",
];
/// The agents' build caches (per repository: cargo home and target dir), kept between
/// the ephemeral agent pods.
const CARGO_CACHE: &str = "cargo-cache";
const CACHE_DIR: &str = "/cache";
const WORKSPACE: &str = "/work";
const TRIGGER_AUTH: &str = "redis-queue";
/// Where pods find their secrets: `<dir>/<volume>/<key>`.
const SECRETS_DIR: &str = "/var/run/secrets/raibid";
const REDIS_FILES: SecretFiles = SecretFiles {
    volume: "redis",
    secret: REDIS_SECRET,
    only: None,
};
const SERVER_FILES: SecretFiles = SecretFiles {
    volume: "server",
    secret: SERVER_SECRET,
    only: None,
};
/// Of the forwarded API tokens, agents get only Gitea's (for commit statuses).
const GITEA_TOKEN_FILE: SecretFiles = SecretFiles {
    volume: "tokens",
    secret: TOKENS_SECRET,
    only: Some(GITEA_TOKEN_KEY),
};
const GIT_CLONE_FILES: SecretFiles = SecretFiles {
    volume: "git-clone",
    secret: GIT_CLONE_SECRET,
    only: None,
};
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
        config_map(&shared, CONFIG_MAP, &in_cluster_config(config)),
        config_map(&shared, AGENT_CONFIG_MAP, &agent_config(config)),
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
        agent_network::policy(&agent, config),
    ]
}

/// A Secret mounted read-only at `<SECRETS_DIR>/<volume>`, its keys files readable by
/// their owner (root) only.
struct SecretFiles {
    volume: &'static str,
    secret: &'static str,
    /// Only this key, which the Secret may lack (then so does the folder); `None`: every key.
    only: Option<&'static str>,
}

impl SecretFiles {
    fn dir(&self) -> String {
        format!("{SECRETS_DIR}/{}", self.volume)
    }

    fn path(&self, key: &str) -> PathBuf {
        format!("{}/{key}", self.dir()).into()
    }

    /// The config's source for the secret in `key`.
    fn secret(&self, key: &str) -> Secret {
        Secret::File(self.path(key))
    }

    fn volume(&self) -> Volume {
        match self.only {
            Some(key) => optional_secret_key_volume(self.volume, self.secret, key),
            None => secret_volume(self.volume, self.secret),
        }
    }

    fn mount(&self) -> VolumeMount {
        VolumeMount {
            read_only: Some(true),
            ..mount(self.volume, &self.dir())
        }
    }
}

/// Where Gitea's push webhook reaches the server inside the cluster.
pub fn server_webhook_url(config: &Config) -> String {
    format!(
        "http://{}:{SERVER_PORT}{}",
        service_host(SERVER, &config.cluster.namespace),
        push_hook::SERVER_PATH
    )
}

/// The user's config as the server and Sparky run it: listening on all addresses,
/// workspaces and build caches on their volumes, logging to stderr only (`kubectl logs`),
/// Gitea at its in-cluster Service, the server's secrets and the queue's password from
/// their files, the forwarded API tokens from the variables the pods set (or leave unset),
/// and the cluster section and key bindings at their defaults (they mean nothing inside).
fn in_cluster_config(config: &Config) -> Config {
    let defaults = Config::default();
    let mut inside = config.clone();
    inside.server.listen = format!("0.0.0.0:{SERVER_PORT}");
    // Host paths of file secrets do not exist in pods.
    inside.server.token = SERVER_FILES.secret("token");
    inside.server.gitea_webhook_secret = SERVER_FILES.secret("gitea-webhook-secret");
    inside.server.github_webhook_secret = SERVER_FILES.secret("github-webhook-secret");
    inside.ci.redis_url = format!(
        "redis://{}:{REDIS_PORT}/0",
        service_host(REDIS_SERVICE, &config.cluster.namespace)
    );
    inside.ci.redis_password = REDIS_FILES.secret("password");
    // The agents' own config names their clone credential; a host path means nothing here.
    inside.ci.clone_credentials_file = defaults.ci.clone_credentials_file;
    inside.gitea.token = defaults.gitea.token;
    inside.gitea.url = super::flux::gitea_url_in_cluster();
    // Webhooks carry clone URLs under Gitea's ROOT_URL, which pods cannot reach.
    inside.gitea.public_url = super::gitea::root_url(config);
    inside.github.token = defaults.github.token;
    inside.github.cache_dir = defaults.github.cache_dir;
    inside.publish.token = defaults.publish.token;
    inside.openai.api_key = defaults.openai.api_key;
    inside.devto.api_key = defaults.devto.api_key;
    inside.mastodon.token = defaults.mastodon.token;
    inside.bluesky.app_password = defaults.bluesky.app_password;
    inside.ci.workspace_dir = WORKSPACE.into();
    inside.ci.cache_dir = CACHE_DIR.into();
    inside.log.file = false;
    inside.cluster = defaults.cluster;
    inside.keys = defaults.keys;
    inside
}

/// The agents' config: the queue's password, Gitea's token and the clone credential from
/// their files, and every other secret `none`, so that an agent never looks for one.
fn agent_config(config: &Config) -> Config {
    let mut agent = in_cluster_config(config);
    for unused in [
        &mut agent.server.token,
        &mut agent.server.gitea_webhook_secret,
        &mut agent.server.github_webhook_secret,
        &mut agent.github.token,
        &mut agent.publish.token,
        &mut agent.openai.api_key,
        &mut agent.devto.api_key,
        &mut agent.mastodon.token,
        &mut agent.bluesky.app_password,
    ] {
        *unused = Secret::None;
    }
    agent.gitea.token = GITEA_TOKEN_FILE.secret(GITEA_TOKEN_KEY);
    agent.ci.clone_credentials_file = GIT_CLONE_FILES.path("credentials");
    agent
}

fn config_map(app: &App, name: &str, config: &Config) -> Manifest {
    let toml = toml::to_string(config).expect("the config serializes to TOML");
    app.manifest(ConfigMap {
        metadata: app.meta(name),
        data: Some(BTreeMap::from([(CONFIG_KEY.to_owned(), toml)])),
        ..ConfigMap::default()
    })
}

/// `RAIBID_CONFIG` pointing at the mounted ConfigMap.
pub(super) fn config_env() -> EnvVar {
    env("RAIBID_CONFIG", &format!("{CONFIG_DIR}/{CONFIG_KEY}"))
}

/// The shared ConfigMap mounted where [`config_env`] points.
pub(super) fn config_volume() -> (Volume, VolumeMount) {
    config_map_mounted(CONFIG_MAP)
}

fn config_map_mounted(config_map: &str) -> (Volume, VolumeMount) {
    (
        config_map_volume(CONFIG_VOLUME, config_map),
        mount(CONFIG_VOLUME, CONFIG_DIR),
    )
}

/// The server's environment. Kubernetes expands `$(REDIS_PASSWORD)` because it is defined
/// earlier in the list.
fn server_env(config: &Config) -> Vec<EnvVar> {
    let redis = service_host(REDIS_SERVICE, &config.cluster.namespace);
    vec![
        config_env(),
        env_from_secret("REDIS_PASSWORD", REDIS_SECRET, "password"),
        env(
            "RAIBID_CI_REDIS_URL",
            &format!("redis://:$(REDIS_PASSWORD)@{redis}:{REDIS_PORT}/0"),
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
        env: Some(server_env(config)),
        ports: Some(vec![container_port("http", SERVER_PORT)]),
        readiness_probe: Some(http_probe("/readyz", SERVER_PORT)),
        liveness_probe: Some(http_probe("/healthz", SERVER_PORT)),
        volume_mounts: Some(vec![
            config_mount,
            SERVER_FILES.mount(),
            REDIS_FILES.mount(),
        ]),
        ..container("server", &config.cluster.image)
    };
    PodSpec {
        containers: vec![server],
        volumes: Some(vec![
            config_volume,
            SERVER_FILES.volume(),
            REDIS_FILES.volume(),
        ]),
        ..without_cluster_access()
    }
}

/// A pod that neither talks to the Kubernetes API nor needs every Service's address in
/// its environment.
fn without_cluster_access() -> PodSpec {
    PodSpec {
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        ..PodSpec::default()
    }
}

/// The agent: root with [`AGENT_CAPABILITIES`] only, no privilege to gain for what it
/// starts (setuid binaries do nothing for a step), and the runtime's seccomp profile.
fn agent_security() -> SecurityContext {
    SecurityContext {
        run_as_user: Some(0),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: Some(AGENT_CAPABILITIES.map(str::to_owned).to_vec()),
        }),
        ..SecurityContext::default()
    }
}

/// One agent Job (`raibid agent --once`) per job waiting in the queue.
fn scaled_job(app: &App, config: &Config) -> ScaledJob {
    let cluster = &config.cluster;
    let (config_volume, config_mount) = config_map_mounted(AGENT_CONFIG_MAP);
    let agent = Container {
        args: Some(vec!["agent".into(), "--once".into()]),
        // Not secret: which user the steps run as.
        env: Some(vec![config_env(), env("RAIBID_CI_STEP_USER", STEP_USER)]),
        security_context: Some(agent_security()),
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
            REDIS_FILES.mount(),
            GITEA_TOKEN_FILE.mount(),
            GIT_CLONE_FILES.mount(),
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
                REDIS_FILES.volume(),
                GITEA_TOKEN_FILE.volume(),
                GIT_CLONE_FILES.volume(),
            ]),
            security_context: Some(PodSecurityContext {
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    localhost_profile: None,
                }),
                ..PodSecurityContext::default()
            }),
            ..without_cluster_access()
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
