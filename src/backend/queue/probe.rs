//! Whether Redis takes writes: `/readyz` asks with one small write, since a Redis at its
//! `maxmemory` under `noeviction` (or a read-only replica) still answers every read.

use super::error::QueueError;
use super::redis_queue::Queue;

/// How long the probe's key lives: it is rewritten by every probe and never read.
const PROBE_TTL_SECS: u64 = 60;

impl Queue {
    /// Writes one short-lived key; fails as a write of a job would.
    pub async fn probe_write(&self) -> Result<(), QueueError> {
        let mut set = redis::cmd("SET");
        set.arg(format!("{}:probe", self.keys.jobs()))
            .arg(jiff::Timestamp::now().as_millisecond())
            .arg("EX")
            .arg(PROBE_TTL_SECS);
        self.link.query("write the readiness probe", &set).await
    }
}

impl QueueError {
    /// Redis is up but refuses writes: out of memory under `noeviction`, a read-only
    /// replica, or a failed snapshot that stops writes. Retrying soon will not help.
    pub fn writes_refused(&self) -> bool {
        let QueueError::Redis { source, .. } = self else {
            return false;
        };
        matches!(source.code(), Some("OOM" | "READONLY" | "MISCONF"))
    }
}
