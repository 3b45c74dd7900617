//! What every HTTP channel shares: a client that never retries, URLs built from a
//! configured base, and the reading of a refusal (status, headers, body) into a
//! [`ChannelError`] that names the credential to check and never holds it.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;

use super::{ChannelError, ChannelName};
use crate::backend::http::describe;
use crate::backend::sparky::model::DraftKind;
use crate::config::Secret;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Characters of a peer's error message kept in an error.
const MESSAGE_CHARS: usize = 300;

/// An HTTP client without automatic retries: a request that creates something is sent
/// once, and publishing again is what retries (each channel finds what it made before).
pub(super) fn client(channel: ChannelName) -> Result<reqwest::Client, ChannelError> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("raibid/", env!("CARGO_PKG_VERSION")))
        .retry(reqwest::retry::never())
        .build()
        .map_err(|error| ChannelError::Other {
            channel,
            message: format!("cannot build the HTTP client: {}", describe(&error)),
        })
}

/// The configured base URL of a peer: set, and http(s).
pub(super) fn base_url(
    channel: ChannelName,
    key: &'static str,
    url: &str,
) -> Result<Url, ChannelError> {
    if url.trim().is_empty() {
        return Err(ChannelError::NotConfigured { channel, key });
    }
    Url::parse(url.trim())
        .ok()
        .filter(|base| !base.cannot_be_a_base() && matches!(base.scheme(), "http" | "https"))
        .ok_or_else(|| ChannelError::InvalidConfig {
            channel,
            key,
            reason: format!("`{url}` is not an http(s) URL"),
        })
}

/// `<base>/<segments…>`, each segment percent-encoded, keeping a base path.
pub(super) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// A URL as errors show it: without user, password, query or fragment.
pub(super) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    // Both only fail for URLs that cannot have them, which then have none to hide.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// One peer as errors name it: the channel, and the config key of its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Peer {
    pub channel: ChannelName,
    pub credential: &'static str,
}

impl Peer {
    /// The value of the peer's credential, read from `secret`: a source that is unset
    /// names the credential's config key.
    pub(super) fn reveal(self, secret: &Secret) -> Result<String, ChannelError> {
        secret
            .reveal()
            .map_err(|source| ChannelError::Secret {
                channel: self.channel,
                source,
            })?
            .ok_or(ChannelError::NotConfigured {
                channel: self.channel,
                key: self.credential,
            })
    }

    /// Refuses a draft that is not a social post (`publish.channels` sent it here); `name`
    /// is the service as people know it.
    pub(super) fn social_posts_only(self, name: &str, kind: DraftKind) -> Result<(), ChannelError> {
        if kind.post_limit().is_some() {
            return Ok(());
        }
        Err(ChannelError::InvalidConfig {
            channel: self.channel,
            key: "publish.channels",
            reason: format!("{name} takes social posts, not {} drafts", kind.as_str()),
        })
    }

    /// Sends once; a transport failure names the URL without credentials.
    pub(super) async fn send(self, request: RequestBuilder) -> Result<Response, ChannelError> {
        request.send().await.map_err(|error| ChannelError::Request {
            channel: self.channel,
            url: error.url().map(shown).unwrap_or_default(),
            message: describe(&error.without_url()),
        })
    }

    /// The JSON of a successful answer, or the refusal as an error.
    pub(super) async fn json<T: DeserializeOwned>(
        self,
        response: Response,
    ) -> Result<T, ChannelError> {
        if !response.status().is_success() {
            return Err(self.error(Refusal::read(response).await));
        }
        let url = shown(response.url());
        let bytes = response
            .bytes()
            .await
            .map_err(|error| ChannelError::Request {
                channel: self.channel,
                url: url.clone(),
                message: describe(&error.without_url()),
            })?;
        serde_json::from_slice(&bytes).map_err(|error| ChannelError::Other {
            channel: self.channel,
            message: format!("unexpected answer from {url}: {error}"),
        })
    }

    /// What a refusal means: 429 (or 403 saying so) is a rate limit, 401/403 refused
    /// credentials, 5xx a server error (which may have been accepted), other 4xx a
    /// rejection with the peer's own message.
    pub(super) fn error(self, refusal: Refusal) -> ChannelError {
        let channel = self.channel;
        let status = refusal.status;
        if status == 429 || (status == 403 && refusal.says_rate_limited()) {
            return ChannelError::RateLimited {
                channel,
                retry_after_secs: retry_after(&refusal.headers, Timestamp::now()),
            };
        }
        match status {
            401 | 403 => ChannelError::BadToken {
                channel,
                status,
                key: self.credential,
            },
            500..=599 => ChannelError::Server {
                channel,
                status,
                message: refusal.message(),
            },
            _ => ChannelError::Rejected {
                channel,
                status,
                message: refusal.message(),
            },
        }
    }
}

/// An answer that was not a success, read whole.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Refusal {
    pub(super) async fn read(response: Response) -> Refusal {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Refusal {
            status,
            headers,
            body,
        }
    }

    fn field(&self, name: &str) -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        match &value[name] {
            serde_json::Value::String(text) if !text.trim().is_empty() => {
                Some(text.trim().to_string())
            }
            serde_json::Value::Array(items) if !items.is_empty() => Some(
                items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_string)
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        }
    }

    /// The `error` field: XRPC's error name (`ExpiredToken`), Forem's and Mastodon's
    /// message.
    pub(super) fn error_name(&self) -> Option<String> {
        self.field("error")
    }

    /// The peer's explanation: `error` and `message` (XRPC sends both; Forem and
    /// Mastodon `error`, GitHub and Gitea `message`), `error_description` (OAuth), or
    /// the start of the body.
    pub(super) fn message(&self) -> String {
        let message = self
            .field("message")
            .or_else(|| self.field("error_description"));
        let text = match (self.error_name(), message) {
            (Some(name), Some(message)) if name != message => format!("{name}: {message}"),
            (Some(name), _) => name,
            (None, Some(message)) => message,
            (None, None) if self.body.trim().is_empty() => "no explanation given".into(),
            (None, None) => self.body.trim().to_string(),
        };
        text.chars().take(MESSAGE_CHARS).collect()
    }

    /// A 403 that is a rate limit: it says when to retry, or that nothing remains.
    fn says_rate_limited(&self) -> bool {
        let remaining = |name: &str| {
            self.headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.trim() == "0")
        };
        self.headers.contains_key("retry-after")
            || remaining("x-ratelimit-remaining")
            || remaining("ratelimit-remaining")
    }
}

/// Seconds to wait, from `Retry-After` (seconds or an HTTP date) or a rate limit's reset
/// (`ratelimit-reset`, `x-ratelimit-reset`: seconds to wait, a Unix time or, as Mastodon
/// sends it, an RFC 3339 time).
pub(super) fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<u64> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    let until = |at: Timestamp| u64::try_from(at.as_second() - now.as_second()).unwrap_or(0);
    if let Some(value) = header("retry-after") {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(secs);
        }
        if let Ok(at) = jiff::fmt::rfc2822::parse(value) {
            return Some(until(at.timestamp()));
        }
    }
    let reset = header("ratelimit-reset").or_else(|| header("x-ratelimit-reset"))?;
    /// Values above this are Unix times (2001 onwards), below it seconds to wait.
    const UNIX_TIME_FROM: u64 = 1_000_000_000;
    match reset.parse::<u64>() {
        Ok(secs) if secs >= UNIX_TIME_FROM => Timestamp::from_second(i64::try_from(secs).ok()?)
            .ok()
            .map(until),
        Ok(secs) => Some(secs),
        Err(_) => reset.parse::<Timestamp>().ok().map(until),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    reqwest::header::HeaderName::from_static(name),
                    value.parse().unwrap(),
                )
            })
            .collect()
    }

    fn refusal(status: u16, pairs: &[(&'static str, &str)], body: &str) -> Refusal {
        Refusal {
            status,
            headers: headers(pairs),
            body: body.into(),
        }
    }

    const PEER: Peer = Peer {
        channel: ChannelName::Devto,
        credential: "devto.api_key",
    };

    #[test]
    fn waits_come_from_any_of_the_usual_headers() {
        let now: Timestamp = "2026-11-20T09:30:00Z".parse().unwrap();
        let wait = |pairs: &[(&'static str, &str)]| retry_after(&headers(pairs), now);
        assert_eq!(wait(&[("retry-after", "30")]), Some(30));
        assert_eq!(
            wait(&[("retry-after", "Fri, 20 Nov 2026 09:31:00 GMT")]),
            Some(60)
        );
        let in_90_s = (now.as_second() + 90).to_string();
        assert_eq!(wait(&[("ratelimit-reset", &in_90_s)]), Some(90));
        assert_eq!(wait(&[("ratelimit-reset", "12")]), Some(12));
        assert_eq!(
            wait(&[("x-ratelimit-reset", "2026-11-20T09:35:00.000000Z")]),
            Some(300)
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset", "2026-11-20T09:00:00Z")]),
            Some(0)
        );
        assert_eq!(wait(&[]), None);
        assert_eq!(wait(&[("retry-after", "soon")]), None);
    }

    #[test]
    fn statuses_map_to_what_to_do() {
        let rate = PEER.error(refusal(429, &[("retry-after", "7")], ""));
        assert!(matches!(
            rate,
            ChannelError::RateLimited {
                retry_after_secs: Some(7),
                ..
            }
        ));
        let limited_403 = PEER.error(refusal(403, &[("x-ratelimit-remaining", "0")], ""));
        assert!(matches!(limited_403, ChannelError::RateLimited { .. }));
        for status in [401, 403] {
            let refused = PEER.error(refusal(status, &[], r#"{"error":"unauthorized"}"#));
            assert!(matches!(
                refused,
                ChannelError::BadToken {
                    key: "devto.api_key",
                    ..
                }
            ));
        }
        let server = PEER.error(refusal(502, &[], "<html>bad gateway</html>"));
        assert!(
            matches!(server, ChannelError::Server { status: 502, ref message, .. } if message == "<html>bad gateway</html>")
        );
        let rejected = PEER.error(refusal(
            422,
            &[],
            r#"{"error":"Title can't be blank","status":422}"#,
        ));
        assert!(
            matches!(rejected, ChannelError::Rejected { status: 422, ref message, .. } if message == "Title can't be blank")
        );
    }

    #[test]
    fn messages_combine_what_each_peer_sends() {
        let xrpc = refusal(
            400,
            &[],
            r#"{"error":"InvalidRequest","message":"Record/text must not be longer than 300 graphemes"}"#,
        );
        assert_eq!(xrpc.error_name().as_deref(), Some("InvalidRequest"));
        assert_eq!(
            xrpc.message(),
            "InvalidRequest: Record/text must not be longer than 300 graphemes"
        );
        let github = refusal(
            404,
            &[],
            r#"{"message":"Not Found","documentation_url":"x"}"#,
        );
        assert_eq!(github.message(), "Not Found");
        let listed = refusal(
            422,
            &[],
            r#"{"error":["Title is too long","Body is empty"]}"#,
        );
        assert_eq!(listed.message(), "Title is too long; Body is empty");
        assert_eq!(refusal(500, &[], " ").message(), "no explanation given");
        assert_eq!(refusal(500, &[], &"x".repeat(1000)).message().len(), 300);
    }

    #[test]
    fn credentials_and_draft_kinds_are_checked_before_sending() {
        assert!(matches!(
            PEER.reveal(&Secret::None),
            Err(ChannelError::NotConfigured {
                channel: ChannelName::Devto,
                key: "devto.api_key",
            })
        ));
        let mastodon = Peer {
            channel: ChannelName::Mastodon,
            credential: "mastodon.token",
        };
        assert!(
            mastodon
                .social_posts_only("Mastodon", DraftKind::Mastodon)
                .is_ok()
        );
        let refused = mastodon
            .social_posts_only("Mastodon", DraftKind::Weekly)
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "mastodon: publish.channels is not valid: Mastodon takes social posts, not weekly drafts"
        );
    }

    #[test]
    fn urls_keep_a_base_path_and_lose_credentials_when_shown() {
        let base = base_url(
            ChannelName::Mastodon,
            "mastodon.url",
            "https://u:p@m.example/sub/",
        )
        .unwrap();
        let url = endpoint(&base, &["api", "v1", "statuses", "a b"]);
        assert_eq!(
            url.as_str(),
            "https://u:p@m.example/sub/api/v1/statuses/a%20b"
        );
        assert_eq!(shown(&url), "https://m.example/sub/api/v1/statuses/a%20b");
        assert!(matches!(
            base_url(ChannelName::Mastodon, "mastodon.url", " "),
            Err(ChannelError::NotConfigured {
                key: "mastodon.url",
                ..
            })
        ));
        assert!(matches!(
            base_url(ChannelName::Mastodon, "mastodon.url", "ftp://m.example"),
            Err(ChannelError::InvalidConfig {
                key: "mastodon.url",
                ..
            })
        ));
    }
}
