//! The console's CI actor: connects to the queue when a CI view is first shown, follows
//! the events stream and refreshes jobs, agents and queue numbers when something happens,
//! follows one job's log, runs the local pool, and carries out trigger, cancel and retry.
//!
//! Nothing here polls on a tight loop: the lists refresh on queue events; the queue
//! numbers are sampled every two seconds only while the Pool view is on screen.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::endpoint::QueueEndpoint;
use super::pool::{self, PoolCommand, PoolEvent, PoolSpec};
use super::sandbox;
use super::trigger::{local_job, whoami};
use crate::backend::actor::{Actor, Events, Inbox, Poll};
use crate::backend::queue::contract::{AgentStatus, JobRecord, LogLine, QueueStats};
use crate::backend::queue::{CancelOutcome, JobFilter, Queue};
use crate::config::Config;

/// Jobs the Jobs view lists.
const JOBS_SHOWN: usize = 500;
/// Lines of a log read at once when it is opened (the queue keeps `ci.log_lines`).
const LOG_FIRST_READ: usize = 20_000;
const SAMPLE_EVERY: Duration = Duration::from_secs(2);
/// A blocking read of the events stream returns this often even when nothing happens.
const EVENTS_BLOCK: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub enum Command {
    /// Connect if not connected (sent when a CI view is first shown, and on refresh).
    Connect,
    /// Whether the Pool view is on screen: its graphs are sampled only then.
    Watch(bool),
    OpenLog(String),
    CloseLog,
    /// Queue the current directory's repository at HEAD.
    Trigger,
    Cancel(String),
    Retry(String),
    /// Change the local pool's size by this many agents (starting the pool if needed).
    Scale(i32),
}

#[derive(Debug)]
pub enum Event {
    Connected {
        /// Which queue: the lab's through a port-forward, or the URL without its password.
        queue: String,
    },
    /// The queue cannot be reached; the rest of the console keeps working.
    Unavailable {
        message: String,
    },
    Stats {
        stats: QueueStats,
        at: Timestamp,
    },
    Jobs(Vec<JobRecord>),
    Agents(Vec<AgentStatus>),
    /// Lines of the open log, oldest first; `done` once the job is final and drained.
    Log {
        id: String,
        lines: Vec<LogLine>,
        done: bool,
    },
    Pool {
        wanted: u32,
        running: u32,
    },
    /// Whether local agents run their steps in a sandbox; without one the local pool runs
    /// trusted code only.
    LocalSandbox {
        sandboxed: bool,
    },
    Done {
        message: String,
    },
    Failed {
        op: Op,
        message: String,
    },
}

/// What the actor was doing when it failed; shown as "could not {op}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    ListJobs,
    ListAgents,
    Trigger,
    Cancel,
    Retry,
    ScalePool,
    /// Starting this local agent.
    StartAgent(String),
    FollowLog,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Op::ListJobs => "list jobs",
            Op::ListAgents => "list agents",
            Op::Trigger => "trigger a build",
            Op::Cancel => "cancel",
            Op::Retry => "retry",
            Op::ScalePool => "scale the local pool",
            Op::StartAgent(name) => return write!(f, "start agent {name}"),
            Op::FollowLog => "follow the log",
        };
        f.write_str(what)
    }
}

pub struct Setup {
    pub config: Arc<Config>,
    pub cwd: PathBuf,
    pub pool: PoolSpec,
}

/// Starts the actor. Stopping it stops its local agents, and its handle finishes once
/// they have exited.
pub fn spawn(setup: Setup, events: Events<Event>) -> Actor<Command> {
    Actor::spawn(|inbox| run(setup, inbox, events))
}

/// The local pool the console started.
struct Pool {
    commands: mpsc::UnboundedSender<PoolCommand>,
    wanted: u32,
    /// Ends once every agent has exited.
    task: JoinHandle<()>,
}

/// What the follower tasks tell the actor.
enum Internal {
    Changed,
}

struct Worker {
    setup: Setup,
    events: Events<Event>,
    queue: Option<Queue>,
    /// Where `queue` is; holds the port-forward to the lab's Redis open.
    endpoint: Option<QueueEndpoint>,
    internal: mpsc::UnboundedSender<Internal>,
    /// The actor's stop: the local agents and the events follower watch it.
    stop: CancellationToken,
    follower: Option<JoinHandle<()>>,
    log: Option<JoinHandle<()>>,
    pool: Option<Pool>,
    /// The Pool view's graphs, sampled while it is on screen.
    sampling: Poll,
}

async fn run(setup: Setup, mut inbox: Inbox<Command>, events: Events<Event>) {
    let (internal, mut changes) = mpsc::unbounded_channel();
    let (pool_tx, mut pool_events) = mpsc::unbounded_channel::<PoolEvent>();
    let sandboxed = sandbox::local_pool_sandboxed(&setup.config.ci).await;
    let _ = events.send(Event::LocalSandbox { sandboxed });
    let mut worker = Worker {
        setup,
        events,
        queue: None,
        endpoint: None,
        internal,
        stop: inbox.stop().clone(),
        follower: None,
        log: None,
        pool: None,
        sampling: Poll::every(SAMPLE_EVERY),
    };
    loop {
        tokio::select! {
            command = inbox.recv() => match command {
                Some(command) => worker.handle(command, &pool_tx).await,
                None => break,
            },
            Some(Internal::Changed) = changes.recv() => {
                // Coalesce a burst of queue events into one refresh.
                while changes.try_recv().is_ok() {}
                worker.refresh().await;
            }
            Some(event) = pool_events.recv() => worker.on_pool(event),
            _ = worker.sampling.due(worker.queue.is_some()) => worker.sample().await,
        }
    }
    worker.stop().await;
}

impl Worker {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
    }

    async fn handle(&mut self, command: Command, pool_events: &mpsc::UnboundedSender<PoolEvent>) {
        match command {
            Command::Connect => {
                if self.queue.is_none() {
                    self.connect().await;
                } else {
                    self.refresh().await;
                }
            }
            Command::Watch(on) => self.sampling.watch(on),
            Command::OpenLog(id) => self.open_log(id),
            Command::CloseLog => {
                if let Some(task) = self.log.take() {
                    task.abort();
                }
            }
            Command::Trigger => self.trigger().await,
            Command::Cancel(id) => self.cancel_job(id).await,
            Command::Retry(id) => self.retry(id).await,
            Command::Scale(delta) => self.scale(delta, pool_events),
        }
    }

    async fn connect(&mut self) {
        let endpoint = match QueueEndpoint::find(&self.setup.config).await {
            Ok(endpoint) => endpoint,
            Err(error) => {
                return self.send(Event::Unavailable {
                    message: error.to_string(),
                });
            }
        };
        match endpoint.connect(&self.setup.config.ci).await {
            Ok(queue) => {
                self.send(Event::Connected {
                    queue: endpoint.shown().into(),
                });
                self.endpoint = Some(endpoint);
                self.follower = Some(tokio::spawn(follow_events(
                    queue.clone(),
                    self.internal.clone(),
                    self.stop.clone(),
                )));
                self.queue = Some(queue);
                self.refresh().await;
                self.sample().await;
            }
            Err(message) => self.send(Event::Unavailable { message }),
        }
    }

    async fn refresh(&self) {
        let Some(queue) = &self.queue else { return };
        match queue
            .jobs(
                &JobFilter {
                    state: None,
                    repo: None,
                },
                0,
                JOBS_SHOWN,
            )
            .await
        {
            Ok(jobs) => self.send(Event::Jobs(jobs)),
            Err(e) => self.send(Event::Failed {
                op: Op::ListJobs,
                message: e.to_string(),
            }),
        }
        match queue.agents().await {
            Ok(agents) => self.send(Event::Agents(agents)),
            Err(e) => self.send(Event::Failed {
                op: Op::ListAgents,
                message: e.to_string(),
            }),
        }
        self.sample().await;
    }

    async fn sample(&self) {
        let Some(queue) = &self.queue else { return };
        if let Ok(stats) = queue.stats().await {
            self.send(Event::Stats {
                stats,
                at: Timestamp::now(),
            });
        }
    }

    fn open_log(&mut self, id: String) {
        if let Some(task) = self.log.take() {
            task.abort();
        }
        let Some(queue) = self.queue.clone() else {
            return;
        };
        let events = self.events.clone();
        self.log = Some(tokio::spawn(follow_log(queue, id, events)));
    }

    async fn trigger(&self) {
        let Some(queue) = &self.queue else { return };
        let ci = &self.setup.config.ci;
        let job = match local_job(&self.setup.cwd, None, None, &whoami(), ci.job_timeout_secs) {
            Ok(job) => job,
            Err(message) => {
                return self.send(Event::Failed {
                    op: Op::Trigger,
                    message,
                });
            }
        };
        match queue.enqueue(&job).await {
            Ok(()) => self.send(Event::Done {
                message: format!(
                    "queued {} at {}",
                    job.repo,
                    &job.sha[..job.sha.len().min(7)]
                ),
            }),
            Err(e) => self.send(Event::Failed {
                op: Op::Trigger,
                message: e.to_string(),
            }),
        }
    }

    async fn cancel_job(&self, id: String) {
        let Some(queue) = &self.queue else { return };
        match queue.cancel(&id).await {
            Ok(CancelOutcome::Cancelled) => self.send(Event::Done {
                message: format!("{id} cancelled"),
            }),
            Ok(CancelOutcome::Requested) => self.send(Event::Done {
                message: format!("{id}: cancel requested"),
            }),
            Ok(CancelOutcome::AlreadyFinal(state)) => self.send(Event::Done {
                message: format!("{id} is already {}", state.as_str()),
            }),
            Err(e) => self.send(Event::Failed {
                op: Op::Cancel,
                message: e.to_string(),
            }),
        }
    }

    async fn retry(&self, id: String) {
        let Some(queue) = &self.queue else { return };
        match queue.retry(&id, &whoami()).await {
            Ok(job) => self.send(Event::Done {
                message: format!("queued {} (attempt {})", job.id, job.attempt),
            }),
            Err(e) => self.send(Event::Failed {
                op: Op::Retry,
                message: e.to_string(),
            }),
        }
    }

    fn scale(&mut self, delta: i32, pool_events: &mpsc::UnboundedSender<PoolEvent>) {
        if self.endpoint.as_ref().is_some_and(QueueEndpoint::is_lab) {
            // Local agents would read `ci.redis_url`, not this forward.
            return self.send(Event::Failed {
                op: Op::ScalePool,
                message: "this is the lab's queue: KEDA scales its agents".into(),
            });
        }
        let current = self.pool.as_ref().map_or(0, |pool| pool.wanted);
        let wanted = current.saturating_add_signed(delta).min(64);
        match &mut self.pool {
            Some(pool) => {
                pool.wanted = wanted;
                let _ = pool.commands.send(PoolCommand::Scale(wanted));
            }
            None if wanted > 0 => {
                let (commands, task) = pool::spawn(
                    self.setup.pool.clone(),
                    wanted,
                    pool_events.clone(),
                    self.stop.child_token(),
                );
                self.pool = Some(Pool {
                    commands,
                    wanted,
                    task,
                });
            }
            None => {}
        }
    }

    fn on_pool(&self, event: PoolEvent) {
        match event {
            PoolEvent::Size { wanted, running } => self.send(Event::Pool { wanted, running }),
            PoolEvent::Failed { name, message } => self.send(Event::Failed {
                op: Op::StartAgent(name),
                message,
            }),
            PoolEvent::Started { .. } | PoolEvent::Exited { .. } => {}
        }
    }

    /// Stops the followers, then waits for the local agents (already told to stop by the
    /// actor's stop) so none outlives the console.
    async fn stop(&mut self) {
        for task in [self.follower.take(), self.log.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        if let Some(pool) = self.pool.take() {
            let _ = pool.task.await;
        }
    }
}

/// Follows the events stream and tells the actor that something changed.
async fn follow_events(
    queue: Queue,
    changed: mpsc::UnboundedSender<Internal>,
    cancel: CancellationToken,
) {
    let mut after = "$".to_string();
    while !cancel.is_cancelled() {
        match queue.events(&after, EVENTS_BLOCK).await {
            Ok(batch) => {
                if let Some((last, _)) = batch.last() {
                    after = last.clone();
                    if changed.send(Internal::Changed).is_err() {
                        return;
                    }
                }
            }
            // Redis went away: try again shortly rather than spinning.
            Err(_) => tokio::time::sleep(Duration::from_secs(5)).await,
        }
    }
}

/// Sends the job's log so far, then new lines as they come, until the job is over.
async fn follow_log(queue: Queue, id: String, events: Events<Event>) {
    let mut after: Option<String> = None;
    loop {
        let lines = match after {
            None => queue.logs(&id, None, LOG_FIRST_READ).await,
            Some(_) => {
                queue
                    .follow_logs(&id, after.as_deref(), Duration::from_secs(5))
                    .await
            }
        };
        let lines = match lines {
            Ok(lines) => lines,
            Err(e) => {
                let _ = events.send(Event::Failed {
                    op: Op::FollowLog,
                    message: e.to_string(),
                });
                return;
            }
        };
        let done = lines.is_empty()
            && after.is_some()
            && matches!(queue.job(&id).await, Ok(Some(r)) if r.status.state.is_final());
        let quiet = lines.is_empty() && !done;
        after = lines
            .last()
            .map(|l| l.entry.clone())
            .or(after)
            .or_else(|| Some("0-0".into()));
        if quiet {
            continue;
        }
        if events
            .send(Event::Log {
                id: id.clone(),
                lines,
                done,
            })
            .is_err()
            || done
        {
            return;
        }
    }
}
