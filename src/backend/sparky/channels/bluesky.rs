//! Bluesky (AT Protocol XRPC): social posts as `app.bsky.feed.post` records.
//!
//! Signing in (`com.atproto.server.createSession` with an app password) is rate limited
//! hard, so the session is kept in a 0600 JSON file and reused; an expired access token
//! is renewed with `com.atproto.server.refreshSession`, and only when that fails is a new
//! session created. Posts are written with `com.atproto.repo.putRecord` under a record
//! key derived from the draft: a retry or a republish overwrites the same record instead
//! of adding a second post.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::http::{self, Peer, Refusal};
use super::{ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash};
use crate::config::BlueskyConfig;

const CHANNEL: ChannelName = ChannelName::Bluesky;
const PEER: Peer = Peer {
    channel: CHANNEL,
    credential: "bluesky.app_password",
};
const POST: &str = "app.bsky.feed.post";
const LINK: &str = "app.bsky.richtext.facet#link";
/// The sortable base-32 alphabet of record keys (TIDs).
const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
const MICROS_PER_DAY: u64 = 86_400_000_000;

pub struct Bluesky {
    http: reqwest::Client,
    base: Url,
    identifier: String,
    app_password: String,
    session_file: PathBuf,
    /// The session in use: read from `session_file` on first use, renewed as needed.
    session: tokio::sync::Mutex<Option<Session>>,
}

impl std::fmt::Debug for Bluesky {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bluesky")
            .field("base", &self.base.as_str())
            .field("identifier", &self.identifier)
            .field("session_file", &self.session_file)
            .finish_non_exhaustive()
    }
}

/// A session as createSession and refreshSession answer it, and as the session file
/// keeps it. Not `Debug`: it holds the tokens.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    /// The service and identifier it was made for: a file made for others is not used.
    #[serde(default)]
    service: String,
    #[serde(default)]
    identifier: String,
    access_jwt: String,
    refresh_jwt: String,
    did: String,
    handle: String,
}

/// putRecord's answer.
#[derive(Debug, Deserialize)]
struct Written {
    uri: String,
}

/// How a write went: done, or refused because the session is no good any more.
enum Put {
    Done(Written),
    StaleSession(Refusal),
}

impl Bluesky {
    pub fn new(cfg: &BlueskyConfig, session_file: PathBuf) -> Result<Bluesky, ChannelError> {
        let base = http::base_url(CHANNEL, "bluesky.url", &cfg.url)?;
        if cfg.identifier.trim().is_empty() {
            return Err(ChannelError::NotConfigured {
                channel: CHANNEL,
                key: "bluesky.identifier",
            });
        }
        let app_password = cfg
            .app_password
            .reveal()
            .map_err(|source| ChannelError::Secret {
                channel: CHANNEL,
                source,
            })?
            .ok_or(ChannelError::NotConfigured {
                channel: CHANNEL,
                key: "bluesky.app_password",
            })?;
        Ok(Bluesky {
            http: http::client(CHANNEL)?,
            base,
            identifier: cfg.identifier.trim().to_string(),
            app_password,
            session_file,
            session: tokio::sync::Mutex::new(None),
        })
    }

    pub async fn publish(&self, out: &Outgoing<'_>) -> Result<Delivery, ChannelError> {
        if out.kind.post_limit().is_none() {
            return Err(ChannelError::InvalidConfig {
                channel: CHANNEL,
                key: "publish.channels",
                reason: format!(
                    "Bluesky takes social posts, not {} drafts",
                    out.kind.as_str()
                ),
            });
        }
        let hash = content_hash(out.body);
        if let Some(previous) = out.previous.filter(|p| p.content_hash == hash) {
            return Ok(Delivery::Unchanged(previous.clone()));
        }
        let rkey = record_key(out.draft_id, out.date);
        let created_at = out.previous.map_or_else(Timestamp::now, |p| p.published_at);
        let record = json!({
            "$type": POST,
            "text": out.body,
            "createdAt": created_at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "facets": link_facets(out.body),
        });

        // One publish at a time renews the session, so two never sign in at once.
        let mut slot = self.session.lock().await;
        let mut session = self.current_session(&mut slot).await?;
        let written = match self.put_record(&session, &rkey, &record).await? {
            Put::Done(written) => written,
            Put::StaleSession(refusal) => {
                tracing::debug!(message = %refusal.message(), "Bluesky session expired");
                session = self.renew(&session).await?;
                *slot = Some(session.clone());
                // Sent again only because it was refused for its token; putRecord at a
                // fixed key writes the same record however often it is sent.
                match self.put_record(&session, &rkey, &record).await? {
                    Put::Done(written) => written,
                    Put::StaleSession(refusal) => return Err(PEER.error(refusal)),
                }
            }
        };
        let publication = Publication {
            channel: CHANNEL,
            remote_id: written.uri,
            url: format!("https://bsky.app/profile/{}/post/{rkey}", session.handle),
            published_at: created_at,
            content_hash: hash,
        };
        Ok(match out.previous {
            Some(_) => Delivery::Updated(publication),
            None => Delivery::Created(publication),
        })
    }

    fn xrpc(&self, method: &str) -> Url {
        http::endpoint(&self.base, &["xrpc", method])
    }

    async fn current_session(&self, slot: &mut Option<Session>) -> Result<Session, ChannelError> {
        if let Some(session) = slot {
            return Ok(session.clone());
        }
        let session = match self.load().await {
            Some(session) => session,
            None => self.create_session().await?,
        };
        *slot = Some(session.clone());
        Ok(session)
    }

    async fn put_record(
        &self,
        session: &Session,
        rkey: &str,
        record: &Value,
    ) -> Result<Put, ChannelError> {
        let request = self
            .http
            .post(self.xrpc("com.atproto.repo.putRecord"))
            .bearer_auth(&session.access_jwt)
            .json(&json!({
                "repo": session.did,
                "collection": POST,
                "rkey": rkey,
                "record": record,
            }));
        let response = PEER.send(request).await?;
        if response.status().is_success() {
            return PEER.json(response).await.map(Put::Done);
        }
        let refusal = Refusal::read(response).await;
        let stale = refusal.status == 401
            || matches!(
                refusal.error_name().as_deref(),
                Some("ExpiredToken" | "InvalidToken")
            );
        if stale {
            Ok(Put::StaleSession(refusal))
        } else {
            Err(PEER.error(refusal))
        }
    }

    /// A renewed session: refreshed, or when that is refused, a new one.
    async fn renew(&self, session: &Session) -> Result<Session, ChannelError> {
        let request = self
            .http
            .post(self.xrpc("com.atproto.server.refreshSession"))
            .bearer_auth(&session.refresh_jwt);
        let response = PEER.send(request).await?;
        if !response.status().is_success() {
            let refusal = Refusal::read(response).await;
            tracing::info!(message = %refusal.message(), "Bluesky refused to refresh the session; signing in again");
            return self.create_session().await;
        }
        let refreshed: Session = PEER.json(response).await?;
        Ok(self.keep(refreshed).await)
    }

    async fn create_session(&self) -> Result<Session, ChannelError> {
        let request = self
            .http
            .post(self.xrpc("com.atproto.server.createSession"))
            .json(&json!({ "identifier": self.identifier, "password": self.app_password }));
        let created: Session = PEER.json(PEER.send(request).await?).await?;
        Ok(self.keep(created).await)
    }

    /// Marks a new session as this service's and identifier's and saves it.
    async fn keep(&self, mut session: Session) -> Session {
        session.service = self.base.to_string();
        session.identifier = self.identifier.clone();
        if let Err(error) = self.save(&session).await {
            tracing::warn!(
                file = %self.session_file.display(),
                %error,
                "cannot keep the Bluesky session; the next run signs in again"
            );
        }
        session
    }

    /// The saved session, when there is one for this service and identifier.
    async fn load(&self) -> Option<Session> {
        let file = self.session_file.display();
        let bytes = match tokio::fs::read(&self.session_file).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => {
                tracing::warn!(%file, %error, "cannot read the Bluesky session; signing in");
                return None;
            }
        };
        match serde_json::from_slice::<Session>(&bytes) {
            Ok(session)
                if session.service == self.base.as_str()
                    && session.identifier == self.identifier =>
            {
                Some(session)
            }
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%file, %error, "the Bluesky session file is not valid; signing in");
                None
            }
        }
    }

    /// Writes the session to a 0600 file beside the target, then renames it over it.
    async fn save(&self, session: &Session) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(session)?;
        if let Some(dir) = self.session_file.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut partial = self.session_file.clone().into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .await?;
        // `mode` applies only to a file it creates: a leftover keeps its own.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .await?;
        file.write_all(&json).await?;
        file.flush().await?;
        drop(file);
        tokio::fs::rename(&partial, &self.session_file).await
    }
}

/// A record key (TID) that depends only on the draft: its date's first microsecond plus
/// an offset within the day and a clock id, both from a hash of the draft id.
pub fn record_key(draft_id: &str, date: Date) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(draft_id.as_bytes());
    let offset = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]) % MICROS_PER_DAY;
    let clock_id = u64::from(u16::from_be_bytes([digest[8], digest[9]]) & 0x3ff);
    let day_start = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_or(0, |day| day.timestamp().as_microsecond());
    let micros = u64::try_from(day_start).unwrap_or(0) + offset;
    // 1 zero bit, 53 bits of microseconds, 10 bits of clock id; 13 characters of 5 bits.
    let tid = ((micros & ((1 << 53) - 1)) << 10) | clock_id;
    (0..13)
        .rev()
        .map(|i| char::from(TID_ALPHABET[((tid >> (i * 5)) & 31) as usize]))
        .collect()
}

/// A link facet for every http(s) URL in `text`, its range in UTF-8 bytes.
pub fn link_facets(text: &str) -> Vec<Value> {
    // Compiled per post: posts are few and short.
    let Ok(urls) = regex_lite::Regex::new(r"https?://[^\s<>]+") else {
        return Vec::new();
    };
    urls.find_iter(text)
        .filter_map(|found| {
            let url = trim_trailing_punctuation(found.as_str());
            (url.len() > "https://".len()).then(|| {
                json!({
                    "index": { "byteStart": found.start(), "byteEnd": found.start() + url.len() },
                    "features": [{ "$type": LINK, "uri": url }],
                })
            })
        })
        .collect()
}

/// A URL without the sentence around it: no trailing `.`, `,` and the like, nor a `)`
/// that closes a parenthesis opened before the URL.
fn trim_trailing_punctuation(url: &str) -> &str {
    let mut url = url;
    loop {
        let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '"', '\'']);
        let trimmed = match trimmed.strip_suffix(')') {
            Some(inner) if inner.matches('(').count() < trimmed.matches(')').count() => inner,
            _ => trimmed,
        };
        if trimmed.len() == url.len() {
            return url;
        }
        url = trimmed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_are_valid_tids_stable_per_draft() {
        let date = jiff::civil::date(2026, 11, 16);
        let key = record_key("2026-W47-raibid-bluesky", date);
        assert_eq!(key, record_key("2026-W47-raibid-bluesky", date));
        assert_ne!(key, record_key("2026-W48-raibid-bluesky", date));
        assert_eq!(key.len(), 13);
        assert!(key.bytes().all(|b| TID_ALPHABET.contains(&b)));
        // The first character carries the zero top bit: 2-7 or a-j.
        assert!("234567abcdefghij".contains(&key[..1]));
        // The time within the key lies in the draft's day.
        let decoded = key.bytes().fold(0u64, |n, b| {
            n * 32 + TID_ALPHABET.iter().position(|&a| a == b).unwrap() as u64
        });
        let at = Timestamp::from_microsecond((decoded >> 10) as i64).unwrap();
        assert_eq!(at.to_zoned(jiff::tz::TimeZone::UTC).date(), date);
    }

    #[test]
    fn facets_span_urls_in_bytes_without_trailing_punctuation() {
        let text =
            "Größe: https://a.example/x. See (https://b.example/y_(z)) and http://c.example!";
        let facets = link_facets(text);
        let spans: Vec<(usize, usize, &str)> = facets
            .iter()
            .map(|f| {
                let start = f["index"]["byteStart"].as_u64().unwrap() as usize;
                let end = f["index"]["byteEnd"].as_u64().unwrap() as usize;
                (start, end, f["features"][0]["uri"].as_str().unwrap())
            })
            .collect();
        assert_eq!(spans.len(), 3);
        for (start, end, uri) in &spans {
            assert_eq!(&text.as_bytes()[*start..*end], uri.as_bytes());
        }
        assert_eq!(spans[0].2, "https://a.example/x");
        assert_eq!(spans[0].0, "Größe: ".len());
        assert_eq!(spans[1].2, "https://b.example/y_(z)");
        assert_eq!(spans[2].2, "http://c.example");
        assert!(link_facets("no links, just https:// alone").is_empty());
    }
}
