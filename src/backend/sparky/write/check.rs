//! Checks a model's text before it reaches a digest.
//!
//! The model answers `SUMMARY:` and `HIGHLIGHTS:` and refers to facts by id. A sentence
//! that states a number, a handle, a sha, a link or an id we did not give is dropped (and
//! noted); known ids are replaced with their references rendered from the data.

use std::collections::BTreeMap;

use super::prompt::Facts;
use super::render::{self, Prose};
use crate::backend::sparky::model::DraftKind;

/// Why a piece of the model's text was dropped; the order is the order of the notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum DropReason {
    UnknownId,
    StockPhrase,
    Link,
    Handle,
    Sha,
    Digit,
    NumberWord,
    Heading,
    UnaskedHighlight,
}

impl DropReason {
    fn note(self, n: usize) -> String {
        let sentences = if n == 1 { "sentence" } else { "sentences" };
        match self {
            DropReason::UnknownId => format!("dropped {n} model {sentences} with an unknown id"),
            DropReason::StockPhrase => format!("dropped {n} model {sentences} with a stock phrase"),
            DropReason::Link => format!("dropped {n} model {sentences} with a link"),
            DropReason::Handle => format!("dropped {n} model {sentences} with an @handle"),
            DropReason::Sha => format!("dropped {n} model {sentences} with a sha-like word"),
            DropReason::Digit => format!("dropped {n} model {sentences} with a number"),
            DropReason::NumberWord => {
                format!("dropped {n} model {sentences} with a spelled-out number")
            }
            DropReason::Heading => {
                format!(
                    "dropped {n} model {}",
                    if n == 1 { "heading" } else { "headings" }
                )
            }
            DropReason::UnaskedHighlight => format!(
                "dropped {n} model {} this kind of digest has none",
                if n == 1 { "highlight:" } else { "highlights:" }
            ),
        }
    }
}

/// Phrases of generic filler the first prototype's model wrote (field notes).
const STOCK_PHRASES: [&str; 10] = [
    "significant progress",
    "conclusion",
    "recommend",
    "in summary",
    "to summarize",
    "going forward",
    "moving forward",
    "stay tuned",
    "keep up the",
    "great job",
];

/// Number words a model could state a count with; "one" is left out (as in "one of").
const NUMBER_WORDS: [&str; 31] = [
    "zero",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "dozen",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Summary,
    Highlights,
}

/// The checked prose of `text` (either part may come back empty) and what was dropped.
pub(super) fn check(text: &str, facts: &Facts, kind: DraftKind) -> (Prose, Vec<String>) {
    let mut drops: BTreeMap<DropReason, usize> = BTreeMap::new();
    let mut summary: Vec<String> = Vec::new();
    let mut highlights: Vec<String> = Vec::new();
    let mut part = Part::Summary;
    for raw in text.lines() {
        let mut line = raw.trim();
        if let Some((marked, rest)) = marker(line) {
            part = marked;
            line = rest;
        } else if line.starts_with('#') {
            *drops.entry(DropReason::Heading).or_default() += 1;
            continue;
        }
        let line = strip_bullet(line);
        if line.is_empty() {
            continue;
        }
        if part == Part::Highlights && !render::has_highlights(kind) {
            *drops.entry(DropReason::UnaskedHighlight).or_default() += 1;
            continue;
        }
        let kept: Vec<String> = sentences(line)
            .filter_map(|s| match checked(s, facts) {
                Ok(s) => Some(s),
                Err(reason) => {
                    *drops.entry(reason).or_default() += 1;
                    None
                }
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        match part {
            Part::Summary => summary.extend(kept),
            Part::Highlights => highlights.push(kept.join(" ")),
        }
    }
    let notes = drops
        .into_iter()
        .map(|(reason, n)| reason.note(n))
        .collect();
    (
        Prose {
            summary: summary.join(" "),
            highlights,
            story: Vec::new(),
        },
        notes,
    )
}

/// `SUMMARY:`, `## Highlights`, `**Summary:** text`: the part it starts and the text after it.
fn marker(line: &str) -> Option<(Part, &str)> {
    let bare = line.trim_start_matches(['#', '*', ' ']);
    let starts = |word: &str| {
        // `get` so that text with multi-byte characters is never cut inside one.
        let head = bare.get(..word.len())?;
        head.eq_ignore_ascii_case(word).then(|| &bare[word.len()..])
    };
    let (part, rest) = match (starts("summary"), starts("highlights")) {
        (Some(rest), _) => (Part::Summary, rest),
        (_, Some(rest)) => (Part::Highlights, rest),
        _ => return None,
    };
    // "Summary of the week ..." is a sentence, not a marker.
    let rest_is_text = rest.starts_with(|c: char| c.is_alphanumeric() || c == ' ');
    if rest_is_text && !rest.trim().is_empty() {
        return None;
    }
    Some((part, rest.trim_start_matches([':', '*', ' ']).trim()))
}

/// Drops a leading `- `, `* `, `• ` or `1. ` list marker.
fn strip_bullet(line: &str) -> &str {
    let line = line.trim_start_matches(['-', '*', '•', '+']).trim_start();
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    match line[digits..].strip_prefix(['.', ')']) {
        Some(rest) if digits > 0 => rest.trim_start(),
        _ => line,
    }
}

/// Sentences end at `.`, `!` or `?` followed by whitespace.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut cuts = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at_end = chars.peek().is_none_or(|&(_, next)| next.is_whitespace());
        if matches!(c, '.' | '!' | '?') && at_end {
            cuts.push(&text[start..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    cuts.push(&text[start..]);
    cuts.into_iter().map(str::trim).filter(|s| !s.is_empty())
}

/// The sentence with its ids replaced, or why it cannot be used.
fn checked(sentence: &str, facts: &Facts) -> Result<String, DropReason> {
    let mut replaced = String::with_capacity(sentence.len());
    let mut without_ids = String::with_capacity(sentence.len());
    let mut rest = sentence;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        let inner = &rest[open + 1..close];
        replaced.push_str(&rest[..open]);
        without_ids.push_str(&rest[..open]);
        if is_id(inner) {
            replaced.push_str(facts.reference(inner).ok_or(DropReason::UnknownId)?);
        } else {
            replaced.push_str(&rest[open..=close]);
            without_ids.push_str(&rest[open..=close]);
        }
        rest = &rest[close + 1..];
    }
    replaced.push_str(rest);
    without_ids.push_str(rest);
    match problem(&without_ids) {
        Some(reason) => Err(reason),
        None => Ok(replaced),
    }
}

/// `C12`, `P1`, `T3`: one or two capitals, then one to three digits.
fn is_id(text: &str) -> bool {
    let letters = text.len()
        - text
            .trim_start_matches(|c: char| c.is_ascii_uppercase())
            .len();
    let digits = &text[letters..];
    (1..=2).contains(&letters)
        && (1..=3).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
}

/// What in the model's own words (ids removed) makes a sentence unusable.
fn problem(text: &str) -> Option<DropReason> {
    let lower = text.to_lowercase();
    if STOCK_PHRASES.iter().any(|p| lower.contains(p)) {
        return Some(DropReason::StockPhrase);
    }
    if lower.contains("://") || lower.contains("www.") || lower.contains("](") {
        return Some(DropReason::Link);
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' && chars.peek().is_some_and(|n| n.is_alphanumeric()) {
            return Some(DropReason::Handle);
        }
    }
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    let sha_like = |w: &&str| {
        w.len() >= 7
            && w.chars().all(|c| c.is_ascii_hexdigit())
            && w.chars().any(|c| c.is_ascii_digit())
    };
    if words.iter().any(sha_like) {
        return Some(DropReason::Sha);
    }
    if text.chars().any(char::is_numeric) {
        return Some(DropReason::Digit);
    }
    let number_word = |w: &&str| {
        let w = w.to_lowercase();
        NUMBER_WORDS
            .iter()
            .any(|n| w == *n || w.strip_suffix('s') == Some(n))
    };
    if lower
        .split(|c: char| !c.is_alphabetic())
        .any(|w| number_word(&w))
    {
        return Some(DropReason::NumberWord);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_start_parts_but_sentences_do_not() {
        assert!(matches!(marker("SUMMARY:"), Some((Part::Summary, ""))));
        assert!(matches!(
            marker("## Highlights"),
            Some((Part::Highlights, ""))
        ));
        assert!(matches!(
            marker("**Summary:** Busy."),
            Some((Part::Summary, "Busy."))
        ));
        assert!(marker("Summary of the week is short.").is_none());
        assert!(marker("Résumé: é").is_none() && marker("Ünïcödé").is_none());
    }

    #[test]
    fn bullets_and_sentences_split() {
        assert_eq!(strip_bullet("- a"), "a");
        assert_eq!(strip_bullet("2) b"), "b");
        assert_eq!(strip_bullet("2026 was"), "2026 was");
        let parts: Vec<&str> = sentences("One [C1]. Two? v1.2 three").collect();
        assert_eq!(parts, ["One [C1].", "Two?", "v1.2 three"]);
    }

    #[test]
    fn model_words_with_facts_of_their_own_are_found() {
        assert_eq!(problem("Thanks @ann for this."), Some(DropReason::Handle));
        assert_eq!(problem("See https://x.org now."), Some(DropReason::Link));
        assert_eq!(problem("Commit deadbee1 landed."), Some(DropReason::Sha));
        assert_eq!(problem("It took ½ a day."), Some(DropReason::Digit));
        assert_eq!(
            problem("Twelve commits landed."),
            Some(DropReason::NumberWord)
        );
        assert_eq!(problem("Hundreds of lines."), Some(DropReason::NumberWord));
        assert_eq!(
            problem("A significant progress."),
            Some(DropReason::StockPhrase)
        );
        assert_eq!(problem("One of the changes is defaced."), None);
        assert!(is_id("C12") && is_id("T1") && !is_id("bot") && !is_id("C") && !is_id("C1234"));
    }
}
