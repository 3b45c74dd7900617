//! The writer backed by a local model through Ollama.
//!
//! The model writes only the prose of Summary and Highlights from pre-digested facts; the
//! prose is checked ([`super::check`]) and the rest of the digest is rendered from the data.

use std::time::Duration;

use super::builtin::{self, one_line};
use super::check::check;
use super::prompt::{Facts, answer_words, estimate_tokens, prompt};
use super::render;
use super::{BoxFuture, TokenSink, WriteError, Writer, Written};
use crate::backend::llm::ollama::{GenerateOptions, OllamaClient};
use crate::backend::sparky::model::{DigestData, DraftKind};
use crate::config::OllamaConfig;

/// Writes digests with a model served by Ollama.
#[derive(Debug, Clone)]
pub struct OllamaWriter {
    client: OllamaClient,
    options: GenerateOptions,
    timeout: Duration,
}

impl OllamaWriter {
    pub fn new(cfg: &OllamaConfig) -> Result<Self, WriteError> {
        Ok(OllamaWriter {
            client: OllamaClient::new(&cfg.url)?,
            options: GenerateOptions {
                model: cfg.model.clone(),
                num_ctx: cfg.num_ctx,
                seed: cfg.seed,
                temperature: cfg.temperature,
            },
            timeout: Duration::from_secs(cfg.timeout_secs),
        })
    }

    async fn write_digest(
        &self,
        data: &DigestData,
        kind: DraftKind,
        tokens: &TokenSink,
    ) -> Result<Written, WriteError> {
        if data.metrics.totals.commits == 0 {
            // Nothing for a model to say about an empty period.
            return Ok(one_line(data));
        }
        let facts = Facts::from_data(data, kind);
        let prompt = prompt(data, kind, &facts);
        // Never let Ollama cut the prompt silently: refuse when prompt and answer may not fit.
        // Two tokens per word of the answer errs on the safe side.
        let estimated_tokens = estimate_tokens(&prompt);
        let reserved_tokens = answer_words(kind) * 2;
        if estimated_tokens + reserved_tokens > self.options.num_ctx as usize {
            return Err(WriteError::PromptTooLarge {
                estimated_tokens,
                reserved_tokens,
                num_ctx: self.options.num_ctx,
            });
        }
        let generation = self
            .client
            .generate(&prompt, &self.options, self.timeout, |token| {
                // A closed sink only means nobody is watching the preview.
                let _ = tokens.send(token.to_owned());
            })
            .await?;
        let (mut prose, mut notes) = check(&generation.text, &facts, kind);
        if prose.summary.is_empty() {
            prose.summary = builtin::summary(data, kind);
            notes
                .push("the model's summary was empty after checking: used the built-in one".into());
        }
        let limit = render::highlight_limit(kind);
        if prose.highlights.len() > limit {
            notes.push(format!(
                "kept the first {limit} of {} model highlights",
                prose.highlights.len()
            ));
            prose.highlights.truncate(limit);
        }
        if render::has_highlights(kind) && prose.highlights.is_empty() {
            prose.highlights = builtin::highlights(data, kind);
            notes.push(
                "the model's highlights were empty after checking: used the built-in ones".into(),
            );
        }
        Ok(Written {
            title: render::title(data, kind),
            body: render::render(data, kind, &prose),
            model: Some(self.options.model.clone()),
            notes,
        })
    }
}

impl Writer for OllamaWriter {
    fn name(&self) -> &'static str {
        "ollama"
    }

    fn write<'a>(
        &'a self,
        data: &'a DigestData,
        kind: DraftKind,
        tokens: &'a TokenSink,
    ) -> BoxFuture<'a, Result<Written, WriteError>> {
        Box::pin(self.write_digest(data, kind, tokens))
    }
}
