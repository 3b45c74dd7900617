//! Metrics of one period's activity: plain functions on plain data.
//!
//! The impact score that ranks notable changes is documented in docs/sparky.md:
//! `log2(1 + lines) + 0.5 * log2(1 + files)`, plus 2 for a breaking change
//! (`!:` or `BREAKING` in the subject). Merges, bot commits and bulk changes ([`bulk`]:
//! imports, vendored or generated trees, lockfile-only and formatting-only commits) are not
//! ranked: impact ranks code people wrote.
//!
//! Repositories from GitHub add pull requests, reviews, issues, releases and people across
//! repositories ([`github`]); local-only activity leaves [`Metrics::github`] empty.

mod bulk;
mod github;
#[cfg(test)]
mod github_tests;
mod issues;
mod people;
mod pulls;
mod stats;
mod subject;
mod themes;

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::model::{Activity, CommitRecord, Period};
pub use bulk::{Bulk, BulkReason, bulk, bulk_reason};
pub use github::{
    GithubMetrics, GithubTotals, GithubTrend, SourceFailure, analyze_github, is_github_repo,
};
pub use issues::{IssueStats, RepoIssues};
pub use people::Profile;
pub use pulls::{MergedPullRequest, PullRequestStats, RepoPullRequests, ReviewLoad, Reviewer};
use stats::change_pct;
pub use themes::{THEME_LIMIT, Theme, ThemeKind, themes};

/// How many notable changes a digest keeps.
pub const NOTABLE_LIMIT: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub totals: Totals,
    /// Every calendar day of the period (in its time zone), with its commit count.
    pub commits_per_day: Vec<DayCount>,
    /// Repositories with at least one commit, most commits first.
    pub repos: Vec<RepoStats>,
    /// Contributors by commits, then lines, then name.
    pub contributors: Vec<Contributor>,
    /// Highest impact first; merges, bots and bulk changes left out.
    pub notable: Vec<Notable>,
    /// What the period was about, heaviest first.
    #[serde(default)]
    pub themes: Vec<Theme>,
    /// Bulk changes, to mention once among the figures rather than rank.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bulk: Vec<Bulk>,
    /// Against the previous period of equal length; `None` when it was not collected.
    pub trend: Option<Trend>,
    /// Pull requests, reviews, issues, releases and people across repositories; `None`
    /// when no repository came from GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubMetrics>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub commits: u64,
    pub merges: u64,
    pub insertions: u64,
    pub deletions: u64,
    /// Of the commits with a known file count (all but `files_unknown`).
    pub files_changed: u64,
    pub contributors: u64,
    pub active_repos: u64,
    /// Commits whose changed-file count is unknown ([`super::model::RepoActivity::files_unknown`]):
    /// files changed is known for `commits - files_unknown` of them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub files_unknown: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`
    pub date: String,
    pub commits: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoStats {
    pub name: String,
    pub commits: u64,
    pub insertions: u64,
    pub deletions: u64,
    pub contributors: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    pub email: String,
    pub commits: u64,
    pub insertions: u64,
    pub deletions: u64,
    pub is_bot: bool,
    pub repos: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notable {
    pub repo: String,
    pub sha: String,
    pub author: String,
    pub subject: String,
    pub insertions: u64,
    pub deletions: u64,
    pub files_changed: u32,
    /// GitHub gave no file count: `files_changed` is 0 and not a count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub files_unknown: bool,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub previous_label: String,
    pub previous: Totals,
    /// Percent change of commits; `None` when the previous period had none.
    pub commits_change_pct: Option<f64>,
    pub lines_change_pct: Option<f64>,
}

/// The impact score of one commit, see the module docs.
pub fn impact_score(commit: &CommitRecord) -> f64 {
    let lines = (commit.insertions + commit.deletions) as f64;
    let files = f64::from(commit.files_changed);
    let breaking = commit.subject.contains("!:") || commit.subject.contains("BREAKING");
    (1.0 + lines).log2() + 0.5 * (1.0 + files).log2() + if breaking { 2.0 } else { 0.0 }
}

/// Computes the metrics of `current`, with the trend against `previous` when given.
pub fn analyze(current: &Activity, previous: Option<&Activity>) -> Metrics {
    let commits: Vec<&CommitRecord> = current.repos.iter().flat_map(|r| &r.commits).collect();
    let totals = totals(current);
    let files_unknown: BTreeSet<&str> = current
        .repos
        .iter()
        .flat_map(|r| &r.files_unknown)
        .map(String::as_str)
        .collect();
    Metrics {
        commits_per_day: commits_per_day(&current.period, &commits),
        repos: repo_stats(current),
        contributors: contributors(&commits),
        notable: notable(&commits, &files_unknown),
        themes: themes(current),
        bulk: bulk(current),
        trend: previous.map(|prev| trend(&totals, prev)),
        totals,
        github: current
            .repos
            .iter()
            .any(|r| is_github_repo(&r.name))
            .then(|| analyze_github(current, previous)),
    }
}

fn totals(activity: &Activity) -> Totals {
    let mut totals = Totals::default();
    let mut people = BTreeSet::new();
    for repo in &activity.repos {
        if !repo.commits.is_empty() {
            totals.active_repos += 1;
        }
        totals.files_unknown += repo.files_unknown.len() as u64;
        for c in &repo.commits {
            totals.commits += 1;
            totals.merges += u64::from(c.is_merge);
            totals.insertions += c.insertions;
            totals.deletions += c.deletions;
            totals.files_changed += u64::from(c.files_changed);
            people.insert(person_key(c));
        }
    }
    totals.contributors = people.len() as u64;
    totals
}

/// People are told apart by email, case-insensitively, after the mailmap.
fn person_key(c: &CommitRecord) -> String {
    c.email.to_lowercase()
}

fn commits_per_day(period: &Period, commits: &[&CommitRecord]) -> Vec<DayCount> {
    let tz = TimeZone::get(&period.time_zone).unwrap_or(TimeZone::UTC);
    let mut counts: BTreeMap<jiff::civil::Date, u64> = BTreeMap::new();
    let first = period.since.to_zoned(tz.clone()).date();
    let last_instant = period
        .until
        .as_second()
        .saturating_sub(1)
        .max(period.since.as_second());
    let last = jiff::Timestamp::from_second(last_instant)
        .unwrap_or(period.since)
        .to_zoned(tz.clone())
        .date();
    let mut day = first;
    while day <= last {
        counts.insert(day, 0);
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    for c in commits {
        *counts
            .entry(c.committed.to_zoned(tz.clone()).date())
            .or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|(date, commits)| DayCount {
            date: date.to_string(),
            commits,
        })
        .collect()
}

fn repo_stats(activity: &Activity) -> Vec<RepoStats> {
    let mut repos: Vec<RepoStats> = activity
        .repos
        .iter()
        .filter(|r| !r.commits.is_empty())
        .map(|r| RepoStats {
            name: r.name.clone(),
            commits: r.commits.len() as u64,
            insertions: r.commits.iter().map(|c| c.insertions).sum(),
            deletions: r.commits.iter().map(|c| c.deletions).sum(),
            contributors: r
                .commits
                .iter()
                .map(person_key)
                .collect::<BTreeSet<_>>()
                .len() as u64,
        })
        .collect();
    repos.sort_by(|a, b| b.commits.cmp(&a.commits).then_with(|| a.name.cmp(&b.name)));
    repos
}

fn contributors(commits: &[&CommitRecord]) -> Vec<Contributor> {
    let mut by_person: BTreeMap<String, Contributor> = BTreeMap::new();
    for c in commits {
        let entry = by_person
            .entry(person_key(c))
            .or_insert_with(|| Contributor {
                name: c.author.clone(),
                email: c.email.clone(),
                commits: 0,
                insertions: 0,
                deletions: 0,
                is_bot: c.is_bot,
                repos: Vec::new(),
            });
        entry.commits += 1;
        entry.insertions += c.insertions;
        entry.deletions += c.deletions;
        if !entry.repos.contains(&c.repo) {
            entry.repos.push(c.repo.clone());
        }
    }
    let mut people: Vec<Contributor> = by_person.into_values().collect();
    for person in &mut people {
        person.repos.sort();
    }
    people.sort_by(|a, b| {
        b.commits
            .cmp(&a.commits)
            .then_with(|| (b.insertions + b.deletions).cmp(&(a.insertions + a.deletions)))
            .then_with(|| a.name.cmp(&b.name))
    });
    people
}

fn notable(commits: &[&CommitRecord], files_unknown: &BTreeSet<&str>) -> Vec<Notable> {
    let mut ranked: Vec<Notable> = commits
        .iter()
        .filter(|c| !c.is_merge && !c.is_bot && bulk_reason(c).is_none())
        .map(|c| Notable {
            repo: c.repo.clone(),
            sha: c.sha.clone(),
            author: c.author.clone(),
            subject: c.subject.clone(),
            insertions: c.insertions,
            deletions: c.deletions,
            files_changed: c.files_changed,
            files_unknown: files_unknown.contains(c.sha.as_str()),
            score: impact_score(c),
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.repo.cmp(&b.repo))
            .then_with(|| a.sha.cmp(&b.sha))
    });
    ranked.truncate(NOTABLE_LIMIT);
    ranked
}

fn trend(current: &Totals, previous: &Activity) -> Trend {
    let prev = totals(previous);
    Trend {
        previous_label: previous.period.label.clone(),
        commits_change_pct: change_pct(prev.commits, current.commits),
        lines_change_pct: change_pct(
            prev.insertions + prev.deletions,
            current.insertions + current.deletions,
        ),
        previous: prev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sparky::model::{PeriodKind, RepoActivity};

    fn commit(repo: &str, email: &str, at: &str, ins: u64, del: u64) -> CommitRecord {
        let time: jiff::Timestamp = at.parse().unwrap();
        CommitRecord {
            login: None,
            repo: repo.into(),
            sha: format!("{:040x}", ins * 1000 + del),
            author: email.split('@').next().unwrap().into(),
            email: email.into(),
            time,
            offset_seconds: 0,
            committed: time,
            subject: format!("change {ins}/{del}"),
            files_changed: 1,
            insertions: ins,
            deletions: del,
            is_merge: false,
            is_bot: email.contains("[bot]"),
            paths: Vec::new(),
        }
    }

    fn activity(label: &str, since: &str, until: &str, commits: Vec<CommitRecord>) -> Activity {
        let mut repos: BTreeMap<String, Vec<CommitRecord>> = BTreeMap::new();
        for c in commits {
            repos.entry(c.repo.clone()).or_default().push(c);
        }
        Activity {
            period: Period {
                kind: PeriodKind::Custom,
                since: since.parse().unwrap(),
                until: until.parse().unwrap(),
                label: label.into(),
                time_zone: "UTC".into(),
            },
            repos: repos
                .into_iter()
                .map(|(name, commits)| RepoActivity {
                    path: format!("/r/{name}"),
                    name,
                    commits,
                    ..RepoActivity::default()
                })
                .collect(),
        }
    }

    #[test]
    fn totals_contributors_and_days_follow_the_commits() {
        let current = activity(
            "now",
            "2026-11-16T00:00:00Z",
            "2026-11-19T00:00:00Z",
            vec![
                commit("a", "ann@x.org", "2026-11-16T10:00:00Z", 10, 2),
                commit("a", "ANN@x.org", "2026-11-18T23:59:59Z", 1, 1),
                commit("b", "bob@x.org", "2026-11-18T00:00:00Z", 100, 0),
                commit(
                    "b",
                    "dependabot[bot]@users.noreply.github.com",
                    "2026-11-17T05:00:00Z",
                    3,
                    3,
                ),
            ],
        );
        let m = analyze(&current, None);
        assert_eq!(m.totals.commits, 4);
        assert_eq!(m.totals.insertions, 114);
        assert_eq!(m.totals.deletions, 6);
        assert_eq!(m.totals.contributors, 3);
        assert_eq!(m.totals.active_repos, 2);
        let days: Vec<(String, u64)> = m
            .commits_per_day
            .iter()
            .map(|d| (d.date.clone(), d.commits))
            .collect();
        assert_eq!(
            days,
            vec![
                ("2026-11-16".into(), 1),
                ("2026-11-17".into(), 1),
                ("2026-11-18".into(), 2)
            ]
        );
        assert_eq!(m.contributors[0].email, "ann@x.org");
        assert_eq!(m.contributors[0].commits, 2);
        assert_eq!(m.notable.len(), 3, "bot commits are not ranked");
        assert_eq!(m.notable[0].insertions, 100);
        assert!(m.trend.is_none());
    }

    #[test]
    fn trend_compares_with_the_previous_period() {
        let prev = activity(
            "before",
            "2026-11-13T00:00:00Z",
            "2026-11-16T00:00:00Z",
            vec![commit("a", "ann@x.org", "2026-11-14T10:00:00Z", 5, 5)],
        );
        let current = activity(
            "now",
            "2026-11-16T00:00:00Z",
            "2026-11-19T00:00:00Z",
            vec![
                commit("a", "ann@x.org", "2026-11-16T10:00:00Z", 10, 0),
                commit("a", "ann@x.org", "2026-11-17T10:00:00Z", 10, 0),
            ],
        );
        let trend = analyze(&current, Some(&prev)).trend.unwrap();
        assert_eq!(trend.commits_change_pct, Some(100.0));
        assert_eq!(trend.lines_change_pct, Some(100.0));
        let none_before = analyze(
            &prev,
            Some(&activity(
                "e",
                "2026-11-10T00:00:00Z",
                "2026-11-13T00:00:00Z",
                vec![],
            )),
        );
        assert_eq!(none_before.trend.unwrap().commits_change_pct, None);
    }

    #[test]
    fn breaking_changes_rank_higher_than_equal_sized_ones() {
        let mut plain = commit("a", "ann@x.org", "2026-11-16T10:00:00Z", 10, 0);
        let mut breaking = plain.clone();
        plain.subject = "feat: add x".into();
        breaking.subject = "feat!: drop y".into();
        assert!(impact_score(&breaking) > impact_score(&plain));
    }
}
