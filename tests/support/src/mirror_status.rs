//! Mirrors as the Mirrors view's tests see them, against the fixed clock: fresh, stale
//! and never synced.

use raibid::backend::mirror::MirrorStatus;

fn ago(minutes: i64) -> jiff::Timestamp {
    super::now() - jiff::SignedDuration::from_secs(minutes * 60)
}

pub fn mirror(github: &str, last_sync: Option<jiff::Timestamp>, stale: bool) -> MirrorStatus {
    let name = github.split_once('/').map_or(github, |(_, name)| name);
    MirrorStatus {
        github: github.into(),
        gitea: format!("mirrors/{name}"),
        url: format!("http://127.0.0.1:30300/mirrors/{name}"),
        last_sync,
        stale,
    }
}

/// Five mirrors, two of them stale (one synced two days ago, one never).
pub fn mirrors() -> Vec<MirrorStatus> {
    vec![
        mirror("raibid-labs/raibid", Some(ago(3 * 60)), false),
        mirror("raibid-labs/docs", Some(ago(25)), false),
        mirror(
            "raibid-labs/sparky-prompts",
            Some(ago(2 * 24 * 60 + 90)),
            true,
        ),
        mirror(
            "raibid-labs/legacy-website-with-a-rather-long-name",
            None,
            true,
        ),
        mirror("other-org/tools", Some(ago(23 * 60)), false),
    ]
}
