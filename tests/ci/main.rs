//! The CI agent pool: the queue, the API server, agents and the runner, with real
//! redis-server and git, and the pool end to end from its real binaries and its image.
//!
//! One test binary per part of raibid; each file below is one module.

mod agent;
mod ci_e2e;
mod image_e2e;
mod jobs_cli;
mod queue;
mod runner;
mod server;
