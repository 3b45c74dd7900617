//! The console's reducer for the Mirrors view: keys and mirrors events in, state and
//! mirrors actor commands out; and the actor without the config it needs.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::{Connection, Level, Mode, State, ViewId};
use raibid::app::update::{Cmd, Msg, Settings, update};
use raibid::backend::actor::Actor;
use raibid::backend::mirror::actor::{
    Command as MirrorsCommand, Event as MirrorsEvent, Setup, spawn,
};
use raibid::backend::sparky::pipeline::WriterChoice;
use raibid::config::{Config, Secret};
use tokio::sync::mpsc::UnboundedReceiver;

const SETTINGS: Settings = Settings {
    writer: WriterChoice::Builtin,
};

/// The commands for the mirrors actor; these tests expect no others.
fn mirrors(commands: Vec<Cmd>) -> Vec<MirrorsCommand> {
    commands
        .into_iter()
        .map(|c| match c {
            Cmd::Mirrors(command) => command,
            other => panic!("unexpected command {other:?}"),
        })
        .collect()
}

fn press(state: &mut State, code: KeyCode, modifiers: KeyModifiers) -> Vec<Cmd> {
    update(state, SETTINGS, Msg::Key(KeyEvent::new(code, modifiers)))
}

fn key(state: &mut State, code: KeyCode) -> Vec<MirrorsCommand> {
    mirrors(press(state, code, KeyModifiers::NONE))
}

fn event(state: &mut State, event: MirrorsEvent) -> Vec<MirrorsCommand> {
    mirrors(update(state, SETTINGS, Msg::Mirrors(event)))
}

/// The Mirrors view with the fixture's mirrors listed.
fn listed() -> State {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('6'));
    event(
        &mut state,
        MirrorsEvent::Listed(support::mirror_status::mirrors()),
    );
    state
}

fn selected(state: &State) -> &str {
    &state
        .mirrors
        .mirrors
        .selected_item()
        .expect("a selection")
        .github
}

#[test]
fn the_mirrors_are_watched_only_while_their_view_is_shown() {
    let mut state = support::state();
    assert_eq!(state.mirrors.connection, Connection::NotYet);
    for digit in ['2', '5', '1'] {
        let commands = press(&mut state, KeyCode::Char(digit), KeyModifiers::NONE);
        assert!(
            !commands.iter().any(|c| matches!(c, Cmd::Mirrors(_))),
            "other views leave the mirrors alone: {commands:?}"
        );
    }
    assert_eq!(key(&mut state, KeyCode::Char('6')), [MirrorsCommand::Watch]);
    assert_eq!(state.view, ViewId::Mirrors);
    assert_eq!(state.view.title(), "Mirrors");
    assert_eq!(state.mirrors.connection, Connection::Connecting);
    assert!(
        key(&mut state, KeyCode::Char('6')).is_empty(),
        "showing it again changes nothing"
    );
    // It is the last view: Tab wraps to the first one, Shift-Tab comes back.
    assert_eq!(key(&mut state, KeyCode::Tab), [MirrorsCommand::Unwatch]);
    assert_eq!(state.view, ViewId::Digests);
    assert_eq!(key(&mut state, KeyCode::BackTab), [MirrorsCommand::Watch]);
    assert_eq!(state.view, ViewId::Mirrors);
    // From the Cluster view next door, one stops and the other starts.
    let commands = press(&mut state, KeyCode::Char('5'), KeyModifiers::NONE);
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Cmd::Mirrors(MirrorsCommand::Unwatch))),
        "{commands:?}"
    );
    let commands = press(&mut state, KeyCode::Tab, KeyModifiers::NONE);
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Cmd::Mirrors(MirrorsCommand::Watch))),
        "{commands:?}"
    );
}

#[test]
fn the_palette_shows_the_view_by_name() {
    let mut state = support::state();
    key(&mut state, KeyCode::Char(':'));
    for c in "view mirrors".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    assert_eq!(key(&mut state, KeyCode::Enter), [MirrorsCommand::Watch]);
    assert_eq!(state.view, ViewId::Mirrors);
}

#[test]
fn a_list_fills_the_rows_and_the_selection_moves_over_them() {
    let mut state = listed();
    assert_eq!(state.mirrors.connection, Connection::Up(()));
    assert_eq!(state.mirrors.mirrors.items.len(), 5);
    assert_eq!(state.mirrors.stale_count(), 2);
    assert_eq!(selected(&state), "raibid-labs/raibid");
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "raibid-labs/sparky-prompts");
    for _ in 0..10 {
        key(&mut state, KeyCode::Down);
    }
    assert_eq!(selected(&state), "other-org/tools");
    key(&mut state, KeyCode::Char('k'));
    assert_eq!(
        selected(&state),
        "raibid-labs/legacy-website-with-a-rather-long-name"
    );
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(state.mirrors.mirrors.selected, 0);
    key(&mut state, KeyCode::Char('G'));
    assert_eq!(state.mirrors.mirrors.selected, 4);
}

#[test]
fn a_new_list_keeps_the_selection_on_the_same_mirror() {
    let mut state = listed();
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "raibid-labs/docs");
    let mut reordered = support::mirror_status::mirrors();
    reordered.reverse();
    event(&mut state, MirrorsEvent::Listed(reordered));
    assert_eq!(selected(&state), "raibid-labs/docs");
    // A shorter list without it keeps the selection within the rows.
    key(&mut state, KeyCode::Char('g'));
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "raibid-labs/sparky-prompts");
    let mut shorter = support::mirror_status::mirrors();
    shorter.truncate(2);
    event(&mut state, MirrorsEvent::Listed(shorter));
    assert_eq!(state.mirrors.mirrors.selected, 1);
    event(&mut state, MirrorsEvent::Listed(Vec::new()));
    assert_eq!(state.mirrors.mirrors.selected, 0);
    assert!(
        key(&mut state, KeyCode::Char('S')).is_empty(),
        "no row to sync"
    );
}

#[test]
fn shift_s_syncs_the_selected_mirror_and_reports_how_it_went() {
    let mut state = listed();
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(
        key(&mut state, KeyCode::Char('S')),
        [MirrorsCommand::Sync("raibid-labs/docs".into())]
    );
    assert_eq!(state.mirrors.syncing.as_deref(), Some("raibid-labs/docs"));
    assert_eq!(state.busy.len(), 1, "the spinner turns while it syncs");
    // One at a time.
    key(&mut state, KeyCode::Char('j'));
    assert!(key(&mut state, KeyCode::Char('S')).is_empty());
    assert_eq!(state.status.as_ref().unwrap().level, Level::Warn);

    event(&mut state, MirrorsEvent::Synced(Ok("mirrors/docs".into())));
    assert_eq!(state.mirrors.syncing, None);
    assert!(state.busy.is_empty());
    let message = state.mirrors.last_message.as_ref().expect("a message");
    assert_eq!(message.level, Level::Info);
    assert_eq!(message.text, "synced mirrors/docs");
    assert_eq!(state.status.as_ref().unwrap().text, "synced mirrors/docs");

    // A failure names the mirror and the reason; `s` syncs too, as in k9s.
    assert_eq!(
        key(&mut state, KeyCode::Char('s')),
        [MirrorsCommand::Sync("raibid-labs/sparky-prompts".into())]
    );
    event(
        &mut state,
        MirrorsEvent::Synced(Err("Gitea answered 500".into())),
    );
    let message = state.mirrors.last_message.as_ref().unwrap();
    assert_eq!(message.level, Level::Error);
    assert_eq!(
        message.text,
        "sync of raibid-labs/sparky-prompts failed: Gitea answered 500"
    );
    assert!(state.busy.is_empty());
}

#[test]
fn s_syncs_here_and_still_sorts_the_jobs_in_their_view() {
    let mut state = listed();
    assert_eq!(
        key(&mut state, KeyCode::Char('s')),
        [MirrorsCommand::Sync("raibid-labs/raibid".into())]
    );
    press(&mut state, KeyCode::Char('4'), KeyModifiers::NONE);
    press(&mut state, KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(state.status.as_ref().unwrap().text, "jobs sorted by state");
    assert_eq!(state.mirrors.syncing.as_deref(), Some("raibid-labs/raibid"));
}

#[test]
fn ctrl_r_lists_again_and_retries_when_unavailable() {
    let mut state = listed();
    let commands = mirrors(press(&mut state, KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(commands, [MirrorsCommand::Refresh]);
    assert_eq!(state.mirrors.connection, Connection::Up(()));

    event(
        &mut state,
        MirrorsEvent::Unavailable("github.token is not set".into()),
    );
    let commands = mirrors(press(&mut state, KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(commands, [MirrorsCommand::Refresh]);
    assert_eq!(state.mirrors.connection, Connection::Connecting);
}

#[test]
fn the_filter_matches_github_and_gitea_names() {
    let mut state = listed();
    key(&mut state, KeyCode::Char('/'));
    for c in "PROMPTS".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    key(&mut state, KeyCode::Enter);
    assert!(matches!(state.mode, Mode::Normal));
    let visible = state.mirrors.mirrors.visible();
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0].github, "raibid-labs/sparky-prompts");
    assert_eq!(
        key(&mut state, KeyCode::Char('S')),
        [MirrorsCommand::Sync("raibid-labs/sparky-prompts".into())],
        "the sync is of the row selected in the filtered list"
    );
    key(&mut state, KeyCode::Esc);
    assert!(state.mirrors.mirrors.filter.is_empty());
    assert_eq!(state.mirrors.mirrors.visible().len(), 5);
    // The drafts' filter is left alone.
    assert!(state.digests.drafts.filter.is_empty());
}

#[test]
fn unavailable_mirrors_are_shown_and_the_other_views_go_on() {
    let mut state = support::state();
    key(&mut state, KeyCode::Char('6'));
    let reason = "gitea.token is not set (RAIBID_GITEA_TOKEN)";
    event(&mut state, MirrorsEvent::Unavailable(reason.into()));
    assert_eq!(state.mirrors.connection, Connection::Down(reason.into()));
    let status = state.status.as_ref().expect("a status");
    assert_eq!(status.level, Level::Warn);
    assert!(status.text.contains(reason), "{}", status.text);
    assert!(key(&mut state, KeyCode::Char('S')).is_empty());

    // The drafts still work.
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(state.view, ViewId::Digests);
    let commands = press(&mut state, KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(state.digests.drafts.selected, 1);
    assert!(!commands.iter().any(|c| matches!(c, Cmd::Mirrors(_))));
}

#[test]
fn a_failed_list_keeps_the_rows_and_says_why() {
    let mut state = listed();
    event(
        &mut state,
        MirrorsEvent::Failed("GET /api/v1/orgs/mirrors/repos: connection refused".into()),
    );
    assert_eq!(state.mirrors.mirrors.items.len(), 5);
    assert_eq!(state.mirrors.connection, Connection::Up(()));
    let message = state.mirrors.last_message.as_ref().unwrap();
    assert_eq!(message.level, Level::Error);
    assert!(message.text.contains("connection refused"));
}

#[test]
fn the_sync_key_is_in_the_keymap_and_the_help() {
    let state = support::state();
    assert_eq!(
        state.keymap.label(raibid::app::keymap::Action::SyncMirror),
        "s/S"
    );
    assert_eq!(
        raibid::app::keymap::Action::from_name("sync-mirror"),
        Some(raibid::app::keymap::Action::SyncMirror)
    );
    assert_eq!(
        raibid::app::keymap::Action::from_name("view-6")
            .and_then(|a| a.view_index())
            .map(|i| ViewId::ALL[i]),
        Some(ViewId::Mirrors)
    );
    assert!(matches!(state.mode, Mode::Normal));
}

async fn next(events: &mut UnboundedReceiver<MirrorsEvent>) -> MirrorsEvent {
    tokio::time::timeout(Duration::from_secs(30), events.recv())
        .await
        .expect("an event in time")
        .expect("the actor is running")
}

#[tokio::test]
async fn the_actor_says_which_key_is_missing_and_refuses_a_sync() {
    let mut config = Config::default();
    config.gitea.url = String::new();
    config.gitea.token = Secret::None;
    config.github.token = Secret::None;
    let setup = Setup {
        config: Arc::new(config),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let Actor { commands, handle } = spawn(setup, events_tx.into());

    commands.send(MirrorsCommand::Watch).unwrap();
    match next(&mut events).await {
        MirrorsEvent::Unavailable(reason) => assert!(
            ["gitea.url", "gitea.token", "github.token"]
                .iter()
                .any(|key| reason.contains(key)),
            "{reason}"
        ),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    commands
        .send(MirrorsCommand::Sync("raibid-labs/raibid".into()))
        .unwrap();
    assert!(matches!(
        next(&mut events).await,
        MirrorsEvent::Unavailable(_)
    ));
    assert_eq!(
        next(&mut events).await,
        MirrorsEvent::Synced(Err("the mirrors are unavailable".into()))
    );
    drop(commands);
    handle.await.unwrap();
}

/// A config with Gitea only: no github.token, no webhook settings.
fn gitea_only(dir: &std::path::Path, gitea: &support::gitea_api::FakeGiteaApi) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let token = dir.join("gitea-token");
    std::fs::write(&token, gitea.token()).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut config = Config::default();
    config.gitea.url = gitea.url();
    config.gitea.token = Secret::File(token);
    config.github.token = Secret::None;
    // Where a GitHub client would put its cache: the view must never make one.
    config.github.cache_dir = dir.join("github");
    config.mirror.gitea_org = "mirrors".into();
    config
}

#[tokio::test]
async fn the_actor_needs_only_gitea_and_takes_a_sync_right_after_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    let gitea = support::gitea_api::FakeGiteaApi::start("gitea-t0ken").await;
    gitea.add_repo(
        "mirrors",
        "raibid",
        true,
        "https://github.com/raibid-labs/raibid.git",
        support::gitea_api::NEVER,
    );
    let setup = Setup {
        config: Arc::new(gitea_only(dir.path(), &gitea)),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let Actor { commands, handle } = spawn(setup, events_tx.into());

    commands.send(MirrorsCommand::Watch).unwrap();
    let MirrorsEvent::Listed(list) = next(&mut events).await else {
        panic!("expected the list");
    };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].github, "raibid-labs/raibid");
    assert_eq!(list[0].gitea, "mirrors/raibid");

    // The view: S, then Synced; S again at once must be accepted by the actor as well.
    let mut state = support::state();
    key(&mut state, KeyCode::Char('6'));
    event(&mut state, MirrorsEvent::Listed(list));
    for round in 0..3 {
        let sent = key(&mut state, KeyCode::Char('S'));
        assert_eq!(
            sent,
            [MirrorsCommand::Sync("raibid-labs/raibid".into())],
            "round {round}"
        );
        for command in sent {
            commands.send(command).unwrap();
        }
        let synced = loop {
            match next(&mut events).await {
                MirrorsEvent::Listed(_) => continue,
                other => break other,
            }
        };
        assert_eq!(
            synced,
            MirrorsEvent::Synced(Ok("mirrors/raibid".into())),
            "round {round}"
        );
        event(&mut state, synced);
        assert_eq!(state.mirrors.syncing, None);
        let message = state.mirrors.last_message.as_ref().unwrap();
        assert_eq!(message.text, "synced mirrors/raibid", "round {round}");
    }
    assert_eq!(gitea.syncs(), ["mirrors/raibid"; 3]);
    assert!(
        !dir.path().join("github").exists(),
        "nothing is kept for GitHub"
    );
    drop(commands);
    handle.await.unwrap();
}
