//! The queue's Redis: one StatefulSet with an append-only file on its own volume, and
//! `noeviction`, since an evicted key is a lost job (docs/queue.md).

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, ExecAction, PersistentVolumeClaim, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::REDIS_SECRET;
use super::builders::{
    App, container, container_port, env_from_secret, mount, pvc_spec, resources,
};
use crate::backend::cluster::{Component, Manifest};
use crate::config::Config;

/// The Service (and StatefulSet) name, so the queue is `redis.<namespace>.svc.cluster.local`.
pub const REDIS_SERVICE: &str = "redis";
pub const REDIS_PORT: i32 = 6379;

const DATA_VOLUME: &str = "data";
/// `$REDIS_PASSWORD` comes from the secret; the shell expands it so it never is an argument
/// in the manifest.
const REDIS_COMMAND: &str = "exec redis-server --appendonly yes --appendfsync everysec \
    --maxmemory-policy noeviction --dir /data --requirepass \"$REDIS_PASSWORD\"";

pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    let app = App {
        component: Component::Redis,
        name: REDIS_SERVICE,
        namespace: &config.cluster.namespace,
    };
    vec![app.service("redis", REDIS_PORT), stateful_set(&app, config)]
}

fn stateful_set(app: &App, config: &Config) -> Manifest {
    let redis = Container {
        command: Some(vec!["sh".into(), "-c".into(), REDIS_COMMAND.into()]),
        env: Some(vec![
            env_from_secret("REDIS_PASSWORD", REDIS_SECRET, "password"),
            // redis-cli reads its password from here, for the probe.
            env_from_secret("REDISCLI_AUTH", REDIS_SECRET, "password"),
        ]),
        ports: Some(vec![container_port("redis", REDIS_PORT)]),
        readiness_probe: Some(Probe {
            exec: Some(ExecAction {
                command: Some(vec!["redis-cli".into(), "ping".into()]),
            }),
            ..Probe::default()
        }),
        resources: Some(resources(&[("cpu", "100m"), ("memory", "256Mi")], &[])),
        volume_mounts: Some(vec![mount(DATA_VOLUME, "/data")]),
        ..container("redis", &config.cluster.redis_image)
    };
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(DATA_VOLUME.into()),
            ..ObjectMeta::default()
        },
        spec: Some(pvc_spec(&config.cluster, &config.cluster.redis_storage)),
        status: None,
    };
    app.manifest(StatefulSet {
        metadata: app.meta(app.name),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(REDIS_SERVICE.into()),
            selector: app.selector(),
            template: app.pod_template(PodSpec {
                containers: vec![redis],
                ..PodSpec::default()
            }),
            volume_claim_templates: Some(vec![claim]),
            ..StatefulSetSpec::default()
        }),
        status: None,
    })
}
