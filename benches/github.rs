//! GitHub quota: what collecting an organisation's activity costs, against the tests' fake
//! GitHub (30 repositories, five weeks of generated commits, pull requests, issues and
//! releases; GitHub's wire formats and GraphQL cost rule). For a day and a week: a first
//! run (empty cache), an unchanged rerun (a new client, the same cache dir) and a rerun
//! after a push to one repository. Each run lists the repositories (REST, conditional)
//! and collects their activity (GraphQL). Run with `cargo bench --bench github`.
//!
//! "REST est." is what the same data would take over REST without a cache: per
//! repository one listing each of commits, pull requests, issues and releases, plus one
//! request per commit (line counts) and two per pull request (line counts, reviews).

use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use raibid::backend::forge::github::GitHub;
use raibid::backend::sparky::collect::github::{GitHubActivity, activity};
use raibid::backend::sparky::model::Period;
use raibid::config::{GithubConfig, Secret, SparkyConfig};
use support::github::{FakeGitHub, day, week};

const REPOS: usize = 30;

struct Row {
    period: &'static str,
    run: &'static str,
    commits: usize,
    pulls: usize,
    issues: usize,
    requests: u64,
    not_modified: u64,
    queries: u64,
    points: u64,
    rest_estimate: usize,
    millis: u128,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for (label, period) in [("day", day()), ("week", week())] {
        rows.extend(runtime.block_on(scenario(label, &period)));
    }
    println!(
        "{REPOS} repositories, concurrency {}",
        GithubConfig::default().concurrency
    );
    println!();
    println!(
        "{:<6} {:<16} {:>7} {:>4} {:>6} {:>8} {:>5} {:>8} {:>6} {:>9} {:>8}",
        "period",
        "run",
        "commits",
        "PRs",
        "issues",
        "requests",
        "304s",
        "GraphQL",
        "points",
        "REST est.",
        "time"
    );
    for row in &rows {
        println!(
            "{:<6} {:<16} {:>7} {:>4} {:>6} {:>8} {:>5} {:>8} {:>6} {:>9} {:>6}ms",
            row.period,
            row.run,
            row.commits,
            row.pulls,
            row.issues,
            row.requests,
            row.not_modified,
            row.queries,
            row.points,
            row.rest_estimate,
            row.millis
        );
    }
}

async fn scenario(label: &'static str, period: &Period) -> Vec<Row> {
    let fake = FakeGitHub::start("acme", REPOS);
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, fake.token()).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = GithubConfig {
        api_url: fake.url(),
        token: Secret::File(token),
        orgs: vec![fake.org()],
        ..GithubConfig::default()
    };
    let bots = SparkyConfig::default().bots;
    let mut rows = Vec::new();
    for run in ["first run", "unchanged rerun", "one repo pushed"] {
        if run == "one repo pushed" {
            fake.push("repo-07");
        }
        fake.reset_counts();
        let github = GitHub::new(&config, &dir.path().join("cache")).unwrap();
        let started = Instant::now();
        let repos = github.selected_repos().await.unwrap();
        let activity = activity(&github, &repos, period, &bots).await;
        let millis = started.elapsed().as_millis();
        assert!(activity.failures.is_empty(), "{:?}", activity.failures);
        let usage = github.usage();
        assert_eq!(usage.requests, fake.requests());
        assert_eq!(usage.graphql_points, fake.points());
        rows.push(Row {
            period: label,
            run,
            commits: count(&activity, |r| r.commits.len()),
            pulls: count(&activity, |r| r.pull_requests.len()),
            issues: count(&activity, |r| r.issues.len()),
            requests: usage.requests,
            not_modified: usage.not_modified,
            queries: fake.graphql_queries(),
            points: usage.graphql_points,
            rest_estimate: rest_estimate(&activity),
            millis,
        });
    }
    rows
}

fn count(
    activity: &GitHubActivity,
    each: impl Fn(&raibid::backend::sparky::model::RepoActivity) -> usize,
) -> usize {
    activity.repos.iter().map(each).sum()
}

fn rest_estimate(activity: &GitHubActivity) -> usize {
    1 + activity
        .repos
        .iter()
        .map(|repo| 4 + repo.commits.len() + 2 * repo.pull_requests.len())
        .sum::<usize>()
}
