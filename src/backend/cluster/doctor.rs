//! `raibid doctor`: can this machine and its cluster run the lab, and what to do when not.
//! [`examine`] gathers plain facts ([`Findings`]); [`judge`] turns them into checks, each
//! ok, warn, fail or skipped with a one-line detail and, unless ok or skipped, its fix.
//! `raibid up` runs the same checks first ([`Stage::BeforeUp`]).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DynamicObject, ListParams};
use serde::Serialize;

use crate::config::{Config, parse_version};

use super::connect::{ConnectError, connect, error_chain, kubeconfig_path};
use super::lab::{gitea_url, rendered};
use super::manifests::{GITEA_ADMIN_SECRET, GITEA_NAMESPACE};
use super::quantity::bytes;
use super::report::{Progress, Reporter};
use super::status::GPU;
use super::user_kubeconfig;
use super::{Component, StepFailed};
use crate::backend::image::{self, Credentials, Reference};
use crate::backend::queue::mask_url;

/// Where k3s keeps its images, its database and the local-path volumes.
pub const K3S_DATA_DIR: &str = "/var/lib/rancher";
/// The oldest Kubernetes minor every pinned chart supports (KEDA 2.18 is tested from 1.31).
pub const MIN_KUBERNETES: [u64; 2] = [1, 31];
/// k3s' CoreDNS answers behind this Service in `kube-system`.
const DNS_SERVICE: &str = "kube-dns";
const SYSTEM_NAMESPACE: &str = "kube-system";
/// How long Gitea may take to answer a probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const GIB: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `kubeconfig`, `api`, `nodes`, `k3s`, `architecture`, `image`, `gpu`, `dns`,
    /// `gitea`, `registry` or `disk`.
    pub name: &'static str,
    pub status: Verdict,
    pub detail: String,
    /// The command or config key that mends a warning or failure.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Verdict::Ok, detail.into(), None)
    }

    fn skipped(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Verdict::Skipped, detail.into(), None)
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(name, Verdict::Warn, detail.into(), Some(fix.into()))
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(name, Verdict::Fail, detail.into(), Some(fix.into()))
    }

    fn new(name: &'static str, status: Verdict, detail: String, fix: Option<String>) -> Check {
        Check {
            name,
            status,
            detail,
            fix,
        }
    }
}

/// When the checks run: on their own, or before `raibid up` changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Doctor,
    /// A missing cluster is expected when the run installs k3s; the GPU, Gitea and
    /// registry are brought up (and checked) by the run's own steps.
    BeforeUp {
        installs_k3s: bool,
    },
}

/// What [`examine`] found, as plain data.
#[derive(Debug)]
pub struct Findings {
    /// The cluster behind the kubeconfig, or why there is none.
    pub cluster: Result<ClusterFacts, ConnectError>,
    /// Each directory the lab writes to, with its filesystem's free bytes.
    pub disks: Vec<(PathBuf, Result<u64, String>)>,
    /// k3s' admin kubeconfig on this machine and its permission bits, when there is one.
    pub k3s_kubeconfig: Option<(PathBuf, u32)>,
}

#[derive(Debug)]
pub struct ClusterFacts {
    pub kubeconfig: PathBuf,
    /// The API server's URL.
    pub server: String,
    pub nodes: Result<Vec<NodeFacts>, String>,
    pub dns: Result<Dns, String>,
    /// `None` before `raibid up`, whose gitea step brings Gitea up and waits for it.
    pub gitea: Option<Result<Gitea, String>>,
    /// Whether the gpu step installed NVIDIA's device plugin, which advertises the GPUs.
    pub device_plugin: bool,
    /// The image the lab's pods run and whether it can be pulled; `None` before `raibid up`,
    /// whose ci step checks it or pushes this binary's.
    pub image: Option<(String, Result<(), String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    pub name: String,
    pub ready: bool,
    /// e.g. `v1.33.5+k3s1`; empty when the node does not say.
    pub kubelet_version: String,
    /// `arm64`, `amd64`, ...
    pub architecture: String,
    /// Allocatable `nvidia.com/gpu`.
    pub gpus: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dns {
    NoService,
    /// The Service's endpoints that are ready.
    Endpoints {
        ready: usize,
    },
}

/// An HTTP status, or why no answer came.
pub type Probe = Result<u16, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gitea {
    /// The gitea step has not run yet.
    NotInstalled,
    Installed {
        url: String,
        /// `GET /api/v1/version`
        api: Probe,
        /// `GET /v2/`, the container registry's base.
        registry: Probe,
    },
}

/// The architecture (as Kubernetes names it) of this binary, and so of the image built
/// from it.
pub fn image_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        "x86_64" => "amd64",
        other => other,
    }
}

/// Gathers the facts `stage` judges; never fails: what cannot be read is a finding too.
pub async fn examine(config: &Config, data_dir: &Path, stage: Stage) -> Findings {
    let cluster = match kubeconfig_path(&config.cluster.kubeconfig) {
        Err(tried) => Err(ConnectError::Missing { tried }),
        Ok(path) => match connect(&path).await {
            Ok((client, server)) => {
                let found = examine_cluster(&client, config, data_dir, stage, path, server);
                Ok(found.await)
            }
            Err(error) => Err(error),
        },
    };
    let mut dirs = vec![data_dir.to_path_buf()];
    if Path::new(K3S_DATA_DIR).exists() {
        dirs.push(K3S_DATA_DIR.into());
    }
    let disks = dirs
        .into_iter()
        .map(|dir| {
            let free = free_bytes(&dir);
            (dir, free)
        })
        .collect();
    let k3s_kubeconfig = user_kubeconfig::k3s_kubeconfig();
    let k3s_kubeconfig = std::fs::metadata(&k3s_kubeconfig)
        .ok()
        .map(|meta| (k3s_kubeconfig, meta.permissions().mode() & 0o7777));
    Findings {
        cluster,
        disks,
        k3s_kubeconfig,
    }
}

/// The checks `raibid up` runs before it changes anything.
pub async fn before_up(config: &Config, data_dir: &Path, installs_k3s: bool) -> Vec<Check> {
    let stage = Stage::BeforeUp { installs_k3s };
    judge(&examine(config, data_dir, stage).await, config, stage)
}

/// [`before_up`] for a run that reports progress (the console's): each line of the checks
/// is logged as the run's first component's, and a failing check fails that step.
pub async fn preflight(
    config: &Config,
    data_dir: &Path,
    components: &[Component],
    progress: &Reporter,
) -> Result<(), StepFailed> {
    let first = components.iter().min().copied().unwrap_or(Component::K3s);
    let checks = before_up(config, data_dir, components.contains(&Component::K3s)).await;
    for line in lines(&checks) {
        let _ = progress.send(Progress::Log(first, line));
    }
    let Some(failed) = failed(&checks) else {
        return Ok(());
    };
    let reason = format!("before changing anything, {failed} (fixes in the log)");
    let _ = progress.send(Progress::Failed(first, reason.clone()));
    Err(StepFailed {
        component: first,
        reason,
    })
}

/// One line per check (✓ ok, ! warn, ✗ fail, - skipped), then each warning's and
/// failure's fix.
pub fn lines(checks: &[Check]) -> Vec<String> {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut lines: Vec<String> = checks
        .iter()
        .map(|check| {
            let mark = match check.status {
                Verdict::Ok => '✓',
                Verdict::Warn => '!',
                Verdict::Fail => '✗',
                Verdict::Skipped => '-',
            };
            format!("{mark} {:<width$}  {}", check.name, check.detail)
        })
        .collect();
    let fixes = checks
        .iter()
        .filter_map(|c| c.fix.as_ref().map(|fix| format!("  {}: {fix}", c.name)));
    let mut fixes = fixes.peekable();
    if fixes.peek().is_some() {
        lines.extend(["".into(), "To fix:".into()]);
        lines.extend(fixes);
    }
    lines
}

/// `2 checks failed: dns, disk`, when any failed.
pub fn failed(checks: &[Check]) -> Option<String> {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Verdict::Fail)
        .map(|c| c.name)
        .collect();
    let plural = if failed.len() == 1 { "" } else { "s" };
    (!failed.is_empty()).then(|| {
        format!(
            "{} check{plural} failed: {}",
            failed.len(),
            failed.join(", ")
        )
    })
}

async fn examine_cluster(
    client: &kube::Client,
    config: &Config,
    data_dir: &Path,
    stage: Stage,
    kubeconfig: PathBuf,
    server: String,
) -> ClusterFacts {
    let gitea = async {
        match stage {
            Stage::Doctor => Some(read_gitea(client, config).await),
            Stage::BeforeUp { .. } => None,
        }
    };
    let device_plugin = async {
        chart_installed(client, config, Component::Gpu)
            .await
            .unwrap_or(false)
    };
    let image = async {
        match stage {
            Stage::Doctor => read_image(client, config, data_dir).await,
            Stage::BeforeUp { .. } => None,
        }
    };
    let (nodes, dns, gitea, device_plugin, image) = tokio::join!(
        read_nodes(client),
        read_dns(client),
        gitea,
        device_plugin,
        image
    );
    ClusterFacts {
        kubeconfig,
        server,
        nodes,
        dns,
        gitea,
        device_plugin,
        image,
    }
}

/// The image the lab's manifests name and whether it can be pulled for this platform, with
/// Gitea's admin credentials when it lives in the lab's registry; `None` while there is
/// nothing to check yet: this binary not pushed, or the lab's registry not installed (the
/// ci step of `raibid up` checks the image, or pushes this binary's).
async fn read_image(
    client: &kube::Client,
    config: &Config,
    data_dir: &Path,
) -> Option<(String, Result<(), String>)> {
    let name = image::lab::rendered_image(config, data_dir);
    if name.is_empty() {
        return None;
    }
    let pullable = match Reference::parse(&name) {
        Err(why) => Err(why),
        Ok(reference) if reference.registry == image::lab::lab_registry(config) => {
            let admin = gitea_admin(client, config).await?;
            image::check_pullable(&reference, Some(admin)).await
        }
        Ok(reference) => image::check_pullable(&reference, None).await,
    };
    Some((name, pullable))
}

/// Gitea's admin from its generated secret, when it can be read.
async fn gitea_admin(client: &kube::Client, config: &Config) -> Option<Credentials> {
    let password =
        super::secrets::read_key(client, GITEA_NAMESPACE, GITEA_ADMIN_SECRET, "password")
            .await
            .ok()?;
    Some(Credentials {
        username: config.cluster.gitea_admin.clone(),
        password: String::from_utf8(password).ok()?,
    })
}

async fn read_nodes(client: &kube::Client) -> Result<Vec<NodeFacts>, String> {
    let list = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("listing nodes: {}", error_chain(&e)))?;
    Ok(list
        .items
        .into_iter()
        .map(|node| {
            let status = node.status.unwrap_or_default();
            let info = status.node_info.unwrap_or_default();
            NodeFacts {
                name: node.metadata.name.unwrap_or_default(),
                ready: status
                    .conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True"),
                kubelet_version: info.kubelet_version,
                architecture: info.architecture,
                gpus: status
                    .allocatable
                    .unwrap_or_default()
                    .get(GPU)
                    .and_then(|q| bytes(&q.0))
                    .unwrap_or(0),
            }
        })
        .collect())
}

/// The DNS Service and its ready endpoints, from its EndpointSlices.
async fn read_dns(client: &kube::Client) -> Result<Dns, String> {
    let reading = |e: kube::Error| {
        format!(
            "reading {SYSTEM_NAMESPACE}/{DNS_SERVICE}: {}",
            error_chain(&e)
        )
    };
    let services: Api<Service> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    if services
        .get_opt(DNS_SERVICE)
        .await
        .map_err(reading)?
        .is_none()
    {
        return Ok(Dns::NoService);
    }
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let params = ListParams::default().labels(&format!("kubernetes.io/service-name={DNS_SERVICE}"));
    let slices = slices.list(&params).await.map_err(reading)?;
    // An endpoint without a `ready` condition counts as ready (the API's own rule).
    let ready = slices
        .items
        .iter()
        .flat_map(|slice| &slice.endpoints)
        .filter(|endpoint| endpoint.conditions.as_ref().and_then(|c| c.ready) != Some(false))
        .count();
    Ok(Dns::Endpoints { ready })
}

/// Whether `component`'s step ran: one of its HelmCharts exists.
async fn chart_installed(
    client: &kube::Client,
    config: &Config,
    component: Component,
) -> Result<bool, String> {
    for chart in rendered(component, config)
        .iter()
        .filter(|m| m.kind() == "HelmChart")
    {
        let namespace = chart.namespace().unwrap_or_default();
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &namespace, &chart.resource);
        if api
            .get_opt(&chart.name())
            .await
            .map_err(|e| format!("reading {}: {}", chart.describe(), error_chain(&e)))?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the gitea step ran, and then how Gitea answers.
async fn read_gitea(client: &kube::Client, config: &Config) -> Result<Gitea, String> {
    if !chart_installed(client, config, Component::Gitea).await? {
        return Ok(Gitea::NotInstalled);
    }
    let url = gitea_url(config).trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|e| format!("building an HTTP client: {e}"))?;
    let (api, registry) = tokio::join!(
        probe(&http, format!("{url}/api/v1/version")),
        probe(&http, format!("{url}/v2/"))
    );
    Ok(Gitea::Installed { url, api, registry })
}

async fn probe(http: &reqwest::Client, url: String) -> Probe {
    match http.get(url).send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(error) => Err(error_chain(&error.without_url())),
    }
}

/// Bytes free to unprivileged users on the filesystem holding `dir` (or its nearest
/// existing parent: the data dir may not exist yet).
fn free_bytes(dir: &Path) -> Result<u64, String> {
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let path = CString::new(existing.as_os_str().as_bytes())
        .map_err(|_| "the path holds a NUL byte".to_string())?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is NUL-terminated and outlives the call; `stats` is only read after
    // statvfs reported that it filled it.
    let stats = unsafe {
        if libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        stats.assume_init()
    };
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Every check, in a fixed order, from the findings.
pub fn judge(findings: &Findings, config: &Config, stage: Stage) -> Vec<Check> {
    let mut checks = match &findings.cluster {
        Ok(cluster) => judge_cluster(cluster, config, stage),
        Err(error) => unreached(error, stage),
    };
    checks.push(disk(&findings.disks, config.cluster.min_free_disk_gib));
    checks.extend(findings.k3s_kubeconfig.as_ref().map(admin_kubeconfig));
    checks
}

/// k3s' admin kubeconfig is cluster-admin: no one but root may read it (an install with
/// `--write-kubeconfig-mode=644`, or an older one, lets every local user run anything).
fn admin_kubeconfig((path, mode): &(PathBuf, u32)) -> Check {
    if mode & 0o077 == 0 {
        return Check::ok(
            "k3s kubeconfig",
            format!("{} is root's only", path.display()),
        );
    }
    Check::warn(
        "k3s kubeconfig",
        format!(
            "{} (cluster-admin) has mode {mode:04o}: other users on this machine can read it",
            path.display()
        ),
        format!(
            "sudo chmod 600 {} and set `write-kubeconfig-mode: \"0600\"` in /etc/rancher/k3s/config.yaml, which k3s applies at every start",
            path.display()
        ),
    )
}

/// The checks that need the cluster, each skipped, behind the kubeconfig's and the API's
/// verdicts.
fn unreached(error: &ConnectError, stage: Stage) -> Vec<Check> {
    let absent_before_install =
        stage == (Stage::BeforeUp { installs_k3s: true }) && error.is_absent();
    let (kubeconfig, api, why) = if absent_before_install {
        let why = "no cluster answers yet: this run installs k3s (cluster.k3s_install)";
        (
            Check::skipped("kubeconfig", why),
            Check::skipped("api", why),
            why,
        )
    } else {
        match error {
            ConnectError::Unreachable {
                path,
                server,
                reason,
            } => (
                Check::ok("kubeconfig", path.display().to_string()),
                Check::fail(
                    "api",
                    format!("{server} does not answer: {reason}"),
                    "start the cluster (k3s: `sudo systemctl start k3s`, then `sudo journalctl -u k3s` if it stops) or point cluster.kubeconfig at one that runs",
                ),
                "the Kubernetes API does not answer",
            ),
            ConnectError::Missing { tried } => (
                Check::fail(
                    "kubeconfig",
                    format!(
                        "none found (tried {})",
                        tried
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "run `raibid up` to install k3s, or set cluster.kubeconfig to an existing cluster's",
                ),
                Check::skipped("api", "no kubeconfig"),
                "no kubeconfig",
            ),
            ConnectError::Unreadable { .. } | ConnectError::Invalid { .. } => (
                Check::fail(
                    "kubeconfig",
                    error.to_string(),
                    "fix the file or set cluster.kubeconfig to a readable one (k3s' /etc/rancher/k3s/k3s.yaml is root's: copy it to ~/.kube/config with mode 600)",
                ),
                Check::skipped("api", "no usable kubeconfig"),
                "no usable kubeconfig",
            ),
        }
    };
    let mut checks = vec![kubeconfig, api];
    for name in [
        "nodes",
        "k3s",
        "architecture",
        "image",
        "gpu",
        "dns",
        "gitea",
        "registry",
    ] {
        checks.push(Check::skipped(name, why));
    }
    checks
}

fn judge_cluster(cluster: &ClusterFacts, config: &Config, stage: Stage) -> Vec<Check> {
    let mut checks = vec![
        Check::ok("kubeconfig", cluster.kubeconfig.display().to_string()),
        Check::ok("api", format!("{} answers", cluster.server)),
    ];
    match &cluster.nodes {
        Ok(nodes) => {
            checks.push(ready_nodes(nodes));
            checks.push(kubernetes_version(nodes));
            checks.push(architecture(nodes));
            checks.push(image_check(&cluster.image, stage));
            checks.push(match stage {
                Stage::Doctor => gpus(nodes, config.cluster.ollama_gpus, cluster.device_plugin),
                Stage::BeforeUp { .. } => Check::skipped(
                    "gpu",
                    "checked by the run's own steps once the NVIDIA device plugin runs",
                ),
            });
        }
        Err(reason) => {
            checks.push(Check::fail(
                "nodes",
                reason.clone(),
                "the kubeconfig's user must be allowed to list nodes (k3s' admin kubeconfig is)",
            ));
            let unread = "the nodes cannot be read";
            checks.push(Check::skipped("k3s", unread));
            checks.push(Check::skipped("architecture", unread));
            checks.push(image_check(&cluster.image, stage));
            checks.push(Check::skipped("gpu", unread));
        }
    }
    checks.push(dns(&cluster.dns));
    match &cluster.gitea {
        Some(found) => checks.extend(gitea_checks(found, config)),
        None => {
            let why = "the gitea step brings it up and waits for it";
            checks.push(Check::skipped("gitea", why));
            checks.push(Check::skipped("registry", why));
        }
    }
    checks
}

fn ready_nodes(nodes: &[NodeFacts]) -> Check {
    let ready: Vec<&str> = nodes
        .iter()
        .filter(|n| n.ready)
        .map(|n| n.name.as_str())
        .collect();
    let count = format!("{} of {} nodes Ready", ready.len(), nodes.len());
    if ready.is_empty() {
        Check::fail(
            "nodes",
            count,
            "`kubectl describe nodes` says why; on k3s: `sudo systemctl status k3s` and `sudo journalctl -u k3s`",
        )
    } else {
        Check::ok("nodes", format!("{count} ({})", ready.join(", ")))
    }
}

/// Each node's kubelet: k3s (the lab's charts are HelmCharts, which k3s' helm-controller
/// installs), recent enough for every pinned chart.
fn kubernetes_version(nodes: &[NodeFacts]) -> Check {
    let [major, minor] = MIN_KUBERNETES;
    let mut seen = Vec::new();
    for node in nodes {
        let version = &node.kubelet_version;
        let on = format!("node {} runs {}", node.name, or_unknown(version));
        match parse_version(version) {
            None => {
                return Check::warn(
                    "k3s",
                    format!("{on}, which is not a version"),
                    "check the node with `kubectl get nodes -o wide`",
                );
            }
            Some([a, b, _]) if [a, b] < MIN_KUBERNETES => {
                return Check::warn(
                    "k3s",
                    format!(
                        "{on}, older than {major}.{minor}, the oldest the pinned charts support"
                    ),
                    "upgrade k3s: rerun its installer (cluster.k3s_install) with INSTALL_K3S_CHANNEL=stable",
                );
            }
            Some(_) if !version.contains("+k3s") => {
                return Check::warn(
                    "k3s",
                    format!("{on}, not k3s"),
                    "the lab installs its charts as HelmCharts, which need k3s' helm-controller: use k3s (`raibid up` installs it) or install helm-controller",
                );
            }
            Some(_) => seen.push(format!("{} on {}", version, node.name)),
        }
    }
    if seen.is_empty() {
        return Check::skipped("k3s", "no node");
    }
    Check::ok("k3s", seen.join(", "))
}

/// The image is built for this machine's architecture: every node must share it.
fn architecture(nodes: &[NodeFacts]) -> Check {
    let image = image_architecture();
    if nodes.is_empty() {
        return Check::skipped("architecture", "no node");
    }
    match nodes.iter().find(|n| n.architecture != image) {
        Some(node) => Check::warn(
            "architecture",
            format!(
                "node {} is {}, the image built on this machine {image}",
                node.name,
                or_unknown(&node.architecture)
            ),
            format!(
                "build the image on a {} machine (the DGX), or set cluster.image to one built for it",
                or_unknown(&node.architecture)
            ),
        ),
        None => Check::ok(
            "architecture",
            format!("{image} on every node, as the image built here"),
        ),
    }
}

fn gpus(nodes: &[NodeFacts], wanted: u32, device_plugin: bool) -> Check {
    let best = nodes
        .iter()
        .filter(|n| n.ready)
        .max_by_key(|n| n.gpus)
        .filter(|n| n.gpus > 0);
    let found = best.map_or("no Ready node has any".into(), |n| {
        format!("{} allocatable on {}", n.gpus, n.name)
    });
    if wanted == 0 {
        return Check::ok(
            "gpu",
            format!("none needed (cluster.ollama_gpus = 0); {GPU}: {found}"),
        );
    }
    match best {
        Some(node) if node.gpus >= u64::from(wanted) => Check::ok("gpu", format!("{GPU}: {found}")),
        _ if !device_plugin => Check::skipped(
            "gpu",
            format!(
                "{GPU}: {found} yet; the gpu step of `raibid up` installs the device plugin that advertises them"
            ),
        ),
        _ => Check::fail(
            "gpu",
            format!("Ollama needs {wanted} {GPU} (cluster.ollama_gpus); {found}"),
            "install the NVIDIA container toolkit on the node and restart k3s (its containerd then gets the `nvidia` runtime); `raibid up` installs the device plugin that advertises the GPUs; or set cluster.ollama_gpus = 0 to run Ollama on the CPU",
        ),
    }
}

fn dns(found: &Result<Dns, String>) -> Check {
    let service = format!("{SYSTEM_NAMESPACE}/{DNS_SERVICE}");
    match found {
        Err(reason) => Check::fail(
            "dns",
            reason.clone(),
            "the kubeconfig's user must be allowed to read Services and EndpointSlices in kube-system",
        ),
        Ok(Dns::NoService) => Check::fail(
            "dns",
            format!("no Service {service}: the cluster has no DNS, pods cannot find each other"),
            "k3s deploys CoreDNS unless started with --disable=coredns: remove that flag and restart k3s",
        ),
        Ok(Dns::Endpoints { ready: 0 }) => Check::fail(
            "dns",
            format!("Service {service} has no ready endpoint"),
            "`kubectl -n kube-system get pods -l k8s-app=kube-dns` and their logs say why; `kubectl -n kube-system rollout restart deployment coredns`",
        ),
        Ok(Dns::Endpoints { ready }) => {
            Check::ok("dns", format!("{service}: {ready} ready endpoints"))
        }
    }
}

/// Gitea's API and its container registry on the port the host reaches them by.
fn image_check(found: &Option<(String, Result<(), String>)>, stage: Stage) -> Check {
    match (found, stage) {
        (_, Stage::BeforeUp { .. }) => Check::skipped(
            "image",
            "the ci step checks it, or builds and pushes this binary's",
        ),
        (None, Stage::Doctor) => Check::skipped(
            "image",
            "nothing to check yet: the ci step of `raibid up` pushes this binary's image to Gitea's registry",
        ),
        (Some((name, Ok(()))), Stage::Doctor) => {
            Check::ok("image", format!("{name} can be pulled"))
        }
        (Some((_, Err(why))), Stage::Doctor) => Check::fail(
            "image",
            why.clone(),
            "push it (`raibid image build --push REF`), correct cluster.image, or empty cluster.image so `raibid up` pushes this binary's",
        ),
    }
}

fn gitea_checks(found: &Result<Gitea, String>, config: &Config) -> [Check; 2] {
    let unreachable_fix = format!(
        "`kubectl -n gitea get pods` shows whether Gitea runs; the host reaches it on 127.0.0.1:{} (cluster.gitea_node_port) unless gitea.url says otherwise",
        config.cluster.gitea_node_port
    );
    match found {
        Err(reason) => [
            Check::fail("gitea", reason.clone(), unreachable_fix),
            Check::skipped("registry", "Gitea's state cannot be read"),
        ],
        Ok(Gitea::NotInstalled) => {
            let why = "not installed yet: `raibid up` installs it";
            [Check::skipped("gitea", why), Check::skipped("registry", why)]
        }
        Ok(Gitea::Installed { url, api, registry }) => [
            answers("gitea", &format!("{url}/api/v1/version"), api, unreachable_fix),
            answers(
                "registry",
                &format!("{url}/v2/"),
                registry,
                "Gitea's packages (its container registry) must be on: `raibid up --only gitea --force` re-applies its chart"
                    .into(),
            ),
        ],
    }
}

/// Ok when `url` answered 200, or 401 (it is there but wants credentials). A password in
/// `url` (gitea.url) is masked.
fn answers(name: &'static str, url: &str, probe: &Probe, fix: String) -> Check {
    let url = mask_url(url);
    match probe {
        Ok(code @ (200 | 401)) => Check::ok(name, format!("{url} answers {code}")),
        Ok(code) => Check::fail(name, format!("{url} answers {code}"), fix),
        Err(reason) => Check::fail(name, format!("{url} does not answer: {reason}"), fix),
    }
}

fn disk(disks: &[(PathBuf, Result<u64, String>)], min_free_gib: u64) -> Check {
    let gib = |free: u64| format!("{:.1} GiB", free as f64 / GIB as f64);
    let mut said = Vec::new();
    for (dir, free) in disks {
        match free {
            Err(reason) => {
                return Check::warn(
                    "disk",
                    format!("cannot read the free space of {}: {reason}", dir.display()),
                    "check that the directory is readable",
                );
            }
            Ok(free) if *free < min_free_gib.saturating_mul(GIB) => {
                return Check::fail(
                    "disk",
                    format!(
                        "{} free on {}, below {min_free_gib} GiB (cluster.min_free_disk_gib)",
                        gib(*free),
                        dir.display()
                    ),
                    "free space on that filesystem (images, volumes and build caches grow there), or lower cluster.min_free_disk_gib",
                );
            }
            Ok(free) => said.push(format!("{} free on {}", gib(*free), dir.display())),
        }
    }
    Check::ok("disk", said.join(", "))
}

fn or_unknown(text: &str) -> &str {
    if text.is_empty() { "unknown" } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, ready: bool, version: &str, gpus: u64) -> NodeFacts {
        NodeFacts {
            name: name.into(),
            ready,
            kubelet_version: version.into(),
            architecture: image_architecture().into(),
            gpus,
        }
    }

    #[test]
    fn a_k3s_kubeconfig_others_may_read_warns_with_the_fix() {
        let path = PathBuf::from("/etc/rancher/k3s/k3s.yaml");
        assert_eq!(admin_kubeconfig(&(path.clone(), 0o600)).status, Verdict::Ok);
        let open = admin_kubeconfig(&(path, 0o644));
        assert_eq!(open.status, Verdict::Warn);
        assert!(open.detail.contains("mode 0644"), "{}", open.detail);
        assert!(open.fix.unwrap().contains("chmod 600"));
    }

    #[test]
    fn gpus_count_only_on_a_ready_node_with_enough_of_them() {
        let nodes = [
            node("down", false, "v1.33.5+k3s1", 4),
            node("spark", true, "v1.33.5+k3s1", 1),
        ];
        assert_eq!(gpus(&nodes, 1, true).status, Verdict::Ok);
        let two = gpus(&nodes, 2, true);
        assert_eq!(two.status, Verdict::Fail);
        assert!(two.detail.ends_with("1 allocatable on spark"), "{two:?}");
        assert_eq!(gpus(&nodes[..1], 1, true).status, Verdict::Fail);
        // Before the device plugin runs, no node can advertise any: nothing is wrong yet.
        assert_eq!(gpus(&nodes[..1], 1, false).status, Verdict::Skipped);
    }

    #[test]
    fn the_kubernetes_floor_is_a_minor_version_and_any_node_below_it_warns() {
        let ok = [node("a", true, "v1.31.0+k3s1", 0)];
        assert_eq!(kubernetes_version(&ok).status, Verdict::Ok);
        let old = [
            node("a", true, "v1.33.5+k3s1", 0),
            node("b", true, "v1.30.14+k3s2", 0),
        ];
        let check = kubernetes_version(&old);
        assert_eq!(check.status, Verdict::Warn);
        assert!(
            check.detail.starts_with("node b runs v1.30.14+k3s2"),
            "{check:?}"
        );
        assert_eq!(kubernetes_version(&[]).status, Verdict::Skipped);
    }

    #[test]
    fn a_server_answering_401_is_there_and_one_answering_500_is_not() {
        let fix = || "fix".to_string();
        assert_eq!(
            answers("registry", "u", &Ok(401), fix()).status,
            Verdict::Ok
        );
        assert_eq!(
            answers("registry", "u", &Ok(500), fix()).status,
            Verdict::Fail
        );
        let refused = answers("gitea", "u", &Err("refused".into()), fix());
        assert_eq!(refused.detail, "u does not answer: refused");
        assert_eq!(refused.fix.as_deref(), Some("fix"));
        let with_password = answers("gitea", "http://ci:s3cret@gitea/v2/", &Ok(200), fix());
        assert_eq!(with_password.detail, "http://ci:***@gitea/v2/ answers 200");
    }

    #[test]
    fn lines_list_every_check_then_the_fixes_and_failed_names_the_failures() {
        let checks = [
            Check::ok("api", "answers"),
            Check::warn("k3s", "old", "upgrade"),
            Check::fail("dns", "none", "restart"),
        ];
        assert_eq!(
            lines(&checks),
            [
                "✓ api  answers",
                "! k3s  old",
                "✗ dns  none",
                "",
                "To fix:",
                "  k3s: upgrade",
                "  dns: restart",
            ]
        );
        assert_eq!(failed(&checks).as_deref(), Some("1 check failed: dns"));
        assert_eq!(failed(&checks[..2]), None);
        assert_eq!(lines(&checks[..1]), ["✓ api  answers"]);
    }
}
