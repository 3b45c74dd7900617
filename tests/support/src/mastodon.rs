//! A local stand-in for Mastodon's statuses API, answering with Mastodon's `Status`
//! entity: `POST /api/v1/statuses` (a JSON body with `status`, `visibility`) honouring
//! `Idempotency-Key` (a key seen before answers the status it made, not a new one) and
//! `PUT /api/v1/statuses/{id}` (edits the text in place, sets `edited_at`; 404
//! `Record not found` for an unknown id). A blank text, more than 500 characters or an
//! unknown visibility is 422 `{"error": "Validation failed: ..."}`.
//!
//! Every request needs `Authorization: Bearer <token>` (else 401 `The access token is
//! invalid`) and is recorded. Switches: [`FakeMastodon::rate_limit`] (429 with
//! `X-RateLimit-*` headers, the reset an ISO 8601 time, as Mastodon sends them) and
//! [`FakeMastodon::fail_after_accept`] (the status is stored, key and all, then 500).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::serve::{Listener, Received, Server};

pub const TOKEN: &str = "mastodon-T0ken-ZmFrZS1mb3ItdGVzdHM";
pub const ACCOUNT: &str = "sparky";

#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeStatus {
    pub id: String,
    pub text: String,
    pub visibility: String,
    pub edited: bool,
}

#[derive(Default)]
struct Inner {
    statuses: BTreeMap<u64, FakeStatus>,
    next_id: u64,
    /// Idempotency-Key -> status id.
    keys: HashMap<String, u64>,
    requests: Vec<Recorded>,
    rate_limited: bool,
    fail_after_accept: bool,
}

#[derive(Clone)]
struct Fake {
    url: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct FakeMastodon {
    fake: Fake,
    server: Server,
}

impl FakeMastodon {
    pub async fn start() -> FakeMastodon {
        let listener = Listener::bind();
        let fake = Fake {
            url: listener.url(),
            inner: Arc::new(Mutex::new(Inner {
                next_id: 113_500_000_000_000_001,
                ..Inner::default()
            })),
        };
        let server = listener.serve(Router::new().fallback(handle).with_state(fake.clone()));
        FakeMastodon { fake, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn rate_limit(&self, on: bool) {
        self.fake.inner.lock().unwrap().rate_limited = on;
    }

    pub fn fail_after_accept(&self, on: bool) {
        self.fake.inner.lock().unwrap().fail_after_accept = on;
    }

    /// The account's statuses, oldest first.
    pub fn statuses(&self) -> Vec<FakeStatus> {
        self.fake
            .inner
            .lock()
            .unwrap()
            .statuses
            .values()
            .cloned()
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.fake.inner.lock().unwrap().requests.clone()
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Mastodon's `Status` entity (the usual fields).
fn entity(fake: &Fake, id: u64, status: &FakeStatus) -> Value {
    json!({
        "id": id.to_string(),
        "created_at": "2026-11-20T09:30:00.000Z",
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": status.visibility,
        "language": "en",
        "uri": format!("{}/users/{ACCOUNT}/statuses/{id}", fake.url),
        "url": format!("{}/@{ACCOUNT}/{id}", fake.url),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": if status.edited { json!("2026-11-20T10:00:00.000Z") } else { Value::Null },
        "content": format!("<p>{}</p>", escape(&status.text)),
        "reblog": null,
        "account": { "id": "1", "username": ACCOUNT, "acct": ACCOUNT },
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null,
    })
}

/// Mastodon's validations of a status: the error is the 422's message.
fn validate(text: &str, visibility: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("Validation failed: Text can't be blank".into());
    }
    if text.chars().count() > 500 {
        return Err("Validation failed: Text character limit of 500 exceeded".into());
    }
    if !["public", "unlisted", "private", "direct"].contains(&visibility) {
        return Err("Validation failed: Visibility is not included in the list".into());
    }
    Ok(())
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let request = Received::read(request).await;
    let body = &request.body;
    let idempotency_key = request.header("idempotency-key");
    let mut inner = fake.inner.lock().unwrap();
    inner.requests.push(Recorded {
        method: request.method.to_string(),
        path: request.uri.path().to_string(),
        idempotency_key: idempotency_key.clone(),
        body: body.clone(),
    });
    if request.header("authorization") != Some(format!("Bearer {TOKEN}")) {
        return error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    }
    if inner.rate_limited {
        let reset = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(300);
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", "300".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert(
            "x-ratelimit-reset",
            reset
                .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string()
                .parse()
                .unwrap(),
        );
        return response;
    }
    let text = body["status"].as_str().unwrap_or_default().to_string();
    let (code, id) = match (&request.method, request.segments().as_slice()) {
        (&Method::POST, ["api", "v1", "statuses"]) => {
            if let Some(id) = idempotency_key
                .as_ref()
                .and_then(|key| inner.keys.get(key).copied())
            {
                let status = inner.statuses[&id].clone();
                return (StatusCode::OK, axum::Json(entity(&fake, id, &status))).into_response();
            }
            let visibility = body["visibility"].as_str().unwrap_or("public").to_string();
            if let Err(message) = validate(&text, &visibility) {
                return error(StatusCode::UNPROCESSABLE_ENTITY, &message);
            }
            let id = inner.next_id;
            inner.next_id += 1;
            inner.statuses.insert(
                id,
                FakeStatus {
                    id: id.to_string(),
                    text,
                    visibility,
                    edited: false,
                },
            );
            if let Some(key) = idempotency_key {
                inner.keys.insert(key, id);
            }
            (StatusCode::OK, id)
        }
        (&Method::PUT, ["api", "v1", "statuses", id]) => {
            let Some(id) = id
                .parse::<u64>()
                .ok()
                .filter(|id| inner.statuses.contains_key(id))
            else {
                return error(StatusCode::NOT_FOUND, "Record not found");
            };
            let visibility = inner.statuses[&id].visibility.clone();
            if let Err(message) = validate(&text, &visibility) {
                return error(StatusCode::UNPROCESSABLE_ENTITY, &message);
            }
            if let Some(status) = inner.statuses.get_mut(&id) {
                status.text = text;
                status.edited = true;
            }
            (StatusCode::OK, id)
        }
        _ => return error(StatusCode::NOT_FOUND, "Not Found"),
    };
    if inner.fail_after_accept {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "We're sorry, but something went wrong on our end.",
        );
    }
    let status = inner.statuses[&id].clone();
    (code, axum::Json(entity(&fake, id, &status))).into_response()
}
