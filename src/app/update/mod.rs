//! The reducer: every input and backend event becomes a change of state plus the commands
//! to send to the actors. No I/O here, so every behaviour is a plain test.
//!
//! This module handles the modes (help, palette, filter, confirm, editor) and the keys
//! every view shares; each view's module handles its actions (found through
//! `views::view`) and its actor's events.

use crossterm::event::{KeyCode, KeyEvent};

use crate::backend::ci::actor as ci_actor;
use crate::backend::cluster::actor as cluster_actor;
use crate::backend::mirror::actor as mirror_actor;
use crate::backend::sparky::actor as sparky_actor;
use crate::backend::sparky::pipeline::WriterChoice;

use super::keymap::{Action, Binding};
use super::state::{Confirm, Mode, Pending, State, ViewId};
use crate::views;
use crate::views::ci::update as ci;
use crate::views::cluster::update as cluster;
use crate::views::digests::publish;
use crate::views::digests::update as digests;
use crate::views::mirrors::update as mirrors;

/// The keys every view shares, handled here (the moves and `back` by each view).
pub const GLOBAL_BINDINGS: &[Binding] = &[
    Binding::new(Action::Help, &["?"], "show this help"),
    Binding::new(Action::Palette, &[":"], "open the command palette").hinted(),
    Binding::new(Action::Filter, &["/"], "filter the list"),
    Binding::new(Action::Back, &["esc"], "close, cancel or unfilter"),
    Binding::new(Action::NextView, &["tab"], "next view"),
    Binding::new(Action::PrevView, &["shift-tab"], "previous view"),
    Binding::new(Action::Up, &["k", "up"], "move up"),
    Binding::new(Action::Down, &["j", "down"], "move down"),
    Binding::new(Action::PageUp, &["pageup"], "page up"),
    Binding::new(Action::PageDown, &["pagedown"], "page down"),
    Binding::new(Action::Top, &["g", "home"], "first item"),
    Binding::new(Action::Bottom, &["G", "end"], "last item"),
    Binding::new(Action::CycleTheme, &["t"], "next theme"),
    // `r` writes a draft again in the Digests view.
    Binding::new(Action::Refresh, &["ctrl-r"], "refresh the view"),
    Binding::new(Action::Quit, &["q"], "quit raibid").hinted(),
    Binding::new(Action::View1, &["1"], "show that view"),
    Binding::new(Action::View2, &["2"], "show that view"),
    Binding::new(Action::View3, &["3"], "show that view"),
    Binding::new(Action::View4, &["4"], "show that view"),
    Binding::new(Action::View5, &["5"], "show that view"),
    Binding::new(Action::View6, &["6"], "show that view"),
];

/// The keys `view` offers besides the global ones, declared by the module handling them.
pub fn view_bindings(view: ViewId) -> &'static [Binding] {
    views::view(view).bindings
}

/// What the status line offers for what is on screen: help, the view's keys marked for it,
/// then the global ones marked for it.
pub fn status_hints(state: &State) -> Vec<Action> {
    if let Some(hints) = ci::log_hints(state) {
        return hints.to_vec();
    }
    let hinted = |bindings: &'static [Binding]| {
        bindings
            .iter()
            .filter(|binding| binding.hint)
            .map(|binding| binding.action)
    };
    std::iter::once(Action::Help)
        .chain(hinted(view_bindings(state.view)))
        .chain(hinted(GLOBAL_BINDINGS))
        .collect()
}

/// Everything the loop feeds the reducer: input, each actor's events (the one channel
/// from the actors carries these), and the loop's own timers.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Sparky(sparky_actor::Event),
    Ci(ci_actor::Event),
    Cluster(cluster_actor::Event),
    Mirrors(mirror_actor::Event),
    /// This actor stopped, after its last events; its log says why.
    Stopped(Worker),
    /// The spinner's next frame; sent only while something is busy.
    Spin,
    /// The editor's autosave interval passed.
    Autosave,
}

/// A command for one of the actors.
#[derive(Debug)]
pub enum Cmd {
    Sparky(sparky_actor::Command),
    Ci(ci_actor::Command),
    Cluster(cluster_actor::Command),
    Mirrors(mirror_actor::Command),
}

/// One of the actors, as the console names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    Sparky,
    Ci,
    Cluster,
    Mirrors,
}

impl Worker {
    fn name(self) -> &'static str {
        match self {
            Worker::Sparky => "Sparky",
            Worker::Ci => "CI",
            Worker::Cluster => "cluster",
            Worker::Mirrors => "mirrors",
        }
    }
}

/// The writer the console asks for; set from the config by the loop.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub writer: WriterChoice,
}

pub fn update(state: &mut State, settings: Settings, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(key) => on_key(state, settings, key),
        Msg::Sparky(event) => digests::on_event(state, event),
        Msg::Ci(event) => ci::on_event(state, event),
        Msg::Cluster(event) => cluster::on_event(state, event),
        Msg::Mirrors(event) => mirrors::on_event(state, event),
        Msg::Stopped(worker) => {
            let name = worker.name();
            state.error(format!(
                "the {name} worker stopped; see the log file for why"
            ));
            Vec::new()
        }
        Msg::Spin => {
            state.spinner = state.spinner.wrapping_add(1);
            Vec::new()
        }
        Msg::Autosave => digests::autosave(state),
    }
}

fn on_key(state: &mut State, settings: Settings, key: KeyEvent) -> Vec<Cmd> {
    let action = state.keymap.action(state.view, &key);
    match std::mem::take(&mut state.mode) {
        Mode::Normal => on_action(state, settings, action),
        Mode::Help => {
            if !matches!(action, Some(Action::Back | Action::Help | Action::Quit)) {
                state.mode = Mode::Help;
            }
            Vec::new()
        }
        Mode::Palette(input) => match edit_line(input, &key) {
            LineEdit::Editing(input) => {
                state.mode = Mode::Palette(input);
                Vec::new()
            }
            LineEdit::Done(input) => run_palette(state, settings, input.trim()),
            LineEdit::Cancelled => Vec::new(),
        },
        Mode::Filter(input) => {
            let text = match edit_line(input, &key) {
                LineEdit::Editing(input) => {
                    state.mode = Mode::Filter(input.clone());
                    input
                }
                LineEdit::Done(input) => input,
                LineEdit::Cancelled => String::new(),
            };
            match &views::view(state.view).filter {
                Some(filter) => (filter.set)(state, text),
                None => Vec::new(),
            }
        }
        Mode::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => confirmed(state, confirm.on_yes),
            KeyCode::Char('n') | KeyCode::Esc => declined(state, confirm.on_yes),
            _ => {
                state.mode = Mode::Confirm(confirm);
                Vec::new()
            }
        },
        Mode::Editing(editor) => digests::on_editor_key(state, editor, action, key),
        Mode::Publishing(flow) => publish::on_key(state, flow, action, key),
    }
}

fn on_action(state: &mut State, settings: Settings, action: Option<Action>) -> Vec<Cmd> {
    let Some(action) = action else {
        return Vec::new();
    };
    if let Some(index) = action.view_index() {
        return match ViewId::ALL.get(index) {
            Some(view) => switch_view(state, *view),
            None => Vec::new(),
        };
    }
    match action {
        Action::Quit => state.quit = true,
        Action::Help => state.mode = Mode::Help,
        Action::Palette => state.mode = Mode::Palette(String::new()),
        Action::Filter => {
            if let Some(filter) = &views::view(state.view).filter {
                state.mode = Mode::Filter((filter.current)(state));
            }
        }
        Action::NextView | Action::PrevView => {
            let n = ViewId::ALL.len();
            let at = ViewId::ALL
                .iter()
                .position(|v| *v == state.view)
                .unwrap_or(0);
            let step = if action == Action::NextView { 1 } else { n - 1 };
            return switch_view(state, ViewId::ALL[(at + step) % n]);
        }
        Action::CycleTheme => cycle_theme(state),
        Action::Refresh => return (views::view(state.view).refresh)(state),
        _ => return (views::view(state.view).on_action)(state, settings, action),
    }
    Vec::new()
}

/// Shows `view`: the view left stops watching, the view shown starts (the first CI view
/// shown connects to the queue).
fn switch_view(state: &mut State, view: ViewId) -> Vec<Cmd> {
    let left = std::mem::replace(&mut state.view, view);
    if left == view {
        return Vec::new();
    }
    let mut commands = (views::view(left).watch)(state, false);
    commands.extend((views::view(view).watch)(state, true));
    commands
}

fn cycle_theme(state: &mut State) {
    let names = &state.theme_names;
    if let Some(at) = names.iter().position(|n| *n == state.theme) {
        state.theme = names[(at + 1) % names.len()].clone();
    } else if let Some(first) = names.first() {
        state.theme = first.clone();
    }
    let theme = state.theme.clone();
    state.info(format!("theme: {theme}"));
}

/// Asks before `pending` runs.
pub(crate) fn ask(state: &mut State, question: String, pending: Pending) {
    state.mode = Mode::Confirm(Confirm {
        question,
        on_yes: pending,
    });
}

fn confirmed(state: &mut State, pending: Pending) -> Vec<Cmd> {
    match pending {
        Pending::CancelJob(_) | Pending::RetryJob(_) | Pending::Trigger | Pending::ScaleDown => {
            ci::confirmed(state, pending)
        }
        Pending::ClusterUp { .. } | Pending::ClusterDown(_) => cluster::confirmed(state, pending),
        pending => digests::confirmed(state, pending),
    }
}

fn declined(state: &mut State, pending: Pending) -> Vec<Cmd> {
    match pending {
        Pending::DiscardEdits(_) | Pending::RecoverEdits => digests::declined(state, pending),
        _ => Vec::new(),
    }
}

enum LineEdit {
    Editing(String),
    Done(String),
    Cancelled,
}

/// A one-line input: typing, backspace, enter and esc.
fn edit_line(mut input: String, key: &KeyEvent) -> LineEdit {
    match key.code {
        KeyCode::Enter => LineEdit::Done(input),
        KeyCode::Esc => LineEdit::Cancelled,
        KeyCode::Backspace => {
            input.pop();
            LineEdit::Editing(input)
        }
        KeyCode::Char(c) => {
            input.push(c);
            LineEdit::Editing(input)
        }
        _ => LineEdit::Editing(input),
    }
}

/// What the palette offers: the current view's actions and the global ones by name, plus
/// commands with an argument.
pub fn palette_entries(state: &State) -> Vec<String> {
    // `refresh` is an action, listed below with the others.
    let mut entries: Vec<String> = ["digest day", "digest week", "digest month"]
        .into_iter()
        .map(String::from)
        .collect();
    entries.extend(
        ViewId::ALL
            .iter()
            .map(|v| format!("view {}", v.title().to_lowercase())),
    );
    entries.extend(state.theme_names.iter().map(|t| format!("theme {t}")));
    entries.extend(
        view_bindings(state.view)
            .iter()
            .chain(GLOBAL_BINDINGS)
            .filter(|binding| binding.action.view_index().is_none())
            .map(|binding| binding.action.name().to_string()),
    );
    entries
}

fn run_palette(state: &mut State, settings: Settings, input: &str) -> Vec<Cmd> {
    // `digest KIND WHEN`: the entries list only the current periods.
    if let Some((kind, when)) = input
        .strip_prefix("digest ")
        .and_then(|rest| rest.trim_start().split_once(' '))
    {
        return digests::palette_digest(state, settings, kind, when);
    }
    // An unambiguous prefix runs the one entry it names.
    let entries = palette_entries(state);
    let matching: Vec<&String> = entries.iter().filter(|e| e.starts_with(input)).collect();
    let chosen = match matching.as_slice() {
        _ if entries.iter().any(|e| e == input) => input.to_string(),
        [one] => (*one).clone(),
        _ => {
            state.warn(format!("no single command matches `{input}`"));
            return Vec::new();
        }
    };
    let (verb, arg) = chosen.split_once(' ').unwrap_or((chosen.as_str(), ""));
    match verb {
        "digest" => digests::palette_digest(state, settings, arg, ""),
        "view" => match ViewId::ALL
            .iter()
            .find(|v| v.title().eq_ignore_ascii_case(arg))
        {
            Some(view) => switch_view(state, *view),
            None => Vec::new(),
        },
        "theme" => {
            state.theme = arg.to_string();
            state.info(format!("theme: {arg}"));
            Vec::new()
        }
        name => on_action(state, settings, Action::from_name(name)),
    }
}
