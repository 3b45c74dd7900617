//! GitHub: the repositories `[github]` selects (REST, for Sparky and the mirrors) and
//! their activity in a period (GraphQL, for Sparky).
//!
//! Quota is spent sparingly: repository listings are conditional requests whose `ETag`s
//! and answers are cached on disk (an unchanged page comes back `304 Not Modified`, which
//! GitHub does not count), and a repository's activity for a period is kept with its
//! `pushed_at`, so an unchanged repository is not queried again. Rate limits are waited
//! out (up to `github.max_wait_secs`, beyond which the request fails and its repository
//! is not collected); [`GitHub::with_notices`] hears about every wait. The token never
//! appears in an error, a notice or a log line.

mod activity;
mod cache;
mod client;
mod rate;
mod repos;
mod select;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

pub use select::select;
// Shared with the channels that publish to GitHub.
pub(crate) use activity::PageInfo;
pub(crate) use client::{graphql_url, next_link};

/// Where the conditional-request cache and incremental state live: `github.cache_dir`, or
/// `github` under the data dir.
pub fn cache_dir(config: &GithubConfig, data_dir: &std::path::Path) -> std::path::PathBuf {
    if config.cache_dir.as_os_str().is_empty() {
        data_dir.join("github")
    } else {
        config.cache_dir.clone()
    }
}

use crate::backend::sparky::model::{Period, RepoActivity};
use crate::config::{GithubConfig, Secret, SecretError};
use activity::{Collector, Reply};
use cache::{ACTIVITY_FORMAT, ActivityStore, HttpCache, StoredPeriod};
use client::Client;

/// Queries per repository and period at most (each brings up to 100 commits).
const MAX_QUERIES: u32 = 200;
/// Activity of a period that had not ended when it was fetched is reused this long when
/// the repository's `pushed_at` is unchanged: issues and pull requests from forks do not
/// change `pushed_at`.
const FRESH_FOR: SignedDuration = SignedDuration::from_mins(10);

/// A repository as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoInfo {
    /// `owner/name`.
    pub full_name: String,
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub archived: bool,
    pub fork: bool,
    /// HTTPS clone URL.
    pub clone_url: String,
    pub html_url: String,
    /// Empty for a repository without commits.
    pub default_branch: String,
    /// The last push to any branch; `None` before the first.
    pub pushed_at: Option<Timestamp>,
}

/// The activity of many repositories; one failing does not fail the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GitHubActivity {
    /// In the order the repositories were given; incomplete ones included.
    pub repos: Vec<RepoActivity>,
    pub failures: Vec<RepoFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoFailure {
    /// `owner/name`.
    pub repo: String,
    /// E.g. `no access: ...` for a repository the token cannot see, or `incomplete: ...`.
    pub reason: String,
    /// A warning, not a failure: collecting was cut short, and what was fetched is in
    /// [`GitHubActivity::repos`] (but not kept for the next run).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// What has been spent since the client was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Answers received, 304s and rate-limit refusals included.
    pub requests: u64,
    /// `304 Not Modified` answers (free on GitHub).
    pub not_modified: u64,
    /// GraphQL points, as `rateLimit { cost }` reported them.
    pub graphql_points: u64,
    /// Times requests had to wait for a rate limit.
    pub rate_limit_waits: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("no GitHub token: {hint}")]
    NoToken { hint: String },
    #[error("could not read github.token: {0}")]
    Token(#[from] SecretError),
    #[error("github.token holds characters an HTTP header cannot carry (a line break?)")]
    InvalidToken,
    #[error("GitHub rejected the token (401 Bad credentials): check github.token")]
    BadToken,
    #[error("github.api_url {url:?} is not a valid URL")]
    InvalidUrl { url: String },
    #[error("github.{key}: `{pattern}` is not a regular expression: {message}")]
    Pattern {
        key: &'static str,
        pattern: String,
        message: String,
    },
    #[error("cannot create the GitHub cache dir {}: {source}", path.display())]
    CacheDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GitHub has no {what}, or the token cannot see it (404)")]
    NotFound { what: String },
    #[error("GitHub kept rate-limiting {url} after {waits} waits")]
    RateLimited { url: String, waits: u32 },
    #[error("{refusal}, later than github.max_wait_secs ({max_secs} s) allows waiting")]
    RateLimitTooLong { refusal: String, max_secs: i64 },
    #[error("GitHub answered {status} to {url}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("GitHub could not be reached: {0}")]
    Network(String),
    #[error("GitHub's answer from {url} could not be read: {message}")]
    Decode { url: String, message: String },
}

impl GitHubError {
    /// Whether the user must fix the config (`[github]`: the token, the API URL, a
    /// pattern) rather than wait for GitHub or the network: a command exits 2 on such an
    /// error, 1 on the others.
    pub fn is_config_fault(&self) -> bool {
        match self {
            GitHubError::NoToken { .. }
            | GitHubError::Token(_)
            | GitHubError::InvalidToken
            | GitHubError::BadToken
            | GitHubError::InvalidUrl { .. }
            | GitHubError::Pattern { .. } => true,
            // The directory may be fine and the disk full or read-only: not the config's
            // fault as such. The rest is GitHub's or the network's.
            GitHubError::CacheDir { .. }
            | GitHubError::NotFound { .. }
            | GitHubError::RateLimited { .. }
            | GitHubError::RateLimitTooLong { .. }
            | GitHubError::Http { .. }
            | GitHubError::Network(_)
            | GitHubError::Decode { .. } => false,
        }
    }
}

/// A GitHub API client for the configured organisations and repositories.
#[derive(Clone)]
pub struct GitHub {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    http_cache: HttpCache,
    store: ActivityStore,
    orgs: Vec<String>,
    repos: Vec<String>,
    config: GithubConfig,
    concurrency: usize,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.inner.client.api())
            .field("orgs", &self.inner.orgs)
            .field("repos", &self.inner.repos)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A client for `config`; `cache_dir` (created, mode 0700) holds the conditional
    /// request cache and the incremental state. No token: [`GitHubError::NoToken`], naming
    /// `github.token` and its environment variable.
    pub fn new(config: &GithubConfig, cache_dir: &Path) -> Result<GitHub, GitHubError> {
        let token = config.token.reveal()?.ok_or_else(|| GitHubError::NoToken {
            hint: no_token_hint(&config.token),
        })?;
        if let Some((key, pattern, message)) = select::bad_pattern(config) {
            return Err(GitHubError::Pattern {
                key,
                pattern,
                message,
            });
        }
        let api = config.api_url.trim().trim_end_matches('/');
        if !(api.starts_with("http://") || api.starts_with("https://")) {
            return Err(GitHubError::InvalidUrl {
                url: config.api_url.clone(),
            });
        }
        let concurrency = usize::try_from(config.concurrency)
            .unwrap_or(1)
            .clamp(1, 32);
        let max_wait =
            SignedDuration::from_secs(i64::try_from(config.max_wait_secs).unwrap_or(i64::MAX));
        let client = Client::new(api, token, concurrency, max_wait)?;
        cache::create_dir(cache_dir).map_err(|source| GitHubError::CacheDir {
            path: cache_dir.to_path_buf(),
            source,
        })?;
        let mut config = config.clone();
        config.token = Secret::None;
        Ok(GitHub {
            inner: Arc::new(Inner {
                client,
                http_cache: HttpCache::new(cache_dir, api),
                store: ActivityStore::new(cache_dir, api),
                orgs: config.orgs.clone(),
                repos: config.repos.clone(),
                config,
                concurrency,
            }),
        })
    }

    /// Notices such as "GitHub rate limit reached (core): waiting until 10:42:07 UTC" are
    /// sent here as well as logged.
    pub fn with_notices(self, notices: UnboundedSender<String>) -> GitHub {
        self.inner.client.set_notices(notices);
        self
    }

    /// The organisations' repositories (paginated, conditional) filtered by [`select`],
    /// plus `github.repos`; sorted by `full_name`, each once. A single repository that
    /// answers 404 is left out with a notice.
    pub async fn selected_repos(&self) -> Result<Vec<RepoInfo>, GitHubError> {
        let inner = &self.inner;
        let mut all = Vec::new();
        for org in &inner.orgs {
            all.extend(repos::org_repos(&inner.client, &inner.http_cache, org).await?);
        }
        let missing: Vec<String> = inner
            .repos
            .iter()
            .filter(|name| {
                !all.iter()
                    .any(|repo: &RepoInfo| repo.full_name.eq_ignore_ascii_case(name))
            })
            .cloned()
            .collect();
        let mut singles = tokio::task::JoinSet::new();
        for (index, name) in missing.into_iter().enumerate() {
            let github = self.clone();
            singles.spawn(async move {
                let inner = &github.inner;
                let found = repos::single_repo(&inner.client, &inner.http_cache, &name).await;
                (index, name, found)
            });
        }
        let mut found = Vec::new();
        while let Some(joined) = singles.join_next().await {
            let (index, name, repo) = joined.map_err(|error| {
                GitHubError::Network(format!("a repository lookup stopped: {error}"))
            })?;
            found.push((index, name, repo?));
        }
        found.sort_by_key(|(index, ..)| *index);
        for (_, name, repo) in found {
            match repo {
                Some(repo) => all.push(repo),
                None => inner.client.notify(format!(
                    "github.repos: {name}: no such repository or no access (404); skipped"
                )),
            }
        }
        Ok(select(all, &inner.config))
    }

    /// Each repository's activity in `period`: commits with line counts (bots flagged
    /// with `bots`), pull requests opened, merged or closed in it (reviewers, line counts),
    /// issues (pull requests excluded) and releases. At most `concurrency` repositories at
    /// a time; a repository that fails is in `failures`, never fails the run. A
    /// repository whose `pushed_at` is unchanged since its activity for this period was
    /// fetched (after the period ended, or within the last minutes) is not queried again.
    /// Activity cut short (too many pages) is in `repos` with what was fetched, and in
    /// `failures` as [`RepoFailure::incomplete`]; it is not remembered for the next run.
    pub async fn activity(
        &self,
        repos: &[RepoInfo],
        period: &Period,
        bots: &[String],
    ) -> GitHubActivity {
        let mut unique: Vec<RepoInfo> = Vec::with_capacity(repos.len());
        for repo in repos {
            if !unique
                .iter()
                .any(|seen| seen.full_name.eq_ignore_ascii_case(&repo.full_name))
            {
                unique.push(repo.clone());
            }
        }
        let limit = Arc::new(Semaphore::new(self.inner.concurrency));
        let bots: Arc<[String]> = bots.into();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, repo) in unique.iter().cloned().enumerate() {
            let github = self.clone();
            let limit = limit.clone();
            let bots = bots.clone();
            let (since, until) = (period.since, period.until);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let result = github.repo_activity(&repo, since, until, &bots).await;
                (index, result)
            });
        }
        let mut results: Vec<Option<Result<Fetched, String>>> = vec![None; unique.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, result)) => results[index] = Some(result),
                Err(error) => tracing::error!(%error, "github: an activity task stopped"),
            }
        }
        let mut activity = GitHubActivity::default();
        for (repo, result) in unique.iter().zip(results) {
            match result.unwrap_or_else(|| Err("collecting stopped unexpectedly".into())) {
                Ok(Fetched {
                    activity: found,
                    incomplete,
                }) => {
                    activity.repos.push(found);
                    if let Some(reason) = incomplete {
                        let reason = self.inner.client.redact(&reason);
                        tracing::warn!(repo = %repo.full_name, %reason, "github: incomplete activity for this repository");
                        activity.failures.push(RepoFailure {
                            repo: repo.full_name.clone(),
                            reason,
                            incomplete: true,
                        });
                    }
                }
                Err(reason) => {
                    let reason = self.inner.client.redact(&reason);
                    tracing::warn!(repo = %repo.full_name, %reason, "github: no activity for this repository");
                    activity.failures.push(RepoFailure {
                        repo: repo.full_name.clone(),
                        reason,
                        incomplete: false,
                    });
                }
            }
        }
        activity
    }

    /// What has been spent so far.
    pub fn usage(&self) -> Usage {
        self.inner.client.usage()
    }

    async fn repo_activity(
        &self,
        repo: &RepoInfo,
        since: Timestamp,
        until: Timestamp,
        bots: &[String],
    ) -> Result<Fetched, String> {
        let inner = &self.inner;
        let now = Timestamp::now();
        if let Some(stored) = inner.store.load(&repo.full_name, since, until).await
            && reusable(&stored, repo, now)
        {
            tracing::debug!(repo = %repo.full_name, "github: activity unchanged since the last run");
            return Ok(Fetched {
                activity: activity::flag_bots(stored.activity, bots),
                incomplete: None,
            });
        }
        let fetched_at = Timestamp::now();
        let Fetched {
            activity: fetched,
            incomplete,
        } = self.fetch_activity(repo, since, until).await?;
        if incomplete.is_some() {
            // Not kept: the next run asks again rather than taking part for the whole.
            return Ok(Fetched {
                activity: activity::flag_bots(fetched, bots),
                incomplete,
            });
        }
        let stored = StoredPeriod {
            since,
            until,
            pushed_at: repo.pushed_at,
            fetched_at,
            format: ACTIVITY_FORMAT,
            activity: fetched.clone(),
        };
        if let Err(error) = inner.store.save(&repo.full_name, stored).await {
            tracing::warn!(repo = %repo.full_name, %error, "github: cannot write the activity state");
        }
        Ok(Fetched {
            activity: activity::flag_bots(fetched, bots),
            incomplete: None,
        })
    }

    async fn fetch_activity(
        &self,
        repo: &RepoInfo,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Fetched, String> {
        let client = &self.inner.client;
        let mut collector = Collector::new(&repo.full_name, &repo.html_url, since, until);
        let mut queries = 0;
        while let Some(request) = collector.next_request() {
            queries += 1;
            if queries > MAX_QUERIES {
                collector.cut_short(format!(
                    "incomplete: more than {MAX_QUERIES} queries; the digest shows what was fetched"
                ));
                break;
            }
            let answer = client
                .graphql(&request)
                .await
                .map_err(|error| error.to_string())?;
            let (reply, cost) = activity::read_reply(&answer.body);
            client.add_points(cost.unwrap_or(0));
            match reply {
                Reply::Data(repository) if answer.status == 200 => {
                    collector.absorb(&repository)?;
                }
                Reply::NotFound => {
                    return Err(
                        "no access: the token cannot see this repository (404 Not Found)".into(),
                    );
                }
                Reply::Errors(message) if answer.status == 200 => {
                    return Err(format!("GitHub's GraphQL API answered: {message}"));
                }
                _ => {
                    return Err(format!(
                        "GitHub's GraphQL API answered {}: {}",
                        answer.status,
                        answer.message()
                    ));
                }
            }
        }
        let incomplete = collector.incomplete();
        Ok(Fetched {
            activity: collector.finish(),
            incomplete,
        })
    }
}

/// One repository's activity for a period, and why it is incomplete when it is.
#[derive(Debug, Clone)]
struct Fetched {
    activity: RepoActivity,
    incomplete: Option<String>,
}

/// Whether stored activity still holds: in the current format, same `pushed_at`, fetched
/// after the period ended or only minutes ago.
fn reusable(stored: &StoredPeriod, repo: &RepoInfo, now: Timestamp) -> bool {
    stored.format == ACTIVITY_FORMAT
        && stored.pushed_at == repo.pushed_at
        && (stored.fetched_at >= stored.until || now.duration_since(stored.fetched_at) < FRESH_FOR)
}

fn no_token_hint(token: &Secret) -> String {
    match token {
        Secret::Env(var) => format!(
            "github.token reads the environment variable {var}, which is not set; set it, or point github.token at a 0600 file"
        ),
        Secret::File(path) => format!("github.token's file {} is empty", path.display()),
        Secret::None => {
            "github.token is `none`; set it, e.g. github.token = { env = \"RAIBID_GITHUB_TOKEN\" }"
                .into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn repo(pushed: &str) -> RepoInfo {
        RepoInfo {
            full_name: "acme/web".into(),
            owner: "acme".into(),
            name: "web".into(),
            private: false,
            archived: false,
            fork: false,
            clone_url: String::new(),
            html_url: String::new(),
            default_branch: "main".into(),
            pushed_at: Some(at(pushed)),
        }
    }

    #[test]
    fn stored_activity_is_reused_only_when_nothing_was_pushed_and_its_format_holds() {
        let stored = StoredPeriod {
            since: at("2026-11-02T00:00:00Z"),
            until: at("2026-11-09T00:00:00Z"),
            pushed_at: Some(at("2026-11-08T10:00:00Z")),
            fetched_at: at("2026-11-10T00:00:00Z"),
            format: ACTIVITY_FORMAT,
            activity: RepoActivity::default(),
        };
        let later = at("2026-11-20T00:00:00Z");
        assert!(reusable(&stored, &repo("2026-11-08T10:00:00Z"), later));
        assert!(!reusable(&stored, &repo("2026-11-12T10:00:00Z"), later));
        let without_labels = StoredPeriod {
            format: 0,
            ..stored.clone()
        };
        assert!(
            !reusable(&without_labels, &repo("2026-11-08T10:00:00Z"), later),
            "stored before pull requests carried labels"
        );
        // Fetched while the period ran: good for a few minutes only.
        let running = StoredPeriod {
            fetched_at: at("2026-11-05T00:00:00Z"),
            ..stored
        };
        let repo = repo("2026-11-08T10:00:00Z");
        assert!(reusable(&running, &repo, at("2026-11-05T00:05:00Z")));
        assert!(!reusable(&running, &repo, at("2026-11-05T00:15:00Z")));
    }

    #[test]
    fn config_faults_are_the_users_to_fix() {
        let pattern = GitHubError::Pattern {
            key: "include",
            pattern: "(".into(),
            message: "unclosed group".into(),
        };
        for fault in [
            GitHubError::NoToken { hint: "h".into() },
            GitHubError::Token(SecretError::NotUnicode { var: "V".into() }),
            GitHubError::InvalidToken,
            GitHubError::BadToken,
            GitHubError::InvalidUrl { url: "x".into() },
            pattern,
        ] {
            assert!(fault.is_config_fault(), "{fault}");
        }
        for other in [
            GitHubError::NotFound { what: "x".into() },
            GitHubError::RateLimited {
                url: "u".into(),
                waits: 3,
            },
            GitHubError::RateLimitTooLong {
                refusal: "r".into(),
                max_secs: 60,
            },
            GitHubError::Http {
                url: "u".into(),
                status: 500,
                message: "m".into(),
            },
            GitHubError::Network("down".into()),
            GitHubError::Decode {
                url: "u".into(),
                message: "m".into(),
            },
            GitHubError::CacheDir {
                path: PathBuf::from("/x"),
                source: std::io::Error::other("read-only"),
            },
        ] {
            assert!(!other.is_config_fault(), "{other}");
        }
    }

    #[test]
    fn no_token_names_the_key_and_the_variable() {
        let config = GithubConfig {
            token: Secret::Env("RAIBID_TEST_GITHUB_TOKEN_UNSET".into()),
            ..GithubConfig::default()
        };
        let error = GitHub::new(&config, Path::new("/nonexistent")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("github.token"), "{message}");
        assert!(
            message.contains("RAIBID_TEST_GITHUB_TOKEN_UNSET"),
            "{message}"
        );
    }
}
