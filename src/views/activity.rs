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

use super::panel;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(data) = &state.preview.data else {
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
    // A month does not fit at 80 columns with labels: show the most recent days that do.
    let fit = usize::from(inner.width / 4).max(1);
    let shown = &days[days.len().saturating_sub(fit)..];
    let bars: Vec<Bar> = shown
        .iter()
        .map(|day| {
            Bar::default()
                .value(day.commits)
                .label(Line::from(
                    day.date.get(8..).unwrap_or(&day.date).to_string(),
                ))
                .style(Style::default().fg(theme.chart))
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(3)
            .bar_gap(1),
        inner,
    );
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
                Span::raw(c.name.clone()),
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
                    format!("{} ", &n.sha[..n.sha.len().min(7)]),
                    Style::default().fg(theme.accent),
                ),
                Span::raw(n.subject.clone()),
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
