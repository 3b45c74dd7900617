//! `raibid drafts check ID [--json]`: a stored draft held against the data it was written
//! from. Exit 0 when clean, 1 with findings, 2 for an id that is bad or not in the store.

use serde::Serialize;

use super::{Context, Failure, Output};
use crate::backend::sparky::checker::{self, Finding, Rules};
use crate::backend::sparky::store::Store;

#[derive(Serialize)]
struct Report<'a> {
    id: &'a str,
    findings: &'a [Finding],
}

pub fn check(context: &Context, store: &Store, id: &str, output: Output) -> Result<(), Failure> {
    let draft = store.load(id).map_err(Failure::bad_input)?;
    let data = store.data(id).map_err(Failure::bad_input)?;
    let rules = Rules::of(&context.config);
    let findings = checker::check(&draft.body, draft.front.kind, &data, &rules);
    let report = Report {
        id,
        findings: &findings,
    };
    output.print(&report, |report| {
        if report.findings.is_empty() {
            println!("{id}: no findings");
        }
        for f in report.findings {
            println!("{id}:{f}");
        }
    })?;
    match findings.len() {
        0 => Ok(()),
        1 => Err(Failure::failed(format!("{id}: 1 finding"))),
        n => Err(Failure::failed(format!("{id}: {n} findings"))),
    }
}
