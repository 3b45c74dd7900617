//! The CI agent pool end to end, with the real binaries: a signed Gitea push reaches
//! `raibid server`, `raibid agent` builds and tests the pushed fixture crate, the job ends
//! with its log; and the faults: a failing crate, a cancel mid-build, an agent killed with
//! SIGKILL mid-job, redis-server restarted while jobs wait.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::git::crate_repo;
use support::redis::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");
const TOKEN: &str = "e2e-api-token";
const SECRET: &str = "e2e-webhook-secret";

/// The fixture repositories the tests push, listed in `ci.local_repos`.
const FIXTURES: [&str; 8] = [
    "bad",
    "durable-1",
    "durable-2",
    "durable-3",
    "good",
    "logged",
    "slow",
    "steady",
];

/// One lab: redis, a config, `raibid server`, and the agents the test starts, each
/// process's stderr in `<root>/<name>.stderr`.
struct Lab {
    root: tempfile::TempDir,
    redis: RedisServer,
    server: Option<Child>,
    agents: Vec<Child>,
    api: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Lab {
    fn start() -> Lab {
        Lab::start_with(&[])
    }

    /// A lab whose server runs with `env` added to its environment.
    fn start_with(env: &[(&str, &str)]) -> Lab {
        let root = tempfile::tempdir().unwrap();
        let redis = RedisServer::start();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // The fixtures pushed are local repositories the operator lists.
        let local_repos: String = FIXTURES
            .iter()
            .map(|name| {
                format!(
                    "\"lab/{name}\" = \"{}/repos/{name}\"\n",
                    root.path().display()
                )
            })
            .collect();
        // Build caches under the lab keep builds offline and quick.
        let config = format!(
            "[ci]\nredis_url = \"{}\"\nheartbeat_secs = 1\nreclaim_after_secs = 3\njob_timeout_secs = 120\n\
             steps = [\"cargo build --offline\", \"cargo test --offline\"]\n\
             workspace_dir = \"{root}/workspaces\"\ncache_dir = \"{root}/cache\"\n\
             [ci.local_repos]\n{local_repos}\
             [server]\nlisten = \"127.0.0.1:{port}\"\n",
            redis.url(),
            root = root.path().display(),
        );
        std::fs::write(root.path().join("config.toml"), config).unwrap();
        let mut lab = Lab {
            root,
            redis,
            server: None,
            agents: Vec::new(),
            api: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        };
        lab.server = Some(lab.spawn("server", &["server"], env));
        lab.wait_for(Lab::ready);
        lab
    }

    /// Sends a request; the status and the body, or `None` when nothing answered.
    fn send(&self, request: reqwest::RequestBuilder) -> Option<(u16, String)> {
        self.runtime.block_on(async {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            Some((status, response.text().await.ok()?))
        })
    }

    fn ready(&self) -> bool {
        self.send(self.http.get(format!("{}/readyz", self.api)))
            .is_some_and(|(status, _)| status == 200)
    }

    fn post(&self, path: &str) -> (u16, String) {
        self.send(
            self.http
                .post(format!("{}{path}", self.api))
                .bearer_auth(TOKEN),
        )
        .expect("the server answers")
    }

    fn spawn(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
        let stderr = std::fs::File::create(self.stderr_file(name)).unwrap();
        Command::new(BIN)
            .arg("--config")
            .arg(self.root.path().join("config.toml"))
            .args(args)
            .env("XDG_CONFIG_HOME", self.root.path().join("home/config"))
            .env("XDG_DATA_HOME", self.root.path().join("home/data"))
            .env("RAIBID_SERVER_TOKEN", TOKEN)
            .env("RAIBID_GITEA_WEBHOOK_SECRET", SECRET)
            .env_remove("RAIBID_CONFIG")
            .env_remove("RAIBID_LOG")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap()
    }

    fn stderr_file(&self, name: &str) -> PathBuf {
        self.root.path().join(format!("{name}.stderr"))
    }

    /// What the process `name` wrote to its stderr so far.
    fn stderr_of(&self, name: &str) -> String {
        std::fs::read_to_string(self.stderr_file(name)).unwrap()
    }

    fn agent(&mut self, name: &str, once: bool) -> usize {
        self.agent_with(name, once, &[])
    }

    fn agent_with(&mut self, name: &str, once: bool, env: &[(&str, &str)]) -> usize {
        let mut args = vec!["agent", "--id", name];
        if once {
            args.push("--once");
        }
        let child = self.spawn(name, &args, env);
        self.agents.push(child);
        self.agents.len() - 1
    }

    fn wait_for(&self, mut ready: impl FnMut(&Lab) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !ready(self) {
            assert!(Instant::now() < deadline, "gave up waiting");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A crate in its own git repository; `test_body` is the body of its one test.
    fn fixture(&self, name: &str, test_body: &str) -> (PathBuf, String) {
        let dir = self.root.path().join("repos").join(name);
        let lib = format!(
            "pub fn answer() -> u32 {{ 42 }}\n\n#[test]\nfn it_works() {{\n    {test_body}\n}}\n"
        );
        let sha = crate_repo(&dir, name, &lib);
        (dir, sha)
    }

    /// Delivers a signed Gitea push of `repo` at `sha`; returns the queued job's id.
    fn push(&self, repo: &Path, sha: &str, delivery: &str) -> String {
        let (body, signature) = support::git::signed_gitea_push(repo, sha, SECRET);
        let request = self
            .http
            .post(format!("{}/webhooks/gitea", self.api))
            .header("content-type", "application/json")
            .header("X-Gitea-Event", "push")
            .header("X-Gitea-Delivery", delivery)
            .header("X-Gitea-Signature", signature)
            .body(body);
        let (status, text) = self.send(request).expect("the server answers");
        assert_eq!(status, 202, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["queued"], true, "{answer}");
        answer["job"].as_str().unwrap().to_string()
    }

    fn job(&self, id: &str) -> Value {
        let request = self
            .http
            .get(format!("{}/jobs/{id}", self.api))
            .bearer_auth(TOKEN);
        let (status, text) = self.send(request).expect("the server answers");
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    fn state(&self, id: &str) -> String {
        self.job(id)["status"]["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn wait_for_state(&self, id: &str, wanted: &[&str]) -> Value {
        self.wait_for(|lab| wanted.contains(&lab.state(id).as_str()));
        self.job(id)
    }

    /// The whole log, read through the server's SSE endpoint (no follow).
    fn log(&self, id: &str) -> String {
        let request = self
            .http
            .get(format!("{}/jobs/{id}/logs", self.api))
            .bearer_auth(TOKEN);
        let (status, text) = self.send(request).expect("the server answers");
        assert_eq!(status, 200, "{text}");
        text
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in self.agents.iter_mut().chain(self.server.as_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_push_is_built_and_tested_by_an_agent() {
    let mut lab = Lab::start();
    let (repo, sha) = lab.fixture("good", "assert_eq!(answer(), 42);");
    let id = lab.push(&repo, &sha, "3f7b1c2e-0000-4000-8000-000000000001");
    assert_eq!(lab.state(&id), "queued");
    let agent = lab.agent("e2e-1", true);
    let record = lab.wait_for_state(
        &id,
        &["success", "failure", "error", "timed_out", "cancelled"],
    );
    assert_eq!(record["status"]["state"], "success", "{record}");
    assert_eq!(record["status"]["agent"], "e2e-1");
    let steps = record["status"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s["exit_code"] == 0), "{record}");
    let log = lab.log(&id);
    assert!(log.contains("test result: ok. 1 passed"), "{log}");
    // --once: the agent exits after its job.
    let status = lab.agents[agent].wait().unwrap();
    assert!(status.success());
}

/// Every role logs to its stderr when that is no terminal, as in a pod: the server and an
/// agent say what they did (text and JSON lines), and never a secret, even with every
/// crate at trace.
#[test]
fn server_and_agent_log_what_they_did_to_stderr_without_secrets() {
    let mut lab = Lab::start_with(&[("RUST_LOG", "trace")]);
    let (repo, sha) = lab.fixture("logged", "assert_eq!(answer(), 42);");
    let id = lab.push(&repo, &sha, "3f7b1c2e-0000-4000-8000-000000000009");
    let json = [("RUST_LOG", "trace"), ("RAIBID_LOG_FORMAT", "json")];
    let agent = lab.agent_with("e2e-json", true, &json);
    lab.wait_for_state(&id, &["success", "failure", "error"]);
    assert!(lab.agents[agent].wait().unwrap().success());

    let server = lab.stderr_of("server");
    assert!(server.contains("raibid server listening"), "{server}");
    assert!(
        server
            .lines()
            .any(|line| line.contains("push queued") && line.contains(&id)),
        "{server}"
    );
    let agent = lab.stderr_of("e2e-json");
    let lines: Vec<Value> = agent
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect();
    let raibid = |message: &str| {
        lines
            .iter()
            .filter(|line| line["fields"]["message"] == message)
            .collect::<Vec<_>>()
    };
    for message in [
        "agent started",
        "running a job",
        "build cache",
        "agent stopped",
    ] {
        assert_eq!(raibid(message).len(), 1, "{message}: {agent}");
    }
    // cargo build and cargo test, each started and finished.
    assert_eq!(raibid("step started").len(), 2, "{agent}");
    assert_eq!(raibid("step finished").len(), 2, "{agent}");
    let finished = raibid("job finished");
    assert_eq!(finished.len(), 1, "{agent}");
    assert_eq!(finished[0]["fields"]["job"], id.as_str());
    assert_eq!(finished[0]["fields"]["state"], "success");
    assert_eq!(finished[0]["level"], "INFO");
    for (role, text) in [("server", &server), ("agent", &agent)] {
        assert!(
            !text.contains(TOKEN) && !text.contains(SECRET),
            "the {role} logged a secret"
        );
    }
}

/// `raibid pool` logs the agents it starts, and they log to the same stderr.
#[test]
fn a_pool_and_its_agents_log_to_the_pools_stderr() {
    let mut lab = Lab::start();
    let pool = lab.spawn("pool", &["pool", "--agents", "1"], &[]);
    // Among the agents, so the lab stops it whatever happens.
    lab.agents.push(pool);
    let pid = lab.agents[0].id() as libc::pid_t;
    lab.wait_for(|lab| lab.stderr_of("pool").contains("agent started"));
    // SAFETY: kill(2) with the pid of a child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(lab.agents[0].wait().unwrap().success());
    let log = lab.stderr_of("pool");
    for line in [
        "started local-1 (pid ",
        "agent started agent=local-1",
        "agent stopped agent=local-1",
    ] {
        assert!(log.contains(line), "{line}: {log}");
    }
}

/// `RAIBID_LOG` wins over `RUST_LOG`; either filters the levels.
#[test]
fn log_levels_come_from_raibid_log_then_rust_log() {
    let cases: [(&[(&str, &str)], bool); 3] = [
        (&[("RUST_LOG", "warn")], false),
        (&[("RUST_LOG", "warn"), ("RAIBID_LOG", "info")], true),
        (&[("RUST_LOG", "debug"), ("RAIBID_LOG", "warn")], false),
    ];
    for (env, shown) in cases {
        let lab = Lab::start_with(env);
        let server = lab.stderr_of("server");
        assert_eq!(
            server.contains("raibid server listening"),
            shown,
            "{env:?}: {server}"
        );
    }
}

#[test]
fn a_failing_crate_ends_failure_with_its_log() {
    let mut lab = Lab::start();
    let (repo, sha) = lab.fixture("bad", "assert_eq!(answer(), 41);");
    let id = lab.push(&repo, &sha, "3f7b1c2e-0000-4000-8000-000000000002");
    lab.agent("e2e-1", true);
    let record = lab.wait_for_state(&id, &["success", "failure", "error"]);
    assert_eq!(record["status"]["state"], "failure", "{record}");
    assert!(
        record["status"]["message"]
            .as_str()
            .unwrap()
            .contains("cargo test"),
        "{record}"
    );
    assert!(lab.log(&id).contains("test result: FAILED"));
}

#[test]
fn cancel_mid_build_ends_cancelled() {
    let mut lab = Lab::start();
    let (repo, sha) = lab.fixture(
        "slow",
        "std::thread::sleep(std::time::Duration::from_secs(300));",
    );
    let id = lab.push(&repo, &sha, "3f7b1c2e-0000-4000-8000-000000000003");
    let agent = lab.agent("e2e-1", true);
    // Cancel once the test binary is running.
    lab.wait_for(|lab| lab.log(&id).contains("Running unittests"));
    let started = Instant::now();
    let (status, answer) = lab.post(&format!("/jobs/{id}/cancel"));
    assert_eq!(status, 200, "{answer}");
    let record = lab.wait_for_state(&id, &["cancelled", "success", "failure"]);
    assert_eq!(record["status"]["state"], "cancelled", "{record}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the build was killed, not waited for"
    );
    assert!(lab.agents[agent].wait().unwrap().success());
}

#[test]
fn an_agent_killed_mid_job_is_replaced_and_the_job_finishes_once() {
    let mut lab = Lab::start();
    let (repo, sha) = lab.fixture(
        "steady",
        "std::thread::sleep(std::time::Duration::from_secs(4));",
    );
    let id = lab.push(&repo, &sha, "3f7b1c2e-0000-4000-8000-000000000004");
    let first = lab.agent("e2e-doomed", false);
    lab.wait_for(|lab| lab.state(&id) == "running");
    lab.agents[first].kill().unwrap(); // SIGKILL: no goodbye, no final status
    lab.agents[first].wait().unwrap();
    lab.agent("e2e-heir", true);
    let record = lab.wait_for_state(&id, &["success", "failure", "error", "dead"]);
    assert_eq!(record["status"]["state"], "success", "{record}");
    assert_eq!(record["status"]["agent"], "e2e-heir");
    assert_eq!(record["status"]["deliveries"], 2);
    // Exactly one final state in the job's history of events.
    let events = events_of(&lab, &id);
    let finals: Vec<&String> = events
        .iter()
        .filter(|s| !["queued", "running"].contains(&s.as_str()))
        .collect();
    assert_eq!(finals, ["success"], "{events:?}");
}

/// The states the events stream recorded for one job, in order.
fn events_of(lab: &Lab, id: &str) -> Vec<String> {
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &lab.redis.port.to_string(),
            "--raw",
            "XRANGE",
            "raibid:events",
            "-",
            "+",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["id"] == id)
        .map(|event| event["state"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn jobs_waiting_survive_a_redis_restart() {
    let mut lab = Lab::start();
    // Three repositories: the same push again would be a replay, and queue nothing.
    let ids: Vec<String> = (1..=3)
        .map(|n| {
            let (repo, sha) = lab.fixture(&format!("durable-{n}"), "assert!(true);");
            lab.push(
                &repo,
                &sha,
                &format!("3f7b1c2e-0000-4000-8000-00000000010{n}"),
            )
        })
        .collect();
    lab.redis.restart();
    lab.wait_for(Lab::ready);
    lab.agent("e2e-after", false);
    for id in &ids {
        let record = lab.wait_for_state(id, &["success", "failure", "error"]);
        assert_eq!(record["status"]["state"], "success", "{record}");
    }
}
