//! raibid: the operator console of a small self-hosted dev lab.
//!
//! `app` owns the console loop and its state, `views` draw that state, `backend` holds the
//! tokio actors and the plain domain code they drive, `config` the settings.

pub mod app;
pub mod backend;
pub mod cli;
pub mod config;
pub mod views;
