//! The Mirrors view: one row per GitHub-to-Gitea mirror, a sync of the selected one, and
//! the mirrors actor's events.

use crate::backend::mirror::actor::{Command as MirrorsCommand, Event as MirrorsEvent};

use crate::app::keymap::{Action, Binding};
use crate::app::state::{BusyKey, Connection, Level, State, Status};
use crate::app::update::Cmd;

/// The Mirrors view's keys; `S` was the sync key while one map served every view.
pub(crate) const BINDINGS: &[Binding] =
    &[Binding::new(Action::SyncMirror, &["s", "S"], "sync the mirror now").hinted()];

fn mirrors(command: MirrorsCommand) -> Vec<Cmd> {
    vec![Cmd::Mirrors(command)]
}

/// Entering the view starts watching (and sets up the first time, or after a failure);
/// leaving it stops the listing.
pub(crate) fn watch(state: &mut State, on: bool) -> Vec<Cmd> {
    if !on {
        return mirrors(MirrorsCommand::Unwatch);
    }
    state.mirrors.connection.reconnect();
    mirrors(MirrorsCommand::Watch)
}

/// Lists now; unavailable mirrors are tried again.
pub(crate) fn refresh(state: &mut State) -> Vec<Cmd> {
    state.mirrors.connection.reconnect();
    mirrors(MirrorsCommand::Refresh)
}

pub(crate) fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let list = &mut state.mirrors.mirrors;
    match action {
        Action::Back => {
            list.clear_filter();
        }
        Action::SyncMirror => return sync(state),
        _ => {
            list.move_selection(action);
        }
    }
    Vec::new()
}

/// Syncs the selected mirror; one sync at a time.
fn sync(state: &mut State) -> Vec<Cmd> {
    if let Some(going) = &state.mirrors.syncing {
        let going = going.clone();
        state.warn(format!("{going} is syncing; wait for it to finish"));
        return Vec::new();
    }
    if let Connection::Down(reason) = &state.mirrors.connection {
        let reason = reason.clone();
        state.warn(format!("mirrors unavailable: {reason}"));
        return Vec::new();
    }
    let Some(repo) = state
        .mirrors
        .mirrors
        .selected_item()
        .map(|m| m.github.clone())
    else {
        return Vec::new();
    };
    state.mirrors.syncing = Some(repo.clone());
    state.start_busy(BusyKey::MirrorSync, format!("sync {repo}"));
    mirrors(MirrorsCommand::Sync(repo))
}

pub(crate) fn on_event(state: &mut State, event: MirrorsEvent) -> Vec<Cmd> {
    match event {
        MirrorsEvent::Listed(list) => {
            state.mirrors.connection = Connection::Up(());
            state.mirrors.mirrors.replace(list);
        }
        MirrorsEvent::Unavailable(reason) => {
            state.mirrors.connection = Connection::Down(reason.clone());
            state.warn(format!("mirrors unavailable: {reason}"));
        }
        MirrorsEvent::Failed(reason) => {
            let text = format!("listing the mirrors failed: {reason}");
            message(state, Level::Error, text.clone());
            state.error(text);
        }
        MirrorsEvent::Synced(result) => {
            let repo = state.mirrors.syncing.take();
            state.end_busy(BusyKey::MirrorSync);
            let (level, text) = match result {
                Ok(name) => (Level::Info, format!("synced {name}")),
                Err(reason) => (
                    Level::Error,
                    format!(
                        "sync of {} failed: {reason}",
                        repo.as_deref().unwrap_or("the mirror")
                    ),
                ),
            };
            message(state, level, text.clone());
            state.status = Some(Status { level, text });
        }
    }
    Vec::new()
}

fn message(state: &mut State, level: Level, text: String) {
    state.mirrors.last_message = Some(Status { level, text });
}
