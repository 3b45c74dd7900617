//! Sparky's scheduled digests and the Ollama they write with, committed to the gitops
//! repository and applied by Flux.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec};
use sha2::{Digest, Sha256};

use super::builders::{
    App, container, container_port, env, http_probe, mount, pvc_volume, resources, service_host,
};
use super::ci::{config_env, config_volume, token_env};
use crate::backend::cluster::{Component, Manifest};
use crate::backend::sparky::schedule::Cadence;
use crate::config::Config;

const OLLAMA: &str = "ollama";
const OLLAMA_PORT: i32 = 11434;
const MODELS: &str = "ollama-models";
const SPARKY: &str = "sparky";
const SPARKY_DATA: &str = "sparky-data";
const DATA_DIR: &str = "/data";

/// `ollama-pull-<8 hex of sha256(model)>`: Jobs are immutable, so a new model is a new Job.
pub fn ollama_pull_job_name(config: &Config) -> String {
    let digest = hex::encode(Sha256::digest(config.ollama.model.as_bytes()));
    format!("ollama-pull-{}", &digest[..8])
}

pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    let cluster = &config.cluster;
    let ollama = App {
        component: Component::Sparky,
        name: OLLAMA,
        namespace: &cluster.namespace,
    };
    // Its own app name: the ollama Service must not select the pull Job's pod.
    let pull = App {
        name: "ollama-pull",
        ..ollama
    };
    let sparky = App {
        name: SPARKY,
        ..ollama
    };
    let mut manifests = vec![
        ollama.pvc(MODELS, cluster, &cluster.ollama_storage),
        // Recreate: the models volume is ReadWriteOnce and a GPU is held by one pod.
        ollama.deployment(ollama_pod(config), "Recreate"),
        ollama.service("http", OLLAMA_PORT),
        pull.manifest(pull_job(&pull, config)),
        sparky.pvc(SPARKY_DATA, cluster, "1Gi"),
    ];
    let schedules = [
        (Cadence::Daily, &cluster.daily_schedule),
        (Cadence::Weekly, &cluster.weekly_schedule),
        (Cadence::Monthly, &cluster.monthly_schedule),
    ];
    manifests.extend(schedules.into_iter().map(|(cadence, schedule)| {
        sparky.manifest(schedule_cron_job(&sparky, config, cadence, schedule))
    }));
    manifests
}

fn ollama_url(config: &Config) -> String {
    format!(
        "http://{}:{OLLAMA_PORT}",
        service_host(OLLAMA, &config.cluster.namespace)
    )
}

fn ollama_pod(config: &Config) -> PodSpec {
    let cluster = &config.cluster;
    let gpus = cluster.ollama_gpus.to_string();
    let limits: &[(&str, &str)] = if cluster.ollama_gpus > 0 {
        &[("nvidia.com/gpu", &gpus)]
    } else {
        &[]
    };
    let ollama = Container {
        env: Some(vec![env("OLLAMA_HOST", &format!("0.0.0.0:{OLLAMA_PORT}"))]),
        ports: Some(vec![container_port("http", OLLAMA_PORT)]),
        readiness_probe: Some(http_probe("/", OLLAMA_PORT)),
        resources: (!limits.is_empty()).then(|| resources(&[], limits)),
        volume_mounts: Some(vec![mount("models", "/root/.ollama")]),
        ..container(OLLAMA, &cluster.ollama_image)
    };
    PodSpec {
        containers: vec![ollama],
        volumes: Some(vec![pvc_volume("models", MODELS)]),
        // The NVIDIA container runtime k3s registers when it finds the toolkit.
        runtime_class_name: (cluster.ollama_gpus > 0).then(|| "nvidia".to_owned()),
        ..PodSpec::default()
    }
}

/// Pulls the configured model into the running Ollama, retrying until it is up.
fn pull_job(app: &App, config: &Config) -> Job {
    let pull = Container {
        command: Some(vec![
            "ollama".into(),
            "pull".into(),
            config.ollama.model.clone(),
        ]),
        env: Some(vec![env("OLLAMA_HOST", &ollama_url(config))]),
        ..container("pull", &config.cluster.ollama_image)
    };
    Job {
        metadata: app.meta(&ollama_pull_job_name(config)),
        spec: Some(JobSpec {
            backoff_limit: Some(6),
            template: app.pod_template(PodSpec {
                restart_policy: Some("OnFailure".into()),
                containers: vec![pull],
                ..PodSpec::default()
            }),
            ..JobSpec::default()
        }),
        status: None,
    }
}

/// `sparky-<cadence>`: `raibid schedule run <cadence>` on `schedule` in UTC, one at a time.
fn schedule_cron_job(app: &App, config: &Config, cadence: Cadence, schedule: &str) -> CronJob {
    let name = cadence.as_str();
    let (config_volume, config_mount) = config_volume();
    let digest = Container {
        args: Some(vec!["schedule".into(), "run".into(), name.into()]),
        env: Some(
            [
                config_env(),
                env("RAIBID_OLLAMA_URL", &ollama_url(config)),
                // Drafts, state and GitHub's cache go to the data volume.
                env("HOME", DATA_DIR),
                env("XDG_DATA_HOME", DATA_DIR),
            ]
            .into_iter()
            .chain(token_env(config))
            .collect(),
        ),
        volume_mounts: Some(vec![config_mount, mount("data", DATA_DIR)]),
        ..container(SPARKY, &config.cluster.image)
    };
    let job = JobSpec {
        template: app.pod_template(PodSpec {
            restart_policy: Some("OnFailure".into()),
            containers: vec![digest],
            volumes: Some(vec![config_volume, pvc_volume("data", SPARKY_DATA)]),
            ..PodSpec::default()
        }),
        ..JobSpec::default()
    };
    CronJob {
        metadata: app.meta(&format!("{SPARKY}-{name}")),
        spec: Some(CronJobSpec {
            schedule: schedule.to_owned(),
            time_zone: Some("Etc/UTC".into()),
            concurrency_policy: Some("Forbid".into()),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(job),
            },
            ..CronJobSpec::default()
        }),
        status: None,
    }
}
