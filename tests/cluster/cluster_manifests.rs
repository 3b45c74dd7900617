//! The rendered cluster objects: snapshots, typed round trips, CRD schemas, each pinned
//! chart's values held to the chart's own `values.yaml`, and the properties the lab depends
//! on (lag-mode scaling, Gitea's version, GPUs, no secret values).

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::node::v1::RuntimeClass;
use raibid::backend::cluster::Component;
use raibid::backend::cluster::Manifest;
use raibid::backend::cluster::crds::{
    GitRepository, HelmChart, Kustomization, ScaledJob, TriggerAuthentication,
};
use raibid::backend::cluster::manifest::to_yaml_stream;
use raibid::backend::cluster::manifests::{
    COMPONENT_LABEL, PART_OF_LABEL, STEP_USER, manifests, ollama_pull_job_name,
};
use raibid::backend::queue::contract::Keys;
use raibid::config::{Config, GITEA_MIN_CHART_VERSION, GITEA_MIN_VERSION, Secret, parse_version};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use support::crd_schema::{self, Crd};

/// Every component with objects (k3s is installed, not applied).
fn components() -> impl Iterator<Item = Component> {
    Component::ALL
        .into_iter()
        .filter(|component| *component != Component::K3s)
}

fn all(config: &Config) -> Vec<(Component, Manifest)> {
    components()
        .flat_map(|component| {
            manifests(component, config)
                .into_iter()
                .map(move |manifest| (component, manifest))
        })
        .collect()
}

fn json(manifest: &Manifest) -> Value {
    serde_json::to_value(&manifest.object).unwrap()
}

fn crds() -> Vec<Crd> {
    crd_schema::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crds"))
}

fn find(config: &Config, component: Component, kind: &str) -> Vec<Manifest> {
    manifests(component, config)
        .into_iter()
        .filter(|manifest| manifest.kind() == kind)
        .collect()
}

#[test]
fn snapshots() {
    let config = Config::default();
    for component in components() {
        let yaml = to_yaml_stream(&manifests(component, &config));
        insta::assert_snapshot!(format!("manifests_{}", component.name()), yaml);
    }
}

#[test]
fn k3s_renders_nothing() {
    assert!(manifests(Component::K3s, &Config::default()).is_empty());
}

/// The YAML read back into its typed struct and written again as JSON.
fn typed_round_trip<K: DeserializeOwned + Serialize>(yaml: &str) -> Value {
    let typed: K = serde_saphyr::from_str(yaml).unwrap_or_else(|error| panic!("{error}\n{yaml}"));
    serde_json::to_value(typed).unwrap()
}

#[test]
fn every_object_reads_back_into_its_type_unchanged() {
    for (_, manifest) in all(&Config::default()) {
        let yaml = manifest.to_yaml();
        let back = match manifest.kind() {
            "Namespace" => typed_round_trip::<Namespace>(&yaml),
            "Service" => typed_round_trip::<Service>(&yaml),
            "StatefulSet" => typed_round_trip::<StatefulSet>(&yaml),
            "Deployment" => typed_round_trip::<Deployment>(&yaml),
            "ConfigMap" => typed_round_trip::<ConfigMap>(&yaml),
            "PersistentVolumeClaim" => typed_round_trip::<PersistentVolumeClaim>(&yaml),
            "Job" => typed_round_trip::<Job>(&yaml),
            "CronJob" => typed_round_trip::<CronJob>(&yaml),
            "HelmChart" => typed_round_trip::<HelmChart>(&yaml),
            "ScaledJob" => typed_round_trip::<ScaledJob>(&yaml),
            "TriggerAuthentication" => typed_round_trip::<TriggerAuthentication>(&yaml),
            "GitRepository" => typed_round_trip::<GitRepository>(&yaml),
            "Kustomization" => typed_round_trip::<Kustomization>(&yaml),
            "NetworkPolicy" => typed_round_trip::<NetworkPolicy>(&yaml),
            "RuntimeClass" => typed_round_trip::<RuntimeClass>(&yaml),
            other => panic!("{}: no typed struct for kind {other}", manifest.describe()),
        };
        assert_eq!(back, json(&manifest), "{}", manifest.describe());
    }
}

#[test]
fn custom_resources_fit_their_crd_schemas() {
    let crds = crds();
    assert_eq!(crds.len(), 5);
    let mut checked = HashSet::new();
    for (_, manifest) in all(&Config::default()) {
        let object = json(&manifest);
        let Some(crd) = crds.iter().find(|crd| crd.kind == manifest.kind()) else {
            continue;
        };
        assert_eq!(
            object["apiVersion"],
            crd.api_version.as_str(),
            "{}",
            manifest.describe()
        );
        if let Err(problem) = crd_schema::validate(&crd.schema, &object) {
            panic!("{}: {problem}", manifest.describe());
        }
        checked.insert(crd.kind.clone());
    }
    assert_eq!(checked.len(), 5, "every CRD is used: {checked:?}");
}

#[test]
fn schema_check_names_the_path_of_a_problem() {
    let crds = crds();
    let scaled_job_crd = crds.iter().find(|crd| crd.kind == "ScaledJob").unwrap();
    let scaled_job = json(&find(&Config::default(), Component::Ci, "ScaledJob")[0]);

    let mut misspelled = scaled_job.clone();
    misspelled["spec"]["pollingIntervall"] = 10.into();
    let problem = crd_schema::validate(&scaled_job_crd.schema, &misspelled).unwrap_err();
    assert!(problem.starts_with("$.spec.pollingIntervall:"), "{problem}");

    let mut no_triggers = scaled_job.clone();
    no_triggers["spec"]
        .as_object_mut()
        .unwrap()
        .remove("triggers");
    let problem = crd_schema::validate(&scaled_job_crd.schema, &no_triggers).unwrap_err();
    assert!(problem.starts_with("$.spec:"), "{problem}");
    assert!(problem.contains("triggers"), "{problem}");

    let mut wrong_type = scaled_job;
    wrong_type["spec"]["triggers"][0]["metadata"]["lagCount"] = 1.into();
    let problem = crd_schema::validate(&scaled_job_crd.schema, &wrong_type).unwrap_err();
    assert!(
        problem.starts_with("$.spec.triggers[0].metadata.lagCount:"),
        "{problem}"
    );
}

#[test]
fn agents_scale_on_the_queue_lag() {
    let mut config = Config::default();
    config.ci.queue_prefix = "lab".into();
    let scaled_job = json(&find(&config, Component::Ci, "ScaledJob")[0]);
    let triggers = scaled_job["spec"]["triggers"].as_array().unwrap();
    assert_eq!(triggers.len(), 1);
    let trigger = &triggers[0];
    assert_eq!(trigger["type"], "redis-streams");
    let metadata = &trigger["metadata"];
    let keys = Keys::new("lab");
    assert_eq!(metadata["stream"], keys.jobs().as_str());
    assert_eq!(metadata["consumerGroup"], keys.group());
    assert!(metadata["lagCount"].is_string(), "{metadata}");
    assert_eq!(metadata["activationLagCount"], "0");
    assert_eq!(metadata["address"], "redis.raibid.svc.cluster.local:6379");
    assert_eq!(trigger["authenticationRef"]["name"], "redis-queue");
    let auth = json(&find(&config, Component::Ci, "TriggerAuthentication")[0]);
    assert_eq!(auth["metadata"]["name"], "redis-queue");
    assert_eq!(auth["spec"]["secretTargetRef"][0]["parameter"], "password");
}

#[test]
fn gitea_runs_a_safe_version_with_registry_and_local_webhooks() {
    let chart = json(&find(&Config::default(), Component::Gitea, "HelmChart")[0]);
    let values: Value =
        serde_saphyr::from_str(chart["spec"]["valuesContent"].as_str().unwrap()).unwrap();
    let tag = values["image"]["tag"].as_str().unwrap();
    assert!(parse_version(tag).unwrap() >= GITEA_MIN_VERSION, "{tag}");
    let chart_version = chart["spec"]["version"].as_str().unwrap();
    assert!(parse_version(chart_version).unwrap() >= GITEA_MIN_CHART_VERSION);
    // One ReadWriteOnce volume and a local queue database: never a surge pod.
    assert_eq!(values["strategy"]["type"], "Recreate");
    let config = &values["gitea"]["config"];
    assert_eq!(config["packages"]["ENABLED"], true);
    assert_eq!(config["webhook"]["ALLOWED_HOST_LIST"], "private,loopback");
    assert_eq!(config["migrations"]["ALLOW_LOCALNETWORKS"], true);
    assert_eq!(values["service"]["http"]["nodePort"], 30300);
}

/// A 0600 file holding `value`, as `Secret::File` wants it.
fn secret_file(dir: &Path, name: &str, value: &str) -> Secret {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Secret::File(path)
}

#[test]
fn no_secret_objects_and_no_secret_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    let value = "hunter2-manifest-leak-check";
    config.server.token = secret_file(dir.path(), "token", value);
    config.server.gitea_webhook_secret = secret_file(dir.path(), "gitea", value);
    config.server.github_webhook_secret = secret_file(dir.path(), "github", value);
    config.gitea.token = secret_file(dir.path(), "gitea-token", value);
    config.publish.token = secret_file(dir.path(), "publish", value);
    config.github.token = secret_file(dir.path(), "github-token", value);
    config.openai.api_key = secret_file(dir.path(), "openai", value);
    config.devto.api_key = secret_file(dir.path(), "devto", value);
    config.mastodon.token = secret_file(dir.path(), "mastodon", value);
    config.bluesky.app_password = secret_file(dir.path(), "bluesky", value);
    config.ci.redis_password = secret_file(dir.path(), "redis", value);
    config.ci.clone_credentials_file = dir.path().join("clone-credentials");
    assert_eq!(
        config.server.token.reveal().unwrap().as_deref(),
        Some(value)
    );
    for component in components() {
        let rendered = manifests(component, &config);
        for manifest in &rendered {
            assert_ne!(manifest.kind(), "Secret", "{}", manifest.describe());
        }
        let yaml = to_yaml_stream(&rendered);
        assert!(
            !yaml.contains(value),
            "{} renders a secret value",
            component.name()
        );
        // Host paths of secret files mean nothing in pods.
        assert!(
            !yaml.contains(&*dir.path().to_string_lossy()),
            "{}",
            component.name()
        );
    }
}

/// The `config.toml` of ConfigMap `name`.
fn config_in(name: &str) -> Config {
    let config_map = find(&Config::default(), Component::Ci, "ConfigMap")
        .into_iter()
        .find(|manifest| manifest.name() == name)
        .unwrap_or_else(|| panic!("ConfigMap {name}"));
    toml::from_str(json(&config_map)["data"]["config.toml"].as_str().unwrap()).unwrap()
}

/// Every secret source in `config`: the TOML tables of the form `{ env = .. }` or
/// `{ file = .. }`, with their dotted keys; `none` is left out.
fn secret_sources(config: &Config) -> Vec<(String, Secret)> {
    fn walk(value: &toml::Value, key: &str, found: &mut Vec<(String, Secret)>) {
        let Some(table) = value.as_table() else {
            return;
        };
        if let Ok(secret) = value.clone().try_into::<Secret>() {
            found.push((key.to_owned(), secret));
            return;
        }
        for (name, value) in table {
            let dotted = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}.{name}")
            };
            walk(value, &dotted, found);
        }
    }
    let mut found = Vec::new();
    walk(&toml::Value::try_from(config).unwrap(), "", &mut found);
    found
}

#[test]
fn the_server_reads_its_secrets_from_files_and_the_queue_url_holds_none() {
    let inside = config_in("raibid-config");
    assert_eq!(inside.server.listen, "0.0.0.0:8080");
    assert_eq!(
        inside.server.token,
        Secret::File("/var/run/secrets/raibid/server/token".into())
    );
    assert_eq!(
        inside.ci.redis_password,
        Secret::File("/var/run/secrets/raibid/redis/password".into())
    );
    assert_eq!(
        inside.ci.redis_url,
        "redis://redis.raibid.svc.cluster.local:6379/0"
    );
    assert_eq!(inside.ci.workspace_dir, Path::new("/work"));
    assert_eq!(inside.ci.cache_dir, Path::new("/cache"));
    assert!(!inside.log.file, "pods log to stderr only");
    assert_eq!(inside.cluster, Config::default().cluster);
    let deployment = json(&find(&Config::default(), Component::Ci, "Deployment")[0]);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["enableServiceLinks"], false);
    let env = pod["containers"][0]["env"].to_string();
    assert!(!env.contains("raibid-server"), "{env}");
    assert_secret_volume(pod, "server", "raibid-server");
}

/// `pod` mounts Secret `secret` as volume `volume`, read-only, files mode 0400, under
/// /var/run/secrets/raibid.
fn assert_secret_volume(pod: &Value, volume: &str, secret: &str) {
    let named = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|item| item["name"] == volume)
            .cloned()
            .unwrap_or_else(|| panic!("volume {volume} in {pod}"))
    };
    let source = &named(&pod["volumes"])["secret"];
    assert_eq!(source["secretName"], secret);
    assert_eq!(source["defaultMode"], 0o400);
    let mount = named(&pod["containers"][0]["volumeMounts"]);
    assert_eq!(mount["readOnly"], true);
    assert_eq!(
        mount["mountPath"],
        format!("/var/run/secrets/raibid/{volume}")
    );
}

fn agent_pod(config: &Config) -> Value {
    let scaled = json(&find(config, Component::Ci, "ScaledJob")[0]);
    scaled["spec"]["jobTargetRef"]["template"]["spec"].clone()
}

#[test]
fn agents_hold_no_secret_in_their_environment() {
    let pod = agent_pod(&Config::default());
    let agent = &pod["containers"][0];
    let env: Vec<(&str, &str)> = agent["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|var| {
            assert!(var.get("valueFrom").is_none(), "{var} comes from a secret");
            (
                var["name"].as_str().unwrap(),
                var["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        env,
        [
            ("RAIBID_CONFIG", "/etc/raibid/config.toml"),
            ("RAIBID_CI_STEP_USER", STEP_USER),
        ]
    );
    assert!(agent.get("envFrom").is_none(), "{agent}");
    let volumes = &pod["volumes"];
    assert_eq!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["secret"]["secretName"].as_str())
            .collect::<Vec<_>>(),
        ["redis", "raibid-tokens", "raibid-git-clone"],
        "no server secret, webhook secret or other token"
    );
    assert_secret_volume(&pod, "redis", "redis");
    assert_secret_volume(&pod, "git-clone", "raibid-git-clone");
    assert_secret_volume(&pod, "tokens", "raibid-tokens");
    let tokens = volumes
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "tokens")
        .unwrap();
    assert_eq!(
        tokens["secret"]["items"],
        serde_json::json!([{"key": "gitea-token", "path": "gitea-token"}]),
        "of the forwarded tokens, Gitea's only"
    );
    assert_eq!(tokens["secret"]["optional"], true);
}

#[test]
fn the_agents_config_names_only_the_secret_files_they_mount() {
    let agent = config_in("raibid-agent-config");
    let file = |path: &str| Secret::File(path.into());
    assert_eq!(
        secret_sources(&agent),
        [
            (
                "ci.redis_password".to_owned(),
                file("/var/run/secrets/raibid/redis/password")
            ),
            (
                "gitea.token".to_owned(),
                file("/var/run/secrets/raibid/tokens/gitea-token")
            ),
        ],
        "every other secret is none, never a variable"
    );
    assert_eq!(
        agent.ci.clone_credentials_file,
        Path::new("/var/run/secrets/raibid/git-clone/credentials")
    );
    assert_eq!(
        agent.ci.redis_url,
        "redis://redis.raibid.svc.cluster.local:6379/0"
    );
    let pod = agent_pod(&Config::default());
    let config = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "config")
        .unwrap();
    assert_eq!(config["configMap"]["name"], "raibid-agent-config");
}

#[test]
fn a_users_queue_password_never_reaches_a_config_map() {
    let mut config = Config::default();
    config.ci.redis_url = "redis://:hunter2-in-the-url@10.0.0.5:6379/0".into();
    let yaml = to_yaml_stream(&manifests(Component::Ci, &config));
    assert!(!yaml.contains("hunter2"), "{yaml}");
}

#[test]
fn agents_run_steps_as_another_user_with_root_cut_down() {
    let pod = agent_pod(&Config::default());
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["enableServiceLinks"], false);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let security = &pod["containers"][0]["securityContext"];
    assert_eq!(security["runAsUser"], 0);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(
        security["capabilities"]["add"],
        serde_json::json!([
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "KILL",
            "SETGID",
            "SETUID"
        ])
    );
    assert!(security.get("privileged").is_none(), "{security}");
    let (uid, gid) = STEP_USER.split_once(':').unwrap();
    assert!(uid.parse::<u32>().unwrap() > 0 && gid.parse::<u32>().unwrap() > 0);
}

/// The agents' NetworkPolicy's egress rules as (peer, ports) pairs.
fn agent_egress(config: &Config) -> Vec<(Value, Value)> {
    let policies = find(config, Component::Ci, "NetworkPolicy");
    assert_eq!(policies.len(), 1);
    let policy = json(&policies[0]);
    let spec = &policy["spec"];
    assert_eq!(
        spec["podSelector"]["matchLabels"],
        serde_json::json!({"app.kubernetes.io/name": "raibid-agent"})
    );
    assert_eq!(
        spec["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert!(
        spec.get("ingress").is_none(),
        "nothing connects to an agent"
    );
    spec["egress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            let to = rule["to"].as_array().unwrap();
            assert_eq!(to.len(), 1, "{rule}");
            (to[0].clone(), rule["ports"].clone())
        })
        .collect()
}

fn ports(pairs: &[(&str, u16)]) -> Value {
    pairs
        .iter()
        .map(|(protocol, port)| serde_json::json!({"protocol": protocol, "port": port}))
        .collect()
}

#[test]
fn agents_reach_dns_the_queue_gitea_and_the_internet_only() {
    let mut config = Config::default();
    config.cluster.agent_blocked_cidrs = vec!["10.42.0.0/16".into(), "192.168.0.0/16".into()];
    let egress = agent_egress(&config);
    let namespace =
        |name: &str| serde_json::json!({"matchLabels": {"kubernetes.io/metadata.name": name}});
    assert_eq!(
        egress,
        [
            (
                serde_json::json!({
                    "namespaceSelector": namespace("kube-system"),
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }),
                ports(&[("UDP", 53), ("TCP", 53)]),
            ),
            (
                serde_json::json!({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}}),
                ports(&[("TCP", 6379)]),
            ),
            (
                serde_json::json!({
                    "namespaceSelector": namespace("gitea"),
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "gitea"}},
                }),
                ports(&[("TCP", 3000)]),
            ),
            (
                serde_json::json!({"ipBlock": {
                    "cidr": "0.0.0.0/0",
                    "except": ["10.42.0.0/16", "192.168.0.0/16"],
                }}),
                ports(&[("TCP", 80), ("TCP", 443)]),
            ),
        ]
    );
}

#[test]
fn the_pods_agents_may_reach_in_their_namespace_are_redis_only() {
    let config = Config::default();
    let egress = agent_egress(&config);
    let selects = |labels: &Value| {
        egress.iter().any(|(peer, _)| {
            peer.get("namespaceSelector").is_none()
                && peer["podSelector"]["matchLabels"]
                    .as_object()
                    .is_some_and(|wanted| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
        })
    };
    let mut reachable = Vec::new();
    for (_, manifest) in all(&config) {
        let object = json(&manifest);
        if manifest.namespace().as_deref() != Some(config.cluster.namespace.as_str()) {
            continue;
        }
        if let Some(labels) = pod_labels(&object)
            && selects(labels)
        {
            reachable.push(manifest.describe());
        }
    }
    assert_eq!(
        reachable,
        ["StatefulSet raibid/redis"],
        "not the server, Ollama or Sparky"
    );
}

#[test]
fn every_object_is_labelled_and_unique() {
    let mut seen = HashSet::new();
    for (component, manifest) in all(&Config::default()) {
        let labels = manifest.object.metadata.labels.clone().unwrap_or_default();
        let describe = manifest.describe();
        assert_eq!(
            labels.get(PART_OF_LABEL).map(String::as_str),
            Some("raibid"),
            "{describe}"
        );
        assert_eq!(
            labels
                .get("app.kubernetes.io/managed-by")
                .map(String::as_str),
            Some("raibid"),
            "{describe}"
        );
        assert_eq!(
            labels.get(COMPONENT_LABEL).map(String::as_str),
            Some(component.name()),
            "{describe}"
        );
        assert!(labels.contains_key("app.kubernetes.io/name"), "{describe}");
        let key = (
            manifest.namespace(),
            manifest.kind().to_owned(),
            manifest.name(),
        );
        assert!(seen.insert(key), "{describe} is rendered twice");
    }
}

#[test]
fn volumes_use_the_storage_class_only_when_set() {
    let default = to_yaml_stream(
        &all(&Config::default())
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>(),
    );
    assert!(!default.contains("storageClass"), "{default}");

    let mut config = Config::default();
    config.cluster.storage_class = "fast-ssd".into();
    let mut claims = 0;
    for (_, manifest) in all(&config) {
        let object = json(&manifest);
        let spec = match manifest.kind() {
            "PersistentVolumeClaim" => &object["spec"],
            "StatefulSet" => &object["spec"]["volumeClaimTemplates"][0]["spec"],
            _ => continue,
        };
        assert_eq!(
            spec["storageClassName"],
            "fast-ssd",
            "{}",
            manifest.describe()
        );
        assert_eq!(
            spec["accessModes"][0],
            "ReadWriteOnce",
            "{}",
            manifest.describe()
        );
        claims += 1;
    }
    assert_eq!(
        claims, 4,
        "cargo-cache, ollama-models, sparky-data and Redis's claim template"
    );
    let chart = json(&find(&config, Component::Gitea, "HelmChart")[0]);
    assert!(
        chart["spec"]["valuesContent"]
            .as_str()
            .unwrap()
            .contains("storageClass: fast-ssd")
    );
}

/// The labels of the pods a workload starts, wherever its kind keeps the template.
fn pod_labels(object: &Value) -> Option<&Value> {
    let spec = &object["spec"];
    [
        &spec["template"],
        &spec["jobTemplate"]["spec"]["template"],
        &spec["jobTargetRef"]["template"],
    ]
    .into_iter()
    .map(|template| &template["metadata"]["labels"])
    .find(|labels| labels.is_object())
}

#[test]
fn every_service_selects_the_pods_of_exactly_one_workload() {
    let objects: Vec<Value> = all(&Config::default())
        .iter()
        .map(|(_, manifest)| json(manifest))
        .collect();
    for service in objects.iter().filter(|object| object["kind"] == "Service") {
        let selector = service["spec"]["selector"].as_object().unwrap();
        let selected: Vec<&Value> = objects
            .iter()
            .filter(|object| object["metadata"]["namespace"] == service["metadata"]["namespace"])
            .filter(|object| {
                pod_labels(object)
                    .is_some_and(|labels| selector.iter().all(|(key, value)| &labels[key] == value))
            })
            .collect();
        assert_eq!(
            selected.len(),
            1,
            "Service {} selects {:?}",
            service["metadata"]["name"],
            selected
                .iter()
                .map(|o| &o["metadata"]["name"])
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn ollama_without_gpus_asks_for_none() {
    let mut config = Config::default();
    config.cluster.ollama_gpus = 0;
    let yaml = to_yaml_stream(&manifests(Component::Sparky, &config));
    assert!(!yaml.contains("nvidia.com/gpu"), "{yaml}");
    assert!(!yaml.contains("runtimeClassName"), "{yaml}");

    config.cluster.ollama_gpus = 2;
    let ollama = json(&find(&config, Component::Sparky, "Deployment")[0]);
    let pod = &ollama["spec"]["template"]["spec"];
    assert_eq!(pod["runtimeClassName"], "nvidia");
    assert_eq!(
        pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        "2"
    );
}

#[test]
fn gpus_bring_the_nvidia_runtime_and_the_device_plugin_running_with_it() {
    let config = Config::default();
    let gpu = manifests(Component::Gpu, &config);
    let class = json(&gpu[0]);
    assert_eq!(class["kind"], "RuntimeClass");
    assert_eq!(class["metadata"]["name"], "nvidia");
    assert_eq!(class["handler"], "nvidia");
    let (_, values) = chart_values(&gpu[1]);
    assert_eq!(gpu[1].name(), "nvidia-device-plugin");
    assert_eq!(values["runtimeClassName"], "nvidia");

    let mut cpu_only = config.clone();
    cpu_only.cluster.ollama_gpus = 0;
    assert!(manifests(Component::Gpu, &cpu_only).is_empty());
}

#[test]
fn a_new_model_is_a_new_pull_job() {
    let mut config = Config::default();
    let first = ollama_pull_job_name(&config);
    assert!(first.starts_with("ollama-pull-") && first.len() == "ollama-pull-".len() + 8);
    let job = &find(&config, Component::Sparky, "Job")[0];
    assert_eq!(job.name(), first);
    config.ollama.model = "qwen2.5:7b".into();
    assert_ne!(ollama_pull_job_name(&config), first);
}

/// A HelmChart's chart name and its values, parsed.
fn chart_values(chart: &Manifest) -> (String, Value) {
    let chart = json(chart);
    let values = serde_saphyr::from_str(chart["spec"]["valuesContent"].as_str().unwrap()).unwrap();
    (chart["spec"]["chart"].as_str().unwrap().to_owned(), values)
}

/// A pinned chart's own `Chart.yaml` and `values.yaml`, from `tests/fixtures/charts/`.
struct ChartSource {
    version: String,
    app_version: String,
    values: Value,
}

fn chart_source(chart: &str) -> ChartSource {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/charts")
        .join(chart);
    let read = |file: &str| -> Value {
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{chart}/{file}: {e} (copy it from the chart's source)"));
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{chart}/{file}: {e}"))
    };
    let meta = read("Chart.yaml");
    let text = |key: &str| match &meta[key] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    ChartSource {
        version: text("version"),
        app_version: text("appVersion"),
        values: read("values.yaml"),
    }
}

/// Maps the chart documents as taking any keys (Gitea's `gitea.config` is app.ini, by
/// section); everything else must be a key the chart's values.yaml has.
fn free_form(chart: &str) -> &'static [&'static str] {
    match chart {
        "gitea" => &["gitea.config"],
        _ => &[],
    }
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "map",
        Value::Array(_) => "list",
        Value::Null => "null",
        _ => "scalar",
    }
}

/// Every place where `ours` does not fit the chart's `defaults`: a key the chart does not
/// have, or a value of another shape. A null of ours removes a default, so fits anything;
/// a null default stands for an unset scalar.
fn misfits(ours: &Value, defaults: &Value, free: &[&str], path: &str, found: &mut Vec<String>) {
    match (ours, defaults) {
        (Value::Null, _) => {}
        (Value::Object(ours), Value::Object(defaults)) => {
            if free.contains(&path) {
                return;
            }
            for (key, value) in ours {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match defaults.get(key) {
                    Some(default) => misfits(value, default, free, &at, found),
                    None => found.push(format!("`{at}` is not a key of the chart")),
                }
            }
        }
        (Value::Array(_), Value::Array(_)) => {}
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => found
            .push(format!(
                "`{path}` is a {} in the chart, not a {}",
                shape(defaults),
                shape(ours)
            )),
        _ => {}
    }
}

/// The image tag a chart runs must be of the Gitea (or other app) line the chart was made
/// for: the same major.minor as its appVersion, and no older.
fn tag_fits_app_version(tag: &str, app_version: &str) -> Result<(), String> {
    let (Some(tag_version), Some(app)) = (parse_version(tag), parse_version(app_version)) else {
        return Err(format!(
            "`{tag}` or appVersion `{app_version}` is not a version"
        ));
    };
    if tag_version[..2] == app[..2] && tag_version >= app {
        Ok(())
    } else {
        Err(format!(
            "image {tag} is not of the {}.{} line, at least {app_version}, the chart was made for",
            app[0], app[1]
        ))
    }
}

/// What is wrong with `chart`'s values against its source: unknown keys, wrong shapes, an
/// image the chart cannot run.
fn chart_problems(chart: &Manifest) -> Vec<String> {
    let (name, values) = chart_values(chart);
    let source = chart_source(&name);
    let mut found = Vec::new();
    misfits(&values, &source.values, free_form(&name), "", &mut found);
    if let Some(tag) = values["image"]["tag"].as_str()
        && let Err(why) = tag_fits_app_version(tag, &source.app_version)
    {
        found.push(why);
    }
    found
}

fn helm_charts(config: &Config) -> Vec<Manifest> {
    all(config)
        .into_iter()
        .map(|(_, manifest)| manifest)
        .filter(|manifest| manifest.kind() == "HelmChart")
        .collect()
}

#[test]
fn every_pinned_chart_takes_the_values_raibid_renders() {
    let charts = helm_charts(&Config::default());
    let names: Vec<String> = charts.iter().map(|c| chart_values(c).0).collect();
    assert_eq!(names, ["gitea", "flux2", "keda", "nvidia-device-plugin"]);
    for chart in &charts {
        let (name, _) = chart_values(chart);
        let pinned = json(chart)["spec"]["version"].as_str().unwrap().to_owned();
        assert_eq!(
            chart_source(&name).version,
            pinned,
            "tests/fixtures/charts/{name} is not the pinned chart: copy its files at {pinned}"
        );
        let problems = chart_problems(chart);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

fn gitea_chart(config: &Config) -> Manifest {
    find(config, Component::Gitea, "HelmChart").remove(0)
}

/// `edit` applied to the Gitea chart's rendered values.
fn gitea_with(edit: impl FnOnce(&mut Value)) -> Manifest {
    let mut chart = gitea_chart(&Config::default());
    let (_, mut values) = chart_values(&chart);
    edit(&mut values);
    let yaml = serde_saphyr::to_string(&values).unwrap();
    chart.object.data["spec"]["valuesContent"] = yaml.into();
    chart
}

#[test]
fn a_key_the_chart_lacks_or_a_value_of_another_shape_is_caught() {
    let misspelt = gitea_with(|values| values["image"]["tagg"] = "1.26.4".into());
    assert_eq!(
        chart_problems(&misspelt),
        ["`image.tagg` is not a key of the chart"]
    );
    let list = gitea_with(|values| values["service"]["http"] = serde_json::json!([3000]));
    assert_eq!(
        chart_problems(&list),
        ["`service.http` is a map in the chart, not a list"]
    );
    let scalar = gitea_with(|values| values["persistence"] = "20Gi".into());
    assert_eq!(
        chart_problems(&scalar),
        ["`persistence` is a map in the chart, not a scalar"]
    );
    // Free-form means exactly the documented map, not its neighbours.
    let app_ini =
        gitea_with(|values| values["gitea"]["config"]["ui"] = serde_json::json!({"THEMES": "x"}));
    assert!(chart_problems(&app_ini).is_empty());
    let beside = gitea_with(|values| values["gitea"]["configs"] = serde_json::json!({}));
    assert_eq!(
        chart_problems(&beside),
        ["`gitea.configs` is not a key of the chart"]
    );
}

#[test]
fn an_image_the_chart_cannot_run_is_caught() {
    for (tag, fits) in [
        ("1.26.1", true),
        ("1.26.4", true),
        ("1.26.0", false),
        ("1.25.2", false),
        ("1.27.0", false),
    ] {
        let mut config = Config::default();
        config.cluster.gitea_version = tag.into();
        let problems = chart_problems(&gitea_chart(&config));
        assert_eq!(problems.is_empty(), fits, "{tag}: {problems:?}");
        if !fits {
            assert!(problems[0].contains("the 1.26 line"), "{problems:?}");
        }
    }
}
