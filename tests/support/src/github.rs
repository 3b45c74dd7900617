//! A local stand-in for GitHub's API, speaking its documented wire formats over an
//! in-memory organisation of generated (deterministic) repositories:
//!
//! - REST `GET /orgs/{org}/repos` (`per_page` up to 100, `page`; `Link` with `rel="next"`
//!   pointing at `/organizations/{id}/repos`, as GitHub does) and `GET /repos/{owner}/{repo}`;
//!   a weak `ETag` on every 200 and `304 Not Modified` for a matching `If-None-Match`
//!   (free: a 304 spends no quota).
//! - GraphQL `POST /graphql`: the query is parsed (fields, aliases, arguments, variables,
//!   inline fragments) and answered with exactly the fields asked for: `rateLimit`,
//!   `repository { defaultBranchRef { target { ... on Commit { history } } } pullRequests
//!   issues releases }`. Connections need `first` (at most 100); cost follows GitHub's
//!   rule (requests for every connection at its `first`, / 100, rounded, at least 1).
//!   Declared-but-unused and used-but-undeclared variables are errors, as on GitHub.
//! - `x-ratelimit-limit/remaining/reset/used/resource` on every answer; an exhausted
//!   limit answers REST with 403 and GraphQL with 200 and a `RATE_LIMITED` error, both
//!   with `x-ratelimit-remaining: 0`. [`Refusal`] sends the other forms GitHub is known
//!   to send: GraphQL's `RATE_LIMIT` type, with or without the quota spent by the
//!   headers, and 403 or 429 with `retry-after`.
//! - `401 Bad credentials` for a wrong token, `404 Not Found` for a hidden repository
//!   (GraphQL: `NOT_FOUND`).
//!
//! The activity spans five weeks from [`DATA_START`]; [`week`] (the fourth) and [`day`]
//! (a Thursday in it) have data before and after them.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use raibid::backend::sparky::model::{Period, PeriodKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::serve::{Listener, Server};

/// The token the fake accepts.
pub const TOKEN: &str = "ghp_fAkEt0kEn4TeStS0nLy9x8y7z6w5v4u3t2s1";
pub const DATA_START: &str = "2026-10-12T00:00:00Z";
const DATA_DAYS: i64 = 35;
const ORG_ID: u64 = 4242;
const REST_LIMIT: u64 = 5000;
const GRAPHQL_LIMIT: u64 = 5000;

/// 2026-W45, Monday 2026-11-02 to Monday 2026-11-09 (UTC): the fourth week of data.
pub fn week() -> Period {
    Period {
        kind: PeriodKind::Week,
        since: at("2026-11-02T00:00:00Z"),
        until: at("2026-11-09T00:00:00Z"),
        label: "2026-W45".into(),
        time_zone: "UTC".into(),
    }
}

/// Thursday 2026-11-05 (UTC).
pub fn day() -> Period {
    Period {
        kind: PeriodKind::Day,
        since: at("2026-11-05T00:00:00Z"),
        until: at("2026-11-06T00:00:00Z"),
        label: "2026-11-05".into(),
        time_zone: "UTC".into(),
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

// ---------------------------------------------------------------------------------------
// The organisation's data.

#[derive(Debug, Clone)]
pub struct FakeCommit {
    pub oid: String,
    pub committed: Timestamp,
    /// RFC 3339 with the author's offset.
    pub authored: String,
    pub headline: String,
    pub additions: u64,
    pub deletions: u64,
    /// `None`: GitHub gives no count (`changedFilesIfAvailable` null).
    pub files: Option<u32>,
    pub parents: u32,
    pub name: String,
    pub email: String,
    pub login: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    /// `Bot` or `User`.
    pub author_type: String,
    pub author: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub merged: Option<Timestamp>,
    pub closed: Option<Timestamp>,
    pub additions: u64,
    pub deletions: u64,
    /// Review authors in order, repeats and the PR's author included.
    pub reviews: Vec<String>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub author_type: String,
    pub author: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub closed: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct FakeRelease {
    pub tag: String,
    pub name: String,
    pub author: String,
    pub created: Timestamp,
    pub published: Option<Timestamp>,
    pub prerelease: bool,
    pub draft: bool,
}

#[derive(Debug, Clone)]
pub struct FakeRepo {
    pub name: String,
    pub private: bool,
    pub archived: bool,
    pub fork: bool,
    /// The token cannot see it: left out of listings, 404, GraphQL NOT_FOUND.
    pub hidden: bool,
    /// GraphQL answers errors for it.
    pub fail: bool,
    pub created: Timestamp,
    pub pushed_at: Timestamp,
    pub commits: Vec<FakeCommit>,
    pub pulls: Vec<FakePull>,
    pub issues: Vec<FakeIssue>,
    pub releases: Vec<FakeRelease>,
}

/// What a period holds in one repository, computed straight from the data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    /// Commit ids, newest first.
    pub commits: Vec<String>,
    pub merges: usize,
    /// Lines of non-merge commits.
    pub additions: u64,
    pub deletions: u64,
    pub bot_commits: usize,
    /// Opened, merged or closed in the period; ascending.
    pub pulls: Vec<u64>,
    /// Opened or closed in the period; ascending.
    pub issues: Vec<u64>,
    /// Published (not drafts) in the period.
    pub releases: Vec<String>,
}

/// Deterministic numbers (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const PEOPLE: [(&str, &str, Option<&str>); 4] = [
    ("Ann Example", "ann@example.org", Some("ann")),
    ("Bob Builder", "bob@example.org", Some("bob")),
    ("Cleo Coder", "cleo@example.org", Some("cleo")),
    (
        "dependabot[bot]",
        "49699333+dependabot[bot]@users.noreply.github.com",
        None,
    ),
];
const LOGINS: [&str; 3] = ["ann", "bob", "cleo"];

fn oid(parts: &str) -> String {
    hex::encode(Sha256::digest(parts.as_bytes()))[..40].to_string()
}

fn rfc3339_with_offset(time: Timestamp, offset_hours: i8) -> String {
    if offset_hours == 0 {
        return time.to_string();
    }
    let offset = jiff::tz::Offset::constant(offset_hours);
    let local = offset.to_datetime(time);
    format!(
        "{}{}{:02}:00",
        local.strftime("%Y-%m-%dT%H:%M:%S"),
        if offset_hours < 0 { '-' } else { '+' },
        offset_hours.unsigned_abs()
    )
}

fn make_commit(
    org: &str,
    repo: &str,
    serial: u64,
    committed: Timestamp,
    rng: &mut Rng,
) -> FakeCommit {
    // Bots write one commit in five.
    let who = if rng.below(5) == 0 {
        3
    } else {
        rng.below(3) as usize
    };
    let (name, email, login) = PEOPLE[who];
    let authored = committed - SignedDuration::from_secs(rng.below(3600) as i64);
    let merge = serial % 9 == 8;
    FakeCommit {
        oid: oid(&format!("{org}/{repo}/{serial}/{}", committed.as_second())),
        committed,
        authored: rfc3339_with_offset(authored, if who == 2 { 1 } else { 0 }),
        headline: if merge {
            format!("Merge pull request #{serial} from {org}/topic-{serial}")
        } else if who == 3 {
            format!("build(deps): bump crate-{serial}")
        } else {
            format!("change {serial} in {repo}")
        },
        additions: 1 + rng.below(200),
        deletions: rng.below(80),
        files: Some(1 + rng.below(6) as u32),
        parents: if merge { 2 } else { 1 },
        name: name.into(),
        email: email.into(),
        login: login.map(str::to_owned),
    }
}

fn generate(org: &str, index: usize) -> FakeRepo {
    let name = format!("repo-{index:02}");
    let mut rng = Rng(0xC0FFEE ^ (index as u64).wrapping_mul(0x1000_0001));
    let start = at(DATA_START);
    let day = |n: i64| start + SignedDuration::from_hours(24 * n);
    let mut commits = Vec::new();
    for d in 0..DATA_DAYS {
        for _ in 0..rng.below(3) {
            let time = day(d)
                + SignedDuration::from_hours(8 + rng.below(10) as i64)
                + SignedDuration::from_mins(rng.below(60) as i64);
            let serial = commits.len() as u64;
            commits.push(make_commit(org, &name, serial, time, &mut rng));
        }
    }
    commits.sort_by_key(|commit| std::cmp::Reverse(commit.committed));

    // Pull requests and issues share numbers, in order of creation.
    enum Item {
        Pull(FakePull),
        Issue(FakeIssue),
    }
    let mut items: Vec<(Timestamp, Item)> = Vec::new();
    // Two old ones, untouched since: paging must stop at them.
    for k in 0..2 {
        let created = at("2026-06-01T10:00:00Z") + SignedDuration::from_hours(k);
        items.push((
            created,
            Item::Pull(FakePull {
                number: 0,
                title: format!("old pull {k}"),
                author_type: "User".into(),
                author: "ann".into(),
                created,
                updated: created + SignedDuration::from_hours(2),
                merged: None,
                closed: None,
                additions: 1,
                deletions: 1,
                reviews: Vec::new(),
                labels: Vec::new(),
            }),
        ));
        items.push((
            created,
            Item::Issue(FakeIssue {
                number: 0,
                title: format!("old issue {k}"),
                author_type: "User".into(),
                author: "bob".into(),
                created,
                updated: created + SignedDuration::from_hours(3),
                closed: None,
            }),
        ));
    }
    for k in 0..10 {
        let created = day(rng.below(DATA_DAYS as u64) as i64)
            + SignedDuration::from_hours(9 + rng.below(8) as i64);
        let later = created + SignedDuration::from_hours(6 + rng.below(72) as i64);
        let bot = k % 5 == 4;
        let (merged, closed) = match k % 4 {
            0 => (None, None),
            1 | 3 => (Some(later), Some(later)),
            _ => (None, Some(later)),
        };
        let author = if bot {
            "dependabot".to_string()
        } else {
            LOGINS[rng.below(3) as usize].to_string()
        };
        let reviews = (0..rng.below(4))
            .map(|_| LOGINS[rng.below(3) as usize].to_string())
            .collect();
        items.push((
            created,
            Item::Pull(FakePull {
                number: 0,
                title: format!("pull {k} of {name}"),
                author_type: if bot { "Bot" } else { "User" }.into(),
                author,
                created,
                updated: closed.unwrap_or(created + SignedDuration::from_hours(1)),
                merged,
                closed,
                additions: rng.below(500),
                deletions: rng.below(200),
                reviews,
                // Bots' pull requests are labelled, as dependabot labels its own.
                labels: if bot {
                    vec!["dependencies".into()]
                } else {
                    Vec::new()
                },
            }),
        ));
    }
    for k in 0..7 {
        let created = day(rng.below(DATA_DAYS as u64) as i64)
            + SignedDuration::from_hours(9 + rng.below(8) as i64);
        let closed =
            (k % 2 == 1).then(|| created + SignedDuration::from_hours(2 + rng.below(96) as i64));
        let bot = k == 5;
        items.push((
            created,
            Item::Issue(FakeIssue {
                number: 0,
                title: format!("issue {k} of {name}"),
                author_type: if bot { "Bot" } else { "User" }.into(),
                author: if bot {
                    "renovate".into()
                } else {
                    LOGINS[rng.below(3) as usize].into()
                },
                created,
                updated: closed.unwrap_or(created + SignedDuration::from_mins(30)),
                closed,
            }),
        ));
    }
    items.sort_by_key(|(created, _)| *created);
    let (mut pulls, mut issues) = (Vec::new(), Vec::new());
    for (number, (_, item)) in items.into_iter().enumerate() {
        match item {
            Item::Pull(mut pull) => {
                pull.number = number as u64 + 1;
                pulls.push(pull);
            }
            Item::Issue(mut issue) => {
                issue.number = number as u64 + 1;
                issues.push(issue);
            }
        }
    }
    let mut releases = Vec::new();
    for w in 0..DATA_DAYS / 7 {
        let created = day(w * 7 + 3) + SignedDuration::from_hours(10);
        releases.push(FakeRelease {
            tag: format!("v0.{w}.0"),
            name: format!("Release 0.{w}"),
            author: LOGINS[(w % 3) as usize].into(),
            created,
            published: Some(created + SignedDuration::from_hours(1)),
            prerelease: false,
            draft: false,
        });
    }
    // The fourth week also has a release candidate and a draft.
    let created = day(22) + SignedDuration::from_hours(15);
    releases.push(FakeRelease {
        tag: "v0.4.0-rc.1".into(),
        name: String::new(),
        author: "cleo".into(),
        created,
        published: Some(created),
        prerelease: true,
        draft: false,
    });
    releases.push(FakeRelease {
        tag: "v0.9.0".into(),
        name: "Unfinished".into(),
        author: "ann".into(),
        created: created + SignedDuration::from_hours(1),
        published: None,
        prerelease: false,
        draft: true,
    });
    let pushed_at = commits
        .first()
        .map_or(start, |c| c.committed + SignedDuration::from_mins(5));
    FakeRepo {
        name,
        private: index % 4 == 3,
        archived: false,
        fork: false,
        hidden: false,
        fail: false,
        created: at("2025-01-01T00:00:00Z") + SignedDuration::from_hours(index as i64),
        pushed_at,
        commits,
        pulls,
        issues,
        releases,
    }
}

// ---------------------------------------------------------------------------------------
// The server and its handle.

#[derive(Debug, Clone, Copy)]
struct Bucket {
    limit: u64,
    remaining: u64,
    used: u64,
    reset: i64,
}

impl Bucket {
    fn new(limit: u64, now: i64) -> Bucket {
        Bucket {
            limit,
            remaining: limit,
            used: 0,
            reset: now + 3600,
        }
    }

    fn refresh(&mut self, now: i64) {
        if self.reset <= now {
            *self = Bucket::new(self.limit, now);
        }
    }

    fn spend(&mut self, points: u64) {
        self.remaining = self.remaining.saturating_sub(points);
        self.used += points;
    }
}

struct World {
    org: String,
    token: String,
    clone_base: String,
    repos: Vec<FakeRepo>,
    core: Bucket,
    graphql: Bucket,
    exhausted_until: Option<i64>,
    /// The next requests refused, and how many.
    refusal: Option<(Refusal, u32)>,
    requests: u64,
    not_modified: u64,
    points: u64,
    graphql_queries: u64,
    refused: u64,
    log: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

/// A rate-limit refusal, in a form GitHub is known to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// GraphQL: 200 with an error of this `type` (`RATE_LIMITED` as documented,
    /// `RATE_LIMIT` as GitHub sends since 2026) and code `graphql_rate_limit`. `spent`:
    /// the headers say `x-ratelimit-remaining: 0`; otherwise 1 is left (the query costs
    /// more). The window resets in a second.
    GraphQl { kind: &'static str, spent: bool },
    /// Any request: this status (403 or 429) with `retry-after: 1`, a secondary limit.
    RetryAfter(u16),
    /// REST: 403 with `x-ratelimit-remaining: 0`, the window resetting in a second (a
    /// spent quota; GraphQL says so with a 200, the first form).
    Spent,
}

/// The fake's handle; the server stops when it is dropped.
pub struct FakeGitHub {
    world: Shared,
    server: Server,
}

impl FakeGitHub {
    /// An organisation `org` with `repos` repositories (`repo-00`, `repo-01`, ...; every
    /// fourth private), served on its own thread: usable from any test or bench.
    pub fn start(org: &str, repos: usize) -> FakeGitHub {
        let now = Timestamp::now().as_second();
        let world = World {
            org: org.into(),
            token: TOKEN.into(),
            clone_base: "https://github.com".into(),
            repos: (0..repos).map(|index| generate(org, index)).collect(),
            core: Bucket::new(REST_LIMIT, now),
            graphql: Bucket::new(GRAPHQL_LIMIT, now),
            exhausted_until: None,
            refusal: None,
            requests: 0,
            not_modified: 0,
            points: 0,
            graphql_queries: 0,
            refused: 0,
            log: Vec::new(),
        };
        let world = Arc::new(Mutex::new(world));
        let server = Listener::bind().serve_on_thread(
            "fake-github",
            Router::new().fallback(handle).with_state(world.clone()),
        );
        FakeGitHub { world, server }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn repo_mut<R>(&self, name: &str, change: impl FnOnce(&mut FakeRepo) -> R) -> R {
        let mut world = self.world();
        let repo = world
            .repos
            .iter_mut()
            .find(|repo| repo.name == name)
            .unwrap_or_else(|| panic!("the fake has no repository {name}"));
        change(repo)
    }

    /// The REST base (`github.api_url`); GraphQL is at `<url>/graphql`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The valid token.
    pub fn token(&self) -> String {
        self.world().token.clone()
    }

    pub fn org(&self) -> String {
        self.world().org.clone()
    }

    /// Every repository's name (without the owner), hidden ones included.
    pub fn repo_names(&self) -> Vec<String> {
        self.world().repos.iter().map(|r| r.name.clone()).collect()
    }

    /// A copy of one repository's data.
    pub fn repo(&self, name: &str) -> FakeRepo {
        self.repo_mut(name, |repo| repo.clone())
    }

    /// Requests received, every kind.
    pub fn requests(&self) -> u64 {
        self.world().requests
    }

    /// `304 Not Modified` answers.
    pub fn not_modified(&self) -> u64 {
        self.world().not_modified
    }

    /// GraphQL points charged.
    pub fn points(&self) -> u64 {
        self.world().points
    }

    pub fn graphql_queries(&self) -> u64 {
        self.world().graphql_queries
    }

    /// Requests refused for a rate limit (primary or secondary).
    pub fn rate_limited(&self) -> u64 {
        self.world().refused
    }

    /// `METHOD path?query` of every request, in order.
    pub fn log(&self) -> Vec<String> {
        self.world().log.clone()
    }

    /// Zeroes the counters and the log (not the rate limits).
    pub fn reset_counts(&self) {
        let mut world = self.world();
        world.requests = 0;
        world.not_modified = 0;
        world.points = 0;
        world.graphql_queries = 0;
        world.refused = 0;
        world.log.clear();
    }

    /// Both rate limits (REST and GraphQL) are spent until `until`.
    pub fn exhaust_until(&self, until: Timestamp) {
        self.world().exhausted_until = Some(until.as_second());
    }

    /// The next `requests` requests the form applies to are refused in this form.
    pub fn refuse(&self, refusal: Refusal, requests: u32) {
        self.world().refusal = Some((refusal, requests));
    }

    /// GitHub gives no changed-file count for this commit, as for a very large one.
    pub fn hide_file_count(&self, name: &str, oid: &str) {
        self.repo_mut(name, |repo| {
            let commit = repo.commits.iter_mut().find(|c| c.oid == oid);
            commit.expect("the commit is in the repository").files = None;
        });
    }

    /// GraphQL answers errors for this repository.
    pub fn fail(&self, name: &str) {
        self.repo_mut(name, |repo| repo.fail = true);
    }

    /// The token loses access to this repository (it stays private and exists).
    pub fn hide(&self, name: &str) {
        self.repo_mut(name, |repo| {
            repo.hidden = true;
            repo.private = true;
        });
    }

    pub fn archive(&self, name: &str) {
        self.repo_mut(name, |repo| repo.archived = true);
    }

    pub fn set_private(&self, name: &str, private: bool) {
        self.repo_mut(name, |repo| repo.private = private);
    }

    pub fn set_fork(&self, name: &str, fork: bool) {
        self.repo_mut(name, |repo| repo.fork = fork);
    }

    /// `clone_url`s become `<base>/<org>/<name>.git` (default `https://github.com`).
    pub fn set_clone_base(&self, base: &str) {
        self.world().clone_base = base.trim_end_matches('/').into();
    }

    /// A push of one commit dated `committed` to the default branch: `pushed_at` moves.
    pub fn push_at(&self, name: &str, committed: Timestamp) -> FakeCommit {
        let org = self.org();
        self.repo_mut(name, |repo| {
            let serial = 10_000 + repo.commits.len() as u64;
            let mut rng = Rng(serial);
            let mut commit = make_commit(&org, &repo.name, serial, committed, &mut rng);
            commit.parents = 1;
            repo.commits.push(commit.clone());
            repo.commits
                .sort_by_key(|commit| std::cmp::Reverse(commit.committed));
            repo.pushed_at = Timestamp::now().max(repo.pushed_at + SignedDuration::from_secs(1));
            commit
        })
    }

    /// A push of one commit in [`day`] (and so in [`week`]).
    pub fn push(&self, name: &str) -> FakeCommit {
        self.push_at(name, day().since + SignedDuration::from_hours(20))
    }

    /// `count` commits pushed in [`day`]: more than a page of history.
    pub fn push_many(&self, name: &str, count: usize) {
        for n in 0..count {
            self.push_at(
                name,
                day().since
                    + SignedDuration::from_hours(1)
                    + SignedDuration::from_secs(n as i64 * 7),
            );
        }
    }

    /// A pull request by `login` (one of the organisation's people) labelled `labels`,
    /// opened and squash-merged in [`day`] as one commit `title (#N)`: its number and the
    /// commit.
    pub fn merge_pull(
        &self,
        name: &str,
        title: &str,
        login: &str,
        labels: &[&str],
    ) -> (u64, FakeCommit) {
        let org = self.org();
        let (person, email, _) = PEOPLE
            .into_iter()
            .find(|(_, _, known)| *known == Some(login))
            .expect("one of the organisation's people");
        self.repo_mut(name, |repo| {
            let numbers = repo.pulls.iter().map(|p| p.number);
            let number = 1 + numbers
                .chain(repo.issues.iter().map(|i| i.number))
                .max()
                .unwrap_or(0);
            let merged = day().since + SignedDuration::from_hours(12 + number as i64 % 6);
            let commit = FakeCommit {
                oid: oid(&format!("{org}/{name}/pull/{number}")),
                committed: merged,
                authored: merged.to_string(),
                headline: format!("{title} (#{number})"),
                additions: 40 + number,
                deletions: 4,
                files: Some(2),
                parents: 1,
                name: person.into(),
                email: email.into(),
                login: Some(login.into()),
            };
            repo.pulls.push(FakePull {
                number,
                title: title.into(),
                author_type: "User".into(),
                author: login.into(),
                created: merged - SignedDuration::from_hours(5),
                updated: merged,
                merged: Some(merged),
                closed: Some(merged),
                additions: commit.additions,
                deletions: commit.deletions,
                reviews: Vec::new(),
                labels: labels.iter().map(|l| l.to_string()).collect(),
            });
            repo.commits.push(commit.clone());
            repo.commits
                .sort_by_key(|commit| std::cmp::Reverse(commit.committed));
            repo.pushed_at = Timestamp::now().max(repo.pushed_at + SignedDuration::from_secs(1));
            (number, commit)
        })
    }

    /// `count` releases created and published in [`day`], a second apart: more pages of
    /// releases than the client follows when `count` is large.
    pub fn release_many(&self, name: &str, count: usize) {
        self.repo_mut(name, |repo| {
            for n in 0..count {
                let at = day().since
                    + SignedDuration::from_hours(2)
                    + SignedDuration::from_secs(n as i64);
                repo.releases.push(FakeRelease {
                    tag: format!("v0.0.{n}"),
                    name: format!("Bulk {n}"),
                    author: "ann".into(),
                    created: at,
                    published: Some(at),
                    prerelease: false,
                    draft: false,
                });
            }
            repo.pushed_at = Timestamp::now().max(repo.pushed_at + SignedDuration::from_secs(1));
        });
    }

    /// What the period holds in repository `name`.
    pub fn truth(&self, name: &str, period: &Period) -> Truth {
        let repo = self.repo(name);
        let inside = |t: Timestamp| period.since <= t && t < period.until;
        let mut truth = Truth::default();
        for commit in repo.commits.iter().filter(|c| inside(c.committed)) {
            truth.commits.push(commit.oid.clone());
            if commit.parents > 1 {
                truth.merges += 1;
            } else {
                truth.additions += commit.additions;
                truth.deletions += commit.deletions;
            }
            truth.bot_commits += usize::from(commit.name.contains("[bot]"));
        }
        truth.pulls = repo
            .pulls
            .iter()
            .filter(|p| {
                inside(p.created) || p.merged.is_some_and(inside) || p.closed.is_some_and(inside)
            })
            .map(|p| p.number)
            .collect();
        truth.issues = repo
            .issues
            .iter()
            .filter(|i| inside(i.created) || i.closed.is_some_and(inside))
            .map(|i| i.number)
            .collect();
        truth.releases = repo
            .releases
            .iter()
            .filter(|r| !r.draft && r.published.is_some_and(inside))
            .map(|r| r.tag.clone())
            .collect();
        truth
    }
}

// ---------------------------------------------------------------------------------------
// Answers.

struct Answer {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Some(body.to_string()),
        }
    }

    fn message(status: StatusCode, message: &str) -> Answer {
        Answer::json(
            status,
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string() }),
        )
    }
}

async fn handle(State(world): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut world = world.lock().unwrap_or_else(|e| e.into_inner());
    let now = Timestamp::now().as_second();
    world.requests += 1;
    let target = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    world.log.push(format!("{} {target}", parts.method));
    let graphql = parts.method == Method::POST && parts.uri.path() == "/graphql";
    let resource = if graphql { "graphql" } else { "core" };

    let answer = answer(
        &mut world,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        now,
        graphql,
    );
    let bucket = if graphql { world.graphql } else { world.core };
    let (remaining, reset) = match world.exhausted_until {
        Some(until) => (0, until),
        None => (bucket.remaining, bucket.reset),
    };
    let mut response = Response::builder().status(answer.status);
    let headers = response.headers_mut().unwrap();
    let mut put = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    put("x-ratelimit-limit", bucket.limit.to_string());
    put("x-ratelimit-remaining", remaining.to_string());
    put("x-ratelimit-reset", reset.to_string());
    put("x-ratelimit-used", bucket.used.to_string());
    put("x-ratelimit-resource", resource.to_string());
    put("x-github-api-version-selected", "2022-11-28".to_string());
    if answer.body.is_some() {
        put(
            "content-type",
            "application/json; charset=utf-8".to_string(),
        );
    }
    for (name, value) in answer.headers {
        put(name, value);
    }
    response
        .body(answer.body.map_or_else(Body::empty, Body::from))
        .unwrap()
}

fn answer(
    world: &mut World,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    graphql: bool,
) -> Answer {
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let token = authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("token "));
    match token {
        None => return Answer::message(StatusCode::UNAUTHORIZED, "Requires authentication"),
        Some(token) if token != world.token => {
            return Answer::message(StatusCode::UNAUTHORIZED, "Bad credentials");
        }
        Some(_) => {}
    }
    world.core.refresh(now);
    world.graphql.refresh(now);
    if world.exhausted_until.is_some_and(|until| until <= now) {
        world.exhausted_until = None;
        world.core = Bucket::new(REST_LIMIT, now);
        world.graphql = Bucket::new(GRAPHQL_LIMIT, now);
    }
    if let Some(answer) = refusal(world, graphql, now) {
        return answer;
    }
    let bucket = if graphql { world.graphql } else { world.core };
    let exhausted = world.exhausted_until.is_some() || bucket.remaining == 0;
    if exhausted {
        world.refused += 1;
        return if graphql {
            Answer::json(
                StatusCode::OK,
                json!({ "errors": [{ "type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": "API rate limit already exceeded for user ID 1." }] }),
            )
        } else {
            Answer::message(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
            )
        };
    }
    if graphql {
        return graphql_answer(world, body);
    }
    if *method != Method::GET {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    }
    let query: HashMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let base = format!(
        "http://{}",
        headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
    );
    let found = match segments.as_slice() {
        ["orgs", org, "repos"] if org.eq_ignore_ascii_case(&world.org) => {
            Some(org_page(world, &query, &base))
        }
        ["organizations", id, "repos"] if *id == ORG_ID.to_string() => {
            Some(org_page(world, &query, &base))
        }
        ["repos", owner, name] if owner.eq_ignore_ascii_case(&world.org) => world
            .repos
            .iter()
            .find(|repo| repo.name.eq_ignore_ascii_case(name) && !repo.hidden)
            .map(|repo| (rest_repo(&world.org, &world.clone_base, &base, repo), None)),
        _ => None,
    };
    world.core.spend(1);
    let Some((body, next)) = found else {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    };
    let text = body.to_string();
    let etag = format!(
        "W/\"{}\"",
        &hex::encode(Sha256::digest(text.as_bytes()))[..32]
    );
    let matches = headers
        .get("if-none-match")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let mut answer = if matches {
        // Free: give back the request's point.
        world.core.remaining += 1;
        world.core.used -= 1;
        world.not_modified += 1;
        Answer {
            status: StatusCode::NOT_MODIFIED,
            headers: Vec::new(),
            body: None,
        }
    } else {
        Answer {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Some(text),
        }
    };
    answer.headers.push(("etag", etag));
    if let Some(link) = next {
        answer.headers.push(("link", link));
    }
    answer
}

/// The answer of a request [`FakeGitHub::refuse`] refuses.
fn refusal(world: &mut World, graphql: bool, now: i64) -> Option<Answer> {
    let (refusal, left) = world.refusal?;
    let applies = match refusal {
        Refusal::GraphQl { .. } => graphql,
        Refusal::Spent => !graphql,
        Refusal::RetryAfter(_) => true,
    };
    if left == 0 || !applies {
        return None;
    }
    world.refusal = Some((refusal, left - 1));
    world.refused += 1;
    let reset = ("x-ratelimit-reset", (now + 1).to_string());
    let answer = match refusal {
        Refusal::GraphQl { kind, spent } => {
            let mut answer = Answer::json(
                StatusCode::OK,
                json!({ "errors": [{ "type": kind, "code": "graphql_rate_limit", "message": "API rate limit already exceeded for user ID 1." }] }),
            );
            let remaining = if spent { "0" } else { "1" };
            answer
                .headers
                .extend([("x-ratelimit-remaining", remaining.into()), reset]);
            answer
        }
        Refusal::RetryAfter(status) => {
            let mut answer = Answer::message(
                StatusCode::from_u16(status).expect("a status"),
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            answer.headers.push(("retry-after", "1".into()));
            answer
        }
        Refusal::Spent => {
            let mut answer = Answer::message(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
            );
            answer
                .headers
                .extend([("x-ratelimit-remaining", "0".into()), reset]);
            answer
        }
    };
    Some(answer)
}

/// One page of the organisation's visible repositories and its `Link` header.
fn org_page(world: &World, query: &HashMap<String, String>, base: &str) -> (Value, Option<String>) {
    let per_page: usize = query
        .get("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let visible: Vec<&FakeRepo> = world.repos.iter().filter(|repo| !repo.hidden).collect();
    let pages = visible.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = visible
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|repo| rest_repo(&world.org, &world.clone_base, base, repo))
        .collect();
    let kind = query.get("type").cloned().unwrap_or_else(|| "all".into());
    let link_to = |n: usize| {
        format!("<{base}/organizations/{ORG_ID}/repos?per_page={per_page}&type={kind}&page={n}>")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    (
        Value::Array(items),
        (!links.is_empty()).then(|| links.join(", ")),
    )
}

fn rest_repo(org: &str, clone_base: &str, base: &str, repo: &FakeRepo) -> Value {
    let full_name = format!("{org}/{}", repo.name);
    json!({
        "id": 100_000 + repo.created.as_second() % 100_000,
        "node_id": format!("R_{}", &oid(&full_name)[..12]),
        "name": repo.name,
        "full_name": full_name,
        "private": repo.private,
        "owner": { "login": org, "id": ORG_ID, "type": "Organization" },
        "html_url": format!("https://github.com/{full_name}"),
        "description": null,
        "fork": repo.fork,
        "url": format!("{base}/repos/{full_name}"),
        "clone_url": format!("{clone_base}/{full_name}.git"),
        "default_branch": "main",
        "archived": repo.archived,
        "disabled": false,
        "visibility": if repo.private { "private" } else { "public" },
        "created_at": repo.created.to_string(),
        "updated_at": repo.pushed_at.to_string(),
        "pushed_at": repo.pushed_at.to_string(),
    })
}

// ---------------------------------------------------------------------------------------
// GraphQL.

fn graphql_answer(world: &mut World, body: &[u8]) -> Answer {
    world.graphql_queries += 1;
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(_) => return Answer::message(StatusCode::BAD_REQUEST, "Problems parsing JSON"),
    };
    let errors = |messages: Vec<String>| {
        Answer::json(
            StatusCode::OK,
            json!({ "errors": messages.into_iter().map(|m| json!({ "message": m })).collect::<Vec<_>>() }),
        )
    };
    let Some(text) = request.get("query").and_then(Value::as_str) else {
        return errors(vec![
            "A query attribute must be specified and must be a string.".into(),
        ]);
    };
    let variables = request.get("variables").cloned().unwrap_or(json!({}));
    let document = match Parser::new(text).and_then(|mut parser| parser.document()) {
        Ok(document) => document,
        Err(message) => return errors(vec![message]),
    };
    if let Err(messages) = document.check_variables(&variables) {
        return errors(messages);
    }
    let cost = match query_cost(&document.selection, &variables) {
        Ok(cost) => cost,
        Err(message) => return errors(vec![message]),
    };
    if world.graphql.remaining < cost {
        world.refused += 1;
        return Answer::json(
            StatusCode::OK,
            json!({ "errors": [{ "type": "RATE_LIMITED", "message": "API rate limit exceeded" }] }),
        );
    }
    let resolver = Resolver {
        world: &*world,
        variables: &variables,
    };
    let mut data = serde_json::Map::new();
    let mut errors_out = Vec::new();
    for field in flatten(&document.selection, "Query") {
        let key = field.key().to_string();
        match field.name.as_str() {
            "rateLimit" => {} // after the charge, below
            "repository" => match resolver.repository(field) {
                Ok(Found::Data(value)) => {
                    data.insert(key, value);
                }
                Ok(Found::Missing(error)) => {
                    data.insert(key, Value::Null);
                    errors_out.push(error);
                }
                Ok(Found::Failed) => {
                    return Answer::json(
                        StatusCode::OK,
                        json!({ "errors": [{ "message": "Something went wrong while executing your query. Please include `0C80:1B2E:9F3A1:A2B3C4:6760B1E2` when reporting this issue." }] }),
                    );
                }
                Err(message) => return errors(vec![message]),
            },
            "viewer" => {
                let viewer = json!({ "__typename": "User", "login": "raibid-bot" });
                match project(&viewer, &field.selection, "User") {
                    Ok(value) => {
                        data.insert(key, value);
                    }
                    Err(message) => return errors(vec![message]),
                }
            }
            other => {
                return errors(vec![format!(
                    "Field '{other}' doesn't exist on type 'Query'"
                )]);
            }
        }
    }
    world.graphql.spend(cost);
    world.points += cost;
    for field in flatten(&document.selection, "Query") {
        if field.name == "rateLimit" {
            let rate = json!({
                "__typename": "RateLimit",
                "cost": cost,
                "limit": world.graphql.limit,
                "nodeCount": 0,
                "remaining": world.graphql.remaining,
                "resetAt": Timestamp::from_second(world.graphql.reset).unwrap().to_string(),
                "used": world.graphql.used,
            });
            match project(&rate, &field.selection, "RateLimit") {
                Ok(value) => {
                    data.insert(field.key().to_string(), value);
                }
                Err(message) => return errors(vec![message]),
            }
        }
    }
    let mut answer = json!({ "data": data });
    if !errors_out.is_empty() {
        answer["errors"] = Value::Array(errors_out);
    }
    Answer::json(StatusCode::OK, answer)
}

enum Found {
    Data(Value),
    Missing(Value),
    Failed,
}

struct Resolver<'a> {
    world: &'a World,
    variables: &'a Value,
}

impl Resolver<'_> {
    fn repository(&self, field: &Field) -> Result<Found, String> {
        let args = field.args(self.variables);
        let owner = args.get("owner").and_then(Value::as_str).unwrap_or("");
        let name = args.get("name").and_then(Value::as_str).unwrap_or("");
        let repo = self.world.repos.iter().find(|repo| {
            owner.eq_ignore_ascii_case(&self.world.org)
                && repo.name.eq_ignore_ascii_case(name)
                && !repo.hidden
        });
        let Some(repo) = repo else {
            return Ok(Found::Missing(json!({
                "type": "NOT_FOUND",
                "path": [field.key()],
                "locations": [{ "line": 1, "column": 1 }],
                "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
            })));
        };
        if repo.fail {
            return Ok(Found::Failed);
        }
        let full_name = format!("{}/{}", self.world.org, repo.name);
        let mut out = serde_json::Map::new();
        for field in flatten(&field.selection, "Repository") {
            let value = match field.name.as_str() {
                "defaultBranchRef" => self.default_branch(repo, field)?,
                "pullRequests" => {
                    let args = field.args(self.variables);
                    let mut pulls: Vec<&FakePull> = repo.pulls.iter().collect();
                    if let Some(states) = args.get("states").and_then(Value::as_array) {
                        pulls.retain(|p| {
                            let state = match (p.merged, p.closed) {
                                (Some(_), _) => "MERGED",
                                (None, Some(_)) => "CLOSED",
                                _ => "OPEN",
                            };
                            states.iter().any(|s| s == state)
                        });
                    }
                    order(
                        &mut pulls,
                        &args,
                        |p| (p.created, p.updated),
                        ("CREATED_AT", "ASC"),
                    );
                    let nodes = pulls.iter().map(|p| pull_json(&full_name, p)).collect();
                    connection(nodes, field, self.variables, "PullRequest")?
                }
                "issues" => {
                    let args = field.args(self.variables);
                    let mut issues: Vec<&FakeIssue> = repo.issues.iter().collect();
                    if let Some(since) = args.pointer("/filterBy/since").and_then(Value::as_str) {
                        let since: Timestamp =
                            since.parse().map_err(|_| format!("bad since {since}"))?;
                        issues.retain(|i| i.updated >= since);
                    }
                    order(
                        &mut issues,
                        &args,
                        |i| (i.created, i.updated),
                        ("CREATED_AT", "ASC"),
                    );
                    let nodes = issues.iter().map(|i| issue_json(&full_name, i)).collect();
                    connection(nodes, field, self.variables, "Issue")?
                }
                "releases" => {
                    let args = field.args(self.variables);
                    let mut releases: Vec<&FakeRelease> = repo.releases.iter().collect();
                    order(
                        &mut releases,
                        &args,
                        |r| (r.created, r.created),
                        ("CREATED_AT", "DESC"),
                    );
                    let nodes = releases
                        .iter()
                        .map(|r| release_json(&full_name, r))
                        .collect();
                    connection(nodes, field, self.variables, "Release")?
                }
                _ => {
                    let scalars = json!({
                        "__typename": "Repository",
                        "name": repo.name,
                        "nameWithOwner": full_name,
                        "url": format!("https://github.com/{full_name}"),
                        "isPrivate": repo.private,
                        "isArchived": repo.archived,
                        "pushedAt": repo.pushed_at.to_string(),
                    });
                    let value = scalars.get(&field.name).ok_or_else(|| {
                        format!("Field '{}' doesn't exist on type 'Repository'", field.name)
                    })?;
                    project(value, &field.selection, "Repository")?
                }
            };
            out.insert(field.key().to_string(), value);
        }
        Ok(Found::Data(Value::Object(out)))
    }

    fn default_branch(&self, repo: &FakeRepo, field: &Field) -> Result<Value, String> {
        let Some(head) = repo.commits.first() else {
            return Ok(Value::Null);
        };
        let mut out = serde_json::Map::new();
        for field in flatten(&field.selection, "Ref") {
            let value = match field.name.as_str() {
                "__typename" => json!("Ref"),
                "name" => json!("main"),
                "prefix" => json!("refs/heads/"),
                "target" => {
                    let mut target = serde_json::Map::new();
                    for field in flatten(&field.selection, "Commit") {
                        let value = match field.name.as_str() {
                            "history" => {
                                let args = field.args(self.variables);
                                let time = |key: &str| -> Result<Option<Timestamp>, String> {
                                    args.get(key)
                                        .and_then(Value::as_str)
                                        .map(|t| t.parse().map_err(|_| format!("Argument '{key}' on Field 'history' has an invalid value ({t}).")))
                                        .transpose()
                                };
                                let (since, until) = (time("since")?, time("until")?);
                                let nodes = repo
                                    .commits
                                    .iter()
                                    .filter(|c| since.is_none_or(|s| c.committed >= s))
                                    .filter(|c| until.is_none_or(|u| c.committed <= u))
                                    .map(commit_json)
                                    .collect();
                                connection(nodes, field, self.variables, "Commit")?
                            }
                            _ => project_field(&commit_json(head), field, "Commit")?,
                        };
                        target.insert(field.key().to_string(), value);
                    }
                    Value::Object(target)
                }
                other => return Err(format!("Field '{other}' doesn't exist on type 'Ref'")),
            };
            out.insert(field.key().to_string(), value);
        }
        Ok(Value::Object(out))
    }
}

/// Sorts by `orderBy: {field, direction}` (`CREATED_AT` or `UPDATED_AT`).
fn order<T>(
    items: &mut [&T],
    args: &Value,
    times: impl Fn(&T) -> (Timestamp, Timestamp),
    default: (&str, &str),
) {
    let field = args
        .pointer("/orderBy/field")
        .and_then(Value::as_str)
        .unwrap_or(default.0);
    let direction = args
        .pointer("/orderBy/direction")
        .and_then(Value::as_str)
        .unwrap_or(default.1);
    items.sort_by_key(|item| {
        let (created, updated) = times(item);
        if field == "UPDATED_AT" {
            updated
        } else {
            created
        }
    });
    if direction == "DESC" {
        items.reverse();
    }
}

fn actor(kind: &str, login: &str) -> Value {
    json!({ "__typename": kind, "login": login, "url": format!("https://github.com/{login}") })
}

fn commit_json(commit: &FakeCommit) -> Value {
    json!({
        "__typename": "Commit",
        "oid": commit.oid,
        "abbreviatedOid": &commit.oid[..7],
        "committedDate": commit.committed.to_string(),
        "authoredDate": commit.authored,
        "messageHeadline": commit.headline,
        "additions": commit.additions,
        "deletions": commit.deletions,
        "changedFilesIfAvailable": commit.files,
        "parents": { "__typename": "CommitConnection", "totalCount": commit.parents },
        "author": {
            "__typename": "GitActor",
            "name": commit.name,
            "email": commit.email,
            "date": commit.authored,
            "user": commit.login.as_deref().map(|login| actor("User", login)),
        },
    })
}

fn pull_json(full_name: &str, pull: &FakePull) -> Value {
    let reviews: Vec<Value> = pull
        .reviews
        .iter()
        .map(|login| json!({ "__typename": "PullRequestReview", "author": actor("User", login), "state": "APPROVED" }))
        .collect();
    let labels: Vec<Value> = pull
        .labels
        .iter()
        .map(|name| json!({ "__typename": "Label", "name": name, "color": "ededed" }))
        .collect();
    json!({
        "__typename": "PullRequest",
        "number": pull.number,
        "title": pull.title,
        "url": format!("https://github.com/{full_name}/pull/{}", pull.number),
        "createdAt": pull.created.to_string(),
        "updatedAt": pull.updated.to_string(),
        "mergedAt": pull.merged.map(|t| t.to_string()),
        "closedAt": pull.closed.map(|t| t.to_string()),
        "merged": pull.merged.is_some(),
        "state": match (pull.merged, pull.closed) { (Some(_), _) => "MERGED", (None, Some(_)) => "CLOSED", _ => "OPEN" },
        "additions": pull.additions,
        "deletions": pull.deletions,
        "author": actor(&pull.author_type, &pull.author),
        "reviews": { "__typename": "PullRequestReviewConnection", "totalCount": reviews.len(), "nodes": reviews },
        "labels": { "__typename": "LabelConnection", "totalCount": labels.len(), "nodes": labels },
    })
}

fn issue_json(full_name: &str, issue: &FakeIssue) -> Value {
    json!({
        "__typename": "Issue",
        "number": issue.number,
        "title": issue.title,
        "url": format!("https://github.com/{full_name}/issues/{}", issue.number),
        "createdAt": issue.created.to_string(),
        "updatedAt": issue.updated.to_string(),
        "closedAt": issue.closed.map(|t| t.to_string()),
        "state": if issue.closed.is_some() { "CLOSED" } else { "OPEN" },
        "author": actor(&issue.author_type, &issue.author),
    })
}

fn release_json(full_name: &str, release: &FakeRelease) -> Value {
    json!({
        "__typename": "Release",
        "tagName": release.tag,
        "name": release.name,
        "url": format!("https://github.com/{full_name}/releases/tag/{}", release.tag),
        "createdAt": release.created.to_string(),
        "publishedAt": release.published.map(|t| t.to_string()),
        "isPrerelease": release.prerelease,
        "isDraft": release.draft,
        "author": actor("User", &release.author),
    })
}

/// A page of `nodes` per the field's `first`/`after`, projected on its selection.
fn connection(
    nodes: Vec<Value>,
    field: &Field,
    variables: &Value,
    kind: &str,
) -> Result<Value, String> {
    let args = field.args(variables);
    let first = connection_size(field, &args)?;
    let offset = match args.get("after").and_then(Value::as_str) {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix("cursor:")
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| n + 1)
            .ok_or_else(|| format!("`{cursor}` does not appear to be a valid cursor."))?,
    };
    let total = nodes.len();
    let page: Vec<Value> = nodes.into_iter().skip(offset).take(first).collect();
    let end = offset + page.len();
    let cursor = |n: usize| json!(format!("cursor:{n}"));
    let full = json!({
        "__typename": format!("{kind}Connection"),
        "totalCount": total,
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": end < total,
            "hasPreviousPage": offset > 0,
            "startCursor": if page.is_empty() { Value::Null } else { cursor(offset) },
            "endCursor": if page.is_empty() { Value::Null } else { cursor(end - 1) },
        },
        "edges": page.iter().enumerate().map(|(i, node)| json!({ "cursor": cursor(offset + i), "node": node })).collect::<Vec<_>>(),
        "nodes": page,
    });
    project(&full, &field.selection, &format!("{kind}Connection"))
}

fn connection_size(field: &Field, args: &Value) -> Result<usize, String> {
    let size = args
        .get("first")
        .or_else(|| args.get("last"))
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            format!(
                "You must provide a `first` or `last` value to properly paginate the `{}` connection.",
                field.name
            )
        })?;
    if size > 100 {
        return Err(format!(
            "Requesting {size} records on the `{}` connection exceeds the `first` limit of 100 records.",
            field.name
        ));
    }
    Ok(size as usize)
}

/// GitHub's rule: every connection costs one request per parent it may be fetched for
/// (the product of the enclosing connections' sizes); the sum / 100, rounded, at least 1.
fn query_cost(selection: &[Selection], variables: &Value) -> Result<u64, String> {
    fn requests(selection: &[Selection], parents: u64, variables: &Value) -> Result<u64, String> {
        let mut total = 0;
        for item in selection {
            match item {
                Selection::Inline { selection, .. } => {
                    total += requests(selection, parents, variables)?
                }
                Selection::Field(field) => {
                    let args = field.args(variables);
                    if args.get("first").is_some() || args.get("last").is_some() {
                        let size = connection_size(field, &args)? as u64;
                        total += parents + requests(&field.selection, parents * size, variables)?;
                    } else {
                        total += requests(&field.selection, parents, variables)?;
                    }
                }
            }
        }
        Ok(total)
    }
    let requests = requests(selection, 1, variables)?;
    Ok(((requests as f64 / 100.0).round() as u64).max(1))
}

/// Projects a full JSON value on a selection: only the fields asked for, under their
/// aliases; unknown fields are errors, as on GitHub.
fn project(value: &Value, selection: &[Selection], kind: &str) -> Result<Value, String> {
    if selection.is_empty() {
        return Ok(value.clone());
    }
    match value {
        Value::Null => Ok(Value::Null),
        Value::Array(items) => items
            .iter()
            .map(|item| project(item, selection, kind))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(object) => {
            let kind = object
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or(kind);
            let mut out = serde_json::Map::new();
            for field in flatten(selection, kind) {
                out.insert(field.key().to_string(), project_field(value, field, kind)?);
            }
            Ok(Value::Object(out))
        }
        _ => Err(format!(
            "Selections can't be made on scalars (type '{kind}')"
        )),
    }
}

fn project_field(object: &Value, field: &Field, kind: &str) -> Result<Value, String> {
    let value = object
        .get(&field.name)
        .ok_or_else(|| format!("Field '{}' doesn't exist on type '{kind}'", field.name))?;
    project(value, &field.selection, &field.name)
}

/// The fields of a selection, inline fragments on `kind` (or without a type) merged in.
fn flatten<'a>(selection: &'a [Selection], kind: &str) -> Vec<&'a Field> {
    let mut fields = Vec::new();
    for item in selection {
        match item {
            Selection::Field(field) => fields.push(field),
            Selection::Inline { on, selection } => {
                if on.as_deref().is_none_or(|on| on == kind) {
                    fields.extend(flatten(selection, kind));
                }
            }
        }
    }
    fields
}

// A small GraphQL parser: operations with variables, fields with aliases and arguments,
// inline fragments. Enough to answer the queries a client sends, and to refuse bad ones.

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Var(String),
    Str(String),
    Num(String),
    Punct(char),
    Spread,
}

#[derive(Debug, Clone)]
enum GqlValue {
    Var(String),
    Str(String),
    Num(String),
    Name(String),
    List(Vec<GqlValue>),
    Object(Vec<(String, GqlValue)>),
}

impl GqlValue {
    fn eval(&self, variables: &Value) -> Value {
        match self {
            GqlValue::Var(name) => variables.get(name).cloned().unwrap_or(Value::Null),
            GqlValue::Str(text) => json!(text),
            GqlValue::Num(text) => text
                .parse::<i64>()
                .map(|n| json!(n))
                .unwrap_or_else(|_| json!(text.parse::<f64>().unwrap_or(0.0))),
            GqlValue::Name(name) => match name.as_str() {
                "true" => json!(true),
                "false" => json!(false),
                "null" => Value::Null,
                other => json!(other),
            },
            GqlValue::List(items) => {
                Value::Array(items.iter().map(|v| v.eval(variables)).collect())
            }
            GqlValue::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.eval(variables)))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone)]
struct Field {
    alias: Option<String>,
    name: String,
    arguments: Vec<(String, GqlValue)>,
    selection: Vec<Selection>,
}

impl Field {
    fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    fn args(&self, variables: &Value) -> Value {
        Value::Object(
            self.arguments
                .iter()
                .map(|(name, value)| (name.clone(), value.eval(variables)))
                .filter(|(_, value)| !value.is_null())
                .collect(),
        )
    }
}

#[derive(Debug, Clone)]
enum Selection {
    Field(Field),
    Inline {
        on: Option<String>,
        selection: Vec<Selection>,
    },
}

struct Document {
    name: String,
    /// Declared variables and whether they are non-null (`!`).
    declared: Vec<(String, bool)>,
    used: BTreeSet<String>,
    selection: Vec<Selection>,
}

impl Document {
    fn check_variables(&self, variables: &Value) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        for (name, required) in &self.declared {
            if !self.used.contains(name) {
                problems.push(format!(
                    "Variable ${name} is declared by {} but not used",
                    self.name
                ));
            }
            if *required && variables.get(name).is_none_or(Value::is_null) {
                problems.push(format!(
                    "Variable ${name} of a non-null type was provided invalid value"
                ));
            }
        }
        for name in &self.used {
            if !self.declared.iter().any(|(declared, _)| declared == name) {
                problems.push(format!(
                    "Variable ${name} is used by {} but not declared",
                    self.name
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    used: BTreeSet<String>,
}

impl Parser {
    fn new(text: &str) -> Result<Parser, String> {
        let mut tokens = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => i += 1,
                '#' => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '.' if chars[i..].starts_with(&['.', '.', '.']) => {
                    tokens.push(Token::Spread);
                    i += 3;
                }
                '{' | '}' | '(' | ')' | ':' | '[' | ']' | '!' | '=' | '@' => {
                    tokens.push(Token::Punct(c));
                    i += 1;
                }
                '$' => {
                    let start = i + 1;
                    i = start;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                    tokens.push(Token::Var(chars[start..i].iter().collect()));
                }
                '"' => {
                    let mut text = String::new();
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            i += 1;
                        }
                        text.push(chars[i]);
                        i += 1;
                    }
                    if i >= chars.len() {
                        return Err("Parse error: unterminated string".into());
                    }
                    i += 1;
                    tokens.push(Token::Str(text));
                }
                c if c == '-' || c.is_ascii_digit() => {
                    let start = i;
                    i += 1;
                    while i < chars.len()
                        && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | 'e' | 'E'))
                    {
                        i += 1;
                    }
                    tokens.push(Token::Num(chars[start..i].iter().collect()));
                }
                c if c.is_alphabetic() || c == '_' => {
                    let start = i;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                    tokens.push(Token::Name(chars[start..i].iter().collect()));
                }
                other => return Err(format!("Parse error on \"{other}\"")),
            }
        }
        Ok(Parser {
            tokens,
            position: 0,
            used: BTreeSet::new(),
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn bump(&mut self) -> Result<Token, String> {
        let token = self
            .tokens
            .get(self.position)
            .cloned()
            .ok_or("Parse error: unexpected end of document")?;
        self.position += 1;
        Ok(token)
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.bump()? {
            Token::Punct(p) if p == c => Ok(()),
            other => Err(format!("Parse error: expected {c}, found {other:?}")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.bump()? {
            Token::Name(name) => Ok(name),
            other => Err(format!("Parse error: expected a name, found {other:?}")),
        }
    }

    fn document(&mut self) -> Result<Document, String> {
        let mut name = "anonymous query".to_string();
        let mut declared = Vec::new();
        if self.peek() == Some(&Token::Name("query".into())) {
            self.bump()?;
            if let Some(Token::Name(_)) = self.peek() {
                name = self.name()?;
            }
            if self.peek() == Some(&Token::Punct('(')) {
                self.bump()?;
                while self.peek() != Some(&Token::Punct(')')) {
                    let Token::Var(var) = self.bump()? else {
                        return Err("Parse error: expected a variable".into());
                    };
                    self.expect(':')?;
                    let mut required = false;
                    loop {
                        match self.peek() {
                            Some(Token::Punct('[' | ']')) | Some(Token::Name(_)) => {
                                required = false;
                                self.bump()?;
                            }
                            Some(Token::Punct('!')) => {
                                required = true;
                                self.bump()?;
                            }
                            _ => break,
                        }
                    }
                    if self.peek() == Some(&Token::Punct('=')) {
                        self.bump()?;
                        self.value()?;
                        required = false;
                    }
                    declared.push((var, required));
                }
                self.expect(')')?;
            }
        }
        let selection = self.selection_set()?;
        if self.position != self.tokens.len() {
            return Err("Parse error: more than one operation".into());
        }
        Ok(Document {
            name,
            declared,
            used: std::mem::take(&mut self.used),
            selection,
        })
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, String> {
        self.expect('{')?;
        let mut selection = Vec::new();
        while self.peek() != Some(&Token::Punct('}')) {
            if self.peek() == Some(&Token::Spread) {
                self.bump()?;
                let on = if self.peek() == Some(&Token::Name("on".into())) {
                    self.bump()?;
                    Some(self.name()?)
                } else {
                    None
                };
                selection.push(Selection::Inline {
                    on,
                    selection: self.selection_set()?,
                });
                continue;
            }
            let first = self.name()?;
            let (alias, name) = if self.peek() == Some(&Token::Punct(':')) {
                self.bump()?;
                (Some(first), self.name()?)
            } else {
                (None, first)
            };
            let mut arguments = Vec::new();
            if self.peek() == Some(&Token::Punct('(')) {
                self.bump()?;
                while self.peek() != Some(&Token::Punct(')')) {
                    let argument = self.name()?;
                    self.expect(':')?;
                    arguments.push((argument, self.value()?));
                }
                self.expect(')')?;
            }
            let inner = if self.peek() == Some(&Token::Punct('{')) {
                self.selection_set()?
            } else {
                Vec::new()
            };
            selection.push(Selection::Field(Field {
                alias,
                name,
                arguments,
                selection: inner,
            }));
        }
        self.expect('}')?;
        if selection.is_empty() {
            return Err("Parse error: an empty selection".into());
        }
        Ok(selection)
    }

    fn value(&mut self) -> Result<GqlValue, String> {
        Ok(match self.bump()? {
            Token::Var(name) => {
                self.used.insert(name.clone());
                GqlValue::Var(name)
            }
            Token::Str(text) => GqlValue::Str(text),
            Token::Num(text) => GqlValue::Num(text),
            Token::Name(name) => GqlValue::Name(name),
            Token::Punct('[') => {
                let mut items = Vec::new();
                while self.peek() != Some(&Token::Punct(']')) {
                    items.push(self.value()?);
                }
                self.bump()?;
                GqlValue::List(items)
            }
            Token::Punct('{') => {
                let mut fields = Vec::new();
                while self.peek() != Some(&Token::Punct('}')) {
                    let name = self.name()?;
                    self.expect(':')?;
                    fields.push((name, self.value()?));
                }
                self.bump()?;
                GqlValue::Object(fields)
            }
            other => return Err(format!("Parse error: unexpected {other:?}")),
        })
    }
}
