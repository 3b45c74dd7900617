//! The accept loop, with the bounds `axum::serve` does not offer: a connection limit, a
//! deadline for each request's headers (which also closes idle keep-alive connections), and
//! a grace period after which a stopping server closes what is still open.
//!
//! The request deadline (body included) is a route layer in `mod.rs`: hyper closes a
//! connection whose request body was left unread, so a stalled body goes with its 408.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::ServerLimits;

/// How long the loop pauses after a failed accept (e.g. out of file descriptors), so it
/// does not spin while the condition lasts.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` is cancelled; then takes no new connection,
/// lets open requests finish for up to the grace period, and closes whatever is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServerLimits,
    shutdown: CancellationToken,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    // Each open connection holds a permit: over the limit, new ones wait in the backlog.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let cut = CancellationToken::new();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let connection = Connection {
            http: http.clone(),
            app: app.clone(),
            stopping: shutdown.clone(),
            cut: cut.clone(),
            _permit: permit,
        };
        tokio::spawn(connection.run(stream));
    }
    drop(listener);
    // All permits back means every connection has ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        let open = limits.max_connections - permits.available_permits();
        tracing::warn!(
            open,
            "closing connections still open at the end of the grace period"
        );
        cut.cancel();
        let _ = permits.acquire_many(all).await;
    }
}

/// One client's connection and what ends it.
struct Connection {
    http: http1::Builder,
    app: Router,
    /// The server is stopping: finish the request in flight, then close.
    stopping: CancellationToken,
    /// The grace period is over: close now.
    cut: CancellationToken,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let service = TowerToHyperService::new(self.app);
        let connection = self.http.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        let ended = tokio::select! {
            result = connection.as_mut() => Some(result),
            () = self.stopping.cancelled() => None,
        };
        let result = match ended {
            Some(result) => result,
            None => {
                connection.as_mut().graceful_shutdown();
                tokio::select! {
                    result = connection => result,
                    () = self.cut.cancelled() => Ok(()),
                }
            }
        };
        // Timeouts and clients that go away mid-request end up here: routine, not news.
        if let Err(error) = result {
            tracing::debug!(%error, "connection closed");
        }
    }
}
