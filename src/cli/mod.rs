//! Command line: the console by default, or a headless command. Exit codes: 0 success,
//! 1 the command failed, 2 bad usage, config or input. A headless command whose output
//! is closed early ends quietly, killed by SIGPIPE (status 141 in a shell), as coreutils
//! do.

mod ci;
mod cluster;
mod color;
mod config_cmd;
mod context;
mod doctor;
mod drafts;
mod drafts_check;
mod image;
mod logging;
mod mirror;
mod output;
mod publish;
mod schedule;
mod shell;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::backend::sparky::channels::ChannelName;
use crate::backend::sparky::model::{DraftKind, PeriodKind};
use crate::backend::sparky::pipeline::WriterChoice;
use crate::backend::sparky::schedule::Cadence;

pub use color::ColorWhen;
pub use context::Context;
pub use output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "raibid",
    version,
    about = "Console of a self-hosted dev lab: CI agent pool, cluster and Sparky digests"
)]
pub struct Cli {
    /// Config file to use instead of <config dir>/raibid/config.toml (also RAIBID_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to colour help, errors and the console; `auto` honours NO_COLOR.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t)]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a digest of the repositories' activity as a draft.
    ///
    /// With --json, the draft's id, path and metrics.
    Digest(DigestArgs),
    /// List, show, approve, reject or publish drafts.
    #[command(subcommand)]
    Drafts(DraftsCommand),
    /// Show, locate or check the config.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The API server: webhooks in, jobs on the queue, the job API.
    Server {
        /// Address to listen on instead of `server.listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// A build agent: takes jobs from the queue and runs them.
    Agent {
        /// Take one job, run it, exit (for a KEDA ScaledJob); gives up after 60 s without one.
        #[arg(long)]
        once: bool,
        /// The agent's name in the queue (default: <hostname>-<pid>).
        #[arg(long, value_name = "NAME")]
        id: Option<String>,
    },
    /// Supervise a pool of local agents until stopped.
    Pool {
        /// How many agents (default: `ci.agents`).
        #[arg(long)]
        agents: Option<u32>,
    },
    /// List, show, follow, trigger, cancel or retry CI jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Bring the lab up on k3s, step by step; a rerun does only what is missing.
    Up(cluster::UpArgs),
    /// Each component's health and the nodes' CPU, memory and GPU use.
    Status {
        #[command(flatten)]
        output: Output,
    },
    /// Remove the lab's components in reverse order; data volumes stay unless --purge.
    Down(cluster::DownArgs),
    /// Check that this machine and its cluster can run the lab: each failure with its fix.
    /// Exit 0 when nothing fails, 1 when a check fails.
    ///
    /// With --json, an array of {name, status, detail, fix}.
    Doctor {
        #[command(flatten)]
        output: Output,
    },
    /// Mirror the GitHub organisation's repositories into Gitea.
    #[command(subcommand)]
    Mirror(MirrorCommand),
    /// Scheduled writing and publishing, as the cluster's CronJobs run it.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// The image every role runs from: this binary on a base image.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Print the completion script for a shell.
    ///
    /// For example `raibid completions bash >
    /// ~/.local/share/bash-completion/completions/raibid`.
    Completions { shell: clap_complete::Shell },
    /// Print the man page as roff.
    ///
    /// For example `raibid man > ~/.local/share/man/man1/raibid.1`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Write the drafts of the period just completed (`schedule.<cadence>` kinds), check
    /// them, and publish those whose kind is in `publish.auto` and that the checker passes.
    Run {
        cadence: Cadence,
        /// Write about the period containing this date instead (a missed run).
        #[arg(long)]
        date: Option<jiff::civil::Date>,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum MirrorCommand {
    /// What a sync would create in Gitea, and which mirrors no longer match the config.
    Plan {
        #[command(flatten)]
        output: Output,
    },
    /// Create the missing mirrors (and with --prune remove the unmatched ones); with REPO,
    /// sync that one mirror now.
    Sync {
        /// `owner/name` on GitHub, or the mirror's name in Gitea.
        repo: Option<String>,
        #[arg(long, conflicts_with = "repo")]
        prune: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Every mirror with its last sync; stale ones are marked.
    List {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first.
    List {
        #[arg(long, value_parser = ci::parse_state)]
        state: Option<crate::backend::queue::contract::JobState>,
        /// Only jobs of this repository (`owner/name`).
        #[arg(long)]
        repo: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        output: Output,
    },
    /// A job's status and steps.
    Show {
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// A job's log; `--follow` keeps printing until the job is over.
    Logs {
        id: String,
        #[arg(long, short)]
        follow: bool,
    },
    /// Queue a build of a local repository at HEAD (or --ref).
    Trigger {
        /// The repository (default: the current directory's).
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
        /// The job's repository name (default: the folder name).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Cancel a queued or running job.
    Cancel {
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Queue a finished job again as a new job.
    Retry {
        id: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// The calendar period containing --date (default: today).
    #[arg(long, value_enum, default_value = "week", conflicts_with_all = ["since", "until"])]
    pub period: PeriodArg,
    /// A day in the period, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<jiff::civil::Date>,
    /// Start of a custom range: YYYY-MM-DD (local midnight) or an RFC 3339 time.
    #[arg(long, requires = "until")]
    pub since: Option<String>,
    /// End of a custom range (exclusive).
    #[arg(long, requires = "since")]
    pub until: Option<String>,
    /// A repository to collect (repeatable); default: the config's, or the current one.
    #[arg(long = "repo", value_name = "PATH")]
    pub repos: Vec<PathBuf>,
    /// The writer; default: the config's `sparky.writer`.
    #[arg(long, value_enum)]
    pub writer: Option<WriterChoice>,
    /// Where the activity comes from; default: the config's `sparky.source`.
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    /// Write a post of the period instead of its digest: blog, mastodon, bluesky, linkedin
    /// or x (a digest kind must be the period's own).
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<DraftKind>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    Local,
    Github,
    Both,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
    Month,
}

impl From<PeriodArg> for PeriodKind {
    fn from(arg: PeriodArg) -> PeriodKind {
        match arg {
            PeriodArg::Day => PeriodKind::Day,
            PeriodArg::Week => PeriodKind::Week,
            PeriodArg::Month => PeriodKind::Month,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DraftsCommand {
    /// Every draft with its state, newest first.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Print a draft's Markdown file.
    ///
    /// With --json, its front matter, publications and body.
    Show {
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Approve a draft the checker finds nothing in. Exit 1 naming the findings, unless
    /// --force.
    Approve {
        id: String,
        /// Approve it even with findings.
        #[arg(long)]
        force: bool,
    },
    Reject {
        id: String,
    },
    /// Hold a draft against its data: numbers, names, links, length, sections, filler,
    /// and things told more than once. Exit 0 when clean, 1 with findings.
    Check {
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Publish an approved draft to its channels (`publish.channels`), or to those named.
    Publish {
        id: String,
        /// A channel to publish to instead of the configured ones (repeatable).
        #[arg(long = "channel", value_name = "CHANNEL")]
        channels: Vec<ChannelName>,
        /// Print what each channel would receive; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The effective config, secrets masked.
    Show {
        #[command(flatten)]
        output: Output,
    },
    /// Where the config, data and log files are.
    Path {
        #[command(flatten)]
        output: Output,
    },
    /// Check the config and exit 0, or print what is wrong and exit 2.
    Check {
        #[command(flatten)]
        output: Output,
    },
}

/// A failure and its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// The command could not do its work (exit 1).
    pub fn failed(message: impl std::fmt::Display) -> Failure {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }

    /// The input was wrong: config, arguments, files (exit 2).
    pub fn bad_input(message: impl std::fmt::Display) -> Failure {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
}

pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let color = ColorWhen::before_parsing(&args);
    let matches = Cli::command()
        .color(color.for_clap())
        .get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("raibid: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    if !cli.command.as_ref().is_none_or(Command::is_long_running) {
        end_quietly_when_output_closes();
    }
    let config_override = cli.config.as_deref();
    // Where the files are is worth knowing even when the config is broken; completions
    // and the man page need no config at all.
    let command = match cli.command {
        Some(Command::Config(ConfigCommand::Path { output })) => {
            return config_cmd::path(config_override, output);
        }
        Some(Command::Completions { shell }) => return shell::completions(shell),
        Some(Command::Man) => return shell::man(),
        command => command,
    };
    let context = Context::load(config_override)?;
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::failed)?;
    match command {
        None => console(&runtime, context, cli.color),
        Some(Command::Digest(args)) => runtime.block_on(drafts::digest(&context, args)),
        Some(Command::Drafts(command)) => runtime.block_on(drafts::run(&context, command)),
        Some(Command::Config(command)) => config_cmd::run(&context, command),
        Some(Command::Server { listen }) => runtime.block_on(ci::server(&context, listen)),
        Some(Command::Agent { once, id }) => runtime.block_on(ci::agent(&context, id, once)),
        Some(Command::Pool { agents }) => runtime.block_on(ci::pool(&context, agents)),
        Some(Command::Jobs(command)) => runtime.block_on(ci::jobs(&context, command)),
        Some(Command::Up(args)) => runtime.block_on(cluster::up(&context, args)),
        Some(Command::Status { output }) => runtime.block_on(cluster::status(&context, output)),
        Some(Command::Down(args)) => runtime.block_on(cluster::down(&context, args)),
        Some(Command::Doctor { output }) => runtime.block_on(doctor::run(&context, output)),
        Some(Command::Mirror(command)) => runtime.block_on(mirror::run(&context, command)),
        Some(Command::Image(command)) => runtime.block_on(image::run(&context, command)),
        Some(Command::Schedule(ScheduleCommand::Run {
            cadence,
            date,
            output,
        })) => runtime.block_on(schedule::run(&context, cadence, date, output)),
        Some(Command::Completions { .. } | Command::Man) => unreachable!("answered above"),
    }
}

impl Command {
    /// The roles that run until stopped (the console too, with no command).
    fn is_long_running(&self) -> bool {
        matches!(
            self,
            Command::Server { .. } | Command::Agent { .. } | Command::Pool { .. }
        )
    }
}

/// A one-shot command whose output is closed (`raibid digest --json | head -c 10`) ends
/// at its next write, killed by SIGPIPE without a word, as coreutils do (the shell shows
/// status 141). Rust ignores SIGPIPE, which would make that write panic instead. The
/// long-running roles keep ignoring it: a peer closing a socket is an error they handle.
fn end_quietly_when_output_closes() {
    // SAFETY: restores a signal's default disposition; no handler is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn console(
    runtime: &tokio::runtime::Runtime,
    mut context: Context,
    color: ColorWhen,
) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Failure::bad_input(
            "the console needs a terminal (TTY). Headless commands: raibid digest, raibid drafts list|show|check|approve|reject|publish, raibid jobs list|show|logs|trigger|cancel|retry, raibid server, raibid agent, raibid pool, raibid up|status|down|doctor, raibid mirror plan|sync|list, raibid schedule run daily|weekly|monthly, raibid image build, raibid config show|path|check, raibid completions SHELL, raibid man (see raibid --help)",
        ));
    }
    if !color.colors(std::env::var_os("NO_COLOR")) {
        context.themes = context.themes.without_color();
    }
    // The choice is made here, in the theme: crossterm's own NO_COLOR handling would also
    // reset bold and reversed text with every colour change.
    crossterm::style::force_color_output(true);
    let console = context.console()?;
    runtime
        .block_on(crate::app::run(console))
        .map_err(Failure::failed)
}
