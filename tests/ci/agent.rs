//! The agent loop against a real redis-server and the real queue, building fixture crates
//! cloned from local repositories.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use raibid::backend::ci::agent::{AgentOptions, AgentReport, run_agent};
use raibid::backend::queue::contract::{
    AgentState, CacheReport, Job, JobRecord, JobState, LogStream, QueueEvent, Trigger,
};
use raibid::backend::queue::{CancelOutcome, Queue, QueueSettings, new_job_id};
use raibid::config::{Config, Secret};
use support::git::{crate_repo, crate_repo_using};
use support::redis::RedisServer;
use tokio_util::sync::CancellationToken;

const PASSING_TEST: &str = "pub fn add(a: u32, b: u32) -> u32 { a + b }\n\n#[test]\nfn adds() { assert_eq!(add(2, 2), 4); }\n";
const FAILING_TEST: &str = "pub fn add(a: u32, b: u32) -> u32 { a + b }\n\n#[test]\nfn adds() { assert_eq!(add(2, 2), 5); }\n";
const PREFIX: &str = "agenttest";

struct Lab {
    redis: RedisServer,
    root: tempfile::TempDir,
    config: Config,
}

impl Lab {
    fn new() -> Lab {
        let redis = RedisServer::start();
        let root = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.ci.redis_url = redis.url();
        config.ci.queue_prefix = PREFIX.into();
        config.ci.heartbeat_secs = 1;
        config.ci.cache_dir = root.path().join("cache");
        config
            .ci
            .pipelines
            .insert("lab/slow".into(), vec!["sleep 300".into()]);
        config
            .ci
            .pipelines
            .insert("lab/quick".into(), vec!["true".into()]);
        config
            .ci
            .pipelines
            .insert("lab/broken".into(), vec!["exit 3".into()]);
        config.gitea.url = String::new();
        Lab {
            redis,
            root,
            config,
        }
    }

    async fn queue(&self) -> Queue {
        Queue::connect(
            &self.redis.url(),
            PREFIX,
            QueueSettings::from_config(&self.config.ci),
        )
        .await
        .unwrap()
    }

    /// Queues a job for a fresh fixture crate under `repo`; returns it.
    async fn enqueue(&self, queue: &Queue, repo: &str, lib: &str) -> Job {
        let id = new_job_id();
        let path = self.root.path().join(format!("repo-{id}"));
        let sha = crate_repo(&path, "fixture", lib);
        self.enqueue_clone(queue, repo, &path, &sha).await
    }

    /// Queues a job building `sha` of the repository at `path` as `repo`; returns it.
    async fn enqueue_clone(&self, queue: &Queue, repo: &str, path: &Path, sha: &str) -> Job {
        let job = Job {
            id: new_job_id(),
            repo: repo.into(),
            clone_url: path.to_str().unwrap().into(),
            git_ref: "refs/heads/main".into(),
            sha: sha.into(),
            trigger: Trigger::Manual,
            requested_by: "test".into(),
            created_at: jiff::Timestamp::now(),
            attempt: 1,
            timeout_secs: 600,
        };
        queue.enqueue(&job).await.unwrap();
        job
    }

    fn agent(
        &self,
        once: bool,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<AgentReport> {
        self.named_agent("agent-a", once, shutdown)
    }

    fn named_agent(
        &self,
        name: &str,
        once: bool,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<AgentReport> {
        let (config, data_dir) = (self.config.clone(), self.root.path().join("data"));
        let options = AgentOptions {
            name: name.into(),
            once,
            idle_exit: Duration::from_secs(60),
        };
        tokio::spawn(async move {
            run_agent(&config, &data_dir, options, shutdown)
                .await
                .unwrap()
        })
    }
}

async fn record(queue: &Queue, id: &str) -> JobRecord {
    queue.job(id).await.unwrap().expect("the job is stored")
}

async fn wait_for_state(queue: &Queue, id: &str, state: JobState) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while record(queue, id).await.status.state != state {
        assert!(
            Instant::now() < deadline,
            "job {id} never reached {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn all_events(queue: &Queue) -> Vec<QueueEvent> {
    queue
        .events("0-0", Duration::from_millis(10))
        .await
        .unwrap()
        .into_iter()
        .map(|(_, event)| event)
        .collect()
}

fn final_states_of(events: &[QueueEvent], job_id: &str) -> Vec<JobState> {
    events
        .iter()
        .filter_map(|event| match event {
            QueueEvent::Job { id, state, .. } if id == job_id && state.is_final() => Some(*state),
            _ => None,
        })
        .collect()
}

async fn finish_within(
    agent: tokio::task::JoinHandle<AgentReport>,
    limit: Duration,
) -> AgentReport {
    tokio::time::timeout(limit, agent)
        .await
        .expect("the agent stops in time")
        .unwrap()
}

#[tokio::test]
async fn a_passing_crate_ends_success_with_its_steps_and_log() {
    let lab = Lab::new();
    let queue = lab.queue().await;
    let job = lab.enqueue(&queue, "lab/fixture", PASSING_TEST).await;

    let report = finish_within(
        lab.agent(true, CancellationToken::new()),
        Duration::from_secs(180),
    )
    .await;

    assert_eq!(report.jobs_run, 1);
    let status = record(&queue, &job.id).await.status;
    assert_eq!(status.state, JobState::Success, "{:?}", status.message);
    assert_eq!(status.agent.as_deref(), Some("agent-a"));
    assert_eq!(status.deliveries, 1);
    assert!(status.started_at.is_some() && status.finished_at >= status.started_at);
    let steps: Vec<_> = status
        .steps
        .iter()
        .map(|step| (step.name.as_str(), step.exit_code))
        .collect();
    assert_eq!(steps, [("cargo build", Some(0)), ("cargo test", Some(0))]);
    assert!(status.cache.is_some());

    let log = queue.logs(&job.id, None, 10_000).await.unwrap();
    let has = |step: &str, stream: LogStream, needle: &str| {
        log.iter()
            .any(|line| line.step == step && line.stream == stream && line.line.contains(needle))
    };
    assert!(
        has("checkout", LogStream::System, "$ git clone"),
        "{log:#?}"
    );
    assert!(
        has("cargo build", LogStream::Stderr, "Compiling fixture v0.1.0"),
        "{log:#?}"
    );
    assert!(
        has("cargo test", LogStream::Stdout, "test adds ... ok"),
        "{log:#?}"
    );

    let events = all_events(&queue).await;
    let seen_busy = events.iter().any(|event| {
        matches!(event, QueueEvent::Agent { name, state: AgentState::Busy, job: Some(id), .. }
            if name == "agent-a" && *id == job.id)
    });
    assert!(seen_busy, "{events:#?}");
    assert_eq!(final_states_of(&events, &job.id), [JobState::Success]);
    assert!(
        queue.agents().await.unwrap().is_empty(),
        "the agent removed its record"
    );
    assert!(
        !lab.root
            .path()
            .join("data/workspaces/agent-a")
            .join(&job.id)
            .exists()
    );
}

/// Runs `job` with a new `--once` agent `name`, as KEDA starts one per job; the job must
/// succeed. Its cache report and the crates its log says cargo compiled.
async fn build_once(lab: &Lab, queue: &Queue, job: &Job, name: &str) -> (CacheReport, Vec<String>) {
    let agent = lab.named_agent(name, true, CancellationToken::new());
    finish_within(agent, Duration::from_secs(180)).await;
    let status = record(queue, &job.id).await.status;
    assert_eq!(status.state, JobState::Success, "{:?}", status.message);
    let compiled = queue
        .logs(&job.id, None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|line| {
            let crate_name = line.line.trim().strip_prefix("Compiling ")?;
            Some(crate_name.split(' ').next()?.to_string())
        })
        .collect();
    (status.cache.expect("a cache report"), compiled)
}

/// The build caches outlive the agents: the next agent building the same repository
/// compiles only its top crate, another repository gets caches of its own, and two agents
/// building one repository at once both succeed under cargo's locks.
#[tokio::test]
async fn build_caches_outlive_agents_one_per_repository() {
    let mut lab = Lab::new();
    for repo in ["lab/app", "lab/other"] {
        lab.config
            .ci
            .pipelines
            .insert(repo.into(), vec!["cargo build".into()]);
    }
    // The git dependency is a local path, which a sandbox does not show its steps.
    lab.config.ci.sandbox = "off".into();
    let queue = lab.queue().await;
    let dep = lab.root.path().join("dep");
    crate_repo(&dep, "dep", "pub fn add(a: u32, b: u32) -> u32 { a + b }\n");
    let app = lab.root.path().join("app");
    let sha = crate_repo_using(&app, "app", &dep);

    let job = lab.enqueue_clone(&queue, "lab/app", &app, &sha).await;
    let (cold, compiled) = build_once(&lab, &queue, &job, "agent-1").await;
    assert_eq!(compiled, ["dep", "app"]);
    assert_eq!((cold.warm, cold.compiled), (false, 2));
    let key = cold.key.clone().expect("the repository's cache");
    let cache = lab.root.path().join("cache").join(&key);
    assert!(cache.join("cargo/git/db").is_dir(), "cargo's git cache");
    assert!(cache.join("target/debug").is_dir());

    let job = lab.enqueue_clone(&queue, "lab/app", &app, &sha).await;
    let (warm, compiled) = build_once(&lab, &queue, &job, "agent-2").await;
    assert_eq!(compiled, ["app"], "the dependency comes from the cache");
    assert_eq!((warm.warm, warm.compiled), (true, 1));
    assert_eq!(warm.key, cold.key);

    let job = lab.enqueue_clone(&queue, "lab/other", &app, &sha).await;
    let (other, compiled) = build_once(&lab, &queue, &job, "agent-3").await;
    assert_eq!(
        compiled,
        ["dep", "app"],
        "nothing of lab/app's cache is used"
    );
    assert!(!other.warm);
    assert_ne!(other.key, cold.key);

    // Two commits at once: each job compiles its own (a clone made while the other built
    // would pass for fresh without the repository's lock).
    std::fs::write(
        app.join("src/lib.rs"),
        "pub fn answer() -> u32 { dep::add(40, 3) }\n",
    )
    .unwrap();
    support::git::git(&app, &["commit", "--quiet", "-am", "change"]);
    let changed = support::git::git(&app, &["rev-parse", "HEAD"]);
    let jobs = [
        lab.enqueue_clone(&queue, "lab/app", &app, &sha).await,
        lab.enqueue_clone(&queue, "lab/app", &app, &changed).await,
    ];
    let agents =
        ["agent-4", "agent-5"].map(|name| lab.named_agent(name, true, CancellationToken::new()));
    for agent in agents {
        finish_within(agent, Duration::from_secs(180)).await;
    }
    for job in &jobs {
        let status = record(&queue, &job.id).await.status;
        assert_eq!(status.state, JobState::Success, "{:?}", status.message);
        assert_eq!(status.cache.map(|c| c.compiled), Some(1));
    }
    let waited = |job: &Job| {
        let queue = queue.clone();
        let id = job.id.clone();
        async move {
            let log = queue.logs(&id, None, 10_000).await.unwrap();
            log.iter()
                .any(|line| line.line.contains("waiting for its cache"))
        }
    };
    let waits = [waited(&jobs[0]).await, waited(&jobs[1]).await];
    assert_eq!(
        waits.iter().filter(|w| **w).count(),
        1,
        "one job waited: {waits:?}"
    );
}

#[tokio::test]
async fn a_failing_crate_ends_failure() {
    let lab = Lab::new();
    let queue = lab.queue().await;
    let job = lab.enqueue(&queue, "lab/fixture", FAILING_TEST).await;

    finish_within(
        lab.agent(true, CancellationToken::new()),
        Duration::from_secs(180),
    )
    .await;

    let status = record(&queue, &job.id).await.status;
    assert_eq!(status.state, JobState::Failure);
    assert_eq!(
        status.message.as_deref(),
        Some("step `cargo test` exited with 101")
    );
    assert_eq!(
        status.steps.last().and_then(|step| step.exit_code),
        Some(101)
    );
}

#[tokio::test]
async fn a_cancel_while_running_ends_cancelled_once() {
    let lab = Lab::new();
    let queue = lab.queue().await;
    let job = lab.enqueue(&queue, "lab/slow", PASSING_TEST).await;
    let agent = lab.agent(true, CancellationToken::new());
    wait_for_state(&queue, &job.id, JobState::Running).await;
    // The step is running once its first line is in the log.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !queue
        .logs(&job.id, None, 100)
        .await
        .unwrap()
        .iter()
        .any(|line| line.line == "$ sleep 300")
    {
        assert!(Instant::now() < deadline, "the step never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert_eq!(
        queue.cancel(&job.id).await.unwrap(),
        CancelOutcome::Requested
    );
    let report = finish_within(agent, Duration::from_secs(30)).await;

    assert_eq!(report.jobs_run, 1);
    let status = record(&queue, &job.id).await.status;
    assert_eq!(status.state, JobState::Cancelled);
    assert_eq!(
        status.message.as_deref(),
        Some("cancelled during step `sleep 300`")
    );
    assert_eq!(status.steps[0].exit_code, None);
    assert_eq!(
        final_states_of(&all_events(&queue).await, &job.id),
        [JobState::Cancelled]
    );
}

#[tokio::test]
async fn stopping_the_agent_cancels_its_job_and_claims_no_more() {
    let lab = Lab::new();
    let queue = lab.queue().await;
    let running = lab.enqueue(&queue, "lab/slow", PASSING_TEST).await;
    let shutdown = CancellationToken::new();
    let agent = lab.agent(false, shutdown.clone());
    wait_for_state(&queue, &running.id, JobState::Running).await;
    let waiting = lab.enqueue(&queue, "lab/fixture", PASSING_TEST).await;

    shutdown.cancel();
    let report = finish_within(agent, Duration::from_secs(30)).await;

    assert_eq!(report.jobs_run, 1);
    let status = record(&queue, &running.id).await.status;
    assert_eq!(status.state, JobState::Cancelled);
    assert_eq!(status.message.as_deref(), Some("agent stopping"));
    assert_eq!(
        record(&queue, &waiting.id).await.status.state,
        JobState::Queued
    );
    assert!(queue.agents().await.unwrap().is_empty());
}

#[tokio::test]
async fn once_exits_when_no_job_comes() {
    let lab = Lab::new();
    let (config, data_dir) = (lab.config.clone(), lab.root.path().join("data"));
    let options = AgentOptions {
        name: "agent-idle".into(),
        once: true,
        idle_exit: Duration::from_secs(1),
    };
    let started = Instant::now();
    let report = run_agent(&config, &data_dir, options, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.jobs_run, 0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

/// A fake Gitea recording the statuses posted to it: (path, authorization, body).
async fn fake_gitea() -> (String, Arc<Mutex<Vec<(String, String, serde_json::Value)>>>) {
    let posted = Arc::new(Mutex::new(Vec::new()));
    let record = {
        let posted = posted.clone();
        move |uri: axum::http::Uri,
              headers: axum::http::HeaderMap,
              body: axum::Json<serde_json::Value>| async move {
            let authorization = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            posted.lock().unwrap().push((
                uri.path().to_string(),
                authorization.to_string(),
                body.0,
            ));
            axum::http::StatusCode::CREATED
        }
    };
    let app = axum::Router::new().route(
        "/api/v1/repos/{owner}/{repo}/statuses/{sha}",
        axum::routing::post(record),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, posted)
}

#[tokio::test]
async fn commit_statuses_go_to_gitea_pending_then_final() {
    let mut lab = Lab::new();
    let (url, posted) = fake_gitea().await;
    let token = lab.root.path().join("gitea.token");
    std::fs::write(&token, "t0ken").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    lab.config.gitea.url = url;
    lab.config.gitea.token = Secret::File(token);
    let queue = lab.queue().await;

    let passing = lab.enqueue(&queue, "lab/quick", PASSING_TEST).await;
    finish_within(
        lab.agent(true, CancellationToken::new()),
        Duration::from_secs(60),
    )
    .await;
    let failing = lab.enqueue(&queue, "lab/broken", PASSING_TEST).await;
    finish_within(
        lab.agent(true, CancellationToken::new()),
        Duration::from_secs(60),
    )
    .await;

    let posted = posted.lock().unwrap().clone();
    let summary: Vec<_> = posted
        .iter()
        .map(|(path, authorization, body)| {
            (
                path.clone(),
                authorization.as_str(),
                body["state"].as_str().unwrap(),
                body["context"].as_str().unwrap(),
            )
        })
        .collect();
    let path = |job: &Job| format!("/api/v1/repos/{}/statuses/{}", job.repo, job.sha);
    assert_eq!(
        summary,
        [
            (path(&passing), "token t0ken", "pending", "raibid/ci"),
            (path(&passing), "token t0ken", "success", "raibid/ci"),
            (path(&failing), "token t0ken", "pending", "raibid/ci"),
            (path(&failing), "token t0ken", "failure", "raibid/ci"),
        ]
    );
    assert_eq!(posted[3].2["description"], "step `exit 3` exited with 3");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_binary_clones_a_private_repository_without_showing_the_token() {
    let lab = Lab::new();
    let queue = lab.queue().await;
    let root = lab.root.path();
    let source = root.join("private-source");
    let sha = crate_repo(&source, "fixture", PASSING_TEST);
    let (gitea, credential, file) = support::gitea::private_repository(root, &source).await;
    let token = credential.split_once(':').unwrap().1.to_string();
    let config = root.join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[ci]\nredis_url = \"{}\"\nqueue_prefix = \"{PREFIX}\"\nheartbeat_secs = 1\n\
             workspace_dir = \"{root}/workspaces\"\ncache_dir = \"{root}/cache\"\n\
             clone_credentials_file = \"{}\"\n\
             [ci.pipelines]\n\"mirrors/private\" = [\"env\", \"cat Cargo.toml\"]\n\
             [gitea]\nurl = \"{}\"\n",
            lab.redis.url(),
            file.display(),
            gitea.url(),
            root = root.display(),
        ),
    )
    .unwrap();
    let job = Job {
        id: new_job_id(),
        repo: "mirrors/private".into(),
        clone_url: format!("{}/mirrors/private.git", gitea.url()),
        git_ref: "refs/heads/main".into(),
        sha,
        trigger: Trigger::Manual,
        requested_by: "test".into(),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
        timeout_secs: 600,
    };
    queue.enqueue(&job).await.unwrap();

    // As KEDA runs it: `raibid agent --once`, its log on stderr.
    let agent = tokio::process::Command::new(env!("CARGO_BIN_EXE_raibid"))
        .arg("--config")
        .arg(&config)
        .args(["agent", "--once", "--id", "agent-private"])
        .env("XDG_CONFIG_HOME", root.join("home/config"))
        .env("XDG_DATA_HOME", root.join("home/data"))
        .env("RUST_LOG", "debug")
        .env("RAIBID_LOG", "debug")
        .env_remove("RAIBID_CONFIG")
        .env_remove("RAIBID_GITEA_TOKEN")
        .stdin(std::process::Stdio::null())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), agent)
        .await
        .expect("the agent finishes its job")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");

    let status = record(&queue, &job.id).await.status;
    assert_eq!(status.state, JobState::Success, "{:?}", status.message);
    let log = queue.logs(&job.id, None, 10_000).await.unwrap();
    assert!(
        log.iter()
            .any(|line| line.step == "cat Cargo.toml" && line.line.contains("fixture")),
        "{log:#?}"
    );
    let header = support::encode_base64(credential.as_bytes());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for text in log
        .iter()
        .map(|line| line.line.as_str())
        .chain([stderr.as_str(), &*stdout])
    {
        assert!(
            !text.contains(&token) && !text.contains(&header),
            "the token showed: {text}"
        );
        assert!(
            !text.contains("GIT_CONFIG"),
            "git's config reached a step: {text}"
        );
    }
    // The agent's own log (stderr, and any log file under its data dir) says what it did,
    // without the token.
    let mut agent_log = stderr.clone();
    for path in walk(&root.join("home")) {
        if path.extension().is_some_and(|ext| ext == "log") {
            agent_log.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    assert!(agent_log.contains("running a job"), "{agent_log}");
    assert!(!agent_log.contains(&token) && !agent_log.contains(&header));
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Secrets a build step must not find, planted where the lab keeps them: in the agent's
/// environment, its config, the operator's kubeconfig and a 0400 secret file.
const SECRETS: [&str; 5] = [
    "redis-secret-7f3a",
    "server-secret-91c2",
    "config-secret-0d4e",
    "kube-secret-55b8",
    "file-secret-c6a1",
];

/// Dumps what a hostile build would look at: its environment, its parent's and every
/// visible process's, and the files named as arguments.
const PROBE: &str = r#"echo "== id $(id -u)"
echo "== env"; env
echo "== parent"; tr '\0' '\n' < /proc/$PPID/environ
for p in /proc/[0-9]*; do tr '\0' '\n' < "$p/environ"; done 2>/dev/null
for f in "$@"; do echo "== $f"; cat "$f"; done
exit 0
"#;

/// Runs `raibid agent --once` the way the lab does, with the secrets in place and the
/// `[ci]` lines `isolation` added to its config; returns the probe's log.
async fn probe_secrets(isolation: &str) -> Vec<String> {
    let lab = Lab::new();
    let queue = lab.queue().await;
    let root = lab.root.path();
    // Others may pass through the test's folder (the step user reaches its workspace), not
    // list it or read the secrets.
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o711)).unwrap();
    let private = |path: &Path, text: &str, mode| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let operator = root.join("operator");
    let kubeconfig = operator.join(".kube/config");
    private(&kubeconfig, &format!("token: {}\n", SECRETS[3]), 0o600);
    let secret_file = root.join("secrets/redis-password");
    private(&secret_file, SECRETS[4], 0o400);
    let config = root.join("agent.toml");
    private(
        &config,
        &format!(
            "# {}\n[ci]\nredis_url = \"{}\"\nqueue_prefix = \"{PREFIX}\"\nheartbeat_secs = 1\n\
             workspace_dir = \"{root}/workspaces\"\ncache_dir = \"{root}/cache\"\n{isolation}\n\
             [ci.pipelines]\n\"lab/probe\" = [\"sh probe.sh {} {} {}\"]\n[gitea]\nurl = \"\"\n",
            SECRETS[2],
            lab.redis.url(),
            kubeconfig.display(),
            secret_file.display(),
            root.join("agent.toml").display(),
            root = root.display(),
        ),
        0o600,
    );
    let repo = root.join("probe");
    crate_repo(&repo, "probe", PASSING_TEST);
    std::fs::write(repo.join("probe.sh"), PROBE).unwrap();
    support::git::git(&repo, &["add", "."]);
    support::git::git(&repo, &["commit", "-m", "probe"]);
    let sha = support::git::git(&repo, &["rev-parse", "HEAD"]);
    let job = lab.enqueue_clone(&queue, "lab/probe", &repo, &sha).await;

    let agent = tokio::process::Command::new(env!("CARGO_BIN_EXE_raibid"))
        .arg("--config")
        .arg(&config)
        .args(["agent", "--once", "--id", "agent-probe"])
        .env("HOME", &operator)
        .env("XDG_CONFIG_HOME", operator.join(".config"))
        .env("XDG_DATA_HOME", operator.join(".local/share"))
        .env("REDIS_PASSWORD", SECRETS[0])
        .env("RAIBID_SERVER_TOKEN", SECRETS[1])
        .env_remove("RAIBID_CONFIG")
        .stdin(std::process::Stdio::null())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), agent)
        .await
        .expect("the agent finishes its job")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let status = record(&queue, &job.id).await.status;
    assert_eq!(status.state, JobState::Success, "{:?}", status.message);
    let log: Vec<String> = queue
        .logs(&job.id, None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|line| line.line)
        .collect();
    let text = log.join("\n");
    // The probe ran and looked everywhere, with the job described in its environment.
    for seen in ["== env", "CI=true", "CI_REPO=lab/probe", "== parent"] {
        assert!(text.contains(seen), "{seen} missing:\n{text}");
    }
    assert!(text.contains(&format!("CI_COMMIT_SHA={sha}")), "{text}");
    assert!(
        text.contains(&format!("== {}", secret_file.display())),
        "{text}"
    );
    for secret in SECRETS {
        assert!(!text.contains(secret), "a step found {secret}:\n{text}");
    }
    let home = log
        .iter()
        .find_map(|line| line.strip_prefix("HOME="))
        .expect("a HOME");
    assert!(home.ends_with(&format!("{}.home", job.id)), "{home}");
    log
}

fn bwrap_sandboxes_here() -> bool {
    std::process::Command::new("bwrap")
        .args(["--ro-bind", "/", "/", "true"])
        .status()
        .is_ok_and(|status| status.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sandboxed_step_finds_no_secret() {
    if !bwrap_sandboxes_here() {
        eprintln!(
            "skipped: bubblewrap cannot create namespaces here (`bwrap --ro-bind / / true` fails)"
        );
        return;
    }
    let log = probe_secrets("sandbox = \"bwrap\"").await;
    assert!(
        log.iter()
            .any(|line| line.contains("in a bubblewrap sandbox")),
        "{log:#?}"
    );
    // Its own pid namespace: the parent is the sandbox's init, not the agent.
    assert!(log.iter().any(|line| line == "== parent"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_as_the_step_user_finds_no_secret() {
    // SAFETY: getuid(2) cannot fail.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: only an agent running as root can start steps as another user");
        return;
    }
    let log = probe_secrets("sandbox = \"off\"\nstep_user = \"1001:1001\"").await;
    assert!(log.iter().any(|line| line == "== id 1001"), "{log:#?}");
    assert!(
        log.iter()
            .any(|line| line.contains("without a sandbox as uid 1001:1001")),
        "{log:#?}"
    );
}
