//! The HTTP side: octocrab's raw requests (no retry layer: the crate is built without
//! octocrab's `retry` feature), at most `concurrency` in flight, waiting out rate limits,
//! counting what was spent, and keeping the token out of every message. Reads are retried
//! after network failures and 502/503/504; changes are sent once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{self, HeaderMap, HeaderValue, header};
use jiff::{SignedDuration, Timestamp};
use octocrab::Octocrab;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

use super::rate::{self, RateInfo, Wait};
use super::{GitHubError, Usage};

/// A whole exchange (connect, send, read the body) may take this long.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Network failures and 502/503/504 answers to reads (GETs and GraphQL queries) are
/// retried this many times.
const RETRIES: u32 = 2;
/// Rate-limit answers to one request after which it gives up.
const MAX_WAITS: u32 = 5;

/// One answer, body read.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub etag: Option<String>,
    /// The `Link` header's `rel="next"` URL.
    pub next: Option<String>,
    pub body: String,
}

impl Answer {
    /// GitHub's `message` in an error body, or the start of the body.
    pub fn message(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|body| body.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| self.body.chars().take(200).collect())
    }
}

enum Method<'a> {
    Get {
        etag: Option<&'a str>,
    },
    /// A GraphQL query: a read.
    Query {
        body: &'a serde_json::Value,
    },
    /// A REST change. Never retried after a network failure or a 5xx (a retried create
    /// could happen twice); a rate-limit refusal changed nothing, so it is waited out.
    Change {
        method: http::Method,
        body: Option<&'a serde_json::Value>,
    },
}

/// A wait that every request to the resource honours; announced once.
struct Block {
    wait: Wait,
    announced: bool,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    not_modified: AtomicU64,
    graphql_points: AtomicU64,
    rate_limit_waits: AtomicU64,
}

/// The one transport to GitHub: [`super::GitHub`] builds on it, and the channels that
/// publish to GitHub use it directly ([`Client::once`]).
pub struct Client {
    octocrab: Octocrab,
    /// Only to take it out of messages.
    token: String,
    api: String,
    graphql: String,
    permits: Semaphore,
    blocks: Mutex<HashMap<String, Block>>,
    bad_token: AtomicBool,
    /// A longer wait is not waited: the request fails ([`GitHubError::RateLimitTooLong`]).
    max_wait: SignedDuration,
    counters: Counters,
    notices: Mutex<Option<UnboundedSender<String>>>,
}

impl Client {
    /// `api`: the REST base without a trailing slash.
    pub fn new(
        api: &str,
        token: String,
        concurrency: usize,
        max_wait: SignedDuration,
    ) -> Result<Client, GitHubError> {
        if HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(GitHubError::InvalidToken);
        }
        let octocrab = Octocrab::builder()
            .base_uri(api)
            .map_err(|_| GitHubError::InvalidUrl {
                url: api.to_owned(),
            })?
            .personal_token(token.clone())
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .build()
            .map_err(|error| GitHubError::Network(redact(&error.to_string(), &token)))?;
        Ok(Client {
            octocrab,
            token,
            api: api.to_owned(),
            graphql: graphql_url(api),
            permits: Semaphore::new(concurrency.max(1)),
            blocks: Mutex::new(HashMap::new()),
            bad_token: AtomicBool::new(false),
            max_wait,
            counters: Counters::default(),
            notices: Mutex::new(None),
        })
    }

    pub fn api(&self) -> &str {
        &self.api
    }

    pub fn set_notices(&self, notices: UnboundedSender<String>) {
        *self.notices.lock().unwrap_or_else(|e| e.into_inner()) = Some(notices);
    }

    pub fn usage(&self) -> Usage {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Usage {
            requests: read(&self.counters.requests),
            not_modified: read(&self.counters.not_modified),
            graphql_points: read(&self.counters.graphql_points),
            rate_limit_waits: read(&self.counters.rate_limit_waits),
        }
    }

    pub fn add_points(&self, points: u64) {
        self.counters
            .graphql_points
            .fetch_add(points, Ordering::Relaxed);
    }

    /// The text with the token replaced by `***`: for every message that leaves here.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
    }

    /// A GET, conditional when `etag` is given.
    pub async fn get(&self, url: &str, etag: Option<&str>) -> Result<Answer, GitHubError> {
        self.send(url, Method::Get { etag }, "core").await
    }

    /// A GraphQL query; the answer's status and body are the caller's to read.
    pub async fn graphql(&self, body: &serde_json::Value) -> Result<Answer, GitHubError> {
        let url = self.graphql.clone();
        self.send(&url, Method::Query { body }, "graphql").await
    }

    /// A REST change (POST, PUT, PATCH, DELETE) with a JSON body, sent once.
    pub async fn change(
        &self,
        method: http::Method,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, GitHubError> {
        let body = Some(body);
        self.send(url, Method::Change { method, body }, "core")
            .await
    }

    /// One exchange as it comes: no retry and no rate-limit wait, for callers that read
    /// every refusal themselves (publishing, where a person publishes again). A failure
    /// to exchange is [`GitHubError::Network`].
    pub async fn once(
        &self,
        method: http::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GitHubError> {
        let exchanged = {
            let _permit = self.permits.acquire().await;
            tokio::time::timeout(
                EXCHANGE_TIMEOUT,
                self.exchange(url, &Method::Change { method, body }),
            )
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {EXCHANGE_TIMEOUT:?}")))
        };
        let answer = exchanged.map_err(|message| GitHubError::Network(self.redact(&message)))?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        Ok(answer)
    }

    async fn send(
        &self,
        url: &str,
        method: Method<'_>,
        resource: &str,
    ) -> Result<Answer, GitHubError> {
        let mut failures = 0;
        let mut waits = 0;
        loop {
            if self.bad_token.load(Ordering::Relaxed) {
                return Err(GitHubError::BadToken);
            }
            self.wait_while_blocked(resource).await?;
            let exchanged = {
                let _permit = self.permits.acquire().await;
                tokio::time::timeout(EXCHANGE_TIMEOUT, self.exchange(url, &method))
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {EXCHANGE_TIMEOUT:?}")))
            };
            let answer = match exchanged {
                Ok(exchanged) => exchanged,
                Err(message) => {
                    failures += 1;
                    let message = self.redact(&message);
                    if failures > RETRIES || matches!(method, Method::Change { .. }) {
                        return Err(GitHubError::Network(format!("{url}: {message}")));
                    }
                    tracing::debug!(%url, %message, "github: retrying after a network failure");
                    tokio::time::sleep(backoff(failures)).await;
                    continue;
                }
            };
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            if answer.status == 304 {
                self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
            }
            let now = Timestamp::now();
            let rate = RateInfo::from_headers(&answer.headers);
            let graphql_limited =
                matches!(method, Method::Query { .. }) && rate::graphql_rate_limited(&answer.body);
            if let Some(wait) = rate::verdict(
                answer.status,
                &rate,
                graphql_limited,
                &answer.body,
                now,
                resource,
            ) {
                waits += 1;
                if waits > MAX_WAITS {
                    return Err(GitHubError::RateLimited {
                        url: url.to_owned(),
                        waits: MAX_WAITS,
                    });
                }
                self.block(resource, wait);
                continue;
            }
            if let Some(wait) = rate::exhausted(&rate, now, resource) {
                self.block(resource, wait);
            }
            match answer.status {
                401 => {
                    self.bad_token.store(true, Ordering::Relaxed);
                    return Err(GitHubError::BadToken);
                }
                502..=504 if failures < RETRIES && !matches!(method, Method::Change { .. }) => {
                    failures += 1;
                    tracing::debug!(%url, status = answer.status, "github: retrying");
                    tokio::time::sleep(backoff(failures)).await;
                }
                _ => return Ok(answer),
            }
        }
    }

    async fn exchange(&self, url: &str, method: &Method<'_>) -> Result<Answer, String> {
        let response = match method {
            Method::Get { etag } => {
                let mut headers = rest_headers();
                if let Some(etag) = etag.and_then(|etag| HeaderValue::from_str(etag).ok()) {
                    headers.insert(header::IF_NONE_MATCH, etag);
                }
                self.octocrab._get_with_headers(url, Some(headers)).await
            }
            Method::Query { body } => self.octocrab._post(url, Some(*body)).await,
            Method::Change { method, body } => {
                let mut request = http::Request::builder().method(method.clone()).uri(url);
                for (name, value) in &rest_headers() {
                    request = request.header(name, value);
                }
                match self.octocrab.build_request(request, *body) {
                    Ok(request) => self.octocrab.execute(request).await,
                    Err(error) => Err(error),
                }
            }
        }
        .map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = self
            .octocrab
            .body_to_string(response)
            .await
            .map_err(|error| error.to_string())?;
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let answer = Answer {
            status,
            etag: text(header::ETAG),
            next: text(header::LINK).and_then(|link| next_link(&link)),
            body,
            headers,
        };
        Ok(answer)
    }

    /// Makes every request to `resource` wait (until the later of the current block and
    /// this one).
    fn block(&self, resource: &str, wait: Wait) {
        let mut blocks = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
        match blocks.get(resource) {
            Some(block) if block.wait.until() >= wait.until() => {}
            _ => {
                blocks.insert(
                    resource.to_owned(),
                    Block {
                        wait,
                        announced: false,
                    },
                );
            }
        }
    }

    /// Sleeps until `resource` is no longer blocked; fails at once when that is further
    /// away than `max_wait` (the block stays: the requests after fail as fast).
    async fn wait_while_blocked(&self, resource: &str) -> Result<(), GitHubError> {
        loop {
            let now = Timestamp::now();
            let until = {
                let mut blocks = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
                let Some(block) = blocks.get_mut(resource) else {
                    return Ok(());
                };
                if block.wait.until() <= now {
                    blocks.remove(resource);
                    return Ok(());
                }
                if block.wait.until().duration_since(now) > self.max_wait {
                    return Err(GitHubError::RateLimitTooLong {
                        refusal: block.wait.refusal(),
                        max_secs: self.max_wait.as_secs(),
                    });
                }
                if !block.announced {
                    block.announced = true;
                    self.counters
                        .rate_limit_waits
                        .fetch_add(1, Ordering::Relaxed);
                    self.notify(block.wait.notice(now));
                }
                block.wait.until()
            };
            let pause = until.duration_since(now).unsigned_abs();
            tokio::time::sleep(pause).await;
        }
    }

    /// Tells the user (notices channel) and the log.
    pub fn notify(&self, message: String) {
        let message = self.redact(&message);
        tracing::warn!("{message}");
        if let Some(notices) = self
            .notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = notices.send(message);
        }
    }
}

/// The media type and API version GitHub's REST API asks for, and a User-Agent naming
/// raibid (octocrab adds its own after it).
fn rest_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static(concat!("raibid/", env!("CARGO_PKG_VERSION"))),
    );
    headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    headers.insert(
        "x-github-api-version",
        HeaderValue::from_static("2022-11-28"),
    );
    headers
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(500 * u64::from(failures))
}

/// `<api>/graphql`; for GitHub Enterprise's `https://host/api/v3`, `https://host/api/graphql`.
pub(crate) fn graphql_url(api: &str) -> String {
    let api = api.trim_end_matches('/');
    match api.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{api}/graphql"),
    }
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .map(str::trim)
            .any(|param| param == "rel=\"next\"" || param == "rel=next")
            .then(|| target.to_owned())
    })
}

pub(super) fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_page() {
        let link = r#"<https://api.github.com/organizations/9/repos?per_page=100&page=2>; rel="next", <https://api.github.com/organizations/9/repos?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/organizations/9/repos?per_page=100&page=2")
        );
        let last = r#"<https://x/r?page=1>; rel="prev", <https://x/r?page=1>; rel="first""#;
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn graphql_lives_beside_the_rest_api() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/graphql"
        );
        assert_eq!(
            graphql_url("https://ghe.example.com/api/v3"),
            "https://ghe.example.com/api/graphql"
        );
    }

    #[test]
    fn messages_never_show_the_token() {
        assert_eq!(redact("bad ghp_123 here", "ghp_123"), "bad *** here");
        assert_eq!(redact("nothing", ""), "nothing");
        assert!(matches!(
            Client::new(
                "http://127.0.0.1:9",
                "bad\ntoken".into(),
                1,
                SignedDuration::from_secs(60)
            ),
            Err(GitHubError::InvalidToken)
        ));
    }
}
