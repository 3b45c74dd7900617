//! `raibid schedule run daily|weekly|monthly [--date D]`: what the cluster's CronJobs (or a
//! plain cron) run. The period just completed is collected once; each configured kind is
//! written, checked, and published when its kind's policy (`publish.auto`) allows it and
//! the checker finds nothing. A draft that exists already is left as it is: a person may
//! have edited or approved it.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;

use super::publish::Sent;
use super::{Context, Failure, Output};
use crate::backend::sparky::approval::{self, ApproveError};
use crate::backend::sparky::channels::ChannelName;
use crate::backend::sparky::checker::Rules;
use crate::backend::sparky::delivery;
use crate::backend::sparky::model::{DraftKind, DraftState};
use crate::backend::sparky::period;
use crate::backend::sparky::pipeline::{
    self, DigestRequest, PeriodSpec, Prepared, Source, Sources, WriterChoice,
};
use crate::backend::sparky::schedule::{self, Cadence};
use crate::backend::sparky::store::Store;
use crate::config::Config;

pub async fn run(
    context: &Context,
    cadence: Cadence,
    date: Option<jiff::civil::Date>,
    output: Output,
) -> Result<(), Failure> {
    let config = &context.config;
    let tz = period::time_zone(&config.sparky.time_zone).map_err(Failure::bad_input)?;
    let period = match date {
        Some(date) => cadence.containing(date, &tz),
        None => cadence.last_completed(jiff::Timestamp::now(), &tz),
    };
    let source = Source::from_config(&config.sparky.source);
    let github = match source.uses_github() {
        true => Some(
            pipeline::github_client(config, &context.paths.data_dir, None)
                .map_err(Failure::bad_input)?,
        ),
        false => None,
    };
    let sources = github.as_ref().map_or(Sources::Local, |g| source.with(g));
    let request = DigestRequest {
        period: PeriodSpec::Exact(period),
        repos: Vec::new(),
        writer: WriterChoice::from_config(&config.sparky.writer),
        kind: None,
    };
    let collected = pipeline::prepare_from(
        config,
        &context.dirs(),
        &request,
        sources,
        jiff::Timestamp::now(),
    )
    .await
    .map_err(Failure::failed)?;
    for warning in &collected.warnings {
        eprintln!("warning: {warning}");
    }
    tracing::info!(?cadence, period = %collected.data.period.label, "scheduled run");
    let store = Arc::new(context.store()?);
    let mut failed = Vec::new();
    let mut drafts = Vec::new();
    let kinds = cadence.kinds(config);
    for &kind in &kinds {
        let prepared = pipeline::as_kind(collected.clone(), Some(kind), config);
        let mut report = Scheduled::new(&prepared.id, output);
        let written = write_and_publish(
            context,
            &store,
            &prepared,
            &collected.id,
            request.writer,
            &mut report,
        );
        if let Err(message) = written.await {
            tracing::error!(draft = %prepared.id, %message, "scheduled draft failed");
            eprintln!("{}\t{message}", prepared.id);
            report.outcome = "failed";
            report.error = Some(message);
            failed.push(prepared.id);
        }
        drafts.push(report);
    }
    if output.json {
        super::output::print_json(&serde_json::json!({
            "period": collected.data.period.label,
            "drafts": drafts,
        }))?;
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "{} of {} scheduled drafts failed: {}",
            failed.len(),
            kinds.len(),
            failed.join(", ")
        )))
    }
}

/// What became of one draft of the run, as `--json` reports it; each step is also said as
/// a line (without `--json`).
#[derive(Debug, Serialize)]
struct Scheduled {
    id: String,
    /// `exists` (left as it is), `empty` (no commits), `awaits_approval`, `held` (the
    /// checker found something), `waits_for_digest`, `published` or `failed`.
    outcome: &'static str,
    /// The state of a draft that existed before the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    writer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    channels: Vec<Sent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    output: Output,
}

impl Scheduled {
    fn new(id: &str, output: Output) -> Scheduled {
        Scheduled {
            id: id.to_owned(),
            outcome: "failed",
            state: None,
            writer: None,
            findings: None,
            channels: Vec::new(),
            error: None,
            output,
        }
    }

    /// Records the outcome so far, and says it as the line `{id}\t{line}`.
    fn says(&mut self, outcome: &'static str, line: impl std::fmt::Display) {
        self.outcome = outcome;
        self.output.line(format_args!("{}\t{line}", self.id));
    }
}

/// One kind of the run: written unless it exists, checked, published if its policy says
/// so. An auto-published draft left approved by a channel that failed is sent again.
async fn write_and_publish(
    context: &Context,
    store: &Arc<Store>,
    prepared: &Prepared,
    digest_id: &str,
    writer: WriterChoice,
    report: &mut Scheduled,
) -> Result<(), String> {
    let config = &context.config;
    let id = &prepared.id;
    let auto = schedule::auto_publish(config, prepared.kind);
    let channels = if store.exists(id) {
        let state = store.load(id).map_err(|e| e.to_string())?.front.state;
        let missing = missing_channels(store, id, config, prepared.kind)?;
        let out = matches!(state, DraftState::Approved | DraftState::Published);
        report.state = Some(state.as_str());
        if !(auto && out && !missing.is_empty()) {
            report.says(
                "exists",
                format_args!("exists ({}): left as it is", state.as_str()),
            );
            return Ok(());
        }
        report.output.line(format_args!(
            "{id}\texists ({}): publishing to the channels that lack it",
            state.as_str()
        ));
        missing
    } else if write_checked(config, store, prepared, writer, auto, report).await? {
        Vec::new()
    } else {
        return Ok(());
    };
    // A post that links to the period's digest waits until the digest is out.
    if prepared.data.link.is_some() && !on_the_site(store, digest_id)? {
        report.says(
            "waits_for_digest",
            format_args!("waits: the digest it links to ({digest_id}) is not published yet"),
        );
        return Ok(());
    }
    let plan = delivery::plan(store, id, config, &channels).map_err(|e| e.to_string())?;
    let prefix = format!("{id}\t");
    let (sent, delivered) =
        super::publish::deliver_printing(context, &plan, Arc::clone(store), &prefix, report.output)
            .await;
    report.channels = sent;
    delivered?;
    report.outcome = "published";
    Ok(())
}

/// The channels configured for the draft's kind that have no publication of it yet.
fn missing_channels(
    store: &Store,
    id: &str,
    config: &Config,
    kind: DraftKind,
) -> Result<Vec<ChannelName>, String> {
    let recorded = store.publications(id).map_err(|e| e.to_string())?;
    Ok(delivery::configured_channels(config, kind)
        .into_iter()
        .filter(|c| !recorded.iter().any(|p| p.channel == *c))
        .collect())
}

/// Whether the draft is published on the docs site.
fn on_the_site(store: &Store, id: &str) -> Result<bool, String> {
    if !store.exists(id) {
        return Ok(false);
    }
    let recorded = store.publications(id).map_err(|e| e.to_string())?;
    Ok(recorded
        .iter()
        .any(|p| matches!(p.channel, ChannelName::Docs | ChannelName::DocsGithub)))
}

/// Writes, stores and checks the draft; approves it ([`approval::approve`], unforced) when
/// it may go out on its own.
/// Whether it should be published now.
async fn write_checked(
    config: &Config,
    store: &Store,
    prepared: &Prepared,
    writer: WriterChoice,
    auto: bool,
    report: &mut Scheduled,
) -> Result<bool, String> {
    let id = &prepared.id;
    // Nobody watches the tokens of a scheduled run.
    let (tokens, _unwatched) = mpsc::unbounded_channel();
    let composed = pipeline::compose(config, writer, prepared, &tokens)
        .await
        .map_err(|e| e.to_string())?;
    let Some(composed) = composed else {
        report.says(
            "empty",
            format_args!(
                "no commits in {}: no draft written",
                prepared.data.period.label
            ),
        );
        return Ok(false);
    };
    for notice in &composed.notices {
        eprintln!("note: {id}: {notice}");
    }
    pipeline::save(store, prepared, &composed).map_err(|e| e.to_string())?;
    let findings = &composed.findings;
    tracing::info!(draft = %id, writer = %composed.front.writer, findings = findings.len(), "draft written");
    report.writer = Some(composed.front.writer.clone());
    report.findings = Some(findings.len());
    report.output.line(format_args!(
        "{id}\twritten by {}, {} findings",
        composed.front.writer,
        findings.len()
    ));
    if !auto {
        report.says("awaits_approval", "waits for a person to approve it");
        return Ok(false);
    }
    // The approval rule a person follows, never forced: findings keep the draft for them.
    match approval::approve(store, id, false, &Rules::of(config)) {
        Ok(_) => Ok(true),
        Err(ApproveError::Findings { .. }) => {
            report.says(
                "held",
                format_args!(
                    "not published: the checker found something (raibid drafts check {id})"
                ),
            );
            Ok(false)
        }
        Err(e) => Err(e.to_string()),
    }
}
