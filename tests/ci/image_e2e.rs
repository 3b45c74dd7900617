//! The image end to end with the real parts: a Debian base built with debootstrap in a real
//! registry, `raibid image build` pushing this binary's image there, Docker pulling it
//! back, and `raibid server` and `raibid agent --once` running as containers from it (host
//! network, config mounted, secrets in the environment) against a real redis-server: a
//! signed Gitea push ends `success`. Then an agent container set up from the rendered
//! ScaledJob the way the kubelet would (user, capabilities, no_new_privs, environment,
//! Secret volumes as 0400 files) runs a step that looks for secrets and finds none.

use std::os::unix::fs::PermissionsExt;
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
/// Waits up to a minute for the server at `api` to be ready; `logs` tells why not.
async fn await_ready(http: &reqwest::Client, api: &str, logs: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{api}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "server never ready:\n{}", logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET path` on the server's API, with the token.
async fn api_get(http: &reqwest::Client, api: &str, path: &str) -> reqwest::Response {
    http.get(format!("{api}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
}

/// Commits the fixture in `repo` and sends its signed Gitea push as `delivery`; the answer.
async fn push_fixture(http: &reqwest::Client, api: &str, repo: &Path, delivery: &str) -> Value {
    let sha = fixture(repo);
    let (body, signature) = signed_gitea_push(repo, &sha, SECRET);
    http.post(format!("{api}/webhooks/gitea"))
        .header("content-type", "application/json")
        .header("X-Gitea-Event", "push")
        .header("X-Gitea-Delivery", delivery)
        .header("X-Gitea-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

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
    await_ready(&http, &api, || server.logs()).await;

    let repo = root.join("repos/hello");
    let answer = push_fixture(&http, &api, &repo, "6a1e0c52-0000-4000-8000-000000000011").await;
    assert_eq!(answer["queued"], true, "{answer}");
    let job = answer["job"].as_str().unwrap();

    let agent = run(
        &format!("raibid-e2e-agent-{unique}"),
        &pinned,
        root,
        &["agent", "--once", "--id", "container-agent"],
    );
    let code = agent.wait(Duration::from_secs(120));
    let record: Value = api_get(&http, &api, &format!("/jobs/{job}"))
        .await
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
    let log = api_get(&http, &api, &format!("/jobs/{job}/logs"))
        .await
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

/// The agents' pod spec and config as `raibid up` renders them.
fn rendered_agent() -> (Value, raibid::config::Config) {
    use raibid::backend::cluster::Component;
    use raibid::backend::cluster::manifests::manifests;
    let rendered = manifests(Component::Ci, &raibid::config::Config::default());
    let object = |kind: &str, name: &str| {
        let manifest = rendered
            .iter()
            .find(|m| m.kind() == kind && m.name() == name)
            .unwrap_or_else(|| panic!("{kind} {name}"));
        serde_json::to_value(&manifest.object).unwrap()
    };
    let scaled = object("ScaledJob", "raibid-agent");
    let pod = scaled["spec"]["jobTargetRef"]["template"]["spec"].clone();
    let config_map = object("ConfigMap", "raibid-agent-config");
    let config = toml::from_str(config_map["data"]["config.toml"].as_str().unwrap()).unwrap();
    (pod, config)
}

/// `docker run` arguments doing what the kubelet does with the agent's container: its
/// user, capabilities, no_new_privs, environment and volumes (Secret volumes as files of
/// `secrets` with the volume's mode, the ConfigMap as `config`, others as empty dirs).
fn agent_container_args(
    pod: &Value,
    root: &Path,
    config: &str,
    secrets: &[(&str, &str, &str)],
) -> Vec<String> {
    let agent = &pod["containers"][0];
    let security = &agent["securityContext"];
    let mut args = vec![
        "--network".to_owned(),
        "host".to_owned(),
        "--user".to_owned(),
        security["runAsUser"].to_string(),
        "--cap-drop".to_owned(),
        "ALL".to_owned(),
    ];
    for capability in security["capabilities"]["add"].as_array().unwrap() {
        args.extend([
            "--cap-add".to_owned(),
            capability.as_str().unwrap().to_owned(),
        ]);
    }
    if security["allowPrivilegeEscalation"] == false {
        args.extend(["--security-opt".to_owned(), "no-new-privileges".to_owned()]);
    }
    for var in agent["env"].as_array().unwrap() {
        assert!(var.get("valueFrom").is_none(), "{var}");
        args.extend([
            "-e".to_owned(),
            format!(
                "{}={}",
                var["name"].as_str().unwrap(),
                var["value"].as_str().unwrap()
            ),
        ]);
    }
    for mount in agent["volumeMounts"].as_array().unwrap() {
        let name = mount["name"].as_str().unwrap();
        let path = mount["mountPath"].as_str().unwrap();
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap();
        let host = root.join("volumes").join(name);
        std::fs::create_dir_all(&host).unwrap();
        if volume.get("configMap").is_some() {
            std::fs::write(host.join("config.toml"), config).unwrap();
        } else if let Some(secret) = volume.get("secret") {
            let mode = u32::try_from(secret["defaultMode"].as_u64().unwrap()).unwrap();
            let name = secret["secretName"].as_str().unwrap();
            let wanted: Option<Vec<&str>> = secret["items"]
                .as_array()
                .map(|items| items.iter().map(|i| i["key"].as_str().unwrap()).collect());
            for (_, key, value) in secrets.iter().filter(|(secret, key, _)| {
                *secret == name && wanted.as_ref().is_none_or(|keys| keys.contains(key))
            }) {
                let file = host.join(key);
                std::fs::write(&file, value).unwrap();
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        } else {
            args.extend(["--tmpfs".to_owned(), format!("{path}:exec,mode=1777")]);
            continue;
        }
        let read_only = if mount["readOnly"] == true { ":ro" } else { "" };
        args.extend([
            "-v".to_owned(),
            format!("{}:{path}{read_only}", host.display()),
        ]);
    }
    args
}

/// The agent runs as root, as in its pod, and starts steps as `ci.step_user`: root could
/// read the agent's own secret files.
#[tokio::test(flavor = "multi_thread")]
async fn an_agent_run_the_way_the_lab_runs_it_gives_its_steps_no_secret() {
    const REDIS_PASSWORD: &str = "e2e-redis-password-5b1d";
    const GITEA_TOKEN: &str = "e2e-gitea-token-0c9e";
    const CLONE_TOKEN: &str = "e2e-clone-token-77fa";
    ensure_dockerd();
    let registry = OciRegistry::start();
    let base = push_base(&registry);
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let built = build(root, &base, &format!("{}/raibid", registry.host()));
    let pinned = format!(
        "{}/raibid@{}",
        registry.host(),
        built["digest"].as_str().unwrap()
    );
    docker_ok(&["pull", "--quiet", &pinned]);

    let redis = RedisServer::with_password(REDIS_PASSWORD);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        root.join("config.toml"),
        format!(
            "[ci]\nredis_url = \"{}\"\n\
             [ci.local_repos]\n\"lab/probe\" = \"{root}/repos/probe\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n",
            redis.url(),
            root = root.display(),
        ),
    )
    .unwrap();
    let unique = std::process::id();
    let server = run(
        &format!("raibid-e2e-secrets-server-{unique}"),
        &pinned,
        root,
        &["server"],
    );

    // The agent's config as rendered, but for the queue on this host and a Gitea that
    // refuses connections (the agent still reads its token to report statuses).
    let (pod, mut config) = rendered_agent();
    config.ci.redis_url = format!("redis://127.0.0.1:{}/0", redis.port);
    config.ci.heartbeat_secs = 1;
    config.gitea.url = "http://127.0.0.1:9".into();
    config.gitea.public_url = String::new();
    config.ci.steps = vec![
        "echo \"step uid=$(id -u)\"; env; tr '\\000' '\\n' < /proc/$PPID/environ; \
         tr '\\000' '\\n' < /proc/1/environ; \
         cat /var/run/secrets/raibid/*/* /etc/raibid/config.toml /root/.kube/config; true"
            .into(),
    ];
    let secrets = [
        ("redis", "password", REDIS_PASSWORD),
        ("raibid-tokens", "gitea-token", GITEA_TOKEN),
        (
            "raibid-tokens",
            "github-token",
            "e2e-github-token-never-mounted",
        ),
        (
            "raibid-git-clone",
            "credentials",
            &format!("raibid-ci:{CLONE_TOKEN}"),
        ),
    ];
    let args = agent_container_args(&pod, root, &toml::to_string(&config).unwrap(), &secrets);
    assert!(
        !root.join("volumes/tokens/github-token").exists(),
        "agents get Gitea's token only"
    );

    let http = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port}");
    await_ready(&http, &api, || server.logs()).await;
    let repo = root.join("repos/probe");
    let answer = push_fixture(&http, &api, &repo, "6a1e0c52-0000-4000-8000-000000000013").await;
    let job = answer["job"].as_str().expect("queued").to_owned();

    let name = format!("raibid-e2e-secrets-agent-{unique}");
    let repo_mount = format!("{0}:{0}:ro", repo.display());
    let mut argv = vec!["run", "-d", "--name", &name, "-v", &repo_mount];
    argv.extend(args.iter().map(String::as_str));
    argv.extend([pinned.as_str(), "agent", "--once", "--id", "lab-agent"]);
    docker_ok(&argv);
    let agent = Container(name);
    let code = agent.wait(Duration::from_secs(120));
    let record: Value = api_get(&http, &api, &format!("/jobs/{job}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(code, 0, "{}", agent.logs());
    assert_eq!(
        record["status"]["state"],
        "success",
        "{record}\n{}",
        agent.logs()
    );
    let log = api_get(&http, &api, &format!("/jobs/{job}/logs"))
        .await
        .text()
        .await
        .unwrap();
    // The step ran, as another user than the agent, and tried every door.
    assert!(log.contains("step uid=1001"), "{log}");
    assert!(log.contains("/proc/1/environ: Permission denied"), "{log}");
    assert!(
        log.contains("/var/run/secrets/raibid/redis/password: Permission denied"),
        "{log}"
    );
    for secret in [REDIS_PASSWORD, GITEA_TOKEN, CLONE_TOKEN, TOKEN, SECRET] {
        assert!(!log.contains(secret), "the step read a secret:\n{log}");
    }
    // The agent itself did read its files: it reached the queue with the password.
    assert!(agent.logs().contains("agent stopped"), "{}", agent.logs());
}
