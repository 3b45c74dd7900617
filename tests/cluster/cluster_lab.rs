//! `Lab` against a fake Kubernetes API with simulated controllers and a fake Gitea serving
//! a real git repository: a fresh cluster, a rerun, a half-done cluster, a step failing
//! mid-way, status, `down` after `up`, and a node with, without or not wanting GPUs.

use raibid::backend::cluster::lab::rendered;
use raibid::backend::cluster::report::{Health, Outcome, Progress};
use raibid::backend::cluster::{Component, Lab};
use support::lab::{ADMIN, SimLab, identity, node};
use tokio::sync::mpsc;

/// Runs `up` and returns its result with every progress event.
async fn up(lab: &Lab, components: &[Component]) -> (Result<(), String>, Vec<Progress>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let result = lab.up(components, false, &sender).await;
    (
        result.map_err(|e| e.to_string()),
        drain(sender, receiver).await,
    )
}

async fn down(lab: &Lab, purge: bool) -> Vec<Progress> {
    let (sender, receiver) = mpsc::unbounded_channel();
    lab.down(&Component::ALL, purge, &sender).await.unwrap();
    drain(sender, receiver).await
}

async fn drain(
    sender: mpsc::UnboundedSender<Progress>,
    mut receiver: mpsc::UnboundedReceiver<Progress>,
) -> Vec<Progress> {
    drop(sender);
    let mut events = Vec::new();
    while let Some(event) = receiver.recv().await {
        events.push(event);
    }
    events
}

fn outcomes(events: &[Progress]) -> Vec<(Component, Outcome)> {
    events
        .iter()
        .filter_map(|e| match e {
            Progress::Finished(c, o) => Some((*c, *o)),
            _ => None,
        })
        .collect()
}

fn log_text(events: &[Progress]) -> String {
    events.iter().map(|e| format!("{e:?}\n")).collect()
}

async fn connect(sim: &SimLab) -> Lab {
    Lab::connect(&sim.config, &sim.data_dir()).await.unwrap()
}

/// Whether every rendered object of `component` is stored in the fake cluster.
fn present(sim: &SimLab, component: Component) -> bool {
    rendered(component, &sim.config).iter().all(|manifest| {
        let object = serde_json::to_value(&manifest.object).unwrap();
        let (api_version, plural) = identity(&object);
        sim.kube
            .get(
                &api_version,
                &plural,
                manifest.namespace().as_deref(),
                &manifest.name(),
            )
            .is_some()
    })
}

#[tokio::test]
async fn a_fresh_cluster_comes_up_and_a_rerun_changes_nothing() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{}", log_text(&events)));
    assert_eq!(
        outcomes(&events),
        vec![
            (Component::K3s, Outcome::AlreadyDone),
            (Component::Namespaces, Outcome::Applied),
            (Component::Redis, Outcome::Applied),
            (Component::Gitea, Outcome::Applied),
            (Component::Flux, Outcome::Applied),
            (Component::Keda, Outcome::Applied),
            (Component::Ci, Outcome::Applied),
            (Component::Gpu, Outcome::Applied),
            (Component::Sparky, Outcome::Applied),
        ]
    );
    for component in Component::ALL {
        assert!(present(&sim, component), "{component:?} not all applied");
    }
    // The raibid workloads went through git: Flux applied what the repository holds.
    let repository = sim.gitea.repository(ADMIN, &sim.config.cluster.gitops_repo);
    let files = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&repository)
        .args(["ls-tree", "-r", "--name-only", "main"])
        .output()
        .unwrap();
    let files = String::from_utf8(files.stdout).unwrap();
    assert!(
        files.contains("ci/raibid.scaledjob.raibid-agent.yaml"),
        "{files}"
    );
    assert!(
        files.contains("sparky/raibid.deployment.ollama.yaml"),
        "{files}"
    );
    // Secrets were generated in the cluster and never shown.
    let secrets = sim.secret_values();
    assert!(secrets.len() >= 7, "{secrets:?}");
    let text = log_text(&events);
    for value in secrets.iter().filter(|v| v.len() > 8) {
        assert!(!text.contains(value.as_str()), "a secret reached the log");
    }
    // Applied server-side by field manager raibid.
    let applies = sim
        .kube
        .requests()
        .iter()
        .filter(|r| r.starts_with("PATCH"))
        .count();
    assert!(applies > 10);

    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap();
    assert!(
        outcomes(&events)
            .iter()
            .all(|(_, o)| *o == Outcome::AlreadyDone),
        "{}",
        log_text(&events)
    );
    let after = sim
        .kube
        .requests()
        .iter()
        .filter(|r| r.starts_with("PATCH"))
        .count();
    assert_eq!(after, applies, "a rerun applied something");
}

#[tokio::test]
async fn a_half_done_cluster_resumes_where_it_stopped() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    up(&lab, &[Component::Namespaces, Component::Redis])
        .await
        .0
        .unwrap();
    assert!(!present(&sim, Component::Gitea));
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap();
    let outcomes = outcomes(&events);
    assert_eq!(outcomes[1], (Component::Namespaces, Outcome::AlreadyDone));
    assert_eq!(outcomes[2], (Component::Redis, Outcome::AlreadyDone));
    assert_eq!(outcomes[3], (Component::Gitea, Outcome::Applied));
}

#[tokio::test]
async fn a_failing_step_stops_the_run_and_a_rerun_finishes() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    sim.kube.fail("PATCH", "/helmcharts/gitea", 500, 1);
    let (result, events) = up(&lab, &Component::ALL).await;
    let error = result.unwrap_err();
    assert!(error.starts_with("Gitea"), "{error}");
    assert!(error.contains("500"), "{error}");
    assert!(matches!(
        events.last(),
        Some(Progress::Failed(Component::Gitea, _))
    ));
    assert!(present(&sim, Component::Redis));
    assert!(
        !present(&sim, Component::Flux),
        "the run went on after a failure"
    );

    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap();
    let outcomes = outcomes(&events);
    assert_eq!(outcomes[2], (Component::Redis, Outcome::AlreadyDone));
    assert_eq!(outcomes[3], (Component::Gitea, Outcome::Applied));
    assert_eq!(outcomes.len(), 9);
}

#[tokio::test]
async fn status_reads_each_component_and_shows_drift() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    let before = lab.status().await;
    assert_eq!(before.components[0].health, Health::Ready, "{before:?}");
    assert!(
        before.components[1..]
            .iter()
            .all(|c| c.health == Health::Missing),
        "{before:?}"
    );
    // The GPU is advertised only once the device plugin runs.
    assert_eq!(before.nodes[0].gpus, 0);
    assert_eq!(before.nodes[0].cpu_millis, 20_000);

    up(&lab, &Component::ALL).await.0.unwrap();
    let after = lab.status().await;
    assert!(
        after.components.iter().all(|c| c.health == Health::Ready),
        "{after:?}"
    );
    assert!(after.components[6].detail.contains("in sync"), "{after:?}");
    assert_eq!(after.nodes[0].gpus, 1);
    assert!(
        after.components[7]
            .detail
            .contains("1 nvidia.com/gpu advertised"),
        "{after:?}"
    );

    // A changed config is drift until `up` commits it.
    let mut changed = sim.config.clone();
    changed.cluster.agent_max_replicas = 9;
    let drifted = Lab::connect(&changed, &sim.data_dir()).await.unwrap();
    let status = drifted.status().await;
    let ci = &status.components[6];
    assert_eq!(ci.health, Health::Progressing, "{ci:?}");
    assert!(ci.detail.contains("gitops drift: 1 changed"), "{ci:?}");
    up(&drifted, &[Component::Ci]).await.0.unwrap();
    assert_eq!(drifted.status().await.components[6].health, Health::Ready);
}

#[tokio::test]
async fn down_after_up_removes_in_reverse_and_keeps_data_unless_purged() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    up(&lab, &Component::ALL).await.0.unwrap();
    let events = down(&lab, false).await;
    let order: Vec<Component> = outcomes(&events).iter().map(|(c, _)| *c).collect();
    let mut reversed = Component::ALL.to_vec();
    reversed.reverse();
    assert_eq!(order, reversed);
    assert!(
        sim.kube
            .list("apps/v1", "deployments")
            .iter()
            .all(|d| { d["metadata"]["labels"]["app.kubernetes.io/part-of"] != "raibid" })
    );
    assert!(sim.kube.list("helm.cattle.io/v1", "helmcharts").is_empty());
    // Data volumes, secrets and namespaces stay.
    assert!(
        sim.kube
            .get(
                "v1",
                "persistentvolumeclaims",
                Some("raibid"),
                "cargo-cache"
            )
            .is_some()
    );
    assert!(
        sim.kube
            .get("v1", "secrets", Some("gitea"), "gitea-admin")
            .is_some()
    );
    assert!(sim.kube.get("v1", "namespaces", None, "raibid").is_some());

    // Up again finds the data and the same secrets.
    let password = sim
        .kube
        .get("v1", "secrets", Some("gitea"), "gitea-admin")
        .unwrap()["data"]["password"]
        .clone();
    up(&lab, &Component::ALL).await.0.unwrap();
    let again = sim
        .kube
        .get("v1", "secrets", Some("gitea"), "gitea-admin")
        .unwrap()["data"]["password"]
        .clone();
    assert_eq!(password, again);

    down(&lab, true).await;
    assert!(sim.kube.get("v1", "namespaces", None, "raibid").is_none());
    assert!(sim.kube.list("v1", "persistentvolumeclaims").is_empty());
    assert!(sim.kube.list("v1", "secrets").is_empty());
}

#[tokio::test]
async fn an_unreachable_or_broken_kubeconfig_says_which_and_why() {
    let sim = SimLab::start().await;
    let mut config = sim.config.clone();
    config.cluster.kubeconfig = sim.data.path().join("missing.yaml");
    let error = Lab::connect(&config, &sim.data_dir())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("missing.yaml"), "{error}");

    let broken = sim.data.path().join("broken.yaml");
    std::fs::write(&broken, "clusters: [oops").unwrap();
    config.cluster.kubeconfig = broken;
    let error = Lab::connect(&config, &sim.data_dir())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("broken.yaml") && error.contains("not usable"),
        "{error}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = sim.data.path().join("unreachable.yaml");
    let text = sim
        .kube
        .kubeconfig()
        .replace(&sim.kube.url(), &format!("http://127.0.0.1:{port}"));
    std::fs::write(&unreachable, text).unwrap();
    config.cluster.kubeconfig = unreachable;
    let error = Lab::connect(&config, &sim.data_dir())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains(&format!("127.0.0.1:{port}")) && error.contains("does not answer"),
        "{error}"
    );
}

#[tokio::test]
async fn the_configs_api_tokens_reach_the_pods_and_follow_the_config() {
    use std::os::unix::fs::PermissionsExt;
    let sim = SimLab::start().await;
    let token_file = sim.data.path().join("github-token");
    let write_token = |value: &str| {
        std::fs::write(&token_file, value).unwrap();
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    write_token("ghp_first_token_value");
    let mut config = sim.config.clone();
    config.github.token = raibid::config::Secret::File(token_file.clone());
    let lab = Lab::connect(&config, &sim.data_dir()).await.unwrap();
    let forwarded = || {
        let secret = sim
            .kube
            .get("v1", "secrets", Some("raibid"), "raibid-tokens")
            .expect("the tokens secret");
        let encoded = secret["data"]["github-token"].as_str().unwrap().to_string();
        String::from_utf8(support::gitea::decode_base64(&encoded)).unwrap()
    };

    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap();
    assert_eq!(forwarded(), "ghp_first_token_value");
    assert!(!log_text(&events).contains("ghp_first_token_value"));
    assert!(log_text(&events).contains("forwarded github-token into secret raibid/raibid-tokens"));
    let (_, events) = up(&lab, &Component::ALL).await;
    assert!(
        outcomes(&events)
            .iter()
            .all(|(_, o)| *o == Outcome::AlreadyDone)
    );

    // A new token in the config is forwarded on the next `up`.
    write_token("ghp_second_token_value");
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap();
    assert!(outcomes(&events).contains(&(Component::Ci, Outcome::Applied)));
    assert_eq!(forwarded(), "ghp_second_token_value");
    assert!(!log_text(&events).contains("ghp_second_token_value"));
}

/// The GPU step installs the `nvidia` RuntimeClass and the device plugin running with it;
/// only then does the node advertise its GPU, and Ollama gets it.
#[tokio::test]
async fn a_gpu_node_advertises_its_gpu_once_the_device_plugin_runs() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{}", log_text(&events)));
    let class = sim
        .kube
        .get("node.k8s.io/v1", "runtimeclasses", None, "nvidia")
        .expect("the nvidia RuntimeClass");
    assert_eq!(class["handler"], "nvidia");
    let plugin = sim
        .kube
        .get(
            "helm.cattle.io/v1",
            "helmcharts",
            Some("kube-system"),
            "nvidia-device-plugin",
        )
        .expect("the device plugin's HelmChart");
    assert!(
        plugin["spec"]["valuesContent"]
            .as_str()
            .unwrap()
            .contains("runtimeClassName: nvidia")
    );
    let spark = sim.kube.get("v1", "nodes", None, "spark").unwrap();
    assert_eq!(spark["status"]["allocatable"]["nvidia.com/gpu"], "1");
    assert!(
        log_text(&events).contains("a node advertises 1 nvidia.com/gpu"),
        "{}",
        log_text(&events)
    );
    let ollama = sim
        .kube
        .get("apps/v1", "deployments", Some("raibid"), "ollama")
        .unwrap();
    let pod = &ollama["spec"]["template"]["spec"];
    assert_eq!(pod["runtimeClassName"], "nvidia");
    assert_eq!(
        pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        "1"
    );
}

/// A node whose GPU the plugin cannot see: the GPU step fails within its short wait, and
/// the Sparky step on its own fails at once; both say why and how to fix it.
#[tokio::test]
async fn without_an_advertised_gpu_the_steps_fail_fast_with_the_fix() {
    let mut sim = SimLab::start().await;
    sim.kube.insert("v1", "nodes", node("spark", 0));
    sim.config.cluster.wait_timeout_secs = 2;
    let lab = connect(&sim).await;
    let started = std::time::Instant::now();
    let (result, events) = up(&lab, &Component::ALL).await;
    let error = result.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(error.starts_with("NVIDIA GPU"), "{error}");
    for fix in [
        "no node advertises 1 nvidia.com/gpu",
        "NVIDIA container toolkit",
        "restart k3s",
        "cluster.ollama_gpus = 0",
    ] {
        assert!(error.contains(fix), "{fix} missing from {error}");
    }
    assert!(matches!(
        events.last(),
        Some(Progress::Failed(Component::Gpu, _))
    ));
    assert!(!present(&sim, Component::Sparky));

    let started = std::time::Instant::now();
    let (result, events) = up(&lab, &[Component::Sparky]).await;
    let error = result.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(error.starts_with("Sparky"), "{error}");
    assert!(error.contains("NVIDIA container toolkit"), "{error}");
    assert!(matches!(
        events.last(),
        Some(Progress::Failed(Component::Sparky, _))
    ));
    assert!(
        sim.kube
            .get("apps/v1", "deployments", Some("raibid"), "ollama")
            .is_none(),
        "Ollama was applied without a GPU"
    );
    let status = lab.status().await;
    let gpu = &status.components[7];
    assert_eq!(gpu.health, Health::Failed, "{gpu:?}");
    assert!(gpu.detail.contains("restart k3s"), "{gpu:?}");
}

/// `cluster.ollama_gpus = 0` runs Ollama on the CPU: no device plugin, no GPU limits, and a
/// node without GPUs is fine.
#[tokio::test]
async fn no_gpus_wanted_installs_no_device_plugin_and_ollama_runs_on_cpu() {
    let mut sim = SimLab::start().await;
    sim.kube.insert("v1", "nodes", node("spark", 0));
    sim.config.cluster.ollama_gpus = 0;
    let lab = connect(&sim).await;
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{}", log_text(&events)));
    assert!(sim.kube.list("node.k8s.io/v1", "runtimeclasses").is_empty());
    assert!(
        sim.kube
            .get(
                "helm.cattle.io/v1",
                "helmcharts",
                Some("kube-system"),
                "nvidia-device-plugin"
            )
            .is_none()
    );
    let ollama = sim
        .kube
        .get("apps/v1", "deployments", Some("raibid"), "ollama")
        .unwrap();
    let pod = &ollama["spec"]["template"]["spec"];
    assert!(pod.get("runtimeClassName").is_none(), "{pod}");
    assert!(!pod.to_string().contains("nvidia.com/gpu"), "{pod}");
    let status = lab.status().await;
    assert!(
        status.components.iter().all(|c| c.health == Health::Ready),
        "{status:?}"
    );
    assert!(status.components[7].detail.contains("not used"));
}

/// One key of a secret in the fake cluster, decoded.
fn secret_key(sim: &SimLab, name: &str, key: &str) -> String {
    let secret = sim
        .kube
        .get("v1", "secrets", Some("raibid"), name)
        .unwrap_or_else(|| panic!("secret {name}"));
    let encoded = secret["data"][key].as_str().unwrap().to_string();
    String::from_utf8(support::gitea::decode_base64(&encoded)).unwrap()
}

#[tokio::test]
async fn up_wires_giteas_push_webhook_and_the_agents_read_only_clone_credential() {
    let sim = SimLab::start().await;
    let lab = connect(&sim).await;
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{}", log_text(&events)));
    let api = sim.gitea.api();

    // The mirrors organisation's push webhook reaches the server's Service, signed with
    // the secret the server checks.
    let service = sim
        .kube
        .get("v1", "services", Some("raibid"), "raibid-server")
        .expect("the server's Service");
    assert_eq!(service["spec"]["ports"][0]["port"], 8080, "{service}");
    let hooks = api.hooks("mirrors");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let hook = &hooks[0];
    assert_eq!(
        hook.url,
        "http://raibid-server.raibid.svc.cluster.local:8080/webhooks/gitea"
    );
    let webhook_secret = secret_key(&sim, "raibid-server", "gitea-webhook-secret");
    assert_eq!(hook.secret, webhook_secret);
    assert_eq!(
        (hook.kind.as_str(), hook.content_type.as_str(), hook.active),
        ("gitea", "json", true)
    );
    assert_eq!(hook.events, ["push"]);

    // The reader: a user in a read-only team of the organisation, with one token scoped
    // read:repository, stored for the agents.
    assert!(api.has_user("raibid-ci"));
    let teams = api.teams("mirrors");
    assert_eq!(teams.len(), 1, "{teams:?}");
    assert_eq!(
        (teams[0].name.as_str(), teams[0].permission.as_str()),
        ("ci-readers", "read")
    );
    assert!(teams[0].includes_all_repositories);
    assert!(teams[0].members.contains("raibid-ci"));
    let tokens = api.tokens();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0].scopes, ["read:repository"]);
    let credential = secret_key(&sim, "raibid-git-clone", "credentials");
    assert_eq!(credential, format!("raibid-ci:{}", tokens[0].value));

    // Agents read it from a file only their user may read, never from the environment.
    let scaled = sim
        .kube
        .get(
            "keda.sh/v1alpha1",
            "scaledjobs",
            Some("raibid"),
            "raibid-agent",
        )
        .expect("the agents' ScaledJob");
    let pod = &scaled["spec"]["jobTargetRef"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "git-clone")
        .expect("the clone credential's volume");
    assert_eq!(volume["secret"]["secretName"], "raibid-git-clone");
    assert_eq!(volume["secret"]["defaultMode"], 0o400);
    let agent = &pod["containers"][0];
    let mount = agent["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "git-clone")
        .expect("the clone credential's mount");
    assert_eq!(mount["readOnly"], true);
    assert!(!agent["env"].to_string().contains("raibid-git-clone"));
    let config_map = sim
        .kube
        .get("v1", "configmaps", Some("raibid"), "raibid-agent-config")
        .unwrap();
    let inside = config_map["data"]["config.toml"].as_str().unwrap();
    assert!(
        inside
            .contains("clone_credentials_file = \"/var/run/secrets/raibid/git-clone/credentials\""),
        "{inside}"
    );
    let public_url = format!(
        "public_url = \"http://127.0.0.1:{}\"",
        sim.config.cluster.gitea_node_port
    );
    assert!(inside.contains(&public_url), "{inside}");

    let text = log_text(&events);
    assert!(text.contains("created Gitea user raibid-ci"), "{text}");
    assert!(text.contains("Gitea push webhook on mirrors"), "{text}");
    for secret in [&webhook_secret, &tokens[0].value] {
        assert!(!text.contains(secret.as_str()), "a secret reached the log");
    }

    // A rerun finds everything in place and makes nothing.
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap();
    assert!(
        outcomes(&events)
            .iter()
            .all(|(_, o)| *o == Outcome::AlreadyDone),
        "{}",
        log_text(&events)
    );
    assert_eq!(api.hooks("mirrors"), hooks);
    assert_eq!(api.tokens()[0].value, tokens[0].value);

    // A revoked token is replaced, and the webhook is still the one.
    api.revoke_tokens();
    let (result, events) = up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{}", log_text(&events)));
    assert!(outcomes(&events).contains(&(Component::Ci, Outcome::Applied)));
    let renewed = api.tokens();
    assert_eq!(renewed.len(), 1, "{renewed:?}");
    assert_eq!(
        secret_key(&sim, "raibid-git-clone", "credentials"),
        format!("raibid-ci:{}", renewed[0].value)
    );
    assert_eq!(api.hooks("mirrors").len(), 1);
    assert_eq!(api.teams("mirrors").len(), 1);
    assert!(!log_text(&events).contains(renewed[0].value.as_str()));
}
