//! What the Digests and Activity views hold.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::backend::sparky::checker::Finding;
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
