//! The Redis Streams job queue: the one contract between the server, the agents and the
//! console. docs/queue.md describes it.

pub mod contract;
