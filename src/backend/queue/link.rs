//! The queue's connections to Redis, reconnecting after Redis restarts.
//!
//! Two kinds: one shared multiplexed connection for short commands, and dedicated
//! connections for blocking reads (XREADGROUP / XREAD BLOCK). A blocking read holds its
//! connection until it returns, stalling everything pipelined behind it, and redis-rs times
//! responses out after 500 ms by default; so each blocking read checks out a connection of
//! its own and sets a response timeout longer than its block.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, Cmd, FromRedisValue, Pipeline, RedisError, RedisResult,
};

use super::error::{QueueError, mask_url};

/// How long connecting may take before the operation fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Response timeout of short commands and scripts (all are O(small)).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// What a blocking read's response timeout adds to its block.
const BLOCK_MARGIN: Duration = Duration::from_secs(5);
/// Blocking connections kept for reuse; more concurrent readers open more and drop them after.
const IDLE_BLOCKING: usize = 4;

#[derive(Clone)]
pub struct Link {
    client: Client,
    /// The URL as it may be shown in errors.
    url: String,
    shared: Arc<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
    idle_blocking: Arc<Mutex<Vec<MultiplexedConnection>>>,
}

impl Link {
    /// Parses the URL and connects the shared connection, so a wrong address fails now.
    pub async fn open(url: &str) -> Result<Link, QueueError> {
        let shown = mask_url(url);
        let client = Client::open(url).map_err(|source| QueueError::Connect {
            url: shown.clone(),
            source,
        })?;
        let link = Link {
            client,
            url: shown,
            shared: Arc::default(),
            idle_blocking: Arc::default(),
        };
        link.shared_connection().await?;
        Ok(link)
    }

    pub async fn query<T: FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &Cmd,
    ) -> Result<T, QueueError> {
        self.run(
            op,
            |mut conn| async move { cmd.query_async(&mut conn).await },
        )
        .await
    }

    pub async fn pipeline<T: FromRedisValue>(
        &self,
        op: &'static str,
        pipe: &Pipeline,
    ) -> Result<T, QueueError> {
        self.run(
            op,
            |mut conn| async move { pipe.query_async(&mut conn).await },
        )
        .await
    }

    pub async fn script<T: FromRedisValue>(
        &self,
        op: &'static str,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, QueueError> {
        self.run(op, |mut conn| async move {
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    /// Runs a command that blocks in Redis for up to `block` on a connection of its own.
    pub async fn blocking<T: FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &Cmd,
        block: Duration,
    ) -> Result<T, QueueError> {
        let mut retried = false;
        loop {
            let mut conn = self.blocking_connection().await?;
            conn.set_response_timeout(block + BLOCK_MARGIN);
            match cmd.query_async(&mut conn).await {
                Ok(value) => {
                    self.return_blocking(conn);
                    return Ok(value);
                }
                Err(source) if source.is_connection_dropped() => {
                    // The others were opened to the same server before it went away.
                    self.idle_blocking
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .clear();
                    if retried {
                        return Err(QueueError::Redis { op, source });
                    }
                    retried = true;
                }
                Err(source) => return Err(QueueError::Redis { op, source }),
            }
        }
    }

    /// Runs `call` on the shared connection. A connection found dropped (Redis restarted) is
    /// replaced and the call made once more; callers rely on every queue write being safe to
    /// repeat (see docs/queue.md).
    async fn run<T, F, Fut>(&self, op: &'static str, call: F) -> Result<T, QueueError>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut retried = false;
        loop {
            let conn = self.shared_connection().await?;
            match call(conn).await {
                Ok(value) => return Ok(value),
                Err(source) if source.is_connection_dropped() => {
                    *self.shared.lock().await = None;
                    if retried {
                        return Err(QueueError::Redis { op, source });
                    }
                    retried = true;
                }
                Err(source) => return Err(QueueError::Redis { op, source }),
            }
        }
    }

    async fn shared_connection(&self) -> Result<MultiplexedConnection, QueueError> {
        // Held while connecting, so concurrent callers wait for one connection, not race.
        let mut shared = self.shared.lock().await;
        if let Some(conn) = shared.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self.connect(Some(RESPONSE_TIMEOUT)).await?;
        *shared = Some(conn.clone());
        Ok(conn)
    }

    async fn blocking_connection(&self) -> Result<MultiplexedConnection, QueueError> {
        let idle = self
            .idle_blocking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => self.connect(None).await,
        }
    }

    /// Only a connection whose read returned comes back: one dropped mid-block (its future
    /// cancelled) may still have the read pending in Redis and is closed instead.
    fn return_blocking(&self, conn: MultiplexedConnection) {
        let mut idle = self
            .idle_blocking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < IDLE_BLOCKING {
            idle.push(conn);
        }
    }

    async fn connect(
        &self,
        response_timeout: Option<Duration>,
    ) -> Result<MultiplexedConnection, QueueError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(response_timeout);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|source: RedisError| QueueError::Connect {
                url: self.url.clone(),
                source,
            })
    }
}
