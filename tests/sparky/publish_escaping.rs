//! Text taken from commits stays text where it lands in Markdown: commit subjects and
//! author names holding HTML and a `javascript:` link go through a built-in digest draft,
//! the checker, the docs repository (git) and Dev.to (its local fake), and nowhere become
//! a tag or a link.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use raibid::backend::sparky::channels::devto::Devto;
use raibid::backend::sparky::channels::{ChannelName, Delivery, Outgoing};
use raibid::backend::sparky::checker::{self, Rules};
use raibid::backend::sparky::delivery::{self, Places};
use raibid::backend::sparky::model::{
    Activity, CommitRecord, DigestData, DraftKind, DraftState, FrontMatter, Period, PeriodKind,
    RepoActivity,
};
use raibid::backend::sparky::store::Store;
use raibid::backend::sparky::write::{BuiltinWriter, Writer, Written};
use raibid::config::{Config, DevtoConfig, PublishConfig, Secret};
use support::devto::{self as forem, FakeDevto};
use support::git::git;

const ID: &str = "2026-W47-lab";

/// What a pushed commit could carry to the docs site.
const PAYLOADS: [&str; 3] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
];

/// The payloads as the published Markdown shows them: as text.
const SHOWN: [&str; 3] = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "\\[click\\](javascript:alert(1))",
];

/// The `n`th commit, by `author` from `email`.
fn commit(n: usize, (author, email): (&str, &str), subject: &str) -> CommitRecord {
    let time: jiff::Timestamp = format!("2026-11-{}T10:00:00Z", 16 + n % 5)
        .parse()
        .expect("a time");
    CommitRecord {
        login: None,
        repo: "lab".into(),
        sha: format!("{:08x}{n:032x}", 0x9e37_79b9_u32.wrapping_mul(n as u32 + 1)),
        author: author.into(),
        email: email.into(),
        time,
        offset_seconds: 0,
        committed: time,
        subject: subject.into(),
        files_changed: 2,
        insertions: 40 + n as u64 * 7,
        deletions: 3,
        is_merge: false,
        is_bot: false,
        paths: Vec::new(),
    }
}

/// A week in which each payload is a commit subject and part of an author's name.
fn hostile_week() -> DigestData {
    let ann = ("Ann", "ann@lab.example");
    let mut commits = vec![commit(0, ann, "feat: a plain change")];
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let eve = (format!("Eve {payload}"), format!("eve{i}@lab.example"));
        commits.push(commit(2 * i + 1, ann, &format!("fix: {payload}")));
        commits.push(commit(2 * i + 2, (&eve.0, &eve.1), "feat: quiet"));
    }
    commits.reverse();
    let period = Period {
        kind: PeriodKind::Week,
        since: "2026-11-16T00:00:00Z".parse().expect("a time"),
        until: "2026-11-23T00:00:00Z".parse().expect("a time"),
        label: "2026-W47".into(),
        time_zone: "UTC".into(),
    };
    let repo = RepoActivity {
        name: "lab".into(),
        path: "/src/lab".into(),
        commits,
        ..RepoActivity::default()
    };
    support::digest_data(
        Activity {
            period,
            repos: vec![repo],
        },
        None,
    )
}

async fn draft(data: &DigestData, kind: DraftKind) -> Written {
    let (tokens, _preview) = tokio::sync::mpsc::unbounded_channel();
    BuiltinWriter
        .write(data, kind, &tokens)
        .await
        .expect("the built-in writer never fails")
}

/// `text` shows every payload, in a subject and in a name, and holds none as a tag or a
/// link.
#[track_caller]
fn assert_inert(text: &str) {
    for tag in ["<script", "<img", "<javascript"] {
        assert!(!text.contains(tag), "{tag} in:\n{text}");
    }
    let links = text.match_indices("](javascript:");
    let raw_links: Vec<usize> = links
        .filter(|(at, _)| !text[..*at].ends_with('\\'))
        .map(|(at, _)| at)
        .collect();
    assert!(raw_links.is_empty(), "a javascript: link in:\n{text}");
    for shown in SHOWN {
        for quoted in [format!("fix: {shown}"), format!("Eve {shown}")] {
            assert!(text.contains(&quoted), "{quoted} not shown in:\n{text}");
        }
    }
}

#[tokio::test]
async fn a_digest_shows_commit_text_escaped_and_the_checker_reads_it_as_the_data() {
    let data = hostile_week();
    for kind in [DraftKind::Weekly, DraftKind::Blog] {
        let written = draft(&data, kind).await;
        assert_inert(&written.body);
        let rules = Rules {
            filler_phrases: &[],
        };
        let findings = checker::check(&written.body, kind, &data, &rules);
        assert!(
            findings.is_empty(),
            "{kind:?}: {findings:?}\n{}",
            written.body
        );
    }
}

#[tokio::test]
async fn the_docs_repository_gets_the_escaped_post() {
    let data = hostile_week();
    let written = draft(&data, DraftKind::Weekly).await;
    let temp = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(&temp.path().join("data/drafts")).expect("the store opens");
    let front = FrontMatter {
        title: written.title.clone(),
        date: "2026-11-16".into(),
        period: "2026-W47".into(),
        kind: DraftKind::Weekly,
        state: DraftState::Approved,
        writer: "builtin".into(),
        model: None,
    };
    store
        .write(ID, &front, &written.body, &data)
        .expect("written");
    let config = Config {
        publish: PublishConfig {
            branch: "main".into(),
            ..PublishConfig::default()
        },
        ..Config::default()
    };
    let plan = delivery::plan(&store, ID, &config, &[ChannelName::Docs]).expect("a plan");
    let places = Places {
        default_docs_dir: temp.path().join("data/docs"),
        data_dir: temp.path().join("data"),
    };
    let store = Arc::new(store);
    let results = delivery::deliver(&plan, &config, &places, store, |_, _| {}).await;
    let [(ChannelName::Docs, Ok(Delivery::Created(_)))] = results.as_slice() else {
        panic!("expected one new docs post, got {results:?}");
    };

    let docs = &places.default_docs_dir;
    let path = git(docs, &["ls-files"]);
    let post = std::fs::read_to_string(docs.join(path.trim())).expect("the post");
    assert_inert(&post);
}

fn secret(dir: &Path, value: &str) -> Secret {
    let path = dir.join("devto.key");
    std::fs::write(&path, value).expect("written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("0600");
    Secret::File(path)
}

#[tokio::test]
async fn dev_to_gets_the_escaped_markdown() {
    let data = hostile_week();
    let written = draft(&data, DraftKind::Weekly).await;
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let devto = Devto::new(&DevtoConfig {
        url: fake.url(),
        api_key: secret(dir.path(), forem::API_KEY),
        publish: true,
        tags: Vec::new(),
    })
    .expect("a Dev.to channel");
    let outgoing = Outgoing {
        draft_id: ID,
        kind: DraftKind::Weekly,
        date: jiff::civil::date(2026, 11, 16),
        title: &written.title,
        body: &written.body,
        post: &written.body,
        path: "content/blog/2026/11/week-2026-47.md",
        canonical_url: Some("https://docs.example.org/blog/2026/11/week-2026-47/"),
        tags: &[],
        previous: None,
    };
    let delivered = devto.publish(&outgoing).await.expect("published");
    assert!(matches!(delivered, Delivery::Created(_)), "{delivered:?}");
    let articles = fake.articles();
    let [article] = articles.as_slice() else {
        panic!("expected one article, got {articles:?}");
    };
    assert_inert(&article.body_markdown);
}
