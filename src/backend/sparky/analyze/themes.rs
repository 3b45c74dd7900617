//! What a period was about: themes found in the data and named in plain words.
//!
//! A theme groups commits that share one thing: repositories created in the period, the
//! same change across several repositories, a conventional-commit type or scope, a
//! workstream or issue reference, a release, or a pull-request label. Bulk changes
//! (imports, vendored or generated trees, lockfile-only and formatting-only commits) and
//! merges belong to no theme.
//!
//! Each commit joins one theme, the most specific that holds it (release, shared change,
//! reference, label, scope, new repository), so a draft tells it once. A squash merge's
//! commit (`… (#12)`) carries the labels of the pull request it merged, so it joins the
//! pull request's label theme. Themes rank by weight: commits and pull requests people
//! (not bots) wrote plus twice the repositories spanned.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::super::model::{Activity, CommitRecord, PullRequestRecord};
use super::bulk::bulk_reason;
use super::people::logins;
use super::subject::{self, Reference};

/// How many themes a period keeps: a draft tells two or three and lists the rest.
pub const THEME_LIMIT: usize = 8;

/// From this many merged pull requests in a period on, a label on more than half of them
/// says nothing about the work (`enhancement` on all of them) and makes no theme.
const GENERIC_LABEL_FROM: usize = 4;

/// One thing the period was about, with what it is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// `t1`, `t2`, ... in order of weight: how a model refers to the theme.
    pub id: String,
    pub kind: ThemeKind,
    /// Plain words a reader understands: "Seven repositories created",
    /// "`ci: pin toolchain` across 3 repositories", "Pull requests labelled ‘security’".
    pub title: String,
    /// What the theme was found by: the shared subject, the scope, `#42`, the tags, the
    /// label.
    pub key: String,
    /// Full shas, newest first.
    pub commits: Vec<String>,
    /// Repository names, most commits first.
    pub repos: Vec<String>,
    /// Authors of its commits and pull requests, bots excluded, most of them first: the
    /// name on their commits (mailmapped), or the GitHub login of a pull request's author
    /// who made no commit in the period.
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
    /// Merged pull requests sharing a label, with the commits that merged them.
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
    /// A pull-request label, lowercase: labels are named alike across repositories.
    Label(String),
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
    let names = names_by_login(activity);
    let mut ranked: Vec<(usize, Theme)> = groups(activity)
        .into_iter()
        .filter_map(|(key, group)| theme(&key, group, &names))
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

/// Commits, merged pull requests and releases by the group they join.
fn groups(activity: &Activity) -> BTreeMap<Key, Group<'_>> {
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
    let telling = telling_labels(&pulls);
    // A pull request's labels that may make a theme, the most specific (fewest pull
    // requests) first.
    let label_keys = |labels: &[String]| -> Vec<Key> {
        let mut found: Vec<(usize, String)> = labels
            .iter()
            .map(|label| label.to_lowercase())
            .filter_map(|label| telling.get(&label).map(|&n| (n, label)))
            .collect();
        found.sort();
        found.dedup();
        found
            .into_iter()
            .map(|(_, label)| Key::Label(label))
            .collect()
    };
    let by_number: BTreeMap<(&str, u64), &PullRequestRecord> = pulls
        .iter()
        .map(|pr| ((pr.repo.as_str(), pr.number), *pr))
        .collect();
    // The labels of the pull request a squash merge's commit merged.
    let carried = |commit: &CommitRecord| -> &[String] {
        subject::squashed_pull(&commit.subject)
            .and_then(|number| by_number.get(&(commit.repo.as_str(), number)))
            .map_or(&[], |pr| pr.labels.as_slice())
    };
    let candidates = |repo: &str, subject: &str, labels: &[String]| -> Vec<Key> {
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
        keys.extend(label_keys(labels));
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
        .map(|c| candidates(&c.repo, &c.subject, carried(c)))
        .collect();
    let pull_keys: Vec<Vec<Key>> = pulls
        .iter()
        .map(|pr| candidates(&pr.repo, &pr.title, &pr.labels))
        .collect();

    // A group qualifies on everything that could join it, then each commit joins one.
    let mut sizes: BTreeMap<&Key, usize> = BTreeMap::new();
    for key in commit_keys.iter().chain(&pull_keys).flatten() {
        *sizes.entry(key).or_default() += 1;
    }
    let qualifies = |key: &Key| match key {
        Key::Release | Key::Shared(_) | Key::Label(_) | Key::NewRepository => true,
        Key::Reference(..) | Key::Scope(_) => sizes.get(key).is_some_and(|&n| n >= 2),
    };
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    // GitHub's tag names first: a commit naming the same version adds no release.
    for repo in &activity.repos {
        for release in repo.releases.iter().filter(|r| in_period(r.published)) {
            let group = groups.entry(Key::Release).or_default();
            group.repos.insert(&release.repo);
            group.tags.push((&release.repo, release.tag.clone()));
        }
    }
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
    if !new_repos.is_empty() {
        groups
            .entry(Key::NewRepository)
            .or_default()
            .repos
            .extend(&new_repos);
    }
    groups
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

/// Labels (lowercase) that may make a theme, with how many merged pull requests carry
/// them: two or more, and not most of the period's ([`GENERIC_LABEL_FROM`]).
fn telling_labels(pulls: &[&PullRequestRecord]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for pr in pulls {
        let labels: BTreeSet<String> = pr.labels.iter().map(|l| l.to_lowercase()).collect();
        for label in labels {
            *counts.entry(label).or_default() += 1;
        }
    }
    let generic = |n: usize| pulls.len() >= GENERIC_LABEL_FROM && 2 * n > pulls.len();
    counts.retain(|_, n| *n >= 2 && !generic(*n));
    counts
}

/// The name each GitHub login (lowercase) goes by on its commits, so a pull request's
/// author and their commits count as one person.
fn names_by_login(activity: &Activity) -> BTreeMap<String, &str> {
    let commits: Vec<&CommitRecord> = activity.repos.iter().flat_map(|r| &r.commits).collect();
    let pulls: Vec<&PullRequestRecord> = activity
        .repos
        .iter()
        .flat_map(|r| &r.pull_requests)
        .collect();
    if pulls.is_empty() {
        return BTreeMap::new();
    }
    let logins = logins(&commits, &pulls);
    let mut names = BTreeMap::new();
    for c in &commits {
        if let Some(login) = logins.get(&c.email.to_lowercase()) {
            names
                .entry(login.to_lowercase())
                .or_insert(c.author.as_str());
        }
    }
    names
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
fn theme(key: &Key, group: Group<'_>, names: &BTreeMap<String, &str>) -> Option<(usize, Theme)> {
    let written = group.commits.iter().filter(|c| !c.is_bot).count()
        + group.pulls.iter().filter(|pr| !pr.is_bot).count();
    let stands = match key {
        Key::Release | Key::NewRepository => !group.repos.is_empty(),
        Key::Shared(_) => written > 0 && group.repos.len() >= 2,
        Key::Reference(..) | Key::Scope(_) => written > 0 && group.commits.len() >= 2,
        Key::Label(_) => written > 0 && group.pulls.len() >= 2,
    };
    if !stands {
        return None;
    }
    let mut commits = group.commits;
    commits.sort_by(|a, b| b.committed.cmp(&a.committed).then(a.sha.cmp(&b.sha)));
    let by_repo = count_by(commits.iter().map(|c| c.repo.as_str()));
    let mut repos: Vec<&str> = group.repos.into_iter().collect();
    repos.sort_by_key(|repo| std::cmp::Reverse(by_repo.get(repo).copied().unwrap_or(0)));
    let pull_authors = group.pulls.iter().filter(|pr| !pr.is_bot).map(|pr| {
        names
            .get(&pr.author.to_lowercase())
            .copied()
            .unwrap_or(pr.author.as_str())
    });
    let people = count_by(
        commits
            .iter()
            .filter(|c| !c.is_bot)
            .map(|c| c.author.as_str())
            .chain(pull_authors),
    );
    let mut people: Vec<(&str, usize)> = people.into_iter().collect();
    people.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let (kind, title, key_text) = name(key, &commits, &group.pulls, &repos, &group.tags);
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
    pulls: &[&PullRequestRecord],
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
            // A tag and the commit naming it (`v1.2.0`, `release: 1.2.0`) are one release.
            let mut named: Vec<(&str, &str)> = Vec::new();
            let version = |tag: &str| tag.trim_start_matches('v').to_string();
            for (repo, tag) in tags {
                if !named
                    .iter()
                    .any(|(r, t)| r == repo && version(t) == version(tag))
                {
                    named.push((repo, tag));
                }
            }
            let listed: Vec<String> = named
                .iter()
                .map(|(repo, tag)| format!("{tag} ({repo})"))
                .collect();
            let title = match named.as_slice() {
                [] => format!("Release work in {}", repos.join(", ")),
                [(repo, tag)] => format!("Release {tag} of {repo}"),
                many => {
                    let more = match many.len().saturating_sub(3) {
                        0 => String::new(),
                        more => format!(" and {more} more"),
                    };
                    format!(
                        "{} releases: {}{more}",
                        capitalised(&number(many.len())),
                        listed[..many.len().min(3)].join(", ")
                    )
                }
            };
            let key_text = if listed.is_empty() {
                "release".to_string()
            } else {
                listed.join(", ")
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
        Key::Label(label) => {
            // As most of its pull requests spell it.
            let spellings = count_by(
                pulls
                    .iter()
                    .flat_map(|pr| &pr.labels)
                    .filter(|l| l.to_lowercase() == *label)
                    .map(String::as_str),
            );
            let spelling = spellings
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map_or(label.as_str(), |(spelling, _)| spelling);
            let title = format!("Pull requests labelled ‘{spelling}’");
            (ThemeKind::Label, title, spelling.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sparky::model::{Period, PeriodKind, ReleaseRecord, RepoActivity};

    fn at(day: u32) -> Timestamp {
        format!("2026-11-{day:02}T10:00:00Z").parse().unwrap()
    }

    fn commit(repo: &str, n: u64, author: &str, subject: &str) -> CommitRecord {
        CommitRecord {
            repo: repo.into(),
            sha: format!("{n:040x}"),
            author: author.into(),
            email: format!("{author}@lab.example"),
            time: at(16 + (n % 6) as u32),
            offset_seconds: 0,
            committed: at(16 + (n % 6) as u32),
            subject: subject.into(),
            files_changed: 1,
            insertions: 10,
            deletions: 1,
            is_merge: false,
            is_bot: author.ends_with("[bot]"),
            paths: Vec::new(),
            login: None,
        }
    }

    fn merged(repo: &str, number: u64, title: &str) -> PullRequestRecord {
        PullRequestRecord {
            repo: repo.into(),
            number,
            title: title.into(),
            author: "ann".into(),
            url: format!("https://github.com/{repo}/pull/{number}"),
            created: at(16),
            merged: Some(at(17)),
            closed: Some(at(17)),
            reviewers: Vec::new(),
            additions: 10,
            deletions: 1,
            is_bot: false,
            labels: Vec::new(),
        }
    }

    /// 2026-W47 of repositories built from their commits.
    fn week(repos: Vec<RepoActivity>) -> Activity {
        Activity {
            period: Period {
                kind: PeriodKind::Week,
                since: "2026-11-16T00:00:00Z".parse().unwrap(),
                until: "2026-11-23T00:00:00Z".parse().unwrap(),
                label: "2026-W47".into(),
                time_zone: "UTC".into(),
            },
            repos,
        }
    }

    fn repo(name: &str, commits: Vec<CommitRecord>) -> RepoActivity {
        RepoActivity {
            name: name.into(),
            path: format!("https://github.com/{name}"),
            commits,
            ..RepoActivity::default()
        }
    }

    #[test]
    fn pull_requests_and_releases_join_their_themes() {
        let mut api = repo(
            "lab/api",
            vec![
                commit("lab/api", 1, "Ann", "ci: pin toolchain (#3)"),
                commit("lab/api", 2, "Ann", "release: 2.0.0"),
            ],
        );
        api.pull_requests = vec![merged("lab/api", 3, "ci: pin toolchain")];
        api.releases = vec![ReleaseRecord {
            repo: "lab/api".into(),
            tag: "v2.0.0".into(),
            name: "2.0".into(),
            author: "ann".into(),
            url: "https://github.com/lab/api/releases/tag/v2.0.0".into(),
            published: at(20),
            prerelease: false,
        }];
        let mut web = repo("lab/web", Vec::new());
        web.pull_requests = vec![merged("lab/web", 7, "CI: pin toolchain")];
        let found = themes(&week(vec![api, web]));
        let titles: Vec<(&str, ThemeKind, &str)> = found
            .iter()
            .map(|t| (t.id.as_str(), t.kind, t.title.as_str()))
            .collect();
        assert_eq!(
            titles,
            vec![
                (
                    "t1",
                    ThemeKind::SharedChange,
                    "`ci: pin toolchain` across 2 repositories"
                ),
                ("t2", ThemeKind::Release, "Release v2.0.0 of lab/api"),
            ]
        );
        assert_eq!(
            found[0].pull_requests,
            vec![("lab/api".into(), 3), ("lab/web".into(), 7)]
        );
        assert_eq!(found[0].commits, vec![format!("{:040x}", 1)]);
    }

    fn labelled(
        repo: &str,
        number: u64,
        title: &str,
        author: &str,
        labels: &[&str],
    ) -> PullRequestRecord {
        PullRequestRecord {
            author: author.into(),
            is_bot: author.ends_with("[bot]"),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            ..merged(repo, number, title)
        }
    }

    #[test]
    fn merged_pull_requests_sharing_a_label_make_a_theme_with_the_commits_that_merged_them() {
        let mut api = repo(
            "lab/api",
            vec![
                commit("lab/api", 1, "Ann", "Rotate signing keys (#3)"),
                commit("lab/api", 2, "Ann", "feat(ui): dark mode (#4)"),
                commit("lab/api", 5, "Ann", "feat(ui): toggle themes"),
            ],
        );
        api.pull_requests = vec![
            labelled(
                "lab/api",
                3,
                "Rotate signing keys",
                "ann",
                &["security", "enhancement"],
            ),
            labelled("lab/api", 4, "feat(ui): dark mode", "ann", &["enhancement"]),
            labelled(
                "lab/api",
                11,
                "Bump tokio",
                "dependabot[bot]",
                &["dependencies"],
            ),
            labelled("lab/api", 12, "Tidy", "ann", &["enhancement"]),
        ];
        let mut web = repo(
            "lab/web",
            vec![commit("lab/web", 3, "Bob", "Check webhook signatures (#8)")],
        );
        web.pull_requests = vec![
            labelled(
                "lab/web",
                8,
                "Check webhook signatures",
                "bob",
                &["Security", "enhancement"],
            ),
            // Merged with a merge commit: no commit of the period names it.
            labelled("lab/web", 9, "Audit tokens", "cleo", &["security"]),
            labelled(
                "lab/web",
                10,
                "Bump serde",
                "dependabot[bot]",
                &["dependencies"],
            ),
        ];
        let found = themes(&week(vec![api, web]));
        let titles: Vec<(&str, ThemeKind, &str)> = found
            .iter()
            .map(|t| (t.id.as_str(), t.kind, t.title.as_str()))
            .collect();
        assert_eq!(
            titles,
            vec![
                ("t1", ThemeKind::Label, "Pull requests labelled ‘security’"),
                ("t2", ThemeKind::Scope, "Ui work (feat scope ui)"),
            ],
            "`enhancement` is on four of seven merged pull requests: it says nothing; \
             `dependencies` is on bots' alone"
        );
        let security = &found[0];
        assert_eq!(security.key, "security");
        assert_eq!(
            security.commits,
            vec![format!("{:040x}", 3), format!("{:040x}", 1)]
        );
        assert_eq!(
            security.pull_requests,
            vec![
                ("lab/api".into(), 3),
                ("lab/web".into(), 8),
                ("lab/web".into(), 9)
            ]
        );
        assert_eq!(security.repos, vec!["lab/api", "lab/web"]);
        assert_eq!(
            security.people,
            vec!["Ann", "Bob", "cleo"],
            "an author is named as on their commits, by login without any"
        );
        assert_eq!((security.insertions, security.deletions), (20, 2));
        assert_eq!(
            found[1].commits,
            vec![format!("{:040x}", 5), format!("{:040x}", 2)],
            "a commit whose pull request has no telling label keeps its scope"
        );
    }

    #[test]
    fn a_pull_request_joins_its_most_specific_label_and_few_pull_requests_keep_theirs() {
        let mut api = repo("lab/api", Vec::new());
        api.pull_requests = vec![
            labelled("lab/api", 1, "Pin images", "ann", &["backend", "security"]),
            labelled("lab/api", 2, "Drop md5", "bob", &["security", "backend"]),
            labelled("lab/api", 3, "Faster queries", "ann", &["backend"]),
        ];
        let found = themes(&week(vec![api]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].title, "Pull requests labelled ‘security’");
        assert_eq!(
            found[0].pull_requests,
            vec![("lab/api".into(), 1), ("lab/api".into(), 2)],
            "`security` (two) is more specific than `backend` (three), which keeps one \
             pull request and makes no theme"
        );
        assert!(found[0].commits.is_empty());
        assert_eq!(found[0].people, vec!["ann", "bob"]);
    }

    #[test]
    fn bot_only_groups_make_no_theme_and_the_heaviest_eight_stay() {
        let mut repos: Vec<RepoActivity> = ["a", "b", "c"]
            .iter()
            .map(|name| {
                repo(
                    name,
                    vec![commit(
                        name,
                        1,
                        "dependabot[bot]",
                        "chore(deps): bump serde",
                    )],
                )
            })
            .collect();
        let scoped = (0..10u64)
            .flat_map(|scope| {
                (0..=scope.min(4)).map(move |n| {
                    commit(
                        "a",
                        100 + scope * 10 + n,
                        "Ann",
                        &format!("feat(s{scope}): {n}"),
                    )
                })
            })
            .collect::<Vec<_>>();
        repos[0].commits.extend(scoped);
        let found = themes(&week(repos));
        let keys: Vec<(&str, &str)> = found
            .iter()
            .map(|t| (t.id.as_str(), t.key.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("t1", "(s4)"),
                ("t2", "(s5)"),
                ("t3", "(s6)"),
                ("t4", "(s7)"),
                ("t5", "(s8)"),
                ("t6", "(s9)"),
                ("t7", "(s3)"),
                ("t8", "(s2)"),
            ],
            "five commits each lead, then four, then three; s1 and s0 fall out"
        );
        assert!(found.iter().all(|t| t.people == vec!["Ann"]));
    }
}
