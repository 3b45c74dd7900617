//! The image path of `raibid up` against the fake Kubernetes API, with a real registry on
//! Gitea's node port (its tokens from the fake Gitea, as Gitea's registry hands them out):
//! this binary's image pushed and named by digest, k3s' registries.yaml written once and
//! k3s restarted only then, and images that cannot be pulled failing before any wait.

use std::time::{Duration, Instant};

use raibid::backend::cluster::{Component, Lab};
use serde_json::Value;
use support::lab::{SimLab, run_up};
use support::registry::base_config;

/// The fake cluster's object, or `Value::Null`.
fn object(sim: &SimLab, api_version: &str, plural: &str, name: &str) -> Value {
    sim.kube
        .get(api_version, plural, Some("raibid"), name)
        .unwrap_or(Value::Null)
}

fn gitea_password(sim: &SimLab) -> String {
    let secret = sim
        .kube
        .get("v1", "secrets", Some("gitea"), "gitea-admin")
        .unwrap();
    let encoded = secret["data"]["password"].as_str().unwrap();
    String::from_utf8(support::gitea::decode_base64(encoded)).unwrap()
}

/// A lab whose config names no image (this binary's is built) on a layerless base.
async fn building(sim: &mut SimLab) {
    sim.registry
        .seed("base/debian", "test", &base_config())
        .await;
    sim.config.cluster.image.clear();
    sim.config.image.base = format!("{}/base/debian:test", sim.registry.host());
}

#[tokio::test]
async fn this_binary_is_pushed_and_k3s_restarts_only_when_its_registries_file_changes() {
    let mut sim = SimLab::start().await;
    building(&mut sim).await;
    let lab = Lab::connect(&sim.config, &sim.data_dir()).await.unwrap();
    let (result, log) = run_up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{log}"));

    let server = object(&sim, "apps/v1", "deployments", "raibid-server");
    let container = &server["spec"]["template"]["spec"]["containers"][0];
    let image = container["image"].as_str().unwrap();
    let prefix = format!(
        "{}/raibid/raibid:{}-",
        sim.registry.host(),
        env!("CARGO_PKG_VERSION")
    );
    assert!(image.starts_with(&prefix), "{image}");
    let (tagged, digest) = image.split_once('@').unwrap();
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    let agent = object(&sim, "keda.sh/v1alpha1", "scaledjobs", "raibid-agent");
    assert_eq!(
        agent["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["image"],
        image
    );
    // The registry holds it under that tag and digest: the base's layers and the binary's.
    let tag = tagged.rsplit(':').next().unwrap();
    let manifest = sim.registry.manifest("raibid/raibid", tag).await.unwrap();
    assert_eq!(
        sim.registry.manifest("raibid/raibid", digest).await,
        Some(manifest.clone())
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );

    // k3s learnt the plain-HTTP endpoint and the credentials, and restarted once.
    let registries = std::fs::read_to_string(&sim.config.image.registries_file).unwrap();
    let registries: Value = serde_saphyr::from_str(&registries).unwrap();
    let host = sim.registry.host();
    assert_eq!(
        registries["mirrors"][&host]["endpoint"][0],
        format!("http://{host}")
    );
    let password = gitea_password(&sim);
    assert_eq!(registries["configs"][&host]["auth"]["username"], "raibid");
    assert_eq!(
        registries["configs"][&host]["auth"]["password"],
        password.as_str()
    );
    assert_eq!(sim.k3s_restarts(), 1);
    assert!(
        !log.contains(&password),
        "the registry password reached the log"
    );
    assert!(log.contains("restarting k3s"), "{log}");

    // A rerun with the same binary: nothing to apply, no restart; status sees no drift.
    let lab = Lab::connect(&sim.config, &sim.data_dir()).await.unwrap();
    let (result, log) = run_up(&lab, &Component::ALL).await;
    result.unwrap_or_else(|e| panic!("{e}\n{log}"));
    assert!(!log.contains("Finished(Ci, Applied)"), "{log}");
    assert_eq!(sim.k3s_restarts(), 1, "{log}");
    let status = lab.status().await;
    assert!(
        status
            .components
            .iter()
            .all(|c| c.health == raibid::backend::cluster::report::Health::Ready),
        "{status:?}"
    );
}

/// `up` of the CI step with `config`, which must fail at once naming each of `wanted`.
async fn fails_fast(sim: &SimLab, config: &raibid::config::Config, wanted: &[&str]) {
    let lab = Lab::connect(config, &sim.data_dir()).await.unwrap();
    let started = Instant::now();
    let (result, log) = run_up(&lab, &[Component::Ci]).await;
    let error = result.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{error}");
    assert!(error.starts_with(Component::Ci.title()), "{error}");
    for part in wanted {
        assert!(error.contains(part), "{error} lacks {part}");
    }
    assert!(log.contains("Failed(Ci"), "{log}");
    assert_eq!(
        object(sim, "apps/v1", "deployments", "raibid-server"),
        Value::Null,
        "the step went on"
    );
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_fails_at_once_saying_why() {
    let mut sim = SimLab::start().await;
    let lab = Lab::connect(&sim.config, &sim.data_dir()).await.unwrap();
    let ci = Component::ALL
        .iter()
        .position(|c| *c == Component::Ci)
        .unwrap();
    let before_ci = &Component::ALL[..ci];
    let (result, log) = run_up(&lab, before_ci).await;
    result.unwrap_or_else(|e| panic!("{e}\n{log}"));
    let host = sim.registry.host();

    let mut config = sim.config.clone();
    config.cluster.image = format!("{host}/raibid/absent:1");
    fails_fast(
        &sim,
        &config,
        &[&config.cluster.image, "404", "MANIFEST_UNKNOWN"],
    )
    .await;

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    config.cluster.image = format!("127.0.0.1:{port}/raibid/raibid:1");
    fails_fast(
        &sim,
        &config,
        &[&config.cluster.image, "unreachable", "Connection refused"],
    )
    .await;

    // Gitea refuses the token to anyone but its admin: 401, naming the user tried.
    building(&mut sim).await;
    let mut config = sim.config.clone();
    config.cluster.gitea_admin = "intruder".into();
    fails_fast(&sim, &config, &[&host, "401", "as user intruder"]).await;
    assert_eq!(sim.k3s_restarts(), 0);
}
