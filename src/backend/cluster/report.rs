//! What bootstrap runs and status reads tell their callers: the CLI prints it, the
//! console's Cluster view draws it.

use serde::Serialize;
use tokio::sync::mpsc;

use super::Component;

/// A step's progress, sent as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Started(Component),
    /// One line of the running step's log.
    Log(Component, String),
    Finished(Component, Outcome),
    Failed(Component, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The check found it in place: nothing was changed.
    AlreadyDone,
    Applied,
    Removed,
}

/// Where a run sends its progress; a closed receiver only silences the run.
pub type Reporter = mpsc::UnboundedSender<Progress>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ready,
    Progressing,
    Missing,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentStatus {
    pub component: Component,
    pub health: Health,
    /// What is ready or what is awaited, e.g. `StatefulSet raibid/redis: 0/1 ready`.
    pub detail: String,
}

/// One node's use of what it can allocate. Usage needs metrics-server (k3s ships it);
/// without it the `*_used` figures are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeUsage {
    pub name: String,
    pub ready: bool,
    pub cpu_used_millis: Option<u64>,
    pub cpu_millis: u64,
    pub memory_used_bytes: Option<u64>,
    pub memory_bytes: u64,
    /// `nvidia.com/gpu` requested by running pods, and the node's allocatable count.
    pub gpus_requested: u64,
    pub gpus: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    /// The API server's URL.
    pub server: String,
    /// Its version, e.g. `v1.33.5+k3s1`.
    pub version: String,
    pub components: Vec<ComponentStatus>,
    pub nodes: Vec<NodeUsage>,
}
