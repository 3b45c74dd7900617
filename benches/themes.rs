//! Theme and bulk detection against the rest of a digest's analysis: a month of 30 local
//! repositories built with the git CLI (12 commits each: conventional commits with scopes,
//! a change rolled out everywhere, ticket references, lockfile and formatting commits),
//! collected as `raibid digest` collects them. Target: themes add under 10% to collecting
//! and analysing. Run with `cargo bench --bench themes`.

#[path = "support/timing.rs"]
mod timing;

use jiff::tz::TimeZone;
use raibid::backend::sparky::analyze::{analyze, bulk, themes};
use raibid::backend::sparky::collect;
use raibid::backend::sparky::model::{Activity, PeriodKind};
use raibid::backend::sparky::period;
use support::org::{Org, lines};

const REPOS: usize = 30;
const COMMITS: usize = 12;
const COLLECT_RUNS: u32 = 5;
const ANALYZE_RUNS: u32 = 50;

fn main() {
    let org = month_of_commits();
    let month = period::calendar(
        PeriodKind::Month,
        jiff::civil::date(2026, 11, 1),
        &TimeZone::UTC,
    );
    let bots = vec!["[bot]".to_string()];
    let mut activity = None;
    let collecting = timing::median(COLLECT_RUNS, || {
        let repos = org
            .repo_paths()
            .iter()
            .map(|path| {
                collect::collect(path, month.since, month.until, &bots, None)
                    .unwrap()
                    .activity
            })
            .collect();
        activity = Some(Activity {
            period: month.clone(),
            repos,
        });
    });
    let activity = activity.unwrap();
    let mut found = 0;
    let analysing = timing::median(ANALYZE_RUNS, || {
        found = analyze(&activity, None).themes.len()
    });
    let theming = timing::median(ANALYZE_RUNS, || {
        std::hint::black_box((themes(&activity), bulk(&activity)));
    });
    let commits: usize = activity.repos.iter().map(|r| r.commits.len()).sum();
    println!("{REPOS} repositories, one month: {commits} commits, {found} themes");
    println!("median of {COLLECT_RUNS} collections, {ANALYZE_RUNS} analyses");
    println!();
    let whole = collecting + analysing;
    for (what, time) in [
        ("collect", collecting),
        ("analyze (with themes and bulk)", analysing),
        ("themes and bulk alone", theming),
    ] {
        println!("{what:<31} {:>9.2}ms", time.as_secs_f64() * 1000.0);
    }
    println!(
        "themes and bulk: {:.2}% of collect + analyze",
        100.0 * theming.as_secs_f64() / whole.as_secs_f64()
    );
}

/// November 2026 in 30 repositories, each created before the month.
fn month_of_commits() -> Org {
    let org = Org::new();
    let people = ["Ann", "Bob", "Carol", "Dee"];
    let scopes = ["console", "queue", "store", "api"];
    for r in 0..REPOS {
        let repo = org.repo(&format!("repo-{r:02}"));
        repo.commit(
            "Ann",
            "2026-10-01T09:00:00+00:00",
            "Initial commit",
            &[
                ("src/lib.rs", lines("core", 50)),
                ("Cargo.lock", lines("lock", 20)),
            ],
        );
        for c in 0..COMMITS {
            let when = format!(
                "2026-11-{:02}T{:02}:00:00+00:00",
                1 + (c * 29) / COMMITS,
                8 + r % 10
            );
            let who = people[(r + c) % people.len()];
            let subject = match c % 6 {
                0 => format!("feat({}): step {c}", scopes[r % scopes.len()]),
                1 => format!("fix({}): edge case {c}", scopes[(r + 1) % scopes.len()]),
                2 => "ci: pin toolchain".to_string(),
                3 => format!("OPS-{} tune retries", r % 5),
                4 => "Update Cargo.lock".to_string(),
                _ => format!("Write part {c} of the guide"),
            };
            let file = match c % 6 {
                2 => "ci.yml".to_string(),
                4 => "Cargo.lock".to_string(),
                _ => format!("src/part{c}.rs"),
            };
            repo.commit(
                who,
                &when,
                &subject,
                &[(&file, lines(&subject, 20 + c * 7))],
            );
        }
    }
    org
}
