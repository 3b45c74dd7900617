//! Clients of the forges the lab talks to.

pub mod gitea;
pub mod github;
