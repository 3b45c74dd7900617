//! Every error the server answers with: a status and a reason, sent as `{"error": reason}`.
//! Reasons are written here or come from parsing the caller's own input; none carries a
//! secret or a Redis address.

use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::backend::queue::QueueError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
    /// Redis refused a write: counted apart in the metrics.
    pub queue_full: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> ApiError {
        ApiError {
            status,
            reason: reason.into(),
            queue_full: false,
        }
    }

    pub fn bad_request(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, reason)
    }

    pub fn unauthorized(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, reason)
    }

    pub fn not_found(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, reason)
    }

    pub fn unavailable(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, reason)
    }

    pub fn no_job(id: &str) -> ApiError {
        ApiError::not_found(format!("no job {id:?}"))
    }

    /// The queue failed: logged in full here, answered without Redis' details. A Redis
    /// that refuses writes is told apart, as waiting for a reconnect will not help.
    pub fn queue(action: &str, error: &QueueError) -> ApiError {
        tracing::error!(%error, "queue failed to {action}");
        if error.writes_refused() {
            return ApiError {
                queue_full: true,
                ..ApiError::unavailable(format!(
                    "queue full: Redis refuses writes (out of memory or read-only), could \
                     not {action}; try again later"
                ))
            };
        }
        ApiError::unavailable(format!("queue unavailable: could not {action}"))
    }
}

/// Marks a response that answers a write Redis refused, for the request counter.
#[derive(Debug, Clone, Copy)]
pub struct QueueFull;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let full = self.queue_full;
        let mut response = (self.status, Json(json!({ "error": self.reason }))).into_response();
        if full {
            response.extensions_mut().insert(QueueFull);
        }
        response
    }
}

/// A body that could not be read: too large (413) or cut off (400).
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}
