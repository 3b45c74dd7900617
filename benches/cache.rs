//! Build caches: the same unchanged crate built by the real runner with an empty cache
//! (what every ephemeral agent did before) and with the repository's cache left by the
//! previous job. The crate is `app`: serde with derive and serde_json, 11 dependencies
//! (serde, serde_core, serde_derive, proc-macro2, quote, syn, unicode-ident, serde_json,
//! itoa, memchr, zmij), vendored from this machine's cargo registry into a directory
//! source at a fixed path, so it builds offline the way registry crates do: from the same
//! paths in every job. Run with `cargo bench --bench cache`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use raibid::backend::ci::runner::{self, RunnerSettings, Step};
use raibid::backend::ci::sandbox::{Isolation, SandboxMode};
use raibid::backend::queue::contract::{CacheReport, Job, JobState, Trigger};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The dependencies, at the versions this repository's Cargo.lock pins.
const VENDORED: [&str; 11] = [
    "serde-1.0.229",
    "serde_core-1.0.229",
    "serde_derive-1.0.229",
    "proc-macro2-1.0.107",
    "quote-1.0.47",
    "syn-3.0.9",
    "unicode-ident-1.0.27",
    "serde_json-1.0.154",
    "itoa-1.0.18",
    "memchr-2.8.3",
    "zmij-1.0.23",
];
const ROUNDS: usize = 3;

fn main() {
    let root = tempfile::tempdir().unwrap();
    let vendor = root.path().join("vendor");
    if let Err(missing) = vendor_crates(&vendor) {
        eprintln!(
            "cache bench: {missing} is not in the local cargo registry; build raibid once first"
        );
        std::process::exit(2);
    }
    let (repo, sha) = app_repo(&root.path().join("app"), &vendor);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for round in 0..ROUNDS {
        // A cache dir of its own per round: the first build is cold, the second finds
        // what the first left.
        let settings = RunnerSettings {
            workspace_root: root.path().join("workspaces"),
            agent: "bench".into(),
            cache_dir: root.path().join(format!("cache-{round}")),
            sccache_dir: None,
            step_timeout: Duration::from_secs(1800),
            job_timeout: Duration::from_secs(3600),
            git_access: Default::default(),
            // The vendored sources lie outside what a sandbox shows a step.
            isolation: Isolation {
                sandbox: SandboxMode::Off,
                step_user: None,
            },
        };
        for (label, times) in [("cold", &mut cold), ("warm", &mut warm)] {
            let job = job(&format!("{label}-{round}"), &repo, &sha);
            let (took, cache) = runtime.block_on(build(&job, &settings));
            println!(
                "round {round} {label}: {:>6.2} s, target dir {}, crates compiled: {}",
                took.as_secs_f64(),
                if cache.warm { "warm" } else { "cold" },
                cache.compiled
            );
            times.push(took);
        }
    }
    println!(
        "\nbuild of `app` (11 dependencies), median of {ROUNDS}: cold {:.2} s, warm {:.2} s",
        median(&mut cold).as_secs_f64(),
        median(&mut warm).as_secs_f64()
    );
}

/// Runs `cargo build --offline` for `job` through the runner: the whole job's time
/// (clone included) and its cache report.
async fn build(job: &Job, settings: &RunnerSettings) -> (Duration, CacheReport) {
    let (log, mut lines) = mpsc::channel(1024);
    let drain = tokio::spawn(async move { while lines.recv().await.is_some() {} });
    let steps = [Step::new("cargo build --offline")];
    let started = Instant::now();
    let outcome = runner::run(job, &steps, settings, &log, CancellationToken::new()).await;
    let took = started.elapsed();
    drop(log);
    drain.await.unwrap();
    assert_eq!(outcome.state, JobState::Success, "{:?}", outcome.message);
    (took, outcome.cache)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Copies the dependencies' sources from the local registry into a directory source;
/// the first one missing is the error.
fn vendor_crates(vendor: &Path) -> Result<(), &'static str> {
    std::fs::create_dir_all(vendor).unwrap();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let registries: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/src"))
        .map(|dirs| dirs.flatten().map(|dir| dir.path()).collect())
        .unwrap_or_default();
    for name in VENDORED {
        let source = registries
            .iter()
            .map(|registry| registry.join(name))
            .find(|dir| dir.is_dir())
            .ok_or(name)?;
        let status = Command::new("cp")
            .arg("-r")
            .arg(&source)
            .arg(vendor.join(name))
            .status()
            .unwrap();
        assert!(status.success());
        // A directory source wants a checksum file; without file sums cargo trusts it.
        std::fs::write(
            vendor.join(name).join(".cargo-checksum.json"),
            r#"{"files":{},"package":null}"#,
        )
        .unwrap();
    }
    Ok(())
}

/// The `app` crate in a new git repository using `vendor` for crates.io; its path and HEAD.
fn app_repo(repo: &Path, vendor: &Path) -> (PathBuf, String) {
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::create_dir_all(repo.join(".cargo")).unwrap();
    let files = [
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n".to_string(),
        ),
        (
            "src/main.rs",
            "#[derive(serde::Serialize, serde::Deserialize)]\nstruct Point { x: i32, y: i32 }\n\nfn main() {\n    println!(\"{}\", serde_json::to_string(&Point { x: 1, y: 2 }).unwrap());\n}\n".to_string(),
        ),
        (
            ".cargo/config.toml",
            format!(
                "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"{}\"\n",
                vendor.display()
            ),
        ),
        (".gitignore", "target/\nCargo.lock\n".to_string()),
    ];
    for (file, text) in files {
        std::fs::write(repo.join(file), text).unwrap();
    }
    git(repo, &["init", "--quiet", "--initial-branch=main"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "--quiet", "-m", "app"]);
    let sha = git(repo, &["rev-parse", "HEAD"]);
    (repo.to_path_buf(), sha)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.org",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn job(id: &str, repo: &Path, sha: &str) -> Job {
    Job {
        id: id.into(),
        repo: "lab/app".into(),
        clone_url: repo.to_str().unwrap().into(),
        git_ref: "refs/heads/main".into(),
        sha: sha.into(),
        trigger: Trigger::Manual,
        requested_by: "bench".into(),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
        timeout_secs: 3600,
    }
}
