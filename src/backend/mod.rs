//! Tokio actors and the domain code they drive.

pub mod llm;
pub mod sparky;
