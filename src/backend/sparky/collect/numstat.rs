//! Per-commit line counts exactly as `git log --numstat` reports them.

use std::collections::HashMap;

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::diff::blob::platform::prepare_diff::Operation;
use gix::diff::blob::{Algorithm, Diff, ResourceKind, Token};
use gix::diff::tree::recorder::Location;
use gix::diff::tree_with_rewrites::{ChangeRef, Options};
use gix::objs::tree::{EntryKind, EntryMode};
use gix::objs::{FindExt, TreeRefIter};

use super::packs::PackReader;
use super::renames::{self, File};
use crate::backend::sparky::model::CommitRecord;

/// What `git log --numstat` sums up for one commit.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Numstat {
    pub files_changed: u32,
    pub insertions: u64,
    pub deletions: u64,
    /// The paths git lists, a rename by its destination.
    pub paths: Vec<String>,
}

impl Numstat {
    /// The counts a record carries.
    pub fn of(commit: &CommitRecord) -> Self {
        Self {
            files_changed: commit.files_changed,
            insertions: commit.insertions,
            deletions: commit.deletions,
            paths: commit.paths.clone(),
        }
    }
}

/// The repository's settings that change what a diff counts: the line diff algorithm and
/// rename detection.
pub(super) fn settings(repo: &gix::Repository) -> Result<String, gix::Error> {
    Ok(format!(
        "{:?}, renames {:?}",
        repo.diff_algorithm()?,
        rename_limit(repo)?
    ))
}

/// `diff.renameLimit` when rename detection is on (`diff.renames`, default true).
fn rename_limit(repo: &gix::Repository) -> Result<Option<usize>, gix::Error> {
    let config = repo.config_snapshot();
    let (rewrites, is_configured) = gix::diff::new_rewrites(config.plumbing(), true)?;
    Ok(match (rewrites, is_configured) {
        (Some(rewrites), _) => Some(rewrites.limit),
        (None, false) => Some(gix::diff::Rewrites::default().limit),
        (None, true) => None,
    })
}

/// Diffs trees and counts lines, reusing its caches across commits: building a resource
/// cache reads attributes and configuration, which costs more than most diffs, and most
/// blobs are read again by a later commit.
pub(super) struct LineCounter {
    lines: gix::diff::blob::Platform,
    blobs: PackReader,
    tree_state: gix::diff::tree::State,
    /// `diff.renameLimit` when rename detection is on (`diff.renames`, default true).
    rename_limit: Option<usize>,
}

/// A file that differs between two trees; directories are not files.
struct Change {
    path: BString,
    old: Option<(ObjectId, EntryMode)>,
    new: Option<(ObjectId, EntryMode)>,
}

impl LineCounter {
    pub fn new(repo: &gix::Repository) -> Result<Self, gix::Error> {
        Ok(Self {
            lines: repo.diff_resource_cache_for_tree_diff()?,
            blobs: PackReader::new(repo),
            tree_state: Default::default(),
            rename_limit: rename_limit(repo)?,
        })
    }

    /// Counts the changes from `old_tree` (the empty tree for a root commit) to `new_tree`.
    pub fn count(
        &mut self,
        repo: &gix::Repository,
        old_tree: ObjectId,
        new_tree: ObjectId,
    ) -> Result<Numstat, gix::Error> {
        let changes = self.changes(repo, old_tree, new_tree)?;
        // Deleted files are rename sources, added files destinations.
        let deleted: Vec<usize> = (0..changes.len())
            .filter(|&index| changes[index].new.is_none())
            .collect();
        let added: Vec<usize> = (0..changes.len())
            .filter(|&index| changes[index].old.is_none())
            .collect();
        let renames = match self.rename_limit {
            Some(limit) => {
                let files =
                    |indices: &[usize], side: fn(&Change) -> Option<(ObjectId, EntryMode)>| {
                        indices
                            .iter()
                            .filter_map(|&index| {
                                let change = &changes[index];
                                side(change).map(|(id, mode)| File {
                                    path: change.path.as_bstr(),
                                    id,
                                    mode,
                                })
                            })
                            .collect::<Vec<_>>()
                    };
                let sources = files(&deleted, |change| change.old);
                let destinations = files(&added, |change| change.new);
                let objects = self.blobs.over(&repo.objects);
                renames::detect(&sources, &destinations, limit, &objects)?
            }
            None => Vec::new(),
        };

        let mut total = Numstat::default();
        let mut is_renamed = vec![false; changes.len()];
        let mut pairs = Vec::with_capacity(changes.len());
        for (source, destination) in renames {
            let (source, destination) = (deleted[source], added[destination]);
            is_renamed[source] = true;
            is_renamed[destination] = true;
            pairs.push((&changes[source], &changes[destination]));
        }
        for (index, change) in changes.iter().enumerate() {
            if !is_renamed[index] {
                pairs.push((change, change));
            }
        }
        for (old, new) in pairs {
            total.paths.push(new.path.to_str_lossy().into_owned());
            let old = Side::of(old.old, old.path.as_bstr());
            let new = Side::of(new.new, new.path.as_bstr());
            let (insertions, deletions) = self.count_file(old, new, repo)?;
            total.files_changed += 1;
            total.insertions += insertions;
            total.deletions += deletions;
        }
        Ok(total)
    }

    /// The files that differ, sorted by path as git's diff queue is.
    fn changes(
        &mut self,
        repo: &gix::Repository,
        old_tree: ObjectId,
        new_tree: ObjectId,
    ) -> Result<Vec<Change>, gix::Error> {
        let objects = self.blobs.over(&repo.objects);
        let (mut old_bytes, mut new_bytes) = (Vec::new(), Vec::new());
        let old = tree(&objects, old_tree, &mut old_bytes)?;
        let new = tree(&objects, new_tree, &mut new_bytes)?;
        let not_tree = |id: ObjectId, mode: EntryMode| (!mode.is_tree()).then_some((id, mode));
        let mut changes = Vec::new();
        gix::diff::tree_with_rewrites(
            old,
            new,
            &mut self.lines,
            &mut self.tree_state,
            &objects,
            |change| {
                let (path, old, new) = match change {
                    ChangeRef::Addition {
                        location,
                        entry_mode,
                        id,
                        ..
                    } => (location, None, not_tree(id, entry_mode)),
                    ChangeRef::Deletion {
                        location,
                        entry_mode,
                        id,
                        ..
                    } => (location, not_tree(id, entry_mode), None),
                    ChangeRef::Modification {
                        location,
                        previous_entry_mode,
                        previous_id,
                        entry_mode,
                        id,
                    } => (
                        location,
                        not_tree(previous_id, previous_entry_mode),
                        not_tree(id, entry_mode),
                    ),
                    // Rename tracking is off here: git's own detection runs afterwards.
                    ChangeRef::Rewrite { .. } => (Default::default(), None, None),
                };
                if old.is_some() || new.is_some() {
                    changes.push(Change {
                        path: path.to_owned(),
                        old,
                        new,
                    });
                }
                Ok(std::ops::ControlFlow::Continue(()))
            },
            Options {
                location: Some(Location::Path),
                rewrites: None,
            },
        )
        .map_err(gix::Error::from_error)?;
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(changes)
    }

    /// `(insertions, deletions)` of one file pair. Binary files count 0 lines (git prints `-`).
    fn count_file(
        &mut self,
        old: Side<'_>,
        new: Side<'_>,
        repo: &gix::Repository,
    ) -> Result<(u64, u64), gix::Error> {
        let path = match (old, new) {
            (_, Side::Blob { path, .. }) | (Side::Blob { path, .. }, _) => path,
            // A submodule moved without a new commit: its line is the same on both sides.
            (Side::Submodule(old), Side::Submodule(new)) if old == new => return Ok((0, 0)),
            _ => return Ok((new.submodule_line(), old.submodule_line())),
        };
        let cache = &mut self.lines;
        let objects = self.blobs.over(&repo.objects);
        set_side(cache, old, path, ResourceKind::OldOrSource, repo, &objects)?;
        set_side(
            cache,
            new,
            path,
            ResourceKind::NewOrDestination,
            repo,
            &objects,
        )?;
        let prepared = cache.prepare_diff()?;
        let counts = match prepared.operation {
            Operation::InternalDiff { algorithm } => {
                let old_data = prepared.old.data.as_slice().unwrap_or_default();
                let new_data = prepared.new.data.as_slice().unwrap_or_default();
                let (added, removed) = line_counts(algorithm, old_data, new_data);
                (added + new.submodule_line(), removed + old.submodule_line())
            }
            Operation::SourceOrDestinationIsBinary | Operation::ExternalCommand { .. } => (0, 0),
        };
        cache.clear_resource_cache_keep_allocation();
        Ok(counts)
    }
}

/// The tree `id`, read from `objects`; the empty tree (a root commit's parent) is in none.
fn tree<'a>(
    objects: &impl gix::objs::Find,
    id: ObjectId,
    buffer: &'a mut Vec<u8>,
) -> Result<TreeRefIter<'a>, gix::Error> {
    if id.is_empty_tree() {
        return Ok(TreeRefIter::from_bytes(&[], id.kind()));
    }
    objects
        .find_tree_iter(&id, buffer)
        .map_err(gix::Error::from_error)
}

/// `(added, removed)` lines from `old` to `new`. Lines keep their terminators, as in git: a
/// missing final newline is a change.
///
/// Every algorithm first sets aside the lines both files start and end with; here they are
/// found by comparing bytes. When that leaves one side without lines (a new or deleted
/// file, lines only added or only removed), the other side's remaining lines are the
/// answer. Otherwise only the lines in between are hashed one by one ([`tokens`]).
fn line_counts(algorithm: Algorithm, old: &[u8], new: &[u8]) -> (u64, u64) {
    let middles = Middles::of(old, new);
    let (old_middle, new_middle) = (middles.in_old(old), middles.in_new(new));
    if old_middle.is_empty() || new_middle.is_empty() {
        return (lines(new_middle), lines(old_middle));
    }
    let (before, after, distinct) = tokens(old, new, &middles);
    let mut diff = Diff::default();
    diff.compute_with(algorithm, &before, &after, distinct);
    (
        u64::from(diff.count_additions()),
        u64::from(diff.count_removals()),
    )
}

/// Where two files differ: between the whole lines they start with in common
/// (`..start`) and those they end with (`old_end..`, `new_end..`).
#[derive(Debug, PartialEq, Eq)]
struct Middles {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl Middles {
    fn of(old: &[u8], new: &[u8]) -> Self {
        if old == new {
            return Self {
                start: old.len(),
                old_end: old.len(),
                new_end: new.len(),
            };
        }
        let same = common_prefix(old, new);
        // Whole lines only: up to the last line end within the bytes both start with.
        let start = old[..same]
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |at| at + 1);
        let (old_rest, new_rest) = (&old[start..], &new[start..]);
        let same = common_suffix(old_rest, new_rest);
        let tail = &old_rest[old_rest.len() - same..];
        let starts_line = |side: &[u8]| same == side.len() || side[side.len() - same - 1] == b'\n';
        // Whole lines only: all of the shared tail when it starts a line on both sides,
        // else what follows its first line end.
        let kept = if starts_line(old_rest) && starts_line(new_rest) {
            same
        } else {
            tail.iter()
                .position(|&byte| byte == b'\n')
                .map_or(0, |at| same - at - 1)
        };
        Self {
            start,
            old_end: old.len() - kept,
            new_end: new.len() - kept,
        }
    }

    fn in_old<'a>(&self, old: &'a [u8]) -> &'a [u8] {
        &old[self.start..self.old_end]
    }

    fn in_new<'a>(&self, new: &'a [u8]) -> &'a [u8] {
        &new[self.start..self.new_end]
    }
}

/// Both files as one token per line, and how many tokens there are.
///
/// The diff looks at the common lines around the middles only to count how often each
/// middle line occurs in the whole files (Myers sets aside lines that occur too often, as
/// git does), so a common line gets a middle line's token when it equals one, and else a
/// token no middle line has. Most common lines are told apart from every middle line by
/// their length, without hashing them: most of a large file is not hashed at all.
fn tokens<'a>(old: &'a [u8], new: &'a [u8], middles: &Middles) -> (Vec<Token>, Vec<Token>, u32) {
    let mut ids: HashMap<&[u8], Token, foldhash::fast::RandomState> = HashMap::default();
    // Bit `n % 64` is set when a middle line is `n` bytes long.
    let mut lengths = 0u64;
    // Lines keep their terminators, as the diff reads them.
    let mut middle = |text: &'a [u8]| -> Vec<Token> {
        text.lines_with_terminator()
            .map(|line| {
                lengths |= 1 << (line.len() % 64);
                let next = Token(ids.len() as u32);
                *ids.entry(line).or_insert(next)
            })
            .collect()
    };
    let old_middle = middle(middles.in_old(old));
    let new_middle = middle(middles.in_new(new));
    let elsewhere = Token(ids.len() as u32);
    let common = |text: &[u8]| -> Vec<Token> {
        text.lines_with_terminator()
            .map(|line| match lengths & (1 << (line.len() % 64)) {
                0 => elsewhere,
                _ => ids.get(line).copied().unwrap_or(elsewhere),
            })
            .collect()
    };
    let prefix = common(&old[..middles.start]);
    let suffix = common(&old[middles.old_end..]);
    let before = [&prefix[..], &old_middle, &suffix].concat();
    let after = [&prefix[..], &new_middle, &suffix].concat();
    (before, after, elsewhere.0 + 1)
}

/// Compared a block at a time: a byte-by-byte loop costs more than the diff it saves.
const BLOCK: usize = 64;

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= len && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + a[at..len]
        .iter()
        .zip(&b[at..len])
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let (a, b) = (&a[a.len() - len..], &b[b.len() - len..]);
    let mut end = len;
    while end >= BLOCK && a[end - BLOCK..end] == b[end - BLOCK..end] {
        end -= BLOCK;
    }
    len - end
        + a[..end]
            .iter()
            .rev()
            .zip(b[..end].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

/// Lines as the diff counts them: a last line without a line end is one.
fn lines(text: &[u8]) -> u64 {
    let ends = text.iter().filter(|&&byte| byte == b'\n').count();
    (ends + usize::from(!text.is_empty() && !text.ends_with(b"\n"))) as u64
}

/// One side of a file pair as `git diff` sees it.
#[derive(Clone, Copy)]
enum Side<'a> {
    Nothing,
    /// A submodule at this commit: git diffs it as the single line `Subproject commit <sha>`.
    Submodule(ObjectId),
    Blob {
        id: ObjectId,
        kind: EntryKind,
        path: &'a BStr,
    },
}

impl<'a> Side<'a> {
    fn of(entry: Option<(ObjectId, EntryMode)>, path: &'a BStr) -> Self {
        match entry {
            None => Side::Nothing,
            Some((id, mode)) if mode.is_commit() => Side::Submodule(id),
            Some((id, mode)) => Side::Blob {
                id,
                kind: mode.kind(),
                path,
            },
        }
    }

    fn submodule_line(self) -> u64 {
        u64::from(matches!(self, Side::Submodule(_)))
    }
}

/// Puts one side into the cache, its blob read from `objects`; a side without a blob
/// becomes an empty resource.
fn set_side(
    cache: &mut gix::diff::blob::Platform,
    side: Side<'_>,
    other_path: &BStr,
    which: ResourceKind,
    repo: &gix::Repository,
    objects: &impl gix::objs::FindObjectOrHeader,
) -> Result<(), gix::Error> {
    let (id, kind, path) = match side {
        Side::Blob { id, kind, path } => (id, kind, path),
        Side::Nothing | Side::Submodule(_) => (
            ObjectId::null(repo.object_hash()),
            EntryKind::Blob,
            other_path,
        ),
    };
    cache.set_resource(id, kind, path, which, objects)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::diff::blob::InternedInput;
    use proptest::prelude::*;

    /// What the diff counts over the whole files, without the shortcut.
    fn diffed(algorithm: Algorithm, old: &[u8], new: &[u8]) -> (u64, u64) {
        let input = InternedInput::new(old, new);
        let diff = Diff::compute(algorithm, &input);
        (
            u64::from(diff.count_additions()),
            u64::from(diff.count_removals()),
        )
    }

    #[test]
    fn trims_whole_lines_only() {
        let cases: [(&str, &str, &str, &str); 7] = [
            ("a\nb\nc\n", "a\nx\nc\n", "b\n", "x\n"),
            ("a\nb", "a\nbc\n", "b", "bc\n"),
            ("a\nx", "b\nx", "a\n", "b\n"),
            ("x\n", "a\nx\n", "", "a\n"),
            ("a\n", "a", "a\n", "a"),
            ("ab\nc\n", "b\nc\n", "ab\n", "b\n"),
            ("same", "same", "", ""),
        ];
        for (old, new, old_middle, new_middle) in cases {
            let (old, new) = (old.as_bytes(), new.as_bytes());
            let middles = Middles::of(old, new);
            let found = (middles.in_old(old), middles.in_new(new));
            assert_eq!(
                found,
                (old_middle.as_bytes(), new_middle.as_bytes()),
                "{old:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn a_missing_final_newline_is_a_change() {
        assert_eq!(line_counts(Algorithm::Myers, b"a\nb\n", b"a\nb"), (1, 1));
        assert_eq!(line_counts(Algorithm::Myers, b"", b"a\nb"), (2, 0));
        assert_eq!(line_counts(Algorithm::Myers, b"a\n\n", b""), (0, 2));
    }

    /// `}` occurs 101 times in each file, so Myers sets aside the one between the unmatched
    /// lines and counts it as changed: `git diff --numstat` of these files says 9 and 9.
    #[test]
    fn lines_around_the_middle_count_towards_how_often_a_line_occurs() {
        let braces = "}\n".repeat(100);
        let old_middle = "x1\nx2\nx3\nx4\n}\nx5\nx6\nx7\nx8\n";
        let new_middle = "y1\ny2\ny3\ny4\n}\ny5\ny6\ny7\ny8\n";
        for (old, new) in [
            (braces.clone() + old_middle, braces.clone() + new_middle),
            (
                old_middle.to_string() + &braces,
                new_middle.to_string() + &braces,
            ),
        ] {
            let (old, new) = (old.as_bytes(), new.as_bytes());
            assert_eq!(line_counts(Algorithm::Myers, old, new), (9, 9));
            assert_eq!(diffed(Algorithm::Myers, old, new), (9, 9));
        }
    }

    /// Files made of few distinct lines, so that edits share and repeat lines.
    fn file() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            Just(&b"{\n"[..]),
            Just(&b"}\n"[..]),
            Just(&b"\n"[..]),
            Just(&b"x\n"[..]),
            Just(&b"y"[..]),
            Just(&b"fn f() {\n"[..]),
        ];
        proptest::collection::vec(line, 0..40).prop_map(|lines| lines.concat())
    }

    proptest! {
        #[test]
        fn counts_what_the_whole_diff_counts(old in file(), new in file()) {
            for algorithm in [Algorithm::Myers, Algorithm::Histogram, Algorithm::MyersMinimal] {
                prop_assert_eq!(line_counts(algorithm, &old, &new), diffed(algorithm, &old, &new));
            }
        }

        #[test]
        fn counts_an_edit_at_either_end(base in file(), edit in file(), at_start: bool) {
            let new = if at_start { [&edit[..], &base].concat() } else { [&base[..], &edit].concat() };
            for algorithm in [Algorithm::Myers, Algorithm::Histogram] {
                prop_assert_eq!(line_counts(algorithm, &base, &new), diffed(algorithm, &base, &new));
                prop_assert_eq!(line_counts(algorithm, &new, &base), diffed(algorithm, &new, &base));
            }
        }
    }
}
