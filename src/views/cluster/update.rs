//! The Cluster view: one row per lab component, bring-ups and removals behind a
//! confirmation, and the cluster actor's events.

use crate::backend::cluster::Component;
use crate::backend::cluster::actor::{Command as ClusterCommand, Event as ClusterEvent, Run};
use crate::backend::cluster::report::Progress;

use super::{CLUSTER_LOG_CAPACITY, RunState, StepState};
use crate::app::keymap::{Action, Binding};
use crate::app::state::{BusyKey, Connection, Pending, State};
use crate::app::update::{Cmd, ask};

/// The Cluster view's keys. Removing is destructive: a plain shifted key behind a
/// confirmation, never a ctrl chord.
pub(crate) const BINDINGS: &[Binding] = &[
    Binding::new(Action::ClusterInstall, &["i"], "bring up the lab to here").hinted(),
    Binding::new(Action::ClusterUpgrade, &["u"], "re-apply the component").hinted(),
    Binding::new(Action::ClusterRemove, &["D"], "remove, keeping its data").hinted(),
];

fn cluster(command: ClusterCommand) -> Vec<Cmd> {
    vec![Cmd::Cluster(command)]
}

/// Entering the view starts watching (and connects the first time, or after a failure);
/// leaving it stops the polling.
pub(crate) fn watch(state: &mut State, on: bool) -> Vec<Cmd> {
    if !on {
        return cluster(ClusterCommand::Unwatch);
    }
    state.cluster.connection.reconnect();
    cluster(ClusterCommand::Watch)
}

/// Reads the status now; an unavailable cluster is tried again.
pub(crate) fn refresh(state: &mut State) -> Vec<Cmd> {
    state.cluster.connection.reconnect();
    cluster(ClusterCommand::Refresh)
}

pub(crate) fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let last = Component::ALL.len() - 1;
    let selected = state.cluster.selected;
    match action {
        Action::Up => state.cluster.selected = selected.saturating_sub(1),
        Action::Down => state.cluster.selected = (selected + 1).min(last),
        Action::Top | Action::PageUp => state.cluster.selected = 0,
        Action::Bottom | Action::PageDown => state.cluster.selected = last,
        Action::ClusterInstall | Action::ClusterUpgrade | Action::ClusterRemove
            if state.cluster.is_running() =>
        {
            state.warn("a run is already going; wait for it to finish");
        }
        Action::ClusterInstall => {
            let target = state.cluster.selected_component();
            let components = Component::ALL[..=state.cluster.selected].to_vec();
            ask(
                state,
                format!("Bring up the lab through {}? (y/n)", target.title()),
                Pending::ClusterUp {
                    components,
                    force: false,
                },
            );
        }
        Action::ClusterUpgrade => {
            let target = state.cluster.selected_component();
            ask(
                state,
                format!(
                    "Re-apply {}? It is applied again even if in place. (y/n)",
                    target.title()
                ),
                Pending::ClusterUp {
                    components: vec![target],
                    force: true,
                },
            );
        }
        Action::ClusterRemove => {
            let target = state.cluster.selected_component();
            ask(
                state,
                format!("Remove {}? Data volumes are kept. (y/n)", target.title()),
                Pending::ClusterDown(vec![target]),
            );
        }
        _ => {}
    }
    Vec::new()
}

pub(crate) fn confirmed(state: &mut State, pending: Pending) -> Vec<Cmd> {
    match pending {
        Pending::ClusterUp { components, force } => {
            let what = match (force, components.as_slice()) {
                (true, [one]) => format!("re-apply {}", one.title()),
                _ => format!(
                    "bring up the lab through {}",
                    components.last().map_or("nothing", |c| c.title())
                ),
            };
            begin(state, what, components.clone());
            cluster(ClusterCommand::Run(Run::Up { components, force }))
        }
        Pending::ClusterDown(components) => {
            let what = match components.as_slice() {
                [one] => format!("remove {}", one.title()),
                _ => "remove components".to_string(),
            };
            // Removal runs in reverse order, and the steps are listed as they run.
            begin(state, what, components.iter().rev().copied().collect());
            cluster(ClusterCommand::Run(Run::Down {
                components,
                purge: false,
            }))
        }
        _ => Vec::new(),
    }
}

/// A new run replaces the last one's steps and log.
fn begin(state: &mut State, what: String, order: Vec<Component>) {
    let now = state.now;
    state.cluster.run = Some(RunState {
        what: what.clone(),
        started: now,
        current: None,
        steps: order.into_iter().map(|c| (c, StepState::Waiting)).collect(),
    });
    state.cluster.log.clear();
    state.cluster.last_result = None;
    state.start_busy(BusyKey::ClusterRun, what);
}

pub(crate) fn on_event(state: &mut State, event: ClusterEvent) -> Vec<Cmd> {
    match event {
        ClusterEvent::Connected(server) => {
            state.cluster.connection = Connection::Up(server);
        }
        ClusterEvent::Unavailable(reason) => {
            state.cluster.connection = Connection::Down(reason.clone());
            state.warn(format!("cluster unavailable: {reason}"));
        }
        ClusterEvent::Status(status) => {
            if !matches!(state.cluster.connection, Connection::Up(_)) {
                state.cluster.connection = Connection::Up(status.server.clone());
            }
            state.cluster.status = Some(status);
        }
        ClusterEvent::Progress(progress) => on_progress(state, progress),
        ClusterEvent::RunFinished(result) => finished(state, result),
    }
    Vec::new()
}

fn on_progress(state: &mut State, progress: Progress) {
    let now = state.now;
    let cluster = &mut state.cluster;
    let run = cluster.run.get_or_insert_with(|| RunState {
        what: "cluster run".into(),
        started: now,
        current: None,
        steps: Vec::new(),
    });
    let (component, step) = match progress {
        Progress::Log(component, line) => {
            cluster.log.push_back(line);
            // A ring buffer: the oldest lines go once the cap is reached.
            while cluster.log.len() > CLUSTER_LOG_CAPACITY {
                cluster.log.pop_front();
            }
            run.current.get_or_insert(component);
            return;
        }
        Progress::Started(component) => {
            // The log shows the running step only.
            cluster.log.clear();
            run.current = Some(component);
            (component, StepState::Running)
        }
        Progress::Finished(component, outcome) => {
            run.current = None;
            (component, StepState::Done(outcome))
        }
        Progress::Failed(component, reason) => {
            run.current = None;
            (component, StepState::Failed(reason))
        }
    };
    match run.steps.iter_mut().find(|(c, _)| *c == component) {
        Some((_, at)) => *at = step,
        None => run.steps.push((component, step)),
    }
}

fn finished(state: &mut State, result: Result<(), String>) {
    let what = match &mut state.cluster.run {
        Some(run) => {
            run.current = None;
            run.what.clone()
        }
        None => "cluster run".into(),
    };
    state.end_busy(BusyKey::ClusterRun);
    match &result {
        Ok(()) => state.info(format!("{what}: done")),
        // The reason names the component that failed.
        Err(reason) => state.error(format!("cluster run failed: {reason}")),
    }
    state.cluster.last_result = Some(result);
}
