//! Issues (pull requests never among them): opened, closed, and how long closing took.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::{hours_between, in_period, median, tenths};
use crate::backend::sparky::model::{IssueRecord, Period};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueStats {
    /// Created in the period.
    pub opened: u64,
    /// Closed in the period.
    pub closed: u64,
    /// Opened minus closed: how much the backlog grew (negative: it shrank).
    pub net: i64,
    /// Hours from creation to closing of the issues closed in the period, to 0.1 h.
    pub median_hours_to_close: Option<f64>,
    /// Repositories with an issue opened or closed; most closed first.
    pub per_repo: Vec<RepoIssues>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepoIssues {
    pub repo: String,
    pub opened: u64,
    pub closed: u64,
}

/// The issue figures of `issues` (each issue once) for `period`.
pub(super) fn issues(period: &Period, issues: &[&IssueRecord]) -> IssueStats {
    let mut stats = IssueStats::default();
    let mut per_repo: BTreeMap<&str, RepoIssues> = BTreeMap::new();
    let mut hours = Vec::new();
    for issue in issues {
        let opened = in_period(period, issue.created);
        let closed = issue.closed.filter(|&at| in_period(period, at));
        if !opened && closed.is_none() {
            continue;
        }
        let repo = per_repo
            .entry(issue.repo.as_str())
            .or_insert_with(|| RepoIssues {
                repo: issue.repo.clone(),
                ..RepoIssues::default()
            });
        stats.opened += u64::from(opened);
        repo.opened += u64::from(opened);
        if let Some(at) = closed {
            stats.closed += 1;
            repo.closed += 1;
            hours.push(hours_between(issue.created, at));
        }
    }
    stats.net = stats.opened as i64 - stats.closed as i64;
    stats.median_hours_to_close = median(&hours).map(tenths);
    stats.per_repo = per_repo.into_values().collect();
    stats.per_repo.sort_by(|a, b| {
        b.closed
            .cmp(&a.closed)
            .then_with(|| b.opened.cmp(&a.opened))
            .then_with(|| a.repo.cmp(&b.repo))
    });
    stats
}
