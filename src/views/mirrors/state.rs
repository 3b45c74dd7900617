//! What the Mirrors view holds.

use crate::app::state::{Connection, Status};
use crate::backend::mirror::MirrorStatus;
use crate::views::list::{FilteredList, Item};

/// The GitHub-to-Gitea mirrors as the Mirrors view shows them. Gitea and GitHub are not
/// contacted before the view is first shown.
#[derive(Debug, Default)]
pub struct MirrorsState {
    /// Up once listed; down with a missing config key, named.
    pub connection: Connection<()>,
    /// As last listed, in the backend's order; filtered on the GitHub and Gitea names.
    pub mirrors: FilteredList<MirrorStatus>,
    /// The mirror a sync was asked for and has not finished yet (its GitHub name).
    pub syncing: Option<String>,
    /// How the last sync ended, or why the last list failed.
    pub last_message: Option<Status>,
}

impl MirrorsState {
    pub fn stale_count(&self) -> usize {
        self.mirrors.items.iter().filter(|m| m.stale).count()
    }
}

impl Item for MirrorStatus {
    type Key = String;
    type Order = ();

    fn key(&self) -> String {
        self.github.clone()
    }

    fn matches(&self, needle: &str) -> bool {
        self.github.to_lowercase().contains(needle) || self.gitea.to_lowercase().contains(needle)
    }
}
