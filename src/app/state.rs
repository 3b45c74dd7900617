//! The console's state: owned by the app loop, read by the views.

use jiff::Timestamp;

use crate::backend::cluster::Component;

use super::keymap::Keymap;
use crate::views::ci::CiState;
use crate::views::cluster::ClusterState;
use crate::views::digests::{DigestsState, Editor, PublishFlow};
use crate::views::mirrors::MirrorsState;

/// The views that Tab and the digit keys switch between, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViewId {
    Digests,
    Activity,
    Pool,
    Jobs,
    Cluster,
    Mirrors,
}

impl ViewId {
    pub const ALL: [ViewId; 6] = [
        ViewId::Digests,
        ViewId::Activity,
        ViewId::Pool,
        ViewId::Jobs,
        ViewId::Cluster,
        ViewId::Mirrors,
    ];

    pub fn title(self) -> &'static str {
        crate::views::view(self).title
    }
}

/// What has the keyboard besides the current view.
#[derive(Debug, Default)]
pub enum Mode {
    #[default]
    Normal,
    Help,
    Palette(String),
    Filter(String),
    Confirm(Confirm),
    Editing(Box<Editor>),
    Publishing(Box<PublishFlow>),
}

/// A destructive action waiting for `y`.
#[derive(Debug)]
pub struct Confirm {
    pub question: String,
    pub on_yes: Pending,
}

#[derive(Debug)]
pub enum Pending {
    /// Approving a draft the checker found something in.
    Approve(String),
    Reject(String),
    Regenerate(String),
    /// Closing an editor with unsaved edits; `n` returns to it.
    DiscardEdits(Box<Editor>),
    RecoverEdits,
    CancelJob(String),
    RetryJob(String),
    Trigger,
    ScaleDown,
    /// Bring up these components in order; `force` re-applies what is already in place.
    ClusterUp {
        components: Vec<Component>,
        force: bool,
    },
    /// Remove these components, keeping their data volumes.
    ClusterDown(Vec<Component>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub level: Level,
    pub text: String,
}

/// A backend job the console is waiting for; the spinner turns only while one runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// Which job: its end is found by this, never by its label.
    pub key: BusyKey,
    /// What the status bar shows while it runs.
    pub label: String,
    pub since: Timestamp,
}

/// The jobs the console waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusyKey {
    /// A digest being written.
    Writing,
    /// A draft being published.
    Publishing,
    /// A cluster bring-up or removal.
    ClusterRun,
    /// A mirror's sync.
    MirrorSync,
}

impl State {
    /// Turns the spinner while `key`'s job runs, showing `label`.
    pub fn start_busy(&mut self, key: BusyKey, label: impl Into<String>) {
        let (label, since) = (label.into(), self.now);
        self.busy.push(Busy { key, label, since });
    }

    pub fn is_busy(&self, key: BusyKey) -> bool {
        self.busy.iter().any(|b| b.key == key)
    }

    /// One of `key`'s jobs is over (two digests may be written at once).
    pub fn end_busy(&mut self, key: BusyKey) {
        if let Some(at) = self.busy.iter().position(|b| b.key == key) {
            self.busy.remove(at);
        }
    }
}

pub struct State {
    pub view: ViewId,
    pub mode: Mode,
    pub keymap: Keymap,
    pub theme: String,
    /// Every theme `t` cycles through, in order.
    pub theme_names: Vec<String>,
    /// The injected clock: set by the loop, fixed in tests.
    pub now: Timestamp,
    pub status: Option<Status>,
    pub busy: Vec<Busy>,
    pub spinner: usize,
    pub digests: DigestsState,
    pub ci: CiState,
    pub cluster: ClusterState,
    pub mirrors: MirrorsState,
    pub quit: bool,
}

impl State {
    /// A state in UTC whose selected period is the current week; see [`State::in_time_zone`].
    pub fn new(keymap: Keymap, theme: String, theme_names: Vec<String>, now: Timestamp) -> State {
        State {
            view: ViewId::Digests,
            mode: Mode::Normal,
            keymap,
            theme,
            theme_names,
            now,
            status: None,
            busy: Vec::new(),
            spinner: 0,
            digests: DigestsState::new(now, jiff::tz::TimeZone::UTC),
            ci: CiState::default(),
            cluster: ClusterState::default(),
            mirrors: MirrorsState::default(),
            quit: false,
        }
    }

    /// The state with periods cut in `time_zone`, the current week selected.
    pub fn in_time_zone(mut self, time_zone: jiff::tz::TimeZone) -> State {
        self.digests = DigestsState::new(self.now, time_zone);
        self
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            level: Level::Info,
            text: text.into(),
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            level: Level::Warn,
            text: text.into(),
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            level: Level::Error,
            text: text.into(),
        });
    }
}

/// How a view's backend is reached: each view connects the first time it is shown.
/// `Up` holds what it reached, if the view names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Connection<To = String> {
    /// The view was never shown.
    #[default]
    NotYet,
    Connecting,
    Up(To),
    /// Why the backend cannot be reached.
    Down(String),
}

impl<To> Connection<To> {
    /// Connecting again unless up: what a view does on being shown or refreshed.
    pub fn reconnect(&mut self) {
        if !matches!(self, Connection::Up(_)) {
            *self = Connection::Connecting;
        }
    }
}
