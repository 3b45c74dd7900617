//! The Pool and Jobs views: jobs, one job's log, the local pool, and the CI actor's events.

use crate::backend::ci::actor::{Command, Event};

use super::{HISTORY, LOG_CAPACITY, LogView};
use crate::app::keymap::{Action, Binding};
use crate::app::state::{Connection, Pending, State, ViewId};
use crate::app::update::{Cmd, ask};

const TRIGGER: Binding = Binding::new(Action::Trigger, &["T"], "build this repo's HEAD").hinted();

/// The Pool view's keys.
pub(crate) const POOL_BINDINGS: &[Binding] = &[
    Binding::new(Action::ScaleUp, &["+"], "one more local agent").hinted(),
    Binding::new(Action::ScaleDown, &["-"], "one local agent less").hinted(),
    TRIGGER,
];

/// The Jobs view's keys, in the list and in an open log.
pub(crate) const JOBS_BINDINGS: &[Binding] = &[
    Binding::new(Action::Open, &["enter"], "open the job's log").hinted(),
    Binding::new(Action::CancelJob, &["c"], "cancel the job").hinted(),
    Binding::new(Action::RetryJob, &["R"], "retry the job").hinted(),
    TRIGGER,
    Binding::new(Action::Sort, &["s"], "sort the jobs").hinted(),
    Binding::new(Action::Follow, &["f"], "follow the log"),
];

/// An open log shows what works in it instead of the list's keys.
pub(crate) fn log_hints(state: &State) -> Option<&'static [Action]> {
    (state.view == ViewId::Jobs && state.ci.log.is_some()).then_some(&[
        Action::Back,
        Action::Follow,
        Action::Filter,
        Action::CancelJob,
        Action::RetryJob,
    ])
}

fn ci(command: Command) -> Vec<Cmd> {
    vec![Cmd::Ci(command)]
}

/// Connects to the queue the first time a CI view is shown.
pub(crate) fn watch_jobs(state: &mut State, on: bool) -> Vec<Cmd> {
    if on && state.ci.connection == Connection::NotYet {
        state.ci.connection = Connection::Connecting;
        return ci(Command::Connect);
    }
    Vec::new()
}

/// The Pool view's graphs are read only while it is on screen.
pub(crate) fn watch_pool(state: &mut State, on: bool) -> Vec<Cmd> {
    let mut commands = watch_jobs(state, on);
    commands.push(Cmd::Ci(Command::Watch(on)));
    commands
}

/// Connects again, reading the queue anew.
pub(crate) fn refresh(_: &mut State) -> Vec<Cmd> {
    ci(Command::Connect)
}

/// The search in an open log, else the jobs' filter.
pub(crate) fn filter(state: &State) -> String {
    match &state.ci.log {
        Some(log) => log.search.clone(),
        None => state.ci.jobs.filter.clone(),
    }
}

pub(crate) fn set_filter(state: &mut State, text: String) -> Vec<Cmd> {
    match &mut state.ci.log {
        Some(log) => log.search = text,
        None => state.ci.jobs.set_filter(text),
    }
    Vec::new()
}

pub(crate) fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    if state.ci.log.is_some() {
        return on_log_action(state, action);
    }
    let jobs = &mut state.ci.jobs;
    if jobs.move_selection(action) {
        return Vec::new();
    }
    match action {
        Action::Back => {
            jobs.clear_filter();
        }
        Action::Sort => {
            jobs.order = jobs.order.next();
            jobs.selected = 0;
            let sort = jobs.order.name();
            state.info(format!("jobs sorted by {sort}"));
        }
        Action::Open => {
            if let Some(id) = selected_job_id(state) {
                state.ci.log = Some(LogView {
                    id: id.clone(),
                    follow: true,
                    ..LogView::default()
                });
                return ci(Command::OpenLog(id));
            }
        }
        _ => return job_action(state, action),
    }
    Vec::new()
}

/// Actions that work in the job list and in an open log alike.
fn job_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let target = state
        .ci
        .log
        .as_ref()
        .map(|l| l.id.clone())
        .or_else(|| selected_job_id(state));
    match (action, target) {
        (Action::CancelJob, Some(id)) => ask(
            state,
            format!("Cancel job {id}? (y/n)"),
            Pending::CancelJob(id),
        ),
        (Action::RetryJob, Some(id)) => ask(
            state,
            format!("Retry job {id} as a new job? (y/n)"),
            Pending::RetryJob(id),
        ),
        (Action::Trigger, _) => ask(
            state,
            "Build this repository's HEAD? (y/n)".into(),
            Pending::Trigger,
        ),
        (Action::ScaleUp, _) => return ci(Command::Scale(1)),
        (Action::ScaleDown, _) if state.ci.pool.is_some_and(|(wanted, _)| wanted > 0) => ask(
            state,
            "Stop one local agent? A job it is running ends cancelled. (y/n)".into(),
            Pending::ScaleDown,
        ),
        _ => {}
    }
    Vec::new()
}

fn on_log_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let Some(log) = &mut state.ci.log else {
        return Vec::new();
    };
    let len = log.lines.len();
    match action {
        Action::Back => {
            state.ci.log = None;
            return ci(Command::CloseLog);
        }
        Action::Up => scroll(log, |top| top.saturating_sub(1)),
        Action::Down => scroll(log, |top| top + 1),
        Action::PageUp => scroll(log, |top| top.saturating_sub(20)),
        Action::PageDown => scroll(log, |top| top + 20),
        Action::Top => scroll(log, |_| 0),
        Action::Bottom | Action::Follow => {
            log.follow = !(action == Action::Follow && log.follow);
            log.top = len.saturating_sub(1);
        }
        _ => return job_action(state, action),
    }
    Vec::new()
}

/// Moving in the log stops following it.
fn scroll(log: &mut LogView, to: impl Fn(usize) -> usize) {
    if log.follow {
        log.top = log.lines.len().saturating_sub(1);
    }
    log.follow = false;
    log.top = to(log.top).min(log.lines.len().saturating_sub(1));
}

fn selected_job_id(state: &State) -> Option<String> {
    state.ci.jobs.selected_item().map(|r| r.job.id.clone())
}

pub(crate) fn confirmed(_state: &mut State, pending: Pending) -> Vec<Cmd> {
    match pending {
        Pending::CancelJob(id) => ci(Command::Cancel(id)),
        Pending::RetryJob(id) => ci(Command::Retry(id)),
        Pending::Trigger => ci(Command::Trigger),
        Pending::ScaleDown => ci(Command::Scale(-1)),
        _ => Vec::new(),
    }
}

pub(crate) fn on_event(state: &mut State, event: Event) -> Vec<Cmd> {
    match event {
        Event::Connected { queue } => state.ci.connection = Connection::Up(queue),
        Event::Unavailable { message } => {
            state.ci.connection = Connection::Down(message.clone());
            state.warn(format!("CI queue unavailable: {message}"));
        }
        Event::Stats { stats, at } => {
            state.ci.stats = Some(stats);
            state.ci.history.push_back((at, stats));
            while state
                .ci
                .history
                .front()
                .is_some_and(|(t, _)| at.duration_since(*t) > HISTORY)
            {
                state.ci.history.pop_front();
            }
        }
        Event::Jobs(jobs) => state.ci.jobs.replace(jobs),
        Event::Agents(agents) => state.ci.agents = agents,
        Event::Log { id, lines, done } => {
            if let Some(log) = state.ci.log.as_mut().filter(|l| l.id == id) {
                log.lines.extend(lines);
                let excess = log.lines.len().saturating_sub(LOG_CAPACITY);
                log.lines.drain(..excess);
                log.dropped += excess;
                log.top = log.top.saturating_sub(excess);
                log.done = done;
                if log.follow {
                    log.top = log.lines.len().saturating_sub(1);
                }
            }
        }
        Event::Pool { wanted, running } => state.ci.pool = Some((wanted, running)),
        Event::LocalSandbox { sandboxed } => state.ci.local_sandboxed = Some(sandboxed),
        Event::Done { message } => state.info(message),
        Event::Failed { op, message } => state.error(format!("could not {op}: {message}")),
    }
    Vec::new()
}
