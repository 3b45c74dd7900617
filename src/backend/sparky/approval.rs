//! Approving a draft: one rule for the console, the command line and a schedule. The draft
//! is checked against its data first; one the checker finds fault with is approved only
//! when forced (`raibid drafts approve --force`, the console's "approve anyway?").

use super::checker::{self, Finding, Rule, Rules};
use super::model::{DigestData, DraftState};
use super::store::{Draft, Store, StoreError};

/// A draft approved, with what the checker found in it: nothing, unless forced.
#[derive(Debug)]
pub struct Approved {
    pub findings: Vec<Finding>,
}

impl Approved {
    /// Whether it was approved despite findings.
    pub fn forced(&self) -> bool {
        !self.findings.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    /// The checker found something and approval was not forced: the draft is unchanged.
    #[error("{id}: not approved: the checker found {}", count(.findings.len()))]
    Findings { id: String, findings: Vec<Finding> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Approves draft `id` when the checker finds nothing in it, or when `force`d.
pub fn approve(
    store: &Store,
    id: &str,
    force: bool,
    rules: &Rules,
) -> Result<Approved, ApproveError> {
    let draft = store.load(id)?;
    let findings = findings(&draft, store.data(id).as_ref(), rules);
    if !findings.is_empty() && !force {
        return Err(ApproveError::Findings {
            id: id.to_owned(),
            findings,
        });
    }
    store.set_state(id, DraftState::Approved)?;
    Ok(Approved { findings })
}

/// What the checker finds in `draft` against its data; a draft whose data cannot be read
/// has a finding saying so: it cannot be checked.
pub fn findings(
    draft: &Draft,
    data: Result<&DigestData, &StoreError>,
    rules: &Rules,
) -> Vec<Finding> {
    match data {
        Ok(data) => checker::check(&draft.body, draft.front.kind, data, rules),
        Err(e) => vec![Finding {
            rule: Rule::Data,
            line: 0,
            excerpt: String::new(),
            message: format!("cannot be checked: {e}"),
        }],
    }
}

/// "1 finding", "3 findings".
pub fn count(findings: usize) -> String {
    match findings {
        1 => "1 finding".to_owned(),
        n => format!("{n} findings"),
    }
}
