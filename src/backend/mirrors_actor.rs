//! The console's mirrors actor: a thin layer over [`GiteaMirrors`] for the Mirrors view,
//! which needs only `gitea.url` and `gitea.token` (GitHub is never asked).
//!
//! Gitea is first contacted when the view is shown (`Watch`), so the console starts as
//! fast without it. While the view is on screen the mirrors are listed every
//! half minute; once it is left (`Unwatch`) the actor sleeps without waking. A sync runs
//! in its own task, one at a time, so listing goes on while it works; it counts as
//! running until just before its `Synced`, so a sync asked for after that is accepted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::mirror::{GiteaMirrors, MirrorStatus};
use crate::config::Config;

/// How often the mirrors are listed while the Mirrors view is on screen.
const POLL_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorsCommand {
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
pub enum MirrorsEvent {
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

/// Starts the actor; it stops, together with any sync, when `cancel` fires or every
/// command sender is gone.
pub fn spawn(
    setup: Setup,
    events: mpsc::UnboundedSender<MirrorsEvent>,
    cancel: CancellationToken,
) -> (mpsc::UnboundedSender<MirrorsCommand>, JoinHandle<()>) {
    let (commands, inbox) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(setup, inbox, events, cancel));
    (commands, task)
}

struct Actor {
    setup: Setup,
    events: mpsc::UnboundedSender<MirrorsEvent>,
    cancel: CancellationToken,
    mirrors: Option<GiteaMirrors>,
    watching: bool,
    poll: Interval,
    /// The last sync's task (the sync, then a fresh list), to stop it on exit.
    sync: Option<JoinHandle<()>>,
    /// Whether a sync is running: set when it starts, cleared by its task just before it
    /// sends `Synced`, so the actor refuses a second sync exactly while the view does.
    syncing: Arc<AtomicBool>,
}

async fn run(
    setup: Setup,
    mut inbox: mpsc::UnboundedReceiver<MirrorsCommand>,
    events: mpsc::UnboundedSender<MirrorsEvent>,
    cancel: CancellationToken,
) {
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut actor = Actor {
        setup,
        events,
        cancel: cancel.clone(),
        mirrors: None,
        watching: false,
        poll,
        sync: None,
        syncing: Arc::default(),
    };
    loop {
        // The tick is only polled while watching usable mirrors: no wake-ups otherwise.
        let polling = actor.watching && actor.mirrors.is_some();
        tokio::select! {
            _ = cancel.cancelled() => break,
            command = inbox.recv() => match command {
                Some(command) => actor.handle(command).await,
                None => break,
            },
            _ = actor.poll.tick(), if polling => actor.list().await,
        }
    }
    if let Some(sync) = actor.sync.take() {
        sync.abort();
    }
}

impl Actor {
    fn send(&self, event: MirrorsEvent) {
        let _ = self.events.send(event);
    }

    async fn handle(&mut self, command: MirrorsCommand) {
        match command {
            MirrorsCommand::Watch => {
                self.watching = true;
                self.refresh().await;
            }
            MirrorsCommand::Unwatch => self.watching = false,
            MirrorsCommand::Refresh => self.refresh().await,
            MirrorsCommand::Sync(repo) => self.start_sync(repo),
        }
    }

    /// Sets up if needed (a failed setup is retried here), then lists and restarts the
    /// poll interval from now.
    async fn refresh(&mut self) {
        if self.set_up() {
            self.list().await;
            self.poll.reset();
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
                self.send(MirrorsEvent::Unavailable(e.to_string()));
                false
            }
        }
    }

    async fn list(&self) {
        let Some(mirrors) = &self.mirrors else { return };
        if let Some(event) = listed(mirrors, &self.cancel).await {
            self.send(event);
        }
    }

    fn start_sync(&mut self, repo: String) {
        if self.syncing.load(Ordering::Acquire) {
            return self.send(MirrorsEvent::Synced(Err("a sync is already going".into())));
        }
        if !self.set_up() {
            return self.send(MirrorsEvent::Synced(Err(
                "the mirrors are unavailable".into()
            )));
        }
        let Some(mirrors) = self.mirrors.clone() else {
            return;
        };
        let events = self.events.clone();
        let cancel = self.cancel.clone();
        let syncing = Arc::clone(&self.syncing);
        syncing.store(true, Ordering::Release);
        self.sync = Some(tokio::spawn(async move {
            let Some(result) = cancel.run_until_cancelled(mirrors.sync_now(&repo)).await else {
                return;
            };
            // Not running any more before the view hears so: the relist below may overlap
            // a next sync, which is fine.
            syncing.store(false, Ordering::Release);
            let _ = events.send(MirrorsEvent::Synced(result.map_err(|e| e.to_string())));
            // Show the new sync time without waiting for the next poll.
            if let Some(event) = listed(&mirrors, &cancel).await {
                let _ = events.send(event);
            }
        }));
    }
}

/// The list as an event, or `None` when cancelled.
async fn listed(mirrors: &GiteaMirrors, cancel: &CancellationToken) -> Option<MirrorsEvent> {
    let listing = mirrors.list(jiff::Timestamp::now());
    let result = cancel.run_until_cancelled(listing).await?;
    Some(match result {
        Ok(list) => MirrorsEvent::Listed(list),
        Err(e) => MirrorsEvent::Failed(e.to_string()),
    })
}
