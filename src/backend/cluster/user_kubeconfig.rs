//! k3s' admin kubeconfig, root's only (`--write-kubeconfig-mode=600`), handed to the user
//! who ran `raibid up`: the one `sudo` ran it for, else whoever runs it. Written whole,
//! mode 600, owned by them, and never over another kubeconfig.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::connect::K3S_KUBECONFIG;

/// Where k3s writes its admin kubeconfig: `K3S_KUBECONFIG_OUTPUT` (k3s' own variable for
/// `--write-kubeconfig`) when set, else its default.
pub(super) fn k3s_kubeconfig() -> PathBuf {
    std::env::var_os("K3S_KUBECONFIG_OUTPUT")
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(K3S_KUBECONFIG), PathBuf::from)
}

/// The user who ran `raibid up`: the one `sudo` ran it for, else whoever runs it.
struct User {
    home: PathBuf,
    /// Uid and gid to give the copy to, when running as root for someone else.
    owner: Option<(u32, u32)>,
}

impl User {
    async fn invoking() -> Result<User, String> {
        let sudo = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let running_as_root = current_uid() == 0;
        if let (true, Some(name), Some(uid), Some(gid)) = (
            running_as_root,
            sudo("SUDO_USER"),
            sudo("SUDO_UID").and_then(|v| v.parse().ok()),
            sudo("SUDO_GID").and_then(|v| v.parse().ok()),
        ) {
            let home = home_of(&name).await?;
            return Ok(User {
                home,
                owner: Some((uid, gid)),
            });
        }
        let home = directories::BaseDirs::new()
            .map(|dirs| dirs.home_dir().to_path_buf())
            .ok_or("no home directory to copy k3s' kubeconfig to")?;
        Ok(User { home, owner: None })
    }
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// `name`'s home directory from the system's user database.
async fn home_of(name: &str) -> Result<PathBuf, String> {
    let output = Command::new("getent")
        .args(["passwd", name])
        .output()
        .await
        .map_err(|e| format!("looking up user {name}: {e}"))?;
    let line = String::from_utf8_lossy(&output.stdout);
    line.trim_end()
        .split(':')
        .nth(5)
        .filter(|home| output.status.success() && !home.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| format!("user {name} (SUDO_USER) has no home directory"))
}

/// k3s' kubeconfig, which only root may read: directly, else through `sudo -n` (the
/// installer just asked for the password), else an error with the fix.
async fn read_k3s_kubeconfig(path: &Path) -> Result<Vec<u8>, String> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            let output = Command::new("sudo")
                .arg("-n")
                .arg("cat")
                .arg(path)
                .stdin(Stdio::null())
                .output()
                .await;
            match output {
                Ok(output) if output.status.success() => Ok(output.stdout),
                _ => Err(format!(
                    "{} is readable by root only: run `sudo raibid up --only k3s` once to get a copy",
                    path.display()
                )),
            }
        }
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

/// Where the user's copy of `kubeconfig` goes, given what `~/.kube/config` holds now.
#[derive(Debug, PartialEq, Eq)]
enum Placement {
    /// `~/.kube/config` is k3s' kubeconfig already.
    InPlace,
    /// No kubeconfig yet: `~/.kube/config`, where kubectl finds the lab with no setup.
    Config,
    /// The user has another kubeconfig, which stays untouched (kubectl users keep their
    /// contexts); the lab's goes beside it as `~/.kube/k3s.yaml`.
    Beside,
}

fn placement(existing: Option<&[u8]>, kubeconfig: &[u8]) -> Placement {
    match existing {
        None => Placement::Config,
        Some(existing) if existing == kubeconfig => Placement::InPlace,
        Some(_) => Placement::Beside,
    }
}

/// Copies k3s' kubeconfig for the user (0600, owned by them): where it is, and what was
/// written unless the user had it already.
pub(super) async fn hand_to_user() -> Result<(PathBuf, Option<String>), String> {
    let kubeconfig = read_k3s_kubeconfig(&k3s_kubeconfig()).await?;
    let user = User::invoking().await?;
    let dir = user.home.join(".kube");
    let config = dir.join("config");
    let existing = match tokio::fs::read(&config).await {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(format!("cannot read {}: {error}", config.display())),
    };
    let (target, said) = match placement(existing.as_deref(), &kubeconfig) {
        Placement::InPlace => return Ok((config, None)),
        Placement::Config => {
            let said = format!("copied k3s' kubeconfig to {} (mode 600)", config.display());
            (config, said)
        }
        Placement::Beside => {
            let target = dir.join("k3s.yaml");
            let said = format!(
                "kept {} (another kubeconfig); k3s' is {} (mode 600): point cluster.kubeconfig or KUBECONFIG at it",
                config.display(),
                target.display()
            );
            (target, said)
        }
    };
    let owner = user.owner;
    let written = target.clone();
    tokio::task::spawn_blocking(move || write_private(&dir, &written, &kubeconfig, owner))
        .await
        .map_err(|e| format!("copying the kubeconfig: {e}"))?
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    Ok((target, Some(said)))
}

/// Writes `bytes` to `path` whole (a temporary file renamed over it), readable by its owner
/// only, and gives the file and a new `dir` to `owner`.
fn write_private(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
    owner: Option<(u32, u32)>,
) -> std::io::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
        }
    }
    let temporary = path.with_extension("raibid-tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&temporary, Some(uid), Some(gid))?;
    }
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_kubeconfig_is_never_replaced() {
        let k3s = b"k3s";
        assert_eq!(placement(None, k3s), Placement::Config);
        assert_eq!(placement(Some(b"k3s"), k3s), Placement::InPlace);
        assert_eq!(placement(Some(b"other"), k3s), Placement::Beside);
    }
}
