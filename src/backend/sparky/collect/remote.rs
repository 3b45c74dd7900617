//! A local repository's `origin` remote, to tell which GitHub repository it is a clone of.

use std::path::Path;

/// The URL of `origin` as the repository's config holds it; `None` when the repository
/// cannot be opened or has no `origin`.
pub fn origin_url(repo_path: &Path) -> Option<String> {
    let repo = gix::open(repo_path).ok()?;
    let url = repo.config_snapshot().string("remote.origin.url")?;
    let url = url.to_string();
    (!url.trim().is_empty()).then_some(url)
}
