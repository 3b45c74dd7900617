//! `raibid completions SHELL` and `raibid man`: generated from the command's own
//! definition, so they cannot drift from it.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Failure};

/// The completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "raibid", &mut std::io::stdout());
    Ok(())
}

/// The man page, raibid(1), as roff on stdout.
pub fn man() -> Result<(), Failure> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(Failure::failed)
}
