//! The queue handle: connecting, queuing jobs, cancel and retry, and the one status
//! transition every state change goes through. The agents' side is in `agent.rs`, reading
//! in `read.rs`.

use std::time::Duration;

use jiff::Timestamp;

use super::contract::{Job, JobRecord, JobState, JobStatus, Keys, QueueEvent, Trigger};
use super::error::QueueError;
use super::link::Link;
use super::scripts::SCRIPTS;
use super::status;
use super::wire::{from_json, to_json};
use crate::config::CiConfig;

/// The events stream keeps about this many entries (trimmed approximately).
pub(super) const EVENTS_MAXLEN: u64 = 10_000;
/// How long a webhook delivery id is remembered.
const DELIVERY_TTL_SECS: u64 = 86_400;

/// How the queue hands out and takes back jobs (`ci.*` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// Between an agent's heartbeats; an agent's record expires after three.
    pub heartbeat: Duration,
    /// Idle time after which a delivered, unfinished job is taken over by another agent.
    pub reclaim_after: Duration,
    /// Deliveries after which a job goes to the dead-letter stream.
    pub max_deliveries: u32,
    /// Log lines kept per job; one more says the rest was dropped.
    pub log_lines: u64,
    /// Bytes kept of one log line; the rest is cut, and the line says how much.
    pub log_line_bytes: usize,
    /// How long finished jobs, their logs and dead letters are kept.
    pub retention: Duration,
    /// How long a push of the same (forge, repository, ref, sha) queues nothing new;
    /// zero: only redeliveries are recognised.
    pub replay_window: Duration,
}

impl QueueSettings {
    pub fn from_config(ci: &CiConfig) -> Self {
        QueueSettings {
            heartbeat: Duration::from_secs(ci.heartbeat_secs),
            reclaim_after: Duration::from_secs(ci.reclaim_after_secs),
            max_deliveries: ci.max_deliveries,
            log_lines: ci.log_lines,
            log_line_bytes: ci.log_line_bytes,
            retention: Duration::from_secs(ci.retention_secs),
            replay_window: Duration::from_secs(ci.replay_window_secs),
        }
    }

    /// The retention in milliseconds, at least 1 (PEXPIRE refuses 0).
    pub(super) fn retention_ms(&self) -> u64 {
        u64::try_from(self.retention.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// A handle on the queue in one Redis database. Cheap to clone: clones share connections.
#[derive(Clone)]
pub struct Queue {
    pub(super) link: Link,
    pub(super) keys: Keys,
    pub(super) settings: QueueSettings,
}

/// What became of a push handed to [`Queue::enqueue_push`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// Its delivery id was queued before, as this job.
    Redelivered(String),
    /// The same push (forge, repository, ref, sha) was queued within the replay window, as
    /// this job.
    Replayed(String),
}

/// What `jobs` lists; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub state: Option<JobState>,
    /// `owner/name`, exactly.
    pub repo: Option<String>,
}

impl JobFilter {
    pub fn matches(&self, record: &JobRecord) -> bool {
        self.state.is_none_or(|state| record.status.state == state)
            && self
                .repo
                .as_deref()
                .is_none_or(|repo| record.job.repo == repo)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.state.is_none() && self.repo.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued: now cancelled, final; agents skip its entry.
    Cancelled,
    /// It is running: its agent sees the request at its next heartbeat and stops it.
    Requested,
    /// It had ended already, in this state.
    AlreadyFinal(JobState),
}

/// A new job id: a UUID v4.
pub fn new_job_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Which stored status a transition may replace (a final one never).
pub(super) enum Guard<'a> {
    /// Only the status read before (`None`: no status stored).
    Expect(Option<&'a str>),
    /// Only a status naming this agent.
    Owner(&'a str),
}

/// A status change and what goes with it (see `lua/transition.lua`).
pub(super) struct Transition<'a> {
    pub job: &'a Job,
    pub guard: Guard<'a>,
    pub status: &'a JobStatus,
    /// The jobs-stream entry: acknowledged if the stored status is final already.
    pub entry: Option<&'a str>,
    /// Acknowledge the entry when applied too (a final status).
    pub ack: bool,
    /// Dead-letter the job with this reason.
    pub dead: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Applied {
    Yes,
    /// The stored status is final already; nothing changed.
    AlreadyFinal,
    /// The stored status is not the one expected; read it again.
    Changed,
    /// Another agent holds the job.
    TakenOver,
}

impl Queue {
    /// Connects and creates the consumer group if it is missing. The group starts at id 0,
    /// so jobs queued before any agent existed are delivered and counted in its lag.
    pub async fn connect(
        url: &str,
        prefix: &str,
        settings: QueueSettings,
    ) -> Result<Queue, QueueError> {
        let queue = Queue {
            link: Link::open(url).await?,
            keys: Keys::new(prefix),
            settings,
        };
        let mut create = redis::cmd("XGROUP");
        create
            .arg("CREATE")
            .arg(queue.keys.jobs())
            .arg(queue.keys.group())
            .arg("0")
            .arg("MKSTREAM");
        match queue
            .link
            .query::<()>("create the consumer group", &create)
            .await
        {
            Err(QueueError::Redis { source, .. }) if source.code() == Some("BUSYGROUP") => {}
            result => result?,
        }
        Ok(queue)
    }

    /// Queues a job: its record, index entry, jobs-stream entry and event, atomically.
    /// Queuing a job id that exists already changes nothing.
    pub async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        self.enqueue_with(None, job).await.map(drop)
    }

    /// Queues a pushed job unless its webhook delivery `delivery_id` was seen in the last
    /// day, or the same push (`forge`, repository, ref, sha) was queued within the replay
    /// window whatever its delivery id: then nothing is queued and the answer names the
    /// job queued before. Remembering and queuing happen in one script, so a crash between
    /// cannot lose the job.
    pub async fn enqueue_push(
        &self,
        delivery_id: &str,
        forge: &str,
        job: &Job,
    ) -> Result<Enqueued, QueueError> {
        self.enqueue_with(Some((delivery_id, forge)), job).await
    }

    async fn enqueue_with(
        &self,
        push: Option<(&str, &str)>,
        job: &Job,
    ) -> Result<Enqueued, QueueError> {
        let mut call = SCRIPTS.enqueue.prepare_invoke();
        call.key(self.keys.job(&job.id))
            .key(self.keys.index())
            .key(self.keys.jobs())
            .key(self.keys.events())
            .key(self.keys.dead());
        if let Some((delivery_id, forge)) = push {
            call.key(self.keys.delivery(delivery_id))
                .key(self.keys.push(forge, &job.repo, &job.git_ref, &job.sha));
        }
        call.arg(&job.id)
            .arg(to_json("job", job)?)
            .arg(to_json("job status", &JobStatus::queued())?)
            .arg(job.created_at.as_millisecond())
            .arg(job_event(job, JobState::Queued)?)
            .arg(EVENTS_MAXLEN)
            .arg(self.settings.retention_ms())
            .arg(self.keys.job(""))
            .arg(DELIVERY_TTL_SECS)
            .arg(self.settings.replay_window.as_secs());
        let (code, earlier): (i64, String) = self.link.script("enqueue a job", &call).await?;
        Ok(match code {
            2 => Enqueued::Redelivered(earlier),
            3 => Enqueued::Replayed(earlier),
            _ => Enqueued::Queued,
        })
    }

    /// Cancels a job: a queued one at once (its entry stays and is skipped when claimed); a
    /// running one by asking its agent, which stops it and stores the final status.
    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, QueueError> {
        loop {
            let (record, stored) = self.record_with_raw_status(id).await?;
            match record.status.state {
                JobState::Queued => {
                    let cancelled =
                        status::cancelled_while_queued(&record.status, Timestamp::now());
                    let applied = self
                        .transition(Transition {
                            job: &record.job,
                            guard: Guard::Expect(Some(&stored)),
                            status: &cancelled,
                            entry: None,
                            ack: false,
                            dead: None,
                        })
                        .await?;
                    if applied == Applied::Yes {
                        return Ok(CancelOutcome::Cancelled);
                    }
                }
                JobState::Running => {
                    let mut call = SCRIPTS.request_cancel.prepare_invoke();
                    call.key(self.keys.job(id))
                        .key(self.keys.cancel(id))
                        .arg(record.job.timeout_secs.max(1));
                    let asked: i64 = self.link.script("request a cancel", &call).await?;
                    if asked == 1 {
                        return Ok(CancelOutcome::Requested);
                    }
                }
                state => return Ok(CancelOutcome::AlreadyFinal(state)),
            }
            // It moved on while we looked: look again.
        }
    }

    /// Queues a new attempt of a job that has ended: a new id, `attempt + 1`, trigger
    /// `retry`, created now.
    pub async fn retry(&self, id: &str, requested_by: &str) -> Result<Job, QueueError> {
        let record = self
            .job(id)
            .await?
            .ok_or_else(|| QueueError::NotFound { id: id.to_string() })?;
        if !record.status.state.is_final() {
            return Err(QueueError::NotFinal {
                id: id.to_string(),
                state: record.status.state,
            });
        }
        let job = Job {
            id: new_job_id(),
            trigger: Trigger::Retry,
            requested_by: requested_by.to_string(),
            created_at: Timestamp::now(),
            attempt: record.job.attempt + 1,
            ..record.job
        };
        self.enqueue(&job).await?;
        Ok(job)
    }

    /// A job's record and its status exactly as stored, for a guarded transition.
    pub(super) async fn record_with_raw_status(
        &self,
        id: &str,
    ) -> Result<(JobRecord, String), QueueError> {
        let key = self.keys.job(id);
        let mut get = redis::cmd("HMGET");
        get.arg(&key).arg("job").arg("status");
        let (job, status): (Option<String>, Option<String>) =
            self.link.query("read a job", &get).await?;
        let (Some(job), Some(status)) = (job, status) else {
            return Err(QueueError::NotFound { id: id.to_string() });
        };
        let record = JobRecord {
            job: from_json(&format!("{key} job"), &job)?,
            status: from_json(&format!("{key} status"), &status)?,
        };
        Ok((record, status))
    }

    /// Stores a new status if its guard allows, with the entry's acknowledgement, the
    /// dead-letter entry and the event, atomically.
    pub(super) async fn transition(&self, change: Transition<'_>) -> Result<Applied, QueueError> {
        let id = &change.job.id;
        let (guard, guarded) = match change.guard {
            Guard::Expect(stored) => ("expect", stored.unwrap_or_default()),
            Guard::Owner(agent) => ("owner", agent),
        };
        let mut call = SCRIPTS.transition.prepare_invoke();
        call.key(self.keys.job(id))
            .key(self.keys.jobs())
            .key(self.keys.events())
            .key(self.keys.dead())
            .key(self.keys.cancel(id))
            .key(self.keys.log(id))
            .key(self.keys.index())
            .arg(self.keys.group())
            .arg(EVENTS_MAXLEN)
            .arg(guard)
            .arg(guarded)
            .arg(to_json("job status", change.status)?)
            .arg(job_event(change.job, change.status.state)?)
            .arg(change.entry.unwrap_or_default())
            .arg(if change.ack { "1" } else { "0" })
            .arg(change.dead.unwrap_or_default())
            .arg(change.status.deliveries)
            .arg(to_json("job", change.job)?)
            .arg(self.settings.retention_ms())
            .arg(self.keys.job(""));
        let applied: i64 = self.link.script("change a job's status", &call).await?;
        Ok(match applied {
            1 => Applied::Yes,
            0 => Applied::AlreadyFinal,
            -1 => Applied::Changed,
            _ => Applied::TakenOver,
        })
    }
}

pub(super) fn job_event(job: &Job, state: JobState) -> Result<String, QueueError> {
    let event = QueueEvent::Job {
        id: job.id.clone(),
        repo: job.repo.clone(),
        state,
        at: Timestamp::now(),
    };
    to_json("event", &event)
}
