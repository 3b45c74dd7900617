//! Per-commit line counts exactly as `git log --numstat` reports them.

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::diff::blob::platform::prepare_diff::Operation;
use gix::diff::blob::{Diff, InternedInput, ResourceKind};
use gix::diff::tree::recorder::Location;
use gix::diff::tree_with_rewrites::{ChangeRef, Options};
use gix::objs::TreeRefIter;
use gix::objs::tree::{EntryKind, EntryMode};

use super::blobs::BlobMemo;
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
    blobs: BlobMemo,
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
            blobs: BlobMemo::new(),
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
        let old = repo.find_tree(old_tree)?;
        let new = repo.find_tree(new_tree)?;
        let kind = repo.object_hash();
        let not_tree = |id: ObjectId, mode: EntryMode| (!mode.is_tree()).then_some((id, mode));
        let mut changes = Vec::new();
        gix::diff::tree_with_rewrites(
            TreeRefIter::from_bytes(&old.data, kind),
            TreeRefIter::from_bytes(&new.data, kind),
            &mut self.lines,
            &mut self.tree_state,
            &repo.objects,
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
                // Lines keep their terminators, as in git: a missing final newline is a change.
                let input = InternedInput::new(old_data, new_data);
                let diff = Diff::compute(algorithm, &input);
                (
                    u64::from(diff.count_additions()) + new.submodule_line(),
                    u64::from(diff.count_removals()) + old.submodule_line(),
                )
            }
            Operation::SourceOrDestinationIsBinary | Operation::ExternalCommand { .. } => (0, 0),
        };
        cache.clear_resource_cache_keep_allocation();
        Ok(counts)
    }
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
