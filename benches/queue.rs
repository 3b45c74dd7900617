//! Queue throughput: jobs per second through enqueue -> claim -> finish, beside
//! `redis-benchmark` on the same redis-server. Starts its own redis-server (AOF on, as the
//! queue requires) once per fsync policy. Run with `cargo bench --bench queue`; figures go
//! to docs/benchmarks.md. `RAIBID_BENCH_JOBS` sets the jobs per run (default 2000).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use raibid::backend::queue::contract::{Job, JobState, JobStatus, Trigger};
use raibid::backend::queue::{Queue, QueueSettings, new_job_id};

/// How long an agent blocks for a job before it counts the run as stalled.
const CLAIM_BLOCK: Duration = Duration::from_secs(5);

/// A throwaway redis-server on a free port, killed on drop.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(appendfsync: &str) -> Server {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", appendfsync])
            .args(["--maxmemory-policy", "noeviction"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Row {
    what: String,
    count: usize,
    seconds: f64,
}

impl Row {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.seconds
    }
}

fn settings() -> QueueSettings {
    QueueSettings {
        heartbeat: Duration::from_secs(5),
        reclaim_after: Duration::from_secs(30),
        max_deliveries: 3,
        log_lines: 10_000,
        log_line_bytes: 8192,
        retention: Duration::from_secs(86_400),
        replay_window: Duration::from_secs(3600),
    }
}

fn job(n: usize) -> Job {
    Job {
        id: new_job_id(),
        repo: format!("bench/repo-{}", n % 10),
        clone_url: "/srv/git/bench.git".to_string(),
        git_ref: "refs/heads/main".to_string(),
        sha: "9fceb02d0ae598e95dc970b74767f19372d61af8".to_string(),
        trigger: Trigger::Push,
        requested_by: "bench".to_string(),
        created_at: Timestamp::now(),
        attempt: 1,
        timeout_secs: 3600,
    }
}

async fn connect(server: &Server, prefix: &str) -> Queue {
    Queue::connect(&server.url(), prefix, settings())
        .await
        .expect("the bench's redis-server")
}

/// One producer queues `jobs` jobs while nobody consumes.
async fn enqueue_only(server: &Server, jobs: usize) -> Row {
    let queue = connect(server, "enqueue-only").await;
    let started = Instant::now();
    for n in 0..jobs {
        queue.enqueue(&job(n)).await.expect("enqueue");
    }
    Row {
        what: "enqueue only, 1 producer".to_string(),
        count: jobs,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// One producer queues `jobs` jobs while `agents` agents, each with its own connections as
/// separate processes would have, claim and finish them; timed until the last is finished.
async fn through(server: &Server, jobs: usize, agents: usize) -> Row {
    let prefix = format!("through-{agents}");
    let producer = connect(server, &prefix).await;
    let mut workers = Vec::new();
    for a in 0..agents {
        let queue = connect(server, &prefix).await;
        workers.push(tokio::spawn(async move {
            let name = format!("agent-{a}");
            let mut done = 0;
            while let Some(claimed) = queue.claim(&name, CLAIM_BLOCK).await.expect("claim") {
                let status = JobStatus {
                    state: JobState::Success,
                    finished_at: Some(Timestamp::now()),
                    ..claimed.status.clone()
                };
                assert!(
                    queue
                        .finish(&claimed, &name, &status)
                        .await
                        .expect("finish")
                );
                done += 1;
            }
            done
        }));
    }
    let started = Instant::now();
    for n in 0..jobs {
        producer.enqueue(&job(n)).await.expect("enqueue");
    }
    // Each agent stops after a CLAIM_BLOCK without work: wait for the queue to drain instead.
    loop {
        let stats = producer.stats().await.expect("stats");
        if stats.depth == 0 && stats.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut finished = 0;
    for worker in workers {
        finished += worker.await.expect("agent task");
    }
    assert_eq!(finished, jobs, "every job finished once");
    Row {
        what: format!("enqueue -> claim -> finish, 1 producer, {agents} agent(s)"),
        count: jobs,
        seconds,
    }
}

/// `redis-benchmark` running `args` with `clients` connections; its requests per second.
fn redis_benchmark(
    server: &Server,
    requests: usize,
    clients: usize,
    what: &str,
    args: &[&str],
) -> Row {
    let output = Command::new("redis-benchmark")
        .args(["-p", &server.port.to_string(), "-n", &requests.to_string()])
        .args(["-c", &clients.to_string(), "--csv"])
        .args(args)
        .output()
        .expect("redis-benchmark is installed (package redis-tools)");
    let csv = String::from_utf8_lossy(&output.stdout);
    let rps: f64 = csv
        .lines()
        .nth(1)
        .and_then(|line| line.split(',').nth(1))
        .and_then(|field| field.trim_matches('"').parse().ok())
        .unwrap_or_else(|| panic!("no figure from redis-benchmark: {csv}"));
    Row {
        what: format!("redis-benchmark {what}, {clients} client(s)"),
        count: requests,
        seconds: requests as f64 / rps,
    }
}

fn main() {
    let jobs: usize = std::env::var("RAIBID_BENCH_JOBS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let xadd = [
        "XADD",
        "bench:stream",
        "MAXLEN",
        "~",
        "10000",
        "*",
        "job",
        "x",
    ];
    for appendfsync in ["everysec", "always"] {
        let server = Server::start(appendfsync);
        let mut rows = vec![
            runtime.block_on(enqueue_only(&server, jobs)),
            runtime.block_on(through(&server, jobs, 1)),
            runtime.block_on(through(&server, jobs, 2)),
        ];
        for clients in [1, 50] {
            rows.push(redis_benchmark(&server, 20_000, clients, "XADD", &xadd));
            rows.push(redis_benchmark(
                &server,
                20_000,
                clients,
                "SET",
                &["-t", "set"],
            ));
        }
        println!("\nredis-server AOF appendfsync {appendfsync}, {jobs} jobs per queue run\n");
        println!(
            "| {:<58} | {:>7} | {:>8} | {:>9} |",
            "run", "count", "seconds", "per s"
        );
        println!("|{:-<60}|{:->9}|{:->10}|{:->11}|", "", "", "", "");
        for row in &rows {
            println!(
                "| {:<58} | {:>7} | {:>8.3} | {:>9.0} |",
                row.what,
                row.count,
                row.seconds,
                row.per_second()
            );
        }
    }
}
