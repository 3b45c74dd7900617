//! The `docs` channel: approved drafts as posts in a docs repository in the Quartz
//! layout, committed (and pushed) with git. The post ([`DocsPost`]: its path and front
//! matter) is also what the `docs-github` channel writes through GitHub's contents API.
//!
//! The docs repository is the default one under the data dir, a local work tree, or a
//! checkout of a remote URL that raibid keeps for itself. Nothing is written unless the
//! target file is clean and the branch fast-forwards to its upstream; the same draft
//! published twice changes nothing the second time. See docs/drafts.md.

use std::io;
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::backend::git::{Git, GitError};
use crate::backend::sparky::model::{DigestData, DraftKind, FrontMatter, Period};
use crate::backend::sparky::store::{Draft, quote, write_atomic};
use crate::config::PublishConfig;
use crate::config::secret::SecretError;

/// Longest `description` in a post's front matter.
const DESCRIPTION_MAX: usize = 160;
const REMOTE: &str = "origin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// The post was written and committed (and pushed when `publish.push`).
    Committed { path: PathBuf, commit: String },
    /// The docs repository already holds exactly this post, from `commit`.
    Unchanged { path: PathBuf, commit: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{} is not the work tree of a git repository: {reason}", path.display())]
    NotARepository { path: PathBuf, reason: String },
    #[error("publish conflict in {}: {reason}; nothing was written", repo.display())]
    Conflict { repo: PathBuf, reason: String },
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("publish token: {0}")]
    Token(#[from] SecretError),
    #[error("docs repository: {0}")]
    Git(#[from] GitError),
}

/// Where a draft's post goes, relative to the docs repository's root.
pub fn target_path(front: &FrontMatter, data_period: &Period) -> PathBuf {
    let date = post_date(front, data_period);
    let file = match front.kind {
        DraftKind::Daily => format!("{date}.md"),
        DraftKind::Weekly => {
            let week = date.iso_week_date();
            format!("week-{:04}-{:02}.md", week.year(), week.week())
        }
        DraftKind::Monthly => format!("month-{:04}-{:02}.md", date.year(), date.month()),
        DraftKind::Digest => format!("digest-{}.md", file_slug(&data_period.label)),
        DraftKind::Blog => format!("post-{}.md", file_slug(&data_period.label)),
        other => format!("{}-{}.md", other.as_str(), file_slug(&data_period.label)),
    };
    // A week lives in the folder of its Monday, even when it starts in the month before.
    let folder = match front.kind {
        DraftKind::Weekly => monday_of(date),
        _ => date,
    };
    PathBuf::from("content/blog")
        .join(format!("{:04}", folder.year()))
        .join(format!("{:02}", folder.month()))
        .join(file)
}

/// The post: Quartz front matter (title, description, date, tags, author), then the body.
pub fn render_post(draft: &Draft, data: &DigestData, cfg: &PublishConfig) -> String {
    let mut tags: Vec<&str> = Vec::new();
    for tag in cfg
        .tags
        .iter()
        .map(String::as_str)
        .chain([draft.front.kind.as_str()])
    {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let tags: Vec<String> = tags.into_iter().map(quote).collect();
    let description =
        description(&draft.body).unwrap_or_else(|| data_description(data, &draft.front.period));
    let mut post = String::from("---\n");
    post.push_str(&format!("title: {}\n", quote(&draft.front.title)));
    post.push_str(&format!("description: {}\n", quote(&description)));
    post.push_str(&format!(
        "date: {}\n",
        post_date(&draft.front, &data.period)
    ));
    post.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    if !cfg.author.is_empty() {
        post.push_str(&format!("author: {}\n", quote(&cfg.author)));
    }
    post.push_str("---\n\n");
    post.push_str(draft.body.trim_start_matches('\n'));
    if !post.ends_with('\n') {
        post.push('\n');
    }
    post
}

/// A post's public URL: the site's base URL and the post's path in the repository
/// without `content/` and `.md`, as Quartz serves it.
pub fn post_url(site_url: &str, relative: &Path) -> String {
    let path = relative.to_string_lossy();
    let path = path.strip_prefix("content/").unwrap_or(&path);
    let path = path.strip_suffix(".md").unwrap_or(path);
    format!("{}/{path}", site_url.trim().trim_end_matches('/'))
}

/// A draft as a file of the docs repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsPost {
    /// Relative to the repository's root, see [`target_path`].
    pub relative: PathBuf,
    /// Front matter and body, see [`render_post`].
    pub content: String,
    pub title: String,
}

impl DocsPost {
    pub fn new(draft: &Draft, data: &DigestData, cfg: &PublishConfig) -> DocsPost {
        DocsPost {
            relative: target_path(&draft.front, &data.period),
            content: render_post(draft, data, cfg),
            title: draft.front.title.clone(),
        }
    }
}

/// Writes `post` into the docs repository as one commit, and pushes it when configured.
/// `default_docs_dir` is the repository used when `cfg.docs_repo` is empty; its parent also
/// holds the checkouts of remote docs repositories.
pub fn commit_post(
    post: &DocsPost,
    cfg: &PublishConfig,
    default_docs_dir: &Path,
) -> Result<PublishOutcome, PublishError> {
    let docs = DocsRepo::locate(cfg, default_docs_dir);
    let path = docs.work_tree.join(&post.relative);

    let git = docs.prepare(cfg)?;
    let relative = post.relative.to_string_lossy().into_owned();
    let upstream = check_clean(&git, cfg, &relative)?;

    if std::fs::read(&path).is_ok_and(|committed| committed == post.content.as_bytes()) {
        // Commits left unpushed by an earlier failed push go out now.
        if cfg.push && upstream.is_none_or(|u| u.ahead > 0) {
            push(&git, &cfg.branch)?;
        }
        let commit = git.run(&["log", "-1", "--format=%H", "--", &relative])?;
        return Ok(PublishOutcome::Unchanged {
            path,
            commit: commit.trim().to_string(),
        });
    }
    let parent = path.parent().unwrap_or(&docs.work_tree);
    std::fs::create_dir_all(parent).map_err(|source| PublishError::Io {
        action: "create",
        path: parent.to_path_buf(),
        source,
    })?;
    write_atomic(&path, post.content.as_bytes()).map_err(|source| PublishError::Io {
        action: "write",
        path: path.clone(),
        source,
    })?;
    git.run(&["add", "--", &relative])?;
    git.commit(&format!("publish: {}", post.title), &[&relative])?;
    let commit = git.run(&["rev-parse", "HEAD"])?.trim().to_string();
    if cfg.push {
        push(&git, &cfg.branch)?;
    }
    Ok(PublishOutcome::Committed { path, commit })
}

/// The docs repository's work tree, and the URL it is a checkout of, if any.
struct DocsRepo {
    work_tree: PathBuf,
    url: Option<String>,
}

impl DocsRepo {
    /// Where the docs repository is, without touching the disk.
    fn locate(cfg: &PublishConfig, default_docs_dir: &Path) -> DocsRepo {
        let repo = cfg.docs_repo.trim();
        if repo.is_empty() {
            DocsRepo {
                work_tree: default_docs_dir.to_path_buf(),
                url: None,
            }
        } else if is_url(repo) {
            let checkouts = default_docs_dir.parent().unwrap_or(default_docs_dir);
            let work_tree = checkouts
                .join("docs-checkouts")
                .join(file_slug(&strip_credentials(repo)));
            DocsRepo {
                work_tree,
                url: Some(repo.to_string()),
            }
        } else {
            DocsRepo {
                work_tree: PathBuf::from(repo),
                url: None,
            }
        }
    }

    /// Creates, clones or checks the repository and returns git for it, with the token (if
    /// any) sent as an HTTP header that never appears in argv or errors.
    fn prepare(&self, cfg: &PublishConfig) -> Result<Git, PublishError> {
        let git = authenticated(Git::new(&self.work_tree), cfg, self.url.as_deref())?;
        let exists = self.work_tree.join(".git").exists();
        match &self.url {
            Some(url) if !exists => clone(&git, url, &cfg.branch, &self.work_tree)?,
            Some(_) => {
                git.run(&["fetch", "--quiet", REMOTE])?;
            }
            None if !exists && cfg.docs_repo.trim().is_empty() => {
                std::fs::create_dir_all(&self.work_tree).map_err(|source| PublishError::Io {
                    action: "create",
                    path: self.work_tree.clone(),
                    source,
                })?;
                git.run(&["init", "--quiet", "--initial-branch", &cfg.branch])?;
            }
            None => {
                check_work_tree(&git)?;
                if cfg.push && upstream_ref(&git, &cfg.branch)?.is_some() {
                    git.run(&["fetch", "--quiet", REMOTE])?;
                }
            }
        }
        Ok(git)
    }
}

/// Clones `url` into `work_tree` and leaves `branch` checked out (unborn when the remote is
/// empty, started from the remote's default branch when it lacks `branch`).
fn clone(git: &Git, url: &str, branch: &str, work_tree: &Path) -> Result<(), PublishError> {
    let parent = work_tree.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| PublishError::Io {
        action: "create",
        path: parent.to_path_buf(),
        source,
    })?;
    let target = work_tree.to_string_lossy();
    git.in_dir(parent)
        .run(&["clone", "--quiet", "--origin", REMOTE, "--", url, &target])?;
    let tracking = format!("refs/remotes/{REMOTE}/{branch}");
    if git.resolve(&tracking)?.is_some() {
        let start = format!("{REMOTE}/{branch}");
        git.run(&["checkout", "--quiet", "-B", branch, "--track", &start])?;
    } else if git.resolve("HEAD")?.is_some() {
        git.run(&["checkout", "--quiet", "-b", branch])?;
    } else {
        let head = format!("refs/heads/{branch}");
        git.run(&["symbolic-ref", "HEAD", &head])?;
    }
    Ok(())
}

fn check_work_tree(git: &Git) -> Result<(), PublishError> {
    let not_a_repo = |reason: String| PublishError::NotARepository {
        path: git.dir().to_path_buf(),
        reason,
    };
    if !git.dir().is_dir() {
        return Err(not_a_repo("no such directory".into()));
    }
    let top = git
        .run(&["rev-parse", "--show-toplevel"])
        .map_err(|e| not_a_repo(e.to_string()))?;
    let top = PathBuf::from(top.trim());
    let here = git
        .dir()
        .canonicalize()
        .map_err(|e| not_a_repo(e.to_string()))?;
    if top.canonicalize().ok().as_ref() != Some(&here) {
        return Err(not_a_repo(format!(
            "it is inside the repository at {}",
            top.display()
        )));
    }
    Ok(())
}

/// How the checked-out branch stands against its upstream.
#[derive(Clone, Copy)]
struct Upstream {
    ahead: u64,
}

/// Refuses to go on when the target file has local changes, another branch is checked
/// out, or the branch has diverged from its upstream; fast-forwards when it is behind.
fn check_clean(
    git: &Git,
    cfg: &PublishConfig,
    relative: &str,
) -> Result<Option<Upstream>, PublishError> {
    let conflict = |reason: String| PublishError::Conflict {
        repo: git.dir().to_path_buf(),
        reason,
    };
    let head = git
        .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
        .ok();
    let head = head.as_deref().map(str::trim).unwrap_or("(detached HEAD)");
    if head != cfg.branch {
        return Err(conflict(format!(
            "branch {head} is checked out, publishing goes to {}",
            cfg.branch
        )));
    }
    if git.has_changes(&[relative])? {
        return Err(conflict(format!("{relative} has uncommitted changes")));
    }
    let Some(upstream) = upstream_ref(git, &cfg.branch)? else {
        return Ok(None);
    };
    let (ahead, behind) = match git.resolve("HEAD")? {
        Some(_) => {
            let range = format!("HEAD...{upstream}");
            let counts = git.run(&["rev-list", "--left-right", "--count", &range])?;
            let mut counts = counts.split_whitespace().map(str::parse::<u64>);
            match (counts.next(), counts.next()) {
                (Some(Ok(ahead)), Some(Ok(behind))) => (ahead, behind),
                _ => return Err(conflict(format!("cannot compare {head} with {upstream}"))),
            }
        }
        None => (0, 1),
    };
    if ahead > 0 && behind > 0 {
        return Err(conflict(format!(
            "branch {head} has diverged from {upstream} ({ahead} local and {behind} remote \
             commits); merge or rebase it by hand"
        )));
    }
    if behind > 0 {
        git.run(&["merge", "--quiet", "--ff-only", &upstream])
            .map_err(|e| {
                conflict(format!(
                    "branch {head} cannot fast-forward to {upstream}: {e}"
                ))
            })?;
    }
    Ok(Some(Upstream { ahead }))
}

/// The branch's configured upstream, else `origin/<branch>` when that exists.
fn upstream_ref(git: &Git, branch: &str) -> Result<Option<String>, PublishError> {
    let local = format!("refs/heads/{branch}");
    let configured = git.run(&["for-each-ref", "--format=%(upstream:short)", &local])?;
    let configured = configured.trim();
    if !configured.is_empty() && git.resolve(configured)?.is_some() {
        return Ok(Some(configured.to_string()));
    }
    let tracking = format!("refs/remotes/{REMOTE}/{branch}");
    Ok(git
        .resolve(&tracking)?
        .map(|_| format!("{REMOTE}/{branch}")))
}

fn push(git: &Git, branch: &str) -> Result<(), PublishError> {
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    git.run(&["push", "--quiet", REMOTE, &refspec])?;
    Ok(())
}

/// Sends the token, if any, as an `Authorization` header through git's environment config
/// (never argv, where other users could read it), and masks it and any credentials in the
/// URL in errors.
fn authenticated(git: Git, cfg: &PublishConfig, url: Option<&str>) -> Result<Git, PublishError> {
    let mut git = match url.and_then(url_credentials) {
        Some(credentials) => git.masking(credentials),
        None => git,
    };
    if let Some(token) = cfg.token.reveal()? {
        git = git.with_basic_auth("x-access-token", &token);
    }
    Ok(git)
}

fn is_url(repo: &str) -> bool {
    repo.contains("://") || repo.starts_with("git@")
}

/// The `user:password` part of `scheme://user:password@host/...`, if any.
fn url_credentials(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (credentials, _) = authority.rsplit_once('@')?;
    Some(credentials)
}

fn strip_credentials(url: &str) -> String {
    match url_credentials(url) {
        Some(credentials) => url.replacen(&format!("{credentials}@"), "", 1),
        None => url.to_string(),
    }
}

/// Lowercase letters, digits and `-`: safe as one file name.
fn file_slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The post's date: the draft's date, or the period's first day when that is unreadable.
fn post_date(front: &FrontMatter, period: &Period) -> Date {
    front.date.parse().unwrap_or_else(|_| {
        let zone = jiff::tz::TimeZone::get(&period.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        period.since.to_zoned(zone).date()
    })
}

fn monday_of(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back))
        .unwrap_or(date)
}

/// The first sentence of the body's first paragraph, as plain text, at most 160 chars.
fn description(body: &str) -> Option<String> {
    let paragraph = first_paragraph(body)?;
    let text = plain_text(&paragraph);
    let sentence = first_sentence(&text);
    let sentence = truncate_words(sentence.trim(), DESCRIPTION_MAX);
    (!sentence.is_empty()).then_some(sentence)
}

/// The first block of prose: skips headings, code, quotes, lists, tables, rules and HTML.
fn first_paragraph(body: &str) -> Option<String> {
    let mut lines = Vec::new();
    let mut in_code = false;
    for line in body.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if !in_code && is_prose(trimmed) {
            lines.push(trimmed);
        } else if !lines.is_empty() {
            break;
        }
    }
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// Whether a trimmed line is paragraph text rather than a heading, list item, quote,
/// table row, rule, HTML or a blank line.
fn is_prose(line: &str) -> bool {
    let bullet = ["- ", "* ", "+ "]
        .iter()
        .any(|marker| line.starts_with(marker));
    let numbered = line
        .split_once(". ")
        .or_else(|| line.split_once(") "))
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let rule = line
        .chars()
        .all(|c| matches!(c, '-' | '*' | '_' | '=' | ' '));
    !(bullet || numbered || rule || line.starts_with(['#', '>', '|', '<']))
}

/// Drops Markdown markup: emphasis, code ticks, images, and link targets (keeping text).
fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut chars = markdown.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // Escaped text stays as written: `\[x\](…)` is no link in plain text either.
            '\\' => out.extend([Some(c), chars.next()].into_iter().flatten()),
            '*' | '_' | '`' => {}
            '!' if chars.peek() == Some(&'[') => {}
            '[' => {}
            ']' if chars.peek() == Some(&'(') => {
                // Skip the link target up to its closing parenthesis.
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            }
            ']' => {}
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_sentence(text: &str) -> &str {
    let mut previous = None;
    for (i, c) in text.char_indices() {
        if c == ' ' && matches!(previous, Some('.' | '!' | '?')) {
            return &text[..i];
        }
        previous = Some(c);
    }
    text
}

/// At most `max` characters, cut at a word boundary with an ellipsis when shortened.
fn truncate_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        if out.chars().count() + word.chars().count() + 2 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = text.chars().take(max - 1).collect();
    }
    out.push('…');
    out
}

/// A description from the numbers when the body has no prose paragraph.
fn data_description(data: &DigestData, period: &str) -> String {
    let totals = &data.metrics.totals;
    let commits = if totals.commits == 1 {
        "commit"
    } else {
        "commits"
    };
    let repos = if totals.active_repos == 1 {
        "repository"
    } else {
        "repositories"
    };
    format!(
        "{} {commits} in {} {repos} during {period}.",
        totals.commits, totals.active_repos
    )
}
