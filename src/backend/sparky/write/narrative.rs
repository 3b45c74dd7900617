//! The body of a long draft, told once: a subsection per theme, then the stories of the
//! busiest repositories, each listing its commits.
//!
//! A commit is listed where it is first told and nowhere after ([`Told`]). Sentences doing
//! the same job take turns among phrasings, and as many themes and stories are told as
//! the phrasings allow, so no sentence template is used more than twice.

use std::collections::BTreeSet;

use super::areas::{area_list, areas};
use super::github_render;
use super::render::{count, day_name, lines, local_date, name_list, one_person, short_sha};
use crate::backend::sparky::analyze::{RepoStats, Theme, impact_score};
use crate::backend::sparky::model::{CommitRecord, DigestData, DraftKind};

/// Phrasings per sentence job; each is used at most twice, so this many times two themes
/// or stories are told at most.
const PHRASINGS: usize = 3;
/// Themes and stories told at most: each phrasing twice.
const TOLD_AT_MOST: usize = 2 * PHRASINGS;
/// Commits a theme lists at most, the largest ones.
const THEME_COMMITS: usize = 8;
/// Areas a story or a theme names at most, the most touched.
const STORY_AREAS: usize = 3;
const THEME_AREAS: usize = 2;

/// Fewer commits than this make a quiet day or a quiet longer period: the draft says so and
/// stays short.
const BUSY_DAY: u64 = 5;
const BUSY_PERIOD: u64 = 30;

/// Whether a draft of `kind` tells a quiet period: a day of fewer than five commits, a
/// longer period of fewer than thirty.
pub(super) fn is_quiet(data: &DigestData, kind: DraftKind) -> bool {
    let busy = match kind {
        DraftKind::Daily => BUSY_DAY,
        _ => BUSY_PERIOD,
    };
    data.metrics.totals.commits < busy
}

/// What a draft has told so far: commits by short sha, and the repositories with a story.
#[derive(Debug, Default)]
pub(super) struct Told {
    commits: BTreeSet<String>,
    stories: BTreeSet<String>,
}

impl Told {
    /// Notes every commit reference of `text`: a code span of 7 hex digits.
    pub fn note(&mut self, text: &str) {
        let spans = text.split('`').skip(1).step_by(2);
        for span in spans.filter(|s| s.len() == 7 && s.chars().all(|c| c.is_ascii_hexdigit())) {
            self.commits.insert(span.to_owned());
        }
    }

    pub fn has(&self, sha: &str) -> bool {
        self.commits.contains(short_sha(sha))
    }

    /// Whether repository `name` has had its story told.
    pub fn has_story(&self, name: &str) -> bool {
        self.stories.contains(name)
    }

    fn add(&mut self, sha: &str) {
        self.commits.insert(short_sha(sha).to_owned());
    }
}

/// How much of the repositories' stories a draft tells.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stories {
    /// Commits listed in each story.
    pub commits: usize,
    /// Stories told, most active repository first; the others are in the Repositories
    /// section.
    pub repos: usize,
}

impl Stories {
    /// The stories a digest of `kind` tells: the busiest repositories, as many as the
    /// phrasings allow, each listing its commits up to about what a busy period of the
    /// kind has (the word ceiling cuts a longer list, a blog post fits its own). A quiet
    /// day's few commits are told in its figures and lists, without stories.
    pub fn of(data: &DigestData, kind: DraftKind) -> Self {
        if kind == DraftKind::Daily && is_quiet(data, kind) {
            return Stories {
                commits: 0,
                repos: 0,
            };
        }
        let commits = match kind {
            DraftKind::Daily => 20,
            DraftKind::Monthly | DraftKind::Blog => 200,
            _ => 50,
        };
        Stories {
            commits,
            repos: data.metrics.repos.len(),
        }
    }

    /// How many repositories get a story.
    pub fn told(self, data: &DigestData) -> usize {
        self.repos.min(TOLD_AT_MOST).min(data.metrics.repos.len())
    }
}

/// The themes a draft of `kind` tells, heaviest first.
pub(super) fn shown_themes(data: &DigestData, kind: DraftKind) -> &[Theme] {
    let most = match kind {
        DraftKind::Daily => 2,
        DraftKind::Weekly | DraftKind::Digest => 4,
        DraftKind::Monthly | DraftKind::Blog => TOLD_AT_MOST,
        DraftKind::Mastodon | DraftKind::Bluesky | DraftKind::Linkedin | DraftKind::X => 1,
    };
    let themes = &data.metrics.themes;
    &themes[..themes.len().min(most)]
}

/// Whether a theme's commits include `sha`, for the themes a draft of `kind` tells.
pub(super) fn themed(data: &DigestData, kind: DraftKind, sha: &str) -> bool {
    shown_themes(data, kind)
        .iter()
        .any(|t| t.commits.iter().any(|c| c == sha))
}

/// `“title”`: how prose names a theme.
pub(super) fn quoted(theme: &Theme) -> String {
    format!("“{}”", theme.title)
}

/// "13 commits", or for a theme of pull requests only "2 merged pull requests"; `None`
/// for a theme of neither (a release seen on GitHub alone).
pub(super) fn theme_size(theme: &Theme) -> Option<String> {
    match (theme.commits.len(), theme.pull_requests.len()) {
        (0, 0) => None,
        (0, prs) => Some(count(
            prs as u64,
            "merged pull request",
            "merged pull requests",
        )),
        (commits, _) => Some(count(commits as u64, "commit", "commits")),
    }
}

/// One `###` subsection per theme: where and by whom, then its largest commits not told
/// yet; `None` without themes.
pub(super) fn themes(data: &DigestData, kind: DraftKind, told: &mut Told) -> Option<String> {
    let told_themes: Vec<String> = shown_themes(data, kind)
        .iter()
        .enumerate()
        .map(|(i, theme)| {
            let commits: Vec<&CommitRecord> = theme
                .commits
                .iter()
                .filter_map(|sha| data.commits.iter().find(|c| &c.sha == sha))
                .collect();
            let sentence = theme_sentence(data, i, theme, &span(data, &commits));
            let mut text = format!("### {}\n\n{sentence}", theme.title);
            if let Some(areas) = theme_areas(i, &commits) {
                text.push_str(&format!(" {areas}"));
            }
            let one_repo = theme.repos.len() == 1;
            if let Some(list) = commit_list(data, &commits, THEME_COMMITS, !one_repo, told) {
                text.push_str(&format!("\n\n{list}"));
            }
            text
        })
        .collect();
    (!told_themes.is_empty()).then(|| told_themes.join("\n\n"))
}

/// Where and when a theme happened and by whom, in the `i`th phrasing.
fn theme_sentence(data: &DigestData, i: usize, theme: &Theme, span: &str) -> String {
    let repos = match theme.repos.len() {
        0..=3 => name_list(&theme.repos),
        n => count(n as u64, "repository", "repositories"),
    };
    if theme.commits.is_empty() {
        // Pull requests or releases only: GitHub's sections list them.
        return match theme_size(theme) {
            Some(prs) => format!("{prs} in {repos}, listed under Pull requests."),
            None => format!("Released in {repos}, listed under Releases."),
        };
    }
    let commits = count(theme.commits.len() as u64, "commit", "commits");
    let changed = lines(theme.insertions, theme.deletions);
    let people = people_named(data, &theme.people);
    match i % PHRASINGS {
        0 => format!(
            "{commits} in {repos}{} {span}, {changed} lines.",
            people.map(|p| format!(" by {p}")).unwrap_or_default()
        ),
        1 => format!(
            "It took {commits}{} in {repos} {span}, changing {changed} lines.",
            people.map(|p| format!(" from {p}")).unwrap_or_default()
        ),
        _ => format!(
            "{repos} got {commits} of it{} {span}, {changed} lines in all.",
            people.map(|p| format!(" from {p}")).unwrap_or_default()
        ),
    }
}

/// The areas a theme's `commits` changed most, in the `i`th phrasing; `None` without paths.
fn theme_areas(i: usize, commits: &[&CommitRecord]) -> Option<String> {
    let areas = areas(commits, THEME_AREAS);
    let areas = (!areas.is_empty()).then(|| area_list(&areas))?;
    Some(match i % PHRASINGS {
        0 => format!("It touched mostly {areas}."),
        1 => format!("Its changes went to {areas}."),
        _ => format!("The areas it changed were {areas}."),
    })
}

/// The people of a list worth naming: none when the period has one person only (the
/// figures say so once).
fn people_named(data: &DigestData, people: &[String]) -> Option<String> {
    (!one_person(data) && !people.is_empty()).then(|| match people.len() {
        1..=3 => name_list(people),
        n => count(n as u64, "person", "people"),
    })
}

/// One `###` story per busy repository, up to `stories.repos` of them: when and by whom
/// its commits came, the themes it took part in, and its commits not told yet.
pub(super) fn repository_stories(
    data: &DigestData,
    kind: DraftKind,
    stories: Stories,
    told: &mut Told,
) -> Option<String> {
    let mut told_stories: Vec<String> = Vec::new();
    for repo in &data.metrics.repos[..stories.told(data)] {
        let commits: Vec<&CommitRecord> = data
            .commits
            .iter()
            .filter(|c| c.repo == repo.name)
            .collect();
        // A day is short: a repository whose commits its themes told has no story.
        if kind == DraftKind::Daily && commits.iter().all(|c| told.has(&c.sha)) {
            continue;
        }
        // One active repository's figures are the period's, told in the figures.
        let figures = match data.metrics.repos.len() {
            1 => String::new(),
            _ => format!(
                " — {}, {} lines{}",
                count(repo.commits, "commit", "commits"),
                lines(repo.insertions, repo.deletions),
                github_render::repo_suffix(data, &repo.name),
            ),
        };
        let i = told_stories.len();
        let mut text = format!(
            "### {}{figures}\n\n{}",
            repo.name,
            story_sentence(data, kind, i, repo, &commits),
        );
        if let Some(list) = commit_list(data, &commits, stories.commits, false, told) {
            text.push_str(&format!("\n\n{list}"));
        }
        told_stories.push(text);
        told.stories.insert(repo.name.clone());
    }
    if told_stories.is_empty() {
        return None;
    }
    if told_stories.len() < data.metrics.repos.len() {
        told_stories.push("The other repositories are listed under Repositories.".into());
    }
    Some(told_stories.join("\n\n"))
}

/// When a repository's `commits` landed, by whom, the themes they belong to and the areas
/// they changed most, in the `i`th phrasing.
fn story_sentence(
    data: &DigestData,
    kind: DraftKind,
    i: usize,
    repo: &RepoStats,
    commits: &[&CommitRecord],
) -> String {
    let span = span(data, commits);
    let people = story_people(data, repo, commits);
    // The themes some of these commits belong to (a release or pull requests alone do not
    // make the repository's work part of a theme).
    let themes: Vec<String> = shown_themes(data, kind)
        .iter()
        .filter(|t| commits.iter().any(|c| t.commits.contains(&c.sha)))
        .map(quoted)
        .collect();
    let themes = (!themes.is_empty()).then(|| name_list(&themes));
    let areas = areas(commits, STORY_AREAS);
    let areas = (!areas.is_empty()).then(|| area_list(&areas));
    let (when, where_) = match i % PHRASINGS {
        0 => (
            format!(
                "Work here landed {span}{}{}.",
                people.map(|p| format!(" by {p}")).unwrap_or_default(),
                themes.map(|t| format!(", part of {t}")).unwrap_or_default()
            ),
            areas.map(|a| format!("Most of the changes touched {a}.")),
        ),
        1 => (
            format!(
                "Its commits came {span}{}{}.",
                people.map(|p| format!(" from {p}")).unwrap_or_default(),
                themes
                    .map(|t| format!(" and belong to {t}"))
                    .unwrap_or_default()
            ),
            areas.map(|a| format!("The areas changed most were {a}.")),
        ),
        _ => (
            format!(
                "Here, commits arrived {span}{}{}.",
                people.map(|p| format!(" from {p}")).unwrap_or_default(),
                themes
                    .map(|t| format!("; they went to {t}"))
                    .unwrap_or_default()
            ),
            areas.map(|a| format!("Changes centred on {a}.")),
        ),
    };
    match where_ {
        Some(where_) => format!("{when} {where_}"),
        None => when,
    }
}

/// Who made a repository's `commits`, bots aside: named when three names or fewer, else
/// counted as the repository's contributors (bots included, as the figures count them);
/// none when the period has one person only.
fn story_people(data: &DigestData, repo: &RepoStats, commits: &[&CommitRecord]) -> Option<String> {
    if one_person(data) {
        return None;
    }
    let mut people: Vec<String> = Vec::new();
    for c in commits.iter().filter(|c| !c.is_bot) {
        let name = person(data, c).to_owned();
        if !people.contains(&name) {
            people.push(name);
        }
    }
    match people.len() {
        0 => None,
        1..=3 => Some(name_list(&people)),
        _ => Some(count(repo.contributors, "contributor", "contributors")),
    }
}

/// "from Mon 2026-11-16 to Wed 2026-11-18", or "on Mon 2026-11-16" for commits of one day.
fn span(data: &DigestData, commits: &[&CommitRecord]) -> String {
    let day = |c: &&CommitRecord| local_date(data, c.committed);
    match (commits.iter().map(day).min(), commits.iter().map(day).max()) {
        (Some(first), Some(last)) if first != last => {
            format!("from {} to {}", day_name(&first), day_name(&last))
        }
        (Some(only), _) => format!("on {}", day_name(&only)),
        _ => "in the period".to_owned(),
    }
}

/// A commit's author as the Contributors section names them (people are told apart by
/// email), so one person has one name throughout the draft.
pub(super) fn person<'a>(data: &'a DigestData, c: &'a CommitRecord) -> &'a str {
    data.metrics
        .contributors
        .iter()
        .find(|p| p.email.eq_ignore_ascii_case(&c.email))
        .map_or(c.author.as_str(), |p| p.name.as_str())
}

/// Up to `most` of `commits` not told yet, the largest by impact score, listed oldest
/// first with their repository when `with_repo`, and noted as told; `None` when none are
/// left.
fn commit_list(
    data: &DigestData,
    commits: &[&CommitRecord],
    most: usize,
    with_repo: bool,
    told: &mut Told,
) -> Option<String> {
    let mut chosen: Vec<&CommitRecord> = commits
        .iter()
        .copied()
        .filter(|c| !told.has(&c.sha))
        .collect();
    chosen.sort_by(|a, b| {
        impact_score(b)
            .total_cmp(&impact_score(a))
            .then_with(|| a.committed.cmp(&b.committed))
            .then_with(|| a.sha.cmp(&b.sha))
    });
    chosen.truncate(most);
    chosen.sort_by(|a, b| {
        a.committed
            .cmp(&b.committed)
            .then_with(|| a.sha.cmp(&b.sha))
    });
    for c in &chosen {
        told.add(&c.sha);
    }
    let bullets: Vec<String> = chosen
        .iter()
        .map(|c| format!("- {}", commit_line(data, c, with_repo)))
        .collect();
    (!bullets.is_empty()).then(|| bullets.join("\n"))
}

/// "Mon 2026-11-16: `abc1234` feat: x — ann in raibid, +1,204/−30 lines": the author only
/// when the period has several people, the repository only when asked.
fn commit_line(data: &DigestData, c: &CommitRecord, with_repo: bool) -> String {
    let who = (!one_person(data) || c.is_bot).then(|| person(data, c));
    let place = match (who, with_repo) {
        (Some(who), true) => format!(" — {who} in {}", c.repo),
        (Some(who), false) => format!(" — {who}"),
        (None, true) => format!(" — {}", c.repo),
        (None, false) => String::new(),
    };
    let day = day_name(&local_date(data, c.committed));
    let mut line = format!("{day}: `{}` {}{place}", short_sha(&c.sha), c.subject);
    if !c.is_merge {
        line.push_str(&format!(", {} lines", lines(c.insertions, c.deletions)));
    }
    // Known only where git listed the paths (GitHub may not count a commit's files).
    if !c.is_merge && !c.paths.is_empty() {
        let files = u64::from(c.files_changed);
        line.push_str(&format!(" in {}", count(files, "file", "files")));
    }
    line
}
