//! The Digests and Activity views: Sparky's drafts with the preview and the editor, the
//! numbers behind the draft shown, and the publish flow.

mod activity;
mod draw;
pub(crate) mod publish;
mod publish_popup;
mod state;
pub(crate) mod update;

pub(crate) use publish_popup::draw as draw_publish;
pub use state::{DigestsState, Editor, Preview, PublishFlow, PublishStage};

use super::{Filter, View, unwatched};

pub(crate) const DIGESTS: View = View {
    title: "Digests",
    bindings: update::BINDINGS,
    draw: draw::draw,
    on_action: update::on_action,
    refresh: update::refresh,
    watch: unwatched,
    filter: Some(Filter {
        current: |state| state.digests.drafts.filter.clone(),
        set: update::set_filter,
    }),
};

/// The draft's numbers, with the Digests view's keys.
pub(crate) const ACTIVITY: View = View {
    title: "Activity",
    draw: activity::draw,
    ..DIGESTS
};
