//! Every config key with its default. `DEFAULT_TEMPLATE` (src/config/default.toml, written on
//! first run) must say the same: a test uncomments it and compares with `Config::default()`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::Secret;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub ui: UiConfig,
    pub sparky: SparkyConfig,
    pub ollama: OllamaConfig,
    pub store: StoreConfig,
    pub publish: PublishConfig,
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
    /// `auto` (Ollama when reachable, else built-in), `ollama` or `builtin`.
    pub writer: String,
    /// Author names or emails containing one of these (case-insensitive) are bots.
    pub bots: Vec<String>,
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
            bots: vec![
                "[bot]".into(),
                "dependabot".into(),
                "renovate".into(),
                "github-actions".into(),
            ],
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

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            docs_repo: String::new(),
            branch: "main".into(),
            push: false,
            author: "Sparky".into(),
            tags: vec!["digest".into()],
            token: Secret::Env("RAIBID_PUBLISH_TOKEN".into()),
        }
    }
}
