//! The lab's queue from the host: with `ci.redis_url` unset and a kubeconfig reaching a
//! cluster that runs the lab's Redis, the CI actor, `raibid jobs` and `raibid status` reach
//! it through a port-forward (kube's websocket protocol, served by the fake API) to a real
//! redis-server that requires the password from the lab's Redis secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use raibid::backend::actor::Commands;
use raibid::backend::ci::actor::{self, Command, Event, Op, Setup};
use raibid::backend::ci::pool::PoolSpec;
use raibid::backend::queue::contract::{Job, JobRecord, JobState, Trigger};
use raibid::backend::queue::{Queue, QueueSettings, new_job_id};
use raibid::config::Config;
use serde_json::{Value, json};
use support::kube_api::FakeKube;
use support::redis::RedisServer;
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");
const PASSWORD: &str = "5e3f0c1d9a7b";
const NAMESPACE: &str = "raibid";
const SHOWN: &str = "lab (raibid/redis-0 via port-forward)";
const PORTFORWARD: &str = "GET /api/v1/namespaces/raibid/pods/redis-0/portforward";

/// The fake API running the lab's Redis: its StatefulSet, its secret and its pod, whose
/// port 6379 is a real redis-server requiring the secret's password.
struct LabRedis {
    kube: FakeKube,
    redis: RedisServer,
    dir: tempfile::TempDir,
}

impl LabRedis {
    async fn start() -> LabRedis {
        let kube = FakeKube::start().await;
        let redis = RedisServer::with_password(PASSWORD);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), kube.kubeconfig()).unwrap();
        kube.insert("apps/v1", "statefulsets", stateful_set());
        let secret = Secret {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("redis".into()),
                namespace: Some(NAMESPACE.into()),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(
                "password".to_string(),
                ByteString(PASSWORD.into()),
            )])),
            ..Secret::default()
        };
        let mut secret = serde_json::to_value(secret).unwrap();
        secret["kind"] = "Secret".into();
        kube.insert("v1", "secrets", secret);
        let lab = LabRedis { kube, redis, dir };
        lab.start_pod();
        lab
    }

    /// A new `redis-0` (a new uid) serving the redis-server, as after a pod restart.
    fn start_pod(&self) {
        self.kube.insert("v1", "pods", pod("redis-0"));
        let to = self.redis.addr();
        self.kube.serve_port(NAMESPACE, "redis-0", 6379, to);
    }

    /// The pod restarts: Redis stops (and starts again from its AOF), the pod object is
    /// replaced; the fake closes the port-forwards to the old pod.
    fn restart_pod(&mut self) {
        self.kube.remove("v1", "pods", Some(NAMESPACE), "redis-0");
        self.redis.restart();
        self.start_pod();
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// The config: the kubeconfig and, when given, `ci.redis_url`.
    fn config(&self, redis_url: Option<&str>) -> Config {
        let mut config = Config::default();
        config.cluster.kubeconfig = self.kubeconfig();
        config.ci.redis_url = redis_url.unwrap_or_default().into();
        config
    }

    fn config_file(&self, redis_url: Option<&str>) -> PathBuf {
        let mut text = format!(
            "[cluster]\nkubeconfig = \"{}\"\n",
            self.kubeconfig().display()
        );
        if let Some(url) = redis_url {
            text.push_str(&format!("[ci]\nredis_url = \"{url}\"\n"));
        }
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `raibid ARGS` with the config file, its output as text and its exit code.
    async fn raibid(&self, redis_url: Option<&str>, args: &[&str]) -> (String, String, i32) {
        let config = self.config_file(redis_url);
        let out = tokio::process::Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(args)
            .current_dir(self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home"))
            .env_remove("RAIBID_CONFIG")
            .env_remove("KUBECONFIG")
            .output()
            .await
            .unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (
            text(&out.stdout),
            text(&out.stderr),
            out.status.code().unwrap_or(-1),
        )
    }

    fn forwards(&self) -> usize {
        let requests = self.kube.requests();
        requests.iter().filter(|r| *r == PORTFORWARD).count()
    }
}

fn stateful_set() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "redis", "namespace": NAMESPACE},
        "spec": {"serviceName": "redis", "replicas": 1,
                 "selector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}},
        "status": {"replicas": 1, "readyReplicas": 1}
    })
}

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {
            "app.kubernetes.io/name": "redis",
            "app.kubernetes.io/component": "redis",
            "app.kubernetes.io/part-of": "raibid",
        }},
        "spec": {"containers": [{"name": "redis", "image": "redis:7.4-alpine"}]},
        "status": {"phase": "Running",
                   "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

fn job(repo: &str) -> Job {
    Job {
        id: new_job_id(),
        repo: repo.into(),
        clone_url: format!("/srv/git/{repo}.git"),
        git_ref: "refs/heads/main".into(),
        sha: "9fceb02d0ae598e95dc970b74767f19372d61af8".into(),
        trigger: Trigger::Push,
        requested_by: "ann".into(),
        created_at: Timestamp::now(),
        attempt: 1,
        timeout_secs: 600,
    }
}

/// Queues a job for `repo` straight into the redis-server at `url`.
async fn enqueue(url: &str, repo: &str) -> Job {
    let config = Config::default();
    let settings = QueueSettings::from_config(&config.ci);
    let queue = Queue::connect(url, &config.ci.queue_prefix, settings)
        .await
        .unwrap();
    let job = job(repo);
    queue.enqueue(&job).await.unwrap();
    job
}

struct Console {
    /// Dropped with the console, which stops the actor.
    commands: Commands<Command>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Console {
    fn start(config: Config, cwd: &Path) -> Console {
        let (events_tx, events) = mpsc::unbounded_channel();
        let setup = Setup {
            config: Arc::new(config),
            cwd: cwd.into(),
            pool: PoolSpec {
                program: BIN.into(),
                global_args: Vec::new(),
                name_prefix: "local".into(),
            },
        };
        let commands = actor::spawn(setup, events_tx.into()).commands;
        Console { commands, events }
    }

    /// Waits for an event `pick` accepts, failing on `Unavailable`.
    async fn wait_for<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let wait = async {
            loop {
                let event = self.events.recv().await.expect("the actor runs");
                if let Event::Unavailable { message } = &event {
                    panic!("the queue is unavailable: {message}");
                }
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .expect("the awaited event came within 20 s")
    }

    async fn jobs_listing(&mut self, id: &str) -> Vec<JobRecord> {
        self.wait_for(|event| match event {
            Event::Jobs(jobs) if jobs.iter().any(|r| r.job.id == id) => Some(jobs.clone()),
            _ => None,
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sees_the_labs_queue_through_the_forward_across_a_pod_restart() {
    let mut lab = LabRedis::start().await;
    let first = enqueue(&lab.redis.url(), "lab/one").await;
    let mut console = Console::start(lab.config(None), lab.dir.path());
    console.commands.send(Command::Connect).unwrap();
    let shown = console
        .wait_for(|event| match event {
            Event::Connected { queue } => Some(queue.clone()),
            _ => None,
        })
        .await;
    assert_eq!(shown, SHOWN);
    console.jobs_listing(&first.id).await;
    console.commands.send(Command::Scale(1)).unwrap();
    let refused = console
        .wait_for(|event| match event {
            Event::Failed {
                op: Op::ScalePool,
                message,
            } => Some(message.clone()),
            _ => None,
        })
        .await;
    assert!(refused.contains("KEDA"), "{refused}");

    // `c` works against the lab's queue too.
    console
        .commands
        .send(Command::Cancel(first.id.clone()))
        .unwrap();
    let done = console
        .wait_for(|event| match event {
            Event::Done { message } => Some(message.clone()),
            Event::Failed { op, message } => panic!("{op}: {message}"),
            _ => None,
        })
        .await;
    assert_eq!(done, format!("{} cancelled", first.id));

    let forwards = lab.forwards();
    lab.restart_pod();
    let second = enqueue(&lab.redis.url(), "lab/two").await;
    // A refresh after the restart reconnects through a new port-forward to the new pod.
    console.commands.send(Command::Connect).unwrap();
    let jobs = console.jobs_listing(&second.id).await;
    let kept = jobs
        .iter()
        .find(|r| r.job.id == first.id)
        .expect("kept by the AOF");
    assert_eq!(kept.status.state, JobState::Cancelled);
    assert!(lab.forwards() > forwards, "new connections were forwarded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raibid_jobs_and_status_reach_the_labs_queue_without_configuration() {
    let lab = LabRedis::start().await;
    let job = enqueue(&lab.redis.url(), "lab/one").await;

    let (stdout, stderr, code) = lab.raibid(None, &["jobs", "list"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&job.id), "{stdout}");
    assert!(stdout.contains("lab/one"), "{stdout}");
    assert!(lab.forwards() > 0);

    // The fake runs only the Redis: the other components are missing, so status fails,
    // but it reads the queue through the forward.
    let (stdout, stderr, code) = lab.raibid(None, &["status"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "queue       {SHOWN}: depth 1 lag 1 pending 0 dead 0, 0 agent(s)"
        )),
        "{stdout}"
    );
    let (stdout, _, _) = lab.raibid(None, &["status", "--json"]).await;
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["queue"]["state"], "read");
    assert_eq!(status["queue"]["queue"], SHOWN);
    assert_eq!(status["queue"]["stats"]["depth"], 1);
    for text in [stdout, stderr] {
        assert!(!text.contains(PASSWORD), "the password is never shown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_redis_url_wins_over_the_lab() {
    let lab = LabRedis::start().await;
    enqueue(&lab.redis.url(), "lab/one").await;
    let local = RedisServer::start();
    let mine = enqueue(&local.url(), "mine/two").await;

    let (stdout, stderr, code) = lab.raibid(Some(&local.url()), &["jobs", "list"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&mine.id), "{stdout}");
    assert!(!stdout.contains("lab/one"), "{stdout}");

    let mut console = Console::start(lab.config(Some(&local.url())), lab.dir.path());
    console.commands.send(Command::Connect).unwrap();
    let shown = console
        .wait_for(|event| match event {
            Event::Connected { queue } => Some(queue.clone()),
            _ => None,
        })
        .await;
    assert_eq!(shown, local.url());
    console.jobs_listing(&mine.id).await;
    assert_eq!(lab.forwards(), 0, "the lab was not asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_redis_without_a_running_pod_is_a_clear_error() {
    let lab = LabRedis::start().await;
    lab.kube.remove("v1", "pods", Some(NAMESPACE), "redis-0");
    let (_, stderr, code) = lab.raibid(None, &["jobs", "list"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the lab's Redis in namespace raibid has no running pod"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_reports_a_port_nothing_listens_on_on_the_error_channel() {
    let lab = LabRedis::start().await;
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(lab.kube.client(), NAMESPACE);
    let mut forwarder = pods.portforward("redis-0", &[6380]).await.unwrap();
    let error = forwarder.take_error(6380).unwrap().await;
    let error = error.expect("an error message");
    assert!(error.contains("error forwarding port 6380"), "{error}");
    let missing = pods.portforward("redis-1", &[6379]).await;
    assert!(
        matches!(missing, Err(kube::Error::Api(status)) if status.code == 404),
        "an unknown pod is 404"
    );
}
