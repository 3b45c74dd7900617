//! Writers turn digest data into Markdown: a built-in one and a model-backed one (Ollama or
//! an OpenAI-compatible server).
//!
//! Every number, name, sha and repository in a digest is rendered from the data
//! ([`render`]); a model only writes prose (Summary, Highlights, a blog's story, a social
//! post's text) as JSON of the kind's shape ([`answer`]), referring to facts by id, and its
//! text is checked before it is used ([`check`]). docs/sparky.md has the
//! sections per kind and the rules.

mod answer;
mod areas;
mod blog;
mod builtin;
mod check;
mod figures;
mod fit;
mod github_facts;
mod github_render;
pub(super) mod markdown;
mod model;
mod narrative;
mod prompt;
mod render;
mod social;

use std::future::Future;
use std::pin::Pin;

pub use builtin::{BuiltinWriter, one_line};
pub use model::ModelWriter;

use super::model::{DigestData, DraftKind};
use crate::backend::llm::{Backend, LlmError};

/// Where a writer streams its text as it is produced (the console's live preview).
pub type TokenSink = tokio::sync::mpsc::UnboundedSender<String>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A written digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub title: String,
    /// Markdown, without front matter.
    pub body: String,
    /// The model that wrote the prose, when a model did.
    pub model: Option<String>,
    /// What the writer changed in the model's text, e.g. "dropped 1 model sentence with a number".
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The model server failed: unreachable, timed out, unknown model, cut prompt, ...
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(
        "the digest prompt needs about {estimated_tokens} tokens plus {reserved_tokens} for the \
         answer, more than {} {context_tokens}: raise it or use the built-in writer",
        .backend.context_key()
    )]
    PromptTooLarge {
        backend: Backend,
        estimated_tokens: usize,
        reserved_tokens: usize,
        context_tokens: u32,
    },
    /// The model answered, but nothing of its answer could be used: not the JSON asked
    /// for, or no summary (a social post's text) left after checking. A failed attempt,
    /// never a draft of the model's.
    #[error("{backend}'s answer was not usable: {reason}")]
    Unusable { backend: Backend, reason: String },
}

impl WriteError {
    /// Connection refused or name not resolved: the pipeline then falls back to the
    /// built-in writer and tells the user.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, WriteError::Llm(e) if e.is_unreachable())
    }

    /// The model answered, but not with a draft: not the JSON asked for, nothing left
    /// after checking, or an answer cut at its limit. Another seed may do better.
    pub fn is_bad_answer(&self) -> bool {
        matches!(
            self,
            WriteError::Unusable { .. } | WriteError::Llm(LlmError::AnswerCut { .. })
        )
    }
}

/// Writes one digest from its data.
pub trait Writer: Send + Sync {
    /// `builtin`, `ollama` or `openai`: the `writer` of the draft's front matter.
    fn name(&self) -> &'static str;

    /// Writes `data` as a digest of `kind`, streaming text to `tokens` as it is produced.
    /// A closed sink is not an error.
    fn write<'a>(
        &'a self,
        data: &'a DigestData,
        kind: DraftKind,
        tokens: &'a TokenSink,
    ) -> BoxFuture<'a, Result<Written, WriteError>>;
}
