//! The console's reducer for the Pool and Jobs views: keys and CI events in, state and CI
//! actor commands out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::{Connection, Mode, State, ViewId};
use raibid::app::update::{Cmd, Msg, Settings, update};
use raibid::backend::ci::actor::{Command, Event};
use raibid::backend::queue::contract::{JobState, LogLine, LogStream, QueueStats};
use raibid::backend::sparky::pipeline::WriterChoice;

const SETTINGS: Settings = Settings {
    writer: WriterChoice::Builtin,
};

/// The commands for the CI actor; these tests expect no others.
fn ci(commands: Vec<Cmd>) -> Vec<Command> {
    commands
        .into_iter()
        .map(|c| match c {
            Cmd::Ci(command) => command,
            Cmd::Sparky(command) => panic!("unexpected Sparky command {command:?}"),
            Cmd::Cluster(command) => panic!("unexpected cluster command {command:?}"),
            Cmd::Mirrors(command) => panic!("unexpected mirrors command {command:?}"),
        })
        .collect()
}

fn key(state: &mut State, code: KeyCode) -> Vec<Command> {
    ci(update(
        state,
        SETTINGS,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    ))
}

fn event(state: &mut State, event: Event) -> Vec<Command> {
    ci(update(state, SETTINGS, Msg::Ci(event)))
}

/// The Jobs view, connected, with the fixture's jobs listed.
fn jobs_view() -> State {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('4'));
    event(
        &mut state,
        Event::Connected {
            queue: "redis://127.0.0.1:6379/0".into(),
        },
    );
    event(&mut state, Event::Jobs(support::jobs()));
    state
}

fn line(entry: &str, text: &str) -> LogLine {
    LogLine {
        entry: entry.into(),
        step: "cargo build".into(),
        stream: LogStream::Stdout,
        line: text.into(),
    }
}

#[test]
fn the_first_ci_view_connects_and_the_pool_view_is_watched() {
    let mut state = support::state();
    let commands = key(&mut state, KeyCode::Char('3'));
    assert!(
        matches!(&commands[..], [Command::Connect, Command::Watch(true)]),
        "{commands:?}"
    );
    assert_eq!(state.ci.connection, Connection::Connecting);
    let commands = key(&mut state, KeyCode::Char('4'));
    assert!(
        matches!(&commands[..], [Command::Watch(false)]),
        "connects once: {commands:?}"
    );
    assert!(
        key(&mut state, KeyCode::Char('1')).is_empty(),
        "leaving Jobs for Digests changes nothing"
    );
    let commands = key(&mut state, KeyCode::Char('3'));
    assert!(
        matches!(&commands[..], [Command::Watch(true)]),
        "{commands:?}"
    );
}

#[test]
fn an_unreachable_queue_is_shown_and_the_console_goes_on() {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('4'));
    event(
        &mut state,
        Event::Unavailable {
            message: "connection refused (redis://127.0.0.1:6379/0)".into(),
        },
    );
    assert!(matches!(&state.ci.connection, Connection::Down(m) if m.contains("refused")));
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("CI queue unavailable")
    );
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(state.view, ViewId::Digests);
}

#[test]
fn jobs_are_listed_newest_first_filtered_and_sorted() {
    let mut state = jobs_view();
    let ids: Vec<&str> = state
        .ci
        .jobs
        .visible()
        .iter()
        .map(|r| r.job.id.as_str())
        .collect();
    assert_eq!(ids, ["job-4", "job-3", "job-2", "job-1"]);
    key(&mut state, KeyCode::Char('s'));
    let states: Vec<JobState> = state
        .ci
        .jobs
        .visible()
        .iter()
        .map(|r| r.status.state)
        .collect();
    assert_eq!(
        states,
        [
            JobState::Failure,
            JobState::Queued,
            JobState::Running,
            JobState::Success
        ]
    );
    key(&mut state, KeyCode::Char('/'));
    for c in "fail".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.ci.jobs.visible().len(), 1);
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.ci.jobs.visible().len(), 4);
}

#[test]
fn the_selection_stays_on_its_job_when_the_list_refreshes() {
    let mut state = jobs_view();
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(state.ci.jobs.selected_item().unwrap().job.id, "job-3");
    let mut jobs = support::jobs();
    let mut newer = jobs[3].clone();
    newer.job.id = "job-5".into();
    newer.job.created_at = "2026-11-20T09:29:00Z".parse().unwrap();
    jobs.push(newer);
    event(&mut state, Event::Jobs(jobs));
    assert_eq!(state.ci.jobs.selected_item().unwrap().job.id, "job-3");
}

#[test]
fn cancel_retry_and_trigger_ask_first() {
    let mut state = jobs_view();
    assert!(key(&mut state, KeyCode::Char('c')).is_empty());
    assert!(matches!(state.mode, Mode::Confirm(_)));
    let commands = key(&mut state, KeyCode::Char('y'));
    assert!(matches!(&commands[..], [Command::Cancel(id)] if id == "job-4"));

    key(&mut state, KeyCode::Char('R'));
    assert!(key(&mut state, KeyCode::Char('n')).is_empty(), "declined");
    key(&mut state, KeyCode::Char('R'));
    assert!(matches!(&key(&mut state, KeyCode::Enter)[..], [Command::Retry(id)] if id == "job-4"));

    key(&mut state, KeyCode::Char('T'));
    assert!(matches!(
        &key(&mut state, KeyCode::Char('y'))[..],
        [Command::Trigger]
    ));
}

#[test]
fn the_pool_scales_up_at_once_and_down_after_asking() {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('3'));
    assert!(
        key(&mut state, KeyCode::Char('-')).is_empty(),
        "no pool to shrink"
    );
    assert!(matches!(state.mode, Mode::Normal));
    assert!(matches!(
        &key(&mut state, KeyCode::Char('+'))[..],
        [Command::Scale(1)]
    ));
    event(
        &mut state,
        Event::Pool {
            wanted: 1,
            running: 1,
        },
    );
    key(&mut state, KeyCode::Char('-'));
    assert!(matches!(state.mode, Mode::Confirm(_)));
    assert!(matches!(
        &key(&mut state, KeyCode::Char('y'))[..],
        [Command::Scale(-1)]
    ));
}

#[test]
fn a_log_follows_scrolls_searches_and_stays_bounded() {
    let mut state = jobs_view();
    let commands = key(&mut state, KeyCode::Enter);
    assert!(matches!(&commands[..], [Command::OpenLog(id)] if id == "job-4"));
    let lines: Vec<LogLine> = (0..6_000)
        .map(|i| line(&format!("{i}-0"), &format!("line {i}")))
        .collect();
    event(
        &mut state,
        Event::Log {
            id: "job-4".into(),
            lines,
            done: false,
        },
    );
    let log = state.ci.log.as_ref().unwrap();
    assert_eq!(log.lines.len(), 5_000, "the buffer is bounded");
    assert_eq!(log.dropped, 1_000);
    assert_eq!(log.lines.front().unwrap().line, "line 1000");
    assert!(log.follow);

    key(&mut state, KeyCode::Char('k'));
    let log = state.ci.log.as_ref().unwrap();
    assert!(!log.follow, "scrolling up stops following");
    let top = log.top;
    event(
        &mut state,
        Event::Log {
            id: "job-4".into(),
            lines: vec![line("9999-0", "late")],
            done: false,
        },
    );
    assert_eq!(
        state.ci.log.as_ref().unwrap().top,
        top - 1,
        "the view keeps its lines while one is dropped"
    );
    key(&mut state, KeyCode::Char('f'));
    assert!(state.ci.log.as_ref().unwrap().follow);

    event(
        &mut state,
        Event::Log {
            id: "other".into(),
            lines: vec![line("1-1", "not ours")],
            done: true,
        },
    );
    assert!(
        !state.ci.log.as_ref().unwrap().done,
        "lines of another job are ignored"
    );

    key(&mut state, KeyCode::Char('/'));
    key(&mut state, KeyCode::Char('x'));
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.ci.log.as_ref().unwrap().search, "x");
    assert_eq!(
        state.ci.jobs.filter, "",
        "the search is the log's, not the list's"
    );

    let commands = key(&mut state, KeyCode::Esc);
    assert!(matches!(&commands[..], [Command::CloseLog]));
    assert!(state.ci.log.is_none());
}

#[test]
fn queue_numbers_keep_ten_minutes_of_history() {
    let mut state = jobs_view();
    let stats = QueueStats {
        depth: 3,
        lag: 2,
        pending: 1,
        dead: 0,
    };
    let start: jiff::Timestamp = "2026-11-20T09:00:00Z".parse().unwrap();
    for i in 0..400 {
        let at = start + jiff::SignedDuration::from_secs(2 * i);
        event(&mut state, Event::Stats { stats, at });
    }
    assert_eq!(
        state.ci.history.len(),
        301,
        "ten minutes of two-second samples"
    );
    assert_eq!(state.ci.stats, Some(stats));
}
