//! NVIDIA GPUs for Ollama: the `nvidia` RuntimeClass (k3s registers that containerd runtime
//! when it finds the NVIDIA container toolkit, but not as the default) and NVIDIA's device
//! plugin running with it, which makes the node advertise `nvidia.com/gpu`. Nothing when
//! `cluster.ollama_gpus` is 0.

use k8s_openapi::api::node::v1::RuntimeClass;
use serde_json::json;

use super::CHARTS_NAMESPACE;
use super::builders::App;
use crate::backend::cluster::{Component, Manifest};
use crate::config::Config;

const REPO: &str = "https://nvidia.github.io/k8s-device-plugin";
/// The chart, its release and its HelmChart's name.
pub const DEVICE_PLUGIN: &str = "nvidia-device-plugin";
/// Its own namespace: the chart refuses `default`, and readiness looks at every workload
/// of the target namespace.
pub const DEVICE_PLUGIN_NAMESPACE: &str = "nvidia-device-plugin";
/// The RuntimeClass and the containerd runtime handler it names.
pub const NVIDIA_RUNTIME: &str = "nvidia";

pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    if config.cluster.ollama_gpus == 0 {
        return Vec::new();
    }
    let runtime = App {
        component: Component::Gpu,
        name: NVIDIA_RUNTIME,
        namespace: "",
    };
    let plugin = App {
        name: DEVICE_PLUGIN,
        namespace: CHARTS_NAMESPACE,
        ..runtime
    };
    let values = json!({
        "runtimeClassName": NVIDIA_RUNTIME,
        // The chart's default affinity wants labels only node-feature-discovery sets; the
        // lab's node runs the plugin without them (null removes the default).
        "affinity": null,
    });
    let mut class = RuntimeClass {
        handler: NVIDIA_RUNTIME.to_owned(),
        ..RuntimeClass::default()
    };
    class.metadata.name = Some(NVIDIA_RUNTIME.to_owned());
    vec![
        runtime.manifest(class),
        plugin.helm_chart(
            REPO,
            &config.cluster.device_plugin_chart_version,
            DEVICE_PLUGIN_NAMESPACE,
            &values,
            None,
        ),
    ]
}
