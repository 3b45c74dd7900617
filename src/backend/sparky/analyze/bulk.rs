//! Bulk changes: commits whose size says little about the work people did (imports,
//! vendored or generated trees, lockfile-only and formatting-only commits). They never
//! rank as notable and never weigh in a theme; a digest mentions them once.
//!
//! Paths decide where the commit has them (local repositories); GitHub commits have none,
//! so only their subjects can tell.

use serde::{Deserialize, Serialize};

use super::super::model::{Activity, CommitRecord};

/// A bulk commit of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bulk {
    pub repo: String,
    pub sha: String,
    pub reason: BulkReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BulkReason {
    /// A subtree or squashed import: `Squashed 'x/' content from commit ...`.
    Import,
    /// Files under `vendor/`, `third_party/`, `node_modules/` and the like.
    Vendored,
    /// Generated files: `*.pb.go`, `dist/`, minified bundles, `generated` folders.
    Generated,
    /// Only lockfiles changed.
    Lockfile,
    /// A formatting pass: the subject says so and as many lines went as came.
    Formatting,
}

impl BulkReason {
    /// Plain words for a list of figures: "a subtree import".
    pub fn as_str(self) -> &'static str {
        match self {
            BulkReason::Import => "import",
            BulkReason::Vendored => "vendored",
            BulkReason::Generated => "generated",
            BulkReason::Lockfile => "lockfile",
            BulkReason::Formatting => "formatting",
        }
    }
}

/// Every bulk commit of `activity`, in the order of its repositories and commits.
pub fn bulk(activity: &Activity) -> Vec<Bulk> {
    activity
        .repos
        .iter()
        .flat_map(|repo| &repo.commits)
        .filter_map(|commit| {
            bulk_reason(commit).map(|reason| Bulk {
                repo: commit.repo.clone(),
                sha: commit.sha.clone(),
                reason,
            })
        })
        .collect()
}

/// Why `commit` is a bulk change, if it is one.
pub fn bulk_reason(commit: &CommitRecord) -> Option<BulkReason> {
    if is_import(&commit.subject) {
        return Some(BulkReason::Import);
    }
    if let Some(reason) = by_paths(&commit.paths) {
        return Some(reason);
    }
    if commit.paths.is_empty() && commit.files_changed == 1 && names_a_lockfile(&commit.subject) {
        return Some(BulkReason::Lockfile);
    }
    (says_formatting(&commit.subject) && is_balanced(commit.insertions, commit.deletions))
        .then_some(BulkReason::Formatting)
}

/// git subtree's subjects: `Squashed 'x/' content from commit abc`, `Add 'x/' from commit
/// 'abc'`, `Merge commit 'abc' as 'x'`.
fn is_import(subject: &str) -> bool {
    (subject.starts_with("Squashed '") && subject.contains("' content from commit "))
        || (subject.starts_with("Add '") && subject.contains("' from commit '"))
        || (subject.starts_with("Merge commit '") && subject.contains("' as '"))
}

/// A tree counts as vendored or generated when nine in ten of its files are.
fn by_paths(paths: &[String]) -> Option<BulkReason> {
    if paths.is_empty() {
        return None;
    }
    if paths
        .iter()
        .all(|path| LOCKFILES.contains(&file_name(path)))
    {
        return Some(BulkReason::Lockfile);
    }
    let mostly = |matches: fn(&str) -> bool| {
        let count = paths.iter().filter(|path| matches(path)).count();
        count * 10 >= paths.len() * 9
    };
    if mostly(is_vendored) {
        Some(BulkReason::Vendored)
    } else if mostly(is_generated) {
        Some(BulkReason::Generated)
    } else {
        None
    }
}

const LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "go.sum",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "Gemfile.lock",
    "composer.lock",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "packages.lock.json",
];

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn folders(path: &str) -> impl Iterator<Item = &str> {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts.into_iter()
}

fn is_vendored(path: &str) -> bool {
    folders(path).any(|folder| {
        matches!(
            folder,
            "vendor" | "vendored" | "third_party" | "third-party" | "thirdparty" | "node_modules"
        )
    })
}

fn is_generated(path: &str) -> bool {
    let name = file_name(path);
    folders(path).any(|folder| matches!(folder, "dist" | "generated" | "gen" | "__generated__"))
        || [
            ".pb.go", "_pb2.py", ".pb.rs", ".pb.h", ".pb.cc", ".min.js", ".min.css", ".map",
        ]
        .iter()
        .any(|suffix| name.ends_with(suffix))
        || name.contains(".generated.")
        || name.contains("_generated.")
}

fn names_a_lockfile(subject: &str) -> bool {
    LOCKFILES.iter().any(|lockfile| subject.contains(lockfile))
}

/// Subjects of formatting passes: `cargo fmt`, `style: prettier`, `Reformat with black`.
fn says_formatting(subject: &str) -> bool {
    let lower = subject.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|word| !word.is_empty())
        .collect();
    let first = words.first().copied().unwrap_or_default();
    first == "style"
        || first == "format"
        || words.iter().any(|word| {
            matches!(
                *word,
                "fmt"
                    | "rustfmt"
                    | "gofmt"
                    | "prettier"
                    | "reformat"
                    | "reformatted"
                    | "formatting"
                    | "whitespace"
                    | "clang-format"
            )
        })
}

/// A formatting pass moves lines around: what went and what came differ by at most a fifth.
fn is_balanced(insertions: u64, deletions: u64) -> bool {
    let (small, large) = (insertions.min(deletions), insertions.max(deletions));
    large > 0 && (large - small) * 5 <= large
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(subject: &str, paths: &[&str], (insertions, deletions): (u64, u64)) -> CommitRecord {
        let at = "2026-11-16T10:00:00Z".parse().unwrap();
        CommitRecord {
            repo: "api".into(),
            sha: "a".repeat(40),
            author: "Ann".into(),
            email: "ann@x.org".into(),
            time: at,
            offset_seconds: 0,
            committed: at,
            subject: subject.into(),
            files_changed: paths.len().max(1) as u32,
            insertions,
            deletions,
            is_merge: false,
            is_bot: false,
            paths: paths.iter().map(|path| path.to_string()).collect(),
            login: None,
        }
    }

    #[test]
    fn imports_trees_lockfiles_and_formatting_are_bulk() {
        let cases = [
            (
                commit(
                    "Squashed 'ui/' content from commit 1a2b3c4",
                    &["ui/a.js"],
                    (900, 0),
                ),
                Some(BulkReason::Import),
            ),
            (
                commit("Add 'lib/' from commit '1a2b3c4'", &[], (900, 0)),
                Some(BulkReason::Import),
            ),
            (
                commit(
                    "Update deps",
                    &["vendor/a/x.go", "vendor/b/y.go", "go.mod"],
                    (5000, 10),
                ),
                None,
            ),
            (
                commit(
                    "Vendor deps",
                    &["vendor/a/x.go", "third_party/b/y.c"],
                    (5000, 10),
                ),
                Some(BulkReason::Vendored),
            ),
            (
                commit("Regenerate", &["api/v1/api.pb.go"], (800, 700)),
                Some(BulkReason::Generated),
            ),
            (
                commit("Bump deps", &["Cargo.lock", "web/yarn.lock"], (80, 70)),
                Some(BulkReason::Lockfile),
            ),
            (
                commit("Update Cargo.lock", &[], (80, 70)),
                Some(BulkReason::Lockfile),
            ),
            (
                commit("cargo fmt", &["src/a.rs"], (120, 118)),
                Some(BulkReason::Formatting),
            ),
            (
                commit(
                    "feat: format dates in the header",
                    &["src/a.rs"],
                    (120, 118),
                ),
                None,
            ),
            (commit("style: prettier", &["a.ts"], (300, 20)), None),
            (commit("feat: queue", &["src/q.rs"], (300, 20)), None),
        ];
        for (commit, expected) in cases {
            assert_eq!(bulk_reason(&commit), expected, "{}", commit.subject);
        }
    }
}
