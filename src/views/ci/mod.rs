//! The Pool and Jobs views, both of the CI queue: the local pool, the queue's numbers and
//! agents; jobs, one job's log.

mod jobs;
mod pool;
mod state;
pub(crate) mod update;

pub(crate) use jobs::draw as draw_jobs;
pub(crate) use pool::{draw as draw_pool, short_duration};
pub use state::{CiState, HISTORY, JobSort, LOG_CAPACITY, LogView};
