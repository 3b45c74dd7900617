//! The API server against a real redis-server and the real queue, called over HTTP the
//! way Gitea, GitHub and the console call it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use raibid::backend::ci::server::push::Forges;
use raibid::backend::ci::server::{ServerLimits, ServerSettings, router, serve};
use raibid::backend::queue::contract::{JobState, JobStatus, Keys, LogStream};
use raibid::backend::queue::{Queue, QueueSettings};
use raibid::config::{CiConfig, Config, Secret};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use support::redis::RedisServer;
use tokio_util::sync::CancellationToken;

const PREFIX: &str = "test";
const TOKEN: &str = "api-t0ken";
const GITEA_SECRET: &str = "gitea-s3cret";
const GITHUB_SECRET: &str = "github-s3cret";
const BODY_LIMIT: usize = 64 * 1024;
const GITEA_PUSH: &str = include_str!("../fixtures/gitea_push.json");
const GITHUB_PUSH: &str = include_str!("../fixtures/github_push.json");
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const DEADLINE: Duration = Duration::from_secs(20);

fn settings() -> ServerSettings {
    ServerSettings {
        token: Some(TOKEN.into()),
        gitea_secret: Some(GITEA_SECRET.into()),
        github_secret: Some(GITHUB_SECRET.into()),
        body_limit: BODY_LIMIT,
        job_timeout_secs: 900,
        forges: Forges {
            gitea: vec!["http://gitea.lab:3000".into()],
            github: "https://github.com".into(),
            github_owners: ["example".to_string()].into(),
            ..Forges::default()
        },
        limits: ServerLimits::default(),
    }
}

/// A redis-server, the queue on it, and the router listening on a free port.
struct Lab {
    redis: Option<RedisServer>,
    queue: Queue,
    base: String,
    http: reqwest::Client,
}

impl Lab {
    async fn start() -> Lab {
        Lab::with(settings()).await
    }

    async fn with(settings: ServerSettings) -> Lab {
        let redis = RedisServer::start();
        let queue = Queue::connect(
            &redis.url(),
            PREFIX,
            QueueSettings::from_config(&CiConfig::default()),
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(queue.clone(), settings);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Lab {
            redis: Some(redis),
            queue,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(TOKEN)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(TOKEN)
    }

    async fn gitea(
        &self,
        body: &str,
        signature: Option<String>,
        delivery: &str,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.url("/webhooks/gitea"))
            .header("Content-Type", "application/json")
            .header("X-Gitea-Event", "push")
            .header("X-Gitea-Delivery", delivery)
            .body(body.to_string());
        if let Some(signature) = signature {
            request = request.header("X-Gitea-Signature", signature);
        }
        answer(request).await
    }

    async fn github(&self, event: &str, body: &str, delivery: &str) -> (StatusCode, Value) {
        let request = self
            .http
            .post(self.url("/webhooks/github"))
            .header("Content-Type", "application/json")
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header(
                "X-Hub-Signature-256",
                format!("sha256={}", sign(GITHUB_SECRET, body)),
            )
            .body(body.to_string());
        answer(request).await
    }

    async fn redis_connection(&self) -> redis::aio::MultiplexedConnection {
        let url = self.redis.as_ref().unwrap().url();
        redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Entries in the jobs stream, read with XLEN behind the queue's back.
    async fn stream_len(&self) -> u64 {
        let mut connection = self.redis_connection().await;
        redis::cmd("XLEN")
            .arg(Keys::new(PREFIX).jobs())
            .query_async(&mut connection)
            .await
            .unwrap()
    }

    async fn trigger(&self) -> Value {
        let (status, job) = answer(self.post("/jobs").json(&json!({
            "repo": "lab/raibid",
            "clone_url": "/srv/git/raibid",
            "ref": "refs/heads/main",
            "sha": SHA,
            "requested_by": "ann",
        })))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{job}");
        job
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {body}"))
}

// ---- webhooks ----

#[tokio::test]
async fn a_signed_gitea_push_queues_one_job_per_delivery() {
    let lab = Lab::start().await;
    let delivery = "f6266f16-1bf3-46a5-9ea4-602e06ead473";
    let (status, body) = lab
        .gitea(GITEA_PUSH, Some(sign(GITEA_SECRET, GITEA_PUSH)), delivery)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["queued"], true);
    let id = body["job"].as_str().unwrap().to_string();

    let record = lab
        .queue
        .job(&id)
        .await
        .unwrap()
        .expect("the job is stored");
    assert_eq!(record.job.repo, "lab/raibid");
    assert_eq!(record.job.clone_url, "http://gitea.lab:3000/lab/raibid.git");
    assert_eq!(record.job.git_ref, "refs/heads/main");
    assert_eq!(record.job.sha, "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e");
    assert_eq!(record.job.requested_by, "ann");
    assert_eq!(record.job.attempt, 1);
    assert_eq!(record.job.timeout_secs, 900);
    assert_eq!(record.status.state, JobState::Queued);
    assert_eq!(lab.stream_len().await, 1);

    let (status, body) = lab
        .gitea(GITEA_PUSH, Some(sign(GITEA_SECRET, GITEA_PUSH)), delivery)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["queued"], false);
    assert_eq!(
        body["reason"],
        format!("duplicate delivery: already queued as job {id}")
    );
    assert_eq!(lab.stream_len().await, 1, "a redelivery queues nothing");

    let other_delivery = "0b0c4e7e-55a1-4f5e-9d7e-2a3f4b5c6d7e";
    let (status, _) = lab
        .gitea(
            GITEA_PUSH,
            Some(sign(GITEA_SECRET, GITEA_PUSH)),
            other_delivery,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        lab.stream_len().await,
        1,
        "a new delivery of the same push within the replay window queues nothing"
    );
}

#[tokio::test]
async fn a_bad_or_missing_signature_queues_nothing() {
    let lab = Lab::start().await;
    let delivery = "6d1f8a8e-3d8e-4a53-a8a4-0f4a4e1e2b3c";
    let cases = [
        ("wrong secret", Some(sign("not-the-secret", GITEA_PUSH))),
        (
            "github format",
            Some(format!("sha256={}", sign(GITEA_SECRET, GITEA_PUSH))),
        ),
        ("not hex", Some("zz".repeat(32))),
        ("missing", None),
    ];
    for (case, signature) in cases {
        let (status, body) = lab.gitea(GITEA_PUSH, signature, delivery).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert!(
            error_of(&body).contains("X-Gitea-Signature"),
            "{case}: {body}"
        );
        assert!(!error_of(&body).contains(GITEA_SECRET));
    }
    // A body changed after signing.
    let tampered = GITEA_PUSH.replace("refs/heads/main", "refs/heads/evil");
    let (status, _) = lab
        .gitea(&tampered, Some(sign(GITEA_SECRET, GITEA_PUSH)), delivery)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(lab.stream_len().await, 0);

    // The refused attempts did not use up the delivery id.
    let (status, body) = lab
        .gitea(GITEA_PUSH, Some(sign(GITEA_SECRET, GITEA_PUSH)), delivery)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["queued"], true);
}

#[tokio::test]
async fn a_github_push_ping_and_other_events() {
    let lab = Lab::start().await;
    let (status, body) = lab
        .github("push", GITHUB_PUSH, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["job"].as_str().unwrap();
    let record = lab.queue.job(id).await.unwrap().unwrap();
    assert_eq!(record.job.repo, "example/raibid");
    assert_eq!(
        record.job.clone_url,
        "https://github.com/example/raibid.git"
    );
    assert_eq!(record.job.git_ref, "refs/heads/feature/sse-logs");
    assert_eq!(record.job.sha, "c7e9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5");
    assert_eq!(record.job.requested_by, "bob");

    let ping = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let (status, body) = lab
        .github("ping", ping, "1b4c4c2e-cc78-11e3-81ab-4c9367dc0958")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["queued"], false);

    let (status, body) = lab
        .github(
            "issues",
            r#"{"action":"opened"}"#,
            "2b4c4c2e-cc78-11e3-81ab-4c9367dc0958",
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["queued"], false);
    assert!(
        body["reason"].as_str().unwrap().contains("issues"),
        "{body}"
    );
    assert_eq!(lab.stream_len().await, 1);
}

#[tokio::test]
async fn a_deleted_branch_or_malformed_payload_queues_nothing() {
    let lab = Lab::start().await;
    let mut deletion: Value = serde_json::from_str(GITHUB_PUSH).unwrap();
    deletion["after"] = json!("0".repeat(40));
    deletion["deleted"] = json!(true);
    let deletion = deletion.to_string();
    let (status, body) = lab
        .github("push", &deletion, "3b4c4c2e-cc78-11e3-81ab-4c9367dc0958")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["queued"], false);
    assert!(
        body["reason"].as_str().unwrap().contains("deleted"),
        "{body}"
    );

    let malformed = r#"{"ref": "refs/heads/main", "after": "#;
    let (status, body) = lab
        .gitea(
            malformed,
            Some(sign(GITEA_SECRET, malformed)),
            "4b4c4c2e-cc78-11e3-81ab-4c9367dc0958",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_of(&body).starts_with("malformed push payload"),
        "{body}"
    );

    let no_repository = r#"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567","pusher":{"login":"ann"}}"#;
    let (status, body) = lab
        .gitea(
            no_repository,
            Some(sign(GITEA_SECRET, no_repository)),
            "5b4c4c2e-cc78-11e3-81ab-4c9367dc0958",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("repository"), "{body}");

    let (status, body) = lab
        .gitea(
            GITEA_PUSH,
            Some(sign(GITEA_SECRET, GITEA_PUSH)),
            "not a uuid",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("X-Gitea-Delivery"), "{body}");
    assert_eq!(lab.stream_len().await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let lab = Lab::start().await;
    let huge = format!(r#"{{"padding":"{}"}}"#, "x".repeat(BODY_LIMIT));
    let (status, body) = lab
        .gitea(
            &huge,
            Some(sign(GITEA_SECRET, &huge)),
            "6b4c4c2e-cc78-11e3-81ab-4c9367dc0958",
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    error_of(&body);
    let (status, _) = answer(
        lab.post("/jobs")
            .header("Content-Type", "application/json")
            .body(huge),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(lab.stream_len().await, 0);
}

#[tokio::test]
async fn unconfigured_secrets_close_their_routes() {
    let lab = Lab::with(ServerSettings {
        token: None,
        gitea_secret: None,
        github_secret: Some(GITHUB_SECRET.into()),
        ..settings()
    })
    .await;
    let (status, body) = lab
        .gitea(
            GITEA_PUSH,
            Some(sign(GITEA_SECRET, GITEA_PUSH)),
            "7b4c4c2e-cc78-11e3-81ab-4c9367dc0958",
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(&body), "webhook secret not configured");
    for path in ["/jobs", "/queue", "/metrics", "/agents"] {
        let (status, body) = answer(lab.get(path)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(error_of(&body), "server.token not configured");
    }
    let (status, _) = answer(lab.http.get(lab.url("/healthz"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lab.stream_len().await, 0);
}

// ---- the job API ----

#[tokio::test]
async fn the_api_needs_the_token() {
    let lab = Lab::start().await;
    let response = lab.http.get(lab.url("/jobs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    error_of(&body);

    let (status, body) = answer(lab.http.get(lab.url("/jobs")).bearer_auth("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!error_of(&body).contains(TOKEN));
    let (status, _) = answer(
        lab.http
            .get(lab.url("/jobs"))
            .basic_auth("ann", Some(TOKEN)),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = answer(
        lab.http
            .post(lab.url("/jobs"))
            .bearer_auth(format!("{TOKEN}x"))
            .json(&json!({"repo": "a/b", "clone_url": "/x", "ref": "main", "sha": SHA})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(lab.stream_len().await, 0);

    let (status, _) = answer(lab.get("/queue")).await;
    assert_eq!(status, StatusCode::OK, "the right token opens the API");
}

#[tokio::test]
async fn trigger_show_and_list_jobs() {
    let lab = Lab::start().await;
    let (status, empty) = answer(lab.get("/jobs")).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty, json!({"jobs": [], "offset": 0, "limit": 50}));

    let job = lab.trigger().await;
    assert_eq!(job["trigger"], "manual");
    assert_eq!(job["requested_by"], "ann");
    assert_eq!(job["attempt"], 1);
    assert_eq!(job["timeout_secs"], 900);
    let id = job["id"].as_str().unwrap();

    let (status, record) = answer(lab.get(&format!("/jobs/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["job"], job);
    assert_eq!(record["status"]["state"], "queued");

    let (status, body) = answer(lab.get("/jobs/no-such-job")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("no-such-job"));

    for (body, reason) in [
        (
            json!({"repo": "a/b", "clone_url": "/x", "ref": "main", "sha": "main"}),
            "sha",
        ),
        (
            json!({"repo": "", "clone_url": "/x", "ref": "main", "sha": SHA}),
            "repo",
        ),
        (
            json!({"repo": "a/b", "ref": "main", "sha": SHA}),
            "clone_url",
        ),
    ] {
        let (status, answer) = answer(lab.post("/jobs").json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_of(&answer).contains(reason), "{answer}");
    }
    let (status, _) = answer(lab.post("/jobs").body("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Four more, one of them cancelled: five in all.
    let mut ids = vec![id.to_string()];
    for _ in 0..4 {
        ids.push(lab.trigger().await["id"].as_str().unwrap().to_string());
    }
    let (status, _) = answer(lab.post(&format!("/jobs/{}/cancel", ids[2]))).await;
    assert_eq!(status, StatusCode::OK);

    let (status, page) = answer(lab.get("/jobs")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["jobs"].as_array().unwrap().len(), 5);
    assert_eq!(page["limit"], 50);

    let (_, queued) = answer(lab.get("/jobs?state=queued")).await;
    let queued = listed_ids(&queued);
    assert_eq!(queued.len(), 4);
    assert!(!queued.contains(&ids[2]));
    let (_, cancelled) = answer(lab.get("/jobs?state=cancelled")).await;
    assert_eq!(listed_ids(&cancelled), vec![ids[2].clone()]);
    let (_, other_repo) = answer(lab.get("/jobs?repo=lab/other")).await;
    assert!(listed_ids(&other_repo).is_empty());

    let (_, first) = answer(lab.get("/jobs?limit=2")).await;
    let (_, second) = answer(lab.get("/jobs?offset=2&limit=2")).await;
    let (_, third) = answer(lab.get("/jobs?offset=4&limit=2")).await;
    let mut paged: Vec<String> = [first, second, third].iter().flat_map(listed_ids).collect();
    assert_eq!(paged.len(), 5, "pages do not overlap");
    paged.sort();
    ids.sort();
    assert_eq!(paged, ids);

    let (_, capped) = answer(lab.get("/jobs?limit=100000")).await;
    assert_eq!(capped["limit"], 500);
    for (query, parameter) in [
        ("offset=18446744073709551615", "offset"),
        ("offset=1000001", "offset"),
        ("offset=-1", "offset"),
        ("limit=18446744073709551616", "limit"),
        ("limit=ten", "limit"),
    ] {
        let (status, body) = answer(lab.get(&format!("/jobs?{query}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            error_of(&body).starts_with(&format!("query parameter {parameter}:")),
            "{query}: {body}"
        );
    }
    let (status, body) = answer(lab.get("/jobs?state=sleeping")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error_of(&body);
}

fn listed_ids(page: &Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {page}"))
        .iter()
        .map(|record| record["job"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cancel_and_retry() {
    let lab = Lab::start().await;
    let id = lab.trigger().await["id"].as_str().unwrap().to_string();

    let (status, body) = answer(lab.post(&format!("/jobs/{id}/retry"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a queued job is not retried");
    assert!(error_of(&body).contains("queued"), "{body}");

    let (status, body) = answer(lab.post(&format!("/jobs/{id}/cancel"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcome"], "cancelled");
    let record = lab.queue.job(&id).await.unwrap().unwrap();
    assert_eq!(record.status.state, JobState::Cancelled);

    let (status, body) = answer(lab.post(&format!("/jobs/{id}/cancel"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcome"], "already_final");
    assert_eq!(body["state"], "cancelled");

    let (status, retry) = answer(
        lab.post(&format!("/jobs/{id}/retry"))
            .json(&json!({"requested_by": "bob"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{retry}");
    assert_eq!(retry["attempt"], 2);
    assert_eq!(retry["trigger"], "retry");
    assert_eq!(retry["requested_by"], "bob");
    assert_eq!(retry["sha"], SHA);
    assert_ne!(retry["id"], json!(id));
    let (status, _) = answer(lab.get(&format!("/jobs/{}", retry["id"].as_str().unwrap()))).await;
    assert_eq!(status, StatusCode::OK);

    for path in ["/jobs/nope/cancel", "/jobs/nope/retry"] {
        let (status, _) = answer(lab.post(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, body) = answer(lab.http.delete(lab.url("/jobs")).bearer_auth(TOKEN)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    error_of(&body);
    let (status, body) = answer(lab.get("/no/such/route")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body);
}

#[tokio::test]
async fn queue_numbers_metrics_and_probes() {
    let mut lab = Lab::start().await;
    for _ in 0..3 {
        lab.trigger().await;
    }
    let (status, stats) = answer(lab.get("/queue")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats,
        json!({"depth": 3, "lag": 3, "pending": 0, "dead": 0})
    );
    let (status, agents) = answer(lab.get("/agents")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(agents, json!([]));

    lab.gitea(
        GITEA_PUSH,
        Some(sign("wrong", GITEA_PUSH)),
        "8b4c4c2e-cc78-11e3-81ab-4c9367dc0958",
    )
    .await;
    let response = lab.get("/metrics").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        "raibid_queue_depth 3",
        "raibid_queue_lag 3",
        "raibid_queue_pending 0",
        "raibid_queue_dead 0",
        "raibid_agents 0",
        "raibid_webhooks_total{source=\"gitea\",outcome=\"unauthorized\"} 1",
        "raibid_http_requests_total{route=\"/jobs\",status=\"201\"} 3",
        "raibid_http_requests_total{route=\"/webhooks/gitea\",status=\"401\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }

    let (status, _) = answer(lab.http.get(lab.url("/readyz"))).await;
    assert_eq!(status, StatusCode::OK);
    drop(lab.redis.take());
    let (status, body) = answer(lab.http.get(lab.url("/readyz"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!error_of(&body).contains("redis://"), "{body}");
    let (status, _) = answer(lab.http.get(lab.url("/healthz"))).await;
    assert_eq!(status, StatusCode::OK);
    let text = lab
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("raibid_redis_up 0\n"), "{text}");
}

// ---- logs ----

/// One parsed Server-Sent Event.
#[derive(Debug)]
struct SseEvent {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

/// Reads a `text/event-stream` response event by event.
struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    /// The next event, or `None` when the server ended the stream. Fails past the deadline.
    async fn next(&mut self) -> Option<SseEvent> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block) {
                    return Some(event);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .expect("an event or the end of the stream before the deadline")
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

/// `None` for a block of comments only (keep-alives).
fn parse_event(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent {
        id: None,
        event: None,
        data: String::new(),
    };
    let mut fields = false;
    for line in block.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "id" => event.id = Some(value.to_string()),
            "event" => event.event = Some(value.to_string()),
            "data" => event.data.push_str(value),
            _ => continue,
        }
        fields = true;
    }
    fields.then_some(event)
}

fn lines(texts: &[&str]) -> Vec<(String, LogStream, String)> {
    texts
        .iter()
        .map(|text| ("build".to_string(), LogStream::Stdout, text.to_string()))
        .collect()
}

async fn open_log(lab: &Lab, id: &str, query: &str, last_event_id: Option<&str>) -> EventReader {
    let mut request = lab.get(&format!("/jobs/{id}/logs{query}"));
    if let Some(last) = last_event_id {
        request = request.header("Last-Event-ID", last);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    EventReader {
        response,
        buffer: String::new(),
    }
}

async fn read_lines(reader: &mut EventReader, count: usize) -> Vec<(String, String)> {
    let mut read = Vec::new();
    while read.len() < count {
        let event = reader.next().await.expect("more events");
        assert_eq!(event.event, None, "{event:?}");
        let line: Value = serde_json::from_str(&event.data).unwrap();
        let id = event.id.expect("every line has an id");
        assert_eq!(line["entry"], json!(id));
        read.push((id, line["line"].as_str().unwrap().to_string()));
    }
    read
}

#[tokio::test]
async fn logs_follow_a_job_until_it_ends() {
    let lab = Lab::start().await;
    let id = lab.trigger().await["id"].as_str().unwrap().to_string();
    let claimed = lab
        .queue
        .claim("agent-1", Duration::from_secs(1))
        .await
        .unwrap()
        .expect("the triggered job");
    assert_eq!(claimed.job.id, id);
    lab.queue
        .append_log(&id, &lines(&["Compiling raibid", "Finished dev"]))
        .await
        .unwrap();

    let mut follow = open_log(&lab, &id, "?follow=true", None).await;
    let first = read_lines(&mut follow, 2).await;
    assert_eq!(first[0].1, "Compiling raibid");
    assert_eq!(first[1].1, "Finished dev");

    // Lines written while the client waits arrive on the open stream.
    lab.queue
        .append_log(&id, &lines(&["Running tests", "test result: ok"]))
        .await
        .unwrap();
    let later = read_lines(&mut follow, 2).await;
    assert_eq!(later[0].1, "Running tests");
    assert_eq!(later[1].1, "test result: ok");

    // A client that reconnects with Last-Event-ID gets only what came after.
    let mut resumed = open_log(&lab, &id, "", Some(&first[1].0)).await;
    let rest = read_lines(&mut resumed, 2).await;
    assert_eq!(rest, later);
    assert!(
        resumed.next().await.is_none(),
        "without follow the stream ends"
    );

    // The last lines and the final status: the stream sends the lines, then ends.
    lab.queue.append_log(&id, &lines(&["done"])).await.unwrap();
    let mut status = JobStatus::queued();
    status.state = JobState::Success;
    assert!(
        lab.queue
            .finish(&claimed, "agent-1", &status)
            .await
            .unwrap()
    );
    let last = read_lines(&mut follow, 1).await;
    assert_eq!(last[0].1, "done");
    assert!(
        follow.next().await.is_none(),
        "the stream ends with the job"
    );

    // A finished job's log is sent whole and ends at once, even with follow.
    let mut replay = open_log(&lab, &id, "?follow=true", None).await;
    assert_eq!(read_lines(&mut replay, 5).await.len(), 5);
    assert!(replay.next().await.is_none());

    let (status, _) = answer(lab.get("/jobs/nope/logs")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = answer(lab.get(&format!("/jobs/{id}/logs?after=yesterday"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error_of(&body).starts_with("query parameter after:"),
        "{body}"
    );
    let overflow = "18446744073709551616-0";
    let (status, body) = answer(
        lab.get(&format!("/jobs/{id}/logs"))
            .header("Last-Event-ID", overflow),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).starts_with("Last-Event-ID:"), "{body}");
}

// ---- serve ----

fn secret_file(dir: &std::path::Path, name: &str, value: &str) -> Secret {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Secret::File(path)
}

#[tokio::test]
async fn serve_reads_the_config_and_stops_on_the_token() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.ci.redis_url = redis.url();
    config.ci.queue_prefix = PREFIX.into();
    config.server.token = secret_file(dir.path(), "token", TOKEN);
    config.server.gitea_webhook_secret = secret_file(dir.path(), "gitea", GITEA_SECRET);
    config.server.github_webhook_secret = Secret::None;
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = free.local_addr().unwrap();
    drop(free);

    let shutdown = CancellationToken::new();
    let server = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { serve(&config, Some(addr), shutdown).await }
    });
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let deadline = Instant::now() + DEADLINE;
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = answer(http.get(format!("{base}/queue")).bearer_auth(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = answer(
        http.post(format!("{base}/webhooks/github"))
            .header("X-GitHub-Event", "push")
            .body(GITHUB_PUSH),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(&body), "webhook secret not configured");

    // A follower of a job that never ends must not hold the shutdown up.
    let (status, job) = answer(
        http.post(format!("{base}/jobs"))
            .bearer_auth(TOKEN)
            .json(&json!({"repo": "a/b", "clone_url": "/x", "ref": "main", "sha": SHA})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let logs = http
        .get(format!(
            "{base}/jobs/{}/logs?follow=true",
            job["id"].as_str().unwrap()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(logs.status(), StatusCode::OK);
    let mut follower = EventReader {
        response: logs,
        buffer: String::new(),
    };

    shutdown.cancel();
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("serve returns after the token is cancelled")
        .unwrap()
        .unwrap();
    assert!(follower.next().await.is_none(), "the log stream ended");
}

#[test]
fn settings_come_from_the_config_and_hide_the_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.token = secret_file(dir.path(), "token", TOKEN);
    config.server.gitea_webhook_secret = Secret::None;
    config.server.github_webhook_secret = secret_file(dir.path(), "github", GITHUB_SECRET);
    config.server.body_limit_bytes = 1234;
    config.ci.job_timeout_secs = 77;
    let settings = ServerSettings::from_config(&config).unwrap();
    assert_eq!(settings.token.as_deref(), Some(TOKEN));
    assert_eq!(settings.gitea_secret, None);
    assert_eq!(settings.github_secret.as_deref(), Some(GITHUB_SECRET));
    assert_eq!(settings.body_limit, 1234);
    assert_eq!(settings.job_timeout_secs, 77);
    let shown = format!("{settings:?}");
    assert!(
        !shown.contains(TOKEN) && !shown.contains(GITHUB_SECRET),
        "{shown}"
    );

    let leaky = dir.path().join("leaky");
    std::fs::write(&leaky, "x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&leaky, std::fs::Permissions::from_mode(0o644)).unwrap();
    config.server.token = Secret::File(leaky);
    let error = ServerSettings::from_config(&config)
        .unwrap_err()
        .to_string();
    assert!(error.contains("server.token"), "{error}");
}

// ---- under abuse: the real binary ----

/// Bounds small enough for a test to reach them.
struct Bounds {
    header_timeout_secs: u64,
    request_timeout_secs: u64,
    max_connections: usize,
    max_log_streams: usize,
    shutdown_grace_secs: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            header_timeout_secs: 1,
            request_timeout_secs: 2,
            max_connections: 64,
            max_log_streams: 64,
            shutdown_grace_secs: 2,
        }
    }
}

/// What a bound may be overrun by in these tests: a loaded machine, never a wrong bound.
const MARGIN: Duration = Duration::from_secs(10);

/// `raibid server` run as a process on its own config, against a redis-server.
struct ServerProcess {
    redis: RedisServer,
    child: tokio::process::Child,
    addr: SocketAddr,
    base: String,
    http: reqwest::Client,
    _root: tempfile::TempDir,
}

impl ServerProcess {
    async fn start(bounds: Bounds) -> ServerProcess {
        let redis = RedisServer::start();
        let root = tempfile::tempdir().unwrap();
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let config = format!(
            "[ci]\nredis_url = \"{redis}\"\nqueue_prefix = \"{PREFIX}\"\n\
             [gitea]\nurl = \"http://gitea.lab:3000\"\n\
             [server]\nlisten = \"{addr}\"\nheader_timeout_secs = {}\nrequest_timeout_secs = {}\n\
             max_connections = {}\nmax_log_streams = {}\nshutdown_grace_secs = {}\n",
            bounds.header_timeout_secs,
            bounds.request_timeout_secs,
            bounds.max_connections,
            bounds.max_log_streams,
            bounds.shutdown_grace_secs,
            redis = redis.url(),
        );
        let config_file = root.path().join("config.toml");
        std::fs::write(&config_file, config).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_raibid"))
            .arg("--config")
            .arg(&config_file)
            .arg("server")
            .env("XDG_CONFIG_HOME", root.path().join("home/config"))
            .env("XDG_DATA_HOME", root.path().join("home/data"))
            .env("RAIBID_SERVER_TOKEN", TOKEN)
            .env("RAIBID_GITEA_WEBHOOK_SECRET", GITEA_SECRET)
            .env("RAIBID_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
            .env_remove("RAIBID_CONFIG")
            .env_remove("RAIBID_LOG")
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let server = ServerProcess {
            redis,
            child,
            addr,
            base: format!("http://{addr}"),
            // A connection per request, as forges make them: none held idle between requests.
            http: reqwest::Client::builder()
                .timeout(DEADLINE)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            _root: root,
        };
        let deadline = Instant::now() + DEADLINE;
        while server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn healthy(&self) -> bool {
        let response = self.http.get(self.url("/healthz")).send().await;
        response.is_ok_and(|response| response.status() == StatusCode::OK)
    }

    async fn push(&self, delivery: &str) -> (StatusCode, Value) {
        self.push_of(delivery, GITEA_PUSH).await
    }

    /// A signed Gitea push of `body`.
    async fn push_of(&self, delivery: &str, body: &str) -> (StatusCode, Value) {
        answer(
            self.http
                .post(self.url("/webhooks/gitea"))
                .header("Content-Type", "application/json")
                .header("X-Gitea-Event", "push")
                .header("X-Gitea-Delivery", delivery)
                .header("X-Gitea-Signature", sign(GITEA_SECRET, body))
                .body(body.to_owned()),
        )
        .await
    }

    async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// A raw connection that has sent `bytes` and then nothing more.
    async fn stall(&self, bytes: &str) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(bytes.as_bytes()).await.unwrap();
        stream
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("the server runs") as i32;
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}

/// Everything the server sends on `stream` until it closes it; fails when it is still open
/// after `within`.
async fn until_closed(mut stream: tokio::net::TcpStream, within: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    tokio::time::timeout(within, async {
        let mut buffer = [0; 4096];
        // A reset is a close too.
        while let Ok(read @ 1..) = stream.read(&mut buffer).await {
            received.extend_from_slice(&buffer[..read]);
        }
    })
    .await
    .expect("the server closed the connection in time");
    String::from_utf8_lossy(&received).into_owned()
}

const HALF_SENT_HEADERS: &str = "GET /healthz HTTP/1.1\r\nHost: raibid\r\nX-Slow: ";

#[tokio::test]
async fn half_sent_headers_are_cut_at_the_header_timeout() {
    let bounds = Bounds::default();
    let timeout = Duration::from_secs(bounds.header_timeout_secs);
    let server = ServerProcess::start(bounds).await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(server.stall(HALF_SENT_HEADERS).await);
    }
    // An idle connection holds nothing either.
    slow.push(server.stall("").await);
    assert!(server.healthy().await, "others are answered meanwhile");
    for stream in slow {
        let sent = until_closed(stream, timeout + MARGIN).await;
        assert!(!sent.contains("200 OK"), "{sent}");
    }
    assert!(server.healthy().await);
}

#[tokio::test]
async fn stalled_bodies_are_cut_at_the_request_timeout() {
    let bounds = Bounds::default();
    let timeout = Duration::from_secs(bounds.request_timeout_secs);
    let server = ServerProcess::start(bounds).await;
    let stalled = format!(
        "POST /webhooks/gitea HTTP/1.1\r\nHost: raibid\r\nContent-Type: application/json\r\n\
         X-Gitea-Event: push\r\nX-Gitea-Delivery: 9b4c4c2e-cc78-11e3-81ab-4c9367dc0958\r\n\
         X-Gitea-Signature: {}\r\nContent-Length: {}\r\n\r\n{}",
        sign(GITEA_SECRET, GITEA_PUSH),
        GITEA_PUSH.len(),
        &GITEA_PUSH[..GITEA_PUSH.len() / 2],
    );
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(server.stall(&stalled).await);
    }
    assert!(server.healthy().await, "others are answered meanwhile");
    for stream in slow {
        let sent = until_closed(stream, timeout + MARGIN).await;
        assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
        assert!(sent.contains("server.request_timeout_secs"), "{sent}");
    }
    let mut redis = server.redis().await;
    let queued: u64 = redis::cmd("XLEN")
        .arg(Keys::new(PREFIX).jobs())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(queued, 0, "a cut body queues nothing");
    let (status, body) = server.push("ab4c4c2e-cc78-11e3-81ab-4c9367dc0958").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn sigterm_ends_the_server_within_its_grace_with_slow_clients_connected() {
    // Slow clients are not cut by their own timeouts before the grace ends.
    let bounds = Bounds {
        header_timeout_secs: 600,
        request_timeout_secs: 600,
        ..Bounds::default()
    };
    let grace = Duration::from_secs(bounds.shutdown_grace_secs);
    let mut server = ServerProcess::start(bounds).await;
    let stalled_body = "POST /jobs HTTP/1.1\r\nHost: raibid\r\nContent-Length: 100\r\n\
                        Authorization: Bearer api-t0ken\r\n\r\n{";
    let mut slow = Vec::new();
    for _ in 0..10 {
        slow.push(server.stall(HALF_SENT_HEADERS).await);
        slow.push(server.stall(stalled_body).await);
    }
    // A follower of a job that never ends, and a client that reads nothing of it.
    let (status, job) = answer(
        server
            .http
            .post(server.url("/jobs"))
            .bearer_auth(TOKEN)
            .json(&json!({"repo": "a/b", "clone_url": "/x", "ref": "main", "sha": SHA})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let follow = format!(
        "GET /jobs/{}/logs?follow=true HTTP/1.1\r\nHost: raibid\r\nAuthorization: Bearer {TOKEN}\r\n\r\n",
        job["id"].as_str().unwrap()
    );
    slow.push(server.stall(&follow).await);
    assert!(server.healthy().await);

    server.terminate();
    let exit = tokio::time::timeout(grace + MARGIN, server.child.wait())
        .await
        .expect("the server exits within its grace period")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    for stream in slow {
        until_closed(stream, MARGIN).await;
    }
}

#[tokio::test]
async fn connections_over_the_limit_wait_until_one_closes() {
    let server = ServerProcess::start(Bounds {
        header_timeout_secs: 600,
        max_connections: 2,
        ..Bounds::default()
    })
    .await;
    let held = [
        server.stall(HALF_SENT_HEADERS).await,
        server.stall(HALF_SENT_HEADERS).await,
    ];
    let waiting = server
        .http
        .get(server.url("/healthz"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(
        waiting.is_err_and(|error| error.is_timeout()),
        "a third connection is not served while two are open"
    );
    drop(held);
    assert!(server.healthy().await, "served once one has closed");
}

#[tokio::test]
async fn log_streams_over_the_limit_answer_503() {
    let server = ServerProcess::start(Bounds {
        max_log_streams: 2,
        ..Bounds::default()
    })
    .await;
    let (status, job) = answer(
        server
            .http
            .post(server.url("/jobs"))
            .bearer_auth(TOKEN)
            .json(&json!({"repo": "a/b", "clone_url": "/x", "ref": "main", "sha": SHA})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let path = format!("/jobs/{}/logs?follow=true", job["id"].as_str().unwrap());
    let open = || server.http.get(server.url(&path)).bearer_auth(TOKEN).send();
    let first = open().await.unwrap();
    let second = open().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let (status, body) = answer(server.http.get(server.url(&path)).bearer_auth(TOKEN)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        error_of(&body).contains("server.max_log_streams = 2"),
        "{body}"
    );

    // A stream that ends makes room for another.
    drop(first);
    let deadline = Instant::now() + MARGIN;
    loop {
        let response = open().await.unwrap();
        if response.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "no room after a stream ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);
}

#[tokio::test]
async fn a_full_redis_refuses_pushes_with_a_reason_until_space_is_freed() {
    let server = ServerProcess::start(Bounds::default()).await;
    let (status, body) = server.push("0c4c4c2e-cc78-11e3-81ab-4c9367dc0958").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // Redis a little above what it holds, then filled to its limit.
    let mut redis = server.redis().await;
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut redis)
        .await
        .unwrap();
    let used: u64 = info
        .lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(used + (4 << 20))
        .query_async(&mut redis)
        .await
        .unwrap();
    // Large values first, then small ones: a refused command's own bytes count against the
    // limit, so large values alone leave room for a small job.
    let mut filled = 0;
    for size in [64 << 10, 4 << 10, 256] {
        let filler = "x".repeat(size);
        loop {
            let set: redis::RedisResult<()> = redis::cmd("SET")
                .arg(format!("filler:{filled}"))
                .arg(&filler)
                .query_async(&mut redis)
                .await;
            match set {
                Ok(()) => filled += 1,
                Err(error) => {
                    assert_eq!(error.code(), Some("OOM"), "{error}");
                    break;
                }
            }
            assert!(filled < 100_000, "Redis never reached its limit");
        }
    }
    let keys = Keys::new(PREFIX);
    let counts = |mut redis: redis::aio::MultiplexedConnection| {
        let keys = keys.clone();
        async move {
            let stream: u64 = redis::cmd("XLEN")
                .arg(keys.jobs())
                .query_async(&mut redis)
                .await
                .unwrap();
            let index: u64 = redis::cmd("ZCARD")
                .arg(keys.index())
                .query_async(&mut redis)
                .await
                .unwrap();
            (stream, index)
        }
    };
    assert_eq!(counts(redis.clone()).await, (1, 1));

    // Another commit: the same one again would be a replay of the first push.
    let next_push = GITEA_PUSH.replace(
        "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e",
        "8b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e",
    );
    let refused = "1c4c4c2e-cc78-11e3-81ab-4c9367dc0958";
    let (status, body) = server.push_of(refused, &next_push).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let reason = error_of(&body);
    assert!(
        reason.starts_with("queue full: Redis refuses writes"),
        "{reason}"
    );
    assert!(!reason.contains("redis://"), "{reason}");
    assert_eq!(counts(redis.clone()).await, (1, 1), "nothing half-written");
    let (status, body) = answer(server.http.get(server.url("/readyz"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(error_of(&body).starts_with("queue full"), "{body}");
    let metrics = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "raibid_queue_writes_refused_total 1",
        "raibid_webhooks_total{source=\"gitea\",outcome=\"failed\"} 1",
        "raibid_http_requests_total{route=\"/webhooks/gitea\",status=\"503\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }

    // Space freed: ready again, and the refused delivery, sent again, is queued once.
    let mut pipe = redis::pipe();
    for index in 0..filled {
        pipe.cmd("DEL").arg(format!("filler:{index}")).ignore();
    }
    let _: () = pipe.query_async(&mut redis).await.unwrap();
    let (status, body) = answer(server.http.get(server.url("/readyz"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.push_of(refused, &next_push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["queued"], true, "{body}");
    assert_eq!(counts(redis.clone()).await, (2, 2));
}
