//! The GitHub client against a local fake GitHub (tests/support/src/github.rs): selection,
//! pagination, conditional requests and incremental reruns, rate limits, per-repository
//! failures, and what the activity maps to.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use raibid::backend::forge::github::{GitHub, GitHubError, RepoInfo};
use raibid::backend::sparky::collect;
use raibid::backend::sparky::model::Period;
use raibid::config::{GithubConfig, Secret, SparkyConfig};
use support::github::{FakeGitHub, Refusal, day, week};

fn token_file(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join(format!("token-{}", token.len()));
    std::fs::write(&path, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn config(fake: &FakeGitHub, dir: &Path) -> GithubConfig {
    GithubConfig {
        api_url: fake.url(),
        token: Secret::File(token_file(dir, &fake.token())),
        orgs: vec![fake.org()],
        ..GithubConfig::default()
    }
}

fn client(config: &GithubConfig, dir: &Path) -> GitHub {
    GitHub::new(config, &dir.join("cache")).unwrap()
}

fn bots() -> Vec<String> {
    SparkyConfig::default().bots
}

fn names(repos: &[RepoInfo]) -> Vec<String> {
    repos.iter().map(|r| r.name.clone()).collect()
}

#[tokio::test]
async fn selection_filters_visibility_archived_and_adds_single_repos_once() {
    let fake = FakeGitHub::start("acme", 12);
    fake.archive("repo-01");
    let dir = tempfile::tempdir().unwrap();
    let config = GithubConfig {
        include: vec!["^acme/repo-0".into()],
        exclude: vec!["05$".into()],
        visibility: "public".into(),
        // repo-11 is not included and repo-03 is private: both kept, each once.
        repos: vec![
            "acme/repo-11".into(),
            "ACME/repo-03".into(),
            "acme/repo-03".into(),
        ],
        ..config(&fake, dir.path())
    };
    let repos = client(&config, dir.path()).selected_repos().await.unwrap();
    assert_eq!(
        names(&repos),
        [
            "repo-00", "repo-02", "repo-03", "repo-04", "repo-06", "repo-08", "repo-09", "repo-11"
        ]
    );
    let three = repos.iter().find(|r| r.name == "repo-03").unwrap();
    assert!(three.private);
    assert_eq!(three.full_name, "acme/repo-03");
    assert_eq!(three.owner, "acme");
    assert_eq!(three.clone_url, "https://github.com/acme/repo-03.git");
    assert_eq!(three.html_url, "https://github.com/acme/repo-03");
    assert_eq!(three.default_branch, "main");
    assert_eq!(three.pushed_at, Some(fake.repo("repo-03").pushed_at));
    // The single repositories were in the organisation's listing: no extra request.
    assert_eq!(fake.requests(), 1);

    // Visibility `private`, and a single repository outside the listing.
    fake.hide("repo-10");
    let config = GithubConfig {
        visibility: "private".into(),
        repos: vec!["acme/repo-00".into(), "acme/repo-10".into()],
        ..config
    };
    let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
    let github = client(&config, dir.path()).with_notices(tx);
    let repos = github.selected_repos().await.unwrap();
    assert_eq!(names(&repos), ["repo-00", "repo-03", "repo-07"]);
    let notice = notices.try_recv().unwrap();
    assert!(
        notice.contains("acme/repo-10") && notice.contains("404"),
        "{notice}"
    );
}

#[tokio::test]
async fn listings_follow_three_pages_and_reruns_are_304s() {
    let fake = FakeGitHub::start("big", 250);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&fake, dir.path());
    let github = client(&config, dir.path());
    let repos = github.selected_repos().await.unwrap();
    assert_eq!(repos.len(), 250);
    assert!(repos.windows(2).all(|w| w[0].full_name < w[1].full_name));
    let log = fake.log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[0].starts_with("GET /orgs/big/repos?per_page=100&type=all"));
    assert!(log[1].contains("/organizations/4242/repos?") && log[1].ends_with("page=2"));
    assert!(log[2].ends_with("page=3"));
    assert_eq!(github.usage().requests, 3);

    // A new process, the same cache dir: every page is a free 304.
    fake.reset_counts();
    let again = client(&config, dir.path());
    assert_eq!(again.selected_repos().await.unwrap(), repos);
    assert_eq!((fake.requests(), fake.not_modified()), (3, 3));
    assert_eq!(again.usage().not_modified, 3);
}

#[tokio::test]
async fn a_rerun_makes_304s_and_no_graphql_and_a_push_refetches_one_repo() {
    let fake = FakeGitHub::start("acme", 6);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&fake, dir.path());
    let github = client(&config, dir.path());
    let repos = github.selected_repos().await.unwrap();
    let first = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    assert_eq!(first.repos.len(), 6);
    let spent = github.usage();
    assert_eq!(spent.requests, fake.requests());
    assert_eq!(spent.graphql_points, fake.points());
    assert!(fake.graphql_queries() >= 6);
    assert!(spent.graphql_points >= 6);

    // Nothing new: one 304 for the listing, no GraphQL at all.
    fake.reset_counts();
    let rerun = client(&config, dir.path());
    let same = rerun.selected_repos().await.unwrap();
    assert_eq!(same, repos);
    let second = collect::github::activity(&rerun, &same, &week(), &bots()).await;
    assert_eq!(second, first);
    assert_eq!((fake.requests(), fake.not_modified()), (1, 1));
    assert_eq!((fake.graphql_queries(), fake.points()), (0, 0));
    let usage = rerun.usage();
    assert_eq!(
        (usage.requests, usage.not_modified, usage.graphql_points),
        (1, 1, 0)
    );

    // A push to one repository: the listing changes, only that repository is asked again.
    let commit = fake.push("repo-02");
    fake.reset_counts();
    let third_run = client(&config, dir.path());
    let repos = third_run.selected_repos().await.unwrap();
    assert_eq!(fake.not_modified(), 0);
    let third = collect::github::activity(&third_run, &repos, &week(), &bots()).await;
    assert_eq!(fake.graphql_queries(), 1);
    for (before, after) in first.repos.iter().zip(&third.repos) {
        if before.name == "acme/repo-02" {
            assert_eq!(after.commits.len(), before.commits.len() + 1);
            assert!(after.commits.iter().any(|c| c.sha == commit.oid));
        } else {
            assert_eq!(after, before);
        }
    }
    // Another period is fetched, not taken from the week's.
    fake.reset_counts();
    let days = collect::github::activity(&third_run, &repos, &day(), &bots()).await;
    assert_eq!(days.repos.len(), 6);
    assert_eq!(fake.graphql_queries(), 6);
}

#[tokio::test]
async fn two_periods_collected_at_once_are_both_remembered() {
    let fake = FakeGitHub::start("acme", 5);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&fake, dir.path());
    let github = client(&config, dir.path());
    let repos = github.selected_repos().await.unwrap();
    let (day, week, bots) = (day(), week(), bots());
    let (days, weeks) = tokio::join!(
        collect::github::activity(&github, &repos, &day, &bots),
        collect::github::activity(&github, &repos, &week, &bots)
    );
    assert_eq!(fake.graphql_queries(), 10);
    fake.reset_counts();
    let rerun = client(&config, dir.path());
    let (days_again, weeks_again) = tokio::join!(
        collect::github::activity(&rerun, &repos, &day, &bots),
        collect::github::activity(&rerun, &repos, &week, &bots)
    );
    assert_eq!((days_again, weeks_again), (days, weeks));
    assert_eq!(fake.graphql_queries(), 0);
}

#[tokio::test]
async fn activity_matches_the_data() {
    let fake = FakeGitHub::start("acme", 4);
    let (number, _) = fake.merge_pull("repo-00", "Rotate keys", "ann", &["security", "area: auth"]);
    let dir = tempfile::tempdir().unwrap();
    let github = client(&config(&fake, dir.path()), dir.path());
    let repos = github.selected_repos().await.unwrap();
    for period in [week(), day()] {
        let activity = collect::github::activity(&github, &repos, &period, &bots()).await;
        assert!(activity.failures.is_empty());
        for (repo, found) in repos.iter().zip(&activity.repos) {
            check_repo(&fake, repo, found, &period);
        }
        let labelled = activity.repos[0]
            .pull_requests
            .iter()
            .find(|p| p.number == number)
            .expect("the labelled pull request");
        assert_eq!(labelled.labels, ["security", "area: auth"]);
    }
}

fn check_repo(
    fake: &FakeGitHub,
    repo: &RepoInfo,
    found: &raibid::backend::sparky::model::RepoActivity,
    period: &Period,
) {
    let truth = fake.truth(&repo.name, period);
    let data = fake.repo(&repo.name);
    assert_eq!(found.name, repo.full_name);
    assert_eq!(found.path, repo.html_url);
    // Commits: newest first, line counts of non-merges, bots flagged.
    let shas: Vec<&str> = found.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, truth.commits, "{}", repo.name);
    assert!(
        found
            .commits
            .windows(2)
            .all(|w| w[0].committed >= w[1].committed)
    );
    let added: u64 = found.commits.iter().map(|c| c.insertions).sum();
    let deleted: u64 = found.commits.iter().map(|c| c.deletions).sum();
    assert_eq!((added, deleted), (truth.additions, truth.deletions));
    assert_eq!(
        found.commits.iter().filter(|c| c.is_merge).count(),
        truth.merges
    );
    assert_eq!(
        found.commits.iter().filter(|c| c.is_bot).count(),
        truth.bot_commits
    );
    for commit in &found.commits {
        assert_eq!(commit.repo, repo.full_name);
        let source = data.commits.iter().find(|c| c.oid == commit.sha).unwrap();
        assert_eq!(commit.author, source.name);
        assert_eq!(commit.email, source.email);
        assert_eq!(commit.subject, source.headline);
        if source.authored.ends_with("+01:00") {
            assert_eq!(commit.offset_seconds, 3600);
        }
        let unknown = found.files_unknown.contains(&commit.sha);
        match source.files {
            _ if commit.is_merge => assert!(commit.files_changed == 0 && !unknown),
            Some(files) => assert!(commit.files_changed == files && !unknown),
            None => assert!(commit.files_changed == 0 && unknown, "{}", commit.sha),
        }
    }
    // Pull requests and issues are told apart.
    let mut pulls: Vec<u64> = found.pull_requests.iter().map(|p| p.number).collect();
    pulls.sort();
    assert_eq!(pulls, truth.pulls, "{}", repo.name);
    let mut issues: Vec<u64> = found.issues.iter().map(|i| i.number).collect();
    issues.sort();
    assert_eq!(issues, truth.issues, "{}", repo.name);
    assert!(pulls.iter().all(|n| !issues.contains(n)));
    for pull in &found.pull_requests {
        let source = data.pulls.iter().find(|p| p.number == pull.number).unwrap();
        assert_eq!(
            (pull.additions, pull.deletions),
            (source.additions, source.deletions)
        );
        let mut reviewers: Vec<String> = source
            .reviews
            .iter()
            .filter(|r| **r != source.author)
            .cloned()
            .collect();
        reviewers.sort();
        reviewers.dedup();
        assert_eq!(pull.reviewers, reviewers);
        assert_eq!(
            (pull.created, pull.merged, pull.closed),
            (source.created, source.merged, source.closed)
        );
        assert_eq!(pull.is_bot, source.author_type == "Bot");
        assert_eq!(pull.labels, source.labels);
        if pull.is_bot {
            assert_eq!(pull.author, "dependabot[bot]");
            assert_eq!(pull.labels, ["dependencies"]);
        }
        assert!(pull.url.ends_with(&format!("/pull/{}", pull.number)));
    }
    for issue in &found.issues {
        assert!(issue.url.contains("/issues/"));
        assert_eq!(issue.is_bot, issue.author == "renovate[bot]");
    }
    let tags: Vec<&str> = found.releases.iter().map(|r| r.tag.as_str()).collect();
    let mut expected: Vec<&str> = truth.releases.iter().map(String::as_str).collect();
    expected.sort();
    let mut sorted = tags.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
}

#[tokio::test]
async fn the_week_has_a_bit_of_everything() {
    // Guards the fixture: the checks above would pass vacuously on an empty week.
    let fake = FakeGitHub::start("acme", 4);
    let truths: Vec<_> = fake
        .repo_names()
        .iter()
        .map(|n| fake.truth(n, &week()))
        .collect();
    assert!(truths.iter().map(|t| t.commits.len()).sum::<usize>() > 10);
    assert!(truths.iter().any(|t| t.merges > 0));
    assert!(truths.iter().any(|t| t.bot_commits > 0));
    assert!(
        truths
            .iter()
            .all(|t| !t.pulls.is_empty() || !t.issues.is_empty())
    );
    assert!(truths.iter().all(|t| t.releases.len() == 2));
}

#[tokio::test]
async fn history_is_paged_beyond_a_hundred_commits() {
    let fake = FakeGitHub::start("acme", 2);
    fake.push_many("repo-00", 230);
    let dir = tempfile::tempdir().unwrap();
    let github = client(&config(&fake, dir.path()), dir.path());
    let repos = github.selected_repos().await.unwrap();
    let activity = collect::github::activity(&github, &repos[..1], &day(), &bots()).await;
    let truth = fake.truth("repo-00", &day());
    assert!(truth.commits.len() > 230);
    assert_eq!(activity.repos[0].commits.len(), truth.commits.len());
    assert_eq!(fake.graphql_queries(), 3);
}

#[tokio::test]
async fn activity_cut_short_is_reported_kept_in_the_result_and_not_remembered() {
    let fake = FakeGitHub::start("acme", 1);
    // 20 releases a page, 100 pages at most.
    fake.release_many("repo-00", 100 * 20 + 5);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&fake, dir.path());
    let github = client(&config, dir.path());
    let repos = github.selected_repos().await.unwrap();
    let activity = collect::github::activity(&github, &repos, &day(), &bots()).await;
    assert_eq!(fake.graphql_queries(), 100);
    assert_eq!(activity.failures.len(), 1, "{:?}", activity.failures);
    let failure = &activity.failures[0];
    assert_eq!(failure.repo, "acme/repo-00");
    assert_eq!(
        failure.reason,
        "incomplete: more than 100 pages of releases; the digest shows what was fetched"
    );
    assert!(failure.incomplete);
    // What was fetched is there: the 2,000 newest created, those published in the day.
    let period = day();
    let mut all = fake.repo("repo-00").releases;
    all.sort_by_key(|r| std::cmp::Reverse(r.created));
    let fetched = all
        .iter()
        .take(2000)
        .filter(|r| {
            !r.draft
                && r.published
                    .is_some_and(|p| period.since <= p && p < period.until)
        })
        .count();
    assert!(fetched > 1900, "{fetched}");
    assert_eq!(activity.repos.len(), 1);
    assert_eq!(activity.repos[0].releases.len(), fetched);

    // Not kept as the period's activity: a rerun within minutes asks again.
    fake.reset_counts();
    let rerun = client(&config, dir.path());
    let again = collect::github::activity(&rerun, &repos, &day(), &bots()).await;
    assert_eq!(fake.graphql_queries(), 100);
    assert_eq!(again, activity);
}

#[tokio::test]
async fn an_exhausted_rate_limit_is_waited_out_with_a_notice() {
    let fake = FakeGitHub::start("acme", 3);
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
    let github = client(&config(&fake, dir.path()), dir.path()).with_notices(tx);

    // REST: 403 with x-ratelimit-remaining: 0.
    fake.exhaust_until(Timestamp::now() + SignedDuration::from_secs(2));
    let started = Instant::now();
    let repos = github.selected_repos().await.unwrap();
    assert_eq!(repos.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let notice = notices.try_recv().unwrap();
    assert!(
        notice.starts_with("GitHub rate limit reached (core): waiting until ")
            && notice.ends_with(" UTC"),
        "{notice}"
    );
    assert_eq!(fake.rate_limited(), 1);

    // GraphQL: 200 with a RATE_LIMITED error; every repository waits, one notice.
    fake.exhaust_until(Timestamp::now() + SignedDuration::from_secs(2));
    let started = Instant::now();
    let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert!(activity.failures.is_empty(), "{:?}", activity.failures);
    assert_eq!(activity.repos.len(), 3);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let notice = notices.try_recv().unwrap();
    assert!(notice.contains("rate limit reached (graphql)"), "{notice}");
    assert!(notices.try_recv().is_err(), "one notice per wait");
    assert_eq!(github.usage().rate_limit_waits, 2);
}

#[tokio::test]
async fn a_secondary_limit_honours_retry_after() {
    let fake = FakeGitHub::start("acme", 2);
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
    let github = client(&config(&fake, dir.path()), dir.path()).with_notices(tx);
    fake.refuse(Refusal::RetryAfter(403), 1);
    let started = Instant::now();
    assert_eq!(github.selected_repos().await.unwrap().len(), 2);
    assert!(started.elapsed() >= Duration::from_millis(900));
    let notice = notices.try_recv().unwrap();
    assert!(
        notice.starts_with("GitHub secondary rate limit: waiting 1 s"),
        "{notice}"
    );
    assert_eq!(fake.requests(), 2);
}

/// Every form of rate-limit answer GitHub is known to send, each to a fake of its own
/// (in parallel), to the listing (REST forms) or the activity (GraphQL forms): the refused
/// request is retried after the wait, announced once, and the result is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_of_rate_limit_is_waited_out_and_the_activity_is_complete() {
    let forms = [
        Refusal::GraphQl {
            kind: "RATE_LIMITED",
            spent: true,
        },
        Refusal::GraphQl {
            kind: "RATE_LIMITED",
            spent: false,
        },
        Refusal::GraphQl {
            kind: "RATE_LIMIT",
            spent: true,
        },
        Refusal::GraphQl {
            kind: "RATE_LIMIT",
            spent: false,
        },
        Refusal::RetryAfter(403),
        Refusal::RetryAfter(429),
        Refusal::Spent,
    ];
    let mut runs = tokio::task::JoinSet::new();
    for form in forms {
        runs.spawn(async move {
            let fake = FakeGitHub::start("acme", 2);
            let dir = tempfile::tempdir().unwrap();
            let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
            let github = client(&config(&fake, dir.path()), dir.path()).with_notices(tx);
            fake.refuse(form, 1);
            let repos = github.selected_repos().await.unwrap();
            assert_eq!(repos.len(), 2, "{form:?}");
            let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
            assert!(
                activity.failures.is_empty(),
                "{form:?}: {:?}",
                activity.failures
            );
            assert_eq!(activity.repos.len(), 2, "{form:?}");
            for (repo, found) in repos.iter().zip(&activity.repos) {
                check_repo(&fake, repo, found, &week());
            }
            assert_eq!(fake.rate_limited(), 1, "{form:?}");
            let notice = notices.try_recv().expect("the wait is announced");
            assert!(notice.contains("rate limit"), "{form:?}: {notice}");
            assert!(notices.try_recv().is_err(), "{form:?}: one notice");
            assert_eq!(github.usage().rate_limit_waits, 1, "{form:?}");
        });
    }
    while let Some(run) = runs.join_next().await {
        run.unwrap();
    }
}

#[tokio::test]
async fn a_wait_beyond_the_maximum_reports_every_repository_not_collected() {
    let fake = FakeGitHub::start("acme", 3);
    let dir = tempfile::tempdir().unwrap();
    let config = GithubConfig {
        max_wait_secs: 5,
        ..config(&fake, dir.path())
    };
    let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
    let github = client(&config, dir.path()).with_notices(tx);
    let repos = github.selected_repos().await.unwrap();
    fake.exhaust_until(Timestamp::now() + SignedDuration::from_mins(10));
    let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert!(activity.repos.is_empty());
    let failed: Vec<&str> = activity.failures.iter().map(|f| f.repo.as_str()).collect();
    assert_eq!(failed, ["acme/repo-00", "acme/repo-01", "acme/repo-02"]);
    for failure in &activity.failures {
        assert!(!failure.incomplete);
        assert!(
            failure
                .reason
                .starts_with("GitHub rate limit reached (graphql) until ")
                && failure
                    .reason
                    .ends_with(" UTC, later than github.max_wait_secs (5 s) allows waiting"),
            "{}",
            failure.reason
        );
    }
    assert!(notices.try_recv().is_err(), "nothing was waited for");
    assert_eq!(github.usage().rate_limit_waits, 0);
}

#[tokio::test]
async fn the_history_is_asked_to_the_periods_end_which_is_exclusive() {
    let fake = FakeGitHub::start("acme", 1);
    let end = week().until;
    let last = fake.push_at("repo-00", end - SignedDuration::from_secs(1));
    let after = fake.push_at("repo-00", end);
    let dir = tempfile::tempdir().unwrap();
    let github = client(&config(&fake, dir.path()), dir.path());
    let repos = github.selected_repos().await.unwrap();
    let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
    let shas: Vec<&str> = activity.repos[0]
        .commits
        .iter()
        .map(|c| c.sha.as_str())
        .collect();
    assert_eq!(shas.first(), Some(&last.oid.as_str()));
    assert!(!shas.contains(&after.oid.as_str()));
    check_repo(&fake, &repos[0], &activity.repos[0], &week());
}

#[tokio::test]
async fn a_commit_without_a_file_count_is_unknown_not_zero() {
    let fake = FakeGitHub::start("acme", 1);
    let truth = fake.truth("repo-00", &week());
    let data = fake.repo("repo-00");
    let large = data
        .commits
        .iter()
        .find(|c| c.parents == 1 && truth.commits.contains(&c.oid))
        .expect("a commit in the week");
    fake.hide_file_count("repo-00", &large.oid);
    let dir = tempfile::tempdir().unwrap();
    let github = client(&config(&fake, dir.path()), dir.path());
    let repos = github.selected_repos().await.unwrap();
    let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert_eq!(activity.repos[0].files_unknown, [large.oid.as_str()]);
    check_repo(&fake, &repos[0], &activity.repos[0], &week());
}

#[tokio::test]
async fn a_repo_answering_graphql_errors_fails_alone() {
    let fake = FakeGitHub::start("acme", 5);
    fake.fail("repo-01");
    let dir = tempfile::tempdir().unwrap();
    let github = client(&config(&fake, dir.path()), dir.path());
    let repos = github.selected_repos().await.unwrap();
    let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert_eq!(activity.repos.len(), 4);
    assert!(activity.repos.iter().all(|r| r.name != "acme/repo-01"));
    assert_eq!(activity.failures.len(), 1);
    assert_eq!(activity.failures[0].repo, "acme/repo-01");
    assert!(
        activity.failures[0].reason.contains("Something went wrong"),
        "{}",
        activity.failures[0].reason
    );
    // A failure is not remembered: the next run asks again.
    fake.reset_counts();
    let again = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert_eq!(again.failures.len(), 1);
    assert_eq!(fake.graphql_queries(), 1);
}

#[tokio::test]
async fn a_private_repo_without_access_is_no_access() {
    let fake = FakeGitHub::start("acme", 4);
    let dir = tempfile::tempdir().unwrap();
    let github = client(&config(&fake, dir.path()), dir.path());
    let repos = github.selected_repos().await.unwrap();
    fake.hide("repo-03");
    let activity = collect::github::activity(&github, &repos, &week(), &bots()).await;
    assert_eq!(activity.repos.len(), 3);
    assert_eq!(activity.failures.len(), 1);
    assert_eq!(activity.failures[0].repo, "acme/repo-03");
    assert!(
        activity.failures[0].reason.starts_with("no access"),
        "{}",
        activity.failures[0].reason
    );
    assert_eq!(github.usage().graphql_points, fake.points());
    // The listing no longer shows it.
    assert_eq!(github.selected_repos().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_bad_token_is_a_clear_error_that_never_shows_the_token() {
    let fake = FakeGitHub::start("acme", 2);
    let dir = tempfile::tempdir().unwrap();
    let wrong = "ghp_wr0ngT0kenTHATmustNEVERshow123456";
    let config = GithubConfig {
        token: Secret::File(token_file(dir.path(), wrong)),
        ..config(&fake, dir.path())
    };
    let github = client(&config, dir.path());
    let error = github.selected_repos().await.unwrap_err();
    assert!(matches!(error, GitHubError::BadToken), "{error:?}");
    let message = error.to_string();
    assert_eq!(
        message,
        "GitHub rejected the token (401 Bad credentials): check github.token"
    );
    assert!(!format!("{error:?}").contains(wrong));
    assert!(!format!("{github:?}").contains(wrong));
    assert_eq!(fake.requests(), 1);
    // Activity: every repository fails with the same reason, and no more requests.
    let repo = RepoInfo {
        full_name: "acme/repo-00".into(),
        owner: "acme".into(),
        name: "repo-00".into(),
        private: false,
        archived: false,
        fork: false,
        clone_url: String::new(),
        html_url: String::new(),
        default_branch: "main".into(),
        pushed_at: None,
    };
    let activity = collect::github::activity(&github, &[repo], &week(), &bots()).await;
    assert_eq!(activity.failures.len(), 1);
    assert!(activity.failures[0].reason.contains("401"));
    assert!(!activity.failures[0].reason.contains(wrong));
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn the_token_never_appears_in_failures_or_notices() {
    let fake = FakeGitHub::start("acme", 3);
    fake.fail("repo-00");
    fake.hide("repo-01");
    let dir = tempfile::tempdir().unwrap();
    let config = GithubConfig {
        repos: vec!["acme/nothing-here".into()],
        ..config(&fake, dir.path())
    };
    let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
    let github = client(&config, dir.path()).with_notices(tx);
    fake.refuse(Refusal::RetryAfter(403), 1);
    let repos = github.selected_repos().await.unwrap();
    let mut all = repos.clone();
    all.push(RepoInfo {
        name: "repo-01".into(),
        full_name: "acme/repo-01".into(),
        ..repos[0].clone()
    });
    let activity = collect::github::activity(&github, &all, &week(), &bots()).await;
    assert_eq!(activity.failures.len(), 2);
    let mut said = format!("{activity:?} {github:?}");
    while let Ok(notice) = notices.try_recv() {
        said.push_str(&notice);
    }
    assert!(said.contains("secondary") && said.contains("nothing-here"));
    assert!(!said.contains(&fake.token()));
    // Nor in the cache dir.
    for entry in walk(&dir.path().join("cache")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(!text.contains(&fake.token()), "{}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_token_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config = GithubConfig {
        token: Secret::None,
        ..GithubConfig::default()
    };
    let error = GitHub::new(&config, dir.path()).unwrap_err();
    assert!(matches!(error, GitHubError::NoToken { .. }));
    assert!(error.to_string().contains("github.token"), "{error}");
    let config = GithubConfig {
        token: Secret::Env("RAIBID_GITHUB_TOKEN_SURELY_UNSET".into()),
        ..GithubConfig::default()
    };
    let message = GitHub::new(&config, dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("RAIBID_GITHUB_TOKEN_SURELY_UNSET"),
        "{message}"
    );
}
