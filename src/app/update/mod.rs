//! The reducer: every input and backend event becomes a change of state plus the commands
//! to send to the actors. No I/O here, so every behaviour is a plain test.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use crate::backend::sparky::actor::{Command, Event};
use crate::backend::sparky::model::{DraftState, PeriodKind};
use crate::backend::sparky::pipeline::{DigestRequest, PeriodSpec, WriterChoice};

use super::keymap::Action;
use super::state::{Busy, Confirm, Editor, Mode, Pending, State, ViewId};

/// Everything the loop feeds the reducer.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Backend(Event),
    /// The spinner's next frame; sent only while something is busy.
    Spin,
    /// The editor's autosave interval passed.
    Autosave,
}

/// The writer the console asks for; set from the config by the loop.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub writer: WriterChoice,
}

const WRITING: &str = "writing";
const PUBLISHING: &str = "publishing";

pub fn update(state: &mut State, settings: Settings, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key(key) => on_key(state, settings, key),
        Msg::Backend(event) => on_event(state, event),
        Msg::Spin => {
            state.spinner = state.spinner.wrapping_add(1);
            Vec::new()
        }
        Msg::Autosave => autosave(state),
    }
}

fn on_key(state: &mut State, settings: Settings, key: KeyEvent) -> Vec<Command> {
    let action = state.keymap.action(&key);
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
            match edit_line(input, &key) {
                LineEdit::Editing(input) => {
                    state.filter.clone_from(&input);
                    state.mode = Mode::Filter(input);
                }
                LineEdit::Done(input) => state.filter = input,
                LineEdit::Cancelled => state.filter.clear(),
            }
            state.selected = 0;
            open_selected(state)
        }
        Mode::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => confirmed(state, confirm.on_yes),
            KeyCode::Char('n') | KeyCode::Esc => declined(state, confirm.on_yes),
            _ => {
                state.mode = Mode::Confirm(confirm);
                Vec::new()
            }
        },
        Mode::Editing(mut editor) => match action {
            Some(Action::Save) => {
                let body = editor.text();
                editor.saved.clone_from(&body);
                let id = editor.id.clone();
                state.mode = Mode::Editing(editor);
                vec![Command::SaveBody { id, body }]
            }
            Some(Action::Back) if editor.is_dirty() => {
                state.mode = Mode::Confirm(Confirm {
                    question: "Discard unsaved edits? (y/n)".into(),
                    on_yes: Pending::DiscardEdits(editor),
                });
                Vec::new()
            }
            Some(Action::Back) => close_editor(state, editor.id),
            _ => {
                editor.textarea.input(key);
                state.mode = Mode::Editing(editor);
                Vec::new()
            }
        },
    }
}

fn on_action(state: &mut State, settings: Settings, action: Option<Action>) -> Vec<Command> {
    let Some(action) = action else {
        return Vec::new();
    };
    if let Some(index) = action.view_index() {
        if let Some(view) = ViewId::ALL.get(index) {
            state.view = *view;
        }
        return Vec::new();
    }
    match action {
        Action::Quit => state.quit = true,
        Action::Help => state.mode = Mode::Help,
        Action::Palette => state.mode = Mode::Palette(String::new()),
        Action::Filter => state.mode = Mode::Filter(state.filter.clone()),
        Action::Back => {
            if !state.filter.is_empty() {
                state.filter.clear();
                state.selected = 0;
                return open_selected(state);
            }
        }
        Action::NextView | Action::PrevView => {
            let n = ViewId::ALL.len();
            let at = ViewId::ALL
                .iter()
                .position(|v| *v == state.view)
                .unwrap_or(0);
            let step = if action == Action::NextView { 1 } else { n - 1 };
            state.view = ViewId::ALL[(at + step) % n];
        }
        Action::Up => return select(state, |at, _| at.saturating_sub(1)),
        Action::Down => return select(state, |at, len| (at + 1).min(len.saturating_sub(1))),
        Action::PageUp => return select(state, |at, _| at.saturating_sub(10)),
        Action::PageDown => return select(state, |at, len| (at + 10).min(len.saturating_sub(1))),
        Action::Top => return select(state, |_, _| 0),
        Action::Bottom => return select(state, |_, len| len.saturating_sub(1)),
        Action::ScrollPreviewUp => state.preview.scroll = state.preview.scroll.saturating_sub(3),
        Action::ScrollPreviewDown => state.preview.scroll = state.preview.scroll.saturating_add(3),
        Action::Edit => return start_editing(state),
        Action::Regenerate => ask(
            state,
            "Write this draft again? Its current text stays in the history. (y/n)",
            Pending::Regenerate,
        ),
        Action::Approve => {
            if let Some(id) = selected_id(state) {
                return vec![Command::SetState {
                    id,
                    state: DraftState::Approved,
                }];
            }
        }
        Action::Reject => ask(state, "Reject this draft? (y/n)", Pending::Reject),
        Action::Publish => match state.selected_state() {
            Some(DraftState::Approved | DraftState::Published) => ask(
                state,
                "Publish this draft to the docs repository? (y/n)",
                Pending::Publish,
            ),
            Some(_) => state.warn("approve the draft before publishing it"),
            None => {}
        },
        Action::NewDigest => return digest(state, settings, PeriodKind::Week),
        Action::CycleTheme => cycle_theme(state),
        Action::Save
        | Action::View1
        | Action::View2
        | Action::View3
        | Action::View4
        | Action::View5 => {}
    }
    Vec::new()
}

fn selected_id(state: &State) -> Option<String> {
    state.selected_draft().map(|d| d.id.clone())
}

/// Asks before an action on the selected draft.
fn ask(state: &mut State, question: &str, pending: fn(String) -> Pending) {
    if let Some(id) = selected_id(state) {
        state.mode = Mode::Confirm(Confirm {
            question: format!("{id}: {question}"),
            on_yes: pending(id),
        });
    }
}

fn select(state: &mut State, to: impl Fn(usize, usize) -> usize) -> Vec<Command> {
    let len = state.visible_drafts().len();
    state.selected = to(state.selected, len);
    open_selected(state)
}

/// Loads the selected draft into the preview unless it is already there.
fn open_selected(state: &mut State) -> Vec<Command> {
    match selected_id(state) {
        Some(id) if state.preview.id.as_deref() != Some(&id) && !state.preview.streaming => {
            state.preview.id = Some(id.clone());
            state.preview.scroll = 0;
            vec![Command::Open(id)]
        }
        _ => Vec::new(),
    }
}

fn digest(state: &mut State, settings: Settings, kind: PeriodKind) -> Vec<Command> {
    if state.busy.iter().any(|b| b.label == WRITING) {
        state.warn("a digest is being written already");
        return Vec::new();
    }
    vec![Command::Digest(DigestRequest {
        period: PeriodSpec::Calendar { kind, date: None },
        repos: Vec::new(),
        writer: settings.writer,
    })]
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

fn start_editing(state: &mut State) -> Vec<Command> {
    let Some(id) = state
        .preview
        .id
        .clone()
        .filter(|_| !state.preview.streaming)
    else {
        return Vec::new();
    };
    if state.preview.recovery.is_some() {
        state.mode = Mode::Confirm(Confirm {
            question: format!("{id}: recover the unsaved edits of an earlier session? (y/n)"),
            on_yes: Pending::RecoverEdits,
        });
        return Vec::new();
    }
    let body = state.preview.text.clone();
    open_editor(state, id, &body, body.clone());
    Vec::new()
}

fn open_editor(state: &mut State, id: String, text: &str, saved: String) {
    // Split on every newline so the text round-trips, trailing newline included.
    let mut textarea = TextArea::new(text.split('\n').map(String::from).collect());
    textarea.set_max_histories(200);
    state.status = None;
    state.mode = Mode::Editing(Box::new(Editor {
        id,
        textarea,
        saved,
        autosaved: state.now,
    }));
}

fn close_editor(state: &mut State, id: String) -> Vec<Command> {
    state.mode = Mode::Normal;
    state.preview.recovery = None;
    // Reload what is stored: the preview shows the saved text, not the abandoned one.
    state.preview.id = Some(id.clone());
    vec![Command::ClearRecovery(id.clone()), Command::Open(id)]
}

fn confirmed(state: &mut State, pending: Pending) -> Vec<Command> {
    match pending {
        Pending::Reject(id) => vec![Command::SetState {
            id,
            state: DraftState::Rejected,
        }],
        Pending::Publish(id) => {
            state.busy.push(Busy {
                label: PUBLISHING.into(),
                since: state.now,
            });
            vec![Command::Publish(id)]
        }
        Pending::Regenerate(id) => {
            vec![Command::Regenerate(id)]
        }
        Pending::DiscardEdits(editor) => close_editor(state, editor.id),
        Pending::RecoverEdits => {
            let (Some(id), Some(text)) = (state.preview.id.clone(), state.preview.recovery.take())
            else {
                return Vec::new();
            };
            let saved = state.preview.text.clone();
            open_editor(state, id, &text, saved);
            Vec::new()
        }
    }
}

fn declined(state: &mut State, pending: Pending) -> Vec<Command> {
    match pending {
        Pending::DiscardEdits(editor) => {
            state.mode = Mode::Editing(editor);
            Vec::new()
        }
        Pending::RecoverEdits => {
            let Some(id) = state.preview.id.clone() else {
                return Vec::new();
            };
            state.preview.recovery = None;
            let body = state.preview.text.clone();
            open_editor(state, id.clone(), &body, body.clone());
            vec![Command::ClearRecovery(id)]
        }
        Pending::Reject(_) | Pending::Publish(_) | Pending::Regenerate(_) => Vec::new(),
    }
}

fn autosave(state: &mut State) -> Vec<Command> {
    let now = state.now;
    match &mut state.mode {
        Mode::Editing(editor) if editor.is_dirty() => {
            editor.autosaved = now;
            vec![Command::Autosave {
                id: editor.id.clone(),
                body: editor.text(),
            }]
        }
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

/// What the palette offers: every action by name, plus commands with an argument.
pub fn palette_entries(state: &State) -> Vec<String> {
    let mut entries: Vec<String> = ["digest day", "digest week", "digest month", "refresh"]
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
        Action::ALL
            .iter()
            .filter(|a| a.view_index().is_none())
            .map(|a| a.name().to_string()),
    );
    entries
}

fn run_palette(state: &mut State, settings: Settings, input: &str) -> Vec<Command> {
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
        "digest" => {
            let kind = match arg {
                "day" => PeriodKind::Day,
                "month" => PeriodKind::Month,
                _ => PeriodKind::Week,
            };
            digest(state, settings, kind)
        }
        "refresh" => vec![Command::Refresh],
        "view" => {
            if let Some(view) = ViewId::ALL
                .iter()
                .find(|v| v.title().eq_ignore_ascii_case(arg))
            {
                state.view = *view;
            }
            Vec::new()
        }
        "theme" => {
            state.theme = arg.to_string();
            state.info(format!("theme: {arg}"));
            Vec::new()
        }
        name => on_action(state, settings, Action::from_name(name)),
    }
}

fn on_event(state: &mut State, event: Event) -> Vec<Command> {
    match event {
        Event::Listed { drafts, problems } => {
            let selected = selected_id(state);
            state.drafts = drafts;
            state.problems = problems;
            if let Some(first) = state.problems.first().cloned() {
                state.warn(first);
            }
            // Keep the same draft selected when the list changes around it.
            let visible = state.visible_drafts();
            state.selected = selected
                .and_then(|id| visible.iter().position(|d| d.id == id))
                .unwrap_or(0)
                .min(visible.len().saturating_sub(1));
            if state.preview.id.is_none() {
                return open_selected(state);
            }
            // A changed state shows in the list; reload the preview only when its draft changed.
            Vec::new()
        }
        Event::Opened {
            id,
            body,
            data,
            recovery,
        } => {
            if state.preview.id.as_deref() == Some(&id) && !state.preview.streaming {
                state.preview.text = body;
                state.preview.data = data;
                if recovery.is_some() {
                    state.warn(format!(
                        "{id} has unsaved edits from an earlier session: press e to recover them"
                    ));
                }
                state.preview.recovery = recovery;
            }
            Vec::new()
        }
        Event::Writing { label } => {
            state.busy.push(Busy {
                label: WRITING.into(),
                since: state.now,
            });
            state.preview.id = None;
            state.preview.text.clear();
            state.preview.data = None;
            state.preview.scroll = 0;
            state.preview.streaming = true;
            state.info(format!("writing the digest of {label}…"));
            Vec::new()
        }
        Event::Token(token) => {
            if state.preview.streaming {
                state.preview.text.push_str(&token);
            }
            Vec::new()
        }
        Event::Written { id, notices } => {
            done(state, WRITING);
            state.preview.streaming = false;
            match notices.first() {
                Some(notice) => state.warn(format!("wrote {id}: {notice}")),
                None => state.info(format!("wrote {id}")),
            }
            state.filter.clear();
            if let Some(at) = state.visible_drafts().iter().position(|d| d.id == id) {
                state.selected = at;
            }
            state.preview.id = Some(id.clone());
            vec![Command::Open(id)]
        }
        Event::Skipped { label } => {
            done(state, WRITING);
            state.preview.streaming = false;
            state.info(format!("no commits in {label}: no digest written"));
            state.preview.id = None;
            open_selected(state)
        }
        Event::Saved { id, unapproved } => {
            if unapproved {
                state.warn(format!("saved {id}; the edit needs approval again"));
            } else {
                state.info(format!("saved {id}"));
            }
            if let Mode::Editing(editor) = &state.mode {
                if editor.id == id {
                    state.preview.text = editor.saved.clone();
                }
            }
            Vec::new()
        }
        Event::StateChanged { id, state: new } => {
            state.info(format!("{id} is {}", new.as_str()));
            Vec::new()
        }
        Event::Published { id, message } => {
            done(state, PUBLISHING);
            state.info(format!("{id}: {message}"));
            Vec::new()
        }
        Event::Failed { action, message } => {
            if action.contains("digest") {
                done(state, WRITING);
                state.preview.streaming = false;
            }
            if action == "publish" {
                done(state, PUBLISHING);
            }
            state.error(format!("could not {action}: {message}"));
            Vec::new()
        }
    }
}

fn done(state: &mut State, label: &str) {
    if let Some(at) = state.busy.iter().position(|b| b.label == label) {
        state.busy.remove(at);
    }
}
