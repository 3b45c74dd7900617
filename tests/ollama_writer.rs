//! The Ollama writer against a local fake speaking Ollama's wire format: `POST /api/generate`
//! answered with `application/x-ndjson`, one JSON object per line, the last one `done`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use raibid::backend::llm::ollama::LlmError;
use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, Period, PeriodKind, RepoActivity,
};
use raibid::backend::sparky::write::{OllamaWriter, WriteError, Writer, Written};
use raibid::config::OllamaConfig;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

const MODEL: &str = "tiny:1b";

/// What the fake answers.
#[derive(Clone)]
enum Script {
    /// Streams `tokens`, waiting `delay` before each, then the final message, or not.
    Stream {
        tokens: Vec<&'static str>,
        delay: Duration,
        prompt_eval_count: u64,
        finish: bool,
    },
    /// Ollama's answer for a model it does not have.
    NotFound,
}

struct Fake {
    script: Script,
    requests: Mutex<Vec<Value>>,
}

async fn generate(State(fake): State<Arc<Fake>>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).expect("the request is JSON");
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    fake.requests.lock().expect("requests").push(request);
    let (tokens, delay, prompt_eval_count, finish) = match &fake.script {
        Script::NotFound => {
            let error =
                json!({"error": format!("model \"{model}\" not found, try pulling it first")});
            return Response::builder()
                .status(StatusCode::NOT_FOUND)
                .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
                .body(Body::from(error.to_string()))
                .expect("response");
        }
        Script::Stream {
            tokens,
            delay,
            prompt_eval_count,
            finish,
        } => (tokens.clone(), *delay, *prompt_eval_count, *finish),
    };
    let (tx, rx) = mpsc::channel::<Result<String, Infallible>>(4);
    tokio::spawn(async move {
        let created_at = "2026-11-23T08:00:00.000000Z";
        for token in &tokens {
            tokio::time::sleep(delay).await;
            let line =
                json!({"model": model, "created_at": created_at, "response": token, "done": false});
            if tx.send(Ok(format!("{line}\n"))).await.is_err() {
                return;
            }
        }
        if finish {
            let last = json!({
                "model": model, "created_at": created_at, "response": "", "done": true,
                "done_reason": "stop", "context": [1, 2, 3],
                "total_duration": 5_043_500_667u64, "load_duration": 5_025_959u64,
                "prompt_eval_count": prompt_eval_count, "prompt_eval_duration": 325_953_000u64,
                "eval_count": tokens.len(), "eval_duration": 4_709_213_000u64,
            });
            let _ = tx.send(Ok(format!("{last}\n"))).await;
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .expect("response")
}

/// Starts a fake Ollama on 127.0.0.1 and returns its URL.
async fn fake(script: Script) -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake {
        script,
        requests: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/api/generate", post(generate))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fake)
}

fn config(url: &str) -> OllamaConfig {
    OllamaConfig {
        url: url.into(),
        model: MODEL.into(),
        num_ctx: 8192,
        seed: 7,
        temperature: 0.25,
        timeout_secs: 5,
    }
}

fn commit(sha: &str, repo: &str, author: &str, at: &str, subject: &str, ins: u64) -> CommitRecord {
    let time: jiff::Timestamp = at.parse().expect("fixture time");
    CommitRecord {
        login: None,
        repo: repo.into(),
        sha: sha.into(),
        author: author.into(),
        email: format!("{author}@lab.example"),
        time,
        offset_seconds: 0,
        committed: time,
        subject: subject.into(),
        files_changed: 2,
        insertions: ins,
        deletions: 1,
        is_merge: false,
        is_bot: false,
    }
}

fn week(commits: Vec<CommitRecord>) -> DigestData {
    let period = Period {
        kind: PeriodKind::Week,
        since: "2026-11-16T00:00:00Z".parse().expect("since"),
        until: "2026-11-23T00:00:00Z".parse().expect("until"),
        label: "2026-W47".into(),
        time_zone: "UTC".into(),
    };
    let repos = ["raibid", "docs"];
    let activity = Activity {
        period: period.clone(),
        repos: repos
            .iter()
            .map(|name| RepoActivity {
                name: name.to_string(),
                path: format!("/src/{name}"),
                commits: commits
                    .iter()
                    .filter(|c| c.repo == *name)
                    .cloned()
                    .collect(),
                ..RepoActivity::default()
            })
            .collect(),
    };
    DigestData {
        metrics: analyze(&activity, None),
        period,
        repos: repos.iter().map(|r| r.to_string()).collect(),
        repo_paths: repos.iter().map(|r| format!("/src/{r}")).collect(),
        commits,
        link: None,
    }
}

/// ann leads with two commits; [C1] is the 400-line change.
fn busy_week() -> DigestData {
    week(vec![
        commit(
            "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            "raibid",
            "ann",
            "2026-11-20T10:00:00Z",
            "feat: live preview",
            400,
        ),
        commit(
            "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567",
            "docs",
            "bob",
            "2026-11-18T10:00:00Z",
            "docs: sparky",
            30,
        ),
        commit(
            "ffeeddccbbaa00998877665544332211aabbccdd",
            "raibid",
            "ann",
            "2026-11-17T10:00:00Z",
            "fix: quit",
            5,
        ),
    ])
}

async fn write(cfg: OllamaConfig, data: &DigestData) -> (Result<Written, WriteError>, Vec<String>) {
    let writer = OllamaWriter::new(&cfg).expect("a valid config");
    let (tokens, mut rx) = mpsc::unbounded_channel();
    let result = writer.write(data, DraftKind::Weekly, &tokens).await;
    drop(tokens);
    let mut seen = Vec::new();
    while let Some(token) = rx.recv().await {
        seen.push(token);
    }
    (result, seen)
}

const ANSWER: [&str; 9] = [
    "SUMMARY:\n",
    "The week brought [T1] from [T2], ",
    "led by [P1]. ",
    "The largest change was [C1]. ",
    "It fixed 3 bugs. ",
    "\nHIGHLIGHTS:\n",
    "- [R1] saw the most work.\n",
    "- The commit abcdef1 mattered.\n",
    "- Then [C9] arrived.\n",
];

#[tokio::test]
async fn tokens_stream_in_order_and_the_text_is_checked() {
    let script = Script::Stream {
        tokens: ANSWER.to_vec(),
        delay: Duration::from_millis(5),
        prompt_eval_count: 900,
        finish: true,
    };
    let (url, fake) = fake(script).await;
    let data = busy_week();
    let (result, seen) = write(config(&url), &data).await;
    let written = result.expect("written");

    assert_eq!(seen, ANSWER, "every token reaches the preview, in order");
    assert_eq!(written.model.as_deref(), Some(MODEL));
    assert_eq!(written.title, "Weekly digest — 2026-W47");
    let summary = "## Summary\n\nThe week brought 3 commits from 2 contributors, led by ann. \
                   The largest change was `a1b2c3d` feat: live preview (ann).\n\n";
    assert!(written.body.contains(summary), "{}", written.body);
    assert!(
        written
            .body
            .contains("## Highlights\n\n- raibid saw the most work.\n\n"),
        "{}",
        written.body
    );
    for dropped in ["3 bugs", "abcdef1", "[C9]", "arrived"] {
        assert!(
            !written.body.contains(dropped),
            "{dropped:?} kept:\n{}",
            written.body
        );
    }
    assert_eq!(
        written.notes,
        [
            "dropped 1 model sentence with an unknown id",
            "dropped 1 model sentence with a sha-like word",
            "dropped 1 model sentence with a number",
        ]
    );
    // The rest of the digest is rendered from the data.
    assert!(
        written
            .body
            .contains("## Notable changes\n\n- `a1b2c3d` feat: live preview — ann in raibid")
    );

    let requests = fake.requests.lock().expect("requests");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request["model"], MODEL);
    assert_eq!(request["stream"], true);
    assert_eq!(request["options"]["num_ctx"], 8192);
    assert_eq!(request["options"]["seed"], 7);
    let temperature = request["options"]["temperature"]
        .as_f64()
        .expect("temperature");
    assert!((temperature - 0.25).abs() < 1e-6, "{temperature}");
    let prompt = request["prompt"].as_str().expect("prompt");
    assert!(
        prompt.contains("[C1] a change in [R1] by [P1]: \"feat: live preview\""),
        "{prompt}"
    );
    assert!(
        prompt.contains("[T1] the number of commits: three"),
        "{prompt}"
    );
}

#[tokio::test]
async fn an_empty_answer_falls_back_to_the_built_in_prose() {
    let script = Script::Stream {
        tokens: vec!["SUMMARY:\n", "We made 3 commits.\n"],
        delay: Duration::ZERO,
        prompt_eval_count: 900,
        finish: true,
    };
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    let written = result.expect("written");
    assert!(
        written
            .body
            .contains("## Summary\n\n3 commits by 2 contributors across 2 repositories"),
        "{}",
        written.body
    );
    assert!(
        written
            .body
            .contains("## Highlights\n\n- Largest change: `a1b2c3d`"),
        "{}",
        written.body
    );
    assert_eq!(
        written.notes,
        [
            "dropped 1 model sentence with a number",
            "the model's summary was empty after checking: used the built-in one",
            "the model's highlights were empty after checking: used the built-in ones",
        ]
    );
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout() {
    let script = Script::Stream {
        tokens: vec!["SUMMARY:\n", "slow"],
        delay: Duration::from_secs(3),
        prompt_eval_count: 900,
        finish: true,
    };
    let (url, _fake) = fake(script).await;
    let cfg = OllamaConfig {
        timeout_secs: 1,
        ..config(&url)
    };
    let started = Instant::now();
    let (result, _) = write(cfg, &busy_week()).await;
    let err = result.expect_err("too slow");
    assert!(
        matches!(err, WriteError::Llm(LlmError::Timeout { secs: 1 })),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up at the deadline"
    );
    assert!(!err.is_unreachable());
}

#[tokio::test]
async fn an_unknown_model_is_named() {
    let (url, _fake) = fake(Script::NotFound).await;
    let (result, seen) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("no such model");
    assert!(
        matches!(&err, WriteError::Llm(LlmError::UnknownModel { model }) if model == MODEL),
        "{err}"
    );
    assert!(err.to_string().contains("ollama pull tiny:1b"), "{err}");
    assert!(seen.is_empty());
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let (result, _) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("nobody listens");
    assert!(err.is_unreachable(), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn a_prompt_larger_than_num_ctx_is_refused_before_sending() {
    let script = Script::Stream {
        tokens: vec![],
        delay: Duration::ZERO,
        prompt_eval_count: 1,
        finish: true,
    };
    let (url, fake) = fake(script).await;
    let cfg = OllamaConfig {
        num_ctx: 1000,
        ..config(&url)
    };
    let (result, _) = write(cfg, &busy_week()).await;
    let err = result.expect_err("too large");
    match err {
        WriteError::PromptTooLarge {
            estimated_tokens,
            reserved_tokens,
            num_ctx,
        } => {
            assert_eq!(num_ctx, 1000);
            // Two tokens per word asked for: a summary of at most 200 and 6 highlights of 40.
            assert_eq!(reserved_tokens, 880);
            assert!(estimated_tokens + reserved_tokens > 1000 && estimated_tokens > 120);
        }
        other => panic!("expected PromptTooLarge, got {other}"),
    }
    assert!(
        fake.requests.lock().expect("requests").is_empty(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn a_prompt_ollama_cut_is_an_error() {
    let script = Script::Stream {
        tokens: vec!["SUMMARY:\n", "[T1] landed."],
        delay: Duration::ZERO,
        prompt_eval_count: 8192,
        finish: true,
    };
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("truncated");
    assert!(
        matches!(
            err,
            WriteError::Llm(LlmError::Truncated {
                prompt_eval_count: 8192,
                num_ctx: 8192
            })
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_stream_without_its_final_message_is_an_error() {
    let script = Script::Stream {
        tokens: vec!["SUMMARY:\n", "[T1] landed."],
        delay: Duration::ZERO,
        prompt_eval_count: 900,
        finish: false,
    };
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    assert!(
        matches!(result, Err(WriteError::Llm(LlmError::Incomplete))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_empty_period_needs_no_model() {
    let script = Script::Stream {
        tokens: vec![],
        delay: Duration::ZERO,
        prompt_eval_count: 1,
        finish: true,
    };
    let (url, fake) = fake(script).await;
    let (result, _) = write(config(&url), &week(vec![])).await;
    let written = result.expect("written");
    assert_eq!(
        written.body,
        "No commits in raibid and docs during 2026-W47.\n"
    );
    assert!(fake.requests.lock().expect("requests").is_empty());
}
