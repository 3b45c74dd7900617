//! A job's workspace: `<workspace_root>/<agent>/<job id>`, a fresh clone detached at the
//! job's commit. The job comes over the queue, so its id, URL and sha are checked before
//! they reach a path or a command line.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::process::{self, Ending};
use crate::backend::queue::contract::{Job, JobState, LogStream};

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
    let url = Redacted::new(&job.clone_url);
    let git = Git {
        url: &url,
        log,
        deadline,
        cancel,
    };

    let mut clone = git.command(parent);
    // `--` keeps a URL that starts with `-` from being read as an option.
    clone
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
            .env("LC_ALL", "C");
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
                Stop::error(match reason {
                    Some(reason) => format!("`git {what}` failed with {code}: {}", reason.trim()),
                    None => format!("`git {what}` failed with {code}"),
                })
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

/// A clone URL as it may be shown: a password or token in it is replaced, in the URL and
/// in anything git prints.
struct Redacted {
    shown: String,
    secret: Option<String>,
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
        let Some((_, userinfo)) = userinfo else {
            return Redacted {
                shown: url.to_string(),
                secret: None,
            };
        };
        // `user:password@` hides the password; a lone `token@` is the token itself.
        let secret = userinfo
            .split_once(':')
            .map_or(userinfo, |(_, password)| password);
        if secret.is_empty() {
            return Redacted {
                shown: url.to_string(),
                secret: None,
            };
        }
        let secret = secret.to_string();
        Redacted {
            shown: url.replace(&secret, MASK),
            secret: Some(secret),
        }
    }

    fn mask(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) => text.replace(secret.as_str(), MASK),
            None => text.to_string(),
        }
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
}
