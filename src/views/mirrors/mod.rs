//! The Mirrors view: one row per GitHub-to-Gitea mirror, a sync of the selected one.

mod draw;
mod state;
pub(crate) mod update;

pub(crate) use draw::draw;
pub use state::MirrorsState;
