//! What one line of a draft states: shas, pull request references, handles, repositories,
//! versions, links, line counts, dates and numbers with what they count.
//!
//! Claims are read in an order that keeps one from being mistaken for another: links
//! first, then text taken whole from the data (subjects, titles, ...), which is blanked so
//! its digits and slashes claim nothing; each claim read is blanked in turn, and what is
//! left is read as numbers. Blanking keeps byte offsets, so excerpts come from the line.

use std::ops::Range;
use std::sync::LazyLock;

use regex_lite::Regex;

/// What a number counts, from the words next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Unit {
    Commits,
    Contributors,
    Repositories,
    PullRequests,
    Reviews,
    Issues,
    Releases,
    Lines,
    Files,
    Days,
    Hours,
    Percent,
}

impl Unit {
    /// "a commit count", for messages.
    pub(super) fn described(self) -> &'static str {
        match self {
            Unit::Commits => "commit count",
            Unit::Contributors => "contributor count",
            Unit::Repositories => "repository count",
            Unit::PullRequests => "pull request count",
            Unit::Reviews => "review count",
            Unit::Issues => "issue count",
            Unit::Releases => "release count",
            Unit::Lines => "line count",
            Unit::Files => "file count",
            Unit::Days => "day count",
            Unit::Hours => "duration in hours",
            Unit::Percent => "percent change",
        }
    }

    /// The unit a word (lowercase, without punctuation) names.
    fn of_word(word: &str) -> Option<Unit> {
        Some(match word {
            "commit" | "commits" | "merge" | "merges" => Unit::Commits,
            "contributor" | "contributors" | "person" | "people" | "author" | "authors"
            | "reviewer" | "reviewers" => Unit::Contributors,
            "repository" | "repositories" | "repo" | "repos" => Unit::Repositories,
            "pr" | "prs" => Unit::PullRequests,
            "review" | "reviews" => Unit::Reviews,
            "issue" | "issues" => Unit::Issues,
            "release" | "releases" => Unit::Releases,
            "line" | "lines" => Unit::Lines,
            "file" | "files" => Unit::Files,
            "day" | "days" => Unit::Days,
            "h" | "hour" | "hours" => Unit::Hours,
            "percent" => Unit::Percent,
            _ => return None,
        })
    }
}

/// Words allowed between a number and its unit: "3 more merged pull requests".
const QUALIFIERS: [&str; 8] = [
    "merged", "new", "active", "open", "opened", "closed", "other", "distinct",
];

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Claim<'a> {
    /// A sha in backticks and the text after it (up to the next backtick), which names
    /// the commit's subject and author: `` `abc1234` subject (Author) ``.
    CommitRef {
        sha: &'a str,
        rest: &'a str,
    },
    /// `[owner/name#12](url)` and the text after it: the title and `(author)`.
    PullLink {
        repo: &'a str,
        number: u64,
        rest: &'a str,
    },
    Link(&'a str),
    Sha(&'a str),
    /// `#12`, or `owner/name#12` with its repository.
    Pull {
        repo: Option<&'a str>,
        number: u64,
    },
    Login(&'a str),
    /// `owner/name`; `certain` when it cannot be a plain word pair like "and/or".
    Repository {
        name: &'a str,
        certain: bool,
    },
    Version(&'a str),
    /// `+120/−30`.
    Lines {
        insertions: u64,
        deletions: u64,
    },
    Date(&'a str),
    /// `key` is the number as [`number_key`] writes it; `more` for "3 more ...".
    Number {
        key: String,
        unit: Option<Unit>,
        more: bool,
    },
}

/// A claim and the text that states it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stated<'a> {
    pub claim: Claim<'a>,
    pub excerpt: &'a str,
    /// Where in the line it starts: claims are read in passes, findings go in line order.
    pub at: usize,
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid built-in pattern")
}

static CODE_SHA: LazyLock<Regex> = LazyLock::new(|| regex(r"`([0-9a-fA-F]{7,40})`"));
static PULL_LINK: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\[([A-Za-z0-9][\w.-]*/[\w.-]+)#([0-9]+)\]\([^)\s]*\)"));
pub(super) static URL: LazyLock<Regex> = LazyLock::new(|| regex(r#"https?://[^\s<>()\[\]"'`]+"#));
static BARE_SHA: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[0-9a-fA-F]{7,40}\b"));
pub(super) static REPO_PULL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)#([0-9]+)\b"));
pub(super) static PULL: LazyLock<Regex> = LazyLock::new(|| regex(r"#([0-9]+)\b"));
static LOGIN: LazyLock<Regex> = LazyLock::new(|| regex(r"@([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)"));
pub(super) static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[vV]?[0-9]+(?:\.[0-9]+){2,}(?:-[0-9A-Za-z.]+)?\b|\b[vV][0-9]+\.[0-9]+\b")
});
static LINES: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\+([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)/[−-]([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)")
});
static REPO: LazyLock<Regex> = LazyLock::new(|| regex(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*"));
pub(super) static DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b"));
pub(super) static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+(?:\.[0-9]+)?"));

/// A number as the checker compares it: `"24"` for `24`, `24.0` and `024`, `"18.5"`;
/// `"1234"` for `1,234`.
pub(super) fn number_key(text: &str) -> String {
    let text = text.replace(',', "");
    let text = text.as_str();
    let parsed = match text.contains('.') {
        false => text.parse::<u64>().map(|n| n.to_string()).ok(),
        true => text.parse::<f64>().map(|f| f.to_string()).ok(),
    };
    parsed.unwrap_or_else(|| text.trim_start_matches('0').to_owned())
}

/// Every claim of `line`, in the order they appear. `verbatim` is text the data holds
/// whole (subjects, titles, ...), longest first: where it appears it is the data speaking,
/// not a claim.
pub(super) fn claims<'a>(line: &'a str, verbatim: &[&str]) -> Vec<Stated<'a>> {
    let mut reading = Reading {
        line,
        left: line.to_owned(),
        out: Vec::new(),
    };
    // What a reference says about its author reads the line as written.
    reading.observe(&CODE_SHA, commit_ref);
    reading.observe(&PULL_LINK, pull_link);
    reading.take(&URL, link);
    blank_verbatim(&mut reading.left, verbatim);
    reading.take(&CODE_SHA, quoted_sha);
    reading.take(&BARE_SHA, bare_sha);
    reading.take(&REPO_PULL, repo_pull);
    reading.take(&PULL, pull);
    reading.take(&LOGIN, login);
    reading.take(&VERSION, |m| vec![(m.whole(), Claim::Version(m.text(0)))]);
    reading.take(&LINES, line_change);
    reading.take(&REPO, repository);
    reading.take(&DATE, |m| vec![(m.whole(), Claim::Date(m.text(0)))]);
    let Reading { left, mut out, .. } = reading;
    out.extend(numbers(line, &left));
    out.sort_by_key(|s| s.at);
    out
}

/// A line being read: what is `left` of it (claims read so far blanked) and what it states.
struct Reading<'a> {
    line: &'a str,
    left: String,
    out: Vec<Stated<'a>>,
}

type Read<'a> = Vec<(Range<usize>, Claim<'a>)>;

impl<'a> Reading<'a> {
    /// States what `read` makes of each match of `pattern`, leaving the text for others.
    fn observe(&mut self, pattern: &Regex, read: impl Fn(&Match<'a, '_>) -> Read<'a>) {
        self.scan(pattern, read);
    }

    /// States what `read` makes of each match of `pattern`, and blanks the matches that
    /// state something.
    fn take(&mut self, pattern: &Regex, read: impl Fn(&Match<'a, '_>) -> Read<'a>) {
        for whole in self.scan(pattern, read) {
            blank(&mut self.left, whole);
        }
    }

    /// The matches that stated something.
    fn scan(
        &mut self,
        pattern: &Regex,
        read: impl Fn(&Match<'a, '_>) -> Read<'a>,
    ) -> Vec<Range<usize>> {
        let all: Vec<Vec<Option<Range<usize>>>> = pattern
            .captures_iter(&self.left)
            .map(|c| c.iter().map(|g| g.map(|g| g.range())).collect())
            .collect();
        let mut stating = Vec::new();
        for groups in all {
            let m = Match {
                line: self.line,
                left: &self.left,
                groups,
            };
            let read = read(&m);
            if !read.is_empty() {
                stating.push(m.whole());
            }
            let stated = read.into_iter().map(|(range, claim)| Stated {
                claim,
                at: range.start,
                excerpt: &self.line[range],
            });
            self.out.extend(stated);
        }
        stating
    }
}

/// One match in what is left of a line; its text is taken from the line as written.
struct Match<'a, 'l> {
    line: &'a str,
    left: &'l str,
    groups: Vec<Option<Range<usize>>>,
}

impl<'a> Match<'a, '_> {
    fn range(&self, group: usize) -> Range<usize> {
        self.groups.get(group).cloned().flatten().unwrap_or(0..0)
    }

    fn whole(&self) -> Range<usize> {
        self.range(0)
    }

    fn text(&self, group: usize) -> &'a str {
        &self.line[self.range(group)]
    }

    /// The group as a count, thousands separators and all: `1,234`.
    fn number(&self, group: usize) -> Option<u64> {
        self.text(group).replace(',', "").parse().ok()
    }

    /// The character before the match, in what is left of the line.
    fn before(&self) -> Option<char> {
        preceding(self.left, self.whole().start)
    }
}

/// `` `abc1234` subject (Author) ``: the text after the sha, up to the next backtick.
fn commit_ref<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let tail = &m.line[m.whole().end..];
    let rest = &tail[..tail.find('`').unwrap_or(tail.len())];
    vec![(
        m.whole(),
        Claim::CommitRef {
            sha: m.text(1),
            rest,
        },
    )]
}

/// `[owner/name#12](url) title (author)`.
fn pull_link<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let Some(number) = m.number(2) else {
        return Vec::new();
    };
    let rest = &m.line[m.whole().end..];
    vec![(
        m.whole(),
        Claim::PullLink {
            repo: m.text(1),
            number,
            rest,
        },
    )]
}

fn link<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let url = m.text(0).trim_end_matches(['.', ',', ';', ':', '!', '?']);
    let start = m.whole().start;
    vec![(start..start + url.len(), Claim::Link(url))]
}

fn quoted_sha<'a>(m: &Match<'a, '_>) -> Read<'a> {
    vec![(m.range(1), Claim::Sha(m.text(1)))]
}

/// A word of 7 to 40 hex digits with a digit and a letter (`defaced` is a word).
fn bare_sha<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let word = m.text(0);
    let sha_like =
        word.chars().any(|c| c.is_ascii_digit()) && word.chars().any(char::is_alphabetic);
    match sha_like {
        true => vec![(m.whole(), Claim::Sha(word))],
        false => Vec::new(),
    }
}

/// `owner/name#12`: the pull request, and the repository.
fn repo_pull<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let Some(number) = m.number(2) else {
        return Vec::new();
    };
    let repo = m.text(1);
    vec![
        (
            m.whole(),
            Claim::Pull {
                repo: Some(repo),
                number,
            },
        ),
        (
            m.range(1),
            Claim::Repository {
                name: repo,
                certain: true,
            },
        ),
    ]
}

/// `#12`, not `x#12` nor an HTML entity (`&#39;`).
fn pull<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let in_word = m.before().is_some_and(|p| p.is_alphanumeric() || p == '&');
    match (in_word, m.number(1)) {
        (false, Some(number)) => vec![(m.whole(), Claim::Pull { repo: None, number })],
        _ => Vec::new(),
    }
}

/// `@ann`; `ann@example.org` is an address, not a handle.
fn login<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let in_address = m
        .before()
        .is_some_and(|p| p.is_alphanumeric() || matches!(p, '.' | '_' | '@' | '-'));
    match in_address {
        true => Vec::new(),
        false => vec![(m.whole(), Claim::Login(m.text(1)))],
    }
}

fn line_change<'a>(m: &Match<'a, '_>) -> Read<'a> {
    match (m.number(1), m.number(2)) {
        (Some(insertions), Some(deletions)) => vec![(
            m.whole(),
            Claim::Lines {
                insertions,
                deletions,
            },
        )],
        _ => Vec::new(),
    }
}

/// `owner/name`, when it is not part of a path and both parts have a letter; `certain`
/// when it cannot be a plain word pair ("and/or"): it has a digit, `-` or `_`.
fn repository<'a>(m: &Match<'a, '_>) -> Read<'a> {
    let whole = m.whole();
    let part_of_path = m
        .before()
        .is_some_and(|p| p.is_alphanumeric() || matches!(p, '/' | '.' | '~' | '_' | '-'))
        || m.left[whole.end..].starts_with('/');
    let name = m.text(0).trim_end_matches(['.', '-']);
    let worded = name
        .split('/')
        .all(|part| part.chars().any(char::is_alphabetic));
    if part_of_path || !worded {
        return Vec::new();
    }
    let certain = name
        .chars()
        .any(|c| c.is_ascii_digit() || c == '-' || c == '_');
    vec![(
        whole.start..whole.start + name.len(),
        Claim::Repository { name, certain },
    )]
}

/// `line` with the text the data holds whole blanked: what is left is the writer's.
pub(super) fn without_quotes(line: &str, verbatim: &[&str]) -> String {
    let mut text = line.to_owned();
    blank_verbatim(&mut text, verbatim);
    text
}

/// The texts of `verbatim` that `body` can quote, in their order: those it holds. Blanking
/// only turns text into spaces, so a text not in the body can appear by it only when it
/// has a run of spaces; those are kept too. Searching each line for every subject of a
/// long history would cost lines times subjects.
pub(super) fn quoted_in<'a>(body: &str, verbatim: &[&'a str]) -> Vec<&'a str> {
    verbatim
        .iter()
        .copied()
        .filter(|text| body.contains(text) || text.contains("  "))
        .collect()
}

fn blank_verbatim(text: &mut String, verbatim: &[&str]) {
    for quoted in verbatim {
        for range in whole_occurrences(text, quoted) {
            blank(text, range);
        }
    }
}

/// Replaces `range` with spaces: the text is gone, the offsets stay.
fn blank(text: &mut String, range: Range<usize>) {
    let spaces = " ".repeat(range.len());
    text.replace_range(range, &spaces);
}

fn preceding(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// Where `needle` appears in `text` as whole words (not inside a longer word).
fn whole_occurrences(text: &str, needle: &str) -> Vec<Range<usize>> {
    if needle.is_empty() {
        return Vec::new();
    }
    let word_edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let starts_word = needle.starts_with(char::is_alphanumeric);
    let ends_word = needle.ends_with(char::is_alphanumeric);
    text.match_indices(needle)
        .map(|(at, _)| at..at + needle.len())
        .filter(|r| !starts_word || word_edge(preceding(text, r.start)))
        .filter(|r| !ends_word || word_edge(text[r.end..].chars().next()))
        .collect()
}

/// One number of the text, before its unit is settled.
struct Found<'a> {
    range: Range<usize>,
    key: String,
    /// The unit named right after it, and where that name ends.
    unit: Option<(Unit, usize)>,
    more: bool,
    /// Named by a label before it: "Commits: 12".
    label: Option<Unit>,
    /// "from 3", "against 3": compared with a labelled number before it.
    compared: bool,
    /// "3 of 7 days": counts what the next number counts.
    part_of_next: bool,
    text: &'a str,
}

/// The numbers left in `masked` (a blanked copy of `line`) and what each counts.
fn numbers<'a>(line: &'a str, masked: &str) -> Vec<Stated<'a>> {
    let mut found: Vec<Found> = Vec::new();
    for m in NUMBER.find_iter(masked) {
        let before = preceding(masked, m.start());
        let in_word = before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
            || (before == Some('-')
                && preceding(masked, m.start() - 1).is_some_and(char::is_alphanumeric));
        let after = &masked[m.end()..];
        let suffix_len = after.len() - after.trim_start_matches(char::is_alphabetic).len();
        let suffix = &after[..suffix_len];
        let attached = match suffix {
            "" => None,
            "st" | "nd" | "rd" | "th" => Some(None),
            "h" => Some(Some(Unit::Hours)),
            // `5x`, `3d`: part of a word, not a count.
            _ => continue,
        };
        if in_word || after[suffix_len..].starts_with(|c: char| c == '_' || c.is_numeric()) {
            continue;
        }
        let (unit, more) = match attached {
            Some(unit) => (unit.map(|u| (u, m.end() + suffix_len)), false),
            None => unit_after(masked, m.end()),
        };
        found.push(Found {
            range: m.range(),
            key: number_key(m.as_str()),
            unit,
            more,
            label: label_before(&masked[..m.start()]),
            compared: last_word(&masked[..m.start()])
                .is_some_and(|w| w == "from" || w == "against"),
            part_of_next: after.trim_start().starts_with("of ") && {
                let of = after.trim_start()[3..].trim_start();
                of.starts_with(|c: char| c.is_ascii_digit())
            },
            text: &line[m.range()],
        });
    }
    let units: Vec<Option<Unit>> = found
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let own = f.unit.map(|(u, _)| u).or(f.label);
            own.or_else(|| {
                f.compared
                    .then(|| compared_with(&found[..i], f, masked))
                    .flatten()
            })
        })
        .collect();
    found
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let of_next = f.part_of_next.then(|| units.get(i + 1).copied().flatten());
            let unit = of_next.flatten().or(units[i]);
            let end = f.unit.map_or(f.range.end, |(_, end)| end);
            Stated {
                at: f.range.start,
                excerpt: if end > f.range.end {
                    &line[f.range.start..end]
                } else {
                    f.text
                },
                claim: Claim::Number {
                    key: f.key.clone(),
                    unit,
                    more: f.more,
                },
            }
        })
        .collect()
}

/// The unit of the labelled number that `compared` ("from 3") is set against: the last
/// one before it in the same sentence ("Commits: 5, up 67% from 3").
fn compared_with(before: &[Found], compared: &Found, masked: &str) -> Option<Unit> {
    let (labelled, unit) = before.iter().rev().find_map(|f| Some((f, f.label?)))?;
    let between = &masked[labelled.range.end..compared.range.start];
    let same_sentence = !between.contains(';') && !between.contains(". ");
    same_sentence.then_some(unit)
}

/// The unit named after a number at `at` ("%", "3 pull requests", "3 more merged commits"),
/// where its name ends, and whether "more" came before it.
fn unit_after(text: &str, at: usize) -> (Option<(Unit, usize)>, bool) {
    if text[at..].starts_with('%') {
        return (Some((Unit::Percent, at + 1)), false);
    }
    let mut more = false;
    let mut offset = at;
    for _ in 0..4 {
        let rest = &text[offset..];
        let gap = rest.len() - rest.trim_start_matches(' ').len();
        if gap == 0 {
            break;
        }
        let word_len = rest[gap..]
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len() - gap);
        let word = rest[gap..gap + word_len].to_lowercase();
        let word_end = offset + gap + word_len;
        if word == "pull" {
            let second = text[word_end..].strip_prefix(' ').unwrap_or("");
            for name in ["requests", "request"] {
                if second.starts_with(name)
                    && !second[name.len()..].starts_with(char::is_alphanumeric)
                {
                    return (Some((Unit::PullRequests, word_end + 1 + name.len())), more);
                }
            }
        }
        if let Some(unit) = Unit::of_word(&word) {
            return (Some((unit, word_end)), more);
        }
        match word.as_str() {
            "more" => more = true,
            w if QUALIFIERS.contains(&w) => {}
            _ => break,
        }
        offset = word_end;
    }
    (None, more)
}

/// The unit a label right before a number names: "Commits: 12", "Pull requests merged: 4".
fn label_before(before: &str) -> Option<Unit> {
    let label = before.trim_end().strip_suffix(':')?;
    let start = label
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphabetic() || c == ' '))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let words: Vec<String> = label[start..]
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    if words.len() > 4 {
        return None;
    }
    let pull_requests = words
        .windows(2)
        .any(|w| w[0] == "pull" && w[1].starts_with("request"));
    match pull_requests {
        true => Some(Unit::PullRequests),
        false => words.iter().rev().find_map(|w| Unit::of_word(w)),
    }
}

fn last_word(before: &str) -> Option<String> {
    let word = before.trim_end().rsplit(' ').next()?;
    Some(word.to_lowercase())
}

/// The author a reference names after the title it refers to: `title (Ann)` or
/// `title — Ann in repo`. With `title` given (as the data holds it) the name must follow
/// it; without, the first `(name)` that ends the reference is taken.
pub(super) fn stated_author<'a>(rest: &'a str, title: Option<&str>) -> Option<&'a str> {
    match title {
        Some(title) => author_after(rest.trim_start().strip_prefix(title)?),
        None => loose_author(rest),
    }
}

fn author_after(after: &str) -> Option<&str> {
    if let Some(inner) = after.strip_prefix(" (") {
        return inner.split_once(')').map(|(name, _)| name.trim());
    }
    let named = after.strip_prefix(" — ")?;
    let name = named.split_once(" in ").map_or(named, |(name, _)| name);
    Some(name.split([',', ';']).next().unwrap_or(name).trim())
}

/// Without the title to go by: the name after ` — `, else the first `(name)` that ends the
/// reference (`(Ann) in x`, `(Ann).`), else the last one.
fn loose_author(rest: &str) -> Option<&str> {
    if let Some(at) = rest.find(" — ") {
        return author_after(&rest[at..]);
    }
    let groups: Vec<(&str, &str)> = rest
        .match_indices(" (")
        .filter_map(|(at, _)| rest[at + 2..].split_once(')'))
        .filter(|(name, _)| !name.trim().is_empty() && !name.starts_with('#'))
        .collect();
    let ends_reference = |after: &str| {
        after.is_empty() || after.starts_with(" in ") || after.starts_with(['.', ',', ';', ':'])
    };
    let (name, _) = groups
        .iter()
        .find(|(_, after)| ends_reference(after))
        .or(groups.last())?;
    Some(name.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds<'a>(line: &'a str, verbatim: &[&str]) -> Vec<Claim<'a>> {
        claims(line, verbatim)
            .into_iter()
            .map(|s| s.claim)
            .collect()
    }

    fn number(key: &str, unit: Option<Unit>) -> Claim<'static> {
        Claim::Number {
            key: key.into(),
            unit,
            more: false,
        }
    }

    #[test]
    fn labels_after_multi_byte_characters_are_read() {
        assert_eq!(label_before("Week 47 — commits:"), Some(Unit::Commits));
        assert_eq!(label_before("Ann’s commits:"), Some(Unit::Commits));
        assert_eq!(kinds("Week 47 — commits: 0", &[]).len(), 2);
    }

    #[test]
    fn numbers_take_the_unit_named_after_or_before_them() {
        assert_eq!(
            kinds(
                "412 commits by 3 contributors; 3 more merged pull requests.",
                &[]
            ),
            [
                number("412", Some(Unit::Commits)),
                number("3", Some(Unit::Contributors)),
                Claim::Number {
                    key: "3".into(),
                    unit: Some(Unit::PullRequests),
                    more: true
                },
            ]
        );
        assert_eq!(
            kinds("- Pull requests merged: 4, up 100% from 2", &[]),
            [
                number("4", Some(Unit::PullRequests)),
                number("100", Some(Unit::Percent)),
                number("2", Some(Unit::PullRequests)),
            ]
        );
        assert_eq!(
            kinds(
                "Commits landed on 3 of 7 days; 1 of them, 90th, 18.50 h, 24h.",
                &[]
            ),
            [
                number("3", Some(Unit::Days)),
                number("7", Some(Unit::Days)),
                number("1", None),
                number("90", None),
                number("18.5", Some(Unit::Hours)),
                number("24", Some(Unit::Hours)),
            ]
        );
        assert_eq!(kinds("W47, x86_64, crate-5, 5x faster", &[]), []);
    }

    #[test]
    fn numbers_may_have_thousands_separators() {
        assert_eq!(
            kinds("328,879 lines, +1,234/−56; 1,2 and 3.", &[]),
            [
                number("328879", Some(Unit::Lines)),
                Claim::Lines {
                    insertions: 1234,
                    deletions: 56
                },
                number("1", None),
                number("2", None),
                number("3", None),
            ]
        );
    }

    #[test]
    fn references_links_and_shas_are_read_before_numbers() {
        let line = "- [lab/api#42](https://github.com/lab/api/pull/42) feat: v2 (bob), \
                    +96/−310 lines; see #7, @ann and `abc1234` on 2026-11-20 in lab/api v0.4.0";
        let found = kinds(line, &["feat: v2"]);
        assert!(found.contains(&Claim::Link("https://github.com/lab/api/pull/42")));
        assert!(found.contains(&Claim::Pull {
            repo: Some("lab/api"),
            number: 42
        }));
        assert!(found.contains(&Claim::Pull {
            repo: None,
            number: 7
        }));
        assert!(found.contains(&Claim::Login("ann")));
        assert!(found.contains(&Claim::Sha("abc1234")));
        assert!(found.contains(&Claim::Date("2026-11-20")));
        assert!(found.contains(&Claim::Version("v0.4.0")));
        assert!(found.contains(&Claim::Lines {
            insertions: 96,
            deletions: 310
        }));
        assert!(found.contains(&Claim::Repository {
            name: "lab/api",
            certain: false
        }));
        assert!(
            !found.iter().any(|c| matches!(c, Claim::Number { .. })),
            "every digit was part of another claim: {found:?}"
        );
    }

    #[test]
    fn addresses_paths_and_word_pairs_are_not_claims() {
        // Word pairs are repositories only if the data knows their owner: the judge decides.
        assert_eq!(
            kinds(
                "mail ann@example.org about src/app/mod.rs and/or CI/CD",
                &[]
            ),
            [
                Claim::Repository {
                    name: "and/or",
                    certain: false
                },
                Claim::Repository {
                    name: "CI/CD",
                    certain: false
                }
            ]
        );
        assert_eq!(
            kinds("in lab-tools/raibid.", &[]),
            [Claim::Repository {
                name: "lab-tools/raibid",
                certain: true
            }]
        );
    }

    #[test]
    fn authors_follow_the_title_they_refer_to() {
        assert_eq!(
            stated_author(" fix: x (#12) (Ann) in a", Some("fix: x (#12)")),
            Some("Ann")
        );
        assert_eq!(
            stated_author(" fix: x — Ann in a, +1/−2", Some("fix: x")),
            Some("Ann")
        );
        assert_eq!(stated_author(" fix: y (Ann)", Some("fix: x")), None);
        assert_eq!(stated_author(" fix: y (#12) (Ann).", None), Some("Ann"));
        assert_eq!(stated_author(" add (beta) flag (Ann)", None), Some("Ann"));
        assert_eq!(stated_author(" fix: y — Bob in a", None), Some("Bob"));
        assert_eq!(
            stated_author(" new (beta) thing (Bob) landed", None),
            Some("Bob")
        );
        assert_eq!(stated_author(" fix: y (#12) landed", None), None);
    }
}
