//! The writer backed by a model: Ollama or an OpenAI-compatible server
//! ([`crate::backend::llm`]).
//!
//! The model writes only prose, from pre-digested facts, as JSON of the kind's shape
//! ([`super::answer`]); the prose is checked ([`super::check`]) and the rest of the digest is
//! rendered from the data.

use std::time::Duration;

use super::builtin::{self, one_line};
use super::check::check;
use super::markdown;
use super::prompt::{Facts, estimate_tokens, prompt};
use super::render::{self, Prose};
use super::{BoxFuture, TokenSink, WriteError, Writer, Written, answer};
use crate::backend::llm::ollama::OllamaClient;
use crate::backend::llm::openai::OpenAiClient;
use crate::backend::llm::{AnswerSpec, Backend, GenerateOptions, LlmClient};
use crate::backend::sparky::model::{DigestData, DraftKind};
use crate::config::Config;

/// Writes digests with a model.
#[derive(Debug, Clone)]
pub struct ModelWriter {
    client: LlmClient,
    options: GenerateOptions,
    /// `sparky.filler_phrases`: a sentence with one is dropped.
    filler_phrases: Vec<String>,
}

impl ModelWriter {
    /// The writer for `backend`, from its section of `config` (`[ollama]` or `[openai]`).
    pub fn new(config: &Config, backend: Backend) -> Result<Self, WriteError> {
        let (client, options) = match backend {
            Backend::Ollama => {
                let cfg = &config.ollama;
                let options = GenerateOptions {
                    model: cfg.model.clone(),
                    context_tokens: cfg.num_ctx,
                    seed: cfg.seed,
                    temperature: cfg.temperature,
                    timeout: Duration::from_secs(cfg.timeout_secs),
                };
                (LlmClient::Ollama(OllamaClient::new(&cfg.url)?), options)
            }
            Backend::OpenAi => {
                let cfg = &config.openai;
                let options = GenerateOptions {
                    model: cfg.model.clone(),
                    context_tokens: cfg.context_tokens,
                    seed: cfg.seed,
                    temperature: cfg.temperature,
                    timeout: Duration::from_secs(cfg.timeout_secs),
                };
                let client = OpenAiClient::new(&cfg.url, &cfg.api_key)?;
                (LlmClient::OpenAi(client), options)
            }
        };
        Ok(ModelWriter {
            client,
            options,
            filler_phrases: config.sparky.filler_phrases.clone(),
        })
    }

    /// This writer with the seed moved on by `attempt` (0: the configured seed), so that a
    /// draft written again comes out differently.
    pub fn for_attempt(&self, attempt: u32) -> ModelWriter {
        let mut writer = self.clone();
        writer.options.seed = self.options.seed.wrapping_add_unsigned(attempt);
        writer
    }

    fn unusable(&self, reason: String) -> WriteError {
        WriteError::Unusable {
            backend: self.client.backend(),
            reason,
        }
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
        let data = &markdown::for_kind(data, kind);
        let facts = Facts::from_data(data, kind);
        let prompt = prompt(data, kind, &facts);
        // Never let the server cut the prompt: refuse when prompt and answer may not fit.
        // Two tokens per word of the answer errs on the safe side (JSON included).
        let estimated_tokens = estimate_tokens(&prompt);
        let reserved_tokens = answer::answer_words(kind) * 2;
        let context_tokens = self.options.context_tokens;
        if estimated_tokens + reserved_tokens > context_tokens as usize {
            return Err(WriteError::PromptTooLarge {
                backend: self.client.backend(),
                estimated_tokens,
                reserved_tokens,
                context_tokens,
            });
        }
        let schema = answer::schema(kind);
        let spec = AnswerSpec {
            name: &answer::schema_name(kind),
            schema: &schema,
            max_tokens: u32::try_from(reserved_tokens).unwrap_or(u32::MAX),
        };
        let generation = self
            .client
            .generate(&prompt, spec, &self.options, |token| {
                // A closed sink only means nobody is watching the preview.
                let _ = tokens.send(token.to_owned());
            })
            .await?;
        let written = answer::parse(&generation.text, kind)
            .map_err(|why| self.unusable(format!("it was not the JSON asked for: {why}")))?;
        let (mut prose, mut notes) = check(&written, &facts, &self.filler_phrases);
        if prose.summary.is_empty() {
            // Built-in prose under the model's name would pass the checker as the model's
            // draft: another attempt, or the built-in writer, is the honest outcome.
            let mut reason = format!(
                "its \"{}\" was empty after checking",
                answer::summary_key(kind)
            );
            if !notes.is_empty() {
                reason.push_str(&format!(" ({})", notes.join("; ")));
            }
            return Err(self.unusable(reason));
        }
        fill_in(&mut prose, &mut notes, data, kind);
        Ok(Written {
            title: render::title(data, kind),
            body: render::render(data, kind, &prose),
            model: Some(self.options.model.clone()),
            notes,
        })
    }
}

/// Highlights cut to the kind's limit, and the built-in ones when none of the model's
/// survived (the summary, the model's, is the draft's own); each change noted.
fn fill_in(prose: &mut Prose, notes: &mut Vec<String>, data: &DigestData, kind: DraftKind) {
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
    if kind == DraftKind::Blog && prose.story.is_empty() {
        notes.push(
            "the model's story was empty after checking: the post has no story section".into(),
        );
    }
}

impl Writer for ModelWriter {
    fn name(&self) -> &'static str {
        self.client.backend().name()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_url_credentials() {
        let mut config = Config::default();
        config.ollama.url = "http://ann:s3cret@127.0.0.1:11434".into();
        config.openai.url = "http://ann:s3cret@127.0.0.1:8080".into();
        for backend in [Backend::Ollama, Backend::OpenAi] {
            let debug = format!("{:?}", ModelWriter::new(&config, backend).unwrap());
            assert!(
                !debug.contains("s3cret") && !debug.contains("ann:"),
                "{debug}"
            );
            assert!(debug.contains("url: \"http://127.0.0.1:"), "{debug}");
        }
    }
}
