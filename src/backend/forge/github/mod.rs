//! GitHub: the repositories `[github]` selects (REST, for Sparky and the mirrors) and
//! GraphQL queries (for Sparky's activity, which Sparky reads and caches itself).
//!
//! Quota is spent sparingly: repository listings are conditional requests whose `ETag`s
//! and answers are cached on disk (an unchanged page comes back `304 Not Modified`, which
//! GitHub does not count). Rate limits are waited out (up to `github.max_wait_secs`,
//! beyond which the request fails); [`GitHub::with_notices`] hears about every wait. The
//! token never appears in an error, a notice or a log line.

pub(crate) mod cache;
mod client;
mod rate;
mod repos;
mod select;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

pub use client::{Answer, Client};
pub use select::select;
// Shared with the channels that publish to GitHub.
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

use crate::config::{GithubConfig, Secret, SecretError};
use cache::HttpCache;

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
    cache_dir: PathBuf,
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
                cache_dir: cache_dir.to_path_buf(),
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

    /// What has been spent so far.
    pub fn usage(&self) -> Usage {
        self.inner.client.usage()
    }

    /// A REST GET of `url` (on the API, e.g. from [`GitHub::url`]); the answer's status
    /// and body are the caller's to read.
    pub async fn get(&self, url: &str) -> Result<Answer, GitHubError> {
        self.inner.client.get(url, None).await
    }

    /// A REST change (POST, PUT, PATCH, DELETE) with a JSON body, sent once: never retried
    /// after a network failure or a 5xx, so a create cannot happen twice.
    pub async fn change(
        &self,
        method: axum::http::Method,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, GitHubError> {
        self.inner.client.change(method, url, body).await
    }

    /// `<api>/<segments…>`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> String {
        let mut url = self.api().to_owned();
        for part in segments {
            url.push('/');
            url.push_str(&repos::segment(part));
        }
        url
    }

    /// A GraphQL query; the answer's status and body are the caller's to read, and the
    /// points it cost the caller's to count ([`GitHub::add_points`]).
    pub async fn graphql(&self, body: &serde_json::Value) -> Result<Answer, GitHubError> {
        self.inner.client.graphql(body).await
    }

    /// Counts GraphQL points as a query's `rateLimit { cost }` reported them.
    pub fn add_points(&self, points: u64) {
        self.inner.client.add_points(points);
    }

    /// The text with the token replaced by `***`: for every message about a request.
    pub fn redact(&self, text: &str) -> String {
        self.inner.client.redact(text)
    }

    /// Requests in flight at most (`github.concurrency`).
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// The REST base URL, without a trailing slash.
    pub fn api(&self) -> &str {
        self.inner.client.api()
    }

    /// The cache dir the client was made with (created, mode 0700).
    pub fn cache_dir(&self) -> &Path {
        &self.inner.cache_dir
    }
}

/// A GraphQL connection's `pageInfo { hasNextPage endCursor }`: whether there is more,
/// and where the next page starts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
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
