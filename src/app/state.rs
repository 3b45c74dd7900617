//! The console's state: owned by the app loop, read by the views.

use jiff::Timestamp;
use ratatui_textarea::TextArea;

use crate::backend::sparky::model::{DigestData, DraftState};
use crate::backend::sparky::store::DraftSummary;

use super::keymap::Keymap;

/// The views that Tab and the digit keys switch between, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewId {
    Digests,
    Activity,
}

impl ViewId {
    pub const ALL: [ViewId; 2] = [ViewId::Digests, ViewId::Activity];

    pub fn title(self) -> &'static str {
        match self {
            ViewId::Digests => "Digests",
            ViewId::Activity => "Activity",
        }
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
}

/// A destructive action waiting for `y`.
#[derive(Debug)]
pub struct Confirm {
    pub question: String,
    pub on_yes: Pending,
}

#[derive(Debug)]
pub enum Pending {
    Reject(String),
    Publish(String),
    Regenerate(String),
    /// Closing an editor with unsaved edits; `n` returns to it.
    DiscardEdits(Box<Editor>),
    RecoverEdits,
}

#[derive(Debug)]
pub struct Editor {
    pub id: String,
    pub textarea: TextArea<'static>,
    /// The body as last saved, to tell whether there is anything to lose.
    pub saved: String,
    /// When the last autosave to the recovery file happened (or the editor opened).
    pub autosaved: Timestamp,
}

impl Editor {
    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    pub fn is_dirty(&self) -> bool {
        self.text() != self.saved
    }
}

/// The draft shown in the preview, or the digest being written into it.
#[derive(Debug, Default)]
pub struct Preview {
    pub id: Option<String>,
    pub text: String,
    pub data: Option<Box<DigestData>>,
    pub scroll: u16,
    /// Tokens are arriving from a writer.
    pub streaming: bool,
    /// Autosaved edits of this draft left by an editor that did not close cleanly.
    pub recovery: Option<String>,
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
    pub label: String,
    pub since: Timestamp,
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
    pub drafts: Vec<DraftSummary>,
    /// Drafts that could not be read, each as a message naming the file.
    pub problems: Vec<String>,
    pub filter: String,
    /// Index into `visible_drafts()`.
    pub selected: usize,
    pub preview: Preview,
    pub status: Option<Status>,
    pub busy: Vec<Busy>,
    pub spinner: usize,
    pub quit: bool,
}

impl State {
    pub fn new(keymap: Keymap, theme: String, theme_names: Vec<String>, now: Timestamp) -> State {
        State {
            view: ViewId::Digests,
            mode: Mode::Normal,
            keymap,
            theme,
            theme_names,
            now,
            drafts: Vec::new(),
            problems: Vec::new(),
            filter: String::new(),
            selected: 0,
            preview: Preview::default(),
            status: None,
            busy: Vec::new(),
            spinner: 0,
            quit: false,
        }
    }

    /// The drafts that match the filter (case-insensitive, on id, title, state and kind).
    pub fn visible_drafts(&self) -> Vec<&DraftSummary> {
        let needle = self.filter.to_lowercase();
        self.drafts
            .iter()
            .filter(|d| {
                needle.is_empty()
                    || [
                        d.id.as_str(),
                        d.front.title.as_str(),
                        d.front.state.as_str(),
                        d.front.kind.as_str(),
                    ]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&needle))
            })
            .collect()
    }

    pub fn selected_draft(&self) -> Option<&DraftSummary> {
        self.visible_drafts().get(self.selected).copied()
    }

    pub fn selected_state(&self) -> Option<DraftState> {
        self.selected_draft().map(|d| d.front.state)
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
