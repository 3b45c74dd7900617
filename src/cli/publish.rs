//! `raibid drafts publish ID [--channel C]... [--dry-run]`: a draft to its channels, each
//! result printed as it comes.

use std::sync::Arc;

use super::{Context, Failure};
use crate::backend::sparky::actor::describe;
use crate::backend::sparky::channels::ChannelName;
use crate::backend::sparky::delivery::{self, DeliveryError, Plan};
use crate::backend::sparky::store::Store;

pub async fn run(
    context: &Context,
    store: Store,
    id: &str,
    channels: &[ChannelName],
    dry_run: bool,
) -> Result<(), Failure> {
    let config = &context.config;
    let plan = delivery::plan(&store, id, config, channels).map_err(|e| match e {
        DeliveryError::NoChannels { .. } | DeliveryError::Unsuitable { .. } => {
            Failure::bad_input(e)
        }
        _ => Failure::failed(e),
    })?;
    if dry_run {
        print_plan(&plan);
        return Ok(());
    }
    let places = context.places();
    let places = delivery::Places {
        default_docs_dir: places.default_docs_dir,
        data_dir: places.data_dir,
    };
    let results = delivery::deliver(
        &plan,
        config,
        &places,
        Arc::new(store),
        |channel, result| match result {
            Ok(delivery) => println!("{}", describe(delivery)),
            Err(message) => eprintln!("{channel}: {message}"),
        },
    )
    .await;
    if results.iter().any(|(_, r)| r.is_err()) {
        return Err(Failure::failed(delivery::summary(&results)));
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
