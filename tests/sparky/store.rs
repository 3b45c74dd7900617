//! The drafts store against real git repositories in temp dirs.

use std::fs;
use std::path::Path;
use std::process::Command;

use jiff::Timestamp;
use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, DraftState, FrontMatter, Period, PeriodKind,
    RepoActivity,
};
use raibid::backend::sparky::store::{Store, StoreError};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn commits(dir: &Path) -> u64 {
    git(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .expect("a count")
}

fn last_subject(dir: &Path) -> String {
    git(dir, &["log", "-1", "--format=%s"]).trim().to_string()
}

fn assert_clean(dir: &Path) {
    assert_eq!(
        git(dir, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
}

fn data(label: &str) -> DigestData {
    let since: Timestamp = "2026-11-16T00:00:00Z".parse().expect("a timestamp");
    let period = Period {
        kind: PeriodKind::Week,
        since,
        until: "2026-11-23T00:00:00Z".parse().expect("a timestamp"),
        label: label.to_string(),
        time_zone: "UTC".into(),
    };
    let commit = CommitRecord {
        login: None,
        repo: "raibid".into(),
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        time: "2026-11-17T10:00:00Z".parse().expect("a timestamp"),
        offset_seconds: 3600,
        committed: "2026-11-17T10:00:00Z".parse().expect("a timestamp"),
        subject: "store: write drafts \"atomically\"".into(),
        files_changed: 2,
        insertions: 40,
        deletions: 3,
        is_merge: false,
        is_bot: false,
        paths: Vec::new(),
    };
    let activity = Activity {
        period: period.clone(),
        repos: vec![RepoActivity {
            name: "raibid".into(),
            path: "/src/raibid".into(),
            commits: vec![commit.clone()],
            ..RepoActivity::default()
        }],
    };
    DigestData {
        metrics: analyze(&activity, None),
        period,
        repos: vec!["raibid".into()],
        repo_paths: vec!["/src/raibid".into()],
        commits: vec![commit],
        link: None,
        failures: Vec::new(),
    }
}

fn front(title: &str, date: &str, state: DraftState) -> FrontMatter {
    FrontMatter {
        title: title.to_string(),
        date: date.to_string(),
        period: "2026-W47".into(),
        kind: DraftKind::Weekly,
        state,
        writer: "builtin".into(),
        model: None,
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let temp = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(&temp.path().join("drafts")).expect("the store opens");
    (temp, store)
}

#[test]
fn drafts_round_trip_and_list_newest_first() {
    let (_temp, store) = open();
    let titles = [
        (
            "a-quotes",
            "He said \"ship it\": 100% done # not a comment",
            "2026-11-20",
        ),
        (
            "b-unicode",
            "Ünïcödé — 日本語 ✓ \\ back\tslash\nnext line",
            "2026-11-20",
        ),
        (
            "c-colon",
            "key: value, [list], {map}, 'single'",
            "2026-11-16",
        ),
    ];
    let body = "\n# Week 47\n\nFirst paragraph.\n\n---\n\nA rule above, not front matter.\n";
    for (id, title, date) in titles {
        let mut front = front(title, date, DraftState::Draft);
        front.model = Some("llama3.2:3b".into());
        let path = store.write(id, &front, body, &data(id)).expect("written");
        assert_eq!(path, store.dir().join(format!("{id}.md")));
        let draft = store.load(id).expect("loads");
        assert_eq!(draft.front, front);
        assert_eq!(draft.body, body);
        assert_eq!(store.data(id).expect("data loads"), data(id));
        assert!(store.exists(id));
    }
    assert!(!store.exists("missing"));
    assert!(matches!(
        store.load("missing"),
        Err(StoreError::NotFound { .. })
    ));

    let listing = store.list().expect("lists");
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    let ids: Vec<&str> = listing.drafts.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a-quotes", "b-unicode", "c-colon"]);
    assert_eq!(listing.drafts[0].words, 12);
    assert_eq!(listing.drafts[2].front.title, titles[2].1);
}

#[test]
fn every_change_is_one_commit() {
    let (_temp, store) = open();
    let dir = store.dir();
    assert_eq!(commits(dir), 1, "the store's .gitignore");

    store
        .write(
            "w47",
            &front("Week 47", "2026-11-16", DraftState::Draft),
            "Body.\n",
            &data("w47"),
        )
        .expect("written");
    assert_eq!(
        (commits(dir), last_subject(dir)),
        (2, "draft: write w47".to_string())
    );
    assert_eq!(
        git(dir, &["show", "--name-only", "--format=", "HEAD"]),
        "w47.json\nw47.md\n"
    );
    assert_clean(dir);

    store.save_body("w47", "Edited body.\n").expect("saved");
    assert_eq!(
        (commits(dir), last_subject(dir)),
        (3, "draft: edit w47".to_string())
    );
    store
        .save_body("w47", "Edited body.\n")
        .expect("saved again");
    assert_eq!(commits(dir), 3, "an unchanged body commits nothing");

    store
        .set_state("w47", DraftState::Approved)
        .expect("approved");
    assert_eq!(
        (commits(dir), last_subject(dir)),
        (4, "draft: approve w47".to_string())
    );
    assert_eq!(
        store.load("w47").expect("loads").front.state,
        DraftState::Approved
    );

    let approved = front("Week 47", "2026-11-16", DraftState::Approved);
    store
        .write("w47", &approved, "Edited body.\n", &data("w47"))
        .expect("rewritten");
    assert_eq!(
        commits(dir),
        4,
        "a regeneration that came out the same commits nothing"
    );
    store
        .write("w47", &approved, "Regenerated.\n", &data("w47"))
        .expect("regenerated");
    assert_eq!(
        (commits(dir), last_subject(dir)),
        (5, "draft: write w47".to_string())
    );
    assert_clean(dir);
}

#[test]
fn commits_use_the_repository_identity_or_sparky() {
    let (_temp, store) = open();
    let dir = store.dir();
    let configured = Command::new("git")
        .current_dir(dir)
        .args(["config", "--get", "user.name"])
        .output()
        .expect("git runs");
    let expected = if configured.status.success() {
        String::from_utf8_lossy(&configured.stdout)
            .trim()
            .to_string()
    } else {
        "Sparky".to_string()
    };
    assert_eq!(git(dir, &["log", "-1", "--format=%an"]).trim(), expected);

    git(dir, &["config", "user.name", "Ada"]);
    git(dir, &["config", "user.email", "ada@example.com"]);
    store
        .write(
            "d",
            &front("T", "2026-11-16", DraftState::Draft),
            "B\n",
            &data("d"),
        )
        .expect("written");
    assert_eq!(
        git(dir, &["log", "-1", "--format=%an <%ae>"]).trim(),
        "Ada <ada@example.com>"
    );
}

#[test]
fn state_transitions_are_enforced() {
    use DraftState::{Approved, Draft, Published, Rejected};
    let allowed = [
        (Draft, Approved, Some("approve")),
        (Draft, Rejected, Some("reject")),
        (Approved, Draft, Some("reopen")),
        (Approved, Published, Some("publish")),
        (Approved, Rejected, Some("reject")),
        (Rejected, Draft, Some("reopen")),
        (Published, Published, None),
        (Published, Draft, Some("reopen")),
    ];
    let (_temp, store) = open();
    let dir = store.dir();
    for from in [Draft, Approved, Published, Rejected] {
        for to in [Draft, Approved, Published, Rejected] {
            let id = format!("{}-to-{}", from.as_str(), to.as_str());
            store
                .write(&id, &front("T", "2026-11-16", from), "Body\n", &data(&id))
                .expect("written");
            let before = commits(dir);
            let result = store.set_state(&id, to);
            let state = store.load(&id).expect("loads").front.state;
            match allowed.iter().find(|(f, t, _)| (*f, *t) == (from, to)) {
                Some((_, _, verb)) => {
                    result.unwrap_or_else(|e| panic!("{id}: {e}"));
                    assert_eq!(state, to, "{id}");
                    match verb {
                        Some(verb) => assert_eq!(last_subject(dir), format!("draft: {verb} {id}")),
                        None => assert_eq!(commits(dir), before, "{id} is a no-op"),
                    }
                }
                None => {
                    let err = result.expect_err(&id);
                    assert!(
                        matches!(err, StoreError::Transition { .. }),
                        "{id}: {err:?}"
                    );
                    let message = err.to_string();
                    let expected = format!("from {} to {}", from.as_str(), to.as_str());
                    assert!(message.contains(&expected), "{message}");
                    assert_eq!(state, from, "{id} keeps its state");
                    assert_eq!(commits(dir), before, "{id} commits nothing");
                }
            }
        }
    }
    assert_clean(dir);
}

#[test]
fn recovery_files_are_offered_only_when_they_differ() {
    let (_temp, store) = open();
    store
        .write(
            "w47",
            &front("T", "2026-11-16", DraftState::Draft),
            "Stored.\n",
            &data("w47"),
        )
        .expect("written");
    assert_eq!(store.recovery("w47").expect("reads"), None);

    store.write_recovery("w47", "Stored.\n").expect("autosaved");
    assert_eq!(
        store.recovery("w47").expect("reads"),
        None,
        "same as the stored body"
    );

    store
        .write_recovery("w47", "Half-edited, then the terminal died.\n")
        .expect("autosaved");
    assert_eq!(
        store.recovery("w47").expect("reads").as_deref(),
        Some("Half-edited, then the terminal died.\n")
    );
    assert!(store.dir().join(".recovery/w47.md").is_file());
    assert_clean(store.dir());

    store.clear_recovery("w47").expect("cleared");
    assert_eq!(store.recovery("w47").expect("reads"), None);
    store.clear_recovery("w47").expect("clearing twice is fine");
}

#[test]
fn an_unreadable_draft_is_reported_and_hides_nothing() {
    let (_temp, store) = open();
    for id in ["good", "broken-front", "unclosed", "broken-json"] {
        store
            .write(
                id,
                &front(id, "2026-11-16", DraftState::Draft),
                "Body.\n",
                &data(id),
            )
            .expect("written");
    }
    let broken = store.dir().join("broken-front.md");
    let text = fs::read_to_string(&broken).expect("reads");
    fs::write(&broken, text.replace("kind: \"weekly\"", "kind: weekly")).expect("corrupted");
    let unclosed = store.dir().join("unclosed.md");
    fs::write(&unclosed, "---\ntitle: \"x\"\nno closing fence\n").expect("corrupted");
    let json = store.dir().join("broken-json.json");
    fs::write(
        &json,
        "{\n  \"period\": {\n    \"kind\": \"week\",\n  oops\n",
    )
    .expect("corrupted");

    match store.load("broken-front") {
        Err(StoreError::Unreadable { path, line, reason }) => {
            assert_eq!((path, line), (broken.clone(), 5));
            assert!(reason.contains("kind"), "{reason}");
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    let message = store.load("unclosed").expect_err("unreadable").to_string();
    assert!(
        message.contains(&format!("{}:3:", unclosed.display())),
        "{message}"
    );
    assert!(message.contains("closing"), "{message}");
    match store.data("broken-json") {
        Err(StoreError::Unreadable { path, line, .. }) => assert_eq!((path, line), (json, 4)),
        other => panic!("expected Unreadable, got {other:?}"),
    }

    let listing = store.list().expect("lists");
    let ids: Vec<&str> = listing.drafts.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["broken-json", "good"]);
    let mut problems: Vec<String> = listing.problems.iter().map(ToString::to_string).collect();
    problems.sort();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains(&format!("{}:5:", broken.display())),
        "{problems:?}"
    );
    assert!(
        problems[1].contains(&format!("{}:3:", unclosed.display())),
        "{problems:?}"
    );
}

#[test]
fn open_commits_what_an_interrupted_run_left_behind() {
    let temp = tempfile::tempdir().expect("a temp dir");
    let dir = temp.path().join("drafts");
    {
        let store = Store::open(&dir).expect("opens");
        store
            .write(
                "w46",
                &front("W46", "2026-11-09", DraftState::Draft),
                "Old.\n",
                &data("w46"),
            )
            .expect("written");
    }
    // A crash after the files were renamed into place but before `git commit`.
    let json = serde_json::to_string_pretty(&data("w47")).expect("serializes");
    fs::write(dir.join("w47.json"), json).expect("written");
    fs::write(
        dir.join("w47.md"),
        "---\ntitle: \"W47\"\ndate: \"2026-11-16\"\nperiod: \"2026-W47\"\nkind: \"weekly\"\nstate: \"draft\"\nwriter: \"builtin\"\n---\nNew.\n",
    )
    .expect("written");
    // A crash mid-write leaves a temp file: it is not a draft and is never committed.
    fs::write(dir.join(".tmp-w48.md-999-0"), "half").expect("written");
    let before = commits(&dir);

    let store = Store::open(&dir).expect("reopens");
    assert_eq!(commits(&dir), before + 1);
    assert!(
        last_subject(&dir).starts_with("recover:"),
        "{}",
        last_subject(&dir)
    );
    assert_eq!(
        git(&dir, &["show", "--name-only", "--format=", "HEAD"]),
        "w47.json\nw47.md\n"
    );
    assert_clean(&dir);
    assert_eq!(store.load("w47").expect("loads").body, "New.\n");
    assert_eq!(store.list().expect("lists").drafts.len(), 2);

    Store::open(&dir).expect("reopens");
    assert_eq!(
        commits(&dir),
        before + 1,
        "a clean store commits nothing on open"
    );
}

#[test]
fn the_store_is_its_own_repository_inside_another() {
    let temp = tempfile::tempdir().expect("a temp dir");
    git(temp.path(), &["init", "--quiet"]);
    let store = Store::open(&temp.path().join("data/drafts")).expect("opens");
    assert!(store.dir().join(".git").is_dir());
    assert_eq!(commits(store.dir()), 1);
}

#[test]
fn invalid_ids_are_refused_before_touching_the_disk() {
    let (temp, store) = open();
    let front = front("T", "2026-11-16", DraftState::Draft);
    for id in [
        "",
        "../evil",
        "a/b",
        ".hidden",
        "a..b",
        "with space",
        "back\\slash",
        "ä",
    ] {
        let refused = |result: Result<(), StoreError>| {
            assert!(
                matches!(result, Err(StoreError::InvalidId { .. })),
                "{id:?}: {result:?}"
            );
        };
        refused(store.write(id, &front, "B\n", &data("x")).map(drop));
        refused(store.load(id).map(drop));
        refused(store.data(id).map(drop));
        refused(store.save_body(id, "B\n"));
        refused(store.set_state(id, DraftState::Approved));
        refused(store.write_recovery(id, "B\n"));
        refused(store.recovery(id).map(drop));
        refused(store.clear_recovery(id));
        assert!(!store.exists(id));
    }
    assert!(!temp.path().join("evil.md").exists());
    assert_eq!(commits(store.dir()), 1);
    assert!(store.list().expect("lists").drafts.is_empty());
}

#[test]
fn a_bad_date_is_refused() {
    let (_temp, store) = open();
    let front = front("T", "16/11/2026", DraftState::Draft);
    let err = store
        .write("d", &front, "B\n", &data("d"))
        .expect_err("refused");
    assert!(matches!(err, StoreError::InvalidDate { .. }), "{err:?}");
    assert!(!store.exists("d"));
}

#[test]
fn draft_ids_are_slugged() {
    assert_eq!(Store::draft_id("2026-W47", "raibid"), "2026-W47-raibid");
    assert_eq!(
        Store::draft_id("2026-11-21", "My Repo!"),
        "2026-11-21-my-repo"
    );
    let custom = Store::draft_id("2026-11-01..2026-11-09", "raibid-labs/docs");
    assert_eq!(custom, "2026-11-01-2026-11-09-raibid-labs-docs");
    assert_eq!(Store::draft_id("2026-11", ""), "2026-11");

    let (_temp, store) = open();
    let front = front("T", "2026-11-01", DraftState::Draft);
    store
        .write(&custom, &front, "B\n", &data("x"))
        .expect("a slugged id is valid");
}
