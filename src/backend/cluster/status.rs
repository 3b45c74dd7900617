//! What runs: each component's health and the nodes' use of CPU, memory and GPUs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};

use super::Component;
use super::lab::{Lab, rendered};
use super::objects::Failure;
use super::quantity::{bytes, cpu_millis};
use super::readiness::Readiness;
use super::report::{ClusterStatus, ComponentStatus, Health, NodeUsage};

pub(super) const GPU: &str = "nvidia.com/gpu";

impl Lab {
    /// Never fails: a part that cannot be read shows as failed with the reason.
    pub async fn status(&self) -> ClusterStatus {
        let version = match self.client().apiserver_version().await {
            Ok(info) => info.git_version,
            Err(error) => format!("unknown ({error})"),
        };
        let nodes = nodes(self.client()).await.unwrap_or_default();
        let mut components = Vec::new();
        for component in Component::ALL {
            let (health, detail) = match self.component_health(component, &nodes).await {
                Ok(found) => found,
                Err(why) => (Health::Failed, why),
            };
            components.push(ComponentStatus {
                component,
                health,
                detail,
            });
        }
        ClusterStatus {
            server: self.server().to_string(),
            version,
            components,
            nodes,
        }
    }

    async fn component_health(
        &self,
        component: Component,
        nodes: &[NodeUsage],
    ) -> Result<(Health, String), Failure> {
        if component == Component::K3s {
            let ready = nodes.iter().filter(|n| n.ready).count();
            let health = if ready > 0 {
                Health::Ready
            } else {
                Health::Progressing
            };
            return Ok((health, format!("{ready}/{} nodes ready", nodes.len())));
        }
        let manifests = rendered(component, self.config());
        if manifests.is_empty() {
            return Ok((Health::Ready, "not used (cluster.ollama_gpus = 0)".into()));
        }
        let mut present = 0;
        let mut volumes_kept = false;
        let mut waiting = None;
        for manifest in &manifests {
            let exists = self.objects().get(manifest).await?.is_some();
            // Volumes outlive `down`: they alone do not make a component installed.
            if manifest.kind() == "PersistentVolumeClaim" {
                volumes_kept |= exists;
                continue;
            }
            if !exists {
                waiting.get_or_insert_with(|| {
                    (
                        Health::Progressing,
                        format!("{} missing", manifest.describe()),
                    )
                });
                continue;
            }
            present += 1;
            match self.objects().readiness(manifest).await? {
                Readiness::Ready => {}
                Readiness::Waiting(why) => {
                    waiting.get_or_insert((
                        Health::Progressing,
                        format!("{}: {why}", manifest.describe()),
                    ));
                }
                Readiness::Failed(why) => {
                    return Ok((Health::Failed, format!("{}: {why}", manifest.describe())));
                }
            }
        }
        if present == 0 {
            let detail = if volumes_kept {
                "not installed (data volumes kept)"
            } else {
                "not installed"
            };
            return Ok((Health::Missing, detail.into()));
        }
        if let Some(found) = waiting {
            return Ok(found);
        }
        let mut detail = format!("{present} objects ready");
        if component == Component::Gpu {
            if let Some(why) = super::gpu::shortage(self.config().cluster.ollama_gpus, nodes) {
                return Ok((Health::Failed, why));
            }
            let gpus: u64 = nodes.iter().map(|node| node.gpus).sum();
            detail.push_str(&format!(", {gpus} nvidia.com/gpu advertised"));
        }
        if component.via_gitops() {
            match self.drift(component).await {
                Ok(drift) if drift.is_empty() => detail.push_str(", in sync with gitops"),
                Ok(drift) => return Ok((Health::Progressing, drift.summary())),
                Err(why) => detail.push_str(&format!(", gitops unreadable: {why}")),
            }
        }
        Ok((Health::Ready, detail))
    }
}

/// Every node with what it can allocate, its use (from metrics-server, when installed)
/// and the GPUs its running pods request.
pub async fn nodes(client: &kube::Client) -> Result<Vec<NodeUsage>, Failure> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("listing nodes: {e}"))?;
    let usage = node_metrics(client).await;
    let gpus = gpu_requests(client).await;
    Ok(list
        .items
        .into_iter()
        .map(|node| {
            let name = node.metadata.name.clone().unwrap_or_default();
            let status = node.status.unwrap_or_default();
            let allocatable = status.allocatable.unwrap_or_default();
            let amount = |key: &str, parse: fn(&str) -> Option<u64>| {
                allocatable.get(key).and_then(|q| parse(&q.0)).unwrap_or(0)
            };
            let ready = status
                .conditions
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            let (cpu_used, memory_used) = usage.get(&name).copied().unzip();
            NodeUsage {
                ready,
                cpu_used_millis: cpu_used,
                cpu_millis: amount("cpu", cpu_millis),
                memory_used_bytes: memory_used,
                memory_bytes: amount("memory", bytes),
                gpus_requested: gpus.get(&name).copied().unwrap_or(0),
                gpus: amount(GPU, bytes),
                name,
            }
        })
        .collect())
}

/// Node name -> (CPU millicores, memory bytes) in use; empty without metrics-server.
async fn node_metrics(client: &kube::Client) -> BTreeMap<String, (u64, u64)> {
    let resource = ApiResource {
        group: "metrics.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "metrics.k8s.io/v1beta1".into(),
        kind: "NodeMetrics".into(),
        plural: "nodes".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let Ok(list) = api.list(&ListParams::default()).await else {
        return BTreeMap::new();
    };
    list.items
        .into_iter()
        .filter_map(|metrics| {
            let usage = metrics.data.get("usage")?;
            let cpu = cpu_millis(usage.get("cpu")?.as_str()?)?;
            let memory = bytes(usage.get("memory")?.as_str()?)?;
            Some((metrics.metadata.name?, (cpu, memory)))
        })
        .collect()
}

/// Node name -> GPUs requested by its pods that are not finished.
async fn gpu_requests(client: &kube::Client) -> BTreeMap<String, u64> {
    let pods: Api<Pod> = Api::all(client.clone());
    let params = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    let Ok(list) = pods.list(&params).await else {
        return BTreeMap::new();
    };
    let mut requested = BTreeMap::new();
    for pod in list.items {
        let Some(spec) = pod.spec else { continue };
        let Some(node) = spec.node_name else { continue };
        let gpus: u64 = spec
            .containers
            .iter()
            .filter_map(|c| c.resources.as_ref())
            .filter_map(|r| r.limits.as_ref().or(r.requests.as_ref()))
            .filter_map(|amounts| amounts.get(GPU))
            .filter_map(|q| bytes(&q.0))
            .sum();
        *requested.entry(node).or_default() += gpus;
    }
    requested
}
