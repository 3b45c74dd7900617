//! The built-in writer: sections per kind, deterministic text, and no number, name or sha
//! that is not in the data; blog posts within their bounds, social posts within their
//! network's limit.

use std::collections::{BTreeMap, BTreeSet};

use raibid::backend::sparky::analyze::{Theme, ThemeKind};
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, IssueRecord, LengthUnit, Period, PeriodKind,
    PullRequestRecord, ReleaseRecord, RepoActivity,
};
use raibid::backend::sparky::write::{BuiltinWriter, Writer, one_line};
use support::{digest_data, write_builtin};

struct Spec {
    repo: &'static str,
    author: &'static str,
    at: &'static str,
    subject: &'static str,
    ins: u64,
    del: u64,
    files: u32,
}

fn spec(
    repo: &'static str,
    author: &'static str,
    at: &'static str,
    subject: &'static str,
    (ins, del, files): (u64, u64, u32),
) -> Spec {
    Spec {
        repo,
        author,
        at,
        subject,
        ins,
        del,
        files,
    }
}

/// A sha with letters and digits, different for every commit.
fn sha(seed: usize) -> String {
    let a = (seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let b = a.rotate_left(17) ^ 0xDEAD_BEEF_CAFE_F00D;
    format!("{a:016x}{b:016x}{:08x}", (a >> 32) as u32)
}

fn commit(i: usize, s: &Spec) -> CommitRecord {
    let time: jiff::Timestamp = s.at.parse().expect("fixture time");
    CommitRecord {
        login: None,
        repo: s.repo.into(),
        sha: sha(i),
        author: s.author.into(),
        email: format!("{}@lab.example", s.author.replace(['[', ']'], "")),
        time,
        offset_seconds: 0,
        committed: time,
        subject: s.subject.into(),
        files_changed: s.files,
        insertions: s.ins,
        deletions: s.del,
        is_merge: s.subject.starts_with("Merge"),
        is_bot: s.author.ends_with("[bot]"),
        paths: Vec::new(),
    }
}

fn period(kind: PeriodKind, label: &str, since: &str, until: &str) -> Period {
    Period {
        kind,
        since: since.parse().expect("fixture since"),
        until: until.parse().expect("fixture until"),
        label: label.into(),
        time_zone: "UTC".into(),
    }
}

const REPOS: [&str; 3] = ["raibid", "docs", "infra"];

fn activity(period: Period, specs: &[Spec], offset: usize) -> Activity {
    let mut by_repo: BTreeMap<&str, Vec<CommitRecord>> =
        REPOS.iter().map(|r| (*r, Vec::new())).collect();
    for (i, s) in specs.iter().enumerate() {
        by_repo
            .entry(s.repo)
            .or_default()
            .push(commit(offset + i, s));
    }
    grouped(period, by_repo)
}

/// Each repository's commits, newest first, as collection gives them.
fn grouped(period: Period, by_repo: BTreeMap<&str, Vec<CommitRecord>>) -> Activity {
    Activity {
        period,
        repos: by_repo
            .into_iter()
            .map(|(name, mut commits)| {
                commits.sort_by_key(|c| std::cmp::Reverse(c.committed));
                RepoActivity {
                    name: name.into(),
                    path: format!("/src/{name}"),
                    commits,
                    ..RepoActivity::default()
                }
            })
            .collect(),
    }
}

/// The digest data of [`REPOS`], in that order.
fn data(current: Activity, previous: Option<Activity>) -> DigestData {
    DigestData {
        repos: REPOS.iter().map(|r| r.to_string()).collect(),
        repo_paths: REPOS.iter().map(|r| format!("/src/{r}")).collect(),
        ..digest_data(current, previous.as_ref())
    }
}

fn week_specs() -> Vec<Spec> {
    vec![
        spec(
            "raibid",
            "ann",
            "2026-11-16T09:12:00Z",
            "feat: stream tokens into the preview",
            (240, 31, 6),
        ),
        spec(
            "raibid",
            "ann",
            "2026-11-16T15:40:00Z",
            "fix: restore the terminal on SIGHUP",
            (18, 4, 2),
        ),
        spec(
            "raibid",
            "bob",
            "2026-11-17T10:05:00Z",
            "feat!: drop the v1 draft format",
            (96, 310, 9),
        ),
        spec(
            "raibid",
            "ann",
            "2026-11-18T08:00:00Z",
            "bump ollama-rs to 0.3.6",
            (3, 3, 2),
        ),
        spec(
            "raibid",
            "carol",
            "2026-11-18T11:30:00Z",
            "Merge branch 'digests'",
            (0, 0, 0),
        ),
        spec(
            "docs",
            "bob",
            "2026-11-18T16:45:00Z",
            "docs: explain the impact score",
            (57, 2, 1),
        ),
        spec(
            "raibid",
            "dependabot[bot]",
            "2026-11-19T04:00:00Z",
            "chore(deps): bump tokio to 1.54",
            (12, 12, 2),
        ),
        spec(
            "docs",
            "ann",
            "2026-11-20T13:20:00Z",
            "docs: quartz layout for week 47",
            (140, 0, 3),
        ),
        spec(
            "raibid",
            "carol",
            "2026-11-21T22:10:00Z",
            "test: fixture repo with a rename",
            (75, 5, 4),
        ),
        spec(
            "raibid",
            "ann",
            "2026-11-22T09:00:00Z",
            "refactor: one owner of state",
            (66, 80, 5),
        ),
    ]
}

fn weekly() -> DigestData {
    let previous = vec![
        spec(
            "raibid",
            "ann",
            "2026-11-10T09:00:00Z",
            "feat: keymap from config",
            (120, 10, 3),
        ),
        spec(
            "raibid",
            "bob",
            "2026-11-12T09:00:00Z",
            "fix: theme cycling",
            (8, 8, 1),
        ),
        spec(
            "docs",
            "bob",
            "2026-11-13T09:00:00Z",
            "docs: readme",
            (30, 1, 1),
        ),
    ];
    data(
        activity(
            period(
                PeriodKind::Week,
                "2026-W47",
                "2026-11-16T00:00:00Z",
                "2026-11-23T00:00:00Z",
            ),
            &week_specs(),
            0,
        ),
        Some(activity(
            period(
                PeriodKind::Week,
                "2026-W46",
                "2026-11-09T00:00:00Z",
                "2026-11-16T00:00:00Z",
            ),
            &previous,
            100,
        )),
    )
}

fn daily() -> DigestData {
    let day: Vec<Spec> = week_specs()
        .into_iter()
        .filter(|s| s.at.starts_with("2026-11-18"))
        .collect();
    data(
        activity(
            period(
                PeriodKind::Day,
                "2026-11-18",
                "2026-11-18T00:00:00Z",
                "2026-11-19T00:00:00Z",
            ),
            &day,
            0,
        ),
        None,
    )
}

fn monthly() -> DigestData {
    let mut specs = week_specs();
    specs.extend([
        spec(
            "infra",
            "dan",
            "2026-11-02T10:00:00Z",
            "k3s: pin gitea 1.26.2",
            (22, 6, 2),
        ),
        spec(
            "infra",
            "dan",
            "2026-11-05T10:00:00Z",
            "flux: bootstrap over plain http",
            (180, 20, 7),
        ),
        spec(
            "raibid",
            "ann",
            "2026-11-06T10:00:00Z",
            "feat: redis streams queue",
            (410, 12, 8),
        ),
        spec(
            "raibid",
            "erin",
            "2026-11-09T10:00:00Z",
            "feat: webhook hmac check",
            (130, 4, 3),
        ),
        spec(
            "docs",
            "erin",
            "2026-11-27T10:00:00Z",
            "docs: BREAKING config keys renamed",
            (45, 45, 2),
        ),
        spec(
            "raibid",
            "bob",
            "2026-11-30T23:30:00Z",
            "perf: reuse the diff cache",
            (38, 52, 2),
        ),
    ]);
    data(
        activity(
            period(
                PeriodKind::Month,
                "2026-11",
                "2026-11-01T00:00:00Z",
                "2026-12-01T00:00:00Z",
            ),
            &specs,
            0,
        ),
        None,
    )
}

fn headings(body: &str) -> Vec<&str> {
    body.lines().filter_map(|l| l.strip_prefix("## ")).collect()
}

fn words(body: &str) -> usize {
    body.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

#[test]
fn each_kind_has_its_sections_in_order() {
    let daily = write_builtin(&daily(), DraftKind::Daily);
    assert_eq!(
        headings(&daily.body),
        [
            "Summary",
            "In figures",
            "Notable changes",
            "Contributors",
            "Repositories"
        ]
    );
    assert_eq!(daily.title, "Daily digest — 2026-11-18");

    let weekly = write_builtin(&weekly(), DraftKind::Weekly);
    assert_eq!(
        headings(&weekly.body),
        [
            "Summary",
            "Themes",
            "Highlights",
            "Per repository",
            "In figures",
            "Trend",
            "Notable changes",
            "Contributors",
            "Repositories",
            "Activity by day"
        ]
    );
    assert_eq!(weekly.title, "Weekly digest — 2026-W47");

    let monthly = write_builtin(&monthly(), DraftKind::Monthly);
    assert_eq!(
        headings(&monthly.body),
        [
            "Summary",
            "Themes",
            "Highlights",
            "Per repository",
            "In figures",
            "Notable changes",
            "Contributors",
            "Activity by week"
        ],
        "no Trend section without a previous period; every repository has a story"
    );
    assert_eq!(monthly.title, "Monthly digest — 2026-11");
    for written in [&daily, &weekly, &monthly] {
        assert_eq!(written.model, None);
        assert!(written.notes.is_empty());
        assert!(!written.body.starts_with("---"), "no front matter");
    }
}

#[test]
fn the_same_data_gives_the_same_bytes() {
    for (data, kind) in [
        (daily(), DraftKind::Daily),
        (weekly(), DraftKind::Weekly),
        (monthly(), DraftKind::Monthly),
        (weekly(), DraftKind::Digest),
        (busy_week(), DraftKind::Blog),
        (busy_week(), DraftKind::Mastodon),
        (busy_week(), DraftKind::Bluesky),
    ] {
        let first = write_builtin(&data, kind);
        let again = write_builtin(&data.clone(), kind);
        assert_eq!(first, again);
    }
}

#[test]
fn the_text_states_the_data() {
    let data = weekly();
    let body = write_builtin(&data, DraftKind::Weekly).body;
    let short = |subject: &str| {
        let sha = &data
            .commits
            .iter()
            .find(|c| c.subject == subject)
            .expect("fixture")
            .sha;
        sha[..7].to_owned()
    };
    for expected in [
        "## Summary\n\nA quiet week: 10 commits. The main themes of 2026-W47 were “Documentation \
         (docs)” (2 of its 10 commits, in docs) and “New features (feat)”.\n"
            .to_owned(),
        "10 commits by 4 contributors across 2 repositories, +707/−447 lines; ann made the most, 5."
            .into(),
        "1 of them is a merge.".into(),
        "Bots: dependabot\\[bot\\] (1 commit).".into(),
        "### New features (feat)\n\nIt took 2 commits from ann and bob in raibid from Mon \
         2026-11-16 to Tue 2026-11-17, changing +336/−341 lines."
            .into(),
        format!(
            "- Tue 2026-11-17: `{}` feat!: drop the v1 draft format — bob, +96/−310 lines\n",
            short("feat!: drop the v1 draft format")
        ),
        format!(
            "- Largest change outside the themes: `{}` refactor: one owner of state (ann) in \
             raibid, +66/−80 lines in 5 files.",
            short("refactor: one owner of state")
        ),
        "### docs — 2 commits, +197/−2 lines\n\nIts commits came from Wed 2026-11-18 to Fri \
         2026-11-20 from ann and bob and belong to “Documentation (docs)”."
            .into(),
        format!(
            "- Fri 2026-11-20: `{}` docs: quartz layout for week 47 — ann, +140/−0 lines",
            short("docs: quartz layout for week 47")
        ),
        "## Notable changes\n\nEvery ranked change is told above.".into(),
        "- Mon 2026-11-16 — 2 commits".into(),
        "- Sun 2026-11-22 — 1 commit".into(),
        "- ann — 5 commits, +467/−118 lines in docs and raibid".into(),
        "- Without commits: infra".into(),
        "- Commits: 10, up 233% from 3".into(),
    ] {
        assert!(body.contains(&expected), "missing {expected:?} in:\n{body}");
    }
    assert!(
        !body.contains("(bot) —"),
        "bots are named as a group:\n{body}"
    );

    let data = monthly();
    let body = write_builtin(&data, DraftKind::Monthly).body;
    let sha = &data
        .commits
        .iter()
        .find(|c| c.subject.contains("BREAKING"))
        .expect("fixture")
        .sha;
    // Its theme tells a breaking change; outside the themes, it is a highlight.
    let in_theme = format!(
        "### Documentation (docs)\n\nIt took 3 commits from ann, bob and erin in docs from Wed \
         2026-11-18 to Fri 2026-11-27, changing +242/−47 lines.\n\n- Wed 2026-11-18: `{}` \
         docs: explain the impact score",
        &data
            .commits
            .iter()
            .find(|c| c.subject == "docs: explain the impact score")
            .expect("fixture")
            .sha[..7]
    );
    assert!(body.contains(&in_theme), "missing {in_theme:?} in:\n{body}");
    assert!(
        body.contains(&format!(
            "- Fri 2026-11-27: `{}` docs: BREAKING config keys renamed — erin, +45/−45 lines",
            &sha[..7]
        )),
        "{body}"
    );
    let mut without_themes = data.clone();
    without_themes.metrics.themes.clear();
    let unthemed = write_builtin(&without_themes, DraftKind::Monthly).body;
    let breaking = format!(
        "- Breaking change: `{}` docs: BREAKING config keys renamed (erin) in docs.",
        &sha[..7]
    );
    assert!(
        unthemed.contains(&breaking),
        "missing {breaking:?} in:\n{unthemed}"
    );
    assert!(
        body.contains("- 2026-11-02 to 2026-11-08 — 3 commits"),
        "{body}"
    );
}

#[test]
fn every_number_sha_and_name_comes_from_the_data() {
    for (data, kind) in [
        (daily(), DraftKind::Daily),
        (weekly(), DraftKind::Weekly),
        (monthly(), DraftKind::Monthly),
        (weekly(), DraftKind::Blog),
        (monthly(), DraftKind::Blog),
    ] {
        let written = write_builtin(&data, kind);
        let text = format!("{}\n{}", written.title, written.body);
        let allowed = numbers_in(&data);
        let mut rest = text.clone();
        // Shas are code spans: each must be the start of a commit of the period.
        let spans: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
        assert!(!spans.is_empty());
        for span in spans {
            assert_eq!(span.len(), 7, "short shas: {span}");
            assert!(
                data.commits.iter().any(|c| c.sha.starts_with(span)),
                "unknown sha {span}"
            );
            rest = rest.replace(&format!("`{span}`"), " ");
        }
        // Text taken whole from the data may carry digits of its own.
        let mut verbatim: Vec<String> = data.commits.iter().map(|c| c.subject.clone()).collect();
        verbatim.extend(data.commits.iter().map(|c| c.author.clone()));
        verbatim.push(data.period.label.clone());
        verbatim.extend(data.metrics.trend.iter().map(|t| t.previous_label.clone()));
        verbatim.extend(data.metrics.commits_per_day.iter().map(|d| d.date.clone()));
        verbatim.extend(data.metrics.themes.iter().map(|t| t.title.clone()));
        assert_numbers_from(&rest, &verbatim, &allowed, kind);
    }
}

/// Asserts that every number in `text` is `allowed`, once the pieces taken whole from the
/// data (`verbatim`: they may carry digits of their own) are left out.
#[track_caller]
fn assert_numbers_from(text: &str, verbatim: &[String], allowed: &BTreeSet<u64>, kind: DraftKind) {
    let mut pieces: Vec<&String> = verbatim.iter().collect();
    pieces.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let rest = pieces.iter().fold(text.to_owned(), |rest, piece| {
        rest.replace(piece.as_str(), " ")
    });
    let rest = without_separators(&rest);
    for run in rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
    {
        let n: u64 = run.parse().expect("digit run");
        assert!(
            allowed.contains(&n),
            "{n} is not in the data of {kind:?}:\n{text}"
        );
    }
}

/// `text` with thousands separators taken out of numbers: `1,234` reads as `1234`.
fn without_separators(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: Option<&char>| i.is_some_and(char::is_ascii_digit);
    chars
        .iter()
        .enumerate()
        .filter(|&(i, c)| {
            !(*c == ',' && i > 0 && digit(chars.get(i - 1)) && digit(chars.get(i + 1)))
        })
        .map(|(_, c)| *c)
        .collect()
}

/// The figures of each theme: commits, merged pull requests, repositories, people, lines.
fn theme_counts(data: &DigestData) -> impl Iterator<Item = u64> + '_ {
    data.metrics.themes.iter().flat_map(|t| {
        [
            t.commits.len() as u64,
            t.pull_requests.len() as u64,
            t.repos.len() as u64,
            t.people.len() as u64,
            t.insertions,
            t.deletions,
        ]
    })
}

/// Every count the data holds, and the few the writer may derive from it.
fn numbers_in(data: &DigestData) -> BTreeSet<u64> {
    let m = &data.metrics;
    let mut n = support::local_counts(data);
    // Commits per ISO week.
    let mut week_sums: BTreeMap<(i16, i8), u64> = BTreeMap::new();
    for d in &m.commits_per_day {
        let iso = d
            .date
            .parse::<jiff::civil::Date>()
            .expect("date")
            .iso_week_date();
        *week_sums.entry((iso.year(), iso.week())).or_default() += d.commits;
    }
    n.extend(week_sums.into_values());
    // A blog post's commits per person in each repository.
    let mut per_repo_person: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for c in &data.commits {
        *per_repo_person.entry((&c.repo, &c.email)).or_default() += 1;
    }
    n.extend(per_repo_person.into_values());
    n.extend(theme_counts(data));
    if let Some(trend) = &m.trend {
        for pct in [trend.commits_change_pct, trend.lines_change_pct]
            .into_iter()
            .flatten()
        {
            n.insert(pct.abs().round() as u64);
        }
    }
    n
}

#[test]
fn no_stock_phrases() {
    for (data, kind) in [
        (daily(), DraftKind::Daily),
        (weekly(), DraftKind::Weekly),
        (monthly(), DraftKind::Monthly),
        (busy_week(), DraftKind::Blog),
        (busy_week(), DraftKind::Linkedin),
    ] {
        let body = write_builtin(&data, kind).body.to_lowercase();
        for phrase in [
            "significant progress",
            "conclusion",
            "recommendation",
            "overall",
            "in summary",
        ] {
            assert!(!body.contains(phrase), "{phrase:?} in {kind:?}:\n{body}");
        }
    }
}

#[test]
fn small_periods_stay_short_and_none_passes_the_upper_bound() {
    let daily = write_builtin(&daily(), DraftKind::Daily).body;
    let (_, daily_max) = DraftKind::Daily
        .word_bounds()
        .expect("a digest has word bounds");
    assert!(
        words(&daily) <= daily_max,
        "{} words:\n{daily}",
        words(&daily)
    );
    for (data, kind) in [
        (weekly(), DraftKind::Weekly),
        (monthly(), DraftKind::Monthly),
    ] {
        let body = write_builtin(&data, kind).body;
        let (low, high) = kind.word_bounds().expect("a digest has word bounds");
        // Ten or sixteen commits do not fill a weekly or monthly digest: no padding.
        assert!(
            words(&body) < low && words(&body) <= high,
            "{kind:?}: {} words",
            words(&body)
        );
    }
}

#[test]
fn an_empty_period_is_one_line() {
    let empty = data(
        activity(
            period(
                PeriodKind::Day,
                "2026-11-24",
                "2026-11-24T00:00:00Z",
                "2026-11-25T00:00:00Z",
            ),
            &[],
            0,
        ),
        None,
    );
    let expected = "No commits in raibid, docs and infra during 2026-11-24.\n";
    assert_eq!(one_line(&empty).body, expected);
    assert_eq!(one_line(&empty).title, "Daily digest — 2026-11-24");
    let written = write_builtin(&empty, DraftKind::Daily);
    assert_eq!(written.body, expected);
    assert_eq!(written.body.lines().count(), 1);
}

#[test]
fn the_finished_text_reaches_the_preview_once_and_a_closed_sink_is_fine() {
    let data = weekly();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (tokens, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let written = runtime
        .block_on(BuiltinWriter.write(&data, DraftKind::Weekly, &tokens))
        .expect("write");
    assert_eq!(rx.try_recv().ok(), Some(written.body.clone()));
    assert!(rx.try_recv().is_err());
    drop(rx);
    let again = runtime
        .block_on(BuiltinWriter.write(&data, DraftKind::Weekly, &tokens))
        .expect("write");
    assert_eq!(again, written);
    assert_eq!(BuiltinWriter.name(), "builtin");
}

// ---------------------------------------------------------------------------------------
// Blog and social posts.

const SOCIAL: [DraftKind; 4] = [
    DraftKind::Mastodon,
    DraftKind::Bluesky,
    DraftKind::Linkedin,
    DraftKind::X,
];

/// The period's post on the docs site, long as such links get.
const LINK: &str = "https://sparky.lab.example/blog/2026/11/week-2026-47-of-the-digest";

/// People with long and non-ASCII names: combining marks, letters beyond Latin-1, and an
/// emoji made of several code points.
const PEOPLE: [(&str, &str); 6] = [
    ("ann", "Ann Example"),
    ("zoe", "Zoe\u{308} A\u{30a}ngstro\u{308}m-Łukasiewicz"),
    ("jose", "José María Fernández de la Cruz y Ñúñez"),
    ("lukasz", "Łukasz Żółć"),
    ("ferris", "Ferris 🧑‍💻 the Crab"),
    ("nguyen", "Nguye\u{302}\u{303}n Thi\u{323} Minh Khai"),
];

const BUSY_REPOS: [&str; 3] = [
    "lab/raibid",
    "lab/sparky-digests-and-the-docs-site-of-the-whole-lab",
    "lab/infra",
];

const TOPICS: [&str; 12] = [
    "stream model tokens into the console preview",
    "restore the terminal on SIGHUP and SIGTERM",
    "drop the v1 draft format",
    "publish approved drafts to every configured channel",
    "count graphemes the way Bluesky does",
    "reclaim stale queue entries with XAUTOCLAIM",
    "render the trend of pull requests merged",
    "pin Gitea to a release without the image leak",
    "cache GitHub answers with their ETags",
    "explain the impact score with an example",
    "split the store into drafts and publications",
    "check every number the model writes",
];

fn at(text: String) -> jiff::Timestamp {
    text.parse().expect("fixture time")
}

/// A busy week of three GitHub repositories: 60 commits by six people and a bot, pull
/// requests with reviews, issues and two releases; with the week before for the trend.
fn busy_week() -> DigestData {
    let current = busy_activity("2026-W47", 16, 60, 0);
    let previous = busy_activity("2026-W46", 9, 24, 1);
    let mut data = digest_data(current, Some(&previous));
    data.link = Some(LINK.into());
    data
}

/// `quieter` weeks have fewer pull requests and issues.
fn busy_activity(label: &str, monday: usize, commits: usize, quieter: usize) -> Activity {
    let seed = quieter * 500;
    let mut repos: Vec<RepoActivity> = BUSY_REPOS
        .iter()
        .map(|name| RepoActivity {
            name: (*name).into(),
            path: format!("https://github.com/{name}"),
            ..RepoActivity::default()
        })
        .collect();
    for i in 0..commits {
        // Half the commits in the first repository, a third in the second.
        let r = [0, 0, 0, 1, 1, 2][i % 6];
        let (login, name) = PEOPLE[(i * 5 + i / 6) % PEOPLE.len()];
        let bot = i % 13 == 12;
        let merge = i % 11 == 10;
        let day = monday + (i * 3) % 7;
        let time = at(format!(
            "2026-11-{day:02}T{:02}:{:02}:00Z",
            7 + i % 12,
            i % 60
        ));
        let subject = match (bot, merge) {
            (true, _) => format!("chore(deps): bump crate {i}"),
            (_, true) => format!("Merge pull request #{} from lab/topic-{i}", 100 + i),
            _ if i % 17 == 5 => format!("feat!: {}", TOPICS[i % TOPICS.len()]),
            _ => {
                let kind = ["feat", "fix", "refactor", "docs", "test"][i % 5];
                format!("{kind}: {}", TOPICS[i % TOPICS.len()])
            }
        };
        repos[r].commits.push(CommitRecord {
            login: (!bot).then(|| login.into()),
            repo: BUSY_REPOS[r].into(),
            sha: sha(seed + i),
            author: if bot {
                "dependabot[bot]".into()
            } else {
                name.into()
            },
            email: if bot {
                "bot@dependabot.example".into()
            } else {
                format!("{login}@lab.example")
            },
            time,
            offset_seconds: 0,
            committed: time,
            subject,
            files_changed: if merge { 0 } else { 1 + (i % 9) as u32 },
            insertions: if merge { 0 } else { 5 + (i * 37 % 400) as u64 },
            deletions: if merge { 0 } else { (i * 53 % 200) as u64 },
            is_merge: merge,
            is_bot: bot,
            paths: Vec::new(),
        });
    }
    for (i, repo) in repos.iter_mut().enumerate() {
        repo.commits.sort_by_key(|c| std::cmp::Reverse(c.committed));
        let name = repo.name.clone();
        let base = seed + 100 + i * 20;
        for j in 0..(6 - i * 2).saturating_sub(quieter * 2) {
            let number = (base + j) as u64;
            let (author, _) = PEOPLE[(j + i) % PEOPLE.len()];
            let created = at(format!("2026-11-{:02}T08:00:00Z", monday + j % 5));
            let merged = (j % 4 != 3).then(|| {
                at(format!(
                    "2026-11-{:02}T{:02}:30:00Z",
                    monday + j % 5 + 1,
                    9 + j
                ))
            });
            repo.pull_requests.push(PullRequestRecord {
                repo: name.clone(),
                number,
                title: TOPICS[(j + 3 * i) % TOPICS.len()].into(),
                author: author.into(),
                url: format!("https://github.com/{name}/pull/{number}"),
                created,
                merged,
                closed: merged,
                reviewers: match j % 3 {
                    0 => Vec::new(),
                    1 => vec![PEOPLE[(j + i + 1) % PEOPLE.len()].0.into()],
                    _ => vec!["ann".into(), "lukasz".into()],
                },
                additions: 20 + (j * 91 % 500) as u64,
                deletions: (j * 29 % 120) as u64,
                is_bot: false,
                labels: Vec::new(),
            });
        }
        for j in 0..(4 - i).saturating_sub(quieter) {
            let number = (base + 10 + j) as u64;
            repo.issues.push(IssueRecord {
                repo: name.clone(),
                number,
                title: format!("issue about {}", TOPICS[j]),
                author: PEOPLE[j].0.into(),
                url: format!("https://github.com/{name}/issues/{number}"),
                created: at(format!("2026-11-{:02}T10:00:00Z", monday + j)),
                closed: (j % 2 == 0)
                    .then(|| at(format!("2026-11-{:02}T16:00:00Z", monday + j + 2))),
                is_bot: false,
            });
        }
    }
    // (repository, tag, name, author, days after Monday); a tag with a suffix is a prerelease.
    for (r, tag, name, author, day) in [
        (0, "v0.5.0", "Streaming", "ann", 4),
        (2, "v1.2.0-rc.1", "Gitea pinned", "lukasz", 5),
    ] {
        repos[r].releases.push(ReleaseRecord {
            repo: BUSY_REPOS[r].into(),
            tag: tag.into(),
            name: name.into(),
            author: author.into(),
            url: format!("https://github.com/{}/releases/tag/{tag}", BUSY_REPOS[r]),
            published: at(format!("2026-11-{:02}T15:00:00Z", monday + day)),
            prerelease: tag.contains('-'),
        });
    }
    Activity {
        period: period(
            PeriodKind::Week,
            label,
            &format!("2026-11-{monday:02}T00:00:00Z"),
            &format!("2026-11-{:02}T00:00:00Z", monday + 7),
        ),
        repos,
    }
}

fn post_limit(kind: DraftKind) -> (usize, LengthUnit) {
    kind.post_limit().expect("a social post has a limit")
}

#[test]
fn a_busy_weeks_blog_post_fills_its_bounds_with_every_section() {
    let blog = write_builtin(&busy_week(), DraftKind::Blog);
    let (low, high) = DraftKind::Blog
        .word_bounds()
        .expect("a blog post has word bounds");
    assert!(
        (low..=high).contains(&words(&blog.body)),
        "{} words:\n{}",
        words(&blog.body),
        blog.body
    );
    // As `raibid drafts list` counts them, too.
    assert!(blog.body.split_whitespace().count() <= high);
    assert_eq!(
        headings(&blog.body),
        [
            "Summary",
            "Themes",
            "Highlights",
            "Per repository",
            "In figures",
            "Trend",
            "Pull requests",
            "Reviews",
            "Issues",
            "Releases",
            "Notable changes",
            "Contributors",
            "Activity by day"
        ],
        "no story from the built-in writer; every repository has its own"
    );
    for repo in BUSY_REPOS {
        assert!(blog.body.contains(&format!("\n### {repo} — ")), "{repo}");
    }
    for (span, seen) in commit_refs(&blog.body) {
        assert_eq!(seen, 1, "`{span}` told {seen} times:\n{}", blog.body);
    }
    assert_eq!(blog.title, "Blog post — 2026-W47");
    assert_eq!(blog.model, None);
}

#[test]
fn a_repositorys_story_is_told_from_its_data() {
    let data = weekly();
    let body = write_builtin(&data, DraftKind::Blog).body;
    let short = |subject: &str| {
        let c = data.commits.iter().find(|c| c.subject == subject);
        c.expect("fixture").sha[..7].to_owned()
    };
    for expected in [
        "### raibid — 8 commits, +510/−445 lines\n\nWork here landed from Mon 2026-11-16 to Sun \
         2026-11-22 by ann, carol and bob, part of “New features (feat)”.\n\n"
            .to_owned(),
        format!(
            "- Mon 2026-11-16: `{}` feat: stream tokens into the preview — ann, +240/−31 lines\n",
            short("feat: stream tokens into the preview")
        ),
        format!(
            "- Wed 2026-11-18: `{}` Merge branch 'digests' — carol\n",
            short("Merge branch 'digests'")
        ),
        format!(
            "- Thu 2026-11-19: `{}` chore(deps): bump tokio to 1.54 — dependabot\\[bot\\], \
             +12/−12 lines\n",
            short("chore(deps): bump tokio to 1.54")
        ),
        "### docs — 2 commits, +197/−2 lines\n\nIts commits came".into(),
    ] {
        assert!(body.contains(&expected), "missing {expected:?} in:\n{body}");
    }
    let largest = short("feat!: drop the v1 draft format");
    assert_eq!(
        body.matches(&largest).count(),
        1,
        "its theme tells the largest change, the story does not again:\n{body}"
    );
}

#[test]
fn a_quiet_period_gives_a_short_blog_post() {
    let (low, _) = DraftKind::Blog
        .word_bounds()
        .expect("a blog post has word bounds");
    let day = write_builtin(&daily(), DraftKind::Blog);
    assert!(words(&day.body) < low / 3, "{} words", words(&day.body));
    assert_eq!(
        headings(&day.body),
        [
            "Summary",
            "Highlights",
            "Per repository",
            "In figures",
            "Notable changes",
            "Contributors",
            "Repositories"
        ],
        "a day has no activity section"
    );

    let empty = data(
        activity(
            period(
                PeriodKind::Week,
                "2026-W48",
                "2026-11-23T00:00:00Z",
                "2026-11-30T00:00:00Z",
            ),
            &[],
            0,
        ),
        None,
    );
    let quiet = write_builtin(&empty, DraftKind::Blog);
    assert_eq!(
        quiet.body,
        "## Summary\n\nNo commits in raibid, docs and infra during 2026-W48.\n\n## Repositories\n\n\
         - Without commits: raibid, docs and infra\n"
    );
    assert_eq!(quiet.title, "Blog post — 2026-W48");
}

#[test]
fn a_blog_post_lists_fewer_commits_rather_than_pass_its_ceiling() {
    // Two busy weeks' worth of commits in one week.
    let data = digest_data(busy_activity("2026-W47", 16, 200, 0), None);
    let body = write_builtin(&data, DraftKind::Blog).body;
    let (_, high) = DraftKind::Blog
        .word_bounds()
        .expect("a blog post has word bounds");
    assert!(body.split_whitespace().count() <= high);
    let listed = commit_refs(&body).len();
    assert!(
        listed < data.commits.len() / 2,
        "{listed} of {} commits listed:\n{body}",
        data.commits.len()
    );
}

#[test]
fn each_social_post_fits_its_network_in_plain_text() {
    let data = busy_week();
    for kind in SOCIAL {
        let post = write_builtin(&data, kind);
        let (limit, unit) = post_limit(kind);
        assert!(
            unit.measure(&post.body) <= limit,
            "{kind:?}: {} {}:\n{}",
            unit.measure(&post.body),
            unit.as_str(),
            post.body
        );
        assert!(post.body.contains(LINK), "{kind:?} links the period's post");
        assert!(
            post.body.starts_with(
                "The main theme of 2026-W47 was “New features (feat)” (13 of its 60 commits, in \
                 lab/raibid, lab/sparky-digests-and-the-docs-site-of-the-whole-lab and \
                 lab/infra)."
            ),
            "{kind:?}:\n{}",
            post.body
        );
        for mark in ["## ", "# ", "`", "](", "**"] {
            assert!(!post.body.contains(mark), "{kind:?} has {mark:?}");
        }
        assert_eq!(post.title, format!("{} — 2026-W47", kind_title(kind)));
    }
    // The long limit takes every part; X, the shortest, leaves the totals out.
    let totals = "60 commits by 7 contributors across 3 repositories during 2026-W47; \
                  +9,845/−5,330 lines.";
    let linkedin = write_builtin(&data, DraftKind::Linkedin).body;
    assert!(linkedin.contains(totals) && linkedin.ends_with("#infra #devlog"));
    let x = write_builtin(&data, DraftKind::X).body;
    assert!(!x.contains(totals), "{x}");
}

fn kind_title(kind: DraftKind) -> &'static str {
    match kind {
        DraftKind::Mastodon => "Mastodon post",
        DraftKind::Bluesky => "Bluesky post",
        DraftKind::Linkedin => "LinkedIn post",
        _ => "X post",
    }
}

#[test]
fn bluesky_counts_graphemes_not_characters() {
    let mut data = busy_week();
    data.link = None;
    // Without themes a post names the largest change and its author.
    data.metrics.themes.clear();
    // Forty emoji of three code points each: one grapheme apiece.
    let author = format!("Ferris {}", "🧑‍💻".repeat(40));
    let largest = &mut data.metrics.notable[0];
    largest.author = author.clone();
    largest.subject = "feat: emoji names".into();
    largest.repo = "lab/infra".into();
    let post = write_builtin(&data, DraftKind::Bluesky).body;
    assert!(post.contains(&author), "{post}");
    assert!(LengthUnit::Graphemes.measure(&post) <= 300);
    assert!(
        LengthUnit::Chars.measure(&post) > 300,
        "counted in characters this post would not fit:\n{post}"
    );
}

#[test]
fn a_first_sentence_longer_than_the_post_is_cut_after_a_word() {
    let name = format!("lab/{}", ["sparky"; 150].join("-and-"));
    let mut current = busy_activity("2026-W47", 16, 12, 0);
    current.repos.truncate(1);
    current.repos[0].name = name.clone();
    for c in &mut current.repos[0].commits {
        c.repo = name.clone();
    }
    let mut data = digest_data(current, None);
    data.link = Some(LINK.into());
    for kind in SOCIAL {
        let post = write_builtin(&data, kind).body;
        let (limit, unit) = post_limit(kind);
        assert!(unit.measure(&post) <= limit, "{kind:?}:\n{post}");
        assert!(post.contains(LINK), "{kind:?} keeps the link:\n{post}");
        let (cut, _) = post.split_once('…').expect("the sentence is cut");
        let theme = &data.metrics.themes[0];
        let whole = format!(
            "The main theme of 2026-W47 was “{}” ({} of its {} commits, in {name}).",
            theme.title,
            theme.commits.len(),
            data.metrics.totals.commits
        );
        assert!(
            whole.starts_with(cut) && whole[cut.len()..].starts_with(' '),
            "{kind:?} cuts after a word:\n{post}"
        );
    }
}

#[test]
fn every_number_in_a_social_post_is_a_number_of_the_data() {
    let busy = busy_week();
    let mut local = weekly();
    local.link = Some(LINK.into());
    for data in [busy, local] {
        let mut allowed = support::local_counts(&data);
        allowed.extend(theme_counts(&data));
        if let Some(g) = &data.metrics.github {
            allowed.extend([g.pull_requests.merged, g.issues.closed]);
        }
        if let Some(t) = &data.metrics.trend {
            allowed.extend(t.commits_change_pct.map(|p| p.abs().round() as u64));
        }
        // Text taken whole from the data may carry digits of its own.
        let mut verbatim: Vec<String> = data.commits.iter().map(|c| c.subject.clone()).collect();
        verbatim.extend(data.repos.iter().cloned());
        verbatim.extend(data.link.iter().cloned());
        verbatim.push(data.period.label.clone());
        verbatim.extend(data.metrics.trend.iter().map(|t| t.previous_label.clone()));
        verbatim.extend(data.metrics.themes.iter().map(|t| t.title.clone()));
        if let Some(g) = &data.metrics.github {
            verbatim.extend(g.releases.iter().map(|r| r.tag.clone()));
        }
        for kind in SOCIAL {
            let post = write_builtin(&data, kind).body;
            assert_numbers_from(&post, &verbatim, &allowed, kind);
        }
    }
}

#[test]
fn posts_of_a_week_as_snapshots() {
    insta::assert_snapshot!(
        "blog_weekly",
        write_builtin(&weekly(), DraftKind::Blog).body
    );
    // Busy enough that each network's limit leaves out something else.
    let data = busy_week();
    for kind in SOCIAL {
        insta::assert_snapshot!(
            format!("social_{}", kind.as_str()),
            write_builtin(&data, kind).body
        );
    }
}

// ---------------------------------------------------------------------------------------
// What the period was about, told once.

/// The one person of [`one_person_week`], named distinctly so every mention is counted.
const ONLY: &str = "Ann Example";

const CONSOLE_TOPICS: [&str; 14] = [
    "previous and next period keys",
    "palette takes a dated digest",
    "digests list follows the store",
    "empty week offers the last busy one",
    "day axis labels every day",
    "status line names the period",
    "period picker remembers the kind",
    "help lists the period keys",
    "preview scrolls with the cursor",
    "month view groups weeks",
    "draft title shows the label",
    "keyboard focus survives a refresh",
    "selected kind shown in the header",
    "startup digest says when empty",
];

const OTHER_TOPICS: [&str; 30] = [
    "explain themes in the digest guide",
    "a page per period kind",
    "link the checker rules",
    "retry refused GitHub queries",
    "k3s node labels for runners",
    "flux watches the lab branch",
    "gitea mirrors every hour",
    "site skeleton with quartz",
    "blog index by month",
    "feed of approved drafts",
    "first gitea deployment",
    "backup job for the gitea volume",
    "ingress for the gitea web",
    "kind cluster for the lab",
    "local registry for images",
    "namespace per helper",
    "network policy for runners",
    "docs for the kube lab",
    "runner image with the sccache layer",
    "rotate the gitea admin token",
    "alerts when a runner stalls",
    "dashboard for queue depth",
    "explain the period keys in the guide",
    "screenshots of the digests view",
    "troubleshooting page for empty weeks",
    "move the lab to the new subnet",
    "renew the ingress certificates",
    "document the backup restore",
    "trim old runner caches nightly",
    "page for the palette commands",
];

/// A busy week of one person, 49 commits across seven repositories: three created that
/// week, one change rolled out to four, a workstream in one, and a vendored import of
/// 328,879 lines.
/// Themes are set by hand, as theme detection would find them.
fn one_person_week() -> DigestData {
    let mut specs: Vec<(&str, String, u64, u64)> = Vec::new();
    for topic in CONSOLE_TOPICS {
        specs.push(("raibid", format!("feat(console): {topic}"), 140, 35));
    }
    let others = [
        "docs",
        "docs",
        "docs",
        "raibid",
        "infra",
        "infra",
        "infra",
        "sparky-site",
        "sparky-site",
        "sparky-site",
        "gitea-lab",
        "gitea-lab",
        "gitea-lab",
        "kube-lab",
        "kube-lab",
        "kube-lab",
        "kube-lab",
        "kube-lab",
        "infra",
        "gitea-lab",
        "infra",
        "infra",
        "docs",
        "docs",
        "docs",
        "infra",
        "infra",
        "docs",
        "infra",
        "docs",
    ];
    for (repo, topic) in others.iter().zip(OTHER_TOPICS) {
        specs.push((repo, topic.to_string(), 60, 12));
    }
    for repo in ["raibid", "docs", "infra", "sparky-site"] {
        specs.push((repo, "ci: pin the Rust toolchain".into(), 4, 4));
    }
    specs.push((
        "vendor-mirror",
        "import the vendored tree".into(),
        328_879,
        0,
    ));
    let commits: Vec<CommitRecord> = specs
        .iter()
        .enumerate()
        .map(|(i, (repo, subject, ins, del))| {
            let time = at(format!(
                "2026-11-{:02}T{:02}:00:00Z",
                16 + i % 7,
                8 + i % 10
            ));
            CommitRecord {
                login: None,
                repo: (*repo).into(),
                sha: sha(1000 + i),
                author: ONLY.into(),
                email: "ann@lab.example".into(),
                time,
                offset_seconds: 0,
                committed: time,
                subject: subject.clone(),
                files_changed: 3,
                insertions: *ins,
                deletions: *del,
                is_merge: false,
                is_bot: false,
                // The import is a vendored tree: a bulk change, never the week's lead.
                paths: match *repo {
                    "vendor-mirror" => ["a", "b", "c"].map(|f| format!("vendor/{f}.rs")).into(),
                    _ => Vec::new(),
                },
            }
        })
        .collect();
    let mut repos: BTreeMap<&str, Vec<CommitRecord>> = BTreeMap::new();
    for c in &commits {
        repos.entry(c.repo.as_str()).or_default().push(c.clone());
    }
    let week = period(
        PeriodKind::Week,
        "2026-W47",
        "2026-11-16T00:00:00Z",
        "2026-11-23T00:00:00Z",
    );
    let current = grouped(week, repos);
    let mut data = digest_data(current, None);
    let theme = |id: &str, kind, title: &str, pick: &dyn Fn(&CommitRecord) -> bool| {
        let chosen: Vec<&CommitRecord> = data.commits.iter().filter(|c| pick(c)).collect();
        let mut repos: Vec<String> = Vec::new();
        for c in &chosen {
            if !repos.contains(&c.repo) {
                repos.push(c.repo.clone());
            }
        }
        Theme {
            id: id.into(),
            kind,
            title: title.into(),
            key: title.into(),
            commits: chosen.iter().map(|c| c.sha.clone()).collect(),
            repos,
            people: vec![ONLY.into()],
            insertions: chosen.iter().map(|c| c.insertions).sum(),
            deletions: chosen.iter().map(|c| c.deletions).sum(),
            pull_requests: Vec::new(),
        }
    };
    let new = ["sparky-site", "gitea-lab", "kube-lab"];
    data.metrics.themes = vec![
        theme(
            "t1",
            ThemeKind::NewRepositories,
            "Three new repositories",
            &|c| new.contains(&c.repo.as_str()),
        ),
        theme("t2", ThemeKind::Scope, "Console period navigation", &|c| {
            c.subject.starts_with("feat(console)")
        }),
        theme(
            "t3",
            ThemeKind::SharedChange,
            "ci: pin the Rust toolchain",
            &|c| c.subject.starts_with("ci: pin"),
        ),
    ];
    data
}

/// The text of a section, up to the next `## ` heading.
fn section<'a>(body: &'a str, heading: &str) -> &'a str {
    let start = body
        .find(&format!("## {heading}\n\n"))
        .unwrap_or_else(|| panic!("no {heading} in:\n{body}"));
    let rest = &body[start + heading.len() + 5..];
    rest.find("\n## ").map_or(rest, |end| &rest[..end])
}

/// Commit references (7-character code spans of hex digits: a theme's title may quote a
/// subject in a code span), each with how often it appears.
fn commit_refs(body: &str) -> BTreeMap<&str, usize> {
    let mut seen = BTreeMap::new();
    let spans = body.split('`').skip(1).step_by(2);
    for span in spans.filter(|s| s.len() == 7 && s.chars().all(|c| c.is_ascii_hexdigit())) {
        *seen.entry(span).or_default() += 1;
    }
    seen
}

/// Sentence templates of the prose (paragraphs, not headings or list items): numbers,
/// commit references, quoted text and `names` masked, each with how often it is used.
fn templates(body: &str, names: &[String]) -> BTreeMap<String, usize> {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = BTreeMap::new();
    let prose = body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("- ") && !l.trim().is_empty());
    for line in prose {
        let mut masked = line.to_owned();
        for name in &names {
            masked = masked.replace(name.as_str(), "X");
        }
        let mut text = String::new();
        let mut skip_to: Option<char> = None;
        for ch in masked.chars() {
            match (skip_to, ch) {
                (Some(end), c) if c == end => skip_to = None,
                (Some(_), _) => {}
                (None, '`') => skip_to = Some('`'),
                (None, '“') => skip_to = Some('”'),
                (None, c) if c.is_ascii_digit() || c == ',' => {
                    if !text.ends_with('N') {
                        text.push('N');
                    }
                }
                (None, c) => text.push(c),
            }
        }
        for sentence in text.split_inclusive(['.', ';']) {
            *out.entry(sentence.trim().to_owned()).or_default() += 1;
        }
    }
    out
}

#[test]
fn a_busy_week_opens_with_its_themes_and_tells_each_commit_once() {
    let data = one_person_week();
    assert!(data.metrics.totals.commits >= 30);
    let body = write_builtin(&data, DraftKind::Weekly).body;
    let (low, high) = DraftKind::Weekly.word_bounds().expect("bounds");
    let told = body.split_whitespace().count();
    assert!(
        (low..=high).contains(&told),
        "a busy week reaches its lower bound: {told} words\n{body}"
    );

    let summary = section(&body, "Summary");
    for title in [
        "Three new repositories",
        "Console period navigation",
        "ci: pin",
    ] {
        assert!(
            summary.contains(title),
            "{title:?} not in the summary:\n{body}"
        );
    }
    let headings: Vec<&str> = headings(&body);
    assert_eq!(headings[..2], ["Summary", "Themes"], "{body}");
    let themes = section(&body, "Themes");
    assert!(themes.contains("### Console period navigation\n"), "{body}");

    for (span, seen) in commit_refs(&body) {
        assert_eq!(seen, 1, "`{span}` told {seen} times:\n{body}");
    }
    let mut names: Vec<String> = data.metrics.repos.iter().map(|r| r.name.clone()).collect();
    names.push(ONLY.into());
    names.push(data.period.label.clone());
    for (template, used) in templates(&body, &names) {
        assert!(used <= 2, "{template:?} used {used} times:\n{body}");
    }

    assert!(body.contains("328,879"), "{body}");
    assert!(
        !section(&body, "Highlights").contains("vendored tree"),
        "a bulk import never leads:\n{body}"
    );
    let without_dates = body.replace("2026-11-", " ").replace("2026-W47", " ");
    for run in without_dates
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= 4)
    {
        assert!(
            commit_refs(&body).keys().any(|s| s.contains(run)),
            "{run} has no thousands separator:\n{body}"
        );
    }

    assert_eq!(
        body.matches(ONLY).count(),
        1,
        "one person, said once:\n{body}"
    );
    assert!(!body.contains("1 contributor"), "{body}");

    let (low, high) = DraftKind::Weekly.word_bounds().expect("bounds");
    let words = words(&body);
    assert!((low..=high).contains(&words), "{words} words:\n{body}");

    let post = write_builtin(&data, DraftKind::Mastodon).body;
    assert!(
        post.starts_with(&format!(
            "The main theme of 2026-W47 was “Three new repositories” (13 of its {} commits, in",
            data.metrics.totals.commits
        )),
        "a post leads with the main theme:\n{post}"
    );
}

#[test]
fn a_quiet_week_is_short_and_says_so() {
    let body = write_builtin(&weekly(), DraftKind::Weekly).body;
    let summary = section(&body, "Summary");
    assert!(summary.starts_with("A quiet week: 10 commits."), "{body}");
    let (low, _) = DraftKind::Weekly.word_bounds().expect("bounds");
    assert!(words(&body) < low / 2, "{} words:\n{body}", words(&body));
}

#[test]
fn every_long_draft_tells_each_commit_once_and_no_template_more_than_twice() {
    for (data, kind) in [
        (daily(), DraftKind::Daily),
        (weekly(), DraftKind::Weekly),
        (monthly(), DraftKind::Monthly),
        (busy_week(), DraftKind::Weekly),
        (busy_week(), DraftKind::Blog),
    ] {
        let body = write_builtin(&data, kind).body;
        for (span, seen) in commit_refs(&body) {
            assert_eq!(seen, 1, "{kind:?}: `{span}` told {seen} times:\n{body}");
        }
        let summary = section(&body, "Summary");
        for theme in &data.metrics.themes {
            let said = summary.matches(&format!("“{}”", theme.title)).count();
            assert!(
                said <= 1,
                "{kind:?}: {:?} said {said} times:\n{body}",
                theme.title
            );
        }
        if !data.metrics.themes.is_empty() {
            let themes = section(&body, "Themes");
            assert!(
                !themes.contains(" 0 commits") && !themes.contains("+0/−0"),
                "{kind:?}: a theme without commits is not told as one:\n{body}"
            );
        }
        let mut names: Vec<String> = data.metrics.repos.iter().map(|r| r.name.clone()).collect();
        names.extend(data.metrics.contributors.iter().map(|c| c.name.clone()));
        names.push(data.period.label.clone());
        for (template, used) in templates(&body, &names) {
            assert!(
                used <= 2,
                "{kind:?}: {template:?} used {used} times:\n{body}"
            );
        }
    }
}
