//! A small runner for the git CLI, shared by the drafts store, publishing and the gitops
//! repository.
//!
//! Writing goes through the `git` binary users already have (gix cannot push). Every run
//! is non-interactive and locale-independent, never signs, and reports the command, the
//! directory and git's stderr with any secret masked.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The identity of commits in repositories without a configured `user.name`/`user.email`.
pub const FALLBACK_NAME: &str = "Sparky";
pub const FALLBACK_EMAIL: &str = "sparky@raibid.local";

const MASK: &str = "********";

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run `git {command}` in {}: {source}", dir.display())]
    Spawn {
        command: String,
        dir: PathBuf,
        source: io::Error,
    },
    #[error("`git {command}` failed in {} ({status}): {stderr}", dir.display())]
    Failed {
        command: String,
        dir: PathBuf,
        status: String,
        stderr: String,
    },
}

/// git in one directory, with extra environment (e.g. an auth header) and secrets to mask.
#[derive(Clone)]
pub struct Git {
    dir: PathBuf,
    envs: Vec<(String, String)>,
    masks: Vec<String>,
}

impl std::fmt::Debug for Git {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The environment may hold credentials: show only the directory.
        f.debug_struct("Git")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Git {
    pub fn new(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
            envs: Vec::new(),
            masks: Vec::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The same settings in another directory (e.g. a clone's parent, then the clone).
    pub fn in_dir(&self, dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
            ..self.clone()
        }
    }

    /// Adds an environment variable to every run; its value is masked in errors.
    pub fn with_secret_env(mut self, key: &str, value: &str) -> Git {
        self.envs.push((key.to_string(), value.to_string()));
        self.masking(value)
    }

    /// Adds an environment variable to every run.
    pub fn with_env(mut self, key: &str, value: &str) -> Git {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// Authenticates HTTP remotes with a Basic `Authorization` header passed through git's
    /// environment config (never argv, where other users could read it); `password` is masked.
    pub fn with_basic_auth(self, user: &str, password: &str) -> Git {
        let basic = BASE64.encode(format!("{user}:{password}").as_bytes());
        self.masking(password)
            .with_env("GIT_CONFIG_COUNT", "1")
            .with_env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .with_secret_env(
                "GIT_CONFIG_VALUE_0",
                &format!("Authorization: Basic {basic}"),
            )
    }

    /// Masks `secret` wherever it would appear in an error.
    pub fn masking(mut self, secret: &str) -> Git {
        if !secret.is_empty() {
            self.masks.push(secret.to_string());
        }
        self
    }

    /// Runs git and returns its stdout; a non-zero exit is an error.
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let output = self.output(args)?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(self.failed(args, &output))
        }
    }

    /// Runs a git query whose exit code 1 means "no" (`diff --quiet`, `rev-parse --verify -q`,
    /// `config --get`): 0 is `true`, 1 is `false`, anything else is an error.
    pub fn check(&self, args: &[&str]) -> Result<bool, GitError> {
        let output = self.output(args)?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failed(args, &output)),
        }
    }

    /// Commits exactly `paths` (which must be added already) with `message`, under the
    /// repository's configured identity or Sparky's when it has none.
    pub fn commit(&self, message: &str, paths: &[&str]) -> Result<(), GitError> {
        let configured = self.check(&["config", "--get", "user.name"])?
            && self.check(&["config", "--get", "user.email"])?;
        let name = format!("user.name={FALLBACK_NAME}");
        let email = format!("user.email={FALLBACK_EMAIL}");
        let mut args: Vec<&str> = Vec::new();
        if !configured {
            args.extend(["-c", &name, "-c", &email]);
        }
        args.extend(["commit", "--quiet", "--no-edit", "-m", message, "--"]);
        args.extend(paths);
        self.run(&args).map(drop)
    }

    /// Whether anything differs from HEAD (or anything exists, before the first commit)
    /// among `paths` in the index or the work tree, untracked files included.
    pub fn has_changes(&self, paths: &[&str]) -> Result<bool, GitError> {
        let mut args = vec!["status", "--porcelain", "--untracked-files=all", "--"];
        args.extend(paths);
        Ok(!self.run(&args)?.trim().is_empty())
    }

    /// The full id of `rev`, or `None` when it does not exist (e.g. HEAD before any commit).
    pub fn resolve(&self, rev: &str) -> Result<Option<String>, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let output = self.output(&["rev-parse", "--verify", "--quiet", &spec])?;
        match output.status.code() {
            Some(0) => Ok(Some(
                String::from_utf8_lossy(&output.stdout).trim().to_string(),
            )),
            Some(1) => Ok(None),
            _ => Err(self.failed(&["rev-parse", "--verify", "--quiet", &spec], &output)),
        }
    }

    fn output(&self, args: &[&str]) -> Result<Output, GitError> {
        let mut command = Command::new("git");
        command
            .current_dir(&self.dir)
            .args(["-c", "commit.gpgsign=false", "-c", "core.quotepath=false"])
            .args(args)
            .env("LC_ALL", "C")
            // Never wait on a credential prompt: the console owns the terminal.
            .env("GIT_TERMINAL_PROMPT", "0")
            // Inherited from a git hook or a wrapper, these would point git elsewhere.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null());
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command.output().map_err(|source| GitError::Spawn {
            command: self.mask(&args.join(" ")),
            dir: self.dir.clone(),
            source,
        })
    }

    fn failed(&self, args: &[&str], output: &Output) -> GitError {
        GitError::Failed {
            command: self.mask(&args.join(" ")),
            dir: self.dir.clone(),
            status: output.status.to_string(),
            stderr: self.mask(String::from_utf8_lossy(&output.stderr).trim()),
        }
    }

    fn mask(&self, text: &str) -> String {
        self.masks
            .iter()
            .fold(text.to_string(), |text, secret| text.replace(secret, MASK))
    }
}
