//! The GitHub publishing channels against a local fake GitHub
//! (tests/support/src/github_publish.rs): `docs-github` writes the post through the contents
//! API, `github-comment` comments on an issue (REST) or a discussion (GraphQL). Each
//! finds what it published before and changes it in place, never twice.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use raibid::backend::sparky::channels::docs_github::DocsGithub;
use raibid::backend::sparky::channels::github_comment::GithubComment;
use raibid::backend::sparky::channels::{
    ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash,
};
use raibid::backend::sparky::model::DraftKind;
use raibid::config::{Config, Secret};
use support::github_publish::{
    FakeComment, FakeGitHubPublish, LOGIN, Limit, RESET_AFTER_SECS, SECONDARY_RETRY_AFTER_SECS,
    TOKEN,
};

const DOCS_REPO: &str = "acme/docs";
const SITE_REPO: &str = "acme/site";
const ISSUE: u64 = 12;
const DISCUSSION: u64 = 7;
const PATH: &str = "content/blog/2026/11/week-2026-47.md";
const MARKER: &str = "<!-- raibid:draft 2026-W47-raibid -->";

/// A draft as the channels receive it.
struct Draft {
    title: String,
    body: String,
    post: String,
}

impl Draft {
    fn new(body: &str) -> Draft {
        let title = "Week 47 in raibid".to_owned();
        Draft {
            post: format!("---\ntitle: \"{title}\"\ndate: 2026-11-16\n---\n\n{body}"),
            title,
            body: body.to_owned(),
        }
    }

    fn outgoing<'a>(&'a self, previous: Option<&'a Publication>) -> Outgoing<'a> {
        Outgoing {
            draft_id: "2026-W47-raibid",
            kind: DraftKind::Weekly,
            date: jiff::civil::date(2026, 11, 16),
            title: &self.title,
            body: &self.body,
            post: &self.post,
            path: PATH,
            canonical_url: None,
            tags: &[],
            previous,
        }
    }
}

fn first() -> Draft {
    Draft::new("## Summary\n\n5 commits by 3 contributors.\n")
}

fn second() -> Draft {
    Draft::new("## Summary\n\n6 commits by 3 contributors.\n")
}

/// The comment a draft becomes.
fn comment_text(draft: &Draft) -> String {
    format!("{}\n\n{MARKER}", draft.body.trim_end())
}

struct Setup {
    fake: FakeGitHubPublish,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let fake = FakeGitHubPublish::start();
        fake.add_issue(SITE_REPO, ISSUE);
        fake.add_discussion(SITE_REPO, DISCUSSION);
        Setup {
            fake,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn config_with_token(&self, token: &str, comment_on: &str) -> Config {
        let mut config = Config::default();
        config.github.api_url = self.fake.url();
        config.github.token = Secret::File(token_file(self.dir.path(), token));
        config.publish.github_repo = DOCS_REPO.into();
        config.publish.branch = "main".into();
        config.publish.github_comment = comment_on.into();
        config
    }

    fn config(&self, comment_on: &str) -> Config {
        self.config_with_token(TOKEN, comment_on)
    }

    fn docs(&self) -> DocsGithub {
        DocsGithub::new(&self.config("")).unwrap()
    }

    fn on_issue(&self) -> GithubComment {
        GithubComment::new(&self.config(&format!("{SITE_REPO}#{ISSUE}"))).unwrap()
    }

    fn on_discussion(&self) -> GithubComment {
        GithubComment::new(&self.config(&format!("{SITE_REPO}/discussions/{DISCUSSION}"))).unwrap()
    }

    fn docs_file(&self) -> Option<String> {
        self.fake.file(DOCS_REPO, "main", PATH)
    }
}

fn token_file(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join(format!("token-{}", content_hash(token)));
    std::fs::write(&path, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn created(delivery: Delivery) -> Publication {
    match delivery {
        Delivery::Created(publication) => publication,
        other => panic!("expected Created, got {other:?}"),
    }
}

fn updated(delivery: Delivery) -> Publication {
    match delivery {
        Delivery::Updated(publication) => publication,
        other => panic!("expected Updated, got {other:?}"),
    }
}

fn unchanged(delivery: Delivery) -> Publication {
    match delivery {
        Delivery::Unchanged(publication) => publication,
        other => panic!("expected Unchanged, got {other:?}"),
    }
}

/// The error of a write the remote stored, then answered with 500.
fn server_error(result: Result<Delivery, ChannelError>) -> ChannelError {
    match result {
        Err(error @ ChannelError::Server { status: 500, .. }) => error,
        other => panic!("expected a server error (500), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// docs-github

#[tokio::test]
async fn the_post_is_created_and_publishing_it_unchanged_makes_no_commit() {
    let setup = Setup::new();
    let docs = setup.docs();
    let draft = first();

    let publication = created(docs.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(setup.docs_file().as_deref(), Some(draft.post.as_str()));
    let commits = setup.fake.commits();
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0].message, "publish: Week 47 in raibid");
    assert_eq!(commits[0].path, PATH);
    assert_eq!(publication.channel, ChannelName::DocsGithub);
    assert_eq!(publication.remote_id, commits[0].sha);
    assert_eq!(
        publication.url,
        format!("https://github.com/{DOCS_REPO}/blob/main/{PATH}")
    );
    assert_eq!(publication.content_hash, content_hash(&draft.post));
    let seen = setup.fake.seen();
    assert_eq!(
        setup.fake.log(),
        [
            format!("GET /repos/{DOCS_REPO}/contents/{PATH}?ref=main"),
            format!("PUT /repos/{DOCS_REPO}/contents/{PATH}"),
        ]
    );
    for request in &seen {
        assert_eq!(
            request.accept.as_deref(),
            Some("application/vnd.github+json")
        );
        assert_eq!(request.api_version.as_deref(), Some("2022-11-28"));
        assert!(
            request
                .user_agent
                .as_deref()
                .unwrap()
                .starts_with("raibid/")
        );
    }
    assert_eq!(seen[1].body["branch"], "main");
    assert!(seen[1].body.get("sha").is_none(), "{:?}", seen[1].body);

    // With the record: the same publication, no commit.
    let again = unchanged(
        docs.publish(&draft.outgoing(Some(&publication)))
            .await
            .unwrap(),
    );
    assert_eq!(again, publication);
    // Without it: the file's last commit is looked up, still no commit.
    let found = unchanged(docs.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(found.remote_id, publication.remote_id);
    assert_eq!(found.url, publication.url);
    assert_eq!(found.published_at, commits[0].date);
    assert_eq!(setup.fake.commits().len(), 1);
    assert!(
        setup
            .fake
            .log()
            .iter()
            .filter(|l| l.starts_with("PUT"))
            .count()
            == 1,
        "{:?}",
        setup.fake.log()
    );
}

#[tokio::test]
async fn a_changed_post_updates_the_file_naming_its_current_blob() {
    let setup = Setup::new();
    let docs = setup.docs();
    let publication = created(docs.publish(&first().outgoing(None)).await.unwrap());
    // Someone edits the file on GitHub: its blob changes.
    setup
        .fake
        .commit_elsewhere(DOCS_REPO, "main", PATH, "edited on GitHub\n");
    setup.fake.clear_log();

    let draft = second();
    let publication = updated(
        docs.publish(&draft.outgoing(Some(&publication)))
            .await
            .unwrap(),
    );
    assert_eq!(setup.docs_file().as_deref(), Some(draft.post.as_str()));
    let commits = setup.fake.commits();
    assert_eq!(commits.len(), 3);
    assert_eq!(publication.remote_id, commits[2].sha);
    let put = &setup.fake.seen()[1];
    assert_eq!(put.method, "PUT");
    // `printf 'edited on GitHub\n' | git hash-object --stdin`
    assert_eq!(put.body["sha"], "e4789822875f9912f9c8bafd45f02c42b71feb5d");
}

#[tokio::test]
async fn a_file_changed_on_github_meanwhile_is_not_overwritten() {
    let setup = Setup::new();
    let docs = setup.docs();
    created(docs.publish(&first().outgoing(None)).await.unwrap());
    setup.fake.edit_after_next_read("someone else's words\n");

    let draft = second();
    let error = docs.publish(&draft.outgoing(None)).await.unwrap_err();
    assert!(
        matches!(error, ChannelError::Rejected { status: 409, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(PATH)
            && message.contains("changed on GitHub meanwhile")
            && message.contains("publishing again reads it anew"),
        "{message}"
    );
    assert_eq!(setup.docs_file().as_deref(), Some("someone else's words\n"));

    // Publishing again reads the new blob and replaces it.
    updated(docs.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(setup.docs_file().as_deref(), Some(draft.post.as_str()));
}

#[tokio::test]
async fn rate_limits_are_reported_and_nothing_is_written() {
    let setup = Setup::new();
    let docs = setup.docs();
    setup.fake.limit(Limit::Primary);
    let error = docs.publish(&first().outgoing(None)).await.unwrap_err();
    match error {
        ChannelError::RateLimited {
            channel: ChannelName::DocsGithub,
            retry_after_secs: Some(secs),
        } => assert!(secs <= RESET_AFTER_SECS as u64, "{secs}"),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    setup.fake.limit(Limit::Secondary);
    let error = docs.publish(&first().outgoing(None)).await.unwrap_err();
    assert!(
        matches!(
            error,
            ChannelError::RateLimited { retry_after_secs: Some(secs), .. }
                if secs == SECONDARY_RETRY_AFTER_SECS
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("nothing was retried"), "{error}");
    // One request each: nothing retried, nothing written.
    assert_eq!(setup.fake.seen().len(), 2);
    assert!(setup.fake.commits().is_empty());

    setup.fake.lift_limit();
    created(docs.publish(&first().outgoing(None)).await.unwrap());
}

#[tokio::test]
async fn a_commit_answered_with_a_server_error_is_not_made_twice() {
    let setup = Setup::new();
    let docs = setup.docs();
    let draft = first();
    setup.fake.fail_next_write();
    let error = server_error(docs.publish(&draft.outgoing(None)).await);
    assert!(
        error.to_string().contains("publishing again finds it"),
        "{error}"
    );
    assert_eq!(setup.fake.commits().len(), 1);

    let found = unchanged(docs.publish(&draft.outgoing(None)).await.unwrap());
    let commits = setup.fake.commits();
    assert_eq!(commits.len(), 1);
    assert_eq!(found.remote_id, commits[0].sha);
}

#[tokio::test]
async fn a_refused_token_is_named_and_never_shown() {
    let setup = Setup::new();
    let wrong = "ghp_wR0nGt0kEnThAtMuStNeVeRbEsHoWn1234567";
    let config = setup.config_with_token(wrong, &format!("{SITE_REPO}#{ISSUE}"));
    let docs = DocsGithub::new(&config).unwrap();
    let comment = GithubComment::new(&config).unwrap();
    assert!(!format!("{docs:?} {comment:?}").contains(wrong));

    let draft = first();
    let errors = [
        docs.publish(&draft.outgoing(None)).await.unwrap_err(),
        comment.publish(&draft.outgoing(None)).await.unwrap_err(),
    ];
    for error in errors {
        assert!(
            matches!(
                error,
                ChannelError::BadToken {
                    status: 401,
                    key: "github.token",
                    ..
                }
            ),
            "{error:?}"
        );
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("github.token"), "{shown}");
        assert!(!shown.contains(wrong), "{shown}");
    }
    assert!(setup.fake.commits().is_empty());
}

#[test]
fn settings_are_checked_before_any_request() {
    let fake = FakeGitHubPublish::start();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.github.api_url = fake.url();
    config.github.token = Secret::File(token_file(dir.path(), TOKEN));

    let docs_error = |config: &Config| DocsGithub::new(config).unwrap_err().to_string();
    let comment_error = |config: &Config| GithubComment::new(config).unwrap_err().to_string();
    assert_eq!(
        docs_error(&config),
        "docs-github: publish.github_repo is not set"
    );
    assert_eq!(
        comment_error(&config),
        "github-comment: publish.github_comment is not set"
    );
    config.publish.github_repo = "acme".into();
    assert!(docs_error(&config).contains("publish.github_repo is not valid"));
    config.publish.github_comment = "acme/site/pull/3".into();
    let error = comment_error(&config);
    assert!(
        error.contains("publish.github_comment is not valid") && error.contains("owner/name#12"),
        "{error}"
    );

    config.publish.github_repo = DOCS_REPO.into();
    config.github.token = Secret::None;
    assert_eq!(docs_error(&config), "docs-github: github.token is not set");
    config.github.token = Secret::File(token_file(dir.path(), TOKEN));
    config.github.api_url = "not a url".into();
    assert!(docs_error(&config).contains("github.api_url is not valid"));
    assert!(fake.seen().is_empty());
}

// ---------------------------------------------------------------------------------------
// github-comment on an issue

#[tokio::test]
async fn an_issue_comment_carries_the_marker_and_republishing_edits_it_in_place() {
    let setup = Setup::new();
    let channel = setup.on_issue();
    let draft = first();
    let publication = created(channel.publish(&draft.outgoing(None)).await.unwrap());
    let comments = setup.fake.issue_comments(SITE_REPO, ISSUE);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, comment_text(&draft));
    assert_eq!(publication.channel, ChannelName::GithubComment);
    assert_eq!(publication.remote_id, comments[0].id.to_string());
    assert_eq!(
        publication.url,
        format!(
            "https://github.com/{SITE_REPO}/issues/{ISSUE}#issuecomment-{}",
            comments[0].id
        )
    );
    assert_eq!(
        publication.content_hash,
        content_hash(&comment_text(&draft))
    );

    // The same text again: nothing is written.
    setup.fake.clear_log();
    let same = unchanged(
        channel
            .publish(&draft.outgoing(Some(&publication)))
            .await
            .unwrap(),
    );
    assert_eq!(same.remote_id, publication.remote_id);
    assert_eq!(same.published_at, publication.published_at);
    assert_eq!(setup.fake.writes(), 0, "{:?}", setup.fake.log());

    // A changed draft edits the comment.
    let draft = second();
    let edited = updated(
        channel
            .publish(&draft.outgoing(Some(&publication)))
            .await
            .unwrap(),
    );
    assert_eq!(edited.remote_id, publication.remote_id);
    let comments = setup.fake.issue_comments(SITE_REPO, ISSUE);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, comment_text(&draft));
    assert_eq!(
        setup.fake.log().last().unwrap(),
        &format!(
            "PATCH /repos/{SITE_REPO}/issues/comments/{}",
            publication.remote_id
        )
    );
}

#[tokio::test]
async fn an_issue_comment_is_found_by_its_marker_without_a_record() {
    let setup = Setup::new();
    let channel = setup.on_issue();
    setup.fake.add_issue_comments(SITE_REPO, ISSUE, 3);
    let publication = created(channel.publish(&first().outgoing(None)).await.unwrap());
    setup.fake.add_issue_comments(SITE_REPO, ISSUE, 2);

    let draft = second();
    let edited = updated(channel.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(edited.remote_id, publication.remote_id);
    let comments = setup.fake.issue_comments(SITE_REPO, ISSUE);
    assert_eq!(comments.len(), 6);
    let ours: Vec<_> = comments
        .iter()
        .filter(|c| c.body.contains(MARKER))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].body, comment_text(&draft));
}

#[tokio::test]
async fn issue_comments_are_searched_on_every_page() {
    let setup = Setup::new();
    let channel = setup.on_issue();
    setup.fake.add_issue_comments(SITE_REPO, ISSUE, 250);

    let publication = created(channel.publish(&first().outgoing(None)).await.unwrap());
    let log = setup.fake.log();
    assert_eq!(log.len(), 5, "{log:?}");
    assert_eq!(log[0], "GET /user", "whose comments count");
    assert_eq!(
        log[1],
        format!("GET /repos/{SITE_REPO}/issues/{ISSUE}/comments?per_page=100&page=1")
    );
    assert!(log[2].starts_with("GET /repositories/") && log[2].ends_with("page=2"));
    assert!(log[3].ends_with("page=3"));
    assert_eq!(
        log[4],
        format!("POST /repos/{SITE_REPO}/issues/{ISSUE}/comments")
    );

    // Ours is the 251st: on the third page.
    setup.fake.clear_log();
    let edited = updated(channel.publish(&second().outgoing(None)).await.unwrap());
    assert_eq!(edited.remote_id, publication.remote_id);
    assert_eq!(setup.fake.log().len(), 5);
    assert_eq!(setup.fake.issue_comments(SITE_REPO, ISSUE).len(), 251);
}

/// The comments by someone other than the token's account.
fn strangers(comments: &[FakeComment]) -> Vec<&FakeComment> {
    comments.iter().filter(|c| c.author != LOGIN).collect()
}

#[tokio::test]
async fn an_issue_comment_with_the_marker_by_someone_else_is_left_alone() {
    let setup = Setup::new();
    let channel = setup.on_issue();
    // Someone copies the comment the draft would become, marker and all.
    let copied = comment_text(&first());
    let theirs = setup
        .fake
        .add_issue_comment_by(SITE_REPO, ISSUE, "mallory", &copied);
    let before = setup.fake.issue_comments(SITE_REPO, ISSUE);

    let draft = second();
    let publication = created(channel.publish(&draft.outgoing(None)).await.unwrap());
    let comments = setup.fake.issue_comments(SITE_REPO, ISSUE);
    assert_eq!(comments.len(), 2);
    assert_eq!(strangers(&comments), strangers(&before), "theirs untouched");
    assert_eq!(comments[0].id, theirs);
    assert_eq!(comments[1].author, LOGIN);
    assert_eq!(comments[1].body, comment_text(&draft));
    assert_eq!(publication.remote_id, comments[1].id.to_string());

    // Publishing again finds ours, not theirs.
    let same = unchanged(channel.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(same.remote_id, publication.remote_id);
    let edited = updated(channel.publish(&first().outgoing(None)).await.unwrap());
    assert_eq!(edited.remote_id, publication.remote_id);
    let comments = setup.fake.issue_comments(SITE_REPO, ISSUE);
    assert_eq!(strangers(&comments), strangers(&before));
    assert_eq!(comments.len(), 2);
}

#[tokio::test]
async fn an_issue_comment_stored_before_a_server_error_is_not_posted_twice() {
    let setup = Setup::new();
    let channel = setup.on_issue();
    let draft = first();
    setup.fake.fail_next_write();
    server_error(channel.publish(&draft.outgoing(None)).await);

    let found = unchanged(channel.publish(&draft.outgoing(None)).await.unwrap());
    let comments = setup.fake.issue_comments(SITE_REPO, ISSUE);
    assert_eq!(comments.len(), 1);
    assert_eq!(found.remote_id, comments[0].id.to_string());
}

// ---------------------------------------------------------------------------------------
// github-comment on a discussion

#[tokio::test]
async fn a_discussion_comment_is_created_then_edited_in_place_through_graphql() {
    let setup = Setup::new();
    let channel = setup.on_discussion();
    setup
        .fake
        .add_discussion_comments(SITE_REPO, DISCUSSION, 130);
    let draft = first();

    let publication = created(channel.publish(&draft.outgoing(None)).await.unwrap());
    let comments = setup.fake.discussion_comments(SITE_REPO, DISCUSSION);
    assert_eq!(comments.len(), 131);
    assert_eq!(comments[130].body, comment_text(&draft));
    assert_eq!(
        publication.remote_id,
        format!("DC_kwDOfake{}", comments[130].id)
    );
    assert_eq!(
        publication.url,
        format!(
            "https://github.com/{SITE_REPO}/discussions/{DISCUSSION}#discussioncomment-{}",
            comments[130].id
        )
    );
    // Two pages of comments searched, then one mutation.
    let seen = setup.fake.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|s| s.method == "POST" && s.target == "/graphql")
    );
    assert_eq!(seen[0].body["variables"]["cursor"], serde_json::Value::Null);
    assert_eq!(seen[1].body["variables"]["cursor"], "cursor:100");
    assert!(
        seen[2].body["query"]
            .as_str()
            .unwrap()
            .contains("addDiscussionComment")
    );

    // No record kept: found by the marker on the second page, the same text changes
    // nothing, a new one is an edit.
    setup.fake.clear_log();
    let same = unchanged(channel.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(same.remote_id, publication.remote_id);
    assert_eq!(setup.fake.writes(), 0);
    let draft = second();
    let edited = updated(channel.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(edited.remote_id, publication.remote_id);
    let comments = setup.fake.discussion_comments(SITE_REPO, DISCUSSION);
    assert_eq!(comments.len(), 131);
    assert_eq!(comments[130].body, comment_text(&draft));
    assert!(
        setup.fake.seen().last().unwrap().body["query"]
            .as_str()
            .unwrap()
            .contains("updateDiscussionComment")
    );
}

#[tokio::test]
async fn a_discussion_comment_with_the_marker_by_someone_else_is_left_alone() {
    let setup = Setup::new();
    let channel = setup.on_discussion();
    let draft = first();
    setup.fake.add_discussion_comment_by(
        SITE_REPO,
        DISCUSSION,
        "mallory",
        &comment_text(&second()),
    );
    let before = setup.fake.discussion_comments(SITE_REPO, DISCUSSION);

    let publication = created(channel.publish(&draft.outgoing(None)).await.unwrap());
    let comments = setup.fake.discussion_comments(SITE_REPO, DISCUSSION);
    assert_eq!(comments.len(), 2);
    assert_eq!(strangers(&comments), strangers(&before), "theirs untouched");
    assert_eq!(comments[1].body, comment_text(&draft));
    assert_eq!(
        publication.remote_id,
        format!("DC_kwDOfake{}", comments[1].id)
    );
    let query = setup.fake.seen()[0].body["query"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(query.contains("viewer { login }") && query.contains("author { login }"));

    let same = unchanged(channel.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(same.remote_id, publication.remote_id);
    assert_eq!(
        setup.fake.discussion_comments(SITE_REPO, DISCUSSION).len(),
        2
    );
}

#[tokio::test]
async fn a_discussion_comment_stored_before_a_server_error_is_not_posted_twice() {
    let setup = Setup::new();
    let channel = setup.on_discussion();
    let draft = first();
    setup.fake.fail_next_write();
    server_error(channel.publish(&draft.outgoing(None)).await);
    unchanged(channel.publish(&draft.outgoing(None)).await.unwrap());
    assert_eq!(
        setup.fake.discussion_comments(SITE_REPO, DISCUSSION).len(),
        1
    );
}

#[tokio::test]
async fn graphql_rate_limits_and_missing_discussions_are_reported() {
    let setup = Setup::new();
    let channel = setup.on_discussion();
    setup.fake.limit(Limit::Primary);
    let error = channel.publish(&first().outgoing(None)).await.unwrap_err();
    assert!(
        matches!(
            error,
            ChannelError::RateLimited {
                channel: ChannelName::GithubComment,
                retry_after_secs: Some(_),
            }
        ),
        "{error:?}"
    );
    setup.fake.lift_limit();

    let config = setup.config(&format!("{SITE_REPO}/discussions/99"));
    let missing = GithubComment::new(&config).unwrap();
    let error = missing.publish(&first().outgoing(None)).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("Could not resolve to a Discussion with the number of 99"),
        "{error}"
    );
    assert_eq!(setup.fake.writes(), 0);
}
