//! The model writer against a local fake speaking Ollama's wire format: `POST /api/generate`
//! with the answer's JSON schema in `format`, answered with `application/x-ndjson`, one JSON
//! object per line, the last one `done`.

#[path = "support/model_writer.rs"]
mod model_writer;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use model_writer::{
    ANSWER, WEEKLY_MAX_TOKENS, assert_answer_was_checked, busy_week, unreachable_url, week,
    weekly_schema, write_weekly,
};
use raibid::backend::llm::{Backend, LlmError};
use raibid::backend::sparky::model::DigestData;
use raibid::backend::sparky::write::{ModelWriter, WriteError, Writer, Written};
use raibid::config::{Config, OllamaConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

const MODEL: &str = "tiny:1b";

/// What the fake streams: `tokens`, waiting `delay` before each, then the final message
/// (unless `finish` is false) with its counts.
#[derive(Clone)]
struct Stream {
    tokens: Vec<&'static str>,
    delay: Duration,
    prompt_eval_count: u64,
    /// Tokens generated; the number of `tokens` when `None`.
    eval_count: Option<u64>,
    finish: bool,
}

impl Stream {
    fn of(tokens: &[&'static str]) -> Stream {
        Stream {
            tokens: tokens.to_vec(),
            delay: Duration::ZERO,
            prompt_eval_count: 900,
            eval_count: None,
            finish: true,
        }
    }
}

/// What the fake answers.
#[derive(Clone)]
enum Script {
    Stream(Stream),
    /// Ollama's answer for a model it does not have.
    NotFound,
}

struct Fake {
    script: Script,
    requests: Mutex<Vec<Value>>,
}

impl Fake {
    fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("requests").clone()
    }
}

async fn generate(State(fake): State<Arc<Fake>>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).expect("the request is JSON");
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    fake.requests.lock().expect("requests").push(request);
    let stream = match &fake.script {
        Script::NotFound => {
            let error =
                json!({"error": format!("model \"{model}\" not found, try pulling it first")});
            return Response::builder()
                .status(StatusCode::NOT_FOUND)
                .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
                .body(Body::from(error.to_string()))
                .expect("response");
        }
        Script::Stream(stream) => stream.clone(),
    };
    let (tx, rx) = mpsc::channel::<Result<String, Infallible>>(4);
    tokio::spawn(async move {
        let created_at = "2026-11-23T08:00:00.000000Z";
        for token in &stream.tokens {
            tokio::time::sleep(stream.delay).await;
            let line =
                json!({"model": model, "created_at": created_at, "response": token, "done": false});
            if tx.send(Ok(format!("{line}\n"))).await.is_err() {
                return;
            }
        }
        if stream.finish {
            let last = json!({
                "model": model, "created_at": created_at, "response": "", "done": true,
                "done_reason": "stop", "context": [1, 2, 3],
                "total_duration": 5_043_500_667u64, "load_duration": 5_025_959u64,
                "prompt_eval_count": stream.prompt_eval_count,
                "prompt_eval_duration": 325_953_000u64,
                "eval_count": stream.eval_count.unwrap_or(stream.tokens.len() as u64),
                "eval_duration": 4_709_213_000u64,
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

fn writer(ollama: OllamaConfig) -> ModelWriter {
    let mut config = Config {
        ollama,
        ..Config::default()
    };
    config.sparky.filler_phrases = vec!["A testament to".into()];
    ModelWriter::new(&config, Backend::Ollama).expect("a valid config")
}

async fn write(cfg: OllamaConfig, data: &DigestData) -> (Result<Written, WriteError>, Vec<String>) {
    write_weekly(&writer(cfg), data).await
}

#[tokio::test]
async fn tokens_stream_in_order_and_the_json_answer_is_checked() {
    let script = Script::Stream(Stream {
        delay: Duration::from_millis(5),
        ..Stream::of(&ANSWER)
    });
    let (url, fake) = fake(script).await;
    let (result, seen) = write(config(&url), &busy_week()).await;
    let written = result.expect("written");

    assert_eq!(seen, ANSWER, "every token reaches the preview, in order");
    assert_eq!(written.model.as_deref(), Some(MODEL));
    assert_eq!(written.title, "Weekly digest — 2026-W47");
    assert_answer_was_checked(&written);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request["model"], MODEL);
    assert_eq!(request["stream"], true);
    assert_eq!(request["format"], weekly_schema(), "the answer's schema");
    assert_eq!(request["options"]["num_ctx"], 8192);
    assert_eq!(request["options"]["num_predict"], WEEKLY_MAX_TOKENS);
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
    assert!(
        prompt.contains("- \"highlights\": a list of at most 6 strings"),
        "{prompt}"
    );
}

#[tokio::test]
async fn the_writer_is_named_after_its_backend_and_each_attempt_has_its_seed() {
    let (url, fake) = fake(Script::Stream(Stream::of(&ANSWER))).await;
    let first = writer(config(&url));
    assert_eq!(first.name(), "ollama");
    let third = first.for_attempt(2);
    assert_eq!(third.name(), "ollama");
    let data = busy_week();
    write_weekly(&first.for_attempt(0), &data)
        .await
        .0
        .expect("written");
    write_weekly(&third, &data).await.0.expect("written");
    let seeds: Vec<Value> = fake
        .requests()
        .iter()
        .map(|r| r["options"]["seed"].clone())
        .collect();
    assert_eq!(seeds, [json!(7), json!(9)]);
}

#[tokio::test]
async fn an_answer_without_usable_prose_falls_back_to_the_built_in_prose() {
    let script = Script::Stream(Stream::of(&[
        "{\"summary\": \"We made 3 commits.\", ",
        "\"highlights\": [\"Great job, [P9].\"]}",
    ]));
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
            "dropped 1 model sentence with an unknown id",
            "dropped 1 model sentence with a number",
            "the model's summary was empty after checking: used the built-in one",
            "the model's highlights were empty after checking: used the built-in ones",
        ]
    );
}

#[tokio::test]
async fn an_answer_that_is_not_json_of_the_shape_is_noted_and_replaced() {
    let script = Script::Stream(Stream::of(&["SUMMARY:\n", "[T1] landed.\n"]));
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    let written = result.expect("written");
    assert!(
        written
            .body
            .contains("## Summary\n\n3 commits by 2 contributors"),
        "{}",
        written.body
    );
    assert_eq!(written.notes.len(), 3, "{:?}", written.notes);
    assert!(
        written.notes[0]
            .starts_with("the model's answer was not the JSON asked for: it is not JSON"),
        "{:?}",
        written.notes
    );
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout() {
    let script = Script::Stream(Stream {
        delay: Duration::from_secs(3),
        ..Stream::of(&["{\"summary\": ", "\"slow\""])
    });
    let (url, _fake) = fake(script).await;
    let cfg = OllamaConfig {
        timeout_secs: 1,
        ..config(&url)
    };
    let (result, _) = write(cfg, &busy_week()).await;
    let err = result.expect_err("too slow");
    assert!(
        matches!(err, WriteError::Llm(LlmError::Timeout { secs: 1, .. })),
        "{err}"
    );
    assert!(err.to_string().contains("(ollama.timeout_secs)"), "{err}");
    assert!(!err.is_unreachable());
}

#[tokio::test]
async fn an_unknown_model_is_named() {
    let (url, _fake) = fake(Script::NotFound).await;
    let (result, seen) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("no such model");
    assert!(
        matches!(&err, WriteError::Llm(LlmError::UnknownModel { model, .. }) if model == MODEL),
        "{err}"
    );
    assert!(err.to_string().contains("ollama pull tiny:1b"), "{err}");
    assert!(seen.is_empty());
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let (url, port) = unreachable_url();
    let (result, _) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("nobody listens");
    assert!(err.is_unreachable(), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("Ollama is not reachable"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[tokio::test]
async fn a_prompt_larger_than_num_ctx_is_refused_before_sending() {
    let (url, fake) = fake(Script::Stream(Stream::of(&[]))).await;
    let cfg = OllamaConfig {
        num_ctx: 1000,
        ..config(&url)
    };
    let (result, _) = write(cfg, &busy_week()).await;
    let err = result.expect_err("too large");
    assert!(err.to_string().contains("ollama.num_ctx 1000"), "{err}");
    match err {
        WriteError::PromptTooLarge {
            estimated_tokens,
            reserved_tokens,
            context_tokens,
            backend,
        } => {
            assert_eq!((backend, context_tokens), (Backend::Ollama, 1000));
            assert_eq!(reserved_tokens as u64, WEEKLY_MAX_TOKENS);
            assert!(estimated_tokens + reserved_tokens > 1000 && estimated_tokens > 120);
        }
        other => panic!("expected PromptTooLarge, got {other}"),
    }
    assert!(fake.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_prompt_ollama_cut_is_an_error() {
    let script = Script::Stream(Stream {
        prompt_eval_count: 8192,
        ..Stream::of(&ANSWER)
    });
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("truncated");
    assert!(
        matches!(
            err,
            WriteError::Llm(LlmError::Truncated {
                prompt_tokens: 8192,
                context_tokens: 8192,
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("raise ollama.num_ctx"), "{err}");
}

#[tokio::test]
async fn an_answer_as_long_as_num_predict_is_cut() {
    let script = Script::Stream(Stream {
        eval_count: Some(WEEKLY_MAX_TOKENS),
        ..Stream::of(&["{\"summary\": \"The week brought [T1] and"])
    });
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    let err = result.expect_err("cut");
    assert!(
        matches!(
            err,
            WriteError::Llm(LlmError::AnswerCut { max_tokens, .. }) if u64::from(max_tokens) == WEEKLY_MAX_TOKENS
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_stream_without_its_final_message_is_an_error() {
    let script = Script::Stream(Stream {
        finish: false,
        ..Stream::of(&ANSWER)
    });
    let (url, _fake) = fake(script).await;
    let (result, _) = write(config(&url), &busy_week()).await;
    assert!(
        matches!(result, Err(WriteError::Llm(LlmError::Incomplete { .. }))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_empty_period_needs_no_model() {
    let (url, fake) = fake(Script::Stream(Stream::of(&[]))).await;
    let (result, _) = write(config(&url), &week(vec![])).await;
    let written = result.expect("written");
    assert_eq!(
        written.body,
        "No commits in raibid and docs during 2026-W47.\n"
    );
    assert!(fake.requests().is_empty());
}
