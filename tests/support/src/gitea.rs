//! A local stand-in for Gitea's repository side: `POST /api/v1/user/repos` answering as
//! Gitea's API does, and git's smart HTTP protocol served by git's own `git http-backend`,
//! both behind Basic auth, over bare repositories in a temp dir. The rest of the API is
//! [`FakeGiteaApi`]'s, signed into with the admin's password; git also takes the tokens
//! that API issues, within their scope (read or write) and their user's organisations.
//! `GET /api/v1/version` and the registry's `GET /v2/` answer without credentials, as
//! Gitea's do.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::gitea_api::FakeGiteaApi;
use super::serve::{Listener, Server};

/// Where Gitea's container registry sends clients for a token (its challenge's realm).
pub const REGISTRY_TOKEN_PATH: &str = "/v2/token";
const REGISTRY_TOKEN: &str = "fake-gitea-registry-token";

/// The admin password as Gitea knows it now (the chart reads it from a secret).
pub type Password = Arc<dyn Fn() -> Option<String> + Send + Sync>;

#[derive(Clone)]
struct Fake {
    root: PathBuf,
    user: String,
    password: Password,
    api: FakeGiteaApi,
}

pub struct FakeGitea {
    root: tempfile::TempDir,
    api: FakeGiteaApi,
    server: Server,
}

impl FakeGitea {
    pub async fn start(user: &str, password: Password) -> FakeGitea {
        let root = tempfile::tempdir().unwrap();
        let listener = Listener::bind();
        // Only the admin's password signs in: nobody knows this token.
        let token = uuid::Uuid::new_v4().to_string();
        let admin = (user.to_string(), Arc::clone(&password));
        let api = FakeGiteaApi::inside(listener.url(), &token, Some(admin));
        let fake = Fake {
            root: root.path().to_path_buf(),
            user: user.into(),
            password,
            api: api.clone(),
        };
        let server = listener.serve(Router::new().fallback(handle).with_state(fake));
        FakeGitea { root, api, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The API's state: organisations, hooks, users, teams, tokens.
    pub fn api(&self) -> &FakeGiteaApi {
        &self.api
    }

    /// The bare repository behind `owner/name`.
    pub fn repository(&self, owner: &str, name: &str) -> PathBuf {
        self.root.path().join(owner).join(format!("{name}.git"))
    }
}

fn authorized(fake: &Fake, headers: &HeaderMap) -> bool {
    let Some(password) = (fake.password)() else {
        return false;
    };
    let expected = format!("{}:{password}", fake.user);
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .is_some_and(|encoded| decode_base64(encoded) == expected.as_bytes())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("www-authenticate", "Basic realm=\"Gitea\"")],
        axum::Json(json!({"message": "Unauthorized"})),
    )
        .into_response()
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if let Some(public) = unauthenticated(&path) {
        return public;
    }
    let creating = path == "/api/v1/user/repos" && request.method() == "POST";
    if path.starts_with("/api/v1/") && !creating {
        return fake.api.answer(request).await;
    }
    let (parts, body) = request.into_parts();
    if path.contains(".git/") {
        let owner = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let push = path.ends_with("git-receive-pack")
            || parts.uri.query().unwrap_or("").contains("git-receive-pack");
        if !authorized(&fake, &parts.headers) && !fake.api.token_may(&parts.headers, owner, push) {
            return unauthorized();
        }
        let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
        return git_http_backend(&fake, &parts, body).await;
    }
    if !authorized(&fake, &parts.headers) {
        return unauthorized();
    }
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    if creating {
        return create_repository(&fake, &body);
    }
    if path == REGISTRY_TOKEN_PATH {
        // Gitea's container registry hands out Bearer tokens for Basic credentials.
        return axum::Json(json!({"token": REGISTRY_TOKEN})).into_response();
    }
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Not Found"})),
    )
        .into_response()
}

/// What Gitea answers without credentials: its version (`GET /api/v1/version`), and its
/// container registry's base (`GET /v2/`), which asks for a token as the distribution
/// spec says.
fn unauthenticated(path: &str) -> Option<Response> {
    match path {
        "/api/v1/version" => Some(axum::Json(json!({"version": GITEA_VERSION})).into_response()),
        "/v2/" => Some(
            (
                StatusCode::UNAUTHORIZED,
                [
                    ("docker-distribution-api-version", "registry/2.0"),
                    (
                        "www-authenticate",
                        "Bearer realm=\"http://127.0.0.1/v2/token\",service=\"container_registry\",scope=\"*\"",
                    ),
                ],
                axum::Json(json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})),
            )
                .into_response(),
        ),
        _ => None,
    }
}

/// The Gitea release the fake answers as.
pub const GITEA_VERSION: &str = "1.26.2";

/// Gitea's CreateCurrentUserRepo: 201 with the repository, 409 when the name is taken.
fn create_repository(fake: &Fake, body: &Bytes) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(name) = request["name"].as_str() else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"message": "name is required"})),
        )
            .into_response();
    };
    let bare = fake.root.join(&fake.user).join(format!("{name}.git"));
    if bare.exists() {
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({"message": "The repository with the same name already exists."})),
        )
            .into_response();
    }
    let branch = request["default_branch"].as_str().unwrap_or("main");
    git(
        &fake.root,
        &[
            "init",
            "--quiet",
            "--bare",
            "-b",
            branch,
            bare.to_str().unwrap(),
        ],
    );
    if request["auto_init"].as_bool() == Some(true) {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        git(work, &["clone", "--quiet", bare.to_str().unwrap(), "."]);
        std::fs::write(work.join("README.md"), format!("# {name}\n")).unwrap();
        git(work, &["add", "README.md"]);
        git(
            work,
            &[
                "-c",
                "user.name=Gitea",
                "-c",
                "user.email=gitea@localhost",
                "commit",
                "--quiet",
                "-m",
                "Initial commit",
            ],
        );
        git(
            work,
            &[
                "push",
                "--quiet",
                "origin",
                &format!("HEAD:refs/heads/{branch}"),
            ],
        );
    }
    let full_name = format!("{}/{name}", fake.user);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "id": 1, "name": name, "full_name": full_name, "private": request["private"],
            "default_branch": branch, "empty": request["auto_init"].as_bool() != Some(true),
        })),
    )
        .into_response()
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?} failed");
}

/// Runs `git http-backend` as a CGI program for one request.
async fn git_http_backend(
    fake: &Fake,
    parts: &axum::http::request::Parts,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &fake.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or_default())
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        // http-backend enables receive-pack (push) only for an authenticated user.
        .env("REMOTE_USER", &fake.user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = child.wait_with_output().await.unwrap();
    writer.await.unwrap();
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            output
                .stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        })
        .expect("CGI headers end with a blank line");
    let head = String::from_utf8_lossy(&output.stdout[..split.0]).to_string();
    let mut response = Response::builder();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code: u16 = value.split_whitespace().next().unwrap().parse().unwrap();
            response = response.status(code);
        } else {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(output.stdout[split.0 + split.1..].to_vec()))
        .unwrap()
}

/// Standard base64 (RFC 4648) to bytes; empty for invalid input.
pub fn decode_base64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}

/// The admin password of [`private_repository`]'s Gitea.
pub const ADMIN_PASSWORD: &str = "admin-pw";

/// A fake Gitea (admin `raibid`) holding `source` as the private repository
/// `mirrors/private`, and the read-only credential `raibid up` makes for agents (made by
/// the same code), as `user:token` in a 0400 file under `root`.
pub async fn private_repository(root: &Path, source: &Path) -> (FakeGitea, String, PathBuf) {
    use raibid::backend::forge::gitea::{Gitea, GiteaAuth};
    use raibid::backend::mirror::reader;
    use std::os::unix::fs::PermissionsExt;
    let gitea = FakeGitea::start("raibid", Arc::new(|| Some(ADMIN_PASSWORD.into()))).await;
    gitea.api().add_org("mirrors");
    let bare = gitea.repository("mirrors", "private");
    git(
        root,
        &[
            "clone",
            "--quiet",
            "--bare",
            source.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let admin = GiteaAuth::Basic {
        user: "raibid".into(),
        password: ADMIN_PASSWORD.into(),
    };
    let admin = Gitea::with_auth(&gitea.url(), admin).unwrap();
    let ensured = reader::ensure(&admin, &["mirrors"], None).await.unwrap();
    let credential = ensured.credential.expect("a new credential");
    let file = root.join("git-clone-credentials");
    std::fs::write(&file, &credential).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    (gitea, credential, file)
}
