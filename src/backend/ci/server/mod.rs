//! `raibid server`: takes Gitea and GitHub push webhooks, verifies them, queues build jobs
//! on the Redis Streams queue, and serves the job API the console and `raibid jobs` use.
//! docs/api.md lists every route.
//!
//! The handlers are thin: signatures, payloads, metrics and auth are plain functions in
//! their own modules; the queue does the Redis work.

mod api;
mod auth;
mod connections;
mod error;
mod github_sync;
mod metrics;
pub mod push;
mod signature;
mod sse;
mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::backend::mirror::GiteaMirrors;
use crate::backend::queue::{Queue, QueueError, QueueSettings};
use crate::config::{Config, SecretError, ServerConfig};
use error::{ApiError, QueueFull};
use metrics::Metrics;
use signature::TokenCheck;

/// What the server needs from the config, with the secrets read once at start.
#[derive(Clone)]
pub struct ServerSettings {
    pub token: Option<String>,
    pub gitea_secret: Option<String>,
    pub github_secret: Option<String>,
    pub body_limit: usize,
    pub job_timeout_secs: u64,
    /// Where the clone URLs of pushes may point.
    pub forges: push::Forges,
    pub limits: ServerLimits,
}

/// How much the server takes on, and how long it waits (`server.*` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// For a request's headers, and for an idle connection's next request.
    pub header_timeout: Duration,
    /// From a request's headers to its response, the body included.
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_log_streams: usize,
    /// Between the stop signal and closing the connections still open.
    pub shutdown_grace: Duration,
}

impl ServerLimits {
    pub fn from_config(server: &ServerConfig) -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(server.header_timeout_secs),
            request_timeout: Duration::from_secs(server.request_timeout_secs),
            max_connections: server.max_connections,
            max_log_streams: server.max_log_streams,
            shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits::from_config(&ServerConfig::default())
    }
}

impl ServerSettings {
    pub fn from_config(config: &Config) -> Result<Self, ServerError> {
        let reveal = |key: &'static str, secret: &crate::config::Secret| {
            secret
                .reveal()
                .map_err(|source| ServerError::Secret { key, source })
        };
        Ok(ServerSettings {
            token: reveal("server.token", &config.server.token)?,
            gitea_secret: reveal(
                "server.gitea_webhook_secret",
                &config.server.gitea_webhook_secret,
            )?,
            github_secret: reveal(
                "server.github_webhook_secret",
                &config.server.github_webhook_secret,
            )?,
            body_limit: config.server.body_limit_bytes,
            job_timeout_secs: config.ci.job_timeout_secs,
            forges: push::Forges::from_config(config),
            limits: ServerLimits::from_config(&config.server),
        })
    }
}

/// Says which secrets are set, never what they are.
impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |secret: &Option<String>| if secret.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("ServerSettings")
            .field("token", &set(&self.token))
            .field("gitea_secret", &set(&self.gitea_secret))
            .field("github_secret", &set(&self.github_secret))
            .field("body_limit", &self.body_limit)
            .field("job_timeout_secs", &self.job_timeout_secs)
            .field("forges", &self.forges)
            .field("limits", &self.limits)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("config key `{key}`: {source}")]
    Secret {
        key: &'static str,
        source: SecretError,
    },
    #[error("config key `server.listen`: {value:?} is not an address like 127.0.0.1:8080")]
    Listen { value: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What every handler shares.
pub(crate) struct ServerState {
    queue: Queue,
    token: Option<TokenCheck>,
    gitea_secret: Option<String>,
    github_secret: Option<String>,
    job_timeout_secs: u64,
    forges: push::Forges,
    /// Gitea's mirrors for `/webhooks/github-sync`; `None` when Gitea is not configured.
    mirrors: Option<GiteaMirrors>,
    metrics: Metrics,
    /// One permit per open log stream: each may hold a Redis connection of its own.
    log_streams: Arc<Semaphore>,
    max_log_streams: usize,
    /// Ends the log followers, so a graceful shutdown does not wait on open streams.
    shutdown: CancellationToken,
}

/// The whole HTTP API on `queue`. Open log streams end only with their job or client.
pub fn router(queue: Queue, settings: ServerSettings) -> Router {
    build(queue, settings, None, CancellationToken::new())
}

/// [`router`] with Gitea's mirrors, which `/webhooks/github-sync` syncs (without them it
/// answers 503).
pub fn router_with_mirrors(
    queue: Queue,
    settings: ServerSettings,
    mirrors: Option<GiteaMirrors>,
) -> Router {
    build(queue, settings, mirrors, CancellationToken::new())
}

fn build(
    queue: Queue,
    settings: ServerSettings,
    mirrors: Option<GiteaMirrors>,
    shutdown: CancellationToken,
) -> Router {
    let body_limit = settings.body_limit;
    let limits = settings.limits;
    let state = Arc::new(ServerState {
        queue,
        token: settings.token.as_deref().map(TokenCheck::new),
        gitea_secret: settings.gitea_secret,
        github_secret: settings.github_secret,
        job_timeout_secs: settings.job_timeout_secs,
        forges: settings.forges,
        mirrors,
        metrics: Metrics::default(),
        log_streams: Arc::new(Semaphore::new(limits.max_log_streams)),
        max_log_streams: limits.max_log_streams,
        shutdown,
    });
    let routes: [(&'static str, Access, MethodRouter<Arc<ServerState>>); 13] = [
        ("/webhooks/gitea", Access::Open, post(webhooks::gitea)),
        ("/webhooks/github", Access::Open, post(webhooks::github)),
        (
            "/webhooks/github-sync",
            Access::Open,
            post(github_sync::github_sync),
        ),
        ("/healthz", Access::Open, get(api::healthz)),
        ("/readyz", Access::Open, get(api::readyz)),
        (
            "/jobs",
            Access::Token,
            get(api::list_jobs).post(api::create_job),
        ),
        ("/jobs/{id}", Access::Token, get(api::get_job)),
        ("/jobs/{id}/cancel", Access::Token, post(api::cancel_job)),
        ("/jobs/{id}/retry", Access::Token, post(api::retry_job)),
        ("/jobs/{id}/logs", Access::Token, get(sse::logs)),
        ("/agents", Access::Token, get(api::agents)),
        ("/queue", Access::Token, get(api::queue_stats)),
        ("/metrics", Access::Token, get(api::metrics)),
    ];
    routes
        .into_iter()
        .fold(Router::new(), |router, (path, access, method_router)| {
            let method_router = layered(&state, path, access, limits, method_router);
            router.route(path, method_router)
        })
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Who may call a route: webhooks and probes prove themselves otherwise or need nothing.
#[derive(Clone, Copy)]
enum Access {
    Open,
    Token,
}

/// Wraps a route in its auth, in the request deadline, and in the request counter,
/// outermost, so refused and timed-out requests are counted too. Each route carries its
/// own label (axum's `MatchedPath` is not compiled in), and other methods get a JSON 405.
fn layered(
    state: &Arc<ServerState>,
    route: &'static str,
    access: Access,
    limits: ServerLimits,
    method_router: MethodRouter<Arc<ServerState>>,
) -> MethodRouter<Arc<ServerState>> {
    let method_router = method_router.fallback(api::method_not_allowed);
    let method_router = match access {
        Access::Open => method_router,
        Access::Token => method_router.layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        )),
    };
    method_router
        .layer(middleware::from_fn_with_state(
            limits.request_timeout,
            deadline,
        ))
        .layer(middleware::from_fn_with_state(
            (state.clone(), route),
            count,
        ))
}

/// Answers 408 when the request (its body included) and its handling take longer than
/// `limit`. A log stream counts only until it starts.
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "request not complete within {} s (server.request_timeout_secs)",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

async fn count(
    State((state, route)): State<(Arc<ServerState>, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.request(route, response.status().as_u16());
    if response.extensions().get::<QueueFull>().is_some() {
        state.metrics.queue_full();
    }
    response
}

/// Binds (to `listen`, else `server.listen`), logs the address, and serves until
/// `shutdown` is cancelled; then stops taking connections, ends the log streams, lets open
/// requests finish within `server.shutdown_grace_secs` and closes what is left.
pub async fn serve(
    config: &Config,
    listen: Option<SocketAddr>,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let settings = ServerSettings::from_config(config)?;
    let addr = match listen {
        Some(addr) => addr,
        None => config
            .server
            .listen
            .parse()
            .map_err(|_| ServerError::Listen {
                value: config.server.listen.clone(),
            })?,
    };
    for (missing, what) in [
        (
            settings.token.is_none(),
            "server.token is not set: the job API answers 503",
        ),
        (
            settings.gitea_secret.is_none(),
            "server.gitea_webhook_secret is not set: Gitea webhooks answer 503",
        ),
        (
            settings.github_secret.is_none(),
            "server.github_webhook_secret is not set: GitHub webhooks answer 503",
        ),
    ] {
        if missing {
            tracing::warn!("{what}");
        }
    }
    let mirrors = match GiteaMirrors::from_config(config) {
        Ok(mirrors) => Some(mirrors),
        Err(error) => {
            tracing::warn!(%error, "/webhooks/github-sync answers 503");
            None
        }
    };
    let queue = Queue::connect(
        config.ci.redis_url_or_local(),
        &config.ci.queue_prefix,
        QueueSettings::from_config(&config.ci),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(%bound, "raibid server listening");
    let limits = settings.limits;
    let app = build(queue, settings, mirrors, shutdown.child_token());
    connections::serve(listener, app, &limits, shutdown).await;
    tracing::info!("raibid server stopped");
    Ok(())
}
