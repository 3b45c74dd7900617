//! A local stand-in for the part of Gitea's API the mirrors use, answering with Gitea's
//! JSON shapes: organisations (`GET /api/v1/orgs/{org}`, `POST /api/v1/orgs`), an
//! organisation's repositories (paginated with `page`/`limit` and `X-Total-Count`),
//! `POST /api/v1/repos/migrate` (409 for a taken name; with [`FakeGiteaApi::fail_migrations`]
//! 500 echoing the clone address with the `auth_token` in it), `GET`/`DELETE
//! /api/v1/repos/{o}/{r}` and `POST /api/v1/repos/{o}/{r}/mirror-sync`.
//!
//! Every request needs `Authorization: token <token>` (else 401) and is recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::serve::{Listener, Received, Server};

/// Gitea's zero time: a mirror that never synced.
pub const NEVER: &str = "0001-01-01T00:00:00Z";

#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// The path with the query, e.g. `/api/v1/orgs/mirrors/repos?page=1&limit=50`.
    pub path: String,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct FakeRepo {
    pub mirror: bool,
    pub original_url: String,
    pub mirror_updated: String,
    pub mirror_interval: String,
    pub private: bool,
}

#[derive(Default)]
struct Inner {
    orgs: BTreeSet<String>,
    /// (owner, name) -> repository.
    repos: BTreeMap<(String, String), FakeRepo>,
    requests: Vec<Recorded>,
    /// Gitea's MAX_RESPONSE_ITEMS: a larger `limit` is cut to it.
    max_items: usize,
    /// Every migration fails, its message quoting the clone address with the token.
    fail_migrations: bool,
}

#[derive(Clone)]
struct Fake {
    url: String,
    token: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct FakeGiteaApi {
    fake: Fake,
    server: Server,
}

impl FakeGiteaApi {
    pub async fn start(token: &str) -> FakeGiteaApi {
        let listener = Listener::bind();
        let fake = Fake {
            url: listener.url(),
            token: token.into(),
            inner: Arc::new(Mutex::new(Inner {
                max_items: 50,
                ..Inner::default()
            })),
        };
        let server = listener.serve(Router::new().fallback(handle).with_state(fake.clone()));
        FakeGiteaApi { fake, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn token(&self) -> String {
        self.fake.token.clone()
    }

    /// Pages hold at most this many repositories, whatever `limit` asks for.
    pub fn set_max_items(&self, max_items: usize) {
        self.fake.inner.lock().unwrap().max_items = max_items;
    }

    /// Makes every migration fail with 500, as Gitea does when the clone fails, with a
    /// message that quotes the clone address including the migration's `auth_token`.
    pub fn fail_migrations(&self, fail: bool) {
        self.fake.inner.lock().unwrap().fail_migrations = fail;
    }

    pub fn add_org(&self, org: &str) {
        self.fake.inner.lock().unwrap().orgs.insert(org.into());
    }

    /// A repository in `owner` (which becomes an organisation); `original_url` empty and
    /// `mirror` false make a plain repository.
    pub fn add_repo(
        &self,
        owner: &str,
        name: &str,
        mirror: bool,
        original_url: &str,
        mirror_updated: &str,
    ) {
        let mut inner = self.fake.inner.lock().unwrap();
        inner.orgs.insert(owner.into());
        inner.repos.insert(
            (owner.into(), name.into()),
            FakeRepo {
                mirror,
                original_url: original_url.into(),
                mirror_updated: mirror_updated.into(),
                mirror_interval: if mirror {
                    "8h0m0s".into()
                } else {
                    String::new()
                },
                private: false,
            },
        );
    }

    pub fn set_mirror_updated(&self, owner: &str, name: &str, at: &str) {
        let mut inner = self.fake.inner.lock().unwrap();
        let repo = inner
            .repos
            .get_mut(&(owner.to_string(), name.to_string()))
            .expect("no such repository");
        repo.mirror_updated = at.into();
    }

    pub fn has_org(&self, org: &str) -> bool {
        self.fake.inner.lock().unwrap().orgs.contains(org)
    }

    /// The names of `owner`'s repositories, sorted.
    pub fn repo_names(&self, owner: &str) -> Vec<String> {
        let inner = self.fake.inner.lock().unwrap();
        inner
            .repos
            .keys()
            .filter(|(o, _)| o == owner)
            .map(|(_, name)| name.clone())
            .collect()
    }

    pub fn repo(&self, owner: &str, name: &str) -> Option<FakeRepo> {
        let inner = self.fake.inner.lock().unwrap();
        inner
            .repos
            .get(&(owner.to_string(), name.to_string()))
            .cloned()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.fake.inner.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.fake.inner.lock().unwrap().requests.clear();
    }

    /// Recorded requests other than GETs.
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    /// `owner/name` of every mirror-sync asked for, in order.
    pub fn syncs(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.method == "POST")
            .filter_map(|r| {
                let rest = r.path.strip_prefix("/api/v1/repos/")?;
                rest.strip_suffix("/mirror-sync").map(str::to_string)
            })
            .collect()
    }
}

fn message(status: StatusCode, message: &str, url: &str) -> Response {
    (
        status,
        axum::Json(json!({ "message": message, "url": format!("{url}/api/swagger") })),
    )
        .into_response()
}

fn authorized(fake: &Fake, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("token "))
        .is_some_and(|token| token == fake.token)
}

fn repo_json(fake: &Fake, owner: &str, name: &str, repo: &FakeRepo) -> Value {
    json!({
        "id": 1,
        "owner": { "id": 2, "login": owner, "username": owner },
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "description": "",
        "empty": false,
        "private": repo.private,
        "fork": false,
        "mirror": repo.mirror,
        "html_url": format!("{}/{owner}/{name}", fake.url),
        "clone_url": format!("{}/{owner}/{name}.git", fake.url),
        "original_url": repo.original_url,
        "default_branch": "main",
        "mirror_interval": repo.mirror_interval,
        "mirror_updated": repo.mirror_updated,
        "created_at": "2026-11-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z",
    })
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let request = Received::read(request).await;
    let body = &request.body;
    let query = request.query();
    fake.inner.lock().unwrap().requests.push(Recorded {
        method: request.method.to_string(),
        path: request.target(),
        body: body.clone(),
    });
    if !authorized(&fake, &request.headers) {
        return message(
            StatusCode::UNAUTHORIZED,
            "invalid username, password or token",
            &fake.url,
        );
    }
    let segments: Vec<String> = request
        .uri
        .path()
        .trim_start_matches("/api/v1/")
        .split('/')
        .map(decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.clone();
    let not_found = || {
        message(
            StatusCode::NOT_FOUND,
            "The target couldn't be found.",
            &fake.url,
        )
    };
    match (method, segments.as_slice()) {
        (Method::GET, ["orgs", org]) => {
            if fake.inner.lock().unwrap().orgs.contains(*org) {
                let org_json = json!({"id": 2, "name": org, "username": org, "full_name": "", "visibility": "public"});
                (StatusCode::OK, axum::Json(org_json)).into_response()
            } else {
                not_found()
            }
        }
        (Method::POST, ["orgs"]) => {
            let Some(name) = body["username"].as_str() else {
                return message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "username is required",
                    &fake.url,
                );
            };
            let mut inner = fake.inner.lock().unwrap();
            if !inner.orgs.insert(name.to_string()) {
                return message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "user already exists",
                    &fake.url,
                );
            }
            let org_json =
                json!({"id": 2, "name": name, "username": name, "visibility": body["visibility"]});
            (StatusCode::CREATED, axum::Json(org_json)).into_response()
        }
        (Method::GET, ["orgs", org, "repos"]) => {
            let inner = fake.inner.lock().unwrap();
            if !inner.orgs.contains(*org) {
                return not_found();
            }
            let page: usize = query
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let limit: usize = query
                .get("limit")
                .and_then(|p| p.parse().ok())
                .unwrap_or(inner.max_items)
                .clamp(1, inner.max_items);
            let all: Vec<Value> = inner
                .repos
                .iter()
                .filter(|((owner, _), _)| owner == org)
                .map(|((owner, name), repo)| repo_json(&fake, owner, name, repo))
                .collect();
            let total = all.len();
            let page: Vec<Value> = all
                .into_iter()
                .skip((page - 1) * limit)
                .take(limit)
                .collect();
            (
                StatusCode::OK,
                [("x-total-count", total.to_string())],
                axum::Json(Value::Array(page)),
            )
                .into_response()
        }
        (Method::POST, ["repos", "migrate"]) => migrate(&fake, body),
        (Method::GET, ["repos", owner, name]) => {
            let inner = fake.inner.lock().unwrap();
            match inner.repos.get(&(owner.to_string(), name.to_string())) {
                Some(repo) => (
                    StatusCode::OK,
                    axum::Json(repo_json(&fake, owner, name, repo)),
                )
                    .into_response(),
                None => not_found(),
            }
        }
        (Method::DELETE, ["repos", owner, name]) => {
            let mut inner = fake.inner.lock().unwrap();
            match inner.repos.remove(&(owner.to_string(), name.to_string())) {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => not_found(),
            }
        }
        (Method::POST, ["repos", owner, name, "mirror-sync"]) => {
            let inner = fake.inner.lock().unwrap();
            match inner.repos.get(&(owner.to_string(), name.to_string())) {
                Some(repo) if repo.mirror => StatusCode::OK.into_response(),
                Some(_) => message(
                    StatusCode::BAD_REQUEST,
                    "Repository is not a mirror",
                    &fake.url,
                ),
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}

/// Gitea's MigrateRepo: 201 with the repository; 409 when the name is taken, 422 when
/// the owner does not exist or a field is missing.
fn migrate(fake: &Fake, body: &Value) -> Response {
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_string();
    let (clone_addr, owner, name) = (field("clone_addr"), field("repo_owner"), field("repo_name"));
    if clone_addr.is_empty() || owner.is_empty() || name.is_empty() {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "clone_addr, repo_owner and repo_name are required",
            &fake.url,
        );
    }
    let mut inner = fake.inner.lock().unwrap();
    if !inner.orgs.contains(&owner) {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user does not exist",
            &fake.url,
        );
    }
    if inner.fail_migrations {
        let with_token =
            clone_addr.replacen("://", &format!("://oauth2:{}@", field("auth_token")), 1);
        let failed = format!(
            "Migration failed: clone error: exit status 128 - fatal: could not read from {with_token}"
        );
        return message(StatusCode::INTERNAL_SERVER_ERROR, &failed, &fake.url);
    }
    let key = (owner.clone(), name.clone());
    if inner.repos.contains_key(&key) {
        return message(
            StatusCode::CONFLICT,
            "The repository with the same name already exists.",
            &fake.url,
        );
    }
    let mirror = body["mirror"].as_bool() == Some(true);
    let repo = FakeRepo {
        mirror,
        // Gitea keeps the address without credentials.
        original_url: clone_addr,
        mirror_updated: if mirror {
            jiff::Timestamp::now().to_string()
        } else {
            NEVER.into()
        },
        mirror_interval: field("mirror_interval"),
        private: body["private"].as_bool() == Some(true),
    };
    let answer = repo_json(fake, &owner, &name, &repo);
    inner.repos.insert(key, repo);
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

/// Percent-decoding of one path segment.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&segment[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
