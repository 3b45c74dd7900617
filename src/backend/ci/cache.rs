//! Build caching for the steps: one cargo registry and git cache shared by every agent, a
//! target dir per agent (one shared by parallel builds would serialize them on Cargo's
//! lock), and optionally sccache with its own local cache, never the queue's Redis.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use std::collections::BTreeMap;
use tokio::process::Command;

/// sccache's client waits on its server; a hung server must not hold up the job.
const STATS_TIMEOUT: Duration = Duration::from_secs(20);

/// The agent's target dir, kept between its jobs: `<workspace_root>/<agent>/target`.
pub fn target_dir(workspace_root: &Path, agent: &str) -> PathBuf {
    workspace_root.join(agent).join("target")
}

/// Environment every step runs with.
pub fn step_env(
    cargo_home: &Path,
    target_dir: &Path,
    sccache_dir: Option<&Path>,
) -> Vec<(&'static str, OsString)> {
    let mut env = vec![
        ("CARGO_HOME", cargo_home.as_os_str().to_owned()),
        ("CARGO_TARGET_DIR", target_dir.as_os_str().to_owned()),
    ];
    if let Some(dir) = sccache_dir {
        env.push(("RUSTC_WRAPPER", "sccache".into()));
        env.push(("SCCACHE_DIR", dir.as_os_str().to_owned()));
        // sccache cannot cache incremental builds.
        env.push(("CARGO_INCREMENTAL", "0".into()));
    }
    env
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
        let plain = step_env(Path::new("/c"), Path::new("/t"), None);
        assert_eq!(plain.len(), 2);
        let wrapped = step_env(Path::new("/c"), Path::new("/t"), Some(Path::new("/s")));
        assert!(wrapped.contains(&("RUSTC_WRAPPER", "sccache".into())));
        assert!(wrapped.contains(&("CARGO_INCREMENTAL", "0".into())));
    }
}
