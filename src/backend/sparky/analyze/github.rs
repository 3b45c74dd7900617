//! What GitHub adds to a period's metrics: pull requests, reviews, issues, releases, people
//! across repositories, and their trend.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::issues::{IssueStats, issues};
use super::people::{Profile, people};
use super::pulls::{PullRequestStats, ReviewLoad, pull_requests, review_load};
use super::stats::{change_pct, in_period};
use crate::backend::sparky::model::{
    Activity, CommitRecord, IssueRecord, PullRequestRecord, ReleaseRecord,
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GithubMetrics {
    pub pull_requests: PullRequestStats,
    pub reviews: ReviewLoad,
    pub issues: IssueStats,
    /// Published in the period, oldest first.
    pub releases: Vec<ReleaseRecord>,
    /// Everyone with a commit, a pull request or a review, across repositories.
    pub people: Vec<Profile>,
    /// Against the previous period; `None` when it was not collected.
    pub trend: Option<GithubTrend>,
    /// Repositories GitHub could not be read from: the digest was written without them.
    pub failures: Vec<SourceFailure>,
}

/// A repository that could not be collected, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFailure {
    pub repo: String,
    pub reason: String,
}

/// The headline GitHub figures of a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GithubTotals {
    pub prs_opened: u64,
    pub prs_merged: u64,
    pub prs_closed_unmerged: u64,
    pub median_hours_to_merge: Option<f64>,
    pub reviews: u64,
    pub issues_opened: u64,
    pub issues_closed: u64,
    pub releases: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubTrend {
    pub previous_label: String,
    pub previous: GithubTotals,
    /// Percent change of pull requests merged; `None` when the previous period had none.
    pub prs_merged_change_pct: Option<f64>,
    pub prs_opened_change_pct: Option<f64>,
    pub issues_closed_change_pct: Option<f64>,
}

impl GithubMetrics {
    pub fn totals(&self) -> GithubTotals {
        let prs = &self.pull_requests;
        GithubTotals {
            prs_opened: prs.opened,
            prs_merged: prs.merged,
            prs_closed_unmerged: prs.closed_unmerged,
            median_hours_to_merge: prs.median_hours_to_merge,
            reviews: self.reviews.reviewers.iter().map(|r| r.reviewed).sum(),
            issues_opened: self.issues.opened,
            issues_closed: self.issues.closed,
            releases: self.releases.len() as u64,
        }
    }

    /// Whether GitHub saw anything in the period: a pull request, an issue or a release.
    pub fn has_activity(&self) -> bool {
        let t = self.totals();
        t.prs_opened + t.prs_merged + t.prs_closed_unmerged + t.issues_opened + t.issues_closed > 0
            || !self.releases.is_empty()
    }
}

/// Whether a repository came from GitHub: GitHub names them `owner/name`, local folder
/// names never hold a `/`.
pub fn is_github_repo(name: &str) -> bool {
    name.contains('/')
}

/// The GitHub metrics of `current`, with the trend against `previous` when given.
pub fn analyze_github(current: &Activity, previous: Option<&Activity>) -> GithubMetrics {
    let mut metrics = without_trend(current);
    metrics.trend = previous.map(|before| {
        let now = metrics.totals();
        let prev = without_trend(before).totals();
        GithubTrend {
            previous_label: before.period.label.clone(),
            prs_merged_change_pct: change_pct(prev.prs_merged, now.prs_merged),
            prs_opened_change_pct: change_pct(prev.prs_opened, now.prs_opened),
            issues_closed_change_pct: change_pct(prev.issues_closed, now.issues_closed),
            previous: prev,
        }
    });
    metrics
}

fn without_trend(activity: &Activity) -> GithubMetrics {
    let period = &activity.period;
    let commits: Vec<&CommitRecord> = activity.repos.iter().flat_map(|r| &r.commits).collect();
    let prs = unique(
        activity.repos.iter().flat_map(|r| &r.pull_requests),
        |pr: &PullRequestRecord| (pr.repo.clone(), pr.number),
    );
    let issue_records = unique(
        activity.repos.iter().flat_map(|r| &r.issues),
        |issue: &IssueRecord| (issue.repo.clone(), issue.number),
    );
    let mut releases: Vec<ReleaseRecord> = unique(
        activity.repos.iter().flat_map(|r| &r.releases),
        |r: &ReleaseRecord| (r.repo.clone(), r.tag.clone()),
    )
    .into_iter()
    .filter(|r| in_period(period, r.published))
    .cloned()
    .collect();
    releases.sort_by(|a, b| {
        a.published
            .cmp(&b.published)
            .then_with(|| a.repo.cmp(&b.repo))
            .then_with(|| a.tag.cmp(&b.tag))
    });
    GithubMetrics {
        pull_requests: pull_requests(period, &prs),
        reviews: review_load(period, &prs),
        issues: issues(period, &issue_records),
        releases,
        people: people(period, &commits, &prs),
        trend: None,
        failures: Vec::new(),
    }
}

/// The items in their order, the first of each key only.
fn unique<'a, T, K: Ord>(items: impl Iterator<Item = &'a T>, key: impl Fn(&T) -> K) -> Vec<&'a T> {
    let mut seen = BTreeSet::new();
    items.filter(|item| seen.insert(key(item))).collect()
}
