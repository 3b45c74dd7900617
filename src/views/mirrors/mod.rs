//! The Mirrors view: one row per GitHub-to-Gitea mirror, a sync of the selected one.

mod draw;
mod state;
pub(crate) mod update;

pub use state::MirrorsState;

use super::{Filter, View};

pub(crate) const VIEW: View = View {
    title: "Mirrors",
    bindings: update::BINDINGS,
    draw: draw::draw,
    on_action: |state, _, action| update::on_action(state, action),
    refresh: update::refresh,
    watch: update::watch,
    filter: Some(Filter {
        current: |state| state.mirrors.mirrors.filter.clone(),
        set: |state, text| {
            state.mirrors.mirrors.set_filter(text);
            Vec::new()
        },
    }),
};
