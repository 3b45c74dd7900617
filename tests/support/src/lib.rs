//! What raibid's tests and benchmarks share: fakes of the peers raibid talks to, fixtures,
//! the binary as a user runs it, and (here) the console's fixtures: a fixed clock and known
//! drafts.

pub mod bluesky;
pub mod cli;
pub mod cluster_status;
pub mod crd_schema;
pub mod devto;
pub mod docker;
pub mod git;
pub mod gitea;
pub mod gitea_api;
pub mod github;
pub mod github_publish;
pub mod github_week;
pub mod kube_api;
pub mod lab;
pub mod mastodon;
pub mod mirror_status;
pub mod model_writer;
pub mod org;
pub mod redis;
pub mod registry;
pub mod serve;

use std::path::PathBuf;

use raibid::app::keymap::Keymap;
use raibid::app::state::State;
use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, DraftState, FrontMatter, Period, PeriodKind,
    RepoActivity,
};
use raibid::backend::sparky::store::DraftSummary;

pub const NOW: &str = "2026-11-20T09:30:00Z";

pub fn now() -> jiff::Timestamp {
    NOW.parse().unwrap()
}

pub fn summary(id: &str, kind: DraftKind, state: DraftState, words: usize) -> DraftSummary {
    DraftSummary {
        id: id.to_string(),
        front: FrontMatter {
            title: format!("Digest {id}"),
            date: "2026-11-16".into(),
            period: id.split("-raibid").next().unwrap_or(id).into(),
            kind,
            state,
            writer: "builtin".into(),
            model: None,
        },
        path: PathBuf::from(format!("/data/drafts/{id}.md")),
        words,
    }
}

pub fn drafts() -> Vec<DraftSummary> {
    vec![
        summary("2026-W47-raibid", DraftKind::Weekly, DraftState::Draft, 842),
        summary(
            "2026-11-19-raibid",
            DraftKind::Daily,
            DraftState::Approved,
            231,
        ),
        summary(
            "2026-11-18-raibid",
            DraftKind::Daily,
            DraftState::Published,
            207,
        ),
        summary(
            "2026-10-raibid",
            DraftKind::Monthly,
            DraftState::Rejected,
            2140,
        ),
    ]
}

pub fn state() -> State {
    let mut state = State::new(
        Keymap::default(),
        "dark".into(),
        vec!["dark".into(), "light".into(), "high-contrast".into()],
        now(),
    );
    state.digests.drafts.items = drafts();
    state
}

fn commit(n: u64, author: &str, day: u32, ins: u64, del: u64, subject: &str) -> CommitRecord {
    let time: jiff::Timestamp = format!("2026-11-{day:02}T1{}:00:00Z", n % 10)
        .parse()
        .unwrap();
    CommitRecord {
        login: None,
        repo: "raibid".into(),
        sha: format!("{:x}{}", 0xabc0000 + n, "0".repeat(33)),
        author: author.into(),
        email: format!("{}@example.org", author.to_lowercase()),
        time,
        offset_seconds: 0,
        committed: time,
        subject: subject.into(),
        files_changed: (n % 4 + 1) as u32,
        insertions: ins,
        deletions: del,
        is_merge: false,
        is_bot: false,
        paths: Vec::new(),
    }
}

pub fn data() -> DigestData {
    let period = Period {
        kind: PeriodKind::Week,
        since: "2026-11-16T00:00:00Z".parse().unwrap(),
        until: "2026-11-23T00:00:00Z".parse().unwrap(),
        label: "2026-W47".into(),
        time_zone: "UTC".into(),
    };
    let commits = vec![
        commit(1, "Ann", 16, 120, 10, "feat: queue contract"),
        commit(2, "Bob", 17, 40, 5, "fix: agent heartbeat"),
        commit(3, "Ann", 17, 8, 2, "docs: runbook"),
        commit(4, "Cleo", 19, 300, 80, "feat!: new job schema"),
        commit(5, "Ann", 20, 15, 15, "refactor: split store"),
    ];
    let activity = Activity {
        period: period.clone(),
        repos: vec![RepoActivity {
            name: "raibid".into(),
            path: "/src/raibid".into(),
            commits: commits.clone(),
            ..RepoActivity::default()
        }],
    };
    DigestData {
        period,
        repos: vec!["raibid".into()],
        repo_paths: vec!["/src/raibid".into()],
        metrics: analyze(&activity, None),
        commits,
        link: None,
        failures: Vec::new(),
    }
}

/// The data of a digest of `current` (its repositories in order, their commits newest
/// first), with `previous` for the trend.
pub fn digest_data(current: Activity, previous: Option<&Activity>) -> DigestData {
    let metrics = analyze(&current, previous);
    let mut commits: Vec<CommitRecord> = current
        .repos
        .iter()
        .flat_map(|r| r.commits.clone())
        .collect();
    commits.sort_by_key(|c| std::cmp::Reverse(c.committed));
    DigestData {
        repos: current.repos.iter().map(|r| r.name.clone()).collect(),
        repo_paths: current.repos.iter().map(|r| r.path.clone()).collect(),
        period: current.period,
        metrics,
        commits,
        link: None,
        failures: Vec::new(),
    }
}

/// What the built-in writer writes of `data` as `kind`.
pub fn write_builtin(
    data: &DigestData,
    kind: DraftKind,
) -> raibid::backend::sparky::write::Written {
    use raibid::backend::sparky::write::{BuiltinWriter, Writer};
    let (tokens, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime
        .block_on(BuiltinWriter.write(data, kind, &tokens))
        .expect("the built-in writer never fails")
}

/// A config collecting the fake GitHub's organisation in UTC, with the fake's token in a
/// file only its owner reads (as the config demands) and the cache, both under `dir`.
pub fn github_config(fake: &github::FakeGitHub, dir: &std::path::Path) -> raibid::config::Config {
    use std::os::unix::fs::PermissionsExt;
    let token = dir.join("token");
    std::fs::write(&token, fake.token()).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut config = raibid::config::Config::default();
    config.github.api_url = fake.url();
    config.github.token = raibid::config::Secret::File(token);
    config.github.orgs = vec![fake.org()];
    config.github.cache_dir = dir.join("github-cache");
    config.sparky.time_zone = "UTC".into();
    config
}

/// `period` of the fake GitHub's organisation, the period before included, collected
/// through the pipeline as `raibid digest --source github` collects it.
pub async fn github_digest_data(
    fake: &github::FakeGitHub,
    dir: &std::path::Path,
    period: Period,
) -> DigestData {
    use raibid::backend::sparky::pipeline::{
        self, DigestRequest, PeriodSpec, Source, WriterChoice,
    };
    let config = github_config(fake, dir);
    let request = DigestRequest {
        period: PeriodSpec::Exact(period),
        repos: Vec::new(),
        writer: WriterChoice::Builtin,
        kind: None,
    };
    let github = pipeline::github_client(&config, dir, None).expect("a client");
    let sources = Source::Github.with(&github);
    let dirs = pipeline::Dirs {
        cwd: dir.to_path_buf(),
        data_dir: dir.to_path_buf(),
    };
    pipeline::prepare_from(&config, &dirs, &request, sources, jiff::Timestamp::now())
        .await
        .expect("prepared")
        .data
}

pub const BODY: &str = "## Summary\n\n5 commits by 3 contributors in `raibid`; +483/-112 lines.\n\n## Notable changes\n\n- `abc0004` feat!: new job schema (Cleo)\n- `abc0001` feat: queue contract (Ann)\n";

/// Four jobs, one per state the Jobs view colours differently, oldest first.
pub fn jobs() -> Vec<raibid::backend::queue::contract::JobRecord> {
    use raibid::backend::queue::contract::{
        CacheReport, Job, JobRecord, JobState, JobStatus, StepResult, Trigger,
    };
    let at = |minute: u32| -> jiff::Timestamp {
        format!("2026-11-20T09:{minute:02}:00Z").parse().unwrap()
    };
    let record = |n: u32, state: JobState| {
        let mut status = JobStatus::queued();
        status.state = state;
        if state != JobState::Queued {
            status.agent = Some("local-1".into());
            status.deliveries = 1;
            status.started_at = Some(at(n * 5 + 1));
        }
        if state.is_final() {
            status.finished_at = Some(at(n * 5 + 3));
            status.steps = vec![StepResult {
                name: "cargo build".into(),
                command: "cargo build --locked".into(),
                exit_code: Some(if state == JobState::Success { 0 } else { 101 }),
                duration_ms: 61_500,
            }];
            status.cache = Some(CacheReport {
                build_secs: 62,
                key: Some("raibid-labs_raibid-0123456789abcdef".into()),
                warm: true,
                compiled: 3,
                sccache_hits: None,
                sccache_misses: None,
            });
        }
        JobRecord {
            job: Job {
                id: format!("job-{n}"),
                repo: if n.is_multiple_of(2) {
                    "raibid-labs/raibid".into()
                } else {
                    "raibid-labs/docs".into()
                },
                clone_url: "/srv/git/raibid".into(),
                git_ref: "refs/heads/main".into(),
                sha: format!("{n}abcdef0123456789abcdef0123456789abcdef"),
                trigger: Trigger::Push,
                requested_by: "ann".into(),
                created_at: at(n * 5),
                attempt: 1,
                timeout_secs: 3600,
            },
            status,
        }
    };
    vec![
        record(1, JobState::Success),
        record(2, JobState::Running),
        record(3, JobState::Queued),
        record(4, JobState::Failure),
    ]
}

/// Every count a local digest's data holds (the previous period's totals included), and
/// the two it derives (days with commits, days in the period): what a writer's numbers
/// must come from.
pub fn local_counts(data: &DigestData) -> std::collections::BTreeSet<u64> {
    let m = &data.metrics;
    let t = &m.totals;
    let mut n: std::collections::BTreeSet<u64> = [
        t.commits,
        t.merges,
        t.insertions,
        t.deletions,
        t.contributors,
        t.active_repos,
    ]
    .into();
    for c in &m.contributors {
        n.extend([c.commits, c.insertions, c.deletions]);
    }
    for r in &m.repos {
        n.extend([r.commits, r.insertions, r.deletions, r.contributors]);
    }
    for c in &m.notable {
        n.extend([c.insertions, c.deletions, u64::from(c.files_changed)]);
    }
    for d in &m.commits_per_day {
        n.insert(d.commits);
    }
    n.insert(m.commits_per_day.iter().filter(|d| d.commits > 0).count() as u64);
    n.insert(m.commits_per_day.len() as u64);
    if let Some(trend) = &m.trend {
        let p = &trend.previous;
        n.extend([
            p.commits,
            p.insertions,
            p.deletions,
            p.contributors,
            p.active_repos,
        ]);
    }
    n
}

/// A plan to publish an approved draft written from [`data`]: the weekly digest
/// ([`BODY`]) to the docs repository and Dev.to, or with `post_length`, a Mastodon post
/// measuring that many of its 500 chars.
pub fn plan(post_length: Option<usize>) -> Box<raibid::backend::sparky::delivery::Plan> {
    use raibid::backend::sparky::channels::ChannelName;
    use raibid::backend::sparky::channels::docs::DocsPost;
    use raibid::backend::sparky::delivery::{Length, Plan, Rendering};
    use raibid::backend::sparky::model::{FrontMatter, LengthUnit};
    use raibid::backend::sparky::store::Draft;
    let data = data();
    let (id, kind, body) = match post_length {
        Some(_) => (
            "2026-W47-raibid-mastodon",
            DraftKind::Mastodon,
            "Week 47 in raibid: 5 commits by 3 contributors. #raibid",
        ),
        None => ("2026-W47-raibid", DraftKind::Weekly, BODY),
    };
    let draft = Draft {
        id: id.into(),
        front: FrontMatter {
            title: "Week 47".into(),
            date: "2026-11-16".into(),
            period: "2026-W47".into(),
            kind,
            state: DraftState::Approved,
            writer: "builtin".into(),
            model: None,
        },
        body: body.into(),
    };
    let docs = DocsPost::new(&draft, &data, &raibid::config::PublishConfig::default());
    let rendering = |channel, text: &str, length| Rendering {
        channel,
        text: text.into(),
        length,
        previous: None,
    };
    let renderings = match post_length {
        Some(used) => vec![rendering(
            ChannelName::Mastodon,
            body,
            Some(Length {
                used,
                limit: 500,
                unit: LengthUnit::Chars,
            }),
        )],
        None => vec![
            rendering(ChannelName::Docs, &docs.content, None),
            rendering(ChannelName::Devto, BODY, None),
        ],
    };
    Box::new(Plan {
        id: draft.id.clone(),
        renderings,
        draft,
        docs,
        canonical_url: None,
        tags: Vec::new(),
    })
}

/// Standard base64, padded: what a Basic auth header holds.
pub fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
