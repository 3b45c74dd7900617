//! Commit statuses in Gitea: `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` with
//! Gitea's `CreateStatusOption`. One context, `raibid/ci`, so a later status of the same
//! commit replaces the earlier one; that makes the request idempotent and safe to retry.
//!
//! Reporting is best effort: a Gitea that is down or refuses must not fail a build, so
//! [`StatusReporter`] logs what went wrong and carries on.

use std::time::Duration;

use reqwest::{Method, Url};
use serde::Serialize;

use super::{Gitea, GiteaError};
use crate::backend::queue::contract::{Job, JobState};
use crate::config::GiteaConfig;

/// The status context raibid's statuses share.
pub const CONTEXT: &str = "raibid/ci";
/// GitHub cuts descriptions at 140 characters; Gitea shows them in the same narrow place.
const MAX_DESCRIPTION_CHARS: usize = 140;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Gitea's commit status states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommitState {
    Pending,
    Success,
    Error,
    Failure,
    Warning,
}

impl CommitState {
    /// `failure` is a verdict on the commit: a step failed or the build ran past its time
    /// limit. `error` means CI gave no verdict: the clone failed, the job was cancelled or
    /// given up on. Queued and running jobs are `pending`.
    pub fn of(state: JobState) -> CommitState {
        match state {
            JobState::Queued | JobState::Running => CommitState::Pending,
            JobState::Success => CommitState::Success,
            JobState::Failure | JobState::TimedOut => CommitState::Failure,
            JobState::Cancelled | JobState::Error | JobState::Dead => CommitState::Error,
        }
    }
}

/// The request body (Gitea's `CreateStatusOption`, without `target_url`: raibid has no
/// public address to point at yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateStatus {
    pub state: CommitState,
    pub description: String,
    pub context: String,
}

impl CreateStatus {
    pub fn new(state: CommitState, description: &str) -> CreateStatus {
        CreateStatus {
            state,
            description: description.chars().take(MAX_DESCRIPTION_CHARS).collect(),
            context: CONTEXT.to_string(),
        }
    }
}

impl Gitea {
    /// Sets the status of `sha` in `repo` (`owner/name`); retried once when Gitea could
    /// not be reached.
    pub async fn create_status(
        &self,
        repo: &str,
        sha: &str,
        status: &CreateStatus,
    ) -> Result<(), GiteaError> {
        let url = self.status_url(repo, sha)?;
        let action = format!("set the status of {sha} in {repo}");
        let build = || {
            self.request(Method::POST, url.clone())
                .timeout(REQUEST_TIMEOUT)
                .json(status)
        };
        self.expect_success(&action, build, true).await
    }

    fn status_url(&self, repo: &str, sha: &str) -> Result<Url, GiteaError> {
        let invalid = || GiteaError::InvalidRepo {
            repo: repo.to_string(),
        };
        let (owner, name) = repo.split_once('/').ok_or_else(invalid)?;
        if owner.is_empty() || name.is_empty() || name.contains('/') {
            return Err(invalid());
        }
        Ok(self.url(&["repos", owner, name, "statuses", sha]))
    }
}

/// Reports jobs' statuses when Gitea is configured, and otherwise does nothing.
#[derive(Debug, Clone, Default)]
pub struct StatusReporter {
    gitea: Option<Gitea>,
}

impl StatusReporter {
    /// Enabled when `gitea.url` is set and `gitea.token` holds a value; a broken setting
    /// is logged and disables reporting rather than stopping the agent.
    pub fn from_config(config: &GiteaConfig) -> StatusReporter {
        if config.url.is_empty() {
            return StatusReporter::default();
        }
        let gitea = match config.token.reveal() {
            Ok(Some(token)) => Gitea::new(&config.url, token).map(Some),
            Ok(None) => Ok(None),
            Err(error) => {
                tracing::warn!(%error, "could not read gitea.token: commit statuses are not reported");
                return StatusReporter::default();
            }
        };
        match gitea {
            Ok(None) => {
                tracing::warn!(token = %config.token.status(), "gitea.token is not set: commit statuses are not reported");
                StatusReporter::default()
            }
            Ok(gitea) => StatusReporter { gitea },
            Err(error) => {
                tracing::warn!(%error, "commit statuses are not reported");
                StatusReporter::default()
            }
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.gitea.is_some()
    }

    /// Sets the job's commit status; a failure is logged, never returned.
    pub async fn report(&self, job: &Job, state: CommitState, description: &str) {
        let Some(gitea) = &self.gitea else { return };
        let status = CreateStatus::new(state, description);
        if let Err(error) = gitea.create_status(&job.repo, &job.sha, &status).await {
            tracing::warn!(job = %job.id, repo = %job.repo, %error, "could not report the commit status to Gitea");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_url_encodes_segments_and_keeps_a_base_path() {
        let gitea = Gitea::new("http://gitea.local/sub/", "t".into()).unwrap();
        let url = gitea.status_url("o/r e", "abc").unwrap();
        assert_eq!(
            url.as_str(),
            "http://gitea.local/sub/api/v1/repos/o/r%20e/statuses/abc"
        );
        for bad in ["noslash", "/r", "o/", "o/r/x"] {
            assert!(gitea.status_url(bad, "abc").is_err(), "{bad}");
        }
        assert!(Gitea::new("not a url", "t".into()).is_err());
    }

    #[test]
    fn states_map_to_gitea() {
        assert_eq!(CommitState::of(JobState::Success), CommitState::Success);
        assert_eq!(CommitState::of(JobState::TimedOut), CommitState::Failure);
        assert_eq!(CommitState::of(JobState::Cancelled), CommitState::Error);
        let long = CreateStatus::new(CommitState::Failure, &"é".repeat(300));
        assert_eq!(long.description.chars().count(), 140);
    }
}
