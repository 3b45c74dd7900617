//! The Mirrors view: one row per GitHub-to-Gitea mirror, a sync of the selected one, and
//! the mirrors actor's events.

use crate::backend::mirror::actor::{Command as MirrorsCommand, Event as MirrorsEvent};

use super::Cmd;
use crate::app::keymap::Action;
use crate::app::state::{BusyKey, Level, MirrorsConnection, State, Status};

fn mirrors(command: MirrorsCommand) -> Vec<Cmd> {
    vec![Cmd::Mirrors(command)]
}

/// Entering the view starts watching (and sets up the first time, or after a failure);
/// leaving it stops the listing.
pub(super) fn watch(state: &mut State, on: bool) -> Vec<Cmd> {
    if !on {
        return mirrors(MirrorsCommand::Unwatch);
    }
    loading(state);
    mirrors(MirrorsCommand::Watch)
}

/// Lists now; unavailable mirrors are tried again.
pub(super) fn refresh(state: &mut State) -> Vec<Cmd> {
    loading(state);
    mirrors(MirrorsCommand::Refresh)
}

/// The actor sets up on `Watch` and `Refresh` unless it already has.
fn loading(state: &mut State) {
    if state.mirrors.connection != MirrorsConnection::Ready {
        state.mirrors.connection = MirrorsConnection::Loading;
    }
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    match action {
        Action::Back if !state.mirrors.filter.is_empty() => {
            state.mirrors.filter.clear();
            state.mirrors.selected = 0;
        }
        Action::Up => select(state, |at, _| at.saturating_sub(1)),
        Action::Down => select(state, |at, len| (at + 1).min(len.saturating_sub(1))),
        Action::PageUp => select(state, |at, _| at.saturating_sub(10)),
        Action::PageDown => select(state, |at, len| (at + 10).min(len.saturating_sub(1))),
        Action::Top => select(state, |_, _| 0),
        Action::Bottom => select(state, |_, len| len.saturating_sub(1)),
        Action::SyncMirror => return sync(state),
        _ => {}
    }
    Vec::new()
}

fn select(state: &mut State, to: impl Fn(usize, usize) -> usize) {
    let len = state.mirrors.visible_mirrors().len();
    state.mirrors.selected = to(state.mirrors.selected, len);
}

/// Syncs the selected mirror; one sync at a time.
fn sync(state: &mut State) -> Vec<Cmd> {
    if let Some(going) = &state.mirrors.syncing {
        let going = going.clone();
        state.warn(format!("{going} is syncing; wait for it to finish"));
        return Vec::new();
    }
    if let MirrorsConnection::Unavailable(reason) = &state.mirrors.connection {
        let reason = reason.clone();
        state.warn(format!("mirrors unavailable: {reason}"));
        return Vec::new();
    }
    let Some(repo) = state.mirrors.selected_mirror().map(|m| m.github.clone()) else {
        return Vec::new();
    };
    state.mirrors.syncing = Some(repo.clone());
    state.start_busy(BusyKey::MirrorSync, format!("sync {repo}"));
    mirrors(MirrorsCommand::Sync(repo))
}

pub(super) fn on_event(state: &mut State, event: MirrorsEvent) -> Vec<Cmd> {
    match event {
        MirrorsEvent::Listed(list) => {
            let mirrors = &mut state.mirrors;
            // The selection stays on the same mirror when the list changes under it.
            let selected = mirrors.selected_mirror().map(|m| m.github.clone());
            mirrors.connection = MirrorsConnection::Ready;
            mirrors.mirrors = list;
            let visible = mirrors.visible_mirrors();
            mirrors.selected = selected
                .and_then(|github| visible.iter().position(|m| m.github == github))
                .unwrap_or(mirrors.selected)
                .min(visible.len().saturating_sub(1));
        }
        MirrorsEvent::Unavailable(reason) => {
            state.mirrors.connection = MirrorsConnection::Unavailable(reason.clone());
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
