//! The `docs-github` channel: the post written into the docs repository on GitHub through
//! the contents API, one commit per change on `publish.branch`, no clone needed.
//!
//! The file is read first. When its blob sha is the post's own (GitHub's blob sha is
//! git's, computed here the same way), nothing is committed. Otherwise it is created, or
//! updated naming the blob just read, so a change made on GitHub in between is refused
//! (409) rather than overwritten. A commit GitHub made but answered with an error is
//! found by the next publish as the unchanged file: nothing is committed twice.

use jiff::Timestamp;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::json;

use super::github_api::{GithubApi, Repository};
use super::{ChannelError, ChannelName, Delivery, Outgoing, Publication, content_hash};
use crate::config::Config;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

const CHANNEL: ChannelName = ChannelName::DocsGithub;
const REPO_KEY: &str = "publish.github_repo";
const BRANCH_KEY: &str = "publish.branch";

#[derive(Debug)]
pub struct DocsGithub {
    api: GithubApi,
    repo: Repository,
    branch: String,
}

/// A file as the contents API describes it.
#[derive(Debug, Deserialize)]
struct FileEntry {
    /// The blob's sha.
    sha: String,
    html_url: String,
}

/// The answer to a create or update: the file and the commit that wrote it.
#[derive(Debug, Deserialize)]
struct Written {
    content: FileEntry,
    commit: CommitRef,
}

#[derive(Debug, Deserialize)]
struct CommitRef {
    sha: String,
}

/// An entry of the commits list.
#[derive(Debug, Deserialize)]
struct CommitEntry {
    sha: String,
    commit: CommitDetail,
}

#[derive(Debug, Deserialize)]
struct CommitDetail {
    committer: Signature,
}

#[derive(Debug, Deserialize)]
struct Signature {
    date: Timestamp,
}

impl DocsGithub {
    /// `publish.github_repo` (`owner/name`) on `publish.branch`, through `github.api_url`
    /// with `github.token`.
    pub fn new(cfg: &Config) -> Result<DocsGithub, ChannelError> {
        let repo = Repository::parse(CHANNEL, REPO_KEY, &cfg.publish.github_repo)?;
        let branch = cfg.publish.branch.trim();
        if branch.is_empty() {
            return Err(ChannelError::NotConfigured {
                channel: CHANNEL,
                key: BRANCH_KEY,
            });
        }
        Ok(DocsGithub {
            api: GithubApi::new(cfg, CHANNEL)?,
            repo,
            branch: branch.to_owned(),
        })
    }

    pub async fn publish(&self, out: &Outgoing<'_>) -> Result<Delivery, ChannelError> {
        let current = self.read(out.path).await?;
        if let Some(file) = &current
            && file.sha == blob_sha(out.post)?
        {
            return self.unchanged(out, file).await.map(Delivery::Unchanged);
        }
        let written = self.write(out, current.as_ref()).await?;
        let publication = Publication {
            channel: CHANNEL,
            remote_id: written.commit.sha,
            url: written.content.html_url,
            published_at: Timestamp::now(),
            content_hash: content_hash(out.post),
        };
        Ok(match current {
            Some(_) => Delivery::Updated(publication),
            None => Delivery::Created(publication),
        })
    }

    /// `/repos/{owner}/{name}/contents/{path}`.
    fn contents_url(&self, path: &str) -> Url {
        let mut segments = vec!["repos", &self.repo.owner, &self.repo.name, "contents"];
        segments.extend(path.split('/').filter(|s| !s.is_empty()));
        self.api.url(&segments)
    }

    /// The file on the branch, `None` when there is none.
    async fn read(&self, path: &str) -> Result<Option<FileEntry>, ChannelError> {
        let mut url = self.contents_url(path);
        url.query_pairs_mut().append_pair("ref", &self.branch);
        let reply = self.api.send(Method::GET, url, None).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        self.api.read(reply).map(Some)
    }

    /// Creates the file, or replaces `current` (refused when it changed since).
    async fn write(
        &self,
        out: &Outgoing<'_>,
        current: Option<&FileEntry>,
    ) -> Result<Written, ChannelError> {
        let mut body = json!({
            "message": format!("publish: {}", out.title),
            "content": BASE64.encode(out.post.as_bytes()),
            "branch": self.branch,
        });
        if let Some(file) = current {
            body["sha"] = json!(file.sha);
        }
        let reply = self
            .api
            .send(Method::PUT, self.contents_url(out.path), Some(&body))
            .await?;
        match (reply.status, current) {
            (409, Some(file)) => Err(ChannelError::Rejected {
                channel: CHANNEL,
                status: 409,
                message: format!(
                    "{} changed on GitHub meanwhile (it is no longer blob {}); nothing was \
                     overwritten, and publishing again reads it anew",
                    out.path, file.sha
                ),
            }),
            _ => self.api.read(reply),
        }
    }

    /// The record of a post GitHub already holds: the earlier one, or the last commit
    /// that touched the file (when the record was lost, or a commit's answer was).
    async fn unchanged(
        &self,
        out: &Outgoing<'_>,
        file: &FileEntry,
    ) -> Result<Publication, ChannelError> {
        if let Some(previous) = out.previous {
            return Ok(previous.clone());
        }
        let mut url = self
            .api
            .url(&["repos", &self.repo.owner, &self.repo.name, "commits"]);
        url.query_pairs_mut()
            .append_pair("path", out.path)
            .append_pair("sha", &self.branch)
            .append_pair("per_page", "1");
        let commits: Vec<CommitEntry> = self.api.json(Method::GET, url, None).await?;
        let last = commits
            .into_iter()
            .next()
            .ok_or_else(|| ChannelError::Other {
                channel: CHANNEL,
                message: format!(
                    "{} is on {} in {} but GitHub lists no commit of it",
                    out.path, self.branch, self.repo
                ),
            })?;
        Ok(Publication {
            channel: CHANNEL,
            remote_id: last.sha,
            url: file.html_url.clone(),
            published_at: last.commit.committer.date,
            content_hash: content_hash(out.post),
        })
    }
}

/// Git's blob sha of `content`, as GitHub reports it for a file.
fn blob_sha(content: &str) -> Result<String, ChannelError> {
    gix::objs::compute_hash(
        gix::hash::Kind::Sha1,
        gix::objs::Kind::Blob,
        content.as_bytes(),
    )
    .map(|id| id.to_string())
    .map_err(|error| ChannelError::Other {
        channel: CHANNEL,
        message: format!("cannot hash the post: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_shas_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_sha("hello\n").unwrap(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            blob_sha("").unwrap(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }
}
