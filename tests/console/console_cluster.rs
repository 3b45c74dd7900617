//! The console's reducer for the Cluster view: keys and cluster events in, state and
//! cluster actor commands out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::{Connection, Level, Mode, State, ViewId};
use raibid::app::update::{Cmd, Msg, Settings, update};
use raibid::backend::ci::actor::Command as CiCommand;
use raibid::backend::cluster::Component;
use raibid::backend::cluster::actor::{Command as ClusterCommand, Event as ClusterEvent, Run};
use raibid::backend::cluster::report::{Outcome, Progress};
use raibid::backend::sparky::pipeline::WriterChoice;
use raibid::views::cluster::{CLUSTER_LOG_CAPACITY, StepState};

const SETTINGS: Settings = Settings {
    writer: WriterChoice::Builtin,
};

/// The commands for the cluster actor; these tests expect no others.
fn cluster(commands: Vec<Cmd>) -> Vec<ClusterCommand> {
    commands
        .into_iter()
        .map(|c| match c {
            Cmd::Cluster(command) => command,
            other => panic!("unexpected command {other:?}"),
        })
        .collect()
}

fn press(state: &mut State, code: KeyCode, modifiers: KeyModifiers) -> Vec<Cmd> {
    update(state, SETTINGS, Msg::Key(KeyEvent::new(code, modifiers)))
}

fn key(state: &mut State, code: KeyCode) -> Vec<ClusterCommand> {
    cluster(press(state, code, KeyModifiers::NONE))
}

fn event(state: &mut State, event: ClusterEvent) -> Vec<ClusterCommand> {
    cluster(update(state, SETTINGS, Msg::Cluster(event)))
}

/// The Cluster view, connected, with the fixture's status read.
fn cluster_view() -> State {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('5'));
    event(
        &mut state,
        ClusterEvent::Connected(support::cluster_status::SERVER.into()),
    );
    event(
        &mut state,
        ClusterEvent::Status(support::cluster_status::status()),
    );
    state
}

fn question(state: &State) -> &str {
    match &state.mode {
        Mode::Confirm(confirm) => &confirm.question,
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

#[test]
fn the_cluster_is_watched_only_while_its_view_is_shown() {
    let mut state = support::state();
    assert_eq!(state.cluster.connection, Connection::NotYet);
    let commands = press(&mut state, KeyCode::Char('3'), KeyModifiers::NONE);
    assert!(
        !commands.iter().any(|c| matches!(c, Cmd::Cluster(_))),
        "other views leave the cluster alone: {commands:?}"
    );
    let commands = press(&mut state, KeyCode::Char('5'), KeyModifiers::NONE);
    assert!(
        matches!(
            &commands[..],
            [
                Cmd::Ci(CiCommand::Watch(false)),
                Cmd::Cluster(ClusterCommand::Watch)
            ] | [
                Cmd::Cluster(ClusterCommand::Watch),
                Cmd::Ci(CiCommand::Watch(false))
            ]
        ),
        "{commands:?}"
    );
    assert_eq!(state.view, ViewId::Cluster);
    assert_eq!(state.cluster.connection, Connection::Connecting);
    assert!(
        key(&mut state, KeyCode::Char('5')).is_empty(),
        "showing it again changes nothing"
    );
    // Leaving it stops the polling, and showing it again starts it.
    assert_eq!(
        key(&mut state, KeyCode::Char('1')),
        [ClusterCommand::Unwatch]
    );
    assert_eq!(state.view, ViewId::Digests);
    assert_eq!(key(&mut state, KeyCode::Char('5')), [ClusterCommand::Watch]);
    assert_eq!(state.view, ViewId::Cluster);
}

#[test]
fn the_status_fills_the_rows_and_the_selection_stays_on_them() {
    let mut state = cluster_view();
    assert_eq!(
        state.cluster.connection,
        Connection::Up(support::cluster_status::SERVER.into())
    );
    let status = state.cluster.status.as_ref().expect("status read");
    assert_eq!(status.components.len(), Component::ALL.len());
    assert_eq!(state.cluster.selected_component(), Component::K3s);
    for _ in 0..3 {
        key(&mut state, KeyCode::Char('j'));
    }
    assert_eq!(state.cluster.selected_component(), Component::Gitea);
    for _ in 0..20 {
        key(&mut state, KeyCode::Down);
    }
    assert_eq!(state.cluster.selected_component(), Component::Sparky);
    key(&mut state, KeyCode::Char('k'));
    assert_eq!(state.cluster.selected_component(), Component::Gpu);
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(state.cluster.selected, 0);
}

#[test]
fn a_status_without_a_connected_event_still_counts_as_connected() {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('5'));
    event(
        &mut state,
        ClusterEvent::Status(support::cluster_status::status()),
    );
    assert_eq!(
        state.cluster.connection,
        Connection::Up(support::cluster_status::SERVER.into())
    );
}

#[test]
fn install_asks_first_and_brings_up_everything_through_the_selected_row() {
    let mut state = cluster_view();
    for _ in 0..3 {
        key(&mut state, KeyCode::Char('j'));
    }
    assert!(key(&mut state, KeyCode::Char('i')).is_empty());
    assert_eq!(
        question(&state),
        "Bring up the lab through Gitea (git + registry)? (y/n)"
    );
    assert!(key(&mut state, KeyCode::Char('n')).is_empty());
    assert!(matches!(state.mode, Mode::Normal));
    assert!(state.cluster.run.is_none(), "declining starts nothing");

    key(&mut state, KeyCode::Char('i'));
    let commands = key(&mut state, KeyCode::Char('y'));
    assert_eq!(
        commands,
        [ClusterCommand::Run(Run::Up {
            components: vec![
                Component::K3s,
                Component::Namespaces,
                Component::Redis,
                Component::Gitea
            ],
            force: false,
        })]
    );
    let run = state.cluster.run.as_ref().expect("a run");
    assert_eq!(run.what, "bring up the lab through Gitea (git + registry)");
    assert_eq!(run.started, support::now());
    assert!(
        run.steps
            .iter()
            .all(|(_, step)| *step == StepState::Waiting)
    );
    assert_eq!(run.steps.len(), 4);
    assert!(state.cluster.is_running());
    assert!(!state.busy.is_empty(), "the spinner turns while it runs");
}

#[test]
fn upgrade_re_applies_only_the_selected_component() {
    let mut state = cluster_view();
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('j'));
    assert!(key(&mut state, KeyCode::Char('u')).is_empty());
    assert!(question(&state).starts_with("Re-apply Redis (job queue)?"));
    let commands = key(&mut state, KeyCode::Enter);
    assert_eq!(
        commands,
        [ClusterCommand::Run(Run::Up {
            components: vec![Component::Redis],
            force: true,
        })]
    );
}

#[test]
fn remove_asks_first_and_keeps_the_data() {
    let mut state = cluster_view();
    key(&mut state, KeyCode::Char('G'));
    assert!(key(&mut state, KeyCode::Char('D')).is_empty());
    assert_eq!(
        question(&state),
        "Remove Sparky + Ollama? Data volumes are kept. (y/n)"
    );
    assert!(key(&mut state, KeyCode::Esc).is_empty());
    assert!(matches!(state.mode, Mode::Normal));

    key(&mut state, KeyCode::Char('D'));
    let commands = key(&mut state, KeyCode::Char('y'));
    assert_eq!(
        commands,
        [ClusterCommand::Run(Run::Down {
            components: vec![Component::Sparky],
            purge: false,
        })]
    );
    assert_eq!(
        state.cluster.run.as_ref().unwrap().what,
        "remove Sparky + Ollama"
    );
}

#[test]
fn a_second_run_is_refused_while_one_is_going() {
    let mut state = cluster_view();
    key(&mut state, KeyCode::Char('u'));
    key(&mut state, KeyCode::Char('y'));
    assert!(key(&mut state, KeyCode::Char('i')).is_empty());
    assert!(matches!(state.mode, Mode::Normal), "nothing to confirm");
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("already going")
    );
    event(&mut state, ClusterEvent::RunFinished(Ok(())));
    key(&mut state, KeyCode::Char('i'));
    assert!(
        matches!(state.mode, Mode::Confirm(_)),
        "free again once over"
    );
}

#[test]
fn progress_updates_the_steps_and_keeps_a_bounded_log() {
    let mut state = cluster_view();
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('i'));
    key(&mut state, KeyCode::Char('y'));

    let progress = |state: &mut State, p| event(state, ClusterEvent::Progress(p));
    progress(&mut state, Progress::Started(Component::K3s));
    progress(
        &mut state,
        Progress::Finished(Component::K3s, Outcome::AlreadyDone),
    );
    progress(&mut state, Progress::Started(Component::Namespaces));
    progress(
        &mut state,
        Progress::Log(Component::Namespaces, "created raibid".into()),
    );
    progress(
        &mut state,
        Progress::Finished(Component::Namespaces, Outcome::Applied),
    );
    progress(&mut state, Progress::Started(Component::Redis));
    assert!(
        state.cluster.log.is_empty(),
        "the log shows the running step only"
    );
    for n in 0..CLUSTER_LOG_CAPACITY + 500 {
        progress(
            &mut state,
            Progress::Log(Component::Redis, format!("line {n}")),
        );
    }
    assert_eq!(state.cluster.log.len(), CLUSTER_LOG_CAPACITY);
    assert_eq!(state.cluster.log.front().unwrap(), "line 500");
    assert_eq!(
        state.cluster.log.back().unwrap(),
        &format!("line {}", CLUSTER_LOG_CAPACITY + 499)
    );
    let run = state.cluster.run.as_ref().unwrap();
    assert_eq!(run.current, Some(Component::Redis));
    assert_eq!(
        run.steps,
        [
            (Component::K3s, StepState::Done(Outcome::AlreadyDone)),
            (Component::Namespaces, StepState::Done(Outcome::Applied)),
            (Component::Redis, StepState::Running),
        ]
    );

    progress(
        &mut state,
        Progress::Failed(Component::Redis, "0/1 ready after 300s".into()),
    );
    event(
        &mut state,
        ClusterEvent::RunFinished(Err("Redis (job queue): 0/1 ready after 300s".into())),
    );
    let run = state.cluster.run.as_ref().unwrap();
    assert_eq!(run.current, None);
    assert_eq!(
        run.steps[2],
        (
            Component::Redis,
            StepState::Failed("0/1 ready after 300s".into())
        )
    );
    assert_eq!(
        state.cluster.log.len(),
        CLUSTER_LOG_CAPACITY,
        "kept to read"
    );
    assert!(matches!(&state.cluster.last_result, Some(Err(_))));
    assert!(!state.cluster.is_running());
    assert!(state.busy.is_empty(), "the spinner stops");
    let status = state.status.as_ref().unwrap();
    assert_eq!(status.level, Level::Error);
    assert!(
        status.text.contains("0/1 ready after 300s"),
        "{}",
        status.text
    );
}

#[test]
fn an_unavailable_cluster_is_shown_and_the_console_goes_on() {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('5'));
    let reason = "no kubeconfig found (tried /home/me/.kube/config, /etc/rancher/k3s/k3s.yaml)";
    event(&mut state, ClusterEvent::Unavailable(reason.into()));
    assert_eq!(state.cluster.connection, Connection::Down(reason.into()));
    let status = state.status.as_ref().unwrap();
    assert_eq!(status.level, Level::Warn);
    assert!(status.text.contains("cluster unavailable"));

    // Refresh tries again.
    let commands = key(&mut state, KeyCode::Char('r'));
    assert!(commands.is_empty(), "`r` regenerates drafts, not here");
    let commands = cluster(press(&mut state, KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(commands, [ClusterCommand::Refresh]);
    assert_eq!(state.cluster.connection, Connection::Connecting);

    // The other views work as ever.
    assert_eq!(
        key(&mut state, KeyCode::Char('1')),
        [ClusterCommand::Unwatch]
    );
    assert_eq!(state.view, ViewId::Digests);
    press(&mut state, KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(state.digests.drafts.selected, 1);
    let commands = press(&mut state, KeyCode::Char('4'), KeyModifiers::NONE);
    assert!(
        matches!(&commands[..], [Cmd::Ci(CiCommand::Connect)]),
        "{commands:?}"
    );
}

#[test]
fn the_palette_refreshes_the_cluster_and_there_is_no_filter() {
    let mut state = cluster_view();
    key(&mut state, KeyCode::Char('/'));
    assert!(matches!(state.mode, Mode::Normal), "no filter to open");
    key(&mut state, KeyCode::Char(':'));
    for c in "refresh".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    assert_eq!(key(&mut state, KeyCode::Enter), [ClusterCommand::Refresh]);
    assert_eq!(
        state.cluster.connection,
        Connection::Up(support::cluster_status::SERVER.into()),
        "a connected cluster stays connected while it is read again"
    );
}
