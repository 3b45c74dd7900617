//! Just enough Markdown styling for a terminal preview: headings, bullets, code spans.
//! The text stays as written, so what is copied from the screen is the Markdown itself.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::clean;
use crate::app::theme::Theme;

pub fn lines<'a>(text: &'a str, theme: &Theme) -> Vec<Line<'a>> {
    text.lines().map(|line| styled(line, theme)).collect()
}

fn styled<'a>(line: &'a str, theme: &Theme) -> Line<'a> {
    if line.starts_with('#') {
        return Line::styled(
            clean(line),
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        );
    }
    let mut spans = Vec::new();
    // Odd pieces between backticks are code.
    for (index, piece) in line.split('`').enumerate() {
        if index % 2 == 1 {
            spans.push(Span::styled(
                format!("`{}`", clean(piece)),
                Style::default().fg(theme.accent),
            ));
        } else if !piece.is_empty() {
            spans.push(Span::raw(clean(piece)));
        }
    }
    Line::from(spans)
}
