//! One repository's activity in a period through GraphQL: one query brings the first
//! page of the default branch's history, pull requests, issues and releases; further
//! queries ask only for the connections that have more in the period. Building the
//! queries and reading the answers is pure; [`super::activity`] sends them.
//!
//! - Commits: `history(since, until)` of the default branch (committer dates), asked up
//!   to the period's end, which is exclusive: a commit at the end is dropped here.
//! - Pull requests: newest updated first; paging stops at one updated before the period
//!   (anything opened, merged or closed in the period was updated in it or later). Each
//!   with its reviews and labels (first [`LABELS_PER_PULL`]).
//! - Issues: `filterBy: {since}` (updated since) and newest updated first; GraphQL's issues
//!   are issues only, never pull requests.
//! - Releases: newest created first; paging stops at a page whose releases were all
//!   created and published before the period (a release may be published long after
//!   it was created).
//!
//! A connection that still has more after [`MAX_PAGES`] pages is not followed further:
//! [`Collector::incomplete`] says so.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::backend::forge::github::PageInfo;
use crate::backend::sparky::collect::is_bot;
use crate::backend::sparky::model::{
    CommitRecord, IssueRecord, PullRequestRecord, ReleaseRecord, RepoActivity,
};

/// Page sizes. Reviews are asked for 50 per pull request and labels for 20: with 50
/// pull requests a page that is 1 + 50 + 20 requests' worth of nodes, and with the other
/// connections a query still costs one point.
const COMMITS_PER_PAGE: u32 = 100;
const PULLS_PER_PAGE: u32 = 50;
const REVIEWS_PER_PULL: u32 = 50;
const LABELS_PER_PULL: u32 = 20;
const ISSUES_PER_PAGE: u32 = 100;
const RELEASES_PER_PAGE: u32 = 20;

/// What a GraphQL answer says about the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reply {
    /// `data.repository`.
    Data(Value),
    /// The repository does not exist or the token cannot see it.
    NotFound,
    /// GraphQL `errors` (messages joined), data or not.
    Errors(String),
}

/// Reads a GraphQL answer's body, and the query's cost when `rateLimit` came back (with
/// errors too). Partial data beside errors is not used: the activity would be incomplete
/// without saying so.
pub(super) fn read_reply(body: &str) -> (Reply, Option<u64>) {
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        let start: String = body.chars().take(120).collect();
        return (
            Reply::Errors(format!("not a GraphQL answer: {start}")),
            None,
        );
    };
    let cost = body.pointer("/data/rateLimit/cost").and_then(Value::as_u64);
    (reply(&body), cost)
}

fn reply(body: &Value) -> Reply {
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .filter(|errors| !errors.is_empty());
    if let Some(errors) = errors {
        let not_found = errors.iter().any(|error| {
            error.get("type").and_then(Value::as_str) == Some("NOT_FOUND")
                && error
                    .pointer("/path/0")
                    .and_then(Value::as_str)
                    .is_none_or(|path| path == "repository")
        });
        if not_found {
            return Reply::NotFound;
        }
        let messages: Vec<&str> = errors
            .iter()
            .map(|error| {
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("an error without a message")
            })
            .collect();
        return Reply::Errors(messages.join("; "));
    }
    match body.pointer("/data/repository") {
        Some(Value::Null) => Reply::NotFound,
        Some(repository) => Reply::Data(repository.clone()),
        None => Reply::Errors("the answer has no data".into()),
    }
}

/// Where one connection's paging stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Paging {
    asked: bool,
    more: bool,
    cursor: Option<String>,
    pages: u32,
}

impl Paging {
    fn wanted(&self) -> bool {
        !self.asked || self.more
    }
}

/// Pages per connection at most, against an endless loop on a strange answer.
const MAX_PAGES: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    Commits,
    Pulls,
    Issues,
    Releases,
}

const CONNS: [Conn; 4] = [Conn::Commits, Conn::Pulls, Conn::Issues, Conn::Releases];

impl Conn {
    /// What the connection holds, for people.
    fn noun(self) -> &'static str {
        match self {
            Conn::Commits => "commits",
            Conn::Pulls => "pull requests",
            Conn::Issues => "issues",
            Conn::Releases => "releases",
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Conn::Commits => "commits",
            Conn::Pulls => "pulls",
            Conn::Issues => "issues",
            Conn::Releases => "releases",
        }
    }
}

/// Gathers one repository's activity over as many queries as it takes.
#[derive(Debug, Clone)]
pub(super) struct Collector {
    repo: String,
    owner: String,
    name: String,
    since: Timestamp,
    until: Timestamp,
    paging: [Paging; 4],
    /// [`MAX_PAGES`]; smaller in tests.
    max_pages: u32,
    /// Why collecting stopped before the end, when it did ([`Collector::cut_short`]).
    cut: Option<String>,
    activity: RepoActivity,
}

impl Collector {
    pub fn new(full_name: &str, html_url: &str, since: Timestamp, until: Timestamp) -> Collector {
        let (owner, name) = full_name.split_once('/').unwrap_or(("", full_name));
        Collector {
            repo: full_name.to_owned(),
            owner: owner.to_owned(),
            name: name.to_owned(),
            since,
            until,
            paging: Default::default(),
            max_pages: MAX_PAGES,
            cut: None,
            activity: RepoActivity {
                name: full_name.to_owned(),
                path: html_url.to_owned(),
                ..RepoActivity::default()
            },
        }
    }

    fn wanted(&self) -> Vec<Conn> {
        CONNS
            .into_iter()
            .zip(&self.paging)
            .filter(|(_, paging)| paging.wanted() && paging.pages < self.max_pages)
            .map(|(conn, _)| conn)
            .collect()
    }

    /// Records that collecting stopped before GitHub had nothing more to give.
    pub fn cut_short(&mut self, reason: String) {
        self.cut.get_or_insert(reason);
    }

    /// Why the activity gathered is not all of the period's, when it is not: a
    /// connection had more than [`MAX_PAGES`] pages, or [`Collector::cut_short`] was
    /// called. Such activity is still worth showing, never worth keeping as complete.
    pub fn incomplete(&self) -> Option<String> {
        if let Some(cut) = &self.cut {
            return Some(cut.clone());
        }
        let (conn, _) = CONNS
            .into_iter()
            .zip(&self.paging)
            .find(|(_, paging)| paging.wanted() && paging.pages >= self.max_pages)?;
        Some(format!(
            "incomplete: more than {} pages of {}; the digest shows what was fetched",
            self.max_pages,
            conn.noun()
        ))
    }

    /// The next query's request body (`{"query", "variables"}`), or `None` when done.
    pub fn next_request(&self) -> Option<Value> {
        let wanted = self.wanted();
        if wanted.is_empty() {
            return None;
        }
        let mut variables = json!({ "owner": self.owner, "name": self.name });
        for conn in &wanted {
            let cursor = &self.paging[*conn as usize].cursor;
            variables[conn.variable()] = json!(cursor);
        }
        if wanted.contains(&Conn::Commits) {
            // Asked up to the period's real end: GitHub does not document whether its
            // `until` is inclusive; the end (exclusive in a period) is filtered here.
            variables["since"] = json!(self.since.to_string());
            variables["until"] = json!(self.until.to_string());
        }
        if wanted.contains(&Conn::Issues) {
            variables["updatedSince"] = json!(self.since.to_string());
        }
        Some(json!({ "query": query(&wanted), "variables": variables }))
    }

    /// Takes in one answer's `data.repository`.
    pub fn absorb(&mut self, repository: &Value) -> Result<(), String> {
        for conn in self.wanted() {
            let paging = &mut self.paging[conn as usize];
            paging.asked = true;
            paging.pages += 1;
            let field = match conn {
                Conn::Commits => {
                    match repository.get("defaultBranchRef") {
                        // An empty repository has no default branch yet.
                        Some(Value::Null) => {
                            paging.more = false;
                            continue;
                        }
                        Some(branch) => branch.pointer("/target/history"),
                        None => None,
                    }
                }
                Conn::Pulls => repository.get("pullRequests"),
                Conn::Issues => repository.get("issues"),
                Conn::Releases => repository.get("releases"),
            };
            let field = field.ok_or_else(|| {
                format!("GitHub's answer lacks the {} asked for", conn.variable())
            })?;
            match conn {
                Conn::Commits => self.commits(field)?,
                Conn::Pulls => self.pulls(field)?,
                Conn::Issues => self.issues(field)?,
                Conn::Releases => self.releases(field)?,
            }
        }
        Ok(())
    }

    /// The activity gathered, sorted: commits newest first, pull requests and issues by
    /// number (newest first), releases newest published first. `is_bot` is left to
    /// [`flag_bots`].
    pub fn finish(mut self) -> RepoActivity {
        let activity = &mut self.activity;
        activity
            .commits
            .sort_by_key(|commit| std::cmp::Reverse(commit.committed));
        activity.commits.dedup_by(|a, b| a.sha == b.sha);
        activity.files_unknown.sort();
        activity.files_unknown.dedup();
        activity
            .pull_requests
            .sort_by_key(|item| std::cmp::Reverse(item.number));
        activity.pull_requests.dedup_by(|a, b| a.number == b.number);
        activity
            .issues
            .sort_by_key(|item| std::cmp::Reverse(item.number));
        activity.issues.dedup_by(|a, b| a.number == b.number);
        activity
            .releases
            .sort_by(|a, b| b.published.cmp(&a.published).then(a.tag.cmp(&b.tag)));
        activity.releases.dedup_by(|a, b| a.tag == b.tag);
        self.activity
    }

    fn in_period(&self, at: Timestamp) -> bool {
        self.since <= at && at < self.until
    }

    fn commits(&mut self, field: &Value) -> Result<(), String> {
        let page: Page<CommitNode> = read(field, "history")?;
        for node in page.nodes.into_iter().flatten() {
            let committed = timestamp(&node.committed_date, "committedDate")?;
            if !self.in_period(committed) {
                continue;
            }
            let authored = node
                .authored_date
                .as_deref()
                .unwrap_or(&node.committed_date);
            let author = node.author.unwrap_or_default();
            let is_merge = node.parents.map_or(0, |p| p.total_count) > 1;
            let login = author.user.map(|user| user.login);
            // As `git log --numstat` shows merges: their lines and files were counted on
            // the branches they bring in.
            let files_changed = match node.changed_files_if_available {
                _ if is_merge => 0,
                Some(files) => files,
                None => {
                    self.activity.files_unknown.push(node.oid.clone());
                    0
                }
            };
            self.activity.commits.push(CommitRecord {
                repo: self.repo.clone(),
                author: author
                    .name
                    .filter(|name| !name.is_empty())
                    .or_else(|| login.clone())
                    .unwrap_or_else(|| "unknown".into()),
                login,
                email: author.email.unwrap_or_default(),
                time: timestamp(authored, "authoredDate")?,
                offset_seconds: offset_seconds(authored),
                committed,
                subject: node.message_headline,
                files_changed,
                insertions: if is_merge { 0 } else { node.additions },
                deletions: if is_merge { 0 } else { node.deletions },
                is_merge,
                is_bot: false,
                sha: node.oid,
                paths: Vec::new(),
            });
        }
        self.paging[Conn::Commits as usize].more = page.page_info.has_next_page;
        self.paging[Conn::Commits as usize].cursor = page.page_info.end_cursor;
        Ok(())
    }

    fn pulls(&mut self, field: &Value) -> Result<(), String> {
        let page: Page<PullNode> = read(field, "pullRequests")?;
        let mut older = false;
        for node in page.nodes.into_iter().flatten() {
            let created = timestamp(&node.created_at, "createdAt")?;
            let updated = timestamp(&node.updated_at, "updatedAt")?;
            let merged = optional_timestamp(node.merged_at.as_deref(), "mergedAt")?;
            let closed = optional_timestamp(node.closed_at.as_deref(), "closedAt")?;
            older |= updated < self.since;
            let touched = self.in_period(created)
                || merged.is_some_and(|at| self.in_period(at))
                || closed.is_some_and(|at| self.in_period(at));
            if !touched {
                continue;
            }
            let author = login(node.author);
            let mut reviewers: Vec<String> = node
                .reviews
                .map(|reviews| reviews.nodes)
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .filter_map(|review| review.author.map(|author| author.login))
                .filter(|reviewer| *reviewer != author)
                .collect();
            reviewers.sort();
            reviewers.dedup();
            self.activity.pull_requests.push(PullRequestRecord {
                repo: self.repo.clone(),
                number: node.number,
                title: node.title,
                author,
                url: node.url,
                created,
                merged,
                closed,
                reviewers,
                additions: node.additions,
                deletions: node.deletions,
                is_bot: false,
                labels: node
                    .labels
                    .map(|labels| labels.nodes)
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .map(|label| label.name)
                    .collect(),
            });
        }
        let paging = &mut self.paging[Conn::Pulls as usize];
        paging.more = page.page_info.has_next_page && !older;
        paging.cursor = page.page_info.end_cursor;
        Ok(())
    }

    fn issues(&mut self, field: &Value) -> Result<(), String> {
        let page: Page<IssueNode> = read(field, "issues")?;
        let mut older = false;
        for node in page.nodes.into_iter().flatten() {
            let created = timestamp(&node.created_at, "createdAt")?;
            let updated = timestamp(&node.updated_at, "updatedAt")?;
            let closed = optional_timestamp(node.closed_at.as_deref(), "closedAt")?;
            older |= updated < self.since;
            if !(self.in_period(created) || closed.is_some_and(|at| self.in_period(at))) {
                continue;
            }
            self.activity.issues.push(IssueRecord {
                repo: self.repo.clone(),
                number: node.number,
                title: node.title,
                author: login(node.author),
                url: node.url,
                created,
                closed,
                is_bot: false,
            });
        }
        let paging = &mut self.paging[Conn::Issues as usize];
        paging.more = page.page_info.has_next_page && !older;
        paging.cursor = page.page_info.end_cursor;
        Ok(())
    }

    fn releases(&mut self, field: &Value) -> Result<(), String> {
        let page: Page<ReleaseNode> = read(field, "releases")?;
        // Releases come newest created first, but count by when they were published,
        // which can be much later: paging goes on while any release on the page was
        // created or published (or is not yet published) in the period or after it.
        // An empty page says nothing about the next one.
        let mut recent = page.nodes.iter().all(Option::is_none);
        for node in page.nodes.into_iter().flatten() {
            let created = timestamp(&node.created_at, "createdAt")?;
            let published = optional_timestamp(node.published_at.as_deref(), "publishedAt")?;
            recent |= created >= self.since || published.is_none_or(|at| at >= self.since);
            let Some(published) = published.filter(|at| !node.is_draft && self.in_period(*at))
            else {
                continue;
            };
            self.activity.releases.push(ReleaseRecord {
                repo: self.repo.clone(),
                name: node
                    .name
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| node.tag_name.clone()),
                tag: node.tag_name,
                author: node
                    .author
                    .map_or_else(|| "ghost".into(), |author| author.login),
                url: node.url,
                published,
                prerelease: node.is_prerelease,
            });
        }
        let paging = &mut self.paging[Conn::Releases as usize];
        paging.more = page.page_info.has_next_page && recent;
        paging.cursor = page.page_info.end_cursor;
        Ok(())
    }
}

/// Sets `is_bot` on every record from the authors' names, emails and logins.
pub(super) fn flag_bots(mut activity: RepoActivity, bots: &[String]) -> RepoActivity {
    for commit in &mut activity.commits {
        commit.is_bot = is_bot(&commit.author, &commit.email, bots);
    }
    for pull in &mut activity.pull_requests {
        pull.is_bot = is_bot(&pull.author, "", bots);
    }
    for issue in &mut activity.issues {
        issue.is_bot = is_bot(&issue.author, "", bots);
    }
    activity
}

/// The query for the wanted connections, declaring exactly the variables it uses.
fn query(wanted: &[Conn]) -> String {
    let mut declared = vec!["$owner: String!", "$name: String!"];
    let mut fields = String::new();
    for conn in wanted {
        match conn {
            Conn::Commits => {
                declared.extend([
                    "$since: GitTimestamp!",
                    "$until: GitTimestamp!",
                    "$commits: String",
                ]);
                fields.push_str(&format!(
                    "defaultBranchRef {{ target {{ ... on Commit {{ history(first: {COMMITS_PER_PAGE}, since: $since, until: $until, after: $commits) {{ {PAGE_INFO} nodes {{ oid committedDate authoredDate messageHeadline additions deletions changedFilesIfAvailable parents {{ totalCount }} author {{ name email user {{ login }} }} }} }} }} }} }} "
                ));
            }
            Conn::Pulls => {
                declared.push("$pulls: String");
                fields.push_str(&format!(
                    "pullRequests(first: {PULLS_PER_PAGE}, orderBy: {{field: UPDATED_AT, direction: DESC}}, after: $pulls) {{ {PAGE_INFO} nodes {{ number title url createdAt updatedAt mergedAt closedAt additions deletions author {{ __typename login }} reviews(first: {REVIEWS_PER_PULL}) {{ nodes {{ author {{ login }} }} }} labels(first: {LABELS_PER_PULL}) {{ nodes {{ name }} }} }} }} "
                ));
            }
            Conn::Issues => {
                declared.extend(["$updatedSince: DateTime!", "$issues: String"]);
                fields.push_str(&format!(
                    "issues(first: {ISSUES_PER_PAGE}, orderBy: {{field: UPDATED_AT, direction: DESC}}, filterBy: {{since: $updatedSince}}, after: $issues) {{ {PAGE_INFO} nodes {{ number title url createdAt updatedAt closedAt author {{ __typename login }} }} }} "
                ));
            }
            Conn::Releases => {
                declared.push("$releases: String");
                fields.push_str(&format!(
                    "releases(first: {RELEASES_PER_PAGE}, orderBy: {{field: CREATED_AT, direction: DESC}}, after: $releases) {{ {PAGE_INFO} nodes {{ tagName name url createdAt publishedAt isPrerelease isDraft author {{ login }} }} }} "
                ));
            }
        }
    }
    format!(
        "query RaibidActivity({}) {{ rateLimit {{ cost remaining resetAt }} repository(owner: $owner, name: $name) {{ {}}} }}",
        declared.join(", "),
        fields
    )
}

const PAGE_INFO: &str = "pageInfo { hasNextPage endCursor }";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    page_info: PageInfo,
    #[serde(default = "Vec::new")]
    nodes: Vec<Option<T>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitNode {
    oid: String,
    committed_date: String,
    authored_date: Option<String>,
    #[serde(default)]
    message_headline: String,
    #[serde(default)]
    additions: u64,
    #[serde(default)]
    deletions: u64,
    changed_files_if_available: Option<u32>,
    parents: Option<Count>,
    author: Option<GitActor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Count {
    total_count: u64,
}

#[derive(Debug, Default, Deserialize)]
struct GitActor {
    name: Option<String>,
    email: Option<String>,
    user: Option<Login>,
}

#[derive(Debug, Deserialize)]
struct Login {
    login: String,
}

#[derive(Debug, Deserialize)]
struct Actor {
    #[serde(rename = "__typename")]
    typename: Option<String>,
    login: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullNode {
    number: u64,
    title: String,
    url: String,
    created_at: String,
    updated_at: String,
    merged_at: Option<String>,
    closed_at: Option<String>,
    #[serde(default)]
    additions: u64,
    #[serde(default)]
    deletions: u64,
    author: Option<Actor>,
    reviews: Option<Nodes<Review>>,
    labels: Option<Nodes<Label>>,
}

#[derive(Debug, Deserialize)]
struct Nodes<T> {
    #[serde(default = "Vec::new")]
    nodes: Vec<Option<T>>,
}

#[derive(Debug, Deserialize)]
struct Review {
    author: Option<Login>,
}

#[derive(Debug, Deserialize)]
struct Label {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueNode {
    number: u64,
    title: String,
    url: String,
    created_at: String,
    updated_at: String,
    closed_at: Option<String>,
    author: Option<Actor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseNode {
    tag_name: String,
    name: Option<String>,
    url: String,
    created_at: String,
    published_at: Option<String>,
    #[serde(default)]
    is_prerelease: bool,
    #[serde(default)]
    is_draft: bool,
    author: Option<Login>,
}

fn read<T: for<'de> Deserialize<'de>>(field: &Value, what: &str) -> Result<Page<T>, String> {
    Page::<T>::deserialize(field).map_err(|error| format!("cannot read {what}: {error}"))
}

fn timestamp(text: &str, what: &str) -> Result<Timestamp, String> {
    text.parse()
        .map_err(|error| format!("{what} {text:?} is not a time: {error}"))
}

fn optional_timestamp(text: Option<&str>, what: &str) -> Result<Option<Timestamp>, String> {
    text.map(|text| timestamp(text, what)).transpose()
}

/// The UTC offset of an RFC 3339 time (`Z`, `+01:00`, `-0530`), in seconds.
fn offset_seconds(text: &str) -> i32 {
    if text.ends_with(['Z', 'z']) {
        return 0;
    }
    let Some(position) = text.rfind(['+', '-']).filter(|at| *at > 10) else {
        return 0;
    };
    let sign = if text[position..].starts_with('-') {
        -1
    } else {
        1
    };
    let digits: String = text[position + 1..]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    match (digits.get(..2), digits.get(2..4)) {
        (Some(hours), Some(minutes)) => {
            let hours: i32 = hours.parse().unwrap_or(0);
            let minutes: i32 = minutes.parse().unwrap_or(0);
            sign * (hours * 3600 + minutes * 60)
        }
        _ => 0,
    }
}

/// An actor's login; a deleted account shows as `ghost`, as on GitHub. GraphQL names bots
/// without the `[bot]` that REST and the web show: it is added back.
fn login(actor: Option<Actor>) -> String {
    match actor {
        None => "ghost".into(),
        Some(actor)
            if actor.typename.as_deref() == Some("Bot") && !actor.login.ends_with("[bot]") =>
        {
            format!("{}[bot]", actor.login)
        }
        Some(actor) => actor.login,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn collector() -> Collector {
        Collector::new(
            "acme/web",
            "https://github.com/acme/web",
            at("2026-11-02T00:00:00Z"),
            at("2026-11-09T00:00:00Z"),
        )
    }

    fn page(nodes: Value, next: Option<&str>) -> Value {
        json!({ "pageInfo": { "hasNextPage": next.is_some(), "endCursor": next }, "nodes": nodes })
    }

    fn empty_repository() -> Value {
        json!({
            "defaultBranchRef": { "target": { "history": page(json!([]), None) } },
            "pullRequests": page(json!([]), None),
            "issues": page(json!([]), None),
            "releases": page(json!([]), None),
        })
    }

    #[test]
    fn the_first_query_asks_for_everything_and_declares_what_it_uses() {
        let request = collector().next_request().unwrap();
        let query = request["query"].as_str().unwrap();
        for part in [
            "rateLimit { cost remaining resetAt }",
            "history(first: 100, since: $since, until: $until, after: $commits)",
            "pullRequests(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}, after: $pulls)",
            "reviews(first: 50)",
            "labels(first: 20) { nodes { name } }",
            "filterBy: {since: $updatedSince}",
            "releases(first: 20, orderBy: {field: CREATED_AT, direction: DESC}, after: $releases)",
            "additions deletions",
        ] {
            assert!(query.contains(part), "{part} in {query}");
        }
        let variables = &request["variables"];
        assert_eq!(variables["owner"], "acme");
        assert_eq!(variables["name"], "web");
        assert_eq!(variables["since"], "2026-11-02T00:00:00Z");
        assert_eq!(variables["until"], "2026-11-09T00:00:00Z");
        assert_eq!(variables["commits"], Value::Null);
        assert_eq!(query.matches('{').count(), query.matches('}').count());
    }

    #[test]
    fn later_queries_ask_only_for_connections_with_more() {
        let mut collector = collector();
        let mut repository = empty_repository();
        repository["pullRequests"] = page(json!([]), Some("P1"));
        collector.absorb(&repository).unwrap();
        let request = collector.next_request().unwrap();
        let query = request["query"].as_str().unwrap();
        assert!(query.contains("pullRequests(") && !query.contains("history("));
        assert!(!query.contains("$since") && !query.contains("issues("));
        assert_eq!(request["variables"]["pulls"], "P1");
        collector
            .absorb(&json!({ "pullRequests": page(json!([]), None) }))
            .unwrap();
        assert_eq!(collector.next_request(), None);
    }

    #[test]
    fn commits_map_lines_merges_and_offsets() {
        let mut collector = collector();
        let mut repository = empty_repository();
        repository["defaultBranchRef"]["target"]["history"] = page(
            json!([
                { "oid": "a1", "committedDate": "2026-11-03T10:00:00Z", "authoredDate": "2026-11-03T11:00:00+01:00",
                  "messageHeadline": "feat: x", "additions": 12, "deletions": 3, "changedFilesIfAvailable": 2,
                  "parents": { "totalCount": 1 }, "author": { "name": "Ann", "email": "ann@x.org", "user": { "login": "ann" } } },
                { "oid": "m1", "committedDate": "2026-11-04T10:00:00Z", "authoredDate": "2026-11-04T10:00:00Z",
                  "messageHeadline": "Merge", "additions": 99, "deletions": 9, "changedFilesIfAvailable": 5,
                  "parents": { "totalCount": 2 }, "author": { "name": "Bob", "email": "bob@x.org", "user": null } },
                { "oid": "late", "committedDate": "2026-11-09T00:00:00Z", "authoredDate": "2026-11-09T00:00:00Z",
                  "messageHeadline": "outside", "additions": 1, "deletions": 1,
                  "parents": { "totalCount": 1 }, "author": { "name": "Ann", "email": "ann@x.org", "user": null } }
            ]),
            None,
        );
        collector.absorb(&repository).unwrap();
        let activity = collector.finish();
        assert_eq!(activity.name, "acme/web");
        assert_eq!(activity.path, "https://github.com/acme/web");
        let shas: Vec<&str> = activity.commits.iter().map(|c| c.sha.as_str()).collect();
        assert_eq!(shas, ["m1", "a1"]);
        let a1 = &activity.commits[1];
        assert_eq!((a1.insertions, a1.deletions, a1.files_changed), (12, 3, 2));
        assert_eq!(a1.offset_seconds, 3600);
        assert_eq!(a1.time, at("2026-11-03T10:00:00Z"));
        assert_eq!(a1.repo, "acme/web");
        let m1 = &activity.commits[0];
        assert!(m1.is_merge);
        assert_eq!((m1.insertions, m1.deletions, m1.files_changed), (0, 0, 0));
    }

    #[test]
    fn pull_requests_in_the_period_with_reviewers_labels_and_paging_stops_at_older_ones() {
        let mut collector = collector();
        let mut repository = empty_repository();
        let pull = |number: u64, created: &str, updated: &str, merged: Option<&str>| {
            json!({ "number": number, "title": format!("PR {number}"), "url": format!("https://github.com/acme/web/pull/{number}"),
                    "createdAt": created, "updatedAt": updated, "mergedAt": merged, "closedAt": merged,
                    "additions": number * 10, "deletions": number, "author": { "__typename": "User", "login": "ann" },
                    "reviews": { "nodes": [ { "author": { "login": "cleo" } }, { "author": { "login": "ann" } },
                                            { "author": { "login": "bob" } }, { "author": { "login": "cleo" } }, { "author": null } ] },
                    "labels": { "nodes": [ { "name": "security" }, null, { "name": "good first issue" } ] } })
        };
        repository["pullRequests"] = page(
            json!([
                pull(7, "2026-11-10T00:00:00Z", "2026-11-10T00:00:00Z", None),
                pull(
                    5,
                    "2026-10-20T00:00:00Z",
                    "2026-11-05T00:00:00Z",
                    Some("2026-11-05T00:00:00Z")
                ),
                pull(4, "2026-11-03T00:00:00Z", "2026-11-03T00:00:00Z", None),
                pull(2, "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", None),
            ]),
            Some("P2"),
        );
        collector.absorb(&repository).unwrap();
        // PR 2 was last updated before the period: no further page.
        assert_eq!(collector.next_request(), None);
        let activity = collector.finish();
        let numbers: Vec<u64> = activity.pull_requests.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [5, 4]);
        let five = &activity.pull_requests[0];
        assert_eq!(five.reviewers, ["bob", "cleo"]);
        assert_eq!(five.labels, ["security", "good first issue"]);
        assert_eq!((five.additions, five.deletions), (50, 5));
        assert_eq!(five.merged, Some(at("2026-11-05T00:00:00Z")));
    }

    #[test]
    fn issues_releases_and_bots() {
        let mut collector = collector();
        let mut repository = empty_repository();
        repository["issues"] = page(
            json!([
                { "number": 9, "title": "crash", "url": "u9", "createdAt": "2026-11-04T00:00:00Z", "updatedAt": "2026-11-04T00:00:00Z",
                  "closedAt": null, "author": { "__typename": "Bot", "login": "renovate" } },
                { "number": 3, "title": "old", "url": "u3", "createdAt": "2026-10-01T00:00:00Z", "updatedAt": "2026-11-06T00:00:00Z",
                  "closedAt": "2026-11-06T00:00:00Z", "author": null },
                { "number": 2, "title": "touched", "url": "u2", "createdAt": "2026-10-01T00:00:00Z", "updatedAt": "2026-11-06T00:00:00Z",
                  "closedAt": null, "author": { "__typename": "User", "login": "bob" } }
            ]),
            None,
        );
        repository["releases"] = page(
            json!([
                { "tagName": "v2.0.0-rc1", "name": "", "url": "r2", "createdAt": "2026-11-05T00:00:00Z", "publishedAt": "2026-11-05T01:00:00Z",
                  "isPrerelease": true, "isDraft": false, "author": { "login": "ann" } },
                { "tagName": "v1.9.0", "name": "Draft", "url": "r1", "createdAt": "2026-11-04T00:00:00Z", "publishedAt": null,
                  "isPrerelease": false, "isDraft": true, "author": { "login": "ann" } },
                { "tagName": "v1.8.0", "name": "Old", "url": "r0", "createdAt": "2026-10-04T00:00:00Z", "publishedAt": "2026-10-04T00:00:00Z",
                  "isPrerelease": false, "isDraft": false, "author": null }
            ]),
            Some("R2"),
        );
        collector.absorb(&repository).unwrap();
        // v2.0.0-rc1 and the draft are recent: the next page may hold a release created
        // earlier and published in the period.
        let request = collector.next_request().unwrap();
        let query = request["query"].as_str().unwrap();
        assert!(query.contains("releases(") && !query.contains("issues("));
        assert_eq!(request["variables"]["releases"], "R2");
        collector
            .absorb(&json!({ "releases": page(json!([
                { "tagName": "v1.7.0", "name": "Older", "url": "r-1", "createdAt": "2026-09-04T00:00:00Z", "publishedAt": "2026-09-05T00:00:00Z",
                  "isPrerelease": false, "isDraft": false, "author": null }
            ]), Some("R3")) }))
            .unwrap();
        assert_eq!(
            collector.next_request(),
            None,
            "v1.7.0 was created and published before the period"
        );
        let activity = flag_bots(collector.finish(), &["[bot]".to_string()]);
        let issues: Vec<(u64, &str, bool)> = activity
            .issues
            .iter()
            .map(|i| (i.number, i.author.as_str(), i.is_bot))
            .collect();
        assert_eq!(issues, [(9, "renovate[bot]", true), (3, "ghost", false)]);
        assert_eq!(activity.releases.len(), 1);
        assert_eq!(activity.releases[0].name, "v2.0.0-rc1");
        assert!(activity.releases[0].prerelease);
    }

    fn release(tag: &str, created: &str, published: Option<&str>) -> Value {
        json!({ "tagName": tag, "name": tag, "url": format!("https://github.com/acme/web/releases/{tag}"),
                "createdAt": created, "publishedAt": published, "isPrerelease": false,
                "isDraft": published.is_none(), "author": { "login": "ann" } })
    }

    #[test]
    fn a_release_created_before_the_period_and_published_in_it_is_found_on_a_later_page() {
        let mut collector = collector();
        let mut repository = empty_repository();
        // Page 1 ends with a release created and published before the period...
        repository["releases"] = page(
            json!([
                release(
                    "v3.0.0",
                    "2026-11-04T00:00:00Z",
                    Some("2026-11-04T00:00:00Z")
                ),
                release(
                    "v2.9.0",
                    "2026-10-01T00:00:00Z",
                    Some("2026-10-01T00:00:00Z")
                ),
            ]),
            Some("R2"),
        );
        collector.absorb(&repository).unwrap();
        // ...but page 2 holds one created even earlier and published in the period.
        let request = collector.next_request().unwrap();
        assert_eq!(request["variables"]["releases"], "R2");
        collector
            .absorb(&json!({ "releases": page(json!([
                release("v2.8.0", "2026-09-20T00:00:00Z", Some("2026-11-03T12:00:00Z")),
            ]), Some("R3")) }))
            .unwrap();
        let request = collector.next_request().unwrap();
        assert_eq!(request["variables"]["releases"], "R3");
        collector
            .absorb(&json!({ "releases": page(json!([
                release("v2.7.0", "2026-09-10T00:00:00Z", Some("2026-09-11T00:00:00Z")),
                release("v2.6.0", "2026-09-01T00:00:00Z", Some("2026-09-02T00:00:00Z")),
            ]), Some("R4")) }))
            .unwrap();
        assert_eq!(
            collector.next_request(),
            None,
            "page 3 is older than the period"
        );
        assert_eq!(collector.incomplete(), None);
        let tags: Vec<String> = collector
            .finish()
            .releases
            .into_iter()
            .map(|r| r.tag)
            .collect();
        assert_eq!(tags, ["v3.0.0", "v2.8.0"]);
    }

    #[test]
    fn a_connection_beyond_the_page_limit_makes_the_activity_incomplete() {
        let mut collector = collector();
        collector.max_pages = 2;
        let commit = |oid: &str| {
            json!({ "oid": oid, "committedDate": "2026-11-03T10:00:00Z", "messageHeadline": "x",
                    "parents": { "totalCount": 1 }, "author": { "name": "Ann", "email": "ann@x.org", "user": null } })
        };
        let mut repository = empty_repository();
        repository["defaultBranchRef"]["target"]["history"] =
            page(json!([commit("c1")]), Some("C2"));
        collector.absorb(&repository).unwrap();
        assert_eq!(collector.incomplete(), None, "one page of two");
        let request = collector.next_request().unwrap();
        assert_eq!(request["variables"]["commits"], "C2");
        collector
            .absorb(&json!({ "defaultBranchRef": { "target": { "history": page(json!([commit("c2")]), Some("C3")) } } }))
            .unwrap();
        assert_eq!(collector.next_request(), None, "the limit is reached");
        assert_eq!(
            collector.incomplete().as_deref(),
            Some("incomplete: more than 2 pages of commits; the digest shows what was fetched")
        );
        // What was fetched is kept.
        assert_eq!(collector.finish().commits.len(), 2);

        // A collector that reached the end is complete; one cut short says why.
        let mut done = self::collector();
        done.absorb(&empty_repository()).unwrap();
        assert_eq!(done.incomplete(), None);
        done.cut_short("incomplete: more than 200 queries".into());
        assert_eq!(
            done.incomplete().as_deref(),
            Some("incomplete: more than 200 queries")
        );
    }

    #[test]
    fn an_empty_repository_has_no_commits() {
        let mut collector = collector();
        let mut repository = empty_repository();
        repository["defaultBranchRef"] = Value::Null;
        collector.absorb(&repository).unwrap();
        assert_eq!(collector.next_request(), None);
        assert!(collector.finish().commits.is_empty());
    }

    #[test]
    fn replies_are_told_apart() {
        let data = r#"{"data":{"rateLimit":{"cost":1,"remaining":4999,"resetAt":"2026-11-05T11:00:00Z"},"repository":{"x":1}}}"#;
        assert_eq!(read_reply(data), (Reply::Data(json!({"x": 1})), Some(1)));
        let not_found = r#"{"data":{"repository":null},"errors":[{"type":"NOT_FOUND","path":["repository"],"message":"Could not resolve to a Repository with the name 'acme/secret'."}]}"#;
        assert_eq!(read_reply(not_found), (Reply::NotFound, None));
        let not_found_cost = r#"{"data":{"rateLimit":{"cost":1},"repository":null},"errors":[{"type":"NOT_FOUND","path":["repository"],"message":"x"}]}"#;
        assert_eq!(read_reply(not_found_cost), (Reply::NotFound, Some(1)));
        let failed = r#"{"errors":[{"message":"Something went wrong"},{"message":"and this"}]}"#;
        assert_eq!(
            read_reply(failed).0,
            Reply::Errors("Something went wrong; and this".into())
        );
        let partial = r#"{"data":{"repository":{"x":1}},"errors":[{"type":"FORBIDDEN","message":"Resource not accessible"}]}"#;
        assert_eq!(
            read_reply(partial).0,
            Reply::Errors("Resource not accessible".into())
        );
        assert!(matches!(read_reply("<html>"), (Reply::Errors(_), None)));
    }

    #[test]
    fn offsets_of_rfc3339_times() {
        assert_eq!(offset_seconds("2026-11-03T11:00:00Z"), 0);
        assert_eq!(offset_seconds("2026-11-03T11:00:00+01:00"), 3600);
        assert_eq!(offset_seconds("2026-11-03T11:00:00-05:30"), -19800);
        assert_eq!(offset_seconds("2026-11-03T11:00:00.123+0200"), 7200);
        assert_eq!(offset_seconds("garbage"), 0);
    }
}
