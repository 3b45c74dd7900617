//! A whole lab to run `Lab` against: the fake Kubernetes API with controllers that act as
//! k3s, helm-controller, Deployment/StatefulSet/DaemonSet/Job controllers, NVIDIA's device
//! plugin, KEDA and Flux would (Flux applies what the gitops repository really holds), and
//! a fake Gitea serving that repository over git's smart HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use raibid::config::Config;
use serde_json::{Value, json};

use super::gitea::{FakeGitea, REGISTRY_TOKEN_PATH, decode_base64};
use super::kube_api::{FakeCluster, FakeKube, Verb, Write};
use super::registry::{OciRegistry, base_config};

pub const ADMIN: &str = "raibid";

pub struct SimLab {
    pub kube: FakeKube,
    pub gitea: FakeGitea,
    /// Gitea's container registry: a real registry on Gitea's node port, taking tokens
    /// from the fake Gitea.
    pub registry: OciRegistry,
    pub config: Config,
    pub data: tempfile::TempDir,
}

impl SimLab {
    pub async fn start() -> SimLab {
        let kube = FakeKube::start().await;
        let cluster = kube.cluster();
        let password = Arc::new(move || gitea_password(&cluster));
        let gitea = FakeGitea::start(ADMIN, password).await;
        let data = tempfile::tempdir().unwrap();
        let kubeconfig = data.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kube.kubeconfig()).unwrap();
        let mut config = Config::default();
        config.cluster.kubeconfig = kubeconfig;
        config.cluster.wait_timeout_secs = 10;
        // A test machine's disk is not a DGX's.
        config.cluster.min_free_disk_gib = 1;
        config.gitea.url = gitea.url();
        let registry =
            OciRegistry::with_token_realm(&format!("{}{REGISTRY_TOKEN_PATH}", gitea.url()));
        config.cluster.gitea_node_port = registry.port;
        // An image already in the registry, so `up` only checks it; tests/cluster/image_lab.rs
        // covers the build.
        let digest = registry.seed("raibid/raibid", "sim", &base_config()).await;
        config.cluster.image = format!("{}/raibid/raibid:sim@{digest}", registry.host());
        config.image.registries_file = data.path().join("k3s/registries.yaml");
        config.image.restart_command = format!(
            "echo restarted >> '{}'",
            data.path().join("k3s-restarts").display()
        );
        kube.insert("v1", "nodes", node("spark", 1));
        for (api_version, plural, object) in coredns(true) {
            kube.insert(api_version, plural, object);
        }
        let repository = gitea.repository(ADMIN, &config.cluster.gitops_repo);
        kube.on_write(move |cluster, write| controllers(cluster, write, &repository));
        SimLab {
            kube,
            gitea,
            registry,
            config,
            data,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// How often the restart command ran: k3s restarts.
    pub fn k3s_restarts(&self) -> usize {
        std::fs::read_to_string(self.data.path().join("k3s-restarts"))
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.config.cluster.kubeconfig
    }

    /// Every value of every secret in the cluster, decoded.
    pub fn secret_values(&self) -> Vec<String> {
        self.kube
            .list("v1", "secrets")
            .iter()
            .flat_map(|secret| {
                secret["data"]
                    .as_object()
                    .into_iter()
                    .flat_map(|data| data.values())
                    .filter_map(|v| v.as_str().map(decode))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The admin password Gitea's chart would take from the generated secret.
fn gitea_password(cluster: &FakeCluster) -> Option<String> {
    let secret = cluster.get("v1", "secrets", Some("gitea"), "gitea-admin")?;
    secret["data"]["password"].as_str().map(decode)
}

fn decode(base64: &str) -> String {
    String::from_utf8(decode_base64(base64)).unwrap()
}

/// The label saying how many GPUs a node's hardware has (as NVIDIA's GPU feature discovery
/// labels it); the node advertises them only once the device plugin runs.
const GPU_COUNT: &str = "nvidia.com/gpu.count";

/// A Ready node with `gpus` GPUs in its hardware (none advertised yet).
pub fn node(name: &str, gpus: u32) -> Value {
    let labels = if gpus > 0 {
        json!({"nvidia.com/gpu.present": "true", GPU_COUNT: gpus.to_string()})
    } else {
        json!({})
    };
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {
            "allocatable": {"cpu": "20", "memory": "128Gi"},
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {
                "kubeletVersion": "v1.33.5+k3s1",
                "architecture": raibid::backend::cluster::doctor::image_architecture()
            }
        }
    })
}

/// k3s' CoreDNS as the API shows it: the `kube-dns` Service and its EndpointSlice, whose
/// one endpoint is `ready` or not.
pub fn coredns(ready: bool) -> [(&'static str, &'static str, Value); 2] {
    let port = json!([{"name": "dns", "port": 53, "protocol": "UDP"}]);
    [
        (
            "v1",
            "services",
            json!({
                "kind": "Service",
                "metadata": {"name": "kube-dns", "namespace": "kube-system",
                             "labels": {"k8s-app": "kube-dns"}},
                "spec": {"clusterIP": "10.43.0.10", "selector": {"k8s-app": "kube-dns"},
                         "ports": port}
            }),
        ),
        (
            "discovery.k8s.io/v1",
            "endpointslices",
            json!({
                "kind": "EndpointSlice",
                "metadata": {"name": "kube-dns-8xk2q", "namespace": "kube-system",
                             "labels": {"kubernetes.io/service-name": "kube-dns"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.42.0.3"], "conditions": {"ready": ready}}],
                "ports": port
            }),
        ),
    ]
}

/// What the cluster's controllers would do after an API write.
fn controllers(cluster: &FakeCluster, write: &Write, gitops: &Path) {
    if write.verb == Verb::Delete {
        return;
    }
    let namespace = write.namespace.as_deref();
    match (write.api_version.as_str(), write.plural.as_str()) {
        ("helm.cattle.io/v1", "helmcharts") => install_chart(cluster, &write.object),
        ("kustomize.toolkit.fluxcd.io/v1", "kustomizations") => {
            reconcile_flux(cluster, &write.object, gitops)
        }
        (api_version, plural) => {
            if let Some(status) = ready_status(plural, &write.object)
                && write.object.get("status") != Some(&status)
            {
                cluster.set_status(api_version, plural, namespace, &write.name, status);
            }
        }
    }
}

/// The status a healthy controller reports for an object, for kinds that have one.
pub fn ready_status(plural: &str, object: &Value) -> Option<Value> {
    let generation = object["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
    let ready =
        json!([{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ready"}]);
    Some(match plural {
        "deployments" => json!({
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "True"}]
        }),
        "statefulsets" => json!({
            "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
            "currentReplicas": replicas
        }),
        "daemonsets" => json!({
            "observedGeneration": generation, "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 1,
            "updatedNumberScheduled": 1
        }),
        "jobs" => json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
        "scaledjobs" => json!({"conditions": ready}),
        "gitrepositories" => json!({"conditions": ready, "artifact": {"revision": "main@sha1:0"}}),
        _ => return None,
    })
}

/// helm-controller: a completed helm-install Job, and the chart's workload running in its
/// target namespace.
fn install_chart(cluster: &FakeCluster, chart: &Value) {
    let name = chart["metadata"]["name"].as_str().unwrap();
    let target = chart["spec"]["targetNamespace"].as_str().unwrap();
    let job = format!("helm-install-{name}");
    cluster.insert(
        "batch/v1",
        "jobs",
        json!({"kind": "Job", "metadata": {"name": job, "namespace": "kube-system"},
               "spec": {}, "status": ready_status("jobs", &Value::Null)}),
    );
    // NVIDIA's device plugin is a DaemonSet; the other charts run a Deployment.
    let device_plugin = name == "nvidia-device-plugin";
    let (kind, plural) = if device_plugin {
        ("DaemonSet", "daemonsets")
    } else {
        ("Deployment", "deployments")
    };
    let mut workload = json!({"kind": kind,
        "metadata": {"name": name, "namespace": target, "generation": 1},
        "spec": {"replicas": 1}});
    workload["status"] = ready_status(plural, &workload).unwrap();
    cluster.insert("apps/v1", plural, workload);
    if device_plugin {
        advertise_gpus(cluster, chart);
    }
    let mut chart = chart.clone();
    chart["status"] = json!({"jobName": job});
    cluster.insert("helm.cattle.io/v1", "helmcharts", chart);
}

/// The device plugin: running under the `nvidia` RuntimeClass (without it the container
/// cannot see the GPUs), it makes every node with GPU hardware advertise `nvidia.com/gpu`.
fn advertise_gpus(cluster: &FakeCluster, chart: &Value) {
    let values: Value =
        serde_saphyr::from_str(chart["spec"]["valuesContent"].as_str().unwrap_or("{}")).unwrap();
    let runtime = cluster.get("node.k8s.io/v1", "runtimeclasses", None, "nvidia");
    if values["runtimeClassName"] != "nvidia"
        || runtime.is_none_or(|class| class["handler"] != "nvidia")
    {
        return;
    }
    for node in cluster.list("v1", "nodes") {
        let Some(gpus) = node["metadata"]["labels"][GPU_COUNT].as_str() else {
            continue;
        };
        let mut status = node["status"].clone();
        status["allocatable"]["nvidia.com/gpu"] = gpus.into();
        let name = node["metadata"]["name"].as_str().unwrap();
        cluster.set_status("v1", "nodes", None, name, status);
    }
}

/// Flux: applies every YAML file of the gitops repository's branch, prunes what left it
/// (except objects marked `prune: disabled`), and reports the applied revision.
fn reconcile_flux(cluster: &FakeCluster, kustomization: &Value, gitops: &Path) {
    let name = kustomization["metadata"]["name"].as_str().unwrap();
    let namespace = kustomization["metadata"]["namespace"].as_str().unwrap();
    let head = git_out(gitops, &["rev-parse", "main"]);
    let files = git_out(gitops, &["ls-tree", "-r", "--name-only", "main"]);
    let mut applied = Vec::new();
    for file in files.lines().filter(|f| f.ends_with(".yaml")) {
        let text = git_out(gitops, &["show", &format!("main:{file}")]);
        let mut object: Value = serde_saphyr::from_str(&text).unwrap();
        let (api_version, plural) = identity(&object);
        if let Some(status) = ready_status(&plural, &object) {
            object["status"] = status;
        }
        object["metadata"]["labels"][FLUX_OWNER] = name.into();
        applied.push((
            api_version.clone(),
            plural.clone(),
            object["metadata"]["name"].clone(),
        ));
        cluster.insert(&api_version, &plural, object);
    }
    for (api_version, plural) in GITOPS_KINDS {
        for object in cluster.list(api_version, plural) {
            let meta = &object["metadata"];
            let ours = meta["labels"][FLUX_OWNER] == name;
            let kept = meta["annotations"]["kustomize.toolkit.fluxcd.io/prune"] == "disabled";
            let listed = applied
                .iter()
                .any(|(a, p, n)| a == api_version && p == plural && *n == meta["name"]);
            if ours && !kept && !listed {
                cluster.remove(
                    api_version,
                    plural,
                    meta["namespace"].as_str(),
                    meta["name"].as_str().unwrap(),
                );
            }
        }
    }
    let status = json!({
        "lastAppliedRevision": format!("main@sha1:{}", head.trim()),
        "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                        "message": format!("Applied revision: main@sha1:{}", head.trim())}]
    });
    if cluster
        .get(
            "kustomize.toolkit.fluxcd.io/v1",
            "kustomizations",
            Some(namespace),
            name,
        )
        .is_some()
    {
        cluster.set_status(
            "kustomize.toolkit.fluxcd.io/v1",
            "kustomizations",
            Some(namespace),
            name,
            status,
        );
    }
}

/// The label Flux puts on what a Kustomization applied: its inventory, what it prunes.
const FLUX_OWNER: &str = "kustomize.toolkit.fluxcd.io/name";

const GITOPS_KINDS: [(&str, &str); 8] = [
    ("v1", "configmaps"),
    ("v1", "services"),
    ("v1", "persistentvolumeclaims"),
    ("apps/v1", "deployments"),
    ("batch/v1", "jobs"),
    ("batch/v1", "cronjobs"),
    ("keda.sh/v1alpha1", "scaledjobs"),
    ("keda.sh/v1alpha1", "triggerauthentications"),
];

/// `(apiVersion, plural)` of a rendered object.
pub fn identity(object: &Value) -> (String, String) {
    let api_version = object["apiVersion"].as_str().unwrap().to_string();
    let kind = object["kind"].as_str().unwrap().to_ascii_lowercase();
    let plural = if let Some(stem) = kind.strip_suffix('y') {
        format!("{stem}ies")
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    };
    (api_version, plural)
}

fn git_out(bare: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `up` of `components`; its result and its progress as text, one event a line.
pub async fn run_up(
    lab: &raibid::backend::cluster::Lab,
    components: &[raibid::backend::cluster::Component],
) -> (Result<(), String>, String) {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let result = lab.up(components, false, &sender).await;
    drop(sender);
    let mut log = String::new();
    while let Some(event) = receiver.recv().await {
        log.push_str(&format!("{event:?}\n"));
    }
    (result.map_err(|e| e.to_string()), log)
}
