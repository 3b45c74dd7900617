//! The server's counters (atomics in the shared state) and their rendering in Prometheus'
//! text format 0.0.4, next to the queue's gauges read at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::queue::contract::QueueStats;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The forge a webhook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Gitea,
    Github,
}

impl Source {
    const ALL: [Source; 2] = [Source::Gitea, Source::Github];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Gitea => "gitea",
            Source::Github => "github",
        }
    }
}

/// How a webhook delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Queued,
    /// A redelivery of a delivery id already queued, or a replay of a push queued within
    /// `ci.replay_window_secs`.
    Duplicate,
    /// A push asking for what is not built: a ref other than a branch or tag, a clone URL
    /// off the configured forges, control characters.
    Refused,
    /// Verified, but nothing to build: a ping, another event, a deleted branch.
    Ignored,
    Unauthorized,
    BadRequest,
    /// No secret configured for the forge.
    Unconfigured,
    /// The queue failed.
    Failed,
}

impl Outcome {
    const ALL: [Outcome; 8] = [
        Outcome::Queued,
        Outcome::Duplicate,
        Outcome::Refused,
        Outcome::Ignored,
        Outcome::Unauthorized,
        Outcome::BadRequest,
        Outcome::Unconfigured,
        Outcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Queued => "queued",
            Outcome::Duplicate => "duplicate",
            Outcome::Refused => "refused",
            Outcome::Ignored => "ignored",
            Outcome::Unauthorized => "unauthorized",
            Outcome::BadRequest => "bad_request",
            Outcome::Unconfigured => "unconfigured",
            Outcome::Failed => "failed",
        }
    }
}

/// Counters since the server started.
#[derive(Debug, Default)]
pub struct Metrics {
    webhooks: [[AtomicU64; Outcome::ALL.len()]; Source::ALL.len()],
    /// (route template, status) -> requests. The write lock is taken only the first time
    /// a pair is seen; after that a request costs a read lock and an atomic add.
    requests: RwLock<BTreeMap<(&'static str, u16), AtomicU64>>,
    /// Requests answered 503 because Redis refused a write (out of memory, read-only).
    queue_full: AtomicU64,
}

impl Metrics {
    pub fn webhook(&self, source: Source, outcome: Outcome) {
        self.webhooks[source as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn queue_full(&self) {
        self.queue_full.fetch_add(1, Ordering::Relaxed);
    }

    pub fn request(&self, route: &'static str, status: u16) {
        let key = (route, status);
        // A poisoned lock only means another request panicked mid-count: the map is intact.
        if let Some(counter) = self
            .requests
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
        {
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.requests
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(key)
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition: the queue's gauges when Redis answered (`queue` is `None` when it
    /// did not, and `raibid_redis_up` says so), then the counters.
    pub fn render(&self, queue: Option<(QueueStats, usize)>) -> String {
        let mut out = String::new();
        gauge(
            &mut out,
            "raibid_redis_up",
            "Whether the queue's Redis answered this scrape.",
            u64::from(queue.is_some()),
        );
        if let Some((stats, agents)) = queue {
            let gauges = [
                (
                    "raibid_queue_depth",
                    "Entries in the jobs stream.",
                    stats.depth,
                ),
                (
                    "raibid_queue_lag",
                    "Jobs not yet delivered to any agent.",
                    stats.lag,
                ),
                (
                    "raibid_queue_pending",
                    "Jobs delivered and not yet acknowledged.",
                    stats.pending,
                ),
                (
                    "raibid_queue_dead",
                    "Entries in the dead-letter stream.",
                    stats.dead,
                ),
                ("raibid_agents", "Agents seen recently.", agents as u64),
            ];
            for (name, help, value) in gauges {
                gauge(&mut out, name, help, value);
            }
        }
        header(
            &mut out,
            "raibid_webhooks_total",
            "Webhook deliveries by forge and outcome.",
            "counter",
        );
        for source in Source::ALL {
            for outcome in Outcome::ALL {
                let count =
                    self.webhooks[source as usize][outcome as usize].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "raibid_webhooks_total{{source=\"{}\",outcome=\"{}\"}} {count}",
                    source.as_str(),
                    outcome.as_str()
                );
            }
        }
        header(
            &mut out,
            "raibid_queue_writes_refused_total",
            "Requests answered 503 because Redis refused a write (out of memory, read-only).",
            "counter",
        );
        let _ = writeln!(
            out,
            "raibid_queue_writes_refused_total {}",
            self.queue_full.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "raibid_http_requests_total",
            "HTTP requests by route and status.",
            "counter",
        );
        let requests = self
            .requests
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for ((route, status), count) in requests.iter() {
            let _ = writeln!(
                out,
                "raibid_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, help, "gauge");
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_gauges_and_counters() {
        let metrics = Metrics::default();
        metrics.webhook(Source::Github, Outcome::Queued);
        metrics.webhook(Source::Github, Outcome::Queued);
        metrics.request("/jobs/{id}", 404);
        metrics.request("/jobs/{id}", 404);
        metrics.request("/jobs", 201);
        metrics.queue_full();
        let stats = QueueStats {
            depth: 4,
            lag: 3,
            pending: 1,
            dead: 0,
        };
        let text = metrics.render(Some((stats, 2)));
        for line in [
            "raibid_redis_up 1",
            "# TYPE raibid_queue_depth gauge",
            "raibid_queue_depth 4",
            "raibid_queue_lag 3",
            "raibid_queue_pending 1",
            "raibid_queue_dead 0",
            "raibid_agents 2",
            "# TYPE raibid_webhooks_total counter",
            "raibid_webhooks_total{source=\"github\",outcome=\"queued\"} 2",
            "raibid_webhooks_total{source=\"gitea\",outcome=\"queued\"} 0",
            "raibid_http_requests_total{route=\"/jobs/{id}\",status=\"404\"} 2",
            "raibid_http_requests_total{route=\"/jobs\",status=\"201\"} 1",
            "# TYPE raibid_queue_writes_refused_total counter",
            "raibid_queue_writes_refused_total 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn without_redis_only_the_counters_remain() {
        let text = Metrics::default().render(None);
        assert!(text.contains("raibid_redis_up 0\n"));
        assert!(!text.contains("raibid_queue_depth"));
        assert!(text.contains("raibid_webhooks_total{source=\"gitea\",outcome=\"failed\"} 0"));
    }
}
