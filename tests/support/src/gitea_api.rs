//! A local stand-in for the part of Gitea's API the mirrors use, answering with Gitea's
//! JSON shapes: organisations (`GET /api/v1/orgs/{org}`, `POST /api/v1/orgs`), an
//! organisation's repositories (paginated with `page`/`limit` and `X-Total-Count`),
//! `POST /api/v1/repos/migrate` (409 for a taken name; with [`FakeGiteaApi::fail_migrations`]
//! 500 echoing the clone address with the `auth_token` in it), `GET`/`DELETE
//! /api/v1/repos/{o}/{r}` and `POST /api/v1/repos/{o}/{r}/mirror-sync`; an organisation's
//! webhooks (`GET`/`POST /api/v1/orgs/{org}/hooks`, `PATCH .../hooks/{id}`; like Gitea it
//! keeps a hook's secret and never shows it); users (`GET /api/v1/users/{u}`, `POST
//! /api/v1/admin/users`), teams (`GET`/`POST /api/v1/orgs/{org}/teams`, `PUT
//! /api/v1/teams/{id}/members/{u}`), access tokens (`POST /api/v1/users/{u}/tokens` and
//! `DELETE .../tokens/{name}`, only with Basic auth as Gitea requires) and `GET
//! /api/v1/repos/search`.
//!
//! Every request needs `Authorization: token <token>` or, inside [`super::gitea::FakeGitea`],
//! the admin's Basic credentials (else 401) and is recorded. A token the fake issued may
//! only search repositories, and only with a repository scope.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::gitea::{Password, decode_base64};
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

/// A webhook as the fake keeps it, secret included.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeHook {
    pub id: i64,
    pub kind: String,
    pub url: String,
    pub content_type: String,
    pub secret: String,
    pub events: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct FakeTeam {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub permission: String,
    pub units_map: Value,
    pub includes_all_repositories: bool,
    pub members: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct FakeToken {
    pub user: String,
    pub name: String,
    pub value: String,
    pub scopes: Vec<String>,
}

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq)]
enum Caller {
    /// The API token or the admin's password; `basic`: it came as Basic auth.
    Admin { basic: bool },
    /// A token the fake issued.
    Issued { user: String, scopes: Vec<String> },
}

#[derive(Default)]
struct Inner {
    orgs: BTreeSet<String>,
    hooks: Vec<(String, FakeHook)>,
    /// Users by login, with whether they are restricted.
    users: BTreeMap<String, bool>,
    teams: Vec<FakeTeam>,
    tokens: Vec<FakeToken>,
    next_id: i64,
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
    /// The admin's user name and password, accepted as Basic auth.
    admin: Option<(String, Password)>,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Clone)]
pub struct FakeGiteaApi {
    fake: Fake,
    /// What [`FakeGiteaApi::start`] serves, until the last clone is dropped.
    _server: Option<Arc<Server>>,
}

impl FakeGiteaApi {
    pub async fn start(token: &str) -> FakeGiteaApi {
        let listener = Listener::bind();
        let api = FakeGiteaApi::inside(listener.url(), token, None);
        let router = Router::new().fallback(handle).with_state(api.fake.clone());
        FakeGiteaApi {
            _server: Some(Arc::new(listener.serve(router))),
            ..api
        }
    }

    /// The API of a fake Gitea served at `url` by someone else, which passes requests to
    /// [`FakeGiteaApi::answer`]; `admin` may sign in with Basic auth.
    pub fn inside(url: String, token: &str, admin: Option<(String, Password)>) -> FakeGiteaApi {
        let fake = Fake {
            url,
            token: token.into(),
            admin,
            inner: Arc::new(Mutex::new(Inner {
                max_items: 50,
                next_id: 1,
                ..Inner::default()
            })),
        };
        FakeGiteaApi {
            fake,
            _server: None,
        }
    }

    pub async fn answer(&self, request: Request) -> Response {
        handle(State(self.fake.clone()), request).await
    }

    pub fn url(&self) -> String {
        self.fake.url.clone()
    }

    /// The organisation's webhooks, secrets included.
    pub fn hooks(&self, org: &str) -> Vec<FakeHook> {
        let inner = self.fake.inner.lock().unwrap();
        inner
            .hooks
            .iter()
            .filter(|(owner, _)| owner == org)
            .map(|(_, hook)| hook.clone())
            .collect()
    }

    pub fn has_user(&self, user: &str) -> bool {
        self.fake.inner.lock().unwrap().users.contains_key(user)
    }

    pub fn teams(&self, org: &str) -> Vec<FakeTeam> {
        let inner = self.fake.inner.lock().unwrap();
        inner
            .teams
            .iter()
            .filter(|t| t.org == org)
            .cloned()
            .collect()
    }

    pub fn tokens(&self) -> Vec<FakeToken> {
        self.fake.inner.lock().unwrap().tokens.clone()
    }

    /// Revokes every token the fake issued, as an admin could in Gitea's UI.
    pub fn revoke_tokens(&self) {
        self.fake.inner.lock().unwrap().tokens.clear();
    }

    /// Whether an issued token given as a git client's Basic credentials (either half)
    /// may read (or with `write`, push to) the repositories of `owner`: a repository
    /// scope, and the user is `owner` or a member of one of its teams.
    pub fn token_may(&self, headers: &HeaderMap, owner: &str, write: bool) -> bool {
        let Some(Caller::Issued { user, scopes }) = caller(&self.fake, headers) else {
            return false;
        };
        let scope = if write {
            "write:repository"
        } else {
            "read:repository"
        };
        let scoped = scopes
            .iter()
            .any(|s| s == scope || s == "write:repository" || s == "all");
        let inner = self.fake.inner.lock().unwrap();
        let member = user == owner
            || inner.teams.iter().any(|team| {
                team.org == owner
                    && team.members.contains(&user)
                    && (!write || team.permission == "write")
            });
        scoped && member
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

fn caller(fake: &Fake, headers: &HeaderMap) -> Option<Caller> {
    let header = headers.get("authorization")?.to_str().ok()?;
    let issued = |value: &str| {
        let inner = fake.inner.lock().unwrap();
        inner
            .tokens
            .iter()
            .find(|token| token.value == value)
            .map(|token| Caller::Issued {
                user: token.user.clone(),
                scopes: token.scopes.clone(),
            })
    };
    if let Some(token) = header.strip_prefix("token ") {
        if token == fake.token {
            return Some(Caller::Admin { basic: false });
        }
        return issued(token);
    }
    let decoded = String::from_utf8(decode_base64(header.strip_prefix("Basic ")?)).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if let Some((admin, admin_password)) = &fake.admin
        && user == admin
        && admin_password().as_deref() == Some(password)
    {
        return Some(Caller::Admin { basic: true });
    }
    // Like Gitea: the password is the token, or the user name is when the password is empty.
    if password.is_empty() || password == "x-oauth-basic" {
        issued(user)
    } else {
        issued(password)
    }
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
    let Some(caller) = caller(&fake, &request.headers) else {
        return message(
            StatusCode::UNAUTHORIZED,
            "invalid username, password or token",
            &fake.url,
        );
    };
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
    if let Caller::Issued { scopes, .. } = &caller {
        let searching = method == Method::GET && segments == ["repos", "search"];
        if !(searching
            && scopes
                .iter()
                .any(|s| s.ends_with(":repository") || s == "all"))
        {
            return message(
                StatusCode::FORBIDDEN,
                "token does not have at least one of required scope(s)",
                &fake.url,
            );
        }
    }
    if segments.len() >= 3 && segments[0] == "users" && segments[2] == "tokens" {
        if caller != (Caller::Admin { basic: true }) {
            return message(StatusCode::UNAUTHORIZED, "auth required", &fake.url);
        }
        return tokens(&fake, &method, &segments, body);
    }
    match (method, segments.as_slice()) {
        (Method::GET, ["repos", "search"]) => {
            (StatusCode::OK, axum::Json(json!({"ok": true, "data": []}))).into_response()
        }
        (Method::GET, ["orgs", org, "hooks"]) => {
            if !fake.inner.lock().unwrap().orgs.contains(*org) {
                return not_found();
            }
            let hooks: Vec<Value> = fake
                .inner
                .lock()
                .unwrap()
                .hooks
                .iter()
                .filter(|(owner, _)| owner == org)
                .map(|(_, hook)| hook_json(hook))
                .collect();
            let total = hooks.len().to_string();
            (
                StatusCode::OK,
                [("x-total-count", total)],
                axum::Json(Value::Array(hooks)),
            )
                .into_response()
        }
        (Method::POST, ["orgs", org, "hooks"]) => create_hook(&fake, org, body),
        (Method::PATCH, ["orgs", org, "hooks", id]) => edit_hook(&fake, org, id, body),
        (Method::GET, ["users", user]) => {
            if fake.inner.lock().unwrap().users.contains_key(*user) {
                let user_json =
                    json!({"id": 3, "login": user, "username": user, "restricted": true});
                (StatusCode::OK, axum::Json(user_json)).into_response()
            } else {
                not_found()
            }
        }
        (Method::POST, ["admin", "users"]) => create_user(&fake, body),
        (Method::GET, ["orgs", org, "teams"]) => {
            if !fake.inner.lock().unwrap().orgs.contains(*org) {
                return not_found();
            }
            let teams: Vec<Value> = fake
                .inner
                .lock()
                .unwrap()
                .teams
                .iter()
                .filter(|team| team.org == *org)
                .map(team_json)
                .collect();
            let total = teams.len().to_string();
            (
                StatusCode::OK,
                [("x-total-count", total)],
                axum::Json(Value::Array(teams)),
            )
                .into_response()
        }
        (Method::POST, ["orgs", org, "teams"]) => create_team(&fake, org, body),
        (Method::PUT, ["teams", id, "members", user]) => {
            let mut inner = fake.inner.lock().unwrap();
            if !inner.users.contains_key(*user) {
                return not_found();
            }
            match inner
                .teams
                .iter_mut()
                .find(|team| team.id.to_string() == *id)
            {
                Some(team) => {
                    team.members.insert(user.to_string());
                    StatusCode::NO_CONTENT.into_response()
                }
                None => not_found(),
            }
        }
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

/// Gitea's `api.Hook`: the config shows the URL and content type, never the secret.
fn hook_json(hook: &FakeHook) -> Value {
    json!({
        "id": hook.id,
        "type": hook.kind,
        "branch_filter": "*",
        "config": {
            "url": hook.url,
            "content_type": hook.content_type,
            "http_method": "post",
        },
        "events": hook.events,
        "authorization_header": "",
        "active": hook.active,
        "updated_at": "2026-11-01T00:00:00Z",
        "created_at": "2026-11-01T00:00:00Z",
    })
}

/// Gitea's AddOwnerHook: 422 for a missing URL or content type or an unknown type.
fn create_hook(fake: &Fake, org: &str, body: &Value) -> Response {
    let mut inner = fake.inner.lock().unwrap();
    if !inner.orgs.contains(org) {
        return message(
            StatusCode::NOT_FOUND,
            "The target couldn't be found.",
            &fake.url,
        );
    }
    let kind = body["type"].as_str().unwrap_or_default();
    if !["gitea", "gogs", "slack", "discord"].contains(&kind) {
        let invalid = format!("Invalid hook type: {kind}");
        return message(StatusCode::UNPROCESSABLE_ENTITY, &invalid, &fake.url);
    }
    let config = &body["config"];
    for name in ["url", "content_type"] {
        if config[name].as_str().is_none() {
            let missing = format!("Missing config option: {name}");
            return message(StatusCode::UNPROCESSABLE_ENTITY, &missing, &fake.url);
        }
    }
    let events: Vec<String> = body["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .filter(|events: &Vec<String>| !events.is_empty())
        .unwrap_or_else(|| vec!["push".into()]);
    let hook = FakeHook {
        id: inner.next_id,
        kind: kind.into(),
        url: config["url"].as_str().unwrap_or_default().into(),
        content_type: config["content_type"].as_str().unwrap_or_default().into(),
        secret: config["secret"].as_str().unwrap_or_default().into(),
        events,
        active: body["active"].as_bool().unwrap_or(false),
    };
    inner.next_id += 1;
    inner.hooks.push((org.to_string(), hook.clone()));
    (StatusCode::CREATED, axum::Json(hook_json(&hook))).into_response()
}

/// Gitea's EditOwnerHook: only what the body names changes (events default to push).
fn edit_hook(fake: &Fake, org: &str, id: &str, body: &Value) -> Response {
    let mut inner = fake.inner.lock().unwrap();
    let Some((_, hook)) = inner
        .hooks
        .iter_mut()
        .find(|(owner, hook)| owner == org && hook.id.to_string() == id)
    else {
        return message(
            StatusCode::NOT_FOUND,
            "The target couldn't be found.",
            &fake.url,
        );
    };
    let config = &body["config"];
    if let Some(url) = config["url"].as_str() {
        hook.url = url.into();
    }
    if let Some(content_type) = config["content_type"].as_str() {
        hook.content_type = content_type.into();
    }
    if let Some(secret) = config["secret"].as_str() {
        hook.secret = secret.into();
    }
    hook.events = body["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .filter(|events: &Vec<String>| !events.is_empty())
        .unwrap_or_else(|| vec!["push".into()]);
    if let Some(active) = body["active"].as_bool() {
        hook.active = active;
    }
    (StatusCode::OK, axum::Json(hook_json(hook))).into_response()
}

/// Gitea's CreateUser (admin only): 422 when the name is taken.
fn create_user(fake: &Fake, body: &Value) -> Response {
    let Some(name) = body["username"].as_str() else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "username is required",
            &fake.url,
        );
    };
    if body["email"].as_str().is_none() || body["password"].as_str().is_none() {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email and password are required",
            &fake.url,
        );
    }
    let mut inner = fake.inner.lock().unwrap();
    if inner.users.contains_key(name) || inner.orgs.contains(name) {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user already exists",
            &fake.url,
        );
    }
    let restricted = body["restricted"].as_bool() == Some(true);
    inner.users.insert(name.into(), restricted);
    let user = json!({"id": 3, "login": name, "username": name, "restricted": restricted});
    (StatusCode::CREATED, axum::Json(user)).into_response()
}

fn team_json(team: &FakeTeam) -> Value {
    json!({
        "id": team.id,
        "name": team.name,
        "description": "",
        "includes_all_repositories": team.includes_all_repositories,
        "permission": team.permission,
        "units": ["repo.code"],
        "units_map": team.units_map,
        "can_create_org_repo": false,
    })
}

/// Gitea's CreateTeam: 422 when the name is taken in the organisation.
fn create_team(fake: &Fake, org: &str, body: &Value) -> Response {
    let mut inner = fake.inner.lock().unwrap();
    if !inner.orgs.contains(org) {
        return message(
            StatusCode::NOT_FOUND,
            "The target couldn't be found.",
            &fake.url,
        );
    }
    let Some(name) = body["name"].as_str() else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name is required",
            &fake.url,
        );
    };
    if inner.teams.iter().any(|t| t.org == org && t.name == name) {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "team already exists",
            &fake.url,
        );
    }
    let team = FakeTeam {
        id: inner.next_id,
        org: org.into(),
        name: name.into(),
        permission: body["permission"].as_str().unwrap_or("none").into(),
        units_map: body["units_map"].clone(),
        includes_all_repositories: body["includes_all_repositories"].as_bool() == Some(true),
        members: BTreeSet::new(),
    };
    inner.next_id += 1;
    inner.teams.push(team.clone());
    (StatusCode::CREATED, axum::Json(team_json(&team))).into_response()
}

/// `POST /users/{u}/tokens` (400 for a name in use) and `DELETE /users/{u}/tokens/{name}`.
fn tokens(fake: &Fake, method: &Method, segments: &[&str], body: &Value) -> Response {
    let user = segments[1];
    let mut inner = fake.inner.lock().unwrap();
    if !inner.users.contains_key(user) {
        return message(StatusCode::NOT_FOUND, "user does not exist", &fake.url);
    }
    match (method, segments.get(3)) {
        (&Method::POST, None) => {
            let name = body["name"].as_str().unwrap_or_default().to_string();
            if inner
                .tokens
                .iter()
                .any(|t| t.user == user && t.name == name)
            {
                return message(
                    StatusCode::BAD_REQUEST,
                    "access token name has been used already",
                    &fake.url,
                );
            }
            let scopes: Vec<String> = body["scopes"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let value = uuid::Uuid::new_v4().simple().to_string();
            inner.tokens.push(FakeToken {
                user: user.into(),
                name: name.clone(),
                value: value.clone(),
                scopes: scopes.clone(),
            });
            let token = json!({
                "id": inner.next_id, "name": name, "sha1": value,
                "token_last_eight": &value[value.len() - 8..], "scopes": scopes,
            });
            inner.next_id += 1;
            (StatusCode::CREATED, axum::Json(token)).into_response()
        }
        (&Method::DELETE, Some(name)) => {
            let before = inner.tokens.len();
            inner
                .tokens
                .retain(|t| !(t.user == user && t.name == *name));
            if inner.tokens.len() < before {
                StatusCode::NO_CONTENT.into_response()
            } else {
                message(
                    StatusCode::NOT_FOUND,
                    "The target couldn't be found.",
                    &fake.url,
                )
            }
        }
        _ => message(
            StatusCode::NOT_FOUND,
            "The target couldn't be found.",
            &fake.url,
        ),
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
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&segment[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
