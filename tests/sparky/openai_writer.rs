//! The model writer against a local fake of an OpenAI-compatible server, speaking the wire
//! format as llama.cpp's `llama-server` does: `POST /v1/chat/completions` with a bearer
//! key, answered with Server-Sent Events (`data: {chunk}` lines, the `finish_reason` chunk,
//! a usage chunk with empty `choices`, then `data: [DONE]`), and errors as
//! `{"error": {"code", "message", "type"}}`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use raibid::backend::llm::{Backend, LlmError};
use raibid::backend::sparky::model::DraftKind;
use raibid::backend::sparky::write::{ModelWriter, WriteError, Writer, Written};
use raibid::config::{Config, OpenAiConfig, Secret};
use serde_json::{Value, json};
use support::model_writer::{
    self, ANSWER, FakeServer, Scripted, WEEKLY_MAX_TOKENS, assert_answer_cut, assert_prompt_cut,
    assert_written_from_answer, busy_week, json_answer, streamed, unreachable_url, weekly_schema,
    write_as, write_weekly,
};

const MODEL: &str = "gemma-3-270m";
/// The key the fake accepts.
const KEY: &str = "sk-local-7f3a9c2e";

/// What the fake answers to a request with the right key.
enum Script {
    /// Streams `tokens` as deltas, then (when `finish_reason` is set) the finishing chunk,
    /// the usage chunk and `[DONE]`.
    Stream {
        tokens: Vec<&'static str>,
        finish_reason: Option<&'static str>,
        prompt_tokens: u64,
    },
    /// An error status with llama.cpp's error body.
    Error {
        status: StatusCode,
        message: &'static str,
        kind: &'static str,
    },
}

impl Script {
    fn answer(tokens: &[&'static str]) -> Script {
        Script::Stream {
            tokens: tokens.to_vec(),
            finish_reason: Some("stop"),
            prompt_tokens: 900,
        }
    }
}

/// A request as the fake records it: its `Authorization` header and body.
type Recorded = (Option<String>, Value);

/// A fake OpenAI-compatible server.
type Fake = FakeServer<Script, Recorded>;

fn error(status: StatusCode, message: &str, kind: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "type": kind}});
    json_answer(status, &body)
}

/// One `chat.completion.chunk` event, with llama.cpp's envelope.
fn event(choices: Value, usage: Option<Value>) -> String {
    let mut chunk = json!({
        "choices": choices, "created": 1_763_884_800u64, "id": "chatcmpl-fake",
        "model": MODEL, "system_fingerprint": "b7000-fake", "object": "chat.completion.chunk",
    });
    if let Some(usage) = usage {
        chunk["usage"] = usage;
        chunk["timings"] = json!({"prompt_n": 900, "predicted_n": 42});
    }
    format!("data: {chunk}\n\n")
}

async fn completions(
    State(fake): State<Arc<Scripted<Script, Recorded>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let request: Value = serde_json::from_str(&body).expect("the request is JSON");
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    fake.record((authorization.clone(), request));
    if authorization.as_deref() != Some(&format!("Bearer {KEY}")) {
        // As OpenAI does, the message repeats the key it was sent.
        let sent = authorization.unwrap_or_default();
        let message = format!("Incorrect API key provided: {sent}");
        return error(StatusCode::UNAUTHORIZED, &message, "authentication_error");
    }
    let (tokens, finish_reason, prompt_tokens) = match &fake.script {
        Script::Error {
            status,
            message,
            kind,
        } => return error(*status, message, kind),
        Script::Stream {
            tokens,
            finish_reason,
            prompt_tokens,
        } => (tokens, *finish_reason, *prompt_tokens),
    };
    let mut events = vec![event(
        json!([{"finish_reason": null, "index": 0, "delta": {"role": "assistant", "content": null}}]),
        None,
    )];
    for token in tokens {
        events.push(event(
            json!([{"finish_reason": null, "index": 0, "delta": {"content": token}}]),
            None,
        ));
    }
    if let Some(reason) = finish_reason {
        events.push(event(
            json!([{"finish_reason": reason, "index": 0, "delta": {}}]),
            None,
        ));
        let usage = json!({
            "completion_tokens": tokens.len(), "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + tokens.len() as u64,
        });
        events.push(event(json!([]), Some(usage)));
        events.push("data: [DONE]\n\n".into());
    }
    // Each event in two pieces, cut inside its JSON: the client joins lines.
    let pieces = events
        .iter()
        .flat_map(|event| {
            let (first, second) = event.split_at(event.len() / 2);
            [first.to_owned(), second.to_owned()]
        })
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(streamed(pieces, Duration::ZERO))
        .expect("response")
}

/// Starts the fake on 127.0.0.1.
fn fake(script: Script) -> Fake {
    Fake::start("/v1/chat/completions", completions, script)
}

/// A 0600 file holding `key`, as `openai.api_key = { file = ... }` names it.
fn key_file(dir: &Path, key: &str) -> Secret {
    let path = dir.join("openai-key");
    std::fs::write(&path, format!("{key}\n")).expect("write key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    Secret::File(path)
}

fn writer(url: &str, api_key: Secret) -> ModelWriter {
    let config = Config {
        openai: OpenAiConfig {
            url: url.into(),
            model: MODEL.into(),
            api_key,
            context_tokens: 8192,
            seed: 11,
            temperature: 0.3,
            timeout_secs: 5,
        },
        ..Config::default()
    };
    model_writer::writer(config, Backend::OpenAi)
}

/// Writes the busy week through a fake answering `script`, with the right key.
async fn write(script: Script) -> (Result<Written, WriteError>, Vec<String>, Fake) {
    let fake = fake(script);
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = writer(&fake.url(), key_file(dir.path(), KEY));
    let (result, seen) = write_weekly(&writer, &busy_week()).await;
    (result, seen, fake)
}

#[tokio::test]
async fn a_digest_is_written_end_to_end_with_the_schema_sent() {
    let (result, seen, fake) = write(Script::answer(&ANSWER)).await;
    assert_written_from_answer(result, &seen, MODEL);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let (authorization, request) = &requests[0];
    assert_eq!(authorization.as_deref(), Some(&*format!("Bearer {KEY}")));
    assert_eq!(request["model"], MODEL);
    assert_eq!(request["stream"], true);
    assert_eq!(request["stream_options"], json!({"include_usage": true}));
    assert_eq!(request["seed"], 11);
    assert_eq!(request["max_tokens"], WEEKLY_MAX_TOKENS);
    let temperature = request["temperature"].as_f64().expect("temperature");
    assert!((temperature - 0.3).abs() < 1e-6, "{temperature}");
    assert_eq!(
        request["response_format"],
        json!({
            "type": "json_schema",
            "json_schema": {"name": "weekly_prose", "strict": true, "schema": weekly_schema()},
        })
    );
    let messages = request["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "user");
    let prompt = messages[0]["content"].as_str().expect("prompt");
    assert!(
        prompt.contains("[C1] a change in [R1] by [P1]: \"feat: live preview\""),
        "{prompt}"
    );
}

#[tokio::test]
async fn the_writer_is_named_openai() {
    let (url, _port) = unreachable_url();
    let writer = writer(&url, Secret::None);
    assert_eq!(writer.name(), "openai");
    assert_eq!(writer.for_attempt(1).name(), "openai");
}

#[tokio::test]
async fn a_social_post_without_text_of_the_models_is_unusable() {
    let fake = fake(Script::answer(&[
        "{\"post\": ",
        "\"We shipped 3 things.\"}",
    ]));
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = writer(&fake.url(), key_file(dir.path(), KEY));
    let (result, _) = write_as(&writer, &busy_week(), DraftKind::Mastodon).await;
    let err = result.expect_err("no post of the model's");
    assert!(
        matches!(
            err,
            WriteError::Unusable {
                backend: Backend::OpenAi,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the OpenAI-compatible server's answer was not usable: its \"post\" was empty after \
         checking (dropped 1 model sentence with a number)"
    );
}

#[tokio::test]
async fn a_bad_key_is_a_clear_error_that_never_shows_the_key() {
    let fake = fake(Script::answer(&ANSWER));
    let dir = tempfile::tempdir().expect("temp dir");
    let wrong = "sk-wrong-s3cr3t-value";
    let (result, seen) = write_weekly(
        &writer(&fake.url(), key_file(dir.path(), wrong)),
        &busy_week(),
    )
    .await;
    let err = result.expect_err("refused");
    assert!(
        matches!(
            err,
            WriteError::Llm(LlmError::Unauthorized {
                status: 401,
                key_sent: true,
                ..
            })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("openai.api_key"), "{text}");
    assert!(
        !text.contains(wrong) && !format!("{err:?}").contains(wrong),
        "{text}"
    );
    assert!(seen.is_empty());
    assert_eq!(
        fake.requests()[0].0.as_deref(),
        Some(&*format!("Bearer {wrong}"))
    );

    // Without a key there is no Authorization header, and the error says to set one.
    let (result, _) = write_weekly(&writer(&fake.url(), Secret::None), &busy_week()).await;
    let err = result.expect_err("refused");
    assert!(err.to_string().contains("set openai.api_key"), "{err}");
    assert_eq!(fake.requests()[1].0, None);
}

#[tokio::test]
async fn a_server_error_shows_the_servers_message() {
    let (result, _, _) = write(Script::Error {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: "failed to load the grammar",
        kind: "server_error",
    })
    .await;
    let err = result.expect_err("server error");
    assert!(
        matches!(err, WriteError::Llm(LlmError::Server { .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("the OpenAI-compatible server answered with an error: HTTP 500"),
        "{text}"
    );
    assert!(text.ends_with("failed to load the grammar"), "{text}");
    assert!(!err.is_unreachable());
}

#[tokio::test]
async fn an_unknown_model_is_named() {
    let (result, _, _) = write(Script::Error {
        status: StatusCode::NOT_FOUND,
        message: "The model `gemma-3-270m` does not exist.",
        kind: "NotFoundError",
    })
    .await;
    let err = result.expect_err("no such model");
    assert!(
        matches!(&err, WriteError::Llm(LlmError::UnknownModel { model, .. }) if model == MODEL),
        "{err}"
    );
    assert!(err.to_string().contains("/v1/models"), "{err}");
}

#[tokio::test]
async fn an_answer_cut_at_max_tokens_is_an_error() {
    let (result, seen, _) = write(Script::Stream {
        tokens: vec!["{\"summary\": \"The week brought [T1] and"],
        finish_reason: Some("length"),
        prompt_tokens: 900,
    })
    .await;
    assert_answer_cut(result);
    assert_eq!(seen.len(), 1, "the preview saw what came");
}

#[tokio::test]
async fn a_prompt_that_filled_the_context_is_an_error() {
    let (result, _, _) = write(Script::Stream {
        tokens: ANSWER.to_vec(),
        finish_reason: Some("stop"),
        prompt_tokens: 8192,
    })
    .await;
    assert_prompt_cut(result, "openai.context_tokens");
}

#[tokio::test]
async fn a_stream_that_ends_before_finishing_is_an_error() {
    let (result, _, _) = write(Script::Stream {
        tokens: ANSWER[..3].to_vec(),
        finish_reason: None,
        prompt_tokens: 900,
    })
    .await;
    assert!(
        matches!(result, Err(WriteError::Llm(LlmError::Incomplete { .. }))),
        "{result:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let (url, port) = unreachable_url();
    let (result, _) = write_weekly(&writer(&url, Secret::None), &busy_week()).await;
    let err = result.expect_err("nobody listens");
    assert!(err.is_unreachable(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the OpenAI-compatible server is not reachable"),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{port}/v1/chat/completions")),
        "{text}"
    );
}
