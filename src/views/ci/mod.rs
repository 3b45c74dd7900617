//! The Pool and Jobs views, both of the CI queue: the local pool, the queue's numbers and
//! agents; jobs, one job's log.

mod jobs;
mod pool;
mod state;
pub(crate) mod update;

pub(crate) use pool::short_duration;
pub use state::{CiState, HISTORY, JobSort, LOG_CAPACITY, LogView};

use super::{Filter, View};

pub(crate) const POOL: View = View {
    title: "Pool",
    bindings: update::POOL_BINDINGS,
    draw: pool::draw,
    on_action: |state, _, action| update::on_action(state, action),
    refresh: update::refresh,
    watch: update::watch_pool,
    filter: Some(Filter {
        current: update::filter,
        set: update::set_filter,
    }),
};

pub(crate) const JOBS: View = View {
    title: "Jobs",
    bindings: update::JOBS_BINDINGS,
    draw: jobs::draw,
    watch: update::watch_jobs,
    ..POOL
};
