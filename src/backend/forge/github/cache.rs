//! What is kept on disk between runs, under the cache dir:
//!
//! - `http/<hash>.json`: per URL, the last answer's `ETag`, its `Link: rel="next"` and the
//!   part of its body that is used, for conditional requests (`If-None-Match`): an
//!   unchanged answer comes back as `304 Not Modified`, which costs no quota.
//! - `activity/<hash>.json`: Sparky's GitHub activity of recent periods, kept by Sparky
//!   and named and written the same way ([`key`], [`write_atomic`]).
//!
//! File names are a SHA-256 of the API's base URL and the URL or repository (never the
//! token). Files are written to a temp file and renamed, so a reader never sees half a
//! file; an unreadable file counts as missing.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Creates the cache dir (and its parents), readable by its owner only.
pub(super) fn create_dir(root: &Path) -> std::io::Result<()> {
    for dir in [root.to_path_buf(), root.join("http")] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    Ok(())
}

/// A file name for `value` of `kind` that does not show it.
pub(crate) fn key(identity: &str, kind: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [identity, kind, value] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`.
pub(crate) async fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
}
