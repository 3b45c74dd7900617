//! `raibid config show|path|check`.

use std::path::Path;

use super::{ConfigCommand, Context, Failure};
use crate::config::Paths;

pub fn path(config_override: Option<&Path>) -> Result<(), Failure> {
    let paths = Paths::resolve(config_override).map_err(Failure::bad_input)?;
    println!("config  {}", paths.config_file.display());
    println!("data    {}", paths.data_dir.display());
    println!("log     {}", paths.log_file.display());
    println!("themes  {}", paths.themes_dir.display());
    Ok(())
}

/// `show` and `check`; loading the context already checked everything.
pub fn run(context: &Context, command: ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Show => print!("{}", crate::config::show(&context.config)),
        ConfigCommand::Check => println!("{}: ok", context.paths.config_file.display()),
        ConfigCommand::Path => return path(Some(&context.paths.config_file)),
    }
    Ok(())
}
