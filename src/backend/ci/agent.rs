//! The build agent: claims jobs from the queue one at a time and runs each with the runner,
//! while it heartbeats (which also brings cancel requests), ships the log in batches,
//! stores the final status and reports the commit status to Gitea.
//!
//! Stopping (the caller's token, e.g. on SIGTERM) claims nothing new; a running job is
//! cancelled and finished as `cancelled` with "agent stopping", then the agent's record is
//! removed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::process;
use super::runner::{self, LogTx, Outcome, RunnerSettings};
use super::sandbox::Isolation;
use super::workspace::{self, GitAccess};
use crate::backend::forge::gitea::{CommitState, StatusReporter};
use crate::backend::queue::contract::{AgentState, AgentStatus, JobState, JobStatus, LogStream};
use crate::backend::queue::{Claimed, Queue, QueueError, QueueSettings};
use crate::config::{CiConfig, Config, QueueUrlError};

/// How long one claim waits for a job (shorter when heartbeats are more frequent, so the
/// agent's record never expires while it waits).
const CLAIM_BLOCK: Duration = Duration::from_secs(5);
/// Log lines are shipped when this many are waiting, or this long after the first.
const LOG_BATCH_LINES: usize = 200;
const LOG_BATCH_WAIT: Duration = Duration::from_millis(200);
/// Lines the runner may get ahead of the log shipper before it waits.
const LOG_BUFFER: usize = 4 * LOG_BATCH_LINES;
/// Waits between attempts when Redis fails: doubling from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Tries to store a final status before leaving the job to be reclaimed and run again.
const FINISH_ATTEMPTS: u32 = 6;
/// The message of a job cancelled because its agent stops.
pub const STOPPING_MESSAGE: &str = "agent stopping";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    /// The agent's name in the queue and its workspace directory.
    pub name: String,
    /// Exit after one job, or after `idle_exit` without one (a KEDA ScaledJob's pod).
    pub once: bool,
    pub idle_exit: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentReport {
    pub jobs_run: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error(transparent)]
    QueueUrl(#[from] QueueUrlError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The runner's settings from `ci.*` (and Gitea's URLs), with empty paths under `data_dir`.
pub fn runner_settings(config: &Config, data_dir: &Path, agent: &str) -> RunnerSettings {
    let ci = &config.ci;
    let or_data = |path: &Path, default: &str| -> PathBuf {
        if path.as_os_str().is_empty() {
            data_dir.join(default)
        } else {
            path.to_path_buf()
        }
    };
    RunnerSettings {
        workspace_root: or_data(&ci.workspace_dir, "workspaces"),
        agent: agent.to_string(),
        cache_dir: or_data(&ci.cache_dir, "cache"),
        sccache_dir: ci.sccache.then(|| or_data(&ci.sccache_dir, "sccache")),
        step_timeout: Duration::from_secs(ci.step_timeout_secs),
        job_timeout: Duration::from_secs(ci.job_timeout_secs),
        git_access: GitAccess::of(config),
        isolation: Isolation::of(ci),
    }
}

/// Runs the agent until `shutdown` fires (or, with `once`, one job or `idle_exit` is over).
/// Fails only when it cannot start; Redis errors later are retried with backoff.
pub async fn run_agent(
    config: &Config,
    data_dir: &Path,
    options: AgentOptions,
    shutdown: CancellationToken,
) -> Result<AgentReport, AgentError> {
    let ci = &config.ci;
    let settings = runner_settings(config, data_dir, &options.name);
    workspace::job_dir(&settings.workspace_root, &options.name, "probe").map_err(|reason| {
        AgentError::InvalidName {
            name: options.name.clone(),
            reason,
        }
    })?;
    let queue = Queue::connect(
        &ci.queue_url()?,
        &ci.queue_prefix,
        QueueSettings::from_config(ci),
    )
    .await?;
    let agent = Agent {
        ci,
        queue,
        settings,
        reporter: StatusReporter::from_config(&config.gitea),
        name: options.name.clone(),
        started_at: Timestamp::now(),
        heartbeat: Duration::from_secs(ci.heartbeat_secs).max(Duration::from_secs(1)),
        shutdown,
    };
    tracing::info!(agent = %agent.name, once = options.once, "agent started");
    let jobs_run = agent.serve(&options).await;
    if let Err(error) = agent.queue.agent_gone(&agent.name).await {
        tracing::warn!(agent = %agent.name, %error, "could not remove the agent's record");
    }
    tracing::info!(agent = %agent.name, jobs_run, "agent stopped");
    Ok(AgentReport { jobs_run })
}

struct Agent<'a> {
    ci: &'a CiConfig,
    queue: Queue,
    settings: RunnerSettings,
    reporter: StatusReporter,
    name: String,
    started_at: Timestamp,
    heartbeat: Duration,
    shutdown: CancellationToken,
}

impl Agent<'_> {
    /// The claim loop; returns the number of jobs run.
    async fn serve(&self, options: &AgentOptions) -> u32 {
        let idle_since = Instant::now();
        let mut jobs_run = 0;
        let mut backoff = BACKOFF_FIRST;
        while !self.shutdown.is_cancelled() {
            self.seen(AgentState::Idle, None).await;
            let claimed = tokio::select! {
                biased;
                // A claim dropped here after Redis handed out an entry leaves it pending:
                // another agent reclaims it, so nothing is lost.
                () = self.shutdown.cancelled() => break,
                claimed = self.queue.claim(&self.name, CLAIM_BLOCK.min(self.heartbeat)) => claimed,
            };
            match claimed {
                Ok(Some(claimed)) => {
                    backoff = BACKOFF_FIRST;
                    self.run_job(&claimed).await;
                    jobs_run += 1;
                    if options.once {
                        break;
                    }
                }
                Ok(None) => {
                    backoff = BACKOFF_FIRST;
                    if options.once && idle_since.elapsed() >= options.idle_exit {
                        tracing::info!(agent = %self.name, "no job came: exiting");
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(agent = %self.name, %error, "could not claim a job; retrying in {backoff:?}");
                    tokio::select! {
                        () = self.shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        jobs_run
    }

    async fn run_job(&self, claimed: &Claimed) {
        let job = &claimed.job;
        tracing::info!(agent = %self.name, job = %job.id, repo = %job.repo, sha = %job.sha, "running a job");
        self.seen(AgentState::Busy, Some(&job.id)).await;
        self.reporter
            .report(
                job,
                CommitState::Pending,
                &format!("building on {}", self.name),
            )
            .await;

        let steps = runner::steps_for(&job.repo, self.ci);
        let cancel = self.shutdown.child_token();
        let (log, lines) = mpsc::channel(LOG_BUFFER);
        let shipper = tokio::spawn(ship_log(self.queue.clone(), job.id.clone(), lines));
        let outcome = tokio::select! {
            outcome = runner::run(job, &steps, &self.settings, &log, cancel.clone()) => outcome,
            never = self.keep_alive(claimed, &cancel) => match never {},
        };
        if self.shutdown.is_cancelled() && outcome.state == JobState::Cancelled {
            system_line(&log, STOPPING_MESSAGE).await;
        }
        drop(log);
        // The whole log is stored before the final status, so a follower that sees the
        // status has seen every line.
        if let Err(error) = shipper.await {
            tracing::warn!(job = %job.id, %error, "the log shipper stopped");
        }

        let status = self.final_status(claimed, outcome);
        if self.finish(claimed, &status).await {
            let description = status
                .message
                .clone()
                .unwrap_or_else(|| success_description(&status));
            self.reporter
                .report(job, CommitState::of(status.state), &description)
                .await;
        }
    }

    /// Heartbeats every `ci.heartbeat_secs` until the job ends (this future never
    /// completes); fires `cancel` when the queue says to stop.
    async fn keep_alive(
        &self,
        claimed: &Claimed,
        cancel: &CancellationToken,
    ) -> std::convert::Infallible {
        let mut ticks =
            tokio::time::interval_at(process::deadline_after(self.heartbeat), self.heartbeat);
        loop {
            ticks.tick().await;
            if cancel.is_cancelled() {
                continue;
            }
            self.seen(AgentState::Busy, Some(&claimed.job.id)).await;
            match self.queue.heartbeat(claimed, &self.name).await {
                Ok(true) => {
                    tracing::info!(job = %claimed.job.id, "the queue asks to stop the job");
                    cancel.cancel();
                }
                Ok(false) => {}
                // A blip is harmless; a long outage lets another agent reclaim the job,
                // and then this one's finish is refused.
                Err(error) => tracing::warn!(job = %claimed.job.id, %error, "heartbeat failed"),
            }
        }
    }

    fn final_status(&self, claimed: &Claimed, outcome: Outcome) -> JobStatus {
        let message = if self.shutdown.is_cancelled() && outcome.state == JobState::Cancelled {
            Some(STOPPING_MESSAGE.to_string())
        } else {
            outcome.message
        };
        let now = Timestamp::now();
        JobStatus {
            state: outcome.state,
            agent: Some(self.name.clone()),
            deliveries: claimed.deliveries,
            started_at: claimed.status.started_at.or(Some(now)),
            finished_at: Some(now),
            steps: outcome.steps,
            message,
            cache: Some(outcome.cache),
        }
    }

    /// Stores the final status, retrying Redis errors; whether it was stored (not when the
    /// job was final already or another agent took it over).
    async fn finish(&self, claimed: &Claimed, status: &JobStatus) -> bool {
        let job = &claimed.job.id;
        let mut backoff = BACKOFF_FIRST;
        for attempt in 1..=FINISH_ATTEMPTS {
            match self.queue.finish(claimed, &self.name, status).await {
                Ok(true) => {
                    let cache = status.cache.as_ref();
                    tracing::info!(
                        %job,
                        state = status.state.as_str(),
                        warm = cache.map(|c| c.warm),
                        compiled = cache.map(|c| c.compiled),
                        "job finished"
                    );
                    return true;
                }
                Ok(false) => {
                    tracing::info!(%job, "job already final or taken over: status not stored");
                    return false;
                }
                Err(error) if attempt < FINISH_ATTEMPTS => {
                    tracing::warn!(%job, %error, "could not store the final status; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
                Err(error) => {
                    tracing::error!(%job, %error, "giving up storing the final status: the job will be reclaimed");
                }
            }
        }
        false
    }

    async fn seen(&self, state: AgentState, job: Option<&str>) {
        let status = AgentStatus {
            name: self.name.clone(),
            state,
            job: job.map(str::to_string),
            started_at: self.started_at,
            seen_at: Timestamp::now(),
        };
        if let Err(error) = self.queue.agent_seen(&status).await {
            tracing::warn!(agent = %self.name, %error, "could not record the agent's status");
        }
    }
}

/// Moves log lines from the runner to the queue in batches of up to
/// [`LOG_BATCH_LINES`], each sent at most [`LOG_BATCH_WAIT`] after its first line, until
/// the runner's side closes.
async fn ship_log(
    queue: Queue,
    job_id: String,
    mut lines: mpsc::Receiver<(String, LogStream, String)>,
) {
    let mut batch = Vec::with_capacity(LOG_BATCH_LINES);
    while let Some(first) = lines.recv().await {
        batch.push(first);
        let send_at = Instant::now() + LOG_BATCH_WAIT;
        while batch.len() < LOG_BATCH_LINES {
            match tokio::time::timeout_at(send_at, lines.recv()).await {
                Ok(Some(line)) => batch.push(line),
                Ok(None) | Err(_) => break,
            }
        }
        if let Err(error) = queue.append_log(&job_id, &batch).await {
            tracing::warn!(job = %job_id, lines = batch.len(), %error, "could not store log lines");
        }
        batch.clear();
    }
}

async fn system_line(log: &LogTx, line: &str) {
    let _ = log
        .send(("agent".to_string(), LogStream::System, line.to_string()))
        .await;
}

fn success_description(status: &JobStatus) -> String {
    let secs = status.cache.as_ref().map_or(0, |cache| cache.build_secs);
    let agent = status.agent.as_deref().unwrap_or("an agent");
    format!("{} steps passed in {secs} s on {agent}", status.steps.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_paths_default_under_the_data_dir() {
        let mut config = Config::default();
        let settings = runner_settings(&config, Path::new("/data"), "a1");
        assert_eq!(settings.workspace_root, Path::new("/data/workspaces"));
        assert_eq!(settings.cache_dir, Path::new("/data/cache"));
        assert_eq!(settings.sccache_dir, None);
        assert_eq!(settings.step_timeout, Duration::from_secs(1800));

        config.ci.sccache = true;
        config.ci.cache_dir = "/shared/cache".into();
        let settings = runner_settings(&config, Path::new("/data"), "a1");
        assert_eq!(
            settings.sccache_dir.as_deref(),
            Some(Path::new("/data/sccache"))
        );
        assert_eq!(settings.cache_dir, Path::new("/shared/cache"));
    }
}
