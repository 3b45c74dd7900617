//! `POST /webhooks/gitea` and `POST /webhooks/github`: verify the signature over the raw
//! body first, then read the event and hold the push against what the lab builds
//! (push.rs), then queue one job per delivery id and per push within the replay window.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ServerState;
use super::error::ApiError;
use super::metrics::{Outcome, Source};
use super::push::{Push, PushError, parse_push};
use super::signature::{GITEA_SIGNATURE, GITHUB_SIGNATURE, verify_gitea, verify_github};
use crate::backend::queue;

/// The headers each forge sends its event name and delivery id in.
struct Headers {
    event: &'static str,
    delivery: &'static str,
}

impl Source {
    fn headers(self) -> Headers {
        match self {
            Source::Gitea => Headers {
                event: "X-Gitea-Event",
                delivery: "X-Gitea-Delivery",
            },
            Source::Github => Headers {
                event: "X-GitHub-Event",
                delivery: "X-GitHub-Delivery",
            },
        }
    }
}

pub async fn gitea(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    delivered(&state, Source::Gitea, &headers, body).await
}

pub async fn github(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    delivered(&state, Source::Github, &headers, body).await
}

async fn delivered(
    state: &ServerState,
    source: Source,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (outcome, response) = match handle(state, source, headers, body).await {
        Ok(answer) => (answer.outcome, answer.into_response()),
        Err((outcome, error)) => (outcome, error.into_response()),
    };
    state.metrics.webhook(source, outcome);
    response
}

/// A delivery that was verified and understood.
struct Answer {
    outcome: Outcome,
    status: StatusCode,
    body: serde_json::Value,
}

impl Answer {
    fn ignored(status: StatusCode, reason: String) -> Answer {
        Answer {
            outcome: Outcome::Ignored,
            status,
            body: json!({ "queued": false, "reason": reason }),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

async fn handle(
    state: &ServerState,
    source: Source,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Answer, (Outcome, ApiError)> {
    let secret = match source {
        Source::Gitea => state.gitea_secret.as_deref(),
        Source::Github => state.github_secret.as_deref(),
    }
    .ok_or_else(|| {
        let error = ApiError::unavailable("webhook secret not configured");
        (Outcome::Unconfigured, error)
    })?;
    let body = body.map_err(|rejection| (Outcome::BadRequest, ApiError::from(rejection)))?;
    let verified = match source {
        Source::Gitea => verify_gitea(secret, &body, header(headers, GITEA_SIGNATURE)),
        Source::Github => verify_github(secret, &body, header(headers, GITHUB_SIGNATURE)),
    };
    verified.map_err(|error| {
        tracing::warn!(source = source.as_str(), %error, "webhook refused");
        (
            Outcome::Unauthorized,
            ApiError::unauthorized(error.to_string()),
        )
    })?;

    let names = source.headers();
    let bad_request = |reason: String| (Outcome::BadRequest, ApiError::bad_request(reason));
    let event = header(headers, names.event)
        .ok_or_else(|| bad_request(format!("missing {} header", names.event)))?;
    match event {
        "push" => {}
        "ping" => return Ok(Answer::ignored(StatusCode::OK, "ping".into())),
        other => {
            let reason = format!("event {other:?} is not built, only push");
            return Ok(Answer::ignored(StatusCode::ACCEPTED, reason));
        }
    }
    let delivery = header(headers, names.delivery)
        .filter(|id| is_delivery_id(id))
        .ok_or_else(|| {
            bad_request(format!(
                "missing or malformed {} header (expected a UUID)",
                names.delivery
            ))
        })?;
    let refused = |error: PushError| {
        if error.is_refusal() {
            tracing::warn!(source = source.as_str(), delivery, %error, "push refused");
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            (Outcome::Refused, ApiError::new(status, error.to_string()))
        } else {
            bad_request(error.to_string())
        }
    };
    let commit = match parse_push(&body).map_err(refused)? {
        Push::Build(commit) => commit,
        Push::Deleted { git_ref } => {
            let reason = format!("{git_ref} was deleted");
            return Ok(Answer::ignored(StatusCode::ACCEPTED, reason));
        }
    };
    state.forges.check(&commit).map_err(refused)?;

    let job = commit.into_job(
        queue::new_job_id(),
        jiff::Timestamp::now(),
        state.job_timeout_secs,
    );
    let delivery_key = format!("{}:{delivery}", source.as_str());
    let enqueued = state
        .queue
        .enqueue_push(&delivery_key, source.as_str(), &job)
        .await
        .map_err(|error| (Outcome::Failed, ApiError::queue("queue the push", &error)))?;
    let (earlier, why) = match enqueued {
        queue::Enqueued::Queued => {
            tracing::info!(source = source.as_str(), delivery, job = %job.id, repo = %job.repo, git_ref = %job.git_ref, sha = %job.sha, "push queued");
            return Ok(Answer {
                outcome: Outcome::Queued,
                status: StatusCode::ACCEPTED,
                body: json!({ "queued": true, "job": job.id }),
            });
        }
        queue::Enqueued::Redelivered(earlier) => (earlier, "duplicate delivery"),
        queue::Enqueued::Replayed(earlier) => (earlier, "the same push"),
    };
    tracing::info!(source = source.as_str(), delivery, job = %earlier, "{why}: nothing queued");
    Ok(Answer {
        outcome: Outcome::Duplicate,
        status: StatusCode::ACCEPTED,
        body: json!({
            "queued": false,
            "job": earlier,
            "reason": format!("{why}: already queued as job {earlier}"),
        }),
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// Delivery ids are UUIDs; anything short and plain is accepted so a forge that changes its
/// format still works, but a delivery id never becomes an unbounded Redis key.
fn is_delivery_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_are_short_and_plain() {
        assert!(is_delivery_id("f6266f16-1bf3-46a5-9ea4-602e06ead473"));
        assert!(!is_delivery_id(""));
        assert!(!is_delivery_id("a:b"));
        assert!(!is_delivery_id(&"a".repeat(65)));
    }
}
