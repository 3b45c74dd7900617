//! `raibid schedule run` as cron runs it: the real binary on a real repository, each
//! configured kind written and checked, the auto-published kind sent to a local Mastodon
//! fake, and a second run leaving everything as it is.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::git::{git, git_with};
use support::mastodon::{FakeMastodon, TOKEN};

const BIN: &str = env!("CARGO_BIN_EXE_raibid");

/// A repository with three commits by two people in 2026-W47.
fn repository(root: &Path) -> PathBuf {
    let repo = root.join("lab");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let commits = [
        ("Ann", "2026-11-17T09:00:00Z", "feat: two functions"),
        ("Bob", "2026-11-17T15:00:00Z", "fix: drop one"),
        ("Ann", "2026-11-19T11:00:00Z", "docs: explain the queue"),
    ];
    for (i, (who, when, subject)) in commits.into_iter().enumerate() {
        std::fs::write(repo.join("file.txt"), "line\n".repeat(i + 1)).unwrap();
        git(&repo, &["add", "."]);
        let email = format!("{}@example.org", who.to_lowercase());
        let identity = [
            ("GIT_AUTHOR_NAME", who),
            ("GIT_AUTHOR_EMAIL", email.as_str()),
            ("GIT_AUTHOR_DATE", when),
            ("GIT_COMMITTER_NAME", who),
            ("GIT_COMMITTER_EMAIL", email.as_str()),
            ("GIT_COMMITTER_DATE", when),
        ];
        git_with(&repo, &["commit", "-q", "-m", subject], &identity);
    }
    repo
}

fn run(root: &Path, repo: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(root.join("config.toml"))
        .args(args)
        .current_dir(repo)
        .env("XDG_CONFIG_HOME", root.join("home/config"))
        .env("XDG_DATA_HOME", root.join("home/data"))
        .env("TZ", "UTC")
        .env("RAIBID_MASTODON_TOKEN", TOKEN)
        .env_remove("RAIBID_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn state_of(root: &Path, id: &str) -> String {
    let draft = std::fs::read_to_string(root.join(format!("home/data/raibid/drafts/{id}.md")))
        .unwrap_or_else(|e| panic!("draft {id}: {e}"));
    let line = draft.lines().find(|l| l.starts_with("state: ")).unwrap();
    line["state: ".len()..].trim_matches('"').to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_weekly_run_writes_each_kind_and_publishes_only_what_its_policy_allows() {
    let mastodon = FakeMastodon::start().await;
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path());
    std::fs::write(
        root.path().join("config.toml"),
        format!(
            "[sparky]\nwriter = \"builtin\"\n\n[schedule]\nweekly = [\"weekly\", \"mastodon\"]\n\n\
             [publish]\nauto = [\"mastodon\"]\n\n[mastodon]\nurl = \"{}\"\n",
            mastodon.url()
        ),
    )
    .unwrap();

    let args = ["schedule", "run", "weekly", "--date", "2026-11-18"];
    let first = tokio::task::spawn_blocking({
        let (root, repo) = (root.path().to_path_buf(), repo.clone());
        move || run(&root, &repo, &args)
    })
    .await
    .unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("2026-W47-lab\twritten by builtin, 0 findings"),
        "{}",
        text(&first)
    );
    assert!(
        stdout.contains("2026-W47-lab\twaits for a person"),
        "{}",
        text(&first)
    );
    assert_eq!(
        state_of(root.path(), "2026-W47-lab"),
        "draft",
        "weekly is manual"
    );
    assert_eq!(state_of(root.path(), "2026-W47-lab-mastodon"), "published");
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1, "{}", text(&first));
    assert!(statuses[0].text.contains("3 commits"), "{:?}", statuses[0]);

    // Run again (cron retried): everything exists, nothing is posted twice.
    let second = tokio::task::spawn_blocking({
        let (root, repo) = (root.path().to_path_buf(), repo.clone());
        move || run(&root, &repo, &args)
    })
    .await
    .unwrap();
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("2026-W47-lab-mastodon\texists"),
        "{}",
        text(&second)
    );
    assert_eq!(mastodon.statuses().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_the_checker_faults_is_left_for_a_person_and_a_failed_channel_fails_the_run() {
    let mastodon = FakeMastodon::start().await;
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path());
    // "commits" as filler: every built-in post says it, so the checker always objects.
    std::fs::write(
        root.path().join("config.toml"),
        format!(
            "[sparky]\nwriter = \"builtin\"\nfiller_phrases = [\"commits\"]\n\n[schedule]\n\
             daily = [\"mastodon\"]\n\n[publish]\nauto = [\"mastodon\"]\n\n[mastodon]\nurl = \"{}\"\n",
            mastodon.url()
        ),
    )
    .unwrap();
    let faulted = tokio::task::spawn_blocking({
        let (root, repo) = (root.path().to_path_buf(), repo.clone());
        move || {
            run(
                &root,
                &repo,
                &["schedule", "run", "daily", "--date", "2026-11-17"],
            )
        }
    })
    .await
    .unwrap();
    assert!(faulted.status.success(), "{}", text(&faulted));
    assert!(
        String::from_utf8_lossy(&faulted.stdout)
            .contains("not published: the checker found something"),
        "{}",
        text(&faulted)
    );
    assert_eq!(state_of(root.path(), "2026-11-17-lab-mastodon"), "draft");
    assert!(mastodon.statuses().is_empty());

    // A clean draft whose channel refuses: the run says so and exits 1.
    std::fs::write(
        root.path().join("config.toml"),
        format!(
            "[sparky]\nwriter = \"builtin\"\n\n[schedule]\ndaily = [\"mastodon\"]\n\n\
             [publish]\nauto = [\"mastodon\"]\n\n[mastodon]\nurl = \"{}\"\n",
            mastodon.url()
        ),
    )
    .unwrap();
    mastodon.rate_limit(true);
    let limited = tokio::task::spawn_blocking({
        let (root, repo) = (root.path().to_path_buf(), repo.clone());
        move || {
            run(
                &root,
                &repo,
                &["schedule", "run", "daily", "--date", "2026-11-19"],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(limited.status.code(), Some(1), "{}", text(&limited));
    assert!(
        String::from_utf8_lossy(&limited.stderr).contains("rate limited"),
        "{}",
        text(&limited)
    );
    assert_eq!(state_of(root.path(), "2026-11-19-lab-mastodon"), "approved");
    assert!(mastodon.statuses().is_empty());
}
