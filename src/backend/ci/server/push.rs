//! Push payloads of Gitea and GitHub, read into the few facts a build needs and held
//! against what the lab builds. Both forges send the same shape for these fields (Gitea
//! copied GitHub's), so one reader serves both.
//!
//! What a push names reaches git, the logs and the console, so nothing is taken on trust:
//! only branches and tags are built, a ref or repository name git would not accept (or
//! holding control characters) is refused, the pusher's name is stripped of control
//! characters, and the clone URL must be the repository's own on a configured forge, or a
//! local repository the operator listed in `ci.local_repos`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Deserialize;

use crate::backend::queue::contract::{Job, Trigger};
use crate::config::Config;

/// The `after` of a push that deleted its ref.
const DELETED: &str = "0000000000000000000000000000000000000000";
/// The refs that are built: branches and tags.
const BUILT_REFS: [&str; 2] = ["refs/heads/", "refs/tags/"];
/// Longest ref accepted, in bytes: it becomes part of a Redis key and every log line.
const MAX_REF_BYTES: usize = 255;
/// Longest pusher name kept, in characters.
const MAX_PUSHER_CHARS: usize = 100;
/// Longest piece of a refused value quoted back in a reason, in characters.
const MAX_QUOTED_CHARS: usize = 200;

/// What a push asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    Build(PushedCommit),
    /// The ref was deleted: nothing to build.
    Deleted {
        git_ref: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedCommit {
    pub repo: String,
    pub clone_url: String,
    pub git_ref: String,
    pub sha: String,
    pub pusher: String,
}

/// Why a push queues nothing. Reasons quote the caller's values `{:?}`-escaped and cut, so
/// no control character or escape sequence reaches a log or the forge's delivery page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("malformed push payload: {0}")]
    Json(String),
    #[error("malformed push payload: {field} is empty")]
    Empty { field: &'static str },
    #[error("malformed push payload: after {} is not a commit id", quoted(.sha))]
    Sha { sha: String },
    #[error("malformed push payload: pusher has no login, username or name")]
    NoPusher,
    #[error("ref {} is not built: only refs/heads/* and refs/tags/* are", quoted(.git_ref))]
    NotBuilt { git_ref: String },
    #[error("ref {} is not a ref git accepts (control characters, spaces or ~^:?*[\\ are refused)", quoted(.git_ref))]
    BadRef { git_ref: String },
    #[error("repository.full_name {} is not owner/name", quoted(.repo))]
    BadName { repo: String },
    #[error("clone_url {} is refused: {why}", quoted(.url))]
    CloneUrl { url: String, why: &'static str },
}

impl PushError {
    /// A well-formed push asking for what the lab does not build (422), rather than a
    /// payload that could not be read (400).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            PushError::NotBuilt { .. }
                | PushError::BadRef { .. }
                | PushError::BadName { .. }
                | PushError::CloneUrl { .. }
        )
    }
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    repository: Repository,
    pusher: Person,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
    clone_url: String,
}

/// Gitea's pusher is a user (`login`, `username`); GitHub's is `{name, email}`.
#[derive(Deserialize)]
struct Person {
    login: Option<String>,
    username: Option<String>,
    name: Option<String>,
}

/// Reads a push event's body. Unknown fields are ignored: the forges add fields freely.
/// The clone URL is read, not judged: [`Forges::check`] does that.
pub fn parse_push(body: &[u8]) -> Result<Push, PushError> {
    let payload: Payload =
        serde_json::from_slice(body).map_err(|error| PushError::Json(error.to_string()))?;
    non_empty("ref", &payload.git_ref)?;
    check_ref(&payload.git_ref)?;
    if payload.after == DELETED {
        return Ok(Push::Deleted {
            git_ref: payload.git_ref,
        });
    }
    if !is_commit_id(&payload.after) {
        return Err(PushError::Sha { sha: payload.after });
    }
    non_empty("repository.full_name", &payload.repository.full_name)?;
    if !is_full_name(&payload.repository.full_name) {
        return Err(PushError::BadName {
            repo: payload.repository.full_name,
        });
    }
    non_empty("repository.clone_url", &payload.repository.clone_url)?;
    let pusher = [
        payload.pusher.login,
        payload.pusher.username,
        payload.pusher.name,
    ]
    .into_iter()
    .flatten()
    .map(|name| plain_text(&name, MAX_PUSHER_CHARS))
    .find(|name| !name.trim().is_empty())
    .ok_or(PushError::NoPusher)?;
    Ok(Push::Build(PushedCommit {
        repo: payload.repository.full_name,
        clone_url: payload.repository.clone_url,
        git_ref: payload.git_ref,
        sha: payload.after,
        pusher,
    }))
}

fn non_empty(field: &'static str, value: &str) -> Result<(), PushError> {
    if value.trim().is_empty() {
        Err(PushError::Empty { field })
    } else {
        Ok(())
    }
}

/// A branch or tag, spelt as git accepts it (git-check-ref-format), printable and short.
fn check_ref(git_ref: &str) -> Result<(), PushError> {
    let refused = || PushError::BadRef {
        git_ref: git_ref.to_string(),
    };
    if git_ref.len() > MAX_REF_BYTES
        || git_ref
            .chars()
            .any(|c| is_unprintable(c) || c == ' ' || "~^:?*[\\".contains(c))
        || git_ref.contains("..")
        || git_ref.contains("@{")
        || git_ref.contains("//")
        || git_ref.contains("/.")
        || git_ref.ends_with('/')
        || git_ref.ends_with('.')
        || git_ref.ends_with(".lock")
    {
        return Err(refused());
    }
    let built = BUILT_REFS.iter().any(|prefix| {
        git_ref
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty())
    });
    if built {
        Ok(())
    } else {
        Err(PushError::NotBuilt {
            git_ref: git_ref.to_string(),
        })
    }
}

/// `owner/name`, each part letters, digits, `.`, `_` or `-` as Gitea and GitHub allow, and
/// never `.` or `..`: safe in a path, a URL and a log line.
pub fn is_full_name(repo: &str) -> bool {
    let part = |part: &str| {
        (1..=100).contains(&part.len())
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
    };
    repo.split_once('/')
        .is_some_and(|(owner, name)| part(owner) && part(name))
}

/// A full commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories).
pub fn is_commit_id(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Control characters (C0, DEL, C1: terminal escapes among them) and the bidirectional
/// overrides that make a terminal show text other than what it holds.
fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Free text from a push with its unprintable characters removed, cut to `max_chars`.
pub fn plain_text(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|&c| !is_unprintable(c))
        .take(max_chars)
        .collect()
}

/// A caller's value for a reason: `{:?}`-escaped and cut.
fn quoted(value: &str) -> String {
    let mut chars = value.chars();
    let kept: String = chars.by_ref().take(MAX_QUOTED_CHARS).collect();
    if chars.next().is_some() {
        format!("{kept:?}…")
    } else {
        format!("{kept:?}")
    }
}

/// Where the clone URL of a push may point: the repository's own URL on Gitea or on GitHub
/// (for the organisations and repositories followed there), or a local repository the
/// operator listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forges {
    /// Gitea's base URLs (`gitea.url`, `gitea.public_url`): any repository on it.
    pub gitea: Vec<String>,
    /// GitHub's web base URL, from `github.api_url`.
    pub github: String,
    /// Owners followed whole on GitHub (`github.orgs`).
    pub github_owners: BTreeSet<String>,
    /// Single repositories followed on GitHub (`github.repos`).
    pub github_repos: BTreeSet<String>,
    /// `owner/name` -> the path of a repository on this machine (`ci.local_repos`).
    pub local: BTreeMap<String, String>,
}

impl Forges {
    pub fn from_config(config: &Config) -> Forges {
        let gitea = [&config.gitea.url, &config.gitea.public_url]
            .into_iter()
            .filter(|url| !url.is_empty())
            .map(|url| url.trim_end_matches('/').to_string())
            .collect();
        Forges {
            gitea,
            github: github_web(&config.github.api_url),
            github_owners: config.github.orgs.iter().cloned().collect(),
            github_repos: config.github.repos.iter().cloned().collect(),
            local: config
                .ci
                .local_repos
                .iter()
                .map(|(repo, path)| (repo.clone(), path.display().to_string()))
                .collect(),
        }
    }

    /// Whether `commit` may be built from its clone URL: `Ok` when the URL is its
    /// repository's own on a configured forge, or its listed local path.
    pub fn check(&self, commit: &PushedCommit) -> Result<(), PushError> {
        let url = commit.clone_url.as_str();
        let repo = commit.repo.as_str();
        let on = |base: &str| {
            url.strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|path| path == repo || path.strip_suffix(".git") == Some(repo))
        };
        let owner = repo.split_once('/').map_or(repo, |(owner, _)| owner);
        let on_github = (self.github_owners.contains(owner) || self.github_repos.contains(repo))
            && !self.github.is_empty()
            && on(&self.github);
        let local = self
            .local
            .get(repo)
            .is_some_and(|path| url == path || url.strip_prefix("file://") == Some(path.as_str()));
        if self.gitea.iter().any(|base| on(base)) || on_github || local {
            return Ok(());
        }
        Err(PushError::CloneUrl {
            url: url.to_string(),
            why: refusal_reason(url),
        })
    }
}

/// Why a clone URL that is on no configured forge is refused, by what it looks like.
fn refusal_reason(url: &str) -> &'static str {
    let scheme_end = url.find(['/', ':']).map(|end| &url[end..]);
    if scheme_end.is_some_and(|rest| rest.starts_with("::")) {
        "git's remote helpers (fd::, ext::) are never cloned"
    } else if url.starts_with("file:") || url.starts_with(['/', '.', '~']) {
        "a local path is cloned only when ci.local_repos lists it for this repository"
    } else {
        "it is not this repository's URL on a configured forge (gitea.url, gitea.public_url, github.orgs, github.repos)"
    }
}

/// GitHub's web base for its API's: `https://api.github.com` -> `https://github.com`,
/// Enterprise's `https://ghe.example/api/v3` -> `https://ghe.example`.
fn github_web(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    match api.strip_suffix("/api/v3") {
        Some(base) => base.to_string(),
        None => api.replacen("://api.", "://", 1),
    }
}

impl PushedCommit {
    pub fn into_job(self, id: String, created_at: Timestamp, timeout_secs: u64) -> Job {
        Job {
            id,
            repo: self.repo,
            clone_url: self.clone_url,
            git_ref: self.git_ref,
            sha: self.sha,
            trigger: Trigger::Push,
            requested_by: self.pusher,
            created_at,
            attempt: 1,
            timeout_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(after: &str, pusher: &str) -> String {
        format!(
            r#"{{"ref":"refs/heads/main","before":"{DELETED}","after":"{after}",
               "repository":{{"full_name":"lab/raibid","clone_url":"http://gitea/lab/raibid.git"}},
               "pusher":{pusher},"commits":[]}}"#
        )
    }

    const SHA: &str = "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e";

    #[test]
    fn a_gitea_pusher_is_named_by_login() {
        let body = payload(
            SHA,
            r#"{"login":"ann","username":"ann2","full_name":"Ann"}"#,
        );
        let Push::Build(commit) = parse_push(body.as_bytes()).unwrap() else {
            panic!("expected a build");
        };
        assert_eq!(
            commit,
            PushedCommit {
                repo: "lab/raibid".into(),
                clone_url: "http://gitea/lab/raibid.git".into(),
                git_ref: "refs/heads/main".into(),
                sha: SHA.into(),
                pusher: "ann".into(),
            }
        );
    }

    #[test]
    fn a_github_pusher_is_named_by_name() {
        let body = payload(SHA, r#"{"name":"bob","email":"bob@example.org"}"#);
        let Push::Build(commit) = parse_push(body.as_bytes()).unwrap() else {
            panic!("expected a build");
        };
        assert_eq!(commit.pusher, "bob");
    }

    #[test]
    fn a_deleted_branch_builds_nothing() {
        let body = payload(DELETED, r#"{"name":"bob"}"#);
        assert_eq!(
            parse_push(body.as_bytes()),
            Ok(Push::Deleted {
                git_ref: "refs/heads/main".into()
            })
        );
    }

    #[test]
    fn malformed_payloads_say_why() {
        assert!(matches!(parse_push(b"{not json"), Err(PushError::Json(_))));
        assert!(matches!(parse_push(b"{}"), Err(PushError::Json(_))));
        let short_sha = payload("abc123", r#"{"name":"bob"}"#);
        assert_eq!(
            parse_push(short_sha.as_bytes()),
            Err(PushError::Sha {
                sha: "abc123".into()
            })
        );
        let nobody = payload(SHA, r#"{"email":"x@example.org"}"#);
        assert_eq!(parse_push(nobody.as_bytes()), Err(PushError::NoPusher));
    }

    #[test]
    fn a_push_becomes_a_first_attempt_push_job() {
        let commit = PushedCommit {
            repo: "lab/raibid".into(),
            clone_url: "http://gitea/lab/raibid.git".into(),
            git_ref: "refs/heads/main".into(),
            sha: SHA.into(),
            pusher: "ann".into(),
        };
        let now: Timestamp = "2026-11-20T09:30:00Z".parse().unwrap();
        let job = commit.into_job("j1".into(), now, 600);
        assert_eq!(job.trigger, Trigger::Push);
        assert_eq!(job.attempt, 1);
        assert_eq!(job.timeout_secs, 600);
        assert_eq!(job.requested_by, "ann");
        assert_eq!(job.created_at, now);
    }

    fn commit(repo: &str, clone_url: &str) -> PushedCommit {
        PushedCommit {
            repo: repo.into(),
            clone_url: clone_url.into(),
            git_ref: "refs/heads/main".into(),
            sha: SHA.into(),
            pusher: "ann".into(),
        }
    }

    fn forges() -> Forges {
        Forges {
            gitea: vec!["http://gitea.lab:3000".into()],
            github: github_web("https://api.github.com/"),
            github_owners: ["acme".to_string()].into(),
            github_repos: ["solo/tool".to_string()].into(),
            local: [("lab/fixture".to_string(), "/srv/git/fixture".to_string())].into(),
        }
    }

    #[test]
    fn only_branches_and_tags_spelt_as_git_accepts_them_are_built() {
        for built in [
            "refs/heads/main",
            "refs/heads/feature/sse-logs",
            "refs/tags/v1.0",
        ] {
            assert_eq!(check_ref(built), Ok(()), "{built}");
        }
        for not_built in ["refs/pull/1/head", "refs/heads", "main", "refs/notes/x"] {
            assert!(
                matches!(check_ref(not_built), Err(PushError::NotBuilt { .. })),
                "{not_built}"
            );
        }
        for bad in [
            "refs/heads/main\nINFO forged",
            "refs/heads/\u{1b}[2Jmain",
            "refs/heads/a b",
            "refs/heads/a..b",
            "refs/heads/",
            "refs/heads/x.lock",
            "refs/heads/\u{202e}niam",
        ] {
            let error = check_ref(bad).unwrap_err();
            assert!(matches!(error, PushError::BadRef { .. }), "{bad:?}");
            assert!(error.is_refusal());
            assert!(!error.to_string().chars().any(is_unprintable), "{error}");
        }
    }

    #[test]
    fn names_are_owner_slash_name_and_pushers_are_plain_text() {
        assert!(is_full_name("raibid-labs/raibid.rs"));
        for bad in ["raibid", "a/b/c", "../etc", "a/..", "a/b\n", "/b", "a/"] {
            assert!(!is_full_name(bad), "{bad:?}");
        }
        assert_eq!(plain_text("ann\u{1b}[31m\r\n", 100), "ann[31m");
        let body = payload(SHA, r#"{"login":"\u001b]0;owned\u0007","name":"bob"}"#);
        let Push::Build(commit) = parse_push(body.as_bytes()).unwrap() else {
            panic!("expected a build");
        };
        assert_eq!(commit.pusher, "]0;owned");
    }

    #[test]
    fn clone_urls_must_be_the_repositorys_own_on_a_configured_forge() {
        let forges = forges();
        for (repo, url) in [
            ("lab/raibid", "http://gitea.lab:3000/lab/raibid.git"),
            ("lab/raibid", "http://gitea.lab:3000/lab/raibid"),
            ("acme/web", "https://github.com/acme/web.git"),
            ("solo/tool", "https://github.com/solo/tool.git"),
            ("lab/fixture", "/srv/git/fixture"),
            ("lab/fixture", "file:///srv/git/fixture"),
        ] {
            assert_eq!(forges.check(&commit(repo, url)), Ok(()), "{url}");
        }
        for (repo, url, why) in [
            ("lab/raibid", "file:///etc", "local path"),
            ("lab/raibid", "/etc", "local path"),
            ("lab/raibid", "fd::0", "remote helpers"),
            ("lab/raibid", "ext::sh -c id", "remote helpers"),
            (
                "lab/raibid",
                "https://evil.example/lab/raibid.git",
                "configured forge",
            ),
            (
                "lab/raibid",
                "http://gitea.lab:3000.evil.example/lab/raibid.git",
                "configured forge",
            ),
            (
                "lab/raibid",
                "http://gitea.lab:3000/lab/other.git",
                "configured forge",
            ),
            (
                "other/web",
                "https://github.com/other/web.git",
                "configured forge",
            ),
            ("lab/other", "/srv/git/fixture", "local path"),
        ] {
            let error = forges.check(&commit(repo, url)).unwrap_err();
            assert!(error.is_refusal());
            assert!(error.to_string().contains(why), "{url}: {error}");
        }
    }

    #[test]
    fn github_enterprise_is_served_at_its_api_host() {
        assert_eq!(
            github_web("https://ghe.example/api/v3"),
            "https://ghe.example"
        );
    }
}
