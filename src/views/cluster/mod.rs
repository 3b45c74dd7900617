//! The Cluster view: one row per lab component, bring-ups and removals behind a
//! confirmation, the steps and log of the current (or last) run.

mod draw;
mod state;
pub(crate) mod update;

pub use state::{CLUSTER_LOG_CAPACITY, ClusterState, RunState, StepState};

use super::View;

pub(crate) const VIEW: View = View {
    title: "Cluster",
    bindings: update::BINDINGS,
    draw: draw::draw,
    on_action: |state, _, action| update::on_action(state, action),
    refresh: update::refresh,
    watch: update::watch,
    // Eight fixed rows need no filter.
    filter: None,
};
