//! Gitea's push webhook on the mirrors organisation: a push to any of its repositories
//! (Gitea's pull of a GitHub change included) reaches `raibid server`'s `/webhooks/gitea`,
//! signed with the server's `gitea_webhook_secret`, and becomes a build.
//!
//! Idempotent: the hook is found by its URL (or, when the server moved, as the `gitea`
//! hook at another address's `/webhooks/gitea`) and rewritten in place, never added
//! twice. Gitea never shows a hook's secret, so a found hook is always sent the current
//! one: a changed secret cannot go unnoticed. The secret never reaches a log or an error.

use serde::Serialize;

use super::MirrorError;
use crate::backend::forge::gitea::{Gitea, GiteaError, GiteaHook, HookOption};

/// The server's route for Gitea's webhooks.
pub const SERVER_PATH: &str = "/webhooks/gitea";
const EVENTS: [&str; 1] = ["push"];

/// Where the hook points and the secret Gitea signs deliveries with.
#[derive(Clone)]
pub struct PushHook {
    pub url: String,
    secret: String,
}

/// Shows where the hook points, never the secret.
impl std::fmt::Debug for PushHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushHook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookChange {
    Created,
    /// Found with another URL, content type, events or activity, and corrected.
    Updated,
    /// Found as wanted; only the secret, which Gitea never shows, was sent again.
    Kept,
}

impl PushHook {
    pub fn new(url: &str, secret: String) -> PushHook {
        PushHook {
            url: url.trim().to_string(),
            secret,
        }
    }

    fn option(&self) -> HookOption<'_> {
        HookOption {
            kind: "gitea",
            config: [
                ("url", self.url.as_str()),
                ("content_type", "json"),
                ("secret", self.secret.as_str()),
            ]
            .into(),
            events: EVENTS.to_vec(),
            branch_filter: "*",
            active: true,
        }
    }

    /// The secret out of an error, should Gitea ever quote it.
    fn redacted(&self, error: GiteaError) -> GiteaError {
        match error {
            GiteaError::Refused {
                action,
                status,
                message,
            } if !self.secret.is_empty() => GiteaError::Refused {
                action,
                status,
                message: message.replace(&self.secret, "********"),
            },
            error => error,
        }
    }
}

/// raibid's hook among the organisation's: the one at `url`, else a `gitea` hook at
/// another server's `/webhooks/gitea` (the server's address changed).
pub fn ours<'a>(hooks: &'a [GiteaHook], url: &str) -> Option<&'a GiteaHook> {
    hooks.iter().find(|hook| hook.url() == url).or_else(|| {
        hooks.iter().find(|hook| {
            hook.kind == "gitea" && hook.url().trim_end_matches('/').ends_with(SERVER_PATH)
        })
    })
}

/// The hook as [`PushHook`] makes it, the secret aside.
pub fn is_as_wanted(hook: &GiteaHook, url: &str) -> bool {
    hook.kind == "gitea"
        && hook.url() == url
        && hook.config.get("content_type").map(String::as_str) == Some("json")
        && hook.active
        && hook.events == EVENTS
}

/// Makes sure `org` has the push hook; the organisation must exist.
pub async fn ensure(api: &Gitea, org: &str, hook: &PushHook) -> Result<HookChange, MirrorError> {
    let hooks = api.org_hooks(org).await?;
    let option = hook.option();
    let change = match ours(&hooks, &hook.url) {
        None => {
            api.create_org_hook(org, &option)
                .await
                .map_err(|error| hook.redacted(error))?;
            return Ok(HookChange::Created);
        }
        Some(found) if is_as_wanted(found, &hook.url) => (found.id, HookChange::Kept),
        Some(found) => (found.id, HookChange::Updated),
    };
    api.edit_org_hook(org, change.0, &option)
        .await
        .map_err(|error| hook.redacted(error))?;
    Ok(change.1)
}

/// Whether `org` has the hook at `url` as [`ensure`] leaves it (its secret cannot be seen).
pub async fn in_place(api: &Gitea, org: &str, url: &str) -> Result<bool, MirrorError> {
    let hooks = api.org_hooks(org).await?;
    Ok(ours(&hooks, url).is_some_and(|hook| is_as_wanted(hook, url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: i64, kind: &str, url: &str) -> GiteaHook {
        GiteaHook {
            id,
            kind: kind.into(),
            config: [
                ("url".to_string(), url.to_string()),
                ("content_type".to_string(), "json".to_string()),
            ]
            .into(),
            events: vec!["push".into()],
            active: true,
        }
    }

    #[test]
    fn ours_is_found_by_url_then_by_the_servers_path() {
        let url = "http://raibid-server.lab.svc.cluster.local:8080/webhooks/gitea";
        let hooks = [
            hook(1, "slack", "https://hooks.slack.com/x"),
            hook(2, "gitea", "http://old-server:8080/webhooks/gitea"),
            hook(3, "gitea", url),
        ];
        assert_eq!(ours(&hooks, url).map(|h| h.id), Some(3));
        assert_eq!(
            ours(&hooks[..2], url).map(|h| h.id),
            Some(2),
            "moved server"
        );
        assert_eq!(ours(&hooks[..1], url), None, "another service's hook");
        assert!(is_as_wanted(&hooks[2], url));
        assert!(!is_as_wanted(&hooks[1], url));
        let mut inactive = hooks[2].clone();
        inactive.active = false;
        assert!(!is_as_wanted(&inactive, url));
    }

    #[test]
    fn the_secret_stays_out_of_debug_and_errors() {
        let hook = PushHook::new(" http://s/webhooks/gitea ", "s3cret-value".into());
        assert_eq!(hook.url, "http://s/webhooks/gitea");
        assert!(!format!("{hook:?}").contains("s3cret-value"));
        let error = hook.redacted(GiteaError::Refused {
            action: "add a webhook".into(),
            status: 422,
            message: "bad secret s3cret-value".into(),
        });
        assert!(!error.to_string().contains("s3cret-value"), "{error}");
    }
}
