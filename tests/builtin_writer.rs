//! The built-in writer: sections per kind, deterministic text, and no number, name or sha
//! that is not in the data.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, Period, PeriodKind, RepoActivity,
};
use raibid::backend::sparky::write::{BuiltinWriter, Writer, Written, one_line};

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

fn data(current: Activity, previous: Option<Activity>) -> DigestData {
    let metrics = analyze(&current, previous.as_ref());
    let mut commits: Vec<CommitRecord> = current
        .repos
        .iter()
        .flat_map(|r| r.commits.clone())
        .collect();
    commits.sort_by_key(|c| std::cmp::Reverse(c.committed));
    DigestData {
        period: current.period,
        repos: REPOS.iter().map(|r| r.to_string()).collect(),
        repo_paths: REPOS.iter().map(|r| format!("/src/{r}")).collect(),
        metrics,
        commits,
        link: None,
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

fn write(data: &DigestData, kind: DraftKind) -> Written {
    let (tokens, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime
        .block_on(BuiltinWriter.write(data, kind, &tokens))
        .expect("the built-in writer never fails")
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
    let daily = write(&daily(), DraftKind::Daily);
    assert_eq!(
        headings(&daily.body),
        ["Summary", "Notable changes", "Contributors", "Repositories"]
    );
    assert_eq!(daily.title, "Daily digest — 2026-11-18");

    let weekly = write(&weekly(), DraftKind::Weekly);
    assert_eq!(
        headings(&weekly.body),
        [
            "Summary",
            "Highlights",
            "Notable changes",
            "Contributors",
            "Repositories",
            "Activity by day",
            "Trend"
        ]
    );
    assert_eq!(weekly.title, "Weekly digest — 2026-W47");

    let monthly = write(&monthly(), DraftKind::Monthly);
    assert_eq!(
        headings(&monthly.body),
        [
            "Summary",
            "Highlights",
            "Notable changes",
            "Contributors",
            "Repositories",
            "Activity by week"
        ],
        "no Trend section without a previous period"
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
    ] {
        let first = write(&data, kind);
        let again = write(&data.clone(), kind);
        assert_eq!(first, again);
    }
}

#[test]
fn the_text_states_the_data() {
    let data = weekly();
    let body = write(&data, DraftKind::Weekly).body;
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
        "10 commits by 4 contributors across 2 repositories; +707/−447 lines.".to_owned(),
        "1 of them is a merge.".into(),
        "Most active: ann (5 commits), bob (2 commits) and carol (2 commits).".into(),
        "Bots: dependabot[bot] (1 commit).".into(),
        "Against 2026-W46, commits are up 233% from 3, and lines up 552% from +158/−19.".into(),
        format!(
            "- Largest change: `{}` feat!: drop the v1 draft format (bob) in raibid, +96/−310 \
             lines in 9 files.",
            short("feat!: drop the v1 draft format")
        ),
        "- ann made the most commits, 5, with +467/−118 lines in docs and raibid.".into(),
        format!(
            "- docs: 2 commits by 2 contributors; its largest change is `{}` docs: quartz layout \
             for week 47 (ann).",
            short("docs: quartz layout for week 47")
        ),
        "- Mon 2026-11-16 — 2 commits".into(),
        "- Sun 2026-11-22 — 1 commit".into(),
        "- dependabot[bot] (bot) — 1 commit, +12/−12 lines in raibid".into(),
        "- Without commits: infra".into(),
        "- Commits: 10, up 233% from 3".into(),
    ] {
        assert!(body.contains(&expected), "missing {expected:?} in:\n{body}");
    }
    assert!(!body.contains("Merge branch"), "merges are not notable");

    let data = monthly();
    let body = write(&data, DraftKind::Monthly).body;
    let sha = &data
        .commits
        .iter()
        .find(|c| c.subject.contains("BREAKING"))
        .expect("fixture")
        .sha;
    let breaking = format!(
        "- Breaking change: `{}` docs: BREAKING config keys renamed (erin) in docs.",
        &sha[..7]
    );
    assert!(body.contains(&breaking), "missing {breaking:?} in:\n{body}");
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
    ] {
        let written = write(&data, kind);
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
        verbatim.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for piece in verbatim {
            rest = rest.replace(&piece, " ");
        }
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
    if let Some(trend) = &m.trend {
        let p = &trend.previous;
        n.extend([
            p.commits,
            p.insertions,
            p.deletions,
            p.contributors,
            p.active_repos,
        ]);
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
    ] {
        let body = write(&data, kind).body.to_lowercase();
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
    let daily = write(&daily(), DraftKind::Daily).body;
    let (_, daily_max) = DraftKind::Daily.word_bounds();
    assert!(
        words(&daily) <= daily_max,
        "{} words:\n{daily}",
        words(&daily)
    );
    for (data, kind) in [
        (weekly(), DraftKind::Weekly),
        (monthly(), DraftKind::Monthly),
    ] {
        let body = write(&data, kind).body;
        let (low, high) = kind.word_bounds();
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
    let written = write(&empty, DraftKind::Daily);
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
