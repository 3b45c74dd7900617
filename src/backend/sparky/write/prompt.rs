//! The prompt for a model: pre-digested facts with ids, never raw data.
//!
//! A model refers to facts as `[TH1]` (the period's themes, from `t1`), `[C2]`, `[P1]`,
//! `[R1]`, `[T1]` (and, with GitHub data, `[M1]` merged pull requests, `[V1]` reviewers,
//! `[L1]` releases); each id is replaced by its reference rendered from the data
//! ([`Fact::reference`]). Descriptions spell numbers out so
//! the model has no digits to copy.

use super::answer;
use super::github_facts;
use super::narrative::{quoted, shown_themes, themed};
use super::render::{self, commit_ref, count, day_name, lines};
use crate::backend::sparky::analyze::Metrics;
use crate::backend::sparky::model::{DigestData, DraftKind};

/// How many people and repositories a model is told about at most.
const PEOPLE_LIMIT: usize = 10;
const REPO_LIMIT: usize = 10;

/// One fact a model may refer to by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fact {
    /// `T1`, `P2`, `R1`, `C3`: a letter for the kind of fact and its rank.
    pub id: String,
    /// What the model reads, numbers spelled out.
    pub description: String,
    /// What replaces `[id]` in the model's text: numbers and names from the data.
    pub reference: String,
}

/// The facts of one digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Facts(pub(super) Vec<Fact>);

impl Facts {
    pub fn from_data(data: &DigestData, kind: DraftKind) -> Self {
        let m = &data.metrics;
        let mut facts = themes(data, kind);
        facts.extend(totals(data));
        let repo_id = |name: &str| {
            m.repos
                .iter()
                .take(REPO_LIMIT)
                .position(|r| r.name == name)
                .map(|i| format!("[R{}]", i + 1))
        };
        let person_id = |name: &str| {
            m.contributors
                .iter()
                .take(PEOPLE_LIMIT)
                .position(|c| c.name == name)
                .map(|i| format!("[P{}]", i + 1))
        };
        for (i, c) in m.contributors.iter().take(PEOPLE_LIMIT).enumerate() {
            let repos: Vec<String> = c
                .repos
                .iter()
                .map(|r| repo_id(r).unwrap_or_else(|| "another repository".into()))
                .collect();
            facts.push(Fact {
                id: format!("P{}", i + 1),
                description: format!(
                    "a {}: {}, in {}",
                    if c.is_bot { "bot" } else { "contributor" },
                    spell_count(c.commits, "commit", "commits"),
                    render::name_list(&repos),
                ),
                reference: c.name.clone(),
            });
        }
        for (i, r) in m.repos.iter().take(REPO_LIMIT).enumerate() {
            facts.push(Fact {
                id: format!("R{}", i + 1),
                description: format!(
                    "the repository \"{}\": {} by {}",
                    r.name,
                    spell_count(r.commits, "commit", "commits"),
                    spell_count(r.contributors, "contributor", "contributors"),
                ),
                reference: r.name.clone(),
            });
        }
        // A commit a theme tells is told there, not again in the model's text.
        let untold = m.notable.iter().filter(|n| !themed(data, kind, &n.sha));
        for (i, n) in untold.take(render::notable_limit(kind)).enumerate() {
            let breaking = n.subject.contains("!:") || n.subject.contains("BREAKING");
            facts.push(Fact {
                id: format!("C{}", i + 1),
                description: format!(
                    "a change in {} by {}: \"{}\", {} lines added and {} removed in {}{}",
                    repo_id(&n.repo).unwrap_or_else(|| "another repository".into()),
                    person_id(&n.author).unwrap_or_else(|| "another contributor".into()),
                    n.subject,
                    spell(n.insertions),
                    spell(n.deletions),
                    spell_count(u64::from(n.files_changed), "file", "files"),
                    if breaking { ", a breaking change" } else { "" },
                ),
                reference: commit_ref(n),
            });
        }
        facts.extend(github_facts::facts(data, kind));
        Facts(facts)
    }

    /// The rendered reference of a fact, by id without brackets.
    pub fn reference(&self, id: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.reference.as_str())
    }
}

/// The themes the draft tells, heaviest first: `t1` is `[TH1]`. The renderer tells each
/// one with its commits after the Summary, so the model writes the narrative around them.
fn themes(data: &DigestData, kind: DraftKind) -> Vec<Fact> {
    shown_themes(data, kind)
        .iter()
        .enumerate()
        .map(|(i, theme)| Fact {
            id: format!("TH{}", i + 1),
            description: format!(
                "a theme of the period, \"{}\": {} in {} by {}",
                theme.title,
                spell_count(theme.commits.len() as u64, "commit", "commits"),
                spell_count(theme.repos.len() as u64, "repository", "repositories"),
                spell_count(theme.people.len() as u64, "person", "people"),
            ),
            reference: quoted(theme),
        })
        .collect()
}

/// Totals, the busiest day and the trend.
fn totals(data: &DigestData) -> Vec<Fact> {
    let m: &Metrics = &data.metrics;
    let t = &m.totals;
    let mut facts = vec![
        (
            "the number of commits",
            spell(t.commits),
            count(t.commits, "commit", "commits"),
        ),
        (
            "the number of contributors",
            spell(t.contributors),
            count(t.contributors, "contributor", "contributors"),
        ),
        (
            "the number of repositories with commits",
            spell(t.active_repos),
            count(t.active_repos, "repository", "repositories"),
        ),
        (
            "the lines changed",
            format!(
                "{} added and {} removed",
                spell(t.insertions),
                spell(t.deletions)
            ),
            format!("{} lines", lines(t.insertions, t.deletions)),
        ),
    ];
    if t.merges > 0 {
        facts.push((
            "the merge commits among them",
            spell(t.merges),
            count(t.merges, "merge", "merges"),
        ));
    }
    let busiest = m.commits_per_day.iter().rev().max_by_key(|d| d.commits);
    if let Some(day) = busiest.filter(|_| m.commits_per_day.len() > 1) {
        facts.push((
            "the busiest day",
            spell_count(day.commits, "commit", "commits"),
            format!(
                "{} ({})",
                day_name(&day.date),
                count(day.commits, "commit", "commits")
            ),
        ));
    }
    if let Some(trend) = &m.trend {
        let (said, reference) = match trend.commits_change_pct {
            Some(pct) => (
                format!("{} the previous period", spelled_change(pct)),
                format!(
                    "{} commits, {} {} in {}",
                    t.commits,
                    render::change(pct),
                    trend.previous.commits,
                    trend.previous_label
                ),
            ),
            None => (
                "the previous period had none".to_owned(),
                format!("no commits in {}", trend.previous_label),
            ),
        };
        facts.push(("commits compared with the previous period", said, reference));
    }
    facts.extend(github_facts::totals(data));
    facts
        .into_iter()
        .enumerate()
        .map(|(i, (what, said, reference))| Fact {
            id: format!("T{}", i + 1),
            description: format!("{what}: {said}"),
            reference,
        })
        .collect()
}

/// The whole prompt: the facts, the rules, and the form of the answer.
pub(super) fn prompt(data: &DigestData, kind: DraftKind, facts: &Facts) -> String {
    let what = match kind {
        DraftKind::Blog => "blog post".to_owned(),
        social if social.post_limit().is_some() => format!("{} post", social.as_str()),
        digest => format!("{} digest", digest.as_str()),
    };
    let mut out = format!(
        "You write the prose of a {what} about software development activity in the period \
         {}.\n\nFacts, each with an id:\n",
        data.period.label
    );
    for fact in &facts.0 {
        out.push_str(&format!("[{}] {}\n", fact.id, fact.description));
    }
    out.push_str(
        "\nRules:\n\
         - Use only these facts. Do not guess causes or plans; no praise, no advice.\n\
         - Refer to a fact only by its id in square brackets, one id per bracket, like [C1] or \
         [P2]. Each id is replaced later by its exact text: a count, a name, or a commit.\n\
         - When there are themes ([TH1], [TH2], ...), open with what the period was about: its \
         main themes. Each theme is told with its commits after your text: do not list them.\n\
         - Write no digits, numbers, names, commit hashes, handles or links yourself: use ids.\n\
         - Plain sentences. No headings, no lists inside a text, no conclusion, no \
         recommendations.\n\n",
    );
    out.push_str(&answer::instructions(kind));
    out
}

/// A conservative token count for a prompt: about three bytes per token.
pub(super) fn estimate_tokens(prompt: &str) -> usize {
    prompt.len().div_ceil(3)
}

pub(super) fn spelled_change(pct: f64) -> String {
    let rounded = pct.abs().round() as u64;
    if rounded == 0 {
        "about the same as".into()
    } else if pct > 0.0 {
        format!("up {} percent from", spell(rounded))
    } else {
        format!("down {} percent from", spell(rounded))
    }
}

pub(super) fn spell_count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", spell(n), if n == 1 { one } else { many })
}

/// A number in English words: 342 -> "three hundred forty-two".
pub(super) fn spell(n: u64) -> String {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    const SCALES: [(u64, &str); 4] = [
        (1_000_000_000_000, "trillion"),
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ];
    if n < 20 {
        return SMALL[n as usize].to_owned();
    }
    if n < 100 {
        let tens = TENS[(n / 10) as usize];
        return match n % 10 {
            0 => tens.to_owned(),
            unit => format!("{tens}-{}", SMALL[unit as usize]),
        };
    }
    if n < 1000 {
        let head = format!("{} hundred", SMALL[(n / 100) as usize]);
        return match n % 100 {
            0 => head,
            rest => format!("{head} {}", spell(rest)),
        };
    }
    for (scale, name) in SCALES {
        if n >= scale {
            let head = format!("{} {name}", spell(n / scale));
            return match n % scale {
                0 => head,
                rest => format!("{head} {}", spell(rest)),
            };
        }
    }
    unreachable!("every n >= 1000 has a scale")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sparky::write::answer::answer_words;

    #[test]
    fn numbers_are_spelled_out() {
        assert_eq!(spell(0), "zero");
        assert_eq!(spell(42), "forty-two");
        assert_eq!(spell(340), "three hundred forty");
        assert_eq!(
            spell(1_205_007),
            "one million two hundred five thousand seven"
        );
        assert!(!spell(u64::MAX).chars().any(|c| c.is_ascii_digit()));
    }

    /// A month with every list full: twenty changes, ten people, ten repositories.
    fn busy_month() -> DigestData {
        use crate::backend::sparky::analyze::{
            Contributor, DayCount, Notable, RepoStats, Totals, Trend,
        };
        use crate::backend::sparky::model::{Period, PeriodKind};
        let totals = Totals {
            commits: 412,
            merges: 31,
            insertions: 48_210,
            deletions: 19_874,
            files_changed: 2_301,
            contributors: 14,
            active_repos: 12,
            files_unknown: 0,
        };
        let repo = |i: usize| format!("service-number-{i}");
        let person = |i: usize| format!("Contributor Name {i}");
        DigestData {
            period: Period {
                kind: PeriodKind::Month,
                since: "2026-11-01T00:00:00Z".parse().unwrap(),
                until: "2026-12-01T00:00:00Z".parse().unwrap(),
                label: "2026-11".into(),
                time_zone: "UTC".into(),
            },
            repos: (0..12).map(repo).collect(),
            repo_paths: (0..12).map(|i| format!("/src/{}", repo(i))).collect(),
            metrics: Metrics {
                themes: Vec::new(),
                bulk: Vec::new(),
                commits_per_day: (1..=30)
                    .map(|d| DayCount {
                        date: format!("2026-11-{d:02}"),
                        commits: 13,
                    })
                    .collect(),
                repos: (0..12)
                    .map(|i| RepoStats {
                        name: repo(i),
                        commits: 40,
                        insertions: 4_321,
                        deletions: 1_234,
                        contributors: 7,
                    })
                    .collect(),
                contributors: (0..14)
                    .map(|i| Contributor {
                        name: person(i),
                        email: format!("p{i}@lab.example"),
                        commits: 29,
                        insertions: 3_456,
                        deletions: 1_789,
                        is_bot: false,
                        repos: vec![repo(i % 12), repo((i + 1) % 12), repo((i + 5) % 12)],
                    })
                    .collect(),
                notable: (0..20)
                    .map(|i| Notable {
                        repo: repo(i % 12),
                        sha: format!("{i:02}{}", "ab".repeat(19)),
                        author: person(i % 14),
                        subject: format!(
                            "feat(scope-{i}): a commit subject of a typical length for this lab"
                        ),
                        insertions: 1_777,
                        deletions: 888,
                        files_changed: 17,
                        files_unknown: false,
                        score: 12.0,
                    })
                    .collect(),
                trend: Some(Trend {
                    previous_label: "2026-10".into(),
                    previous: totals.clone(),
                    commits_change_pct: Some(-12.5),
                    lines_change_pct: Some(33.3),
                }),
                totals,
                github: None,
            },
            commits: Vec::new(),
            link: None,
            failures: Vec::new(),
        }
    }

    /// [`busy_month`] from GitHub: every GitHub list full as well.
    fn busy_github_month() -> DigestData {
        use crate::backend::sparky::analyze::{
            GithubMetrics, IssueStats, MergedPullRequest, PullRequestStats, ReviewLoad, Reviewer,
        };
        use crate::backend::sparky::model::ReleaseRecord;
        let mut data = busy_month();
        let repo = |i: usize| format!("organisation/service-number-{i}");
        let at: jiff::Timestamp = "2026-11-12T10:00:00Z".parse().unwrap();
        data.metrics.github = Some(GithubMetrics {
            pull_requests: PullRequestStats {
                opened: 123,
                merged: 98,
                closed_unmerged: 7,
                median_hours_to_merge: Some(18.5),
                p90_hours_to_merge: Some(96.2),
                merged_per_day: 3.3,
                per_repo: Vec::new(),
                merged_list: (0..98)
                    .map(|i| MergedPullRequest {
                        repo: repo(i % 12),
                        number: 1000 + i as u64,
                        title: format!("feat(scope-{i}): a pull request title of a typical length"),
                        author: format!("contributor-login-{}", i % 14),
                        url: format!("https://github.com/{}/pull/{}", repo(i % 12), 1000 + i),
                        merged: at,
                        hours_to_merge: 18.5,
                        additions: 1_000 - i as u64,
                        deletions: 10,
                        reviewers: vec!["reviewer-a".into(), "reviewer-b".into()],
                        is_bot: false,
                    })
                    .collect(),
            },
            reviews: ReviewLoad {
                reviewers: (0..14)
                    .map(|i| Reviewer {
                        login: format!("contributor-login-{i}"),
                        reviewed: 20,
                    })
                    .collect(),
                merged_without_review: 4,
            },
            issues: IssueStats {
                opened: 40,
                closed: 35,
                net: 5,
                median_hours_to_close: Some(50.0),
                per_repo: Vec::new(),
            },
            releases: (0..12)
                .map(|i| ReleaseRecord {
                    repo: repo(i),
                    tag: format!("v1.{i}.0"),
                    name: format!("Release 1.{i}"),
                    author: "contributor-login-1".into(),
                    url: format!("https://github.com/{}/releases/tag/v1.{i}.0", repo(i)),
                    published: at,
                    prerelease: false,
                })
                .collect(),
            people: Vec::new(),
            trend: None,
            failures: Vec::new(),
        });
        data
    }

    #[test]
    fn a_busy_github_month_fits_the_default_context_window() {
        let data = busy_github_month();
        // A blog post asks for the longest answer: summary, highlights and a story.
        for kind in [DraftKind::Monthly, DraftKind::Blog] {
            let facts = Facts::from_data(&data, kind);
            let text = prompt(&data, kind, &facts);
            let needed = estimate_tokens(&text) + 2 * answer_words(kind);
            let default_num_ctx = crate::config::OllamaConfig::default().num_ctx as usize;
            assert!(
                needed <= default_num_ctx,
                "{kind:?}: {needed} tokens:\n{text}"
            );
            assert!(facts.reference("M10").is_some() && facts.reference("M11").is_none());
        }
    }

    #[test]
    fn a_busy_month_fits_the_default_context_window() {
        let data = busy_month();
        let facts = Facts::from_data(&data, DraftKind::Monthly);
        let text = prompt(&data, DraftKind::Monthly, &facts);
        let needed = estimate_tokens(&text) + 2 * answer_words(DraftKind::Monthly);
        let default_num_ctx = crate::config::OllamaConfig::default().num_ctx as usize;
        assert!(needed <= default_num_ctx, "{needed} tokens:\n{text}");
        assert_eq!(
            facts.reference("C20"),
            Some(
                "`19ababa` feat(scope-19): a commit subject of a typical length for this lab (Contributor Name 5)"
            )
        );
        assert_eq!(facts.reference("C21"), None, "twenty changes at most");
        assert_eq!(facts.reference("P10"), Some("Contributor Name 9"));
        assert_eq!(facts.reference("P11"), None, "ten people at most");
        assert_eq!(facts.reference("T1"), Some("412 commits"));
    }

    #[test]
    fn themes_are_facts_and_their_commits_are_not_told_again() {
        use crate::backend::sparky::analyze::{Theme, ThemeKind};
        let mut data = busy_month();
        let themed = data.metrics.notable[0].sha.clone();
        data.metrics.themes = vec![Theme {
            id: "t1".into(),
            kind: ThemeKind::Scope,
            title: "Console period navigation".into(),
            key: "feat(console)".into(),
            commits: vec![themed.clone()],
            repos: vec![data.metrics.notable[0].repo.clone()],
            people: vec![data.metrics.notable[0].author.clone()],
            insertions: 1_777,
            deletions: 888,
            pull_requests: Vec::new(),
        }];
        let facts = Facts::from_data(&data, DraftKind::Monthly);
        assert_eq!(facts.reference("TH1"), Some("“Console period navigation”"));
        assert_eq!(facts.reference("TH2"), None);
        let text = prompt(&data, DraftKind::Monthly, &facts);
        assert!(
            text.contains(
                "[TH1] a theme of the period, \"Console period navigation\": one commit in one \
                 repository by one person"
            ),
            "{text}"
        );
        let short = &themed[..7];
        assert!(
            !facts.0.iter().any(|f| f.reference.contains(short)),
            "the theme tells its commit"
        );
        assert!(facts.reference("C19").is_some() && facts.reference("C20").is_none());
    }

    #[test]
    fn tokens_are_overestimated() {
        assert_eq!(estimate_tokens("abcd"), 2);
        assert_eq!(estimate_tokens(""), 0);
    }
}
