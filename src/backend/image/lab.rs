//! The lab's image made pullable by k3s: the configured image is checked; with none, this
//! binary's image is pushed to Gitea's registry on its node port, and k3s' `registries.yaml`
//! gets that plain-HTTP endpoint and its credentials (k3s restarted only when it changed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Credentials, Reference, Remote, assemble};
use crate::config::Config;

/// The repository, under the Gitea admin, that the lab's image is pushed to.
const REPOSITORY: &str = "raibid";
/// Remembers the last image pushed for the lab: `<tag> <reference>`.
const RECORD: &str = "lab-image";
/// How long k3s may take to answer again after its restart.
const RESTART_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the image's files live in the data dir: the base blob cache and the record.
pub fn image_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("image")
}

/// Gitea's registry as the node reaches it: its node port on the loopback address.
pub fn lab_registry(config: &Config) -> String {
    format!("127.0.0.1:{}", config.cluster.gitea_node_port)
}

/// Makes sure the lab's pods can pull the image they name, and returns that name: the
/// configured `cluster.image` (checked), or this binary's image pushed to Gitea's registry
/// as `<registry>/<gitea admin>/raibid:<version>-<binary hash>@<digest>`.
pub async fn ensure(
    config: &Config,
    gitea_admin: Credentials,
    client: &kube::Client,
    data_dir: &Path,
    log: &mut (dyn FnMut(String) + Send),
) -> Result<String, String> {
    let registry = lab_registry(config);
    if !config.cluster.image.is_empty() {
        let reference = Reference::parse(&config.cluster.image)?;
        let credentials = (reference.registry == registry).then_some(gitea_admin);
        super::check_pullable(&reference, credentials).await?;
        log(format!("image {reference} can be pulled"));
        return Ok(config.cluster.image.clone());
    }
    let binary = std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
    let base = Reference::parse(&config.image.base)?;
    let base = Remote {
        credentials: (base.registry == registry).then(|| gitea_admin.clone()),
        reference: base,
    };
    let repository = format!("{}/{REPOSITORY}", config.cluster.gitea_admin.to_lowercase());
    let target = Remote {
        reference: Reference::parse(&format!("{registry}/{repository}"))?,
        credentials: Some(gitea_admin.clone()),
    };
    let dir = image_dir(data_dir);
    let pushed = super::build_and_push(&base, &binary, &target, &dir.join("blobs"), log).await?;
    let reference = pushed.reference.to_string();
    let tag = pushed.reference.tag.clone().unwrap_or_default();
    std::fs::write(dir.join(RECORD), format!("{tag} {reference}\n"))
        .map_err(|e| format!("writing {}: {e}", dir.join(RECORD).display()))?;

    let file = &config.image.registries_file;
    if write_registries(file, &registry, &gitea_admin)? {
        log(format!(
            "wrote {}; restarting k3s: {}",
            file.display(),
            config.image.restart_command
        ));
        restart(&config.image.restart_command).await?;
        await_api(client).await?;
    }
    Ok(reference)
}

/// The image the lab's manifests name without building anything: the configured one, or
/// the last one pushed for this very binary (empty when this binary was never pushed, so
/// that a check sees the lab's pods as not yet running it).
pub fn rendered_image(config: &Config, data_dir: &Path) -> String {
    if !config.cluster.image.is_empty() {
        return config.cluster.image.clone();
    }
    let Ok(record) = std::fs::read_to_string(image_dir(data_dir).join(RECORD)) else {
        return String::new();
    };
    let Some((tag, reference)) = record.trim().split_once(' ') else {
        return String::new();
    };
    let current = std::env::current_exe()
        .and_then(std::fs::read)
        .map(|binary| assemble::tag_for(&binary));
    match current {
        Ok(current) if current == tag => reference.to_string(),
        _ => String::new(),
    }
}

/// Adds (or updates) the registry's mirror and credentials in k3s' `registries.yaml`,
/// keeping every other entry; true when the file changed. Written whole, mode 0600 (it
/// holds the password).
pub fn write_registries(
    file: &Path,
    registry: &str,
    credentials: &Credentials,
) -> Result<bool, String> {
    let shown = file.display();
    let existing = match std::fs::read_to_string(file) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("reading {shown}: {e}")),
    };
    let current: Value = match &existing {
        Some(text) if !text.trim().is_empty() => {
            serde_saphyr::from_str(text).map_err(|e| format!("{shown} is not valid YAML: {e}"))?
        }
        _ => json!({}),
    };
    let wanted = with_registry(current.clone(), registry, credentials)
        .map_err(|e| format!("{shown}: {e}"))?;
    if existing.is_some() && wanted == current {
        return Ok(false);
    }
    let text = serde_saphyr::to_string(&wanted).map_err(|e| format!("rendering {shown}: {e}"))?;
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let partial = file.with_extension("partial");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .map_err(|e| format!("writing {}: {e}", partial.display()))?;
        out.write_all(text.as_bytes())
            .map_err(|e| format!("writing {}: {e}", partial.display()))?;
    }
    std::fs::rename(&partial, file).map_err(|e| format!("writing {shown}: {e}"))?;
    Ok(true)
}

/// `registries` with a mirror of `registry` on its plain-HTTP endpoint and its auth.
fn with_registry(
    mut registries: Value,
    registry: &str,
    credentials: &Credentials,
) -> Result<Value, String> {
    let Some(top) = registries.as_object_mut() else {
        return Err("the top level must be a mapping".into());
    };
    let mut section = |name: &str, value: Value| -> Result<(), String> {
        let entries = top.entry(name).or_insert_with(|| json!({}));
        if entries.is_null() {
            *entries = json!({});
        }
        entries
            .as_object_mut()
            .ok_or_else(|| format!("`{name}` must be a mapping"))?
            .insert(registry.to_string(), value);
        Ok(())
    };
    section(
        "mirrors",
        json!({"endpoint": [format!("http://{registry}")]}),
    )?;
    section(
        "configs",
        json!({"auth": BTreeMap::from([
            ("username", credentials.username.as_str()),
            ("password", credentials.password.as_str()),
        ])}),
    )?;
    Ok(registries)
}

/// Runs the restart command; its output is kept only for the error.
async fn restart(command: &str) -> Result<(), String> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("running `{command}`: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "`{command}` failed ({}): {}",
        output.status,
        stderr.trim()
    ))
}

/// Waits until the API answers again after k3s restarted.
async fn await_api(client: &kube::Client) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + RESTART_TIMEOUT;
    loop {
        match client.apiserver_version().await {
            Ok(_) => return Ok(()),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "k3s did not answer within {}s of its restart: {e}",
                    RESTART_TIMEOUT.as_secs()
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Credentials {
        Credentials {
            username: "raibid".into(),
            password: "s3cret".into(),
        }
    }

    #[test]
    fn registries_yaml_is_written_once_and_keeps_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k3s/registries.yaml");
        assert!(write_registries(&file, "127.0.0.1:30300", &admin()).unwrap());
        assert!(!write_registries(&file, "127.0.0.1:30300", &admin()).unwrap());
        let written: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            written["mirrors"]["127.0.0.1:30300"]["endpoint"][0],
            "http://127.0.0.1:30300"
        );
        assert_eq!(
            written["configs"]["127.0.0.1:30300"]["auth"]["username"],
            "raibid"
        );
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        std::fs::write(
            &file,
            "mirrors:\n  docker.io:\n    endpoint:\n      - \"https://mirror.example\"\n",
        )
        .unwrap();
        assert!(write_registries(&file, "127.0.0.1:30300", &admin()).unwrap());
        let written: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            written["mirrors"]["docker.io"]["endpoint"][0],
            "https://mirror.example"
        );
        let changed = Credentials {
            password: "rotated".into(),
            ..admin()
        };
        assert!(write_registries(&file, "127.0.0.1:30300", &changed).unwrap());
    }

    #[test]
    fn a_broken_registries_yaml_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("registries.yaml");
        std::fs::write(&file, "- a list\n").unwrap();
        let error = write_registries(&file, "127.0.0.1:30300", &admin()).unwrap_err();
        assert!(
            error.contains("registries.yaml") && error.contains("mapping"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "- a list\n");
    }
}
