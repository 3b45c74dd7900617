//! An in-process fake Kubernetes API server for tests, speaking enough of the REST wire
//! format (<https://kubernetes.io/docs/reference/using-api/api-concepts/>) for kube-rs:
//! get/list/watch, create, replace, delete, server-side apply and merge patches, the
//! `status` subresource, and metav1 `Status` errors.
//!
//! It is generic: objects are JSON values keyed by (apiVersion, plural, namespace, name),
//! and the only per-kind behaviour is that deleting a Namespace deletes what is in it.
//! Deliberate simplifications: no admission or schema validation, a namespace need not exist
//! before objects are created in it, deletion is immediate (no finalizers or
//! `deletionTimestamp`), server-side apply replaces the whole object (field ownership is not
//! tracked), lists are never paginated, and the watch event log is never compacted (so no
//! `410 Gone`). As in the real API, a write that changes nothing keeps the resourceVersion
//! and emits no watch event.
//!
//! Tests simulate controllers with [`FakeCluster::on_write`] hooks and failing steps with
//! [`FakeCluster::fail`]. Pods' ports are reachable by port-forward ([`portforward`]) where
//! [`FakeCluster::serve_port`] says where each goes.

mod portforward;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_util::sync::CancellationToken;

/// The running server; dropping it stops the server and ends open watches. Derefs to the
/// [`FakeCluster`] it serves.
pub struct FakeKube {
    url: String,
    cluster: FakeCluster,
}

impl FakeKube {
    /// Binds 127.0.0.1 on a free port and serves on the current tokio runtime.
    pub async fn start() -> FakeKube {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (events, _) = broadcast::channel(1024);
        let cluster = FakeCluster {
            inner: Arc::new(Inner {
                store: Mutex::new(Store {
                    rv: 0,
                    objects: BTreeMap::new(),
                    log: Vec::new(),
                    events,
                }),
                hooks: Mutex::default(),
                failures: Mutex::default(),
                requests: Mutex::default(),
                ports: Mutex::default(),
                shutdown: CancellationToken::new(),
            }),
        };
        let app = Router::new()
            .route(
                "/api/v1/namespaces/{namespace}/pods/{name}/portforward",
                axum::routing::get(portforward::portforward),
            )
            .fallback(handle)
            .with_state(cluster.clone());
        let shutdown = cluster.inner.shutdown.clone().cancelled_owned();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .unwrap();
        });
        FakeKube { url, cluster }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A client for this server whose default namespace is `default`.
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(kube::Config::new(self.url.parse().unwrap())).unwrap()
    }

    /// A kubeconfig whose current context points at this server with a dummy token.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
    namespace: default
current-context: fake
users:
- name: fake
  user:
    token: fake-token
",
            self.url
        )
    }

    /// A handle to the store that outlives borrows of `self`, e.g. to move into a task.
    pub fn cluster(&self) -> FakeCluster {
        self.cluster.clone()
    }
}

impl Deref for FakeKube {
    type Target = FakeCluster;

    fn deref(&self) -> &FakeCluster {
        &self.cluster
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.cluster.inner.shutdown.cancel();
    }
}

/// What an API request changed, as handed to [`FakeCluster::on_write`] hooks.
#[derive(Clone, Debug)]
pub struct Write {
    pub verb: Verb,
    /// `v1`, `apps/v1`, ...
    pub api_version: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The object as stored after the write; for a delete, as it was last stored.
    pub object: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `POST` to a collection.
    Create,
    /// Server-side apply (`PATCH` with `application/apply-patch+yaml`), creating or not.
    Apply,
    /// `PUT`, a merge patch, or any write to the `status` subresource.
    Update,
    Delete,
}

type Hook = dyn Fn(&FakeCluster, &Write) + Send + Sync;

/// A cheap handle to the fake's store. Its methods are "handle writes": they change the store
/// and emit watch events like API writes, but never call hooks, so a hook may use them
/// without recursing.
#[derive(Clone)]
pub struct FakeCluster {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    hooks: Mutex<Vec<Arc<Hook>>>,
    failures: Mutex<Vec<Failure>>,
    requests: Mutex<Vec<String>>,
    ports: Mutex<portforward::Ports>,
    shutdown: CancellationToken,
}

struct Failure {
    method: String,
    path_contains: String,
    code: u16,
    remaining: usize,
}

impl FakeCluster {
    /// `api_version` is `v1` for the core group, else `group/version`.
    pub fn get(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let key = Key::new(api_version, plural, namespace, name);
        self.store().objects.get(&key).cloned()
    }

    /// Every stored object of a kind, across namespaces, ordered by namespace then name.
    pub fn list(&self, api_version: &str, plural: &str) -> Vec<Value> {
        let scope = Scope::new(api_version, plural, None);
        let store = self.store();
        store.matching(&scope).map(|(_, o)| o.clone()).collect()
    }

    /// Creates or replaces an object (keeping uid and creationTimestamp of one it replaces),
    /// status included. The name and namespace come from its metadata (no namespace for a
    /// cluster-scoped kind).
    pub fn insert(&self, api_version: &str, plural: &str, mut object: Value) {
        let meta = &object["metadata"];
        let name = meta["name"].as_str().expect("object needs metadata.name");
        let key = Key::new(api_version, plural, meta["namespace"].as_str(), name);
        if object.get("apiVersion").is_none() {
            object["apiVersion"] = api_version.into();
        }
        let mut store = self.store();
        stamp(&mut object, store.objects.get(&key));
        store.save(key, object);
    }

    /// Replaces an object's status. Panics if there is no such object.
    pub fn set_status(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) {
        let key = Key::new(api_version, plural, namespace, name);
        let mut store = self.store();
        let Some(mut object) = store.objects.get(&key).cloned() else {
            panic!("set_status: no {api_version} {plural} {namespace:?}/{name}");
        };
        object["status"] = status;
        store.save(key, object);
    }

    /// Deletes an object (and, for a Namespace, everything in it); returns what was stored.
    pub fn remove(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let key = Key::new(api_version, plural, namespace, name);
        self.store().delete(&key)
    }

    /// Registers a "controller" called after every successful API write (not after handle
    /// writes such as `insert` or `set_status`, nor for the objects a Namespace deletion
    /// takes with it). It runs on the server's task before the response is sent, so what it
    /// changes is visible once the client's call returns; it must not block.
    pub fn on_write(&self, hook: impl Fn(&FakeCluster, &Write) + Send + Sync + 'static) {
        self.inner.hooks.lock().unwrap().push(Arc::new(hook));
    }

    /// Answers the next `times` requests whose method is `method` and whose path contains
    /// `path_contains` with a Status of `code` instead of serving them.
    pub fn fail(&self, method: &str, path_contains: &str, code: u16, times: usize) {
        self.inner.failures.lock().unwrap().push(Failure {
            method: method.to_uppercase(),
            path_contains: path_contains.into(),
            code,
            remaining: times,
        });
    }

    /// `METHOD /path` (no query) of every request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.inner.requests.lock().unwrap().clone()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap()
    }

    /// Records a request and answers it with an injected failure if one matches.
    fn record(&self, method: &Method, path: &str) -> Result<(), ApiError> {
        self.inner
            .requests
            .lock()
            .unwrap()
            .push(format!("{method} {path}"));
        match self.take_failure(method, path) {
            Some(code) => Err(ApiError::new(
                code,
                format!("injected failure of {method} {path}"),
            )),
            None => Ok(()),
        }
    }

    fn take_failure(&self, method: &Method, path: &str) -> Option<u16> {
        let mut failures = self.inner.failures.lock().unwrap();
        let at = failures.iter().position(|f| {
            f.method == method.as_str() && path.contains(&f.path_contains) && f.remaining > 0
        })?;
        failures[at].remaining -= 1;
        let code = failures[at].code;
        if failures[at].remaining == 0 {
            failures.remove(at);
        }
        Some(code)
    }

    fn fire(&self, writes: &[Write]) {
        // Cloned so a hook may register hooks without deadlocking.
        let hooks = self.inner.hooks.lock().unwrap().clone();
        for write in writes {
            for hook in &hooks {
                hook(self, write);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    api_version: String,
    plural: String,
    namespace: Option<String>,
    name: String,
}

impl Key {
    fn new(api_version: &str, plural: &str, namespace: Option<&str>, name: &str) -> Key {
        Key {
            api_version: api_version.into(),
            plural: plural.into(),
            namespace: namespace.map(Into::into),
            name: name.into(),
        }
    }
}

/// One stored change; `old` is absent for a creation and `new` for a deletion (whose `old`
/// carries the deletion's resourceVersion, as the real DELETED event does).
struct Change {
    rv: u64,
    key: Key,
    old: Option<Value>,
    new: Option<Value>,
}

struct Store {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    /// Every change ever made, so a watch can resume from any resourceVersion.
    log: Vec<Arc<Change>>,
    events: broadcast::Sender<Arc<Change>>,
}

impl Store {
    /// Stores `object` unless it equals what is stored apart from its resourceVersion (the
    /// real API skips such no-op writes); returns what is stored.
    fn save(&mut self, key: Key, mut object: Value) -> Value {
        if let Some(old) = self.objects.get(&key) {
            object["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            if *old == object {
                return object;
            }
        }
        self.commit(key, Some(object))
    }

    /// Deletes an object, and for a Namespace everything in it.
    fn delete(&mut self, key: &Key) -> Option<Value> {
        if !self.objects.contains_key(key) {
            return None;
        }
        if key.api_version == "v1" && key.plural == "namespaces" {
            let inside: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.namespace.as_ref() == Some(&key.name))
                .cloned()
                .collect();
            for child in inside {
                self.commit(child, None);
            }
        }
        Some(self.commit(key.clone(), None))
    }

    /// Bumps the resourceVersion, applies the change and publishes it; `None` deletes.
    fn commit(&mut self, key: Key, new: Option<Value>) -> Value {
        self.rv += 1;
        let rv = Value::from(self.rv.to_string());
        let (old, new) = match new {
            Some(mut object) => {
                object["metadata"]["resourceVersion"] = rv;
                (
                    self.objects.insert(key.clone(), object.clone()),
                    Some(object),
                )
            }
            None => {
                let mut gone = self.objects.remove(&key).expect("deleting a stored object");
                gone["metadata"]["resourceVersion"] = rv;
                (Some(gone), None)
            }
        };
        let result = new.clone().or_else(|| old.clone()).unwrap();
        let change = Arc::new(Change {
            rv: self.rv,
            key,
            old,
            new,
        });
        self.log.push(change.clone());
        // No receivers just means nobody is watching.
        let _ = self.events.send(change);
        result
    }

    fn matching<'a>(&'a self, scope: &'a Scope) -> impl Iterator<Item = (&'a Key, &'a Value)> {
        let selected = |(k, o): &(&Key, &Value)| scope.contains(k) && scope.selects(o);
        self.objects.iter().filter(selected)
    }

    /// The kind of the resource, from any stored object of it.
    fn kind(&self, api_version: &str, plural: &str) -> Option<String> {
        let scope = Scope::new(api_version, plural, None);
        let (_, object) = self.objects.iter().find(|(k, _)| scope.contains(k))?;
        object["kind"].as_str().map(Into::into)
    }

    fn list(&self, scope: &Scope, items: Vec<Value>) -> Value {
        let kind = self.kind(&scope.api_version, &scope.plural);
        json!({
            "apiVersion": scope.api_version,
            "kind": kind.map_or("List".into(), |k| format!("{k}List")),
            "metadata": {"resourceVersion": self.rv.to_string()},
            "items": items,
        })
    }
}

/// A collection (kind, optionally one namespace) narrowed by label and field selectors.
#[derive(Clone)]
struct Scope {
    api_version: String,
    plural: String,
    namespace: Option<String>,
    labels: String,
    fields: String,
}

impl Scope {
    fn new(api_version: &str, plural: &str, namespace: Option<&str>) -> Scope {
        Scope {
            api_version: api_version.into(),
            plural: plural.into(),
            namespace: namespace.map(Into::into),
            labels: String::new(),
            fields: String::new(),
        }
    }

    fn contains(&self, key: &Key) -> bool {
        key.api_version == self.api_version
            && key.plural == self.plural
            && (self.namespace.is_none() || key.namespace == self.namespace)
    }

    fn selects(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        selector_matches(&self.labels, |k| labels[k].as_str().map(Into::into))
            && selector_matches(&self.fields, |path| {
                let found = path.split('.').try_fold(object, |v, part| v.get(part))?;
                Some(found.as_str().map_or_else(|| found.to_string(), Into::into))
            })
    }

    /// The watch event a change means to this scope: an object entering the selection is
    /// ADDED and one leaving it DELETED, as the real API reports them.
    fn event(&self, change: &Change) -> Option<Value> {
        if !self.contains(&change.key) {
            return None;
        }
        let old = change.old.as_ref().filter(|o| self.selects(o));
        let new = change.new.as_ref().filter(|o| self.selects(o));
        let (kind, object) = match (old, new) {
            (None, Some(new)) => ("ADDED", new),
            (Some(_), Some(new)) => ("MODIFIED", new),
            (Some(old), None) => ("DELETED", change.new.as_ref().unwrap_or(old)),
            (None, None) => return None,
        };
        Some(json!({"type": kind, "object": object}))
    }
}

/// Matches comma-separated `k=v`, `k==v`, `k!=v`, `k` and `!k` requirements (set-based
/// selectors are not supported) against a lookup of keys.
fn selector_matches(selector: &str, lookup: impl Fn(&str) -> Option<String>) -> bool {
    let mut requirements = selector.split(',').map(str::trim).filter(|r| !r.is_empty());
    requirements.all(|r| {
        if let Some((k, v)) = r.split_once("!=") {
            lookup(k.trim()).as_deref() != Some(v.trim())
        } else if let Some((k, v)) = r.split_once('=') {
            lookup(k.trim()).as_deref() == Some(v.trim_start_matches('=').trim())
        } else if let Some(k) = r.strip_prefix('!') {
            lookup(k.trim()).is_none()
        } else {
            lookup(r).is_some()
        }
    })
}

/// Sets uid, creationTimestamp and generation: kept from `old`, generation bumped when
/// `spec` changed; fresh for a new object.
fn stamp(object: &mut Value, old: Option<&Value>) {
    let spec_changed = old.is_some_and(|o| o.get("spec") != object.get("spec"));
    let meta = &mut object["metadata"];
    match old {
        Some(old) => {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
            meta["uid"] = old["metadata"]["uid"].clone();
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
            meta["generation"] = (generation + i64::from(spec_changed)).into();
        }
        None => {
            // The API reports times to the second.
            let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
            meta["uid"] = uuid::Uuid::new_v4().to_string().into();
            meta["creationTimestamp"] = now.to_string().into();
            meta["generation"] = 1.into();
        }
    }
}

/// Writes through the main resource never change status; only `/status` does.
fn keep_status(object: &mut Value, old: Option<&Value>) {
    let map = object.as_object_mut().unwrap();
    match old.and_then(|o| o.get("status")) {
        Some(status) => map.insert("status".into(), status.clone()),
        None => map.remove("status"),
    };
}

/// `old` with the status of a `/status` write: replaced, or merged for a merge patch.
fn with_status(old: &Value, body: &Value, merge: bool) -> Value {
    let mut object = old.clone();
    if let Some(status) = body.get("status") {
        if merge {
            merge_patch(&mut object["status"], status);
        } else {
            object["status"] = status.clone();
        }
    }
    object
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().unwrap();
    for (k, v) in patch {
        if v.is_null() {
            target.remove(k);
        } else {
            merge_patch(target.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// A metav1 Status failure.
struct ApiError {
    code: u16,
    reason: &'static str,
    message: String,
}

impl ApiError {
    fn new(code: u16, message: impl Into<String>) -> ApiError {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            410 => "Expired",
            415 => "UnsupportedMediaType",
            422 => "Invalid",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "Unknown",
        };
        ApiError {
            code,
            reason,
            message: message.into(),
        }
    }

    fn not_found(key: &Key) -> ApiError {
        ApiError::new(404, format!("{} \"{}\" not found", key.plural, key.name))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(body)).into_response()
    }
}

/// What a path names: a collection (`name` absent) or an object, maybe its `/status`.
struct Target {
    scope: Scope,
    name: Option<String>,
    status: bool,
}

impl Target {
    fn parse(path: &str) -> Option<Target> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (api_version, rest) = match parts.as_slice() {
            ["api", "v1", rest @ ..] => ("v1".to_string(), rest),
            ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
            _ => return None,
        };
        // `namespaces/{ns}/status` is the Namespace's own subresource, not a kind.
        let (namespace, plural, rest) = match rest {
            ["namespaces", ns, plural, rest @ ..] if *plural != "status" => {
                (Some(*ns), *plural, rest)
            }
            [plural, rest @ ..] => (None, *plural, rest),
            [] => return None,
        };
        let (name, status) = match rest {
            [] => (None, false),
            [name] => (Some(name.to_string()), false),
            [name, "status"] => (Some(name.to_string()), true),
            _ => return None,
        };
        Some(Target {
            scope: Scope::new(&api_version, plural, namespace),
            name,
            status,
        })
    }

    fn key(&self, name: &str) -> Key {
        let s = &self.scope;
        Key::new(&s.api_version, &s.plural, s.namespace.as_deref(), name)
    }

    /// Checks a request body against the path and fills in namespace, name and apiVersion.
    fn admit(&self, body: &mut Value, name: Option<&str>) -> Result<(), ApiError> {
        let Some(object) = body.as_object_mut() else {
            return Err(ApiError::new(400, "the body is not a JSON object"));
        };
        let api_version = Value::from(self.scope.api_version.clone());
        object.entry("apiVersion").or_insert(api_version);
        let meta = object.entry("metadata").or_insert(json!({}));
        let Some(meta) = meta.as_object_mut() else {
            return Err(ApiError::new(400, "metadata is not an object"));
        };
        match (
            &self.scope.namespace,
            meta.get("namespace").and_then(Value::as_str),
        ) {
            (Some(ns), Some(given)) if given != ns => {
                let message = format!(
                    "the namespace of the object ({given}) does not match the namespace on the request ({ns})"
                );
                return Err(ApiError::new(400, message));
            }
            (Some(ns), _) => {
                meta.insert("namespace".into(), ns.clone().into());
            }
            (None, _) => {
                meta.remove("namespace");
            }
        }
        if let Some(name) = name {
            match meta.get("name").and_then(Value::as_str) {
                Some(given) if given != name => {
                    let message = format!(
                        "the name of the object ({given}) does not match the name on the URL ({name})"
                    );
                    return Err(ApiError::new(400, message));
                }
                _ => {
                    meta.insert("name".into(), name.into());
                }
            }
        }
        Ok(())
    }
}

type Reply = Result<Response, ApiError>;

async fn handle(
    State(cluster): State<FakeCluster>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let path = uri.path();
    cluster.record(&method, path)?;
    if method == Method::GET && path == "/version" {
        let version = json!({
            "major": "1",
            "minor": "33",
            "gitVersion": "v1.33.5+k3s1",
            "platform": "linux/arm64",
        });
        return Ok(axum::Json(version).into_response());
    }
    let Some(mut target) = Target::parse(path) else {
        return Err(ApiError::new(
            404,
            format!("the server could not find {path}"),
        ));
    };
    let param = |k: &str| query.get(k).map(String::as_str);
    target.scope.labels = param("labelSelector").unwrap_or_default().into();
    target.scope.fields = param("fieldSelector").unwrap_or_default().into();
    let mut writes = Vec::new();
    let reply = match (&method, target.name.clone()) {
        (&Method::GET, None) if matches!(param("watch"), Some("true" | "1")) => {
            watch(&cluster, target.scope, &query)
        }
        (&Method::GET, None) => {
            let store = cluster.store();
            let items = store.matching(&target.scope).map(|(_, o)| o.clone());
            let list = store.list(&target.scope, items.collect());
            Ok(axum::Json(list).into_response())
        }
        (&Method::GET, Some(name)) => {
            let key = target.key(&name);
            let object = cluster.store().objects.get(&key).cloned();
            object.map(ok).ok_or_else(|| ApiError::not_found(&key))
        }
        (&Method::POST, None) if !target.status => {
            create(&cluster, &target, parse_json(&body)?, &mut writes)
        }
        (&Method::PUT, Some(name)) => {
            replace(&cluster, &target, &name, parse_json(&body)?, &mut writes)
        }
        (&Method::PATCH, Some(name)) => {
            let content_type = headers.get(header::CONTENT_TYPE);
            let content_type = content_type.and_then(|v| v.to_str().ok()).unwrap_or("");
            let content_type = content_type.split(';').next().unwrap_or("").trim();
            let apply = match content_type {
                "application/apply-patch+yaml" => true,
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
                other => {
                    return Err(ApiError::new(
                        415,
                        format!("unsupported patch type {other:?}"),
                    ));
                }
            };
            if apply && param("fieldManager").is_none_or(str::is_empty) {
                let message = "fieldManager is required for apply requests";
                return Err(ApiError::new(400, message));
            }
            let patch = if apply {
                parse_yaml(&body)?
            } else {
                parse_json(&body)?
            };
            patch_object(&cluster, &target, &name, apply, patch, &mut writes)
        }
        (&Method::DELETE, Some(name)) if !target.status => {
            let key = target.key(&name);
            let gone = cluster.store().delete(&key);
            let gone = gone.ok_or_else(|| ApiError::not_found(&key))?;
            writes.push(write(Verb::Delete, &key, &gone));
            Ok(ok(gone))
        }
        (&Method::DELETE, None) => {
            let mut store = cluster.store();
            let keys: Vec<Key> = store
                .matching(&target.scope)
                .map(|(k, _)| k.clone())
                .collect();
            let mut items = Vec::new();
            for key in keys {
                // A namespace deleted earlier in this loop may already have taken it.
                if let Some(gone) = store.delete(&key) {
                    writes.push(write(Verb::Delete, &key, &gone));
                    items.push(gone);
                }
            }
            Ok(axum::Json(store.list(&target.scope, items)).into_response())
        }
        _ => Err(ApiError::new(
            404,
            format!("{method} {path} is not supported"),
        )),
    };
    // Hooks run after the store lock is released, so they may write to the store.
    cluster.fire(&writes);
    reply
}

fn ok(object: Value) -> Response {
    axum::Json(object).into_response()
}

fn created(object: Value) -> Response {
    (StatusCode::CREATED, axum::Json(object)).into_response()
}

fn write(verb: Verb, key: &Key, object: &Value) -> Write {
    Write {
        verb,
        api_version: key.api_version.clone(),
        plural: key.plural.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        object: object.clone(),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(400, format!("invalid JSON: {e}")))
}

/// Apply patches are YAML; kube sends JSON, which is YAML too.
fn parse_yaml(body: &[u8]) -> Result<Value, ApiError> {
    parse_json(body).or_else(|_| {
        serde_saphyr::from_slice(body).map_err(|e| ApiError::new(400, format!("invalid YAML: {e}")))
    })
}

fn create(
    cluster: &FakeCluster,
    target: &Target,
    mut body: Value,
    writes: &mut Vec<Write>,
) -> Reply {
    target.admit(&mut body, None)?;
    let meta = &mut body["metadata"];
    if meta["name"].as_str().is_none_or(str::is_empty) {
        let Some(prefix) = meta["generateName"].as_str() else {
            return Err(ApiError::new(400, "name or generateName is required"));
        };
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..5];
        meta["name"] = format!("{prefix}{suffix}").into();
    }
    let key = target.key(meta["name"].as_str().unwrap());
    let mut store = cluster.store();
    if store.objects.contains_key(&key) {
        let message = format!("{} \"{}\" already exists", key.plural, key.name);
        return Err(ApiError {
            reason: "AlreadyExists",
            ..ApiError::new(409, message)
        });
    }
    keep_status(&mut body, None);
    stamp(&mut body, None);
    let stored = store.save(key.clone(), body);
    writes.push(write(Verb::Create, &key, &stored));
    Ok(created(stored))
}

fn replace(
    cluster: &FakeCluster,
    target: &Target,
    name: &str,
    mut body: Value,
    writes: &mut Vec<Write>,
) -> Reply {
    let key = target.key(name);
    target.admit(&mut body, Some(name))?;
    let mut store = cluster.store();
    let old = store
        .objects
        .get(&key)
        .ok_or_else(|| ApiError::not_found(&key))?;
    // Optimistic concurrency: a resourceVersion in the body must be the stored one.
    let given = &body["metadata"]["resourceVersion"];
    if !given.is_null() && *given != old["metadata"]["resourceVersion"] {
        let message = "the object has been modified; please apply your changes to the latest version and try again";
        return Err(ApiError::new(409, message));
    }
    let object = if target.status {
        with_status(old, &body, false)
    } else {
        keep_status(&mut body, Some(old));
        stamp(&mut body, Some(old));
        body
    };
    let stored = store.save(key.clone(), object);
    writes.push(write(Verb::Update, &key, &stored));
    Ok(ok(stored))
}

fn patch_object(
    cluster: &FakeCluster,
    target: &Target,
    name: &str,
    apply: bool,
    patch: Value,
    writes: &mut Vec<Write>,
) -> Reply {
    let key = target.key(name);
    let mut store = cluster.store();
    let old = store.objects.get(&key);
    let mut object = match old {
        // Only server-side apply of the main resource creates.
        None if !apply || target.status => return Err(ApiError::not_found(&key)),
        Some(old) if target.status => with_status(old, &patch, !apply),
        Some(old) if !apply => {
            let mut object = old.clone();
            merge_patch(&mut object, &patch);
            object
        }
        _ => patch,
    };
    target.admit(&mut object, Some(name))?;
    if !target.status {
        keep_status(&mut object, old);
        stamp(&mut object, old);
    }
    let existed = old.is_some();
    let stored = store.save(key.clone(), object);
    let verb = if apply { Verb::Apply } else { Verb::Update };
    writes.push(write(verb, &key, &stored));
    Ok(if existed { ok(stored) } else { created(stored) })
}

/// Streams watch events as JSON lines: first the replay (every current object for a watch
/// from resourceVersion "" or "0", or with `sendInitialEvents`; else the logged changes
/// after the given resourceVersion), then live changes until `timeoutSeconds`, the client
/// leaving or the server stopping.
fn watch(cluster: &FakeCluster, scope: Scope, query: &HashMap<String, String>) -> Reply {
    let rv = query.get("resourceVersion").map_or("", String::as_str);
    let initial_events = query.get("sendInitialEvents").is_some_and(|v| v == "true");
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(300);
    let (tx, rx) = mpsc::unbounded_channel::<Result<Bytes, Infallible>>();
    let send = |event: Value| _ = tx.send(line(&event));
    // Subscribing under the store lock makes replay and live events meet without gap or
    // overlap.
    let mut live = {
        let store = cluster.store();
        if rv.is_empty() || rv == "0" || initial_events {
            for (_, object) in store.matching(&scope) {
                send(json!({"type": "ADDED", "object": object}));
            }
            if initial_events {
                let kind = store
                    .kind(&scope.api_version, &scope.plural)
                    .unwrap_or_default();
                send(json!({"type": "BOOKMARK", "object": {
                    "apiVersion": scope.api_version,
                    "kind": kind,
                    "metadata": {
                        "resourceVersion": store.rv.to_string(),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                }}));
            }
        } else {
            let Ok(since) = rv.parse::<u64>() else {
                return Err(ApiError::new(
                    400,
                    format!("invalid resourceVersion {rv:?}"),
                ));
            };
            for change in store.log.iter().filter(|c| c.rv > since) {
                if let Some(event) = scope.event(change) {
                    send(event);
                }
            }
        }
        store.events.subscribe()
    };
    let shutdown = cluster.inner.shutdown.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = shutdown.cancelled() => break,
                _ = tx.closed() => break,
                change = live.recv() => {
                    // On lag, ending the stream makes the client resume from its last
                    // resourceVersion, which the log replays.
                    let Ok(change) = change else { break };
                    if let Some(event) = scope.event(&change)
                        && tx.send(line(&event)).is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    let body = Body::from_stream(UnboundedReceiverStream::new(rx));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One watch event as a line of the stream.
fn line(event: &Value) -> Result<Bytes, Infallible> {
    Ok(Bytes::from(format!("{event}\n")))
}
