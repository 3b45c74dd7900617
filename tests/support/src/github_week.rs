//! A hand-made GitHub week: 2026-W47 of two repositories, `lab/api` and `lab/web`, with
//! merged and open pull requests (reviewed, one by a bot), issues and a release, and the
//! week before for the trend.

use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, IssueRecord, Period, PeriodKind, PullRequestRecord,
    ReleaseRecord, RepoActivity,
};

fn at(s: &str) -> jiff::Timestamp {
    s.parse().expect("fixture time")
}

fn sha(seed: u64) -> String {
    let a = (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let b = a.rotate_left(17) ^ 0xDEAD_BEEF_CAFE_F00D;
    format!("{a:016x}{b:016x}{:08x}", (a >> 32) as u32)
}

fn commit(seed: u64, repo: &str, author: &str, when: &str, (ins, del): (u64, u64)) -> CommitRecord {
    CommitRecord {
        login: None,
        repo: repo.into(),
        sha: sha(seed),
        author: author.into(),
        email: format!("{}@users.noreply.github.com", author.to_lowercase()),
        time: at(when),
        offset_seconds: 0,
        committed: at(when),
        subject: format!("change {seed} in {repo}"),
        files_changed: 2,
        insertions: ins,
        deletions: del,
        is_merge: false,
        is_bot: author.ends_with("[bot]"),
        paths: Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn pr(
    repo: &str,
    number: u64,
    title: &str,
    author: &str,
    created: &str,
    merged: Option<&str>,
    reviewers: &[&str],
    (additions, deletions): (u64, u64),
) -> PullRequestRecord {
    PullRequestRecord {
        repo: repo.into(),
        number,
        title: title.into(),
        author: author.into(),
        url: format!("https://github.com/{repo}/pull/{number}"),
        created: at(created),
        merged: merged.map(at),
        closed: merged.map(at),
        reviewers: reviewers.iter().map(|r| r.to_string()).collect(),
        additions,
        deletions,
        is_bot: author.ends_with("[bot]"),
        labels: Vec::new(),
    }
}

fn issue(repo: &str, number: u64, created: &str, closed: Option<&str>) -> IssueRecord {
    IssueRecord {
        repo: repo.into(),
        number,
        title: format!("issue {number}"),
        author: "erin".into(),
        url: format!("https://github.com/{repo}/issues/{number}"),
        created: at(created),
        closed: closed.map(at),
        is_bot: false,
    }
}

fn week(label: &str, since: &str, until: &str, repos: Vec<RepoActivity>) -> Activity {
    Activity {
        period: Period {
            kind: PeriodKind::Week,
            since: at(since),
            until: at(until),
            label: label.into(),
            time_zone: "UTC".into(),
        },
        repos,
    }
}

fn repo(name: &str) -> RepoActivity {
    RepoActivity {
        name: name.into(),
        path: format!("https://github.com/{name}"),
        ..RepoActivity::default()
    }
}

/// 2026-W47 of `lab/api` and `lab/web`, and the week before.
pub fn weekly() -> DigestData {
    let mut api = repo("lab/api");
    api.commits = vec![
        commit(1, "lab/api", "Ann", "2026-11-16T09:00:00Z", (240, 31)),
        commit(2, "lab/api", "Bob", "2026-11-17T10:00:00Z", (96, 310)),
        commit(3, "lab/api", "Ann", "2026-11-19T11:00:00Z", (18, 4)),
    ];
    api.pull_requests = vec![
        pr(
            "lab/api",
            41,
            "feat: stream tokens",
            "ann",
            "2026-11-15T09:00:00Z",
            Some("2026-11-16T09:00:00Z"),
            &["bob"],
            (240, 31),
        ),
        pr(
            "lab/api",
            42,
            "feat!: drop the v1 format",
            "bob",
            "2026-11-17T08:00:00Z",
            Some("2026-11-17T10:00:00Z"),
            &["ann", "carol"],
            (96, 310),
        ),
        pr(
            "lab/api",
            43,
            "chore(deps): bump tokio",
            "dependabot[bot]",
            "2026-11-18T04:00:00Z",
            Some("2026-11-18T05:30:00Z"),
            &[],
            (12, 12),
        ),
        pr(
            "lab/api",
            44,
            "wip: new scheduler",
            "carol",
            "2026-11-20T12:00:00Z",
            None,
            &["ann"],
            (400, 20),
        ),
    ];
    api.issues = vec![
        issue(
            "lab/api",
            7,
            "2026-11-16T10:00:00Z",
            Some("2026-11-18T10:00:00Z"),
        ),
        issue("lab/api", 8, "2026-11-19T10:00:00Z", None),
        issue(
            "lab/api",
            3,
            "2026-11-02T10:00:00Z",
            Some("2026-11-20T10:00:00Z"),
        ),
    ];
    api.releases = vec![ReleaseRecord {
        repo: "lab/api".into(),
        tag: "v0.4.0".into(),
        name: "Streaming".into(),
        author: "ann".into(),
        url: "https://github.com/lab/api/releases/tag/v0.4.0".into(),
        published: at("2026-11-20T15:00:00Z"),
        prerelease: false,
    }];
    let mut web = repo("lab/web");
    web.commits = vec![commit(
        4,
        "lab/web",
        "Carol",
        "2026-11-18T14:00:00Z",
        (57, 2),
    )];
    web.pull_requests = vec![pr(
        "lab/web",
        9,
        "docs: explain the score",
        "carol",
        "2026-11-18T09:00:00Z",
        Some("2026-11-18T14:00:00Z"),
        &["bob"],
        (57, 2),
    )];
    web.issues = vec![issue("lab/web", 2, "2026-11-21T10:00:00Z", None)];
    let mut api_before = repo("lab/api");
    api_before.commits = vec![commit(9, "lab/api", "Ann", "2026-11-10T09:00:00Z", (30, 3))];
    api_before.pull_requests = vec![
        pr(
            "lab/api",
            39,
            "fix: theme cycling",
            "ann",
            "2026-11-09T09:00:00Z",
            Some("2026-11-10T09:00:00Z"),
            &["bob"],
            (30, 3),
        ),
        pr(
            "lab/api",
            40,
            "feat: keymap",
            "bob",
            "2026-11-11T09:00:00Z",
            Some("2026-11-12T21:00:00Z"),
            &["ann"],
            (8, 8),
        ),
    ];
    api_before.issues = vec![issue(
        "lab/api",
        5,
        "2026-11-09T10:00:00Z",
        Some("2026-11-13T10:00:00Z"),
    )];
    let current = week(
        "2026-W47",
        "2026-11-16T00:00:00Z",
        "2026-11-23T00:00:00Z",
        vec![api, web],
    );
    let previous = week(
        "2026-W46",
        "2026-11-09T00:00:00Z",
        "2026-11-16T00:00:00Z",
        vec![api_before, repo("lab/web")],
    );
    super::digest_data(current, Some(&previous))
}
