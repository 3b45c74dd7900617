//! Tokio actors and the domain code they drive.

pub mod actor;
pub mod ci;
pub mod cluster;
pub mod forge;
pub mod image;
pub mod llm;
pub mod mirror;
pub mod queue;
pub mod sparky;
