//! Per-commit line counts exactly as `git log --numstat` reports them.

use gix::ObjectId;
use gix::bstr::BStr;
use gix::diff::blob::platform::prepare_diff::Operation;
use gix::diff::blob::{Diff, InternedInput, ResourceKind};
use gix::diff::tree::recorder::Location;
use gix::diff::tree_with_rewrites::{ChangeRef, Options};
use gix::objs::TreeRefIter;
use gix::objs::tree::{EntryKind, EntryMode};

/// What `git log --numstat` sums up for one commit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Numstat {
    pub files_changed: u32,
    pub insertions: u64,
    pub deletions: u64,
}

/// Diffs trees and counts lines, reusing its caches across commits: building a resource
/// cache reads attributes and configuration, which costs more than most diffs.
pub(super) struct LineCounter {
    /// Used by rename tracking to compare candidates.
    similarity: gix::diff::blob::Platform,
    /// Used to count the lines of each changed file.
    lines: gix::diff::blob::Platform,
    tree_state: gix::diff::tree::State,
    options: Options,
}

impl LineCounter {
    pub fn new(repo: &gix::Repository) -> Result<Self, gix::Error> {
        Ok(Self {
            similarity: repo.diff_resource_cache_for_tree_diff()?,
            lines: repo.diff_resource_cache_for_tree_diff()?,
            tree_state: Default::default(),
            options: Options {
                location: Some(Location::Path),
                rewrites: git_log_rewrites(repo)?,
            },
        })
    }

    /// Counts the changes from `old_tree` (the empty tree for a root commit) to `new_tree`.
    pub fn count(
        &mut self,
        repo: &gix::Repository,
        old_tree: ObjectId,
        new_tree: ObjectId,
    ) -> Result<Numstat, gix::Error> {
        let old = repo.find_tree(old_tree)?;
        let new = repo.find_tree(new_tree)?;
        let kind = repo.object_hash();
        let mut total = Numstat::default();
        let lines = &mut self.lines;
        let outcome = gix::diff::tree_with_rewrites(
            TreeRefIter::from_bytes(&old.data, kind),
            TreeRefIter::from_bytes(&new.data, kind),
            &mut self.similarity,
            &mut self.tree_state,
            &repo.objects,
            |change| {
                if let Some((insertions, deletions)) = count_file(lines, &change, repo)? {
                    total.files_changed += 1;
                    total.insertions += insertions;
                    total.deletions += deletions;
                }
                Ok(std::ops::ControlFlow::Continue(()))
            },
            self.options.clone(),
        );
        self.similarity.clear_resource_cache_keep_allocation();
        self.lines.clear_resource_cache_keep_allocation();
        outcome.map_err(gix::Error::from_error)?;
        Ok(total)
    }
}

/// git log's rename detection: `diff.renames` and `diff.renameLimit` from the repository's
/// configuration, on with 50% similarity when unset, and empty files may be renamed too
/// (git's `--rename-empty` default for diff and log).
fn git_log_rewrites(repo: &gix::Repository) -> Result<Option<gix::diff::Rewrites>, gix::Error> {
    let config = repo.config_snapshot();
    let (rewrites, is_configured) = gix::diff::new_rewrites(config.plumbing(), true)?;
    let rewrites = if is_configured {
        rewrites
    } else {
        Some(gix::diff::Rewrites::default())
    };
    Ok(rewrites.map(|rewrites| gix::diff::Rewrites {
        track_empty: true,
        ..rewrites
    }))
}

/// One side of a file pair as `git diff` sees it.
#[derive(Clone, Copy)]
enum Side<'a> {
    /// Absent, or a directory: contributes no lines.
    Nothing,
    /// A submodule: git diffs it as the single line `Subproject commit <sha>`.
    Submodule,
    Blob {
        id: ObjectId,
        kind: EntryKind,
        path: &'a BStr,
    },
}

impl<'a> Side<'a> {
    fn of(mode: EntryMode, id: ObjectId, path: &'a BStr) -> Self {
        match mode.kind() {
            EntryKind::Tree => Side::Nothing,
            EntryKind::Commit => Side::Submodule,
            kind => Side::Blob { id, kind, path },
        }
    }

    fn submodule_line(self) -> u64 {
        u64::from(matches!(self, Side::Submodule))
    }
}

/// `(insertions, deletions)` of one changed file, or `None` for directory entries, which
/// `git log --numstat` does not list. Binary files count with 0 lines (git prints `-`).
fn count_file(
    cache: &mut gix::diff::blob::Platform,
    change: &ChangeRef<'_>,
    repo: &gix::Repository,
) -> Result<Option<(u64, u64)>, gix::Error> {
    let (old, new) = match *change {
        ChangeRef::Addition {
            location,
            entry_mode,
            id,
            ..
        } => (Side::Nothing, Side::of(entry_mode, id, location)),
        ChangeRef::Deletion {
            location,
            entry_mode,
            id,
            ..
        } => (Side::of(entry_mode, id, location), Side::Nothing),
        ChangeRef::Modification {
            location,
            previous_entry_mode,
            previous_id,
            entry_mode,
            id,
        } => (
            Side::of(previous_entry_mode, previous_id, location),
            Side::of(entry_mode, id, location),
        ),
        ChangeRef::Rewrite {
            source_location,
            source_entry_mode,
            source_id,
            location,
            entry_mode,
            id,
            ..
        } => (
            Side::of(source_entry_mode, source_id, source_location),
            Side::of(entry_mode, id, location),
        ),
    };
    let path = match (old, new) {
        (Side::Nothing, Side::Nothing) => return Ok(None),
        (_, Side::Blob { path, .. }) | (Side::Blob { path, .. }, _) => path,
        _ => return Ok(Some((new.submodule_line(), old.submodule_line()))),
    };
    set_side(cache, old, path, ResourceKind::OldOrSource, repo)?;
    set_side(cache, new, path, ResourceKind::NewOrDestination, repo)?;
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
    Ok(Some(counts))
}

/// Puts one side into the cache; a side without a blob becomes an empty resource.
fn set_side(
    cache: &mut gix::diff::blob::Platform,
    side: Side<'_>,
    other_path: &BStr,
    which: ResourceKind,
    repo: &gix::Repository,
) -> Result<(), gix::Error> {
    let (id, kind, path) = match side {
        Side::Blob { id, kind, path } => (id, kind, path),
        Side::Nothing | Side::Submodule => (
            ObjectId::null(repo.object_hash()),
            EntryKind::Blob,
            other_path,
        ),
    };
    cache.set_resource(id, kind, path, which, &repo.objects)?;
    Ok(())
}
