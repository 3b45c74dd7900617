//! Pull requests: how many were opened, merged and closed, how long merging took, how fast
//! they land, and who reviewed them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::{days, hours_between, in_period, median, percentile, tenths};
use crate::backend::sparky::model::{Period, PullRequestRecord};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestStats {
    /// Created in the period.
    pub opened: u64,
    /// Merged in the period.
    pub merged: u64,
    /// Closed in the period without being merged.
    pub closed_unmerged: u64,
    /// Hours from creation to merge of the pull requests merged in the period, to 0.1 h.
    pub median_hours_to_merge: Option<f64>,
    /// Nearest-rank 90th percentile of the same, to 0.1 h.
    pub p90_hours_to_merge: Option<f64>,
    /// Pull requests merged per day of the period, to 0.1.
    pub merged_per_day: f64,
    /// Repositories with a pull request opened, merged or closed; most merged first.
    pub per_repo: Vec<RepoPullRequests>,
    /// Every pull request merged in the period, largest (additions plus deletions) first.
    pub merged_list: Vec<MergedPullRequest>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepoPullRequests {
    pub repo: String,
    pub opened: u64,
    pub merged: u64,
    pub closed_unmerged: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedPullRequest {
    pub repo: String,
    pub number: u64,
    pub title: String,
    /// GitHub login.
    pub author: String,
    pub url: String,
    pub merged: jiff::Timestamp,
    /// From creation to merge, to 0.1 h.
    pub hours_to_merge: f64,
    pub additions: u64,
    pub deletions: u64,
    /// Logins that reviewed it.
    #[serde(default)]
    pub reviewers: Vec<String>,
    pub is_bot: bool,
}

/// Who reviewed, over the period's pull requests (opened, merged or closed in it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewLoad {
    /// Most pull requests reviewed first, then by login.
    pub reviewers: Vec<Reviewer>,
    /// Merged in the period without anyone's review.
    pub merged_without_review: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    pub login: String,
    /// Pull requests reviewed (several reviews of one pull request count once).
    pub reviewed: u64,
}

/// The pull request figures of `prs` (each pull request once) for `period`.
pub(super) fn pull_requests(period: &Period, prs: &[&PullRequestRecord]) -> PullRequestStats {
    let mut stats = PullRequestStats::default();
    let mut per_repo: BTreeMap<&str, RepoPullRequests> = BTreeMap::new();
    let mut hours = Vec::new();
    for pr in prs {
        let opened = in_period(period, pr.created);
        let merged = pr.merged.filter(|&at| in_period(period, at));
        let closed_unmerged =
            pr.merged.is_none() && pr.closed.is_some_and(|at| in_period(period, at));
        if !(opened || merged.is_some() || closed_unmerged) {
            continue;
        }
        let repo = per_repo
            .entry(pr.repo.as_str())
            .or_insert_with(|| RepoPullRequests {
                repo: pr.repo.clone(),
                ..RepoPullRequests::default()
            });
        stats.opened += u64::from(opened);
        repo.opened += u64::from(opened);
        stats.closed_unmerged += u64::from(closed_unmerged);
        repo.closed_unmerged += u64::from(closed_unmerged);
        if let Some(at) = merged {
            stats.merged += 1;
            repo.merged += 1;
            let took = hours_between(pr.created, at);
            hours.push(took);
            stats.merged_list.push(MergedPullRequest {
                repo: pr.repo.clone(),
                number: pr.number,
                title: pr.title.clone(),
                author: pr.author.clone(),
                url: pr.url.clone(),
                merged: at,
                hours_to_merge: tenths(took),
                additions: pr.additions,
                deletions: pr.deletions,
                reviewers: reviewers_of(pr),
                is_bot: pr.is_bot,
            });
        }
    }
    stats.median_hours_to_merge = median(&hours).map(tenths);
    stats.p90_hours_to_merge = percentile(&hours, 90).map(tenths);
    stats.merged_per_day = tenths(stats.merged as f64 / days(period));
    stats.per_repo = per_repo.into_values().collect();
    stats.per_repo.sort_by(|a, b| {
        b.merged
            .cmp(&a.merged)
            .then_with(|| b.opened.cmp(&a.opened))
            .then_with(|| a.repo.cmp(&b.repo))
    });
    stats.merged_list.sort_by(|a, b| {
        (b.additions + b.deletions)
            .cmp(&(a.additions + a.deletions))
            .then_with(|| a.repo.cmp(&b.repo))
            .then_with(|| a.number.cmp(&b.number))
    });
    stats
}

/// Who reviewed `prs` (each pull request once), and how many merged in `period` went
/// without review.
pub(super) fn review_load(period: &Period, prs: &[&PullRequestRecord]) -> ReviewLoad {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut merged_without_review = 0;
    for pr in prs {
        let reviewers = reviewers_of(pr);
        if reviewers.is_empty() && pr.merged.is_some_and(|at| in_period(period, at)) {
            merged_without_review += 1;
        }
        for login in reviewers {
            *counts.entry(login).or_default() += 1;
        }
    }
    let mut reviewers: Vec<Reviewer> = counts
        .into_iter()
        .map(|(login, reviewed)| Reviewer { login, reviewed })
        .collect();
    reviewers.sort_by(|a, b| {
        b.reviewed
            .cmp(&a.reviewed)
            .then_with(|| a.login.cmp(&b.login))
    });
    ReviewLoad {
        reviewers,
        merged_without_review,
    }
}

/// The pull request's reviewers, each once, its author never.
pub(super) fn reviewers_of(pr: &PullRequestRecord) -> Vec<String> {
    let mut logins: Vec<String> = pr
        .reviewers
        .iter()
        .filter(|login| !login.eq_ignore_ascii_case(&pr.author))
        .cloned()
        .collect();
    logins.sort();
    logins.dedup();
    logins
}
