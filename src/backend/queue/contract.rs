//! The queue contract between the server, the agents and the console: key names, the job
//! JSON, status values and their transitions. docs/queue.md says the same in prose; a
//! change here is a change of the contract.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every key starts with this prefix, so one Redis database can hold several labs' queues
/// (`ci.queue_prefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    /// The jobs stream: one entry per delivery-worthy job, field `job` = [`Job`] JSON.
    pub fn jobs(&self) -> String {
        format!("{}:jobs", self.prefix)
    }

    /// The consumer group the agents read the jobs stream with.
    pub fn group(&self) -> &'static str {
        "agents"
    }

    /// Hash of one job: field `job` = [`Job`] JSON, field `status` = [`JobStatus`] JSON.
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.prefix)
    }

    /// Sorted set of job ids scored by creation time (milliseconds), for listing.
    pub fn index(&self) -> String {
        format!("{}:jobs:index", self.prefix)
    }

    /// Capped stream of one job's log lines: fields `step`, `stream`, `line`.
    pub fn log(&self, id: &str) -> String {
        format!("{}:log:{id}", self.prefix)
    }

    /// Capped stream of [`QueueEvent`]s (field `event`) for live views.
    pub fn events(&self) -> String {
        format!("{}:events", self.prefix)
    }

    /// Jobs given up on: fields `job` (JSON), `reason`, `deliveries`.
    pub fn dead(&self) -> String {
        format!("{}:dead", self.prefix)
    }

    /// Present while a cancel of the job is asked for.
    pub fn cancel(&self, id: &str) -> String {
        format!("{}:cancel:{id}", self.prefix)
    }

    /// A webhook delivery id already seen (expires after a day).
    pub fn delivery(&self, id: &str) -> String {
        format!("{}:delivery:{id}", self.prefix)
    }

    /// A push already queued: (forge, repository, ref, sha), hashed to bound the key's
    /// length (expires after `ci.replay_window_secs`).
    pub fn push(&self, forge: &str, repo: &str, git_ref: &str, sha: &str) -> String {
        let mut hash = Sha256::new();
        for part in [forge, repo, git_ref, sha] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        format!("{}:push:{}", self.prefix, hex::encode(hash.finalize()))
    }

    /// Hash of one agent's [`AgentStatus`] (field `status`), expiring when it stops beating.
    pub fn agent(&self, name: &str) -> String {
        format!("{}:agent:{name}", self.prefix)
    }

    /// Set of agent names seen recently.
    pub fn agents(&self) -> String {
        format!("{}:agents", self.prefix)
    }
}

/// What to build. Immutable once queued; a retry is a new job with `attempt + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    /// `owner/name`.
    pub repo: String,
    /// An http(s) URL on a forge, or the path of a local repository (see
    /// [`Job::git_protocols`]).
    pub clone_url: String,
    /// The ref pushed, e.g. `refs/heads/main`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    pub trigger: Trigger,
    pub requested_by: String,
    pub created_at: Timestamp,
    /// 1 for a new job; a retry counts up.
    pub attempt: u32,
    /// The whole job's limit; each step also has `ci.step_timeout_secs`.
    pub timeout_secs: u64,
}

impl Job {
    /// What git may clone it over (`GIT_ALLOW_PROTOCOL`): http and https, plus `file` for a
    /// local repository, which the server queues only when `ci.local_repos` lists it. Never
    /// ssh, git's remote helpers (`ext::`, `fd::`) or anything else a URL could name.
    pub fn git_protocols(&self) -> &'static str {
        if self.clone_url.starts_with('/') || self.clone_url.starts_with("file://") {
            "file:http:https"
        } else {
            "http:https"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Push,
    Manual,
    Retry,
}

/// Where a job is. `Queued -> Running -> {Success, Failure, Cancelled, TimedOut, Error}`;
/// `Queued -> Cancelled`; a crashed agent's job stays `Running` under the agent that
/// reclaims it; `Queued | Running -> Dead` after `ci.max_deliveries` deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Success,
    Failure,
    Cancelled,
    TimedOut,
    Error,
    Dead,
}

impl JobState {
    /// A final state is written once and never changes.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Success => "success",
            JobState::Failure => "failure",
            JobState::Cancelled => "cancelled",
            JobState::TimedOut => "timed_out",
            JobState::Error => "error",
            JobState::Dead => "dead",
        }
    }
}

/// The job's status record, rewritten as it moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub state: JobState,
    /// The agent running (or that ran) it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// How often the queue has handed it out.
    pub deliveries: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub steps: Vec<StepResult>,
    /// Why it ended as it did, for failures and errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheReport>,
}

impl JobStatus {
    pub fn queued() -> JobStatus {
        JobStatus {
            state: JobState::Queued,
            agent: None,
            deliveries: 0,
            started_at: None,
            finished_at: None,
            steps: Vec::new(),
            message: None,
            cache: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    pub name: String,
    pub command: String,
    /// `None` when it was killed (timeout, cancel) before exiting.
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
}

/// What the build caches did for the job: the repository's cache, whether its target dir
/// was warm, what cargo compiled, sccache's counters when it ran, and the build time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheReport {
    pub build_secs: u64,
    /// The repository's folder under `ci.cache_dir`; absent when the job stopped before
    /// its steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The target dir held an earlier build when the steps started.
    #[serde(default)]
    pub warm: bool,
    /// Crates cargo compiled: its `Compiling` lines in the steps' output.
    #[serde(default)]
    pub compiled: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sccache_hits: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sccache_misses: Option<u64>,
}

impl CacheReport {
    /// `warm · 1 compiled · sccache 5/2 hit/miss · build 41 s`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.key.is_some() {
            parts.push(if self.warm { "warm" } else { "cold" }.to_string());
            parts.push(format!("{} compiled", self.compiled));
        }
        if let (Some(hits), Some(misses)) = (self.sccache_hits, self.sccache_misses) {
            parts.push(format!("sccache {hits}/{misses} hit/miss"));
        }
        parts.push(format!("build {} s", self.build_secs));
        parts.join(" · ")
    }
}

/// One job with its status, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job: Job,
    pub status: JobStatus,
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The stream entry id: `GET /jobs/{id}/logs` resumes after it.
    pub entry: String,
    pub step: String,
    pub stream: LogStream,
    pub line: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
    /// Lines the agent writes itself: step starts, exits, timeouts.
    System,
}

/// What an agent reports about itself with every heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub name: String,
    pub state: AgentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    pub started_at: Timestamp,
    pub seen_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    Idle,
    Busy,
    Stopping,
}

/// Entries of the events stream, for live views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueEvent {
    /// A job was queued or changed state.
    Job {
        id: String,
        repo: String,
        state: JobState,
        at: Timestamp,
    },
    /// An agent started, took a job, finished one or stopped.
    Agent {
        name: String,
        state: AgentState,
        job: Option<String>,
        at: Timestamp,
    },
}

/// The queue's numbers, as `GET /queue` and the Pool view show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Entries in the jobs stream.
    pub depth: u64,
    /// Entries not yet delivered to any agent (XINFO GROUPS `lag`): what KEDA scales on.
    pub lag: u64,
    /// Delivered, not yet acknowledged (running or crashed).
    pub pending: u64,
    /// Entries in the dead-letter stream.
    pub dead: u64,
}
