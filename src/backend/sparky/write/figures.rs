//! The figures of a period in one paragraph, rendered from the data after its themes and
//! stories: totals, who (a period with one person says so here, once), the bulk change
//! behind most of the lines, bots as a group,
//! the days, and against the previous period when the draft has no Trend section. What
//! GitHub saw has its own sections.

use super::render::{self, count, day_name, lines, name_list, number};
use crate::backend::sparky::analyze::{BulkReason, Contributor, Metrics};
use crate::backend::sparky::model::{CommitRecord, DigestData, DraftKind};

/// The In figures paragraph; `None` for a period without commits.
pub(super) fn figures(data: &DigestData, kind: DraftKind) -> Option<String> {
    let m = &data.metrics;
    if m.totals.commits == 0 {
        return None;
    }
    let mut sentences = vec![totals_sentence(m)];
    sentences.extend(bulk_sentence(data));
    sentences.extend(merges_sentence(m));
    sentences.extend(bots_sentence(m));
    sentences.extend(days_sentence(m));
    if !render::has_trend(kind) {
        sentences.extend(trend_sentence(m));
    }
    Some(sentences.join(" "))
}

fn humans(m: &Metrics) -> impl Iterator<Item = &Contributor> {
    m.contributors.iter().filter(|c| !c.is_bot)
}

/// "40 commits by 3 contributors across 2 repositories, +1,204/−56 lines; ann made the
/// most, 21.", or "ann made all 40 commits ..." when one person did.
fn totals_sentence(m: &Metrics) -> String {
    let t = &m.totals;
    let place = render::place(m);
    let changed = lines(t.insertions, t.deletions);
    let commits = count(t.commits, "commit", "commits");
    let people: Vec<&Contributor> = humans(m).collect();
    if let [only] = people.as_slice()
        && only.commits == t.commits
    {
        return format!("{} made all {commits} {place}, {changed} lines.", only.name);
    }
    let totals = format!(
        "{commits} by {} {place}, {changed} lines",
        count(t.contributors, "contributor", "contributors")
    );
    match people.as_slice() {
        // The most active person, when one made more commits than anyone else.
        [top, next, ..] if top.commits > next.commits => format!(
            "{totals}; {} made the most, {}.",
            top.name,
            number(top.commits)
        ),
        _ => format!("{totals}."),
    }
}

/// The largest bulk change, when it makes a quarter of the lines or more: "A formatting
/// pass in gitui accounts for +25,246/−25,249 of these lines." (bulk changes are never
/// ranked, so without this a reader could take the totals for written code).
fn bulk_sentence(data: &DigestData) -> Option<String> {
    let m = &data.metrics;
    let size = |c: &CommitRecord| c.insertions + c.deletions;
    let (bulk, commit) = m
        .bulk
        .iter()
        .filter_map(|b| Some((b, data.commits.iter().find(|c| c.sha == b.sha)?)))
        .max_by_key(|(b, c)| (size(c), std::cmp::Reverse(b.sha.as_str())))?;
    let total = m.totals.insertions + m.totals.deletions;
    if size(commit) * 4 < total || size(commit) == 0 {
        return None;
    }
    let what = match bulk.reason {
        BulkReason::Import => "A subtree import",
        BulkReason::Vendored => "A vendored tree",
        BulkReason::Generated => "A change of generated files",
        BulkReason::Lockfile => "A lockfile update",
        BulkReason::Formatting => "A formatting pass",
    };
    Some(format!(
        "{what} in {} accounts for {} of these lines.",
        bulk.repo,
        lines(commit.insertions, commit.deletions)
    ))
}

fn merges_sentence(m: &Metrics) -> Option<String> {
    match m.totals.merges {
        0 => None,
        1 => Some("1 of them is a merge.".into()),
        n => Some(format!("{} of them are merges.", number(n))),
    }
}

/// Bots as one group: "Bots: dependabot[bot] (1 commit) and renovate[bot] (3 commits)."
fn bots_sentence(m: &Metrics) -> Option<String> {
    let bots: Vec<String> = m
        .contributors
        .iter()
        .filter(|c| c.is_bot)
        .map(|c| format!("{} ({})", c.name, count(c.commits, "commit", "commits")))
        .collect();
    (!bots.is_empty()).then(|| format!("Bots: {}.", name_list(&bots)))
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
        "Commits landed on {} of {} days; the busiest was {} with {}.",
        number(active as u64),
        number(m.commits_per_day.len() as u64),
        day_name(&busiest.date),
        count(busiest.commits, "commit", "commits"),
    ))
}

/// "Against 2026-11-17, commits are up 50% from 4, and lines down 10% from +40/−2."
fn trend_sentence(m: &Metrics) -> Option<String> {
    let t = m.trend.as_ref()?;
    let Some(pct) = t.commits_change_pct else {
        return Some(format!(
            "{} had no commits to compare with.",
            t.previous_label
        ));
    };
    let commits = format!(
        "commits are {} {}",
        render::change(pct),
        number(t.previous.commits)
    );
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
