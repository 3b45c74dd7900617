//! Carries a [`Plan`] out, one change at a time (a migration makes Gitea clone the whole
//! repository; one at a time keeps it responsive). A failed change does not stop the
//! others: the result lists what was done and what failed.
//!
//! Idempotent: a plan only creates what has no mirror yet, and existing mirrors are left
//! alone, so running sync twice creates nothing the second time.

use serde::Serialize;

use super::gitea_api::Migrate;
use super::{MirrorError, Mirrors, Plan};

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Mirrors created, as Gitea `org/name`.
    pub created: Vec<String>,
    /// Mirrors deleted (only with prune), as Gitea `org/name`.
    pub removed: Vec<String>,
    /// GitHub repositories (`owner/name`) whose push hook was registered now.
    pub hooks_registered: Vec<String>,
}

pub(super) async fn apply(
    mirrors: &Mirrors,
    plan: &Plan,
    prune: bool,
) -> Result<Applied, MirrorError> {
    let gitea = &mirrors.gitea.gitea;
    let org = mirrors.gitea.org.as_str();
    let mut applied = Applied::default();
    let mut failures = Vec::new();

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
    let org_ready = if plan.create.is_empty() {
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
                    Err(MirrorError::Gitea {
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

    if failures.is_empty() {
        Ok(applied)
    } else {
        Err(MirrorError::Partial { applied, failures })
    }
}
