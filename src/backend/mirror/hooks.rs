//! Push webhooks on the GitHub repositories, so a push reaches Gitea's mirror at once
//! instead of at the next `mirror.interval`: `GET /repos/{o}/{r}/hooks`, then
//! `POST /repos/{o}/{r}/hooks` only when no hook points at `mirror.webhook_url` yet.
//!
//! Idempotent by that look-up, and the POST is never retried (a retried create could
//! register the hook twice). Needs a token allowed to administer the repository's hooks.
//! Requests go through the forge's [`GitHub`] client, which waits out rate limits.

use axum::http::Method;
use serde::Deserialize;

use super::MirrorError;
use crate::backend::forge::github::{Answer, GitHub, GitHubError};

/// Registers `raibid server`'s `/webhooks/github-sync` on GitHub repositories.
#[derive(Clone)]
pub struct Hooks {
    github: GitHub,
    webhook_url: String,
    secret: String,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("api", &self.github.api())
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
    /// `secret` signs the deliveries (`server.github_webhook_secret`, which the server
    /// checks them with).
    pub fn new(github: GitHub, webhook_url: &str, secret: String) -> Hooks {
        Hooks {
            github,
            webhook_url: webhook_url.to_string(),
            secret,
        }
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
        let hooks_url = self.github.url(&["repos", owner, name, "hooks"]);
        let action = format!("list the webhooks of GitHub repository {repo}");
        let answer = self
            .github
            .get(&format!("{hooks_url}?per_page=100"))
            .await
            .map_err(|error| failed(&action, error))?;
        if !is_success(&answer) {
            return Err(refused(&action, &answer));
        }
        let hooks: Vec<Hook> =
            serde_json::from_str(&answer.body).map_err(|error| MirrorError::GitHubApi {
                action: action.clone(),
                status: answer.status,
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
        let answer = self
            .github
            .change(Method::POST, &hooks_url, &body)
            .await
            .map_err(|error| failed(&action, error))?;
        if is_success(&answer) {
            Ok(true)
        } else {
            Err(refused(&action, &answer))
        }
    }
}

fn is_success(answer: &Answer) -> bool {
    (200..300).contains(&answer.status)
}

/// GitHub could not be asked, rejected the token, or kept rate-limiting past
/// `github.max_wait_secs`.
fn failed(action: &str, error: GitHubError) -> MirrorError {
    MirrorError::Http {
        action: action.to_string(),
        message: error.to_string(),
    }
}

/// A refusal other than a rate limit (the client waits those out) or a bad token.
fn refused(action: &str, answer: &Answer) -> MirrorError {
    let mut message = answer.message();
    if answer.status == 403 || answer.status == 404 {
        message = format!("{message}; registering hooks needs admin rights on the repository");
    }
    MirrorError::GitHubApi {
        action: action.to_string(),
        status: answer.status,
        message,
    }
}
