//! Sparky: collect -> analyze -> write -> store -> publish.

pub mod actor;
pub mod analyze;
pub mod approval;
pub mod channels;
pub mod checker;
pub mod collect;
pub mod delivery;
pub mod merge;
pub mod model;
pub mod period;
pub mod pipeline;
pub mod schedule;
pub mod store;
pub mod write;
