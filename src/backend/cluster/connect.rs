//! Finding the cluster: which kubeconfig, and whether its API server answers. Every
//! failure names the file or server and why, so the console can show it and go on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Where k3s writes its kubeconfig (readable by others only with --write-kubeconfig-mode).
pub const K3S_KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";

/// How long the API server may take to answer `/version`.
const REACH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no kubeconfig found (tried {}); set cluster.kubeconfig or run `raibid up` to install k3s", list(.tried))]
    Missing { tried: Vec<PathBuf> },
    #[error("cannot read kubeconfig {}: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("kubeconfig {} is not usable: {reason}", .path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("the Kubernetes API at {server} (from {}) does not answer: {reason}", .path.display())]
    Unreachable {
        path: PathBuf,
        server: String,
        reason: String,
    },
}

impl ConnectError {
    /// No cluster yet, as opposed to a broken one: no kubeconfig, or k3s' own not
    /// answering. `raibid up` may then install k3s.
    pub fn is_absent(&self) -> bool {
        match self {
            ConnectError::Missing { .. } => true,
            ConnectError::Unreadable { path, .. } => !path.exists(),
            ConnectError::Unreachable { path, .. } => path == Path::new(K3S_KUBECONFIG),
            ConnectError::Invalid { .. } => false,
        }
    }
}

fn list(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

/// The kubeconfig to use: `configured` if set, else `$KUBECONFIG`'s first entry, else
/// `~/.kube/config`, else k3s' own file; the first that exists, or every path tried.
pub fn kubeconfig_path(configured: &Path) -> Result<PathBuf, Vec<PathBuf>> {
    if !configured.as_os_str().is_empty() {
        return Ok(configured.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(first) = std::env::var_os("KUBECONFIG")
        .as_ref()
        .and_then(|value| std::env::split_paths(value).next())
    {
        candidates.push(first);
    }
    if let Some(home) = directories::BaseDirs::new() {
        candidates.push(home.home_dir().join(".kube/config"));
    }
    candidates.push(PathBuf::from(K3S_KUBECONFIG));
    candidates
        .iter()
        .find(|path| path.exists())
        .cloned()
        .ok_or(candidates)
}

/// A client for the cluster `path` describes, once its API server has answered.
pub async fn connect(path: &Path) -> Result<(kube::Client, String), ConnectError> {
    let kubeconfig = Kubeconfig::read_from(path).map_err(|error| {
        let reason = error_chain(&error);
        if path.exists() {
            ConnectError::Invalid {
                path: path.into(),
                reason,
            }
        } else {
            ConnectError::Unreadable {
                path: path.into(),
                reason,
            }
        }
    })?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|error| ConnectError::Invalid {
            path: path.into(),
            reason: error_chain(&error),
        })?;
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(|error| ConnectError::Invalid {
        path: path.into(),
        reason: error_chain(&error),
    })?;
    let unreachable = |reason: String| ConnectError::Unreachable {
        path: path.into(),
        server: server.clone(),
        reason,
    };
    match tokio::time::timeout(REACH_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok((client, server.trim_end_matches('/').to_string())),
        Ok(Err(error)) => Err(unreachable(error_chain(&error))),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            REACH_TIMEOUT.as_secs()
        ))),
    }
}

/// An error and its causes on one line (kube's top-level messages alone are vague).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}
