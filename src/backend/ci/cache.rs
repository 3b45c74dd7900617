//! Build caches that outlive the agents. Each repository has its own folder under
//! `ci.cache_dir` holding its cargo home (registry and git cache) and its target dir, so
//! the next build of the repository compiles only what changed, and no repository's build
//! reads what another's wrote. Jobs of one repository take its lock from checkout to their
//! last step: cargo judges a crate's freshness by comparing its sources' times with the
//! last build's, so a clone made while another job built would take that build's output
//! for its own. Optionally sccache with its own local cache, never the queue's Redis.

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tokio::process::Command;

/// sccache's client waits on its server; a hung server must not hold up the job.
const STATS_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of a repository's name its folder keeps readable; a hash of the whole name
/// follows, so two names never share a folder.
const READABLE_CHARS: usize = 48;

/// One repository's caches: `<cache_dir>/<key>/cargo` and `<cache_dir>/<key>/target`,
/// and its lock file `<cache_dir>/<key>/lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoCache {
    pub key: String,
    pub cargo_home: PathBuf,
    pub target_dir: PathBuf,
    lock_file: PathBuf,
}

/// The repository's lock, held until dropped (or the process ends).
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

impl RepoCache {
    pub fn of(cache_dir: &Path, repo: &str) -> RepoCache {
        let key = repo_key(repo);
        let dir = cache_dir.join(&key);
        RepoCache {
            key,
            cargo_home: dir.join("cargo"),
            target_dir: dir.join("target"),
            lock_file: dir.join("lock"),
        }
    }

    /// Takes the repository's lock; `None` while another job (of any agent sharing the
    /// cache dir) holds it.
    pub fn try_lock(&self) -> std::io::Result<Option<CacheLock>> {
        if let Some(dir) = self.lock_file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_file)?;
        // SAFETY: flock(2) on a descriptor this function owns; no memory is shared.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked == 0 {
            return Ok(Some(CacheLock { _file: file }));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() == std::io::ErrorKind::WouldBlock {
            Ok(None)
        } else {
            Err(error)
        }
    }

    /// The folders steps write: the cargo home and the target dir, created when missing.
    pub async fn dirs(&self) -> std::io::Result<Vec<PathBuf>> {
        let dirs = vec![self.cargo_home.clone(), self.target_dir.clone()];
        for dir in &dirs {
            tokio::fs::create_dir_all(dir).await?;
        }
        Ok(dirs)
    }

    /// Whether an earlier build left anything in the target dir.
    pub async fn is_warm(&self) -> bool {
        match tokio::fs::read_dir(&self.target_dir).await {
            Ok(mut entries) => matches!(entries.next_entry().await, Ok(Some(_))),
            Err(_) => false,
        }
    }

    /// The cache's part of every step's environment.
    pub fn step_env(&self, sccache_dir: Option<&Path>) -> Vec<(&'static str, OsString)> {
        let mut env = vec![
            ("CARGO_HOME", self.cargo_home.as_os_str().to_owned()),
            ("CARGO_TARGET_DIR", self.target_dir.as_os_str().to_owned()),
        ];
        if let Some(dir) = sccache_dir {
            env.push(("RUSTC_WRAPPER", "sccache".into()));
            env.push(("SCCACHE_DIR", dir.as_os_str().to_owned()));
            // sccache cannot cache incremental builds.
            env.push(("CARGO_INCREMENTAL", "0".into()));
        }
        env
    }
}

/// A folder name for `repo` (`owner/name` from the queue): its letters, digits, `.`, `_`
/// and `-` (anything else as `_`), then 16 hex digits of its SHA-256.
fn repo_key(repo: &str) -> String {
    let readable: String = repo
        .chars()
        .take(READABLE_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = hex::encode(&Sha256::digest(repo.as_bytes())[..8]);
    format!("{readable}-{hash}")
}

/// Whether a line of a step's output is cargo starting on a crate, e.g.
/// `   Compiling serde v1.0.228` (a local crate's path follows).
pub fn is_compiling_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("Compiling")
        && words.next().is_some()
        && words.next().is_some_and(|version| {
            version
                .strip_prefix('v')
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
}

/// sccache's compile counters, summed over languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SccacheCounts {
    pub hits: u64,
    pub misses: u64,
}

impl SccacheCounts {
    /// What happened between two readings (a restarted server starts again at zero).
    pub fn since(self, before: SccacheCounts) -> SccacheCounts {
        SccacheCounts {
            hits: self.hits.saturating_sub(before.hits),
            misses: self.misses.saturating_sub(before.misses),
        }
    }
}

/// Reads the counters of the sccache server for `dir` (starting it if needed); `None`
/// when sccache is missing or answers with something else.
pub async fn sccache_counts(dir: &Path) -> Option<SccacheCounts> {
    let mut command = Command::new("sccache");
    command
        .args(["--show-stats", "--stats-format", "json"])
        .env("SCCACHE_DIR", dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(STATS_TIMEOUT, command.output())
        .await
        .ok()?
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_stats(&output.stdout)
}

#[derive(Deserialize)]
struct StatsJson {
    stats: Stats,
}

#[derive(Deserialize)]
struct Stats {
    cache_hits: Counts,
    cache_misses: Counts,
}

#[derive(Deserialize)]
struct Counts {
    #[serde(default)]
    counts: BTreeMap<String, u64>,
}

fn parse_stats(json: &[u8]) -> Option<SccacheCounts> {
    let parsed: StatsJson = serde_json::from_slice(json).ok()?;
    Some(SccacheCounts {
        hits: parsed.stats.cache_hits.counts.values().sum(),
        misses: parsed.stats.cache_misses.counts.values().sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_counts_over_languages() {
        let json = br#"{"stats":{"compile_requests":9,"cache_hits":{"counts":{"Rust":4,"C/C++":1},"adv_counts":{}},"cache_misses":{"counts":{"Rust":3}}}}"#;
        assert_eq!(
            parse_stats(json),
            Some(SccacheCounts { hits: 5, misses: 3 })
        );
        assert_eq!(parse_stats(b"not json"), None);
    }

    #[test]
    fn sccache_env_only_with_a_dir() {
        let cache = RepoCache::of(Path::new("/c"), "o/r");
        let plain = cache.step_env(None);
        assert_eq!(plain.len(), 2);
        let wrapped = cache.step_env(Some(Path::new("/s")));
        assert!(wrapped.contains(&("RUSTC_WRAPPER", "sccache".into())));
        assert!(wrapped.contains(&("CARGO_INCREMENTAL", "0".into())));
    }

    #[test]
    fn each_repository_has_its_own_folder() {
        let cache = RepoCache::of(Path::new("/c"), "lab/app");
        assert!(cache.key.starts_with("lab_app-"), "{}", cache.key);
        assert_eq!(
            cache.cargo_home,
            Path::new("/c").join(&cache.key).join("cargo")
        );
        assert_eq!(
            cache.target_dir,
            Path::new("/c").join(&cache.key).join("target")
        );
        // Names that read alike, or would step outside the folder, stay apart and inside.
        let keys = [
            "lab/app", "lab_app", "lab/app/", "../..", "lab/a pp", "lab/a_pp",
        ]
        .map(repo_key);
        for (i, key) in keys.iter().enumerate() {
            let parts: Vec<_> = Path::new(key).components().collect();
            assert!(
                matches!(parts[..], [std::path::Component::Normal(_)]),
                "{key}"
            );
            assert!(!keys[..i].contains(key), "{key} is shared");
        }
        assert!(repo_key(&"x".repeat(500)).len() < 70);
    }

    #[test]
    fn one_job_of_a_repository_holds_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RepoCache::of(dir.path(), "lab/app");
        let held = cache.try_lock().unwrap().expect("a free lock");
        assert!(cache.try_lock().unwrap().is_none());
        let other = RepoCache::of(dir.path(), "lab/other");
        assert!(other.try_lock().unwrap().is_some());
        drop(held);
        assert!(cache.try_lock().unwrap().is_some());
    }

    #[test]
    fn counts_only_cargos_compiling_lines() {
        assert!(is_compiling_line("   Compiling serde v1.0.228"));
        assert!(is_compiling_line("   Compiling top v0.1.0 (/work/a/job)"));
        assert!(!is_compiling_line("    Finished `dev` profile"));
        assert!(!is_compiling_line("Compiling the docs now"));
        assert!(!is_compiling_line("   Compiling"));
    }
}
