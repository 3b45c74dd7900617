//! Dispatch latency: from a webhook accepted by `raibid server` to a warm `raibid agent`
//! starting the job (the job's `created_at` to its `started_at`, both stamped on this
//! machine). Real binaries, a real redis-server; the job's one step is `true`, so the
//! agent is idle again at once. Run with `cargo bench --bench dispatch`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");
const TOKEN: &str = "bench-token";
const SECRET: &str = "bench-secret";
const JOBS: usize = 200;

fn main() {
    let root = tempfile::tempdir().unwrap();
    let redis = support::redis::RedisServer::start();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = root.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[ci]\nredis_url = \"{}\"\nsteps = [\"true\"]\nworkspace_dir = \"{}/ws\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
            redis.url(),
            root.path().display()
        ),
    )
    .unwrap();
    let repo = fixture(root.path());
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    let spawn = |args: &[&str]| -> Child {
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("XDG_DATA_HOME", root.path().join("data"))
            .env("RAIBID_SERVER_TOKEN", TOKEN)
            .env("RAIBID_GITEA_WEBHOOK_SECRET", SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut server = spawn(&["server"]);
    let mut agent = spawn(&["agent", "--id", "bench"]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port}");

    let mut latencies = Vec::with_capacity(JOBS);
    runtime.block_on(async {
        wait(|| async {
            http.get(format!("{api}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        // The first job warms the agent (its workspace dir, the clone path); it is not counted.
        for n in 0..=JOBS {
            let id = push(&http, &api, &repo, &sha, n).await;
            let record = wait_final(&http, &api, &id).await;
            if n == 0 {
                continue;
            }
            let created: jiff::Timestamp = record["job"]["created_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let started: jiff::Timestamp = record["status"]["started_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            latencies.push(started.duration_since(created).unsigned_abs());
        }
    });
    let _ = agent.kill();
    let _ = server.kill();
    let _ = (agent.wait(), server.wait());

    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "dispatch latency, webhook accepted -> warm agent started, {} jobs: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        latencies.last().unwrap()
    );
}

async fn wait<F, Fut>(mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready().await {
        assert!(Instant::now() < deadline, "gave up waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn push(http: &reqwest::Client, api: &str, repo: &Path, sha: &str, n: usize) -> String {
    let body = serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "after": sha,
        "repository": { "full_name": "bench/fixture", "clone_url": repo.to_str().unwrap() },
        "pusher": { "login": "bench", "username": "bench" }
    }))
    .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let response = http
        .post(format!("{api}/webhooks/gitea"))
        .header("content-type", "application/json")
        .header("X-Gitea-Event", "push")
        .header(
            "X-Gitea-Delivery",
            format!("00000000-0000-4000-8000-{n:012}"),
        )
        .header(
            "X-Gitea-Signature",
            hex::encode(mac.finalize().into_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    answer["job"]
        .as_str()
        .unwrap_or_else(|| panic!("not queued: {answer}"))
        .to_string()
}

async fn wait_final(http: &reqwest::Client, api: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let record: Value = http
            .get(format!("{api}/jobs/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let state = record["status"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !["queued", "running"].contains(&state.as_str()) {
            assert_eq!(state, "success", "{record}");
            return record;
        }
        assert!(Instant::now() < deadline, "job {id} did not finish");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn fixture(root: &Path) -> std::path::PathBuf {
    let repo = root.join("fixture");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("README.md"), "bench\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(
        &repo,
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@lab",
            "commit",
            "-q",
            "-m",
            "bench",
        ],
    );
    repo
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
