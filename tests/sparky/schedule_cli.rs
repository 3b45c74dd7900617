//! `raibid schedule run` as cron runs it: the real binary on a real repository, each
//! configured kind written and checked, the auto-published kind sent to a local Mastodon
//! fake, and a second run leaving everything as it is.

use std::process::Output;

use support::cli::{Commit, Lab, TUESDAY, described, fails, ok};
use support::mastodon::{FakeMastodon, TOKEN};

/// Ann's commit on Thursday 2026-11-19, after [`TUESDAY`]'s: three commits by two people in
/// 2026-W47.
const THURSDAY: Commit = Commit {
    who: "Ann",
    when: "2026-11-19T11:00:00Z",
    file: "queue.md",
    text: "How the queue works.\n",
    subject: "docs: explain the queue",
};

/// A repository with the week's commits, and a config with the built-in writer (and
/// `sparky`, more of its settings), `schedule` and Mastodon published automatically.
fn lab(mastodon: &FakeMastodon, sparky: &str, schedule: &str) -> Lab {
    Lab::new(
        &config(mastodon, sparky, schedule),
        &[TUESDAY[0], TUESDAY[1], THURSDAY],
    )
}

fn config(mastodon: &FakeMastodon, sparky: &str, schedule: &str) -> String {
    format!(
        "[sparky]\nwriter = \"builtin\"\n{sparky}\n[schedule]\n{schedule}\n\n\
         [publish]\nauto = [\"mastodon\"]\n\n[mastodon]\nurl = \"{}\"\n",
        mastodon.url()
    )
}

/// Runs the binary off the async threads, so the fake Mastodon keeps serving it.
async fn raibid(lab: &Lab, args: &[&str]) -> Output {
    let mut command = lab.command(args);
    command.env("RAIBID_MASTODON_TOKEN", TOKEN);
    tokio::task::spawn_blocking(move || command.output().expect("raibid runs"))
        .await
        .expect("the run ends")
}

fn state_of(lab: &Lab, id: &str) -> String {
    let draft =
        std::fs::read_to_string(lab.draft(id)).unwrap_or_else(|e| panic!("draft {id}: {e}"));
    let line = draft.lines().find(|l| l.starts_with("state: ")).unwrap();
    line["state: ".len()..].trim_matches('"').to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_weekly_run_writes_each_kind_and_publishes_only_what_its_policy_allows() {
    let mastodon = FakeMastodon::start().await;
    let lab = lab(&mastodon, "", "weekly = [\"weekly\", \"mastodon\"]");

    let args = ["schedule", "run", "weekly", "--date", "2026-11-18"];
    let first = raibid(&lab, &args).await;
    let stdout = ok(&first);
    assert!(
        stdout.contains("2026-W47-lab\twritten by builtin, 0 findings"),
        "{}",
        described(&first)
    );
    assert!(
        stdout.contains("2026-W47-lab\twaits for a person"),
        "{}",
        described(&first)
    );
    assert_eq!(state_of(&lab, "2026-W47-lab"), "draft", "weekly is manual");
    assert_eq!(state_of(&lab, "2026-W47-lab-mastodon"), "published");
    // What the CronJob's `kubectl logs` shows: the run, each draft and each publication.
    let log = String::from_utf8_lossy(&first.stderr);
    for line in [
        "scheduled run",
        "draft written draft=2026-W47-lab ",
        "draft written draft=2026-W47-lab-mastodon ",
        "published: ",
    ] {
        assert!(log.contains(line), "{line}: {log}");
    }
    assert!(!log.contains(TOKEN), "the token stays out of the log");
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1, "{}", described(&first));
    assert!(statuses[0].text.contains("3 commits"), "{:?}", statuses[0]);

    // Run again (cron retried): everything exists, nothing is posted twice.
    let second = raibid(&lab, &args).await;
    assert!(
        ok(&second).contains("2026-W47-lab-mastodon\texists"),
        "{}",
        described(&second)
    );
    assert_eq!(mastodon.statuses().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_the_checker_faults_is_left_for_a_person_and_a_failed_channel_fails_the_run() {
    let mastodon = FakeMastodon::start().await;
    let daily = "daily = [\"mastodon\"]";
    // "commits" as filler: every built-in post says it, so the checker always objects.
    let lab = lab(&mastodon, "filler_phrases = [\"commits\"]\n", daily);
    let faulted = raibid(&lab, &["schedule", "run", "daily", "--date", "2026-11-17"]).await;
    assert!(
        ok(&faulted).contains("not published: the checker found something"),
        "{}",
        described(&faulted)
    );
    assert_eq!(state_of(&lab, "2026-11-17-lab-mastodon"), "draft");
    assert!(mastodon.statuses().is_empty());

    // A clean draft whose channel refuses: the run says so and exits 1.
    lab.write_config(&config(&mastodon, "", daily));
    mastodon.rate_limit(true);
    let limited = raibid(&lab, &["schedule", "run", "daily", "--date", "2026-11-19"]).await;
    assert!(
        fails(&limited, 1).contains("rate limited"),
        "{}",
        described(&limited)
    );
    assert_eq!(state_of(&lab, "2026-11-19-lab-mastodon"), "approved");
    assert!(mastodon.statuses().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_waits_for_the_digest_it_links_to_and_a_later_run_finishes_the_job() {
    let mastodon = FakeMastodon::start().await;
    let config = |docs_repo: &str| {
        format!(
            "[sparky]\nwriter = \"builtin\"\n\n[schedule]\nweekly = [\"mastodon\", \"weekly\"]\n\n\
             [publish]\nauto = [\"weekly\", \"mastodon\"]\nsite_url = \"https://docs.example\"\n\
             docs_repo = \"{docs_repo}\"\n\n[mastodon]\nurl = \"{}\"\n",
            mastodon.url()
        )
    };
    let lab = Lab::new(
        &config("/nonexistent/docs"),
        &[TUESDAY[0], TUESDAY[1], THURSDAY],
    );
    let args = ["schedule", "run", "weekly", "--date", "2026-11-18"];

    // The docs repository is missing: the digest fails, so the post that links to it waits.
    let first = raibid(&lab, &args).await;
    let stderr = fails(&first, 1);
    assert!(
        stderr.contains("/nonexistent/docs"),
        "{}",
        described(&first)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("2026-W47-lab-mastodon\twaits: the digest it links to (2026-W47-lab)"),
        "{}",
        described(&first)
    );
    assert_eq!(state_of(&lab, "2026-W47-lab"), "approved");
    assert_eq!(state_of(&lab, "2026-W47-lab-mastodon"), "approved");
    assert!(mastodon.statuses().is_empty());

    // Fixed: the next run publishes what is missing, the digest first, then the post.
    lab.write_config(&config(""));
    let second = raibid(&lab, &args).await;
    let stdout = ok(&second);
    assert!(
        stdout.contains("2026-W47-lab\tdocs published"),
        "{}",
        described(&second)
    );
    assert_eq!(state_of(&lab, "2026-W47-lab"), "published");
    assert_eq!(state_of(&lab, "2026-W47-lab-mastodon"), "published");
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    assert!(
        statuses[0]
            .text
            .contains("https://docs.example/blog/2026/11/week-2026-47"),
        "{:?}",
        statuses[0]
    );

    // Everything is out: a third run changes nothing.
    let third = raibid(&lab, &args).await;
    assert!(ok(&third).contains("2026-W47-lab-mastodon\texists (published): left as it is"));
    assert_eq!(mastodon.statuses().len(), 1);
}
