//! The console's cluster actor: a thin layer over [`Lab`] for the Cluster view.
//!
//! The cluster is first contacted when the view is shown (`Watch`), so a console on a
//! machine without one starts as fast as ever. While the view is on screen the status is
//! read every few seconds; once it is left (`Unwatch`) the actor sleeps without waking.
//! Bring-ups and removals run one at a time in their own task, so status reads go on
//! while they work.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::lab::Lab;
use super::report::{ClusterStatus, Progress};
use super::{Component, doctor, k3s};
use crate::config::Config;

/// How often the status is read while the Cluster view is on screen.
const POLL_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterCommand {
    /// The Cluster view is on screen: connect if needed, then read the status now and
    /// every few seconds.
    Watch,
    /// The view was left: stop reading the status.
    Unwatch,
    /// Read the status now, connecting first if the cluster was unavailable.
    Refresh,
    /// Bring up `components` in order; `force` re-applies what is already in place.
    Up {
        components: Vec<Component>,
        force: bool,
    },
    /// Remove `components` in reverse order; data volumes are kept unless `purge`.
    Down {
        components: Vec<Component>,
        purge: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterEvent {
    /// Connected to this API server.
    Connected(String),
    /// The cluster cannot be reached, and why; the rest of the console keeps working.
    Unavailable(String),
    Status(ClusterStatus),
    Progress(Progress),
    /// The run asked for is over: every step done, or the reason it stopped.
    RunFinished(Result<(), String>),
}

pub struct Setup {
    pub config: Arc<Config>,
    /// Where the lab keeps what it renders and remembers between runs.
    pub data_dir: PathBuf,
}

/// Starts the actor; it stops, together with any run, when `cancel` fires or every
/// command sender is gone.
pub fn spawn(
    setup: Setup,
    events: mpsc::UnboundedSender<ClusterEvent>,
    cancel: CancellationToken,
) -> (mpsc::UnboundedSender<ClusterCommand>, JoinHandle<()>) {
    let (commands, inbox) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(setup, inbox, events, cancel));
    (commands, task)
}

struct Actor {
    setup: Setup,
    events: mpsc::UnboundedSender<ClusterEvent>,
    cancel: CancellationToken,
    lab: Option<Lab>,
    watching: bool,
    poll: Interval,
    /// The last bring-up or removal, to stop it on exit.
    run: Option<JoinHandle<()>>,
    /// Set while a run works; cleared before its end is reported, so a run asked for
    /// right after that report is never refused.
    running: Arc<AtomicBool>,
}

async fn run(
    setup: Setup,
    mut inbox: mpsc::UnboundedReceiver<ClusterCommand>,
    events: mpsc::UnboundedSender<ClusterEvent>,
    cancel: CancellationToken,
) {
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut actor = Actor {
        setup,
        events,
        cancel: cancel.clone(),
        lab: None,
        watching: false,
        poll,
        run: None,
        running: Arc::new(AtomicBool::new(false)),
    };
    loop {
        // The tick is only polled while watching a connected cluster: no wake-ups otherwise.
        let polling = actor.watching && actor.lab.is_some();
        tokio::select! {
            _ = cancel.cancelled() => break,
            command = inbox.recv() => match command {
                Some(command) => actor.handle(command).await,
                None => break,
            },
            _ = actor.poll.tick(), if polling => actor.status().await,
        }
    }
    if let Some(run) = actor.run.take() {
        // The run watches the same token; this only makes sure it is gone.
        run.abort();
    }
}

impl Actor {
    fn send(&self, event: ClusterEvent) {
        let _ = self.events.send(event);
    }

    async fn handle(&mut self, command: ClusterCommand) {
        match command {
            ClusterCommand::Watch => {
                self.watching = true;
                self.refresh().await;
            }
            ClusterCommand::Unwatch => self.watching = false,
            ClusterCommand::Refresh => self.refresh().await,
            ClusterCommand::Up { components, force } => {
                self.start(Run::Up { components, force }).await;
            }
            ClusterCommand::Down { components, purge } => {
                self.start(Run::Down { components, purge }).await;
            }
        }
    }

    /// Connects if not connected (a failed connection is retried here), then reads the
    /// status and restarts the poll interval from now.
    async fn refresh(&mut self) {
        if self.connect().await {
            self.status().await;
            self.poll.reset();
        }
    }

    /// Whether there is a connected lab, connecting first if needed.
    async fn connect(&mut self) -> bool {
        if self.lab.is_some() {
            return true;
        }
        let setup = &self.setup;
        let connecting = Lab::connect(&setup.config, &setup.data_dir);
        match self.cancel.run_until_cancelled(connecting).await {
            Some(Ok(lab)) => {
                self.send(ClusterEvent::Connected(lab.server().to_string()));
                self.lab = Some(lab);
                true
            }
            Some(Err(e)) => {
                self.send(ClusterEvent::Unavailable(e.to_string()));
                false
            }
            None => false,
        }
    }

    async fn status(&self) {
        let Some(lab) = &self.lab else { return };
        if let Some(status) = self.cancel.run_until_cancelled(lab.status()).await {
            self.send(ClusterEvent::Status(status));
        }
    }

    /// Starts a run unless one is going; it connects first, so a run asked for while the
    /// cluster was unavailable tries again.
    async fn start(&mut self, run: Run) {
        if self.running.load(Ordering::SeqCst) {
            return self.send(ClusterEvent::RunFinished(Err(
                "a run is already going".into()
            )));
        }
        // A bring-up that includes k3s may install it when there is no cluster yet.
        let may_install =
            matches!(&run, Run::Up { components, .. } if components.contains(&Component::K3s));
        if !self.connect().await && !may_install {
            return self.send(ClusterEvent::RunFinished(Err(
                "the cluster is unavailable".into()
            )));
        }
        self.running.store(true, Ordering::SeqCst);
        self.run = Some(tokio::spawn(carry_out(
            self.lab.clone(),
            Arc::clone(&self.setup.config),
            self.setup.data_dir.clone(),
            run,
            self.events.clone(),
            Arc::clone(&self.running),
            self.cancel.clone(),
        )));
    }
}

/// A bring-up or a removal, as the run task carries it out.
enum Run {
    Up {
        components: Vec<Component>,
        force: bool,
    },
    Down {
        components: Vec<Component>,
        purge: bool,
    },
}

/// Runs `run`, forwarding each step's progress, then reports how it ended and the status
/// it left behind.
async fn carry_out(
    lab: Option<Lab>,
    config: Arc<Config>,
    data_dir: PathBuf,
    run: Run,
    events: mpsc::UnboundedSender<ClusterEvent>,
    running: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    let (progress, mut steps) = mpsc::unbounded_channel::<Progress>();
    let working = async {
        if let Run::Up { components, .. } = &run
            && let Err(failed) = doctor::preflight(&config, &data_dir, components, &progress).await
        {
            return (lab, Err(failed));
        }
        let lab = match lab {
            Some(lab) => lab,
            None => match k3s::connect_or_install(&config, &data_dir, &progress).await {
                Ok(lab) => lab,
                Err(failed) => return (None, Err(failed)),
            },
        };
        let result = match &run {
            Run::Up { components, force } => lab.up(components, *force, &progress).await,
            Run::Down { components, purge } => lab.down(components, *purge, &progress).await,
        };
        (Some(lab), result)
    };
    tokio::pin!(working);
    // The run ending ends the loop, not the channel closing: a reporter clone kept alive
    // elsewhere cannot hang it.
    let (lab, result) = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            Some(step) = steps.recv() => {
                let _ = events.send(ClusterEvent::Progress(step));
            }
            ended = &mut working => break ended,
        }
    };
    while let Ok(step) = steps.try_recv() {
        let _ = events.send(ClusterEvent::Progress(step));
    }
    running.store(false, Ordering::SeqCst);
    let _ = events.send(ClusterEvent::RunFinished(
        result.map_err(|failed| failed.to_string()),
    ));
    // Show what the run changed without waiting for the next poll.
    let Some(lab) = lab else { return };
    if let Some(status) = cancel.run_until_cancelled(lab.status()).await {
        let _ = events.send(ClusterEvent::Status(status));
    }
}
