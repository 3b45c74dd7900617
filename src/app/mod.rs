//! The console: one loop owns the state; actors talk to it over channels.

pub mod keymap;
mod run;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod update;

pub use run::{Console, run};
