//! Checks a model's prose before it reaches a digest.
//!
//! Every string of the answer (summary, highlights, story paragraphs, a social post) refers
//! to facts by id. A sentence that states a number, a handle, a sha, a link, a stock phrase
//! or an id we did not give is dropped (and noted); known ids are replaced with their
//! references rendered from the data.

use std::collections::BTreeMap;

use super::prompt::Facts;
use super::render::Prose;

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
    Html,
}

impl DropReason {
    fn note(self, n: usize) -> String {
        let sentences = if n == 1 { "sentence" } else { "sentences" };
        match self {
            DropReason::UnknownId => format!("dropped {n} model {sentences} with an unknown id"),
            DropReason::StockPhrase => format!("dropped {n} model {sentences} with a stock phrase"),
            DropReason::Link => format!("dropped {n} model {sentences} with a link"),
            DropReason::Html => format!("dropped {n} model {sentences} with HTML"),
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
        }
    }
}

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

/// Checks sentences against the facts and the stock phrases, counting what it drops.
struct Checker<'a> {
    facts: &'a Facts,
    /// `sparky.filler_phrases`, lowercased; empty ones left out (they would match anything).
    filler_phrases: Vec<String>,
    drops: BTreeMap<DropReason, usize>,
}

/// The checked prose (any part may come back empty) and what was dropped.
pub(super) fn check(
    prose: &Prose,
    facts: &Facts,
    filler_phrases: &[String],
) -> (Prose, Vec<String>) {
    let mut checker = Checker {
        facts,
        filler_phrases: filler_phrases
            .iter()
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .collect(),
        drops: BTreeMap::new(),
    };
    let checked = Prose {
        summary: checker.text(&prose.summary),
        highlights: checker.texts(&prose.highlights),
        story: checker.texts(&prose.story),
    };
    let notes = checker
        .drops
        .into_iter()
        .map(|(reason, n)| reason.note(n))
        .collect();
    (checked, notes)
}

impl Checker<'_> {
    /// Each text checked; those with nothing left are left out.
    fn texts(&mut self, texts: &[String]) -> Vec<String> {
        texts
            .iter()
            .map(|t| self.text(t))
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The sentences of `text` that pass, ids replaced, joined into one line. Headings and
    /// list markers a model put inside a string are dropped.
    fn text(&mut self, text: &str) -> String {
        let mut kept = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') {
                self.dropped(DropReason::Heading);
                continue;
            }
            for sentence in sentences(strip_bullet(line)) {
                match self.sentence(sentence) {
                    Ok(sentence) => kept.push(sentence),
                    Err(reason) => self.dropped(reason),
                }
            }
        }
        kept.join(" ")
    }

    fn dropped(&mut self, reason: DropReason) {
        *self.drops.entry(reason).or_default() += 1;
    }

    /// The sentence with its ids replaced, or why it cannot be used.
    fn sentence(&self, sentence: &str) -> Result<String, DropReason> {
        let (replaced, own_words) = replace_ids(sentence, self.facts)?;
        let lower = own_words.to_lowercase();
        if self.filler_phrases.iter().any(|p| lower.contains(p)) {
            return Err(DropReason::StockPhrase);
        }
        match problem(&own_words) {
            Some(reason) => Err(reason),
            None => Ok(replaced),
        }
    }
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

/// The sentence with its ids replaced by their references, and the model's own words
/// (the sentence without its ids); an unknown id makes the sentence unusable.
fn replace_ids(sentence: &str, facts: &Facts) -> Result<(String, String), DropReason> {
    let mut replaced = String::with_capacity(sentence.len());
    let mut own_words = String::with_capacity(sentence.len());
    let mut rest = sentence;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        let inner = &rest[open + 1..close];
        replaced.push_str(&rest[..open]);
        own_words.push_str(&rest[..open]);
        if is_id(inner) {
            replaced.push_str(facts.reference(inner).ok_or(DropReason::UnknownId)?);
        } else {
            replaced.push_str(&rest[open..=close]);
            own_words.push_str(&rest[open..=close]);
        }
        rest = &rest[close + 1..];
    }
    replaced.push_str(rest);
    own_words.push_str(rest);
    Ok((replaced, own_words))
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

/// What in the model's own words (ids removed) states a fact of its own.
fn problem(text: &str) -> Option<DropReason> {
    let lower = text.to_lowercase();
    if lower.contains("://") || lower.contains("www.") || lower.contains("](") {
        return Some(DropReason::Link);
    }
    // A tag, a comment or an autolink: HTML on the docs site.
    let opens_tag =
        |(c, next): (char, char)| c == '<' && (next.is_ascii_alphabetic() || "/!?".contains(next));
    if text.chars().zip(text.chars().skip(1)).any(opens_tag) {
        return Some(DropReason::Html);
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
        assert_eq!(problem("A <script>x</script> ran."), Some(DropReason::Html));
        assert_eq!(
            problem("Then <img src=x onerror=y>."),
            Some(DropReason::Html)
        );
        assert_eq!(problem("Fewer than < before."), None);
        assert_eq!(problem("Commit deadbee1 landed."), Some(DropReason::Sha));
        assert_eq!(problem("It took ½ a day."), Some(DropReason::Digit));
        assert_eq!(
            problem("Twelve commits landed."),
            Some(DropReason::NumberWord)
        );
        assert_eq!(problem("Hundreds of lines."), Some(DropReason::NumberWord));
        assert_eq!(problem("One of the changes is defaced."), None);
        assert!(is_id("C12") && is_id("T1") && !is_id("bot") && !is_id("C") && !is_id("C1234"));
    }

    #[test]
    fn every_string_is_checked_and_ids_replaced() {
        use super::super::prompt::Fact;
        let fact = |id: &str, reference: &str| Fact {
            id: id.into(),
            description: String::new(),
            reference: reference.into(),
        };
        let facts = Facts(vec![fact("T1", "12 commits"), fact("P1", "ann")]);
        let prose = Prose {
            summary: "We saw [T1]. A Testament To hard work. It took 3 days.".into(),
            highlights: vec!["- [P1] led.".into(), "## Heading\n[C9] landed.".into()],
            story: vec![
                "First, [P1] started.\nThen [T1] followed.".into(),
                "Twelve.".into(),
            ],
        };
        let phrases = ["a testament to".to_owned(), " ".to_owned()];
        let (checked, notes) = check(&prose, &facts, &phrases);
        assert_eq!(checked.summary, "We saw 12 commits.");
        assert_eq!(checked.highlights, ["ann led."]);
        assert_eq!(
            checked.story,
            ["First, ann started. Then 12 commits followed."]
        );
        assert_eq!(
            notes,
            [
                "dropped 1 model sentence with an unknown id",
                "dropped 1 model sentence with a stock phrase",
                "dropped 1 model sentence with a number",
                "dropped 1 model sentence with a spelled-out number",
                "dropped 1 model heading",
            ]
        );
    }
}
