//! Word bounds held with substance (issue 12): built-in digests of a busy day, week and
//! month of real git repositories reach their kind's lower bound and pass the checker with
//! every rule; a quiet week stays short and says it was quiet.

use jiff::civil::date;
use jiff::tz::TimeZone;
use raibid::backend::sparky::checker::{self, Rules};
use raibid::backend::sparky::collect;
use raibid::backend::sparky::model::{Activity, DigestData, DraftKind, Period, PeriodKind};
use raibid::backend::sparky::period;
use raibid::config::Config;
use support::org::{Org, lines};
use support::{digest_data, write_builtin};

/// Who works in November 2026, and where in the tree each one's work goes.
const PEOPLE: [(&str, &str); 4] = [
    ("Ann", "src/console"),
    ("Bob", "src/queue"),
    ("Cleo", "docs/guide"),
    ("Dan", "tests/e2e"),
];
const REPOS: [&str; 3] = ["api", "web", "docs"];
const KINDS: [&str; 4] = ["feat", "fix", "refactor", "docs"];
const WHATS: [&str; 8] = [
    "retry a failed upload",
    "page through the job list",
    "name the period in the title",
    "keep the draft when the model fails",
    "read the token from a file",
    "stop the spinner on error",
    "show the queue depth",
    "sort repositories by activity",
];

/// Commits on each day of November 2026: a quiet first week (2026-W45, 2 to 8 November)
/// with five, then six a weekday and one a weekend day.
fn commits_on(day: i8) -> usize {
    let weekday = date(2026, 11, day).weekday().to_monday_zero_offset();
    match (day, weekday) {
        (2..=8, 0..=4) => 1,
        (2..=8, _) => 0,
        (_, 0..=4) => 6,
        _ => 1,
    }
}

/// Three repositories with a month of work by four people, each commit changing a file
/// or two in its author's part of the tree.
fn busy_month() -> Org {
    let org = Org::new();
    let repos: Vec<_> = REPOS
        .iter()
        .map(|name| {
            let repo = org.repo(name);
            repo.commit(
                "Ann",
                "2026-10-01T09:00:00+00:00",
                "Initial commit",
                &[("README.md", lines("readme", 5))],
            );
            repo
        })
        .collect();
    let mut n = 0;
    for day in 1..=30 {
        for i in 0..commits_on(day) {
            n += 1;
            let (who, area) = PEOPLE[n % PEOPLE.len()];
            let repo = &repos[(n / 2) % repos.len()];
            let subject = format!(
                "{}: {} ({n})",
                KINDS[(n / 3) % KINDS.len()],
                WHATS[n % WHATS.len()]
            );
            let when = format!("2026-11-{day:02}T{:02}:00:00+00:00", 8 + i);
            let mut files = vec![(
                format!("{area}/part{}.rs", n % 5),
                lines(&subject, 3 + n % 40),
            )];
            if n % 3 == 0 {
                files.push((format!("src/shared/common{}.rs", n % 2), lines("shared", n)));
            }
            let files: Vec<(&str, String)> =
                files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
            repo.commit(who, &when, &subject, &files);
        }
    }
    org
}

/// The period's data as `raibid digest` gathers it from the organisation.
fn data(org: &Org, period: Period) -> DigestData {
    let repos = org
        .repo_paths()
        .iter()
        .map(|path| {
            collect::collect(
                path,
                period.since,
                period.until,
                &["[bot]".to_string()],
                None,
            )
            .unwrap()
            .activity
        })
        .collect();
    digest_data(Activity { period, repos }, None)
}

fn words(body: &str) -> usize {
    body.split_whitespace().count()
}

/// Writes `data` as `kind`: no finding of any rule, and the word count.
fn written_clean(data: &DigestData, kind: DraftKind) -> (String, usize) {
    let body = write_builtin(data, kind).body;
    let phrases = Config::default().sparky.filler_phrases;
    let rules = Rules {
        filler_phrases: &phrases,
    };
    let findings = checker::check(&body, kind, data, &rules);
    assert!(findings.is_empty(), "{kind:?}: {findings:#?}\n{body}");
    let words = words(&body);
    (body, words)
}

#[test]
fn busy_periods_reach_their_lower_bound_and_pass_every_rule() {
    let org = busy_month();
    let utc = TimeZone::UTC;
    let periods = [
        (PeriodKind::Day, date(2026, 11, 18), DraftKind::Daily),
        (PeriodKind::Week, date(2026, 11, 18), DraftKind::Weekly),
        (PeriodKind::Month, date(2026, 11, 18), DraftKind::Monthly),
    ];
    for (period_kind, day, kind) in periods {
        let data = data(&org, period::calendar(period_kind, day, &utc));
        let commits = data.metrics.totals.commits;
        assert!(commits >= 5, "{kind:?}: {commits} commits");
        let (body, words) = written_clean(&data, kind);
        let (low, high) = kind.word_bounds().expect("a digest has bounds");
        assert!(
            (low..=high).contains(&words),
            "{kind:?} of {commits} commits: {words} words, not {low}-{high}:\n{body}"
        );
        assert!(!body.contains("quiet"), "{kind:?}: not quiet:\n{body}");
        // The substance: each repository's story says where its changes went, and each
        // person's line where they worked.
        assert!(
            body.contains("`src/console/`") && body.contains("`docs/guide/`"),
            "{kind:?}: the areas are named:\n{body}"
        );
    }
}

#[test]
fn a_quiet_week_says_so_and_stays_short() {
    let org = busy_month();
    let week = period::calendar(PeriodKind::Week, date(2026, 11, 4), &TimeZone::UTC);
    let data = data(&org, week);
    assert_eq!(data.metrics.totals.commits, 5);
    let (body, words) = written_clean(&data, DraftKind::Weekly);
    assert!(
        body.starts_with("## Summary\n\nA quiet week: 5 commits."),
        "{body}"
    );
    let (low, _) = DraftKind::Weekly.word_bounds().expect("bounds");
    assert!(words < low / 2, "{words} words:\n{body}");
}

#[test]
fn a_busy_week_with_little_to_tell_tells_it_once_and_is_not_padded() {
    // One person under two spellings of a name (one address) in one new repository, eight
    // subjects over and over, each ending in parentheses: the checker reads no author into
    // them, and the draft lists every commit once and ends under the floor (docs/sparky.md).
    let org = Org::new();
    let repo = org.repo("tool");
    for n in 0..32 {
        let who = if n % 4 == 0 { "ANN" } else { "Ann" };
        let subject = format!("{} (revert)", WHATS[n % WHATS.len()]);
        let when = format!("2026-11-{:02}T{:02}:00:00+00:00", 16 + n % 5, 8 + n / 5);
        let file = format!("src/{}/mod.rs", ["ui", "core", "io"][n % 3]);
        repo.commit(
            who,
            &when,
            &subject,
            &[(file.as_str(), lines(&subject, 4 + n))],
        );
    }
    let data = data(&org, Org::week());
    assert_eq!(data.metrics.totals.commits, 32);
    let (body, words) = written_clean(&data, DraftKind::Weekly);
    for commit in &data.commits {
        let told = body.matches(&format!("`{}`", &commit.sha[..7])).count();
        assert_eq!(told, 1, "{}:\n{body}", commit.subject);
    }
    assert!(!body.contains("quiet"), "{body}");
    assert!(
        body.contains("## Highlights\n\n- The largest change, +")
            && body.contains(" is told under “Repository tool created”."),
        "a theme holding every change is pointed to, not told again:\n{body}"
    );
    let (low, _) = DraftKind::Weekly.word_bounds().expect("bounds");
    assert!(
        words < low,
        "nothing added to reach the floor: {words} words:\n{body}"
    );
}
