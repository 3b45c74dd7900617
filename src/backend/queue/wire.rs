//! How contract values are written to and read from Redis: JSON fields, log entries, entry ids.

use redis::Value;
use redis::streams::StreamId;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::contract::{LogLine, LogStream};
use super::error::QueueError;

pub fn to_json<T: Serialize>(what: &'static str, value: &T) -> Result<String, QueueError> {
    serde_json::to_string(value).map_err(|source| QueueError::Encode { what, source })
}

/// Decodes a JSON value found at `key` (a key, or a key and a field).
pub fn from_json<T: DeserializeOwned>(key: &str, text: &str) -> Result<T, QueueError> {
    serde_json::from_str(text).map_err(|error| QueueError::Decode {
        key: key.to_string(),
        reason: error.to_string(),
    })
}

/// A stream entry's field as text, if it is there.
pub fn field(entry: &StreamId, name: &str) -> Option<String> {
    match entry.map.get(name)? {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

pub fn log_stream_name(stream: LogStream) -> &'static str {
    match stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
        LogStream::System => "system",
    }
}

/// A log entry as a line. Every entry reads as one: a missing field is empty and an unknown
/// stream name counts as the agent's own (`system`), so a reader never stalls on one entry.
pub fn log_line(entry: &StreamId) -> LogLine {
    let stream = match field(entry, "stream").as_deref() {
        Some("stdout") => LogStream::Stdout,
        Some("stderr") => LogStream::Stderr,
        _ => LogStream::System,
    };
    LogLine {
        entry: entry.id.clone(),
        step: field(entry, "step").unwrap_or_default(),
        stream,
        line: field(entry, "line").unwrap_or_default(),
    }
}

/// Checks a caller's stream position (`MILLISECONDS-SEQUENCE`, or `MILLISECONDS`) before it
/// reaches Redis, so bad input is told apart from a failing queue.
pub fn check_entry_id(id: &str) -> Result<(), QueueError> {
    let number = |part: &str| {
        !part.is_empty() && part.len() <= 20 && part.bytes().all(|b| b.is_ascii_digit())
    };
    let valid = match id.split_once('-') {
        Some((ms, seq)) => number(ms) && number(seq),
        None => number(id),
    };
    if valid {
        Ok(())
    } else {
        Err(QueueError::BadEntryId { id: id.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids() {
        for good in ["0-0", "1732000000000-7", "1732000000000"] {
            assert!(check_entry_id(good).is_ok(), "{good}");
        }
        for bad in ["", "-", "1-", "-1", "abc", "1-2-3", "$", "1 2", "+"] {
            assert!(check_entry_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn log_entries_always_read() {
        let mut entry = StreamId {
            id: "1-1".into(),
            ..StreamId::default()
        };
        entry
            .map
            .insert("stream".into(), Value::BulkString(b"stderr".to_vec()));
        entry.map.insert(
            "line".into(),
            Value::BulkString(b"warning: unused".to_vec()),
        );
        let line = log_line(&entry);
        assert_eq!(line.stream, LogStream::Stderr);
        assert_eq!(line.step, "");
        assert_eq!(line.line, "warning: unused");
        entry
            .map
            .insert("stream".into(), Value::BulkString(b"stdlog".to_vec()));
        assert_eq!(log_line(&entry).stream, LogStream::System);
    }
}
