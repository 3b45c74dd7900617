//! A job's workspace: `<workspace_root>/<agent>/<job id>`, a fresh clone detached at the
//! job's commit. The job comes over the queue, so its id, URL and sha are checked before
//! they reach a path or a command line.
//!
//! Private repositories: [`GitAccess`] hands git the lab's read-only credential, read from
//! its file for each clone, through git's environment (`GIT_CONFIG_*`: an `Authorization`
//! header for Gitea's URLs only), never the URL, argv or a log line; the build steps run
//! without it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::process::{self, Ending};
use crate::backend::queue::contract::{Job, JobState, LogStream};
use crate::config::Config;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The step name of the agent's own lines about cloning.
pub const CHECKOUT_STEP: &str = "checkout";
/// git's last lines are the ones that say what went wrong.
const KEPT_LINES: usize = 50;

/// Why the workspace could not be made, as the job's final state and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub state: JobState,
    pub message: String,
}

impl Stop {
    fn error(message: String) -> Stop {
        Stop {
            state: JobState::Error,
            message,
        }
    }
}

/// How git reaches Gitea: the credential and the URLs it applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitAccess {
    /// A file holding `user:token` (`ci.clone_credentials_file`); `None`: no credential.
    pub credentials_file: Option<PathBuf>,
    /// Gitea as the agent reaches it (`gitea.url`); the credential is sent there only.
    pub gitea_url: String,
    /// The base URL Gitea writes into clone URLs (`gitea.public_url`), rewritten to
    /// `gitea_url`; empty: none.
    pub public_url: String,
}

impl GitAccess {
    pub fn of(config: &Config) -> GitAccess {
        let file = &config.ci.clone_credentials_file;
        GitAccess {
            credentials_file: (!file.as_os_str().is_empty()).then(|| file.clone()),
            gitea_url: config.gitea.url.trim().to_string(),
            public_url: config.gitea.public_url.trim().to_string(),
        }
    }

    /// git's config for one clone, and the token to mask; the credential is read now, so
    /// a rotated one is picked up.
    async fn config(&self) -> Result<(Vec<(String, String)>, Option<String>), Stop> {
        let gitea = base_url(&self.gitea_url);
        let mut config = Vec::new();
        if !self.public_url.is_empty() && !self.gitea_url.is_empty() {
            config.push((format!("url.{gitea}.insteadOf"), base_url(&self.public_url)));
        }
        let Some(file) = &self.credentials_file else {
            return Ok((config, None));
        };
        let unreadable = |why: String| {
            Stop::error(format!(
                "could not read the clone credential {}: {why}",
                file.display()
            ))
        };
        let text = tokio::fs::read_to_string(file)
            .await
            .map_err(|error| unreadable(error.to_string()))?;
        let (user, token) = text
            .trim()
            .split_once(':')
            .filter(|(user, token)| !user.is_empty() && !token.is_empty())
            .ok_or_else(|| unreadable("it does not hold `user:token`".into()))?;
        let header = BASE64.encode(format!("{user}:{token}").as_bytes());
        config.push((
            format!("http.{gitea}.extraHeader"),
            format!("Authorization: Basic {header}"),
        ));
        Ok((config, Some(token.to_string())))
    }

    fn refusal_hint(&self) -> String {
        match &self.credentials_file {
            Some(file) => format!(
                "Gitea refused the credential in {}: is its token valid and the user in the \
                 organisation's read-only team?",
                file.display()
            ),
            None => "the repository needs credentials: set ci.clone_credentials_file".into(),
        }
    }
}

/// `url` with exactly one trailing `/`, so that git matches it as a prefix of paths.
fn base_url(url: &str) -> String {
    format!("{}/", url.trim().trim_end_matches('/'))
}

/// `GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<n>` and `GIT_CONFIG_VALUE_<n>` for `config`.
fn config_env(config: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = vec![("GIT_CONFIG_COUNT".to_string(), config.len().to_string())];
    for (n, (key, value)) in config.iter().enumerate() {
        env.push((format!("GIT_CONFIG_KEY_{n}"), key.clone()));
        env.push((format!("GIT_CONFIG_VALUE_{n}"), value.clone()));
    }
    env
}

/// A line in which git says the server wanted (other) credentials.
fn is_auth_refusal(line: &str) -> bool {
    [
        "could not read Username",
        "Authentication failed",
        "returned error: 401",
        "returned error: 403",
    ]
    .iter()
    .any(|needle| line.contains(needle))
}

/// `<root>/<agent>/<job id>`, refusing names that would step outside the root.
pub fn job_dir(root: &Path, agent: &str, job_id: &str) -> Result<PathBuf, String> {
    for (what, name) in [("agent name", agent), ("job id", job_id)] {
        if !is_plain_name(name) {
            return Err(format!(
                "{what} {name:?} cannot name a directory (letters, digits, `.`, `_`, `-` only)"
            ));
        }
    }
    Ok(root.join(agent).join(job_id))
}

/// The job's own HOME beside its workspace: `<job dir>.home`.
pub fn home_dir(job_dir: &Path) -> PathBuf {
    let mut name = job_dir.as_os_str().to_owned();
    name.push(".home");
    PathBuf::from(name)
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Clones the job's repository into `dir` (which must not exist) and detaches at its sha,
/// fetching the sha when the clone does not have it. On failure git's output goes to `log`
/// as System lines and the message names what failed.
pub async fn checkout(
    job: &Job,
    dir: &Path,
    access: &GitAccess,
    log: &mpsc::Sender<(String, LogStream, String)>,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), Stop> {
    if !is_commit_sha(&job.sha) {
        return Err(Stop::error(format!("{:?} is not a commit sha", job.sha)));
    }
    let Some(parent) = dir.parent() else {
        return Err(Stop::error(format!(
            "{} has no parent directory",
            dir.display()
        )));
    };
    let (config, token) = access.config().await?;
    let mut url = Redacted::new(&job.clone_url);
    url.secrets.extend(token);
    let git = Git {
        url: &url,
        env: config_env(&config),
        refusal_hint: access.refusal_hint(),
        log,
        deadline,
        cancel,
    };

    let mut clone = git.command(parent);
    // `--` keeps a URL that starts with `-` from being read as an option.
    clone
        .env("GIT_ALLOW_PROTOCOL", job.git_protocols())
        .args(["clone", "--no-checkout", "--quiet", "--"])
        .arg(&job.clone_url)
        .arg(dir);
    git.run(clone, &format!("clone {}", url.shown)).await?;

    let mut has_commit = git.command(dir);
    has_commit.args(["cat-file", "-e", &format!("{}^{{commit}}", job.sha)]);
    if !git.exits_zero(has_commit, "cat-file").await? {
        let mut fetch = git.command(dir);
        fetch.args(["fetch", "--quiet", "origin", &job.sha]);
        git.run(fetch, &format!("fetch {}", job.sha)).await?;
    }

    let mut detach = git.command(dir);
    detach.args(["checkout", "--quiet", "--detach", &job.sha]);
    git.run(detach, &format!("checkout {}", job.sha)).await
}

/// 7 to 64 hex digits: short and full SHA-1 or SHA-256 ids, never an option or a ref.
fn is_commit_sha(sha: &str) -> bool {
    (7..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit())
}

struct Git<'a> {
    url: &'a Redacted,
    /// `GIT_CONFIG_*`: URL rewrites and the credential.
    env: Vec<(String, String)>,
    /// Added to a failure in which the server wanted credentials.
    refusal_hint: String,
    log: &'a mpsc::Sender<(String, LogStream, String)>,
    deadline: Instant,
    cancel: &'a CancellationToken,
}

impl Git<'_> {
    fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new("git");
        command
            .current_dir(dir)
            // A URL that wants credentials fails instead of waiting for a prompt.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .envs(self.env.iter().map(|(key, value)| (key, value)));
        command
    }

    /// Runs git; any ending but exit 0 stops the job.
    async fn run(&self, command: Command, what: &str) -> Result<(), Stop> {
        self.system(format!("$ git {what}")).await;
        let (ending, output) = self.output(command, what).await?;
        match ending {
            Ending::Exited(status) if status.success() => Ok(()),
            _ => {
                for line in &output {
                    self.system(line.clone()).await;
                }
                Err(self.stopped(ending, what, &output))
            }
        }
    }

    /// Runs a git query: whether it exited 0 (timeouts and cancels still stop the job).
    async fn exits_zero(&self, command: Command, what: &str) -> Result<bool, Stop> {
        let (ending, output) = self.output(command, what).await?;
        match ending {
            Ending::Exited(status) => Ok(status.success()),
            _ => Err(self.stopped(ending, what, &output)),
        }
    }

    async fn output(&self, command: Command, what: &str) -> Result<(Ending, Vec<String>), Stop> {
        let (lines, mut received) = mpsc::channel::<(LogStream, String)>(64);
        let collect = async {
            let mut kept = VecDeque::with_capacity(KEPT_LINES);
            while let Some((_, line)) = received.recv().await {
                if kept.len() == KEPT_LINES {
                    kept.pop_front();
                }
                kept.push_back(self.url.mask(&line));
            }
            Vec::from(kept)
        };
        let (ending, output) = tokio::join!(
            process::supervise(command, lines, self.deadline, self.cancel),
            collect
        );
        let ending =
            ending.map_err(|error| Stop::error(format!("could not run `git {what}`: {error}")))?;
        Ok((ending, output))
    }

    fn stopped(&self, ending: Ending, what: &str, output: &[String]) -> Stop {
        match ending {
            Ending::TimedOut => Stop {
                state: JobState::TimedOut,
                message: format!("`git {what}` did not finish within the job's time limit"),
            },
            Ending::Cancelled => Stop {
                state: JobState::Cancelled,
                message: format!("cancelled during `git {what}`"),
            },
            Ending::Exited(_) => {
                let code = ending
                    .exit_code()
                    .map_or_else(|| "?".into(), |code| code.to_string());
                let reason = output.iter().rev().find(|line| !line.trim().is_empty());
                let mut message = match reason {
                    Some(reason) => format!("`git {what}` failed with {code}: {}", reason.trim()),
                    None => format!("`git {what}` failed with {code}"),
                };
                if output.iter().any(|line| is_auth_refusal(line)) {
                    message = format!("{message} ({})", self.refusal_hint);
                }
                Stop::error(message)
            }
        }
    }

    async fn system(&self, line: String) {
        let _ = self
            .log
            .send((CHECKOUT_STEP.to_string(), LogStream::System, line))
            .await;
    }
}

/// A clone URL as it may be shown: a password or token in it, and any other secret
/// added, is replaced in the URL and in anything git prints.
struct Redacted {
    shown: String,
    secrets: Vec<String>,
}

const MASK: &str = "***";

impl Redacted {
    fn new(url: &str) -> Redacted {
        let userinfo = url.split_once("://").and_then(|(scheme, rest)| {
            let authority = rest.split('/').next().unwrap_or(rest);
            authority
                .rsplit_once('@')
                .map(|(userinfo, _)| (scheme, userinfo))
        });
        // `user:password@` hides the password; a lone `token@` is the token itself.
        let secret = userinfo
            .map(|(_, userinfo)| {
                userinfo
                    .split_once(':')
                    .map_or(userinfo, |(_, password)| password)
            })
            .filter(|secret| !secret.is_empty());
        let url = Redacted {
            shown: url.to_string(),
            secrets: secret.map(str::to_string).into_iter().collect(),
        };
        Redacted {
            shown: url.mask(&url.shown),
            ..url
        }
    }

    fn mask(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_string(), |text, secret| text.replace(secret, MASK))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_dir_refuses_paths() {
        let root = Path::new("/w");
        assert_eq!(
            job_dir(root, "a1", "job-1.2_x").unwrap(),
            Path::new("/w/a1/job-1.2_x")
        );
        for bad in ["", ".", "..", "../x", "a/b", "a b"] {
            assert!(job_dir(root, "a1", bad).is_err(), "{bad:?}");
            assert!(job_dir(root, bad, "j").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sha_must_be_hex() {
        assert!(is_commit_sha("0123abc"));
        assert!(is_commit_sha(&"f".repeat(40)));
        assert!(!is_commit_sha("--upload-pack=x"));
        assert!(!is_commit_sha("abc"));
        assert!(!is_commit_sha("main"));
    }

    #[test]
    fn redacts_credentials_in_urls() {
        let url = Redacted::new("https://ci:s3cret@gitea.local/o/r.git");
        assert_eq!(url.shown, "https://ci:***@gitea.local/o/r.git");
        assert_eq!(
            url.mask("fatal: https://ci:s3cret@gitea.local"),
            "fatal: https://ci:***@gitea.local"
        );
        let token = Redacted::new("https://tok3n@gitea.local/o/r");
        assert_eq!(token.shown, "https://***@gitea.local/o/r");
        let plain = Redacted::new("/srv/git/r.git");
        assert_eq!(plain.shown, "/srv/git/r.git");
        let at_in_path = Redacted::new("https://gitea.local/o/r@x");
        assert_eq!(at_in_path.shown, "https://gitea.local/o/r@x");
    }

    #[tokio::test]
    async fn the_credential_goes_to_gitea_only_through_gits_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(&file, "raibid-ci:t0ken\n").unwrap();
        let access = GitAccess {
            credentials_file: Some(file.clone()),
            gitea_url: "http://gitea-http.gitea.svc.cluster.local:3000".into(),
            public_url: "http://127.0.0.1:30300/".into(),
        };
        let (config, token) = access.config().await.unwrap();
        assert_eq!(token.as_deref(), Some("t0ken"));
        let header = format!("Authorization: Basic {}", BASE64.encode(b"raibid-ci:t0ken"));
        assert_eq!(
            config,
            [
                (
                    "url.http://gitea-http.gitea.svc.cluster.local:3000/.insteadOf".to_string(),
                    "http://127.0.0.1:30300/".to_string()
                ),
                (
                    "http.http://gitea-http.gitea.svc.cluster.local:3000/.extraHeader".to_string(),
                    header.clone()
                ),
            ]
        );
        let env = config_env(&config);
        assert_eq!(env[0], ("GIT_CONFIG_COUNT".into(), "2".into()));
        assert_eq!(env[4], ("GIT_CONFIG_VALUE_1".into(), header));

        std::fs::write(&file, "no colon").unwrap();
        let error = access.config().await.unwrap_err();
        assert!(
            error.message.contains("does not hold `user:token`"),
            "{error:?}"
        );
        let missing = GitAccess {
            credentials_file: Some(dir.path().join("absent")),
            ..access
        };
        let error = missing.config().await.unwrap_err();
        assert!(error.message.contains("absent"), "{error:?}");
    }
}
