//! `raibid schedule run daily|weekly|monthly [--date D]`: what the cluster's CronJobs (or a
//! plain cron) run. The period just completed is collected once; each configured kind is
//! written, checked, and published when its kind's policy (`publish.auto`) allows it and
//! the checker finds nothing. A draft that exists already is left as it is: a person may
//! have edited or approved it.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Context, Failure};
use crate::backend::sparky::actor::describe;
use crate::backend::sparky::checker::{self, Rules};
use crate::backend::sparky::delivery::{self, Places};
use crate::backend::sparky::model::DraftState;
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
        &context.cwd,
        &request,
        sources,
        jiff::Timestamp::now(),
    )
    .await
    .map_err(Failure::failed)?;
    for warning in &collected.warnings {
        eprintln!("warning: {warning}");
    }
    let store = Arc::new(context.store()?);
    let mut failed = Vec::new();
    let kinds = cadence.kinds(config);
    for &kind in &kinds {
        let prepared = pipeline::as_kind(collected.clone(), Some(kind), config);
        if let Err(message) = write_and_publish(context, &store, &prepared, request.writer).await {
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
    writer: WriterChoice,
) -> Result<(), String> {
    let config = &context.config;
    let id = &prepared.id;
    let auto = schedule::auto_publish(config, prepared.kind);
    if store.exists(id) {
        let state = store.load(id).map_err(|e| e.to_string())?.front.state;
        if !(auto && state == DraftState::Approved) {
            println!("{id}\texists ({}): left as it is", state.as_str());
            return Ok(());
        }
        println!("{id}\texists, approved: publishing it again");
    } else if !write_checked(config, store, prepared, writer, auto).await? {
        return Ok(());
    }
    let plan = delivery::plan(store, id, config, &[]).map_err(|e| e.to_string())?;
    let places = context.places();
    let places = Places {
        default_docs_dir: places.default_docs_dir,
        data_dir: places.data_dir,
    };
    let results = delivery::deliver(
        &plan,
        config,
        &places,
        Arc::clone(store),
        |channel, result| match result {
            Ok(delivery) => println!("{id}\t{}", describe(delivery)),
            Err(message) => eprintln!("{id}\t{channel}: {message}"),
        },
    )
    .await;
    if results.iter().any(|(_, r)| r.is_err()) {
        return Err(delivery::summary(&results));
    }
    Ok(())
}

/// Writes, stores and checks the draft; approves it when it may go out on its own.
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
    let rules = Rules {
        filler_phrases: &config.sparky.filler_phrases,
    };
    let findings = checker::check(&composed.body, prepared.kind, &prepared.data, &rules);
    println!(
        "{id}\twritten by {}, {} findings",
        composed.front.writer,
        findings.len()
    );
    if !auto {
        println!("{id}\twaits for a person to approve it");
        return Ok(false);
    }
    if !findings.is_empty() {
        println!("{id}\tnot published: the checker found something (raibid drafts check {id})");
        return Ok(false);
    }
    store
        .set_state(id, DraftState::Approved)
        .map_err(|e| e.to_string())?;
    Ok(true)
}
