//! Publishing to Dev.to, Mastodon and Bluesky against local fakes that speak each
//! peer's wire format (tests/support/src/{devto,mastodon,bluesky}.rs): what goes on the wire,
//! republishing without duplicates, and how refusals are reported.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use raibid::backend::sparky::channels::bluesky::{Bluesky, record_key};
use raibid::backend::sparky::channels::devto::Devto;
use raibid::backend::sparky::channels::mastodon::Mastodon;
use raibid::backend::sparky::channels::{
    ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash,
};
use raibid::backend::sparky::model::DraftKind;
use raibid::config::{BlueskyConfig, DevtoConfig, MastodonConfig, Secret};
use support::bluesky::{self as bsky, FakeBluesky};
use support::devto::{self as forem, FakeDevto};
use support::mastodon::{self as masto, FakeMastodon};

const CANONICAL: &str = "https://docs.example.org/blog/2026/11/week-2026-47/";

/// A draft as the publisher hands it to a channel.
struct Draft {
    id: &'static str,
    kind: DraftKind,
    title: &'static str,
    body: String,
    tags: Vec<String>,
    canonical_url: Option<&'static str>,
}

impl Draft {
    fn weekly(body: &str) -> Draft {
        Draft {
            id: "2026-W47-raibid",
            kind: DraftKind::Weekly,
            title: "Week 47: the store lands",
            body: body.into(),
            tags: vec!["weekly".into(), "Rust".into(), "ci/cd".into()],
            canonical_url: Some(CANONICAL),
        }
    }

    fn social(kind: DraftKind, body: &str) -> Draft {
        Draft {
            id: match kind {
                DraftKind::Bluesky => "2026-W47-raibid-bluesky",
                _ => "2026-W47-raibid-mastodon",
            },
            kind,
            title: "Week 47",
            body: body.into(),
            tags: Vec::new(),
            canonical_url: Some(CANONICAL),
        }
    }

    fn outgoing<'a>(&'a self, previous: Option<&'a Publication>) -> Outgoing<'a> {
        Outgoing {
            draft_id: self.id,
            kind: self.kind,
            date: jiff::civil::date(2026, 11, 16),
            title: self.title,
            body: &self.body,
            post: &self.body,
            path: "content/blog/2026/11/week-2026-47.md",
            canonical_url: self.canonical_url,
            tags: &self.tags,
            previous,
        }
    }
}

/// A secret in a 0600 file, as the config names it.
fn secret(dir: &Path, name: &str, value: &str) -> Secret {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Secret::File(path)
}

/// `error` reports refused credentials, naming the setting `key` and never showing `secret`.
fn assert_bad_token(error: &ChannelError, key: &str, secret: &str) {
    assert!(
        matches!(error, ChannelError::BadToken { status: 401, key: named, .. } if *named == key),
        "{error}"
    );
    assert!(
        !error.to_string().contains(secret) && !format!("{error:?}").contains(secret),
        "{error} shows the secret"
    );
}

/// How long a rate-limited channel was told to wait.
fn retry_after(error: ChannelError) -> u64 {
    match error {
        ChannelError::RateLimited {
            retry_after_secs: Some(wait),
            ..
        } => wait,
        other => panic!("expected a rate limit with a wait, got {other}"),
    }
}

/// A write the remote stored, then answered with 500.
fn assert_server_error(result: Result<Delivery, ChannelError>) {
    assert!(
        matches!(result, Err(ChannelError::Server { status: 500, .. })),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Dev.to

fn devto(fake: &FakeDevto, dir: &Path, publish: bool) -> Devto {
    Devto::new(&DevtoConfig {
        url: fake.url(),
        api_key: secret(dir, "devto.key", forem::API_KEY),
        publish,
        tags: vec!["DevOps".into(), "rust".into()],
    })
    .unwrap()
}

#[tokio::test]
async fn devto_creates_a_draft_article_then_updates_it_in_place() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let devto = devto(&fake, dir.path(), false);
    assert!(!format!("{devto:?}").contains(forem::API_KEY));
    let draft = Draft::weekly("## Summary\n\n5 commits.\n");

    let created = devto.publish(&draft.outgoing(None)).await.unwrap();
    let Delivery::Created(first) = &created else {
        panic!("expected a new article, got {created:?}");
    };
    let requests = fake.requests();
    let post = requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/api/articles");
    assert_eq!(
        post.accept.as_deref(),
        Some("application/vnd.forem.api-v1+json")
    );
    let article = &post.body["article"];
    assert_eq!(article["title"], draft.title);
    assert_eq!(article["body_markdown"], draft.body.as_str());
    assert_eq!(
        article["published"], false,
        "a Dev.to draft unless configured"
    );
    assert_eq!(article["canonical_url"], CANONICAL);
    assert_eq!(
        article["tags"],
        serde_json::json!(["devops", "rust", "weekly", "cicd"]),
        "configured tags first, cleaned, without repeats, at most four"
    );
    let stored = fake.articles();
    assert_eq!(stored.len(), 1);
    assert_eq!(first.channel, ChannelName::Devto);
    assert_eq!(first.remote_id, stored[0].id.to_string());
    assert!(first.url.starts_with(&fake.url()), "{}", first.url);

    let sent = fake.requests().len();
    let again = devto.publish(&draft.outgoing(Some(first))).await.unwrap();
    assert_eq!(again, Delivery::Unchanged(first.clone()));
    assert_eq!(
        fake.requests().len(),
        sent,
        "nothing is sent for the same content"
    );

    let edited = Draft::weekly("## Summary\n\n6 commits.\n");
    let updated = devto.publish(&edited.outgoing(Some(first))).await.unwrap();
    let Delivery::Updated(second) = &updated else {
        panic!("expected an update, got {updated:?}");
    };
    assert_eq!(second.remote_id, first.remote_id);
    assert_ne!(second.content_hash, first.content_hash);
    let put = fake.requests().pop().unwrap();
    assert_eq!(put.method, "PUT");
    assert_eq!(put.path, format!("/api/articles/{}", first.remote_id));
    assert_eq!(put.body["article"]["body_markdown"], edited.body.as_str());
    assert!(
        put.body["article"].get("published").is_none(),
        "an update never unpublishes"
    );
    assert_eq!(fake.posts(), 1);
    let stored = fake.articles();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body_markdown, edited.body);
}

#[tokio::test]
async fn devto_publishes_articles_when_configured_to() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let draft = Draft::weekly("## Summary\n\nQuiet week.\n");
    devto(&fake, dir.path(), true)
        .publish(&draft.outgoing(None))
        .await
        .unwrap();
    assert!(fake.articles()[0].published);
}

#[tokio::test]
async fn devto_finds_an_article_by_canonical_url_when_the_record_was_lost() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The oldest of 130 articles: listed newest first, it is on the second page.
    let id = fake.add_article("Week 47, published before", Some(CANONICAL));
    for n in 0..129 {
        fake.add_article(
            &format!("Other post {n}"),
            Some("https://elsewhere.example/"),
        );
    }
    let draft = Draft::weekly("## Summary\n\n5 commits.\n");
    let delivery = devto(&fake, dir.path(), false)
        .publish(&draft.outgoing(None))
        .await
        .unwrap();
    let Delivery::Updated(publication) = &delivery else {
        panic!("expected the lost article updated, got {delivery:?}");
    };
    assert_eq!(publication.remote_id, id.to_string());
    assert_eq!(fake.posts(), 0, "no second article");
    let articles = fake.articles();
    assert_eq!(articles.len(), 130);
    let found = articles.iter().find(|a| a.id == id).unwrap();
    assert_eq!(found.body_markdown, draft.body);
    assert!(found.published, "published by hand, it stays published");
    let pages: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        pages,
        [
            "/api/articles/me/all?per_page=100&page=1",
            "/api/articles/me/all?per_page=100&page=2"
        ]
    );
}

#[tokio::test]
async fn devto_without_a_canonical_url_or_record_refuses_before_sending() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut draft = Draft::weekly("## Summary\n");
    draft.canonical_url = None;
    let error = devto(&fake, dir.path(), false)
        .publish(&draft.outgoing(None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ChannelError::NotConfigured {
                key: "publish.site_url",
                ..
            }
        ),
        "{error}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn devto_rate_limited_posts_nothing() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    fake.rate_limit(true);
    let draft = Draft::weekly("## Summary\n");
    let error = devto(&fake, dir.path(), false)
        .publish(&draft.outgoing(None))
        .await
        .unwrap_err();
    assert_eq!(retry_after(error), 30, "from Retry-After");
    assert!(fake.articles().is_empty());
    assert_eq!(fake.posts(), 1, "sent once, never retried");
}

#[tokio::test]
async fn devto_server_error_after_accept_then_publishing_again_does_not_duplicate() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let devto = devto(&fake, dir.path(), false);
    let draft = Draft::weekly("## Summary\n");
    fake.fail_after_accept(true);
    assert_server_error(devto.publish(&draft.outgoing(None)).await);
    fake.fail_after_accept(false);

    let delivery = devto.publish(&draft.outgoing(None)).await.unwrap();
    assert!(matches!(delivery, Delivery::Updated(_)), "{delivery:?}");
    assert_eq!(fake.articles().len(), 1);
    assert_eq!(fake.posts(), 1);
}

#[tokio::test]
async fn devto_bad_api_key_is_reported_without_it() {
    let fake = FakeDevto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "devto-wr0ng-key-9f8e7d";
    let devto = Devto::new(&DevtoConfig {
        url: fake.url(),
        api_key: secret(dir.path(), "devto.key", wrong),
        ..DevtoConfig::default()
    })
    .unwrap();
    let draft = Draft::weekly("## Summary\n");
    let error = devto.publish(&draft.outgoing(None)).await.unwrap_err();
    assert_bad_token(&error, "devto.api_key", wrong);
    assert!(fake.articles().is_empty());
}

// ---------------------------------------------------------------------------------------
// Mastodon

fn mastodon(fake: &FakeMastodon, dir: &Path, token: &str) -> Mastodon {
    Mastodon::new(&MastodonConfig {
        url: fake.url(),
        token: secret(dir, "mastodon.token", token),
        visibility: "unlisted".into(),
    })
    .unwrap()
}

#[tokio::test]
async fn mastodon_posts_a_status_then_edits_it_in_place() {
    let fake = FakeMastodon::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mastodon = mastodon(&fake, dir.path(), masto::TOKEN);
    assert!(!format!("{mastodon:?}").contains(masto::TOKEN));
    let draft = Draft::social(DraftKind::Mastodon, "Week 47: 5 commits, the store landed.");

    let created = mastodon.publish(&draft.outgoing(None)).await.unwrap();
    let Delivery::Created(first) = &created else {
        panic!("expected a new status, got {created:?}");
    };
    let post = fake.requests().pop().unwrap();
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/api/v1/statuses")
    );
    assert_eq!(post.body["status"], draft.body.as_str());
    assert_eq!(post.body["visibility"], "unlisted");
    assert!(post.idempotency_key.is_some());
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(first.remote_id, statuses[0].id);
    assert_eq!(
        first.url,
        format!("{}/@{}/{}", fake.url(), masto::ACCOUNT, first.remote_id)
    );

    let sent = fake.requests().len();
    let again = mastodon
        .publish(&draft.outgoing(Some(first)))
        .await
        .unwrap();
    assert_eq!(again, Delivery::Unchanged(first.clone()));
    assert_eq!(fake.requests().len(), sent);

    let edited = Draft::social(DraftKind::Mastodon, "Week 47: 6 commits, the store landed.");
    let updated = mastodon
        .publish(&edited.outgoing(Some(first)))
        .await
        .unwrap();
    let Delivery::Updated(second) = &updated else {
        panic!("expected an edit, got {updated:?}");
    };
    assert_eq!(second.remote_id, first.remote_id);
    let put = fake.requests().pop().unwrap();
    assert_eq!(put.method, "PUT");
    assert_eq!(put.path, format!("/api/v1/statuses/{}", first.remote_id));
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1, "edited, not posted again");
    assert!(statuses[0].edited);
    assert_eq!(statuses[0].text, edited.body);
}

#[tokio::test]
async fn mastodon_rate_limited_posts_nothing() {
    let fake = FakeMastodon::start().await;
    let dir = tempfile::tempdir().unwrap();
    fake.rate_limit(true);
    let draft = Draft::social(DraftKind::Mastodon, "Week 47.");
    let error = mastodon(&fake, dir.path(), masto::TOKEN)
        .publish(&draft.outgoing(None))
        .await
        .unwrap_err();
    let wait = retry_after(error);
    assert!(wait <= 300, "from X-RateLimit-Reset: {wait}");
    assert!(fake.statuses().is_empty());
    assert_eq!(fake.requests().len(), 1, "sent once, never retried");
}

#[tokio::test]
async fn mastodon_server_error_after_accept_then_publishing_again_returns_the_same_status() {
    let fake = FakeMastodon::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mastodon = mastodon(&fake, dir.path(), masto::TOKEN);
    let draft = Draft::social(DraftKind::Mastodon, "Week 47: 5 commits.");
    fake.fail_after_accept(true);
    assert_server_error(mastodon.publish(&draft.outgoing(None)).await);
    fake.fail_after_accept(false);

    let delivery = mastodon.publish(&draft.outgoing(None)).await.unwrap();
    let statuses = fake.statuses();
    assert_eq!(
        statuses.len(),
        1,
        "the Idempotency-Key found the first status"
    );
    assert_eq!(delivery.publication().remote_id, statuses[0].id);
    let keys: Vec<Option<String>> = fake
        .requests()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn mastodon_bad_token_is_reported_without_it() {
    let fake = FakeMastodon::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "mastodon-wr0ng-t0ken-4b3c2d";
    let draft = Draft::social(DraftKind::Mastodon, "Week 47.");
    let error = mastodon(&fake, dir.path(), wrong)
        .publish(&draft.outgoing(None))
        .await
        .unwrap_err();
    assert_bad_token(&error, "mastodon.token", wrong);
    assert!(fake.statuses().is_empty());
}

// ---------------------------------------------------------------------------------------
// Bluesky

const CREATE_SESSION: &str = "com.atproto.server.createSession";
const REFRESH_SESSION: &str = "com.atproto.server.refreshSession";
const PUT_RECORD: &str = "com.atproto.repo.putRecord";
const DELETE_RECORD: &str = "com.atproto.repo.deleteRecord";
const DATE: jiff::civil::Date = jiff::civil::date(2026, 11, 16);

fn bluesky(fake: &FakeBluesky, dir: &Path, password: &str) -> Bluesky {
    Bluesky::new(
        &BlueskyConfig {
            url: fake.url(),
            identifier: bsky::HANDLE.into(),
            app_password: secret(dir, "bluesky.password", password),
        },
        session_file(dir),
    )
    .unwrap()
}

fn session_file(dir: &Path) -> PathBuf {
    dir.join("state").join("bluesky-session.json")
}

/// Publishes `draft` as a run of its own does: with a new client, which finds the session
/// an earlier run saved.
async fn publish_in_a_new_run(fake: &FakeBluesky, dir: &Path, draft: &Draft) {
    bluesky(fake, dir, bsky::APP_PASSWORD)
        .publish(&draft.outgoing(None))
        .await
        .unwrap();
}

/// The next week's post: another draft, under a record key of its own.
fn week_48() -> Draft {
    Draft {
        id: "2026-W48-raibid-bluesky",
        ..Draft::social(DraftKind::Bluesky, "Week 48.")
    }
}

/// The AT URI of the post under `rkey`.
fn post_uri(rkey: &str) -> String {
    format!("at://{}/{}/{rkey}", bsky::DID, bsky::POST)
}

#[tokio::test]
async fn bluesky_writes_a_post_record_under_a_key_derived_from_the_draft_and_text() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bluesky = bluesky(&fake, dir.path(), bsky::APP_PASSWORD);
    assert!(!format!("{bluesky:?}").contains(bsky::APP_PASSWORD));
    let draft = Draft::social(
        DraftKind::Bluesky,
        "Week 47: 5 commits. https://example.org/w47",
    );

    let created = bluesky.publish(&draft.outgoing(None)).await.unwrap();
    let Delivery::Created(first) = &created else {
        panic!("expected a new post, got {created:?}");
    };
    let sign_in = &fake.requests()[0];
    assert_eq!(sign_in.method, CREATE_SESSION);
    assert_eq!(sign_in.body["identifier"], bsky::HANDLE);
    assert_eq!(sign_in.body["password"], bsky::APP_PASSWORD);
    let put = fake.requests().pop().unwrap();
    assert_eq!(put.method, PUT_RECORD);
    assert!(put.authorization.unwrap().starts_with("Bearer eyJ"));
    let rkey = record_key(draft.id, DATE, &draft.body);
    assert_eq!(put.body["repo"], bsky::DID);
    assert_eq!(put.body["collection"], bsky::POST);
    assert_eq!(put.body["rkey"], rkey.as_str());
    let record = &put.body["record"];
    assert_eq!(record["$type"], bsky::POST);
    assert_eq!(record["text"], draft.body.as_str());
    assert!(record["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        record["facets"][0]["features"][0]["$type"],
        "app.bsky.richtext.facet#link"
    );
    assert_eq!(fake.posts().len(), 1);
    assert_eq!(first.remote_id, post_uri(&rkey));
    assert_eq!(
        first.url,
        format!("https://bsky.app/profile/{}/post/{rkey}", bsky::HANDLE)
    );
    let mode = std::fs::metadata(session_file(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let sent = fake.requests().len();
    let again = bluesky.publish(&draft.outgoing(Some(first))).await.unwrap();
    assert_eq!(again, Delivery::Unchanged(first.clone()));
    assert_eq!(fake.requests().len(), sent);
}

#[tokio::test]
async fn bluesky_republishes_changed_text_as_a_new_post_and_deletes_the_old_one() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bluesky = bluesky(&fake, dir.path(), bsky::APP_PASSWORD);
    let draft = Draft::social(DraftKind::Bluesky, "Week 47: 5 commits.");
    let first = bluesky
        .publish(&draft.outgoing(None))
        .await
        .unwrap()
        .publication()
        .clone();
    let old_key = record_key(draft.id, DATE, &draft.body);

    let edited = Draft::social(DraftKind::Bluesky, "Week 47: 6 commits.");
    let updated = bluesky
        .publish(&edited.outgoing(Some(&first)))
        .await
        .unwrap();
    let Delivery::Updated(second) = &updated else {
        panic!("expected an update, got {updated:?}");
    };
    let new_key = record_key(draft.id, DATE, &edited.body);
    assert_ne!(new_key, old_key);
    assert_eq!(second.remote_id, post_uri(&new_key));
    assert_eq!(
        second.url,
        format!("https://bsky.app/profile/{}/post/{new_key}", bsky::HANDLE)
    );
    assert_eq!(second.content_hash, content_hash(&edited.body));
    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "the new post only: {posts:?}");
    assert_eq!(posts[&new_key]["text"], edited.body.as_str());
    // Written first, then the old record deleted.
    let requests = fake.requests();
    let [.., put, delete] = requests.as_slice() else {
        panic!("{requests:?}");
    };
    assert_eq!(put.method, PUT_RECORD);
    assert_eq!(put.body["rkey"], new_key.as_str());
    assert_eq!(delete.method, DELETE_RECORD);
    assert_eq!(
        delete.body,
        serde_json::json!({ "repo": bsky::DID, "collection": bsky::POST, "rkey": old_key })
    );
    assert_eq!(delete.authorization, put.authorization);
}

#[tokio::test]
async fn bluesky_republish_retried_after_a_server_error_leaves_one_post() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bluesky = bluesky(&fake, dir.path(), bsky::APP_PASSWORD);
    let draft = Draft::social(DraftKind::Bluesky, "Week 47: 5 commits.");
    let first = bluesky
        .publish(&draft.outgoing(None))
        .await
        .unwrap()
        .publication()
        .clone();
    let edited = Draft::social(DraftKind::Bluesky, "Week 47: 6 commits.");
    fake.fail_after_accept(true);
    assert_server_error(bluesky.publish(&edited.outgoing(Some(&first))).await);
    assert_eq!(
        fake.calls(DELETE_RECORD),
        0,
        "nothing deleted before the new post is out"
    );
    assert_eq!(fake.posts().len(), 2);
    fake.fail_after_accept(false);

    // The publication was not recorded: the same text again, from the first one.
    let delivery = bluesky
        .publish(&edited.outgoing(Some(&first)))
        .await
        .unwrap();
    let new_key = record_key(draft.id, DATE, &edited.body);
    assert_eq!(delivery.publication().remote_id, post_uri(&new_key));
    assert_eq!(fake.calls(PUT_RECORD), 3);
    let posts = fake.posts();
    assert_eq!(
        posts.keys().collect::<Vec<_>>(),
        [&new_key],
        "rewritten, not duplicated"
    );
}

#[tokio::test]
async fn bluesky_a_failed_delete_names_the_post_left_behind_and_publishing_again_deletes_it() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bluesky = bluesky(&fake, dir.path(), bsky::APP_PASSWORD);
    let draft = Draft::social(DraftKind::Bluesky, "Week 47: 5 commits.");
    let first = bluesky
        .publish(&draft.outgoing(None))
        .await
        .unwrap()
        .publication()
        .clone();
    let edited = Draft::social(DraftKind::Bluesky, "Week 47: 6 commits.");
    let new_key = record_key(draft.id, DATE, &edited.body);
    fake.fail_deletes(true);

    let error = bluesky
        .publish(&edited.outgoing(Some(&first)))
        .await
        .unwrap_err();
    let message = error.to_string();
    let new_url = format!("https://bsky.app/profile/{}/post/{new_key}", bsky::HANDLE);
    assert!(
        message.starts_with("bluesky: the new post is out")
            && message.contains(&new_url)
            && message.contains(&format!("deleting {} failed", first.remote_id))
            && message.contains(&first.url)
            && message.contains("HTTP 500")
            && message.contains("publish again"),
        "{message}"
    );
    assert_eq!(
        fake.posts().len(),
        2,
        "the new post is out, the old one still there"
    );
    fake.fail_deletes(false);

    let delivery = bluesky
        .publish(&edited.outgoing(Some(&first)))
        .await
        .unwrap();
    assert!(matches!(delivery, Delivery::Updated(_)), "{delivery:?}");
    assert_eq!(fake.posts().keys().collect::<Vec<_>>(), [&new_key]);
    assert_eq!(fake.calls(DELETE_RECORD), 2);
}

#[tokio::test]
async fn bluesky_hashtags_get_tag_facets_counted_in_utf8_bytes() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = "Größere Änderungen 🚀 — café: #devlog und #Rust. https://example.org/w47 #2026";
    let draft = Draft::social(DraftKind::Bluesky, text);
    bluesky(&fake, dir.path(), bsky::APP_PASSWORD)
        .publish(&draft.outgoing(None))
        .await
        .unwrap();
    let record = fake.posts().into_values().next().unwrap();
    let facets: Vec<(u64, u64, &str, &str)> = record["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|facet| {
            let feature = &facet["features"][0];
            let value = feature.get("tag").or(feature.get("uri")).unwrap();
            (
                facet["index"]["byteStart"].as_u64().unwrap(),
                facet["index"]["byteEnd"].as_u64().unwrap(),
                feature["$type"].as_str().unwrap(),
                value.as_str().unwrap(),
            )
        })
        .collect();
    let at = |part: &str| text.find(part).unwrap() as u64;
    let (devlog, rust, link) = (at("#devlog"), at("#Rust"), at("https://"));
    const TAG: &str = "app.bsky.richtext.facet#tag";
    assert_eq!(
        facets,
        [
            (devlog, devlog + 7, TAG, "devlog"),
            (rust, rust + 5, TAG, "Rust"),
            (
                link,
                link + 23,
                "app.bsky.richtext.facet#link",
                "https://example.org/w47"
            ),
        ],
        "the digits-only #2026 is no tag"
    );
    // Counted in characters #devlog would start 9 positions earlier.
    assert_eq!(text[..devlog as usize].chars().count() + 9, devlog as usize);
}

#[tokio::test]
async fn bluesky_reuses_the_saved_session_across_runs() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = Draft::social(DraftKind::Bluesky, "Week 47.");
    publish_in_a_new_run(&fake, dir.path(), &first).await;
    publish_in_a_new_run(&fake, dir.path(), &week_48()).await;
    assert_eq!(fake.calls(CREATE_SESSION), 1);
    assert_eq!(fake.calls(PUT_RECORD), 2);
    assert_eq!(fake.posts().len(), 2);
}

#[tokio::test]
async fn bluesky_refreshes_an_expired_access_token() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bluesky = bluesky(&fake, dir.path(), bsky::APP_PASSWORD);
    let first = Draft::social(DraftKind::Bluesky, "Week 47.");
    bluesky.publish(&first.outgoing(None)).await.unwrap();
    fake.expire_access_tokens();

    bluesky.publish(&week_48().outgoing(None)).await.unwrap();
    assert_eq!(fake.calls(REFRESH_SESSION), 1);
    assert_eq!(
        fake.calls(CREATE_SESSION),
        1,
        "refreshed, not signed in again"
    );
    assert_eq!(fake.posts().len(), 2);
    let saved = std::fs::read_to_string(session_file(dir.path())).unwrap();
    assert!(saved.contains("access-2"), "the refreshed session is kept");
}

#[tokio::test]
async fn bluesky_signs_in_again_when_the_refresh_token_expired_too() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = Draft::social(DraftKind::Bluesky, "Week 47.");
    publish_in_a_new_run(&fake, dir.path(), &first).await;
    fake.expire_access_tokens();
    fake.expire_refresh_tokens();

    publish_in_a_new_run(&fake, dir.path(), &week_48()).await;
    assert_eq!(fake.calls(REFRESH_SESSION), 1);
    assert_eq!(fake.calls(CREATE_SESSION), 2);
    assert_eq!(fake.posts().len(), 2);
}

#[tokio::test]
async fn bluesky_link_facets_count_utf8_bytes() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text =
        "Größere Änderungen 🚀 — café: https://example.org/wöche-47 und (https://b.example/x).";
    let draft = Draft::social(DraftKind::Bluesky, text);
    bluesky(&fake, dir.path(), bsky::APP_PASSWORD)
        .publish(&draft.outgoing(None))
        .await
        .unwrap();
    let record = fake.posts().into_values().next().unwrap();
    let facets = record["facets"].as_array().unwrap();
    assert_eq!(facets.len(), 2);
    let expected = [
        (
            "https://example.org/wöche-47",
            text.find("https://example").unwrap(),
        ),
        ("https://b.example/x", text.find("https://b.").unwrap()),
    ];
    for (facet, (uri, start)) in facets.iter().zip(expected) {
        assert_eq!(facet["features"][0]["uri"], uri);
        assert_eq!(facet["index"]["byteStart"], start);
        assert_eq!(facet["index"]["byteEnd"], start + uri.len());
    }
    // Counted in characters the first link would start 9 positions earlier.
    assert_eq!(text[..expected[0].1].chars().count() + 9, expected[0].1);
}

#[tokio::test]
async fn bluesky_rate_limited_posts_nothing() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    fake.rate_limit(true);
    let draft = Draft::social(DraftKind::Bluesky, "Week 47.");
    let error = bluesky(&fake, dir.path(), bsky::APP_PASSWORD)
        .publish(&draft.outgoing(None))
        .await
        .unwrap_err();
    let wait = retry_after(error);
    assert!(wait <= 300, "from RateLimit-Reset: {wait}");
    assert!(fake.posts().is_empty());
    assert_eq!(fake.requests().len(), 1, "sent once, never retried");
}

#[tokio::test]
async fn bluesky_server_error_after_accept_then_publishing_again_rewrites_the_same_record() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bluesky = bluesky(&fake, dir.path(), bsky::APP_PASSWORD);
    let draft = Draft::social(DraftKind::Bluesky, "Week 47: 5 commits.");
    fake.fail_after_accept(true);
    assert_server_error(bluesky.publish(&draft.outgoing(None)).await);
    assert_eq!(fake.calls(PUT_RECORD), 1, "never retried");
    fake.fail_after_accept(false);

    bluesky.publish(&draft.outgoing(None)).await.unwrap();
    assert_eq!(fake.calls(PUT_RECORD), 2);
    assert_eq!(fake.posts().len(), 1, "one record under the draft's key");
}

#[tokio::test]
async fn bluesky_bad_app_password_is_reported_without_it() {
    let fake = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "wxyz-wr0n-gpas-s123";
    let draft = Draft::social(DraftKind::Bluesky, "Week 47.");
    let error = bluesky(&fake, dir.path(), wrong)
        .publish(&draft.outgoing(None))
        .await
        .unwrap_err();
    assert_bad_token(&error, "bluesky.app_password", wrong);
    assert!(fake.posts().is_empty());
    assert!(!session_file(dir.path()).exists());
}
