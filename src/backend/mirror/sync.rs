//! Carries a [`Plan`] out, one change at a time (a migration makes Gitea clone the whole
//! repository; one at a time keeps it responsive). A failed change does not stop the
//! others: the result lists what was done and what failed.
//!
//! Idempotent: a plan only creates what has no mirror yet, and existing mirrors are left
//! alone, so running sync twice creates nothing the second time.
//!
//! Gitea may echo a migration's clone address with the GitHub token in it, so every
//! failure is stripped of that token before it is kept.

use serde::Serialize;

use super::push_hook::{self, HookChange};
use super::{MirrorError, Mirrors, Plan};
use crate::backend::forge::gitea::{GiteaError, Migrate};

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Mirrors created, as Gitea `org/name`.
    pub created: Vec<String>,
    /// Mirrors deleted (only with prune), as Gitea `org/name`.
    pub removed: Vec<String>,
    /// GitHub repositories (`owner/name`) whose push hook was registered now.
    pub hooks_registered: Vec<String>,
    /// What became of Gitea's push webhook on the organisation, when one is wanted.
    pub gitea_hook: Option<HookChange>,
}

pub(super) async fn apply(
    mirrors: &Mirrors,
    plan: &Plan,
    prune: bool,
) -> Result<Applied, MirrorError> {
    let gitea = &mirrors.gitea.gitea;
    let org = mirrors.gitea.org.as_str();
    let mut applied = Applied::default();
    let mut failures = Failures {
        list: Vec::new(),
        token: &mirrors.github_token,
    };

    if prune {
        for full_name in &plan.remove {
            let (owner, name) = full_name.split_once('/').unwrap_or((org, full_name));
            match gitea.delete(owner, name).await {
                Ok(()) => {
                    tracing::info!(mirror = %full_name, "mirror removed");
                    applied.removed.push(full_name.clone());
                }
                Err(error) => failures.push(error.to_string()),
            }
        }
    }

    let mut mirrored: Vec<String> = plan.keep.clone();
    let org_ready = if plan.create.is_empty() && mirrors.push_hook.is_none() {
        Ok(())
    } else {
        gitea.ensure_org(org).await.map(|created| {
            if created {
                tracing::info!(org, "Gitea organisation created");
            }
        })
    };
    match org_ready {
        Err(error) => failures.push(error.to_string()),
        Ok(()) => {
            if let Some(hook) = &mirrors.push_hook {
                match push_hook::ensure(gitea, org, hook).await {
                    Ok(change) => {
                        tracing::info!(org, url = %hook.url, ?change, "Gitea push webhook");
                        applied.gitea_hook = Some(change);
                    }
                    Err(error) => failures.push(error.to_string()),
                }
            }
            for repo in &plan.create {
                let migrate = Migrate {
                    clone_addr: &repo.clone_url,
                    repo_name: &repo.name,
                    repo_owner: org,
                    service: "github",
                    auth_token: &mirrors.github_token,
                    mirror: true,
                    mirror_interval: &mirrors.interval,
                    private: repo.private,
                    description: format!("Mirror of {}", repo.html_url),
                    wiki: false,
                    issues: false,
                    labels: false,
                    milestones: false,
                    pull_requests: false,
                    releases: false,
                    lfs: false,
                };
                match gitea.migrate(&migrate).await {
                    Ok(created) => {
                        let full_name = if created.full_name.is_empty() {
                            format!("{org}/{}", repo.name)
                        } else {
                            created.full_name
                        };
                        tracing::info!(mirror = %full_name, github = %repo.full_name, "mirror created");
                        applied.created.push(full_name);
                        mirrored.push(repo.full_name.clone());
                    }
                    Err(GiteaError::Refused {
                        status: 409,
                        action,
                        ..
                    }) => failures.push(format!(
                        "could not {action}: {org}/{} exists already and is not a mirror of {} \
                         (rename or delete it in Gitea)",
                        repo.name, repo.full_name
                    )),
                    Err(error) => failures.push(error.to_string()),
                }
            }
        }
    }

    if let Some(hooks) = &mirrors.hooks {
        for repo in &mirrored {
            match hooks.ensure(repo).await {
                Ok(true) => {
                    tracing::info!(github = %repo, "push webhook registered");
                    applied.hooks_registered.push(repo.clone());
                }
                Ok(false) => {}
                Err(error) => failures.push(error.to_string()),
            }
        }
    }

    if failures.list.is_empty() {
        Ok(applied)
    } else {
        Err(MirrorError::Partial {
            applied,
            failures: failures.list,
        })
    }
}

/// The failures of a sync, each without the GitHub token.
struct Failures<'a> {
    list: Vec<String>,
    token: &'a str,
}

impl Failures<'_> {
    fn push(&mut self, failure: String) {
        self.list.push(redact(failure, self.token));
    }
}

/// `text` with every occurrence of `token` replaced by `********`, and also a start of
/// it (4 characters or more) that ends the text: Gitea's message may be cut short.
fn redact(text: String, token: &str) -> String {
    if token.is_empty() {
        return text;
    }
    let mut text = text.replace(token, "********");
    let cut = (4..token.len())
        .rev()
        .filter(|&len| token.is_char_boundary(len))
        .find(|&len| text.ends_with(&token[..len]));
    if let Some(len) = cut {
        text.truncate(text.len() - len);
        text.push_str("********");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_token_is_redacted_wherever_it_appears() {
        let text = "clone https://oauth2:ghp_x@github.com/a/b.git: ghp_x refused".to_string();
        assert_eq!(
            redact(text, "ghp_x"),
            "clone https://oauth2:********@github.com/a/b.git: ******** refused"
        );
        assert_eq!(redact("no token here".into(), ""), "no token here");
        assert_eq!(
            redact("read from https://oauth2:ghp_abcd".into(), "ghp_abcdef"),
            "read from https://oauth2:********",
            "a token cut short at the end"
        );
        assert_eq!(redact("ends in gh".into(), "ghp_abcdef"), "ends in gh");
    }
}
