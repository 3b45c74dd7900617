//! `POST /webhooks/github-sync`: a GitHub push webhook that makes Gitea pull the pushed
//! repository's mirror now instead of at its next interval. Gitea's own push webhook
//! (`/webhooks/gitea`) then queues the build as for any push.
//!
//! The signature (`X-Hub-Signature-256`, keyed with `server.github_webhook_secret`) is
//! checked over the raw body before anything is read or sent.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::ServerState;
use super::error::ApiError;
use super::push::is_full_name;
use super::signature::{GITHUB_SIGNATURE, verify_github};
use crate::backend::mirror::MirrorError;

const EVENT: &str = "X-GitHub-Event";

/// The one field read from a push.
#[derive(Deserialize)]
struct Push {
    repository: Repository,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

pub async fn github_sync(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match handle(&state, &headers, body).await {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn handle(
    state: &ServerState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let secret = state
        .github_secret
        .as_deref()
        .ok_or_else(|| ApiError::unavailable("webhook secret not configured"))?;
    let body = body.map_err(ApiError::from)?;
    verify_github(secret, &body, header(headers, GITHUB_SIGNATURE)).map_err(|error| {
        tracing::warn!(%error, "github-sync webhook refused");
        ApiError::unauthorized(error.to_string())
    })?;
    let event = header(headers, EVENT)
        .ok_or_else(|| ApiError::bad_request(format!("missing {EVENT} header")))?;
    match event {
        "push" => {}
        "ping" => return Ok((StatusCode::OK, json!({ "synced": false, "reason": "ping" }))),
        other => {
            let reason = format!("event {other:?} is not synced, only push");
            return Ok((
                StatusCode::ACCEPTED,
                json!({ "synced": false, "reason": reason }),
            ));
        }
    }
    let push: Push = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("malformed push payload: {error}")))?;
    let repo = push.repository.full_name.trim();
    // Checked as strictly as a build's push: the name reaches Gitea's API and the log.
    if !is_full_name(repo) {
        return Err(ApiError::bad_request(
            "malformed push payload: repository.full_name is not owner/name",
        ));
    }
    let mirrors = state
        .mirrors
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("gitea.url or gitea.token not configured"))?;
    match mirrors.sync_github(repo).await {
        Ok(mirror) => {
            tracing::info!(github = repo, %mirror, "mirror sync requested");
            Ok((
                StatusCode::ACCEPTED,
                json!({ "synced": true, "mirror": mirror }),
            ))
        }
        Err(MirrorError::NotFound { .. }) => Err(ApiError::not_found(format!(
            "no mirror of {repo} in {}",
            mirrors.org()
        ))),
        Err(error) => {
            tracing::error!(github = repo, %error, "mirror sync failed");
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("Gitea did not sync the mirror of {repo}"),
            ))
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}
