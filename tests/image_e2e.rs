//! The image end to end with the real parts: a Debian base built with debootstrap in a real
//! registry, `raibid image build` pushing this binary's image there, Docker pulling it
//! back, and `raibid server` and `raibid agent --once` running as containers from it (host
//! network, config mounted, secrets in the environment, as KEDA runs them) against a real
//! redis-server: a signed Gitea push ends `success`.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::docker::{Container, docker_ok, ensure_dockerd, push_base};
use support::git::{git, signed_gitea_push};
use support::redis::RedisServer;
use support::registry::OciRegistry;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");
const TOKEN: &str = "image-e2e-api-token";
const SECRET: &str = "image-e2e-webhook-secret";

/// `raibid` with its own config and data dirs under `root`.
fn raibid(root: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env_remove("RAIBID_CONFIG")
        .env_remove("RAIBID_REGISTRY_USERNAME")
        .env_remove("RAIBID_REGISTRY_PASSWORD");
    command
}

/// `raibid image build --json`; the JSON it printed.
fn build(root: &Path, base: &str, push: &str) -> Value {
    let output = raibid(root)
        .args(["image", "build", "--json", "--base", base, "--push", push])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A repository whose pipeline is plain shell (the base has git, no Rust toolchain).
fn fixture(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hello.sh"), "echo built in a container\n").unwrap();
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "fixture"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A detached container of `image` on the host network with `root` mounted at its own
/// path, running `raibid --config <root>/config.toml args`.
fn run(name: &str, image: &str, root: &Path, args: &[&str]) -> Container {
    let mount = format!("{0}:{0}", root.display());
    let config = root.join("config.toml");
    let mut argv = vec![
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "-v",
        &mount,
        "-e",
        "RAIBID_SERVER_TOKEN",
        "-e",
        "RAIBID_GITEA_WEBHOOK_SECRET",
        image,
        "--config",
        config.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let output = Command::new("docker")
        .args(&argv)
        .env("RAIBID_SERVER_TOKEN", TOKEN)
        .env("RAIBID_GITEA_WEBHOOK_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        support::docker::text(&output)
    );
    Container(name.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_image_runs_the_server_and_an_agent_that_builds_a_push() {
    ensure_dockerd();
    let registry = OciRegistry::start();
    let base = push_base(&registry);
    let root = tempfile::tempdir().unwrap();
    let root = root.path();

    let built = build(root, &base, &format!("{}/raibid", registry.host()));
    let reference = built["reference"].as_str().unwrap();
    let tag = built["tag"].as_str().unwrap();
    let digest = built["digest"].as_str().unwrap();
    assert!(
        tag.starts_with(concat!(env!("CARGO_PKG_VERSION"), "-")),
        "{built}"
    );
    assert_eq!(
        reference,
        format!("{}/raibid:{tag}@{digest}", registry.host())
    );
    assert!(built["pulled"].as_u64().unwrap() >= 1, "{built}");
    // The same binary gives the same image: nothing pulled, nothing uploaded again.
    let again = build(root, &base, &format!("{}/raibid", registry.host()));
    assert_eq!(again["reference"], built["reference"]);
    assert_eq!(
        (again["pulled"].as_u64(), again["uploaded"].as_u64()),
        (Some(0), Some(0))
    );
    // Another repository lacks every blob: the base's come from the disk cache.
    let elsewhere = build(
        root,
        &base,
        &format!("{}/elsewhere:manual", registry.host()),
    );
    assert_eq!(elsewhere["pulled"], 0, "{elsewhere}");
    assert_eq!(elsewhere["uploaded"], built["uploaded"], "{elsewhere}");
    assert_eq!(elsewhere["digest"], built["digest"]);

    // Docker pulls it back by digest, for this platform, with raibid as its entrypoint.
    let pinned = format!("{}/raibid@{digest}", registry.host());
    docker_ok(&["pull", "--quiet", &pinned]);
    let entrypoint = docker_ok(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Entrypoint}}",
        &pinned,
    ]);
    assert_eq!(entrypoint, r#"["/usr/local/bin/raibid"]"#);
    let version = docker_ok(&["run", "--rm", &pinned, "--version"]);
    assert_eq!(version, concat!("raibid ", env!("CARGO_PKG_VERSION")));

    // The lab: redis on the host, the server and an agent in containers from the image.
    let redis = RedisServer::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "[ci]\nredis_url = \"{}\"\nheartbeat_secs = 1\njob_timeout_secs = 120\n\
         steps = [\"sh hello.sh\", \"git log --oneline -1\"]\n\
         workspace_dir = \"{root}/workspaces\"\ncache_dir = \"{root}/cache\"\n\
         [ci.local_repos]\n\"lab/hello\" = \"{root}/repos/hello\"\n\
         [server]\nlisten = \"127.0.0.1:{port}\"\n",
        redis.url(),
        root = root.display(),
    );
    std::fs::write(root.join("config.toml"), config).unwrap();
    let unique = std::process::id();
    let server = run(
        &format!("raibid-e2e-server-{unique}"),
        &pinned,
        root,
        &["server"],
    );
    let api = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{api}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            Instant::now() < deadline,
            "server never ready:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let repo = root.join("repos/hello");
    let sha = fixture(&repo);
    let (body, signature) = signed_gitea_push(&repo, &sha, SECRET);
    let answer: Value = http
        .post(format!("{api}/webhooks/gitea"))
        .header("content-type", "application/json")
        .header("X-Gitea-Event", "push")
        .header("X-Gitea-Delivery", "6a1e0c52-0000-4000-8000-000000000011")
        .header("X-Gitea-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["queued"], true, "{answer}");
    let job = answer["job"].as_str().unwrap();

    let agent = run(
        &format!("raibid-e2e-agent-{unique}"),
        &pinned,
        root,
        &["agent", "--once", "--id", "container-agent"],
    );
    let code = agent.wait(Duration::from_secs(120));
    let record: Value = http
        .get(format!("{api}/jobs/{job}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        record["status"]["state"],
        "success",
        "{record}\n{}",
        agent.logs()
    );
    assert_eq!(record["status"]["agent"], "container-agent");
    assert_eq!(code, 0, "{}", agent.logs());
    // What the agent writes to stderr is what `docker logs` (and `kubectl logs`) show.
    let logs = agent.logs();
    for said in [
        "agent started",
        "running a job",
        "step started",
        "agent stopped",
    ] {
        assert!(
            logs.contains(said),
            "{said:?} missing from the agent's stderr:\n{logs}"
        );
    }
    assert!(logs.contains(job), "{logs}");
    let log = http
        .get(format!("{api}/jobs/{job}/logs"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("built in a container"), "{log}");
    assert!(log.contains("fixture"), "{log}");
    drop(server);
    let _ = support::docker::docker(&["rmi", &pinned]);
}

#[test]
fn bad_references_are_bad_input_and_an_unreachable_registry_a_failure() {
    let root = tempfile::tempdir().unwrap();
    let pinned = format!("127.0.0.1:5000/raibid@sha256:{}", "a".repeat(64));
    for (args, code, said) in [
        (
            vec!["--push", "127.0.0.1:5000/Raibid"],
            2,
            "repository must be lowercase",
        ),
        (vec!["--push", pinned.as_str()], 2, "a digest names"),
        (
            vec![
                "--base",
                "127.0.0.1:9/debian:bookworm",
                "--push",
                "127.0.0.1:9/raibid",
            ],
            1,
            "registry 127.0.0.1:9 unreachable",
        ),
    ] {
        let output = raibid(root.path())
            .args(["image", "build"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
