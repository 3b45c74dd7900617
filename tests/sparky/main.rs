//! Sparky: collecting activity, writing digests (built-in and model writers), checking
//! drafts, the drafts store, and publishing to docs repositories and social channels.
//!
//! One test binary per part of raibid; each file below is one module.

mod builtin_writer;
mod checker;
mod collect;
mod digest_kind;
mod github_digest;
mod ollama_writer;
mod openai_writer;
mod properties;
mod publish;
mod publish_channels;
mod publish_escaping;
mod publish_github;
mod schedule_cli;
mod store;
mod themes;
mod word_bounds;
