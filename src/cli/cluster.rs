//! `raibid up`, `raibid status` and `raibid down`: the lab on k3s from the command line,
//! through the same `Lab` the console's Cluster view drives.

use std::path::Path;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::backend::cluster::connect::ConnectError;
use crate::backend::cluster::doctor::Check;
use crate::backend::cluster::lab::rendered;
use crate::backend::cluster::report::{Health, Outcome, Progress};
use crate::backend::cluster::{Component, Lab, StepFailed, doctor, k3s};
use crate::backend::queue::contract::QueueStats;
use crate::config::Config;

use super::{Context, Failure, Output};

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Say what each step would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write every manifest as YAML under DIR (one folder per component); change nothing.
    #[arg(long, value_name = "DIR", conflicts_with = "dry_run")]
    pub render: Option<std::path::PathBuf>,
    /// Only these components (repeatable): k3s, namespaces, redis, gitea, flux, keda, ci, sparky.
    #[arg(long = "only", value_name = "COMPONENT", value_parser = parse_component)]
    pub only: Vec<Component>,
    /// Apply even what the check finds in place.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Also delete data volumes, generated secrets and the namespaces.
    #[arg(long)]
    pub purge: bool,
    /// Only these components (repeatable).
    #[arg(long = "only", value_name = "COMPONENT", value_parser = parse_component)]
    pub only: Vec<Component>,
    #[command(flatten)]
    pub output: Output,
}

pub fn parse_component(text: &str) -> Result<Component, String> {
    Component::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Component::ALL.iter().map(|c| c.name()).collect();
        format!("unknown component `{text}`; one of {}", names.join(", "))
    })
}

fn chosen(only: &[Component]) -> Vec<Component> {
    if only.is_empty() {
        Component::ALL.to_vec()
    } else {
        only.to_vec()
    }
}

pub async fn up(context: &Context, args: UpArgs) -> Result<(), Failure> {
    let components = chosen(&args.only);
    if let Some(dir) = &args.render {
        // The image `up` last pushed for this binary, when any (empty: not pushed yet).
        let mut config = Config::clone(&context.config);
        config.cluster.image =
            crate::backend::image::lab::rendered_image(&config, &context.paths.data_dir);
        return render(&config, &components, dir, args.output);
    }
    let config = &context.config;
    let data_dir = &context.paths.data_dir;
    let output = args.output;
    if args.dry_run {
        return dry_run(config, data_dir, &components, output).await;
    }
    let installs_k3s = components.contains(&Component::K3s);
    output.line("==> preflight");
    let checks = doctor::before_up(config, data_dir, installs_k3s).await;
    if !output.json {
        super::doctor::print_table(&checks);
    }
    let preflight = super::doctor::verdict(&checks).map_err(|failed| {
        Failure::failed(format!(
            "{}; nothing was changed: fix them and run `raibid up` again",
            failed.message
        ))
    });
    if let Err(failure) = preflight {
        report_up(output, &checks, Vec::new())?;
        return Err(failure);
    }
    let (progress, printer) = printer(output);
    let result = async {
        let lab = if installs_k3s {
            k3s::connect_or_install(config, data_dir, &progress).await?
        } else {
            Lab::connect(config, data_dir)
                .await
                .map_err(|error| StepFailed {
                    component: components[0],
                    reason: error.to_string(),
                })?
        };
        lab.up(&components, args.force, &progress).await
    }
    .await;
    drop(progress);
    report_up(output, &checks, printer.await.unwrap_or_default())?;
    result.map_err(|failed| {
        Failure::failed(format!(
            "{failed}\nfix the cause and run `raibid up` again: it resumes where this run stopped"
        ))
    })
}

/// `up --json`: the preflight checks and each step, also when one failed.
fn report_up(output: Output, checks: &[Check], steps: Vec<Step>) -> Result<(), Failure> {
    #[derive(Serialize)]
    struct Up<'a> {
        checks: &'a [Check],
        steps: Vec<Step>,
    }
    if output.json {
        super::output::print_json(&Up { checks, steps })?;
    }
    Ok(())
}

/// What `up --dry-run` finds: no cluster yet, or what each step would do.
#[derive(Serialize)]
#[serde(tag = "cluster", rename_all = "snake_case")]
enum DryRun {
    Absent { reason: String, install: String },
    Present { steps: Vec<Planned> },
}

#[derive(Serialize)]
struct Planned {
    component: &'static str,
    plan: String,
}

/// Says what each step would do, reading only.
async fn dry_run(
    config: &Config,
    data_dir: &Path,
    components: &[Component],
    output: Output,
) -> Result<(), Failure> {
    let dry_run = match Lab::connect(config, data_dir).await {
        Ok(lab) => {
            let mut steps = Vec::new();
            for &component in components {
                let plan = lab.plan(component).await;
                steps.push(Planned {
                    component: component.name(),
                    plan,
                });
            }
            DryRun::Present { steps }
        }
        Err(error) if error.is_absent() && components.contains(&Component::K3s) => DryRun::Absent {
            reason: error.to_string(),
            install: config.cluster.k3s_install.clone(),
        },
        Err(error) => return Err(Failure::failed(error)),
    };
    output.print(&dry_run, |dry_run| match dry_run {
        DryRun::Absent { reason, install } => {
            println!("{reason}\nwould install k3s with: {install}\nthen bring up every component")
        }
        DryRun::Present { steps } => {
            for step in steps {
                println!("{:<11} {}", step.component, step.plan);
            }
        }
    })
}

pub async fn down(context: &Context, args: DownArgs) -> Result<(), Failure> {
    let lab = Lab::connect(&context.config, &context.paths.data_dir)
        .await
        .map_err(Failure::failed)?;
    let (progress, printer) = printer(args.output);
    let result = lab.down(&chosen(&args.only), args.purge, &progress).await;
    drop(progress);
    let steps = printer.await.unwrap_or_default();
    if args.output.json {
        super::output::print_json(&serde_json::json!({ "steps": steps }))?;
    }
    result.map_err(Failure::failed)
}

pub async fn status(context: &Context, output: Output) -> Result<(), Failure> {
    let lab = Lab::connect(&context.config, &context.paths.data_dir)
        .await
        .map_err(|error: ConnectError| Failure::failed(error))?;
    let status = lab.status().await;
    let queue = queue_summary(context).await;
    if output.json {
        let mut value = serde_json::to_value(&status).map_err(Failure::failed)?;
        value["queue"] = serde_json::to_value(&queue).map_err(Failure::failed)?;
        super::output::print_json(&value)?;
    } else {
        println!("{} ({})", status.server, status.version);
        for row in &status.components {
            let health = match row.health {
                Health::Ready => "ready",
                Health::Progressing => "progressing",
                Health::Missing => "missing",
                Health::Failed => "failed",
            };
            println!("{:<11} {:<12} {}", row.component.name(), health, row.detail);
        }
        for node in &status.nodes {
            println!("{}", node_line(node));
        }
        println!("{}", queue_line(&queue));
    }
    // The exit code judges the components only; the queue line informs (the host may not
    // reach a queue the lab's own pods reach fine).
    let all_ready = status.components.iter().all(|c| c.health == Health::Ready);
    if all_ready {
        Ok(())
    } else {
        Err(Failure::failed("not every component is ready"))
    }
}

/// The CI queue's numbers as `raibid status` shows them.
#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum QueueSummary {
    Read {
        /// Which queue: the lab's through a port-forward, or the URL without its password.
        queue: String,
        stats: QueueStats,
        agents: usize,
    },
    Unavailable {
        error: String,
    },
}

async fn queue_summary(context: &Context) -> QueueSummary {
    let read = async {
        let (endpoint, queue) = super::ci::connect(context).await?;
        Ok::<_, Failure>(QueueSummary::Read {
            queue: endpoint.shown().to_string(),
            stats: queue.stats().await.map_err(Failure::failed)?,
            agents: queue.agents().await.map_err(Failure::failed)?.len(),
        })
    };
    read.await
        .unwrap_or_else(|failure| QueueSummary::Unavailable {
            error: failure.message,
        })
}

fn queue_line(summary: &QueueSummary) -> String {
    match summary {
        QueueSummary::Read {
            queue,
            stats,
            agents,
        } => format!(
            "{:<11} {queue}: depth {} lag {} pending {} dead {}, {agents} agent(s)",
            "queue", stats.depth, stats.lag, stats.pending, stats.dead
        ),
        QueueSummary::Unavailable { error } => {
            format!("{:<11} {:<12} {error}", "queue", "unavailable")
        }
    }
}

fn node_line(node: &crate::backend::cluster::report::NodeUsage) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let cpu = node
        .cpu_used_millis
        .map_or("-".into(), |m| format!("{:.1}", m as f64 / 1000.0));
    let memory = node
        .memory_used_bytes
        .map_or("-".into(), |b| format!("{:.1}", b as f64 / GIB));
    format!(
        "node {} {}: cpu {cpu}/{:.0} cores, memory {memory}/{:.1} GiB, gpu {}/{}",
        node.name,
        if node.ready { "ready" } else { "not ready" },
        node.cpu_millis as f64 / 1000.0,
        node.memory_bytes as f64 / GIB,
        node.gpus_requested,
        node.gpus
    )
}

/// A step as `up --json` and `down --json` report it.
#[derive(Debug, Serialize)]
struct Step {
    component: &'static str,
    /// `in_place`, `applied`, `removed`, or `failed` with the reason.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    log: Vec<String>,
}

/// Prints progress lines as they come (with `--json`, keeps them as steps), and logs each
/// step's start and end; the task ends, returning the steps, when every sender is dropped.
fn printer(
    output: Output,
) -> (
    mpsc::UnboundedSender<Progress>,
    tokio::task::JoinHandle<Vec<Step>>,
) {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut steps = Vec::new();
        while let Some(progress) = receiver.recv().await {
            match progress {
                Progress::Started(c) => {
                    tracing::info!(component = c.name(), "step started");
                    output.line(format_args!("==> {}", c.title()));
                    step(&mut steps, c);
                }
                Progress::Log(c, line) => {
                    output.line(format_args!("    {line}"));
                    step(&mut steps, c).log.push(line);
                }
                Progress::Finished(c, outcome) => {
                    let (how, outcome) = match outcome {
                        Outcome::AlreadyDone => ("in place", "in_place"),
                        Outcome::Applied => ("applied and ready", "applied"),
                        Outcome::Removed => ("removed", "removed"),
                    };
                    tracing::info!(component = c.name(), outcome = how, "step finished");
                    output.line(format_args!("ok  {}: {how}", c.name()));
                    step(&mut steps, c).outcome = outcome;
                }
                Progress::Failed(c, reason) => {
                    tracing::error!(component = c.name(), %reason, "step failed");
                    eprintln!("FAILED {}: {reason}", c.name());
                    let failed = step(&mut steps, c);
                    failed.outcome = "failed";
                    failed.reason = Some(reason);
                }
            }
        }
        steps
    });
    (sender, task)
}

/// The step of `component`: the last one, or a new one when it just started.
fn step(steps: &mut Vec<Step>, component: Component) -> &mut Step {
    if steps
        .last()
        .is_none_or(|last| last.component != component.name())
    {
        steps.push(Step {
            component: component.name(),
            outcome: "started",
            reason: None,
            log: Vec::new(),
        });
    }
    steps.last_mut().expect("a step was just pushed")
}

/// Writes each component's manifests to `dir/<component>/`, each file through a temporary
/// name so an interrupted run leaves no half-written file.
fn render(
    config: &Config,
    components: &[Component],
    dir: &Path,
    output: Output,
) -> Result<(), Failure> {
    let mut files = Vec::new();
    for &component in components {
        let manifests = rendered(component, config);
        if manifests.is_empty() {
            continue;
        }
        let folder = dir.join(component.name());
        std::fs::create_dir_all(&folder)
            .map_err(|e| Failure::failed(format!("cannot create {}: {e}", folder.display())))?;
        for manifest in manifests {
            let path = folder.join(manifest.file_name());
            let partial = folder.join(format!(".{}.partial", manifest.file_name()));
            std::fs::write(&partial, manifest.to_yaml())
                .and_then(|()| std::fs::rename(&partial, &path))
                .map_err(|e| Failure::failed(format!("cannot write {}: {e}", path.display())))?;
            files.push(path);
        }
    }
    let rendered = serde_json::json!({ "dir": dir, "files": files });
    output.print(&rendered, |_| {
        println!("wrote {} manifests under {}", files.len(), dir.display())
    })
}
