//! The Digests and Activity views: drafts, the preview, the editor, and the Sparky
//! actor's events.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use crate::backend::sparky::actor::{Command, Event, Op};
use crate::backend::sparky::model::{DraftKind, DraftState, Period, PeriodKind};
use crate::backend::sparky::period;
use crate::backend::sparky::pipeline::{DigestRequest, PeriodSpec};

use super::Editor;
use super::publish;
use crate::app::keymap::{Action, Binding};
use crate::app::state::{BusyKey, Confirm, Mode, Pending, State};
use crate::app::update::{Cmd, Settings, ask};

/// The keys of the Digests and Activity views and of the editor.
pub(crate) const BINDINGS: &[Binding] = &[
    Binding::new(Action::Edit, &["e"], "edit the selected draft").hinted(),
    Binding::new(Action::Approve, &["a"], "approve the selected draft").hinted(),
    Binding::new(Action::Publish, &["p"], "publish the selected draft").hinted(),
    Binding::new(Action::NewDigest, &["n"], "write the period's digest").hinted(),
    Binding::new(Action::PrevPeriod, &["["], "previous period").hinted(),
    Binding::new(Action::NextPeriod, &["]"], "next period").hinted(),
    // `p` publishes; the shifted key picks the period's kind.
    Binding::new(Action::CyclePeriodKind, &["P"], "days, weeks or months"),
    Binding::new(Action::Regenerate, &["r"], "write the draft again"),
    Binding::new(Action::Reject, &["x"], "reject the selected draft"),
    Binding::new(Action::ScrollPreviewUp, &["K"], "scroll the preview up"),
    Binding::new(Action::ScrollPreviewDown, &["J"], "scroll the preview down"),
    Binding::new(Action::Save, &["ctrl-s"], "save the edited draft"),
];

fn sparky(commands: impl IntoIterator<Item = Command>) -> Vec<Cmd> {
    commands.into_iter().map(Cmd::Sparky).collect()
}

pub(crate) fn on_action(state: &mut State, settings: Settings, action: Action) -> Vec<Cmd> {
    if state.digests.drafts.move_selection(action) {
        return open_selected(state);
    }
    match action {
        Action::Back if state.digests.drafts.clear_filter() => return open_selected(state),
        Action::ScrollPreviewUp => {
            state.digests.preview.scroll = state.digests.preview.scroll.saturating_sub(3)
        }
        Action::ScrollPreviewDown => {
            state.digests.preview.scroll = state.digests.preview.scroll.saturating_add(3)
        }
        Action::Edit => start_editing(state),
        Action::Regenerate => ask_about_selected(
            state,
            "Write this draft again? Its current text stays in the history. (y/n)",
            Pending::Regenerate,
        ),
        Action::Approve => {
            if let Some(id) = selected_id(state) {
                return approve(id, false);
            }
        }
        Action::Reject => ask_about_selected(state, "Reject this draft? (y/n)", Pending::Reject),
        // One publication at a time: two at once could both miss what the other posts.
        Action::Publish if state.is_busy(BusyKey::Publishing) => {
            state.warn("a draft is being published: wait for its answers");
        }
        Action::Publish => match (state.digests.selected_state(), selected_id(state)) {
            (Some(DraftState::Approved | DraftState::Published), Some(id)) => {
                return sparky([Command::PlanPublish {
                    id,
                    channels: Vec::new(),
                }]);
            }
            (Some(_), _) => state.warn("approve the draft before publishing it"),
            _ => {}
        },
        Action::NewDigest => return digest(state, settings),
        Action::PrevPeriod => return select_period(state, period::previous(&state.digests.period)),
        Action::NextPeriod => return select_period(state, period::next(&state.digests.period)),
        Action::CyclePeriodKind => {
            let kind = match state.digests.period.kind {
                PeriodKind::Day => PeriodKind::Week,
                PeriodKind::Week => PeriodKind::Month,
                PeriodKind::Month | PeriodKind::Custom => PeriodKind::Day,
            };
            // Today while the period holds it, else the period's first day.
            let holds_now =
                state.digests.period.since <= state.now && state.now < state.digests.period.until;
            let day = if holds_now {
                state.digests.today(state.now)
            } else {
                first_day(state)
            };
            let next = period::calendar(kind, day, &state.digests.time_zone);
            return select_period(state, next);
        }
        _ => {}
    }
    Vec::new()
}

/// The actor checks the draft and asks back when it finds something, unless
/// `despite_findings`.
fn approve(id: String, despite_findings: bool) -> Vec<Cmd> {
    sparky([Command::Approve {
        id,
        despite_findings,
    }])
}

fn selected_id(state: &State) -> Option<String> {
    state.digests.drafts.selected_item().map(|d| d.id.clone())
}

fn ask_about_selected(state: &mut State, question: &str, pending: fn(String) -> Pending) {
    if let Some(id) = selected_id(state) {
        ask(state, format!("{id}: {question}"), pending(id));
    }
}

/// Lists the drafts again.
pub(crate) fn refresh(_: &mut State) -> Vec<Cmd> {
    sparky([Command::Refresh])
}

pub(crate) fn set_filter(state: &mut State, text: String) -> Vec<Cmd> {
    state.digests.drafts.set_filter(text);
    open_selected(state)
}

/// Loads the selected draft into the preview unless it is already there.
pub(crate) fn open_selected(state: &mut State) -> Vec<Cmd> {
    match selected_id(state) {
        Some(id)
            if state.digests.preview.id.as_deref() != Some(&id)
                && !state.digests.preview.streaming =>
        {
            state.digests.preview.id = Some(id.clone());
            state.digests.preview.scroll = 0;
            sparky([Command::Open(id)])
        }
        _ => Vec::new(),
    }
}

fn first_day(state: &State) -> jiff::civil::Date {
    state
        .digests
        .period
        .since
        .to_zoned(state.digests.time_zone.clone())
        .date()
}

/// Makes `period` the one the digest action writes, and selects its digest when listed.
fn select_period(state: &mut State, period: Period) -> Vec<Cmd> {
    let kind = DraftKind::for_period(period.kind);
    let listed = state
        .digests
        .drafts
        .visible()
        .iter()
        .position(|d| d.front.period == period.label && d.front.kind == kind);
    state.digests.period = period;
    match listed {
        Some(at) => {
            state.digests.drafts.selected = at;
            open_selected(state)
        }
        None => Vec::new(),
    }
}

/// Writes the digest of the selected period.
pub(crate) fn digest(state: &mut State, settings: Settings) -> Vec<Cmd> {
    if state.is_busy(BusyKey::Writing) {
        state.warn("a digest is being written already");
        return Vec::new();
    }
    sparky([Command::Digest(DigestRequest {
        period: PeriodSpec::Calendar {
            kind: state.digests.period.kind,
            date: Some(first_day(state)),
        },
        repos: Vec::new(),
        writer: settings.writer,
        kind: None,
    })])
}

/// The palette's `digest KIND [WHEN]`: selects the period `WHEN` names (the current one
/// when empty) and writes its digest.
pub(crate) fn palette_digest(
    state: &mut State,
    settings: Settings,
    kind: &str,
    when: &str,
) -> Vec<Cmd> {
    let kind = match kind {
        "day" => PeriodKind::Day,
        "week" => PeriodKind::Week,
        "month" => PeriodKind::Month,
        other => {
            state.warn(format!("`{other}` is no period: day, week or month"));
            return Vec::new();
        }
    };
    match period::named(
        kind,
        when,
        state.digests.today(state.now),
        &state.digests.time_zone,
    ) {
        Ok(named) => {
            let mut commands = select_period(state, named);
            commands.extend(digest(state, settings));
            commands
        }
        Err(e) => {
            state.warn(e.to_string());
            Vec::new()
        }
    }
}

fn start_editing(state: &mut State) {
    let Some(id) = state
        .digests
        .preview
        .id
        .clone()
        .filter(|_| !state.digests.preview.streaming)
    else {
        return;
    };
    if state.digests.preview.recovery.is_some() {
        state.mode = Mode::Confirm(Confirm {
            question: format!("{id}: recover the unsaved edits of an earlier session? (y/n)"),
            on_yes: Pending::RecoverEdits,
        });
        return;
    }
    let body = state.digests.preview.text.clone();
    open_editor(state, id, &body, body.clone());
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

fn close_editor(state: &mut State, id: String) -> Vec<Cmd> {
    state.mode = Mode::Normal;
    state.digests.preview.recovery = None;
    // Reload what is stored: the preview shows the saved text, not the abandoned one.
    state.digests.preview.id = Some(id.clone());
    sparky([Command::ClearRecovery(id.clone()), Command::Open(id)])
}

/// Keys while the editor is open: save, close, or text for the editor.
pub(crate) fn on_editor_key(
    state: &mut State,
    mut editor: Box<Editor>,
    action: Option<Action>,
    key: KeyEvent,
) -> Vec<Cmd> {
    match action {
        Some(Action::Save) => {
            let body = editor.text();
            editor.saved.clone_from(&body);
            let id = editor.id.clone();
            state.mode = Mode::Editing(editor);
            sparky([Command::SaveBody { id, body }])
        }
        Some(Action::Back) if editor.is_dirty() => {
            ask(
                state,
                "Discard unsaved edits? (y/n)".into(),
                Pending::DiscardEdits(editor),
            );
            Vec::new()
        }
        Some(Action::Back) => close_editor(state, editor.id),
        _ => {
            editor.textarea.input(key);
            state.mode = Mode::Editing(editor);
            Vec::new()
        }
    }
}

pub(crate) fn autosave(state: &mut State) -> Vec<Cmd> {
    let now = state.now;
    match &mut state.mode {
        Mode::Editing(editor) if editor.is_dirty() => {
            editor.autosaved = now;
            sparky([Command::Autosave {
                id: editor.id.clone(),
                body: editor.text(),
            }])
        }
        _ => Vec::new(),
    }
}

pub(crate) fn confirmed(state: &mut State, pending: Pending) -> Vec<Cmd> {
    match pending {
        Pending::Approve(id) => approve(id, true),
        Pending::Reject(id) => sparky([Command::SetState {
            id,
            state: DraftState::Rejected,
        }]),
        Pending::Regenerate(id) => sparky([Command::Regenerate(id)]),
        Pending::DiscardEdits(editor) => close_editor(state, editor.id),
        Pending::RecoverEdits => {
            let (Some(id), Some(text)) = (
                state.digests.preview.id.clone(),
                state.digests.preview.recovery.take(),
            ) else {
                return Vec::new();
            };
            let saved = state.digests.preview.text.clone();
            open_editor(state, id, &text, saved);
            Vec::new()
        }
        Pending::CancelJob(_)
        | Pending::RetryJob(_)
        | Pending::Trigger
        | Pending::ScaleDown
        | Pending::ClusterUp { .. }
        | Pending::ClusterDown(_) => Vec::new(),
    }
}

pub(crate) fn declined(state: &mut State, pending: Pending) -> Vec<Cmd> {
    match pending {
        Pending::DiscardEdits(editor) => {
            state.mode = Mode::Editing(editor);
            Vec::new()
        }
        Pending::RecoverEdits => {
            let Some(id) = state.digests.preview.id.clone() else {
                return Vec::new();
            };
            state.digests.preview.recovery = None;
            let body = state.digests.preview.text.clone();
            open_editor(state, id.clone(), &body, body.clone());
            sparky([Command::ClearRecovery(id)])
        }
        _ => Vec::new(),
    }
}

pub(crate) fn on_event(state: &mut State, event: Event) -> Vec<Cmd> {
    match event {
        Event::Listed { drafts, problems } => {
            state.digests.drafts.replace(drafts);
            state.digests.problems = problems;
            if let Some(first) = state.digests.problems.first().cloned() {
                state.warn(first);
            }
            if state.digests.preview.id.is_none() {
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
            findings,
        } => {
            if state.digests.preview.id.as_deref() == Some(&id) && !state.digests.preview.streaming
            {
                state.digests.preview.text = body;
                state.digests.preview.data = data;
                state.digests.preview.findings = findings;
                if recovery.is_some() {
                    state.warn(format!(
                        "{id} has unsaved edits from an earlier session: press e to recover them"
                    ));
                }
                state.digests.preview.recovery = recovery;
            }
            Vec::new()
        }
        Event::Writing { label } => {
            state.start_busy(BusyKey::Writing, "writing");
            state.digests.preview.id = None;
            state.digests.preview.text.clear();
            state.digests.preview.data = None;
            state.digests.preview.findings.clear();
            state.digests.preview.scroll = 0;
            state.digests.preview.streaming = true;
            state.info(format!("writing the digest of {label}…"));
            Vec::new()
        }
        Event::Notice(notice) => {
            state.warn(notice);
            Vec::new()
        }
        Event::Token(token) => {
            if state.digests.preview.streaming {
                state.digests.preview.text.push_str(&token);
            }
            Vec::new()
        }
        Event::Written { id, notices } => {
            state.end_busy(BusyKey::Writing);
            state.digests.preview.streaming = false;
            match notices.first() {
                Some(notice) => state.warn(format!("wrote {id}: {notice}")),
                None => state.info(format!("wrote {id}")),
            }
            state.digests.drafts.filter.clear();
            state.digests.drafts.select(&id);
            state.digests.preview.id = Some(id.clone());
            sparky([Command::Open(id)])
        }
        Event::Skipped { label } => {
            state.end_busy(BusyKey::Writing);
            state.digests.preview.streaming = false;
            state.info(format!("no commits in {label}: no digest written"));
            state.digests.preview.id = None;
            open_selected(state)
        }
        Event::Empty { label, last_active } => match last_active {
            Some(active) => {
                let offer = format!(
                    "{label} has no commits; last activity in {}: press {} to write it",
                    active.label,
                    state.keymap.label(Action::NewDigest)
                );
                let commands = select_period(state, active);
                state.info(offer);
                commands
            }
            None => {
                state.info(format!(
                    "{label} has no commits, and no period before it had any"
                ));
                Vec::new()
            }
        },
        Event::Saved { id, unapproved } => {
            if unapproved {
                state.warn(format!("saved {id}; the edit needs approval again"));
            } else {
                state.info(format!("saved {id}"));
            }
            if let Mode::Editing(editor) = &state.mode
                && editor.id == id
            {
                state.digests.preview.text = editor.saved.clone();
            }
            Vec::new()
        }
        Event::StateChanged { id, state: new } => {
            state.info(format!("{id} is {}", new.as_str()));
            Vec::new()
        }
        Event::ApprovalHasFindings { id, findings } => {
            let question = format!(
                "{id}: the checker found {findings} problem{} (see the preview). Approve anyway? (y/n)",
                if findings == 1 { "" } else { "s" }
            );
            ask(state, question, Pending::Approve(id));
            Vec::new()
        }
        Event::PublishPlanned(plan) => {
            publish::planned(state, plan);
            Vec::new()
        }
        Event::Delivered {
            id,
            channel,
            result,
        } => {
            publish::delivered(state, &id, channel, result);
            Vec::new()
        }
        Event::Published { id, message } => {
            publish::finished(state, &id);
            state.info(format!("{id}: {message}"));
            // The draft's state and publications changed.
            sparky([Command::Refresh])
        }
        Event::Failed { op, message } => {
            if matches!(op, Op::WriteDigest | Op::StoreDigest) {
                state.end_busy(BusyKey::Writing);
                state.digests.preview.streaming = false;
            }
            if op == Op::Publish {
                state.end_busy(BusyKey::Publishing);
                publish::failed(state);
            }
            state.error(format!("could not {op}: {message}"));
            Vec::new()
        }
    }
}
