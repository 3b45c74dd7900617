//! Installing k3s with its official script when no cluster answers, then connecting
//! through the copy of its kubeconfig handed to the user.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::config::Config;

use super::report::{Progress, Reporter};
use super::user_kubeconfig;
use super::{Component, Lab, StepFailed};

/// How long a freshly installed k3s may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The lab on the configured cluster; when there is none (no kubeconfig, or k3s' own not
/// answering), k3s is installed first and awaited.
pub async fn connect_or_install(
    config: &Config,
    data_dir: &Path,
    progress: &Reporter,
) -> Result<Lab, StepFailed> {
    let failed = |reason: String| {
        let _ = progress.send(Progress::Failed(Component::K3s, reason.clone()));
        StepFailed {
            component: Component::K3s,
            reason,
        }
    };
    match Lab::connect(config, data_dir).await {
        Ok(lab) => Ok(lab),
        Err(error) if error.is_absent() => {
            let _ = progress.send(Progress::Started(Component::K3s));
            install(config, progress).await.map_err(failed)?;
            connect_after_install(config, data_dir, progress)
                .await
                .map_err(failed)
        }
        Err(error) => Err(failed(error.to_string())),
    }
}

/// k3s writes its kubeconfig as it starts: retry until the API answers through it.
async fn connect_after_install(
    config: &Config,
    data_dir: &Path,
    progress: &Reporter,
) -> Result<Lab, String> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        match try_connect(config, data_dir, progress).await {
            Ok(lab) => return Ok(lab),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("k3s was installed but {error}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// Unless `cluster.kubeconfig` names where the installer writes it, hands k3s' own
/// kubeconfig to the user and connects through that copy.
async fn try_connect(config: &Config, data_dir: &Path, progress: &Reporter) -> Result<Lab, String> {
    let mut config = config.clone();
    if config.cluster.kubeconfig.as_os_str().is_empty() {
        let (path, done) = user_kubeconfig::hand_to_user().await?;
        if let Some(done) = done {
            let _ = progress.send(Progress::Log(Component::K3s, done));
        }
        config.cluster.kubeconfig = path;
    }
    Lab::connect(&config, data_dir)
        .await
        .map_err(|error| error.to_string())
}

/// Runs `cluster.k3s_install` through `sh -c`, streaming its output as the k3s step's log.
pub async fn install(config: &Config, progress: &Reporter) -> Result<(), String> {
    let script = &config.cluster.k3s_install;
    if script.trim().is_empty() {
        return Err("no cluster answers and cluster.k3s_install is empty: set cluster.kubeconfig to an existing cluster".into());
    }
    let log = |line: String| {
        let _ = progress.send(Progress::Log(Component::K3s, line));
    };
    log(format!("installing k3s: {script}"));
    let mut child = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not run sh for cluster.k3s_install: {e}"))?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        tokio::select! {
            line = stdout.next_line(), if out_open => match line {
                Ok(Some(line)) => log(line),
                _ => out_open = false,
            },
            line = stderr.next_line(), if err_open => match line {
                Ok(Some(line)) => log(line),
                _ => err_open = false,
            },
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for the k3s installer: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the k3s installer failed ({status}); its output is in the log above"
        ))
    }
}
