//! Publishing a draft to its channels: what each channel would receive (for the preview),
//! then each delivery in turn, recorded on the draft as it succeeds.
//!
//! Only an approved (or already published) draft goes out. A channel that fails does not
//! stop the others; the draft is published once one channel has it, and publishing again
//! retries the rest and updates what is already out (see [`super::channels`]).

use std::path::PathBuf;
use std::sync::Arc;

use super::channels::bluesky::Bluesky;
use super::channels::devto::Devto;
use super::channels::docs::{DocsPost, PublishOutcome, commit_post, post_url};
use super::channels::docs_github::DocsGithub;
use super::channels::github_comment::GithubComment;
use super::channels::mastodon::Mastodon;
use super::channels::{ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash};
use super::model::{DraftKind, DraftState, LengthUnit};
use super::store::{Draft, Store, StoreError};
use crate::config::Config;

/// The Bluesky session kept between runs, under the data dir (mode 0600).
const BLUESKY_SESSION: &str = "bluesky-session.json";

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("draft {id:?} is {}: only an approved draft can be published (approve it first)", state.as_str())]
    NotApproved { id: String, state: DraftState },
    #[error(
        "draft {id:?} is a {} draft and publish.channels.{} names no channel: add one, or pass --channel",
        kind.as_str(),
        kind.as_str()
    )]
    NoChannels { id: String, kind: DraftKind },
    #[error("channel {channel} does not take {} drafts: {reason}", kind.as_str())]
    Unsuitable {
        channel: ChannelName,
        kind: DraftKind,
        reason: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the files channels keep live.
#[derive(Debug, Clone)]
pub struct Places {
    /// The docs repository used when `publish.docs_repo` is empty.
    pub default_docs_dir: PathBuf,
    /// Where sessions (Bluesky) are kept between runs.
    pub data_dir: PathBuf,
}

/// How long a social post is against its network's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Length {
    pub used: usize,
    pub limit: usize,
    pub unit: LengthUnit,
}

impl Length {
    pub fn fits(&self) -> bool {
        self.used <= self.limit
    }
}

/// What one channel would receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    pub channel: ChannelName,
    /// The text as the channel gets it (the docs post with its front matter).
    pub text: String,
    /// A social post's length against its limit.
    pub length: Option<Length>,
    /// The earlier publication on this channel: it is updated, not posted again.
    pub previous: Option<Publication>,
}

/// A draft ready to go out, and what each chosen channel would receive.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub draft: Draft,
    pub docs: DocsPost,
    pub canonical_url: Option<String>,
    pub tags: Vec<String>,
    pub renderings: Vec<Rendering>,
}

/// The channels a draft of `kind` goes to: `publish.channels`, else the kind's default
/// (digests and blog posts to the docs repository, a Mastodon or Bluesky post to its
/// network, LinkedIn and X posts nowhere: they are copied by hand).
pub fn configured_channels(config: &Config, kind: DraftKind) -> Vec<ChannelName> {
    match config.publish.channels.get(kind.as_str()) {
        Some(names) => names.iter().filter_map(|n| ChannelName::parse(n)).collect(),
        None => match kind {
            DraftKind::Mastodon => vec![ChannelName::Mastodon],
            DraftKind::Bluesky => vec![ChannelName::Bluesky],
            DraftKind::Linkedin | DraftKind::X => Vec::new(),
            _ => vec![ChannelName::Docs],
        },
    }
}

/// Whether `channel` can carry a draft of `kind`, and why not.
pub fn suitability(channel: ChannelName, kind: DraftKind) -> Result<(), &'static str> {
    let long = kind.is_digest() || kind == DraftKind::Blog;
    let fits = match channel {
        ChannelName::Docs
        | ChannelName::DocsGithub
        | ChannelName::Devto
        | ChannelName::GithubComment => long,
        ChannelName::Mastodon => kind == DraftKind::Mastodon,
        ChannelName::Bluesky => kind == DraftKind::Bluesky,
    };
    if fits {
        Ok(())
    } else if long {
        Err("it takes a social post of its own kind")
    } else {
        Err("it takes digests and blog posts")
    }
}

/// What publishing draft `id` to `channels` (empty: the configured ones) would send.
/// Blocking (reads the store).
pub fn plan(
    store: &Store,
    id: &str,
    config: &Config,
    channels: &[ChannelName],
) -> Result<Plan, DeliveryError> {
    let draft = store.load(id)?;
    let kind = draft.front.kind;
    if !matches!(
        draft.front.state,
        DraftState::Approved | DraftState::Published
    ) {
        return Err(DeliveryError::NotApproved {
            id: id.to_string(),
            state: draft.front.state,
        });
    }
    let channels = if channels.is_empty() {
        configured_channels(config, kind)
    } else {
        channels.to_vec()
    };
    if channels.is_empty() {
        return Err(DeliveryError::NoChannels {
            id: id.to_string(),
            kind,
        });
    }
    for &channel in &channels {
        suitability(channel, kind).map_err(|reason| DeliveryError::Unsuitable {
            channel,
            kind,
            reason,
        })?;
    }
    let data = store.data(id)?;
    let previous = store.publications(id)?;
    let docs = DocsPost::new(&draft, &data, &config.publish);
    let canonical_url = (!config.publish.site_url.trim().is_empty())
        .then(|| post_url(&config.publish.site_url, &docs.relative));
    let mut tags: Vec<String> = Vec::new();
    for tag in config
        .publish
        .tags
        .iter()
        .map(String::as_str)
        .chain([kind.as_str()])
    {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    let renderings = channels
        .iter()
        .map(|&channel| Rendering {
            channel,
            text: match channel {
                ChannelName::Docs | ChannelName::DocsGithub => docs.content.clone(),
                _ => draft.body.trim().to_string(),
            },
            length: kind.post_limit().map(|(limit, unit)| Length {
                used: unit.measure(draft.body.trim()),
                limit,
                unit,
            }),
            previous: previous.iter().find(|p| p.channel == channel).cloned(),
        })
        .collect();
    Ok(Plan {
        id: id.to_string(),
        draft,
        docs,
        canonical_url,
        tags,
        renderings,
    })
}

/// Sends the plan to each channel in turn, reporting each result to `on_result` as it
/// comes, records every success on the draft, and marks the draft published once a
/// channel has it.
pub async fn deliver(
    plan: &Plan,
    config: &Config,
    places: &Places,
    store: Arc<Store>,
    mut on_result: impl FnMut(ChannelName, &Result<Delivery, String>),
) -> Vec<(ChannelName, Result<Delivery, String>)> {
    let mut results = Vec::new();
    for rendering in &plan.renderings {
        let channel = rendering.channel;
        let result = match rendering.length.filter(|l| !l.fits()) {
            // The network would refuse it (or cut it): shorten it first.
            Some(length) => Err(format!(
                "{channel}: {} {}, more than its limit of {}: shorten the post first",
                length.used,
                length.unit.as_str(),
                length.limit
            )),
            None => match send(plan, rendering, config, places).await {
                Ok(delivery) => record(&store, &plan.id, delivery).await,
                Err(e) => Err(e.to_string()),
            },
        };
        on_result(channel, &result);
        results.push((channel, result));
    }
    results
}

async fn record(store: &Arc<Store>, id: &str, delivery: Delivery) -> Result<Delivery, String> {
    let store = Arc::clone(store);
    let id = id.to_string();
    tokio::task::spawn_blocking(move || {
        store.record_publication(&id, delivery.publication())?;
        store.set_state(&id, DraftState::Published)?;
        Ok::<_, StoreError>(delivery)
    })
    .await
    .map_err(|e| format!("recording the publication failed: {e}"))?
    .map_err(|e| format!("published, but recording it failed: {e}"))
}

async fn send(
    plan: &Plan,
    rendering: &Rendering,
    config: &Config,
    places: &Places,
) -> Result<Delivery, ChannelError> {
    let relative = plan.docs.relative.to_string_lossy();
    let date = plan.draft.front.date.parse().unwrap_or_else(|_| {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    });
    let outgoing = Outgoing {
        draft_id: &plan.id,
        kind: plan.draft.front.kind,
        date,
        title: &plan.draft.front.title,
        body: plan.draft.body.trim(),
        post: &plan.docs.content,
        path: &relative,
        canonical_url: plan.canonical_url.as_deref(),
        tags: &plan.tags,
        previous: rendering.previous.as_ref(),
    };
    match rendering.channel {
        ChannelName::Docs => send_docs(&outgoing, &plan.docs, config, places).await,
        ChannelName::DocsGithub => DocsGithub::new(config)?.publish(&outgoing).await,
        ChannelName::Devto => Devto::new(&config.devto)?.publish(&outgoing).await,
        ChannelName::GithubComment => GithubComment::new(config)?.publish(&outgoing).await,
        ChannelName::Mastodon => Mastodon::new(&config.mastodon)?.publish(&outgoing).await,
        ChannelName::Bluesky => {
            let session = places.data_dir.join(BLUESKY_SESSION);
            Bluesky::new(&config.bluesky, session)?
                .publish(&outgoing)
                .await
        }
    }
}

/// The docs repository through git: blocking, so off the async threads.
async fn send_docs(
    outgoing: &Outgoing<'_>,
    post: &DocsPost,
    config: &Config,
    places: &Places,
) -> Result<Delivery, ChannelError> {
    let cfg = config.publish.clone();
    let post = post.clone();
    let docs_dir = places.default_docs_dir.clone();
    let outcome = tokio::task::spawn_blocking(move || commit_post(&post, &cfg, &docs_dir))
        .await
        .map_err(|e| ChannelError::Other {
            channel: ChannelName::Docs,
            message: e.to_string(),
        })?
        .map_err(|e| ChannelError::Other {
            channel: ChannelName::Docs,
            message: e.to_string(),
        })?;
    // The site's URL only once the post has left this machine; until then, the file.
    let pushed = config.publish.push;
    let publication = |commit: String, path: PathBuf| Publication {
        channel: ChannelName::Docs,
        remote_id: commit,
        url: match outgoing.canonical_url {
            Some(url) if pushed => url.to_string(),
            _ => path.display().to_string(),
        },
        published_at: jiff::Timestamp::now(),
        content_hash: content_hash(outgoing.post),
    };
    Ok(match outcome {
        PublishOutcome::Committed { path, commit } if outgoing.previous.is_some() => {
            Delivery::Updated(publication(commit, path))
        }
        PublishOutcome::Committed { path, commit } => Delivery::Created(publication(commit, path)),
        PublishOutcome::Unchanged { path, commit } => Delivery::Unchanged(
            outgoing
                .previous
                .cloned()
                .unwrap_or_else(|| publication(commit, path)),
        ),
    })
}

/// One line for a whole publication: how many channels have the draft, and which failed.
pub fn summary(results: &[(ChannelName, Result<Delivery, String>)]) -> String {
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(c, _)| c.to_string())
        .collect();
    let ok = results.len() - failed.len();
    if failed.is_empty() {
        format!("published to {ok} of {} channels", results.len())
    } else {
        format!(
            "published to {ok} of {} channels; failed: {} (publish again to retry)",
            results.len(),
            failed.join(", ")
        )
    }
}
