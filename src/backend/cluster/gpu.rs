//! Whether a node advertises the GPUs Ollama asks for. The GPU step waits for it after
//! installing the device plugin; the Sparky step checks it before anything else, so a node
//! without usable GPUs fails at once with the fix instead of a Pending Ollama pod.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use tokio_stream::StreamExt;

use super::objects::Failure;
use super::quantity::bytes;
use super::report::NodeUsage;

const GPU: &str = "nvidia.com/gpu";

/// The most the GPU step waits for the device plugin's chart: its image pull included, far
/// less than `cluster.wait_timeout_secs`, since a node without the toolkit never gets there.
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(300);
/// The most it then waits for the plugin to register the GPUs with the kubelet.
const ADVERTISE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why no node advertises `wanted` GPUs and what fixes it; `None` when one does.
pub fn shortage(wanted: u32, nodes: &[NodeUsage]) -> Option<String> {
    let most = nodes.iter().map(|node| node.gpus).max().unwrap_or(0);
    (wanted > 0 && most < u64::from(wanted)).then(|| missing(wanted, most))
}

fn missing(wanted: u32, most: u64) -> String {
    format!(
        "no node advertises {wanted} nvidia.com/gpu (the most is {most}), so Ollama could never be scheduled. \
         Either the NVIDIA container toolkit is missing on the node (install it: `nvidia-ctk --version` must answer), \
         or k3s' containerd has no nvidia runtime (k3s adds it only when it finds the toolkit as it starts: \
         restart k3s after installing the toolkit, `sudo systemctl restart k3s`, and check with \
         `sudo grep nvidia /var/lib/rancher/k3s/agent/etc/containerd/config.toml`); then run `raibid up` again. \
         To run Ollama on the CPU instead, set cluster.ollama_gpus = 0."
    )
}

/// Fails at once, with the fix, unless some node advertises `wanted` GPUs.
pub async fn preflight(client: &kube::Client, wanted: u32) -> Result<(), Failure> {
    if wanted == 0 {
        return Ok(());
    }
    let nodes = super::status::nodes(client).await?;
    shortage(wanted, &nodes).map_or(Ok(()), Err)
}

/// Watches the nodes until one advertises `wanted` GPUs, at most `timeout` (capped at a
/// minute: the plugin registers within seconds once it runs); the most found.
pub async fn await_advertised(
    client: &kube::Client,
    wanted: u32,
    timeout: Duration,
) -> Result<u64, Failure> {
    let nodes: Api<Node> = Api::all(client.clone());
    let enough = |node: &Node| {
        let gpus = node
            .status
            .as_ref()
            .and_then(|status| status.allocatable.as_ref())
            .and_then(|allocatable| allocatable.get(GPU))
            .and_then(|quantity| bytes(&quantity.0))
            .unwrap_or(0);
        (gpus >= u64::from(wanted)).then_some(gpus)
    };
    let found = async {
        let mut stream =
            std::pin::pin!(watcher::watcher(nodes, watcher::Config::default()).applied_objects());
        while let Some(node) = stream.next().await {
            let node =
                node.map_err(|e| format!("watching nodes: {}", super::connect::error_chain(&e)))?;
            if let Some(gpus) = enough(&node) {
                return Ok(gpus);
            }
        }
        Err("watching nodes: the watch ended".to_string())
    };
    match tokio::time::timeout(timeout.min(ADVERTISE_TIMEOUT), found).await {
        Ok(found) => found,
        Err(_) => {
            let nodes = super::status::nodes(client).await?;
            let most = nodes.iter().map(|node| node.gpus).max().unwrap_or(0);
            shortage(wanted, &nodes).map_or(Ok(most), Err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(gpus: u64) -> NodeUsage {
        NodeUsage {
            name: "spark".into(),
            ready: true,
            cpu_used_millis: None,
            cpu_millis: 20_000,
            memory_used_bytes: None,
            memory_bytes: 1 << 37,
            gpus_requested: 0,
            gpus,
        }
    }

    #[test]
    fn a_node_with_enough_gpus_is_no_shortage() {
        assert_eq!(shortage(1, &[node(0), node(1)]), None);
        assert_eq!(shortage(0, &[]), None);
    }

    #[test]
    fn too_few_gpus_name_the_fix() {
        let why = shortage(2, &[node(1)]).unwrap();
        assert!(why.contains("no node advertises 2 nvidia.com/gpu (the most is 1)"));
        assert!(why.contains("NVIDIA container toolkit"));
        assert!(why.contains("restart k3s"));
        assert!(why.contains("cluster.ollama_gpus = 0"));
    }
}
