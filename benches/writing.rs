//! Writing and checking: the built-in writer and the checker on every kind of draft, from
//! a month of a 30-repository organisation (the tests' fake GitHub: commits, pull requests,
//! reviews, issues, releases). The checker runs each time the console opens or approves a
//! draft and on every model attempt, so it must stay below what a person notices (target:
//! under 100 ms for the largest draft). Run with `cargo bench --bench writing`.

#[path = "support/timing.rs"]
mod timing;

use std::time::Duration;

use raibid::backend::sparky::checker::{self, Rules};
use raibid::backend::sparky::model::{DigestData, DraftKind, PeriodKind};
use raibid::backend::sparky::period;
use raibid::backend::sparky::write::{BuiltinWriter, Writer};
use raibid::config::Config;
use support::github::FakeGitHub;

const REPOS: usize = 30;
const RUNS: u32 = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let data = runtime.block_on(month_of_activity());
    let config = Config::default();
    let rules = Rules::of(&config);
    let totals = &data.metrics.totals;
    println!(
        "{REPOS} repositories, one month: {} commits, {} contributors; median of {RUNS} runs",
        totals.commits, totals.contributors
    );
    println!();
    println!(
        "{:<9} {:>7} {:>9} {:>11} {:>11}",
        "kind", "words", "findings", "write", "check"
    );
    for kind in DraftKind::ALL {
        let (tokens, _unwatched) = tokio::sync::mpsc::unbounded_channel();
        let mut body = String::new();
        let write = timing::median(RUNS, || {
            body = runtime
                .block_on(BuiltinWriter.write(&data, kind, &tokens))
                .unwrap()
                .body;
        });
        let mut findings = 0;
        let check = timing::median(RUNS, || {
            findings = checker::check(&body, kind, &data, &rules).len()
        });
        println!(
            "{:<9} {:>7} {:>9} {:>9.2}ms {:>9.2}ms",
            kind.as_str(),
            body.split_whitespace().count(),
            findings,
            millis(write),
            millis(check)
        );
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// 2026-11 of the fake organisation, collected through the pipeline as `raibid digest`.
async fn month_of_activity() -> DigestData {
    let fake = FakeGitHub::start("lab", REPOS);
    let root = tempfile::tempdir().unwrap();
    let november = jiff::civil::date(2026, 11, 1);
    let month = period::calendar(PeriodKind::Month, november, &jiff::tz::TimeZone::UTC);
    support::github_digest_data(&fake, root.path(), month).await
}
