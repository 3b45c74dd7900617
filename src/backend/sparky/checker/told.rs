//! How a draft tells what it tells: each commit once, no sentence cast in the same mould
//! again and again, and large numbers written to be read (`328,879`, not `328879`).

use std::collections::{BTreeMap, HashMap};

use super::claims::{Claim, NUMBER, Stated};
use super::known::Known;
use super::{Finding, Rule};

/// How many times one sentence template may be used.
const TEMPLATE_USES: usize = 2;
/// A template of fewer words is too short to be a mould: "Released: v0.4.0."
const TEMPLATE_WORDS: usize = 3;
/// Numbers with this many digits and more (10,000 and up) need thousands separators.
const SEPARATED_DIGITS: usize = 5;
/// A word right before a number that makes it a name, not an amount: `job 123456`.
const ID_WORDS: [&str; 9] = [
    "id", "job", "run", "build", "pipeline", "issue", "pr", "request", "ticket",
];
/// What a masked part of a sentence template reads as.
const MASK: &str = "…";

/// A number of 10,000 or more written without thousands separators, alone or in a line
/// change (`+328879/−12`), unless the word before it makes it an id. Years, dates, shas,
/// versions and `#12` references are other claims, never numbers.
pub(super) fn bare_number(line: &str, stated: &Stated) -> Option<(Rule, String)> {
    // A number's excerpt runs on to its unit; a line change holds two numbers.
    let numbers = match stated.claim {
        Claim::Number { .. } => NUMBER.find_iter(stated.excerpt).take(1),
        Claim::Lines { .. } => NUMBER.find_iter(stated.excerpt).take(2),
        _ => return None,
    };
    let bare = numbers.map(|m| m.as_str()).find(|n| is_bare_large(n))?;
    let before = line[..stated.at]
        .trim_end()
        .trim_end_matches([':', '-', '—']);
    let last_word = before.rsplit(char::is_whitespace).next().unwrap_or("");
    let last_word = last_word.trim_start_matches(|c: char| !c.is_alphanumeric());
    if ID_WORDS.contains(&last_word.to_lowercase().as_str()) {
        return None;
    }
    Some((
        Rule::BareNumber,
        format!(
            "{bare} is hard to read: write it with thousands separators, {}",
            separated(bare)
        ),
    ))
}

fn is_bare_large(number: &str) -> bool {
    let whole = number.split('.').next().unwrap_or(number);
    !number.contains(',') && whole.trim_start_matches('0').len() >= SEPARATED_DIGITS
}

/// `328879` as `328,879`; `12345.5` as `12,345.5`.
fn separated(number: &str) -> String {
    let (whole, fraction) = number
        .split_once('.')
        .map_or((number, None), |(w, f)| (w, Some(f)));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// The same commit named a second time (by any start of its sha): one finding for each
/// time after the first. `shas` are the shas the draft names, with their lines, in order.
pub(super) fn repeated_commits(shas: &[(usize, &str)], known: &Known) -> Vec<Finding> {
    let mut first_told: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for &(line, sha) in shas {
        let commit = match known.commits_starting(sha).as_slice() {
            [one] => one.sha.to_lowercase(),
            _ => sha.to_lowercase(),
        };
        match first_told.get(&commit) {
            None => {
                first_told.insert(commit, line);
            }
            Some(first) => out.push(Finding {
                rule: Rule::RepeatedCommit,
                line,
                excerpt: sha.to_owned(),
                message: format!("`{sha}` is told on line {first} already: name each commit once"),
            }),
        }
    }
    out
}

/// The sentence templates of a draft's prose and where each is used. A template is a
/// sentence with what the data fills in masked: numbers (with their units), names, shas,
/// repositories, links and quoted text. Lists, tables, headings and code are left out: a
/// list's items share a shape by design.
#[derive(Default)]
pub(super) struct Templates {
    in_code: bool,
    /// Template, and the lines it is used on (a line once for each use).
    uses: BTreeMap<String, Vec<usize>>,
}

impl Templates {
    /// Reads line `number` of the body: `line` as written, `unquoted` with the data's own
    /// text blanked, and what it states.
    pub(super) fn read(
        &mut self,
        number: usize,
        line: &str,
        unquoted: &str,
        stated: &[Stated],
        known: &Known,
    ) {
        let text = line.trim_start();
        if text.starts_with("```") || text.starts_with("~~~") {
            self.in_code = !self.in_code;
            return;
        }
        if self.in_code || !is_prose(line) {
            return;
        }
        let template = template(line, unquoted, stated, known);
        for sentence in sentences(&template) {
            let words = sentence
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphabetic))
                .count();
            if words >= TEMPLATE_WORDS {
                self.uses
                    .entry(sentence.to_owned())
                    .or_default()
                    .push(number);
            }
        }
    }

    /// A finding for each template used more than twice, on the line it is used too often.
    pub(super) fn repeated(self) -> Vec<Finding> {
        self.uses
            .into_iter()
            .filter(|(_, lines)| lines.len() > TEMPLATE_USES)
            .map(|(template, lines)| {
                let on: Vec<String> = lines.iter().map(usize::to_string).collect();
                Finding {
                    rule: Rule::RepeatedTemplate,
                    line: lines[TEMPLATE_USES],
                    message: format!(
                        "the sentence \"{template}\" is used {} times (lines {}): say it once, \
                         or tell each in its own words",
                        lines.len(),
                        on.join(", ")
                    ),
                    excerpt: template,
                }
            })
            .collect()
    }
}

/// A paragraph's line: not a heading, list item, table row or indented code.
fn is_prose(line: &str) -> bool {
    let text = line.trim_start();
    let list_item = text.starts_with(['-', '*', '+']) && text[1..].starts_with([' ', '\t'])
        || text.split_once(['.', ')']).is_some_and(|(n, rest)| {
            !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && rest.starts_with(' ')
        });
    let heading = text.starts_with('#') && text.trim_start_matches('#').starts_with([' ', '\t']);
    !(text.is_empty()
        || line.starts_with("    ")
        || line.starts_with('\t')
        || heading
        || list_item
        || text.starts_with('|'))
}

/// `line` with what the data fills in masked, each masked run as one [`MASK`], lowercase,
/// its whitespace collapsed.
fn template(line: &str, unquoted: &str, stated: &[Stated], known: &Known) -> String {
    // The data's own text is blanked in `unquoted`, with the offsets kept.
    let mut masked: Vec<bool> = line
        .bytes()
        .zip(unquoted.bytes())
        .map(|(was, is)| was != is)
        .collect();
    let mut mask = |start: usize, len: usize| masked[start..start + len].fill(true);
    // A number goes with its unit: "3 commits" and "1 commit" fill the same slot.
    for s in stated {
        mask(s.at, s.excerpt.len());
    }
    // Logins written without their `@`: "ann reviewed the most".
    for (at, word) in words(line) {
        if known.is_login(word) {
            mask(at, word.len());
        }
    }
    let mut out = String::new();
    for (at, c) in line.char_indices() {
        if masked[at] {
            // Masked runs apart only by spaces are one: "`abc1234` fix: x (Ann)".
            let kept = out.trim_end_matches(' ').len();
            match out[..kept].ends_with(MASK) {
                true => out.truncate(kept),
                false => out.push_str(MASK),
            }
        } else if c.is_whitespace() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The words of `line` (letters, digits, `-`, `_`) with where each starts.
fn words(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    line.char_indices()
        .filter(move |&(at, c)| is_word(c) && !line[..at].ends_with(is_word))
        .map(move |(at, _)| {
            let len = line[at..]
                .find(|c: char| !is_word(c))
                .unwrap_or(line.len() - at);
            (at, &line[at..at + len])
        })
}

/// The sentences of a template: ended by `.`, `!` or `?` before whitespace or the end.
fn sentences(template: &str) -> impl Iterator<Item = &str> {
    let mut rest = template;
    std::iter::from_fn(move || {
        while !rest.is_empty() {
            let end = rest
                .char_indices()
                .find(|&(at, c)| {
                    matches!(c, '.' | '!' | '?')
                        && rest[at + 1..]
                            .chars()
                            .next()
                            .is_none_or(char::is_whitespace)
                })
                .map_or(rest.len(), |(at, _)| at + 1);
            let sentence = rest[..end].trim();
            rest = &rest[end..];
            if !sentence.is_empty() {
                return Some(sentence);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_numbers_are_written_with_separators() {
        assert_eq!(separated("328879"), "328,879");
        assert_eq!(separated("12345.5"), "12,345.5");
        assert_eq!(separated("1234567"), "1,234,567");
        assert!(is_bare_large("10000") && is_bare_large("12345.5"));
        assert!(!is_bare_large("9999") && !is_bare_large("328,879") && !is_bare_large("3.14159"));
    }

    #[test]
    fn sentences_end_before_whitespace() {
        let found: Vec<&str> = sentences("… landed in … . a v… fix! why? end").collect();
        assert_eq!(found, ["… landed in … .", "a v… fix!", "why?", "end"]);
    }

    #[test]
    fn only_paragraphs_are_prose() {
        for line in ["Busy week.", "#12 landed.", "  **Bold** start"] {
            assert!(is_prose(line), "{line}");
        }
        for line in [
            "## Summary",
            "- item",
            "* item",
            "12. item",
            "| a | b |",
            "    code",
            "",
        ] {
            assert!(!is_prose(line), "{line}");
        }
    }
}
