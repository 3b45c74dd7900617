//! An Ollama client: one streamed generation with explicit options and a JSON schema
//! (Ollama's `format`).
//!
//! It knows Ollama's traps (field notes): the context window is always sent, and a prompt
//! Ollama cut to fit it (`prompt_eval_count >= num_ctx`) is an error, not a result.

use std::fmt;

use ollama_rs::Ollama;
use ollama_rs::error::OllamaError;
use ollama_rs::generation::completion::request::GenerationRequest;
use ollama_rs::generation::parameters::{FormatType, JsonStructure};
use ollama_rs::models::ModelOptions;
use tokio_stream::StreamExt;

use super::{AnswerSpec, Backend, GenerateOptions, Generation, LlmError};

const BACKEND: Backend = Backend::Ollama;

/// An Ollama server at one URL.
#[derive(Clone)]
pub struct OllamaClient {
    ollama: Ollama,
    /// The URL without credentials, for messages.
    shown_url: String,
}

/// Shows the URL without credentials: ollama-rs's own `Debug` prints them.
impl fmt::Debug for OllamaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OllamaClient")
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

impl OllamaClient {
    pub fn new(url: &str) -> Result<Self, LlmError> {
        // ollama-rs appends `api/generate` to the URL as is: a base path needs its slash.
        let base = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        let url = super::parse_url(BACKEND, &base)?;
        Ok(OllamaClient {
            shown_url: super::shown_url(&url),
            ollama: Ollama::from_url(url),
        })
    }

    /// The server's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Streams one completion; [`super::LlmClient::generate`] bounds it in time.
    pub(super) async fn stream(
        &self,
        prompt: &str,
        answer: AnswerSpec<'_>,
        options: &GenerateOptions,
        mut on_token: impl FnMut(&str) + Send,
    ) -> Result<Generation, LlmError> {
        let format =
            serde_json::from_value::<JsonStructure>(answer.schema.clone()).map_err(|e| {
                LlmError::Request {
                    backend: BACKEND,
                    url: self.shown_url.clone(),
                    message: format!("the answer's schema {:?} is not usable: {e}", answer.name),
                }
            })?;
        let request = GenerationRequest::new(options.model.clone(), prompt)
            .format(FormatType::StructuredJson(Box::new(format)))
            .options(
                ModelOptions::default()
                    .num_ctx(u64::from(options.context_tokens))
                    .num_predict(i32::try_from(answer.max_tokens).unwrap_or(i32::MAX))
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
                    // Ollama's final message has no reason for stopping: an answer as long
                    // as `num_predict` was stopped there.
                    let cut = response
                        .eval_count
                        .is_some_and(|count| count >= u64::from(answer.max_tokens));
                    let generation = Generation {
                        text,
                        prompt_tokens: response.prompt_eval_count,
                        answer_tokens: response.eval_count,
                    };
                    return super::finish(BACKEND, generation, cut, answer, options);
                }
            }
        }
        Err(LlmError::Incomplete { backend: BACKEND })
    }

    fn classify(&self, error: OllamaError, model: &str) -> LlmError {
        match error {
            OllamaError::ReqwestError(e) => {
                super::request_error(BACKEND, &self.shown_url, e.is_connect(), e.without_url())
            }
            // ollama-rs turns a non-success response into its body text, dropping the status.
            OllamaError::Other(body) => {
                let message = server_message(&body);
                if message.contains("not found") && message.contains("model") {
                    LlmError::UnknownModel {
                        backend: BACKEND,
                        model: model.to_owned(),
                    }
                } else {
                    LlmError::Server {
                        backend: BACKEND,
                        message,
                    }
                }
            }
            other => LlmError::Server {
                backend: BACKEND,
                message: other.to_string(),
            },
        }
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
        Err(_) => super::shortened(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_messages() {
        let client = OllamaClient::new("http://ann:s3cret@127.0.0.1:11434").unwrap();
        assert!(!client.url().contains("s3cret"), "{}", client.url());
    }

    #[test]
    fn debug_shows_the_url_without_credentials() {
        let client = OllamaClient::new("http://ann:s3cret@127.0.0.1:11434").unwrap();
        let debug = format!("{client:?}");
        assert_eq!(
            debug,
            r#"OllamaClient { url: "http://127.0.0.1:11434/", .. }"#
        );
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
