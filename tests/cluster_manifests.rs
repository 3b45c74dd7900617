//! The rendered cluster objects: snapshots, typed round trips, CRD schemas, and the
//! properties the lab depends on (lag-mode scaling, Gitea's version, no secret values).

mod support;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Service};
use raibid::backend::cluster::Component;
use raibid::backend::cluster::Manifest;
use raibid::backend::cluster::crds::{
    GitRepository, HelmChart, Kustomization, ScaledJob, TriggerAuthentication,
};
use raibid::backend::cluster::manifest::to_yaml_stream;
use raibid::backend::cluster::manifests::{
    COMPONENT_LABEL, PART_OF_LABEL, manifests, ollama_pull_job_name,
};
use raibid::backend::queue::contract::Keys;
use raibid::config::{Config, GITEA_MIN_VERSION, Secret, parse_version};
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

#[test]
fn in_cluster_config_reads_secrets_from_the_environment() {
    let config_map = json(&find(&Config::default(), Component::Ci, "ConfigMap")[0]);
    let text = config_map["data"]["config.toml"].as_str().unwrap();
    let inside: Config = toml::from_str(text).unwrap();
    assert_eq!(inside.server.listen, "0.0.0.0:8080");
    assert_eq!(
        inside.server.token,
        Secret::Env("RAIBID_SERVER_TOKEN".into())
    );
    assert_eq!(inside.ci.workspace_dir, Path::new("/work"));
    assert_eq!(inside.ci.cache_dir, Path::new("/cache"));
    assert!(!inside.log.file, "pods log to stderr only");
    assert_eq!(inside.cluster, Config::default().cluster);
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
fn a_new_model_is_a_new_pull_job() {
    let mut config = Config::default();
    let first = ollama_pull_job_name(&config);
    assert!(first.starts_with("ollama-pull-") && first.len() == "ollama-pull-".len() + 8);
    let job = &find(&config, Component::Sparky, "Job")[0];
    assert_eq!(job.name(), first);
    config.ollama.model = "qwen2.5:7b".into();
    assert_ne!(ollama_pull_job_name(&config), first);
}
