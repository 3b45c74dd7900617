//! The console: its reducer (keys and actor events in, state and commands out), its
//! views drawn as snapshots, its actors against real parts, and the real binary in a real
//! terminal.
//!
//! One test binary per part of raibid; each file below is one module.

mod actor;
mod console;
mod console_ci;
mod console_cluster;
mod console_cluster_actor;
mod console_mirrors;
mod tty;
mod views;
mod views_cluster;
mod views_mirrors;
