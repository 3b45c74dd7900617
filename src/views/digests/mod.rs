//! The Digests and Activity views: Sparky's drafts with the preview and the editor, the
//! numbers behind the draft shown, and the publish flow.

mod activity;
mod draw;
pub(crate) mod publish;
mod publish_popup;
mod state;
pub(crate) mod update;

pub(crate) use activity::draw as draw_activity;
pub(crate) use draw::draw;
pub(crate) use publish_popup::draw as draw_publish;
pub use state::{DigestsState, Editor, Preview, PublishFlow, PublishStage};
