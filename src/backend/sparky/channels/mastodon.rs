//! Mastodon: social posts as statuses, with the account's bearer token.
//!
//! A new post is `POST /api/v1/statuses` with an `Idempotency-Key` derived from the draft
//! and its content: a retry after a server error that had accepted the status gets that
//! status back instead of a second one (Mastodon keeps keys for an hour). A post
//! published before is edited in place with `PUT /api/v1/statuses/{id}`.

use jiff::Timestamp;
use reqwest::header::AUTHORIZATION;
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Deserialize;
use serde_json::json;

use super::http::{self, Peer, Refusal};
use super::{ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash};
use crate::config::MastodonConfig;

const CHANNEL: ChannelName = ChannelName::Mastodon;
const PEER: Peer = Peer {
    channel: CHANNEL,
    credential: "mastodon.token",
};
const VISIBILITIES: [&str; 4] = ["public", "unlisted", "private", "direct"];

pub struct Mastodon {
    http: reqwest::Client,
    base: Url,
    token: String,
    visibility: String,
}

impl std::fmt::Debug for Mastodon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mastodon")
            .field("base", &self.base.as_str())
            .field("visibility", &self.visibility)
            .finish_non_exhaustive()
    }
}

/// A status as Mastodon answers it (the fields this channel reads).
#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    /// The post's web page; null for some remote or private statuses.
    url: Option<String>,
    uri: String,
}

impl Mastodon {
    pub fn new(cfg: &MastodonConfig) -> Result<Mastodon, ChannelError> {
        let base = http::base_url(CHANNEL, "mastodon.url", &cfg.url)?;
        if !VISIBILITIES.contains(&cfg.visibility.as_str()) {
            return Err(ChannelError::InvalidConfig {
                channel: CHANNEL,
                key: "mastodon.visibility",
                reason: format!(
                    "`{}` is none of {}",
                    cfg.visibility,
                    VISIBILITIES.join(", ")
                ),
            });
        }
        let token = PEER.reveal(&cfg.token)?;
        Ok(Mastodon {
            http: http::client(CHANNEL)?,
            base,
            token,
            visibility: cfg.visibility.clone(),
        })
    }

    pub async fn publish(&self, out: &Outgoing<'_>) -> Result<Delivery, ChannelError> {
        PEER.social_posts_only("Mastodon", out.kind)?;
        let hash = content_hash(out.body);
        if let Some(previous) = out.previous {
            if previous.content_hash == hash {
                return Ok(Delivery::Unchanged(previous.clone()));
            }
            if let Some(edited) = self.edit(&previous.remote_id, out.body).await? {
                return Ok(Delivery::Updated(publication(edited, hash)));
            }
            tracing::info!(id = %previous.remote_id, "the Mastodon status is gone; posting anew");
        }
        let request = self
            .request(Method::POST, &["api", "v1", "statuses"])
            .header("Idempotency-Key", idempotency_key(out.draft_id, &hash))
            .json(&json!({ "status": out.body, "visibility": self.visibility }));
        let status = PEER.json(PEER.send(request).await?).await?;
        Ok(Delivery::Created(publication(status, hash)))
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.http
            .request(method, http::endpoint(&self.base, segments))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
    }

    /// `PUT /api/v1/statuses/{id}`; `None` when the status no longer exists.
    async fn edit(&self, id: &str, text: &str) -> Result<Option<Status>, ChannelError> {
        let request = self
            .request(Method::PUT, &["api", "v1", "statuses", id])
            .json(&json!({ "status": text }));
        let response = PEER.send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            let refusal = Refusal::read(response).await;
            tracing::debug!(id, message = %refusal.message(), "Mastodon has no such status");
            return Ok(None);
        }
        PEER.json(response).await.map(Some)
    }
}

/// The same draft with the same content always gets the same key; any edit a new one.
fn idempotency_key(draft_id: &str, content_hash: &str) -> String {
    super::content_hash(&format!("raibid\n{draft_id}\n{content_hash}"))
}

fn publication(status: Status, content_hash: String) -> Publication {
    Publication {
        channel: CHANNEL,
        url: status.url.unwrap_or(status.uri),
        remote_id: status.id,
        published_at: Timestamp::now(),
        content_hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_follow_draft_and_content() {
        let key = idempotency_key("2026-W47-raibid-mastodon", &content_hash("a"));
        assert_eq!(
            key,
            idempotency_key("2026-W47-raibid-mastodon", &content_hash("a"))
        );
        assert_ne!(
            key,
            idempotency_key("2026-W47-raibid-mastodon", &content_hash("b"))
        );
        assert_ne!(
            key,
            idempotency_key("2026-W48-raibid-mastodon", &content_hash("a"))
        );
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
