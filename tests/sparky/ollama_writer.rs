//! The model writer against a local fake speaking Ollama's wire format: `POST /api/generate`
//! with the answer's JSON schema in `format`, answered with `application/x-ndjson`, one JSON
//! object per line, the last one `done`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use raibid::backend::llm::{Backend, LlmError};
use raibid::backend::sparky::model::DraftKind;
use raibid::backend::sparky::pipeline::{self, Composed, Prepared, WriterChoice};
use raibid::backend::sparky::write::{ModelWriter, WriteError, Writer, Written};
use raibid::config::{Config, OllamaConfig};
use serde_json::{Value, json};
use support::model_writer::{
    self, ANSWER, ANSWER_NOTES, FakeServer, Scripted, WEEKLY_MAX_TOKENS, assert_answer_cut,
    assert_prompt_cut, assert_written_from_answer, busy_week, json_answer, streamed,
    unreachable_url, week, weekly_schema, write_weekly,
};
use tokio::sync::mpsc;

const MODEL: &str = "tiny:1b";

/// What the fake streams: `tokens`, waiting `delay` before each, then the final message
/// (unless `finish` is false) with its counts.
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
enum Script {
    Stream(Stream),
    /// One stream per request, in order: each attempt gets its own answer.
    Turns(Vec<Stream>),
    /// Ollama's answer for a model it does not have.
    NotFound,
}

/// A fake Ollama; it records each request's body.
type Fake = FakeServer<Script, Value>;

async fn generate(State(fake): State<Arc<Scripted<Script, Value>>>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).expect("the request is JSON");
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    let turn = fake.record(request);
    let stream = match &fake.script {
        Script::NotFound => {
            let error =
                json!({"error": format!("model \"{model}\" not found, try pulling it first")});
            return json_answer(StatusCode::NOT_FOUND, &error);
        }
        Script::Stream(stream) => stream,
        Script::Turns(turns) => turns.get(turn).expect("a stream scripted for each request"),
    };
    let created_at = "2026-11-23T08:00:00.000000Z";
    let line = |message: Value| format!("{message}\n");
    let mut lines: Vec<String> = stream
        .tokens
        .iter()
        .map(|token| {
            line(
                json!({"model": model, "created_at": created_at, "response": token, "done": false}),
            )
        })
        .collect();
    if stream.finish {
        lines.push(line(json!({
            "model": model, "created_at": created_at, "response": "", "done": true,
            "done_reason": "stop", "context": [1, 2, 3],
            "total_duration": 5_043_500_667u64, "load_duration": 5_025_959u64,
            "prompt_eval_count": stream.prompt_eval_count,
            "prompt_eval_duration": 325_953_000u64,
            "eval_count": stream.eval_count.unwrap_or(stream.tokens.len() as u64),
            "eval_duration": 4_709_213_000u64,
        })));
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(streamed(lines, stream.delay))
        .expect("response")
}

/// Starts a fake Ollama on 127.0.0.1.
fn fake(script: Script) -> Fake {
    Fake::start("/api/generate", generate, script)
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
    let config = Config {
        ollama,
        ..Config::default()
    };
    model_writer::writer(config, Backend::Ollama)
}

/// Writes the busy week through a fake answering `script`, with the default config.
async fn write(script: Script) -> (Result<Written, WriteError>, Vec<String>, Fake) {
    let fake = fake(script);
    let (result, seen) = write_weekly(&writer(config(&fake.url())), &busy_week()).await;
    (result, seen, fake)
}

#[tokio::test]
async fn tokens_stream_in_order_and_the_json_answer_is_checked() {
    let script = Script::Stream(Stream {
        delay: Duration::from_millis(5),
        ..Stream::of(&ANSWER)
    });
    let (result, seen, fake) = write(script).await;
    assert_written_from_answer(result, &seen, MODEL);

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
    let fake = fake(Script::Stream(Stream::of(&ANSWER)));
    let first = writer(config(&fake.url()));
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

/// An answer that is not JSON of the schema: a model ignoring `format`.
const NOT_JSON: [&str; 2] = ["SUMMARY:\n", "[T1] landed.\n"];

#[tokio::test]
async fn an_answer_whose_summary_is_all_dropped_is_unusable() {
    let script = Script::Stream(Stream::of(&[
        "{\"summary\": \"We made 3 commits.\", ",
        "\"highlights\": [\"Great job, [P9].\"]}",
    ]));
    let (result, _, _) = write(script).await;
    let err = result.expect_err("no summary of the model's");
    assert!(
        matches!(
            err,
            WriteError::Unusable {
                backend: Backend::Ollama,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Ollama's answer was not usable: its \"summary\" was empty after checking (dropped \
         1 model sentence with an unknown id; dropped 1 model sentence with a number)"
    );
}

#[tokio::test]
async fn highlights_all_dropped_are_the_built_in_ones_under_the_models_summary() {
    let script = Script::Stream(Stream::of(&[
        "{\"summary\": \"The week brought [T1].\", ",
        "\"highlights\": [\"Great job, [P9].\"]}",
    ]));
    let (result, _, _) = write(script).await;
    let written = result.expect("written");
    assert_eq!(written.model.as_deref(), Some(MODEL));
    let body = &written.body;
    assert!(
        body.contains("## Summary\n\nThe week brought 3 commits.\n\n"),
        "{body}"
    );
    assert!(
        body.contains("## Highlights\n\n- Largest change: `a1b2c3d`"),
        "{body}"
    );
    assert_eq!(
        written.notes,
        [
            "dropped 1 model sentence with an unknown id",
            "the model's highlights were empty after checking: used the built-in ones",
        ]
    );
}

#[tokio::test]
async fn an_answer_that_is_not_json_of_the_shape_is_unusable() {
    let (result, seen, _) = write(Script::Stream(Stream::of(&NOT_JSON))).await;
    assert_eq!(seen, NOT_JSON, "the preview saw the answer");
    let err = result.expect_err("not JSON");
    assert!(!err.is_unreachable());
    let text = err.to_string();
    assert!(
        text.starts_with(
            "Ollama's answer was not usable: it was not the JSON asked for: it is not JSON ("
        ),
        "{text}"
    );
}

/// The busy week as the pipeline's weekly digest.
fn prepared() -> Prepared {
    Prepared {
        id: "2026-W47-2-repos".into(),
        kind: DraftKind::Weekly,
        data: busy_week(),
        warnings: Vec::new(),
        usage: None,
    }
}

/// Composes the busy week with `--writer ollama` against `fake`, writing at most
/// `attempts` drafts.
async fn compose(fake: &Fake, attempts: u32) -> Composed {
    let mut config = Config {
        ollama: config(&fake.url()),
        ..Config::default()
    };
    config.sparky.attempts = attempts;
    config.sparky.filler_phrases = vec!["a testament to".into()];
    let (tokens, _preview) = mpsc::unbounded_channel();
    pipeline::compose(&config, WriterChoice::Ollama, &prepared(), &tokens)
        .await
        .expect("composed")
        .expect("a draft")
}

#[tokio::test]
async fn unusable_answers_are_written_again_then_the_built_in_writer_takes_over() {
    let fake = fake(Script::Stream(Stream::of(&NOT_JSON)));
    let composed = compose(&fake, 3).await;

    let seeds: Vec<Value> = fake
        .requests()
        .iter()
        .map(|r| r["options"]["seed"].clone())
        .collect();
    assert_eq!(seeds, [json!(7), json!(8), json!(9)], "three attempts");
    assert_eq!(composed.front.writer, "builtin");
    assert_eq!(composed.front.model, None);
    assert!(
        composed
            .body
            .contains("## Summary\n\nA quiet week: 3 commits."),
        "{}",
        composed.body
    );
    let notices = &composed.notices;
    assert_eq!(notices.len(), 4, "{notices:#?}");
    for (n, notice) in notices[..3].iter().enumerate() {
        let attempt = format!(
            "attempt {} of 3: Ollama's answer was not usable: it was not the JSON asked for",
            n + 1
        );
        assert!(notice.starts_with(&attempt), "{notice}");
    }
    assert_eq!(
        notices[3],
        "no model draft was usable and passed the checker in 3 attempts: used the built-in writer"
    );
}

#[tokio::test]
async fn after_an_unusable_answer_the_next_usable_one_is_the_models_draft() {
    let fake = fake(Script::Turns(vec![
        Stream::of(&NOT_JSON),
        Stream::of(&ANSWER),
    ]));
    let composed = compose(&fake, 3).await;

    assert_eq!(fake.requests().len(), 2);
    assert_eq!(composed.front.writer, "ollama");
    assert_eq!(composed.front.model.as_deref(), Some(MODEL));
    assert!(
        composed
            .body
            .contains("The largest change was `a1b2c3d` feat: live preview (ann)."),
        "{}",
        composed.body
    );
    let (first, notes) = composed.notices.split_first().expect("notices");
    assert!(
        first.starts_with("attempt 1 of 3: Ollama's answer was not usable"),
        "{first}"
    );
    assert_eq!(notes, ANSWER_NOTES);
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout() {
    let script = Script::Stream(Stream {
        delay: Duration::from_secs(3),
        ..Stream::of(&["{\"summary\": ", "\"slow\""])
    });
    let fake = fake(script);
    let cfg = OllamaConfig {
        timeout_secs: 1,
        ..config(&fake.url())
    };
    let (result, _) = write_weekly(&writer(cfg), &busy_week()).await;
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
    let (result, seen, _) = write(Script::NotFound).await;
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
    let (result, _) = write_weekly(&writer(config(&url)), &busy_week()).await;
    let err = result.expect_err("nobody listens");
    assert!(err.is_unreachable(), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("Ollama is not reachable"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[tokio::test]
async fn a_prompt_larger_than_num_ctx_is_refused_before_sending() {
    let fake = fake(Script::Stream(Stream::of(&[])));
    let cfg = OllamaConfig {
        num_ctx: 1000,
        ..config(&fake.url())
    };
    let (result, _) = write_weekly(&writer(cfg), &busy_week()).await;
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
    let (result, _, _) = write(script).await;
    assert_prompt_cut(result, "ollama.num_ctx");
}

#[tokio::test]
async fn an_answer_as_long_as_num_predict_is_cut() {
    let script = Script::Stream(Stream {
        eval_count: Some(WEEKLY_MAX_TOKENS),
        ..Stream::of(&["{\"summary\": \"The week brought [T1] and"])
    });
    let (result, _, _) = write(script).await;
    assert_answer_cut(result);
}

#[tokio::test]
async fn a_stream_without_its_final_message_is_an_error() {
    let script = Script::Stream(Stream {
        finish: false,
        ..Stream::of(&ANSWER)
    });
    let (result, _, _) = write(script).await;
    assert!(
        matches!(result, Err(WriteError::Llm(LlmError::Incomplete { .. }))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_empty_period_needs_no_model() {
    let fake = fake(Script::Stream(Stream::of(&[])));
    let (result, _) = write_weekly(&writer(config(&fake.url())), &week(vec![])).await;
    let written = result.expect("written");
    assert_eq!(
        written.body,
        "No commits in raibid and docs during 2026-W47.\n"
    );
    assert!(fake.requests().is_empty());
}
