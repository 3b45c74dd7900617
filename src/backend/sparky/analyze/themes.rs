//! What a period was about: themes found in the data and named in plain words.
//!
//! A theme groups commits that share one thing: repositories created in the period, the
//! same change across several repositories, a conventional-commit type or scope, a
//! workstream or issue reference, a release, or a pull-request label. Bulk changes
//! (imports, vendored or generated trees, lockfile-only and formatting-only commits) and
//! merges belong to no theme.
//!
//! Each commit joins one theme, the most specific that holds it (release, shared change,
//! reference, scope, new repository), so a draft tells it once. Themes rank by weight:
//! commits people (not bots) wrote plus twice the repositories spanned.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::super::model::{Activity, CommitRecord, PullRequestRecord};
use super::bulk::bulk_reason;
use super::subject::{self, Reference};

/// How many themes a period keeps: a draft tells two or three and lists the rest.
pub const THEME_LIMIT: usize = 8;

/// One thing the period was about, with what it is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// `t1`, `t2`, ... in order of weight: how a model refers to the theme.
    pub id: String,
    pub kind: ThemeKind,
    /// Plain words a reader understands: "Seven repositories created",
    /// "`ci: pin toolchain` across 3 repositories".
    pub title: String,
    /// What the theme was found by: the shared subject, the scope, `#42`, the tags.
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
    /// One change (subject or pull-request title) across several repositories.
    SharedChange,
    /// A conventional-commit type and scope: `feat(console)`.
    Scope,
    /// Commits naming one workstream or issue reference.
    Workstream,
    /// A release or tag.
    Release,
    /// Merged pull requests sharing a label. Not found yet: pull requests are collected
    /// without their labels.
    Label,
}

/// What a commit or pull request can be grouped by, most specific first: a commit joins
/// the first group it qualifies for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Release,
    Shared(String),
    /// The repository for `#42`, which means something only there.
    Reference(Option<String>, Reference),
    /// The scope, or the type of an unscoped conventional commit.
    Scope(Scope),
    NewRepository,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Named(String),
    Type(String),
}

/// What one theme gathers before it is named.
#[derive(Default)]
struct Group<'a> {
    commits: Vec<&'a CommitRecord>,
    pulls: Vec<&'a PullRequestRecord>,
    repos: BTreeSet<&'a str>,
    /// `(repo, tag)` of releases.
    tags: Vec<(&'a str, String)>,
}

/// The themes of `activity`, heaviest first, ids assigned in that order.
pub fn themes(activity: &Activity) -> Vec<Theme> {
    let period = &activity.period;
    let in_period = |at: Timestamp| period.since <= at && at < period.until;
    let new_repos: BTreeSet<&str> = activity
        .repos
        .iter()
        .filter(|repo| repo.first_commit.is_some_and(in_period))
        .map(|repo| repo.name.as_str())
        .collect();
    let commits: Vec<&CommitRecord> = activity
        .repos
        .iter()
        .flat_map(|repo| &repo.commits)
        .filter(|c| !c.is_merge && bulk_reason(c).is_none())
        .collect();
    let pulls: Vec<&PullRequestRecord> = activity
        .repos
        .iter()
        .flat_map(|repo| &repo.pull_requests)
        .filter(|pr| pr.merged.is_some_and(in_period))
        .collect();

    let shared = shared_forms(&commits, &pulls);
    let candidates = |repo: &str, subject: &str| -> Vec<Key> {
        let mut keys = Vec::new();
        if subject::release(subject).is_some() {
            keys.push(Key::Release);
        }
        if let Some(form) = subject::shared_form(subject).filter(|f| shared.contains(f)) {
            keys.push(Key::Shared(form));
        }
        if let Some(reference) = subject::reference(subject) {
            let repo = matches!(reference, Reference::Issue(_)).then(|| repo.to_string());
            keys.push(Key::Reference(repo, reference));
        }
        if let Some(conventional) = subject::conventional(subject) {
            keys.push(Key::Scope(match conventional.scope {
                Some(scope) => Scope::Named(scope.to_lowercase()),
                None => Scope::Type(conventional.kind.to_string()),
            }));
        }
        if new_repos.contains(repo) {
            keys.push(Key::NewRepository);
        }
        keys
    };
    let commit_keys: Vec<Vec<Key>> = commits
        .iter()
        .map(|c| candidates(&c.repo, &c.subject))
        .collect();
    let pull_keys: Vec<Vec<Key>> = pulls
        .iter()
        .map(|pr| candidates(&pr.repo, &pr.title))
        .collect();

    // A group qualifies on everything that could join it, then each commit joins one.
    let mut sizes: BTreeMap<&Key, usize> = BTreeMap::new();
    for key in commit_keys.iter().chain(&pull_keys).flatten() {
        *sizes.entry(key).or_default() += 1;
    }
    let qualifies = |key: &Key| match key {
        Key::Release | Key::Shared(_) | Key::NewRepository => true,
        Key::Reference(..) | Key::Scope(_) => sizes.get(key).is_some_and(|&n| n >= 2),
    };
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    for (commit, keys) in commits.iter().zip(&commit_keys) {
        if let Some(key) = keys.iter().find(|key| qualifies(key)) {
            let group = groups.entry(key.clone()).or_default();
            group.commits.push(commit);
            group.repos.insert(&commit.repo);
            if *key == Key::Release
                && let Some(Some(version)) = subject::release(&commit.subject)
            {
                group.tags.push((&commit.repo, version));
            }
        }
    }
    for (pull, keys) in pulls.iter().zip(&pull_keys) {
        if let Some(key) = keys.iter().find(|key| qualifies(key)) {
            let group = groups.entry(key.clone()).or_default();
            group.pulls.push(pull);
            group.repos.insert(&pull.repo);
        }
    }
    for repo in &activity.repos {
        for release in repo.releases.iter().filter(|r| in_period(r.published)) {
            let group = groups.entry(Key::Release).or_default();
            group.repos.insert(&release.repo);
            group.tags.push((&release.repo, release.tag.clone()));
        }
    }
    if !new_repos.is_empty() {
        groups
            .entry(Key::NewRepository)
            .or_default()
            .repos
            .extend(&new_repos);
    }

    let mut ranked: Vec<(usize, Theme)> = groups
        .into_iter()
        .filter_map(|(key, group)| theme(&key, group))
        .collect();
    ranked.sort_by(|(a_weight, a), (b_weight, b)| {
        b_weight
            .cmp(a_weight)
            .then_with(|| a.kind.rank().cmp(&b.kind.rank()))
            .then_with(|| a.key.cmp(&b.key))
    });
    ranked
        .into_iter()
        .take(THEME_LIMIT)
        .enumerate()
        .map(|(index, (_, theme))| Theme {
            id: format!("t{}", index + 1),
            ..theme
        })
        .collect()
}

impl ThemeKind {
    /// Which of two equally heavy themes tells more.
    fn rank(self) -> u8 {
        match self {
            ThemeKind::NewRepositories => 0,
            ThemeKind::SharedChange => 1,
            ThemeKind::Release => 2,
            ThemeKind::Workstream => 3,
            ThemeKind::Label => 4,
            ThemeKind::Scope => 5,
        }
    }
}

/// Shared forms of subjects and titles that appear in two repositories or more.
fn shared_forms(commits: &[&CommitRecord], pulls: &[&PullRequestRecord]) -> BTreeSet<String> {
    let mut repos: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let subjects = commits.iter().map(|c| (&c.repo, &c.subject));
    for (repo, subject) in subjects.chain(pulls.iter().map(|pr| (&pr.repo, &pr.title))) {
        if let Some(form) = subject::shared_form(subject) {
            repos.entry(form).or_default().insert(repo);
        }
    }
    repos
        .into_iter()
        .filter(|(_, repos)| repos.len() >= 2)
        .map(|(form, _)| form)
        .collect()
}

/// The theme a group makes and its weight; `None` when what holds it together is too thin
/// or no person took part.
fn theme(key: &Key, group: Group<'_>) -> Option<(usize, Theme)> {
    let written = group.commits.iter().filter(|c| !c.is_bot).count()
        + group.pulls.iter().filter(|pr| !pr.is_bot).count();
    let stands = match key {
        Key::Release | Key::NewRepository => !group.repos.is_empty(),
        Key::Shared(_) => written > 0 && group.repos.len() >= 2,
        Key::Reference(..) | Key::Scope(_) => written > 0 && group.commits.len() >= 2,
    };
    if !stands {
        return None;
    }
    let mut commits = group.commits;
    commits.sort_by(|a, b| b.committed.cmp(&a.committed).then(a.sha.cmp(&b.sha)));
    let by_repo = count_by(commits.iter().map(|c| c.repo.as_str()));
    let mut repos: Vec<&str> = group.repos.into_iter().collect();
    repos.sort_by_key(|repo| std::cmp::Reverse(by_repo.get(repo).copied().unwrap_or(0)));
    let people = count_by(
        commits
            .iter()
            .filter(|c| !c.is_bot)
            .map(|c| c.author.as_str()),
    );
    let mut people: Vec<(&str, usize)> = people.into_iter().collect();
    people.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let (kind, title, key_text) = name(key, &commits, &repos, &group.tags);
    let weight = written + 2 * repos.len();
    Some((
        weight,
        Theme {
            id: String::new(),
            kind,
            title,
            key: key_text,
            insertions: commits.iter().map(|c| c.insertions).sum(),
            deletions: commits.iter().map(|c| c.deletions).sum(),
            commits: commits.iter().map(|c| c.sha.clone()).collect(),
            repos: repos.iter().map(|repo| repo.to_string()).collect(),
            people: people
                .into_iter()
                .map(|(name, _)| name.to_string())
                .collect(),
            pull_requests: group
                .pulls
                .iter()
                .map(|pr| (pr.repo.clone(), pr.number))
                .collect(),
        },
    ))
}

fn count_by<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for name in names {
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// The kind, title and key text of a group.
fn name(
    key: &Key,
    commits: &[&CommitRecord],
    repos: &[&str],
    tags: &[(&str, String)],
) -> (ThemeKind, String, String) {
    match key {
        Key::NewRepository => {
            let title = match repos {
                [repo] => format!("Repository {repo} created"),
                _ => format!("{} repositories created", capitalised(&number(repos.len()))),
            };
            (ThemeKind::NewRepositories, title, repos.join(", "))
        }
        Key::Shared(form) => {
            // The way most repositories wrote it, the newest on a tie.
            let written = count_by(
                commits
                    .iter()
                    .map(|c| subject::without_pr_suffix(&c.subject)),
            );
            let subject = commits
                .iter()
                .rev()
                .map(|c| subject::without_pr_suffix(&c.subject))
                .max_by_key(|subject| written[subject])
                .unwrap_or(form);
            let title = format!("`{subject}` across {} repositories", repos.len());
            (ThemeKind::SharedChange, title, form.clone())
        }
        Key::Release => {
            let mut named: Vec<String> = Vec::new();
            for (repo, tag) in tags {
                let entry = format!("{tag} ({repo})");
                if !named.contains(&entry) {
                    named.push(entry);
                }
            }
            let title = match (named.as_slice(), repos) {
                ([], _) => format!("Release work in {}", repos.join(", ")),
                ([_], [repo]) => format!("Release {} of {repo}", tags[0].1),
                (many, _) => {
                    let shown = many.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
                    let more = many.len().saturating_sub(3);
                    let more = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    format!(
                        "{} releases: {shown}{more}",
                        capitalised(&number(many.len()))
                    )
                }
            };
            let key_text = if named.is_empty() {
                "release".to_string()
            } else {
                named.join(", ")
            };
            (ThemeKind::Release, title, key_text)
        }
        Key::Reference(repo, reference) => {
            let (title, key_text) = match (reference, repo) {
                (Reference::Issue(number), Some(repo)) => {
                    (format!("Work on #{number} in {repo}"), format!("#{number}"))
                }
                (Reference::Issue(number), None) => {
                    (format!("Work on #{number}"), format!("#{number}"))
                }
                (Reference::Ticket(ticket), _) => (format!("Work on {ticket}"), ticket.clone()),
                (Reference::Workstream(name), _) => (format!("Workstream {name}"), name.clone()),
                (Reference::Tag(tag), _) => (format!("Workstream [{tag}]"), format!("[{tag}]")),
            };
            (ThemeKind::Workstream, title, key_text)
        }
        Key::Scope(Scope::Named(scope)) => {
            let mut types: Vec<(&str, usize)> = count_by(
                commits
                    .iter()
                    .filter_map(|c| subject::conventional(&c.subject).map(|c| c.kind)),
            )
            .into_iter()
            .collect();
            types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let types: Vec<&str> = types.into_iter().map(|(kind, _)| kind).collect();
            let title = format!(
                "{} work ({} scope {scope})",
                capitalised(scope),
                types.join("/")
            );
            (ThemeKind::Scope, title, format!("({scope})"))
        }
        Key::Scope(Scope::Type(kind)) => {
            let title = format!("{} ({kind})", type_words(kind));
            (ThemeKind::Scope, title, format!("{kind}:"))
        }
    }
}

fn type_words(kind: &str) -> &'static str {
    match kind {
        "feat" => "New features",
        "fix" => "Fixes",
        "docs" | "doc" => "Documentation",
        "style" => "Style changes",
        "refactor" => "Refactoring",
        "perf" => "Performance work",
        "test" | "tests" => "Tests",
        "build" => "Build changes",
        "ci" => "CI changes",
        "deps" => "Dependency updates",
        "revert" => "Reverts",
        _ => "Chores",
    }
}

/// Numbers up to ten in words, as titles read them; larger ones in figures.
fn number(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |word| word.to_string())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
