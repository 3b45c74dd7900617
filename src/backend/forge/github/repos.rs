//! Listing repositories over REST with conditional requests: `GET /orgs/{org}/repos`
//! (100 a page, following `Link: rel="next"`) and `GET /repos/{owner}/{name}`. Each URL's
//! `ETag` and the repositories read from it are cached, so an unchanged page is answered
//! `304 Not Modified` and read from disk.

use jiff::Timestamp;
use serde::Deserialize;

use super::cache::{Entry, HttpCache};
use super::client::{Answer, Client};
use super::{GitHubError, RepoInfo};

/// Every repository of `org` the token can see, archived ones included.
pub(super) async fn org_repos(
    client: &Client,
    cache: &HttpCache,
    org: &str,
) -> Result<Vec<RepoInfo>, GitHubError> {
    let mut url = format!(
        "{}/orgs/{}/repos?per_page=100&type=all",
        client.api(),
        segment(org)
    );
    let mut repos = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let (body, next) = match conditional_get(client, cache, &url, parse_list).await? {
            Fetched::Found { body, next } => (body, next),
            Fetched::NotFound => {
                return Err(GitHubError::NotFound {
                    what: format!("organisation {org}"),
                });
            }
        };
        let page: Vec<RepoInfo> =
            serde_json::from_str(&body).map_err(|error| GitHubError::Decode {
                url: url.clone(),
                message: error.to_string(),
            })?;
        repos.extend(page);
        match next {
            // GitHub caps listings far below this; a loop would be a bug on either side.
            Some(next) if pages < 1000 && next != url => url = next,
            _ => return Ok(repos),
        }
    }
}

/// One repository, or `None` when it does not exist or the token cannot see it (404).
pub(super) async fn single_repo(
    client: &Client,
    cache: &HttpCache,
    full_name: &str,
) -> Result<Option<RepoInfo>, GitHubError> {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    let url = format!(
        "{}/repos/{}/{}",
        client.api(),
        segment(owner),
        segment(name)
    );
    match conditional_get(client, cache, &url, parse_one).await? {
        Fetched::NotFound => Ok(None),
        Fetched::Found { body, .. } => {
            serde_json::from_str(&body)
                .map(Some)
                .map_err(|error| GitHubError::Decode {
                    url,
                    message: error.to_string(),
                })
        }
    }
}

enum Fetched {
    Found { body: String, next: Option<String> },
    NotFound,
}

/// GETs `url` with the cached `ETag`; a 200 is read with `keep` (what is cached and
/// returned), a 304 answered from the cache.
async fn conditional_get(
    client: &Client,
    cache: &HttpCache,
    url: &str,
    keep: fn(&str) -> Result<String, String>,
) -> Result<Fetched, GitHubError> {
    let cached = cache.load(url).await;
    let mut answer = client
        .get(url, cached.as_ref().map(|entry| entry.etag.as_str()))
        .await?;
    if answer.status == 304 {
        if let Some(entry) = cached {
            return Ok(Fetched::Found {
                body: entry.body,
                next: entry.next,
            });
        }
        // A 304 to a request without If-None-Match: ask again, unconditionally.
        answer = client.get(url, None).await?;
    }
    match answer.status {
        200 => {}
        404 => return Ok(Fetched::NotFound),
        status => return Err(refused(client, url, status, &answer)),
    }
    let body = keep(&answer.body).map_err(|message| GitHubError::Decode {
        url: url.to_owned(),
        message,
    })?;
    if let Some(etag) = answer.etag {
        let entry = Entry {
            url: url.to_owned(),
            etag,
            next: answer.next.clone(),
            body: body.clone(),
        };
        if let Err(error) = cache.store(&entry).await {
            tracing::warn!(%url, %error, "github: cannot write the request cache");
        }
    }
    Ok(Fetched::Found {
        body,
        next: answer.next,
    })
}

fn refused(client: &Client, url: &str, status: u16, answer: &Answer) -> GitHubError {
    GitHubError::Http {
        url: url.to_owned(),
        status,
        message: client.redact(&answer.message()),
    }
}

/// The repository as GitHub's REST API shows it (the fields used).
#[derive(Debug, Deserialize)]
struct RestRepo {
    full_name: String,
    name: String,
    owner: Owner,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    fork: bool,
    #[serde(default)]
    clone_url: String,
    #[serde(default)]
    html_url: String,
    default_branch: Option<String>,
    pushed_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
struct Owner {
    login: String,
}

impl From<RestRepo> for RepoInfo {
    fn from(repo: RestRepo) -> RepoInfo {
        RepoInfo {
            full_name: repo.full_name,
            owner: repo.owner.login,
            name: repo.name,
            private: repo.private,
            archived: repo.archived,
            fork: repo.fork,
            clone_url: repo.clone_url,
            html_url: repo.html_url,
            default_branch: repo.default_branch.unwrap_or_default(),
            pushed_at: repo.pushed_at,
        }
    }
}

/// A page of repositories, kept as `[RepoInfo]` JSON.
fn parse_list(body: &str) -> Result<String, String> {
    let repos: Vec<RestRepo> = serde_json::from_str(body).map_err(|error| error.to_string())?;
    let repos: Vec<RepoInfo> = repos.into_iter().map(RepoInfo::from).collect();
    serde_json::to_string(&repos).map_err(|error| error.to_string())
}

/// One repository, kept as `RepoInfo` JSON.
fn parse_one(body: &str) -> Result<String, String> {
    let repo: RestRepo = serde_json::from_str(body).map_err(|error| error.to_string())?;
    serde_json::to_string(&RepoInfo::from(repo)).map_err(|error| error.to_string())
}

/// A path segment, percent-encoded beyond GitHub's name characters.
pub(super) fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_github_repository_json() {
        let body = r#"[{"id":1,"name":"web","full_name":"acme/web","owner":{"login":"acme","id":9},
            "private":true,"archived":false,"fork":true,"clone_url":"https://github.com/acme/web.git",
            "html_url":"https://github.com/acme/web","default_branch":"trunk","pushed_at":"2026-11-05T10:00:00Z",
            "visibility":"private"},
            {"name":"empty","full_name":"acme/empty","owner":{"login":"acme"},"pushed_at":null,"default_branch":null}]"#;
        let repos: Vec<RepoInfo> = serde_json::from_str(&parse_list(body).unwrap()).unwrap();
        assert_eq!(repos[0].full_name, "acme/web");
        assert_eq!(repos[0].owner, "acme");
        assert!(repos[0].private && repos[0].fork && !repos[0].archived);
        assert_eq!(repos[0].default_branch, "trunk");
        assert_eq!(
            repos[0].pushed_at,
            Some("2026-11-05T10:00:00Z".parse().unwrap())
        );
        assert_eq!(repos[1].pushed_at, None);
        assert_eq!(repos[1].default_branch, "");
        assert!(parse_list(r#"{"message":"x"}"#).is_err());
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("acme-co_1.x"), "acme-co_1.x");
        assert_eq!(segment("a b/c?"), "a%20b%2Fc%3F");
    }
}
