//! Every config key with its default. `DEFAULT_TEMPLATE` (src/config/default.toml, written on
//! first run) must say the same: a test uncomments it and compares with `Config::default()`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::{Secret, SecretError};
use crate::backend::queue::mask_url;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub ui: UiConfig,
    pub log: LogConfig,
    pub sparky: SparkyConfig,
    pub ollama: OllamaConfig,
    pub store: StoreConfig,
    pub publish: PublishConfig,
    pub ci: CiConfig,
    pub server: ServerConfig,
    pub gitea: GiteaConfig,
    pub cluster: ClusterConfig,
    pub github: GithubConfig,
    pub mirror: MirrorConfig,
    pub openai: OpenAiConfig,
    pub schedule: ScheduleConfig,
    pub devto: DevtoConfig,
    pub mastodon: MastodonConfig,
    pub bluesky: BlueskyConfig,
    pub image: ImageConfig,
    /// Action name -> keys, e.g. `quit = ["q", "ctrl-c"]`. Unlisted actions keep defaults.
    pub keys: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// `dark`, `light`, `high-contrast`, or the name of a theme file in the themes dir.
    pub theme: String,
    /// Frames per second at most while something changes.
    pub max_fps: u32,
    /// Seconds between autosaves of an edited draft to its recovery file.
    pub autosave_secs: u64,
}

/// Where log lines go besides stderr (which gets them when it is not a terminal) and how
/// they look; levels come from `RAIBID_LOG` or `RUST_LOG`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Also write `raibid.log` in the data dir.
    pub file: bool,
    /// `text` or `json` (one object per line).
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SparkyConfig {
    /// Repository paths to collect. Empty with `scan` empty: the current directory's repository.
    pub repos: Vec<PathBuf>,
    /// Folders scanned (one level deep) for repositories.
    pub scan: Vec<PathBuf>,
    /// IANA time zone that days, weeks and months are cut in; empty: the system's.
    pub time_zone: String,
    /// The digest the console writes on start when none exists yet: `day`, `week`, `month` or `off`.
    pub startup_digest: String,
    /// What a period without commits yields: `one-line` or `none`.
    pub empty_period: String,
    /// `auto` (Ollama when reachable, else built-in), `ollama`, `openai` (an
    /// OpenAI-compatible server, `[openai]`) or `builtin`.
    pub writer: String,
    /// How many times a model writes a draft the checker finds fault with before the
    /// built-in writer takes over.
    pub attempts: u32,
    /// Stock filler phrases (any case) the checker reports in a draft.
    pub filler_phrases: Vec<String>,
    /// Author names or emails containing one of these (case-insensitive) are bots.
    pub bots: Vec<String>,
    /// Where digests come from: `local` (the repositories above), `github` (the
    /// repositories `[github]` selects) or `both`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OllamaConfig {
    pub url: String,
    pub model: String,
    /// Context window in tokens, sent with every request (changing it reloads the model).
    pub num_ctx: u32,
    pub seed: i32,
    pub temperature: f32,
    /// Seconds a whole generation may take.
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The drafts repository; empty: `drafts` under the data dir.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    /// A local path or a git URL; empty: `docs` under the data dir (created on first publish).
    pub docs_repo: String,
    pub branch: String,
    /// Push after committing.
    pub push: bool,
    /// `author` in the published front matter.
    pub author: String,
    pub tags: Vec<String>,
    /// Token for pushing over HTTPS: from `RAIBID_PUBLISH_TOKEN` or a 0600 file.
    pub token: Secret,
    /// The docs site's base URL: a post's canonical URL is this plus its path.
    pub site_url: String,
    /// `owner/name` of the docs repository on GitHub, for the `docs-github` channel
    /// (the contents API, with `github.token`).
    pub github_repo: String,
    /// Where the `github-comment` channel comments: `owner/name#12` (an issue or pull
    /// request) or `owner/name/discussions/7`.
    pub github_comment: String,
    /// Kind -> the channels its drafts are published to; unlisted kinds keep their
    /// defaults (see `delivery::configured_channels`).
    pub channels: BTreeMap<String, Vec<String>>,
    /// Kinds published without a person's approval when the checker finds nothing.
    pub auto: Vec<String>,
}

/// An OpenAI-compatible server (vLLM, llama.cpp's server): `/v1/chat/completions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiConfig {
    /// Base URL; requests go to `<url>/v1/chat/completions`.
    pub url: String,
    pub model: String,
    /// Sent as a bearer token when set.
    pub api_key: Secret,
    /// The server's context window in tokens: prompts that may not fit are refused.
    pub context_tokens: u32,
    pub seed: i32,
    pub temperature: f32,
    /// Seconds a whole generation may take.
    pub timeout_secs: u64,
}

/// What each scheduled run (`raibid schedule run daily|weekly|monthly`) writes, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    pub daily: Vec<String>,
    pub weekly: Vec<String>,
    pub monthly: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevtoConfig {
    pub url: String,
    pub api_key: Secret,
    /// Publish articles; false leaves them as Dev.to drafts.
    pub publish: bool,
    /// At most four; Dev.to takes lowercase letters and digits.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MastodonConfig {
    /// The instance, e.g. `https://mastodon.social`.
    pub url: String,
    pub token: Secret,
    /// `public`, `unlisted`, `private` or `direct`.
    pub visibility: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlueskyConfig {
    /// The PDS or entryway, e.g. `https://bsky.social`.
    pub url: String,
    /// Handle or DID.
    pub identifier: String,
    /// An app password, never the account password.
    pub app_password: Secret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CiConfig {
    /// The queue's Redis (its own instance or database: `noeviction`, AOF). Empty: the
    /// lab's Redis when the kubeconfig reaches a cluster running it (through a
    /// port-forward), else [`LOCAL_REDIS_URL`].
    pub redis_url: String,
    /// The queue's password, put into `redis_url` when it holds a value (agents in the lab
    /// read it from a file, never from their environment).
    pub redis_password: Secret,
    /// Prefix of every queue key, see docs/queue.md.
    pub queue_prefix: String,
    /// Seconds between an agent's heartbeats while it runs a job.
    pub heartbeat_secs: u64,
    /// Seconds without a heartbeat after which another agent takes a job over.
    pub reclaim_after_secs: u64,
    /// Deliveries after which a job goes to the dead-letter stream.
    pub max_deliveries: u32,
    /// Seconds a whole job may take.
    pub job_timeout_secs: u64,
    /// Seconds one step may take.
    pub step_timeout_secs: u64,
    /// Log lines kept per job: later ones are dropped, after one line saying so.
    pub log_lines: u64,
    /// Bytes kept of one log line: the rest is cut, and the line says how much.
    pub log_line_bytes: usize,
    /// Seconds finished jobs, their logs and dead letters are kept.
    pub retention_secs: u64,
    /// Seconds within which a push of the same (forge, repository, ref, sha) queues nothing
    /// new, whatever its delivery id; 0: only redeliveries are recognised.
    pub replay_window_secs: u64,
    /// Steps of a build, each a shell command, unless `pipelines` names the repository.
    pub steps: Vec<String>,
    /// Steps per repository (`owner/name`), replacing `steps`.
    pub pipelines: BTreeMap<String, Vec<String>>,
    /// Repositories (`owner/name`) the operator keeps on this machine, by path: the only
    /// clone URLs outside the forges a push may name, and the only ones cloned over `file`.
    pub local_repos: BTreeMap<String, PathBuf>,
    /// Where agents clone jobs; empty: `workspaces` under the data dir.
    pub workspace_dir: PathBuf,
    /// Build caches, one folder per repository holding its cargo home (registry and git
    /// cache) and target dir; empty: `cache` under the data dir.
    pub cache_dir: PathBuf,
    /// Wrap rustc in sccache (must be installed), with its cache in `sccache_dir`.
    pub sccache: bool,
    /// sccache's local cache; empty: `sccache` under the data dir.
    pub sccache_dir: PathBuf,
    /// File holding `user:token` that agents clone Gitea's repositories with (sent to
    /// `gitea.url` only); empty: clone without credentials.
    pub clone_credentials_file: PathBuf,
    /// Build steps in a bubblewrap sandbox: `auto` (when bwrap works here), `bwrap`
    /// (required) or `off`.
    pub sandbox: String,
    /// `UID:GID` an agent running as root starts build steps as; empty: the agent's user.
    pub step_user: String,
    /// Agents the local pool starts (`raibid pool`, and the console in local mode).
    pub agents: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address `raibid server` listens on.
    pub listen: String,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Time a client has to send a request's headers (and an idle connection to start its
    /// next request) before its connection is closed.
    pub header_timeout_secs: u64,
    /// Time from a request's headers to its response, reading the body included; longer
    /// requests get 408. A log stream counts until it starts.
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Log streams (`GET /jobs/{id}/logs`) open at once; more get 503.
    pub max_log_streams: usize,
    /// How long a stopping server lets open requests finish before it closes them.
    pub shutdown_grace_secs: u64,
    /// Bearer token for the API (all but webhooks and health).
    pub token: Secret,
    /// Shared secret of Gitea's webhooks (X-Gitea-Signature).
    pub gitea_webhook_secret: Secret,
    /// Shared secret of GitHub's webhooks (X-Hub-Signature-256).
    pub github_webhook_secret: Secret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GiteaConfig {
    /// Gitea's base URL; empty: commit statuses are not reported.
    pub url: String,
    /// API token with write access to repository statuses.
    pub token: Secret,
    /// The base URL Gitea writes into clone URLs (its ROOT_URL) when agents reach it at
    /// `url` instead: their clones rewrite one to the other. Empty: no rewrite.
    pub public_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// kubeconfig file; empty: `$KUBECONFIG`, `~/.kube/config`, then k3s' own file.
    pub kubeconfig: PathBuf,
    /// Shell command that installs k3s when no cluster answers; empty: never install.
    pub k3s_install: String,
    /// Seconds one object may take to become ready before its step fails.
    pub wait_timeout_secs: u64,
    /// Namespace of the raibid server, agents, Redis, Sparky and Ollama.
    pub namespace: String,
    /// The one image every raibid role runs from (server, agents, Sparky); empty: this
    /// binary's image, built on `image.base` and pushed to Gitea's registry by `raibid up`.
    pub image: String,
    /// StorageClass of every volume; empty: the cluster's default (k3s: local-path).
    pub storage_class: String,
    pub redis_image: String,
    pub redis_storage: String,
    /// Gitea's image tag; at least 1.26.3 (older ones have known vulnerabilities).
    pub gitea_version: String,
    /// At least 12.6.0: older charts cannot start Gitea 1.26.
    pub gitea_chart_version: String,
    /// Node port Gitea's web, API and container registry are reachable on from the host.
    pub gitea_node_port: u16,
    pub gitea_storage: String,
    /// Gitea's admin user; its password is generated into the `gitea-admin` secret.
    pub gitea_admin: String,
    pub flux_chart_version: String,
    /// Repository (under the Gitea admin) holding the manifests Flux applies.
    pub gitops_repo: String,
    pub keda_chart_version: String,
    /// Seconds between KEDA's looks at the queue's lag.
    pub agent_polling_secs: u32,
    /// Agents running at most.
    pub agent_max_replicas: u32,
    pub agent_cpu_request: String,
    pub agent_memory_request: String,
    pub agent_cpu_limit: String,
    pub agent_memory_limit: String,
    /// Address ranges agents may not reach although they may reach the internet (ports 80
    /// and 443): the cluster's pods and Services (k3s' defaults) and link-local addresses
    /// (cloud metadata). The lab's services are reached, or not, by the agents' NetworkPolicy.
    pub agent_blocked_cidrs: Vec<String>,
    /// The cargo registry and git cache shared by every agent.
    pub cargo_cache_storage: String,
    pub ollama_image: String,
    pub ollama_storage: String,
    /// GPUs the Ollama pod requests (`nvidia.com/gpu`); 0: CPU only, and no device plugin.
    pub ollama_gpus: u32,
    /// Version of NVIDIA's k8s-device-plugin chart, installed when `ollama_gpus` > 0.
    pub device_plugin_chart_version: String,
    /// `raibid doctor` and `raibid up` fail below this much free disk (GiB) under the data
    /// dir or k3s' /var/lib/rancher; 0: no minimum.
    pub min_free_disk_gib: u64,
    /// Cron schedules of `raibid schedule run daily|weekly|monthly`, in UTC.
    pub daily_schedule: String,
    pub weekly_schedule: String,
    pub monthly_schedule: String,
}

/// `raibid image build` and how `raibid up` makes the image pullable by k3s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageConfig {
    /// The image whose layers are under the binary's: agents need git, a C toolchain and cargo.
    pub base: String,
    /// k3s' registries file, where `raibid up` adds Gitea's registry and its credentials.
    pub registries_file: PathBuf,
    /// Shell command restarting k3s after that file changed (k3s reads it only at start).
    pub restart_command: String,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            base: "docker.io/library/rust:1-trixie".into(),
            registries_file: "/etc/rancher/k3s/registries.yaml".into(),
            restart_command: "systemctl restart k3s".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubConfig {
    /// GitHub's REST API base (GraphQL is `<api_url>/graphql`).
    pub api_url: String,
    /// Token for the API: from `RAIBID_GITHUB_TOKEN` or a 0600 file.
    pub token: Secret,
    /// Organisations followed whole, filtered by `include`, `exclude` and `visibility`.
    pub orgs: Vec<String>,
    /// Single repositories (`owner/name`), always followed.
    pub repos: Vec<String>,
    /// Regexes on `owner/name`: an organisation's repository is kept when one matches
    /// (empty: all)...
    pub include: Vec<String>,
    /// ...and none of these does.
    pub exclude: Vec<String>,
    /// `all`, `public` or `private`.
    pub visibility: String,
    /// Requests in flight at most.
    pub concurrency: u32,
    /// Longest rate-limit wait, in seconds; a repository that would wait longer is
    /// reported as not collected, with the reason.
    pub max_wait_secs: u64,
    /// Conditional-request cache and incremental state; empty: `github` under the data dir.
    pub cache_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MirrorConfig {
    /// Gitea organisation the mirrors live in (created when missing).
    pub gitea_org: String,
    /// How often Gitea pulls each mirror by itself, e.g. `8h0m0s`.
    pub interval: String,
    /// Hours without a sync after which a mirror is shown as stale.
    pub stale_hours: u64,
    /// Register a push webhook on each GitHub repository pointing at `webhook_url`.
    pub register_webhooks: bool,
    /// Public URL of `raibid server`'s `/webhooks/github-sync`.
    pub webhook_url: String,
    /// Where `sync` points Gitea's push webhook on `gitea_org` (`raibid server`'s
    /// `/webhooks/gitea`), signed with `server.gitea_webhook_secret`. Empty: the lab's
    /// in-cluster server, with the secret `raibid up` generated.
    pub gitea_webhook_url: String,
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            api_url: "https://api.github.com".into(),
            token: Secret::Env("RAIBID_GITHUB_TOKEN".into()),
            orgs: Vec::new(),
            repos: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            visibility: "all".into(),
            concurrency: 4,
            max_wait_secs: 3660,
            cache_dir: PathBuf::new(),
        }
    }
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig {
            gitea_org: "mirrors".into(),
            interval: "8h0m0s".into(),
            stale_hours: 24,
            register_webhooks: false,
            webhook_url: String::new(),
            gitea_webhook_url: String::new(),
        }
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            kubeconfig: PathBuf::new(),
            k3s_install: "curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='server --disable=traefik --write-kubeconfig-mode=600' sh -".into(),
            wait_timeout_secs: 900,
            namespace: "raibid".into(),
            image: String::new(),
            storage_class: String::new(),
            redis_image: "redis:7.4-alpine".into(),
            redis_storage: "8Gi".into(),
            gitea_version: "1.26.4".into(),
            gitea_chart_version: "12.6.0".into(),
            gitea_node_port: 30300,
            gitea_storage: "20Gi".into(),
            gitea_admin: "raibid".into(),
            flux_chart_version: "2.18.3".into(),
            gitops_repo: "gitops".into(),
            keda_chart_version: "2.20.2".into(),
            agent_polling_secs: 10,
            agent_max_replicas: 4,
            agent_cpu_request: "2".into(),
            agent_memory_request: "4Gi".into(),
            agent_cpu_limit: "8".into(),
            agent_memory_limit: "16Gi".into(),
            agent_blocked_cidrs: vec![
                "10.42.0.0/16".into(),
                "10.43.0.0/16".into(),
                "169.254.0.0/16".into(),
            ],
            cargo_cache_storage: "50Gi".into(),
            ollama_image: "ollama/ollama:0.32.15".into(),
            ollama_storage: "100Gi".into(),
            ollama_gpus: 1,
            device_plugin_chart_version: "0.20.0".into(),
            min_free_disk_gib: 10,
            daily_schedule: "0 0 * * *".into(),
            weekly_schedule: "0 8 * * 1".into(),
            monthly_schedule: "0 9 1 * *".into(),
        }
    }
}

/// The queue when `ci.redis_url` is empty and no lab's Redis is in reach.
pub const LOCAL_REDIS_URL: &str = "redis://127.0.0.1:6379/0";

impl CiConfig {
    /// The configured Redis URL, or the local one when none is set. The server and the
    /// agents use this: in the lab their environment sets it.
    pub fn redis_url_or_local(&self) -> &str {
        if self.redis_url.is_empty() {
            LOCAL_REDIS_URL
        } else {
            &self.redis_url
        }
    }

    /// [`Self::redis_url_or_local`] with `redis_password` in it, when that holds a value.
    pub fn queue_url(&self) -> Result<String, QueueUrlError> {
        let url = self.redis_url_or_local();
        let Some(password) = self
            .redis_password
            .reveal()
            .map_err(QueueUrlError::Password)?
        else {
            return Ok(url.to_owned());
        };
        let invalid = || QueueUrlError::Invalid(mask_url(url));
        let mut parsed = reqwest::Url::parse(url).map_err(|_| invalid())?;
        if parsed.scheme() == "unix" {
            // Sockets have no authority: redis-rs reads the password from the query.
            parsed.query_pairs_mut().append_pair("pass", &password);
        } else {
            parsed
                .set_password(Some(&password))
                .map_err(|()| invalid())?;
        }
        Ok(parsed.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueUrlError {
    #[error("ci.redis_password: {0}")]
    Password(SecretError),
    #[error("ci.redis_url: `{0}` has no host to give ci.redis_password to")]
    Invalid(String),
}

impl Default for CiConfig {
    fn default() -> Self {
        CiConfig {
            redis_url: String::new(),
            redis_password: Secret::None,
            queue_prefix: "raibid".into(),
            heartbeat_secs: 5,
            reclaim_after_secs: 30,
            max_deliveries: 3,
            job_timeout_secs: 3600,
            step_timeout_secs: 1800,
            log_lines: 10_000,
            log_line_bytes: 8192,
            retention_secs: 30 * 86_400,
            replay_window_secs: 3600,
            steps: vec!["cargo build --locked".into(), "cargo test --locked".into()],
            pipelines: BTreeMap::new(),
            local_repos: BTreeMap::new(),
            workspace_dir: PathBuf::new(),
            cache_dir: PathBuf::new(),
            sccache: false,
            sccache_dir: PathBuf::new(),
            clone_credentials_file: PathBuf::new(),
            sandbox: "auto".into(),
            step_user: String::new(),
            agents: 2,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 256,
            max_log_streams: 64,
            shutdown_grace_secs: 10,
            token: Secret::Env("RAIBID_SERVER_TOKEN".into()),
            gitea_webhook_secret: Secret::Env("RAIBID_GITEA_WEBHOOK_SECRET".into()),
            github_webhook_secret: Secret::Env("RAIBID_GITHUB_WEBHOOK_SECRET".into()),
        }
    }
}

impl Default for GiteaConfig {
    fn default() -> Self {
        GiteaConfig {
            url: String::new(),
            token: Secret::Env("RAIBID_GITEA_TOKEN".into()),
            public_url: String::new(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            file: true,
            format: "text".into(),
        }
    }
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: "dark".into(),
            max_fps: 60,
            autosave_secs: 5,
        }
    }
}

impl Default for SparkyConfig {
    fn default() -> Self {
        SparkyConfig {
            repos: Vec::new(),
            scan: Vec::new(),
            time_zone: String::new(),
            startup_digest: "week".into(),
            empty_period: "one-line".into(),
            writer: "auto".into(),
            attempts: 3,
            filler_phrases: [
                "significant progress",
                "in conclusion",
                "recommendations",
                "in summary",
                "to summarize",
                "going forward",
                "moving forward",
                "stay tuned",
                "keep up the great work",
                "great job",
                "exciting times",
                "a testament to",
            ]
            .map(String::from)
            .to_vec(),
            bots: vec![
                "[bot]".into(),
                "dependabot".into(),
                "renovate".into(),
                "github-actions".into(),
            ],
            source: "local".into(),
        }
    }
}

impl Default for OllamaConfig {
    fn default() -> Self {
        OllamaConfig {
            url: "http://127.0.0.1:11434".into(),
            model: "llama3.2:3b".into(),
            num_ctx: 8192,
            seed: 42,
            temperature: 0.2,
            timeout_secs: 300,
        }
    }
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        OpenAiConfig {
            url: "http://127.0.0.1:8080".into(),
            model: String::new(),
            api_key: Secret::Env("RAIBID_OPENAI_API_KEY".into()),
            context_tokens: 8192,
            seed: 42,
            temperature: 0.2,
            timeout_secs: 300,
        }
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            daily: vec!["daily".into()],
            weekly: vec!["weekly".into()],
            monthly: vec!["monthly".into()],
        }
    }
}

impl Default for DevtoConfig {
    fn default() -> Self {
        DevtoConfig {
            url: "https://dev.to".into(),
            api_key: Secret::Env("RAIBID_DEVTO_API_KEY".into()),
            publish: false,
            tags: vec!["devops".into(), "rust".into()],
        }
    }
}

impl Default for MastodonConfig {
    fn default() -> Self {
        MastodonConfig {
            url: String::new(),
            token: Secret::Env("RAIBID_MASTODON_TOKEN".into()),
            visibility: "public".into(),
        }
    }
}

impl Default for BlueskyConfig {
    fn default() -> Self {
        BlueskyConfig {
            url: "https://bsky.social".into(),
            identifier: String::new(),
            app_password: Secret::Env("RAIBID_BLUESKY_APP_PASSWORD".into()),
        }
    }
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            docs_repo: String::new(),
            branch: "main".into(),
            push: false,
            author: "Sparky".into(),
            tags: vec!["digest".into()],
            token: Secret::Env("RAIBID_PUBLISH_TOKEN".into()),
            site_url: String::new(),
            github_repo: String::new(),
            github_comment: String::new(),
            channels: BTreeMap::new(),
            auto: Vec::new(),
        }
    }
}
