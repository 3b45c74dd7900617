//! A client for OpenAI-compatible servers (vLLM, llama.cpp's `llama-server`): one chat
//! completion, `POST {url}/v1/chat/completions`, streamed as Server-Sent Events.
//!
//! The answer is constrained by `response_format` (a strict JSON schema). Each event is a
//! `data: {...}` line with `choices[0].delta.content`; `finish_reason` ends the answer, a
//! chunk with `usage` follows (`stream_options.include_usage`), then `data: [DONE]`.

use std::fmt;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{AnswerSpec, Backend, GenerateOptions, Generation, LlmError};
use crate::config::Secret;

const BACKEND: Backend = Backend::OpenAi;

/// An OpenAI-compatible server at one URL.
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    /// The endpoint without credentials, for messages.
    shown_url: String,
    api_key: Option<ApiKey>,
}

/// A bearer token, never shown.
#[derive(Clone)]
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Shows the endpoint without credentials (the parsed URL keeps them) and never the key.
impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("url", &self.shown_url)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A client for the server at `url` (its base: `/v1/chat/completions` is appended),
    /// sending `api_key` as a bearer token when it holds a value.
    pub fn new(url: &str, api_key: &Secret) -> Result<Self, LlmError> {
        let endpoint = format!("{}/v1/chat/completions", url.trim_end_matches('/'));
        let endpoint = super::parse_url(BACKEND, &endpoint)?;
        let shown_url = super::shown_url(&endpoint);
        let api_key = api_key
            .reveal()
            .map_err(|source| LlmError::ApiKey {
                backend: BACKEND,
                source,
            })?
            .map(ApiKey);
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| super::request_error(BACKEND, &shown_url, false, e.without_url()))?;
        Ok(OpenAiClient {
            http,
            endpoint,
            shown_url,
            api_key,
        })
    }

    /// The endpoint's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Streams one chat completion; [`super::LlmClient::generate`] bounds it in time.
    pub(super) async fn stream(
        &self,
        prompt: &str,
        answer: AnswerSpec<'_>,
        options: &GenerateOptions,
        mut on_token: impl FnMut(&str) + Send,
    ) -> Result<Generation, LlmError> {
        let body = json!({
            "model": options.model,
            "messages": [{"role": "user", "content": prompt}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "seed": options.seed,
            "temperature": options.temperature,
            "max_tokens": answer.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": answer.name, "strict": true, "schema": answer.schema},
            },
        });
        let mut request = self.http.post(self.endpoint.clone()).json(&body);
        if let Some(ApiKey(key)) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| self.request_error(e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(self.status_error(status, &body, &options.model));
        }
        let mut lines = Lines::default();
        let mut reply = Reply::default();
        while !reply.done {
            let Some(bytes) = response.chunk().await.map_err(|e| self.request_error(e))? else {
                // A last line without its newline still counts.
                reply.read(&lines.rest(), &mut on_token)?;
                break;
            };
            for line in lines.push(&bytes) {
                reply.read(&line, &mut on_token)?;
                if reply.done {
                    break;
                }
            }
        }
        let Some(reason) = reply.finish_reason else {
            return Err(LlmError::Incomplete { backend: BACKEND });
        };
        let generation = Generation {
            text: reply.text,
            prompt_tokens: reply.prompt_tokens,
            answer_tokens: reply.answer_tokens,
        };
        super::finish(BACKEND, generation, reason == "length", answer, options)
    }

    fn request_error(&self, error: reqwest::Error) -> LlmError {
        let (connect_failed, message) = (error.is_connect(), error.without_url());
        super::request_error(BACKEND, &self.shown_url, connect_failed, message)
    }

    fn status_error(&self, status: reqwest::StatusCode, body: &str, model: &str) -> LlmError {
        let message = error_message(body);
        match status.as_u16() {
            // The server's message is not shown: some repeat part of the key.
            401 | 403 => LlmError::Unauthorized {
                backend: BACKEND,
                status: status.as_u16(),
                key_sent: self.api_key.is_some(),
            },
            404 if message.to_lowercase().contains("model") => LlmError::UnknownModel {
                backend: BACKEND,
                model: model.to_owned(),
            },
            _ => LlmError::Server {
                backend: BACKEND,
                message: format!("HTTP {status} from {}: {message}", self.shown_url),
            },
        }
    }
}

/// What the stream has said so far.
#[derive(Debug, Default)]
struct Reply {
    text: String,
    finish_reason: Option<String>,
    prompt_tokens: Option<u64>,
    answer_tokens: Option<u64>,
    /// `data: [DONE]` arrived.
    done: bool,
}

/// One streamed chunk (`chat.completion.chunk`), with only what is read.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: Option<u64>,
}

impl Reply {
    /// Takes in one line of the event stream. Blank lines, comments and other fields
    /// (`event:`, `id:`) carry nothing to read.
    fn read(&mut self, line: &str, on_token: &mut impl FnMut(&str)) -> Result<(), LlmError> {
        let server_error = |message: String| LlmError::Server {
            backend: BACKEND,
            message,
        };
        // llama.cpp reports a failure after the headers as an `error:` line.
        if let Some(error) = line.strip_prefix("error:") {
            return Err(server_error(error_message(error)));
        }
        let Some(data) = line.strip_prefix("data:").map(str::trim) else {
            return Ok(());
        };
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            server_error(format!(
                "a stream event that is not a completion chunk ({e}): {}",
                super::shortened(data)
            ))
        })?;
        if let Some(error) = chunk.error {
            return Err(server_error(error_text(&error)));
        }
        if let Some(usage) = chunk.usage {
            self.prompt_tokens = Some(usage.prompt_tokens);
            self.answer_tokens = usage.completion_tokens;
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(content) = choice.delta.content.filter(|c| !c.is_empty()) {
                on_token(&content);
                self.text.push_str(&content);
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(())
    }
}

/// Splits a byte stream into lines, joining a line (or a character) cut between chunks.
#[derive(Debug, Default)]
struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// The lines completed by `bytes`, without their line ends.
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            lines.push(text(&line));
        }
        lines
    }

    /// What is left after the last line end.
    fn rest(&mut self) -> String {
        text(&std::mem::take(&mut self.pending))
    }
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .to_owned()
}

/// OpenAI, vLLM and llama.cpp answer `{"error": {"message": ...}}`; older vLLM a top-level
/// `message`. Anything else is shown as sent, shortened.
fn error_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body.trim()) {
        Ok(Value::Object(object)) => match object.get("error") {
            Some(error) => error_text(error),
            None => error_text(&Value::Object(object)),
        },
        _ => super::shortened(body),
    }
}

/// The `message` of an error object, or the error as sent.
fn error_text(error: &Value) -> String {
    match error.get("message").and_then(Value::as_str) {
        Some(message) => message.to_owned(),
        None => match error.as_str() {
            Some(text) => text.to_owned(),
            None => super::shortened(&error.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_joined_across_chunks() {
        let mut lines = Lines::default();
        assert!(lines.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            lines.push(b": 1}\r\n\ndata: \xc3"),
            ["data: {\"a\": 1}", ""]
        );
        assert_eq!(lines.push(b"\xa9\n"), ["data: é"]);
        assert!(lines.push(b"data: [DONE]").is_empty());
        assert_eq!(lines.rest(), "data: [DONE]");
    }

    #[test]
    fn every_error_shape_gives_its_message() {
        let openai = r#"{"error":{"message":"boom","type":"server_error","code":500}}"#;
        assert_eq!(error_message(openai), "boom");
        let old_vllm = r#"{"object":"error","message":"The model `x` does not exist.","code":404}"#;
        assert_eq!(error_message(old_vllm), "The model `x` does not exist.");
        assert_eq!(error_message(r#"{"error":"plain"}"#), "plain");
        assert_eq!(error_message(" Bad Gateway\n"), "Bad Gateway");
    }

    #[test]
    fn debug_shows_neither_the_key_nor_url_credentials() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let key = Secret::File(path);
        let client = OpenAiClient::new("http://ann:pa55@127.0.0.1:8080/", &key).unwrap();
        assert_eq!(client.url(), "http://127.0.0.1:8080/v1/chat/completions");
        let debug = format!("{client:?}");
        assert_eq!(
            debug,
            "OpenAiClient { url: \"http://127.0.0.1:8080/v1/chat/completions\", \
             api_key: Some(ApiKey(<redacted>)), .. }"
        );
    }
}
