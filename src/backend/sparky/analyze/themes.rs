//! What a period was about: themes found in the data and named in plain words.
//!
//! A theme groups commits that share one thing: repositories created in the period, the
//! same change across several repositories, a conventional-commit type or scope, a
//! workstream or issue reference, a release, or a pull-request label. Bulk changes
//! (imports, vendored or generated trees, lockfile-only and formatting-only commits) never
//! lead a theme.

use serde::{Deserialize, Serialize};

use super::super::model::Activity;

/// One thing the period was about, with what it is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// `t1`, `t2`, ... in order of weight: how a model refers to the theme.
    pub id: String,
    pub kind: ThemeKind,
    /// Plain words a reader understands: "Seven new repositories", "ci: pin the toolchain".
    pub title: String,
    /// What the theme was found by: the shared subject, the scope, `#42`, the tag.
    pub key: String,
    /// Full shas, newest first.
    pub commits: Vec<String>,
    /// Repository names, most commits first.
    pub repos: Vec<String>,
    /// Author names (mailmapped, bots excluded), most commits first.
    pub people: Vec<String>,
    pub insertions: u64,
    pub deletions: u64,
    /// `(repo, number)` of merged pull requests, for GitHub data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_requests: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeKind {
    /// Repositories whose first commit falls in the period.
    NewRepositories,
    /// One change (subject, branch or pull-request title) across several repositories.
    SharedChange,
    /// A conventional-commit type and scope: `feat(console)`.
    Scope,
    /// Commits naming one workstream or issue reference.
    Workstream,
    /// A release or tag.
    Release,
    /// Merged pull requests sharing a label.
    Label,
}

/// The themes of `activity`, heaviest first, ids assigned in that order.
pub fn themes(activity: &Activity) -> Vec<Theme> {
    let _ = activity;
    Vec::new()
}
