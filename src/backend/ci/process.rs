//! One supervised child process: in its own process group, its output read line by line
//! as it comes, and a deadline and a cancel token that end the whole group, so a
//! grandchild a build step left running dies with it.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backend::queue::contract::LogStream;

/// Time the group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);
/// A longer line is cut into several: a binary spewed to stdout must not eat memory.
const MAX_LINE_BYTES: u64 = 64 * 1024;
/// How long the output may still flow once the group is gone (only a process that left
/// the group, e.g. with `setsid`, can hold the pipes open longer).
const DRAIN: Duration = Duration::from_secs(5);

/// The instant `limit` from now; a limit too large to represent means no limit (a year).
pub fn deadline_after(limit: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(limit)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

/// Where a process's output goes, one line at a time without its line end.
pub type Lines = mpsc::Sender<(LogStream, String)>;

/// How a supervised process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(ExitStatus),
    /// The deadline passed; the group was killed.
    TimedOut,
    /// The token fired; the group was killed.
    Cancelled,
}

impl Ending {
    /// The exit code, or 128 + the signal that killed it (as shells report it); `None`
    /// when we killed it.
    pub fn exit_code(self) -> Option<i32> {
        match self {
            Ending::Exited(status) => status.code().or(status.signal().map(|signal| 128 + signal)),
            Ending::TimedOut | Ending::Cancelled => None,
        }
    }
}

/// Runs `command` with stdin closed, sending its stdout and stderr to `lines`, until it
/// exits, `deadline` passes or `cancel` fires. Whatever ends it, every process left in its
/// group is terminated before this returns.
pub async fn supervise(
    mut command: Command,
    lines: Lines,
    deadline: Instant,
    cancel: &CancellationToken,
) -> io::Result<Ending> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    // With process_group(0) the child's pid is its group's id.
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    let mut guard = DropGuard(group);
    let readers = [
        child
            .stdout
            .take()
            .map(|pipe| tokio::spawn(forward(pipe, LogStream::Stdout, lines.clone()))),
        child
            .stderr
            .take()
            .map(|pipe| tokio::spawn(forward(pipe, LogStream::Stderr, lines))),
    ];

    let ending = tokio::select! {
        status = child.wait() => status.map(Ending::Exited),
        () = tokio::time::sleep_until(deadline) => Ok(Ending::TimedOut),
        () = cancel.cancelled() => Ok(Ending::Cancelled),
    };
    if let Some(group) = group {
        end_group(group, &mut child).await;
    }
    guard.0 = None;
    for reader in readers.into_iter().flatten() {
        let abort = reader.abort_handle();
        if tokio::time::timeout(DRAIN, reader).await.is_err() {
            abort.abort();
        }
    }
    ending
}

/// Reads one pipe to its end. Lines are sent even when nobody listens any more: the pipe
/// must keep draining or the process would block on a full pipe.
async fn forward(pipe: impl AsyncRead + Unpin, stream: LogStream, lines: Lines) {
    let mut reader = BufReader::new(pipe);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buffer)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buffer);
                let line = text.trim_end_matches(['\n', '\r']).to_string();
                let _ = lines.send((stream, line)).await;
            }
        }
    }
}

/// SIGTERM to the group, SIGKILL to what is still alive after the grace period, and the
/// direct child reaped.
async fn end_group(group: i32, child: &mut Child) {
    if group_alive(group) {
        signal_group(group, libc::SIGTERM);
        let deadline = Instant::now() + GRACE;
        let _ = tokio::time::timeout_at(deadline, child.wait()).await;
        while group_alive(group) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if group_alive(group) {
            signal_group(group, libc::SIGKILL);
        }
    }
    let _ = child.wait().await;
}

/// Kills the group when the supervising future is dropped before it ended the group
/// (its task aborted, the runtime shut down): `kill_on_drop` alone reaches only the child.
struct DropGuard(Option<i32>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            signal_group(group, libc::SIGKILL);
        }
    }
}

fn signal_group(group: i32, signal: libc::c_int) {
    // SAFETY: killpg only sends a signal; a group that is already gone yields ESRCH.
    unsafe {
        libc::killpg(group, signal);
    }
}

/// Whether a live (not zombie) process is in the group. Orphaned grandchildren become
/// zombies under an init that does not reap (common in containers); they count as gone.
fn group_alive(group: i32) -> bool {
    // SAFETY: signal 0 only checks that the group exists.
    if unsafe { libc::killpg(group, 0) } != 0 {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|entry| {
        std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| parse_stat(&stat))
            .is_some_and(|(state, pgrp)| pgrp == group && !matches!(state, 'Z' | 'X'))
    })
}

/// State and process group from /proc/<pid>/stat: `pid (comm) state ppid pgrp ...`, where
/// comm may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        assert_eq!(parse_stat("42 (sleep) S 1 40 40 0"), Some(('S', 40)));
        assert_eq!(parse_stat("42 (a) b (c) Z 1 7 7 0"), Some(('Z', 7)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
