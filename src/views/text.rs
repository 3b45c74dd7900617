//! Text from data (job ids, refs, commit subjects, log lines, names) made safe to draw:
//! terminal escapes dropped, other control characters replaced, cuts made by characters.

use std::borrow::Cow;

use crate::backend::queue::mask_url;

const ESC: char = '\u{1b}';
/// The 8-bit forms of CSI and OSC, which some terminals obey like `ESC [` and `ESC ]`.
const CSI: char = '\u{9b}';
const OSC: char = '\u{9d}';

/// `text` with escape sequences removed, tabs as spaces and every other control character
/// (newlines, bidirectional overrides) replaced by `�`: nothing in it can move the cursor,
/// change colours or reorder what the screen shows.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // A two-character sequence (`ESC c`, `ESC 7`, ...): both go.
                _ => {}
            },
            CSI => skip_csi(&mut chars),
            OSC => skip_string(&mut chars),
            '\t' => shown.push(' '),
            c if is_unsafe(c) => shown.push('\u{fffd}'),
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// A URL (a queue, a cluster's server) as shown: its password masked, then cleaned.
pub fn shown_url(url: &str) -> String {
    clean(&mask_url(url)).into_owned()
}

/// Cuts `text` to `width` characters, marking the cut with an ellipsis.
pub fn truncate(text: &str, width: usize) -> String {
    let text = clean(text);
    if text.chars().count() <= width {
        text.into_owned()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// The first `count` characters of `text`, e.g. a job id or a commit sha shortened.
pub fn head(text: &str, count: usize) -> String {
    clean(text).chars().take(count).collect()
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Parameters and intermediates up to and including the final byte (`@` to `~`).
fn skip_csi(chars: &mut impl Iterator<Item = char>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// A string sequence (OSC, DCS, ...) up to BEL, ST (`ESC \`) or its 8-bit form.
fn skip_string(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            ESC => {
                chars.next_if_eq(&'\\');
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_go_and_controls_are_replaced() {
        assert_eq!(clean("plain ref"), "plain ref");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("\u{1b}[31mred\u{1b}[0m"), "red");
        assert_eq!(clean("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(clean("a\u{1b}]8;;http://x\u{1b}\\link"), "alink");
        assert_eq!(clean("a\u{9b}2Jb"), "ab");
        assert_eq!(clean("a\u{1b}cb"), "ab");
        assert_eq!(
            clean("main\nfake\rline\tx"),
            "main\u{fffd}fake\u{fffd}line x"
        );
        assert_eq!(clean("abc\u{202e}def"), "abc\u{fffd}def");
        assert_eq!(clean("cut\u{1b}["), "cut");
    }

    #[test]
    fn cuts_are_by_characters() {
        assert_eq!(head("jöb-ünïcode", 4), "jöb-");
        assert_eq!(head("ab", 8), "ab");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("\u{1b}[1mbold\u{1b}[0m", 4), "bold");
    }
}
