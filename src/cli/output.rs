//! How a command reports: lines for people, or with `--json` one JSON document on stdout.
//! Errors go to stderr either way, and the exit code is the same.

use serde::Serialize;

use super::Failure;

/// The `--json` flag every reporting command takes (flattened into its arguments).
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Output {
    /// Print the result as one JSON document on stdout instead of lines.
    #[arg(long)]
    pub json: bool,
}

impl Output {
    /// `report` as JSON with `--json`, else the lines `text` prints from it.
    pub fn print<T: Serialize>(self, report: &T, text: impl FnOnce(&T)) -> Result<(), Failure> {
        if self.json {
            print_json(report)
        } else {
            text(report);
            Ok(())
        }
    }

    /// Prints a line for people; with `--json` nothing (the document says it at the end).
    pub fn line(self, line: impl std::fmt::Display) {
        if !self.json {
            println!("{line}");
        }
    }
}

/// `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(Failure::failed)?;
    println!("{text}");
    Ok(())
}
