//! A local stand-in for the parts of GitHub's API the publishing channels write to,
//! answering in GitHub's documented wire formats:
//!
//! - Contents: `GET /repos/{o}/{r}/contents/{path}?ref=` (the file's base64 `content`
//!   wrapped in lines of 60 as GitHub sends it, its blob `sha`, `html_url`; 404 when there
//!   is none); `PUT` of the same path with `message`, base64 `content`, `branch` and, for
//!   an existing file, its current blob `sha`: 201 or 200 with `content` and `commit`, 409
//!   `{path} does not match {sha}` for a stale sha, 422 when the sha is missing.
//!   `GET /repos/{o}/{r}/commits?path=&sha=&per_page=` lists a file's commits, newest
//!   first. Blob shas are git's (SHA-1 of `blob {len}\0{content}`, computed with gix), as
//!   GitHub's are; commit shas are git commit hashes of a made-up commit text.
//! - `GET /user`: the token's account, [`LOGIN`] (the only token is its).
//! - Issue comments: `GET /repos/{o}/{r}/issues/{n}/comments?per_page=&page=` (oldest
//!   first, at most 100 a page, each with its author as `user.login`, a `Link` header
//!   with `rel="next"` pointing at `/repositories/{id}/issues/{n}/comments`, as GitHub's
//!   does), `POST` to the same, `PATCH /repos/{o}/{r}/issues/comments/{id}`. Comments
//!   written through the fake are [`LOGIN`]'s.
//! - GraphQL `POST /graphql`: `viewer { login }` and `repository(owner, name) {
//!   discussion(number) { id comments(first, after) { nodes { id body url updatedAt
//!   author { login } } pageInfo { hasNextPage endCursor } } } }`, `addDiscussionComment`
//!   and `updateDiscussionComment`; arguments are read from the query text, `$variables`
//!   resolved. Unknown discussions or comments are `NOT_FOUND` errors.
//! - Every answer has `x-ratelimit-*` headers. Switches: a spent primary limit (REST: 403
//!   with `x-ratelimit-remaining: 0`; GraphQL: 200 with a `RATE_LIMITED` error), a
//!   secondary limit (403 with `retry-after`), a server error after the next write was
//!   stored, a change to the file by someone else right after it is next read. Requests
//!   with another token get `401 Bad credentials`; without a User-Agent, 403.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::gitea::decode_base64;
use super::serve::{Listener, Received, Server};

/// The token the fake accepts.
pub const TOKEN: &str = "ghp_pUbLiSh7oKeN4TeStS0nLy9x8y7z6w5v4u3t2";
/// The account [`TOKEN`] belongs to.
pub const LOGIN: &str = "raibid-bot";
const RATE_LIMIT: u64 = 5000;
/// Seconds until a spent primary limit resets.
pub const RESET_AFTER_SECS: i64 = 60;
/// The `retry-after` of a secondary limit.
pub const SECONDARY_RETRY_AFTER_SECS: u64 = 60;
const HTML: &str = "https://github.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The hour's quota is spent.
    Primary,
    /// Too many requests too fast.
    Secondary,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub accept: Option<String>,
    pub api_version: Option<String>,
    pub user_agent: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct FakeCommit {
    pub sha: String,
    pub repo: String,
    pub branch: String,
    pub path: String,
    pub message: String,
    pub date: Timestamp,
}

#[derive(Debug, Clone)]
struct Blob {
    content: Vec<u8>,
    sha: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeComment {
    pub id: u64,
    pub body: String,
    pub author: String,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone, Default)]
struct Discussion {
    comments: Vec<FakeComment>,
}

#[derive(Default)]
struct World {
    token: String,
    /// `owner/name` in order of first use: a repository's id is its index plus one.
    repos: Vec<String>,
    /// (repo, branch, path) -> the file.
    files: BTreeMap<(String, String, String), Blob>,
    commits: Vec<FakeCommit>,
    /// (repo, number) -> the comments of an existing issue.
    issues: BTreeMap<(String, u64), Vec<FakeComment>>,
    discussions: BTreeMap<(String, u64), Discussion>,
    last_id: u64,
    limit: Option<Limit>,
    fail_next_write: bool,
    /// Written over the file by someone else right after the next read of it.
    edit_after_read: Option<String>,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<World>>;

pub struct FakeGitHubPublish {
    world: Shared,
    server: Server,
}

impl FakeGitHubPublish {
    pub fn start() -> FakeGitHubPublish {
        let world: Shared = Arc::new(Mutex::new(World {
            token: TOKEN.into(),
            ..World::default()
        }));
        let server = Listener::bind().serve_on_thread(
            "fake-github-publish",
            Router::new().fallback(handle).with_state(world.clone()),
        );
        FakeGitHubPublish { world, server }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The REST base (`github.api_url`); GraphQL is at `<url>/graphql`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The file's content on the branch.
    pub fn file(&self, repo: &str, branch: &str, path: &str) -> Option<String> {
        let key = (repo.to_owned(), branch.to_owned(), path.to_owned());
        let blob = self.world().files.get(&key).cloned()?;
        Some(String::from_utf8(blob.content).unwrap())
    }

    /// Every commit made, oldest first.
    pub fn commits(&self) -> Vec<FakeCommit> {
        self.world().commits.clone()
    }

    /// A commit by someone else, straight on GitHub.
    pub fn commit_elsewhere(&self, repo: &str, branch: &str, path: &str, content: &str) {
        let mut world = self.world();
        world.commit(repo, branch, path, content.as_bytes(), "edit on GitHub");
    }

    /// Someone else changes the file right after the channel next reads it.
    pub fn edit_after_next_read(&self, content: &str) {
        self.world().edit_after_read = Some(content.to_owned());
    }

    pub fn add_issue(&self, repo: &str, number: u64) {
        self.world()
            .issues
            .insert((repo.to_owned(), number), Vec::new());
    }

    pub fn add_discussion(&self, repo: &str, number: u64) {
        self.world()
            .discussions
            .insert((repo.to_owned(), number), Discussion::default());
    }

    /// `count` comments by other people on an issue.
    pub fn add_issue_comments(&self, repo: &str, number: u64, count: usize) {
        let mut world = self.world();
        let comments: Vec<FakeComment> = (0..count).map(|n| world.other_comment(n)).collect();
        world
            .issues
            .get_mut(&(repo.to_owned(), number))
            .expect("add the issue first")
            .extend(comments);
    }

    /// A comment by `author` on an issue; its id.
    pub fn add_issue_comment_by(&self, repo: &str, number: u64, author: &str, body: &str) -> u64 {
        let mut world = self.world();
        let comment = world.comment_by(author, body);
        let id = comment.id;
        world
            .issues
            .get_mut(&(repo.to_owned(), number))
            .expect("add the issue first")
            .push(comment);
        id
    }

    /// A comment by `author` on a discussion; its id.
    pub fn add_discussion_comment_by(
        &self,
        repo: &str,
        number: u64,
        author: &str,
        body: &str,
    ) -> u64 {
        let mut world = self.world();
        let comment = world.comment_by(author, body);
        let id = comment.id;
        world
            .discussions
            .get_mut(&(repo.to_owned(), number))
            .expect("add the discussion first")
            .comments
            .push(comment);
        id
    }

    /// `count` comments by other people on a discussion.
    pub fn add_discussion_comments(&self, repo: &str, number: u64, count: usize) {
        let mut world = self.world();
        let comments: Vec<FakeComment> = (0..count).map(|n| world.other_comment(n)).collect();
        world
            .discussions
            .get_mut(&(repo.to_owned(), number))
            .expect("add the discussion first")
            .comments
            .extend(comments);
    }

    pub fn issue_comments(&self, repo: &str, number: u64) -> Vec<FakeComment> {
        self.world().issues[&(repo.to_owned(), number)].clone()
    }

    pub fn discussion_comments(&self, repo: &str, number: u64) -> Vec<FakeComment> {
        self.world().discussions[&(repo.to_owned(), number)]
            .comments
            .clone()
    }

    /// Every request received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.world().seen.clone()
    }

    /// `METHOD path?query` of every request, in order.
    pub fn log(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|seen| format!("{} {}", seen.method, seen.target))
            .collect()
    }

    /// Requests that write: PUT, POST (GraphQL mutations included), PATCH.
    pub fn writes(&self) -> usize {
        self.seen()
            .iter()
            .filter(|seen| match seen.method.as_str() {
                "GET" => false,
                "POST" if seen.target == "/graphql" => seen.body["query"]
                    .as_str()
                    .unwrap_or("")
                    .contains("mutation"),
                _ => true,
            })
            .count()
    }

    pub fn clear_log(&self) {
        self.world().seen.clear();
    }

    /// Every request is refused for a rate limit until [`Self::lift_limit`].
    pub fn limit(&self, limit: Limit) {
        self.world().limit = Some(limit);
    }

    pub fn lift_limit(&self) {
        self.world().limit = None;
    }

    /// The next write is stored, then answered `500`.
    pub fn fail_next_write(&self) {
        self.world().fail_next_write = true;
    }
}

impl World {
    fn repo_id(&mut self, repo: &str) -> usize {
        match self.repos.iter().position(|r| r == repo) {
            Some(index) => index + 1,
            None => {
                self.repos.push(repo.to_owned());
                self.repos.len()
            }
        }
    }

    fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        1_000_000 + self.last_id
    }

    fn other_comment(&mut self, n: usize) -> FakeComment {
        let body = format!("Comment {n} by someone else.\n\n> <!-- raibid:draft quoted -->");
        self.comment_by("octocat", &body)
    }

    /// A comment written with the token: [`LOGIN`]'s.
    fn comment(&mut self, body: &str) -> FakeComment {
        self.comment_by(LOGIN, body)
    }

    fn comment_by(&mut self, author: &str, body: &str) -> FakeComment {
        let now = Timestamp::now();
        FakeComment {
            id: self.next_id(),
            body: body.to_owned(),
            author: author.to_owned(),
            created: now,
            updated: now,
        }
    }

    fn commit(
        &mut self,
        repo: &str,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> FakeCommit {
        let blob = blob_sha(content);
        let parent = self
            .commits
            .iter()
            .rev()
            .find(|c| c.repo == repo && c.branch == branch)
            .map(|c| c.sha.clone())
            .unwrap_or_default();
        let date = Timestamp::now();
        let text = format!(
            "tree {blob}\nparent {parent}\nauthor raibid {}\n\n{message}\n{path}\n{}",
            date.as_second(),
            self.commits.len()
        );
        let commit = FakeCommit {
            sha: git_hash(gix::objs::Kind::Commit, text.as_bytes()),
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            path: path.to_owned(),
            message: message.to_owned(),
            date,
        };
        self.files.insert(
            (repo.to_owned(), branch.to_owned(), path.to_owned()),
            Blob {
                content: content.to_vec(),
                sha: blob,
            },
        );
        self.commits.push(commit.clone());
        commit
    }
}

/// Git's hash of an object, as GitHub reports blob and commit shas.
fn git_hash(kind: gix::objs::Kind, data: &[u8]) -> String {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, kind, data)
        .unwrap()
        .to_string()
}

fn blob_sha(content: &[u8]) -> String {
    git_hash(gix::objs::Kind::Blob, content)
}

// ---------------------------------------------------------------------------------------
// Answers.

struct Answer {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body,
        }
    }

    fn message(status: StatusCode, message: &str, docs: &str) -> Answer {
        Answer::json(
            status,
            json!({
                "message": message,
                "documentation_url": format!("https://docs.github.com/rest/{docs}"),
                "status": status.as_u16().to_string(),
            }),
        )
    }

    fn not_found() -> Answer {
        Answer::message(StatusCode::NOT_FOUND, "Not Found", "")
    }

    fn graphql_error(kind: &str, message: &str, data: Value) -> Answer {
        Answer::json(
            StatusCode::OK,
            json!({ "data": data, "errors": [{ "type": kind, "message": message, "locations": [{ "line": 1, "column": 1 }] }] }),
        )
    }
}

async fn handle(State(world): State<Shared>, request: Request) -> Response {
    let request = Received::read(request).await;
    let body = &request.body;
    let url = reqwest::Url::parse(&format!("http://fake{}", request.uri)).unwrap();
    let mut world = world.lock().unwrap_or_else(|e| e.into_inner());
    world.seen.push(Seen {
        method: request.method.to_string(),
        target: request.target(),
        accept: request.header("accept"),
        api_version: request.header("x-github-api-version"),
        user_agent: request.header("user-agent"),
        body: body.clone(),
    });
    let graphql = request.uri.path() == "/graphql";
    let base = format!(
        "http://{}",
        request.header("host").unwrap_or_else(|| "127.0.0.1".into())
    );
    let answer = match refusal(&world, &request.headers, graphql) {
        Some(refused) => refused,
        None if graphql && request.method == Method::POST => answer_graphql(&mut world, body),
        None => answer_rest(&mut world, &request.method, &url, body, &base),
    };
    let exhausted = world.limit == Some(Limit::Primary);
    let mut response = Response::builder().status(answer.status);
    let headers = response.headers_mut().unwrap();
    let mut put = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    let reset = Timestamp::now().as_second() + RESET_AFTER_SECS;
    put("x-ratelimit-limit", RATE_LIMIT.to_string());
    put(
        "x-ratelimit-remaining",
        if exhausted { "0" } else { "4990" }.into(),
    );
    put("x-ratelimit-reset", reset.to_string());
    put(
        "x-ratelimit-resource",
        if graphql { "graphql" } else { "core" }.into(),
    );
    put("x-github-api-version-selected", "2022-11-28".into());
    put("content-type", "application/json; charset=utf-8".into());
    for (name, value) in answer.headers {
        put(name, value);
    }
    response.body(Body::from(answer.body.to_string())).unwrap()
}

/// What GitHub refuses before looking at the request: no User-Agent, a wrong token, an
/// unknown API version, a rate limit.
fn refusal(world: &World, headers: &HeaderMap, graphql: bool) -> Option<Answer> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("user-agent").is_none_or(str::is_empty) {
        return Some(Answer::message(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
            "",
        ));
    }
    let token = header("authorization").and_then(|a| a.strip_prefix("Bearer "));
    if token != Some(world.token.as_str()) {
        return Some(Answer::message(
            StatusCode::UNAUTHORIZED,
            "Bad credentials",
            "",
        ));
    }
    if header("x-github-api-version").is_some_and(|v| v != "2022-11-28") {
        return Some(Answer::message(
            StatusCode::BAD_REQUEST,
            "Unsupported API version",
            "overview/api-versions",
        ));
    }
    match world.limit? {
        Limit::Primary if graphql => Some(Answer::json(
            StatusCode::OK,
            json!({ "errors": [{ "type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": "API rate limit already exceeded for user ID 1." }] }),
        )),
        Limit::Primary => Some(Answer::message(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
            "overview/rate-limits-for-the-rest-api",
        )),
        Limit::Secondary => {
            let mut answer = Answer::message(
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            );
            answer
                .headers
                .push(("retry-after", SECONDARY_RETRY_AFTER_SECS.to_string()));
            Some(answer)
        }
    }
}

/// A stored write answered with a server error when the switch is on.
fn accepted(world: &mut World, answer: Answer) -> Answer {
    if std::mem::take(&mut world.fail_next_write) {
        Answer::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": "Server Error" }),
        )
    } else {
        answer
    }
}

fn answer_rest(
    world: &mut World,
    method: &Method,
    url: &reqwest::Url,
    body: &Value,
    base: &str,
) -> Answer {
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["user"]) => Answer::json(StatusCode::OK, user_json(LOGIN, base)),
        ("GET", ["repos", owner, name, "contents", path @ ..]) => {
            let repo = format!("{owner}/{name}");
            let branch = query.get("ref").map_or("main", String::as_str);
            read_file(world, &repo, branch, &path.join("/"), base)
        }
        ("PUT", ["repos", owner, name, "contents", path @ ..]) => {
            let repo = format!("{owner}/{name}");
            write_file(world, &repo, &path.join("/"), body, base)
        }
        ("GET", ["repos", owner, name, "commits"]) => {
            list_commits(world, &format!("{owner}/{name}"), &query, base)
        }
        ("GET", ["repos", owner, name, "issues", number, "comments"]) => {
            let repo = format!("{owner}/{name}");
            list_issue_comments(world, &repo, number, &query, base)
        }
        ("GET", ["repositories", id, "issues", number, "comments"]) => {
            let repo = id
                .parse::<usize>()
                .ok()
                .and_then(|id| world.repos.get(id.wrapping_sub(1)).cloned());
            match repo {
                Some(repo) => list_issue_comments(world, &repo, number, &query, base),
                None => Answer::not_found(),
            }
        }
        ("POST", ["repos", owner, name, "issues", number, "comments"]) => {
            let repo = format!("{owner}/{name}");
            create_issue_comment(world, &repo, number, body, base)
        }
        ("PATCH", ["repos", owner, name, "issues", "comments", id]) => {
            let repo = format!("{owner}/{name}");
            update_issue_comment(world, &repo, id, body, base)
        }
        _ => Answer::not_found(),
    }
}

fn file_json(repo: &str, branch: &str, path: &str, blob: &Blob, base: &str) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    let url = format!("{base}/repos/{repo}/contents/{path}?ref={branch}");
    let html_url = format!("{HTML}/{repo}/blob/{branch}/{path}");
    let git_url = format!("{base}/repos/{repo}/git/blobs/{}", blob.sha);
    json!({
        "type": "file",
        "name": name,
        "path": path,
        "sha": blob.sha,
        "size": blob.content.len(),
        "url": url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": format!("https://raw.githubusercontent.com/{repo}/{branch}/{path}"),
        "_links": { "self": url, "git": git_url, "html": html_url },
    })
}

fn read_file(world: &mut World, repo: &str, branch: &str, path: &str, base: &str) -> Answer {
    let key = (repo.to_owned(), branch.to_owned(), path.to_owned());
    let Some(blob) = world.files.get(&key).cloned() else {
        return Answer::message(
            StatusCode::NOT_FOUND,
            "Not Found",
            "repos/contents#get-repository-content",
        );
    };
    let mut file = file_json(repo, branch, path, &blob, base);
    file["encoding"] = json!("base64");
    file["content"] = json!(wrapped_base64(&blob.content));
    if let Some(edit) = world.edit_after_read.take() {
        world.commit(repo, branch, path, edit.as_bytes(), "edit on GitHub");
    }
    Answer::json(StatusCode::OK, file)
}

fn write_file(world: &mut World, repo: &str, path: &str, body: &Value, base: &str) -> Answer {
    let docs = "repos/contents#create-or-update-file-contents";
    let (Some(message), Some(content)) = (body["message"].as_str(), body["content"].as_str())
    else {
        return Answer::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"message\" and \"content\" are required.",
            docs,
        );
    };
    let branch = body["branch"].as_str().unwrap_or("main").to_owned();
    let key = (repo.to_owned(), branch.clone(), path.to_owned());
    let existing = world.files.get(&key).map(|blob| blob.sha.clone());
    match (existing.as_deref(), body["sha"].as_str()) {
        (Some(_), None) => {
            return Answer::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid request.\n\n\"sha\" wasn't supplied.",
                docs,
            );
        }
        (Some(current), Some(sent)) if current != sent => {
            return Answer::message(
                StatusCode::CONFLICT,
                &format!("{path} does not match {sent}"),
                docs,
            );
        }
        _ => {}
    }
    let commit = world.commit(repo, &branch, path, &decode_base64(content), message);
    let blob = world.files[&key].clone();
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let answer = Answer::json(
        status,
        json!({
            "content": file_json(repo, &branch, path, &blob, base),
            "commit": commit_json(&commit, base),
        }),
    );
    accepted(world, answer)
}

/// A commit as the contents and commits APIs describe it.
fn commit_json(commit: &FakeCommit, base: &str) -> Value {
    let repo = &commit.repo;
    let who =
        json!({ "name": "raibid", "email": "raibid@example.org", "date": commit.date.to_string() });
    json!({
        "sha": commit.sha,
        "url": format!("{base}/repos/{repo}/git/commits/{}", commit.sha),
        "html_url": format!("{HTML}/{repo}/commit/{}", commit.sha),
        "author": who,
        "committer": who,
        "message": commit.message,
    })
}

fn list_commits(
    world: &mut World,
    repo: &str,
    query: &HashMap<String, String>,
    base: &str,
) -> Answer {
    let branch = query.get("sha").map_or("main", String::as_str);
    let per_page = query
        .get("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30usize)
        .min(100);
    let commits: Vec<Value> = world
        .commits
        .iter()
        .rev()
        .filter(|c| c.repo == repo && c.branch == branch)
        .filter(|c| query.get("path").is_none_or(|path| &c.path == path))
        .take(per_page)
        .map(|c| {
            json!({
                "sha": c.sha,
                "url": format!("{base}/repos/{repo}/commits/{}", c.sha),
                "html_url": format!("{HTML}/{repo}/commit/{}", c.sha),
                "commit": commit_json(c, base),
            })
        })
        .collect();
    Answer::json(StatusCode::OK, json!(commits))
}

/// An account as `GET /user` and a comment's `user` show it.
fn user_json(login: &str, base: &str) -> Value {
    json!({
        "login": login,
        "id": 1,
        "node_id": format!("U_kgDOfake{login}"),
        "url": format!("{base}/users/{login}"),
        "html_url": format!("{HTML}/{login}"),
        "type": "User",
        "site_admin": false,
    })
}

fn issue_comment_json(repo: &str, number: u64, comment: &FakeComment, base: &str) -> Value {
    json!({
        "id": comment.id,
        "node_id": format!("IC_kwDOfake{}", comment.id),
        "url": format!("{base}/repos/{repo}/issues/comments/{}", comment.id),
        "html_url": format!("{HTML}/{repo}/issues/{number}#issuecomment-{}", comment.id),
        "issue_url": format!("{base}/repos/{repo}/issues/{number}"),
        "body": comment.body,
        "user": user_json(&comment.author, base),
        "created_at": comment.created.to_string(),
        "updated_at": comment.updated.to_string(),
        "author_association": "OWNER",
    })
}

fn list_issue_comments(
    world: &mut World,
    repo: &str,
    number: &str,
    query: &HashMap<String, String>,
    base: &str,
) -> Answer {
    let Ok(number) = number.parse::<u64>() else {
        return Answer::not_found();
    };
    let Some(comments) = world.issues.get(&(repo.to_owned(), number)).cloned() else {
        return Answer::not_found();
    };
    let per_page = query
        .get("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let pages = comments.len().div_ceil(per_page).max(1);
    let body: Vec<Value> = comments
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|c| issue_comment_json(repo, number, c, base))
        .collect();
    let mut answer = Answer::json(StatusCode::OK, json!(body));
    if page < pages {
        let id = world.repo_id(repo);
        let at = |page: usize| {
            format!(
                "<{base}/repositories/{id}/issues/{number}/comments?per_page={per_page}&page={page}>"
            )
        };
        answer.headers.push((
            "link",
            format!(
                "{}; rel=\"next\", {}; rel=\"last\"",
                at(page + 1),
                at(pages)
            ),
        ));
    }
    answer
}

fn create_issue_comment(
    world: &mut World,
    repo: &str,
    number: &str,
    body: &Value,
    base: &str,
) -> Answer {
    let Ok(number) = number.parse::<u64>() else {
        return Answer::not_found();
    };
    if !world.issues.contains_key(&(repo.to_owned(), number)) {
        return Answer::not_found();
    }
    let Some(text) = body["body"].as_str() else {
        return Answer::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"body\" wasn't supplied.",
            "issues/comments#create-an-issue-comment",
        );
    };
    let comment = world.comment(text);
    world
        .issues
        .get_mut(&(repo.to_owned(), number))
        .unwrap()
        .push(comment.clone());
    let answer = Answer::json(
        StatusCode::CREATED,
        issue_comment_json(repo, number, &comment, base),
    );
    accepted(world, answer)
}

fn update_issue_comment(
    world: &mut World,
    repo: &str,
    id: &str,
    body: &Value,
    base: &str,
) -> Answer {
    let Some(text) = body["body"].as_str() else {
        return Answer::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"body\" wasn't supplied.",
            "issues/comments#update-an-issue-comment",
        );
    };
    let found = world
        .issues
        .iter_mut()
        .filter(|((r, _), _)| r == repo)
        .find_map(|((_, number), comments)| {
            let comment = comments.iter_mut().find(|c| c.id.to_string() == id)?;
            comment.body = text.to_owned();
            comment.updated = Timestamp::now();
            Some((*number, comment.clone()))
        });
    let Some((number, comment)) = found else {
        return Answer::not_found();
    };
    let answer = Answer::json(
        StatusCode::OK,
        issue_comment_json(repo, number, &comment, base),
    );
    accepted(world, answer)
}

// ---------------------------------------------------------------------------------------
// GraphQL.

/// The value of argument `name` in the query text: a `$variable`, a string or a number.
fn argument(query: &str, variables: &Value, name: &str) -> Value {
    let pattern = format!(r#"\b{name}\s*:\s*(\$\w+|"[^"]*"|-?\d+|null)"#);
    let found = regex_lite::Regex::new(&pattern)
        .unwrap()
        .captures(query)
        .map(|c| c[1].to_owned());
    match found {
        Some(token) if token.starts_with('$') => variables[&token[1..]].clone(),
        Some(token) => serde_json::from_str(&token).unwrap_or(Value::Null),
        None => Value::Null,
    }
}

fn discussion_comment_json(repo: &str, number: u64, comment: &FakeComment) -> Value {
    json!({
        "id": format!("DC_kwDOfake{}", comment.id),
        "body": comment.body,
        "url": format!("{HTML}/{repo}/discussions/{number}#discussioncomment-{}", comment.id),
        "updatedAt": comment.updated.to_string(),
        "author": { "login": comment.author },
    })
}

fn answer_graphql(world: &mut World, body: &Value) -> Answer {
    let query = body["query"].as_str().unwrap_or("");
    let variables = &body["variables"];
    let arg = |name: &str| argument(query, variables, name);
    let asks_viewer = query.contains("viewer");
    let mut answer = if query.contains("addDiscussionComment") {
        add_discussion_comment(world, &arg("discussionId"), &arg("body"))
    } else if query.contains("updateDiscussionComment") {
        update_discussion_comment(world, &arg("commentId"), &arg("body"))
    } else if query.contains("discussion(") {
        let repo = format!(
            "{}/{}",
            arg("owner").as_str().unwrap_or(""),
            arg("name").as_str().unwrap_or("")
        );
        let number = arg("number").as_u64().unwrap_or(0);
        find_discussion(world, &repo, number, &arg("first"), &arg("after"))
    } else if asks_viewer {
        Answer::json(StatusCode::OK, json!({ "data": {} }))
    } else {
        return Answer::graphql_error(
            "UNSUPPORTED",
            "this fake answers viewer and discussion comment queries only",
            Value::Null,
        );
    };
    if let Some(data) = answer.body["data"].as_object_mut().filter(|_| asks_viewer) {
        data.insert("viewer".into(), json!({ "login": LOGIN }));
    }
    answer
}

fn find_discussion(world: &World, repo: &str, number: u64, first: &Value, after: &Value) -> Answer {
    let Some(discussion) = world.discussions.get(&(repo.to_owned(), number)) else {
        return Answer::graphql_error(
            "NOT_FOUND",
            &format!("Could not resolve to a Discussion with the number of {number}."),
            json!({ "repository": { "discussion": null } }),
        );
    };
    let first = match first.as_u64() {
        Some(first @ 1..=100) => first as usize,
        _ => {
            return Answer::graphql_error(
                "MISSING_PAGINATION_BOUNDARIES",
                "You must provide a `first` or `last` value between 1 and 100 to properly paginate the `comments` connection.",
                Value::Null,
            );
        }
    };
    // Cursors are opaque to clients; here, the index after the page's last comment.
    let start = after
        .as_str()
        .and_then(|cursor| cursor.strip_prefix("cursor:"))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<Value> = discussion
        .comments
        .iter()
        .skip(start)
        .take(first)
        .map(|c| discussion_comment_json(repo, number, c))
        .collect();
    let end = start + page.len();
    Answer::json(
        StatusCode::OK,
        json!({ "data": { "repository": { "discussion": {
            "id": discussion_id(repo, number),
            "comments": {
                "nodes": page,
                "pageInfo": {
                    "hasNextPage": end < discussion.comments.len(),
                    "endCursor": (end > start).then(|| format!("cursor:{end}")),
                },
            },
        } } } }),
    )
}

fn discussion_id(repo: &str, number: u64) -> String {
    format!("D_kwDOfake{}_{number}", repo.replace('/', "_"))
}

fn add_discussion_comment(world: &mut World, discussion: &Value, body: &Value) -> Answer {
    let target = world
        .discussions
        .keys()
        .find(|(repo, number)| Some(discussion_id(repo, *number).as_str()) == discussion.as_str())
        .cloned();
    let Some((repo, number)) = target else {
        return Answer::graphql_error(
            "NOT_FOUND",
            &format!("Could not resolve to a node with the global id of '{discussion}'"),
            json!({ "addDiscussionComment": null }),
        );
    };
    let Some(text) = body.as_str().filter(|t| !t.trim().is_empty()) else {
        return Answer::graphql_error(
            "UNPROCESSABLE",
            "Body can't be blank",
            json!({ "addDiscussionComment": null }),
        );
    };
    let comment = world.comment(text);
    world
        .discussions
        .get_mut(&(repo.clone(), number))
        .unwrap()
        .comments
        .push(comment.clone());
    let node = discussion_comment_json(&repo, number, &comment);
    let answer = Answer::json(
        StatusCode::OK,
        json!({ "data": { "addDiscussionComment": { "comment": { "id": node["id"], "url": node["url"] } } } }),
    );
    accepted(world, answer)
}

fn update_discussion_comment(world: &mut World, id: &Value, body: &Value) -> Answer {
    let Some(text) = body.as_str().filter(|t| !t.trim().is_empty()) else {
        return Answer::graphql_error(
            "UNPROCESSABLE",
            "Body can't be blank",
            json!({ "updateDiscussionComment": null }),
        );
    };
    let found = world
        .discussions
        .iter_mut()
        .find_map(|((repo, number), discussion)| {
            let comment = discussion
                .comments
                .iter_mut()
                .find(|c| Some(format!("DC_kwDOfake{}", c.id).as_str()) == id.as_str())?;
            comment.body = text.to_owned();
            comment.updated = Timestamp::now();
            Some(discussion_comment_json(repo, *number, comment))
        });
    let Some(node) = found else {
        return Answer::graphql_error(
            "NOT_FOUND",
            &format!("Could not resolve to a node with the global id of '{id}'"),
            json!({ "updateDiscussionComment": null }),
        );
    };
    let answer = Answer::json(
        StatusCode::OK,
        json!({ "data": { "updateDiscussionComment": { "comment": { "id": node["id"], "url": node["url"] } } } }),
    );
    accepted(world, answer)
}

/// Standard base64 in lines of 60, each ended by a newline, as the contents API sends it.
fn wrapped_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let flat = base64::engine::general_purpose::STANDARD.encode(bytes);
    flat.as_bytes()
        .chunks(60)
        .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
        .collect()
}
