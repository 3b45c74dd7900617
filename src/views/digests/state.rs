//! What the Digests and Activity views hold.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui_textarea::TextArea;

use crate::backend::sparky::checker::Finding;
use crate::backend::sparky::delivery::Plan;
use crate::backend::sparky::model::{DigestData, DraftState, Period, PeriodKind};
use crate::backend::sparky::period;
use crate::backend::sparky::store::DraftSummary;
use crate::views::list::{FilteredList, Item};

/// Sparky's drafts, the one in the preview, and the period the digest action writes.
#[derive(Debug)]
pub struct DigestsState {
    /// Filtered on id, title, state and kind.
    pub drafts: FilteredList<DraftSummary>,
    /// Drafts that could not be read, each as a message naming the file.
    pub problems: Vec<String>,
    pub preview: Preview,
    /// The calendar period the digest action writes; `[` and `]` move it.
    pub period: Period,
    /// Sparky's time zone (`sparky.time_zone`): where periods are cut.
    pub time_zone: TimeZone,
}

impl DigestsState {
    /// Periods cut in `time_zone`, the week holding `now` selected.
    pub fn new(now: Timestamp, time_zone: TimeZone) -> DigestsState {
        let today = now.to_zoned(time_zone.clone()).date();
        DigestsState {
            drafts: FilteredList::default(),
            problems: Vec::new(),
            preview: Preview::default(),
            period: period::calendar(PeriodKind::Week, today, &time_zone),
            time_zone,
        }
    }

    /// The day `now` falls on in Sparky's time zone.
    pub fn today(&self, now: Timestamp) -> jiff::civil::Date {
        now.to_zoned(self.time_zone.clone()).date()
    }

    pub fn selected_state(&self) -> Option<DraftState> {
        self.drafts.selected_item().map(|d| d.front.state)
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
    /// What the checker found in the draft shown.
    pub findings: Vec<Finding>,
}

impl Item for DraftSummary {
    type Key = String;
    type Order = ();

    fn key(&self) -> String {
        self.id.clone()
    }

    fn matches(&self, needle: &str) -> bool {
        [
            self.id.as_str(),
            self.front.title.as_str(),
            self.front.state.as_str(),
            self.front.kind.as_str(),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(needle))
    }
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

/// Publishing a draft: choose channels, preview each rendering, confirm, watch results.
#[derive(Debug)]
pub struct PublishFlow {
    pub plan: Box<Plan>,
    /// Per rendering of the plan: whether it goes out.
    pub chosen: Vec<bool>,
    /// The rendering under the cursor (in the list, or shown in the preview).
    pub cursor: usize,
    pub scroll: u16,
    pub stage: PublishStage,
    /// Per rendering: its channel's answer once it came.
    pub results: Vec<Option<Result<String, String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishStage {
    Choose,
    Preview,
    /// Sent; results arrive one channel at a time.
    Sending,
    Done,
}

impl PublishFlow {
    pub fn new(plan: Box<Plan>) -> PublishFlow {
        let n = plan.renderings.len();
        PublishFlow {
            plan,
            chosen: vec![true; n],
            cursor: 0,
            scroll: 0,
            stage: PublishStage::Choose,
            results: vec![None; n],
        }
    }

    /// The indexes of the chosen renderings, in order.
    pub fn chosen_indexes(&self) -> Vec<usize> {
        (0..self.chosen.len()).filter(|&i| self.chosen[i]).collect()
    }
}
