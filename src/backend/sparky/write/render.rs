//! The data-driven text of a draft: a digest's or blog post's sections per kind and every
//! reference in them, or a social post ([`super::social`]).
//!
//! Numbers, names, shas (7 characters, in backticks), dates and repositories are all taken
//! from [`DigestData`]; writers only supply the [`Prose`] of Summary, Highlights and a blog
//! post's story. The GitHub sections ([`super::github_render`]) appear only with GitHub data;
//! a blog post adds a section per active repository ([`super::blog`]).

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use super::narrative::{self, Stories, Told};
use super::{areas, blog, figures, fit, github_render, social};
use crate::backend::sparky::analyze::{Contributor, DayCount, Metrics, Notable, RepoStats, Trend};
use crate::backend::sparky::model::{CommitRecord, DigestData, DraftKind};

/// Areas a person's line names at most.
const PERSON_AREAS: usize = 2;

/// The part of a draft a writer composes; the renderer does the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Prose {
    /// A social post's sentences, too.
    pub summary: String,
    /// One Markdown bullet each, without the leading `- `.
    pub highlights: Vec<String>,
    /// A blog post's story: paragraphs, in order.
    pub story: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// What the period was about: its main themes.
    Summary,
    /// Each theme told, one subsection each.
    Themes,
    Highlights,
    /// A blog post's story, when a model wrote one.
    Story,
    /// The story of each of the busiest repositories, one subsection each.
    RepositoryStories,
    Figures,
    Trend,
    PullRequests,
    Reviews,
    Issues,
    Releases,
    // The appendix: lists of what the body has not told.
    NotableChanges,
    Contributors,
    Repositories,
    ActivityByDay,
    ActivityByWeek,
    NotCollected,
}

impl Section {
    fn heading(self) -> &'static str {
        match self {
            Section::Summary => "Summary",
            Section::Themes => "Themes",
            Section::Highlights => "Highlights",
            Section::Story => "The story",
            Section::RepositoryStories => "Per repository",
            Section::Figures => "In figures",
            Section::NotableChanges => "Notable changes",
            Section::PullRequests => "Pull requests",
            Section::Reviews => "Reviews",
            Section::Issues => "Issues",
            Section::Releases => "Releases",
            Section::Contributors => "Contributors",
            Section::Repositories => "Repositories",
            Section::ActivityByDay => "Activity by day",
            Section::ActivityByWeek => "Activity by week",
            Section::Trend => "Trend",
            Section::NotCollected => "Not collected",
        }
    }

    /// Every section, in the order a draft shows them.
    const ALL: [Section; 17] = [
        Section::Summary,
        Section::Themes,
        Section::Highlights,
        Section::Story,
        Section::RepositoryStories,
        Section::Figures,
        Section::Trend,
        Section::PullRequests,
        Section::Reviews,
        Section::Issues,
        Section::Releases,
        Section::NotableChanges,
        Section::Contributors,
        Section::Repositories,
        Section::ActivityByDay,
        Section::ActivityByWeek,
        Section::NotCollected,
    ];

    /// Whether a draft of `kind` has this section. A social post has none: it is one piece
    /// of plain text, see [`social`].
    fn is_in(self, kind: DraftKind) -> bool {
        use DraftKind::*;
        match self {
            Section::Summary
            | Section::Themes
            | Section::Figures
            | Section::NotableChanges
            | Section::PullRequests
            | Section::Reviews
            | Section::Issues
            | Section::Releases
            | Section::Contributors
            | Section::Repositories
            | Section::RepositoryStories
            | Section::NotCollected => matches!(kind, Daily | Weekly | Digest | Monthly | Blog),
            Section::Highlights | Section::Trend => {
                matches!(kind, Weekly | Digest | Monthly | Blog)
            }
            Section::ActivityByDay => matches!(kind, Weekly | Digest | Blog),
            Section::ActivityByWeek => matches!(kind, Monthly | Blog),
            Section::Story => kind == Blog,
        }
    }
}

/// Whether a digest of `kind` has a Highlights section for a writer to fill.
pub(super) fn has_highlights(kind: DraftKind) -> bool {
    Section::Highlights.is_in(kind)
}

/// Whether a digest of `kind` has a Trend section; without one, the figures compare.
pub(super) fn has_trend(kind: DraftKind) -> bool {
    Section::Trend.is_in(kind)
}

/// How many notable changes a digest of `kind` lists (and a model is told about).
pub(super) fn notable_limit(kind: DraftKind) -> usize {
    match kind {
        DraftKind::Daily => 5,
        DraftKind::Weekly | DraftKind::Digest => 10,
        DraftKind::Monthly | DraftKind::Blog => 20,
        DraftKind::Mastodon | DraftKind::Bluesky | DraftKind::Linkedin | DraftKind::X => 3,
    }
}

/// How many Highlights bullets a digest of `kind` has at most.
pub(super) fn highlight_limit(kind: DraftKind) -> usize {
    match kind {
        DraftKind::Daily => 0,
        DraftKind::Weekly | DraftKind::Digest => 6,
        DraftKind::Monthly | DraftKind::Blog => 10,
        DraftKind::Mastodon | DraftKind::Bluesky | DraftKind::Linkedin | DraftKind::X => 0,
    }
}

pub(super) fn title(data: &DigestData, kind: DraftKind) -> String {
    let name = match kind {
        DraftKind::Daily => "Daily digest",
        DraftKind::Weekly => "Weekly digest",
        DraftKind::Monthly => "Monthly digest",
        DraftKind::Digest => "Digest",
        DraftKind::Blog => "Blog post",
        DraftKind::Mastodon => "Mastodon post",
        DraftKind::Bluesky => "Bluesky post",
        DraftKind::Linkedin => "LinkedIn post",
        DraftKind::X => "X post",
    };
    format!("{name} — {}", data.period.label)
}

/// The whole body: `prose` and the data as Markdown sections, or as a social post.
pub(super) fn render(data: &DigestData, kind: DraftKind, prose: &Prose) -> String {
    if let Some(limit) = kind.post_limit() {
        return social::render(data, prose, limit);
    }
    let body = match kind {
        DraftKind::Blog => blog::render(data, prose),
        _ => markdown(data, kind, prose, Stories::of(data, kind)),
    };
    match kind.word_bounds() {
        Some((_, max_words)) => fit::fit(body, max_words),
        None => body,
    }
}

/// The Markdown sections of `kind`: `prose` for Summary, Highlights and the story, the data
/// for the rest, `stories` of the busiest repositories. A commit is listed in the first
/// section that tells it only. Sections with nothing to say (no trend, no highlights, no
/// GitHub data) are left out.
pub(super) fn markdown(
    data: &DigestData,
    kind: DraftKind,
    prose: &Prose,
    stories: Stories,
) -> String {
    let mut out = String::new();
    let mut told = Told::default();
    let sections = Section::ALL
        .into_iter()
        .filter(|&s| s.is_in(kind) && shown(s, kind, data));
    for section in sections {
        let content = match section {
            Section::Summary => Some(prose.summary.trim().to_owned()),
            Section::Themes => narrative::themes(data, kind, &mut told),
            Section::Highlights => bullets(prose.highlights.iter().map(|h| h.trim().to_owned())),
            Section::Story => Some(paragraphs(&prose.story)),
            Section::RepositoryStories => {
                narrative::repository_stories(data, kind, stories, &mut told)
            }
            Section::Figures => figures::figures(data, kind),
            Section::NotableChanges => notable_changes(data, kind, &told),
            Section::PullRequests => github_render::pull_requests(data, kind),
            Section::Reviews => github_render::reviews(data),
            Section::Issues => github_render::issues(data),
            Section::Releases => github_render::releases(data),
            Section::Contributors => match github_render::people(data) {
                Some(people) => bullets(people.into_iter()),
                None => contributors(data),
            },
            Section::Repositories => repositories(data, &told),
            Section::ActivityByDay => bullets(data.metrics.commits_per_day.iter().map(day_line)),
            Section::ActivityByWeek => bullets(weeks(&data.metrics.commits_per_day).into_iter()),
            Section::Trend => data.metrics.trend.as_ref().map(|t| trend(data, t)),
            Section::NotCollected => github_render::failures(data),
        };
        if let Some(content) = content.filter(|c| !c.is_empty()) {
            told.note(&content);
            out.push_str(&format!("## {}\n\n{content}\n\n", section.heading()));
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Whether `section` of `kind` applies to `data`. A blog post, whatever its period, shows
/// activity by day up to two weeks and by week beyond; neither for a day or a period
/// without commits.
fn shown(section: Section, kind: DraftKind, data: &DigestData) -> bool {
    if kind != DraftKind::Blog {
        return true;
    }
    let days = data.metrics.commits_per_day.len();
    let busy = data.metrics.totals.commits > 0;
    match section {
        Section::ActivityByDay => busy && (2..=14).contains(&days),
        Section::ActivityByWeek => busy && days > 14,
        _ => true,
    }
}

/// Paragraphs separated by blank lines, empty ones left out.
fn paragraphs(texts: &[String]) -> String {
    let kept: Vec<&str> = texts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    kept.join("\n\n")
}

/// Words as `raibid drafts list` counts them: runs of non-whitespace.
pub(super) fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

fn bullets(lines: impl Iterator<Item = String>) -> Option<String> {
    let lines: Vec<String> = lines
        .filter(|l| !l.is_empty())
        .map(|l| format!("- {l}"))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The ranked commits not told above; none for a period without commits.
fn notable_changes(data: &DigestData, kind: DraftKind, told: &Told) -> Option<String> {
    if data.metrics.totals.commits == 0 {
        return None;
    }
    let ranked = data
        .metrics
        .notable
        .iter()
        .filter(|n| !told.has(&n.sha))
        .take(notable_limit(kind));
    let listed = bullets(ranked.map(|n| {
        format!(
            "`{}` {} — {} in {}, {} lines in {}",
            short_sha(&n.sha),
            n.subject,
            n.author,
            n.repo,
            lines(n.insertions, n.deletions),
            count(u64::from(n.files_changed), "file", "files"),
        )
    }));
    let none = match data.metrics.notable.is_empty() {
        true => "No ranked changes: every commit was a merge or a bot's.",
        false => "Every ranked change is told above.",
    };
    Some(listed.unwrap_or_else(|| none.into()))
}

/// The people, most commits first; none when one person did everything (the figures say
/// so) and without bots (the figures name them as a group).
fn contributors(data: &DigestData) -> Option<String> {
    let humans: Vec<&Contributor> = data
        .metrics
        .contributors
        .iter()
        .filter(|c| !c.is_bot)
        .collect();
    if humans.len() < 2 {
        return None;
    }
    bullets(humans.into_iter().map(|c| contributor_line(data, c)))
}

/// "ann — 12 commits, +340/−120 lines in raibid, mostly `src/console/` and `docs/`".
fn contributor_line(data: &DigestData, c: &Contributor) -> String {
    let theirs: Vec<&CommitRecord> = data
        .commits
        .iter()
        .filter(|commit| commit.email.eq_ignore_ascii_case(&c.email))
        .collect();
    let areas = areas::areas(&theirs, PERSON_AREAS);
    let mostly = match areas.is_empty() {
        true => String::new(),
        false => format!(", mostly {}", areas::area_list(&areas)),
    };
    format!(
        "{} — {}, {} lines in {}{mostly}",
        c.name,
        count(c.commits, "commit", "commits"),
        lines(c.insertions, c.deletions),
        name_list(&c.repos),
    )
}

/// The active repositories without a story of their own, then those without commits.
fn repositories(data: &DigestData, told: &Told) -> Option<String> {
    let active = data
        .metrics
        .repos
        .iter()
        .filter(|r| !told.has_story(&r.name))
        .map(|r| repo_line(data, r) + &github_render::repo_suffix(data, &r.name));
    let quiet: Vec<String> = data
        .repos
        .iter()
        .filter(|name| !data.metrics.repos.iter().any(|r| &r.name == *name))
        .cloned()
        .collect();
    let quiet_line = (!quiet.is_empty()).then(|| format!("Without commits: {}", name_list(&quiet)));
    bullets(active.chain(quiet_line))
}

/// "raibid — 12 commits by 3 contributors, +340/−120 lines"; who only when the period has
/// more than one person.
fn repo_line(data: &DigestData, r: &RepoStats) -> String {
    let by = match one_person(data) {
        true => String::new(),
        false => format!(
            " by {}",
            count(r.contributors, "contributor", "contributors")
        ),
    };
    format!(
        "{} — {}{by}, {} lines",
        r.name,
        count(r.commits, "commit", "commits"),
        lines(r.insertions, r.deletions),
    )
}

/// Whether one person (bots aside) made every human commit: drafts then say so once.
pub(super) fn one_person(data: &DigestData) -> bool {
    data.metrics
        .contributors
        .iter()
        .filter(|c| !c.is_bot)
        .count()
        <= 1
}

fn day_line(day: &DayCount) -> String {
    let commits = match day.commits {
        0 => "no commits".to_owned(),
        n => count(n, "commit", "commits"),
    };
    format!("{} — {commits}", day_name(&day.date))
}

/// Days grouped by ISO week (Monday first), each week cut to the period.
fn weeks(days: &[DayCount]) -> Vec<String> {
    struct Week<'a> {
        first: &'a str,
        last: &'a str,
        commits: u64,
        /// ISO year and week; `None` for a date that does not parse, which stands alone.
        key: Option<(i16, i8)>,
    }
    let mut groups: Vec<Week> = Vec::new();
    for day in days {
        let key = day.date.parse::<Date>().ok().map(|d| {
            let iso = d.iso_week_date();
            (iso.year(), iso.week())
        });
        match groups.last_mut() {
            Some(week) if key.is_some() && week.key == key => {
                week.last = &day.date;
                week.commits += day.commits;
            }
            _ => groups.push(Week {
                first: &day.date,
                last: &day.date,
                commits: day.commits,
                key,
            }),
        }
    }
    groups
        .into_iter()
        .map(|week| {
            let span = if week.first == week.last {
                week.first.to_owned()
            } else {
                format!("{} to {}", week.first, week.last)
            };
            let commits = match week.commits {
                0 => "no commits".to_owned(),
                n => count(n, "commit", "commits"),
            };
            format!("{span} — {commits}")
        })
        .collect()
}

fn trend(data: &DigestData, t: &Trend) -> String {
    let now = &data.metrics.totals;
    let before = &t.previous;
    let commits = match t.commits_change_pct {
        Some(pct) => format!(
            "Commits: {}, {} {}",
            number(now.commits),
            change(pct),
            number(before.commits)
        ),
        None => format!(
            "Commits: {}; {} had none",
            number(now.commits),
            t.previous_label
        ),
    };
    let now_lines = lines(now.insertions, now.deletions);
    let lines_line = match t.lines_change_pct {
        Some(pct) => format!(
            "Lines: {now_lines}, {} {}",
            change(pct),
            lines(before.insertions, before.deletions)
        ),
        None => format!("Lines: {now_lines}; {} had none", t.previous_label),
    };
    let mut text = format!(
        "Against {}:\n\n- {commits}\n- {lines_line}\n- Contributors: {}, against {}\n- Active \
         repositories: {}, against {}",
        t.previous_label,
        number(now.contributors),
        number(before.contributors),
        number(now.active_repos),
        number(before.active_repos),
    );
    for line in github_render::trend_lines(data) {
        text.push_str(&format!("\n- {line}"));
    }
    text
}

/// "up 50% from", "down 10% from" or "about the same as", for a percent change.
pub(super) fn change(pct: f64) -> String {
    let rounded = pct.abs().round();
    if rounded < 1.0 {
        "about the same as".into()
    } else if pct > 0.0 {
        format!("up {}% from", number(rounded as u64))
    } else {
        format!("down {}% from", number(rounded as u64))
    }
}

/// The first 7 characters of a sha.
pub(super) fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// "1 commit", "1,204 commits".
pub(super) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
}

/// "+1,340/−120".
pub(super) fn lines(insertions: u64, deletions: u64) -> String {
    format!("+{}/−{}", number(insertions), number(deletions))
}

/// A count as people read it: thousands separated, `328,879`. Every number a draft
/// prints from the data goes through here.
pub(super) fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// "12 commits by 3 contributors across 2 repositories", or "... in raibid" for one, or
/// "... by ann ..." when one person made them all.
pub(super) fn totals_phrase(m: &Metrics) -> String {
    let t = &m.totals;
    let place = place(m);
    let who = match m.contributors.as_slice() {
        [only] => only.name.clone(),
        _ => count(t.contributors, "contributor", "contributors"),
    };
    format!("{} by {who} {place}", count(t.commits, "commit", "commits"))
}

/// Where the period's commits went: "in raibid" for one repository, else "across 2
/// repositories".
pub(super) fn place(m: &Metrics) -> String {
    match m.repos.as_slice() {
        [only] => format!("in {}", only.name),
        _ => format!(
            "across {}",
            count(m.totals.active_repos, "repository", "repositories")
        ),
    }
}

/// A breaking change, by the same rule as the impact score's bonus.
pub(super) fn is_breaking(n: &Notable) -> bool {
    n.subject.contains("!:") || n.subject.contains("BREAKING")
}

/// "a", "a and b", "a, b and c".
pub(super) fn name_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// How a commit is referred to in prose: "`abc1234` feat: x (ann)".
pub(super) fn commit_ref(n: &Notable) -> String {
    format!("`{}` {} ({})", short_sha(&n.sha), n.subject, n.author)
}

/// The calendar day of `at` in the period's time zone, `YYYY-MM-DD`.
pub(super) fn local_date(data: &DigestData, at: Timestamp) -> String {
    let tz = TimeZone::get(&data.period.time_zone).unwrap_or(TimeZone::UTC);
    at.to_zoned(tz).date().to_string()
}

/// "Wed 2026-11-18"; the date alone when it does not parse.
pub(super) fn day_name(date: &str) -> String {
    match date.parse::<Date>() {
        Ok(d) => format!("{} {date}", weekday(d.weekday())),
        Err(_) => date.to_owned(),
    }
}

fn weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, commits: u64) -> DayCount {
        DayCount {
            date: date.into(),
            commits,
        }
    }

    #[test]
    fn weeks_split_on_mondays_and_keep_the_period_edges() {
        let days = [
            day("2026-11-01", 2), // Sunday
            day("2026-11-02", 1),
            day("2026-11-08", 0),
            day("2026-11-09", 0),
        ];
        let lines = weeks(&days);
        assert_eq!(
            lines,
            [
                "2026-11-01 — 2 commits",
                "2026-11-02 to 2026-11-08 — 1 commit",
                "2026-11-09 — no commits"
            ]
        );
    }

    #[test]
    fn changes_round_and_say_which_way() {
        assert_eq!(change(49.6), "up 50% from");
        assert_eq!(change(-10.2), "down 10% from");
        assert_eq!(change(10_900.0), "up 10,900% from");
        assert_eq!(change(0.4), "about the same as");
        assert_eq!(change(-0.4), "about the same as");
    }

    #[test]
    fn names_read_as_a_list() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(name_list(&names(&["a"])), "a");
        assert_eq!(name_list(&names(&["a", "b", "c"])), "a, b and c");
        assert_eq!(short_sha("abc"), "abc");
        assert_eq!(day_name("2026-11-18"), "Wed 2026-11-18");
    }

    #[test]
    fn large_numbers_are_separated_by_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1,000");
        assert_eq!(number(328_879), "328,879");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(lines(1_234, 56), "+1,234/−56");
        assert_eq!(count(1_204, "commit", "commits"), "1,204 commits");
    }
}
