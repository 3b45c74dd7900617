//! What the model writers' tests share, whichever server a fake plays: serving the fake,
//! a week of known data, the schema its weekly answer must match, an answer with sentences
//! the checker keeps and drops, writing through a writer while collecting the preview, and
//! the errors every backend reports alike.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::serve::{Listener, Server};
use axum::Router;
use axum::body::Body;
use axum::handler::Handler;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use raibid::backend::llm::{Backend, LlmError};
use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, Period, PeriodKind, RepoActivity,
};
use raibid::backend::sparky::write::{ModelWriter, WriteError, Writer, Written};
use raibid::config::Config;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// A fake model server's state, shared with its handler: the script it plays, and every
/// request it was sent as the handler recorded it.
pub struct Scripted<Script, Request> {
    pub script: Script,
    requests: Mutex<Vec<Request>>,
}

impl<Script, Request> Scripted<Script, Request> {
    /// Records `request`; returns how many came before it, so a script can answer each
    /// attempt in turn.
    pub fn record(&self, request: Request) -> usize {
        let mut requests = self.requests.lock().expect("requests");
        requests.push(request);
        requests.len() - 1
    }
}

/// A fake model server answering POST requests at one path; dropping it stops it.
pub struct FakeServer<Script, Request> {
    scripted: Arc<Scripted<Script, Request>>,
    server: Server,
}

impl<Script, Request> FakeServer<Script, Request>
where
    Script: Send + Sync + 'static,
    Request: Clone + Send + 'static,
{
    /// Serves `handler` at `path` on 127.0.0.1, playing `script`.
    pub fn start<H, T>(path: &str, handler: H, script: Script) -> Self
    where
        H: Handler<T, Arc<Scripted<Script, Request>>>,
        T: 'static,
    {
        let scripted = Arc::new(Scripted {
            script,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route(path, post(handler))
            .with_state(scripted.clone());
        FakeServer {
            scripted,
            server: Listener::bind().serve(app),
        }
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.scripted.requests.lock().expect("requests").clone()
    }
}

/// An error answer: `body` as JSON with `status`.
pub fn json_answer(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(body.to_string()))
        .expect("response")
}

/// A body streamed the way a model server streams its answer: `pieces` one at a time,
/// each after `delay`.
pub fn streamed(pieces: Vec<String>, delay: Duration) -> Body {
    let (tx, rx) = mpsc::channel::<Result<String, Infallible>>(4);
    tokio::spawn(async move {
        for piece in pieces {
            tokio::time::sleep(delay).await;
            if tx.send(Ok(piece)).await.is_err() {
                return;
            }
        }
    });
    Body::from_stream(ReceiverStream::new(rx))
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
        paths: Vec::new(),
    }
}

/// 2026-W47 in `raibid` and `docs` with `commits`.
pub fn week(commits: Vec<CommitRecord>) -> DigestData {
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
        failures: Vec::new(),
    }
}

/// ann leads with two commits; [C1] is the 400-line change.
pub fn busy_week() -> DigestData {
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

/// The schema a weekly digest's answer must match.
pub fn weekly_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "highlights": {"type": "array", "items": {"type": "string"}, "maxItems": 6},
        },
        "required": ["summary", "highlights"],
        "additionalProperties": false,
    })
}

/// Tokens reserved for a weekly answer, sent as the answer's limit: two per word of a
/// summary of at most 200 words and 6 highlights of 40.
pub const WEEKLY_MAX_TOKENS: u64 = 880;

/// A weekly answer as a model streams it: JSON of the schema, cut anywhere. Kept: the
/// summary's first two sentences and the first highlight; dropped: a number, a sha, an
/// unknown id, and a stock phrase from the config.
pub const ANSWER: [&str; 10] = [
    "{\"summary\": \"",
    "The week brought [T1] from [T2], ",
    "led by [P1]. ",
    "The largest change was [C1]. ",
    "It fixed 3 bugs. A testament to care.\", ",
    "\"highlights\": [",
    "\"[R1] saw the most work.\", ",
    "\"The commit abcdef1 mattered.\", ",
    "\"Then [C9] arrived.\"",
    "]}",
];

/// What the checker notes about [`ANSWER`].
pub const ANSWER_NOTES: [&str; 4] = [
    "dropped 1 model sentence with an unknown id",
    "dropped 1 model sentence with a stock phrase",
    "dropped 1 model sentence with a sha-like word",
    "dropped 1 model sentence with a number",
];

/// The weekly digest `model` wrote from [`ANSWER`], streamed to the preview as `seen`:
/// every token reached the preview in order, and the body holds what [`ANSWER`] keeps, ids
/// replaced, and nothing it drops; the rest is rendered from the data.
pub fn assert_written_from_answer(
    result: Result<Written, WriteError>,
    seen: &[String],
    model: &str,
) {
    let written = result.expect("written");
    assert_eq!(seen, ANSWER, "every token reaches the preview, in order");
    assert_eq!(written.model.as_deref(), Some(model));
    assert_eq!(written.title, "Weekly digest — 2026-W47");
    let body = &written.body;
    let summary = "## Summary\n\nThe week brought 3 commits from 2 contributors, led by ann. \
                   The largest change was `a1b2c3d` feat: live preview (ann).\n\n";
    assert!(body.contains(summary), "{body}");
    assert!(
        body.contains("## Highlights\n\n- raibid saw the most work.\n\n"),
        "{body}"
    );
    for dropped in ["3 bugs", "testament", "abcdef1", "[C9]", "arrived"] {
        assert!(!body.contains(dropped), "{dropped:?} kept:\n{body}");
    }
    assert_eq!(written.notes, ANSWER_NOTES);
    // The summary tells the largest change: the lists after it do not tell it again.
    assert_eq!(body.matches("`a1b2c3d`").count(), 1, "{body}");
    assert!(body.contains("## Notable changes\n\n"), "{body}");
}

/// The writer of `backend` from `config`, with the stock phrase [`ANSWER`] uses as a
/// filler phrase (lowercase: the checker ignores case).
pub fn writer(mut config: Config, backend: Backend) -> ModelWriter {
    config.sparky.filler_phrases = vec!["a testament to".into()];
    ModelWriter::new(&config, backend).expect("a valid config")
}

/// Writes `data` as a weekly digest; returns the result and every token the preview got.
pub async fn write_weekly(
    writer: &ModelWriter,
    data: &DigestData,
) -> (Result<Written, WriteError>, Vec<String>) {
    write_as(writer, data, DraftKind::Weekly).await
}

/// Writes `data` as a draft of `kind`; returns the result and every token the preview got.
pub async fn write_as(
    writer: &ModelWriter,
    data: &DigestData,
    kind: DraftKind,
) -> (Result<Written, WriteError>, Vec<String>) {
    let (tokens, mut rx) = mpsc::unbounded_channel();
    let result = writer.write(data, kind, &tokens).await;
    drop(tokens);
    let mut seen = Vec::new();
    while let Some(token) = rx.recv().await {
        seen.push(token);
    }
    (result, seen)
}

/// A URL nothing listens at (the port was free a moment ago).
pub fn unreachable_url() -> (String, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    (format!("http://127.0.0.1:{port}"), port)
}

/// The error of an answer as long as [`WEEKLY_MAX_TOKENS`]: it was cut there.
pub fn assert_answer_cut(result: Result<Written, WriteError>) {
    let err = result.expect_err("cut");
    assert!(
        matches!(
            err,
            WriteError::Llm(LlmError::AnswerCut { max_tokens, .. }) if u64::from(max_tokens) == WEEKLY_MAX_TOKENS
        ),
        "{err}"
    );
}

/// The error of a prompt that filled the server's 8192-token window: it was cut, and
/// `context_key` is what to raise.
pub fn assert_prompt_cut(result: Result<Written, WriteError>, context_key: &str) {
    let err = result.expect_err("prompt cut");
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
    assert!(
        err.to_string().contains(&format!("raise {context_key}")),
        "{err}"
    );
}
