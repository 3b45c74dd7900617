//! The CI agent pool. The runner takes one job from clone to verdict; the agent loop feeds
//! it jobs from the queue and reports to the queue and Gitea. The server takes webhooks
//! and serves the API, the pool supervises local agents, the actor drives the console's
//! CI views.

pub mod actor;
pub mod agent;
pub mod cache;
pub mod endpoint;
pub mod pool;
pub mod process;
pub mod runner;
pub mod sandbox;
pub mod server;
pub mod trigger;
pub mod workspace;
