//! `raibid jobs …` as an operator runs it: the real binary against a real redis-server,
//! with a real agent to run what is triggered.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use support::git::git;
use support::redis::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");

struct Lab {
    root: tempfile::TempDir,
    _redis: RedisServer,
}

impl Lab {
    fn new() -> Lab {
        let root = tempfile::tempdir().unwrap();
        let redis = RedisServer::start();
        std::fs::write(
            root.path().join("config.toml"),
            format!(
                "[ci]\nredis_url = \"{}\"\nsteps = [\"cat notes.txt\"]\nworkspace_dir = \"{}/ws\"\n",
                redis.url(),
                root.path().display()
            ),
        )
        .unwrap();
        let repo = root.path().join("notes");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("notes.txt"), "hello from the fixture\n").unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "notes"]);
        Lab {
            root,
            _redis: redis,
        }
    }

    fn repo(&self) -> PathBuf {
        self.root.path().join("notes")
    }

    fn raibid(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("--config")
            .arg(self.root.path().join("config.toml"))
            .args(args)
            .current_dir(self.repo())
            .env("XDG_DATA_HOME", self.root.path().join("data"))
            .env_remove("RAIBID_CONFIG")
            .stdin(Stdio::null());
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.raibid(args);
        assert!(
            out.status.success(),
            "raibid {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn state(&self, id: &str) -> String {
        let record: serde_json::Value =
            serde_json::from_str(&self.ok(&["jobs", "show", id, "--json"])).unwrap();
        record["status"]["state"].as_str().unwrap().to_string()
    }
}

fn job_id(line: &str) -> String {
    line.split('\t').next().unwrap().to_string()
}

#[test]
fn trigger_run_follow_retry_and_cancel_from_the_command_line() {
    let lab = Lab::new();
    let id = job_id(&lab.ok(&["jobs", "trigger"]));
    assert_eq!(lab.state(&id), "queued");
    let listed = lab.ok(&["jobs", "list"]);
    assert!(
        listed.contains(&id) && listed.contains("queued") && listed.contains("notes"),
        "{listed}"
    );

    let agent = lab.raibid(&["agent", "--once", "--id", "cli-1"]);
    assert!(agent.status.success());
    assert_eq!(lab.state(&id), "success");
    let log = lab.ok(&["jobs", "logs", &id, "--follow"]);
    assert!(log.contains("hello from the fixture"), "{log}");
    let shown = lab.ok(&["jobs", "show", &id]);
    assert!(
        shown.contains("cat notes.txt") && shown.contains("exit 0"),
        "{shown}"
    );
    // Not a cargo step: a cold cache that compiled nothing.
    assert!(
        shown.contains("cache     cold · 0 compiled · build "),
        "{shown}"
    );

    let retried = job_id(&lab.ok(&["jobs", "retry", &id]));
    assert_ne!(retried, id);
    let record: serde_json::Value =
        serde_json::from_str(&lab.ok(&["jobs", "show", &retried, "--json"])).unwrap();
    assert_eq!(record["job"]["attempt"], 2);
    assert!(lab.ok(&["jobs", "cancel", &retried]).contains("cancelled"));
    assert_eq!(lab.state(&retried), "cancelled");
    assert!(
        lab.ok(&["jobs", "cancel", &retried])
            .contains("already cancelled")
    );

    let filtered = lab.ok(&["jobs", "list", "--state", "cancelled", "--json"]);
    let jobs: Vec<serde_json::Value> = serde_json::from_str(&filtered).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["job"]["id"], retried.as_str());
}

#[test]
fn bad_input_is_refused_clearly() {
    let lab = Lab::new();
    let out = lab.raibid(&["jobs", "show", "no-such-job"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no job no-such-job"));
    let out = lab.raibid(&["jobs", "list", "--state", "exploded"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`exploded` is not a job state"));
    let plain = lab.root.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let out = lab
        .command(&["jobs", "trigger"])
        .current_dir(&plain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(plain.to_str().unwrap()));
}

#[test]
fn an_unreachable_queue_is_a_clear_error() {
    let lab = Lab::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = lab.root.path().join("down.toml");
    std::fs::write(
        &config,
        format!("[ci]\nredis_url = \"redis://:hunter2@127.0.0.1:{port}/0\"\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "jobs", "list"])
        .env("XDG_DATA_HOME", lab.root.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&port.to_string()), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password is masked: {stderr}"
    );
}

/// A job whose id and sha are not ASCII (a byte cut would fall inside a character) and
/// whose ref carries terminal escapes: listed and shown whole, cut by characters, clean.
#[test]
fn hostile_job_text_is_printed_cut_by_characters_without_escapes() {
    use raibid::backend::queue::{Queue, QueueSettings};
    use raibid::config::Config;
    let lab = Lab::new();
    let mut job = support::jobs().remove(0).job;
    job.id = "jéééé-ü1".into();
    job.sha = "ßßßßßßßßßß".into();
    job.git_ref = "refs/heads/\u{1b}]0;pwned\u{7}ma\u{1b}[2Jin\r".into();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = Config::default();
        let queue = Queue::connect(
            &lab._redis.url(),
            &config.ci.queue_prefix,
            QueueSettings::from_config(&config.ci),
        )
        .await
        .unwrap();
        queue.enqueue(&job).await.unwrap();
    });
    let listed = lab.ok(&["jobs", "list"]);
    assert!(
        listed.contains("jéééé-ü1  queued     raibid-labs/docs  ßßßßßßß  "),
        "{listed}"
    );
    let shown = lab.ok(&["jobs", "show", &job.id]);
    assert!(
        shown.contains("ref       refs/heads/main� @ ßßßßßßßßßß"),
        "{shown}"
    );
    for output in [&listed, &shown] {
        assert!(!output.contains(['\u{1b}', '\u{7}', '\r']), "{output:?}");
        assert!(!output.contains("pwned"), "{output}");
    }
}
