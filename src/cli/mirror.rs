//! `raibid mirror plan|sync|list` (being written).

use super::{Context, Failure, MirrorCommand};

pub async fn run(_context: &Context, _command: MirrorCommand) -> Result<(), Failure> {
    Err(Failure::failed("raibid mirror is being written"))
}
