//! Dev.to (Forem API v1): digests and blog posts as articles.
//!
//! Requests carry the `api-key` header and `Accept: application/vnd.forem.api-v1+json`.
//! An article is found before one is created: by the recorded publication's id, else by
//! its `canonical_url` among `GET /api/articles/me/all`; found means
//! `PUT /api/articles/{id}`, not found `POST /api/articles`. So a retry after a server
//! error that had stored the article updates it instead of posting a second one.

use jiff::Timestamp;
use reqwest::header::ACCEPT;
use reqwest::{Method, RequestBuilder, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, Peer, Refusal};
use super::{ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash};
use crate::config::DevtoConfig;

const CHANNEL: ChannelName = ChannelName::Devto;
const PEER: Peer = Peer {
    channel: CHANNEL,
    credential: "devto.api_key",
};
const API_V1: &str = "application/vnd.forem.api-v1+json";
/// Dev.to takes at most four tags on an article.
pub const MAX_TAGS: usize = 4;
/// Articles per page when looking one up (Forem allows up to 1000).
const PER_PAGE: usize = 100;

pub struct Devto {
    http: reqwest::Client,
    base: Url,
    api_key: String,
    publish: bool,
    tags: Vec<String>,
}

impl std::fmt::Debug for Devto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devto")
            .field("base", &self.base.as_str())
            .field("publish", &self.publish)
            .finish_non_exhaustive()
    }
}

/// An article as Forem answers it (the fields this channel reads).
#[derive(Debug, Deserialize)]
struct Article {
    id: u64,
    #[serde(default)]
    url: String,
    #[serde(default)]
    canonical_url: Option<String>,
}

impl Devto {
    pub fn new(cfg: &DevtoConfig) -> Result<Devto, ChannelError> {
        let base = http::base_url(CHANNEL, "devto.url", &cfg.url)?;
        let api_key = PEER.reveal(&cfg.api_key)?;
        Ok(Devto {
            http: http::client(CHANNEL)?,
            base,
            api_key,
            publish: cfg.publish,
            tags: cfg.tags.clone(),
        })
    }

    pub async fn publish(&self, out: &Outgoing<'_>) -> Result<Delivery, ChannelError> {
        if out.kind.post_limit().is_some() {
            return Err(ChannelError::InvalidConfig {
                channel: CHANNEL,
                key: "publish.channels",
                reason: format!(
                    "Dev.to takes digests and blog posts, not {} posts",
                    out.kind.as_str()
                ),
            });
        }
        if out.previous.is_none() && out.canonical_url.is_none() {
            // Without either there would be no way to find the article again.
            return Err(ChannelError::NotConfigured {
                channel: CHANNEL,
                key: "publish.site_url",
            });
        }
        let article = json!({
            "title": out.title,
            "body_markdown": out.body,
            "published": self.publish,
            "tags": tags(&self.tags, out.tags),
            "canonical_url": out.canonical_url,
        });
        let hash = content_hash(&article.to_string());
        let update = json!({ "article": update_fields(&article, self.publish) });
        let create = json!({ "article": article });
        if let Some(previous) = out.previous {
            if previous.content_hash == hash {
                return Ok(Delivery::Unchanged(previous.clone()));
            }
            if let Some(updated) = self.update(&previous.remote_id, &update).await? {
                return Ok(Delivery::Updated(publication(updated, hash)));
            }
            tracing::info!(id = %previous.remote_id, "the Dev.to article is gone; looking again");
        }
        let found = match out.canonical_url {
            Some(canonical) => self.find(canonical).await?,
            None => None,
        };
        if let Some(found) = found
            && let Some(updated) = self.update(&found.id.to_string(), &update).await?
        {
            return Ok(Delivery::Updated(publication(updated, hash)));
        }
        let created = self
            .request(Method::POST, &["api", "articles"])
            .json(&create);
        let created = PEER.json(PEER.send(created).await?).await?;
        Ok(Delivery::Created(publication(created, hash)))
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.http
            .request(method, http::endpoint(&self.base, segments))
            .header("api-key", &self.api_key)
            .header(ACCEPT, API_V1)
    }

    /// `PUT /api/articles/{id}`; `None` when Dev.to has no such article (any more).
    async fn update(&self, id: &str, body: &Value) -> Result<Option<Article>, ChannelError> {
        let request = self
            .request(Method::PUT, &["api", "articles", id])
            .json(body);
        let response = PEER.send(request).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            let refusal = Refusal::read(response).await;
            tracing::debug!(id, message = %refusal.message(), "Dev.to has no such article");
            return Ok(None);
        }
        PEER.json(response).await.map(Some)
    }

    /// The user's article (published or not) with this canonical URL, page by page.
    async fn find(&self, canonical_url: &str) -> Result<Option<Article>, ChannelError> {
        for page in 1.. {
            let request = self
                .request(Method::GET, &["api", "articles", "me", "all"])
                .query(&[("per_page", PER_PAGE), ("page", page)]);
            let articles: Vec<Article> = PEER.json(PEER.send(request).await?).await?;
            let count = articles.len();
            if let Some(found) = articles
                .into_iter()
                .find(|article| article.canonical_url.as_deref() == Some(canonical_url))
            {
                return Ok(Some(found));
            }
            if count < PER_PAGE {
                break;
            }
        }
        Ok(None)
    }
}

/// What an update sends: an article left as a draft by config is never unpublished, so
/// one published by hand on Dev.to stays published.
fn update_fields(article: &Value, publish: bool) -> Value {
    let mut fields = article.clone();
    if !publish && let Some(map) = fields.as_object_mut() {
        map.remove("published");
    }
    fields
}

fn publication(article: Article, content_hash: String) -> Publication {
    Publication {
        channel: CHANNEL,
        remote_id: article.id.to_string(),
        url: article.url,
        published_at: Timestamp::now(),
        content_hash,
    }
}

/// The configured tags, then the draft's: lowercased to letters and digits (all Dev.to
/// takes), without repeats, at most [`MAX_TAGS`].
pub fn tags(configured: &[String], draft: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::with_capacity(MAX_TAGS);
    for tag in configured.iter().chain(draft) {
        let tag: String = tag
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
        if tags.len() == MAX_TAGS {
            break;
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_cleaned_deduplicated_and_capped() {
        let configured = ["DevOps".to_string(), "rust".into()];
        let draft = [
            "Rust".to_string(),
            "ci/cd".into(),
            "--".into(),
            "weekly-digest".into(),
            "sparky".into(),
        ];
        assert_eq!(
            tags(&configured, &draft),
            ["devops", "rust", "cicd", "weeklydigest"]
        );
        assert!(tags(&[], &[]).is_empty());
    }
}
