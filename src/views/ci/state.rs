//! What the Pool and Jobs views hold: the CI queue.

use jiff::Timestamp;
use std::collections::VecDeque;

use crate::app::state::Connection;
use crate::backend::queue::contract::{AgentStatus, JobRecord, LogLine, QueueStats};
use crate::views::list::{FilteredList, Item};

/// The CI queue as the Pool and Jobs views show it.
#[derive(Debug, Default)]
pub struct CiState {
    /// Which queue: `lab (raibid/redis-0 via port-forward)` or its URL without a password.
    pub connection: Connection,
    pub stats: Option<QueueStats>,
    /// Queue numbers over the last [`HISTORY`], oldest first, for the graphs.
    pub history: VecDeque<(Timestamp, QueueStats)>,
    /// Filtered on id, repo, state, sha and who asked; sorted as `s` chooses.
    pub jobs: FilteredList<JobRecord>,
    pub agents: Vec<AgentStatus>,
    pub log: Option<LogView>,
    /// The local pool the console runs: agents wanted and running.
    pub pool: Option<(u32, u32)>,
    /// Whether local agents sandbox their steps; `None` until checked.
    pub local_sandboxed: Option<bool>,
}

/// How far back the Pool view's graphs reach.
pub const HISTORY: jiff::SignedDuration = jiff::SignedDuration::from_secs(10 * 60);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobSort {
    #[default]
    Newest,
    State,
    Repo,
}

impl JobSort {
    pub fn next(self) -> JobSort {
        match self {
            JobSort::Newest => JobSort::State,
            JobSort::State => JobSort::Repo,
            JobSort::Repo => JobSort::Newest,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            JobSort::Newest => "newest",
            JobSort::State => "state",
            JobSort::Repo => "repo",
        }
    }
}

/// One job's log, in a bounded buffer: the oldest lines go first.
#[derive(Debug, Clone, Default)]
pub struct LogView {
    pub id: String,
    pub lines: VecDeque<LogLine>,
    /// Lines dropped from the front to stay within [`LOG_CAPACITY`].
    pub dropped: usize,
    /// Keep the newest line in view as lines arrive.
    pub follow: bool,
    /// First line shown when not following.
    pub top: usize,
    /// The job is over and its log complete.
    pub done: bool,
    /// Highlighted text; `n`-style jumps are the filter key again.
    pub search: String,
}

/// Log lines the console keeps per open job.
pub const LOG_CAPACITY: usize = 5_000;

impl Item for JobRecord {
    type Key = String;
    type Order = JobSort;

    fn key(&self) -> String {
        self.job.id.clone()
    }

    fn matches(&self, needle: &str) -> bool {
        let job = &self.job;
        [&job.id, &job.repo, &job.sha, &job.requested_by]
            .iter()
            .any(|f| f.to_lowercase().contains(needle))
            || self.status.state.as_str().contains(needle)
    }

    fn compare(&self, other: &Self, order: JobSort) -> std::cmp::Ordering {
        let newest_first = other.job.created_at.cmp(&self.job.created_at);
        match order {
            JobSort::Newest => newest_first,
            JobSort::State => self
                .status
                .state
                .as_str()
                .cmp(other.status.state.as_str())
                .then(newest_first),
            JobSort::Repo => self.job.repo.cmp(&other.job.repo).then(newest_first),
        }
    }
}
