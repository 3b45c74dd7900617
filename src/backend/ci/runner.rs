//! Runs one job, independent of the queue: clone the commit into a fresh workspace, run
//! the pipeline's steps in it (confined: see `sandbox`) with the repository's build caches,
//! stream every line to the log, enforce the step and job time limits and cancellation,
//! and remove the workspace and the job's home whatever happened.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cache::{self, CacheLock, RepoCache};
use super::process::{self, Ending};
use super::sandbox::{self, Confinement, Isolation, StepPaths};
use super::workspace::{self, CHECKOUT_STEP, GitAccess};
use crate::backend::queue::contract::{CacheReport, Job, JobState, LogStream, StepResult};
use crate::config::CiConfig;

/// How often a job waiting for its repository's cache tries the lock again.
const LOCK_RETRY: Duration = Duration::from_millis(250);

/// Where and how an agent runs its jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSettings {
    /// Workspaces live in `<workspace_root>/<agent>/<job id>`.
    pub workspace_root: PathBuf,
    pub agent: String,
    /// Each repository's cargo home and target dir, kept between jobs: see [`RepoCache`].
    pub cache_dir: PathBuf,
    /// sccache's local cache; `None`: no sccache.
    pub sccache_dir: Option<PathBuf>,
    pub step_timeout: Duration,
    /// The job's limit; a job's own `timeout_secs`, when lower, wins.
    pub job_timeout: Duration,
    /// The credential and URL rewrites git clones with.
    pub git_access: GitAccess,
    /// The sandbox and the user steps run in.
    pub isolation: Isolation,
}

/// One step of a pipeline: a shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The command's first two words, e.g. `cargo build`.
    pub name: String,
    pub command: String,
}

impl Step {
    pub fn new(command: &str) -> Step {
        let name = command
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        Step {
            name,
            command: command.to_string(),
        }
    }
}

/// The repository's pipeline from `ci.pipelines`, else `ci.steps`; blank commands skipped.
pub fn steps_for(repo: &str, ci: &CiConfig) -> Vec<Step> {
    let commands = ci.pipelines.get(repo).unwrap_or(&ci.steps);
    commands
        .iter()
        .filter(|command| !command.trim().is_empty())
        .map(|c| Step::new(c))
        .collect()
}

/// Log lines out of a run: (step name, stream, line).
pub type LogTx = mpsc::Sender<(String, LogStream, String)>;

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `Success`, `Failure`, `Cancelled`, `TimedOut` or `Error`.
    pub state: JobState,
    pub steps: Vec<StepResult>,
    /// Why, for anything but success.
    pub message: Option<String>,
    pub cache: CacheReport,
}

/// Runs `steps` for `job`. Never fails as such: every problem is an [`Outcome`].
pub async fn run(
    job: &Job,
    steps: &[Step],
    settings: &RunnerSettings,
    log: &LogTx,
    cancel: CancellationToken,
) -> Outcome {
    let job_limit = match job.timeout_secs {
        0 => settings.job_timeout,
        secs => settings.job_timeout.min(Duration::from_secs(secs)),
    };
    let deadline = process::deadline_after(job_limit);
    let dir = match workspace::job_dir(&settings.workspace_root, &settings.agent, &job.id) {
        Ok(dir) => dir,
        Err(message) => return Outcome::early(JobState::Error, message),
    };
    let run = Run {
        job: &job.id,
        settings,
        log,
        cancel: &cancel,
        deadline,
        job_limit,
    };
    let home = workspace::home_dir(&dir);
    let outcome = run.in_workspace(job, steps, &dir, &home).await;
    for (what, path) in [("workspace", &dir), ("job's home", &home)] {
        if let Err(error) = tokio::fs::remove_dir_all(path).await
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %path.display(), %error, "could not remove the {what}");
            run.system(
                CHECKOUT_STEP,
                format!("could not remove the {what}: {error}"),
            )
            .await;
        }
    }
    outcome
}

impl Outcome {
    /// Stopped before any step ran.
    fn early(state: JobState, message: String) -> Outcome {
        Outcome {
            state,
            steps: Vec::new(),
            message: Some(message),
            cache: CacheReport::default(),
        }
    }
}

struct Run<'a> {
    job: &'a str,
    settings: &'a RunnerSettings,
    log: &'a LogTx,
    cancel: &'a CancellationToken,
    deadline: Instant,
    job_limit: Duration,
}

/// How the pipeline stopped, before the cache report is added.
struct Verdict {
    state: JobState,
    message: String,
}

/// One step's result, whether the pipeline stops here, and the crates it compiled.
struct StepRun {
    result: StepResult,
    stop: Option<Verdict>,
    compiled: u64,
}

impl Run<'_> {
    async fn in_workspace(&self, job: &Job, steps: &[Step], dir: &Path, home: &Path) -> Outcome {
        // A redelivered job may find the workspace of an earlier, crashed attempt.
        for path in [dir, home] {
            if let Err(error) = tokio::fs::remove_dir_all(path).await
                && error.kind() != std::io::ErrorKind::NotFound
            {
                let message = format!("could not clear {}: {error}", path.display());
                return Outcome::early(JobState::Error, message);
            }
        }
        let confinement = match self.settings.isolation.confine().await {
            Ok(confinement) => confinement,
            Err(message) => return Outcome::early(JobState::Error, message),
        };
        if let Some(parent) = dir.parent()
            && let Err(error) = tokio::fs::create_dir_all(parent).await
        {
            let message = format!("could not create {}: {error}", parent.display());
            return Outcome::early(JobState::Error, message);
        }
        let cache = RepoCache::of(&self.settings.cache_dir, &job.repo);
        // Held from before the clone to the last step: see `cache`'s module comment.
        let _lock = match self.lock(&cache).await {
            Ok(lock) => lock,
            Err(stop) => return Outcome::early(stop.state, stop.message),
        };
        if let Err(stop) = workspace::checkout(
            job,
            dir,
            &self.settings.git_access,
            self.log,
            self.deadline,
            self.cancel,
        )
        .await
        {
            return Outcome::early(stop.state, stop.message);
        }

        let paths = match self.hand_over(&confinement, &cache, dir, home).await {
            Ok(paths) => paths,
            Err(message) => return Outcome::early(JobState::Error, message),
        };
        self.system(CHECKOUT_STEP, confinement.describe()).await;
        // sccache's server compiles for its clients outside any sandbox, as the agent.
        let sccache_dir = match self.settings.sccache_dir.as_deref() {
            Some(_) if confinement.isolates() => {
                let line = "sccache is not used: its server would compile outside the sandbox";
                self.system(CHECKOUT_STEP, line.into()).await;
                None
            }
            dir => dir,
        };
        // Read before the steps, which also starts sccache's server outside any step's
        // process group, where the end of a step would kill it.
        let before = match sccache_dir {
            Some(dir) => cache::sccache_counts(dir).await,
            None => None,
        };
        let warm = cache.is_warm().await;
        tracing::info!(job = self.job, cache = %cache.key, warm, "build cache");
        let mut env = sandbox::step_env(job, home);
        env.extend(
            cache
                .step_env(sccache_dir)
                .into_iter()
                .map(|(key, value)| (key.into(), value)),
        );

        let mut results = Vec::with_capacity(steps.len());
        let mut compiled = 0;
        let mut verdict = Verdict {
            state: JobState::Success,
            message: String::new(),
        };
        for step in steps {
            let run = self.step(step, &confinement, &paths, &env).await;
            results.push(run.result);
            compiled += run.compiled;
            if let Some(stop) = run.stop {
                verdict = stop;
                break;
            }
        }

        if let Err(error) = confinement.take_back(&paths.caches).await {
            tracing::warn!(job = self.job, cache = %cache.key, %error, "cache left to the step user");
            let line = format!("could not take the build cache back from the step user: {error}");
            self.system(CHECKOUT_STEP, line).await;
        }
        let build_ms: u64 = results.iter().map(|step| step.duration_ms).sum();
        let after = match (sccache_dir, before) {
            (Some(dir), Some(_)) => cache::sccache_counts(dir).await,
            _ => None,
        };
        let sccache = before.zip(after).map(|(before, after)| after.since(before));
        Outcome {
            message: (verdict.state != JobState::Success).then_some(verdict.message),
            state: verdict.state,
            steps: results,
            cache: CacheReport {
                build_secs: build_ms.div_ceil(1000),
                key: Some(cache.key),
                warm,
                compiled,
                sccache_hits: sccache.map(|counts| counts.hits),
                sccache_misses: sccache.map(|counts| counts.misses),
            },
        }
    }

    /// Creates what steps write and gives it to the step user.
    async fn hand_over(
        &self,
        confinement: &Confinement,
        cache: &RepoCache,
        dir: &Path,
        home: &Path,
    ) -> Result<StepPaths, String> {
        let caches = cache
            .dirs()
            .await
            .map_err(|error| format!("could not create the build cache {}: {error}", cache.key))?;
        tokio::fs::create_dir(home)
            .await
            .map_err(|error| format!("could not create {}: {error}", home.display()))?;
        let paths = StepPaths {
            workspace: dir.to_path_buf(),
            home: home.to_path_buf(),
            caches,
        };
        confinement
            .hand_over(&paths)
            .await
            .map_err(|error| format!("could not hand the workspace to the step user: {error}"))?;
        Ok(paths)
    }

    /// Waits for the repository's cache lock, saying so in the log, until the job is
    /// cancelled or out of time.
    async fn lock(&self, cache: &RepoCache) -> Result<CacheLock, Verdict> {
        let mut said = false;
        loop {
            match cache.try_lock() {
                Ok(Some(lock)) => return Ok(lock),
                Ok(None) if !said => {
                    said = true;
                    let line = "another job of this repository is building: waiting for its cache";
                    self.system(CHECKOUT_STEP, line.into()).await;
                }
                Ok(None) => {}
                Err(error) => {
                    return Err(Verdict {
                        state: JobState::Error,
                        message: format!("could not lock the build cache {}: {error}", cache.key),
                    });
                }
            }
            tokio::select! {
                () = self.cancel.cancelled() => return Err(Verdict {
                    state: JobState::Cancelled,
                    message: "cancelled while waiting for the build cache".into(),
                }),
                () = tokio::time::sleep_until(self.deadline) => return Err(Verdict {
                    state: JobState::TimedOut,
                    message: "the job's time limit passed while it waited for the build cache".into(),
                }),
                () = tokio::time::sleep(LOCK_RETRY) => {}
            }
        }
    }

    /// Runs one step.
    async fn step(
        &self,
        step: &Step,
        confinement: &Confinement,
        paths: &StepPaths,
        env: &[(OsString, OsString)],
    ) -> StepRun {
        tracing::info!(job = self.job, step = %step.name, "step started");
        self.system(&step.name, format!("$ {}", step.command)).await;
        let step_deadline = process::deadline_after(self.settings.step_timeout);
        let deadline = step_deadline.min(self.deadline);

        let command = confinement.command(&step.command, paths, env.to_vec());
        let (lines, mut received) = mpsc::channel::<(LogStream, String)>(256);
        let forward = async {
            let mut compiled = 0;
            while let Some((stream, line)) = received.recv().await {
                compiled += u64::from(cache::is_compiling_line(&line));
                let _ = self.log.send((step.name.clone(), stream, line)).await;
            }
            compiled
        };
        let started = Instant::now();
        let (ending, compiled) = tokio::join!(
            process::supervise(command, lines, deadline, self.cancel),
            forward
        );
        let elapsed = started.elapsed();
        let result = |exit_code| StepResult {
            name: step.name.clone(),
            command: step.command.clone(),
            exit_code,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        let finished = |result: StepResult, stop: Option<Verdict>| {
            tracing::info!(
                job = self.job,
                step = %step.name,
                exit = result.exit_code,
                ms = result.duration_ms,
                compiled,
                "step finished"
            );
            StepRun {
                result,
                stop,
                compiled,
            }
        };

        let ending = match ending {
            Ok(ending) => ending,
            Err(error) => {
                let message = format!("could not start step `{}`: {error}", step.name);
                self.system(&step.name, message.clone()).await;
                let stop = Verdict {
                    state: JobState::Error,
                    message,
                };
                return finished(result(None), Some(stop));
            }
        };
        let verdict = match ending {
            Ending::Exited(status) if status.success() => {
                self.system(&step.name, format!("exit 0 after {}", seconds(elapsed)))
                    .await;
                None
            }
            Ending::Exited(status) => {
                let code = ending.exit_code().unwrap_or(-1);
                let message = match std::os::unix::process::ExitStatusExt::signal(&status) {
                    Some(signal) => format!("step `{}` was killed by signal {signal}", step.name),
                    None => format!("step `{}` exited with {code}", step.name),
                };
                self.system(
                    &step.name,
                    format!("exit {code} after {}", seconds(elapsed)),
                )
                .await;
                Some(Verdict {
                    state: JobState::Failure,
                    message,
                })
            }
            Ending::TimedOut => {
                let (which, limit) = if step_deadline <= self.deadline {
                    ("step", self.settings.step_timeout)
                } else {
                    ("job", self.job_limit)
                };
                let message = format!(
                    "step `{}` hit the {which} time limit of {} and was killed",
                    step.name,
                    seconds(limit)
                );
                self.system(&step.name, message.clone()).await;
                Some(Verdict {
                    state: JobState::TimedOut,
                    message,
                })
            }
            Ending::Cancelled => {
                let message = format!("cancelled during step `{}`", step.name);
                self.system(&step.name, message.clone()).await;
                Some(Verdict {
                    state: JobState::Cancelled,
                    message,
                })
            }
        };
        finished(result(ending.exit_code()), verdict)
    }

    async fn system(&self, step: &str, line: String) {
        let _ = self
            .log
            .send((step.to_string(), LogStream::System, line))
            .await;
    }
}

/// `1.23 s`, `45 s`.
fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(10) {
        format!("{:.2} s", duration.as_secs_f64())
    } else {
        format!("{} s", duration.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_the_first_two_words() {
        assert_eq!(Step::new("cargo build --locked").name, "cargo build");
        assert_eq!(Step::new("  make  ").name, "make");
        assert_eq!(Step::new("sh -c 'sleep 1'").name, "sh -c");
    }

    #[test]
    fn pipelines_replace_the_default_steps() {
        let mut ci = CiConfig::default();
        ci.pipelines
            .insert("o/special".into(), vec!["just ci".into(), " ".into()]);
        let names = |repo| {
            steps_for(repo, &ci)
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("o/special"), ["just ci"]);
        assert_eq!(names("o/other"), ["cargo build", "cargo test"]);
    }
}
