//! Push webhooks on the GitHub repositories, so a push reaches Gitea's mirror at once
//! instead of at the next `mirror.interval`: `GET /repos/{o}/{r}/hooks`, then
//! `POST /repos/{o}/{r}/hooks` only when no hook points at `mirror.webhook_url` yet.
//!
//! Idempotent by that look-up, and the POST is never retried (a retried create could
//! register the hook twice). Needs a token allowed to administer the repository's hooks.

use std::time::Duration;

use reqwest::{Method, Url};
use serde::Deserialize;

use super::MirrorError;
use super::gitea_api::{describe, refusal};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Registers `raibid server`'s `/webhooks/github-sync` on GitHub repositories.
#[derive(Clone)]
pub struct Hooks {
    http: reqwest::Client,
    api: Url,
    token: String,
    webhook_url: String,
    secret: String,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("api", &self.api.as_str())
            .field("webhook_url", &self.webhook_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Hook {
    #[serde(default)]
    config: HookConfig,
}

#[derive(Default, Deserialize)]
struct HookConfig {
    #[serde(default)]
    url: Option<String>,
}

impl Hooks {
    /// `api_url` is GitHub's REST base (`github.api_url`); `secret` signs the deliveries
    /// (`server.github_webhook_secret`, which the server checks them with).
    pub fn new(
        api_url: &str,
        token: String,
        webhook_url: &str,
        secret: String,
    ) -> Result<Hooks, MirrorError> {
        let api = Url::parse(api_url)
            .ok()
            .filter(|url| !url.cannot_be_a_base())
            .ok_or_else(|| MirrorError::Config {
                key: "github.api_url",
                message: format!("`{api_url}` is not a URL"),
            })?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("raibid/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| MirrorError::Http {
                action: "build the HTTP client".into(),
                message: error.to_string(),
            })?;
        Ok(Hooks {
            http,
            api,
            token,
            webhook_url: webhook_url.to_string(),
            secret,
        })
    }

    fn url(&self, owner: &str, name: &str) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["repos", owner, name, "hooks"]);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    /// Makes sure `repo` (`owner/name`) has a push hook to the webhook URL; `true` when
    /// this call created it.
    pub async fn ensure(&self, repo: &str) -> Result<bool, MirrorError> {
        let (owner, name) = repo
            .split_once('/')
            .filter(|(owner, name)| !owner.is_empty() && !name.is_empty())
            .ok_or_else(|| MirrorError::Http {
                action: format!("register a webhook on {repo:?}"),
                message: "not a GitHub owner/name".into(),
            })?;
        let mut url = self.url(owner, name);
        url.query_pairs_mut().append_pair("per_page", "100");
        let action = format!("list the webhooks of GitHub repository {repo}");
        let response = self
            .request(Method::GET, url)
            .send()
            .await
            .map_err(|error| http(&action, &error))?;
        if !response.status().is_success() {
            return Err(refused(&action, response).await);
        }
        let hooks: Vec<Hook> = response
            .json()
            .await
            .map_err(|error| MirrorError::GitHubApi {
                action: action.clone(),
                status: 200,
                message: format!("unexpected answer: {error}"),
            })?;
        let present = hooks
            .iter()
            .any(|hook| hook.config.url.as_deref() == Some(self.webhook_url.as_str()));
        if present {
            return Ok(false);
        }
        let action = format!("register the push webhook on GitHub repository {repo}");
        let body = serde_json::json!({
            "name": "web",
            "active": true,
            "events": ["push"],
            "config": {
                "url": self.webhook_url,
                "content_type": "json",
                "secret": self.secret,
                "insecure_ssl": "0",
            },
        });
        let response = self
            .request(Method::POST, self.url(owner, name))
            .json(&body)
            .send()
            .await
            .map_err(|error| http(&action, &error))?;
        if response.status().is_success() {
            Ok(true)
        } else {
            Err(refused(&action, response).await)
        }
    }
}

fn http(action: &str, error: &reqwest::Error) -> MirrorError {
    MirrorError::Http {
        action: action.to_string(),
        message: describe(error),
    }
}

async fn refused(action: &str, response: reqwest::Response) -> MirrorError {
    let limit = rate_limited(response.headers());
    let (status, mut message) = refusal(response).await;
    if status == 401 {
        message = format!("GitHub refused github.token ({message})");
    } else if let (403 | 429, Some(limit)) = (status, &limit) {
        message = format!("{message}; {limit}");
    } else if status == 403 || status == 404 {
        message = format!("{message}; registering hooks needs admin rights on the repository");
    }
    MirrorError::GitHubApi {
        action: action.to_string(),
        status,
        message,
    }
}

/// When GitHub's answer says its rate limit was hit (`X-RateLimit-Remaining: 0` or a
/// `Retry-After`), that, with when to try again if it says.
fn rate_limited(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after");
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    if !exhausted && retry_after.is_none() {
        return None;
    }
    let reset = header("x-ratelimit-reset")
        .and_then(|reset| reset.parse::<i64>().ok())
        .and_then(|reset| jiff::Timestamp::from_second(reset).ok());
    let when = match (retry_after, reset) {
        (Some(seconds), _) if seconds.parse::<u64>().is_ok() => {
            format!(" (retry after {seconds} s)")
        }
        (_, Some(reset)) => format!(" (it resets at {})", reset.strftime("%Y-%m-%d %H:%M:%SZ")),
        (Some(at), None) => format!(" (retry after {at})"),
        (None, None) => String::new(),
    };
    Some(format!(
        "GitHub's rate limit was hit{when}; try again later"
    ))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::rate_limited;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.parse().unwrap(), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn a_rate_limit_is_told_apart_from_missing_rights() {
        assert_eq!(rate_limited(&headers(&[])), None);
        assert_eq!(
            rate_limited(&headers(&[("x-ratelimit-remaining", "12")])),
            None,
            "a plain 403: admin rights"
        );
        assert_eq!(
            rate_limited(&headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1795000000"),
            ]))
            .as_deref(),
            Some(
                "GitHub's rate limit was hit (it resets at 2026-11-18 11:06:40Z); try again later"
            )
        );
        assert_eq!(
            rate_limited(&headers(&[("retry-after", "60")])).as_deref(),
            Some("GitHub's rate limit was hit (retry after 60 s); try again later")
        );
        assert_eq!(
            rate_limited(&headers(&[("x-ratelimit-remaining", "0")])).as_deref(),
            Some("GitHub's rate limit was hit; try again later")
        );
    }
}
