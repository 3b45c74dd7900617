//! Gitea's API, one client for all of raibid: commit statuses for CI ([`status`]); for the
//! mirrors and the lab ([`mirrors`]) the organisation, its repositories, pull mirrors,
//! `mirror-sync` and delete, the organisation's push webhook, and the read-only account
//! agents clone with (a user, a team, an access token).
//!
//! Every request carries `Authorization: token <gitea.token>`, or Basic credentials where
//! Gitea wants a password (creating access tokens); errors name the action and Gitea's
//! answer, never a credential (or the GitHub token a migration sends).

mod mirrors;
mod status;

use std::time::Duration;

use reqwest::{Method, Url};

use crate::backend::http::{describe, refusal};
pub use mirrors::{GiteaHook, GiteaRepo, GiteaTeam, HookOption, Migrate, PAGE_SIZE};
pub use status::{CONTEXT, CommitState, CreateStatus, StatusReporter};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum GiteaError {
    #[error("config key `gitea.url`: `{url}` is not an http(s) URL")]
    InvalidUrl { url: String },
    #[error("repository {repo:?} is not `owner/name`")]
    InvalidRepo { repo: String },
    /// Gitea could not be reached, or its answer not read.
    #[error("could not {action}: {message}")]
    Request { action: String, message: String },
    #[error("could not {action}: Gitea answered {status}: {message}")]
    Refused {
        action: String,
        status: u16,
        message: String,
    },
}

impl GiteaError {
    /// Whether the config is at fault rather than Gitea or the network.
    pub fn is_config_fault(&self) -> bool {
        matches!(
            self,
            GiteaError::InvalidUrl { .. } | GiteaError::InvalidRepo { .. }
        )
    }
}

/// How requests authenticate.
#[derive(Clone)]
pub enum GiteaAuth {
    /// An API token (`gitea.token`).
    Token(String),
    /// A user's password or access token: Gitea creates access tokens only for Basic auth.
    Basic { user: String, password: String },
}

/// A Gitea API client.
#[derive(Clone)]
pub struct Gitea {
    http: reqwest::Client,
    base: Url,
    auth: GiteaAuth,
}

impl std::fmt::Debug for Gitea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gitea")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Gitea {
    pub fn new(url: &str, token: String) -> Result<Gitea, GiteaError> {
        Gitea::with_auth(url, GiteaAuth::Token(token))
    }

    pub fn with_auth(url: &str, auth: GiteaAuth) -> Result<Gitea, GiteaError> {
        let base = Url::parse(url)
            .ok()
            .filter(|base| !base.cannot_be_a_base() && base.scheme().starts_with("http"))
            .ok_or_else(|| GiteaError::InvalidUrl {
                url: url.to_string(),
            })?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| GiteaError::Request {
                action: "build the HTTP client".into(),
                message: error.to_string(),
            })?;
        Ok(Gitea { http, base, auth })
    }

    /// The same Gitea with other credentials.
    pub fn as_user(&self, auth: GiteaAuth) -> Gitea {
        Gitea {
            auth,
            ..self.clone()
        }
    }

    /// `<base>/api/v1/<segments…>`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.auth {
            GiteaAuth::Token(token) => {
                request.header(reqwest::header::AUTHORIZATION, format!("token {token}"))
            }
            GiteaAuth::Basic { user, password } => request.basic_auth(user, Some(password)),
        }
    }

    /// Sends, retrying once when Gitea could not be reached (only for idempotent requests).
    async fn send(
        &self,
        action: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
        retry: bool,
    ) -> Result<reqwest::Response, GiteaError> {
        let sent = match build().send().await {
            Err(error) if retry && error.is_connect() => build().send().await,
            sent => sent,
        };
        sent.map_err(|error| GiteaError::Request {
            action: action.to_string(),
            message: describe(&error),
        })
    }

    /// A refusal by Gitea, with what to check for the credentials.
    async fn refused(&self, action: &str, response: reqwest::Response) -> GiteaError {
        let (status, mut message) = refusal(response).await;
        let credentials = match &self.auth {
            GiteaAuth::Token(_) => "gitea.token".to_string(),
            GiteaAuth::Basic { user, .. } => format!("the credentials of {user}"),
        };
        if status == 401 {
            message = format!("Gitea refused {credentials} ({message})");
        } else if status == 403 {
            message = format!("{credentials} may not do this ({message})");
        }
        GiteaError::Refused {
            action: action.to_string(),
            status,
            message,
        }
    }

    async fn expect_json<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
        retry: bool,
    ) -> Result<T, GiteaError> {
        let response = self.send(action, build, retry).await?;
        if response.status().is_success() {
            json(action, response).await
        } else {
            Err(self.refused(action, response).await)
        }
    }

    async fn expect_success(
        &self,
        action: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
        retry: bool,
    ) -> Result<(), GiteaError> {
        let response = self.send(action, build, retry).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.refused(action, response).await)
        }
    }
}

async fn json<T: serde::de::DeserializeOwned>(
    action: &str,
    response: reqwest::Response,
) -> Result<T, GiteaError> {
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| GiteaError::Request {
            action: action.to_string(),
            message: describe(&error),
        })?;
    serde_json::from_slice(&bytes).map_err(|error| GiteaError::Refused {
        action: action.to_string(),
        status,
        message: format!("unexpected answer: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_segments_and_keep_a_base_path() {
        let api = Gitea::new("http://gitea.local/sub/", "t".into()).unwrap();
        assert_eq!(
            api.url(&["repos", "mirrors", "a b", "mirror-sync"])
                .as_str(),
            "http://gitea.local/sub/api/v1/repos/mirrors/a%20b/mirror-sync"
        );
        assert!(Gitea::new("not a url", "t".into()).is_err());
        assert!(Gitea::new("ftp://gitea.local", "t".into()).is_err());
        assert!(!format!("{api:?}").contains("\"t\""));
    }
}
