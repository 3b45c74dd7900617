//! `raibid drafts publish ID [--channel C]... [--dry-run]`: a draft to its channels, each
//! result printed as it comes.

use std::sync::Arc;

use super::{Context, Failure};
use crate::backend::sparky::actor::describe;
use crate::backend::sparky::channels::ChannelName;
use crate::backend::sparky::delivery::{self, DeliveryError, Plan};
use crate::backend::sparky::store::{Store, StoreError};

pub async fn run(
    context: &Context,
    store: Store,
    id: &str,
    channels: &[ChannelName],
    dry_run: bool,
) -> Result<(), Failure> {
    let config = &context.config;
    let plan = delivery::plan(&store, id, config, channels).map_err(|e| match e {
        DeliveryError::NoChannels { .. }
        | DeliveryError::Unsuitable { .. }
        | DeliveryError::Store(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => {
            Failure::bad_input(e)
        }
        _ => Failure::failed(e),
    })?;
    if dry_run {
        print_plan(&plan);
        return Ok(());
    }
    deliver_printing(context, &plan, Arc::new(store), "")
        .await
        .map_err(Failure::failed)
}

/// Sends `plan` to its channels and prints each answer as it comes, after `prefix`; the
/// error is the summary when a channel failed.
pub(super) async fn deliver_printing(
    context: &Context,
    plan: &Plan,
    store: Arc<Store>,
    prefix: &str,
) -> Result<(), String> {
    let results = delivery::deliver(
        plan,
        &context.config,
        &context.places().delivery(),
        store,
        |channel, result| match result {
            Ok(delivery) => {
                let described = describe(delivery);
                tracing::info!(draft = %plan.id, %channel, "published: {described}");
                println!("{prefix}{described}");
            }
            Err(message) => {
                tracing::warn!(draft = %plan.id, %channel, %message, "not published");
                eprintln!("{prefix}{channel}: {message}");
            }
        },
    )
    .await;
    if results.iter().any(|(_, r)| r.is_err()) {
        return Err(delivery::summary(&results));
    }
    Ok(())
}

/// Each channel's rendering under a header line: the channel, the length of a social
/// post, and whether it updates an earlier publication.
fn print_plan(plan: &Plan) {
    for rendering in &plan.renderings {
        let mut header = format!("== {}", rendering.channel);
        if let Some(length) = &rendering.length {
            header.push_str(&format!(
                " ({}/{} {}{})",
                length.used,
                length.limit,
                length.unit.as_str(),
                if length.fits() { "" } else { ", too long" }
            ));
        }
        if let Some(previous) = &rendering.previous {
            header.push_str(&format!(" updates {}", previous.url));
        }
        println!("{header}");
        println!("{}", rendering.text.trim_end());
    }
}
