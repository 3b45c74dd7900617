//! `raibid up`, `status` and `down` as an operator runs them: the real binary against the
//! simulated lab (fake Kubernetes API and Gitea), and `--render` with no cluster at all.

use std::path::Path;
use std::process::{Command, Output};

use support::lab::SimLab;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");

/// Runs the binary off the async threads, so the fakes keep serving it.
async fn raibid(root: &Path, config: &str, args: &[&str]) -> Output {
    raibid_with(root, config, args, &[]).await
}

/// The same with extra environment variables.
async fn raibid_with(root: &Path, config: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    std::fs::write(root.join("config.toml"), config).unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(root.join("config.toml"))
        .args(args)
        .current_dir(root)
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_STATE_HOME", root.join("state"))
        .env_remove("RAIBID_CONFIG")
        .env_remove("KUBECONFIG")
        .env_remove("K3S_KUBECONFIG_OUTPUT")
        .env_remove("SUDO_USER")
        .env_remove("SUDO_UID")
        .env_remove("SUDO_GID")
        .envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn sim_config(sim: &SimLab, kubeconfig: &Path, install: &str) -> String {
    format!(
        "[gitea]\nurl = \"{}\"\n[cluster]\nkubeconfig = \"{}\"\nwait_timeout_secs = 10\nk3s_install = \"{install}\"\nmin_free_disk_gib = 1\n\
         image = \"{}\"\ngitea_node_port = {}\n",
        sim.gitea.url(),
        kubeconfig.display(),
        sim.config.cluster.image,
        sim.config.cluster.gitea_node_port,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_installs_k3s_when_absent_then_brings_the_lab_up_and_status_reports_it() {
    let sim = SimLab::start().await;
    let root = sim.data.path();
    // The "installer" writes the kubeconfig k3s would; the API is the fake's.
    let target = root.join("k3s.yaml");
    let install = format!(
        "echo installing; cp {} {}",
        sim.kubeconfig().display(),
        target.display()
    );
    let config = sim_config(&sim, &target, &install);

    let output = raibid(root, &config, &["up"]).await;
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("installing"), "{said}");
    for line in [
        "ok  k3s: in place",
        "ok  redis: applied and ready",
        "ok  sparky: applied and ready",
    ] {
        assert!(said.contains(line), "{line} missing from:\n{said}");
    }

    let output = raibid(root, &config, &["status", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let components = status["components"].as_array().unwrap();
    assert_eq!(components.len(), 9);
    assert!(
        components.iter().all(|c| c["health"] == "ready"),
        "{status}"
    );
    assert_eq!(status["nodes"][0]["gpus"], 1);

    let output = raibid(root, &config, &["up", "--dry-run"]).await;
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("gitea       in place: nothing to do"),
        "{said}"
    );

    let output = raibid(root, &config, &["down", "--only", "sparky"]).await;
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("ok  sparky: removed"));
    let output = raibid(root, &config, &["status"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("sparky      missing"),
        "{}",
        text(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_changes_nothing_and_says_what_it_would_do() {
    let sim = SimLab::start().await;
    let config = sim_config(&sim, sim.kubeconfig(), "");
    let output = raibid(sim.data.path(), &config, &["up", "--dry-run"]).await;
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("namespaces  would apply 4 objects"), "{said}");
    assert!(
        sim.kube.requests().iter().all(|r| r.starts_with("GET")),
        "{:?}",
        sim.kube.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_writes_every_manifest_without_a_cluster() {
    let root = tempfile::tempdir().unwrap();
    let config = format!(
        "[cluster]\nkubeconfig = \"{}/nowhere.yaml\"\n",
        root.path().display()
    );
    let out = root.path().join("rendered");
    let output = raibid(
        root.path(),
        &config,
        &["up", "--render", out.to_str().unwrap()],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output));
    let mut files = Vec::new();
    for component in std::fs::read_dir(&out).unwrap() {
        for file in std::fs::read_dir(component.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    assert!(files.len() > 20, "{files:?}");
    for file in &files {
        let yaml = std::fs::read_to_string(file).unwrap();
        let object: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_ne!(object["kind"], "Secret", "{}", file.display());
        assert!(object["metadata"]["annotations"]["raibid.dev/rendered-hash"].is_string());
    }
    assert!(out.join("ci/raibid.scaledjob.raibid-agent.yaml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_is_a_clear_error_and_an_unknown_component_bad_input() {
    let root = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let kubeconfig = root.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"),
    )
    .unwrap();
    let config = format!("[cluster]\nkubeconfig = \"{}\"\n", kubeconfig.display());
    let output = raibid(root.path(), &config, &["status"]).await;
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output);
    assert!(
        said.contains("kubeconfig") && said.contains("does not answer"),
        "{said}"
    );
    assert!(!said.contains("token: t"));

    let output = raibid(root.path(), &config, &["up", "--only", "postgres"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("unknown component `postgres`"),
        "{}",
        text(&output)
    );
}

/// k3s writes its admin kubeconfig for root only (mode 600); `raibid up` copies it for the
/// user, 0600, to `~/.kube/config` when they have none, and connects through the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_k3s_hands_its_kubeconfig_to_the_user_privately() {
    use std::os::unix::fs::PermissionsExt;
    let sim = SimLab::start().await;
    let root = sim.data.path();
    let home = root.join("home");
    std::fs::create_dir(&home).unwrap();
    let written = root.join("rancher/k3s.yaml");
    // As k3s does with --write-kubeconfig-mode=600, where K3S_KUBECONFIG_OUTPUT says.
    let install = format!(
        "mkdir -p {dir} && install -m 600 {from} {to}",
        dir = written.parent().unwrap().display(),
        from = sim.kubeconfig().display(),
        to = written.display()
    );
    let config = format!(
        "[gitea]\nurl = \"{}\"\n[cluster]\nwait_timeout_secs = 10\nk3s_install = \"{install}\"\n",
        sim.gitea.url()
    );
    let env = [
        ("HOME", home.as_path()),
        ("K3S_KUBECONFIG_OUTPUT", &written),
    ];

    let output = raibid_with(root, &config, &["up", "--only", "k3s"], &env).await;
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let copy = home.join(".kube/config");
    assert!(
        said.contains(&format!(
            "copied k3s' kubeconfig to {} (mode 600)",
            copy.display()
        )),
        "{said}"
    );
    assert!(said.contains("ok  k3s: in place"), "{said}");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&written).unwrap()
    );
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(mode(&home.join(".kube")), 0o700);

    // The next run finds the cluster through the copy and installs nothing.
    let output = raibid_with(root, &config, &["status"], &env).await;
    let said = text(&output);
    assert!(said.contains(&sim.kube.url()), "{said}");
    assert!(!said.contains("installing"), "{said}");
}

/// `raibid config check` refuses a Gitea that would not start or is known vulnerable,
/// before anything reaches a cluster.
#[tokio::test]
async fn config_check_refuses_gitea_pins_older_than_their_fixes() {
    let root = tempfile::tempdir().unwrap();
    for (pin, says) in [
        ("gitea_version = \"1.26.2\"", "CVE-2026-22874"),
        ("gitea_chart_version = \"12.4.0\"", "environment-to-ini"),
    ] {
        let config = format!("[cluster]\n{pin}\n");
        let output = raibid(root.path(), &config, &["config", "check"]).await;
        let said = text(&output);
        assert_eq!(output.status.code(), Some(2), "{said}");
        assert!(said.contains(says), "{said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_dry_runs_and_down_report_as_json() {
    let sim = SimLab::start().await;
    let root = sim.data.path();
    let config = sim_config(&sim, sim.kubeconfig(), "");
    let json = |output: &Output| -> serde_json::Value {
        assert!(output.status.success(), "{}", text(output));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
    };

    let up = json(&raibid(root, &config, &["up", "--json"]).await);
    assert!(
        up["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "api")
    );
    let steps = up["steps"].as_array().unwrap();
    assert_eq!(steps[0]["component"], "k3s");
    assert_eq!(steps[0]["outcome"], "in_place");
    let redis = steps.iter().find(|s| s["component"] == "redis").unwrap();
    assert_eq!(redis["outcome"], "applied", "{up}");

    let planned = json(&raibid(root, &config, &["up", "--dry-run", "--json"]).await);
    assert_eq!(planned["cluster"], "present");
    let steps = planned["steps"].as_array().unwrap();
    let redis = steps.iter().find(|s| s["component"] == "redis").unwrap();
    assert!(
        redis["plan"].as_str().unwrap().contains("in place"),
        "{planned}"
    );

    let down = json(&raibid(root, &config, &["down", "--only", "sparky", "--json"]).await);
    assert_eq!(down["steps"][0]["component"], "sparky");
    assert_eq!(down["steps"][0]["outcome"], "removed");

    let nowhere = format!(
        "[cluster]\nkubeconfig = \"{}/nowhere.yaml\"\n",
        root.display()
    );
    let absent = json(&raibid(root, &nowhere, &["up", "--dry-run", "--json"]).await);
    assert_eq!(absent["cluster"], "absent", "{absent}");
    assert!(absent["install"].is_string());
    let dir = root.join("rendered");
    let args = ["up", "--render", dir.to_str().unwrap(), "--json"];
    let rendered = json(&raibid(root, &nowhere, &args).await);
    assert_eq!(rendered["dir"], dir.to_str().unwrap());
    assert!(
        rendered["files"].as_array().unwrap().len() > 20,
        "{rendered}"
    );
}
