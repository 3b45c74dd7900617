//! `raibid digest` and `raibid drafts ...`: the console's code paths, printed.

use std::io::Write;

use serde::Serialize;
use tokio::sync::mpsc;

use super::output::print_json;
use super::{Context, DigestArgs, DraftsCommand, Failure, SourceArg};
use crate::backend::sparky::approval::{self, ApproveError};
use crate::backend::sparky::checker::Rules;
use crate::backend::sparky::model::{DraftKind, DraftState};
use crate::backend::sparky::pipeline::{
    self, DigestReport, DigestRequest, PeriodSpec, PipelineError, Source, Sources, WriterChoice,
};

pub async fn digest(context: &Context, args: DigestArgs) -> Result<(), Failure> {
    let source = match args.source {
        Some(SourceArg::Local) => Source::Local,
        Some(SourceArg::Github) => Source::Github,
        Some(SourceArg::Both) => Source::Both,
        None => Source::from_config(&context.config.sparky.source),
    };
    // GitHub alone collects what `[github]` selects: a local repository named with --repo
    // would be silently left out.
    if source == Source::Github && !args.repos.is_empty() {
        return Err(Failure::bad_input(if args.source.is_some() {
            "--repo names local repositories; it does not apply to --source github"
        } else {
            "--repo names local repositories; it does not apply to sparky.source = \"github\" (pass --source local or --source both)"
        }));
    }
    let period = match (args.since, args.until) {
        (Some(since), Some(until)) => PeriodSpec::Range { since, until },
        _ => PeriodSpec::Calendar {
            kind: args.period.into(),
            date: args.date,
        },
    };
    let kind = requested_kind(args.kind, &period)?;
    let request = DigestRequest {
        period,
        repos: args.repos,
        writer: args
            .writer
            .unwrap_or_else(|| WriterChoice::from_config(&context.config.sparky.writer)),
        kind,
    };
    let writer = request.writer;
    let github = if source.uses_github() {
        // Rate-limit waits are worth knowing while they last: printed as they come.
        let (notices, mut heard) = mpsc::unbounded_channel::<String>();
        let github =
            pipeline::github_client(&context.config, &context.paths.data_dir, Some(notices))
                .map_err(Failure::bad_input)?;
        tokio::spawn(async move {
            while let Some(notice) = heard.recv().await {
                eprintln!("note: {notice}");
            }
        });
        Some(github)
    } else {
        None
    };
    let sources = github.as_ref().map_or(Sources::Local, |g| source.with(g));
    let prepared = pipeline::prepare_from(
        &context.config,
        &context.dirs(),
        &request,
        sources,
        jiff::Timestamp::now(),
    )
    .await;
    let prepared = prepared.map_err(prepare_failure)?;
    for warning in &prepared.warnings {
        eprintln!("warning: {warning}");
    }

    // Without --json the model's tokens stream to stderr, so stdout stays the id and path.
    let (tokens, mut stream) = mpsc::unbounded_channel::<String>();
    let show_tokens = !args.output.json;
    let echo = tokio::spawn(async move {
        while let Some(token) = stream.recv().await {
            if show_tokens {
                let mut err = std::io::stderr();
                let _ = err.write_all(token.as_bytes());
                let _ = err.flush();
            }
        }
    });
    let composed = pipeline::compose(&context.config, writer, &prepared, &tokens).await;
    drop(tokens);
    let _ = echo.await;
    if show_tokens {
        eprintln!();
    }
    let composed = composed.map_err(Failure::failed)?;
    let path = match &composed {
        Some(composed) => {
            let store = context.store()?;
            let path = pipeline::save(&store, &prepared, composed).map_err(Failure::failed)?;
            tracing::info!(draft = %prepared.id, path = %path.display(), "digest written");
            Some(path)
        }
        None => None,
    };
    let notices = composed
        .as_ref()
        .map(|c| c.notices.clone())
        .unwrap_or_default();
    if args.output.json {
        let github_failures = prepared
            .data
            .metrics
            .github
            .iter()
            .flat_map(|g| &g.failures);
        let report = DigestReport {
            id: &prepared.id,
            path: path.as_deref(),
            period: &prepared.data.period,
            writer: composed.as_ref().map(|c| c.front.writer.as_str()),
            notices: &notices,
            metrics: &prepared.data.metrics,
            failures: prepared
                .data
                .failures
                .iter()
                .chain(github_failures)
                .collect(),
            usage: prepared.usage,
        };
        return print_json(&report);
    }
    for notice in &notices {
        eprintln!("note: {notice}");
    }
    match path {
        Some(path) => println!("{}\t{}", prepared.id, path.display()),
        None => println!(
            "{}\tno commits in {}: no draft written",
            prepared.id, prepared.data.period.label
        ),
    }
    Ok(())
}

/// What `--kind` asks for: a post, or `None` for the period's digest. A digest kind names
/// the digest of one kind of period: given with another period it means nothing.
fn requested_kind(
    kind: Option<DraftKind>,
    period: &PeriodSpec,
) -> Result<Option<DraftKind>, Failure> {
    let Some(digest) = kind.filter(|k| k.is_digest()) else {
        return Ok(kind);
    };
    let (own, period_arg) = match period {
        PeriodSpec::Calendar { kind, .. } => {
            let name = clap::ValueEnum::to_possible_value(kind)
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            (DraftKind::for_period(*kind), format!("--period {name}"))
        }
        _ => (DraftKind::Digest, "--since/--until".to_owned()),
    };
    if digest == own {
        return Ok(None);
    }
    Err(Failure::bad_input(format!(
        "--kind {} does not go with {period_arg}, whose digest is {}: leave --kind out for \
         the digest, or name a post (blog, mastodon, bluesky, linkedin, x)",
        digest.as_str(),
        own.as_str()
    )))
}

/// Repositories, periods and the config are the user's input: their faults are exit 2;
/// GitHub failing to answer, or no repository being readable, is exit 1.
fn prepare_failure(error: PipelineError) -> Failure {
    match &error {
        PipelineError::Task(_) | PipelineError::NothingRead(_) => Failure::failed(error),
        PipelineError::Github(github) if github.is_config_fault() => Failure::bad_input(error),
        PipelineError::Github(_) => Failure::failed(error),
        _ => Failure::bad_input(error),
    }
}

#[derive(Serialize)]
struct ListedDraft<'a> {
    id: &'a str,
    title: &'a str,
    date: &'a str,
    period: &'a str,
    kind: &'a str,
    state: &'a str,
    writer: &'a str,
    words: usize,
    path: &'a std::path::Path,
}

/// `drafts show --json`: the front matter as stored, the publications and the body.
#[derive(Serialize)]
struct ShownDraft<'a> {
    id: &'a str,
    #[serde(flatten)]
    front: &'a crate::backend::sparky::model::FrontMatter,
    publications: &'a [crate::backend::sparky::channels::Publication],
    body: &'a str,
}

pub async fn run(context: &Context, command: DraftsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        DraftsCommand::List { output } => {
            let listing = store.list().map_err(Failure::failed)?;
            for problem in &listing.problems {
                eprintln!("warning: {problem}");
            }
            if output.json {
                let rows: Vec<ListedDraft> = listing
                    .drafts
                    .iter()
                    .map(|d| ListedDraft {
                        id: &d.id,
                        title: &d.front.title,
                        date: &d.front.date,
                        period: &d.front.period,
                        kind: d.front.kind.as_str(),
                        state: d.front.state.as_str(),
                        writer: &d.front.writer,
                        words: d.words,
                        path: &d.path,
                    })
                    .collect();
                print_json(&rows)?;
            } else {
                for d in &listing.drafts {
                    println!(
                        "{:<32} {:<9} {:>5}w  {}",
                        d.id,
                        d.front.state.as_str(),
                        d.words,
                        d.front.title
                    );
                }
            }
        }
        DraftsCommand::Show { id, output } => {
            let draft = store.load(&id).map_err(Failure::bad_input)?;
            let front = &draft.front;
            let publications = store.publications(&id).map_err(Failure::failed)?;
            if output.json {
                return print_json(&ShownDraft {
                    id: &id,
                    front,
                    publications: &publications,
                    body: &draft.body,
                });
            }
            println!("# {}\n", front.title);
            println!(
                "state: {}  kind: {}  period: {}  writer: {}{}\n",
                front.state.as_str(),
                front.kind.as_str(),
                front.period,
                front.writer,
                front
                    .model
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
            for p in &publications {
                println!(
                    "published to {}: {} ({}, {})",
                    p.channel, p.url, p.remote_id, p.published_at
                );
            }
            if !publications.is_empty() {
                println!();
            }
            print!("{}", draft.body);
        }
        DraftsCommand::Check { id, output } => {
            super::drafts_check::check(context, &store, &id, output)?
        }
        DraftsCommand::Approve { id, force } => approve(context, &store, &id, force)?,
        DraftsCommand::Reject { id } => set_state(&store, &id, DraftState::Rejected)?,
        DraftsCommand::Publish {
            id,
            channels,
            dry_run,
            output,
        } => super::publish::run(context, store, &id, &channels, dry_run, output).await?,
    }
    Ok(())
}

/// `drafts approve ID [--force]`: the approval rule the console and schedules follow. The
/// findings go to stderr, whether they refuse the approval or were forced past.
fn approve(
    context: &Context,
    store: &crate::backend::sparky::store::Store,
    id: &str,
    force: bool,
) -> Result<(), Failure> {
    let approved = approval::approve(store, id, force, &Rules::of(&context.config));
    let findings = match &approved {
        Ok(approved) => approved.findings.as_slice(),
        Err(ApproveError::Findings { findings, .. }) => findings,
        Err(_) => &[],
    };
    for finding in findings {
        eprintln!("{id}:{finding}");
    }
    match approved {
        Ok(approved) if approved.forced() => println!(
            "{id}\tapproved, forced despite {}",
            approval::count(approved.findings.len())
        ),
        Ok(_) => println!("{id}\tapproved"),
        Err(refused @ ApproveError::Findings { .. }) => {
            return Err(Failure::failed(format!(
                "{refused}; fix the draft, or approve it anyway with --force"
            )));
        }
        Err(e) => return Err(Failure::failed(e)),
    }
    Ok(())
}

fn set_state(
    store: &crate::backend::sparky::store::Store,
    id: &str,
    state: DraftState,
) -> Result<(), Failure> {
    store.set_state(id, state).map_err(Failure::failed)?;
    println!("{id}\t{}", state.as_str());
    Ok(())
}
