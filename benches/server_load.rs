//! Load held: signed Gitea pushes at a steady rate against `raibid server` (the release
//! binary, as a process) and a redis-server of its own (AOF `everysec`, `noeviction`, as
//! the lab runs it). Reports the accept latency (p50, p99, max), the server's resident
//! memory, and checks that every accepted push is exactly one job in Redis. Beside it,
//! `redis-benchmark` XADD on the same redis-server: what a bare stream append costs.
//! Then the abuse the issue measured: 150 clients each send all but the last byte of a
//! body at the size limit and stall; the server's memory while they hang, and how long
//! until the server has cut them all (`server.request_timeout_secs`, default 30 s).
//!
//! Run with `cargo bench --bench server_load` (or `just bench-server`); figures go to
//! docs/benchmarks.md. `RAIBID_BENCH_RATE` sets the pushes per second (default 50) and
//! `RAIBID_BENCH_SECONDS` the duration (default 60).

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use raibid::backend::queue::contract::Keys;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::MissedTickBehavior;

const TOKEN: &str = "bench-api-token";
const SECRET: &str = "bench-webhook-secret";
const PREFIX: &str = "bench";
const PUSH: &str = include_str!("../tests/fixtures/gitea_push.json");
const PUSHED_SHA: &str = "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e";
/// Stalled clients, and the size each claims (`server.body_limit_bytes`' default).
const STALLED: usize = 150;
const STALLED_BODY: usize = 1 << 20;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(dir: &std::path::Path, port: u16) -> Process {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ])
        .args(["--maxmemory-policy", "noeviction"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed");
    wait_for_port(port, "redis-server");
    Process(child)
}

fn start_server(dir: &std::path::Path, redis_port: u16, port: u16) -> Process {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[ci]\nredis_url = \"redis://127.0.0.1:{redis_port}/0\"\nqueue_prefix = \"{PREFIX}\"\n\
             [gitea]\nurl = \"http://gitea.lab:3000\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    )
    .expect("the server's config");
    let child = Command::new(env!("CARGO_BIN_EXE_raibid"))
        .arg("--config")
        .arg(&config)
        .arg("server")
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("RAIBID_SERVER_TOKEN", TOKEN)
        .env("RAIBID_GITEA_WEBHOOK_SECRET", SECRET)
        .env("RAIBID_LOG", "warn")
        .env_remove("RAIBID_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the raibid binary");
    wait_for_port(port, "raibid server");
    Process(child)
}

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Push number `n`: its own commit, so no replay check can merge two pushes (and never
/// all zeros, which a forge sends for a deleted branch).
fn push_body(n: usize) -> String {
    PUSH.replace(PUSHED_SHA, &format!("{:040x}", n + 1))
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// How one push was answered.
struct Answer {
    latency: Duration,
    /// The job id of a queued push.
    job: Option<String>,
    status: u16,
}

async fn push(http: reqwest::Client, url: String, n: usize) -> Answer {
    let body = push_body(n);
    let started = Instant::now();
    let response = http
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Gitea-Event", "push")
        .header("X-Gitea-Delivery", format!("bench-{n}"))
        .header("X-Gitea-Signature", sign(&body))
        .body(body)
        .send()
        .await;
    let Ok(response) = response else {
        return Answer {
            latency: started.elapsed(),
            job: None,
            status: 0,
        };
    };
    let status = response.status().as_u16();
    let answer: serde_json::Value = response.json().await.unwrap_or_default();
    let latency = started.elapsed();
    let job = (answer["queued"] == true)
        .then(|| answer["job"].as_str().map(str::to_string))
        .flatten();
    Answer {
        latency,
        job,
        status,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Job ids in the jobs stream, each with how often it is there, and the index's size.
async fn jobs_in_redis(redis_port: u16) -> (HashMap<String, usize>, usize) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{redis_port}/0")).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let keys = Keys::new(PREFIX);
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(keys.jobs())
        .arg("-")
        .arg("+")
        .query_async(&mut redis)
        .await
        .unwrap();
    let mut jobs = HashMap::new();
    for entry in entries.ids {
        let job: String = entry.get("job").expect("a job field");
        let job: serde_json::Value = serde_json::from_str(&job).unwrap();
        *jobs
            .entry(job["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let indexed: usize = redis::cmd("ZCARD")
        .arg(keys.index())
        .query_async(&mut redis)
        .await
        .unwrap();
    (jobs, indexed)
}

/// `redis-benchmark` XADD, one client in a loop: requests per second and latency p50/p99
/// in milliseconds, from its CSV line.
fn redis_benchmark_xadd(port: u16, requests: usize) -> (f64, f64, f64) {
    let output = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-n", &requests.to_string()])
        .args(["-c", "1", "--csv"])
        .args([
            "XADD",
            "bare:stream",
            "MAXLEN",
            "~",
            "10000",
            "*",
            "job",
            "x",
        ])
        .output()
        .expect("redis-benchmark is installed (package redis-tools)");
    let csv = String::from_utf8_lossy(&output.stdout);
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
    // "p99_latency_ms","max_latency_ms"
    let fields: Vec<f64> = csv
        .lines()
        .nth(1)
        .map(|line| {
            line.split(',')
                .skip(1)
                .filter_map(|field| field.trim_matches('"').parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(fields.len() >= 6, "no figures from redis-benchmark: {csv}");
    (fields[0], fields[3], fields[5])
}

/// One client that sends all but the last byte of a body and waits: how long until the
/// server closed its connection.
async fn stall_body(port: u16) -> Duration {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("a connection");
    let head = format!(
        "POST /webhooks/gitea HTTP/1.1\r\nHost: raibid\r\nContent-Type: application/json\r\n\
         X-Gitea-Event: push\r\nContent-Length: {STALLED_BODY}\r\n\r\n"
    );
    let started = Instant::now();
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&vec![b' '; STALLED_BODY - 1]).await;
    let mut buffer = [0; 1024];
    while let Ok(1..) = stream.read(&mut buffer).await {}
    started.elapsed()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rate = env_number("RAIBID_BENCH_RATE", 50).max(1);
    let seconds = env_number("RAIBID_BENCH_SECONDS", 60).max(1);
    let dir = tempfile::tempdir().expect("a temp dir");
    let redis_port = free_port();
    let _redis = start_redis(dir.path(), redis_port);
    let port = free_port();
    let server = start_server(dir.path(), redis_port, port);
    let pid = server.0.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let rss_idle = rss_kib(pid);
    let total = (rate * seconds) as usize;
    let url = format!("http://127.0.0.1:{port}/webhooks/gitea");
    let (answers, rss_peak, elapsed) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut sent = Vec::with_capacity(total);
        let mut rss_peak = rss_idle;
        let mut last_sample = Instant::now();
        let started = Instant::now();
        for n in 0..total {
            ticks.tick().await;
            sent.push(tokio::spawn(push(http.clone(), url.clone(), n)));
            if last_sample.elapsed() >= Duration::from_millis(250) {
                rss_peak = rss_peak.max(rss_kib(pid));
                last_sample = Instant::now();
            }
        }
        let mut answers = Vec::with_capacity(total);
        for task in sent {
            answers.push(task.await.expect("a push task"));
        }
        let elapsed = started.elapsed();
        (answers, rss_peak.max(rss_kib(pid)), elapsed)
    });
    let rss_after = rss_kib(pid);

    let mut latencies: Vec<Duration> = answers
        .iter()
        .filter(|answer| answer.job.is_some())
        .map(|answer| answer.latency)
        .collect();
    latencies.sort();
    assert!(!latencies.is_empty(), "no push was accepted");
    let accepted: Vec<&String> = answers.iter().filter_map(|a| a.job.as_ref()).collect();
    let refused = answers.len() - accepted.len();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for answer in &answers {
        *statuses.entry(answer.status).or_default() += 1;
    }

    let (in_stream, indexed) = runtime.block_on(jobs_in_redis(redis_port));
    let once = accepted
        .iter()
        .filter(|job| in_stream.get(job.as_str()) == Some(&1))
        .count();
    assert_eq!(
        once,
        accepted.len(),
        "an accepted push is not exactly one job"
    );
    assert_eq!(in_stream.len(), accepted.len(), "a job nobody was told of");
    assert_eq!(indexed, accepted.len(), "the index disagrees");

    let (stalled_peak, cut_after, rss_cut) = runtime.block_on(async {
        let clients: Vec<_> = (0..STALLED)
            .map(|_| tokio::spawn(stall_body(port)))
            .collect();
        let mut peak = 0;
        while clients.iter().any(|client| !client.is_finished()) {
            peak = peak.max(rss_kib(pid));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let mut cut_after = Duration::ZERO;
        for client in clients {
            cut_after = cut_after.max(client.await.expect("a stalled client"));
        }
        (peak, cut_after, rss_kib(pid))
    });
    drop(server);

    let (xadd_rps, xadd_p50, xadd_p99) = redis_benchmark_xadd(redis_port, 20_000);

    println!(
        "\n{total} signed Gitea pushes at {rate}/s for {seconds} s (sent in {:.1} s)\n",
        elapsed.as_secs_f64()
    );
    println!("| figure | value |\n|---|---|");
    println!("| accepted (202, queued) | {} |", accepted.len());
    println!("| not accepted | {refused} (statuses: {statuses:?}) |");
    println!(
        "| accepted pushes that are exactly one job in Redis | {once} of {} |",
        accepted.len()
    );
    println!(
        "| accept latency p50 | {:.2} ms |",
        millis(percentile(&latencies, 0.50))
    );
    println!(
        "| accept latency p99 | {:.2} ms |",
        millis(percentile(&latencies, 0.99))
    );
    println!(
        "| accept latency max | {:.2} ms |",
        millis(*latencies.last().unwrap())
    );
    println!("| server RSS idle | {:.1} MiB |", rss_idle as f64 / 1024.0);
    println!(
        "| server RSS peak under load | {:.1} MiB |",
        rss_peak as f64 / 1024.0
    );
    println!(
        "| server RSS after | {:.1} MiB |",
        rss_after as f64 / 1024.0
    );
    println!(
        "| server RSS peak with {STALLED} stalled {} MiB bodies | {:.1} MiB |",
        STALLED_BODY >> 20,
        stalled_peak as f64 / 1024.0
    );
    println!(
        "| last stalled client cut after | {:.1} s |",
        cut_after.as_secs_f64()
    );
    println!(
        "| server RSS once they are cut | {:.1} MiB |",
        rss_cut as f64 / 1024.0
    );
    println!(
        "\nbaseline, same redis-server: redis-benchmark XADD, 1 client: {xadd_rps:.0}/s, \
         p50 {xadd_p50:.3} ms, p99 {xadd_p99:.3} ms"
    );
}
