//! Every headless command survives its output being closed (`raibid digest --json | head
//! -c 10`): it ends quietly, killed by SIGPIPE as coreutils are, never with a panic.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Output, Stdio};

use support::cli::{Lab, TUESDAY, described, ok};

/// `raibid args` with stdout a pipe whose read end is closed before it starts.
fn with_output_closed(lab: &Lab, args: &[&str]) -> Output {
    let mut ends = [0; 2];
    // SAFETY: `pipe` fills both descriptors, each then owned once.
    let (reader, writer) = unsafe {
        assert_eq!(libc::pipe(ends.as_mut_ptr()), 0, "a pipe");
        (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1]))
    };
    drop(reader);
    lab.command(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("raibid runs")
}

#[track_caller]
fn ended_quietly(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", described(out));
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{}",
        described(out)
    );
}

#[test]
fn commands_whose_output_is_closed_end_quietly() {
    let lab = Lab::new("[sparky]\nwriter = \"builtin\"\n", &TUESDAY);
    let digest = [
        "digest",
        "--period",
        "week",
        "--date",
        "2026-11-18",
        "--json",
    ];
    ended_quietly(&with_output_closed(&lab, &digest));
    ended_quietly(&with_output_closed(&lab, &["config", "show"]));
    // The digest above wrote its draft before its output was found closed.
    assert!(ok(&lab.raibid(&["drafts", "list"])).contains("2026-W47-lab"));
    ended_quietly(&with_output_closed(&lab, &["drafts", "list", "--json"]));
}
