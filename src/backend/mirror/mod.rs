//! GitHub repositories mirrored into Gitea (docs/mirror.md): the repositories `[github]`
//! selects become pull mirrors in Gitea's `mirror.gitea_org`, which Gitea then keeps up
//! to date by itself every `mirror.interval`, or at once when GitHub's push webhook
//! reaches `raibid server` (`POST /webhooks/github-sync`).
//!
//! [`plan`] is pure (what to create, remove, keep); [`Gitea`] (the forge's client) talks to Gitea;
//! [`sync`] carries a plan out; [`hooks`] registers the optional GitHub webhooks;
//! [`push_hook`] keeps Gitea's push webhook on the organisation pointing at the server;
//! [`reader`] keeps the read-only account agents clone with (for `raibid up`).
//! [`Mirrors`] ties them to the config for `plan` and `sync`; [`GiteaMirrors`] is the
//! Gitea-only part that listing, a single sync, the console and the server need.

pub mod actor;
pub mod hooks;
pub mod plan;
pub mod push_hook;
pub mod reader;
pub mod sync;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::backend::forge::gitea::{Gitea, GiteaError, GiteaRepo};
use crate::backend::forge::github::{GitHub, GitHubError};
use crate::config::{Config, Secret};
use hooks::Hooks;
pub use plan::Plan;
use push_hook::PushHook;
pub use sync::Applied;

/// One of our mirrors, as the CLI's `list` and the console's Mirrors view show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MirrorStatus {
    /// The GitHub repository, `owner/name`.
    pub github: String,
    /// The mirror, `org/name`.
    pub gitea: String,
    /// The mirror's page in Gitea.
    pub url: String,
    /// Gitea's `mirror_updated`; `None` when it never synced.
    pub last_sync: Option<jiff::Timestamp>,
    /// No sync for more than `mirror.stale_hours` (or never).
    pub stale: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("config key `{key}` is not set{hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
    #[error("config key `{key}`: {message}")]
    Config { key: &'static str, message: String },
    #[error("github.orgs and github.repos are both empty: nothing to mirror")]
    NothingSelected,
    #[error("no mirror of {repo:?} in {org}")]
    NotFound { repo: String, org: String },
    #[error(transparent)]
    Gitea(#[from] GiteaError),
    #[error("could not {action}: GitHub answered {status}: {message}")]
    GitHubApi {
        action: String,
        status: u16,
        message: String,
    },
    #[error("could not {action}: {message}")]
    Http { action: String, message: String },
    #[error("GitHub: {0}")]
    GitHub(#[from] GitHubError),
    /// Some changes of a sync were made, others failed.
    #[error("{} of the changes failed:\n  {}", failures.len(), failures.join("\n  "))]
    Partial {
        applied: Applied,
        failures: Vec<String>,
    },
}

impl MirrorError {
    /// The config or the caller's input is at fault (the CLI's exit 2), not a service.
    pub fn is_bad_input(&self) -> bool {
        match self {
            MirrorError::Missing { .. }
            | MirrorError::Config { .. }
            | MirrorError::NothingSelected
            | MirrorError::NotFound { .. } => true,
            MirrorError::GitHub(error) => error.is_config_fault(),
            MirrorError::Gitea(error) => error.is_config_fault(),
            _ => false,
        }
    }
}

/// A secret's value, or which key is missing.
fn required(key: &'static str, secret: &Secret, hint: &'static str) -> Result<String, MirrorError> {
    secret
        .reveal()
        .map_err(|error| MirrorError::Config {
            key,
            message: error.to_string(),
        })?
        .ok_or(MirrorError::Missing { key, hint })
}

/// The Gitea side of the mirrors: list them, find one, sync one. All the server needs.
#[derive(Debug, Clone)]
pub struct GiteaMirrors {
    gitea: Gitea,
    org: String,
    stale_hours: u64,
    /// Hosts whose repositories count as GitHub's (see [`plan::github_hosts`]).
    hosts: BTreeSet<String>,
}

/// A mirror found by name.
#[derive(Debug, Clone)]
struct Found {
    github: String,
    repo: GiteaRepo,
}

impl GiteaMirrors {
    /// Needs `gitea.url` and `gitea.token`; the error names the missing key.
    pub fn from_config(config: &Config) -> Result<GiteaMirrors, MirrorError> {
        if config.gitea.url.trim().is_empty() {
            return Err(MirrorError::Missing {
                key: "gitea.url",
                hint: " (Gitea's base URL, e.g. http://127.0.0.1:30300)",
            });
        }
        let token = required(
            "gitea.token",
            &config.gitea.token,
            " (a Gitea API token that may create organisations and repositories)",
        )?;
        Ok(GiteaMirrors {
            gitea: Gitea::new(config.gitea.url.trim(), token)?,
            org: config.mirror.gitea_org.clone(),
            stale_hours: config.mirror.stale_hours,
            hosts: plan::github_hosts(&config.github.api_url, []),
        })
    }

    /// The Gitea organisation the mirrors live in.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// Every repository of the organisation, ours or not.
    pub async fn repos(&self) -> Result<Vec<GiteaRepo>, MirrorError> {
        Ok(self.gitea.org_repos(&self.org).await?)
    }

    fn ours(&self, repos: Vec<GiteaRepo>) -> Vec<Found> {
        repos
            .into_iter()
            .filter_map(|repo| {
                let github = plan::github_origin(&repo, &self.hosts)?;
                Some(Found { github, repo })
            })
            .collect()
    }

    fn status(&self, found: &Found, now: jiff::Timestamp) -> MirrorStatus {
        let last_sync = found.repo.last_sync();
        // Clamped so that an absurd setting cannot overflow (about a thousand years).
        let hours = self.stale_hours.min(24 * 366 * 1000) as i64;
        let limit = jiff::SignedDuration::from_hours(hours);
        MirrorStatus {
            github: found.github.clone(),
            gitea: found.repo.full_name.clone(),
            url: found.repo.html_url.clone(),
            last_sync,
            stale: last_sync.is_none_or(|at| now.duration_since(at) > limit),
        }
    }

    /// Our mirrors, by Gitea name, each with its last sync and whether that is stale.
    pub async fn list(&self, now: jiff::Timestamp) -> Result<Vec<MirrorStatus>, MirrorError> {
        let mut found = self.ours(self.repos().await?);
        found.sort_by(|a, b| a.repo.full_name.cmp(&b.repo.full_name));
        Ok(found.iter().map(|found| self.status(found, now)).collect())
    }

    /// Our mirror of `repo`: a GitHub `owner/name`, or the mirror's Gitea `org/name` or
    /// `name` (case-insensitive).
    async fn find(&self, repo: &str) -> Result<Found, MirrorError> {
        let repo = repo.trim();
        let ours = self.ours(self.repos().await?);
        let by_github = ours
            .iter()
            .find(|found| found.github.eq_ignore_ascii_case(repo));
        let by_gitea = || {
            ours.iter().find(|found| {
                found.repo.full_name.eq_ignore_ascii_case(repo)
                    || found.repo.name.eq_ignore_ascii_case(repo)
            })
        };
        by_github
            .or_else(by_gitea)
            .cloned()
            .ok_or_else(|| MirrorError::NotFound {
                repo: repo.to_string(),
                org: self.org.clone(),
            })
    }

    async fn sync_found(&self, found: &Found) -> Result<String, MirrorError> {
        let (owner, name) = found
            .repo
            .full_name
            .split_once('/')
            .unwrap_or((&self.org, &found.repo.name));
        self.gitea.mirror_sync(owner, name).await?;
        Ok(found.repo.full_name.clone())
    }

    /// Asks Gitea to pull one mirror now (by GitHub `owner/name` or Gitea name); returns
    /// the mirror's Gitea full name.
    pub async fn sync_now(&self, repo: &str) -> Result<String, MirrorError> {
        Ok(self.sync_repo(repo).await?.gitea)
    }

    /// `sync_now`, naming the GitHub repository too (no hook: `hook_registered` is
    /// `None`).
    pub async fn sync_repo(&self, repo: &str) -> Result<Synced, MirrorError> {
        let found = self.find(repo).await?;
        let gitea = self.sync_found(&found).await?;
        Ok(Synced {
            github: found.github,
            gitea,
            hook_registered: None,
        })
    }

    /// The webhook's case: syncs our mirror of the GitHub repository `full_name`. Looks at
    /// `<org>/<name>` first and lists the organisation only when that is not the mirror.
    pub async fn sync_github(&self, full_name: &str) -> Result<String, MirrorError> {
        let not_found = || MirrorError::NotFound {
            repo: full_name.to_string(),
            org: self.org.clone(),
        };
        let (_, name) = full_name
            .split_once('/')
            .filter(|(owner, name)| !owner.is_empty() && !name.is_empty())
            .ok_or_else(not_found)?;
        let direct = self.gitea.repo(&self.org, name).await?.and_then(|repo| {
            let github = plan::github_origin(&repo, &self.hosts)?;
            github
                .eq_ignore_ascii_case(full_name)
                .then_some(Found { github, repo })
        });
        let found = match direct {
            Some(found) => found,
            None => self
                .ours(self.repos().await?)
                .into_iter()
                .find(|found| found.github.eq_ignore_ascii_case(full_name))
                .ok_or_else(not_found)?,
        };
        self.sync_found(&found).await
    }
}

/// What `plan`, `sync` and `sync REPO` with hooks need: Gitea, the GitHub selection, the
/// GitHub token Gitea clones with, and the optional webhook registration. Listing and a
/// plain single sync need only [`GiteaMirrors`].
#[derive(Clone)]
pub struct Mirrors {
    gitea: GiteaMirrors,
    github: GitHub,
    github_token: String,
    api_url: String,
    interval: String,
    nothing_selected: bool,
    hooks: Option<Hooks>,
    push_hook: Option<PushHook>,
}

/// Shows where things are, never a token.
impl std::fmt::Debug for Mirrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirrors")
            .field("gitea", &self.gitea)
            .field("api_url", &self.api_url)
            .field("interval", &self.interval)
            .field("hooks", &self.hooks)
            .field("push_hook", &self.push_hook)
            .finish_non_exhaustive()
    }
}

/// What `sync REPO` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Synced {
    pub github: String,
    pub gitea: String,
    /// With `mirror.register_webhooks`: whether the hook was registered now (`false`:
    /// it was there already).
    pub hook_registered: Option<bool>,
}

impl Mirrors {
    /// Needs gitea.url, gitea.token, github.token (and with `mirror.register_webhooks`
    /// also `mirror.webhook_url` and `server.github_webhook_secret`); the error names the
    /// missing key. GitHub's cache lives in `github.cache_dir`, else `<data_dir>/github`.
    pub fn from_config(config: &Config, data_dir: &Path) -> Result<Mirrors, MirrorError> {
        let gitea = GiteaMirrors::from_config(config)?;
        let github_token = required(
            "github.token",
            &config.github.token,
            " (a GitHub token that may read the repositories; Gitea clones with it)",
        )?;
        let hooks = if config.mirror.register_webhooks {
            if config.mirror.webhook_url.trim().is_empty() {
                return Err(MirrorError::Missing {
                    key: "mirror.webhook_url",
                    hint: " (needed by mirror.register_webhooks)",
                });
            }
            let secret = required(
                "server.github_webhook_secret",
                &config.server.github_webhook_secret,
                " (needed by mirror.register_webhooks: GitHub signs the pushes with it)",
            )?;
            Some((config.mirror.webhook_url.trim(), secret))
        } else {
            None
        };
        let cache_dir = crate::backend::forge::github::cache_dir(&config.github, data_dir);
        let github = GitHub::new(&config.github, &cache_dir)?;
        let hooks = hooks.map(|(url, secret)| Hooks::new(github.clone(), url, secret));
        Ok(Mirrors {
            gitea,
            github,
            github_token,
            api_url: config.github.api_url.clone(),
            interval: config.mirror.interval.clone(),
            nothing_selected: config.github.orgs.is_empty() && config.github.repos.is_empty(),
            hooks,
            push_hook: None,
        })
    }

    /// `apply` also keeps Gitea's push webhook on the organisation ([`push_hook`]).
    pub fn with_push_hook(mut self, hook: PushHook) -> Mirrors {
        self.push_hook = Some(hook);
        self
    }

    /// The Gitea side alone.
    pub fn gitea(&self) -> &GiteaMirrors {
        &self.gitea
    }

    /// What a sync would do; changes nothing.
    pub async fn plan(&self) -> Result<Plan, MirrorError> {
        if self.nothing_selected {
            return Err(MirrorError::NothingSelected);
        }
        let (selected, existing) = tokio::join!(self.github.selected_repos(), self.gitea.repos());
        let (selected, existing) = (selected?, existing?);
        let urls = selected
            .iter()
            .flat_map(|repo| [repo.clone_url.as_str(), repo.html_url.as_str()]);
        let mut hosts = plan::github_hosts(&self.api_url, urls);
        hosts.extend(self.gitea.hosts.iter().cloned());
        Ok(plan::plan(&selected, &existing, &hosts))
    }

    /// Carries `plan` out: creates its mirrors, with `prune` deletes its `remove` ones,
    /// with `mirror.register_webhooks` makes sure every created or kept repository has its
    /// GitHub push hook, and with [`Mirrors::with_push_hook`] the organisation its Gitea
    /// push hook. Goes on past a failed change; then the error is
    /// [`MirrorError::Partial`] with what was done.
    pub async fn apply(&self, plan: &Plan, prune: bool) -> Result<Applied, MirrorError> {
        sync::apply(self, plan, prune).await
    }

    /// [`GiteaMirrors::sync_repo`], and with `mirror.register_webhooks` the GitHub
    /// repository's push hook.
    pub async fn sync_repo(&self, repo: &str) -> Result<Synced, MirrorError> {
        let mut synced = self.gitea.sync_repo(repo).await?;
        if let Some(hooks) = &self.hooks {
            synced.hook_registered = Some(hooks.ensure(&synced.github).await?);
        }
        Ok(synced)
    }
}
