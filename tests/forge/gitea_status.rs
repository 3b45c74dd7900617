//! Commit statuses against a local fake Gitea that records what it is sent and answers
//! like Gitea's `POST /repos/{owner}/{repo}/statuses/{sha}` (201 with the status).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use raibid::backend::forge::gitea::{CommitState, CreateStatus, Gitea, GiteaError, StatusReporter};
use raibid::backend::queue::contract::{Job, Trigger};
use raibid::config::{GiteaConfig, Secret};
use serde_json::{Value, json};

const TOKEN: &str = "gitea-t0ken-for-tests";
const SHA: &str = "4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c";

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct Fake {
    requests: Arc<Mutex<Vec<Recorded>>>,
    answer: StatusCode,
}

async fn record(State(fake): State<Fake>, request: Request) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    fake.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        body: body.clone(),
    });
    if fake.answer == StatusCode::CREATED {
        let created = json!({"id": 1, "status": body["state"], "context": body["context"], "description": body["description"]});
        (fake.answer, axum::Json(created)).into_response()
    } else {
        (fake.answer, "internal error").into_response()
    }
}

/// Starts the fake on a free port; returns its base URL and its record of requests.
async fn fake_gitea(answer: StatusCode) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(record).with_state(Fake {
        requests: requests.clone(),
        answer,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

fn token_file(dir: &Path) -> Secret {
    let path = dir.join("gitea.token");
    std::fs::write(&path, TOKEN).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Secret::File(path)
}

fn job() -> Job {
    Job {
        id: "job-1".into(),
        repo: "lab/fixture".into(),
        clone_url: "http://gitea.local/lab/fixture.git".into(),
        git_ref: "refs/heads/main".into(),
        sha: SHA.into(),
        trigger: Trigger::Push,
        requested_by: "ann".into(),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
        timeout_secs: 600,
    }
}

#[tokio::test]
async fn reports_pending_then_success() {
    let (url, requests) = fake_gitea(StatusCode::CREATED).await;
    let dir = tempfile::tempdir().unwrap();
    let reporter = StatusReporter::from_config(&GiteaConfig {
        url,
        token: token_file(dir.path()),
        ..GiteaConfig::default()
    });
    assert!(reporter.is_enabled());

    reporter
        .report(&job(), CommitState::Pending, "building on agent-1")
        .await;
    reporter
        .report(&job(), CommitState::Success, "build and tests passed")
        .await;

    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path,
            format!("/api/v1/repos/lab/fixture/statuses/{SHA}")
        );
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("token {TOKEN}").as_str())
        );
    }
    assert_eq!(
        requests[0].body,
        json!({"state": "pending", "description": "building on agent-1", "context": "raibid/ci"})
    );
    assert_eq!(
        requests[1].body,
        json!({"state": "success", "description": "build and tests passed", "context": "raibid/ci"})
    );
}

#[tokio::test]
async fn a_gitea_error_is_returned_by_the_client_and_swallowed_by_the_reporter() {
    let (url, requests) = fake_gitea(StatusCode::INTERNAL_SERVER_ERROR).await;
    let gitea = Gitea::new(&url, TOKEN.into()).unwrap();
    let error = gitea
        .create_status(
            "lab/fixture",
            SHA,
            &CreateStatus::new(CommitState::Failure, "step `cargo test` exited with 101"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, GiteaError::Refused { status: 500, .. }),
        "{error}"
    );
    assert!(!error.to_string().contains(TOKEN));

    let dir = tempfile::tempdir().unwrap();
    let reporter = StatusReporter::from_config(&GiteaConfig {
        url,
        token: token_file(dir.path()),
        ..GiteaConfig::default()
    });
    // Returns normally: the job's verdict does not depend on Gitea.
    reporter
        .report(
            &job(),
            CommitState::Failure,
            "step `cargo test` exited with 101",
        )
        .await;
    assert_eq!(requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_gitea_is_an_error_without_the_token() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gitea = Gitea::new(&format!("http://127.0.0.1:{port}"), TOKEN.into()).unwrap();
    let error = gitea
        .create_status(
            "lab/fixture",
            SHA,
            &CreateStatus::new(CommitState::Pending, "queued"),
        )
        .await;
    let error = error.unwrap_err();
    assert!(matches!(error, GiteaError::Request { .. }), "{error}");
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn nothing_is_sent_without_a_url_or_a_token() {
    let (url, requests) = fake_gitea(StatusCode::CREATED).await;
    let dir = tempfile::tempdir().unwrap();

    let no_url = StatusReporter::from_config(&GiteaConfig {
        url: String::new(),
        token: token_file(dir.path()),
        ..GiteaConfig::default()
    });
    assert!(!no_url.is_enabled());
    no_url.report(&job(), CommitState::Pending, "queued").await;

    let no_token = StatusReporter::from_config(&GiteaConfig {
        url,
        token: Secret::None,
        ..GiteaConfig::default()
    });
    assert!(!no_token.is_enabled());
    no_token
        .report(&job(), CommitState::Pending, "queued")
        .await;

    assert!(requests.lock().unwrap().is_empty());
}
