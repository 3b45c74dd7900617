//! The agents' side of the queue: claiming a job (a lapsed one first, else a new one),
//! heartbeats, finishing, and the agents' own records.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};

use super::contract::{AgentState, AgentStatus, Job, JobStatus, QueueEvent};
use super::error::QueueError;
use super::redis_queue::{Applied, EVENTS_MAXLEN, Guard, Queue, Transition};
use super::scripts::SCRIPTS;
use super::status;
use super::wire::{field, from_json, to_json};

/// A job an agent holds until it finishes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The jobs-stream entry, acknowledged by `finish`.
    pub entry: String,
    pub job: Job,
    /// This delivery's number: 1 the first time, more after reclaims.
    pub deliveries: u32,
    /// The status as stored when claimed (running, this agent).
    pub status: JobStatus,
}

impl Queue {
    /// Takes the next job for `agent`: first one whose agent stopped heartbeating for
    /// `reclaim_after` (or dead-letters it after `max_deliveries`), else a new one, waiting
    /// up to `block` for it. Entries of jobs already final (cancelled while queued) are
    /// acknowledged and skipped. `None`: nothing to do. A job that lapses while this waits
    /// is reclaimed by the next call.
    pub async fn claim(&self, agent: &str, block: Duration) -> Result<Option<Claimed>, QueueError> {
        let deadline = Instant::now() + block;
        loop {
            if let Some(claimed) = self.reclaim(agent).await? {
                return Ok(Some(claimed));
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            let Some(entry) = self.read_new(agent, wait).await? else {
                return Ok(None);
            };
            // `>` hands out only entries never delivered before.
            if let Some(claimed) = self.take(agent, entry, 1).await? {
                return Ok(Some(claimed));
            }
        }
    }

    /// Follows XAUTOCLAIM's cursor through the pending entries for one idle past
    /// `reclaim_after`. COUNT 1: an agent runs one job at a time, and every entry
    /// XAUTOCLAIM returns is moved to it with a delivery counted and its idle time reset, so
    /// claiming ten would hold back nine it cannot run. (Each call still scans up to ten.)
    async fn reclaim(&self, agent: &str) -> Result<Option<Claimed>, QueueError> {
        let min_idle = u64::try_from(self.settings.reclaim_after.as_millis()).unwrap_or(u64::MAX);
        let mut cursor = "0-0".to_string();
        loop {
            let mut autoclaim = redis::cmd("XAUTOCLAIM");
            autoclaim
                .arg(self.keys.jobs())
                .arg(self.keys.group())
                .arg(agent)
                .arg(min_idle)
                .arg(&cursor)
                .arg("COUNT")
                .arg(1);
            let reply: StreamAutoClaimReply =
                self.link.query("reclaim lapsed jobs", &autoclaim).await?;
            for entry in reply.claimed {
                let Some(deliveries) = self.deliveries(&entry.id).await? else {
                    continue; // acknowledged in between: finished by its agent after all
                };
                if let Some(claimed) = self.take(agent, entry, deliveries).await? {
                    return Ok(Some(claimed));
                }
            }
            if reply.next_stream_id == "0-0" {
                return Ok(None);
            }
            cursor = reply.next_stream_id;
        }
    }

    /// How often the entry was delivered (XPENDING's extended form), `None` if not pending.
    async fn deliveries(&self, entry: &str) -> Result<Option<u32>, QueueError> {
        let mut pending = redis::cmd("XPENDING");
        pending
            .arg(self.keys.jobs())
            .arg(self.keys.group())
            .arg(entry)
            .arg(entry)
            .arg(1);
        let reply: StreamPendingCountReply = self.link.query("count deliveries", &pending).await?;
        Ok(reply
            .ids
            .first()
            .map(|pending| u32::try_from(pending.times_delivered).unwrap_or(u32::MAX)))
    }

    /// XREADGROUP `>` for one entry, blocking on a connection of its own.
    async fn read_new(&self, agent: &str, block: Duration) -> Result<Option<StreamId>, QueueError> {
        let block_ms = block.as_millis();
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(self.keys.group())
            .arg(agent)
            .arg("COUNT")
            .arg(1);
        if block_ms > 0 {
            read.arg("BLOCK")
                .arg(u64::try_from(block_ms).unwrap_or(u64::MAX));
        }
        read.arg("STREAMS").arg(self.keys.jobs()).arg(">");
        let reply: Option<StreamReadReply> = if block_ms > 0 {
            self.link.blocking("read new jobs", &read, block).await?
        } else {
            self.link.query("read new jobs", &read).await?
        };
        Ok(reply
            .and_then(|reply| reply.keys.into_iter().next())
            .and_then(|key| key.ids.into_iter().next()))
    }

    /// Makes a delivered entry this agent's running job, or dead-letters it when delivered
    /// too often, or skips it when its job is final already. `None` unless taken.
    async fn take(
        &self,
        agent: &str,
        entry: StreamId,
        deliveries: u32,
    ) -> Result<Option<Claimed>, QueueError> {
        let Some(text) = field(&entry, "job") else {
            let reason = "the entry has no `job` field";
            self.bury(&entry.id, "", reason, deliveries).await?;
            return Ok(None);
        };
        let job = match from_json::<Job>(&self.keys.jobs(), &text) {
            Ok(job) => job,
            Err(error) => {
                self.bury(&entry.id, &text, &error.to_string(), deliveries)
                    .await?;
                return Ok(None);
            }
        };
        let dead = deliveries > self.settings.max_deliveries;
        loop {
            let (stored, stored_raw) = match self.record_with_raw_status(&job.id).await {
                Ok((record, raw)) => (record.status, Some(raw)),
                // An entry whose record is gone is run from what the entry says.
                Err(QueueError::NotFound { .. }) => (JobStatus::queued(), None),
                // A record this version cannot read would fail every claim that meets it.
                Err(error @ QueueError::Decode { .. }) => {
                    self.bury(&entry.id, &text, &error.to_string(), deliveries)
                        .await?;
                    return Ok(None);
                }
                Err(error) => return Err(error),
            };
            let now = Timestamp::now();
            let next = if dead {
                status::dead(&stored, deliveries, now)
            } else {
                status::running(&stored, agent, deliveries, now)
            };
            let applied = self
                .transition(Transition {
                    job: &job,
                    guard: Guard::Expect(stored_raw.as_deref()),
                    status: &next,
                    entry: Some(&entry.id),
                    ack: dead,
                    dead: dead.then(|| status::dead_reason(deliveries)),
                })
                .await?;
            match applied {
                Applied::Yes if dead => return Ok(None),
                Applied::Yes => {
                    return Ok(Some(Claimed {
                        entry: entry.id,
                        job,
                        deliveries,
                        status: next,
                    }));
                }
                Applied::Changed => continue,
                Applied::AlreadyFinal | Applied::TakenOver => return Ok(None),
            }
        }
    }

    /// Dead-letters an entry whose job cannot be read, as it is.
    async fn bury(
        &self,
        entry: &str,
        job: &str,
        reason: &str,
        deliveries: u32,
    ) -> Result<(), QueueError> {
        tracing::warn!(
            entry,
            reason,
            "dead-lettering a jobs-stream entry that cannot be read"
        );
        let mut call = SCRIPTS.bury.prepare_invoke();
        call.key(self.keys.jobs())
            .key(self.keys.dead())
            .arg(self.keys.group())
            .arg(entry)
            .arg(job)
            .arg(format!("unreadable job: {reason}"))
            .arg(deliveries)
            .arg(self.settings.retention_ms());
        self.link
            .script::<i64>("dead-letter an unreadable entry", &call)
            .await
            .map(drop)
    }

    /// Tells the queue the job is alive, so no other agent reclaims it. True when the agent
    /// should stop: a cancel was asked for, the job already has a final status, or another
    /// agent took it over (this one was silent past `reclaim_after`).
    pub async fn heartbeat(&self, claimed: &Claimed, agent: &str) -> Result<bool, QueueError> {
        let id = &claimed.job.id;
        let mut call = SCRIPTS.heartbeat.prepare_invoke();
        call.key(self.keys.job(id))
            .key(self.keys.jobs())
            .key(self.keys.cancel(id))
            .arg(self.keys.group())
            .arg(agent)
            .arg(&claimed.entry);
        let stop: i64 = self.link.script("heartbeat", &call).await?;
        Ok(stop == 1)
    }

    /// Appends log lines `(step, stream, line)` to the job's log in one script. Each line
    /// keeps `log_line_bytes` and says how much was cut; the log keeps `log_lines`, then
    /// one line saying the rest is dropped. A batch lands at once, so a follower woken by
    /// its first line reads all of it.
    pub async fn append_log(
        &self,
        job_id: &str,
        lines: &[(String, super::contract::LogStream, String)],
    ) -> Result<(), QueueError> {
        if lines.is_empty() {
            return Ok(());
        }
        let kept = self.settings.log_lines;
        let mut call = SCRIPTS.append_log.prepare_invoke();
        call.key(self.keys.log(job_id))
            .arg(kept)
            .arg(self.settings.retention_ms())
            .arg(format!(
                "[log cut: only the first {kept} lines are kept (ci.log_lines)]"
            ));
        for (step, stream, line) in lines {
            call.arg(step)
                .arg(super::wire::log_stream_name(*stream))
                .arg(cap_line(line, self.settings.log_line_bytes).as_ref());
        }
        self.link
            .script::<i64>("append log lines", &call)
            .await
            .map(drop)
    }

    /// Stores the job's final status and acknowledges its entry, atomically. False when the
    /// job had a final status already (its entry is acknowledged all the same) or another
    /// agent holds it now: nothing is stored then. Refuses a status that is not final.
    pub async fn finish(
        &self,
        claimed: &Claimed,
        agent: &str,
        status: &JobStatus,
    ) -> Result<bool, QueueError> {
        if !status.state.is_final() {
            return Err(QueueError::NotFinal {
                id: claimed.job.id.clone(),
                state: status.state,
            });
        }
        let stored = status::finished(status, agent, Timestamp::now());
        let applied = self
            .transition(Transition {
                job: &claimed.job,
                guard: Guard::Owner(agent),
                status: &stored,
                entry: Some(&claimed.entry),
                ack: true,
                dead: None,
            })
            .await?;
        Ok(applied == Applied::Yes)
    }

    /// Records an agent's status; it expires after three heartbeats without another. An
    /// event goes out when its state or job changed.
    pub async fn agent_seen(&self, status: &AgentStatus) -> Result<(), QueueError> {
        let ttl_ms = u64::try_from((self.settings.heartbeat * 3).as_millis()).unwrap_or(u64::MAX);
        let event = QueueEvent::Agent {
            name: status.name.clone(),
            state: status.state,
            job: status.job.clone(),
            at: status.seen_at,
        };
        let mut call = SCRIPTS.agent_seen.prepare_invoke();
        call.key(self.keys.agent(&status.name))
            .key(self.keys.agents())
            .key(self.keys.events())
            .arg(to_json("agent status", status)?)
            .arg(ttl_ms.max(1))
            .arg(&status.name)
            .arg(to_json("event", &event)?)
            .arg(EVENTS_MAXLEN);
        self.link
            .script::<i64>("record an agent", &call)
            .await
            .map(drop)
    }

    /// Removes an agent's record as it stops.
    pub async fn agent_gone(&self, name: &str) -> Result<(), QueueError> {
        let event = QueueEvent::Agent {
            name: name.to_string(),
            state: AgentState::Stopping,
            job: None,
            at: Timestamp::now(),
        };
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(self.keys.agent(name))
            .ignore()
            .srem(self.keys.agents(), name)
            .ignore()
            .cmd("XADD")
            .arg(self.keys.events())
            .arg("MAXLEN")
            .arg("~")
            .arg(EVENTS_MAXLEN)
            .arg("*")
            .arg("event")
            .arg(to_json("event", &event)?)
            .ignore();
        self.link.pipeline::<()>("remove an agent", &pipe).await
    }
}

/// A log line cut to `max_bytes` (on a character boundary), saying how much was cut.
fn cap_line(line: &str, max_bytes: usize) -> std::borrow::Cow<'_, str> {
    if line.len() <= max_bytes {
        return line.into();
    }
    let end = (0..=max_bytes)
        .rev()
        .find(|&end| line.is_char_boundary(end))
        .unwrap_or(0);
    format!(
        "{} [line cut: {} more bytes]",
        &line[..end],
        line.len() - end
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::cap_line;

    #[test]
    fn long_lines_are_cut_on_a_character_and_say_so() {
        assert_eq!(cap_line("short", 8), "short");
        assert_eq!(cap_line("abcdefghij", 4), "abcd [line cut: 6 more bytes]");
        // "é" is two bytes: the cut falls before it, not inside it.
        assert_eq!(cap_line("abcé", 4), "abc [line cut: 2 more bytes]");
    }
}
