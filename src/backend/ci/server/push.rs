//! Push payloads of Gitea and GitHub, read into the few facts a build needs. Both forges
//! send the same shape for these fields (Gitea copied GitHub's), so one reader serves both.

use jiff::Timestamp;
use serde::Deserialize;

use crate::backend::queue::contract::{Job, Trigger};

/// The `after` of a push that deleted its ref.
const DELETED: &str = "0000000000000000000000000000000000000000";

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("malformed push payload: {0}")]
    Json(String),
    #[error("malformed push payload: {field} is empty")]
    Empty { field: &'static str },
    #[error("malformed push payload: after {sha:?} is not a commit id")]
    Sha { sha: String },
    #[error("malformed push payload: pusher has no login, username or name")]
    NoPusher,
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
pub fn parse_push(body: &[u8]) -> Result<Push, PushError> {
    let payload: Payload =
        serde_json::from_slice(body).map_err(|error| PushError::Json(error.to_string()))?;
    non_empty("ref", &payload.git_ref)?;
    if payload.after == DELETED {
        return Ok(Push::Deleted {
            git_ref: payload.git_ref,
        });
    }
    if !is_commit_id(&payload.after) {
        return Err(PushError::Sha { sha: payload.after });
    }
    non_empty("repository.full_name", &payload.repository.full_name)?;
    non_empty("repository.clone_url", &payload.repository.clone_url)?;
    let pusher = [
        payload.pusher.login,
        payload.pusher.username,
        payload.pusher.name,
    ]
    .into_iter()
    .flatten()
    .find(|name| !name.is_empty())
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

/// A full commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories).
pub fn is_commit_id(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|byte| byte.is_ascii_hexdigit())
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
}
