//! A lab as the Cluster view's tests see it: mixed health, two nodes, one without metrics.

use raibid::backend::cluster::Component;
use raibid::backend::cluster::report::{ClusterStatus, ComponentStatus, Health, NodeUsage};

pub const SERVER: &str = "https://10.0.0.5:6443";

pub fn status() -> ClusterStatus {
    let component = |component, health, detail: &str| ComponentStatus {
        component,
        health,
        detail: detail.into(),
    };
    ClusterStatus {
        server: SERVER.into(),
        version: "v1.33.5+k3s1".into(),
        components: vec![
            component(Component::K3s, Health::Ready, "1/1 nodes ready"),
            component(Component::Namespaces, Health::Ready, "raibid, flux-system"),
            component(
                Component::Redis,
                Health::Ready,
                "StatefulSet raibid/redis: 1/1 ready",
            ),
            component(
                Component::Gitea,
                Health::Progressing,
                "Deployment raibid/gitea: 0/1 ready, waiting for the volume to be bound",
            ),
            component(
                Component::Flux,
                Health::Failed,
                "HelmChart flux-system/flux: helm-install job failed (BackoffLimitExceeded)",
            ),
            component(Component::Keda, Health::Missing, "not installed"),
            component(Component::Ci, Health::Missing, "not installed"),
            component(Component::Gpu, Health::Missing, "not installed"),
            component(Component::Sparky, Health::Missing, "not installed"),
        ],
        nodes: vec![
            NodeUsage {
                name: "lab-1".into(),
                ready: true,
                cpu_used_millis: Some(1250),
                cpu_millis: 8000,
                memory_used_bytes: Some(12 << 30),
                memory_bytes: 31 << 30,
                gpus_requested: 1,
                gpus: 1,
            },
            NodeUsage {
                name: "lab-2-without-metrics-server".into(),
                ready: false,
                cpu_used_millis: None,
                cpu_millis: 4000,
                memory_used_bytes: None,
                memory_bytes: 16 << 30,
                gpus_requested: 0,
                gpus: 0,
            },
        ],
    }
}
