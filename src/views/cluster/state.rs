//! What the Cluster view holds.

use jiff::Timestamp;
use std::collections::VecDeque;

use crate::app::state::Connection;
use crate::backend::cluster::Component;
use crate::backend::cluster::report::{ClusterStatus, Outcome};

/// The lab as the Cluster view shows it. The cluster is not contacted before the view is
/// first shown, so the console starts fast on a machine without one.
#[derive(Debug, Default)]
pub struct ClusterState {
    /// The API server's URL once connected.
    pub connection: Connection,
    pub status: Option<ClusterStatus>,
    /// Index into `Component::ALL`: the rows are always every component, in order.
    pub selected: usize,
    /// The run going on, or the last one (kept so its steps stay readable).
    pub run: Option<RunState>,
    /// The running (or last) step's log, oldest first, at most [`CLUSTER_LOG_CAPACITY`].
    pub log: VecDeque<String>,
    /// How the last run ended; `None` while one is going or before any.
    pub last_result: Option<Result<(), String>>,
}

impl ClusterState {
    pub fn selected_component(&self) -> Component {
        Component::ALL[self.selected.min(Component::ALL.len() - 1)]
    }

    /// A run was started and has not finished yet.
    pub fn is_running(&self) -> bool {
        self.run.is_some() && self.last_result.is_none()
    }
}

/// Log lines of a cluster step the console keeps.
pub const CLUSTER_LOG_CAPACITY: usize = 1_000;

/// One bring-up or removal, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    /// What the user asked for, e.g. `bring up the lab through Gitea (git + registry)`.
    pub what: String,
    pub started: Timestamp,
    pub current: Option<Component>,
    /// Every step of the run in the order it runs, waiting ones included.
    pub steps: Vec<(Component, StepState)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    Waiting,
    Running,
    Done(Outcome),
    Failed(String),
}
