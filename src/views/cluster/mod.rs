//! The Cluster view: one row per lab component, bring-ups and removals behind a
//! confirmation, the steps and log of the current (or last) run.

mod draw;
mod state;
pub(crate) mod update;

pub(crate) use draw::draw;
pub use state::{CLUSTER_LOG_CAPACITY, ClusterState, RunState, StepState};
