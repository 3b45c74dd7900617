//! `raibid drafts publish ID [--channel C]... [--dry-run] [--json]`: a draft to its
//! channels, each result printed as it comes.

use std::sync::Arc;

use serde::Serialize;

use super::{Context, Failure, Output};
use crate::backend::sparky::actor::describe;
use crate::backend::sparky::channels::{ChannelName, Delivery, Publication};
use crate::backend::sparky::delivery::{self, DeliveryError, Plan, Rendering};
use crate::backend::sparky::store::{Store, StoreError};

pub async fn run(
    context: &Context,
    store: Store,
    id: &str,
    channels: &[ChannelName],
    dry_run: bool,
    output: Output,
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
        let renderings: Vec<Rendered> = plan.renderings.iter().map(Rendered::from).collect();
        return output.print(&renderings, |_| print_plan(&plan));
    }
    let (sent, failed) = deliver_printing(context, &plan, Arc::new(store), "", output).await;
    if output.json {
        super::output::print_json(&serde_json::json!({ "id": id, "channels": sent }))?;
    }
    failed.map_err(Failure::failed)
}

/// One channel's answer as `--json` reports it.
#[derive(Debug, Serialize)]
pub(super) struct Sent {
    channel: ChannelName,
    /// `published`, `updated`, `unchanged` or `failed`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    publication: Option<Publication>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Sent {
    fn new(channel: ChannelName, result: &Result<Delivery, String>) -> Sent {
        match result {
            Ok(delivery) => Sent {
                channel,
                outcome: delivery.verb(),
                publication: Some(delivery.publication().clone()),
                error: None,
            },
            Err(message) => Sent {
                channel,
                outcome: "failed",
                publication: None,
                error: Some(message.clone()),
            },
        }
    }
}

/// Sends `plan` to its channels and prints each answer as it comes, after `prefix` (with
/// `--json` the failures only, on stderr); the answers, and the summary when a channel
/// failed.
pub(super) async fn deliver_printing(
    context: &Context,
    plan: &Plan,
    store: Arc<Store>,
    prefix: &str,
    output: Output,
) -> (Vec<Sent>, Result<(), String>) {
    let results = delivery::deliver(
        plan,
        &context.config,
        &context.places().delivery(),
        store,
        |channel, result| match result {
            Ok(delivery) => {
                let described = describe(delivery);
                tracing::info!(draft = %plan.id, %channel, "published: {described}");
                output.line(format_args!("{prefix}{described}"));
            }
            Err(message) => {
                tracing::warn!(draft = %plan.id, %channel, %message, "not published");
                eprintln!("{prefix}{channel}: {message}");
            }
        },
    )
    .await;
    let sent = results.iter().map(|(c, r)| Sent::new(*c, r)).collect();
    if results.iter().any(|(_, r)| r.is_err()) {
        return (sent, Err(delivery::summary(&results)));
    }
    (sent, Ok(()))
}

/// What one channel would receive (`--dry-run --json`).
#[derive(Serialize)]
struct Rendered<'a> {
    channel: ChannelName,
    /// A social post's length against its network's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<Counted>,
    /// The URL of the earlier publication it updates.
    #[serde(skip_serializing_if = "Option::is_none")]
    updates: Option<&'a str>,
    text: &'a str,
}

#[derive(Serialize)]
struct Counted {
    used: usize,
    limit: usize,
    unit: &'static str,
    fits: bool,
}

impl<'a> From<&'a Rendering> for Rendered<'a> {
    fn from(rendering: &'a Rendering) -> Rendered<'a> {
        Rendered {
            channel: rendering.channel,
            length: rendering.length.map(|length| Counted {
                used: length.used,
                limit: length.limit,
                unit: length.unit.as_str(),
                fits: length.fits(),
            }),
            updates: rendering.previous.as_ref().map(|p| p.url.as_str()),
            text: &rendering.text,
        }
    }
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
