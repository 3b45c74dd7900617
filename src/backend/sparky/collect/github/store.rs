//! Activity fetched for recent periods, per repository under the GitHub cache dir
//! (`activity/<hash>.json`), with the repository's `pushed_at` at the time, so an
//! unchanged repository is not asked again. Named and written like the forge's HTTP
//! cache: a hash of the API's base URL and the repository, a temp file renamed.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::backend::forge::github::cache::{key, write_atomic};
use crate::backend::sparky::model::RepoActivity;

/// Periods kept per repository: the newest ones fetched.
const PERIODS_KEPT: usize = 8;

/// What stored activity holds; activity stored in an older format is fetched again.
/// 1: pull requests carry their labels.
pub(super) const ACTIVITY_FORMAT: u32 = 1;

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

/// Saves read, change and write a repository's file: one at a time, or two periods
/// collected at once would each drop the other's entry.
static SAVING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Debug)]
pub(super) struct ActivityStore {
    dir: PathBuf,
    identity: String,
}

impl ActivityStore {
    pub fn new(root: &Path, identity: &str) -> ActivityStore {
        ActivityStore {
            dir: root.join("activity"),
            identity: identity.to_owned(),
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
        let _saving = SAVING.lock().await;
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
        // Readable by its owner only, like the rest of the cache dir.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        write_atomic(&self.path(repo), &bytes).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn root() -> PathBuf {
        static N: AtomicU64 = AtomicU64::new(0);
        std::env::temp_dir().join(format!(
            "raibid-github-activity-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
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
