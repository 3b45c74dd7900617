//! Language model clients behind one interface: Ollama through ollama-rs, and
//! OpenAI-compatible servers (vLLM, llama.cpp's server) over plain HTTP.
//!
//! Every generation is streamed, bounded by a deadline, and asked for JSON matching a
//! schema. A prompt the server cut to fit its context window, or an answer cut at the
//! token limit, is an error, not a result (field notes).

mod error;
pub mod ollama;
pub mod openai;

use std::time::Duration;

pub use error::{Backend, LlmError};
use ollama::OllamaClient;
use openai::OpenAiClient;

/// What a generation is run with.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    pub model: String,
    /// The server's context window in tokens. Ollama is sent it (`num_ctx`; changing it
    /// reloads the model); with either server a prompt that filled it was cut.
    pub context_tokens: u32,
    pub seed: i32,
    pub temperature: f32,
    /// For the whole generation, connecting included.
    pub timeout: Duration,
}

/// What the answer must be: JSON matching a schema, within a number of tokens.
#[derive(Debug, Clone, Copy)]
pub struct AnswerSpec<'a> {
    /// The schema's name: letters, digits, `_` and `-` (OpenAI's rule for `json_schema.name`).
    pub name: &'a str,
    pub schema: &'a serde_json::Value,
    /// The longest answer, in tokens; one that reaches it is cut.
    pub max_tokens: u32,
}

/// A finished generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub text: String,
    /// Tokens the server read from the prompt, when it said.
    pub prompt_tokens: Option<u64>,
    /// Tokens generated, when the server said.
    pub answer_tokens: Option<u64>,
}

/// A model server of either kind.
#[derive(Debug, Clone)]
pub enum LlmClient {
    Ollama(OllamaClient),
    OpenAi(OpenAiClient),
}

impl LlmClient {
    pub fn backend(&self) -> Backend {
        match self {
            LlmClient::Ollama(_) => Backend::Ollama,
            LlmClient::OpenAi(_) => Backend::OpenAi,
        }
    }

    /// Streams one answer to `prompt`, handing each piece of text to `on_token` as it
    /// arrives. The whole generation must finish within `options.timeout`.
    /// The text is the answer as sent: reading it is the caller's job.
    pub async fn generate(
        &self,
        prompt: &str,
        answer: AnswerSpec<'_>,
        options: &GenerateOptions,
        on_token: impl FnMut(&str) + Send,
    ) -> Result<Generation, LlmError> {
        let generation = async {
            match self {
                LlmClient::Ollama(client) => client.stream(prompt, answer, options, on_token).await,
                LlmClient::OpenAi(client) => client.stream(prompt, answer, options, on_token).await,
            }
        };
        match tokio::time::timeout(options.timeout, generation).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::Timeout {
                backend: self.backend(),
                secs: options.timeout.as_secs(),
            }),
        }
    }
}

/// The checks every finished generation gets: a prompt that filled the context window was
/// cut, and so was an answer that reached the token limit.
fn finish(
    backend: Backend,
    generation: Generation,
    answer_was_cut: bool,
    answer: AnswerSpec<'_>,
    options: &GenerateOptions,
) -> Result<Generation, LlmError> {
    if let Some(prompt_tokens) = generation.prompt_tokens
        && prompt_tokens >= u64::from(options.context_tokens)
    {
        return Err(LlmError::Truncated {
            backend,
            prompt_tokens,
            context_tokens: options.context_tokens,
        });
    }
    if answer_was_cut {
        return Err(LlmError::AnswerCut {
            backend,
            max_tokens: answer.max_tokens,
        });
    }
    Ok(generation)
}

/// A server URL parsed, with the scheme checked; `text` is shown without credentials.
fn parse_url(backend: Backend, text: &str) -> Result<reqwest::Url, LlmError> {
    let invalid = |reason: String| LlmError::InvalidUrl {
        backend,
        url: redact(text),
        reason,
    };
    let url = reqwest::Url::parse(text).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https".into()));
    }
    Ok(url)
}

/// A request to the server at `url` (shown without credentials) that failed: the server is
/// unreachable when the connection failed, else the request's own `message`. Takes the parts
/// rather than the error because ollama-rs brings its own version of reqwest.
fn request_error(
    backend: Backend,
    url: &str,
    connect_failed: bool,
    message: impl std::fmt::Display,
) -> LlmError {
    let url = url.to_owned();
    if connect_failed {
        LlmError::Unreachable { backend, url }
    } else {
        LlmError::Request {
            backend,
            url,
            message: message.to_string(),
        }
    }
}

/// `url` without `user:password@`, for messages.
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    // Both setters only fail for URLs that cannot carry credentials, which then have none.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Drops `user:password@` from a URL given as text.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// An error body shown as sent, shortened.
fn shortened(body: &str) -> String {
    body.trim().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_messages() {
        assert_eq!(redact("http://ann:s3cret@host:11434"), "http://host:11434");
        assert_eq!(redact("http://host:11434"), "http://host:11434");
        let url = parse_url(Backend::OpenAi, "http://ann:s3cret@127.0.0.1:8080").unwrap();
        assert_eq!(shown_url(&url), "http://127.0.0.1:8080/");
    }

    #[test]
    fn bad_urls_are_refused_with_the_url_and_key() {
        let err = parse_url(Backend::Ollama, "not a url").unwrap_err();
        assert!(err.to_string().starts_with("ollama.url"), "{err}");
        let err = parse_url(Backend::OpenAi, "ftp://ann:s3cret@host/").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("openai.url \"ftp://host/\""), "{text}");
    }
}
