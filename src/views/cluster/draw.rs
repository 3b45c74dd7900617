//! The Cluster view: the connection, one row per lab component with its health, each
//! node's use of CPU, memory and GPUs, and the steps and log of the current (or last) run.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{ClusterState, RunState, StepState};
use crate::app::keymap::Action;
use crate::app::state::{Connection, State};
use crate::app::theme::Theme;
use crate::backend::cluster::Component;
use crate::backend::cluster::report::{ClusterStatus, Health, NodeUsage, Outcome};

use crate::views::ci::short_duration;
use crate::views::list::windowed;
use crate::views::{list_row, panel, shown_url, truncate};

/// Nodes listed before the rest of the view gets the space.
const NODES_SHOWN: usize = 4;
/// Wide enough to draw usage bars beside the figures.
const BARS_FROM: usize = 110;
const BAR_WIDTH: usize = 10;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let cluster = &state.cluster;
    // The panel's borders take two columns.
    let header = header_lines(cluster, usize::from(area.width).saturating_sub(2), theme);
    let lab_height = 2 + header.len() + Component::ALL.len();
    let node_rows = cluster
        .status
        .as_ref()
        .map_or(1, |s| s.nodes.len().clamp(1, NODES_SHOWN));
    let [lab, nodes, run] = Layout::vertical([
        Constraint::Length(lab_height as u16),
        Constraint::Length(node_rows as u16 + 2),
        Constraint::Min(4),
    ])
    .areas(area);
    draw_lab(frame, lab, header, state, theme);
    draw_nodes(frame, nodes, cluster.status.as_ref(), theme);
    draw_run(frame, run, state, theme);
}

/// The connection: server and version, or why there is none and what to do about it.
fn header_lines(cluster: &ClusterState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let muted = Style::default().fg(theme.muted);
    match &cluster.connection {
        Connection::NotYet | Connection::Connecting => {
            vec![Line::styled("connecting to the cluster…", muted)]
        }
        Connection::Up(server) => {
            let mut spans = vec![Span::styled(
                shown_url(server),
                Style::default().fg(theme.ok),
            )];
            if let Some(status) = &cluster.status {
                let ready = status
                    .components
                    .iter()
                    .filter(|c| c.health == Health::Ready)
                    .count();
                spans.push(Span::styled(format!("  {}", status.version), muted));
                spans.push(Span::styled(
                    format!("   {ready}/{} ready", Component::ALL.len()),
                    Style::default().fg(theme.accent),
                ));
            }
            vec![Line::from(spans)]
        }
        Connection::Down(reason) => {
            let error = Style::default().fg(theme.error);
            let mut lines: Vec<Line> = wrap(&format!("cluster unavailable: {reason}"), width, 2)
                .into_iter()
                .map(|text| Line::styled(text, error))
                .collect();
            // A missing kubeconfig's reason already says what to do.
            if !reason.contains("raibid up") {
                lines.push(Line::styled(
                    "set cluster.kubeconfig or run `raibid up`",
                    muted,
                ));
            }
            lines
        }
    }
}

/// Greedy word wrap into at most `max_lines` lines, the last one cut with an ellipsis.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    if lines.len() > max_lines {
        let rest = lines.split_off(max_lines.saturating_sub(1)).join(" ");
        lines.push(rest);
    }
    lines
        .into_iter()
        .map(|line| truncate(&line, width))
        .collect()
}

fn draw_lab(
    frame: &mut Frame,
    area: Rect,
    header: Vec<Line<'static>>,
    state: &State,
    theme: &Theme,
) {
    let cluster = &state.cluster;
    let block = panel(" Lab ", true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let rows = usize::from(inner.height).saturating_sub(header.len());
    let mut lines: Vec<Line> = header.into_iter().map(|line| fit(line, width)).collect();
    lines.extend(
        windowed(&Component::ALL, cluster.selected, rows).map(|(index, component)| {
            let found = cluster
                .status
                .as_ref()
                .and_then(|s| s.components.iter().find(|c| c.component == *component));
            let (label, color) = match found.map(|c| c.health) {
                Some(health) => health_label(health, theme),
                None => ("—", theme.muted),
            };
            let detail = found.map_or("", |c| c.detail.as_str());
            let text = format!("{:<23} {detail}", truncate(component.title(), 23));
            list_row(
                format!("{label:<12}"),
                color,
                &text,
                index == cluster.selected,
                width,
                theme,
            )
        }),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

fn health_label(health: Health, theme: &Theme) -> (&'static str, Color) {
    match health {
        Health::Ready => ("ready", theme.ok),
        Health::Progressing => ("progressing", theme.info),
        Health::Missing => ("missing", theme.muted),
        Health::Failed => ("failed", theme.error),
    }
}

fn draw_nodes(frame: &mut Frame, area: Rect, status: Option<&ClusterStatus>, theme: &Theme) {
    let nodes = status.map_or(&[][..], |s| s.nodes.as_slice());
    let block = panel(format!(" Nodes ({}) ", nodes.len()), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = nodes
        .iter()
        .take(usize::from(inner.height))
        .map(|node| node_line(node, width >= BARS_FROM, theme))
        .collect();
    if lines.is_empty() {
        let hint = if status.is_some() {
            "No nodes listed."
        } else {
            "No status yet."
        };
        lines.push(Line::styled(hint, Style::default().fg(theme.muted)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `name  ready  cpu 1.2/8  mem 3.1/31.2 GiB  gpu 1/1`, with usage bars when wide.
fn node_line(node: &NodeUsage, bars: bool, theme: &Theme) -> Line<'static> {
    let muted = Style::default().fg(theme.muted);
    let (ready, ready_color) = if node.ready {
        ("ready", theme.ok)
    } else {
        ("not ready", theme.error)
    };
    let mut spans = vec![
        Span::raw(format!("{:<16} ", truncate(&node.name, 16))),
        Span::styled(format!("{ready:<10}"), Style::default().fg(ready_color)),
    ];
    let mut figure = |name: &str, used: Option<u64>, total: u64, text: String| {
        spans.push(Span::styled(format!("{name} "), muted));
        if bars {
            let fraction = used.map(|u| u as f64 / total.max(1) as f64);
            spans.extend(bar(fraction, theme));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::raw(text));
    };
    let cpu_used = node.cpu_used_millis.map(cores);
    figure(
        "cpu",
        node.cpu_used_millis,
        node.cpu_millis,
        format!(
            "{:>11}  ",
            format!(
                "{}/{}",
                cpu_used.as_deref().unwrap_or("—"),
                cores(node.cpu_millis)
            )
        ),
    );
    let mem_used = node.memory_used_bytes.map(gib);
    figure(
        "mem",
        node.memory_used_bytes,
        node.memory_bytes,
        format!(
            "{:>15}  ",
            format!(
                "{}/{} GiB",
                mem_used.as_deref().unwrap_or("—"),
                gib(node.memory_bytes)
            )
        ),
    );
    figure(
        "gpu",
        Some(node.gpus_requested),
        node.gpus,
        format!("{}/{}", node.gpus_requested, node.gpus),
    );
    Line::from(spans)
}

/// `2`, `1.25`: millicores as cores, without trailing zeros.
fn cores(millis: u64) -> String {
    let text = format!("{:.2}", millis as f64 / 1000.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn gib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1u64 << 30) as f64)
}

/// A usage bar, coloured by how full it is; empty and muted when usage is unknown.
fn bar(fraction: Option<f64>, theme: &Theme) -> Vec<Span<'static>> {
    let Some(fraction) = fraction else {
        return vec![Span::styled(
            "·".repeat(BAR_WIDTH),
            Style::default().fg(theme.muted),
        )];
    };
    let fraction = fraction.clamp(0.0, 1.0);
    let filled = (fraction * BAR_WIDTH as f64).round() as usize;
    let color = if fraction >= 0.9 {
        theme.error
    } else if fraction >= 0.7 {
        theme.warn
    } else {
        theme.ok
    };
    vec![
        Span::styled("█".repeat(filled), Style::default().fg(color)),
        Span::styled(
            "░".repeat(BAR_WIDTH - filled),
            Style::default().fg(theme.muted),
        ),
    ]
}

fn draw_run(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let cluster = &state.cluster;
    let Some(run) = &cluster.run else {
        let keys = |action| state.keymap.label(action);
        let hint = format!(
            "{} brings up the lab through the selected component, {} re-applies it, \
             {} removes it (data volumes are kept).",
            keys(Action::ClusterInstall),
            keys(Action::ClusterUpgrade),
            keys(Action::ClusterRemove),
        );
        frame.render_widget(
            Paragraph::new(hint)
                .wrap(Wrap { trim: true })
                .style(Style::default().fg(theme.muted))
                .block(panel(" Run ", false, theme)),
            area,
        );
        return;
    };
    let when = match &cluster.last_result {
        None => short_duration(state.now.duration_since(run.started).as_secs().max(0)),
        Some(Ok(())) => "done".into(),
        Some(Err(_)) => "failed".into(),
    };
    let block = panel(format!(" {} · {when} ", run.what), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut lines = vec![
        fit(steps_line(run, theme), width),
        fit(outcome_line(cluster, run, theme), width),
    ];
    // Only the newest lines that fit are built.
    let rows = usize::from(inner.height).saturating_sub(lines.len());
    let first = cluster.log.len().saturating_sub(rows);
    lines.extend(
        cluster
            .log
            .range(first..)
            .map(|line| Line::raw(truncate(line, width))),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `✓ k3s  ✓ namespaces  ● redis  · gitea`: every step of the run by name.
fn steps_line(run: &RunState, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (component, step) in &run.steps {
        let (mark, color) = match step {
            StepState::Waiting => ("·", theme.muted),
            StepState::Running => ("●", theme.info),
            // Found in place: nothing was done, so it stays quiet.
            StepState::Done(Outcome::AlreadyDone) => ("✓", theme.muted),
            StepState::Done(_) => ("✓", theme.ok),
            StepState::Failed(_) => ("✗", theme.error),
        };
        let style = Style::default().fg(color);
        let name_style = match step {
            StepState::Running => style.add_modifier(Modifier::BOLD),
            StepState::Waiting => style,
            _ => Style::default(),
        };
        spans.push(Span::styled(format!("{mark} "), style));
        spans.push(Span::styled(component.name(), name_style));
        spans.push(Span::raw("  "));
    }
    Line::from(spans)
}

/// What the run is doing now, or how it ended.
fn outcome_line(cluster: &ClusterState, run: &RunState, theme: &Theme) -> Line<'static> {
    let failed = run.steps.iter().find_map(|(c, step)| match step {
        StepState::Failed(reason) => Some((c, reason)),
        _ => None,
    });
    match (&cluster.last_result, failed, run.current) {
        (_, Some((component, reason)), _) => Line::styled(
            format!("✗ {}: {reason}", component.title()),
            Style::default().fg(theme.error),
        ),
        (None, None, Some(component)) => Line::styled(
            format!("● {}…", component.title()),
            Style::default().fg(theme.info),
        ),
        (None, None, None) => Line::styled("starting…", Style::default().fg(theme.muted)),
        (Some(Ok(())), None, _) => Line::styled("✓ every step done", Style::default().fg(theme.ok)),
        (Some(Err(reason)), None, _) => {
            Line::styled(format!("✗ {reason}"), Style::default().fg(theme.error))
        }
    }
}

/// Keeps the spans of `line` that fit in `width`, marking a cut with an ellipsis.
fn fit(line: Line<'static>, width: usize) -> Line<'static> {
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let len = span.content.chars().count();
        if len <= left {
            left -= len;
            spans.push(span);
        } else {
            spans.push(Span::styled(truncate(&span.content, left), span.style));
            left = 0;
        }
    }
    Line::from(spans).style(line.style)
}
