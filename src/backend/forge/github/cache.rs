//! What is kept on disk between runs, under the cache dir:
//!
//! - `http/<hash>.json`: per URL, the last answer's `ETag`, its `Link: rel="next"` and the
//!   part of its body that is used, for conditional requests (`If-None-Match`): an
//!   unchanged answer comes back as `304 Not Modified`, which costs no quota.
//! - `activity/<hash>.json`: per repository, the activity fetched for recent periods with
//!   the repository's `pushed_at` at the time, so an unchanged repository is not asked
//!   again.
//!
//! File names are a SHA-256 of the API's base URL and the URL or repository (never the
//! token). Files are written to a temp file and renamed, so a reader never sees half a
//! file; an unreadable file counts as missing.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::sparky::model::RepoActivity;

/// Periods kept per repository: the newest ones fetched.
const PERIODS_KEPT: usize = 8;

/// What stored activity holds; activity stored in an older format is fetched again.
/// 1: pull requests carry their labels.
pub(super) const ACTIVITY_FORMAT: u32 = 1;

/// One URL's last answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Entry {
    pub url: String,
    pub etag: String,
    /// The `rel="next"` page, when there is one.
    pub next: Option<String>,
    /// What the caller kept of the body (JSON).
    pub body: String,
}

#[derive(Debug, Clone)]
pub(super) struct HttpCache {
    dir: PathBuf,
    identity: String,
}

impl HttpCache {
    /// `identity`: what sets apart answers to the same URL (the API's base URL).
    pub fn new(root: &Path, identity: &str) -> HttpCache {
        HttpCache {
            dir: root.join("http"),
            identity: identity.to_owned(),
        }
    }

    fn path(&self, url: &str) -> PathBuf {
        self.dir
            .join(format!("{}.json", key(&self.identity, "url", url)))
    }

    pub async fn load(&self, url: &str) -> Option<Entry> {
        let bytes = tokio::fs::read(self.path(url)).await.ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        // A hash collision, however unlikely, must not answer for another URL.
        (entry.url == url).then_some(entry)
    }

    pub async fn store(&self, entry: &Entry) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        write_atomic(&self.path(&entry.url), &bytes).await
    }
}

/// A period's activity as fetched, and what the repository looked like then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoredPeriod {
    pub since: Timestamp,
    pub until: Timestamp,
    pub pushed_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    /// [`ACTIVITY_FORMAT`] when it was stored; 0 before formats were numbered.
    #[serde(default)]
    pub format: u32,
    pub activity: RepoActivity,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct StoredRepo {
    repo: String,
    /// Newest fetch last.
    periods: Vec<StoredPeriod>,
}

#[derive(Debug)]
pub(super) struct ActivityStore {
    dir: PathBuf,
    identity: String,
    /// Saves read, change and write a repository's file: one at a time, or two periods
    /// collected at once would each drop the other's entry.
    saving: tokio::sync::Mutex<()>,
}

impl ActivityStore {
    pub fn new(root: &Path, identity: &str) -> ActivityStore {
        ActivityStore {
            dir: root.join("activity"),
            identity: identity.to_owned(),
            saving: tokio::sync::Mutex::new(()),
        }
    }

    fn path(&self, repo: &str) -> PathBuf {
        let repo = repo.to_ascii_lowercase();
        self.dir
            .join(format!("{}.json", key(&self.identity, "repo", &repo)))
    }

    async fn load_repo(&self, repo: &str) -> Option<StoredRepo> {
        let bytes = tokio::fs::read(self.path(repo)).await.ok()?;
        let stored: StoredRepo = serde_json::from_slice(&bytes).ok()?;
        stored.repo.eq_ignore_ascii_case(repo).then_some(stored)
    }

    /// The activity stored for exactly this period, if any.
    pub async fn load(
        &self,
        repo: &str,
        since: Timestamp,
        until: Timestamp,
    ) -> Option<StoredPeriod> {
        self.load_repo(repo)
            .await?
            .periods
            .into_iter()
            .rev()
            .find(|period| period.since == since && period.until == until)
    }

    /// Replaces the period's entry; the oldest entries beyond [`PERIODS_KEPT`] go.
    pub async fn save(&self, repo: &str, period: StoredPeriod) -> std::io::Result<()> {
        let _saving = self.saving.lock().await;
        let mut stored = self.load_repo(repo).await.unwrap_or_else(|| StoredRepo {
            repo: repo.to_owned(),
            periods: Vec::new(),
        });
        stored
            .periods
            .retain(|old| (old.since, old.until) != (period.since, period.until));
        stored.periods.push(period);
        let extra = stored.periods.len().saturating_sub(PERIODS_KEPT);
        stored.periods.drain(..extra);
        let bytes = serde_json::to_vec(&stored).map_err(std::io::Error::other)?;
        write_atomic(&self.path(repo), &bytes).await
    }
}

/// Creates the cache dir (and its parents), readable by its owner only.
pub(super) fn create_dir(root: &Path) -> std::io::Result<()> {
    for dir in [root.to_path_buf(), root.join("http"), root.join("activity")] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    Ok(())
}

fn key(identity: &str, kind: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [identity, kind, value] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`.
pub(super) async fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    if let Err(error) = tokio::fs::write(&temp, bytes).await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(error);
    }
    if let Err(error) = tokio::fs::rename(&temp, path).await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "raibid-github-cache-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        create_dir(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn entries_round_trip_per_url_and_identity() {
        let root = root();
        let cache = HttpCache::new(&root, "https://api.github.com");
        let entry = Entry {
            url: "https://api.github.com/orgs/acme/repos?per_page=100".into(),
            etag: "W/\"abc\"".into(),
            next: Some("https://api.github.com/organizations/1/repos?page=2".into()),
            body: "[]".into(),
        };
        assert_eq!(cache.load(&entry.url).await, None);
        cache.store(&entry).await.unwrap();
        assert_eq!(cache.load(&entry.url).await, Some(entry.clone()));
        let other = HttpCache::new(&root, "https://ghe.example/api/v3");
        assert_eq!(other.load(&entry.url).await, None);
        // No temp files left behind, and names do not show the URL.
        let names: Vec<String> = std::fs::read_dir(root.join("http"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(names[0].ends_with(".json") && !names[0].contains("acme"));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn a_torn_file_counts_as_missing() {
        let root = root();
        let cache = HttpCache::new(&root, "x");
        std::fs::write(cache.path("u"), b"{\"url\":").unwrap();
        assert_eq!(cache.load("u").await, None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn periods_are_replaced_and_bounded() {
        let root = root();
        let store = ActivityStore::new(&root, "x");
        let at = |day: i64| Timestamp::from_second(1_700_000_000 + day * 86_400).unwrap();
        let stored = |day: i64, pushed: i64| StoredPeriod {
            since: at(day),
            until: at(day + 1),
            pushed_at: Some(at(pushed)),
            fetched_at: at(day + 1),
            format: ACTIVITY_FORMAT,
            activity: RepoActivity {
                name: "acme/web".into(),
                ..RepoActivity::default()
            },
        };
        store.save("acme/web", stored(0, 1)).await.unwrap();
        store.save("acme/web", stored(0, 2)).await.unwrap();
        let found = store.load("ACME/web", at(0), at(1)).await.unwrap();
        assert_eq!(found.pushed_at, Some(at(2)));
        for day in 1..=PERIODS_KEPT as i64 {
            store.save("acme/web", stored(day, day)).await.unwrap();
        }
        assert_eq!(store.load("acme/web", at(0), at(1)).await, None);
        assert!(store.load("acme/web", at(1), at(2)).await.is_some());
        assert_eq!(store.load("acme/other", at(1), at(2)).await, None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn saves_at_once_keep_every_period() {
        let root = root();
        let store = ActivityStore::new(&root, "x");
        let at = |day: i64| Timestamp::from_second(1_700_000_000 + day * 86_400).unwrap();
        let stored = |day: i64| StoredPeriod {
            since: at(day),
            until: at(day + 1),
            pushed_at: None,
            fetched_at: at(day + 1),
            format: ACTIVITY_FORMAT,
            activity: RepoActivity::default(),
        };
        let results = tokio::join!(
            store.save("acme/web", stored(0)),
            store.save("acme/web", stored(1)),
            store.save("acme/web", stored(2)),
            store.save("acme/web", stored(3)),
        );
        assert!(results.0.is_ok() && results.1.is_ok() && results.2.is_ok() && results.3.is_ok());
        for day in 0..4 {
            assert!(
                store.load("acme/web", at(day), at(day + 1)).await.is_some(),
                "{day}"
            );
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
