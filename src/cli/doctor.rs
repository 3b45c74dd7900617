//! `raibid doctor [--json]`: the lab's checks as rows (✓ ok, ! warn, ✗ fail, - skipped),
//! then the fixes; exit 1 when one fails. `raibid up` prints the same before it starts.

use crate::backend::cluster::doctor::{Check, Stage, Verdict, examine, judge};

use super::{Context, Failure};

pub async fn run(context: &Context, json: bool) -> Result<(), Failure> {
    let findings = examine(&context.config, &context.paths.data_dir, Stage::Doctor).await;
    let checks = judge(&findings, &context.config, Stage::Doctor);
    if json {
        let text = serde_json::to_string_pretty(&checks).map_err(Failure::failed)?;
        println!("{text}");
    } else {
        print!("{}", table(&checks));
    }
    verdict(&checks)
}

/// One row per check, then each warning's and failure's fix.
pub fn table(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for check in checks {
        let mark = match check.status {
            Verdict::Ok => '✓',
            Verdict::Warn => '!',
            Verdict::Fail => '✗',
            Verdict::Skipped => '-',
        };
        text.push_str(&format!(
            "{mark} {:<width$}  {}\n",
            check.name, check.detail
        ));
    }
    let fixes: Vec<String> = checks
        .iter()
        .filter_map(|c| c.fix.as_ref().map(|fix| format!("  {}: {fix}\n", c.name)))
        .collect();
    if !fixes.is_empty() {
        text.push_str("\nTo fix:\n");
        text.extend(fixes);
    }
    text
}

/// A failure naming the failed checks, when any failed.
pub fn verdict(checks: &[Check]) -> Result<(), Failure> {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Verdict::Fail)
        .map(|c| c.name)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "{} check{} failed: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        )))
    }
}
