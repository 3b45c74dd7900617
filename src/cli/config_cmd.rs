//! `raibid config show|path|check [--json]`.

use std::path::Path;

use serde::Serialize;

use super::{ConfigCommand, Context, Failure, Output};
use crate::config::Paths;

#[derive(Serialize)]
struct Located<'a> {
    config: &'a Path,
    data: &'a Path,
    log: &'a Path,
    themes: &'a Path,
}

pub fn path(config_override: Option<&Path>, output: Output) -> Result<(), Failure> {
    let paths = Paths::resolve(config_override).map_err(Failure::bad_input)?;
    let located = Located {
        config: &paths.config_file,
        data: &paths.data_dir,
        log: &paths.log_file,
        themes: &paths.themes_dir,
    };
    output.print(&located, |located| {
        println!("config  {}", located.config.display());
        println!("data    {}", located.data.display());
        println!("log     {}", located.log.display());
        println!("themes  {}", located.themes.display());
    })
}

#[derive(Serialize)]
struct Checked<'a> {
    config: &'a Path,
    ok: bool,
}

/// `show` and `check`; loading the context already checked everything.
pub fn run(context: &Context, command: ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Show { output } => {
            let shown = crate::config::show(&context.config);
            if output.json {
                // The shown text, parsed back: the JSON masks exactly what the text masks.
                let table: toml::Table = shown.parse().map_err(Failure::failed)?;
                return super::output::print_json(&table);
            }
            print!("{shown}");
            Ok(())
        }
        ConfigCommand::Check { output } => {
            let checked = Checked {
                config: &context.paths.config_file,
                ok: true,
            };
            output.print(&checked, |checked| {
                println!("{}: ok", checked.config.display())
            })
        }
        ConfigCommand::Path { output } => path(Some(&context.paths.config_file), output),
    }
}
