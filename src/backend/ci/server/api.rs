//! The job API behind the bearer token: trigger, list, show, cancel, retry, agents, queue
//! numbers and metrics; and the health probes in front of it.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::ServerState;
use super::error::ApiError;
use super::push::is_commit_id;
use crate::backend::queue::contract::{Job, JobState, Trigger};
use crate::backend::queue::{self, CancelOutcome, JobFilter, QueueError};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// The largest `offset` taken: far past any index the retention keeps, and far from where
/// Redis' 64-bit ranges would overflow.
pub const MAX_OFFSET: usize = 1_000_000;
/// Who a job was requested by when the caller does not say.
const ANONYMOUS: &str = "api";
/// How long `/readyz` and `/metrics` wait for Redis before calling it down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// `POST /jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    pub repo: String,
    pub clone_url: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    pub requested_by: Option<String>,
}

impl NewJob {
    /// The job, or why the request cannot become one.
    pub fn into_job(self, id: String, timeout_secs: u64) -> Result<Job, String> {
        for (field, value) in [
            ("repo", &self.repo),
            ("clone_url", &self.clone_url),
            ("ref", &self.git_ref),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{field} is empty"));
            }
        }
        if !is_commit_id(&self.sha) {
            return Err(format!(
                "sha {:?} is not a full commit id (40 or 64 hex digits)",
                self.sha
            ));
        }
        Ok(Job {
            id,
            repo: self.repo,
            clone_url: self.clone_url,
            git_ref: self.git_ref,
            sha: self.sha,
            trigger: Trigger::Manual,
            requested_by: requester(self.requested_by),
            created_at: jiff::Timestamp::now(),
            attempt: 1,
            timeout_secs,
        })
    }
}

fn requester(name: Option<String>) -> String {
    name.filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| ANONYMOUS.to_string())
}

pub async fn create_job(
    State(state): State<Arc<ServerState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: NewJob = json_body(&body?)?;
    let job = request
        .into_job(queue::new_job_id(), state.job_timeout_secs)
        .map_err(ApiError::bad_request)?;
    state
        .queue
        .enqueue(&job)
        .await
        .map_err(|error| ApiError::queue("queue the job", &error))?;
    tracing::info!(job = %job.id, repo = %job.repo, by = %job.requested_by, "job triggered");
    Ok((StatusCode::CREATED, Json(job)).into_response())
}

/// `GET /jobs` query. The numbers are read as text, so that one out of range is refused
/// by name rather than by serde's words.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub state: Option<JobState>,
    pub repo: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

pub async fn list_jobs(
    State(state): State<Arc<ServerState>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let offset = whole_number("offset", query.offset.as_deref(), 0, MAX_OFFSET)?;
    // A larger limit is capped rather than refused: asking for "all" is fair.
    let limit =
        whole_number("limit", query.limit.as_deref(), DEFAULT_LIMIT, usize::MAX)?.min(MAX_LIMIT);
    let filter = JobFilter {
        state: query.state,
        repo: query.repo.filter(|repo| !repo.is_empty()),
    };
    let jobs = state
        .queue
        .jobs(&filter, offset, limit)
        .await
        .map_err(|error| ApiError::queue("list jobs", &error))?;
    Ok(Json(json!({ "jobs": jobs, "offset": offset, "limit": limit })).into_response())
}

pub async fn get_job(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = state
        .queue
        .job(&id)
        .await
        .map_err(|error| ApiError::queue("read the job", &error))?
        .ok_or_else(|| ApiError::no_job(&id))?;
    Ok(Json(record).into_response())
}

pub async fn cancel_job(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let outcome = state.queue.cancel(&id).await.map_err(|error| match error {
        QueueError::NotFound { .. } => ApiError::no_job(&id),
        error => ApiError::queue("cancel the job", &error),
    })?;
    let body = match outcome {
        CancelOutcome::Cancelled => json!({ "job": id, "outcome": "cancelled" }),
        CancelOutcome::Requested => json!({ "job": id, "outcome": "requested" }),
        CancelOutcome::AlreadyFinal(final_state) => {
            json!({ "job": id, "outcome": "already_final", "state": final_state })
        }
    };
    tracing::info!(job = %id, outcome = %body["outcome"], "cancel");
    Ok(Json(body).into_response())
}

/// `POST /jobs/{id}/retry`: an optional body names who asked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    pub requested_by: Option<String>,
}

pub async fn retry_job(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let request: RetryRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetryRequest::default()
    } else {
        json_body(&body)?
    };
    let requested_by = requester(request.requested_by);
    let job = state
        .queue
        .retry(&id, &requested_by)
        .await
        .map_err(|error| match error {
            QueueError::NotFound { .. } => ApiError::no_job(&id),
            QueueError::NotFinal { state, .. } => ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "job {id:?} is {}: only a finished job can be retried",
                    state.as_str()
                ),
            ),
            error => ApiError::queue("retry the job", &error),
        })?;
    tracing::info!(job = %id, retry = %job.id, attempt = job.attempt, "retry queued");
    Ok((StatusCode::CREATED, Json(job)).into_response())
}

pub async fn agents(State(state): State<Arc<ServerState>>) -> Result<Response, ApiError> {
    let agents = state
        .queue
        .agents()
        .await
        .map_err(|error| ApiError::queue("list agents", &error))?;
    Ok(Json(agents).into_response())
}

pub async fn queue_stats(State(state): State<Arc<ServerState>>) -> Result<Response, ApiError> {
    let stats = state
        .queue
        .stats()
        .await
        .map_err(|error| ApiError::queue("read the queue's numbers", &error))?;
    Ok(Json(stats).into_response())
}

pub async fn metrics(State(state): State<Arc<ServerState>>) -> Response {
    let queue = tokio::time::timeout(PROBE_TIMEOUT, async {
        let stats = state.queue.stats().await?;
        let agents = state.queue.agents().await?;
        Ok::<_, QueueError>((stats, agents.len()))
    })
    .await;
    let queue = match queue {
        Ok(Ok(numbers)) => Some(numbers),
        Ok(Err(error)) => {
            tracing::warn!(%error, "metrics without queue numbers");
            None
        }
        Err(_) => {
            tracing::warn!("metrics without queue numbers: Redis did not answer in time");
            None
        }
    };
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        state.metrics.render(queue),
    )
        .into_response()
}

pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Ready when Redis takes a write: a server that cannot queue should get no traffic, and
/// a Redis at its memory limit still answers reads.
pub async fn readyz(State(state): State<Arc<ServerState>>) -> Result<Response, ApiError> {
    match tokio::time::timeout(PROBE_TIMEOUT, state.queue.probe_write()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready" })).into_response()),
        Ok(Err(error)) if error.writes_refused() => {
            tracing::warn!(%error, "not ready");
            Err(ApiError::unavailable(
                "queue full: Redis refuses writes (out of memory or read-only)",
            ))
        }
        Ok(Err(error)) => Err(ApiError::queue("reach Redis", &error)),
        Err(_) => Err(ApiError::unavailable(
            "queue unavailable: Redis did not answer in time",
        )),
    }
}

/// Unknown paths, counted under one label so scanners cannot grow the metrics.
pub async fn not_found(State(state): State<Arc<ServerState>>) -> ApiError {
    state
        .metrics
        .request("unmatched", StatusCode::NOT_FOUND.as_u16());
    ApiError::not_found("no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

/// A query parameter that is a whole number from 0 to `max`, `default` when absent; the
/// error names the parameter and the range.
fn whole_number(
    name: &str,
    value: Option<&str>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .parse::<usize>()
        .ok()
        .filter(|number| *number <= max)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "query parameter {name}: {value:?} is not a whole number from 0 to {max}"
            ))
        })
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("malformed JSON body: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job(sha: &str, requested_by: Option<&str>) -> NewJob {
        NewJob {
            repo: "lab/raibid".into(),
            clone_url: "/srv/git/raibid".into(),
            git_ref: "refs/heads/main".into(),
            sha: sha.into(),
            requested_by: requested_by.map(String::from),
        }
    }

    const SHA: &str = "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e";

    #[test]
    fn a_manual_job_names_its_requester_or_the_api() {
        let job = new_job(SHA, Some("ann")).into_job("j1".into(), 60).unwrap();
        assert_eq!(job.trigger, Trigger::Manual);
        assert_eq!(job.requested_by, "ann");
        assert_eq!(job.attempt, 1);
        let job = new_job(SHA, Some(" ")).into_job("j2".into(), 60).unwrap();
        assert_eq!(job.requested_by, ANONYMOUS);
    }

    #[test]
    fn query_numbers_are_range_checked_by_name() {
        assert_eq!(whole_number("offset", None, 7, 10), Ok(7));
        assert_eq!(whole_number("offset", Some("10"), 0, 10), Ok(10));
        for bad in ["11", "-1", "1.5", "", "abc", "18446744073709551616"] {
            let error = whole_number("offset", Some(bad), 0, 10).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                error.reason.starts_with("query parameter offset:"),
                "{}",
                error.reason
            );
        }
    }

    #[test]
    fn a_manual_job_needs_a_full_sha_and_its_fields() {
        let error = new_job("main", None).into_job("j".into(), 60).unwrap_err();
        assert!(error.contains("not a full commit id"), "{error}");
        let mut empty_repo = new_job(SHA, None);
        empty_repo.repo = String::new();
        assert_eq!(
            empty_repo.into_job("j".into(), 60).unwrap_err(),
            "repo is empty"
        );
    }
}
