//! The Mirrors view: every GitHub-to-Gitea mirror with its last sync, stale ones marked in
//! the warning colour, the sync going on or how the last one ended.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::MirrorsState;
use crate::app::keymap::Action;
use crate::app::state::{Connection, Level, State};
use crate::app::theme::Theme;
use crate::backend::mirror::MirrorStatus;

use crate::views::ci::short_duration;
use crate::views::list::windowed;
use crate::views::{clean, panel, truncate};

const BADGE: usize = 6;
const LAST_SYNC: usize = 9;
const GAP: &str = "  ";
/// The name columns' widest; what is left shows the GitHub URL.
const GITHUB_MAX: usize = 36;
const GITEA_MAX: usize = 32;
const URL_MIN: usize = 20;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mirrors = &state.mirrors;
    let visible = mirrors.mirrors.visible();
    let filter = if mirrors.mirrors.filter.is_empty() {
        String::new()
    } else {
        format!(" /{}", mirrors.mirrors.filter)
    };
    let block = panel(
        format!(" Mirrors ({}){filter} ", visible.len()),
        true,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let muted = Style::default().fg(theme.muted);
    if let Connection::Down(reason) = &mirrors.connection {
        let keys = state.keymap.label(Action::Refresh);
        let lines = vec![
            Line::styled(
                format!("mirrors unavailable: {}", clean(reason)),
                Style::default().fg(theme.error),
            ),
            Line::styled(
                format!("set gitea.url, gitea.token and github.token, then {keys} tries again"),
                muted,
            ),
        ];
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = vec![summary_line(mirrors, theme)];
    if let Some(line) = message_line(mirrors, width, theme) {
        lines.push(line);
    }
    if visible.is_empty() {
        // While loading, the summary line already says so.
        if mirrors.connection == Connection::Up(()) {
            let hint = if mirrors.mirrors.items.is_empty() {
                "No mirrors yet. `raibid mirror sync` creates those the config selects."
            } else {
                "Nothing matches the filter."
            };
            lines.push(Line::styled(hint, muted));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    let columns = Columns::new(width);
    lines.push(columns.header(theme));
    let rows = usize::from(inner.height).saturating_sub(lines.len());
    lines.extend(
        windowed(&visible, mirrors.mirrors.selected, rows).map(|(index, mirror)| {
            let syncing = mirrors.syncing.as_deref() == Some(mirror.github.as_str());
            columns.row(
                mirror,
                last_sync(mirror, state),
                syncing,
                index == mirrors.mirrors.selected,
                theme,
            )
        }),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `12 mirrors, 3 stale`, the stale count in the warning colour when there are any; or
/// that the first list is still coming.
fn summary_line(mirrors: &MirrorsState, theme: &Theme) -> Line<'static> {
    if mirrors.connection != Connection::Up(()) {
        return Line::styled("reading the mirrors…", Style::default().fg(theme.muted));
    }
    let total = mirrors.mirrors.items.len();
    let stale = mirrors.stale_count();
    let plural = if total == 1 { "" } else { "s" };
    let stale_color = if stale > 0 { theme.warn } else { theme.ok };
    Line::from(vec![
        Span::styled(
            format!("{total} mirror{plural}, "),
            Style::default().fg(theme.accent),
        ),
        Span::styled(format!("{stale} stale"), Style::default().fg(stale_color)),
    ])
}

/// The sync going on, else how the last one (or the last list) ended.
fn message_line(mirrors: &MirrorsState, width: usize, theme: &Theme) -> Option<Line<'static>> {
    let (text, color) = match (&mirrors.syncing, &mirrors.last_message) {
        (Some(repo), _) => (format!("● syncing {repo}…"), theme.info),
        (None, Some(message)) => {
            let (mark, color) = match message.level {
                Level::Info => ("✓", theme.ok),
                Level::Warn => ("!", theme.warn),
                Level::Error => ("✗", theme.error),
            };
            (format!("{mark} {}", message.text), color)
        }
        (None, None) => return None,
    };
    Some(Line::styled(
        truncate(&text, width),
        Style::default().fg(color),
    ))
}

/// `3h ago`, or `never` for a mirror that was not synced yet.
fn last_sync(mirror: &MirrorStatus, state: &State) -> String {
    match mirror.last_sync {
        Some(at) => {
            let secs = state.now.duration_since(at).as_secs().max(0);
            format!("{} ago", short_duration(secs))
        }
        None => "never".into(),
    }
}

/// The widths of the table's columns for an inner width: the names share what the badge
/// and the sync time leave, and a wide screen also shows the GitHub URL.
struct Columns {
    width: usize,
    github: usize,
    gitea: usize,
    url: usize,
}

impl Columns {
    fn new(width: usize) -> Columns {
        let names = width.saturating_sub(BADGE + LAST_SYNC + 2 * GAP.len());
        let github = (names * 11 / 20).min(GITHUB_MAX);
        let gitea = names.saturating_sub(github).min(GITEA_MAX);
        let rest = names.saturating_sub(github + gitea + GAP.len());
        let url = if rest >= URL_MIN { rest } else { 0 };
        Columns {
            width,
            github,
            gitea,
            url,
        }
    }

    fn cells(&self, github: &str, gitea: &str, last_sync: &str, url: &str) -> String {
        let (g, t, l) = (self.github, self.gitea, LAST_SYNC);
        let mut text = format!(
            "{:<g$}{GAP}{:<t$}{GAP}{:>l$}",
            truncate(github, g),
            truncate(gitea, t),
            last_sync
        );
        if self.url > 0 {
            text.push_str(GAP);
            text.push_str(&truncate(url, self.url));
        }
        text
    }

    fn header(&self, theme: &Theme) -> Line<'static> {
        let text = self.cells("GitHub", "Gitea", "last sync", "URL");
        Line::styled(
            format!("{:BADGE$}{text}", ""),
            Style::default()
                .fg(theme.muted)
                .add_modifier(Modifier::BOLD),
        )
    }

    /// One mirror: a stale row is all in the warning colour, with a `stale` badge.
    fn row(
        &self,
        mirror: &MirrorStatus,
        last_sync: String,
        syncing: bool,
        selected: bool,
        theme: &Theme,
    ) -> Line<'static> {
        let (badge, badge_color) = match (syncing, mirror.stale) {
            (true, _) => ("sync…", theme.info),
            (false, true) => ("stale", theme.warn),
            (false, false) => ("ok", theme.ok),
        };
        let base = if selected {
            theme.selected().add_modifier(Modifier::BOLD)
        } else if mirror.stale {
            Style::default().fg(theme.warn)
        } else {
            Style::default()
        };
        let badge_style = if selected { base } else { base.fg(badge_color) };
        let text = self.cells(&mirror.github, &mirror.gitea, &last_sync, &mirror.url);
        let text = truncate(&text, self.width.saturating_sub(BADGE));
        let used = BADGE + text.chars().count();
        Line::from(vec![
            Span::styled(format!("{badge:<BADGE$}"), badge_style),
            Span::styled(text, base),
            Span::styled(" ".repeat(self.width.saturating_sub(used)), base),
        ])
    }
}
