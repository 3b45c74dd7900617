//! The publish flow's popup: the channels to choose, each channel's rendering with its
//! length, and the answers as they arrive.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{PublishFlow, PublishStage};
use crate::app::theme::Theme;
use crate::backend::sparky::delivery::Rendering;

use crate::views::{clean, panel};

pub fn draw(frame: &mut Frame, area: Rect, flow: &PublishFlow, theme: &Theme) {
    let popup = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(2),
    };
    let title = format!(" Publish {} ", flow.plan.id);
    let block = panel(title, true, theme);
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        block.style(Style::default().fg(theme.fg).bg(theme.bg)),
        popup,
    );
    let [body, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let hint_text = match flow.stage {
        PublishStage::Choose => "space choose · enter preview · esc cancel",
        PublishStage::Preview => "←/→ channel · pgup/pgdn scroll · y publish · n back · esc cancel",
        PublishStage::Sending => "publishing… esc hides this (it goes on)",
        PublishStage::Done => "done · esc close",
    };
    frame.render_widget(
        Paragraph::new(Line::styled(hint_text, Style::default().fg(theme.muted))),
        hint,
    );
    match flow.stage {
        PublishStage::Preview => preview(frame, body, flow, theme),
        _ => channels(frame, body, flow, theme),
    }
}

/// One line per channel: chosen or not, length, update or new, and its answer.
fn channels(frame: &mut Frame, area: Rect, flow: &PublishFlow, theme: &Theme) {
    let choosing = flow.stage == PublishStage::Choose;
    let lines: Vec<Line> = flow
        .plan
        .renderings
        .iter()
        .enumerate()
        .map(|(i, rendering)| {
            let mark = if flow.chosen[i] { "[x]" } else { "[ ]" };
            let mut spans = vec![
                Span::raw(if choosing && i == flow.cursor {
                    "> "
                } else {
                    "  "
                }),
                Span::raw(format!("{mark} {:<15}", rendering.channel.as_str())),
            ];
            spans.extend(facts(rendering, theme));
            if let Some(result) = &flow.results[i] {
                spans.push(match result {
                    Ok(message) => Span::styled(
                        format!("  {}", clean(message)),
                        Style::default().fg(theme.info),
                    ),
                    Err(message) => Span::styled(
                        format!("  {}", clean(message)),
                        Style::default().fg(theme.error),
                    ),
                });
            } else if flow.stage == PublishStage::Sending && flow.chosen[i] {
                spans.push(Span::styled("  waiting…", Style::default().fg(theme.muted)));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// The length of a social post against its limit, and whether it updates a publication.
fn facts(rendering: &Rendering, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    if let Some(length) = &rendering.length {
        let color = if length.fits() {
            theme.info
        } else {
            theme.error
        };
        spans.push(Span::styled(
            format!(" {}/{} {}", length.used, length.limit, length.unit.as_str()),
            Style::default().fg(color),
        ));
    }
    spans.push(Span::styled(
        match &rendering.previous {
            Some(previous) => format!(" updates {}", previous.url),
            None => " new".to_string(),
        },
        Style::default().fg(theme.muted),
    ));
    spans
}

/// The rendering under the cursor, as the channel receives it.
fn preview(frame: &mut Frame, area: Rect, flow: &PublishFlow, theme: &Theme) {
    let Some(rendering) = flow.plan.renderings.get(flow.cursor) else {
        return;
    };
    let [header, text] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let chosen = flow.chosen_indexes();
    let position = chosen.iter().position(|&i| i == flow.cursor).unwrap_or(0) + 1;
    let mut spans = vec![Span::styled(
        format!(
            "{} ({position}/{})",
            rendering.channel.as_str(),
            chosen.len()
        ),
        Style::default()
            .fg(theme.accent)
            .add_modifier(Modifier::BOLD),
    )];
    spans.extend(facts(rendering, theme));
    frame.render_widget(Paragraph::new(Line::from(spans)), header);
    frame.render_widget(
        Paragraph::new(rendering.text.as_str())
            .wrap(Wrap { trim: false })
            .scroll((flow.scroll, 0)),
        text,
    );
}
