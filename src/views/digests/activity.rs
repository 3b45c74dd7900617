//! The Activity view: the numbers behind the draft in the preview — commits per day,
//! contributors, repositories and notable changes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph};

use crate::app::state::State;
use crate::app::theme::Theme;
use crate::backend::sparky::model::DigestData;

use crate::views::{clean, head, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(data) = &state.digests.preview.data else {
        let block = panel(" Activity ", false, theme);
        frame.render_widget(
            Paragraph::new("Select a draft in Digests to see the activity it was written from.")
                .style(Style::default().fg(theme.muted))
                .block(block),
            area,
        );
        return;
    };
    let [summary, chart, tables] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(9),
        Constraint::Min(3),
    ])
    .areas(area);
    draw_summary(frame, summary, data, theme);
    draw_chart(frame, chart, data, theme);
    let [people, notable] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(tables);
    draw_people(frame, people, data, theme);
    draw_notable(frame, notable, data, theme);
}

fn draw_summary(frame: &mut Frame, area: Rect, data: &DigestData, theme: &Theme) {
    let t = &data.metrics.totals;
    let mut spans = vec![
        Span::styled(
            count(t.commits, "commit"),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("  +{} −{}  ", t.insertions, t.deletions)),
        Span::raw(format!(
            "{}  {} of {} active",
            count(t.contributors, "contributor"),
            t.active_repos,
            count(data.repos.len() as u64, "repo")
        )),
    ];
    if let Some(change) = data
        .metrics
        .trend
        .as_ref()
        .and_then(|trend| trend.commits_change_pct)
    {
        let color = if change >= 0.0 { theme.ok } else { theme.warn };
        spans.push(Span::styled(
            format!("  {change:+.0}% vs previous"),
            Style::default().fg(color),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).block(panel(
            format!(" Activity {} ", data.period.label),
            false,
            theme,
        )),
        area,
    );
}

fn draw_chart(frame: &mut Frame, area: Rect, data: &DigestData, theme: &Theme) {
    let block = panel(" Commits per day ", false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let days = &data.metrics.commits_per_day;
    let (bar_width, gap) = bar_layout(days.len(), inner.width);
    // Every day when they fit (a month does at 80 columns); else the most recent that do.
    let fit = usize::from((inner.width + gap) / (bar_width + gap)).max(1);
    let shown = &days[days.len().saturating_sub(fit)..];
    let bars: Vec<Bar> = shown
        .iter()
        .map(|day| {
            Bar::default()
                .value(day.commits)
                .style(Style::default().fg(theme.chart))
        })
        .collect();
    let [bars_area, axis_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_width)
            .bar_gap(gap),
        bars_area,
    );
    let days_of_month = shown
        .iter()
        .map(|day| day.date.get(8..).unwrap_or(&day.date));
    let axis = day_axis(days_of_month, usize::from(bar_width + gap));
    frame.render_widget(
        Paragraph::new(axis).style(Style::default().fg(theme.muted)),
        axis_area,
    );
}

/// The widest bars, with a gap while there is room for one, that show `days` bars in
/// `width` columns; one column each when even those do not fit.
fn bar_layout(days: usize, width: u16) -> (u16, u16) {
    let days = u16::try_from(days).unwrap_or(u16::MAX);
    [(3, 1), (2, 1), (1, 1)]
        .into_iter()
        .find(|(bar, gap)| days.saturating_mul(bar + gap).saturating_sub(*gap) <= width)
        .unwrap_or((1, 0))
}

/// The day labels under bars `step` columns apart: every one there is room for, a column
/// apart at least, from the first on.
fn day_axis<'a>(labels: impl Iterator<Item = &'a str>, step: usize) -> String {
    let mut axis = String::new();
    for (index, label) in labels.enumerate() {
        let at = index * step;
        let free = if axis.is_empty() { 0 } else { axis.len() + 1 };
        if at >= free {
            axis.push_str(&" ".repeat(at - axis.len()));
            axis.push_str(label);
        }
    }
    axis
}

fn draw_people(frame: &mut Frame, area: Rect, data: &DigestData, theme: &Theme) {
    let block = panel(" Contributors ", false, theme);
    let rows = usize::from(block.inner(area).height);
    let lines: Vec<Line> = data
        .metrics
        .contributors
        .iter()
        .take(rows)
        .map(|c| {
            Line::from(vec![
                Span::styled(
                    format!("{:>4} ", c.commits),
                    Style::default().fg(theme.accent),
                ),
                Span::raw(clean(&c.name).into_owned()),
                Span::styled(
                    if c.is_bot { " (bot)" } else { "" },
                    Style::default().fg(theme.muted),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_notable(frame: &mut Frame, area: Rect, data: &DigestData, theme: &Theme) {
    let block = panel(" Notable changes ", false, theme);
    let rows = usize::from(block.inner(area).height);
    let lines: Vec<Line> = data
        .metrics
        .notable
        .iter()
        .take(rows)
        .map(|n| {
            Line::from(vec![
                Span::styled(
                    format!("{} ", head(&n.sha, 7)),
                    Style::default().fg(theme.accent),
                ),
                Span::raw(clean(&n.subject).into_owned()),
                Span::styled(
                    format!("  +{} −{}", n.insertions, n.deletions),
                    Style::default().fg(theme.muted),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
