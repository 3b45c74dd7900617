//! Mapping between positions in a TOML text and the dotted keys found there, so that errors
//! can name the file, line, column and key at fault.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// Where a TOML error sits: 1-based line and column, and the dotted key when one is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub line: usize,
    pub column: usize,
    pub key: Option<String>,
}

/// The line and column (1-based) of `dotted_key`'s name in `text`, e.g. `ollama.num_ctx`.
/// `None` when the text does not parse or does not set that key.
pub fn locate_key(text: &str, dotted_key: &str) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut segments = dotted_key.split('.').peekable();
    while let Some(segment) = segments.next() {
        let (key, value) = table.iter().find(|(key, _)| key.get_ref() == segment)?;
        if segments.peek().is_none() {
            return Some(line_col(text, key.span().start));
        }
        table = value.get_ref().as_table()?;
    }
    None
}

/// Where a deserialization or syntax error from `toml` points in `text`.
pub(crate) fn error_position(text: &str, error: &toml::de::Error) -> Position {
    let offset = error.span().map_or(0, |span| span.start);
    let (line, column) = line_col(text, offset);
    let key = match DeTable::parse(text) {
        Ok(root) => key_at(root.get_ref(), offset, ""),
        // The text does not parse, so read the key off the error's line and the header above.
        Err(_) => key_on_line(text, line),
    };
    Position { line, column, key }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The deepest key whose name or value covers `offset`. Table values are searched first,
/// because a `[header]` table's span does not cover the keys below it.
fn key_at(table: &DeTable<'_>, offset: usize, prefix: &str) -> Option<String> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        if covers(&key.span(), offset) {
            return Some(path);
        }
        let nested = match value.get_ref() {
            DeValue::Table(inner) => key_at(inner, offset, &path),
            DeValue::Array(items) => items.iter().find_map(|item| match item.get_ref() {
                DeValue::Table(inner) => key_at(inner, offset, &path),
                _ => None,
            }),
            _ => None,
        };
        if nested.is_some() {
            return nested;
        }
        if covers(&value.span(), offset) {
            return Some(path);
        }
    }
    None
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

/// Best guess for a text that does not parse: the `[header]` above `line` joined with the
/// `key =` on it.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let current = lines.get(line.checked_sub(1)?)?.trim();
    if let Some(header) = header_name(current) {
        return Some(header.to_owned());
    }
    let key = current
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches(['"', '\'']))
        .filter(|key| !key.is_empty() && !key.starts_with('#'));
    let header = lines[..line - 1]
        .iter()
        .rev()
        .find_map(|above| header_name(above.trim()));
    match (header, key) {
        (Some(header), Some(key)) => Some(format!("{header}.{key}")),
        (None, Some(key)) => Some(key.to_owned()),
        (Some(header), None) => Some(header.to_owned()),
        (None, None) => None,
    }
}

/// `ui` for a line `[ui]`, `[[ui]]` or the unclosed `[ui` (comments after it allowed).
fn header_name(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?;
    let end = inner.find([']', '#']).unwrap_or(inner.len());
    let name = inner[..end].trim_matches(['[', ' ']);
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[ui]\ntheme = \"dark\"\n\n[ollama]\nurl = \"x\"\n  num_ctx = 5\n";

    #[test]
    fn locates_keys_under_headers() {
        assert_eq!(locate_key(TEXT, "ollama.num_ctx"), Some((6, 3)));
        assert_eq!(locate_key(TEXT, "ui.theme"), Some((2, 1)));
        assert_eq!(locate_key(TEXT, "ui"), Some((1, 2)));
        assert_eq!(locate_key(TEXT, "ui.max_fps"), None);
        assert_eq!(locate_key("not toml = = 1", "ui"), None);
    }

    #[test]
    fn locates_keys_in_inline_tables_and_dotted_keys() {
        let text = "publish.token = { env = 5 }\n";
        assert_eq!(locate_key(text, "publish.token.env"), Some((1, 19)));
    }

    #[test]
    fn key_at_finds_the_key_owning_a_value() {
        let root = DeTable::parse(TEXT).unwrap();
        let offset = TEXT.find("5\n").unwrap();
        assert_eq!(
            key_at(root.get_ref(), offset, "").as_deref(),
            Some("ollama.num_ctx")
        );
        let offset = TEXT.find("\"x\"").unwrap();
        assert_eq!(
            key_at(root.get_ref(), offset, "").as_deref(),
            Some("ollama.url")
        );
    }

    #[test]
    fn key_on_line_reads_broken_text() {
        let text = "[ollama]\n# a comment\nnum_ctx = = 5\n";
        assert_eq!(key_on_line(text, 3).as_deref(), Some("ollama.num_ctx"));
        assert_eq!(key_on_line(text, 1).as_deref(), Some("ollama"));
        assert_eq!(key_on_line(text, 2).as_deref(), Some("ollama"));
        assert_eq!(key_on_line("[ui\n", 1).as_deref(), Some("ui"));
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ä = 1\nb", 7), (2, 1));
        assert_eq!(line_col("ä = 1", 3), (1, 3));
    }
}
