//! `GET /jobs/{id}/logs`: a job's log as Server-Sent Events. Each event's `id` is the log
//! stream's entry id, so a client that reconnects with `Last-Event-ID` resumes where it
//! stopped. With `follow=true` the stream stays open until the job is final and every line
//! written before that has been sent.
//!
//! Open streams are bounded (`server.max_log_streams`): a following stream holds a Redis
//! connection for its blocking reads, so more streams would mean more connections.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::ServerState;
use super::error::ApiError;
use crate::backend::queue::QueueError;
use crate::backend::queue::contract::LogLine;

/// Lines read per request while catching up.
const BATCH: usize = 500;
/// How long one blocking read waits for new lines before the job's state is checked again:
/// the longest a follower waits to learn that a silent job has finished.
const FOLLOW_BLOCK: Duration = Duration::from_secs(2);
const LAST_EVENT_ID: &str = "Last-Event-ID";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    #[serde(default)]
    pub follow: bool,
    /// Resume after this entry id, like `Last-Event-ID` (which wins when both are given).
    pub after: Option<String>,
}

pub async fn logs(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<LogsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let after = match headers.get(LAST_EVENT_ID) {
        Some(value) => Some(entry_id(
            LAST_EVENT_ID,
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("Last-Event-ID is not text"))?
                .trim(),
        )?),
        None => match query.after {
            Some(after) => Some(entry_id("query parameter after", &after)?),
            None => None,
        },
    };
    let permit = state.log_streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::unavailable(format!(
            "too many log streams open (server.max_log_streams = {}): try again later",
            state.max_log_streams
        ))
    })?;
    state
        .queue
        .job(&id)
        .await
        .map_err(|error| ApiError::queue("read the job", &error))?
        .ok_or_else(|| ApiError::no_job(&id))?;
    // The first batch is read here, so a bad resume position or a failing queue is an
    // error status rather than an event in an already opened stream.
    let first = state
        .queue
        .logs(&id, after.as_deref(), BATCH)
        .await
        .map_err(|error| match error {
            QueueError::BadEntryId { .. } => ApiError::bad_request(error.to_string()),
            error => ApiError::queue("read the log", &error),
        })?;

    let (events, receiver) = mpsc::channel(BATCH);
    let follower = Follower {
        state,
        id,
        after,
        events,
        _permit: permit,
    };
    tokio::spawn(follower.run(first, query.follow));
    Ok(Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Feeds one client's event stream; ends when the client goes, the server shuts down, the
/// log is complete, or the queue fails (after telling the client why).
struct Follower {
    state: Arc<ServerState>,
    id: String,
    after: Option<String>,
    events: mpsc::Sender<Result<Event, Infallible>>,
    /// Returned when the stream ends.
    _permit: OwnedSemaphorePermit,
}

/// A resume position as Redis takes it: `MILLISECONDS[-SEQUENCE]`, each part a 64-bit
/// number. The error names where it came from.
fn entry_id(source: &str, id: &str) -> Result<String, ApiError> {
    let number =
        |part: &str| part.bytes().all(|b| b.is_ascii_digit()) && part.parse::<u64>().is_ok();
    let valid = match id.split_once('-') {
        Some((ms, seq)) => number(ms) && number(seq),
        None => number(id),
    };
    if valid {
        Ok(id.to_string())
    } else {
        Err(ApiError::bad_request(format!(
            "{source}: {id:?} is not a log entry id (MILLISECONDS-SEQUENCE, each at most {})",
            u64::MAX
        )))
    }
}

/// Why the stream stopped early.
enum Stop {
    Gone,
    Failed(QueueError),
}

impl Follower {
    async fn run(mut self, first: Vec<LogLine>, follow: bool) {
        let result = self.stream(first, follow).await;
        if let Err(Stop::Failed(error)) = result {
            tracing::warn!(job = %self.id, %error, "log stream ended by a queue error");
            let event = Event::default()
                .event("error")
                .data(json!({ "error": "queue unavailable: could not read the log" }).to_string());
            let _ = self.events.send(Ok(event)).await;
        }
    }

    async fn stream(&mut self, first: Vec<LogLine>, follow: bool) -> Result<(), Stop> {
        let complete = first.len() < BATCH;
        self.send(first).await?;
        if !complete {
            self.catch_up().await?;
        }
        if !follow {
            return Ok(());
        }
        loop {
            // Checked before reading: lines written before the final status are then
            // already in the stream, and the last catch-up sends them.
            if self.is_finished().await? {
                return self.catch_up().await;
            }
            let queue = self.state.queue.clone();
            let lines = tokio::select! {
                lines = queue.follow_logs(&self.id, self.after.as_deref(), FOLLOW_BLOCK) => {
                    lines.map_err(Stop::Failed)?
                }
                () = self.events.closed() => return Err(Stop::Gone),
                () = self.state.shutdown.cancelled() => return Err(Stop::Gone),
            };
            self.send(lines).await?;
        }
    }

    /// Sends every line already written after `after`.
    async fn catch_up(&mut self) -> Result<(), Stop> {
        loop {
            let lines = self
                .state
                .queue
                .logs(&self.id, self.after.as_deref(), BATCH)
                .await
                .map_err(Stop::Failed)?;
            let complete = lines.len() < BATCH;
            self.send(lines).await?;
            if complete {
                return Ok(());
            }
        }
    }

    async fn is_finished(&self) -> Result<bool, Stop> {
        let record = self.state.queue.job(&self.id).await.map_err(Stop::Failed)?;
        // A job whose record expired has nothing more to say.
        Ok(record.is_none_or(|record| record.status.state.is_final()))
    }

    async fn send(&mut self, lines: Vec<LogLine>) -> Result<(), Stop> {
        for line in lines {
            // A LogLine always serializes; were it ever not to, the bare text still goes out.
            let event = Event::default()
                .id(&line.entry)
                .json_data(&line)
                .unwrap_or_else(|_| Event::default().id(&line.entry).data(&line.line));
            self.after = Some(line.entry);
            self.events.send(Ok(event)).await.map_err(|_| Stop::Gone)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_are_64_bit_numbers() {
        for good in [
            "0-0",
            "1732000000000-7",
            "1732000000000",
            "18446744073709551615-0",
        ] {
            assert_eq!(entry_id("after", good), Ok(good.to_string()));
        }
        for bad in [
            "",
            "-",
            "1-",
            "+1",
            "abc",
            "1-2-3",
            "18446744073709551616-0",
            "1-99999999999999999999",
        ] {
            let error = entry_id("Last-Event-ID", bad).unwrap_err();
            assert!(
                error.reason.starts_with("Last-Event-ID: "),
                "{bad}: {}",
                error.reason
            );
        }
    }
}
