//! Mirroring GitHub into Gitea: the plan, sync, prune, list and sync of one mirror against
//! a fake GitHub and a fake Gitea API; the server's `/webhooks/github-sync`; the optional
//! GitHub webhook registration; and `raibid mirror` as the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use raibid::backend::ci::server::{ServerLimits, ServerSettings, router_with_mirrors};
use raibid::backend::forge::github::GitHub;
use raibid::backend::mirror::{Applied, GiteaMirrors, MirrorError, Mirrors};
use raibid::backend::queue::{Queue, QueueSettings};
use raibid::config::{CiConfig, Config, Secret};
use serde_json::{Value, json};
use sha2::Sha256;
use support::gitea_api::{FakeGiteaApi, NEVER};
use support::github::FakeGitHub;
use support::redis::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_raibid");
const ORG: &str = "lab";
const GITEA_TOKEN: &str = "gitea-t0ken-5ecret";
const WEBHOOK_SECRET: &str = "github-hook-s3cret";
const WEBHOOK_URL: &str = "https://ci.example.org/webhooks/github-sync";

/// A 0600 file holding `value`, as a config secret.
fn secret_file(dir: &Path, name: &str, value: &str) -> Secret {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Secret::File(path)
}

/// Both fakes and a temp dir for secrets, caches and the CLI's files.
struct Lab {
    dir: tempfile::TempDir,
    github: FakeGitHub,
    gitea: FakeGiteaApi,
}

impl Lab {
    async fn start(repos: usize) -> Lab {
        Lab {
            dir: tempfile::tempdir().unwrap(),
            github: FakeGitHub::start(ORG, repos),
            gitea: FakeGiteaApi::start(GITEA_TOKEN).await,
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn config(&self) -> Config {
        let mut config = Config::default();
        config.github.api_url = self.github.url();
        config.github.token = secret_file(self.dir.path(), "github-token", &self.github.token());
        config.github.orgs = vec![ORG.into()];
        config.gitea.url = self.gitea.url();
        config.gitea.token = secret_file(self.dir.path(), "gitea-token", GITEA_TOKEN);
        config.server.github_webhook_secret =
            secret_file(self.dir.path(), "webhook-secret", WEBHOOK_SECRET);
        config
    }

    fn mirrors(&self, config: &Config) -> Mirrors {
        Mirrors::from_config(config, &self.data_dir()).unwrap()
    }

    /// What the fake GitHub selects under `config`, by `full_name`.
    async fn selected(&self, config: &Config) -> Vec<raibid::backend::forge::github::RepoInfo> {
        let cache = self.dir.path().join("selected-cache");
        GitHub::new(&config.github, &cache)
            .unwrap()
            .selected_repos()
            .await
            .unwrap()
    }
}

fn names(repos: &[raibid::backend::forge::github::RepoInfo]) -> Vec<String> {
    repos.iter().map(|repo| repo.full_name.clone()).collect()
}

#[tokio::test]
async fn plan_follows_include_and_exclude_and_matches_by_original_url() {
    let lab = Lab::start(5).await;
    let all = lab.selected(&lab.config()).await;
    assert_eq!(all.len(), 5, "{:?}", names(&all));
    // Keep the first three by include, then drop the second by exclude.
    let mut config = lab.config();
    config.github.include = all[..3]
        .iter()
        .map(|repo| format!("^{}$", regex_escape(&repo.full_name)))
        .collect();
    config.github.exclude = vec![format!("/{}$", regex_escape(&all[1].name))];
    let wanted = [all[0].full_name.clone(), all[2].full_name.clone()];

    // Already mirrored: the first (under another name), and an excluded one (ours: removed).
    lab.gitea
        .add_repo("mirrors", "renamed", true, &all[0].clone_url, NEVER);
    lab.gitea
        .add_repo("mirrors", &all[3].name, true, &all[3].clone_url, NEVER);
    // Not ours: a plain repository and a mirror of another forge; never in the plan.
    lab.gitea.add_repo("mirrors", "notes", false, "", NEVER);
    lab.gitea.add_repo(
        "mirrors",
        "elsewhere",
        true,
        "https://gitlab.com/lab/elsewhere.git",
        NEVER,
    );

    let plan = lab.mirrors(&config).plan().await.unwrap();
    assert_eq!(names(&plan.create), [wanted[1].clone()]);
    assert_eq!(plan.keep, [wanted[0].clone()]);
    assert_eq!(plan.remove, [format!("mirrors/{}", all[3].name)]);
    assert!(lab.gitea.writes().is_empty(), "plan changes nothing");
}

/// `text` with the regex metacharacters escaped.
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = "\\.+*?()|[]{}^$".contains(c);
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

#[tokio::test]
async fn sync_creates_the_mirrors_and_a_rerun_creates_nothing() {
    let lab = Lab::start(3).await;
    let config = lab.config();
    let all = lab.selected(&config).await;
    let mirrors = lab.mirrors(&config);
    assert!(!lab.gitea.has_org("mirrors"));

    let plan = mirrors.plan().await.unwrap();
    assert_eq!(plan.create.len(), 3);
    let applied = mirrors.apply(&plan, false).await.unwrap();
    let expected: Vec<String> = all
        .iter()
        .map(|repo| format!("mirrors/{}", repo.name))
        .collect();
    assert_eq!(applied.created, expected);
    assert!(applied.removed.is_empty() && applied.hooks_registered.is_empty());
    assert!(lab.gitea.has_org("mirrors"), "the organisation was created");

    let migrations: Vec<Value> = lab
        .gitea
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/repos/migrate")
        .map(|r| r.body)
        .collect();
    assert_eq!(migrations.len(), 3);
    for (body, repo) in migrations.iter().zip(&all) {
        assert_eq!(body["clone_addr"], repo.clone_url.as_str());
        assert_eq!(body["repo_owner"], "mirrors");
        assert_eq!(body["repo_name"], repo.name.as_str());
        assert_eq!(body["service"], "github");
        assert_eq!(body["mirror"], true);
        assert_eq!(body["mirror_interval"], "8h0m0s");
        assert_eq!(body["auth_token"], lab.github.token().as_str());
        assert_eq!(body["private"], repo.private);
    }
    let stored = lab.gitea.repo("mirrors", &all[0].name).unwrap();
    assert!(stored.mirror);

    // Idempotent: everything is kept, nothing is written.
    lab.gitea.clear_requests();
    let plan = mirrors.plan().await.unwrap();
    assert!(plan.create.is_empty() && plan.remove.is_empty(), "{plan:?}");
    assert_eq!(plan.keep, names(&all));
    let applied = mirrors.apply(&plan, true).await.unwrap();
    assert_eq!(applied, Applied::default());
    assert!(lab.gitea.writes().is_empty(), "{:?}", lab.gitea.writes());
}

#[tokio::test]
async fn prune_removes_only_our_unmatched_mirrors() {
    let lab = Lab::start(2).await;
    let config = lab.config();
    let all = lab.selected(&config).await;
    let mirrors = lab.mirrors(&config);
    lab.gitea
        .add_repo("mirrors", &all[0].name, true, &all[0].clone_url, NEVER);
    // Ours, no longer selected.
    lab.gitea.add_repo(
        "mirrors",
        "retired",
        true,
        &format!("https://github.com/{ORG}/retired.git"),
        NEVER,
    );
    // Not ours.
    lab.gitea.add_repo("mirrors", "notes", false, "", NEVER);
    lab.gitea.add_repo(
        "mirrors",
        "copy",
        false,
        &format!("https://github.com/{ORG}/copy.git"),
        NEVER,
    );
    lab.gitea.add_repo(
        "mirrors",
        "elsewhere",
        true,
        "https://gitlab.com/x/elsewhere.git",
        NEVER,
    );

    let plan = mirrors.plan().await.unwrap();
    assert_eq!(plan.remove, ["mirrors/retired"]);
    // Without prune the unmatched mirror stays.
    let applied = mirrors.apply(&plan, false).await.unwrap();
    assert_eq!(applied.created, [format!("mirrors/{}", all[1].name)]);
    assert!(applied.removed.is_empty());
    assert!(lab.gitea.repo("mirrors", "retired").is_some());

    let plan = mirrors.plan().await.unwrap();
    let applied = mirrors.apply(&plan, true).await.unwrap();
    assert_eq!(applied.removed, ["mirrors/retired"]);
    assert!(applied.created.is_empty());
    let mut left = vec![
        all[0].name.clone(),
        all[1].name.clone(),
        "copy".into(),
        "elsewhere".into(),
        "notes".into(),
    ];
    left.sort();
    assert_eq!(lab.gitea.repo_names("mirrors"), left);
    let deletes: Vec<String> = lab
        .gitea
        .writes()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(deletes, ["/api/v1/repos/mirrors/retired"]);
}

#[tokio::test]
async fn a_taken_name_fails_that_creation_and_the_others_go_on() {
    let lab = Lab::start(2).await;
    let config = lab.config();
    let all = lab.selected(&config).await;
    lab.gitea
        .add_repo("mirrors", &all[0].name, false, "", NEVER);
    let mirrors = lab.mirrors(&config);
    let plan = mirrors.plan().await.unwrap();
    assert_eq!(plan.create.len(), 2);
    let error = mirrors.apply(&plan, false).await.unwrap_err();
    let MirrorError::Partial { applied, failures } = &error else {
        panic!("{error}");
    };
    assert_eq!(applied.created, [format!("mirrors/{}", all[1].name)]);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].contains("exists already") && failures[0].contains(&all[0].full_name),
        "{error}"
    );
    assert!(!error.to_string().contains(&lab.github.token()));
}

#[tokio::test]
async fn a_failed_migration_that_quotes_the_github_token_does_not_show_it() {
    let lab = Lab::start(2).await;
    let config = lab.config();
    lab.gitea.fail_migrations(true);
    let mirrors = lab.mirrors(&config);
    let plan = mirrors.plan().await.unwrap();
    let error = mirrors.apply(&plan, false).await.unwrap_err();
    let MirrorError::Partial { applied, failures } = &error else {
        panic!("{error}");
    };
    assert_eq!(applied, &Applied::default());
    assert_eq!(failures.len(), 2, "{error}");
    let token = lab.github.token();
    let migrations: Vec<_> = lab
        .gitea
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/repos/migrate")
        .collect();
    assert_eq!(migrations.len(), 2);
    assert_eq!(migrations[0].body["auth_token"], token.as_str());
    for failure in failures {
        assert!(
            failure.contains("500") && failure.contains("oauth2:********@"),
            "Gitea's message is kept, the token masked: {failure}"
        );
        assert!(!failure.contains(&token), "{failure}");
    }
    assert!(!error.to_string().contains(&token), "{error}");
    assert!(!format!("{error:?}").contains(&token));
}

#[tokio::test]
async fn sync_of_one_mirror_by_github_or_gitea_name() {
    let lab = Lab::start(2).await;
    let config = lab.config();
    let all = lab.selected(&config).await;
    lab.gitea
        .add_repo("mirrors", "first", true, &all[0].clone_url, NEVER);
    lab.gitea.add_repo("mirrors", "notes", false, "", NEVER);
    let mirrors = lab.mirrors(&config);

    assert_eq!(
        mirrors.gitea().sync_now(&all[0].full_name).await.unwrap(),
        "mirrors/first"
    );
    assert_eq!(
        mirrors.gitea().sync_now("first").await.unwrap(),
        "mirrors/first"
    );
    assert_eq!(
        mirrors.gitea().sync_now("mirrors/first").await.unwrap(),
        "mirrors/first"
    );
    assert_eq!(
        lab.gitea.syncs(),
        ["mirrors/first", "mirrors/first", "mirrors/first"]
    );
    for unknown in ["notes", &all[1].full_name, "nope"] {
        let error = mirrors.gitea().sync_now(unknown).await.unwrap_err();
        assert!(
            matches!(error, MirrorError::NotFound { .. }) && error.is_bad_input(),
            "{error}"
        );
    }
    assert_eq!(
        lab.gitea.syncs().len(),
        3,
        "nothing synced for unknown names"
    );
    let synced = mirrors.sync_repo("first").await.unwrap();
    assert_eq!(synced.github, all[0].full_name);
    assert_eq!(synced.hook_registered, None);
}

#[tokio::test]
async fn list_marks_stale_mirrors_and_reads_every_page() {
    let lab = Lab::start(1).await;
    let mut config = lab.config();
    config.mirror.stale_hours = 24;
    let now: jiff::Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    lab.gitea.add_repo(
        "mirrors",
        "fresh",
        true,
        "https://github.com/lab/fresh.git",
        "2026-11-20T10:00:00Z",
    );
    lab.gitea.add_repo(
        "mirrors",
        "old",
        true,
        "https://github.com/lab/old",
        "2026-11-18T10:00:00+02:00",
    );
    lab.gitea.add_repo(
        "mirrors",
        "never",
        true,
        "https://github.com/lab/never.git",
        NEVER,
    );
    lab.gitea.add_repo("mirrors", "notes", false, "", NEVER);
    // Enough plain repositories for several pages, with a server maximum below ours.
    for n in 0..12 {
        lab.gitea
            .add_repo("mirrors", &format!("z-plain-{n:02}"), false, "", NEVER);
    }
    lab.gitea.set_max_items(5);

    let list = lab.mirrors(&config).gitea().list(now).await.unwrap();
    let shown: Vec<(&str, &str, bool)> = list
        .iter()
        .map(|m| (m.gitea.as_str(), m.github.as_str(), m.stale))
        .collect();
    assert_eq!(
        shown,
        [
            ("mirrors/fresh", "lab/fresh", false),
            ("mirrors/never", "lab/never", true),
            ("mirrors/old", "lab/old", true),
        ]
    );
    assert_eq!(
        list[0].last_sync,
        Some("2026-11-20T10:00:00Z".parse().unwrap())
    );
    assert_eq!(list[0].url, format!("{}/mirrors/fresh", lab.gitea.url()));
    assert_eq!(list[1].last_sync, None);
    let pages = lab
        .gitea
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/orgs/mirrors/repos"))
        .count();
    assert_eq!(pages, 4, "16 repositories, 5 a page");

    // The same through GiteaMirrors alone (what the server uses).
    let gitea = GiteaMirrors::from_config(&config).unwrap();
    assert_eq!(gitea.list(now).await.unwrap(), list);
}

#[tokio::test]
async fn a_bad_gitea_token_is_a_clear_error_without_the_token() {
    let lab = Lab::start(1).await;
    let mut config = lab.config();
    let wrong = "wrong-t0ken-value";
    config.gitea.token = secret_file(lab.dir.path(), "wrong", wrong);
    let mirrors = lab.mirrors(&config);
    let error = mirrors.plan().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("401") && text.contains("gitea.token"),
        "{text}"
    );
    for secret in [wrong, GITEA_TOKEN, &lab.github.token()] {
        assert!(!text.contains(secret), "{text}");
        assert!(!format!("{error:?}").contains(secret));
    }
    assert!(!error.is_bad_input());
    let debug = format!("{mirrors:?}");
    assert!(
        !debug.contains(wrong) && !debug.contains(&lab.github.token()),
        "{debug}"
    );
}

#[tokio::test]
async fn missing_keys_are_named() {
    let lab = Lab::start(1).await;
    let data = lab.data_dir();
    let missing = |config: Config| match Mirrors::from_config(&config, &data) {
        Err(error @ MirrorError::Missing { .. }) => error.to_string(),
        other => panic!("{other:?}"),
    };
    let mut config = lab.config();
    config.gitea.url = String::new();
    assert!(missing(config).contains("`gitea.url`"));
    let mut config = lab.config();
    config.gitea.token = Secret::None;
    assert!(missing(config).contains("`gitea.token`"));
    let mut config = lab.config();
    config.github.token = Secret::Env("RAIBID_TEST_UNSET_VARIABLE".into());
    assert!(missing(config).contains("`github.token`"));
    let mut config = lab.config();
    config.mirror.register_webhooks = true;
    assert!(missing(config).contains("`mirror.webhook_url`"));
    let mut config = lab.config();
    config.mirror.register_webhooks = true;
    config.mirror.webhook_url = WEBHOOK_URL.into();
    config.server.github_webhook_secret = Secret::None;
    assert!(missing(config).contains("`server.github_webhook_secret`"));

    let mut config = lab.config();
    config.github.orgs.clear();
    let error = lab.mirrors(&config).plan().await.unwrap_err();
    assert!(matches!(error, MirrorError::NothingSelected), "{error}");
}

// --- The server's /webhooks/github-sync ------------------------------------------------

fn sign(secret: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

struct Server {
    _redis: RedisServer,
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(mirrors: Option<GiteaMirrors>) -> Server {
        let redis = RedisServer::start();
        let queue = Queue::connect(
            &redis.url(),
            "mirror-test",
            QueueSettings::from_config(&CiConfig::default()),
        )
        .await
        .unwrap();
        let settings = ServerSettings {
            token: Some("api-token".into()),
            gitea_secret: Some("gitea-secret".into()),
            github_secret: Some(WEBHOOK_SECRET.into()),
            body_limit: 64 * 1024,
            job_timeout_secs: 900,
            forges: Default::default(),
            limits: ServerLimits::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router_with_mirrors(queue, settings, mirrors);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server {
            _redis: redis,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    async fn deliver(&self, event: &str, body: &str, signature: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/webhooks/github-sync", self.base))
            .header("Content-Type", "application/json")
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
            .header("X-Hub-Signature-256", signature)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn push(full_name: &str) -> String {
    json!({
        "ref": "refs/heads/main",
        "after": "0123456789abcdef0123456789abcdef01234567",
        "repository": { "full_name": full_name, "clone_url": format!("https://github.com/{full_name}.git") },
        "pusher": { "name": "ann", "email": "ann@example.org" },
    })
    .to_string()
}

#[tokio::test]
async fn signed_pushes_sync_the_mirror() {
    let gitea = FakeGiteaApi::start(GITEA_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.gitea.url = gitea.url();
    config.gitea.token = secret_file(dir.path(), "gitea-token", GITEA_TOKEN);
    gitea.add_repo(
        "mirrors",
        "raibid",
        true,
        "https://github.com/raibid-labs/raibid.git",
        NEVER,
    );
    // Renamed in Gitea: found through the organisation's list.
    gitea.add_repo(
        "mirrors",
        "docs-mirror",
        true,
        "https://github.com/raibid-labs/docs",
        NEVER,
    );
    // Same name, not a mirror of the pushed repository.
    gitea.add_repo("mirrors", "notes", false, "", NEVER);
    let server = Server::start(Some(GiteaMirrors::from_config(&config).unwrap())).await;

    let body = push("raibid-labs/raibid");
    let (status, answer) = server
        .deliver("push", &body, &sign(WEBHOOK_SECRET, &body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer, json!({"synced": true, "mirror": "mirrors/raibid"}));
    assert_eq!(gitea.syncs(), ["mirrors/raibid"]);

    let body = push("raibid-labs/docs");
    let (status, answer) = server
        .deliver("push", &body, &sign(WEBHOOK_SECRET, &body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["mirror"], "mirrors/docs-mirror");

    // A bad signature: 401 and nothing reaches Gitea.
    gitea.clear_requests();
    let body = push("raibid-labs/raibid");
    let (status, answer) = server
        .deliver("push", &body, &sign("wrong secret", &body))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("X-Hub-Signature-256")
    );
    let (status, _) = server.deliver("push", &body, "sha256=zz").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(gitea.requests().is_empty(), "{:?}", gitea.requests());

    // No such mirror: 404, nothing synced.
    for repo in ["raibid-labs/unknown", "someone/notes"] {
        let body = push(repo);
        let (status, answer) = server
            .deliver("push", &body, &sign(WEBHOOK_SECRET, &body))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(
            answer["error"],
            format!("no mirror of {repo} in mirrors").as_str()
        );
    }
    assert!(gitea.syncs().is_empty());

    let ping = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let (status, answer) = server
        .deliver("ping", ping, &sign(WEBHOOK_SECRET, ping))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["reason"], "ping");
    let (status, _) = server
        .deliver("push", "{}", &sign(WEBHOOK_SECRET, "{}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(gitea.syncs().is_empty());
}

#[tokio::test]
async fn without_gitea_the_sync_route_answers_503() {
    let server = Server::start(None).await;
    let body = push("raibid-labs/raibid");
    let (status, answer) = server
        .deliver("push", &body, &sign(WEBHOOK_SECRET, &body))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let (status, _) = server.deliver("push", &body, &sign("wrong", &body)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the signature is checked first"
    );
}

// --- GitHub webhook registration -----------------------------------------------------

/// GitHub's hooks endpoints, in front of the fake GitHub: `/repos/{o}/{r}/hooks` answered
/// here and recorded, everything else passed through (Link headers rewritten).
#[derive(Clone)]
struct HookProxy {
    upstream: String,
    own: Arc<Mutex<String>>,
    hooks: Arc<Mutex<Vec<(String, Value)>>>,
    posts: Arc<Mutex<Vec<(String, Value)>>>,
    http: reqwest::Client,
}

impl HookProxy {
    async fn start(upstream: String) -> (String, HookProxy) {
        let proxy = HookProxy {
            upstream,
            own: Arc::default(),
            hooks: Arc::default(),
            posts: Arc::default(),
            http: reqwest::Client::new(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        *proxy.own.lock().unwrap() = url.clone();
        let app = Router::new().fallback(proxied).with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, proxy)
    }

    fn posts(&self) -> Vec<(String, Value)> {
        self.posts.lock().unwrap().clone()
    }
}

async fn proxied(State(proxy): State<HookProxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path().to_string();
    if let Some(repo) = path
        .strip_prefix("/repos/")
        .and_then(|rest| rest.strip_suffix("/hooks"))
    {
        let authorized = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer ") || v.starts_with("token "));
        if !authorized {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "Requires authentication"})),
            )
                .into_response();
        }
        let mut hooks = proxy.hooks.lock().unwrap();
        if parts.method == Method::GET {
            let listed: Vec<Value> = hooks
                .iter()
                .filter(|(r, _)| r == repo)
                .map(|(_, hook)| hook.clone())
                .collect();
            return axum::Json(Value::Array(listed)).into_response();
        }
        let mut hook: Value = serde_json::from_slice(&body).unwrap();
        proxy
            .posts
            .lock()
            .unwrap()
            .push((repo.to_string(), hook.clone()));
        hook["id"] = json!(hooks.len() + 1);
        hook["config"]["secret"] = json!("********");
        hooks.push((repo.to_string(), hook.clone()));
        return (StatusCode::CREATED, axum::Json(hook)).into_response();
    }
    let target = format!(
        "{}{}",
        proxy.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forward = proxy.http.request(parts.method.clone(), target);
    for (name, value) in &parts.headers {
        if name != "host" {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status().as_u16());
    let own = proxy.own.lock().unwrap().clone();
    for (name, value) in answer.headers() {
        if name == "content-length" || name == "transfer-encoding" {
            continue;
        }
        let value = value
            .to_str()
            .unwrap_or_default()
            .replace(&proxy.upstream, &own);
        response = response.header(name.as_str(), value);
    }
    response
        .body(axum::body::Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

#[tokio::test]
async fn webhook_registration_is_idempotent() {
    let lab = Lab::start(2).await;
    let (proxy_url, proxy) = HookProxy::start(lab.github.url()).await;
    let mut config = lab.config();
    config.github.api_url = proxy_url;
    config.mirror.register_webhooks = true;
    config.mirror.webhook_url = WEBHOOK_URL.into();
    let all = lab.selected(&config).await;
    let mirrors = lab.mirrors(&config);

    let plan = mirrors.plan().await.unwrap();
    let applied = mirrors.apply(&plan, false).await.unwrap();
    assert_eq!(applied.hooks_registered, names(&all));
    let posts = proxy.posts();
    assert_eq!(posts.len(), 2);
    for (repo, hook) in &posts {
        assert!(all.iter().any(|r| &r.full_name == repo), "{repo}");
        assert_eq!(hook["name"], "web");
        assert_eq!(hook["active"], true);
        assert_eq!(hook["events"], json!(["push"]));
        assert_eq!(hook["config"]["url"], WEBHOOK_URL);
        assert_eq!(hook["config"]["content_type"], "json");
        assert_eq!(hook["config"]["secret"], WEBHOOK_SECRET);
    }

    // Second run: the hooks are there; nothing is posted.
    let plan = mirrors.plan().await.unwrap();
    let applied = mirrors.apply(&plan, false).await.unwrap();
    assert_eq!(applied, Applied::default());
    let synced = mirrors.sync_repo(&all[0].full_name).await.unwrap();
    assert_eq!(synced.hook_registered, Some(false));
    assert_eq!(proxy.posts().len(), 2);
}

// --- The binary ----------------------------------------------------------------------

fn raibid(lab: &Lab, config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .current_dir(lab.dir.path())
        .env("XDG_DATA_HOME", lab.dir.path().join("xdg-data"))
        .env("XDG_STATE_HOME", lab.dir.path().join("xdg-state"))
        .env("XDG_CONFIG_HOME", lab.dir.path().join("xdg-config"))
        .env_remove("RAIBID_CONFIG")
        .env_remove("RAIBID_GITEA_TOKEN")
        .env_remove("RAIBID_GITHUB_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write_config(lab: &Lab, gitea_token: bool) -> PathBuf {
    let dir = lab.dir.path();
    secret_file(dir, "github-token", &lab.github.token());
    secret_file(dir, "gitea-token", GITEA_TOKEN);
    let gitea_token = if gitea_token {
        format!("token = {{ file = \"{}/gitea-token\" }}", dir.display())
    } else {
        "token = \"none\"".into()
    };
    let config = format!(
        "[github]\napi_url = \"{}\"\ntoken = {{ file = \"{}/github-token\" }}\norgs = [\"{ORG}\"]\n\n\
         [gitea]\nurl = \"{}\"\n{gitea_token}\n\n[mirror]\ngitea_org = \"mirrors\"\n",
        lab.github.url(),
        dir.display(),
        lab.gitea.url(),
    );
    let path = dir.join(if gitea_token.contains("none") {
        "bad.toml"
    } else {
        "config.toml"
    });
    std::fs::write(&path, config).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_plans_syncs_and_lists() {
    let lab = Lab::start(3).await;
    let config = write_config(&lab, true);
    let all = lab.selected(&lab.config()).await;
    let mut seen = String::new();
    let mut run = |args: &[&str]| {
        let out = raibid(&lab, &config, args);
        seen.push_str(&text(&out));
        out
    };

    let out = run(&["mirror", "plan", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let create: Vec<&str> = plan["create"]
        .as_array()
        .unwrap()
        .iter()
        .map(|repo| repo["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(create, names(&all));
    assert_eq!(plan["remove"], json!([]));
    assert_eq!(plan["keep"], json!([]));

    let out = run(&["mirror", "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for repo in &all {
        assert!(
            stdout.contains(&format!("created  mirrors/{}", repo.name)),
            "{stdout}"
        );
    }
    assert!(stdout.contains("3 created, 0 removed, 0 kept"), "{stdout}");

    let out = run(&["mirror", "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 created, 0 removed, 3 kept"),
        "{}",
        text(&out)
    );

    let out = run(&["mirror", "plan"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("keep    {}", all[0].full_name)));

    let out = run(&["mirror", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["stale"], false, "just created: {list}");

    let out = run(&["mirror", "sync", &all[1].full_name]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab.gitea.syncs(), [format!("mirrors/{}", all[1].name)]);
    let out = run(&["mirror", "sync", "no-such-mirror"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    assert!(text(&out).contains("no mirror of \"no-such-mirror\" in mirrors"));

    let out = run(&["mirror", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&format!("mirrors/{}", all[0].name)),
        "{listed}"
    );
    assert!(listed.contains("3 mirror(s), 0 stale"), "{listed}");
    assert!(!listed.contains("  stale"), "{listed}");

    assert!(
        !seen.contains(GITEA_TOKEN) && !seen.contains(&lab.github.token()),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_list_and_sync_of_one_mirror_need_only_gitea() {
    let lab = Lab::start(1).await;
    let all = lab.selected(&lab.config()).await;
    lab.gitea
        .add_repo("mirrors", "first", true, &all[0].clone_url, NEVER);
    let dir = lab.dir.path();
    secret_file(dir, "gitea-token", GITEA_TOKEN);
    // No github.token (nor a GitHub at all), no webhook settings.
    let config = dir.join("gitea-only.toml");
    std::fs::write(
        &config,
        format!(
            "[github]\napi_url = \"http://127.0.0.1:9\"\ntoken = \"none\"\norgs = [\"{ORG}\"]\n\n\
             [gitea]\nurl = \"{}\"\ntoken = {{ file = \"{}/gitea-token\" }}\n\n\
             [mirror]\ngitea_org = \"mirrors\"\n",
            lab.gitea.url(),
            dir.display(),
        ),
    )
    .unwrap();

    let out = raibid(&lab, &config, &["mirror", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["gitea"], "mirrors/first", "{list}");
    assert_eq!(list[0]["github"], all[0].full_name.as_str(), "{list}");

    let out = raibid(&lab, &config, &["mirror", "sync", &all[0].full_name]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "sync requested  mirrors/first (from {})",
            all[0].full_name
        )),
        "{}",
        text(&out)
    );
    assert_eq!(lab.gitea.syncs(), ["mirrors/first"]);

    // Plan and a full sync still need GitHub, and say which key is missing.
    let out = raibid(&lab, &config, &["mirror", "plan"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("`github.token`"), "{}", text(&out));
}

#[test]
fn cli_names_a_missing_key_with_exit_2() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime.block_on(Lab::start(1));
    let config = write_config(&lab, false);
    let out = raibid(&lab, &config, &["mirror", "plan"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("`gitea.token`"), "{}", text(&out));
    assert!(!text(&out).contains(&lab.github.token()));
    drop(lab);
}

const GITEA_HOOK_URL: &str = "http://raibid-server.raibid.svc.cluster.local:8080/webhooks/gitea";
const GITEA_HOOK_SECRET: &str = "gitea-hook-s3cret-value";

#[tokio::test]
async fn sync_keeps_giteas_push_webhook_on_the_organisation_in_place() {
    use raibid::backend::mirror::push_hook::{HookChange, PushHook};
    let lab = Lab::start(1).await;
    let config = lab.config();
    lab.gitea.add_org("mirrors");
    // Another service's hook on the organisation is never touched.
    let other = json!({"type": "slack", "config": {"url": "https://hooks.slack.test/x", "content_type": "json", "channel": "#ci"}, "events": ["push"], "active": true});
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/orgs/mirrors/hooks", lab.gitea.url()))
        .header("authorization", format!("token {GITEA_TOKEN}"))
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let sync = |url: &str, secret: &str| {
        let mirrors = lab
            .mirrors(&config)
            .with_push_hook(PushHook::new(url, secret.into()));
        async move {
            let plan = mirrors.plan().await.unwrap();
            mirrors.apply(&plan, false).await.unwrap()
        }
    };
    let ours = || {
        lab.gitea
            .hooks("mirrors")
            .into_iter()
            .filter(|hook| hook.kind == "gitea")
            .collect::<Vec<_>>()
    };

    let applied = sync(GITEA_HOOK_URL, GITEA_HOOK_SECRET).await;
    assert_eq!(applied.gitea_hook, Some(HookChange::Created));
    let hooks = ours();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let hook = &hooks[0];
    assert_eq!(
        (
            hook.url.as_str(),
            hook.content_type.as_str(),
            hook.secret.as_str()
        ),
        (GITEA_HOOK_URL, "json", GITEA_HOOK_SECRET)
    );
    assert_eq!(hook.events, ["push"]);
    assert!(hook.active);

    // A rerun finds it by URL and adds nothing; the secret, which Gitea never shows, is
    // sent again, so a changed one is put in place.
    lab.gitea.clear_requests();
    let applied = sync(GITEA_HOOK_URL, "rotated-secret").await;
    assert_eq!(applied.gitea_hook, Some(HookChange::Kept));
    let posts: Vec<_> = lab
        .gitea
        .writes()
        .into_iter()
        .filter(|r| r.path.ends_with("/hooks"))
        .collect();
    assert!(posts.is_empty(), "no hook added: {posts:?}");
    assert_eq!(ours()[0].secret, "rotated-secret");
    assert_eq!(ours()[0].id, hook.id);

    // The server moved: the same hook now points at the new address.
    let moved = "http://raibid.lab.test:8080/webhooks/gitea";
    let applied = sync(moved, "rotated-secret").await;
    assert_eq!(applied.gitea_hook, Some(HookChange::Updated));
    let hooks = ours();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!((hooks[0].id, hooks[0].url.as_str()), (hook.id, moved));
    let slack: Vec<_> = lab
        .gitea
        .hooks("mirrors")
        .into_iter()
        .filter(|hook| hook.kind == "slack")
        .collect();
    assert_eq!(slack[0].url, "https://hooks.slack.test/x");

    // Gitea's listing never shows a secret, and neither do raibid's errors.
    let listed = client
        .get(format!("{}/api/v1/orgs/mirrors/hooks", lab.gitea.url()))
        .header("authorization", format!("token {GITEA_TOKEN}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains("rotated-secret"), "{listed}");
    let wrong_token = Config {
        gitea: raibid::config::GiteaConfig {
            token: secret_file(lab.dir.path(), "wrong", "wrong-token"),
            ..config.gitea.clone()
        },
        ..config.clone()
    };
    let refused = lab
        .mirrors(&wrong_token)
        .with_push_hook(PushHook::new(GITEA_HOOK_URL, GITEA_HOOK_SECRET.into()));
    let plan = lab.mirrors(&config).plan().await.unwrap();
    let error = refused.apply(&plan, false).await.unwrap_err().to_string();
    assert!(error.contains("Gitea refused gitea.token"), "{error}");
    assert!(
        !error.contains(GITEA_HOOK_SECRET) && !error.contains("wrong-token"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_sync_registers_giteas_push_webhook_once() {
    let lab = Lab::start(1).await;
    let dir = lab.dir.path();
    let config = write_config(&lab, true);
    secret_file(dir, "gitea-hook-secret", GITEA_HOOK_SECRET);
    let mut text_of_config = std::fs::read_to_string(&config).unwrap();
    text_of_config.push_str(&format!("gitea_webhook_url = \"{GITEA_HOOK_URL}\"\n"));
    let without_secret = dir.join("no-hook-secret.toml");
    std::fs::write(&without_secret, &text_of_config).unwrap();
    text_of_config.push_str(&format!(
        "\n[server]\ngitea_webhook_secret = {{ file = \"{}/gitea-hook-secret\" }}\n",
        dir.display()
    ));
    std::fs::write(&config, &text_of_config).unwrap();

    let out = raibid(&lab, &without_secret, &["mirror", "sync"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`server.gitea_webhook_secret`"),
        "{}",
        text(&out)
    );

    let out = raibid(&lab, &config, &["mirror", "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("gitea hook created"), "{}", text(&out));
    let out2 = raibid(&lab, &config, &["mirror", "sync"]);
    assert!(out2.status.success(), "{}", text(&out2));
    assert!(
        text(&out2).contains("gitea hook in place"),
        "{}",
        text(&out2)
    );
    let hooks = lab.gitea.hooks("mirrors");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(
        (hooks[0].url.as_str(), hooks[0].secret.as_str()),
        (GITEA_HOOK_URL, GITEA_HOOK_SECRET)
    );
    assert!(!text(&out).contains(GITEA_HOOK_SECRET) && !text(&out2).contains(GITEA_HOOK_SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_reports_as_json() {
    let lab = Lab::start(2).await;
    let config = write_config(&lab, true);
    let all = lab.selected(&lab.config()).await;
    let out = raibid(&lab, &config, &["mirror", "sync", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let synced: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(synced["created"].as_array().unwrap().len(), 2, "{synced}");
    assert_eq!(synced["kept"], json!([]));
    assert_eq!(synced["unmatched"], json!([]));

    let args = ["mirror", "sync", &all[0].full_name, "--json"];
    let out = raibid(&lab, &config, &args);
    assert!(out.status.success(), "{}", text(&out));
    let one: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["github"], all[0].full_name.as_str());
    assert!(
        one["gitea"].as_str().unwrap().starts_with("mirrors/"),
        "{one}"
    );
}
