//! Line counts already diffed, remembered by commit: a commit never changes, so neither do
//! its counts against its first parent under the same diff settings. A digest collects its
//! period and the one before it, and the next digest's previous period is this one's: each
//! commit is diffed once.
//!
//! One file per history, `<dir>/<root commit>.jsonl`, named by the history's first root
//! commit so clones and moved repositories share it. Its first line holds the diff settings
//! the counts were made with; then one commit per line, appended by each run. The cache is
//! only ever a shortcut: a file that cannot be read, a line that does not parse or other
//! settings mean diffing again, never a wrong count or a failed digest.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use super::numstat::Numstat;

/// The counts known for one history, and where new ones go.
#[derive(Debug, Default)]
pub(super) struct NumstatCache {
    /// `None`: nothing is remembered (no cache dir, or a history without a known root).
    file: Option<PathBuf>,
    settings: String,
    known: HashMap<ObjectId, Numstat>,
    /// Whether the file holds other settings (or no header) and is written anew.
    stale: bool,
}

#[derive(Serialize, Deserialize)]
struct Header {
    settings: String,
}

#[derive(Serialize, Deserialize)]
struct Line {
    sha: String,
    #[serde(flatten)]
    numstat: Numstat,
}

impl NumstatCache {
    /// The cache of the history starting at `root` under `dir`, for counts made with
    /// `settings`; empty when either is unknown.
    pub fn open(dir: Option<&Path>, root: Option<ObjectId>, settings: String) -> Self {
        let (Some(dir), Some(root)) = (dir, root) else {
            return Self::default();
        };
        let file = dir.join(format!("{root}.jsonl"));
        let text = fs::read_to_string(&file).unwrap_or_default();
        let mut lines = text.lines();
        let header: Option<Header> = lines.next().and_then(|l| serde_json::from_str(l).ok());
        let stale = header.is_none_or(|h| h.settings != settings);
        let known = if stale {
            HashMap::new()
        } else {
            lines
                .filter_map(|line| serde_json::from_str::<Line>(line).ok())
                .filter_map(|line| {
                    Some((ObjectId::from_hex(line.sha.as_bytes()).ok()?, line.numstat))
                })
                .collect()
        };
        Self {
            file: Some(file),
            settings,
            known,
            stale,
        }
    }

    pub fn get(&self, id: &ObjectId) -> Option<&Numstat> {
        self.known.get(id)
    }

    /// Remembers `counted` (commits this run diffed). Best effort: a cache that cannot be
    /// written costs the next run its diffs, nothing else.
    pub fn remember<'a>(&self, counted: impl Iterator<Item = (&'a str, Numstat)>) {
        let Some(file) = &self.file else {
            return;
        };
        let mut text = String::new();
        if self.stale {
            let header = Header {
                settings: self.settings.clone(),
            };
            push_json(&mut text, &header);
        }
        let before = text.len();
        for (sha, numstat) in counted {
            let line = Line {
                sha: sha.to_owned(),
                numstat,
            };
            push_json(&mut text, &line);
        }
        if text.len() == before {
            return;
        }
        let _ = append(file, &text, self.stale);
    }
}

fn push_json<T: Serialize>(text: &mut String, value: &T) {
    if let Ok(json) = serde_json::to_string(value) {
        text.push_str(&json);
        text.push('\n');
    }
}

/// Appends `text` in one write, so runs appending at once do not interleave their lines;
/// `anew` replaces the file (other settings, or none).
fn append(file: &Path, text: &str, anew: bool) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    if anew {
        return crate::backend::sparky::store::write_atomic(file, text.as_bytes());
    }
    fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(file)?
        .write_all(text.as_bytes())
}
