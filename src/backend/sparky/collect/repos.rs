//! Which repositories to collect from, and what to call them.

use std::path::{Path, PathBuf};

use super::CollectError;

/// The repositories named in `repos`, then those directly inside the `scan` folders; when
/// both are empty, the repository containing `cwd`. Relative paths are taken from `cwd`.
/// Paths are canonical, deduplicated, in the order given (scanned folders sorted by name).
/// A folder that may be a repository but cannot be read (no permission, a broken `.git`)
/// is kept: collecting it reports why, and the others go on.
pub fn find_repos(
    repos: &[PathBuf],
    scan: &[PathBuf],
    cwd: &Path,
) -> Result<Vec<PathBuf>, CollectError> {
    let mut found = Vec::new();
    for path in repos {
        let path = cwd.join(path);
        if !path.exists() {
            return Err(CollectError::NotFound { path });
        }
        if !may_be_repository(&path) {
            return Err(CollectError::NotARepository { path });
        }
        push_unique(&mut found, canonical(&path)?);
    }
    for folder in scan {
        for child in child_folders(&cwd.join(folder))? {
            if may_be_repository(&child) {
                push_unique(&mut found, canonical(&child)?);
            }
        }
    }
    if repos.is_empty() && scan.is_empty() {
        let repo = gix::discover(cwd).map_err(|source| CollectError::NoRepositoryHere {
            cwd: cwd.to_path_buf(),
            source,
        })?;
        found.push(canonical(root(&repo))?);
    }
    Ok(found)
}

/// The folder name of the work tree, or of a bare repository without its `.git` suffix.
pub(super) fn repo_name(repo: &gix::Repository) -> String {
    let root = root(repo);
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| root.display().to_string());
    match name.strip_suffix(".git") {
        Some(stem) if repo.workdir().is_none() && !stem.is_empty() => stem.to_string(),
        _ => name,
    }
}

/// What to call a repository that cannot be opened: its folder's name.
pub fn folder_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The work tree, or the git directory of a bare repository.
fn root(repo: &gix::Repository) -> &Path {
    repo.workdir().unwrap_or_else(|| repo.git_dir())
}

/// A repository, or a folder that looks like one or cannot be looked into.
fn may_be_repository(path: &Path) -> bool {
    gix::open(path).is_ok() || path.join(".git").exists() || std::fs::read_dir(path).is_err()
}

fn child_folders(folder: &Path) -> Result<Vec<PathBuf>, CollectError> {
    let read_error = |source| CollectError::ReadFolder {
        path: folder.to_path_buf(),
        source,
    };
    let mut children = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_dir() {
            children.push(path);
        }
    }
    children.sort();
    Ok(children)
}

fn canonical(path: &Path) -> Result<PathBuf, CollectError> {
    std::fs::canonicalize(path).map_err(|source| CollectError::ReadFolder {
        path: path.to_path_buf(),
        source,
    })
}

fn push_unique(found: &mut Vec<PathBuf>, path: PathBuf) {
    if !found.contains(&path) {
        found.push(path);
    }
}
