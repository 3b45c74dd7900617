//! Drafts as files in a git repository: every change a commit, every write atomic.
//!
//! `<dir>/<id>.md` holds the front matter and the Markdown body, `<dir>/<id>.json` the
//! [`DigestData`] the draft was written from, `<dir>/publications/<id>.json` where it was
//! published. The console editor's autosaves live in
//! `<dir>/.recovery/<id>.md`, which git ignores. The format is described in docs/drafts.md.

use std::cmp::Reverse;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::channels::Publication;
use super::model::{DigestData, DraftKind, DraftState, FrontMatter};
use crate::backend::git::{Git, GitError};

/// What the store's `.gitignore` must contain: autosaves and half-written temp files.
const IGNORED: [&str; 2] = ["/.recovery/", ".tmp-*"];
const RECOVERY_DIR: &str = ".recovery";
/// `publications/<id>.json`: the drafts' publications, apart from the drafts so that no
/// draft's files can share a name with them.
const PUBLICATIONS_DIR: &str = "publications";
const FENCE: &str = "---";
const MAX_ID_LEN: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid draft id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("no draft {id:?} in {}", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("unreadable draft {}:{line}: {reason}", path.display())]
    Unreadable {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("draft {id:?} has date {date:?}: expected YYYY-MM-DD")]
    InvalidDate { id: String, date: String },
    #[error("draft {id:?} cannot go from {} to {}", from.as_str(), to.as_str())]
    Transition {
        id: String,
        from: DraftState,
        to: DraftState,
    },
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("drafts store: {0}")]
    Git(#[from] GitError),
}

/// The drafts repository.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    git: Git,
    /// Held by every change: a change reads the draft, rewrites it and commits, and two
    /// at once (the console's actor and a publication being recorded) would race for
    /// git's index and overwrite each other's file.
    changing: Mutex<()>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub front: FrontMatter,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftSummary {
    pub id: String,
    pub front: FrontMatter,
    /// The draft's Markdown file.
    pub path: PathBuf,
    /// Words in the body.
    pub words: usize,
}

/// Every readable draft, and what was wrong with the others.
#[derive(Debug)]
pub struct Listing {
    /// Newest date first, then by id.
    pub drafts: Vec<DraftSummary>,
    pub problems: Vec<StoreError>,
}

impl Store {
    /// Opens the store at `dir`, creating it and its repository when missing. Changes left
    /// uncommitted by an interrupted run are committed ("recover: ...") so nothing is lost.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(io_error("create the drafts directory", dir))?;
        let git = Git::new(dir);
        // Checked on the directory itself: the store is its own repository even when it
        // sits inside another one's work tree.
        if !dir.join(".git").exists() {
            git.run(&["init", "--quiet"])?;
        }
        let store = Store {
            dir: dir.to_path_buf(),
            git,
            changing: Mutex::new(()),
        };
        store.ensure_gitignore()?;
        store.recover_uncommitted()?;
        Ok(store)
    }

    /// The id of the draft for a period and scope, e.g. `2026-W47-raibid`.
    pub fn draft_id(period_label: &str, scope: &str) -> String {
        let label = slug(period_label);
        let scope = slug(&scope.to_lowercase());
        if scope.is_empty() {
            label
        } else {
            format!("{label}-{scope}")
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every draft, newest date first; a draft that cannot be read is reported in
    /// [`Listing::problems`] and does not hide the others.
    pub fn list(&self) -> Result<Listing, StoreError> {
        let entries =
            fs::read_dir(&self.dir).map_err(io_error("read the drafts directory", &self.dir))?;
        let mut listing = Listing {
            drafts: Vec::new(),
            problems: Vec::new(),
        };
        for entry in entries {
            let entry = entry.map_err(io_error("read the drafts directory", &self.dir))?;
            let path = entry.path();
            let Some(id) = draft_id_of(&path) else {
                continue;
            };
            match read_draft(&id, &path) {
                Ok(draft) => listing.drafts.push(DraftSummary {
                    words: draft.body.split_whitespace().count(),
                    id: draft.id,
                    front: draft.front,
                    path,
                }),
                Err(problem) => listing.problems.push(problem),
            }
        }
        listing
            .drafts
            .sort_by(|a, b| (Reverse(&a.front.date), &a.id).cmp(&(Reverse(&b.front.date), &b.id)));
        Ok(listing)
    }

    pub fn load(&self, id: &str) -> Result<Draft, StoreError> {
        validate_id(id)?;
        let path = self.markdown_path(id);
        if !path.exists() {
            return Err(StoreError::NotFound {
                id: id.to_string(),
                dir: self.dir.clone(),
            });
        }
        read_draft(id, &path)
    }

    /// The data the draft was written from.
    pub fn data(&self, id: &str) -> Result<DigestData, StoreError> {
        validate_id(id)?;
        let path = self.data_path(id);
        let text = match fs::read_to_string(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    id: id.to_string(),
                    dir: self.dir.clone(),
                });
            }
            read => read.map_err(io_error("read", &path))?,
        };
        serde_json::from_str(&text).map_err(|e| StoreError::Unreadable {
            line: e.line(),
            reason: e.to_string(),
            path,
        })
    }

    pub fn exists(&self, id: &str) -> bool {
        validate_id(id).is_ok() && self.markdown_path(id).is_file()
    }

    /// Writes a new or regenerated draft, both files, in one commit "draft: write <id>".
    /// Returns the Markdown file's path.
    pub fn write(
        &self,
        id: &str,
        front: &FrontMatter,
        body: &str,
        data: &DigestData,
    ) -> Result<PathBuf, StoreError> {
        let _changing = self.lock();
        validate_id(id)?;
        if !is_iso_date(&front.date) {
            return Err(StoreError::InvalidDate {
                id: id.to_string(),
                date: front.date.clone(),
            });
        }
        let json = serde_json::to_string_pretty(data).map_err(|e| StoreError::Io {
            action: "serialize the data of",
            path: self.data_path(id),
            source: e.into(),
        })?;
        let data_path = self.data_path(id);
        let markdown_path = self.markdown_path(id);
        replace_file(&data_path, format!("{json}\n").as_bytes())?;
        replace_file(&markdown_path, render_draft(front, body).as_bytes())?;
        self.commit(
            &format!("draft: write {id}"),
            &[&format!("{id}.md"), &format!("{id}.json")],
        )?;
        Ok(markdown_path)
    }

    /// Saves an edited body as commit "draft: edit <id>"; an unchanged body commits nothing.
    pub fn save_body(&self, id: &str, body: &str) -> Result<(), StoreError> {
        let _changing = self.lock();
        let draft = self.load(id)?;
        if draft.body == body {
            return Ok(());
        }
        replace_file(
            &self.markdown_path(id),
            render_draft(&draft.front, body).as_bytes(),
        )?;
        self.commit(&format!("draft: edit {id}"), &[&format!("{id}.md")])
    }

    /// Moves a draft to `state` as commit "draft: <verb> <id>". Allowed: draft -> approved
    /// or rejected, approved -> draft, published or rejected, rejected -> draft, published
    /// -> draft (an edit after publishing); published -> published does nothing. Anything else is [`StoreError::Transition`].
    pub fn set_state(&self, id: &str, state: DraftState) -> Result<(), StoreError> {
        let _changing = self.lock();
        let draft = self.load(id)?;
        let from = draft.front.state;
        let verb = match (from, state) {
            (DraftState::Published, DraftState::Published) => return Ok(()),
            (DraftState::Draft, DraftState::Approved) => "approve",
            (DraftState::Draft | DraftState::Approved, DraftState::Rejected) => "reject",
            (
                DraftState::Approved | DraftState::Published | DraftState::Rejected,
                DraftState::Draft,
            ) => "reopen",
            (DraftState::Approved, DraftState::Published) => "publish",
            _ => {
                return Err(StoreError::Transition {
                    id: id.to_string(),
                    from,
                    to: state,
                });
            }
        };
        let front = FrontMatter {
            state,
            ..draft.front
        };
        replace_file(
            &self.markdown_path(id),
            render_draft(&front, &draft.body).as_bytes(),
        )?;
        self.commit(&format!("draft: {verb} {id}"), &[&format!("{id}.md")])
    }

    /// Where the draft was published, one record per channel, oldest first.
    pub fn publications(&self, id: &str) -> Result<Vec<Publication>, StoreError> {
        validate_id(id)?;
        let path = self.publications_path(id);
        let text = match fs::read_to_string(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            read => read.map_err(io_error("read", &path))?,
        };
        serde_json::from_str(&text).map_err(|e| StoreError::Unreadable {
            line: e.line(),
            reason: e.to_string(),
            path,
        })
    }

    /// Records a publication as commit "draft: published <id> to <channel>", replacing the
    /// channel's earlier record.
    pub fn record_publication(
        &self,
        id: &str,
        publication: &Publication,
    ) -> Result<(), StoreError> {
        let _changing = self.lock();
        let mut records = self.publications(id)?;
        match records
            .iter_mut()
            .find(|p| p.channel == publication.channel)
        {
            Some(record) => *record = publication.clone(),
            None => records.push(publication.clone()),
        }
        let path = self.publications_path(id);
        let json = serde_json::to_string_pretty(&records).map_err(|e| StoreError::Io {
            action: "serialize the publications of",
            path: path.clone(),
            source: e.into(),
        })?;
        let dir = self.dir.join(PUBLICATIONS_DIR);
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        replace_file(&path, format!("{json}\n").as_bytes())?;
        self.commit(
            &format!("draft: published {id} to {}", publication.channel),
            &[&format!("{PUBLICATIONS_DIR}/{id}.json")],
        )
    }

    /// Autosaves the body being edited, outside git's view.
    pub fn write_recovery(&self, id: &str, body: &str) -> Result<(), StoreError> {
        validate_id(id)?;
        let dir = self.dir.join(RECOVERY_DIR);
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        replace_file(&self.recovery_path(id), body.as_bytes())
    }

    /// The autosaved body, only when it differs from the stored one (or the draft is gone).
    pub fn recovery(&self, id: &str) -> Result<Option<String>, StoreError> {
        validate_id(id)?;
        let path = self.recovery_path(id);
        let saved = match fs::read_to_string(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            read => read.map_err(io_error("read", &path))?,
        };
        let stored = match self.load(id) {
            Ok(draft) => Some(draft.body),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok((stored.as_deref() != Some(saved.as_str())).then_some(saved))
    }

    pub fn clear_recovery(&self, id: &str) -> Result<(), StoreError> {
        validate_id(id)?;
        let path = self.recovery_path(id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", &path)(e)),
            _ => Ok(()),
        }
    }

    fn markdown_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.md"))
    }

    fn data_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// One change at a time; a change that panicked left nothing this lock protects.
    fn lock(&self) -> MutexGuard<'_, ()> {
        self.changing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publications_path(&self, id: &str) -> PathBuf {
        self.dir.join(PUBLICATIONS_DIR).join(format!("{id}.json"))
    }

    fn recovery_path(&self, id: &str) -> PathBuf {
        self.dir.join(RECOVERY_DIR).join(format!("{id}.md"))
    }

    /// Adds and commits `paths`; nothing when they equal HEAD (e.g. a regenerated draft
    /// that came out the same).
    fn commit(&self, message: &str, paths: &[&str]) -> Result<(), StoreError> {
        if !self.git.has_changes(paths)? {
            return Ok(());
        }
        let mut add = vec!["add", "--"];
        add.extend(paths);
        self.git.run(&add)?;
        Ok(self.git.commit(message, paths)?)
    }

    fn ensure_gitignore(&self) -> Result<(), StoreError> {
        let path = self.dir.join(".gitignore");
        let current = match fs::read_to_string(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            read => read.map_err(io_error("read", &path))?,
        };
        let missing: Vec<&str> = IGNORED
            .into_iter()
            .filter(|line| !current.lines().any(|l| l.trim() == *line))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in missing {
            text.push_str(line);
            text.push('\n');
        }
        replace_file(&path, text.as_bytes())?;
        self.commit("store: ignore autosaves and temp files", &[".gitignore"])
    }

    /// Commits whatever an interrupted run wrote but did not commit.
    fn recover_uncommitted(&self) -> Result<(), StoreError> {
        let status = self
            .git
            .run(&["status", "--porcelain", "--untracked-files=all"])?;
        if status.trim().is_empty() {
            return Ok(());
        }
        let files: Vec<&str> = status.lines().filter_map(|l| l.get(3..)).collect();
        self.git.run(&["add", "--all"])?;
        let message = format!(
            "recover: changes left by an interrupted run\n\n{}",
            files.join("\n")
        );
        Ok(self.git.commit(&message, &[])?)
    }
}

/// Refuses ids that could name a path outside the store or a hidden file.
fn validate_id(id: &str) -> Result<(), StoreError> {
    let reason = if id.is_empty() {
        Some("it is empty")
    } else if id.len() > MAX_ID_LEN {
        Some("it is longer than 200 bytes")
    } else if id.starts_with('.') {
        Some("it starts with a dot")
    } else if id.contains("..") {
        Some("it contains `..`")
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("only ASCII letters, digits, `-`, `_` and `.` are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidId {
            id: id.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Letters and digits kept, every other run of characters becomes one `-`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The draft id of a store file, when it is a draft's Markdown file.
fn draft_id_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let id = name.strip_suffix(".md")?;
    (validate_id(id).is_ok() && path.is_file()).then(|| id.to_string())
}

fn read_draft(id: &str, path: &Path) -> Result<Draft, StoreError> {
    let text = fs::read_to_string(path).map_err(io_error("read", path))?;
    let (front, body) = parse_draft(&text).map_err(|(line, reason)| StoreError::Unreadable {
        path: path.to_path_buf(),
        line,
        reason,
    })?;
    Ok(Draft {
        id: id.to_string(),
        front,
        body: body.to_string(),
    })
}

/// Front matter between `---` lines, one `key: "JSON string"` per line, then the body.
fn render_draft(front: &FrontMatter, body: &str) -> String {
    let mut text = format!("{FENCE}\n");
    let mut field = |key: &str, value: &str| {
        text.push_str(&format!("{key}: {}\n", quote(value)));
    };
    field("title", &front.title);
    field("date", &front.date);
    field("period", &front.period);
    field("kind", front.kind.as_str());
    field("state", front.state.as_str());
    field("writer", &front.writer);
    if let Some(model) = &front.model {
        field("model", model);
    }
    text.push_str(FENCE);
    text.push('\n');
    text.push_str(body);
    text
}

/// A JSON string literal: valid YAML too, and any title survives the round trip.
pub(crate) fn quote(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

/// Parses [`render_draft`]'s format strictly. Errors carry the 1-based line.
fn parse_draft(text: &str) -> Result<(FrontMatter, &str), (usize, String)> {
    let mut fields = FrontFields::default();
    let mut offset = 0;
    let mut line_no = 0;
    for raw in text.split_inclusive('\n') {
        line_no += 1;
        offset += raw.len();
        let line = raw.trim_end_matches('\n');
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line_no == 1 {
            if line != FENCE {
                return Err((1, "expected `---` opening the front matter".into()));
            }
        } else if line == FENCE {
            let front = fields.finish().map_err(|reason| (line_no, reason))?;
            return Ok((front, &text[offset..]));
        } else {
            fields.set(line).map_err(|reason| (line_no, reason))?;
        }
    }
    match line_no {
        0 => Err((1, "the file is empty".into())),
        _ => Err((line_no, "front matter has no closing `---`".into())),
    }
}

/// `YYYY-MM-DD` exactly: drafts sort by this string.
fn is_iso_date(text: &str) -> bool {
    text.parse::<jiff::civil::Date>()
        .is_ok_and(|date| date.to_string() == text)
}

#[derive(Default)]
struct FrontFields {
    title: Option<String>,
    date: Option<String>,
    period: Option<String>,
    kind: Option<DraftKind>,
    state: Option<DraftState>,
    writer: Option<String>,
    model: Option<String>,
}

impl FrontFields {
    fn set(&mut self, line: &str) -> Result<(), String> {
        let (key, raw) = line
            .split_once(':')
            .ok_or_else(|| format!("expected `key: \"value\"`, got {line:?}"))?;
        let raw = raw.trim();
        let value: String = serde_json::from_str(raw)
            .map_err(|e| format!("`{key}` is not a quoted string ({e})"))?;
        let duplicate = || format!("`{key}` appears twice");
        match key {
            "title" => put(&mut self.title, value).ok_or_else(duplicate),
            "period" => put(&mut self.period, value).ok_or_else(duplicate),
            "writer" => put(&mut self.writer, value).ok_or_else(duplicate),
            "model" => put(&mut self.model, value).ok_or_else(duplicate),
            "date" => {
                if !is_iso_date(&value) {
                    return Err(format!("`date` {value:?} is not YYYY-MM-DD"));
                }
                put(&mut self.date, value).ok_or_else(duplicate)
            }
            "kind" => {
                let kind = serde_json::from_str(raw).map_err(|_| {
                    format!("`kind` {value:?} is not daily, weekly, monthly or digest")
                })?;
                put(&mut self.kind, kind).ok_or_else(duplicate)
            }
            "state" => {
                let state = serde_json::from_str(raw).map_err(|_| {
                    format!("`state` {value:?} is not draft, approved, published or rejected")
                })?;
                put(&mut self.state, state).ok_or_else(duplicate)
            }
            _ => Err(format!("unknown front matter key `{key}`")),
        }
    }

    fn finish(self) -> Result<FrontMatter, String> {
        let missing = |key: &str| format!("front matter lacks `{key}`");
        Ok(FrontMatter {
            title: self.title.ok_or_else(|| missing("title"))?,
            date: self.date.ok_or_else(|| missing("date"))?,
            period: self.period.ok_or_else(|| missing("period"))?,
            kind: self.kind.ok_or_else(|| missing("kind"))?,
            state: self.state.ok_or_else(|| missing("state"))?,
            writer: self.writer.ok_or_else(|| missing("writer"))?,
            model: self.model,
        })
    }
}

/// Sets an empty slot; `None` when it was already set.
fn put<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file:
/// a temp file in the same directory, fsynced, renamed over, then the directory fsynced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(
        ".tmp-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::create(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&temp, path)) {
        // Best effort: a leftover temp file is ignored by git and harms nothing.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    fs::File::open(dir)?.sync_all()
}

/// [`write_atomic`] with the store's error.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic(path, bytes).map_err(io_error("write", path))
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}
