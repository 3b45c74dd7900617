//! A local stand-in for a Bluesky PDS's XRPC methods, answering as the atproto PDS does:
//!
//! - `com.atproto.server.createSession` `{identifier, password}` (the handle or DID and
//!   the app password) -> `{did, handle, accessJwt, refreshJwt, active}`; a wrong pair is
//!   401 `AuthenticationRequired`.
//! - `com.atproto.server.refreshSession` with the refresh token as bearer -> a new pair;
//!   the old refresh token is revoked. Unknown is 400 `InvalidToken`, expired 400
//!   `ExpiredToken`.
//! - `com.atproto.repo.putRecord` `{repo, collection, rkey, record}` with the access token
//!   as bearer: creates or replaces the record (an upsert) and answers `{uri, cid,
//!   commit, validationStatus}`. Posts are validated like the lexicon says: a TID record
//!   key, `$type`, `text` of at most 300 graphemes, `createdAt`, link facets whose byte
//!   ranges lie within the text, link facets with a `uri`, tag facets with a `tag`
//!   without `#` of at most 64 graphemes and 640 bytes.
//! - `com.atproto.repo.deleteRecord` `{repo, collection, rkey}` with the access token as
//!   bearer: deletes the record and answers `{commit}`; a record that is not there is
//!   no error (the lexicon: "delete a repository record, or ensure it doesn't exist")
//!   and answers `{}`.
//!
//! An expired access token is 400 `ExpiredToken`, an unknown one 400 `InvalidToken`.
//! Errors are XRPC's `{"error": name, "message": text}`. Every request is recorded.
//! Switches: [`FakeBluesky::rate_limit`] (429 `RateLimitExceeded` with `RateLimit-*`
//! headers, the reset a Unix time), [`FakeBluesky::fail_after_accept`] (the record is
//! stored, then 500), [`FakeBluesky::fail_deletes`] (500, nothing deleted), and expiry
//! of the tokens handed out so far.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

use super::serve::{Listener, Received, Server};

pub const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
pub const HANDLE: &str = "sparky.test";
pub const DID: &str = "did:plc:z72i7hdynmk6r22z27h6tvur";
pub const POST: &str = "app.bsky.feed.post";

#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The XRPC method, e.g. `com.atproto.repo.putRecord`.
    pub method: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Valid,
    Expired,
}

#[derive(Default)]
struct Inner {
    /// access token -> state.
    access: HashMap<String, Token>,
    /// refresh token -> state; revoked ones are removed.
    refresh: HashMap<String, Token>,
    issued: u64,
    /// (collection, rkey) -> record.
    records: BTreeMap<(String, String), Value>,
    requests: Vec<Recorded>,
    rate_limited: bool,
    fail_after_accept: bool,
    fail_deletes: bool,
}

#[derive(Clone)]
struct Fake {
    inner: Arc<Mutex<Inner>>,
}

pub struct FakeBluesky {
    fake: Fake,
    server: Server,
}

impl FakeBluesky {
    pub async fn start() -> FakeBluesky {
        let fake = Fake {
            inner: Arc::new(Mutex::new(Inner::default())),
        };
        let server =
            Listener::bind().serve(Router::new().fallback(handle).with_state(fake.clone()));
        FakeBluesky { fake, server }
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

    pub fn fail_deletes(&self, on: bool) {
        self.fake.inner.lock().unwrap().fail_deletes = on;
    }

    /// Every access token handed out so far has expired.
    pub fn expire_access_tokens(&self) {
        let mut inner = self.fake.inner.lock().unwrap();
        inner.access.values_mut().for_each(|t| *t = Token::Expired);
    }

    /// Every refresh token handed out so far has expired.
    pub fn expire_refresh_tokens(&self) {
        let mut inner = self.fake.inner.lock().unwrap();
        inner.refresh.values_mut().for_each(|t| *t = Token::Expired);
    }

    /// The stored posts by record key.
    pub fn posts(&self) -> BTreeMap<String, Value> {
        let inner = self.fake.inner.lock().unwrap();
        inner
            .records
            .iter()
            .filter(|((collection, _), _)| collection == POST)
            .map(|((_, rkey), record)| (rkey.clone(), record.clone()))
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.fake.inner.lock().unwrap().requests.clone()
    }

    /// How often `method` was called.
    pub fn calls(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    }
}

fn xrpc_error(status: StatusCode, name: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": name, "message": message })),
    )
        .into_response()
}

fn invalid(message: &str) -> Response {
    xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

/// A new access and refresh token pair, as createSession and refreshSession answer it.
fn issue(inner: &mut Inner) -> Value {
    inner.issued += 1;
    let n = inner.issued;
    let access = format!("eyJhbGciOiJFUzI1NksifQ.access-{n}.sig");
    let refresh = format!("eyJhbGciOiJFUzI1NksifQ.refresh-{n}.sig");
    inner.access.insert(access.clone(), Token::Valid);
    inner.refresh.insert(refresh.clone(), Token::Valid);
    json!({
        "did": DID,
        "handle": HANDLE,
        "accessJwt": access,
        "refreshJwt": refresh,
        "active": true,
    })
}

/// The PDS's answer to a bearer token it does not accept, if it does not.
fn refused_token(tokens: &HashMap<String, Token>, bearer: Option<&str>) -> Option<Response> {
    let Some(token) = bearer else {
        return Some(xrpc_error(
            StatusCode::UNAUTHORIZED,
            "AuthMissing",
            "Authentication Required",
        ));
    };
    match tokens.get(token) {
        Some(Token::Valid) => None,
        Some(Token::Expired) => Some(xrpc_error(
            StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "Token has expired",
        )),
        None => Some(xrpc_error(
            StatusCode::BAD_REQUEST,
            "InvalidToken",
            "Token could not be verified",
        )),
    }
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let request = Received::read(request).await;
    let body = &request.body;
    let authorization = request.header("authorization");
    let bearer = authorization
        .as_deref()
        .and_then(|v| v.strip_prefix("Bearer "));
    let method = request
        .uri
        .path()
        .strip_prefix("/xrpc/")
        .unwrap_or_default()
        .to_string();
    let mut inner = fake.inner.lock().unwrap();
    inner.requests.push(Recorded {
        method: method.clone(),
        authorization: authorization.clone(),
        body: body.clone(),
    });
    if inner.rate_limited {
        let reset = jiff::Timestamp::now().as_second() + 300;
        let mut response = xrpc_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
        );
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", "30".parse().unwrap());
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        headers.insert("ratelimit-reset", reset.to_string().parse().unwrap());
        headers.insert("ratelimit-policy", "30;w=300".parse().unwrap());
        return response;
    }
    match method.as_str() {
        "com.atproto.server.createSession" => {
            let identifier = body["identifier"].as_str().unwrap_or_default();
            let password = body["password"].as_str().unwrap_or_default();
            if identifier.is_empty() || password.is_empty() {
                return invalid("identifier and password are required");
            }
            let known = identifier.eq_ignore_ascii_case(HANDLE) || identifier == DID;
            if !known || password != APP_PASSWORD {
                return xrpc_error(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationRequired",
                    "Invalid identifier or password",
                );
            }
            (StatusCode::OK, axum::Json(issue(&mut inner))).into_response()
        }
        "com.atproto.server.refreshSession" => {
            if let Some(refusal) = refused_token(&inner.refresh, bearer) {
                return refusal;
            }
            if let Some(token) = bearer {
                inner.refresh.remove(token);
            }
            (StatusCode::OK, axum::Json(issue(&mut inner))).into_response()
        }
        "com.atproto.repo.putRecord" => {
            if let Some(refusal) = refused_token(&inner.access, bearer) {
                return refusal;
            }
            put_record(&mut inner, body)
        }
        "com.atproto.repo.deleteRecord" => {
            if let Some(refusal) = refused_token(&inner.access, bearer) {
                return refusal;
            }
            delete_record(&mut inner, body)
        }
        _ => xrpc_error(
            StatusCode::NOT_IMPLEMENTED,
            "MethodNotImplemented",
            "Method Not Implemented",
        ),
    }
}

fn is_tid(rkey: &str) -> bool {
    const ALPHABET: &str = "234567abcdefghijklmnopqrstuvwxyz";
    rkey.len() == 13
        && rkey.chars().all(|c| ALPHABET.contains(c))
        && "234567abcdefghij".contains(&rkey[..1])
}

/// The `(collection, rkey)` a write names, or why it is invalid: the repo must be the
/// account's, the collection posts, the key a TID.
fn record_address(body: &Value) -> Result<(String, String), String> {
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_string();
    let (repo, collection, rkey) = (field("repo"), field("collection"), field("rkey"));
    if repo != DID && !repo.eq_ignore_ascii_case(HANDLE) {
        return Err(format!("Could not find repo: {repo}"));
    }
    if collection != POST {
        return Err(format!("this fake only stores {POST} records"));
    }
    if !is_tid(&rkey) {
        return Err("Invalid record key: must be a TID".into());
    }
    Ok((collection, rkey))
}

fn put_record(inner: &mut Inner, body: &Value) -> Response {
    let (collection, rkey) = match record_address(body) {
        Ok(address) => address,
        Err(message) => return invalid(&message),
    };
    let record = &body["record"];
    if let Err(message) = validate_post(record) {
        return invalid(&format!("Invalid app.bsky.feed.post record: {message}"));
    }
    inner
        .records
        .insert((collection.clone(), rkey.clone()), record.clone());
    if inner.fail_after_accept {
        return xrpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal Server Error",
        );
    }
    let digest = hex::encode(Sha256::digest(record.to_string().as_bytes()));
    let answer = json!({
        "uri": format!("at://{DID}/{collection}/{rkey}"),
        "cid": format!("bafyrei{}", &digest[..52]),
        "commit": { "cid": format!("bafyrei{}", &digest[8..60]), "rev": "3lbbfakerev22" },
        "validationStatus": "valid",
    });
    (StatusCode::OK, axum::Json(answer)).into_response()
}

fn delete_record(inner: &mut Inner, body: &Value) -> Response {
    let address = match record_address(body) {
        Ok(address) => address,
        Err(message) => return invalid(&message),
    };
    if inner.fail_deletes {
        return xrpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal Server Error",
        );
    }
    let answer = match inner.records.remove(&address) {
        Some(_) => {
            let digest = hex::encode(Sha256::digest(address.1.as_bytes()));
            let cid = format!("bafyrei{}", &digest[..52]);
            json!({ "commit": { "cid": cid, "rev": "3lbbfakerev23" } })
        }
        None => json!({}),
    };
    (StatusCode::OK, axum::Json(answer)).into_response()
}

/// The lexicon's rules for `app.bsky.feed.post` that a client can get wrong.
fn validate_post(record: &Value) -> Result<(), String> {
    if record["$type"] != POST {
        return Err(format!("$type must be {POST}"));
    }
    let text = record["text"].as_str().ok_or("text must be a string")?;
    if text.graphemes(true).count() > 300 || text.len() > 3000 {
        return Err("text must not be longer than 300 graphemes".into());
    }
    let created = record["createdAt"]
        .as_str()
        .ok_or("createdAt must be a datetime")?;
    created
        .parse::<jiff::Timestamp>()
        .map_err(|e| format!("createdAt must be a datetime: {e}"))?;
    for facet in record["facets"].as_array().into_iter().flatten() {
        let start = facet["index"]["byteStart"].as_u64().ok_or("byteStart")?;
        let end = facet["index"]["byteEnd"].as_u64().ok_or("byteEnd")?;
        if start >= end || end > text.len() as u64 {
            return Err(format!("facet range {start}..{end} is outside the text"));
        }
        let features = facet["features"].as_array().ok_or("features")?;
        for feature in features {
            match feature["$type"].as_str() {
                Some("app.bsky.richtext.facet#link") if feature["uri"].as_str().is_none() => {
                    return Err("a link facet needs a uri".into());
                }
                Some("app.bsky.richtext.facet#tag") => {
                    let tag = feature["tag"].as_str().ok_or("a tag facet needs a tag")?;
                    if tag.is_empty() || tag.starts_with('#') {
                        return Err(format!("tag `{tag}` must be a name without `#`"));
                    }
                    if tag.graphemes(true).count() > 64 || tag.len() > 640 {
                        return Err(format!("tag `{tag}` is too long"));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}
