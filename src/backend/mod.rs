//! Tokio actors and the domain code they drive.

pub mod actor;
pub mod ci;
pub mod cluster;
#[cfg(test)]
mod dependencies;
pub mod forge;
pub mod git;
pub mod http;
pub mod image;
pub mod llm;
pub mod mirror;
pub mod queue;
pub mod sparky;
