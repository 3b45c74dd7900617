//! The console's mirrors actor: a thin layer over [`GiteaMirrors`] for the Mirrors view,
//! which needs only `gitea.url` and `gitea.token` (GitHub is never asked).
//!
//! Gitea is first contacted when the view is shown (`Watch`), so the console starts as
//! fast without it. While the view is on screen the mirrors are listed every
//! half minute; once it is left (`Unwatch`) the actor sleeps without waking. A sync runs
//! in its own task, one at a time, so listing goes on while it works; it counts as
//! running until the actor has collected it, just before its `Synced`, so a sync asked
//! for after that is accepted.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinError;

use super::{GiteaMirrors, MirrorStatus};
use crate::backend::actor::{Actor, Events, Watched, Watcher, spawn_watcher};
use crate::config::Config;

/// How often the mirrors are listed while the Mirrors view is on screen.
const POLL_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The Mirrors view is on screen: set up if needed, then list now and every 30 s.
    Watch,
    /// The view was left: stop listing.
    Unwatch,
    /// List now, setting up first if the mirrors were unavailable.
    Refresh,
    /// Sync this mirror now: its GitHub `owner/name` or its Gitea name.
    Sync(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Listed(Vec<MirrorStatus>),
    /// The mirrors cannot be read, and why (the missing config key); the rest of the
    /// console keeps working.
    Unavailable(String),
    /// A sync ended: the Gitea name synced, or why not. A new sync may be asked for from
    /// now on; a fresh list follows.
    Synced(Result<String, String>),
    /// Listing failed; the last list stays on screen.
    Failed(String),
}

pub struct Setup {
    pub config: Arc<Config>,
}

/// Starts the actor; stopping it drops a sync in progress.
pub fn spawn(setup: Setup, events: Events<Event>) -> Actor<Command> {
    spawn_watcher(POLL_EVERY, |watched| Worker {
        setup,
        events,
        watched,
    })
}

struct Worker {
    setup: Setup,
    events: Events<Event>,
    /// The mirrors, and the sync going if any.
    watched: Watched<GiteaMirrors, Result<String, String>>,
}

impl Watcher for Worker {
    type Command = Command;
    type Source = GiteaMirrors;
    type Job = Result<String, String>;

    fn watched(&mut self) -> &mut Watched<GiteaMirrors, Result<String, String>> {
        &mut self.watched
    }

    /// Builds the mirrors from the config (Gitea's keys only) unless built; a missing key
    /// is reported as `Unavailable`.
    async fn set_up(&mut self) -> bool {
        if self.watched.source.is_some() {
            return true;
        }
        match GiteaMirrors::from_config(&self.setup.config) {
            Ok(mirrors) => {
                self.watched.source = Some(mirrors);
                true
            }
            Err(e) => {
                self.send(Event::Unavailable(e.to_string()));
                false
            }
        }
    }

    async fn read(&mut self) {
        let Some(mirrors) = &self.watched.source else {
            return;
        };
        let listing = mirrors.list(jiff::Timestamp::now());
        let Some(result) = self.watched.stop.run_until_cancelled(listing).await else {
            return;
        };
        self.send(match result {
            Ok(list) => Event::Listed(list),
            Err(e) => Event::Failed(e.to_string()),
        });
    }

    /// Reports the sync, then lists to show the new sync time without waiting for the
    /// next poll.
    async fn ended(&mut self, synced: Result<Result<String, String>, JoinError>) {
        let result = synced.unwrap_or_else(|e| Err(format!("the sync task failed: {e}")));
        self.send(Event::Synced(result));
        self.read().await;
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Watch => self.watch(true).await,
            Command::Unwatch => self.watch(false).await,
            Command::Refresh => self.refresh().await,
            Command::Sync(repo) => self.start_sync(repo).await,
        }
    }
}

impl Worker {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
    }

    async fn start_sync(&mut self, repo: String) {
        if !self.watched.job.is_empty() {
            return self.send(Event::Synced(Err("a sync is already going".into())));
        }
        if !self.set_up().await {
            return self.send(Event::Synced(Err("the mirrors are unavailable".into())));
        }
        let Some(mirrors) = self.watched.source.clone() else {
            return;
        };
        self.watched
            .job
            .spawn(async move { mirrors.sync_now(&repo).await.map_err(|e| e.to_string()) });
    }
}
