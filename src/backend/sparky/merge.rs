//! Local clones and GitHub data of the same repository, merged into one repository's
//! activity without counting anything twice.
//!
//! A local clone is the GitHub repository its `origin` remote points at (github.com, or any
//! address GitHub gives for it). A clone whose `origin` names no selected repository is
//! matched by its folder name (equal to the GitHub name, ignoring case and the owner, when
//! one repository has it) unless `origin` is on github.com, and failing that by sharing a
//! commit with one. The merged repository takes GitHub's `owner/name` and the clone's path;
//! its commits are deduplicated by sha, the clone's record kept (its line counts come from
//! git itself); pull requests, issues and releases come from GitHub only.

use std::collections::{BTreeMap, BTreeSet};

use super::model::RepoActivity;

/// A local repository's activity and its `origin` remote, when it has a readable one.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRepo {
    pub activity: RepoActivity,
    pub origin: Option<String>,
}

/// A GitHub repository's activity and the addresses a clone may have for it (its clone URL,
/// its web page); `github.com/<owner/name>` and the activity's path are always included.
#[derive(Debug, Clone, PartialEq)]
pub struct GithubRepo {
    pub activity: RepoActivity,
    pub urls: Vec<String>,
}

/// Local repositories in their order, each merged with its GitHub repository when it has
/// one, then the GitHub repositories no clone matched, in their order.
pub fn merge(local: Vec<LocalRepo>, github: Vec<GithubRepo>) -> Vec<RepoActivity> {
    let targets: Vec<Option<usize>> = local.iter().map(|l| match_of(l, &github)).collect();
    let mut merged: Vec<Option<RepoActivity>> = Vec::new();
    // Where each GitHub repository's merged activity is, once a clone matched it.
    let mut slot: Vec<Option<usize>> = vec![None; github.len()];
    for (clone, target) in local.into_iter().zip(targets) {
        match target {
            None => merged.push(Some(clone.activity)),
            Some(g) => match slot[g] {
                Some(at) => {
                    let into = merged[at].as_mut().expect("a merged slot is filled");
                    add_commits(into, clone.activity);
                }
                None => {
                    slot[g] = Some(merged.len());
                    let mut into = RepoActivity {
                        name: github[g].activity.name.clone(),
                        path: clone.activity.path.clone(),
                        ..RepoActivity::default()
                    };
                    add_commits(&mut into, clone.activity);
                    merged.push(Some(into));
                }
            },
        }
    }
    let mut unmatched = Vec::new();
    for (g, repo) in github.into_iter().enumerate() {
        match slot[g] {
            Some(at) => {
                let into = merged[at].as_mut().expect("a merged slot is filled");
                let mut activity = repo.activity;
                into.pull_requests = std::mem::take(&mut activity.pull_requests);
                into.issues = std::mem::take(&mut activity.issues);
                into.releases = std::mem::take(&mut activity.releases);
                add_commits(into, activity);
                into.commits.sort_by_key(|c| std::cmp::Reverse(c.committed));
            }
            None => unmatched.push(repo.activity),
        }
    }
    merged.into_iter().flatten().chain(unmatched).collect()
}

/// Adds the commits of `from` that `into` does not have, under `into`'s name, with their
/// unknown file counts; of one it has, `into` keeps its record and learns the author's
/// login GitHub knows.
fn add_commits(into: &mut RepoActivity, from: RepoActivity) {
    let mut kept: BTreeMap<String, usize> = into
        .commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.sha.clone(), i))
        .collect();
    for mut commit in from.commits {
        match kept.get(&commit.sha) {
            Some(&i) => {
                let record = &mut into.commits[i];
                record.login = record.login.take().or(commit.login);
            }
            None => {
                kept.insert(commit.sha.clone(), into.commits.len());
                if from.files_unknown.contains(&commit.sha) {
                    into.files_unknown.push(commit.sha.clone());
                }
                commit.repo = into.name.clone();
                into.commits.push(commit);
            }
        }
    }
}

/// The GitHub repository a clone is, by the rules of the module docs.
fn match_of(clone: &LocalRepo, github: &[GithubRepo]) -> Option<usize> {
    let origin = clone.origin.as_deref().map(normalize);
    if let Some(origin) = &origin {
        let found = github
            .iter()
            .position(|g| addresses(g).iter().any(|address| address == origin));
        if found.is_some() {
            return found;
        }
    }
    let elsewhere_on_github = origin
        .as_deref()
        .is_some_and(|o| o.starts_with("github.com/"));
    if !elsewhere_on_github {
        let folder = clone.activity.name.to_lowercase();
        let named: Vec<usize> = (0..github.len())
            .filter(|&g| {
                let name = &github[g].activity.name;
                let short = name.rsplit('/').next().unwrap_or(name);
                short.to_lowercase() == folder
            })
            .collect();
        if let [only] = named.as_slice() {
            return Some(*only);
        }
    }
    let shas: BTreeSet<&str> = clone
        .activity
        .commits
        .iter()
        .map(|c| c.sha.as_str())
        .collect();
    let shared = |g: &GithubRepo| {
        g.activity
            .commits
            .iter()
            .filter(|c| shas.contains(c.sha.as_str()))
            .count()
    };
    (0..github.len())
        .map(|g| (shared(&github[g]), g))
        .filter(|&(n, _)| n > 0)
        .max_by_key(|&(n, g)| (n, std::cmp::Reverse(g)))
        .map(|(_, g)| g)
}

/// Every address of a GitHub repository, normalized.
fn addresses(repo: &GithubRepo) -> Vec<String> {
    let mut all: Vec<String> = repo.urls.iter().map(|u| normalize(u)).collect();
    all.push(normalize(&repo.activity.path));
    all.push(format!("github.com/{}", repo.activity.name.to_lowercase()));
    all
}

/// `host/owner/name` of a git remote or web address: scheme, credentials, `.git` and
/// trailing slashes dropped, scp-like `git@host:owner/name` read as `host/owner/name`,
/// lowercase.
pub fn normalize(url: &str) -> String {
    let url = url.trim();
    let (rest, scp_like) = match url.split_once("://") {
        Some((_, rest)) => (rest, false),
        None => (url, true),
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..host_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let rest = if scp_like {
        rest.replacen(':', "/", 1)
    } else {
        rest.to_owned()
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    rest.trim_end_matches('/').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sparky::model::{CommitRecord, PullRequestRecord};

    fn commit(repo: &str, sha: u64, insertions: u64) -> CommitRecord {
        let at: jiff::Timestamp = format!("2026-11-{:02}T10:00:00Z", 10 + sha)
            .parse()
            .unwrap();
        CommitRecord {
            login: None,
            repo: repo.into(),
            sha: format!("{sha:040x}"),
            author: "Ann".into(),
            email: "ann@lab.example".into(),
            time: at,
            offset_seconds: 0,
            committed: at,
            subject: format!("change {sha}"),
            files_changed: 1,
            insertions,
            deletions: 0,
            is_merge: false,
            is_bot: false,
            paths: Vec::new(),
        }
    }

    fn local(folder: &str, origin: Option<&str>, shas: &[u64]) -> LocalRepo {
        LocalRepo {
            activity: RepoActivity {
                name: folder.into(),
                path: format!("/src/{folder}"),
                commits: shas.iter().map(|&s| commit(folder, s, 100)).collect(),
                ..RepoActivity::default()
            },
            origin: origin.map(String::from),
        }
    }

    fn github(name: &str, shas: &[u64], prs: u64) -> GithubRepo {
        GithubRepo {
            activity: RepoActivity {
                name: name.into(),
                path: format!("https://github.com/{name}"),
                // GitHub's own line counts differ: the clone's must win.
                commits: shas.iter().map(|&s| commit(name, s, 1)).collect(),
                pull_requests: (1..=prs)
                    .map(|number| PullRequestRecord {
                        repo: name.into(),
                        number,
                        title: "pr".into(),
                        author: "ann".into(),
                        url: format!("https://github.com/{name}/pull/{number}"),
                        created: "2026-11-16T00:00:00Z".parse().unwrap(),
                        merged: None,
                        closed: None,
                        reviewers: Vec::new(),
                        additions: 1,
                        deletions: 1,
                        is_bot: false,
                        labels: Vec::new(),
                    })
                    .collect(),
                ..RepoActivity::default()
            },
            urls: vec![format!("https://github.com/{name}.git")],
        }
    }

    #[test]
    fn the_same_sha_from_both_sides_counts_once_with_git_line_counts() {
        let merged = merge(
            vec![local("api", Some("git@github.com:Lab/API.git"), &[1, 2])],
            vec![github("lab/api", &[2, 3], 2)],
        );
        assert_eq!(merged.len(), 1);
        let repo = &merged[0];
        assert_eq!(repo.name, "lab/api");
        assert_eq!(
            repo.path, "/src/api",
            "regenerating collects the clone again"
        );
        let shas: Vec<&str> = repo.commits.iter().map(|c| &c.sha[38..]).collect();
        assert_eq!(shas, ["03", "02", "01"], "newest first, each once");
        let two = repo.commits.iter().find(|c| c.sha.ends_with("02")).unwrap();
        assert_eq!(two.insertions, 100, "the clone's line counts");
        assert!(repo.commits.iter().all(|c| c.repo == "lab/api"));
        assert_eq!(repo.pull_requests.len(), 2);
    }

    #[test]
    fn a_file_count_github_did_not_give_is_known_from_the_clone() {
        let mut github = github("lab/api", &[2, 3], 0);
        github.activity.files_unknown = github
            .activity
            .commits
            .iter()
            .map(|c| c.sha.clone())
            .collect();
        let merged = merge(
            vec![local("api", Some("git@github.com:Lab/API.git"), &[1, 2])],
            vec![github],
        );
        let unknown: Vec<&str> = merged[0]
            .files_unknown
            .iter()
            .map(|sha| &sha[38..])
            .collect();
        assert_eq!(unknown, ["03"], "02 is the clone's, counted by git");
    }

    #[test]
    fn pull_requests_come_only_from_github() {
        let mut clone = local("api", None, &[1]);
        clone.activity.pull_requests = github("lab/api", &[], 1).activity.pull_requests;
        let merged = merge(vec![clone], vec![github("lab/api", &[], 3)]);
        assert_eq!(merged.len(), 1, "matched by folder name");
        assert_eq!(merged[0].pull_requests.len(), 3);
    }

    #[test]
    fn clones_match_by_origin_folder_or_shared_commit_and_others_stay_apart() {
        let merged = merge(
            vec![
                // Its origin names another GitHub repository: no folder-name match.
                local("api", Some("https://github.com/someone/api"), &[7]),
                // A mirror's address: the folder name decides.
                local("web", Some("http://gitea.lab/mirrors/web.git"), &[]),
                // Another folder name, but a commit GitHub has too.
                local("checkout", None, &[5]),
                // Its origin is the fake GitHub's clone URL.
                local("tools-local", Some("http://127.0.0.1:9/lab/tools.git"), &[]),
            ],
            vec![
                github("lab/api", &[], 0),
                github("lab/web", &[], 0),
                github("lab/cli", &[5], 0),
                GithubRepo {
                    urls: vec!["http://127.0.0.1:9/lab/tools.git".into()],
                    ..github("lab/tools", &[], 0)
                },
                github("lab/docs", &[], 0),
            ],
        );
        let names: Vec<&str> = merged.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "api",
                "lab/web",
                "lab/cli",
                "lab/tools",
                "lab/api",
                "lab/docs"
            ]
        );
    }

    #[test]
    fn two_clones_of_one_repository_count_their_commits_once() {
        let merged = merge(
            vec![
                local("api", Some("https://github.com/lab/api"), &[1, 2]),
                local("api-2", Some("https://github.com/lab/api.git"), &[2, 3]),
            ],
            vec![github("lab/api", &[], 0)],
        );
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].commits.len(), 3);
    }

    #[test]
    fn addresses_normalize() {
        for url in [
            "https://github.com/Lab/Api.git",
            "git@github.com:lab/api.git",
            "ssh://git@github.com/lab/api",
            "https://x-access-token:secret@github.com/lab/api/",
        ] {
            assert_eq!(normalize(url), "github.com/lab/api", "{url}");
        }
        assert_eq!(
            normalize("http://127.0.0.1:8080/lab/api.git"),
            "127.0.0.1:8080/lab/api"
        );
    }
}
