//! The GitHub metrics on a week with known timestamps.

use super::*;
use crate::backend::sparky::model::{
    IssueRecord, PeriodKind, PullRequestRecord, ReleaseRecord, RepoActivity,
};

const REPO: &str = "lab/api";

fn at(s: &str) -> jiff::Timestamp {
    format!("2026-11-{s}:00Z").parse().unwrap()
}

fn pr(
    number: u64,
    author: &str,
    created: &str,
    merged: Option<&str>,
    closed: Option<&str>,
    reviewers: &[&str],
) -> PullRequestRecord {
    PullRequestRecord {
        repo: REPO.into(),
        number,
        title: format!("change {number}"),
        author: author.into(),
        url: format!("https://github.com/{REPO}/pull/{number}"),
        created: at(created),
        merged: merged.map(at),
        closed: closed.or(merged).map(at),
        reviewers: reviewers.iter().map(|r| r.to_string()).collect(),
        additions: number * 10,
        deletions: number,
        is_bot: author.ends_with("[bot]"),
        labels: Vec::new(),
    }
}

fn issue(number: u64, created: &str, closed: Option<&str>) -> IssueRecord {
    IssueRecord {
        repo: REPO.into(),
        number,
        title: format!("issue {number}"),
        author: "dana".into(),
        url: format!("https://github.com/{REPO}/issues/{number}"),
        created: at(created),
        closed: closed.map(at),
        is_bot: false,
    }
}

fn release(tag: &str, published: &str) -> ReleaseRecord {
    ReleaseRecord {
        repo: REPO.into(),
        tag: tag.into(),
        name: format!("Release {tag}"),
        author: "ann".into(),
        url: format!("https://github.com/{REPO}/releases/tag/{tag}"),
        published: at(published),
        prerelease: false,
    }
}

fn commit(sha: u64, author: &str, email: &str, when: &str) -> CommitRecord {
    CommitRecord {
        login: None,
        repo: REPO.into(),
        sha: format!("{sha:040x}"),
        author: author.into(),
        email: email.into(),
        time: at(when),
        offset_seconds: 0,
        committed: at(when),
        subject: format!("commit {sha}"),
        files_changed: 1,
        insertions: 5,
        deletions: 1,
        is_merge: false,
        is_bot: false,
        paths: Vec::new(),
    }
}

fn week(label: &str, since: &str, until: &str, repo: RepoActivity) -> Activity {
    Activity {
        period: Period {
            kind: PeriodKind::Week,
            since: at(since),
            until: at(until),
            label: label.into(),
            time_zone: "UTC".into(),
        },
        repos: vec![repo],
    }
}

/// 2026-W47 (Mon 16 to Sun 22 November) of one GitHub repository.
fn current() -> Activity {
    let repo = RepoActivity {
        name: REPO.into(),
        path: format!("https://github.com/{REPO}"),
        commits: vec![
            commit(2, "Ann", "12345+ann@users.noreply.github.com", "18T09:00"),
            commit(1, "Bob", "bob@lab.example", "17T09:00"),
            // Pull request 3, squashed.
            CommitRecord {
                login: None,
                subject: "change 3 (#3)".into(),
                ..commit(3, "Carol", "carol@lab.example", "17T02:00")
            },
        ],
        pull_requests: vec![
            // 10 h, reviewed by bob.
            pr(1, "ann", "16T00:00", Some("16T10:00"), None, &["bob"]),
            // Opened the week before; merged after 48 h.
            pr(
                2,
                "bob",
                "15T00:00",
                Some("17T00:00"),
                None,
                &["bob", "carol"],
            ),
            // 2 h, no review.
            pr(3, "carol", "17T00:00", Some("17T02:00"), None, &[]),
            pr(4, "ann", "18T00:00", None, Some("19T00:00"), &["carol"]),
            // Still open; its author's own review does not count.
            pr(5, "ann", "20T00:00", None, None, &["ann"]),
            // 28 h.
            pr(
                7,
                "bob",
                "19T00:00",
                Some("20T04:00"),
                None,
                &["bob", "ann"],
            ),
            // Merged the week before: not this week's.
            pr(6, "ann", "10T00:00", Some("12T00:00"), None, &[]),
        ],
        issues: vec![
            issue(10, "16T00:00", Some("18T00:00")),
            issue(11, "01T00:00", Some("17T12:00")),
            issue(12, "20T00:00", None),
            issue(13, "10T00:00", Some("12T00:00")),
        ],
        releases: vec![release("v1.1.0", "12T00:00"), release("v1.2.0", "20T12:00")],
        first_commit: None,
        files_unknown: Vec::new(),
    };
    week("2026-W47", "16T00:00", "23T00:00", repo)
}

fn previous() -> Activity {
    let repo = RepoActivity {
        name: REPO.into(),
        path: format!("https://github.com/{REPO}"),
        pull_requests: vec![
            pr(6, "ann", "10T00:00", Some("12T00:00"), None, &[]),
            pr(8, "ann", "11T00:00", Some("11T06:00"), None, &["bob"]),
        ],
        issues: vec![issue(13, "10T00:00", Some("12T00:00"))],
        ..RepoActivity::default()
    };
    week("2026-W46", "09T00:00", "16T00:00", repo)
}

#[test]
fn time_to_merge_counts_the_prs_merged_in_the_period() {
    let m = analyze(&current(), None);
    let prs = &m.github.expect("a GitHub repository").pull_requests;
    assert_eq!((prs.opened, prs.merged, prs.closed_unmerged), (5, 4, 1));
    // 2, 10, 28 and 48 hours.
    assert_eq!(prs.median_hours_to_merge, Some(19.0));
    assert_eq!(prs.p90_hours_to_merge, Some(48.0));
    // 4 in 7 days.
    assert_eq!(prs.merged_per_day, 0.6);
    let merged: Vec<u64> = prs.merged_list.iter().map(|p| p.number).collect();
    assert_eq!(merged, [7, 3, 2, 1], "largest first");
    assert_eq!(prs.merged_list[0].hours_to_merge, 28.0);
    assert_eq!(
        prs.per_repo,
        [RepoPullRequests {
            repo: REPO.into(),
            opened: 5,
            merged: 4,
            closed_unmerged: 1,
        }]
    );
}

#[test]
fn review_load_counts_prs_reviewed_never_their_authors() {
    let m = analyze(&current(), None);
    let reviews = &m.github.unwrap().reviews;
    let load: Vec<(&str, u64)> = reviews
        .reviewers
        .iter()
        .map(|r| (r.login.as_str(), r.reviewed))
        .collect();
    // bob reviewed #1, #2 and #7, but #2 and #7 are his own: only #1 counts.
    assert_eq!(load, [("carol", 2), ("ann", 1), ("bob", 1)]);
    assert_eq!(reviews.merged_without_review, 1, "#3");
}

#[test]
fn issue_throughput_and_prs_are_not_issues() {
    let m = analyze(&current(), None);
    let github = m.github.unwrap();
    let issues = &github.issues;
    assert_eq!((issues.opened, issues.closed, issues.net), (2, 2, 0));
    // 48 h and 396 h.
    assert_eq!(issues.median_hours_to_close, Some(222.0));
    assert_eq!(
        github.pull_requests.opened, 5,
        "pull requests are counted apart"
    );
    let tags: Vec<&str> = github.releases.iter().map(|r| r.tag.as_str()).collect();
    assert_eq!(tags, ["v1.2.0"]);
}

#[test]
fn people_are_profiled_across_commits_prs_and_reviews() {
    let m = analyze(&current(), None);
    let people = m.github.unwrap().people;
    let ann = people
        .iter()
        .find(|p| p.login.as_deref() == Some("ann"))
        .unwrap();
    // Her no-reply address names her login: her commit and her pull requests are one person.
    assert_eq!(ann.name, "Ann");
    assert_eq!(
        (ann.commits, ann.prs_opened, ann.prs_merged, ann.reviews),
        (1, 3, 1, 1)
    );
    assert_eq!(ann.repos, [REPO]);
    let bob_commits = people
        .iter()
        .find(|p| p.email == "bob@lab.example")
        .unwrap();
    assert_eq!(
        bob_commits.login, None,
        "no login is known for this address"
    );
    // Her squash merge's pull request names her login.
    let carol = people
        .iter()
        .find(|p| p.login.as_deref() == Some("carol"))
        .unwrap();
    assert_eq!(carol.name, "Carol");
    assert_eq!((carol.commits, carol.prs_merged, carol.reviews), (1, 1, 2));
}

#[test]
fn a_login_github_reports_on_a_commit_joins_the_authors_other_commits_to_it() {
    let mut activity = current();
    let commits = &mut activity.repos[0].commits;
    // GitHub knows this commit's author; a local commit by the same address follows it.
    commits[1].login = Some("bob".into());
    commits.push(CommitRecord {
        login: None,
        ..commit(4, "Bob", "bob@lab.example", "19T09:00")
    });
    let people = analyze(&activity, None).github.unwrap().people;
    let bob = people
        .iter()
        .find(|p| p.login.as_deref() == Some("bob"))
        .unwrap();
    assert_eq!((bob.commits, bob.prs_opened, bob.prs_merged), (2, 1, 2));
    assert!(
        people
            .iter()
            .all(|p| p.email != "bob@lab.example" || p.login.is_some())
    );
}

#[test]
fn the_trend_compares_the_headline_figures() {
    let m = analyze(&current(), Some(&previous()));
    let trend = m.github.unwrap().trend.unwrap();
    assert_eq!(trend.previous_label, "2026-W46");
    assert_eq!(trend.previous.prs_merged, 2);
    assert_eq!(trend.previous.median_hours_to_merge, Some(27.0));
    assert_eq!(trend.prs_merged_change_pct, Some(100.0));
    assert_eq!(trend.issues_closed_change_pct, Some(100.0));
    assert_eq!(trend.previous.releases, 0);
}

#[test]
fn local_repositories_have_no_github_metrics() {
    let mut local = current();
    local.repos[0].name = "api".into();
    assert_eq!(analyze(&local, None).github, None);
    let json = serde_json::to_value(analyze(&local, None)).unwrap();
    assert!(
        json.get("github").is_none(),
        "local drafts' data is as before"
    );
}
