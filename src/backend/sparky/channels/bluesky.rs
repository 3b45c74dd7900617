//! Bluesky (AT Protocol XRPC): social posts as `app.bsky.feed.post` records.
//!
//! Signing in (`com.atproto.server.createSession` with an app password) is rate limited
//! hard, so the session is kept in a 0600 JSON file and reused; an expired access token
//! is renewed with `com.atproto.server.refreshSession`, and only when that fails is a new
//! session created. Posts are written with `com.atproto.repo.putRecord` under a record
//! key derived from the draft and its text: a retry of the same text rewrites the same
//! record instead of adding a second post. A changed text is a new record, and the
//! previous one is deleted once it is out: bsky.app keeps showing a post's first text
//! when its record is rewritten (bluesky-social/social-app#673).

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
use crate::backend::http::describe;
use crate::config::BlueskyConfig;

const CHANNEL: ChannelName = ChannelName::Bluesky;
const PEER: Peer = Peer {
    channel: CHANNEL,
    credential: "bluesky.app_password",
};
const POST: &str = "app.bsky.feed.post";
const LINK: &str = "app.bsky.richtext.facet#link";
const TAG: &str = "app.bsky.richtext.facet#tag";
/// The lexicon's limit on a tag, in graphemes; counted here in characters (never fewer).
const TAG_MAX_CHARS: usize = 64;
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
        let app_password = PEER.reveal(&cfg.app_password)?;
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
        PEER.social_posts_only("Bluesky", out.kind)?;
        let hash = content_hash(out.body);
        if let Some(previous) = out.previous.filter(|p| p.content_hash == hash) {
            return Ok(Delivery::Unchanged(previous.clone()));
        }
        let rkey = record_key(out.draft_id, out.date, out.body);
        // The previous post, deleted once this one is out (unless it is the same record).
        let replaced = match out.previous {
            Some(previous) => Some((RecordUri::parse(&previous.remote_id)?, &previous.url)),
            None => None,
        }
        .filter(|(record, _)| record.rkey != rkey);
        let created_at = Timestamp::now();
        let record = json!({
            "$type": POST,
            "text": out.body,
            "createdAt": created_at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "facets": facets(out.body),
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
        if let Some((record, shown_at)) = replaced {
            // Not recorded on failure: publishing again rewrites the new record (same
            // text, same key) and retries the delete.
            self.delete_record(&session, &record)
                .await
                .map_err(|why| ChannelError::Other {
                    channel: CHANNEL,
                    message: format!(
                        "the new post is out ({}), but the one it replaces still shows: \
                         deleting {} failed ({why}); publish again to retry, or delete \
                         {shown_at} on bsky.app",
                        publication.url, record.uri
                    ),
                })?;
        }
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

    /// Deletes a record; one already gone counts as deleted (the PDS answers 200).
    /// `Err` says why it was not deleted.
    async fn delete_record(&self, session: &Session, record: &RecordUri) -> Result<(), String> {
        let request = self
            .http
            .post(self.xrpc("com.atproto.repo.deleteRecord"))
            .bearer_auth(&session.access_jwt)
            .json(&json!({
                "repo": record.repo,
                "collection": record.collection,
                "rkey": record.rkey,
            }));
        let response = request
            .send()
            .await
            .map_err(|error| describe(&error.without_url()))?;
        if response.status().is_success() {
            return Ok(());
        }
        let refusal = Refusal::read(response).await;
        Err(format!("HTTP {}: {}", refusal.status, refusal.message()))
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

/// A record's address, `at://{repo}/{collection}/{rkey}`: a publication's remote id.
struct RecordUri {
    uri: String,
    repo: String,
    collection: String,
    rkey: String,
}

impl RecordUri {
    fn parse(uri: &str) -> Result<RecordUri, ChannelError> {
        let parts: Option<Vec<&str>> = uri
            .strip_prefix("at://")
            .map(|path| path.split('/').collect());
        match parts.as_deref() {
            Some([repo, collection, rkey])
                if !repo.is_empty() && !collection.is_empty() && !rkey.is_empty() =>
            {
                Ok(RecordUri {
                    uri: uri.to_owned(),
                    repo: (*repo).to_owned(),
                    collection: (*collection).to_owned(),
                    rkey: (*rkey).to_owned(),
                })
            }
            _ => Err(ChannelError::Other {
                channel: CHANNEL,
                message: format!(
                    "the recorded post `{uri}` is not an AT URI (at://repo/collection/rkey), \
                     so the post it would replace is unknown"
                ),
            }),
        }
    }
}

/// A record key (TID) that depends only on the draft and its text: the draft's date's
/// first microsecond plus an offset within the day and a clock id, both from a hash of
/// the draft id and the text. The same text keeps its key, so a retry rewrites its
/// record; a changed text gets another.
pub fn record_key(draft_id: &str, date: Date, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(draft_id)
        .chain_update([0])
        .chain_update(text)
        .finalize();
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

/// A rich-text facet: a feature of the text's UTF-8 bytes `start..end`.
struct Facet {
    start: usize,
    end: usize,
    feature: Value,
}

impl Facet {
    fn overlaps(&self, other: &Facet) -> bool {
        self.start < other.end && other.start < self.end
    }

    fn to_json(&self) -> Value {
        json!({
            "index": { "byteStart": self.start, "byteEnd": self.end },
            "features": [self.feature],
        })
    }
}

/// The post's facets in text order: its links, and its hashtags outside them.
pub fn facets(text: &str) -> Vec<Value> {
    let mut all = link_facets(text);
    let tags: Vec<Facet> = tag_facets(text)
        .into_iter()
        .filter(|tag| !all.iter().any(|link| link.overlaps(tag)))
        .collect();
    all.extend(tags);
    all.sort_by_key(|facet| facet.start);
    all.iter().map(Facet::to_json).collect()
}

/// A link facet for every http(s) URL in `text`.
fn link_facets(text: &str) -> Vec<Facet> {
    // Compiled per post: posts are few and short.
    let Ok(urls) = regex_lite::Regex::new(r"https?://[^\s<>]+") else {
        return Vec::new();
    };
    urls.find_iter(text)
        .filter_map(|found| {
            let url = trim_trailing_punctuation(found.as_str());
            (url.len() > "https://".len()).then(|| Facet {
                start: found.start(),
                end: found.start() + url.len(),
                feature: json!({ "$type": LINK, "uri": url }),
            })
        })
        .collect()
}

/// A tag facet for every hashtag, as Bluesky's own client finds them: `#` (or `＃`) at
/// the start or after whitespace, then the word up to the next whitespace without its
/// trailing punctuation. A tag that is empty, only digits and punctuation, a keycap
/// emoji (`#️⃣`) or longer than the lexicon allows is none. The range covers the `#`,
/// the tag leaves it out.
fn tag_facets(text: &str) -> Vec<Facet> {
    text.char_indices()
        .filter(|&(at, c)| {
            matches!(c, '#' | '＃')
                && text[..at]
                    .chars()
                    .next_back()
                    .is_none_or(char::is_whitespace)
        })
        .filter_map(|(at, hash)| {
            let after = at + hash.len_utf8();
            let word = text[after..]
                .split(char::is_whitespace)
                .next()
                .unwrap_or_default();
            let tag = word.trim_end_matches(is_punctuation);
            let is_tag = !tag.starts_with('\u{fe0f}')
                && tag
                    .chars()
                    .any(|c| !c.is_ascii_digit() && !is_punctuation(c))
                && tag.chars().count() <= TAG_MAX_CHARS;
            is_tag.then(|| Facet {
                start: at,
                end: after + tag.len(),
                feature: json!({ "$type": TAG, "tag": tag }),
            })
        })
        .collect()
}

/// Unicode punctuation (category P) a post is likely to hold: ASCII's, Latin-1's and
/// the General Punctuation, CJK and full-width blocks'. Symbols (`+`, `$`, `~`…) are not
/// punctuation: `#C++` keeps its pluses.
fn is_punctuation(c: char) -> bool {
    matches!(c,
        '!' | '"' | '#' | '%' | '&' | '\'' | '(' | ')' | '*' | ',' | '-' | '.' | '/' | ':'
        | ';' | '?' | '@' | '[' | '\\' | ']' | '_' | '{' | '}'
        | '¡' | '§' | '«' | '¶' | '·' | '»' | '¿'
        | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205e}'
        | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}'
        | '\u{ff01}'..='\u{ff03}' | '\u{ff05}'..='\u{ff0a}' | '\u{ff0c}'..='\u{ff0f}'
        | '\u{ff1a}' | '\u{ff1b}' | '\u{ff1f}')
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

    const DRAFT: &str = "2026-W47-raibid-bluesky";

    #[test]
    fn record_keys_are_valid_tids_stable_per_draft_and_text() {
        let date = jiff::civil::date(2026, 11, 16);
        let key = record_key(DRAFT, date, "Week 47.");
        assert_eq!(key, record_key(DRAFT, date, "Week 47."));
        assert_ne!(key, record_key(DRAFT, date, "Week 47!"));
        assert_ne!(key, record_key("2026-W48-raibid-bluesky", date, "Week 47."));
        // The id and the text are kept apart: moving a character between them matters.
        assert_ne!(record_key("ab", date, "c"), record_key("a", date, "bc"));
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
    fn record_uris_name_repo_collection_and_key() {
        let uri = "at://did:plc:abc/app.bsky.feed.post/3lbbx2a7xyz2k";
        let record = RecordUri::parse(uri).unwrap();
        assert_eq!(record.uri, uri);
        assert_eq!(record.repo, "did:plc:abc");
        assert_eq!(record.collection, POST);
        assert_eq!(record.rkey, "3lbbx2a7xyz2k");
        for bad in [
            "https://bsky.app/profile/x/post/3lbb",
            "at://did:plc:abc/app.bsky.feed.post",
            "at://did:plc:abc/app.bsky.feed.post/",
            "at://did:plc:abc/app.bsky.feed.post/a/b",
        ] {
            let error = RecordUri::parse(bad).err().unwrap().to_string();
            assert!(error.contains(bad), "{error}");
        }
    }

    /// Each facet's range in `text`, and its link or tag.
    fn spans(text: &str) -> Vec<[String; 2]> {
        facets(text)
            .iter()
            .map(|f| {
                let start = f["index"]["byteStart"].as_u64().unwrap() as usize;
                let end = f["index"]["byteEnd"].as_u64().unwrap() as usize;
                let feature = &f["features"][0];
                let value = match feature["$type"].as_str().unwrap() {
                    LINK => &feature["uri"],
                    TAG => &feature["tag"],
                    other => panic!("unexpected facet {other}"),
                };
                [
                    text[start..end].to_owned(),
                    value.as_str().unwrap().to_owned(),
                ]
            })
            .collect()
    }

    #[test]
    fn link_facets_span_urls_in_bytes_without_trailing_punctuation() {
        let text =
            "Größe: https://a.example/x. See (https://b.example/y_(z)) and http://c.example!";
        assert_eq!(
            spans(text),
            [
                ["https://a.example/x"; 2],
                ["https://b.example/y_(z)"; 2],
                ["http://c.example"; 2],
            ]
        );
        let first = &facets(text)[0]["index"]["byteStart"];
        assert_eq!(first, "Größe: ".len());
        assert!(facets("no links, just https:// alone").is_empty());
    }

    #[test]
    fn tag_facets_cover_the_hash_and_name_the_tag_without_it() {
        let text = "Größe 🚀 #devlog, #Rust_ #C++ ＃日本語。 #2026 #1st issue#3 #️⃣ # \
                    https://x.example/#frag #https://y.example (#wrapped)";
        assert_eq!(
            spans(text),
            [
                ["#devlog", "devlog"],
                ["#Rust", "Rust"],
                ["#C++", "C++"],
                ["＃日本語", "日本語"],
                ["#1st", "1st"],
                ["https://x.example/#frag"; 2],
                ["https://y.example"; 2],
            ]
        );
        let first = &facets(text)[0]["index"];
        assert_eq!(first["byteStart"], "Größe 🚀 ".len());
        assert_eq!(first["byteEnd"], "Größe 🚀 #devlog".len());
        assert_eq!(facets(&format!("#{}", "a".repeat(64))).len(), 1);
        assert!(facets(&format!("#{}", "a".repeat(65))).is_empty());
    }
}
