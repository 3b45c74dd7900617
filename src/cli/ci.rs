//! `raibid server`, `raibid agent`, `raibid pool` and `raibid jobs …`.

use std::io::IsTerminal;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Context, Failure, JobsCommand};
use crate::backend::ci::agent::{AgentOptions, run_agent};
use crate::backend::ci::endpoint::QueueEndpoint;
use crate::backend::ci::pool::{self, PoolEvent};
use crate::backend::ci::server;
use crate::backend::ci::trigger::{local_job, whoami};
use crate::backend::queue::contract::{JobRecord, JobState};
use crate::backend::queue::{CancelOutcome, JobFilter, Queue, mask_url};
use crate::views::text::{clean, head};

/// A token cancelled on SIGTERM, SIGINT or SIGHUP, so long-running roles stop cleanly.
fn shutdown_on_signals() -> Result<CancellationToken, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let token = CancellationToken::new();
    let mut term = signal(SignalKind::terminate()).map_err(Failure::failed)?;
    let mut int = signal(SignalKind::interrupt()).map_err(Failure::failed)?;
    let mut hup = signal(SignalKind::hangup()).map_err(Failure::failed)?;
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            _ = hup.recv() => {}
        }
        cancel.cancel();
    });
    Ok(token)
}

pub async fn server(
    context: &Context,
    listen: Option<std::net::SocketAddr>,
) -> Result<(), Failure> {
    let shutdown = shutdown_on_signals()?;
    server::serve(&context.config, listen, shutdown)
        .await
        .map_err(Failure::failed)
}

pub async fn agent(context: &Context, id: Option<String>, once: bool) -> Result<(), Failure> {
    let shutdown = shutdown_on_signals()?;
    let name = id.unwrap_or_else(default_agent_name);
    let options = AgentOptions {
        name,
        once,
        idle_exit: Duration::from_secs(60),
    };
    // How many jobs it ran is in its last log line.
    run_agent(&context.config, &context.paths.data_dir, options, shutdown)
        .await
        .map_err(Failure::failed)?;
    Ok(())
}

/// `<hostname>-<pid>`: unique among the agents of one machine and readable in the pool view.
fn default_agent_name() -> String {
    let host =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "agent".into());
    format!("{}-{}", host.trim(), std::process::id())
}

pub async fn pool(context: &Context, agents: Option<u32>) -> Result<(), Failure> {
    let shutdown = shutdown_on_signals()?;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let spec = context.pool_spec()?;
    let wanted = agents.unwrap_or(context.config.ci.agents);
    let (_commands, task) = pool::spawn(spec, wanted, events_tx, shutdown);
    // Logged like every role's events; a person at a terminal reads them there too.
    let on_terminal = std::io::stderr().is_terminal();
    while let Some(event) = events.recv().await {
        let (line, failed) = match event {
            PoolEvent::Started { name, pid } => (format!("started {name} (pid {pid})"), false),
            PoolEvent::Exited { name, code } => {
                (format!("{name} exited ({})", exit_text(code)), false)
            }
            PoolEvent::Failed { name, message } => {
                (format!("could not start {name}: {message}"), true)
            }
            PoolEvent::Size { .. } => continue,
        };
        if failed {
            tracing::warn!("{line}");
        } else {
            tracing::info!("{line}");
        }
        if on_terminal {
            eprintln!("{line}");
        }
    }
    task.await.map_err(Failure::failed)
}

fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(|| "killed by a signal".into(), |c| format!("code {c}"))
}

/// The queue `ci.redis_url` names, else the lab's (the endpoint keeps its port-forward open).
pub(super) async fn connect(context: &Context) -> Result<(QueueEndpoint, Queue), Failure> {
    let endpoint = QueueEndpoint::find(&context.config)
        .await
        .map_err(Failure::failed)?;
    let queue = endpoint
        .connect(&context.config.ci)
        .await
        .map_err(Failure::failed)?;
    Ok((endpoint, queue))
}

pub async fn jobs(context: &Context, command: JobsCommand) -> Result<(), Failure> {
    let (_endpoint, queue) = connect(context).await?;
    match command {
        JobsCommand::List {
            state,
            repo,
            limit,
            output,
        } => {
            let filter = JobFilter { state, repo };
            let records = queue
                .jobs(&filter, 0, limit)
                .await
                .map_err(Failure::failed)?;
            output.print(&records, |records| {
                for record in records {
                    println!("{}", job_line(record));
                }
            })?;
        }
        JobsCommand::Show { id, output } => {
            let record = queue.job(&id).await.map_err(Failure::failed)?;
            let record = record.ok_or_else(|| Failure::bad_input(format!("no job {id}")))?;
            output.print(&record, print_job)?;
        }
        JobsCommand::Logs { id, follow } => logs(&queue, &id, follow).await?,
        JobsCommand::Trigger {
            path,
            git_ref,
            name,
            output,
        } => {
            let dir = path.map_or_else(|| context.cwd.clone(), |p| context.cwd.join(p));
            let job = local_job(
                &dir,
                git_ref.as_deref(),
                name,
                &whoami(),
                context.config.ci.job_timeout_secs,
            )
            .map_err(Failure::bad_input)?;
            queue.enqueue(&job).await.map_err(Failure::failed)?;
            output.print(&job, |job| {
                println!("{}\tqueued\t{} {}", job.id, job.repo, head(&job.sha, 12))
            })?;
        }
        JobsCommand::Cancel { id, output } => {
            let outcome = queue.cancel(&id).await.map_err(Failure::failed)?;
            output.print(&Cancelled::new(&id, outcome), |_| match outcome {
                CancelOutcome::Cancelled => println!("{id}\tcancelled"),
                CancelOutcome::Requested => println!("{id}\tcancel requested: the agent stops it"),
                CancelOutcome::AlreadyFinal(state) => {
                    println!("{id}\talready {}", state.as_str())
                }
            })?;
        }
        JobsCommand::Retry { id, output } => {
            let job = queue.retry(&id, &whoami()).await.map_err(Failure::failed)?;
            output.print(&job, |job| {
                println!(
                    "{}\tqueued\tattempt {} of {}",
                    job.id, job.attempt, job.repo
                )
            })?;
        }
    }
    Ok(())
}

/// `jobs cancel --json`: `cancelled`, `requested` (the agent stops it) or `already_final`
/// with the job's state.
#[derive(Serialize)]
struct Cancelled<'a> {
    id: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
}

impl<'a> Cancelled<'a> {
    fn new(id: &'a str, outcome: CancelOutcome) -> Cancelled<'a> {
        let (outcome, state) = match outcome {
            CancelOutcome::Cancelled => ("cancelled", None),
            CancelOutcome::Requested => ("requested", None),
            CancelOutcome::AlreadyFinal(state) => ("already_final", Some(state.as_str())),
        };
        Cancelled { id, outcome, state }
    }
}

/// One line per job: id, state, repo, short sha, when.
pub fn job_line(record: &JobRecord) -> String {
    let job = &record.job;
    format!(
        "{}  {:<9}  {}  {}  {}",
        clean(&job.id),
        record.status.state.as_str(),
        clean(&job.repo),
        head(&job.sha, 7),
        job.created_at.strftime("%Y-%m-%d %H:%M:%S")
    )
}

fn print_job(record: &JobRecord) {
    let (job, status) = (&record.job, &record.status);
    println!("job       {}", clean(&job.id));
    println!("state     {}", status.state.as_str());
    println!(
        "repo      {} ({})",
        clean(&job.repo),
        clean(&mask_url(&job.clone_url))
    );
    println!("ref       {} @ {}", clean(&job.git_ref), clean(&job.sha));
    println!(
        "trigger   {:?} by {}, attempt {}",
        job.trigger, job.requested_by, job.attempt
    );
    if let Some(agent) = &status.agent {
        println!(
            "agent     {} (delivery {})",
            clean(agent),
            status.deliveries
        );
    }
    for step in &status.steps {
        let exit = step
            .exit_code
            .map_or_else(|| "killed".to_string(), |c| format!("exit {c}"));
        println!(
            "step      {:<24} {:<8} {:.1} s",
            clean(&step.name),
            exit,
            step.duration_ms as f64 / 1000.0
        );
    }
    if let Some(cache) = &status.cache {
        println!("cache     {}", cache.summary());
    }
    if let Some(message) = &status.message {
        println!("message   {}", clean(message));
    }
}

async fn logs(queue: &Queue, id: &str, follow: bool) -> Result<(), Failure> {
    let mut after: Option<String> = None;
    loop {
        let lines = if follow {
            queue
                .follow_logs(id, after.as_deref(), Duration::from_secs(2))
                .await
        } else {
            queue.logs(id, after.as_deref(), 1000).await
        }
        .map_err(Failure::failed)?;
        for line in &lines {
            println!("[{}] {}", clean(&line.step), clean(&line.line));
        }
        if let Some(last) = lines.last() {
            after = Some(last.entry.clone());
            continue;
        }
        if !follow {
            return Ok(());
        }
        // Nothing new: stop once the job is over and its log drained.
        let record = queue.job(id).await.map_err(Failure::failed)?;
        match record {
            None => return Err(Failure::bad_input(format!("no job {id}"))),
            Some(r) if r.status.state.is_final() => return Ok(()),
            Some(_) => {}
        }
    }
}

/// States accepted by `--state`.
pub fn parse_state(text: &str) -> Result<JobState, String> {
    [
        JobState::Queued,
        JobState::Running,
        JobState::Success,
        JobState::Failure,
        JobState::Cancelled,
        JobState::TimedOut,
        JobState::Error,
        JobState::Dead,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
    .ok_or_else(|| format!("`{text}` is not a job state"))
}
