//! `raibid doctor [--json]`: the lab's checks as rows, then the fixes; exit 1 when one
//! fails. `raibid up` prints the same before it starts.

use crate::backend::cluster::doctor::{self, Check, Stage, examine, judge};

use super::{Context, Failure, Output};

pub async fn run(context: &Context, output: Output) -> Result<(), Failure> {
    let findings = examine(&context.config, &context.paths.data_dir, Stage::Doctor).await;
    let checks = judge(&findings, &context.config, Stage::Doctor);
    output.print(&checks, |checks| print_table(checks))?;
    verdict(&checks)
}

pub fn print_table(checks: &[Check]) {
    for line in doctor::lines(checks) {
        println!("{line}");
    }
}

/// Exit 1, naming the failed checks, when any failed.
pub fn verdict(checks: &[Check]) -> Result<(), Failure> {
    doctor::failed(checks).map_or(Ok(()), |failed| Err(Failure::failed(failed)))
}
