//! A generic Ollama client: one streamed generation with explicit options and a deadline.
//!
//! It knows Ollama's traps (field notes): the context window is always sent, and a prompt
//! Ollama cut to fit it (`prompt_eval_count >= num_ctx`) is an error, not a result.

use std::time::Duration;

use ollama_rs::Ollama;
use ollama_rs::error::OllamaError;
use ollama_rs::generation::completion::request::GenerationRequest;
use ollama_rs::models::ModelOptions;
use tokio_stream::StreamExt;

/// What a generation is run with; sent with every request.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    pub model: String,
    /// Context window in tokens (changing it makes Ollama reload the model).
    pub num_ctx: u32,
    pub seed: i32,
    pub temperature: f32,
}

/// A finished generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub text: String,
    /// Tokens Ollama read from the prompt, from the final message.
    pub prompt_eval_count: Option<u64>,
    /// Tokens generated, from the final message.
    pub eval_count: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("ollama.url {url:?} is not valid: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("Ollama is not reachable at {url}")]
    Unreachable { url: String },
    #[error("Ollama did not finish within {secs} s (ollama.timeout_secs)")]
    Timeout { secs: u64 },
    #[error("Ollama does not have the model {model:?} (pull it with `ollama pull {model}`)")]
    UnknownModel { model: String },
    #[error(
        "Ollama read {prompt_eval_count} prompt tokens with ollama.num_ctx {num_ctx}, so it cut \
         the prompt: raise num_ctx"
    )]
    Truncated {
        prompt_eval_count: u64,
        num_ctx: u32,
    },
    #[error("Ollama answered with an error: {message}")]
    Server { message: String },
    #[error("request to Ollama at {url} failed: {message}")]
    Request { url: String, message: String },
    #[error("Ollama's stream ended before its final message")]
    Incomplete,
}

impl LlmError {
    /// Connection refused or name not resolved: nothing is listening at the URL.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, LlmError::Unreachable { .. })
    }
}

/// An Ollama server at one URL.
#[derive(Debug, Clone)]
pub struct OllamaClient {
    ollama: Ollama,
    /// The URL without credentials, for messages.
    shown_url: String,
}

impl OllamaClient {
    pub fn new(url: &str) -> Result<Self, LlmError> {
        // ollama-rs appends `api/generate` to the URL as is: a base path needs its slash.
        let base = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        let ollama = Ollama::try_new(base.as_str()).map_err(|e| LlmError::InvalidUrl {
            url: redact(url),
            reason: e.to_string(),
        })?;
        if !matches!(ollama.url().scheme(), "http" | "https") {
            return Err(LlmError::InvalidUrl {
                url: redact(url),
                reason: "the scheme must be http or https".into(),
            });
        }
        let mut shown = ollama.url().clone();
        // Both setters only fail for URLs that cannot carry credentials, which then have none.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        Ok(OllamaClient {
            shown_url: shown.to_string(),
            ollama,
        })
    }

    /// The server's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Streams one completion of `prompt`, handing each token to `on_token` as it arrives.
    /// The whole generation, connecting included, must finish within `timeout`.
    pub async fn generate(
        &self,
        prompt: &str,
        options: &GenerateOptions,
        timeout: Duration,
        on_token: impl FnMut(&str) + Send,
    ) -> Result<Generation, LlmError> {
        match tokio::time::timeout(timeout, self.stream(prompt, options, on_token)).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::Timeout {
                secs: timeout.as_secs(),
            }),
        }
    }

    async fn stream(
        &self,
        prompt: &str,
        options: &GenerateOptions,
        mut on_token: impl FnMut(&str) + Send,
    ) -> Result<Generation, LlmError> {
        let request = GenerationRequest::new(options.model.clone(), prompt).options(
            ModelOptions::default()
                .num_ctx(u64::from(options.num_ctx))
                .seed(options.seed)
                .temperature(options.temperature),
        );
        let mut stream = self
            .ollama
            .generate_stream(request)
            .await
            .map_err(|e| self.classify(e, &options.model))?;
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            for response in chunk.map_err(|e| self.classify(e, &options.model))? {
                if !response.response.is_empty() {
                    on_token(&response.response);
                    text.push_str(&response.response);
                }
                if response.done {
                    return finish(
                        text,
                        response.prompt_eval_count,
                        response.eval_count,
                        options,
                    );
                }
            }
        }
        Err(LlmError::Incomplete)
    }

    fn classify(&self, error: OllamaError, model: &str) -> LlmError {
        match error {
            OllamaError::ReqwestError(e) if e.is_connect() => LlmError::Unreachable {
                url: self.shown_url.clone(),
            },
            OllamaError::ReqwestError(e) => LlmError::Request {
                url: self.shown_url.clone(),
                message: e.without_url().to_string(),
            },
            // ollama-rs turns a non-success response into its body text, dropping the status.
            OllamaError::Other(body) => {
                let message = server_message(&body);
                if message.contains("not found") && message.contains("model") {
                    LlmError::UnknownModel {
                        model: model.to_owned(),
                    }
                } else {
                    LlmError::Server { message }
                }
            }
            other => LlmError::Server {
                message: other.to_string(),
            },
        }
    }
}

fn finish(
    text: String,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    options: &GenerateOptions,
) -> Result<Generation, LlmError> {
    match prompt_eval_count {
        Some(count) if count >= u64::from(options.num_ctx) => Err(LlmError::Truncated {
            prompt_eval_count: count,
            num_ctx: options.num_ctx,
        }),
        _ => Ok(Generation {
            text,
            prompt_eval_count,
            eval_count,
        }),
    }
}

/// Ollama's errors are `{"error": "..."}`; anything else is shown as sent, shortened.
fn server_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(parsed) => parsed.error,
        Err(_) => body.trim().chars().take(300).collect(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_messages() {
        assert_eq!(redact("http://ann:s3cret@host:11434"), "http://host:11434");
        assert_eq!(redact("http://host:11434"), "http://host:11434");
        let client = OllamaClient::new("http://ann:s3cret@127.0.0.1:11434").unwrap();
        assert!(!client.url().contains("s3cret"), "{}", client.url());
    }

    #[test]
    fn a_base_path_keeps_its_segment() {
        let client = OllamaClient::new("http://127.0.0.1:11434/ollama").unwrap();
        assert_eq!(client.url(), "http://127.0.0.1:11434/ollama/");
    }

    #[test]
    fn bad_urls_are_refused_with_the_url() {
        let err = OllamaClient::new("not a url").unwrap_err();
        assert!(matches!(err, LlmError::InvalidUrl { .. }), "{err}");
        let err = OllamaClient::new("ftp://host/").unwrap_err();
        assert!(err.to_string().contains("ftp://host/"), "{err}");
    }

    #[test]
    fn server_errors_show_ollamas_message() {
        assert_eq!(server_message(r#"{"error":"boom"}"#), "boom");
        assert_eq!(server_message("  plain text \n"), "plain text");
    }
}
