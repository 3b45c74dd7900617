//! The Jobs view: a filterable, sortable list of jobs; Enter opens a job's log, which
//! follows new lines, scrolls and highlights a search.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{CiState, LogView};
use crate::app::state::{Connection, State};
use crate::app::theme::Theme;
use crate::backend::queue::contract::LogStream;

use super::pool::short_duration;
use crate::views::list::windowed;
use crate::views::{clean, head, job_state_color, list_row, panel, shown_url, truncate};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    match &state.ci.log {
        Some(log) => draw_log(frame, area, state, log, theme),
        None => draw_list(frame, area, state, theme),
    }
}

fn draw_list(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let ci: &CiState = &state.ci;
    let visible = ci.jobs.visible();
    let filter = if ci.jobs.filter.is_empty() {
        String::new()
    } else {
        format!(" /{}", ci.jobs.filter)
    };
    let queue = match &ci.connection {
        Connection::Up(queue) => format!(" · queue: {}", shown_url(queue)),
        _ => String::new(),
    };
    let title = format!(
        " Jobs ({}) by {}{filter}{queue} ",
        visible.len(),
        ci.jobs.order.name()
    );
    let block = panel(title, true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if visible.is_empty() {
        let hint = match &ci.connection {
            Connection::Down(message) => format!("The queue is unavailable: {}", clean(message)),
            _ if ci.jobs.items.is_empty() => {
                "No jobs yet. T builds this repository's HEAD.".to_string()
            }
            _ => "Nothing matches the filter.".to_string(),
        };
        frame.render_widget(
            Paragraph::new(hint).style(Style::default().fg(theme.muted)),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let lines: Vec<Line> = windowed(&visible, ci.jobs.selected, usize::from(inner.height))
        .map(|(index, record)| {
            let (job, status) = (&record.job, &record.status);
            let since =
                |t: jiff::Timestamp| short_duration(state.now.duration_since(t).as_secs().max(0));
            let took = match (status.started_at, status.finished_at) {
                (Some(start), Some(end)) => {
                    short_duration(end.duration_since(start).as_secs().max(0))
                }
                (Some(start), None) => since(start),
                _ => "-".into(),
            };
            let text = format!(
                "{:<8} {:<20} {:<7} {:>4} ago {:>4}  {}",
                head(&job.id, 8),
                truncate(&job.repo, 20),
                head(&job.sha, 7),
                since(job.created_at),
                took,
                job.git_ref.trim_start_matches("refs/heads/"),
            );
            let badge = format!("{:<10}", status.state.as_str());
            let color = job_state_color(status.state, theme);
            list_row(badge, color, &text, index == ci.jobs.selected, width, theme)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_log(frame: &mut Frame, area: Rect, state: &State, log: &LogView, theme: &Theme) {
    let record = state.ci.jobs.items.iter().find(|r| r.job.id == log.id);
    let job_state = record.map(|r| r.status.state);
    let mode = if log.done {
        "complete"
    } else if log.follow {
        "following"
    } else {
        "paused (f follows)"
    };
    let dropped = if log.dropped > 0 {
        format!(", {} earlier dropped", log.dropped)
    } else {
        String::new()
    };
    let title = format!(
        " Job {} · {} · {} · {} lines{dropped} ",
        head(&log.id, 8),
        job_state.map_or("?", |s| s.as_str()),
        mode,
        log.lines.len()
    );
    let mut block = panel(title, true, theme);
    if let Some(cache) = record.and_then(|r| r.status.cache.as_ref()) {
        block = block.title_bottom(Line::styled(
            format!(" cache {} ", cache.summary()),
            theme.muted,
        ));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height);
    // The window ends at `top` when following or scrolled to the end, else starts there.
    let first = if log.follow {
        log.lines.len().saturating_sub(rows)
    } else {
        log.top.min(log.lines.len().saturating_sub(1))
    };
    let search = log.search.to_lowercase();
    let lines: Vec<Line> = log
        .lines
        .iter()
        .skip(first)
        .take(rows)
        .map(|line| {
            let mut style = match line.stream {
                LogStream::Stdout => Style::default(),
                LogStream::Stderr => Style::default().fg(theme.warn),
                LogStream::System => Style::default().fg(theme.accent),
            };
            if !search.is_empty() && line.line.to_lowercase().contains(&search) {
                style = style.patch(theme.selected());
            }
            Line::from(vec![
                Span::styled(
                    format!("{:<12} ", truncate(&line.step, 12)),
                    Style::default().fg(theme.muted),
                ),
                Span::styled(clean(&line.line).into_owned(), style),
            ])
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new("No log lines yet.").style(Style::default().fg(theme.muted)),
            inner,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
