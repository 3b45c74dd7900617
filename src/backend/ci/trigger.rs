//! Manual jobs for a local repository: what `raibid jobs trigger` and the console's
//! trigger key queue.

use std::path::Path;
use std::process::Command;

use crate::backend::queue::contract::{Job, Trigger};
use crate::backend::queue::new_job_id;

/// A job for the repository containing `dir`, at its HEAD or at `git_ref`. The clone URL
/// is the repository's path, which any local agent can clone.
pub fn local_job(
    dir: &Path,
    git_ref: Option<&str>,
    name: Option<String>,
    requested_by: &str,
    timeout_secs: u64,
) -> Result<Job, String> {
    let top = git_output(dir, &["rev-parse", "--show-toplevel"])?;
    let rev = git_ref.unwrap_or("HEAD");
    let sha = git_output(
        dir,
        &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
    )?;
    let full_ref = match git_ref {
        Some(r) => git_output(dir, &["rev-parse", "--symbolic-full-name", r])
            .unwrap_or_else(|_| r.to_string()),
        None => git_output(dir, &["symbolic-ref", "-q", "HEAD"]).unwrap_or_else(|_| "HEAD".into()),
    };
    let repo = name.unwrap_or_else(|| {
        Path::new(&top)
            .file_name()
            .map_or_else(|| top.clone(), |n| n.to_string_lossy().into_owned())
    });
    Ok(Job {
        id: new_job_id(),
        repo,
        clone_url: top,
        git_ref: full_ref,
        sha,
        trigger: Trigger::Manual,
        requested_by: requested_by.to_string(),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
        timeout_secs,
    })
}

/// Who asked, for `requested_by`.
pub fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".into())
}

fn git_output(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}: git {}: {}",
            dir.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
