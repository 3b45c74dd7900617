//! What a build step can reach. Every step gets an allow-listed environment and a home of
//! its own. With bubblewrap (`ci.sandbox`) it sees a read-only system, the toolchain, its
//! workspace, its home and its repository's caches, a fresh /tmp and its own /proc; nothing
//! else of the machine (the operator's home, config, keys and sockets, other repositories'
//! caches). With `ci.step_user` an agent running as root starts steps as that user, so the
//! agent's /proc and its 0400 secret files are out of reach. The network stays: builds
//! fetch crates.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::backend::queue::contract::Job;
use crate::config::CiConfig;

/// Parts of /etc a build needs: name resolution, certificates, the dynamic linker's cache,
/// Debian's alternatives (`cc`) and the user database; no keys, no credentials.
const ETC: &[&str] = &[
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/gai.conf",
    "/etc/group",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/protocols",
    "/etc/resolv.conf",
    "/etc/services",
    "/etc/ssl",
];
/// Top-level system folders: symlinks into /usr on merged-/usr systems, folders elsewhere.
const SYSTEM: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/// Variables passed on from the agent when set; everything else is dropped.
const PASSED_ON: &[&str] = &["LANG", "TERM", "RUSTUP_TOOLCHAIN"];
/// PATH for steps when the agent has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `ci.sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxMode {
    /// bubblewrap when it works here, else no sandbox.
    Auto,
    /// bubblewrap or no build at all.
    Bwrap,
    Off,
}

impl SandboxMode {
    pub fn parse(text: &str) -> Option<SandboxMode> {
        match text {
            "auto" => Some(SandboxMode::Auto),
            "bwrap" => Some(SandboxMode::Bwrap),
            "off" => Some(SandboxMode::Off),
            _ => None,
        }
    }
}

/// `ci.step_user`: the uid and gid steps run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUser {
    pub uid: u32,
    pub gid: u32,
}

impl StepUser {
    /// `"UID:GID"` (numbers, neither 0); `""`: none.
    pub fn parse(text: &str) -> Result<Option<StepUser>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let ids = text
            .split_once(':')
            .and_then(|(uid, gid)| Some((uid.parse().ok()?, gid.parse().ok()?)));
        match ids {
            Some((0, _) | (_, 0)) => Err(format!("`{text}` is root: give an unprivileged user")),
            Some((uid, gid)) => Ok(Some(StepUser { uid, gid })),
            None => Err(format!("`{text}` is not UID:GID, e.g. 1001:1001")),
        }
    }
}

/// How an agent isolates its steps, from `ci.sandbox` and `ci.step_user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isolation {
    pub sandbox: SandboxMode,
    pub step_user: Option<StepUser>,
}

impl Isolation {
    /// From a validated config (validation refuses any other value).
    pub fn of(ci: &CiConfig) -> Isolation {
        Isolation {
            sandbox: SandboxMode::parse(&ci.sandbox).unwrap_or(SandboxMode::Auto),
            step_user: StepUser::parse(&ci.step_user).ok().flatten(),
        }
    }

    /// Decides how this job's steps run; an error when they cannot run as configured.
    pub async fn confine(&self) -> Result<Confinement, String> {
        // SAFETY: getuid(2) cannot fail and touches no memory.
        let agent_uid = unsafe { libc::getuid() };
        let user = match self.step_user {
            Some(user) if user.uid == agent_uid => None,
            Some(user) if agent_uid == 0 => Some(user),
            Some(user) => {
                return Err(format!(
                    "ci.step_user {}:{} needs the agent to run as root; it runs as uid {agent_uid}",
                    user.uid, user.gid
                ));
            }
            None => None,
        };
        let sandboxed = match self.sandbox {
            SandboxMode::Off => false,
            SandboxMode::Auto => bwrap_works(user).await,
            SandboxMode::Bwrap if bwrap_works(user).await => true,
            SandboxMode::Bwrap => {
                return Err(
                    "ci.sandbox = \"bwrap\" but bubblewrap cannot sandbox here (install Debian's \
                     `bubblewrap`; it needs user namespaces or root)"
                        .into(),
                );
            }
        };
        Ok(Confinement { sandboxed, user })
    }
}

/// Whether `bwrap` can start a sandbox here, as `user` when given.
async fn bwrap_works(user: Option<StepUser>) -> bool {
    let mut probe = Command::new("bwrap");
    probe
        .args(["--ro-bind", "/", "/", "--unshare-pid", "true"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(user) = user {
        probe.uid(user.uid).gid(user.gid);
    }
    probe.status().await.is_ok_and(|status| status.success())
}

/// What a step may write: its checkout, its home and its repository's caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPaths {
    pub workspace: PathBuf,
    pub home: PathBuf,
    pub caches: Vec<PathBuf>,
}

/// How one job's steps run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confinement {
    pub sandboxed: bool,
    /// The user steps run as; `None`: the agent's.
    pub user: Option<StepUser>,
}

impl Confinement {
    /// Whether steps are kept from the agent at all (sccache's server would compile
    /// outside, so it is left out then).
    pub fn isolates(&self) -> bool {
        self.sandboxed || self.user.is_some()
    }

    /// One line for the job's log.
    pub fn describe(&self) -> String {
        let how = if self.sandboxed {
            "in a bubblewrap sandbox"
        } else {
            "without a sandbox"
        };
        match self.user {
            Some(user) => format!("steps run {how} as uid {}:{}", user.uid, user.gid),
            None => format!("steps run {how} as the agent's user"),
        }
    }

    /// Gives the step user the paths steps write (a no-op without one).
    pub async fn hand_over(&self, paths: &StepPaths) -> std::io::Result<()> {
        let Some(user) = self.user else {
            return Ok(());
        };
        let paths = paths.clone();
        tokio::task::spawn_blocking(move || {
            for path in [&paths.workspace, &paths.home]
                .into_iter()
                .chain(&paths.caches)
            {
                chown_tree(path, user.uid, user.gid)?;
            }
            Ok(())
        })
        .await?
    }

    /// Takes the repository's caches back from the step user, private to the agent, so a
    /// step of another repository (the same user) cannot read or write them while they rest.
    pub async fn take_back(&self, caches: &[PathBuf]) -> std::io::Result<()> {
        if self.user.is_none() {
            return Ok(());
        }
        // SAFETY: getuid(2) and getgid(2) cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let caches = caches.to_vec();
        tokio::task::spawn_blocking(move || {
            caches.iter().try_for_each(|cache| {
                chown_tree(cache, uid, gid)?;
                std::fs::set_permissions(cache, std::fs::Permissions::from_mode(0o700))
            })
        })
        .await?
    }

    /// The command running `script` in `paths.workspace` with exactly `env`.
    pub fn command(
        &self,
        script: &str,
        paths: &StepPaths,
        env: Vec<(OsString, OsString)>,
    ) -> Command {
        let mut command = if self.sandboxed {
            let mut bwrap = Command::new("bwrap");
            bwrap.args(bwrap_args(paths, &toolchain_dirs()));
            bwrap
        } else {
            Command::new("sh")
        };
        command
            .arg("-c")
            .arg(script)
            .current_dir(&paths.workspace)
            .env_clear()
            .envs(env);
        if let Some(user) = self.user {
            command.uid(user.uid).gid(user.gid);
        }
        command
    }
}

/// The environment of a step of `job`, before the cache's variables: the agent's PATH
/// and locale, `home`, rustup's home, and CI variables describing the job.
pub fn step_env(job: &Job, home: &Path) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        (
            "PATH".into(),
            std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
        ),
        ("HOME".into(), home.into()),
        ("CI".into(), "true".into()),
        ("CI_JOB_ID".into(), job.id.as_str().into()),
        ("CI_REPO".into(), job.repo.as_str().into()),
        ("CI_COMMIT_REF".into(), job.git_ref.as_str().into()),
        ("CI_COMMIT_SHA".into(), job.sha.as_str().into()),
    ];
    if let Some(rustup) = rustup_home() {
        env.push(("RUSTUP_HOME".into(), rustup.into()));
    }
    for name in PASSED_ON {
        if let Some(value) = std::env::var_os(name) {
            env.push((name.into(), value));
        }
    }
    env
}

/// rustup's toolchains: `RUSTUP_HOME`, else `~/.rustup` when there (steps get another
/// HOME, so rustup's default would miss it).
fn rustup_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("RUSTUP_HOME") {
        return Some(home.into());
    }
    let default = PathBuf::from(std::env::var_os("HOME")?).join(".rustup");
    default.is_dir().then_some(default)
}

/// Folders outside the system a sandboxed step needs to read: the agent's PATH (cargo and
/// rustup's proxies often live in `~/.cargo/bin`) and rustup's home; never the agent's
/// home itself or a folder holding it.
fn toolchain_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(rustup_home())
        .filter(|dir| {
            let system = ["/usr"]
                .iter()
                .chain(SYSTEM)
                .any(|top| dir.starts_with(top));
            dir.is_absolute() && !system && dir.is_dir()
        })
        .filter(|dir| home.as_ref().is_none_or(|home| !home.starts_with(dir)))
        .collect()
}

/// bubblewrap's arguments, up to the command: the system read-only, `readable` read-only,
/// `paths` writable, fresh /proc, /dev and /tmp, its own pid namespace, no capabilities
/// (bwrap started by root keeps them otherwise), gone when the agent goes.
fn bwrap_args(paths: &StepPaths, readable: &[PathBuf]) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--die-with-parent",
        "--new-session",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    .map(OsString::from)
    .to_vec();
    let mut add = |flag: &str, from: &OsStr, to: &Path| {
        args.extend([flag.into(), from.to_owned(), to.as_os_str().to_owned()]);
    };
    for top in SYSTEM.iter().map(Path::new) {
        match top.symlink_metadata() {
            Ok(meta) if meta.is_symlink() => {
                if let Ok(target) = top.read_link() {
                    add("--symlink", target.as_os_str(), top);
                }
            }
            Ok(meta) if meta.is_dir() => add("--ro-bind", top.as_os_str(), top),
            _ => {}
        }
    }
    for file in ETC.iter().map(Path::new) {
        add("--ro-bind-try", file.as_os_str(), file);
    }
    args.extend(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"].map(OsString::from));
    let mut add = |flag: &str, path: &Path| {
        args.extend([flag.into(), path.into(), path.into()]);
    };
    for dir in readable {
        add("--ro-bind", dir);
    }
    for dir in [&paths.workspace, &paths.home]
        .into_iter()
        .chain(&paths.caches)
    {
        add("--bind", dir);
    }
    args.extend([
        "--chdir".into(),
        paths.workspace.clone().into(),
        "--".into(),
        "sh".into(),
    ]);
    args
}

/// Gives `root` and everything under it (symlinks not followed) to `uid:gid`; a tree
/// already the user's at its top is left as it is.
fn chown_tree(root: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    let meta = root.symlink_metadata()?;
    if meta.uid() == uid && meta.gid() == gid {
        return Ok(());
    }
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
        if path.symlink_metadata()?.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
        }
    }
    Ok(())
}

/// Whether the local pool's steps run sandboxed with `ci`'s settings; `false` means the
/// pool may run trusted code only.
pub async fn local_pool_sandboxed(ci: &CiConfig) -> bool {
    Isolation::of(ci)
        .confine()
        .await
        .is_ok_and(|confinement| confinement.sandboxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_users_are_numeric_and_not_root() {
        assert_eq!(StepUser::parse(""), Ok(None));
        assert_eq!(
            StepUser::parse("1001:1002"),
            Ok(Some(StepUser {
                uid: 1001,
                gid: 1002
            }))
        );
        for bad in ["1001", "builder:builder", "0:1001", "1001:0", "1001:1001:1"] {
            assert!(StepUser::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sandbox_modes() {
        assert_eq!(SandboxMode::parse("auto"), Some(SandboxMode::Auto));
        assert_eq!(SandboxMode::parse("bwrap"), Some(SandboxMode::Bwrap));
        assert_eq!(SandboxMode::parse("off"), Some(SandboxMode::Off));
        assert_eq!(SandboxMode::parse("on"), None);
    }

    #[test]
    fn the_sandbox_binds_only_the_jobs_paths_writable() {
        let paths = StepPaths {
            workspace: "/w/a/job".into(),
            home: "/w/a/job.home".into(),
            caches: vec!["/c/k/cargo".into(), "/c/k/target".into()],
        };
        let args = bwrap_args(&paths, &["/opt/rust/bin".into()]);
        let text: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        let writable: Vec<_> = text
            .windows(2)
            .filter(|pair| pair[0] == "--bind")
            .map(|pair| pair[1].to_string())
            .collect();
        assert_eq!(
            writable,
            ["/w/a/job", "/w/a/job.home", "/c/k/cargo", "/c/k/target"]
        );
        for flag in ["--unshare-pid", "--die-with-parent", "--new-session"] {
            assert!(text.contains(&flag.into()), "{flag}");
        }
        assert!(
            text.windows(2)
                .any(|pair| pair[0] == "--cap-drop" && pair[1] == "ALL")
        );
        assert!(
            text.windows(2)
                .any(|pair| pair[0] == "--ro-bind" && pair[1] == "/opt/rust/bin")
        );
        assert!(
            !text
                .iter()
                .any(|arg| arg.contains("shadow") || arg.contains("rancher"))
        );
        assert_eq!(text.last().map(|s| s.as_ref()), Some("sh"));
    }
}
