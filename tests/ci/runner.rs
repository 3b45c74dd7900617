//! The runner against real git repositories and real cargo builds of tiny fixture crates
//! (no dependencies, so they build offline in a second or two), and private repositories
//! behind the fake Gitea's git smart HTTP with the lab's read-only credential.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use raibid::backend::ci::cache::RepoCache;
use raibid::backend::ci::runner::{self, LogTx, Outcome, RunnerSettings, Step};
use raibid::backend::ci::sandbox::{Isolation, SandboxMode, StepUser};
use raibid::backend::ci::workspace::GitAccess;
use raibid::backend::queue::contract::{Job, JobState, LogStream, Trigger};
use raibid::config::CiConfig;
use support::git::crate_repo;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

type Line = (String, LogStream, String);

const PASSING_TEST: &str = "pub fn add(a: u32, b: u32) -> u32 { a + b }\n\n#[test]\nfn adds() { assert_eq!(add(2, 2), 4); }\n";
const FAILING_TEST: &str = "pub fn add(a: u32, b: u32) -> u32 { a + b }\n\n#[test]\nfn adds() { assert_eq!(add(2, 2), 5, \"arithmetic broke\"); }\n";

/// A git repository holding a one-file crate with `lib` as src/lib.rs; its path and HEAD.
fn fixture_crate(root: &Path, lib: &str) -> (PathBuf, String) {
    let repo = root.join("fixture");
    let head = crate_repo(&repo, "fixture", lib);
    (repo, head)
}

fn job(id: &str, clone_url: &str, sha: &str) -> Job {
    Job {
        id: id.into(),
        repo: "lab/fixture".into(),
        clone_url: clone_url.into(),
        git_ref: "refs/heads/main".into(),
        sha: sha.into(),
        trigger: Trigger::Manual,
        requested_by: "test".into(),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
        timeout_secs: 600,
    }
}

fn settings(root: &Path) -> RunnerSettings {
    RunnerSettings {
        workspace_root: root.join("workspaces"),
        agent: "agent-1".into(),
        cache_dir: root.join("cache"),
        sccache_dir: None,
        step_timeout: Duration::from_secs(300),
        job_timeout: Duration::from_secs(600),
        git_access: GitAccess::default(),
        isolation: Isolation {
            sandbox: SandboxMode::Off,
            step_user: None,
        },
    }
}

fn steps(commands: &[&str]) -> Vec<Step> {
    commands.iter().map(|command| Step::new(command)).collect()
}

/// Runs the job to its end and returns the outcome with every log line.
async fn run(
    job: &Job,
    steps: &[Step],
    settings: &RunnerSettings,
    cancel: CancellationToken,
) -> (Outcome, Vec<Line>) {
    let (tx, mut rx): (LogTx, _) = mpsc::channel(1024);
    let collect = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(line) = rx.recv().await {
            lines.push(line);
        }
        lines
    });
    let outcome = runner::run(job, steps, settings, &tx, cancel).await;
    drop(tx);
    (outcome, collect.await.unwrap())
}

fn has_line(lines: &[Line], step: &str, stream: LogStream, needle: &str) -> bool {
    lines
        .iter()
        .any(|(s, st, line)| s == step && *st == stream && line.contains(needle))
}

/// Whether the process runs: a zombie (left for an init that does not reap) is dead.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// The pid a step wrote to `pidfile`, once it is there.
async fn wait_for_pid(pidfile: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pid = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        if let Some(pid) = pid {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "the step never wrote its grandchild's pid"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_passing_crate_builds_and_tests_with_its_log() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    let steps = runner::steps_for("lab/fixture", &CiConfig::default());
    let (outcome, lines) = run(
        &job("job-ok", repo.to_str().unwrap(), &sha),
        &steps,
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert_eq!(
        outcome.state,
        JobState::Success,
        "{:?}\n{lines:#?}",
        outcome.message
    );
    assert_eq!(outcome.message, None);
    let names: Vec<_> = outcome
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.exit_code))
        .collect();
    assert_eq!(names, [("cargo build", Some(0)), ("cargo test", Some(0))]);
    assert_eq!(
        outcome.cache.build_secs,
        outcome
            .steps
            .iter()
            .map(|s| s.duration_ms)
            .sum::<u64>()
            .div_ceil(1000)
    );
    assert_eq!(outcome.cache.sccache_hits, None);

    assert!(has_line(
        &lines,
        "cargo build",
        LogStream::System,
        "$ cargo build --locked"
    ));
    assert!(has_line(
        &lines,
        "cargo build",
        LogStream::Stderr,
        "Compiling fixture v0.1.0"
    ));
    assert!(has_line(
        &lines,
        "cargo build",
        LogStream::System,
        "exit 0 after"
    ));
    assert!(has_line(
        &lines,
        "cargo test",
        LogStream::Stdout,
        "test adds ... ok"
    ));

    assert!(
        !settings.workspace_root.join("agent-1/job-ok").exists(),
        "workspace removed"
    );
    let cache = RepoCache::of(&settings.cache_dir, "lab/fixture");
    assert!(
        cache.target_dir.join("debug").is_dir(),
        "the repository's target dir kept"
    );
    assert_eq!(outcome.cache.key, Some(cache.key));
    assert!(!outcome.cache.warm);
    // The crate, for the build and again for its tests.
    assert_eq!(outcome.cache.compiled, 2);
}

#[tokio::test]
async fn a_failing_test_stops_the_pipeline_as_failure() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), FAILING_TEST);
    let settings = settings(root.path());
    let steps = steps(&["cargo test --offline", "echo never runs"]);
    let (outcome, lines) = run(
        &job("job-fail", repo.to_str().unwrap(), &sha),
        &steps,
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert_eq!(outcome.state, JobState::Failure);
    assert_eq!(
        outcome.message.as_deref(),
        Some("step `cargo test` exited with 101")
    );
    assert_eq!(
        outcome.steps.len(),
        1,
        "the pipeline stops at the failing step"
    );
    assert_eq!(outcome.steps[0].exit_code, Some(101));
    assert!(
        has_line(&lines, "cargo test", LogStream::Stdout, "arithmetic broke")
            || has_line(&lines, "cargo test", LogStream::Stderr, "arithmetic broke")
    );
    assert!(has_line(
        &lines,
        "cargo test",
        LogStream::System,
        "exit 101 after"
    ));
    assert!(!settings.workspace_root.join("agent-1/job-fail").exists());
}

#[tokio::test]
async fn a_step_past_its_limit_is_killed_as_timed_out() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = RunnerSettings {
        step_timeout: Duration::from_secs(1),
        ..settings(root.path())
    };
    let started = Instant::now();
    let (outcome, lines) = run(
        &job("job-slow", repo.to_str().unwrap(), &sha),
        &steps(&["sleep 30"]),
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(outcome.state, JobState::TimedOut);
    let message = outcome.message.unwrap();
    assert!(
        message.contains("`sleep 30`") && message.contains("step time limit of 1.00 s"),
        "{message}"
    );
    assert_eq!(outcome.steps[0].exit_code, None);
    assert!(has_line(
        &lines,
        "sleep 30",
        LogStream::System,
        "time limit"
    ));
}

#[tokio::test]
async fn the_jobs_own_limit_applies_across_steps() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = RunnerSettings {
        job_timeout: Duration::from_secs(1),
        ..settings(root.path())
    };
    let (outcome, _) = run(
        &job("job-long", repo.to_str().unwrap(), &sha),
        &steps(&["sleep 30"]),
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert_eq!(outcome.state, JobState::TimedOut);
    assert!(outcome.message.unwrap().contains("job time limit"));
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    let pidfile = root.path().join("grandchild.pid");
    let command = format!("sh -c 'sleep 300 & echo $! > {}; wait'", pidfile.display());
    let cancel = CancellationToken::new();
    let job = job("job-cancel", repo.to_str().unwrap(), &sha);
    let running_job = {
        let (steps, settings, cancel) = (steps(&[&command]), settings.clone(), cancel.clone());
        tokio::spawn(async move { run(&job, &steps, &settings, cancel).await })
    };

    let pid = wait_for_pid(&pidfile).await;
    assert!(running(pid), "the grandchild runs before the cancel");
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (outcome, lines) = running_job.await.unwrap();

    assert!(cancelled_at.elapsed() < Duration::from_secs(8));
    assert_eq!(outcome.state, JobState::Cancelled);
    assert_eq!(
        outcome.message.as_deref(),
        Some("cancelled during step `sh -c`")
    );
    assert!(has_line(&lines, "sh -c", LogStream::System, "cancelled"));
    assert!(!running(pid), "grandchild {pid} survived the cancel");
    assert!(!settings.workspace_root.join("agent-1/job-cancel").exists());
}

#[tokio::test]
async fn a_bad_clone_url_is_an_error_with_gits_reason() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("no-such-repo");
    let settings = settings(root.path());
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let (outcome, lines) = run(
        &job("job-badurl", missing.to_str().unwrap(), sha),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert_eq!(outcome.state, JobState::Error);
    let message = outcome.message.unwrap();
    assert!(message.starts_with("`git clone "), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    assert!(outcome.steps.is_empty());
    assert!(has_line(
        &lines,
        "checkout",
        LogStream::System,
        "does not exist"
    ));
    assert!(!settings.workspace_root.join("agent-1/job-badurl").exists());
}

#[tokio::test]
async fn a_sha_the_repository_lacks_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let (repo, _) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let (outcome, _) = run(
        &job("job-nosha", repo.to_str().unwrap(), missing),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert_eq!(outcome.state, JobState::Error);
    let message = outcome.message.unwrap();
    assert!(
        message.contains(&format!("`git fetch {missing}` failed")),
        "{message}"
    );
    assert!(!settings.workspace_root.join("agent-1/job-nosha").exists());
}

#[tokio::test]
async fn odd_job_ids_and_shas_never_reach_a_path_or_command() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    let (outcome, _) = run(
        &job("../escape", repo.to_str().unwrap(), &sha),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.state, JobState::Error);
    assert!(outcome.message.unwrap().contains("job id \"../escape\""));

    let (outcome, _) = run(
        &job("job-opt", repo.to_str().unwrap(), "--orphan"),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.state, JobState::Error);
    assert_eq!(
        outcome.message.as_deref(),
        Some("\"--orphan\" is not a commit sha")
    );
}

/// A job waits while another job of its repository holds the cache, says so in its log,
/// and a cancel ends the wait.
#[tokio::test]
async fn a_job_waits_for_its_repositorys_cache_until_cancelled() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    let held = RepoCache::of(&settings.cache_dir, "lab/fixture")
        .try_lock()
        .unwrap()
        .expect("the lock is free");
    let cancel = CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(600)).await;
        later.cancel();
    });
    let (outcome, lines) = run(
        &job("job-wait", repo.to_str().unwrap(), &sha),
        &steps(&["true"]),
        &settings,
        cancel,
    )
    .await;
    assert_eq!(outcome.state, JobState::Cancelled);
    assert_eq!(
        outcome.message.as_deref(),
        Some("cancelled while waiting for the build cache")
    );
    assert!(outcome.steps.is_empty());
    assert!(
        has_line(
            &lines,
            "checkout",
            LogStream::System,
            "waiting for its cache"
        ),
        "{lines:#?}"
    );
    drop(held);
}

#[tokio::test]
async fn steps_do_not_see_the_agents_settings() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    // SAFETY: no other thread of this test binary reads this variable.
    unsafe { std::env::set_var("RAIBID_TEST_SECRET", "hunter2") };
    let (outcome, lines) = run(
        &job("job-env", repo.to_str().unwrap(), &sha),
        &steps(&["echo \"secret=${RAIBID_TEST_SECRET:-unset} home=$CARGO_HOME\""]),
        &settings,
        CancellationToken::new(),
    )
    .await;

    assert_eq!(outcome.state, JobState::Success);
    let home = RepoCache::of(&settings.cache_dir, "lab/fixture").cargo_home;
    let expected = format!("secret=unset home={}", home.display());
    assert!(
        has_line(
            &lines,
            "echo \"secret=${RAIBID_TEST_SECRET:-unset}",
            LogStream::Stdout,
            &expected
        ),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn dropping_a_run_midway_still_kills_its_processes() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = settings(root.path());
    let pidfile = root.path().join("grandchild.pid");
    let command = format!("sh -c 'sleep 300 & echo $! > {}; wait'", pidfile.display());
    let job = job("job-dropped", repo.to_str().unwrap(), &sha);
    let task = tokio::spawn(async move {
        run(
            &job,
            &steps(&[&command]),
            &settings,
            CancellationToken::new(),
        )
        .await
    });

    let pid = wait_for_pid(&pidfile).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) {
        assert!(
            Instant::now() < deadline,
            "grandchild {pid} survived the dropped run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The fixture crate as the private repository `mirrors/private` of a fake Gitea, with the
/// read-only credential file `raibid up` makes for agents.
async fn private_gitea(root: &Path) -> (support::gitea::FakeGitea, String, PathBuf, String) {
    let (repo, sha) = fixture_crate(root, PASSING_TEST);
    let (gitea, credential, file) = support::gitea::private_repository(root, &repo).await;
    (gitea, credential, file, sha)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_repository_is_cloned_with_the_read_only_credential_only() {
    let root = tempfile::tempdir().unwrap();
    let (gitea, credential, file, sha) = private_gitea(root.path()).await;
    let token = credential.split_once(':').unwrap().1.to_string();
    let header = support::encode_base64(credential.as_bytes());
    let clone_url = format!("{}/mirrors/private.git", gitea.url());
    let mut settings = settings(root.path());

    // Without a credential Gitea refuses, and the error says what to set.
    let (outcome, lines) = run(
        &job("job-anon", &clone_url, &sha),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.state, JobState::Error, "{lines:#?}");
    let message = outcome.message.unwrap();
    assert!(
        message.contains("the repository needs credentials: set ci.clone_credentials_file"),
        "{message}"
    );

    // With it, the clone works; the steps see neither the token nor git's config of it.
    settings.git_access = GitAccess {
        credentials_file: Some(file.clone()),
        gitea_url: gitea.url(),
        public_url: String::new(),
    };
    let (outcome, lines) = run(
        &job("job-private", &clone_url, &sha),
        &steps(&["env", "cat Cargo.toml", "git config --list --show-origin"]),
        &settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        outcome.state,
        JobState::Success,
        "{:?}\n{lines:#?}",
        outcome.message
    );
    assert!(has_line(
        &lines,
        "cat Cargo.toml",
        LogStream::Stdout,
        "fixture"
    ));
    for (step, _, line) in &lines {
        assert!(
            !line.contains(&token) && !line.contains(&header) && !line.contains("GIT_CONFIG"),
            "{step}: {line}"
        );
        assert!(!line.contains("extraheader"), "{step}: {line}");
    }

    // Clone URLs under Gitea's public address (its ROOT_URL, unreachable here) are
    // rewritten to the address the agent reaches it at.
    settings.git_access.public_url = "http://127.0.0.1:9".into();
    let (outcome, lines) = run(
        &job(
            "job-rewritten",
            "http://127.0.0.1:9/mirrors/private.git",
            &sha,
        ),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        outcome.state,
        JobState::Success,
        "{:?}\n{lines:#?}",
        outcome.message
    );

    // A revoked token: the error says the credential was refused, never what it is.
    gitea.api().revoke_tokens();
    let (outcome, lines) = run(
        &job("job-revoked", &clone_url, &sha),
        &steps(&["true"]),
        &settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.state, JobState::Error);
    let message = outcome.message.unwrap();
    assert!(
        message.contains("Gitea refused the credential in"),
        "{message}"
    );
    for text in lines.iter().map(|(_, _, line)| line).chain([&message]) {
        assert!(!text.contains(&token) && !text.contains(&header), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_read_only_credential_cannot_push_or_read_other_organisations() {
    let root = tempfile::tempdir().unwrap();
    let (gitea, credential, _, sha) = private_gitea(root.path()).await;
    let header = format!(
        "http.extraHeader=Authorization: Basic {}",
        support::encode_base64(credential.as_bytes())
    );
    let work = root.path().join("work");
    let url = format!("{}/mirrors/private.git", gitea.url());
    support::git::git(
        root.path(),
        &[
            "-c",
            &header,
            "clone",
            "--quiet",
            &url,
            work.to_str().unwrap(),
        ],
    );
    let push = std::process::Command::new("git")
        .current_dir(&work)
        .args([
            "-c",
            &header,
            "push",
            "--quiet",
            "origin",
            &format!("{sha}:refs/heads/x"),
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(!push.status.success(), "a read-only token pushed");
    let admin = format!(
        "http.extraHeader=Authorization: Basic {}",
        support::encode_base64(format!("raibid:{}", support::gitea::ADMIN_PASSWORD).as_bytes())
    );
    support::git::git(
        &work,
        &[
            "-c",
            &admin,
            "push",
            "--quiet",
            "origin",
            &format!("{sha}:refs/heads/x"),
        ],
    );

    // A repository of an organisation the reader's team does not belong to.
    let other = gitea.repository("someone-else", "secret");
    support::git::git(
        root.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            work.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    let clone = std::process::Command::new("git")
        .current_dir(root.path())
        .args([
            "-c",
            &header,
            "clone",
            "--quiet",
            &format!("{}/someone-else/secret.git", gitea.url()),
            "elsewhere",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(
        !clone.status.success(),
        "read outside the lab's organisations"
    );
    let url = format!("{}/someone-else/secret.git", gitea.url());
    support::git::git(
        root.path(),
        &["-c", &admin, "clone", "--quiet", &url, "as-admin"],
    );
}

/// Whether bubblewrap can create its namespaces here; says why a test is skipped if not.
fn bwrap_sandboxes_here() -> bool {
    let works = std::process::Command::new("bwrap")
        .args(["--ro-bind", "/", "/", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        eprintln!(
            "skipped: bubblewrap cannot create namespaces here (`bwrap --ro-bind / / true` fails)"
        );
    }
    works
}

fn isolated(root: &Path, sandbox: SandboxMode, step_user: Option<StepUser>) -> RunnerSettings {
    RunnerSettings {
        isolation: Isolation { sandbox, step_user },
        ..settings(root)
    }
}

#[tokio::test]
async fn a_crate_builds_and_tests_in_the_sandbox() {
    if !bwrap_sandboxes_here() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = fixture_crate(root.path(), PASSING_TEST);
    let settings = isolated(root.path(), SandboxMode::Bwrap, None);
    let steps = runner::steps_for("lab/fixture", &CiConfig::default());
    let job = job("job-sandboxed", repo.to_str().unwrap(), &sha);
    let (outcome, lines) = run(&job, &steps, &settings, CancellationToken::new()).await;

    assert_eq!(outcome.state, JobState::Success, "{lines:#?}");
    assert!(has_line(
        &lines,
        "checkout",
        LogStream::System,
        "steps run in a bubblewrap sandbox"
    ));
    assert!(has_line(
        &lines,
        "cargo test",
        LogStream::Stdout,
        "test adds ... ok"
    ));
    // The build went to the repository's cache, which outlives the job; its home did not.
    let cache = RepoCache::of(&settings.cache_dir, "lab/fixture");
    assert!(cache.target_dir.join("debug").is_dir());
    assert!(
        !settings
            .workspace_root
            .join("agent-1/job-sandboxed.home")
            .exists()
    );
}

/// A crate source the victim's first build plants in its cargo home, and its next build
/// reads back.
const VICTIM: &str = "src=$CARGO_HOME/registry/src/index/dep-1.0.0; \
    if [ -f $src/lib.rs ]; then cat $src/lib.rs; \
    else mkdir -p $src && echo 'pub fn original() {}' > $src/lib.rs; fi";

/// Builds the victim repository, then an attacker repository whose step rewrites every
/// crate source it can reach under the cache dir and plants a file in every folder,
/// then the victim again: its second build must read what its first one left.
async fn tamper_with_the_cache(settings: &RunnerSettings, root: &Path) {
    let (repo, sha) = fixture_crate(root, PASSING_TEST);
    let url = repo.to_str().unwrap();
    let as_repo = |id: &str, name: &str| Job {
        repo: name.into(),
        ..job(id, url, &sha)
    };
    let victim = steps(&[VICTIM]);
    let (first, lines) = run(
        &as_repo("victim-1", "lab/victim"),
        &victim,
        settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(first.state, JobState::Success, "{lines:#?}");

    let cache_dir = settings.cache_dir.display();
    let attack = format!(
        "find {cache_dir} -name '*.rs' -exec sh -c 'echo \"compile_error!(planted);\" > \"$1\"' _ {{}} \\; 2>/dev/null; \
         find {cache_dir} -type d -exec sh -c 'echo planted > \"$1/planted.rs\"' _ {{}} \\; 2>/dev/null; true"
    );
    let (attacked, lines) = run(
        &as_repo("attacker-1", "lab/attacker"),
        &steps(&[&attack]),
        settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(attacked.state, JobState::Success, "{lines:#?}");
    // The attack ran: it reached the attacker's own cache.
    let own = RepoCache::of(&settings.cache_dir, "lab/attacker");
    assert!(
        own.cargo_home.join("planted.rs").exists(),
        "the attack did not run"
    );

    let (second, lines) = run(
        &as_repo("victim-2", "lab/victim"),
        &victim,
        settings,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(second.state, JobState::Success, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|(_, stream, line)| *stream == LogStream::Stdout && line == "pub fn original() {}"),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|(_, _, line)| line.contains("planted")),
        "{lines:#?}"
    );
    let theirs = RepoCache::of(&settings.cache_dir, "lab/victim");
    for dir in [&theirs.cargo_home, &theirs.target_dir] {
        let planted: Vec<_> = walk(dir)
            .into_iter()
            .filter(|path| path.ends_with("planted.rs"))
            .collect();
        assert!(planted.is_empty(), "{planted:?}");
    }
}

/// Every file and folder under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            let mut found = walk(&path);
            found.push(path);
            found
        })
        .collect()
}

#[tokio::test]
async fn a_sandboxed_build_cannot_change_another_repositorys_cache() {
    if !bwrap_sandboxes_here() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let settings = isolated(root.path(), SandboxMode::Bwrap, None);
    tamper_with_the_cache(&settings, root.path()).await;
}

#[tokio::test]
async fn a_build_as_the_step_user_cannot_change_another_repositorys_cache() {
    // SAFETY: getuid(2) cannot fail.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: only an agent running as root can start steps as another user");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    // The step user passes through the test's folder to its workspace and cache.
    std::fs::set_permissions(
        root.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o711),
    )
    .unwrap();
    let user = StepUser {
        uid: 1001,
        gid: 1001,
    };
    let settings = isolated(root.path(), SandboxMode::Off, Some(user));
    tamper_with_the_cache(&settings, root.path()).await;
}
