//! The console's cluster actor: a thin layer over [`Lab`] for the Cluster view.
//!
//! The cluster is first contacted when the view is shown (`Watch`), so a console on a
//! machine without one starts as fast as ever. While the view is on screen the status is
//! read every few seconds; once it is left (`Unwatch`) the actor sleeps without waking.
//! Bring-ups and removals run one at a time in their own task, so status reads go on
//! while they work.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinError;

use super::lab::Lab;
use super::report::{ClusterStatus, Progress};
use super::{Component, doctor, k3s};
use crate::backend::actor::{Actor, Events, Watched, Watcher, spawn_watcher};
use crate::config::Config;

/// How often the status is read while the Cluster view is on screen.
const POLL_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The Cluster view is on screen: connect if needed, then read the status now and
    /// every few seconds.
    Watch,
    /// The view was left: stop reading the status.
    Unwatch,
    /// Read the status now, connecting first if the cluster was unavailable.
    Refresh,
    /// A bring-up or a removal, one at a time.
    Run(Run),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
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
pub enum Event {
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

/// Starts the actor; stopping it drops a run in progress.
pub fn spawn(setup: Setup, events: Events<Event>) -> Actor<Command> {
    spawn_watcher(POLL_EVERY, |watched| Worker {
        setup,
        events,
        watched,
    })
}

/// How a run ended, and the lab it used (connected or installed by it), if any.
type Ended = (Option<Lab>, Result<(), String>);

struct Worker {
    setup: Setup,
    events: Events<Event>,
    /// The connected lab, and the bring-up or removal going if any.
    watched: Watched<Lab, Ended>,
}

impl Watcher for Worker {
    type Command = Command;
    type Source = Lab;
    type Job = Ended;

    fn watched(&mut self) -> &mut Watched<Lab, Ended> {
        &mut self.watched
    }

    /// Connects unless connected.
    async fn set_up(&mut self) -> bool {
        if self.watched.source.is_some() {
            return true;
        }
        let setup = &self.setup;
        let connecting = Lab::connect(&setup.config, &setup.data_dir);
        match self.watched.stop.run_until_cancelled(connecting).await {
            Some(Ok(lab)) => {
                self.send(Event::Connected(lab.server().to_string()));
                self.watched.source = Some(lab);
                true
            }
            Some(Err(e)) => {
                self.send(Event::Unavailable(e.to_string()));
                false
            }
            None => false,
        }
    }

    async fn read(&mut self) {
        if let Some(lab) = &self.watched.source {
            self.status_of(lab).await;
        }
    }

    /// Reports how the run ended, then the status it left behind without waiting for
    /// the next poll.
    async fn ended(&mut self, ended: Result<Ended, JoinError>) {
        let (lab, result) =
            ended.unwrap_or_else(|e| (None, Err(format!("the run's task failed: {e}"))));
        self.send(Event::RunFinished(result));
        if let Some(lab) = &lab {
            self.status_of(lab).await;
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Watch => self.watch(true).await,
            Command::Unwatch => self.watch(false).await,
            Command::Refresh => self.refresh().await,
            Command::Run(run) => self.start(run).await,
        }
    }
}

impl Worker {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
    }

    async fn status_of(&self, lab: &Lab) {
        if let Some(status) = self.watched.stop.run_until_cancelled(lab.status()).await {
            self.send(Event::Status(status));
        }
    }

    /// Starts a run unless one is going; it connects first, so a run asked for while the
    /// cluster was unavailable tries again.
    async fn start(&mut self, run: Run) {
        if !self.watched.job.is_empty() {
            return self.send(Event::RunFinished(Err("a run is already going".into())));
        }
        // A bring-up that includes k3s may install it when there is no cluster yet.
        let may_install =
            matches!(&run, Run::Up { components, .. } if components.contains(&Component::K3s));
        if !self.set_up().await && !may_install {
            return self.send(Event::RunFinished(Err("the cluster is unavailable".into())));
        }
        self.watched.job.spawn(carry_out(
            self.watched.source.clone(),
            Arc::clone(&self.setup.config),
            self.setup.data_dir.clone(),
            run,
            self.events.clone(),
        ));
    }
}

/// Runs `run`, forwarding each step's progress; returns how it ended.
async fn carry_out(
    lab: Option<Lab>,
    config: Arc<Config>,
    data_dir: PathBuf,
    run: Run,
    events: Events<Event>,
) -> Ended {
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
            Some(step) = steps.recv() => {
                let _ = events.send(Event::Progress(step));
            }
            ended = &mut working => break ended,
        }
    };
    while let Ok(step) = steps.try_recv() {
        let _ = events.send(Event::Progress(step));
    }
    (lab, result.map_err(|failed| failed.to_string()))
}
