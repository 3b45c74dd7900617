//! The draft checker: every draft, written by a model, by the built-in writer or edited
//! by hand, is held against the data it was written from.
//!
//! What the text states ([`claims`]: numbers with what they count, `#12`, `@login`,
//! commit references and their authors, repositories, shas, versions, links) must be what
//! the data holds ([`known`]); the draft as a whole ([`shape`]) must fit its kind's length
//! and sections and say no stock filler; and it must tell things once, readably
//! ([`told`]): no commit named twice, no sentence template used more than twice, large
//! numbers with thousands separators. docs/checker.md has the rules with examples.

mod claims;
mod known;
mod shape;
mod told;

use serde::Serialize;

use self::claims::{Claim, Stated, Unit};
use self::known::Known;
use super::model::{DigestData, DraftKind};
use super::write::markdown;

/// What the checker is configured with.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Stock phrases (any case, whole words) a draft must not use: `sparky.filler_phrases`.
    pub filler_phrases: &'a [String],
}

impl<'a> Rules<'a> {
    /// The rules `config` sets (`sparky.filler_phrases`).
    pub fn of(config: &'a crate::config::Config) -> Rules<'a> {
        Rules {
            filler_phrases: &config.sparky.filler_phrases,
        }
    }
}

/// Which rule a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Number,
    PullRequest,
    Login,
    Author,
    Repository,
    Sha,
    Version,
    Link,
    Length,
    Section,
    Filler,
    /// A commit named again: a draft tells each commit once.
    RepeatedCommit,
    /// A number of 10,000 or more without thousands separators.
    BareNumber,
    /// One sentence template used more than twice.
    RepeatedTemplate,
    /// The draft's data could not be read, so nothing in it could be checked.
    Data,
}

impl Rule {
    /// The rule's name, as `--json` writes it: `number`, `pull-request`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Number => "number",
            Rule::PullRequest => "pull-request",
            Rule::Login => "login",
            Rule::Author => "author",
            Rule::Repository => "repository",
            Rule::Sha => "sha",
            Rule::Version => "version",
            Rule::Link => "link",
            Rule::Length => "length",
            Rule::Section => "section",
            Rule::Filler => "filler",
            Rule::RepeatedCommit => "repeated-commit",
            Rule::BareNumber => "bare-number",
            Rule::RepeatedTemplate => "repeated-template",
            Rule::Data => "data",
        }
    }
}

/// One thing a draft states that its data does not support, or a rule of its kind it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    /// 1-based line in the body; 0 for the whole draft.
    pub line: usize,
    /// The offending text.
    pub excerpt: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// `LINE: RULE: MESSAGE`, as `raibid drafts check` prints it after the draft's id.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.line, self.rule.as_str(), self.message)
    }
}

/// Everything wrong with `body`, a draft of `kind` written from `data`: by line, then as
/// found. Empty when the draft is clean.
pub fn check(body: &str, kind: DraftKind, data: &DigestData, rules: &Rules) -> Vec<Finding> {
    // Drafts quote the data escaped for Markdown ([`markdown::text`]); the data is raw.
    let body = &markdown::unescape(body);
    let known = Known::new(data);
    let mut findings = Vec::new();
    let mut unquoted = Vec::new();
    let mut shas = Vec::new();
    let mut templates = told::Templates::default();
    let verbatim = claims::quoted_in(body, &known.verbatim);
    for (i, line) in body.lines().enumerate() {
        let number = i + 1;
        let stated = claims::claims(line, &verbatim);
        for s in &stated {
            let broken = [judge(s, &known), told::bare_number(line, s)];
            findings.extend(broken.into_iter().flatten().map(|(rule, message)| Finding {
                rule,
                line: number,
                excerpt: s.excerpt.to_owned(),
                message,
            }));
            if let Claim::Sha(sha) = s.claim {
                shas.push((number, sha));
            }
        }
        let left = claims::without_quotes(line, &verbatim);
        templates.read(number, line, &left, &stated, &known);
        unquoted.push(left);
    }
    findings.extend(told::repeated_commits(&shas, &known));
    findings.extend(templates.repeated());
    findings.extend(shape::filler(&unquoted, rules.filler_phrases));
    findings.extend(shape::sections(body, kind, data));
    findings.extend(shape::length(body, kind));
    findings.sort_by_key(|f| f.line);
    findings.dedup();
    findings
}

/// The rule a claim breaks and why, or `None` when the data supports it.
fn judge(stated: &Stated, known: &Known) -> Option<(Rule, String)> {
    let text = stated.excerpt;
    match &stated.claim {
        Claim::CommitRef { sha, rest } => commit_author(sha, rest, known),
        Claim::PullLink { repo, number, rest } => pull_author(repo, *number, rest, known),
        Claim::Link(url) => (!known.is_link(url))
            .then(|| (Rule::Link, format!("{url} is not a link the data holds"))),
        Claim::Sha(sha) => known.commits_starting(sha).is_empty().then(|| {
            (
                Rule::Sha,
                format!("{sha} is not the start of any commit's sha in the data"),
            )
        }),
        Claim::Pull { repo, number } => (!known.is_pull(*repo, *number)).then(|| {
            let whose = repo.map_or_else(String::new, |r| format!(" of {r}"));
            (
                Rule::PullRequest,
                format!("{text} is not a pull request or issue{whose} in the data"),
            )
        }),
        Claim::Login(login) => (!known.is_login(login))
            .then(|| (Rule::Login, format!("@{login} is not a login in the data"))),
        Claim::Repository { name, certain } => {
            let owner = name.split('/').next().unwrap_or(name);
            let claimed = *certain || known.is_owner(owner);
            (claimed && !known.is_repo(name)).then(|| {
                (
                    Rule::Repository,
                    format!("{name} is not a repository in the data"),
                )
            })
        }
        Claim::Version(version) => (!known.is_version(version)).then(|| {
            (
                Rule::Version,
                format!("{version} is not a release tag in the data"),
            )
        }),
        Claim::Lines {
            insertions,
            deletions,
        } => (!known.is_line_change(*insertions, *deletions)).then(|| {
            (
                Rule::Number,
                format!(
                    "{text}: nothing in the data has {insertions} lines added and {deletions} removed"
                ),
            )
        }),
        Claim::Date(date) => (!known.is_date(date))
            .then(|| (Rule::Number, format!("{date} is not a date of the data"))),
        Claim::Number { key, unit, more } => number(text, key, *unit, *more, known),
    }
}

fn number(
    text: &str,
    key: &str,
    unit: Option<Unit>,
    more: bool,
    known: &Known,
) -> Option<(Rule, String)> {
    let message = match unit {
        Some(unit) if more => {
            let most = known.most(unit).unwrap_or(0.0);
            let fits = key.parse::<f64>().is_ok_and(|n| n > 0.0 && n <= most);
            (!fits).then(|| {
                format!(
                    "{text}: the data has no more than {most} in any {}",
                    unit.described()
                )
            })?
        }
        Some(unit) => (!known.is_count(unit, key))
            .then(|| format!("{text}: no {} in the data is {key}", unit.described()))?,
        None => (!known.is_number(key)).then(|| format!("{key} is not a number in the data"))?,
    };
    Some((Rule::Number, message))
}

/// `` `abc1234` subject (Author) ``: the author must be the commit's.
fn commit_author(sha: &str, rest: &str, known: &Known) -> Option<(Rule, String)> {
    // An unknown sha is the Sha rule's finding.
    let commits = known.commits_starting(sha);
    let first = commits.first()?;
    // A reference quoting its commit's subject names an author only right after it: a
    // subject of its own may hold "(revert)".
    let quotes_subject = commits
        .iter()
        .any(|c| rest.trim_start().starts_with(c.subject.as_str()));
    let stated = match quotes_subject {
        true => commits
            .iter()
            .find_map(|c| claims::stated_author(rest, Some(&c.subject)))?,
        false => claims::stated_author(rest, None)?,
    };
    if commits.iter().any(|c| known.is_author(c, stated)) {
        return None;
    }
    Some((
        Rule::Author,
        format!("`{sha}` is by {}, not {stated}", first.author),
    ))
}

/// `[owner/name#12](url) title (author)`: the author must be the pull request's.
fn pull_author(repo: &str, number: u64, rest: &str, known: &Known) -> Option<(Rule, String)> {
    let pr = known
        .merged
        .iter()
        .find(|pr| pr.number == number && pr.repo.eq_ignore_ascii_case(repo))?;
    let stated = claims::stated_author(rest, Some(&pr.title))
        .or_else(|| claims::stated_author(rest, None))?;
    (!pr.author.eq_ignore_ascii_case(stated)).then(|| {
        (
            Rule::Author,
            format!("{repo}#{number} is by {}, not {stated}", pr.author),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_what_json_writes() {
        for rule in [
            Rule::Number,
            Rule::PullRequest,
            Rule::Login,
            Rule::Author,
            Rule::Repository,
            Rule::Sha,
            Rule::Version,
            Rule::Link,
            Rule::Length,
            Rule::Section,
            Rule::Filler,
            Rule::RepeatedCommit,
            Rule::BareNumber,
            Rule::RepeatedTemplate,
            Rule::Data,
        ] {
            assert_eq!(serde_json::to_value(rule).unwrap(), rule.as_str());
        }
    }
}
