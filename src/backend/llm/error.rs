//! What can go wrong with a model server, naming the server and the config key to change.

use std::fmt;

use crate::config::SecretError;

/// Which kind of server a client speaks to; its name is the config section and the draft's
/// `writer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Ollama's own API (`/api/generate`).
    Ollama,
    /// An OpenAI-compatible server (`/v1/chat/completions`): vLLM, llama.cpp's server.
    OpenAi,
}

impl Backend {
    /// `ollama` or `openai`: the config section and the draft's `writer`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ollama => "ollama",
            Backend::OpenAi => "openai",
        }
    }

    /// The config key holding the server's context window.
    pub fn context_key(self) -> &'static str {
        match self {
            Backend::Ollama => "ollama.num_ctx",
            Backend::OpenAi => "openai.context_tokens",
        }
    }

    /// How to get a model the server does not have.
    fn model_hint(self, model: &str) -> String {
        match self {
            Backend::Ollama => format!("pull it with `ollama pull {model}`"),
            Backend::OpenAi => "openai.model must be one the server's /v1/models lists".into(),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Ollama => "Ollama",
            Backend::OpenAi => "the OpenAI-compatible server",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{}.url {url:?} is not valid: {reason}", .backend.name())]
    InvalidUrl {
        backend: Backend,
        url: String,
        reason: String,
    },
    #[error("{}.api_key: {source}", .backend.name())]
    ApiKey {
        backend: Backend,
        source: SecretError,
    },
    #[error("{backend} is not reachable at {url}")]
    Unreachable { backend: Backend, url: String },
    #[error("{backend} did not finish within {secs} s ({}.timeout_secs)", .backend.name())]
    Timeout { backend: Backend, secs: u64 },
    #[error("{backend} does not have the model {model:?} ({})", .backend.model_hint(model))]
    UnknownModel { backend: Backend, model: String },
    /// HTTP 401 or 403. The server's message is left out: some repeat part of the key.
    #[error(
        "{backend} refused the request as unauthorized (HTTP {status}): {}",
        if *.key_sent { "check the key of openai.api_key" } else { "it wants a key: set openai.api_key" }
    )]
    Unauthorized {
        backend: Backend,
        status: u16,
        key_sent: bool,
    },
    #[error(
        "{backend} read {prompt_tokens} prompt tokens with {} {context_tokens}, so it cut the \
         prompt: raise {}",
        .backend.context_key(),
        .backend.context_key()
    )]
    Truncated {
        backend: Backend,
        prompt_tokens: u64,
        context_tokens: u32,
    },
    #[error("{backend} stopped the answer at its limit of {max_tokens} tokens, so it is cut")]
    AnswerCut { backend: Backend, max_tokens: u32 },
    #[error("{backend} answered with an error: {message}")]
    Server { backend: Backend, message: String },
    #[error("request to {backend} at {url} failed: {message}")]
    Request {
        backend: Backend,
        url: String,
        message: String,
    },
    #[error("{backend}'s stream ended before its final message")]
    Incomplete { backend: Backend },
}

impl LlmError {
    /// Connection refused or name not resolved: nothing is listening at the URL.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, LlmError::Unreachable { .. })
    }
}
