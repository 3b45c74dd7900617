//! Property tests: the readers of outside input never panic, whatever they are given.
//! Each runs 100,000 random inputs, built both from arbitrary text and from the pieces the
//! reader looks for (so most inputs get past the first check and reach the deep paths):
//! the webhook parser, the push-to-job mapping, the checker's claim parser (through
//! `checker::check`, which runs it on every line) and the drafts' front-matter reader
//! (through `Store::load`).

use jiff::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use raibid::backend::ci::server::push::{Forges, Push, PushedCommit, parse_push};
use raibid::backend::sparky::checker::{self, Rules};
use raibid::backend::sparky::model::{Activity, DigestData, DraftKind, RepoActivity};
use raibid::backend::sparky::store::Store;
use serde_json::json;

const CASES: u32 = 100_000;
/// Arbitrary text, newlines and control characters included, short enough that 100,000
/// cases of the slowest reader (the checker's) stay within seconds in a debug build.
const ANY_TEXT: &str = "(?s).{0,32}";

fn config() -> ProptestConfig {
    ProptestConfig {
        // Failures are shrunk, not saved: the inputs are printed with the failure.
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    }
}

/// Text that is either arbitrary or one of `pieces` with arbitrary text after it.
fn text_around(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        ANY_TEXT,
        (prop::sample::select(pieces), ANY_TEXT).prop_map(|(piece, tail)| {
            let mut text = piece.to_string();
            text.push_str(&tail);
            text
        }),
        prop::sample::select(pieces).prop_map(str::to_string),
    ]
}

const REFS: &[&str] = &[
    "refs/heads/main",
    "refs/heads/",
    "refs/tags/v1.0",
    "refs/pull/1/head",
    "refs/heads/a..b",
    "refs/heads/x\n",
    "refs/heads/\u{1b}[2J",
];
const URLS: &[&str] = &[
    "http://gitea.lab:3000/",
    "http://gitea.lab:3000/lab/raibid.git",
    "https://github.com/acme/",
    "file:///",
    "/srv/git/fixture",
    "fd::",
    "ext::",
];
const NAMES: &[&str] = &[
    "lab/raibid",
    "acme/web",
    "lab/fixture",
    "lab/../etc",
    "a/b/c",
];
const SHAS: &[&str] = &[
    "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e",
    "0000000000000000000000000000000000000000",
];

/// A push payload with each field present, missing, of another JSON type, or text.
fn payloads() -> impl Strategy<Value = Vec<u8>> {
    let field = |pieces: &'static [&'static str]| {
        prop_oneof![
            3 => text_around(pieces).prop_map(serde_json::Value::String),
            1 => Just(serde_json::Value::Null),
            1 => any::<i64>().prop_map(serde_json::Value::from),
        ]
    };
    let structured = (
        field(REFS),
        field(SHAS),
        field(NAMES),
        field(URLS),
        field(&["ann", "bob", ""]),
    )
        .prop_map(|(git_ref, after, name, url, pusher)| {
            json!({
                "ref": git_ref,
                "after": after,
                "repository": { "full_name": name, "clone_url": url },
                "pusher": { "login": pusher.clone(), "name": pusher },
            })
            .to_string()
            .into_bytes()
        });
    prop_oneof![
        structured,
        any::<Vec<u8>>(),
        text_around(&[r#"{"ref":"#, r#"{"repository":{"#]).prop_map(String::into_bytes),
    ]
}

fn forges() -> Forges {
    Forges {
        gitea: vec!["http://gitea.lab:3000".into()],
        github: "https://github.com".into(),
        github_owners: ["acme".to_string()].into(),
        github_repos: ["solo/tool".to_string()].into(),
        local: [("lab/fixture".to_string(), "/srv/git/fixture".to_string())].into(),
    }
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the body, the parser answers; what it lets through is a branch or tag and a
    /// pusher with no control character.
    #[test]
    fn the_webhook_parser_never_panics(body in payloads()) {
        match parse_push(&body) {
            Ok(Push::Build(commit)) => {
                prop_assert!(
                    commit.git_ref.starts_with("refs/heads/")
                        || commit.git_ref.starts_with("refs/tags/")
                );
                prop_assert!(!commit.git_ref.chars().any(char::is_control));
                prop_assert!(!commit.pusher.chars().any(char::is_control));
            }
            Ok(Push::Deleted { git_ref }) => {
                prop_assert!(!git_ref.chars().any(char::is_control));
            }
            Err(error) => {
                prop_assert!(!error.to_string().chars().any(char::is_control));
            }
        }
    }

    /// Whatever a parsed push names, the mapping answers; a job it allows clones only over
    /// http(s), or `file` for the one listed local repository.
    #[test]
    fn the_push_to_job_mapping_never_panics(
        repo in text_around(NAMES),
        clone_url in text_around(URLS),
        git_ref in text_around(REFS),
        sha in text_around(SHAS),
        pusher in ANY_TEXT,
    ) {
        let commit = PushedCommit { repo, clone_url, git_ref, sha, pusher };
        let allowed = forges().check(&commit);
        let job = commit.into_job("j1".into(), Timestamp::UNIX_EPOCH, 600);
        match allowed {
            Ok(()) => {
                let local = job.clone_url == "/srv/git/fixture"
                    || job.clone_url == "file:///srv/git/fixture";
                let protocols = if local { "file:http:https" } else { "http:https" };
                prop_assert_eq!(job.git_protocols(), protocols);
            }
            Err(error) => {
                prop_assert!(error.is_refusal());
                prop_assert!(!error.to_string().chars().any(char::is_control));
            }
        }
    }
}

/// Lines made of what the claim parser reads: numbers with what they count, pull
/// requests, logins, shas, versions, links, and arbitrary text.
fn draft_bodies() -> impl Strategy<Value = String> {
    let line = text_around(&[
        "5 commits by 3 authors",
        "12,345 lines added",
        "#12 ",
        "@ann ",
        "`9b2c4e6` ",
        "9b2c4e6f8a0d1c3e5f7a9b1d3c5e7f9a1b3d5c7e",
        "v1.2.3 ",
        "https://github.com/lab/raibid/pull/",
        "## Highlights\n",
        "- ",
        "**raibid**: ",
    ]);
    prop::collection::vec(line, 0..6).prop_map(|lines| lines.join("\n"))
}

/// Front matter lines: the fences, each key with a JSON string or raw text, and arbitrary
/// lines, in any order.
fn draft_files() -> impl Strategy<Value = String> {
    let keys = &[
        "title", "date", "period", "kind", "state", "writer", "model", "other",
    ];
    let line = prop_oneof![
        Just("---".to_string()),
        (prop::sample::select(keys), ANY_TEXT)
            .prop_map(|(key, value)| format!("{key}: {}", json!(value))),
        (
            prop::sample::select(keys),
            text_around(&["\"2026-11-20\"", "\"weekly\"", "\"draft\"", "\""])
        )
            .prop_map(|(key, value)| format!("{key}: {value}")),
        ANY_TEXT,
    ];
    prop::collection::vec(line, 0..10).prop_map(|lines| lines.join("\n"))
}

/// A week of one repository without commits: the checker reads its data anew for every
/// draft, so a small data set keeps 100,000 drafts quick (the parser does not depend on it).
fn quiet_week() -> DigestData {
    let activity = Activity {
        period: support::data().period,
        repos: vec![RepoActivity {
            name: "raibid".into(),
            path: "/src/raibid".into(),
            ..RepoActivity::default()
        }],
    };
    support::digest_data(activity, None)
}

#[test]
fn the_checkers_claim_parser_never_panics() {
    let data = quiet_week();
    let phrases = vec!["significant progress".to_string()];
    let rules = Rules {
        filler_phrases: &phrases,
    };
    let strategy = (
        draft_bodies(),
        prop::sample::select(DraftKind::ALL.to_vec()),
    );
    proptest::test_runner::TestRunner::new(config())
        .run(&strategy, |(body, kind)| {
            for finding in checker::check(&body, kind, &data, &rules) {
                prop_assert!(finding.line <= body.lines().count().max(1));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_front_matter_reader_never_panics() {
    // On tmpfs when there is one: rewriting a file 100,000 times on ext4 waits on the disk
    // (a file truncated and written again is flushed on close).
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let store = Store::open(dir.path()).unwrap();
    let file = dir.path().join("2026-W47.md");
    proptest::test_runner::TestRunner::new(config())
        .run(&draft_files(), |text| {
            std::fs::write(&file, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Ok(draft) = store.load("2026-W47") {
                prop_assert!(text.ends_with(&draft.body));
            }
            Ok(())
        })
        .unwrap();
}
