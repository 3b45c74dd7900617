//! The GitHub parts of a digest: pull requests, reviews, issues, releases, people across
//! repositories and their trend, rendered from [`GithubMetrics`]. Each is `None` (or empty)
//! without GitHub data, so local-only digests read as before.

use super::render::{count, day_name, lines, local_date, name_list};
use crate::backend::sparky::analyze::{GithubMetrics, MergedPullRequest, Profile};
use crate::backend::sparky::model::{DigestData, DraftKind, ReleaseRecord};

/// How many reviewers a digest lists.
const REVIEWER_LIMIT: usize = 10;

pub(super) fn github(data: &DigestData) -> Option<&GithubMetrics> {
    data.metrics.github.as_ref()
}

/// How many merged pull requests a digest of `kind` lists.
pub(super) fn merged_limit(kind: DraftKind) -> usize {
    super::render::notable_limit(kind)
}

/// "18.5 h", "19 h": hours as the data holds them (to 0.1).
pub(super) fn hours(h: f64) -> String {
    format!("{h} h")
}

/// "[lab/api#12](https://…) title (ann)".
pub(super) fn pr_ref(pr: &MergedPullRequest) -> String {
    format!(
        "[{}#{}]({}) {} ({})",
        pr.repo, pr.number, pr.url, pr.title, pr.author
    )
}

/// "[lab/api v1.2.0](https://…)".
pub(super) fn release_ref(release: &ReleaseRecord) -> String {
    format!("[{} {}]({})", release.repo, release.tag, release.url)
}

/// The merged pull requests a digest lists: people's first, largest first; bots' after.
pub(super) fn listed_merged(g: &GithubMetrics, kind: DraftKind) -> Vec<&MergedPullRequest> {
    let merged = &g.pull_requests.merged_list;
    let people = merged.iter().filter(|pr| !pr.is_bot);
    let bots = merged.iter().filter(|pr| pr.is_bot);
    people.chain(bots).take(merged_limit(kind)).collect()
}

/// "9 merged, 12 opened and 1 closed without merging".
pub(super) fn pr_counts(g: &GithubMetrics) -> String {
    let prs = &g.pull_requests;
    let mut parts = vec![
        format!("{} merged", prs.merged),
        format!("{} opened", prs.opened),
    ];
    if prs.closed_unmerged > 0 {
        parts.push(format!("{} closed without merging", prs.closed_unmerged));
    }
    name_list(&parts)
}

/// "median 18.5 h, 90th percentile 52 h", when something was merged.
pub(super) fn time_to_merge(g: &GithubMetrics) -> Option<String> {
    let prs = &g.pull_requests;
    let median = prs.median_hours_to_merge?;
    Some(match prs.p90_hours_to_merge {
        Some(p90) if prs.merged > 1 => {
            format!("median {}, 90th percentile {}", hours(median), hours(p90))
        }
        _ => hours(median),
    })
}

/// The Pull requests section: counts, time to merge, velocity, then the merged ones.
pub(super) fn pull_requests(data: &DigestData, kind: DraftKind) -> Option<String> {
    let g = github(data)?;
    let prs = &g.pull_requests;
    if prs.opened + prs.merged + prs.closed_unmerged == 0 {
        return None;
    }
    let mut head = format!("Pull requests: {}", pr_counts(g));
    if prs.merged > 0 {
        head.push_str(&format!("; {} merged per day", prs.merged_per_day));
    }
    head.push('.');
    if let Some(time) = time_to_merge(g) {
        head.push_str(&format!(" Time to merge: {time}."));
    }
    let listed = listed_merged(g, kind);
    let mut bullets: Vec<String> = listed.iter().map(|pr| merged_line(pr)).collect();
    let more = prs.merged_list.len() - listed.len();
    if more > 0 {
        bullets.push(format!(
            "{} not listed",
            count(
                more as u64,
                "more merged pull request",
                "more merged pull requests"
            )
        ));
    }
    Some(join(head, bullets))
}

/// "[lab/api#12](…) title (ann), +120/−30 lines, merged in 18.5 h, reviewed by bob".
pub(super) fn merged_line(pr: &MergedPullRequest) -> String {
    let mut line = format!(
        "{}, {} lines, merged in {}",
        pr_ref(pr),
        lines(pr.additions, pr.deletions),
        hours(pr.hours_to_merge)
    );
    if pr.is_bot {
        line.push_str(" (bot)");
    }
    match pr.reviewers.as_slice() {
        [] => line.push_str(", without review"),
        reviewers => line.push_str(&format!(", reviewed by {}", name_list(reviewers))),
    }
    line
}

/// The Reviews section: who reviewed most, and what was merged without review.
pub(super) fn reviews(data: &DigestData) -> Option<String> {
    let reviews = &github(data)?.reviews;
    let mut bullets: Vec<String> = reviews
        .reviewers
        .iter()
        .take(REVIEWER_LIMIT)
        .map(|r| {
            format!(
                "{} — {} reviewed",
                r.login,
                count(r.reviewed, "pull request", "pull requests")
            )
        })
        .collect();
    if reviews.merged_without_review > 0 {
        bullets.push(format!(
            "Merged without review: {}",
            count(
                reviews.merged_without_review,
                "pull request",
                "pull requests"
            )
        ));
    }
    bullets_only(bullets)
}

/// "5 opened and 8 closed".
pub(super) fn issue_counts(g: &GithubMetrics) -> String {
    format!("{} opened and {} closed", g.issues.opened, g.issues.closed)
}

/// The Issues section: opened, closed, how the backlog moved, time to close, per repository.
pub(super) fn issues(data: &DigestData) -> Option<String> {
    let issues = &github(data)?.issues;
    if issues.opened + issues.closed == 0 {
        return None;
    }
    let backlog = match issues.net {
        0 => "the backlog held steady".to_owned(),
        n if n > 0 => format!("the backlog grew by {n}"),
        n => format!("the backlog shrank by {}", n.unsigned_abs()),
    };
    let mut head = format!("Issues: {}; {backlog}.", issue_counts(github(data)?));
    if let Some(h) = issues.median_hours_to_close {
        head.push_str(&format!(" Median time to close: {}.", hours(h)));
    }
    let bullets: Vec<String> = match issues.per_repo.as_slice() {
        [_] => Vec::new(),
        repos => repos
            .iter()
            .map(|r| format!("{} — {} opened, {} closed", r.repo, r.opened, r.closed))
            .collect(),
    };
    Some(join(head, bullets))
}

/// The Releases section: every release published in the period, oldest first.
pub(super) fn releases(data: &DigestData) -> Option<String> {
    let g = github(data)?;
    bullets_only(
        g.releases
            .iter()
            .map(|r| {
                let date = local_date(data, r.published);
                let mut line = format!("{} {} — {}", release_ref(r), r.name, day_name(&date));
                if r.prerelease {
                    line.push_str(" (pre-release)");
                }
                line
            })
            .collect(),
    )
}

/// The Contributors section with GitHub data: each person across repositories.
pub(super) fn people(data: &DigestData) -> Option<Vec<String>> {
    Some(github(data)?.people.iter().map(profile_line).collect())
}

fn profile_line(p: &Profile) -> String {
    let mut parts = Vec::new();
    if p.commits > 0 {
        parts.push(format!(
            "{}, {} lines",
            count(p.commits, "commit", "commits"),
            lines(p.insertions, p.deletions)
        ));
    }
    match (p.prs_opened, p.prs_merged) {
        (0, 0) => {}
        (0, merged) => parts.push(count(merged, "pull request merged", "pull requests merged")),
        (opened, 0) => parts.push(count(opened, "pull request opened", "pull requests opened")),
        (opened, merged) => parts.push(format!(
            "{} opened, {merged} merged",
            count(opened, "pull request", "pull requests")
        )),
    }
    if p.reviews > 0 {
        parts.push(count(p.reviews, "review", "reviews"));
    }
    format!(
        "{}{} — {} in {}",
        person_name(p),
        if p.is_bot { " (bot)" } else { "" },
        parts.join(", "),
        name_list(&p.repos)
    )
}

/// "Ann (ann)" when the login differs from the name, else the name.
pub(super) fn person_name(p: &Profile) -> String {
    match &p.login {
        Some(login) if login != &p.name => format!("{} ({login})", p.name),
        _ => p.name.clone(),
    }
}

/// What a Repositories line adds for a repository with pull requests merged or issues
/// closed: "; 4 pull requests merged, 2 issues closed".
pub(super) fn repo_suffix(data: &DigestData, repo: &str) -> String {
    let Some(g) = github(data) else {
        return String::new();
    };
    let mut parts = Vec::new();
    let prs = g.pull_requests.per_repo.iter().find(|r| r.repo == repo);
    if let Some(r) = prs.filter(|r| r.merged > 0) {
        parts.push(format!(
            "{} merged",
            count(r.merged, "pull request", "pull requests")
        ));
    }
    let issues = g.issues.per_repo.iter().find(|r| r.repo == repo);
    if let Some(r) = issues.filter(|r| r.closed > 0) {
        parts.push(format!("{} closed", count(r.closed, "issue", "issues")));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!("; {}", parts.join(", ")),
    }
}

/// The Trend lines GitHub adds.
pub(super) fn trend_lines(data: &DigestData) -> Vec<String> {
    let Some(g) = github(data) else {
        return Vec::new();
    };
    let Some(t) = &g.trend else {
        return Vec::new();
    };
    let now = g.totals();
    let before = &t.previous;
    let compared = |what: &str, now: u64, before: u64, pct: Option<f64>| match pct {
        Some(pct) => format!("{what}: {now}, {} {before}", super::render::change(pct)),
        None => format!("{what}: {now}; {} had none", t.previous_label),
    };
    let mut out = vec![
        compared(
            "Pull requests merged",
            now.prs_merged,
            before.prs_merged,
            t.prs_merged_change_pct,
        ),
        compared(
            "Pull requests opened",
            now.prs_opened,
            before.prs_opened,
            t.prs_opened_change_pct,
        ),
    ];
    if let (Some(now_h), Some(before_h)) = (now.median_hours_to_merge, before.median_hours_to_merge)
    {
        out.push(format!(
            "Median time to merge: {}, against {}",
            hours(now_h),
            hours(before_h)
        ));
    }
    out.push(compared(
        "Issues closed",
        now.issues_closed,
        before.issues_closed,
        t.issues_closed_change_pct,
    ));
    out.push(format!(
        "Issues opened: {}, against {}",
        now.issues_opened, before.issues_opened
    ));
    out.push(format!(
        "Releases: {}, against {}",
        now.releases, before.releases
    ));
    out
}

/// What could not be read, locally then from GitHub, one line per repository.
pub(super) fn failures(data: &DigestData) -> Option<String> {
    let github = data.metrics.github.iter().flat_map(|g| &g.failures);
    bullets_only(
        data.failures
            .iter()
            .chain(github)
            .map(|f| format!("{}: {}", f.repo, f.reason))
            .collect(),
    )
}

fn join(head: String, bullets: Vec<String>) -> String {
    match bullets_only(bullets) {
        Some(list) => format!("{head}\n\n{list}"),
        None => head,
    }
}

fn bullets_only(lines: Vec<String>) -> Option<String> {
    let lines: Vec<String> = lines.into_iter().map(|l| format!("- {l}")).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}
