//! The writer that needs no model: deterministic prose from the data.
//!
//! Same data, same text, byte for byte. Every sentence states a fact of the data; a quiet
//! period gets a short digest or post, never filler. A blog post gets no story from it: its
//! sections per repository tell each one's story from the data.

use super::github_render::{self, github, hours, pr_ref, release_ref};
use super::markdown;
use super::narrative::{is_quiet, quoted, shown_themes, theme_size, themed};
use super::render::{
    self, Prose, commit_ref, count, is_breaking, lines, name_list, number, one_person, short_sha,
    totals_phrase,
};
use super::{BoxFuture, TokenSink, WriteError, Writer, Written};
use crate::backend::sparky::analyze::{Notable, Theme};
use crate::backend::sparky::model::{DigestData, DraftKind, PeriodKind};

/// The themes the Summary names.
const MAIN_THEMES: usize = 3;

/// Writes digests and posts from the data alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinWriter;

impl Writer for BuiltinWriter {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn write<'a>(
        &'a self,
        data: &'a DigestData,
        kind: DraftKind,
        tokens: &'a TokenSink,
    ) -> BoxFuture<'a, Result<Written, WriteError>> {
        Box::pin(async move {
            let written = write(data, kind);
            // A closed sink only means nobody is watching the preview.
            let _ = tokens.send(written.body.clone());
            Ok(written)
        })
    }
}

/// The built-in text of `data` as a `kind`; [`one_line`] for a digest of a period without
/// commits (a post of such a period says so in its own form).
fn write(data: &DigestData, kind: DraftKind) -> Written {
    if data.metrics.totals.commits == 0 && kind.is_digest() {
        return one_line(data);
    }
    let data = &markdown::for_kind(data, kind);
    let prose = Prose {
        summary: summary(data, kind),
        highlights: highlights(data, kind),
        story: Vec::new(),
    };
    Written {
        title: render::title(data, kind),
        body: render::render(data, kind, &prose),
        model: None,
        notes: Vec::new(),
    }
}

/// The digest of a period without commits: one sentence, no filler (and what GitHub saw,
/// when it saw something).
pub fn one_line(data: &DigestData) -> Written {
    let kind = DraftKind::for_period(data.period.kind);
    let mut sentences = vec![no_commits_sentence(data)];
    sentences.extend(github_sentences(data));
    Written {
        title: render::title(data, kind),
        body: format!("{}\n", sentences.join(" ")),
        model: None,
        notes: Vec::new(),
    }
}

/// "No commits in raibid and docs during 2026-W47."
fn no_commits_sentence(data: &DigestData) -> String {
    let label = &data.period.label;
    match data.repos.len() {
        0 => format!("No commits during {label}."),
        1..=3 => format!("No commits in {} during {label}.", name_list(&data.repos)),
        n => format!("No commits in any of the {n} repositories during {label}."),
    }
}

/// A social post's sentences: the period's main theme and its totals (without themes, the
/// totals and the largest change), in plain text (the renderer adds the numbers, the link
/// and hashtags).
fn post_sentences(data: &DigestData) -> String {
    let m = &data.metrics;
    if m.totals.commits == 0 {
        return no_commits_sentence(data);
    }
    let t = &m.totals;
    let mut sentences: Vec<String> = shown_themes(data, DraftKind::Mastodon)
        .iter()
        .map(|theme| {
            format!(
                "The main theme of {} was {}.",
                data.period.label,
                weighed(theme, t.commits)
            )
        })
        .collect();
    let themed = !sentences.is_empty();
    sentences.push(format!(
        "{} during {}; {} lines.",
        totals_phrase(m),
        data.period.label,
        lines(t.insertions, t.deletions)
    ));
    let largest = m.notable.first().filter(|_| !themed);
    sentences.extend(largest.map(|n| {
        format!(
            "Largest change: “{}” by {} in {}, {} lines.",
            n.subject,
            n.author,
            n.repo,
            lines(n.insertions, n.deletions)
        )
    }));
    sentences.join(" ")
}

/// "raibid and docs", or "5 repositories".
fn place(repos: &[String]) -> String {
    match repos.len() {
        0..=3 => name_list(repos),
        n => count(n as u64, "repository", "repositories"),
    }
}

/// The Summary paragraph: what the period was about (its main themes, or where the work
/// went), and whether it was quiet; for a period without commits, that and what GitHub
/// saw. A social post's sentences are shorter ([`post_sentences`]). The figures come after
/// the themes and stories, from the renderer.
fn summary(data: &DigestData, kind: DraftKind) -> String {
    let m = &data.metrics;
    if kind.post_limit().is_some() {
        return post_sentences(data);
    }
    if m.totals.commits == 0 {
        let mut sentences = vec![no_commits_sentence(data)];
        sentences.extend(github_sentences(data));
        return sentences.join(" ");
    }
    let mut sentences: Vec<String> = quiet_sentence(data, kind).into_iter().collect();
    sentences.extend(about_sentences(data, kind));
    sentences.join(" ")
}

/// "A quiet week: 5 commits." for a period with few commits, which gets a short draft.
fn quiet_sentence(data: &DigestData, kind: DraftKind) -> Option<String> {
    if !is_quiet(data, kind) {
        return None;
    }
    let noun = match data.period.kind {
        PeriodKind::Day => "day",
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
        PeriodKind::Custom => "period",
    };
    let commits = data.metrics.totals.commits;
    Some(format!(
        "A quiet {noun}: {}.",
        count(commits, "commit", "commits")
    ))
}

/// The two or three main themes in a sentence and the heaviest one's weight; without
/// themes, where the work went.
fn about_sentences(data: &DigestData, kind: DraftKind) -> Vec<String> {
    let m = &data.metrics;
    let label = &data.period.label;
    let themes = shown_themes(data, kind);
    let Some(heaviest) = themes.first() else {
        let busiest: Vec<String> = match m.repos.as_slice() {
            [only] => vec![only.name.clone()],
            repos => repos
                .iter()
                .take(3)
                .map(|r| format!("{} ({})", r.name, count(r.commits, "commit", "commits")))
                .collect(),
        };
        let most = if m.repos.len() > busiest.len() {
            "Most"
        } else {
            "All"
        };
        return vec![format!(
            "{most} of the work of {label} went into {}.",
            name_list(&busiest)
        )];
    };
    // Each title said once; the heaviest carries its weight.
    let mut titles = vec![weighed(heaviest, m.totals.commits)];
    titles.extend(themes.iter().take(MAIN_THEMES).skip(1).map(quoted));
    let sentence = match titles.len() {
        1 => format!("The main theme of {label} was {}.", titles[0]),
        _ => format!("The main themes of {label} were {}.", name_list(&titles)),
    };
    vec![sentence]
}

/// "“title” (13 of its 60 commits, in raibid and docs)": a theme named once with its
/// share of the period's `commits` (its pull requests, when it has no commits) and where;
/// "(all 2 commits, in lab)" when it holds every one.
fn weighed(theme: &Theme, commits: u64) -> String {
    let share = match theme.commits.len() {
        0 => theme_size(theme),
        n if n as u64 == commits => Some(format!("all {}", count(commits, "commit", "commits"))),
        n => Some(format!(
            "{} of its {}",
            number(n as u64),
            count(commits, "commit", "commits")
        )),
    };
    match share {
        Some(share) => format!("{} ({share}, in {})", quoted(theme), place(&theme.repos)),
        // A release seen on GitHub alone: its title names it.
        None => quoted(theme),
    }
}

/// The Highlights bullets: the largest and breaking changes the themes do not tell, and
/// what GitHub saw stand out, up to the kind's limit.
pub(super) fn highlights(data: &DigestData, kind: DraftKind) -> Vec<String> {
    let m = &data.metrics;
    let limit = render::highlight_limit(kind);
    let untold: Vec<&Notable> = m
        .notable
        .iter()
        .filter(|n| !themed(data, kind, &n.sha))
        .collect();
    let mut out = Vec::new();
    if untold.is_empty() {
        out.extend(largest_in_a_theme(data, kind));
    }
    if let Some(top) = untold.first() {
        let themes_tell_commits = shown_themes(data, kind)
            .iter()
            .any(|t| !t.commits.is_empty());
        let what = match themes_tell_commits {
            true => "Largest change outside the themes",
            false => "Largest change",
        };
        out.push(format!("{what}: {}.", change_facts(data, top)));
    }
    let breaking = untold.iter().skip(1).filter(|n| is_breaking(n));
    out.extend(breaking.map(|n| format!("Breaking change: {} in {}.", cite(data, n), n.repo)));
    out.extend(github_highlights(data, kind));
    out.truncate(limit);
    out
}

/// When the themes tell every ranked change: where the largest one is told, without
/// naming it again.
fn largest_in_a_theme(data: &DigestData, kind: DraftKind) -> Option<String> {
    let top = data.metrics.notable.first()?;
    let theme = shown_themes(data, kind)
        .iter()
        .find(|t| t.commits.contains(&top.sha))?;
    let files = match top.files_unknown {
        true => String::new(),
        false => format!(
            " in {}",
            count(u64::from(top.files_changed), "file", "files")
        ),
    };
    Some(format!(
        "The largest change, {} lines{files}, is told under {}.",
        lines(top.insertions, top.deletions),
        quoted(theme)
    ))
}

/// "`abc1234` feat: x (ann) in raibid, +120/−30 lines in 4 files".
fn change_facts(data: &DigestData, n: &Notable) -> String {
    format!(
        "{} in {}, {} lines in {}",
        cite(data, n),
        n.repo,
        lines(n.insertions, n.deletions),
        count(u64::from(n.files_changed), "file", "files"),
    )
}

/// Pull requests, issues and releases in a sentence each, when GitHub saw any.
fn github_sentences(data: &DigestData) -> Vec<String> {
    let Some(g) = github(data) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let prs = &g.pull_requests;
    if prs.opened + prs.merged + prs.closed_unmerged > 0 {
        let mut sentence = format!("Pull requests: {}", github_render::pr_counts(g));
        if let Some(time) = github_render::time_to_merge(g) {
            sentence.push_str(&format!("; time to merge {time}"));
        }
        sentence.push('.');
        out.push(sentence);
    }
    if g.issues.opened + g.issues.closed > 0 {
        out.push(format!("Issues: {}.", github_render::issue_counts(g)));
    }
    if !g.releases.is_empty() {
        let names: Vec<String> = g
            .releases
            .iter()
            .map(|r| format!("{} {}", r.repo, r.tag))
            .collect();
        out.push(format!("Released: {}.", name_list(&names)));
    }
    out
}

/// A commit with its author, or without when one person made every commit (the figures
/// say so once).
fn cite(data: &DigestData, n: &Notable) -> String {
    match one_person(data) {
        true => format!("`{}` {}", short_sha(&n.sha), n.subject),
        false => commit_ref(n),
    }
}

/// The largest merged pull request, the busiest reviewer and the releases.
fn github_highlights(data: &DigestData, kind: DraftKind) -> Vec<String> {
    let Some(g) = github(data) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(pr) = github_render::listed_merged(g, kind).first() {
        out.push(format!(
            "Largest merged pull request: {}, {} lines, merged in {}.",
            pr_ref(pr),
            lines(pr.additions, pr.deletions),
            hours(pr.hours_to_merge)
        ));
    }
    if let Some(top) = g.reviews.reviewers.first() {
        out.push(format!(
            "{} reviewed the most pull requests, {}.",
            top.login, top.reviewed
        ));
    }
    out.extend(
        g.releases
            .iter()
            .map(|r| format!("Released {}: {}.", release_ref(r), r.name)),
    );
    out
}
