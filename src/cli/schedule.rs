//! `raibid schedule run daily|weekly|monthly [--date D]`: what the cluster's CronJobs (or a
//! plain cron) run. The period just completed is collected once; each configured kind is
//! written, checked, and published when its kind's policy (`publish.auto`) allows it and
//! the checker finds nothing. A draft that exists already is left as it is: a person may
//! have edited or approved it.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Context, Failure};
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
    let kinds = cadence.kinds(config);
    for &kind in &kinds {
        let prepared = pipeline::as_kind(collected.clone(), Some(kind), config);
        let written = write_and_publish(context, &store, &prepared, &collected.id, request.writer);
        if let Err(message) = written.await {
            tracing::error!(draft = %prepared.id, %message, "scheduled draft failed");
            eprintln!("{}\t{message}", prepared.id);
            failed.push(prepared.id);
        }
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

/// One kind of the run: written unless it exists, checked, published if its policy says
/// so. An auto-published draft left approved by a channel that failed is sent again.
async fn write_and_publish(
    context: &Context,
    store: &Arc<Store>,
    prepared: &Prepared,
    digest_id: &str,
    writer: WriterChoice,
) -> Result<(), String> {
    let config = &context.config;
    let id = &prepared.id;
    let auto = schedule::auto_publish(config, prepared.kind);
    let channels = if store.exists(id) {
        let state = store.load(id).map_err(|e| e.to_string())?.front.state;
        let missing = missing_channels(store, id, config, prepared.kind)?;
        let out = matches!(state, DraftState::Approved | DraftState::Published);
        if !(auto && out && !missing.is_empty()) {
            println!("{id}\texists ({}): left as it is", state.as_str());
            return Ok(());
        }
        println!(
            "{id}\texists ({}): publishing to the channels that lack it",
            state.as_str()
        );
        missing
    } else if write_checked(config, store, prepared, writer, auto).await? {
        Vec::new()
    } else {
        return Ok(());
    };
    // A post that links to the period's digest waits until the digest is out.
    if prepared.data.link.is_some() && !on_the_site(store, digest_id)? {
        println!("{id}\twaits: the digest it links to ({digest_id}) is not published yet");
        return Ok(());
    }
    let plan = delivery::plan(store, id, config, &channels).map_err(|e| e.to_string())?;
    super::publish::deliver_printing(context, &plan, Arc::clone(store), &format!("{id}\t")).await
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
) -> Result<bool, String> {
    let id = &prepared.id;
    // Nobody watches the tokens of a scheduled run.
    let (tokens, _unwatched) = mpsc::unbounded_channel();
    let composed = pipeline::compose(config, writer, prepared, &tokens)
        .await
        .map_err(|e| e.to_string())?;
    let Some(composed) = composed else {
        println!(
            "{id}\tno commits in {}: no draft written",
            prepared.data.period.label
        );
        return Ok(false);
    };
    for notice in &composed.notices {
        eprintln!("note: {id}: {notice}");
    }
    pipeline::save(store, prepared, &composed).map_err(|e| e.to_string())?;
    let findings = &composed.findings;
    tracing::info!(draft = %id, writer = %composed.front.writer, findings = findings.len(), "draft written");
    println!(
        "{id}\twritten by {}, {} findings",
        composed.front.writer,
        findings.len()
    );
    if !auto {
        println!("{id}\twaits for a person to approve it");
        return Ok(false);
    }
    // The approval rule a person follows, never forced: findings keep the draft for them.
    match approval::approve(store, id, false, &Rules::of(config)) {
        Ok(_) => Ok(true),
        Err(ApproveError::Findings { .. }) => {
            println!("{id}\tnot published: the checker found something (raibid drafts check {id})");
            Ok(false)
        }
        Err(e) => Err(e.to_string()),
    }
}
