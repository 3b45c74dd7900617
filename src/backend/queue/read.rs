//! Reading the queue: job records, the numbers, live agents, logs and events.

use std::time::{Duration, Instant};

use redis::streams::{StreamId, StreamInfoGroupsReply, StreamRangeReply, StreamReadReply};

use super::contract::{AgentStatus, JobRecord, LogLine, QueueEvent, QueueStats};
use super::error::QueueError;
use super::redis_queue::{JobFilter, Queue};
use super::scripts::SCRIPTS;
use super::wire::{check_entry_id, field, from_json, log_line};

/// Entries one stream read returns at most.
const READ_COUNT: usize = 1000;
/// Job ids read from the index per round trip while filtering.
const INDEX_PAGE: usize = 200;
/// Upper bound when lag must be counted by hand (see `stats`).
const LAG_COUNT_LIMIT: usize = 100_000;

impl Queue {
    pub async fn job(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        match self.record_with_raw_status(id).await {
            Ok((record, _)) => Ok(Some(record)),
            Err(QueueError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Jobs matching `filter`, newest first, skipping `offset` matches.
    pub async fn jobs(
        &self,
        filter: &JobFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobRecord>, QueueError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        // Without a filter every record matches, so the offset applies to the index itself.
        let (mut start, mut to_skip) = if filter.is_empty() {
            (offset, 0)
        } else {
            (0, offset)
        };
        loop {
            let page = if filter.is_empty() {
                limit - found.len()
            } else {
                INDEX_PAGE
            };
            let mut range = redis::cmd("ZREVRANGE");
            range
                .arg(self.keys.index())
                .arg(start)
                .arg(start + page - 1);
            let ids: Vec<String> = self.link.query("list jobs", &range).await?;
            // An empty pipeline is a client error in redis-rs: past the end, stop here.
            if ids.is_empty() {
                return Ok(found);
            }
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("HMGET")
                    .arg(self.keys.job(id))
                    .arg("job")
                    .arg("status");
            }
            let rows: Vec<(Option<String>, Option<String>)> =
                self.link.pipeline("list jobs", &pipe).await?;
            for (id, row) in ids.iter().zip(rows) {
                // An index entry without its record (deleted by hand) lists nothing.
                let (Some(job), Some(status)) = row else {
                    continue;
                };
                let key = self.keys.job(id);
                let record = JobRecord {
                    job: from_json(&format!("{key} job"), &job)?,
                    status: from_json(&format!("{key} status"), &status)?,
                };
                if !filter.matches(&record) {
                    continue;
                }
                if to_skip > 0 {
                    to_skip -= 1;
                    continue;
                }
                found.push(record);
                if found.len() == limit {
                    return Ok(found);
                }
            }
            if ids.len() < page {
                return Ok(found);
            }
            start += page;
        }
    }

    /// Depth, lag, pending and dead, as `GET /queue`, the Pool view and KEDA see them.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let mut pipe = redis::pipe();
        pipe.cmd("XLEN")
            .arg(self.keys.jobs())
            .cmd("XINFO")
            .arg("GROUPS")
            .arg(self.keys.jobs())
            .cmd("XLEN")
            .arg(self.keys.dead());
        let (depth, groups, dead): (u64, StreamInfoGroupsReply, u64) = self
            .link
            .pipeline("read the queue's numbers", &pipe)
            .await?;
        let Some(group) = groups
            .groups
            .into_iter()
            .find(|group| group.name == self.keys.group())
        else {
            return Err(QueueError::Decode {
                key: self.keys.jobs(),
                reason: format!("no consumer group {:?}", self.keys.group()),
            });
        };
        let lag = match group.lag {
            Some(lag) => lag as u64,
            // Redis cannot tell after entries newer than the last delivered one were
            // deleted by hand (the queue itself only trims): count them.
            None => self.count_after(&group.last_delivered_id).await?,
        };
        Ok(QueueStats {
            depth,
            lag,
            pending: group.pending as u64,
            dead,
        })
    }

    async fn count_after(&self, entry: &str) -> Result<u64, QueueError> {
        let mut range = redis::cmd("XRANGE");
        range
            .arg(self.keys.jobs())
            .arg(format!("({entry}"))
            .arg("+")
            .arg("COUNT")
            .arg(LAG_COUNT_LIMIT);
        let reply: StreamRangeReply = self.link.query("count waiting jobs", &range).await?;
        Ok(reply.ids.len() as u64)
    }

    /// Agents whose record has not expired; the expired ones are forgotten.
    pub async fn agents(&self) -> Result<Vec<AgentStatus>, QueueError> {
        let mut call = SCRIPTS.agents.prepare_invoke();
        call.key(self.keys.agents()).arg(self.keys.agent(""));
        let statuses: Vec<String> = self.link.script("list agents", &call).await?;
        let mut agents = Vec::with_capacity(statuses.len());
        for status in statuses {
            match from_json::<AgentStatus>(&self.keys.agents(), &status) {
                Ok(agent) => agents.push(agent),
                // One agent of another version must not hide the others.
                Err(error) => tracing::warn!(%error, "skipping an agent record"),
            }
        }
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(agents)
    }

    /// Up to `count` log lines after the entry `after` (from the start without one).
    pub async fn logs(
        &self,
        id: &str,
        after: Option<&str>,
        count: usize,
    ) -> Result<Vec<LogLine>, QueueError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let start = match after {
            Some(after) => {
                check_entry_id(after)?;
                format!("({after}")
            }
            None => "-".to_string(),
        };
        let mut range = redis::cmd("XRANGE");
        range
            .arg(self.keys.log(id))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(count);
        let reply: StreamRangeReply = self.link.query("read a job's log", &range).await?;
        Ok(reply.ids.iter().map(log_line).collect())
    }

    /// Log lines after `after` (from the start without one), waiting up to `block` for
    /// some when there are none yet; empty when none came.
    pub async fn follow_logs(
        &self,
        id: &str,
        after: Option<&str>,
        block: Duration,
    ) -> Result<Vec<LogLine>, QueueError> {
        if let Some(after) = after {
            check_entry_id(after)?;
        }
        let entries = self
            .read_stream(
                "follow a job's log",
                &self.keys.log(id),
                after.unwrap_or("0-0"),
                block,
            )
            .await?;
        Ok(entries.iter().map(log_line).collect())
    }

    /// Events after the entry `after` (`$`: only new ones), waiting up to `block` for some.
    /// Each comes with its entry id, to pass as `after` next time.
    pub async fn events(
        &self,
        after: &str,
        block: Duration,
    ) -> Result<Vec<(String, QueueEvent)>, QueueError> {
        if after != "$" {
            check_entry_id(after)?;
        }
        let deadline = Instant::now() + block;
        let mut after = after.to_string();
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let entries = self
                .read_stream("read events", &self.keys.events(), &after, wait)
                .await?;
            let Some(last) = entries.last() else {
                return Ok(Vec::new());
            };
            after = last.id.clone();
            let events: Vec<_> = entries
                .iter()
                .filter_map(|entry| self.event(entry))
                .collect();
            // A batch of events this version cannot read is passed over, not returned empty,
            // so a caller resuming from its last event does not spin on it.
            if !events.is_empty() {
                return Ok(events);
            }
        }
    }

    fn event(&self, entry: &StreamId) -> Option<(String, QueueEvent)> {
        let decoded = field(entry, "event")
            .ok_or_else(|| "no `event` field".to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()));
        match decoded {
            Ok(event) => Some((entry.id.clone(), event)),
            Err(reason) => {
                tracing::warn!(
                    entry = entry.id,
                    reason,
                    "skipping an event this version cannot read"
                );
                None
            }
        }
    }

    /// XREAD of one stream after `after`, blocking up to `block` on a connection of its own.
    async fn read_stream(
        &self,
        op: &'static str,
        key: &str,
        after: &str,
        block: Duration,
    ) -> Result<Vec<StreamId>, QueueError> {
        let block_ms = block.as_millis();
        let mut read = redis::cmd("XREAD");
        read.arg("COUNT").arg(READ_COUNT);
        if block_ms > 0 {
            read.arg("BLOCK")
                .arg(u64::try_from(block_ms).unwrap_or(u64::MAX));
        }
        read.arg("STREAMS").arg(key).arg(after);
        let reply: Option<StreamReadReply> = if block_ms > 0 {
            self.link.blocking(op, &read, block).await?
        } else {
            self.link.query(op, &read).await?
        };
        Ok(reply
            .and_then(|reply| reply.keys.into_iter().next())
            .map(|key| key.ids)
            .unwrap_or_default())
    }
}
