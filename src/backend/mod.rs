//! Tokio actors and the domain code they drive.

pub mod llm;
pub mod queue;
pub mod sparky;
