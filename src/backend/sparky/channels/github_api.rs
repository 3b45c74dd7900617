//! GitHub's API as the channels that publish there use it: `github.api_url` and
//! `github.token`, through the forge's GitHub [`Client`], and the repository a config key
//! names. Every request is sent once ([`Client::once`]) and every refusal read here, as
//! for the other channels (see [`super::http`]).

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use reqwest::header::{HeaderMap, LINK};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use super::http::{self, Peer, Refusal, shown};
use super::{ChannelError, ChannelName};
use crate::backend::forge::github::{Client, GitHubError, graphql_url, next_link};
use crate::config::Config;

const TOKEN_KEY: &str = "github.token";
const API_URL_KEY: &str = "github.api_url";

pub(super) struct GithubApi {
    pub peer: Peer,
    client: Client,
    base: Url,
    graphql: Url,
}

impl fmt::Debug for GithubApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubApi")
            .field("channel", &self.peer.channel)
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// An answer from GitHub and the URL it came from.
pub(super) struct Reply {
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl GithubApi {
    pub fn new(cfg: &Config, channel: ChannelName) -> Result<GithubApi, ChannelError> {
        let base = http::base_url(channel, API_URL_KEY, &cfg.github.api_url)?;
        let graphql = Url::parse(&graphql_url(base.as_str())).map_err(|error| {
            ChannelError::InvalidConfig {
                channel,
                key: API_URL_KEY,
                reason: format!("no GraphQL URL beside it: {error}"),
            }
        })?;
        let peer = Peer {
            channel,
            credential: TOKEN_KEY,
        };
        let token = peer.reveal(&cfg.github.token)?;
        let api = base.as_str().trim_end_matches('/');
        // One request at a time; `once` never waits for a rate limit.
        let client =
            Client::new(api, token, 1, SignedDuration::ZERO).map_err(|error| match error {
                GitHubError::InvalidToken => ChannelError::InvalidConfig {
                    channel,
                    key: TOKEN_KEY,
                    reason: "it holds characters an HTTP header cannot carry".into(),
                },
                error => ChannelError::Other {
                    channel,
                    message: format!("cannot build the GitHub client: {error}"),
                },
            })?;
        Ok(GithubApi {
            peer,
            client,
            base,
            graphql,
        })
    }

    /// `<github.api_url>/<segments…>`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        http::endpoint(&self.base, segments)
    }

    /// The next page a `Link` header names. Only followed on the API's own origin: the
    /// token goes with the request.
    pub fn next_page(&self, headers: &HeaderMap) -> Result<Option<Url>, ChannelError> {
        let Some(next) = headers
            .get(LINK)
            .and_then(|link| link.to_str().ok())
            .and_then(next_link)
        else {
            return Ok(None);
        };
        match Url::parse(&next) {
            Ok(url) if url.origin() == self.base.origin() => Ok(Some(url)),
            _ => Err(ChannelError::Other {
                channel: self.peer.channel,
                message: format!("GitHub named a next page elsewhere ({next}); not followed"),
            }),
        }
    }

    /// Sends once, with GitHub's headers, the token and the JSON `body`; a transport
    /// failure names the URL.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ChannelError> {
        let answer = self
            .client
            .once(method, url.as_str(), body)
            .await
            .map_err(|error| ChannelError::Request {
                channel: self.peer.channel,
                url: shown(&url),
                message: match error {
                    GitHubError::Network(message) => message,
                    error => error.to_string(),
                },
            })?;
        Ok(Reply {
            url,
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }

    /// The JSON of a success, or the refusal as an error.
    pub fn read<T: DeserializeOwned>(&self, reply: Reply) -> Result<T, ChannelError> {
        if !(200..300).contains(&reply.status) {
            return Err(self.peer.error(Refusal {
                status: reply.status,
                headers: reply.headers,
                body: reply.body,
            }));
        }
        serde_json::from_str(&reply.body).map_err(|error| ChannelError::Other {
            channel: self.peer.channel,
            message: format!("unexpected answer from {}: {error}", shown(&reply.url)),
        })
    }

    /// Sends once: the JSON of a success, or the refusal as an error.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ChannelError> {
        let reply = self.send(method, url, body).await?;
        self.read(reply)
    }

    /// The login of the token's own account (`GET /user`).
    pub async fn login(&self) -> Result<String, ChannelError> {
        let user: Account = self.json(Method::GET, self.url(&["user"]), None).await?;
        Ok(user.login)
    }

    /// A GraphQL query or mutation: its `data`. Errors in the answer are reported, a
    /// `RATE_LIMITED` one as a rate limit.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<T, ChannelError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let reply = self
            .send(Method::POST, self.graphql.clone(), Some(&body))
            .await?;
        // GitHub answers a spent GraphQL limit with 200 and the reset in the headers.
        let headers = reply.headers.clone();
        let answer: GraphqlAnswer = self.read(reply)?;
        let channel = self.peer.channel;
        if answer
            .errors
            .iter()
            .any(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
        {
            return Err(ChannelError::RateLimited {
                channel,
                retry_after_secs: http::retry_after(&headers, Timestamp::now()),
            });
        }
        if !answer.errors.is_empty() {
            let messages: Vec<&str> = answer.errors.iter().map(|e| e.message.as_str()).collect();
            return Err(ChannelError::Other {
                channel,
                message: format!("GitHub GraphQL: {}", messages.join("; ")),
            });
        }
        // Read only now: with errors, `data` may hold nulls where `T` has none.
        serde_json::from_value(answer.data).map_err(|error| ChannelError::Other {
            channel,
            message: format!("unexpected GraphQL answer from {}: {error}", self.graphql),
        })
    }
}

/// A GitHub account as both APIs name one: a comment's `user` (REST) or `author`
/// (GraphQL), `GET /user`, GraphQL's `viewer`.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Account {
    pub login: String,
}

impl Account {
    /// The same account: GitHub's logins ignore case.
    pub fn is(&self, login: &str) -> bool {
        self.login.eq_ignore_ascii_case(login)
    }
}

#[derive(serde::Deserialize)]
struct GraphqlAnswer {
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(serde::Deserialize)]
struct GraphqlError {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

/// A repository on GitHub, as `owner/name` in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Repository {
    pub owner: String,
    pub name: String,
}

impl Repository {
    /// `owner/name` from the config key `key`.
    pub fn parse(
        channel: ChannelName,
        key: &'static str,
        text: &str,
    ) -> Result<Repository, ChannelError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ChannelError::NotConfigured { channel, key });
        }
        let invalid = || ChannelError::InvalidConfig {
            channel,
            key,
            reason: format!("`{text}` is not `owner/name`"),
        };
        let (owner, name) = text.split_once('/').ok_or_else(invalid)?;
        // GitHub's names: letters, digits, `-`, `_` and `.`, but not `.` or `..`.
        let valid = |part: &str| {
            !part.chars().all(|c| c == '.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !valid(owner) || !valid(name) {
            return Err(invalid());
        }
        Ok(Repository {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_owner_slash_name() {
        let parse = |text| Repository::parse(ChannelName::DocsGithub, "publish.github_repo", text);
        assert_eq!(
            parse(" acme/docs.site ").unwrap(),
            Repository {
                owner: "acme".into(),
                name: "docs.site".into()
            }
        );
        assert!(matches!(
            parse(""),
            Err(ChannelError::NotConfigured {
                key: "publish.github_repo",
                ..
            })
        ));
        for bad in [
            "acme",
            "acme/",
            "/docs",
            "acme/docs/x",
            "acme/do cs",
            "acme/..",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(
                error.to_string().contains("publish.github_repo"),
                "{bad}: {error}"
            );
        }
    }
}
