//! The Digests view: drafts with their state on the left, the preview (or the editor) on
//! the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::keymap::Action;
use crate::app::state::{Mode, Pending, State};
use crate::app::theme::Theme;
use crate::backend::sparky::checker::Finding;

use crate::views::list::windowed;
use crate::views::{clean, list_row, markdown, panel, state_color};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let list_width = (area.width / 3).clamp(28, 48);
    let [list, preview] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(10)]).areas(area);
    draw_list(frame, list, state, theme);
    match &state.mode {
        Mode::Editing(editor) => draw_editor(frame, preview, editor, theme),
        Mode::Confirm(confirm) => match &confirm.on_yes {
            Pending::DiscardEdits(editor) => draw_editor(frame, preview, editor, theme),
            _ => draw_preview(frame, preview, state, theme),
        },
        _ => draw_preview(frame, preview, state, theme),
    }
}

fn draw_list(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let drafts = &state.digests.drafts;
    let visible = drafts.visible();
    let title = if drafts.filter.is_empty() {
        format!(" Drafts ({}) ", visible.len())
    } else {
        format!(
            " Drafts ({}/{}) /{} ",
            visible.len(),
            drafts.items.len(),
            drafts.filter
        )
    };
    let block = panel(title, !matches!(state.mode, Mode::Editing(_)), theme)
        .title_bottom(period_line(state, theme));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if visible.is_empty() {
        let hint = if drafts.items.is_empty() {
            format!(
                "No drafts yet. Press {} to write the digest of {}.",
                state.keymap.label(Action::NewDigest),
                state.digests.period.label
            )
        } else {
            "Nothing matches the filter.".to_string()
        };
        frame.render_widget(
            Paragraph::new(hint)
                .style(Style::default().fg(theme.muted))
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let lines: Vec<Line> = windowed(&visible, drafts.selected, usize::from(inner.height))
        .map(|(index, draft)| {
            let state_of = draft.front.state;
            let badge = format!("{:<10}", state_of.as_str());
            list_row(
                badge,
                state_color(state_of, theme),
                &draft.id,
                index == drafts.selected,
                width,
                theme,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The period the digest action writes, between the keys that move it: ` [ 2026-W48 ] `.
fn period_line(state: &State, theme: &Theme) -> Line<'static> {
    let key = |action| {
        Span::styled(
            format!(" {} ", state.keymap.label(action)),
            Style::default().fg(theme.accent),
        )
    };
    Line::from(vec![
        key(Action::PrevPeriod),
        Span::styled(
            state.digests.period.label.clone(),
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        key(Action::NextPeriod),
    ])
}

fn draw_preview(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let preview = &state.digests.preview;
    let area = if preview.findings.is_empty() || preview.streaming {
        area
    } else {
        let height = (preview.findings.len() as u16 + 2)
            .min(area.height / 3)
            .max(3);
        let [text, findings] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(height)]).areas(area);
        draw_findings(frame, findings, &preview.findings, theme);
        text
    };
    let title = match (&preview.id, preview.streaming) {
        (_, true) => " Writing… ".to_string(),
        (Some(id), false) => match state.digests.drafts.items.iter().find(|d| &d.id == id) {
            Some(draft) => format!(
                " {} · {} · {} words · {} ",
                id,
                draft.front.state.as_str(),
                draft.words,
                draft.front.writer
            ),
            None => format!(" {id} "),
        },
        (None, false) => " Preview ".to_string(),
    };
    let block = panel(title, false, theme);
    let text = if preview.text.is_empty() && !preview.streaming {
        vec![Line::styled(
            "Select a draft to preview it.",
            Style::default().fg(theme.muted),
        )]
    } else {
        markdown::lines(&preview.text, theme)
    };
    frame.render_widget(
        Paragraph::new(text)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((preview.scroll, 0)),
        area,
    );
}

/// What the checker found, one line each: where, which rule, what is wrong.
fn draw_findings(frame: &mut Frame, area: Rect, findings: &[Finding], theme: &Theme) {
    let title = format!(
        " Checker: {} ",
        plural(findings.len(), "finding", "findings")
    );
    let block = panel(title, false, theme).border_style(Style::default().fg(theme.warn));
    let lines: Vec<Line> = findings
        .iter()
        .map(|f| {
            let at = match f.line {
                0 => "draft".to_string(),
                n => format!("line {n}"),
            };
            Line::from(vec![
                Span::styled(format!("{at:>8} "), Style::default().fg(theme.muted)),
                Span::styled(
                    format!("{:<13}", f.rule.as_str()),
                    Style::default().fg(theme.warn),
                ),
                Span::raw(clean(&f.message).into_owned()),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn draw_editor(frame: &mut Frame, area: Rect, editor: &super::Editor, theme: &Theme) {
    let marker = if editor.is_dirty() { " [modified]" } else { "" };
    let block = panel(format!(" Editing {}{} ", editor.id, marker), true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&editor.textarea, inner);
}
