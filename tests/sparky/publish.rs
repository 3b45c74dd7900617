//! Publishing drafts to docs repositories: local, default and remote (a bare repo by URL).

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::channels::docs::{
    DocsPost, PublishError, PublishOutcome, commit_post, render_post, target_path,
};
use raibid::backend::sparky::channels::{ChannelName, Delivery};
use raibid::backend::sparky::delivery::{self, DeliveryError, Places};
use raibid::backend::sparky::model::{
    Activity, DigestData, DraftKind, DraftState, FrontMatter, Period, PeriodKind,
};
use raibid::backend::sparky::store::{Draft, Store};
use raibid::config::secret::Secret;
use raibid::config::{Config, PublishConfig};

const ID: &str = "2026-W47-raibid";
const TITLE: &str = "Week 47: \"ship it\"";
const BODY: &str = "# Week 47\n\nThe **store** landed. Then [publishing](https://example.com) \
                    followed.\n\n- 3 commits\n";
const POST: &str = "---\ntitle: \"Week 47: \\\"ship it\\\"\"\ndescription: \"The store landed.\"\n\
                    date: 2026-11-16\ntags: [\"digest\", \"weekly\"]\nauthor: \"Sparky\"\n---\n\n\
                    # Week 47\n\nThe **store** landed. Then [publishing](https://example.com) \
                    followed.\n\n- 3 commits\n";
const TARGET: &str = "content/blog/2026/11/week-2026-47.md";

/// git with a fixed identity, for the repositories the tests build.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
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
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn commits(dir: &Path) -> u64 {
    git(dir, &["rev-list", "--count", "HEAD"])
        .parse()
        .expect("a count")
}

fn period(kind: PeriodKind, label: &str) -> Period {
    Period {
        kind,
        since: "2026-11-16T00:00:00Z".parse().expect("a timestamp"),
        until: "2026-11-23T00:00:00Z".parse().expect("a timestamp"),
        label: label.to_string(),
        time_zone: "UTC".into(),
    }
}

fn data() -> DigestData {
    let period = period(PeriodKind::Week, "2026-W47");
    let activity = Activity {
        period: period.clone(),
        repos: Vec::new(),
    };
    DigestData {
        metrics: analyze(&activity, None),
        period,
        repos: Vec::new(),
        repo_paths: Vec::new(),
        commits: Vec::new(),
        link: None,
        failures: Vec::new(),
    }
}

fn front(kind: DraftKind, date: &str, state: DraftState) -> FrontMatter {
    FrontMatter {
        title: TITLE.into(),
        date: date.into(),
        period: "2026-W47".into(),
        kind,
        state,
        writer: "builtin".into(),
        model: None,
    }
}

fn config(docs_repo: &str, push: bool) -> PublishConfig {
    PublishConfig {
        docs_repo: docs_repo.into(),
        branch: "main".into(),
        push,
        author: "Sparky".into(),
        tags: vec!["digest".into()],
        token: Secret::None,
        ..PublishConfig::default()
    }
}

/// A temp dir with a store holding one draft in `state`; the default docs dir is `data/docs`.
struct Lab {
    temp: tempfile::TempDir,
    store: Store,
}

impl Lab {
    fn new(state: DraftState) -> Lab {
        let temp = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(&temp.path().join("data/drafts")).expect("the store opens");
        store
            .write(
                ID,
                &front(DraftKind::Weekly, "2026-11-16", state),
                BODY,
                &data(),
            )
            .expect("written");
        Lab { temp, store }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.temp.path().join(rel)
    }

    fn default_docs(&self) -> PathBuf {
        self.path("data/docs")
    }

    fn state(&self) -> DraftState {
        self.store.load(ID).expect("loads").front.state
    }

    /// The draft into the docs repository, as the `docs` channel does.
    fn publish(&self, cfg: &PublishConfig) -> Result<PublishOutcome, PublishError> {
        let draft = self.store.load(ID).expect("loads");
        commit_post(
            &DocsPost::new(&draft, &data(), cfg),
            cfg,
            &self.default_docs(),
        )
    }

    /// The draft to the `docs` channel as `raibid drafts publish` does: planned, sent,
    /// recorded on the draft.
    fn deliver(&self, cfg: &PublishConfig) -> Result<Delivery, String> {
        let config = Config {
            publish: cfg.clone(),
            ..Config::default()
        };
        let plan = delivery::plan(&self.store, ID, &config, &[ChannelName::Docs])
            .map_err(|e| e.to_string())?;
        let places = Places {
            default_docs_dir: self.default_docs(),
            data_dir: self.path("data"),
        };
        let store = std::sync::Arc::new(Store::open(self.store.dir()).expect("opens"));
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let mut results =
            runtime.block_on(delivery::deliver(&plan, &config, &places, store, |_, _| {}));
        assert_eq!(results.len(), 1);
        results.remove(0).1
    }

    /// A local docs repository on branch `drafts`, not the configured `main`.
    fn docs_on_another_branch(&self) -> PathBuf {
        let docs = self.path("my-docs");
        fs::create_dir_all(&docs).expect("created");
        git(&docs, &["init", "--quiet", "--initial-branch", "drafts"]);
        docs
    }

    /// A bare repository and its `file://` URL.
    fn bare_remote(&self) -> (PathBuf, String) {
        let bare = self.path("remote/docs.git");
        fs::create_dir_all(&bare).expect("created");
        git(&bare, &["init", "--quiet", "--bare"]);
        let url = format!("file://{}", bare.display());
        (bare, url)
    }

    /// Another person's clone of `url`, with `file` changed and pushed.
    fn push_from_elsewhere(&self, url: &str, file: &str, content: &str) -> String {
        let other = self.path("elsewhere");
        if other.exists() {
            git(&other, &["pull", "--quiet", "--ff-only", "origin", "main"]);
        } else {
            git(self.temp.path(), &["clone", "--quiet", url, "elsewhere"]);
        }
        let path = other.join(file);
        fs::create_dir_all(path.parent().expect("a parent")).expect("created");
        fs::write(&path, content).expect("written");
        git(&other, &["add", "--", file]);
        git(&other, &["commit", "--quiet", "-m", "edit elsewhere"]);
        git(&other, &["push", "--quiet", "origin", "HEAD:main"]);
        git(&other, &["rev-parse", "HEAD"])
    }
}

#[test]
fn an_approved_draft_becomes_one_commit_at_its_quartz_path() {
    let lab = Lab::new(DraftState::Approved);
    let store_commits = commits(lab.store.dir());
    let delivered = lab.deliver(&config("", false)).expect("published");

    let docs = lab.default_docs();
    let path = docs.join(TARGET);
    let commit = git(&docs, &["rev-parse", "HEAD"]);
    let Delivery::Created(publication) = delivered else {
        panic!("expected a new publication, got {delivered:?}");
    };
    assert_eq!(publication.channel, ChannelName::Docs);
    assert_eq!(publication.remote_id, commit);
    assert_eq!(publication.url, path.display().to_string());
    assert_eq!(fs::read_to_string(&path).expect("the post"), POST);
    assert_eq!(commits(&docs), 1);
    assert_eq!(
        git(&docs, &["log", "-1", "--format=%s"]),
        format!("publish: {TITLE}")
    );
    assert_eq!(
        git(&docs, &["show", "--name-only", "--format=", "HEAD"]),
        TARGET
    );
    assert_eq!(git(&docs, &["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(lab.state(), DraftState::Published);
    assert_eq!(
        lab.store.publications(ID).expect("recorded"),
        std::slice::from_ref(&publication)
    );
    // One commit records the publication, one the state.
    assert_eq!(commits(lab.store.dir()), store_commits + 2);

    let again = lab.deliver(&config("", false)).expect("published again");
    assert_eq!(again, Delivery::Unchanged(publication));
    assert_eq!(commits(&docs), 1, "the second publish changes nothing");
    assert_eq!(commits(lab.store.dir()), store_commits + 2);
}

#[test]
fn only_approved_drafts_are_published() {
    for state in [DraftState::Draft, DraftState::Rejected] {
        let lab = Lab::new(state);
        let config = Config::default();
        let err = delivery::plan(&lab.store, ID, &config, &[]).expect_err("refused");
        assert!(matches!(err, DeliveryError::NotApproved { .. }), "{err:?}");
        assert!(err.to_string().contains(state.as_str()), "{err}");
        assert!(!lab.default_docs().exists(), "nothing is created");
        assert_eq!(lab.state(), state);
    }
}

#[test]
fn a_plan_shows_the_post_and_touches_nothing() {
    let lab = Lab::new(DraftState::Approved);
    let store_commits = commits(lab.store.dir());
    let config = Config {
        publish: config("", false),
        ..Config::default()
    };
    let plan = delivery::plan(&lab.store, ID, &config, &[]).expect("a plan");
    let channels: Vec<ChannelName> = plan.renderings.iter().map(|r| r.channel).collect();
    assert_eq!(channels, [ChannelName::Docs], "publish.channels.weekly");
    assert_eq!(plan.renderings[0].text, POST);
    assert_eq!(plan.renderings[0].previous, None);
    assert!(!lab.default_docs().exists());
    assert_eq!(lab.state(), DraftState::Approved);
    assert_eq!(commits(lab.store.dir()), store_commits);
}

#[test]
fn a_channel_that_cannot_carry_the_kind_is_refused() {
    let lab = Lab::new(DraftState::Approved);
    let err = delivery::plan(&lab.store, ID, &Config::default(), &[ChannelName::Mastodon])
        .expect_err("refused");
    assert!(matches!(err, DeliveryError::Unsuitable { .. }), "{err:?}");
    assert!(err.to_string().contains("mastodon"), "{err}");
}

#[test]
fn a_conflict_leaves_the_draft_as_it_was() {
    let lab = Lab::new(DraftState::Approved);
    let docs = lab.docs_on_another_branch();
    let store_commits = commits(lab.store.dir());
    let err = lab
        .deliver(&config(&docs.to_string_lossy(), false))
        .expect_err("a conflict");
    assert!(err.contains("docs") && err.contains("drafts"), "{err}");
    assert_eq!(lab.state(), DraftState::Approved);
    assert!(lab.store.publications(ID).expect("reads").is_empty());
    assert_eq!(commits(lab.store.dir()), store_commits);
}

#[test]
fn a_local_change_to_the_target_file_is_a_conflict() {
    let lab = Lab::new(DraftState::Approved);
    let docs = lab.path("my-docs");
    fs::create_dir_all(docs.join("content/blog/2026/11")).expect("created");
    git(&docs, &["init", "--quiet"]);
    fs::write(docs.join(TARGET), "committed\n").expect("written");
    git(&docs, &["add", "."]);
    git(&docs, &["commit", "--quiet", "-m", "seed"]);
    fs::write(docs.join(TARGET), "someone's unsaved work\n").expect("written");

    let err = lab
        .publish(&config(&docs.to_string_lossy(), false))
        .expect_err("a conflict");
    assert!(matches!(err, PublishError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains(TARGET), "{err}");
    assert_eq!(
        fs::read_to_string(docs.join(TARGET)).expect("reads"),
        "someone's unsaved work\n"
    );
    assert_eq!(commits(&docs), 1);
}

#[test]
fn a_local_docs_path_must_be_a_repository() {
    let lab = Lab::new(DraftState::Approved);
    let plain = lab.path("plain");
    fs::create_dir_all(&plain).expect("created");
    for path in [plain.clone(), lab.path("missing")] {
        let err = lab
            .publish(&config(&path.to_string_lossy(), false))
            .expect_err("refused");
        assert!(
            matches!(err, PublishError::NotARepository { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
    assert_eq!(fs::read_dir(&plain).expect("lists").count(), 0);
}

#[test]
fn another_branch_checked_out_is_a_conflict() {
    let lab = Lab::new(DraftState::Approved);
    let docs = lab.docs_on_another_branch();
    let err = lab
        .publish(&config(&docs.to_string_lossy(), false))
        .expect_err("a conflict");
    assert!(matches!(err, PublishError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains("drafts"), "{err}");
    assert!(!docs.join("content").exists());
}

#[test]
fn a_remote_docs_repository_receives_the_push() {
    let lab = Lab::new(DraftState::Approved);
    let (bare, url) = lab.bare_remote();
    let cfg = config(&url, true);
    let outcome = lab.publish(&cfg).expect("published");

    let PublishOutcome::Committed { path, commit } = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    let checkouts = lab.path("data/docs-checkouts");
    assert!(path.starts_with(&checkouts), "{}", path.display());
    assert!(path.ends_with(TARGET));
    assert_eq!(git(&bare, &["rev-parse", "main"]), commit);
    assert_eq!(
        git(&bare, &["show", &format!("main:{TARGET}")]),
        POST.trim_end()
    );
    let again = lab.publish(&cfg).expect("published again");
    assert_eq!(
        again,
        PublishOutcome::Unchanged {
            path,
            commit: commit.clone()
        }
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), commit);
}

#[test]
fn a_remote_that_moved_ahead_is_fast_forwarded_first() {
    let lab = Lab::new(DraftState::Approved);
    let (bare, url) = lab.bare_remote();
    let theirs = lab.push_from_elsewhere(&url, "README.md", "docs\n");
    lab.publish(&config(&url, true))
        .expect("first publish clones");
    let theirs_again = lab.push_from_elsewhere(&url, "content/about.md", "about\n");

    lab.store
        .save_body(ID, "Edited after publishing.\n")
        .expect("edited");
    let outcome = lab.publish(&config(&url, true)).expect("published on top");
    let PublishOutcome::Committed { commit, .. } = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    assert_eq!(git(&bare, &["rev-parse", "main"]), commit);
    let history = git(&bare, &["rev-list", "main"]);
    assert!(
        history.contains(&theirs) && history.contains(&theirs_again),
        "{history}"
    );
}

#[test]
fn a_remote_that_diverged_is_a_conflict_and_nothing_is_lost() {
    let lab = Lab::new(DraftState::Approved);
    let (bare, url) = lab.bare_remote();
    lab.push_from_elsewhere(&url, "README.md", "docs\n");
    // Published without pushing: our commit exists only in the checkout.
    let Ok(PublishOutcome::Committed {
        path, commit: ours, ..
    }) = lab.publish(&config(&url, false))
    else {
        panic!("the first publish commits");
    };
    // Meanwhile someone else changed the same post on the remote.
    let theirs = lab.push_from_elsewhere(&url, TARGET, "their version\n");
    lab.store
        .save_body(ID, "Our new version.\n")
        .expect("edited");
    let store_commits = commits(lab.store.dir());

    let err = lab.publish(&config(&url, true)).expect_err("a conflict");
    assert!(matches!(err, PublishError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains("diverged"), "{err}");
    assert!(err.to_string().contains("main"), "{err}");
    let checkout = path.ancestors().nth(5).expect("the checkout");
    assert_eq!(
        git(checkout, &["rev-parse", "HEAD"]),
        ours,
        "our commit is kept"
    );
    assert_eq!(
        fs::read_to_string(&path).expect("reads"),
        POST,
        "nothing was written"
    );
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        theirs,
        "their commit is kept"
    );
    assert_eq!(commits(lab.store.dir()), store_commits);
    assert_eq!(
        lab.store.load(ID).expect("loads").body,
        "Our new version.\n"
    );
}

#[test]
fn the_token_goes_in_a_header_and_never_into_errors() {
    let lab = Lab::new(DraftState::Approved);
    let token_file = lab.path("token");
    fs::write(&token_file, "s3cr3t-token\n").expect("written");
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).expect("chmod");

    // A server that records the first request and answers 404.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a request");
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).expect("reads");
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .expect("answers");
        String::from_utf8_lossy(&request).into_owned()
    });

    let mut cfg = config(&format!("http://127.0.0.1:{port}/docs.git"), true);
    cfg.token = Secret::File(token_file);
    let err = lab
        .publish(&cfg)
        .expect_err("the fake server has no repository");
    let request = server.join().expect("the server ran");
    assert!(
        request.contains("Authorization: Basic eC1hY2Nlc3MtdG9rZW46czNjcjN0LXRva2Vu"),
        "{request}"
    );
    let message = format!("{err} {err:?}");
    assert!(!message.contains("s3cr3t-token"), "{message}");
    assert!(
        !message.contains("eC1hY2Nlc3MtdG9rZW46czNjcjN0LXRva2Vu"),
        "{message}"
    );
}

#[test]
fn target_paths_follow_the_quartz_layout() {
    let week = period(PeriodKind::Week, "2026-W47");
    let cases = [
        (
            DraftKind::Daily,
            "2026-11-21",
            "content/blog/2026/11/2026-11-21.md",
        ),
        (
            DraftKind::Weekly,
            "2026-11-16",
            "content/blog/2026/11/week-2026-47.md",
        ),
        (
            DraftKind::Weekly,
            "2026-12-28",
            "content/blog/2026/12/week-2026-53.md",
        ),
        // ISO week-year 2025 starts on Monday 2024-12-30.
        (
            DraftKind::Weekly,
            "2024-12-30",
            "content/blog/2024/12/week-2025-01.md",
        ),
        // A week lives in its Monday's month.
        (
            DraftKind::Weekly,
            "2026-12-02",
            "content/blog/2026/11/week-2026-49.md",
        ),
        (
            DraftKind::Monthly,
            "2026-11-01",
            "content/blog/2026/11/month-2026-11.md",
        ),
    ];
    for (kind, date, expected) in cases {
        let front = front(kind, date, DraftState::Approved);
        assert_eq!(
            target_path(&front, &week),
            PathBuf::from(expected),
            "{kind:?} {date}"
        );
    }
    let custom = period(PeriodKind::Custom, "2026-11-01..2026-11-09");
    let front = front(DraftKind::Digest, "2026-11-01", DraftState::Approved);
    assert_eq!(
        target_path(&front, &custom),
        PathBuf::from("content/blog/2026/11/digest-2026-11-01-2026-11-09.md")
    );
}

#[test]
fn the_description_is_the_first_sentence_in_plain_text() {
    let draft = |body: &str| Draft {
        id: ID.into(),
        front: front(DraftKind::Weekly, "2026-11-16", DraftState::Approved),
        body: body.into(),
    };
    let description = |body: &str, cfg: &PublishConfig| {
        let post = render_post(&draft(body), &data(), cfg);
        let line = post
            .lines()
            .find(|l| l.starts_with("description: "))
            .expect("a description");
        serde_json::from_str::<String>(&line["description: ".len()..]).expect("a JSON string")
    };
    let cfg = config("", false);

    let long = format!(
        "# Title\n\n**Bold** start {} end. Second.\n",
        "word ".repeat(60)
    );
    let text = description(&long, &cfg);
    assert!(
        text.chars().count() <= 160 && text.starts_with("Bold start word"),
        "{text}"
    );
    assert!(text.ends_with('…'), "{text}");

    // Escaped commit text stays escaped: no link, no tag.
    let escaped = "By *Eve* \\[click\\](javascript:x) &lt;b&gt;. More.\n";
    assert_eq!(
        description(escaped, &cfg),
        "By Eve \\[click\\](javascript:x) &lt;b&gt;."
    );

    let no_prose = "# Title\n\n- a list\n- only\n";
    assert_eq!(
        description(no_prose, &cfg),
        "0 commits in 0 repositories during 2026-W47."
    );

    let mut weekly_tag = cfg.clone();
    weekly_tag.tags = vec!["weekly".into(), "digest".into()];
    let post = render_post(&draft(BODY), &data(), &weekly_tag);
    assert!(post.contains("tags: [\"weekly\", \"digest\"]\n"), "{post}");
}
