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

use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{GiteaMirrors, MirrorStatus};
use crate::backend::actor::{Actor, Events, Inbox, Poll};
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
    Actor::spawn(|inbox| run(setup, inbox, events))
}

struct Worker {
    setup: Setup,
    events: Events<Event>,
    /// The actor's stop: a listing in progress is dropped with it.
    stop: CancellationToken,
    mirrors: Option<GiteaMirrors>,
    poll: Poll,
    /// The sync going, if any: it runs while this is not empty.
    sync: JoinSet<Result<String, String>>,
}

async fn run(setup: Setup, mut inbox: Inbox<Command>, events: Events<Event>) {
    let mut worker = Worker {
        setup,
        events,
        stop: inbox.stop().clone(),
        mirrors: None,
        poll: Poll::every(POLL_EVERY),
        sync: JoinSet::new(),
    };
    loop {
        tokio::select! {
            command = inbox.recv() => match command {
                Some(command) => worker.handle(command).await,
                None => break,
            },
            Some(synced) = worker.sync.join_next() => worker.synced(synced).await,
            _ = worker.poll.due(worker.mirrors.is_some()) => worker.list().await,
        }
    }
    worker.sync.shutdown().await;
}

impl Worker {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Watch => {
                self.poll.watch(true);
                self.refresh().await;
            }
            Command::Unwatch => self.poll.watch(false),
            Command::Refresh => self.refresh().await,
            Command::Sync(repo) => self.start_sync(repo),
        }
    }

    /// Sets up if needed (a failed setup is retried here), then lists and restarts the
    /// poll interval from now.
    async fn refresh(&mut self) {
        if self.set_up() {
            self.list().await;
            self.poll.restart();
        }
    }

    /// Whether there are mirrors to work with, building them from the config (Gitea's
    /// keys only) first if needed; a missing key is reported as `Unavailable`.
    fn set_up(&mut self) -> bool {
        if self.mirrors.is_some() {
            return true;
        }
        match GiteaMirrors::from_config(&self.setup.config) {
            Ok(mirrors) => {
                self.mirrors = Some(mirrors);
                true
            }
            Err(e) => {
                self.send(Event::Unavailable(e.to_string()));
                false
            }
        }
    }

    async fn list(&self) {
        let Some(mirrors) = &self.mirrors else { return };
        let listing = mirrors.list(jiff::Timestamp::now());
        let Some(result) = self.stop.run_until_cancelled(listing).await else {
            return;
        };
        self.send(match result {
            Ok(list) => Event::Listed(list),
            Err(e) => Event::Failed(e.to_string()),
        });
    }

    fn start_sync(&mut self, repo: String) {
        if !self.sync.is_empty() {
            return self.send(Event::Synced(Err("a sync is already going".into())));
        }
        if !self.set_up() {
            return self.send(Event::Synced(Err("the mirrors are unavailable".into())));
        }
        let Some(mirrors) = self.mirrors.clone() else {
            return;
        };
        self.sync
            .spawn(async move { mirrors.sync_now(&repo).await.map_err(|e| e.to_string()) });
    }

    /// A sync ended: reports it, then lists to show the new sync time without waiting
    /// for the next poll.
    async fn synced(&self, synced: Result<Result<String, String>, JoinError>) {
        let result = synced.unwrap_or_else(|e| Err(format!("the sync task failed: {e}")));
        self.send(Event::Synced(result));
        self.list().await;
    }
}
