//! `raibid image build`: the image every role runs from, made of a base image and this very
//! binary, pushed to a registry (`raibid up` does the same for the lab's own registry).

use std::time::Instant;

use crate::backend::image::{self, Credentials, Reference, Remote};

use super::{Context, Failure, Output};

/// Registry credentials for `--push`, when the registry wants them.
const USERNAME_ENV: &str = "RAIBID_REGISTRY_USERNAME";
const PASSWORD_ENV: &str = "RAIBID_REGISTRY_PASSWORD";

#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// Build this binary's image for this machine's platform and push it; prints the
    /// pushed reference (tag and digest). Credentials: RAIBID_REGISTRY_USERNAME and
    /// RAIBID_REGISTRY_PASSWORD.
    ///
    /// With --json, the reference, size and counts.
    Build(BuildArgs),
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The base image (default: `image.base`).
    #[arg(long, value_name = "REF")]
    base: Option<String>,
    /// The repository to push to, `host[:port]/name[:tag]`; the tag defaults to the
    /// version and the binary's hash.
    #[arg(long, value_name = "REF")]
    push: String,
    #[command(flatten)]
    output: Output,
}

pub async fn run(context: &Context, command: ImageCommand) -> Result<(), Failure> {
    let ImageCommand::Build(args) = command;
    let base = args.base.as_deref().unwrap_or(&context.config.image.base);
    let base = Reference::parse(base).map_err(Failure::bad_input)?;
    let target = Reference::parse(&args.push).map_err(Failure::bad_input)?;
    if target.digest.is_some() {
        return Err(Failure::bad_input(format!(
            "--push {}: a digest names what is already there; give a repository or a tag",
            args.push
        )));
    }
    let credentials = match (std::env::var(USERNAME_ENV), std::env::var(PASSWORD_ENV)) {
        (Ok(username), Ok(password)) => Some(Credentials { username, password }),
        (Err(_), Err(_)) => None,
        _ => {
            return Err(Failure::bad_input(format!(
                "set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither"
            )));
        }
    };
    let binary = std::env::current_exe()
        .map_err(|e| Failure::failed(format!("finding this binary: {e}")))?;
    let cache = image::lab::image_dir(&context.paths.data_dir).join("blobs");
    let started = Instant::now();
    let mut log = |line: String| eprintln!("{line}");
    let base = Remote {
        reference: base,
        credentials: None,
    };
    let pushed = image::build_and_push(
        &base,
        &binary,
        &Remote {
            reference: target,
            credentials,
        },
        &cache,
        &mut log,
    )
    .await
    .map_err(Failure::failed)?;
    let report = serde_json::json!({
        "reference": pushed.reference.to_string(),
        "tag": pushed.reference.tag,
        "digest": pushed.reference.digest,
        "size": pushed.size,
        "uploaded": pushed.uploaded,
        "pulled": pushed.pulled,
        "seconds": started.elapsed().as_secs_f64(),
    });
    args.output
        .print(&report, |_| println!("{}", pushed.reference))
}
