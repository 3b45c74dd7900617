//! The `github-comment` channel: the draft as a comment on a GitHub issue or pull request
//! (REST) or on a discussion (GraphQL), at `publish.github_comment`.
//!
//! The comment ends with a hidden marker line, `<!-- raibid:draft {id} -->`. Before
//! posting, the thread's comments are searched for it, page by page: a comment of the
//! token's own account that has it is edited in place (or left alone when its text is
//! the same), so neither a lost record nor a retry after a server error that had stored
//! the comment posts twice. Anyone can write the marker: a comment by someone else is
//! never taken for ours.

use jiff::Timestamp;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::json;

use super::github_api::{Account, GithubApi, Repository};
use super::{ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash};
use crate::backend::forge::github::PageInfo;
use crate::config::Config;

const CHANNEL: ChannelName = ChannelName::GithubComment;
const TARGET_KEY: &str = "publish.github_comment";

const FIND_IN_DISCUSSION: &str =
    "query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  viewer { login }
  repository(owner: $owner, name: $name) {
    discussion(number: $number) {
      id
      comments(first: 100, after: $cursor) {
        nodes { id body url updatedAt author { login } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}";
const ADD_TO_DISCUSSION: &str = "mutation($discussion: ID!, $body: String!) {
  addDiscussionComment(input: {discussionId: $discussion, body: $body}) { comment { id url } }
}";
const UPDATE_IN_DISCUSSION: &str = "mutation($comment: ID!, $body: String!) {
  updateDiscussionComment(input: {commentId: $comment, body: $body}) { comment { id url } }
}";

/// The thread `publish.github_comment` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Thread {
    /// An issue or pull request (they share comments), by number.
    Issue(u64),
    Discussion(u64),
}

#[derive(Debug)]
pub struct GithubComment {
    api: GithubApi,
    repo: Repository,
    thread: Thread,
}

/// A comment as found on GitHub (either API).
#[derive(Debug)]
struct Comment {
    id: String,
    body: String,
    url: String,
    updated_at: Timestamp,
}

/// Where a new comment goes: an issue's number or a discussion's node id.
enum NewCommentIn {
    Issue(u64),
    Discussion(String),
}

#[derive(Debug, Deserialize)]
struct IssueComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    /// Absent for a deleted account.
    #[serde(default)]
    user: Option<Account>,
    html_url: String,
    updated_at: Timestamp,
}

impl From<IssueComment> for Comment {
    fn from(c: IssueComment) -> Comment {
        Comment {
            id: c.id.to_string(),
            body: c.body.unwrap_or_default(),
            url: c.html_url,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct DiscussionQuery {
    /// The token's own account.
    viewer: Account,
    repository: Option<DiscussionRepository>,
}

#[derive(Debug, Deserialize)]
struct DiscussionRepository {
    discussion: Option<Discussion>,
}

#[derive(Debug, Deserialize)]
struct Discussion {
    id: String,
    comments: DiscussionComments,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscussionComments {
    nodes: Vec<DiscussionComment>,
    page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscussionComment {
    id: String,
    body: String,
    url: String,
    updated_at: Timestamp,
    /// Null for a deleted account.
    #[serde(default)]
    author: Option<Account>,
}

/// What both mutations answer: `{ <mutation>: { comment: { id url } } }`.
#[derive(Debug, Deserialize)]
struct Mutated {
    #[serde(alias = "addDiscussionComment", alias = "updateDiscussionComment")]
    payload: MutatedComment,
}

#[derive(Debug, Deserialize)]
struct MutatedComment {
    comment: Posted,
}

#[derive(Debug, Deserialize)]
struct Posted {
    id: String,
    url: String,
}

impl GithubComment {
    /// The thread `publish.github_comment` names (`owner/name#12` or
    /// `owner/name/discussions/7`), through `github.api_url` with `github.token`.
    pub fn new(cfg: &Config) -> Result<GithubComment, ChannelError> {
        let (repo, thread) = parse_target(&cfg.publish.github_comment)?;
        Ok(GithubComment {
            api: GithubApi::new(cfg, CHANNEL)?,
            repo,
            thread,
        })
    }

    pub async fn publish(&self, out: &Outgoing<'_>) -> Result<Delivery, ChannelError> {
        let marker = marker(out.draft_id);
        let body = format!("{}\n\n{marker}", out.body.trim_end());
        let hash = content_hash(&body);
        let (new_in, found) = match self.thread {
            Thread::Issue(number) => (
                NewCommentIn::Issue(number),
                self.find_in_issue(number, &marker).await?,
            ),
            Thread::Discussion(number) => self.find_in_discussion(number, &marker).await?,
        };
        let publication = |posted: Posted| Publication {
            channel: CHANNEL,
            remote_id: posted.id,
            url: posted.url,
            published_at: Timestamp::now(),
            content_hash: hash.clone(),
        };
        Ok(match found {
            Some(comment) if same_text(&comment.body, &body) => Delivery::Unchanged(Publication {
                channel: CHANNEL,
                remote_id: comment.id,
                url: comment.url,
                // The recorded time, or (record lost) GitHub's last edit of it.
                published_at: out
                    .previous
                    .map_or(comment.updated_at, |previous| previous.published_at),
                content_hash: hash.clone(),
            }),
            Some(comment) => Delivery::Updated(publication(self.edit(&comment.id, &body).await?)),
            None => Delivery::Created(publication(self.post(&new_in, &body).await?)),
        })
    }

    /// `repos/{owner}/{name}/issues/{number}/comments`: where an issue's comments are
    /// listed and new ones posted.
    fn issue_comments(&self, number: u64) -> Url {
        let number = number.to_string();
        self.api.url(&[
            "repos",
            &self.repo.owner,
            &self.repo.name,
            "issues",
            &number,
            "comments",
        ])
    }

    /// The issue's comment by the token's account that carries `marker`, following
    /// every page.
    async fn find_in_issue(
        &self,
        number: u64,
        marker: &str,
    ) -> Result<Option<Comment>, ChannelError> {
        let login = self.api.login().await?;
        let mut url = self.issue_comments(number);
        url.query_pairs_mut()
            .append_pair("per_page", "100")
            .append_pair("page", "1");
        let mut page = Some(url);
        while let Some(url) = page {
            let reply = self.api.send(Method::GET, url, None).await?;
            page = self.api.next_page(&reply.headers)?;
            let comments: Vec<IssueComment> = self.api.read(reply)?;
            if let Some(found) = comments.into_iter().find(|c| {
                let body = c.body.as_deref().unwrap_or_default();
                is_ours(c.user.as_ref(), &login, body, marker)
            }) {
                return Ok(Some(found.into()));
            }
        }
        Ok(None)
    }

    /// The discussion's node id, and its comment by the token's account that carries
    /// `marker`.
    async fn find_in_discussion(
        &self,
        number: u64,
        marker: &str,
    ) -> Result<(NewCommentIn, Option<Comment>), ChannelError> {
        let mut cursor: Option<String> = None;
        loop {
            let variables = json!({
                "owner": self.repo.owner,
                "name": self.repo.name,
                "number": number,
                "cursor": cursor,
            });
            let data: DiscussionQuery = self.api.graphql(FIND_IN_DISCUSSION, variables).await?;
            let login = data.viewer.login;
            let discussion = data
                .repository
                .and_then(|repository| repository.discussion)
                .ok_or_else(|| ChannelError::Other {
                    channel: CHANNEL,
                    message: format!("{} has no discussion #{number}", self.repo),
                })?;
            let comments = discussion.comments;
            if let Some(found) = comments
                .nodes
                .into_iter()
                .find(|c| is_ours(c.author.as_ref(), &login, &c.body, marker))
            {
                let found = Comment {
                    id: found.id,
                    body: found.body,
                    url: found.url,
                    updated_at: found.updated_at,
                };
                return Ok((NewCommentIn::Discussion(discussion.id), Some(found)));
            }
            match comments.page_info {
                PageInfo {
                    has_next_page: true,
                    end_cursor: Some(next),
                } => cursor = Some(next),
                _ => return Ok((NewCommentIn::Discussion(discussion.id), None)),
            }
        }
    }

    async fn post(&self, new_in: &NewCommentIn, body: &str) -> Result<Posted, ChannelError> {
        match new_in {
            NewCommentIn::Issue(number) => {
                let url = self.issue_comments(*number);
                self.rest_comment(Method::POST, url, body).await
            }
            NewCommentIn::Discussion(discussion) => {
                let variables = json!({ "discussion": discussion, "body": body });
                self.mutate(ADD_TO_DISCUSSION, variables).await
            }
        }
    }

    async fn edit(&self, comment_id: &str, body: &str) -> Result<Posted, ChannelError> {
        match self.thread {
            Thread::Issue(_) => {
                let url = self.api.url(&[
                    "repos",
                    &self.repo.owner,
                    &self.repo.name,
                    "issues",
                    "comments",
                    comment_id,
                ]);
                self.rest_comment(Method::PATCH, url, body).await
            }
            Thread::Discussion(_) => {
                let variables = json!({ "comment": comment_id, "body": body });
                self.mutate(UPDATE_IN_DISCUSSION, variables).await
            }
        }
    }

    async fn rest_comment(
        &self,
        method: Method,
        url: Url,
        body: &str,
    ) -> Result<Posted, ChannelError> {
        let body = json!({ "body": body });
        let comment: IssueComment = self.api.json(method, url, Some(&body)).await?;
        Ok(Posted {
            id: comment.id.to_string(),
            url: comment.html_url,
        })
    }

    async fn mutate(
        &self,
        mutation: &str,
        variables: serde_json::Value,
    ) -> Result<Posted, ChannelError> {
        let mutated: Mutated = self.api.graphql(mutation, variables).await?;
        Ok(mutated.payload.comment)
    }
}

/// `owner/name#12` or `owner/name/discussions/7`.
fn parse_target(text: &str) -> Result<(Repository, Thread), ChannelError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ChannelError::NotConfigured {
            channel: CHANNEL,
            key: TARGET_KEY,
        });
    }
    let invalid = || ChannelError::InvalidConfig {
        channel: CHANNEL,
        key: TARGET_KEY,
        reason: format!(
            "`{text}` is neither `owner/name#12` (an issue or pull request) nor \
             `owner/name/discussions/7`"
        ),
    };
    let (repo, thread) = if let Some((repo, number)) = text.split_once('#') {
        (repo, number.parse().map(Thread::Issue))
    } else if let Some((repo, number)) = text.split_once("/discussions/") {
        (repo, number.parse().map(Thread::Discussion))
    } else {
        return Err(invalid());
    };
    match thread {
        Ok(Thread::Issue(0) | Thread::Discussion(0)) | Err(_) => Err(invalid()),
        Ok(thread) => Ok((Repository::parse(CHANNEL, TARGET_KEY, repo)?, thread)),
    }
}

/// The hidden line that marks the comment of draft `draft_id`.
fn marker(draft_id: &str) -> String {
    format!("<!-- raibid:draft {draft_id} -->")
}

/// A whole line of the body is the marker (a quote of it, `> <!-- …`, is not).
fn has_marker(body: &str, marker: &str) -> bool {
    body.lines().any(|line| line.trim() == marker)
}

/// The comment is ours: written by `login`, the token's account, and marked.
fn is_ours(author: Option<&Account>, login: &str, body: &str, marker: &str) -> bool {
    author.is_some_and(|author| author.is(login)) && has_marker(body, marker)
}

/// The same text once line endings (GitHub's editor writes CRLF) and trailing
/// whitespace are set aside.
fn same_text(a: &str, b: &str) -> bool {
    let normal = |text: &str| text.replace("\r\n", "\n").trim_end().to_owned();
    normal(a) == normal(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_issues_or_discussions() {
        let (repo, thread) = parse_target("acme/site#12").unwrap();
        assert_eq!(repo.to_string(), "acme/site");
        assert_eq!(thread, Thread::Issue(12));
        let (repo, thread) = parse_target(" acme/site/discussions/7 ").unwrap();
        assert_eq!(repo.to_string(), "acme/site");
        assert_eq!(thread, Thread::Discussion(7));
        assert!(matches!(
            parse_target(""),
            Err(ChannelError::NotConfigured {
                key: TARGET_KEY,
                ..
            })
        ));
        for bad in [
            "acme/site",
            "acme/site#",
            "acme/site#0",
            "acme/site#x",
            "acme#3",
            "acme/site/discussions/",
            "acme/site/issues/3",
        ] {
            let error = parse_target(bad).unwrap_err();
            assert!(error.to_string().contains(TARGET_KEY), "{bad}: {error}");
        }
    }

    #[test]
    fn the_marker_is_a_line_of_its_own() {
        let marker = marker("2026-W47-raibid");
        assert!(has_marker(
            "Text\n\n<!-- raibid:draft 2026-W47-raibid -->",
            &marker
        ));
        assert!(has_marker(
            "Text\r\n\r\n<!-- raibid:draft 2026-W47-raibid -->\r\n",
            &marker
        ));
        assert!(!has_marker(
            "> <!-- raibid:draft 2026-W47-raibid -->",
            &marker
        ));
        assert!(!has_marker(
            "<!-- raibid:draft 2026-W47-raibid-blog -->",
            &marker
        ));
        let body = "Text\n\n<!-- raibid:draft 2026-W47-raibid -->";
        let ours = |author: Option<&str>, body: &str| {
            let author = author.map(|login| Account {
                login: login.into(),
            });
            is_ours(author.as_ref(), "raibid-bot", body, &marker)
        };
        assert!(ours(Some("Raibid-Bot"), body), "logins ignore case");
        assert!(!ours(Some("mallory"), body));
        assert!(!ours(None, body));
        assert!(!ours(Some("raibid-bot"), "Text"));
        assert!(same_text("a\r\nb\n", "a\nb"));
        assert!(!same_text("a\nb", "a\nc"));
    }
}
