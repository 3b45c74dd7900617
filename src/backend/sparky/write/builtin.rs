//! The writer that needs no model: deterministic prose from the data.
//!
//! Same data, same text, byte for byte. Every sentence states a fact of the data; a quiet
//! period gets a short digest or post, never filler. A blog post gets no story from it: its
//! sections per repository tell each one's story from the data.

use super::github_render::{self, github, hours, pr_ref, release_ref};
use super::render::{
    self, Prose, commit_ref, count, day_name, is_breaking, lines, name_list, totals_phrase,
};
use super::{BoxFuture, TokenSink, WriteError, Writer, Written};
use crate::backend::sparky::analyze::{Contributor, Metrics, Notable};
use crate::backend::sparky::model::{DigestData, DraftKind};

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

/// A social post's sentences: the period's totals and its largest change, in plain text
/// (the renderer adds the numbers, the link and hashtags).
fn post_sentences(data: &DigestData) -> String {
    let m = &data.metrics;
    if m.totals.commits == 0 {
        return no_commits_sentence(data);
    }
    let t = &m.totals;
    let mut sentences = vec![format!(
        "{} during {}; {} lines.",
        totals_phrase(m),
        data.period.label,
        lines(t.insertions, t.deletions)
    )];
    sentences.extend(m.notable.first().map(|n| {
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

/// The Summary paragraph: totals, who and where, and the trend when there is one; for a
/// blog post of a period without commits, that and what GitHub saw. A social post's
/// sentences are shorter ([`post_sentences`]).
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
    let mut sentences = vec![totals_sentence(m)];
    sentences.extend(merges_sentence(m));
    sentences.extend(people_sentence(m));
    sentences.extend(bots_sentence(m));
    sentences.extend(github_sentences(data));
    if !render::has_highlights(kind) {
        // Without a Highlights section the summary names what stood out.
        sentences.extend(busiest_repo_sentence(m));
        sentences.extend(
            m.notable
                .first()
                .map(|n| format!("Largest change: {}.", change_facts(n))),
        );
    }
    sentences.extend(days_sentence(m));
    sentences.extend(trend_sentence(m));
    sentences.extend(github_trend_sentence(data));
    sentences.join(" ")
}

/// The Highlights bullets: the largest and breaking changes, the most active person, each
/// active repository's largest change, then further large changes, up to the kind's limit.
pub(super) fn highlights(data: &DigestData, kind: DraftKind) -> Vec<String> {
    let m = &data.metrics;
    let limit = render::highlight_limit(kind);
    let mut out = Vec::new();
    if let Some(top) = m.notable.first() {
        out.push(format!("Largest change: {}.", change_facts(top)));
    }
    let breaking = m.notable.iter().skip(1).filter(|n| is_breaking(n));
    out.extend(breaking.map(|n| format!("Breaking change: {} in {}.", commit_ref(n), n.repo)));
    if let Some(person) = humans(m).next() {
        out.push(format!(
            "{} made the most commits, {}, with {} lines in {}.",
            person.name,
            person.commits,
            lines(person.insertions, person.deletions),
            name_list(&person.repos),
        ));
    }
    out.extend(github_highlights(data, kind));
    if m.repos.len() > 1 {
        for repo in &m.repos {
            let mut line = format!(
                "{}: {} by {}",
                repo.name,
                count(repo.commits, "commit", "commits"),
                count(repo.contributors, "contributor", "contributors"),
            );
            if let Some(n) = m.notable.iter().find(|n| n.repo == repo.name) {
                line.push_str(&format!("; its largest change is {}", commit_ref(n)));
            }
            line.push('.');
            out.push(line);
        }
    }
    let others = m.notable.iter().skip(1).filter(|n| !is_breaking(n));
    out.extend(others.map(|n| format!("Also large: {}.", change_facts(n))));
    out.truncate(limit);
    out
}

fn totals_sentence(m: &Metrics) -> String {
    let t = &m.totals;
    format!(
        "{}; {} lines.",
        totals_phrase(m),
        lines(t.insertions, t.deletions)
    )
}

fn merges_sentence(m: &Metrics) -> Option<String> {
    match m.totals.merges {
        0 => None,
        1 => Some("1 of them is a merge.".into()),
        n => Some(format!("{n} of them are merges.")),
    }
}

fn people_sentence(m: &Metrics) -> Option<String> {
    let people: Vec<&Contributor> = humans(m).collect();
    match people.as_slice() {
        [] => None,
        [only] if m.contributors.len() == 1 => Some(format!("All by {}.", only.name)),
        _ => {
            let top: Vec<String> = people
                .iter()
                .take(3)
                .map(|p| format!("{} ({})", p.name, count(p.commits, "commit", "commits")))
                .collect();
            Some(format!("Most active: {}.", name_list(&top)))
        }
    }
}

fn bots_sentence(m: &Metrics) -> Option<String> {
    let bots: Vec<String> = m
        .contributors
        .iter()
        .filter(|c| c.is_bot)
        .map(|c| format!("{} ({})", c.name, count(c.commits, "commit", "commits")))
        .collect();
    (!bots.is_empty()).then(|| format!("Bots: {}.", name_list(&bots)))
}

fn busiest_repo_sentence(m: &Metrics) -> Option<String> {
    match m.repos.as_slice() {
        [busiest, _, ..] => Some(format!(
            "Busiest repository: {} ({}).",
            busiest.name,
            count(busiest.commits, "commit", "commits")
        )),
        _ => None,
    }
}

/// For periods longer than a day: on how many days commits landed, and the busiest one.
fn days_sentence(m: &Metrics) -> Option<String> {
    if m.commits_per_day.len() < 2 {
        return None;
    }
    let active = m.commits_per_day.iter().filter(|d| d.commits > 0).count();
    // The earliest of equally busy days, so the sentence does not depend on sort stability.
    let busiest = m.commits_per_day.iter().rev().max_by_key(|d| d.commits)?;
    Some(format!(
        "Commits landed on {active} of {} days; the busiest was {} with {}.",
        m.commits_per_day.len(),
        day_name(&busiest.date),
        count(busiest.commits, "commit", "commits"),
    ))
}

fn trend_sentence(m: &Metrics) -> Option<String> {
    let t = m.trend.as_ref()?;
    let commits = match t.commits_change_pct {
        Some(pct) => {
            format!("commits are {} {}", render::change(pct), t.previous.commits)
        }
        None => {
            return Some(format!(
                "{} had no commits to compare with.",
                t.previous_label
            ));
        }
    };
    let lines = match t.lines_change_pct {
        Some(pct) => format!(
            "lines {} {}",
            render::change(pct),
            lines(t.previous.insertions, t.previous.deletions)
        ),
        None => "no lines changed before".into(),
    };
    Some(format!(
        "Against {}, {commits}, and {lines}.",
        t.previous_label
    ))
}

/// "`abc1234` feat: x (ann) in raibid, +120/−30 lines in 4 files".
fn change_facts(n: &Notable) -> String {
    format!(
        "{} in {}, {} lines in {}",
        commit_ref(n),
        n.repo,
        lines(n.insertions, n.deletions),
        count(u64::from(n.files_changed), "file", "files"),
    )
}

fn humans(m: &Metrics) -> impl Iterator<Item = &Contributor> {
    m.contributors.iter().filter(|c| !c.is_bot)
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

fn github_trend_sentence(data: &DigestData) -> Option<String> {
    let t = github(data)?.trend.as_ref()?;
    let pct = t.prs_merged_change_pct?;
    Some(format!(
        "Pull requests merged are {} {}.",
        render::change(pct),
        t.previous.prs_merged
    ))
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
