//! Popups over the current view: help, command palette, confirmation, publishing.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::app::keymap::Binding;
use crate::app::state::{Mode, State, ViewId};
use crate::app::theme::Theme;
use crate::app::update::{GLOBAL_BINDINGS, palette_entries, view_bindings};

use super::{clean, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    match &state.mode {
        Mode::Help => help(frame, area, state, theme),
        Mode::Palette(input) => palette(frame, area, state, input, theme),
        Mode::Confirm(confirm) => {
            let popup = centered(area, 60, 5);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(clean(&confirm.question))
                    .wrap(Wrap { trim: true })
                    .style(Style::default().fg(theme.fg).bg(theme.bg))
                    .block(
                        panel(" Confirm ", true, theme)
                            .border_style(Style::default().fg(theme.warn)),
                    ),
                popup,
            );
        }
        Mode::Publishing(flow) => super::digests::draw_publish(frame, area, flow, theme),
        Mode::Normal | Mode::Filter(_) | Mode::Editing(_) => {}
    }
}

/// Generated from the live keymap: what the user bound is what the help says. The current
/// view's keys come first, then those of every view; the entries flow into as many columns
/// as the height needs, so 80x24 shows them all.
fn help(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let key_style = Style::default()
        .fg(theme.accent)
        .add_modifier(Modifier::BOLD);
    let entry = |binding: &Binding| (state.keymap.label(binding.action), binding.about);
    let mut entries: Vec<(String, &str)> = view_bindings(state.view)
        .iter()
        .chain(GLOBAL_BINDINGS)
        .filter(|binding| binding.action.view_index().is_none())
        .map(entry)
        .collect();
    let views: Vec<String> = (1..=ViewId::ALL.len()).map(|n| n.to_string()).collect();
    entries.push((views.join("/"), "switch to that view"));

    let popup = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    let rows = usize::from(popup.height.saturating_sub(2)).max(1);
    let columns = entries.len().div_ceil(rows);
    let block = panel(" Keys ", true, theme);
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        block.style(Style::default().fg(theme.fg).bg(theme.bg)),
        popup,
    );
    let areas =
        Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(inner);
    for (chunk, column) in entries.chunks(rows).zip(areas.iter()) {
        let key_width = chunk
            .iter()
            .map(|(keys, _)| keys.chars().count())
            .max()
            .unwrap_or(0);
        let lines: Vec<Line> = chunk
            .iter()
            .map(|(keys, what)| {
                Line::from(vec![
                    Span::styled(format!("{keys:>key_width$}  "), key_style),
                    Span::raw(*what),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *column);
    }
}

fn palette(frame: &mut Frame, area: Rect, state: &State, input: &str, theme: &Theme) {
    let entries = palette_entries(state);
    let mut matching: Vec<&String> = entries.iter().filter(|e| e.starts_with(input)).collect();
    // A digest names its period after its kind (see `period::named`).
    let when = "KIND last|yesterday|YYYY-MM-DD|YYYY-MM|YYYY-Www".to_string();
    if input.starts_with("digest ") {
        matching.push(&when);
    }
    let popup = centered(
        area,
        50,
        (matching.len() as u16 + 3)
            .min(area.height.saturating_sub(2))
            .max(4),
    );
    let mut lines = vec![Line::from(vec![
        Span::styled(":", Style::default().fg(theme.accent)),
        Span::raw(input.to_string()),
        Span::styled("▏", Style::default().fg(theme.accent)),
    ])];
    lines.extend(
        matching
            .iter()
            .map(|e| Line::styled(e.to_string(), Style::default().fg(theme.muted))),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .style(Style::default().fg(theme.fg).bg(theme.bg))
            .block(panel(" Command ", true, theme)),
        popup,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}
