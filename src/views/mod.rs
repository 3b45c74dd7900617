//! The console's views, one module each, found through `view`; and the pure drawing of
//! what they share (tabs, status line, overlays): `fn(frame, area, &State, &Theme)`, no I/O.

pub mod ci;
pub mod cluster;
pub mod digests;
pub mod list;
mod markdown;
pub mod mirrors;
mod overlays;
pub mod text;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::keymap::{Action, Binding};
use crate::app::state::{Level, Mode, State, ViewId};
use crate::app::theme::Theme;
use crate::app::update::{Cmd, Settings, status_hints};
use crate::backend::queue::contract::JobState;
use crate::backend::sparky::model::DraftState;

use text::{clean, head, shown_url, truncate};

/// What the reducer and the screen need of a view, declared by the view's module.
pub(crate) struct View {
    pub title: &'static str,
    /// The keys it offers besides the global ones.
    pub bindings: &'static [Binding],
    pub draw: fn(&mut Frame, Rect, &State, &Theme),
    /// Its own actions; the global ones are handled before.
    pub on_action: fn(&mut State, Settings, Action) -> Vec<Cmd>,
    /// Reads what it shows again.
    pub refresh: fn(&mut State) -> Vec<Cmd>,
    /// It is shown (`true`) or left: what is read only while it is on screen.
    pub watch: fn(&mut State, bool) -> Vec<Cmd>,
    /// Its filter, when it offers one.
    pub filter: Option<Filter>,
}

/// A view's filter: what it is now, and setting it as it is typed.
pub(crate) struct Filter {
    pub current: fn(&State) -> String,
    pub set: fn(&mut State, String) -> Vec<Cmd>,
}

/// The one place that maps each view to its module.
pub(crate) fn view(id: ViewId) -> &'static View {
    match id {
        ViewId::Digests => &digests::DIGESTS,
        ViewId::Activity => &digests::ACTIVITY,
        ViewId::Pool => &ci::POOL,
        ViewId::Jobs => &ci::JOBS,
        ViewId::Cluster => &cluster::VIEW,
        ViewId::Mirrors => &mirrors::VIEW,
    }
}

/// Watches nothing: the view's actor reports on its own.
fn unwatched(_: &mut State, _: bool) -> Vec<Cmd> {
    Vec::new()
}

const SPINNER: [&str; 8] = ["⣾", "⣽", "⣻", "⢿", "⡿", "⣟", "⣯", "⣷"];

/// Draws the whole screen: view tabs, the current view, the status line, any overlay.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(
        Block::default().style(Style::default().bg(theme.bg).fg(theme.fg)),
        area,
    );
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, tabs, state, theme);
    (view(state.view).draw)(frame, body, state, theme);
    draw_status(frame, status, state, theme);
    overlays::draw(frame, area, state, theme);
}

fn draw_tabs(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = vec![Span::styled(
        " raibid ",
        Style::default()
            .fg(theme.bg)
            .bg(theme.accent)
            .add_modifier(Modifier::BOLD),
    )];
    for (index, view) in ViewId::ALL.iter().enumerate() {
        let style = if *view == state.view {
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            Style::default().fg(theme.muted)
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!("{} {}", index + 1, view.title()),
            style,
        ));
    }
    if let Some(busy) = state.busy.last() {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            format!("{} {}", SPINNER[state.spinner % SPINNER.len()], busy.label),
            Style::default().fg(theme.info),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = match (&state.mode, &state.status) {
        (Mode::Filter(input), _) => Line::from(vec![
            Span::styled("/", Style::default().fg(theme.accent)),
            Span::raw(input.clone()),
            Span::styled("▏", Style::default().fg(theme.accent)),
        ]),
        (_, Some(status)) => {
            let color = match status.level {
                Level::Info => theme.info,
                Level::Warn => theme.warn,
                Level::Error => theme.error,
            };
            Line::from(Span::styled(
                clean(&status.text).into_owned(),
                Style::default().fg(color),
            ))
        }
        (Mode::Editing(_), None) => hints(state, theme, &[Action::Save, Action::Back], area.width),
        _ => hints(state, theme, &status_hints(state), area.width),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `? help  e edit ...` from the live keymap, so remapped keys show as they are; as many
/// as fit in `width`, in the order given.
fn hints(state: &State, theme: &Theme, actions: &[Action], width: u16) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for action in actions {
        let keys = state.keymap.label(*action);
        if keys.is_empty() {
            continue;
        }
        // The two spaces after the last hint may fall off the edge.
        used += keys.chars().count() + 1 + action.name().len();
        if used > usize::from(width) {
            break;
        }
        used += 2;
        spans.push(Span::styled(
            keys,
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(
            format!(" {}  ", action.name()),
            Style::default().fg(theme.muted),
        ));
    }
    Line::from(spans)
}

/// A bordered block, highlighted when it has the focus.
fn panel<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(if focused {
            theme.border_focus
        } else {
            theme.border
        }))
        .title(title.into().style(Style::default().fg(theme.title)))
}

/// One row of a selectable list: a state badge in its colour, then `text`, padded so the
/// selection bar spans the whole `width`.
fn list_row(
    badge: String,
    color: Color,
    text: &str,
    selected: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let base = if selected {
        theme.selected().add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    let badge_style = if selected { base } else { base.fg(color) };
    let text = truncate(text, width.saturating_sub(badge.chars().count()));
    let used = badge.chars().count() + text.chars().count();
    Line::from(vec![
        Span::styled(badge, badge_style),
        Span::styled(text, base),
        Span::styled(" ".repeat(width.saturating_sub(used)), base),
    ])
}

fn job_state_color(state: JobState, theme: &Theme) -> ratatui::style::Color {
    match state {
        JobState::Queued => theme.muted,
        JobState::Running => theme.info,
        JobState::Success => theme.ok,
        JobState::Cancelled | JobState::TimedOut => theme.warn,
        JobState::Failure | JobState::Error | JobState::Dead => theme.error,
    }
}

fn state_color(state: DraftState, theme: &Theme) -> ratatui::style::Color {
    match state {
        DraftState::Draft => theme.draft,
        DraftState::Approved => theme.approved,
        DraftState::Published => theme.published,
        DraftState::Rejected => theme.rejected,
    }
}
