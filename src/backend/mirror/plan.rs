//! What a sync would change, computed without any I/O: the GitHub repositories the config
//! selects against the repositories in Gitea's mirror organisation.
//!
//! A Gitea repository is *ours* when it is a mirror whose original URL is a repository on
//! a GitHub host (`https://github.com/owner/name[.git]`, or the host of the configured API
//! or of the selected repositories' clone URLs). Ours are matched to GitHub repositories by
//! that URL, not by name, so a mirror renamed in Gitea is still recognised. Anything else
//! in the organisation (plain repositories, mirrors of other forges) is never touched.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Url;
use serde::Serialize;

use crate::backend::forge::gitea::GiteaRepo;
use crate::backend::forge::github::RepoInfo;

/// What a sync would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Selected GitHub repositories without a mirror yet, by `full_name`.
    pub create: Vec<RepoInfo>,
    /// Our mirrors (Gitea `org/name`) whose GitHub repository is no longer selected;
    /// deleted only by `sync --prune`.
    pub remove: Vec<String>,
    /// Selected GitHub repositories (`owner/name`) that already have a mirror.
    pub keep: Vec<String>,
}

/// The plan: `github` is the selection, `gitea` the organisation's repositories, `hosts`
/// the GitHub hosts (see [`github_hosts`]).
pub fn plan(github: &[RepoInfo], gitea: &[GiteaRepo], hosts: &BTreeSet<String>) -> Plan {
    let selected: BTreeMap<String, &RepoInfo> = github
        .iter()
        .map(|repo| (repo.full_name.to_lowercase(), repo))
        .collect();
    let mut mirrored = BTreeSet::new();
    let mut remove = Vec::new();
    for repo in gitea {
        let Some(origin) = github_origin(repo, hosts) else {
            continue;
        };
        let key = origin.to_lowercase();
        if selected.contains_key(&key) {
            mirrored.insert(key);
        } else {
            remove.push(repo.full_name.clone());
        }
    }
    let mut create = Vec::new();
    let mut keep = Vec::new();
    for (key, repo) in &selected {
        if mirrored.contains(key) {
            keep.push(repo.full_name.clone());
        } else {
            create.push((*repo).clone());
        }
    }
    remove.sort();
    Plan {
        create,
        remove,
        keep,
    }
}

/// The GitHub `owner/name` a Gitea repository mirrors, when it is one of ours.
pub fn github_origin(repo: &GiteaRepo, hosts: &BTreeSet<String>) -> Option<String> {
    if !repo.mirror {
        return None;
    }
    github_repo_of_url(&repo.original_url, hosts)
}

/// `owner/name` of `https://<GitHub host>/owner/name[.git][/]`; `None` for other URLs.
pub fn github_repo_of_url(url: &str, hosts: &BTreeSet<String>) -> Option<String> {
    let url = Url::parse(url.trim()).ok()?;
    if !hosts.contains(&authority(&url)?) {
        return None;
    }
    let mut segments = url.path_segments()?.filter(|segment| !segment.is_empty());
    let owner = segments.next()?;
    let name = segments.next()?;
    let name = name.strip_suffix(".git").unwrap_or(name);
    if segments.next().is_some() || name.is_empty() {
        return None;
    }
    Some(format!("{owner}/{name}"))
}

/// `host` or `host:port` (a default port is left out), lowercase.
fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The hosts GitHub repositories live on: github.com, the host of `api_url` (GitHub
/// Enterprise serves its API at `https://<host>/api/v3`; `api.github.com` means github.com)
/// and the hosts of the given clone or web URLs.
pub fn github_hosts<'a>(
    api_url: &'a str,
    urls: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut hosts = BTreeSet::from(["github.com".to_string()]);
    let parsed = std::iter::once(api_url)
        .chain(urls)
        .filter_map(|url| Url::parse(url).ok());
    for url in parsed {
        match authority(&url) {
            Some(host) if host == "api.github.com" => {}
            Some(host) => {
                hosts.insert(host);
            }
            None => {}
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(full_name: &str) -> RepoInfo {
        let (owner, name) = full_name.split_once('/').unwrap();
        RepoInfo {
            full_name: full_name.into(),
            owner: owner.into(),
            name: name.into(),
            private: false,
            archived: false,
            fork: false,
            clone_url: format!("https://github.com/{full_name}.git"),
            html_url: format!("https://github.com/{full_name}"),
            default_branch: "main".into(),
            pushed_at: None,
        }
    }

    fn gitea(name: &str, mirror: bool, original_url: &str) -> GiteaRepo {
        GiteaRepo {
            name: name.into(),
            full_name: format!("mirrors/{name}"),
            mirror,
            original_url: original_url.into(),
            ..GiteaRepo::default()
        }
    }

    #[test]
    fn creates_the_missing_keeps_the_matched_and_removes_only_ours() {
        let hosts = github_hosts("https://api.github.com", []);
        let github = [info("lab/b"), info("lab/a"), info("Lab/C")];
        let existing = [
            gitea("a", true, "https://github.com/lab/a.git"),
            // Renamed in Gitea, and the case differs: still lab/c's mirror.
            gitea("c-renamed", true, "https://github.com/lab/c"),
            gitea("gone", true, "https://github.com/lab/gone.git"),
            gitea("notes", false, ""),
            gitea("other", true, "https://gitlab.com/lab/other.git"),
            gitea("plain-copy", false, "https://github.com/lab/x.git"),
        ];
        let plan = plan(&github, &existing, &hosts);
        let create: Vec<_> = plan.create.iter().map(|r| r.full_name.as_str()).collect();
        assert_eq!(create, ["lab/b"]);
        assert_eq!(plan.keep, ["lab/a", "Lab/C"]);
        assert_eq!(plan.remove, ["mirrors/gone"]);
    }

    #[test]
    fn only_github_repository_urls_count() {
        let hosts = github_hosts(
            "http://127.0.0.1:8123",
            ["https://ghe.example/x/y.git", "not a url"],
        );
        let of = |url: &str| github_repo_of_url(url, &hosts);
        assert_eq!(of("https://github.com/o/r.git").as_deref(), Some("o/r"));
        assert_eq!(of("https://GitHub.com/o/r/").as_deref(), Some("o/r"));
        assert_eq!(of("http://127.0.0.1:8123/o/r.git").as_deref(), Some("o/r"));
        assert_eq!(of("https://ghe.example/o/r").as_deref(), Some("o/r"));
        assert_eq!(of("http://127.0.0.1:9999/o/r.git"), None);
        assert_eq!(of("https://github.com/o"), None);
        assert_eq!(of("https://github.com/o/r/tree/main"), None);
        assert_eq!(of("https://api.github.com/o/r"), None);
        assert_eq!(of(""), None);
    }
}
