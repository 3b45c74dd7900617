//! `raibid doctor` and the checks `raibid up` (and the console's bring-up) run first, as an
//! operator meets them: the real binary against the simulated lab (fake Kubernetes API and
//! Gitea), each check passing, then each failing one with its fix, the JSON form and the
//! exit codes.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use raibid::backend::cluster::actor::{
    Command as ClusterCommand, Event as ClusterEvent, Run, Setup, spawn,
};
use raibid::backend::cluster::report::Progress;
use raibid::backend::cluster::{Component, Lab};
use raibid::config::Config;
use serde_json::Value;
use support::cli::{command_in, described};
use support::lab::{SimLab, coredns, node};

const CHECKS: [&str; 11] = [
    "kubeconfig",
    "api",
    "nodes",
    "k3s",
    "architecture",
    "image",
    "gpu",
    "dns",
    "gitea",
    "registry",
    "disk",
];

/// The lab's config, without a k3s installer.
fn config_of(sim: &SimLab) -> Config {
    let mut config = sim.config.clone();
    config.cluster.k3s_install = String::new();
    config
}

/// Runs `raibid args` with `config` in `root`, with a home of its own (no ~/.kube/config)
/// and no $KUBECONFIG, off the async threads so the fakes keep serving it.
async fn raibid(root: &Path, config: &Config, args: &[&str]) -> Output {
    let file = root.join("config.toml");
    std::fs::write(&file, toml::to_string(config).unwrap()).unwrap();
    let mut command = command_in(root, &file, root, args);
    command.env("HOME", root).env_remove("KUBECONFIG");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// `raibid doctor --json`: its exit code and its rows, each by name.
async fn doctor(root: &Path, config: &Config) -> (Option<i32>, Vec<Value>) {
    let output = raibid(root, config, &["doctor", "--json"]).await;
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", described(&output)));
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, CHECKS, "{}", described(&output));
    (output.status.code(), rows)
}

#[track_caller]
fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter().find(|r| r["name"] == name).unwrap()
}

/// The row `name` must have `status`, a detail holding `detail` and a fix holding `fix`.
#[track_caller]
fn assert_row(rows: &[Value], name: &str, status: &str, detail: &str, fix: &str) {
    let found = row(rows, name);
    assert_eq!(found["status"], status, "{found}");
    assert!(
        found["detail"].as_str().unwrap().contains(detail),
        "{found}"
    );
    assert!(found["fix"].as_str().unwrap().contains(fix), "{found}");
}

/// Brings the lab up through Gitea and the GPU's device plugin, as `raibid up` would.
async fn up_through_gitea(sim: &SimLab) {
    let lab = Lab::connect(&sim.config, &sim.data_dir()).await.unwrap();
    let (progress, _) = tokio::sync::mpsc::unbounded_channel();
    let steps = [Component::Namespaces, Component::Gitea, Component::Gpu];
    lab.up(&steps, false, &progress).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_on_a_lab_that_is_up_and_the_table_says_so() {
    let sim = SimLab::start().await;
    up_through_gitea(&sim).await;
    let config = config_of(&sim);
    let root = sim.data.path();

    let (code, rows) = doctor(root, &config).await;
    assert_eq!(code, Some(0), "{rows:?}");
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row}");
        assert!(row["fix"].is_null(), "{row}");
    }
    assert!(
        row(&rows, "api")["detail"]
            .as_str()
            .unwrap()
            .contains(&sim.kube.url())
    );
    assert_eq!(row(&rows, "k3s")["detail"], "v1.33.5+k3s1 on spark");
    assert_eq!(
        row(&rows, "image")["detail"],
        format!("{} can be pulled", sim.config.cluster.image)
    );
    assert_eq!(
        row(&rows, "gpu")["detail"],
        "nvidia.com/gpu: 1 allocatable on spark"
    );
    assert_eq!(
        row(&rows, "registry")["detail"],
        format!("{}/v2/ answers 401", sim.gitea.url())
    );

    let output = raibid(root, &config, &["doctor"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", described(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(table.lines().count(), CHECKS.len(), "{table}");
    assert!(table.lines().all(|l| l.starts_with("✓ ")), "{table}");
    assert!(table.contains("✓ dns           kube-system/kube-dns: 1 ready endpoints"));
}

/// The image the lab's pods would run must be in its registry; this binary's, before `up`
/// pushed it, is simply not there yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_cannot_be_pulled_fails_and_an_unpushed_own_image_is_not_there_yet() {
    let sim = SimLab::start().await;
    up_through_gitea(&sim).await;
    let mut config = config_of(&sim);
    config.cluster.image = format!("{}/raibid/raibid:missing", sim.registry.host());
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(1), "{rows:?}");
    assert_row(
        &rows,
        "image",
        "fail",
        "raibid/raibid:missing cannot be pulled",
        "raibid image build --push",
    );

    config.cluster.image = String::new();
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(0), "{rows:?}");
    assert_eq!(row(&rows, "image")["status"], "skipped");
    assert!(
        row(&rows, "image")["detail"]
            .as_str()
            .unwrap()
            .contains("the ci step of `raibid up` pushes this binary's image")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_the_gitea_step_gitea_is_not_installed_yet_rather_than_failing() {
    let sim = SimLab::start().await;
    let (code, rows) = doctor(sim.data.path(), &config_of(&sim)).await;
    assert_eq!(code, Some(0), "{rows:?}");
    for name in ["gitea", "registry"] {
        assert_eq!(row(&rows, name)["status"], "skipped");
        assert!(
            row(&rows, name)["detail"]
                .as_str()
                .unwrap()
                .contains("not installed yet")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_kubeconfig_anywhere_fails_with_where_it_looked_and_skips_the_cluster_checks() {
    let sim = SimLab::start().await;
    let mut config = config_of(&sim);
    config.cluster.kubeconfig = Default::default();
    let root = sim.data.path();
    let (code, rows) = doctor(root, &config).await;
    assert_eq!(code, Some(1));
    let home_config = root.join(".kube/config");
    assert_row(
        &rows,
        "kubeconfig",
        "fail",
        &home_config.display().to_string(),
        "cluster.kubeconfig",
    );
    for name in &CHECKS[1..10] {
        assert_eq!(row(&rows, name)["status"], "skipped", "{name}");
    }
    assert_eq!(row(&rows, "disk")["status"], "ok");

    let output = raibid(root, &config, &["doctor"]).await;
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.starts_with("✗ kubeconfig"), "{table}");
    assert!(
        table.contains("To fix:\n  kubeconfig: run `raibid up` to install k3s"),
        "{table}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 check failed: kubeconfig"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_fails_and_names_the_server() {
    let sim = SimLab::start().await;
    let closed = closed_port();
    let kubeconfig = sim.data.path().join("elsewhere.yaml");
    let text = std::fs::read_to_string(sim.kubeconfig())
        .unwrap()
        .replace(&sim.kube.url(), &format!("http://127.0.0.1:{closed}"));
    std::fs::write(&kubeconfig, text).unwrap();
    let mut config = config_of(&sim);
    config.cluster.kubeconfig = kubeconfig.clone();
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(1));
    assert_eq!(row(&rows, "kubeconfig")["status"], "ok");
    assert_eq!(
        row(&rows, "kubeconfig")["detail"],
        kubeconfig.display().to_string()
    );
    assert_row(
        &rows,
        "api",
        "fail",
        &format!("127.0.0.1:{closed}"),
        "systemctl start k3s",
    );
    assert!(!rows.iter().any(|r| r.to_string().contains("fake-token")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ready_node_fails() {
    let sim = SimLab::start().await;
    let mut spark = node("spark", 1);
    spark["status"]["conditions"][0]["status"] = "False".into();
    sim.kube.insert("v1", "nodes", spark);
    let (code, rows) = doctor(sim.data.path(), &config_of(&sim)).await;
    assert_eq!(code, Some(1));
    assert_row(
        &rows,
        "nodes",
        "fail",
        "0 of 1 nodes Ready",
        "kubectl describe nodes",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_gpu_allocatable_fails_while_ollama_wants_one_and_passes_on_cpu() {
    let mut sim = SimLab::start().await;
    sim.kube.insert("v1", "nodes", node("spark", 0));
    let mut config = config_of(&sim);
    // Before the device plugin runs no node can advertise a GPU: nothing is wrong yet.
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(0), "{rows:?}");
    assert_eq!(row(&rows, "gpu")["status"], "skipped");

    // The plugin runs and still finds none: the gpu step fails, and so does the check.
    sim.config.cluster.wait_timeout_secs = 1;
    let lab = Lab::connect(&sim.config, &sim.data_dir()).await.unwrap();
    let (progress, _) = tokio::sync::mpsc::unbounded_channel();
    let steps = [Component::Namespaces, Component::Gpu];
    assert!(lab.up(&steps, false, &progress).await.is_err());
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(1));
    assert_row(
        &rows,
        "gpu",
        "fail",
        "Ollama needs 1 nvidia.com/gpu (cluster.ollama_gpus); no Ready node has any",
        "cluster.ollama_gpus = 0",
    );
    assert!(
        row(&rows, "gpu")["fix"]
            .as_str()
            .unwrap()
            .contains("NVIDIA container toolkit")
    );

    config.cluster.ollama_gpus = 0;
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(0), "{rows:?}");
    assert_eq!(row(&rows, "gpu")["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_without_a_ready_endpoint_fails_and_without_its_service_too() {
    let sim = SimLab::start().await;
    let [_, (api_version, plural, unready)] = coredns(false);
    sim.kube.insert(api_version, plural, unready);
    let (code, rows) = doctor(sim.data.path(), &config_of(&sim)).await;
    assert_eq!(code, Some(1));
    assert_row(
        &rows,
        "dns",
        "fail",
        "kube-system/kube-dns has no ready endpoint",
        "rollout restart deployment coredns",
    );

    sim.kube
        .remove("v1", "services", Some("kube-system"), "kube-dns");
    let (code, rows) = doctor(sim.data.path(), &config_of(&sim)).await;
    assert_eq!(code, Some(1));
    assert_row(
        &rows,
        "dns",
        "fail",
        "no Service kube-system/kube-dns",
        "--disable=coredns",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installed_gitea_that_does_not_answer_fails_both_gitea_and_registry() {
    let sim = SimLab::start().await;
    up_through_gitea(&sim).await;
    let mut config = config_of(&sim);
    let closed = closed_port();
    config.gitea.url = format!("http://127.0.0.1:{closed}");
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(1));
    assert_row(
        &rows,
        "gitea",
        "fail",
        &format!("http://127.0.0.1:{closed}/api/v1/version does not answer"),
        "kubectl -n gitea get pods",
    );
    assert_row(
        &rows,
        "registry",
        "fail",
        &format!("http://127.0.0.1:{closed}/v2/ does not answer"),
        "raibid up --only gitea --force",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_below_the_configured_minimum_fails_and_names_the_key() {
    let sim = SimLab::start().await;
    let mut config = config_of(&sim);
    config.cluster.min_free_disk_gib = 1 << 30;
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(1));
    assert_row(
        &rows,
        "disk",
        "fail",
        &format!(
            "below {} GiB (cluster.min_free_disk_gib)",
            config.cluster.min_free_disk_gib
        ),
        "lower cluster.min_free_disk_gib",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_or_foreign_kubernetes_and_another_architecture_warn_without_failing() {
    let sim = SimLab::start().await;
    let config = config_of(&sim);
    let other = if raibid::backend::cluster::doctor::image_architecture() == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    let mut spark = node("spark", 1);
    spark["status"]["nodeInfo"]["kubeletVersion"] = "v1.29.4+k3s1".into();
    spark["status"]["nodeInfo"]["architecture"] = other.into();
    sim.kube.insert("v1", "nodes", spark);
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(0), "{rows:?}");
    assert_row(
        &rows,
        "k3s",
        "warn",
        "node spark runs v1.29.4+k3s1, older than 1.31",
        "INSTALL_K3S_CHANNEL=stable",
    );
    assert_row(
        &rows,
        "architecture",
        "warn",
        &format!("node spark is {other}"),
        "cluster.image",
    );

    let mut spark = node("spark", 1);
    spark["status"]["nodeInfo"]["kubeletVersion"] = "v1.33.5".into();
    sim.kube.insert("v1", "nodes", spark);
    let (code, rows) = doctor(sim.data.path(), &config).await;
    assert_eq!(code, Some(0), "{rows:?}");
    assert_row(&rows, "k3s", "warn", "not k3s", "helm-controller");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_is_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("config.toml");
    std::fs::write(&file, "[cluster]\nmin_free_disk_gib = \"plenty\"\n").unwrap();
    let output = command_in(root.path(), &file, root.path(), &["doctor"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", described(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("min_free_disk_gib"),
        "{}",
        described(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_stops_with_the_failures_and_their_fixes_before_changing_anything() {
    let sim = SimLab::start().await;
    let [_, (api_version, plural, unready)] = coredns(false);
    sim.kube.insert(api_version, plural, unready);
    let output = raibid(sim.data.path(), &config_of(&sim), &["up"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("==> preflight\n"), "{stdout}");
    assert!(
        stdout.contains("✗ dns") && stdout.contains("  dns: `kubectl -n kube-system get pods"),
        "{stdout}"
    );
    // Gitea and the GPUs are brought up by later steps, which check them themselves.
    assert!(stdout.contains("- gitea"), "{stdout}");
    assert!(stdout.contains("- gpu"), "{stdout}");
    assert!(!stdout.contains("==> namespaces"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 check failed: dns; nothing was changed"),
        "{stderr}"
    );
    let requests = sim.kube.requests();
    assert!(
        requests.iter().all(|r| r.starts_with("GET")),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_expects_no_cluster_before_it_installs_k3s_but_not_its_disk_short() {
    let sim = SimLab::start().await;
    let root = sim.data.path();
    let target = root.join("k3s.yaml");
    let mut config = config_of(&sim);
    config.cluster.kubeconfig = target.clone();
    config.cluster.k3s_install = format!("touch {}/installed", root.display());
    config.cluster.min_free_disk_gib = 1 << 30;
    let output = raibid(root, &config, &["up"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("- kubeconfig    no cluster answers yet: this run installs k3s"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ disk"), "{stdout}");
    assert!(!root.join("installed").exists(), "the installer ran");

    // Without k3s in the run, a missing cluster is a failure of its own.
    config.cluster.min_free_disk_gib = 1;
    let output = raibid(root, &config, &["up", "--only", "redis"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("✗ kubeconfig"), "{stdout}");
    assert!(!root.join("installed").exists(), "the installer ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_bring_up_runs_the_same_checks_first() {
    let sim = SimLab::start().await;
    let [_, (api_version, plural, unready)] = coredns(false);
    sim.kube.insert(api_version, plural, unready);
    let setup = Setup {
        config: Arc::new(config_of(&sim)),
        data_dir: sim.data_dir(),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let commands = spawn(setup, events_tx.into()).commands;
    commands
        .send(ClusterCommand::Run(Run::Up {
            components: Component::ALL.to_vec(),
            force: false,
        }))
        .unwrap();
    let mut logged = Vec::new();
    let reason = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("an event in time")
            .expect("the actor is running");
        match event {
            ClusterEvent::Progress(Progress::Log(Component::K3s, line)) => logged.push(line),
            ClusterEvent::RunFinished(result) => break result.unwrap_err(),
            _ => {}
        }
    };
    drop(commands);
    assert!(reason.contains("1 check failed: dns"), "{reason}");
    assert!(logged.iter().any(|l| l.starts_with("✗ dns")), "{logged:?}");
    assert!(
        logged.iter().any(|l| l.contains("rollout restart")),
        "{logged:?}"
    );
    let requests = sim.kube.requests();
    assert!(
        requests.iter().all(|r| r.starts_with("GET")),
        "{requests:?}"
    );
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
