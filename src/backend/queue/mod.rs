//! The Redis Streams job queue: the one contract between the server, the agents and the
//! console. docs/queue.md describes it.

mod agent;
pub mod contract;
mod error;
mod link;
mod probe;
mod read;
mod redis_queue;
mod scripts;
mod status;
mod wire;

pub use agent::Claimed;
pub use error::{QueueError, mask_url};
pub use redis_queue::{CancelOutcome, Enqueued, JobFilter, Queue, QueueSettings, new_job_id};
