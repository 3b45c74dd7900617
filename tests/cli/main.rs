//! The headless binary's common ground: config loading and `raibid config`, exit codes,
//! logs, and output closed early.
//!
//! One test binary per part of raibid; each file below is one module.

mod cli;
mod closed_output;
mod config;
mod conventions;
