//! Where approved drafts go: the docs repository (git push or GitHub's contents API),
//! Dev.to, a GitHub issue or discussion comment, Mastodon and Bluesky.
//!
//! Every channel finds what it published before (recorded on the draft, or looked up on
//! the remote) and updates it instead of posting again. No request that creates
//! something is retried automatically: a failure is reported, and publishing again is
//! what retries, safely. See docs/publishing.md.

pub mod bluesky;
pub mod devto;
pub mod docs;
pub mod docs_github;
mod github_api;
pub mod github_comment;
mod http;
pub mod mastodon;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::model::DraftKind;
use crate::config::SecretError;

/// A publishing channel, as named in `publish.channels`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelName {
    /// The docs repository, committed and pushed with git.
    Docs,
    /// The docs repository on GitHub, through the contents API.
    DocsGithub,
    Devto,
    GithubComment,
    Mastodon,
    Bluesky,
}

impl ChannelName {
    pub const ALL: [ChannelName; 6] = [
        ChannelName::Docs,
        ChannelName::DocsGithub,
        ChannelName::Devto,
        ChannelName::GithubComment,
        ChannelName::Mastodon,
        ChannelName::Bluesky,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelName::Docs => "docs",
            ChannelName::DocsGithub => "docs-github",
            ChannelName::Devto => "devto",
            ChannelName::GithubComment => "github-comment",
            ChannelName::Mastodon => "mastodon",
            ChannelName::Bluesky => "bluesky",
        }
    }

    pub fn parse(name: &str) -> Option<ChannelName> {
        ChannelName::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for ChannelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a channel is asked to publish: the draft, rendered for it.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub draft_id: &'a str,
    pub kind: DraftKind,
    /// The draft's date (its period's first day): stable across attempts to publish it.
    pub date: jiff::civil::Date,
    pub title: &'a str,
    /// The Markdown body of a digest or blog post (no front matter), or a social post's text.
    pub body: &'a str,
    /// The whole file for the docs repository: front matter and body.
    pub post: &'a str,
    /// Where the post lives in the docs repository, e.g. `content/blog/2026/11/week-2026-47.md`.
    pub path: &'a str,
    /// The post's public URL on the docs site (`publish.site_url`), when configured.
    pub canonical_url: Option<&'a str>,
    pub tags: &'a [String],
    /// What this channel published of this draft before: update it, do not post again.
    pub previous: Option<&'a Publication>,
}

/// One publication of a draft on a channel, recorded on the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub channel: ChannelName,
    /// The remote's id: a commit sha, an article id, a comment or status id, an AT URI.
    pub remote_id: String,
    pub url: String,
    pub published_at: Timestamp,
    /// SHA-256 (hex) of what was sent: publishing the same content again changes nothing.
    pub content_hash: String,
}

/// How a publication went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Created(Publication),
    /// An earlier publication was changed in place.
    Updated(Publication),
    /// The remote already holds exactly this.
    Unchanged(Publication),
}

impl Delivery {
    pub fn publication(&self) -> &Publication {
        match self {
            Delivery::Created(p) | Delivery::Updated(p) | Delivery::Unchanged(p) => p,
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Delivery::Created(_) => "published",
            Delivery::Updated(_) => "updated",
            Delivery::Unchanged(_) => "unchanged",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("{channel}: {key} is not set")]
    NotConfigured {
        channel: ChannelName,
        key: &'static str,
    },
    #[error("{channel}: {key} is not valid: {reason}")]
    InvalidConfig {
        channel: ChannelName,
        key: &'static str,
        reason: String,
    },
    #[error("{channel}: {source}")]
    Secret {
        channel: ChannelName,
        #[source]
        source: SecretError,
    },
    #[error("{channel}: the credentials were refused (HTTP {status}): check {key}")]
    BadToken {
        channel: ChannelName,
        status: u16,
        key: &'static str,
    },
    #[error("{channel}: rate limited{}; nothing was retried, publish again later", retry_after_secs.map(|s| format!(" for {s} s")).unwrap_or_default())]
    RateLimited {
        channel: ChannelName,
        retry_after_secs: Option<u64>,
    },
    #[error(
        "{channel}: server error (HTTP {status}): {message}; it may have been accepted, and \
         publishing again finds it instead of posting twice"
    )]
    Server {
        channel: ChannelName,
        status: u16,
        message: String,
    },
    #[error("{channel}: refused (HTTP {status}): {message}")]
    Rejected {
        channel: ChannelName,
        status: u16,
        message: String,
    },
    #[error("{channel}: request to {url} failed: {message}")]
    Request {
        channel: ChannelName,
        url: String,
        message: String,
    },
    #[error("{channel}: {message}")]
    Other {
        channel: ChannelName,
        message: String,
    },
}

/// SHA-256 of `content` in hex: [`Publication::content_hash`].
pub fn content_hash(content: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(content.as_bytes()))
}
