//! The fake Kubernetes API server against the real kube-rs client: apply, create, get,
//! list, delete, watch, await_condition, controller hooks and injected failures.

use std::pin::pin;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::runtime::watcher::{self, Event, watcher};
use serde_json::{Value, json};
use support::kube_api::{FakeKube, Verb};
use tokio::time::timeout;
use tokio_stream::{Stream, StreamExt};

fn config_map(name: &str, labels: Value, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    })
}

fn deployment(name: &str, replicas: i32, labels: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "nginx:1.29"}]},
            },
        },
    })
}

fn available_status(replicas: i64) -> Value {
    json!({
        "replicas": replicas,
        "availableReplicas": replicas,
        "conditions": [{"type": "Available", "status": "True"}],
    })
}

fn available(deployment: Option<&Deployment>) -> bool {
    let conditions = deployment.and_then(|d| d.status.as_ref()?.conditions.as_ref());
    conditions.is_some_and(|c| {
        c.iter()
            .any(|c| c.type_ == "Available" && c.status == "True")
    })
}

const JSON: &str = "application/json";
const YAML: &str = "application/apply-patch+yaml";

fn ssa() -> PatchParams {
    PatchParams::apply("raibid").force()
}

fn code(result: Result<impl std::fmt::Debug, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn names(api: &Api<ConfigMap>, params: ListParams) -> Vec<String> {
    let list = api.list(&params).await.unwrap();
    list.items
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect()
}

async fn next<K>(events: &mut (impl Stream<Item = watcher::Result<Event<K>>> + Unpin)) -> Event<K> {
    let event = timeout(Duration::from_secs(5), events.next()).await;
    event.expect("no watch event in time").unwrap().unwrap()
}

fn name_of(event: &Event<ConfigMap>) -> (&'static str, String) {
    let (kind, object) = match event {
        Event::Apply(o) => ("Apply", o),
        Event::Delete(o) => ("Delete", o),
        Event::InitApply(o) => ("InitApply", o),
        Event::Init => return ("Init", String::new()),
        Event::InitDone => return ("InitDone", String::new()),
    };
    (kind, object.metadata.name.clone().unwrap())
}

#[tokio::test]
async fn apply_creates_then_updates_in_place() {
    let kube = FakeKube::start().await;
    let api: Api<ConfigMap> = Api::default_namespaced(kube.client());
    let apply = async |data| {
        let patch = Patch::Apply(config_map("settings", json!({}), data));
        api.patch("settings", &ssa(), &patch).await.unwrap()
    };

    let first = apply(json!({"a": "1"})).await;
    let got = api.get("settings").await.unwrap();
    assert_eq!(got.metadata.uid, first.metadata.uid);
    assert_eq!(got.metadata.namespace.as_deref(), Some("default"));
    assert!(got.metadata.creation_timestamp.is_some());
    assert_eq!(got.data.unwrap()["a"], "1");

    let second = apply(json!({"a": "2"})).await;
    assert_eq!(second.metadata.uid, first.metadata.uid);
    assert_ne!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
    let stored = kube
        .get("v1", "configmaps", Some("default"), "settings")
        .unwrap();
    assert_eq!(stored["data"]["a"], "2");

    // Applying the same thing again changes nothing, not even the resourceVersion.
    let third = apply(json!({"a": "2"})).await;
    assert_eq!(
        third.metadata.resource_version,
        second.metadata.resource_version
    );

    let merge = Patch::Merge(json!({"data": {"b": "3"}}));
    let merged = api.patch("settings", &PatchParams::default(), &merge).await;
    let merged = merged.unwrap().data.unwrap();
    assert_eq!((merged["a"].as_str(), merged["b"].as_str()), ("2", "3"));

    // The generation follows spec changes only.
    let deployments: Api<Deployment> = Api::namespaced(kube.client(), "apps");
    let generation = async |replicas, labels| {
        let patch = Patch::Apply(deployment("web", replicas, labels));
        let applied = deployments.patch("web", &ssa(), &patch).await.unwrap();
        applied.metadata.generation.unwrap()
    };
    assert_eq!(generation(1, json!({})).await, 1);
    assert_eq!(generation(1, json!({"team": "a"})).await, 1);
    assert_eq!(generation(2, json!({"team": "a"})).await, 2);

    // Status goes through /status only, and survives applies of the main resource.
    let status = Patch::Merge(json!({"status": {"replicas": 2}}));
    let patched = deployments
        .patch_status("web", &PatchParams::default(), &status)
        .await;
    assert_eq!(patched.unwrap().metadata.generation, Some(2));
    assert_eq!(generation(2, json!({"team": "b"})).await, 2);
    let got = deployments.get_status("web").await.unwrap();
    assert_eq!(got.status.unwrap().replicas, Some(2));
    assert_eq!(got.metadata.labels.unwrap()["team"], "b");
    assert_eq!(kube.list("apps/v1", "deployments").len(), 1);
}

#[tokio::test]
async fn create_conflicts_and_missing_is_not_found() {
    let kube = FakeKube::start().await;
    let api: Api<ConfigMap> = Api::default_namespaced(kube.client());
    let object: ConfigMap =
        serde_json::from_value(config_map("once", json!({}), json!({}))).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    assert_eq!(code(api.create(&PostParams::default(), &object).await), 409);
    assert_eq!(code(api.get("missing").await), 404);
    assert_eq!(
        code(api.delete("missing", &DeleteParams::default()).await),
        404
    );

    let deleted = api.delete("once", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        deleted.left().unwrap().metadata.name.as_deref(),
        Some("once")
    );
    assert!(
        kube.get("v1", "configmaps", Some("default"), "once")
            .is_none()
    );
}

#[tokio::test]
async fn await_condition_resolves_on_set_status() {
    let kube = FakeKube::start().await;
    let api: Api<Deployment> = Api::default_namespaced(kube.client());
    let apply = Patch::Apply(deployment("web", 1, json!({})));
    api.patch("web", &ssa(), &apply).await.unwrap();

    let wait = await_condition(api.clone(), "web", available);
    let waiter = tokio::spawn(timeout(Duration::from_secs(5), wait));
    // Let it list and start watching, so the status arrives as a watch event.
    let watching = || {
        let requests = kube.requests();
        requests
            .iter()
            .filter(|r| r.ends_with("/default/deployments"))
            .count()
            == 2
    };
    while !watching() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kube.set_status(
        "apps/v1",
        "deployments",
        Some("default"),
        "web",
        available_status(1),
    );

    let done = waiter.await.unwrap().expect("condition not met in time");
    let done = done.unwrap().expect("deployment exists");
    assert_eq!(done.status.unwrap().available_replicas, Some(1));
}

#[tokio::test]
async fn a_write_hook_plays_the_controller() {
    let kube = FakeKube::start().await;
    kube.on_write(|cluster, write| {
        if write.plural == "deployments" && write.verb == Verb::Apply {
            let replicas = write.object["spec"]["replicas"].as_i64().unwrap_or(1);
            let namespace = write.namespace.as_deref();
            let status = available_status(replicas);
            cluster.set_status(
                &write.api_version,
                &write.plural,
                namespace,
                &write.name,
                status,
            );
        }
    });
    let api: Api<Deployment> = Api::namespaced(kube.client(), "lab");
    let apply = Patch::Apply(deployment("web", 2, json!({})));
    api.patch("web", &ssa(), &apply).await.unwrap();

    let stored = kube
        .get("apps/v1", "deployments", Some("lab"), "web")
        .unwrap();
    assert_eq!(stored["status"]["availableReplicas"], 2);
    let wait = await_condition(api, "web", available);
    let done = timeout(Duration::from_secs(2), wait)
        .await
        .unwrap()
        .unwrap();
    assert!(available(done.as_ref()));
}

#[tokio::test]
async fn an_injected_failure_fails_once() {
    let kube = FakeKube::start().await;
    kube.fail("PATCH", "/deployments/", 500, 1);
    let api: Api<Deployment> = Api::default_namespaced(kube.client());
    let apply = Patch::Apply(deployment("web", 1, json!({})));
    assert_eq!(code(api.patch("web", &ssa(), &apply).await), 500);
    api.patch("web", &ssa(), &apply).await.unwrap();
    let patch = "PATCH /apis/apps/v1/namespaces/default/deployments/web";
    assert_eq!(kube.requests(), [patch, patch]);
}

#[tokio::test]
async fn selectors_filter_and_namespaces_cascade() {
    let kube = FakeKube::start().await;
    let client = kube.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let team: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &team)
        .await
        .unwrap();

    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    let objects = [
        ("web", json!({"app": "web", "tier": "front"})),
        ("db", json!({"app": "db"})),
        ("cache", json!({"app": "cache"})),
        ("plain", json!({})),
    ];
    for (name, labels) in objects {
        let object = serde_json::from_value(config_map(name, labels, json!({}))).unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "other");
    let object = serde_json::from_value(config_map("web", json!({"app": "web"}), json!({})));
    other
        .create(&PostParams::default(), &object.unwrap())
        .await
        .unwrap();

    let labels = |s| ListParams::default().labels(s);
    assert_eq!(names(&api, labels("app=web")).await, ["web"]);
    assert_eq!(
        names(&api, labels("app!=web")).await,
        ["cache", "db", "plain"]
    );
    assert_eq!(names(&api, labels("app,tier=front")).await, ["web"]);
    assert_eq!(names(&api, labels("!app")).await, ["plain"]);
    let fields = ListParams::default().fields("metadata.name=db");
    assert_eq!(names(&api, fields).await, ["db"]);
    let everywhere: Api<ConfigMap> = Api::all(client);
    assert_eq!(names(&everywhere, labels("app=web")).await, ["web", "web"]);

    let gone = api
        .delete_collection(&DeleteParams::default(), &labels("app=cache"))
        .await;
    assert_eq!(gone.unwrap().left().unwrap().items.len(), 1);

    namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(code(api.get("web").await), 404);
    let left = kube.list("v1", "configmaps");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["metadata"]["namespace"], "other");

    let requests = kube.requests();
    assert_eq!(
        requests[..2],
        [
            "POST /api/v1/namespaces",
            "POST /api/v1/namespaces/team/configmaps"
        ]
    );
    let tail = [
        "DELETE /api/v1/namespaces/team",
        "GET /api/v1/namespaces/team/configmaps/web",
    ];
    assert_eq!(requests[requests.len() - 2..], tail);
}

#[tokio::test]
async fn a_watcher_sees_additions_and_deletions() {
    let kube = FakeKube::start().await;
    let api: Api<ConfigMap> = Api::default_namespaced(kube.client());
    let create = |name: &str, labels| {
        let object = serde_json::from_value(config_map(name, labels, json!({}))).unwrap();
        let api = api.clone();
        async move { api.create(&PostParams::default(), &object).await.unwrap() }
    };
    create("before", json!({"app": "web"})).await;

    let mut events = pin!(watcher(api.clone(), watcher::Config::default()));
    assert_eq!(name_of(&next(&mut events).await).0, "Init");
    assert_eq!(
        name_of(&next(&mut events).await),
        ("InitApply", "before".into())
    );
    assert_eq!(name_of(&next(&mut events).await).0, "InitDone");
    create("live", json!({})).await;
    assert_eq!(name_of(&next(&mut events).await), ("Apply", "live".into()));
    api.delete("live", &DeleteParams::default()).await.unwrap();
    assert_eq!(name_of(&next(&mut events).await), ("Delete", "live".into()));

    // A streaming list (sendInitialEvents) with a label selector: an object whose labels
    // stop matching leaves the selection as a deletion.
    let config = watcher::Config::default()
        .labels("app=web")
        .streaming_lists();
    let mut events = pin!(watcher(api.clone(), config));
    assert_eq!(name_of(&next(&mut events).await).0, "Init");
    assert_eq!(
        name_of(&next(&mut events).await),
        ("InitApply", "before".into())
    );
    assert_eq!(name_of(&next(&mut events).await).0, "InitDone");
    let relabel = Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}}));
    api.patch("before", &PatchParams::default(), &relabel)
        .await
        .unwrap();
    assert_eq!(
        name_of(&next(&mut events).await),
        ("Delete", "before".into())
    );
}

#[tokio::test]
async fn the_kubeconfig_reaches_the_server() {
    let kube = FakeKube::start().await;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&kube.kubeconfig()).unwrap();
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    assert_eq!(config.default_namespace, "default");
    let client = kube::Client::try_from(config).unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, "v1.33.5+k3s1");
    assert_eq!(kube.requests(), ["GET /version"]);

    // Dropping the handle stops the server.
    drop(kube);
    let stopped = timeout(Duration::from_secs(5), client.apiserver_version()).await;
    assert!(stopped.unwrap().is_err());
}

#[tokio::test]
async fn raw_requests_get_wire_format_answers() {
    let kube = FakeKube::start().await;
    let client = kube.client();
    let send = async |method: &str, path: &str, content_type: &str, body: &str| {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type)
            .body(body.as_bytes().to_vec())
            .unwrap();
        client.request::<Value>(request).await
    };
    let path = "/api/v1/namespaces/default/configmaps/yaml";
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml\ndata:\n  a: '1'\n";
    let applied = send("PATCH", &format!("{path}?fieldManager=t"), YAML, yaml).await;
    assert_eq!(applied.unwrap()["data"]["a"], "1");
    assert_eq!(code(send("PATCH", path, YAML, yaml).await), 400);
    assert_eq!(
        code(send("PATCH", path, "application/json-patch+json", "[]").await),
        415
    );

    let elsewhere = r#"{"metadata": {"name": "x", "namespace": "other"}}"#;
    let collection = "/api/v1/namespaces/default/configmaps";
    assert_eq!(code(send("POST", collection, JSON, elsewhere).await), 400);
    let generated =
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}"#;
    let created = send("POST", collection, JSON, generated).await.unwrap();
    let name = created["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    assert_eq!(code(send("GET", "/apis/nope", JSON, "").await), 404);
}
