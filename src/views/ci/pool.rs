//! The Pool view: agents, queue depth and lag over the last minutes, throughput and
//! success rate.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::{CiState, HISTORY};
use crate::app::state::{Connection, State};
use crate::app::theme::Theme;
use crate::backend::queue::contract::{AgentState, JobState, QueueStats};

use crate::views::{clean, head, panel, shown_url};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let ci = &state.ci;
    let [summary, graphs, agents] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Min(3),
    ])
    .areas(area);
    draw_summary(frame, summary, state, theme);
    let [depth, lag] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(graphs);
    draw_graph(frame, depth, ci, "depth", |s| s.depth, theme);
    draw_graph(frame, lag, ci, "lag", |s| s.lag, theme);
    draw_agents(frame, agents, state, theme);
}

fn draw_summary(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let ci = &state.ci;
    let connection = match &ci.connection {
        Connection::NotYet | Connection::Connecting => {
            Span::styled("connecting…", Style::default().fg(theme.muted))
        }
        Connection::Up(queue) => Span::styled(
            format!("queue: {}", shown_url(queue)),
            Style::default().fg(theme.ok),
        ),
        Connection::Down(message) => Span::styled(
            format!("queue unavailable: {}", clean(message)),
            Style::default().fg(theme.error),
        ),
    };
    let pool = match ci.pool {
        Some((wanted, running)) => format!("local pool {running}/{wanted} agents"),
        None => "no local pool (+ starts one)".to_string(),
    };
    let (finished, succeeded) = recent_results(state);
    let rate = (succeeded * 100)
        .checked_div(finished)
        .map_or_else(|| "—".to_string(), |pct| format!("{pct}%"));
    let minutes = HISTORY.as_secs() / 60;
    let numbers = match ci.stats {
        Some(s) => format!(
            "depth {}  lag {}  pending {}  dead {}",
            s.depth, s.lag, s.pending, s.dead
        ),
        None => "no numbers yet".to_string(),
    };
    let lines = vec![
        Line::from(vec![
            connection,
            Span::raw("   "),
            Span::styled(pool, Style::default().fg(theme.accent)),
            Span::styled(
                if ci.local_sandboxed == Some(false) {
                    "   no sandbox (bubblewrap): local agents run trusted code only"
                } else {
                    ""
                },
                Style::default().fg(theme.warn),
            ),
        ]),
        Line::from(vec![
            Span::raw(numbers),
            Span::raw(format!(
                "   last {minutes} min: {finished} finished, success {rate}"
            )),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(panel(" Pool ", false, theme)),
        area,
    );
}

/// Jobs that finished within the graphs' window, and how many of them succeeded.
fn recent_results(state: &State) -> (usize, usize) {
    let finished: Vec<JobState> = state
        .ci
        .jobs
        .items
        .iter()
        .filter(|r| {
            r.status
                .finished_at
                .is_some_and(|t| state.now.duration_since(t) <= HISTORY)
        })
        .map(|r| r.status.state)
        .collect();
    (
        finished.len(),
        finished.iter().filter(|s| **s == JobState::Success).count(),
    )
}

fn draw_graph(
    frame: &mut Frame,
    area: Rect,
    ci: &CiState,
    name: &str,
    value: fn(&QueueStats) -> u64,
    theme: &Theme,
) {
    let now = ci.stats.as_ref().map(value).unwrap_or(0);
    let peak = ci.history.iter().map(|(_, s)| value(s)).max().unwrap_or(0);
    let block = panel(format!(" {name} {now} (peak {peak}) "), false, theme);
    let inner = block.inner(area);
    // The newest samples that fit, right-aligned like a scrolling graph.
    let values: Vec<u64> = ci.history.iter().map(|(_, s)| value(s)).collect();
    let shown = &values[values.len().saturating_sub(usize::from(inner.width))..];
    frame.render_widget(block, area);
    frame.render_widget(
        Sparkline::default()
            .data(shown)
            .style(Style::default().fg(theme.chart)),
        inner,
    );
}

fn draw_agents(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let agents = &state.ci.agents;
    let block = panel(format!(" Agents ({}) ", agents.len()), true, theme);
    let rows = usize::from(block.inner(area).height);
    let mut lines: Vec<Line> = agents
        .iter()
        .take(rows)
        .map(|agent| {
            let (label, color) = match agent.state {
                AgentState::Idle => ("idle", theme.muted),
                AgentState::Busy => ("busy", theme.info),
                AgentState::Stopping => ("stopping", theme.warn),
            };
            let uptime = state.now.duration_since(agent.started_at).as_secs().max(0);
            Line::from(vec![
                Span::styled(
                    format!("{:<9}", label),
                    Style::default().fg(color).add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!("{:<24}", clean(&agent.name))),
                Span::styled(
                    format!("up {:>5}  ", short_duration(uptime)),
                    Style::default().fg(theme.muted),
                ),
                Span::raw(
                    agent
                        .job
                        .as_deref()
                        .map_or(String::new(), |j| format!("job {}", head(j, 8))),
                ),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            "No agents. + starts a local one; T queues a build.",
            Style::default().fg(theme.muted),
        ));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// `42s`, `7m`, `3h`, `2d`.
pub fn short_duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
