//! Where in the tree a set of commits went: the folders (or top-level files) they touched,
//! most commits first. A story or a person's line names them, so a reader learns what
//! changed, not only how much.

use std::collections::BTreeMap;

use crate::backend::sparky::model::CommitRecord;

/// Folder names that say nothing alone: an area goes one level deeper past them.
const GENERIC: [&str; 4] = ["src", "lib", "crates", "packages"];

/// The areas `commits` touched, most commits first (each commit counted once per area),
/// then by name; at most `most`. Merges, bots' commits and commits without paths (GitHub's)
/// are left out. Folders end in `/`: `src/popups/`, `asyncgit/src/sync/`.
pub(super) fn areas(commits: &[&CommitRecord], most: usize) -> Vec<String> {
    let mut touched: BTreeMap<String, usize> = BTreeMap::new();
    for c in commits.iter().filter(|c| !c.is_merge && !c.is_bot) {
        let mut mine: Vec<String> = c.paths.iter().filter_map(|p| area(p)).collect();
        mine.sort();
        mine.dedup();
        for a in mine {
            *touched.entry(a).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = touched.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.into_iter().take(most).map(|(a, _)| a).collect()
}

/// A path's area: its folder down to two telling names (`src/popups/`,
/// `asyncgit/src/sync/`); `None` for a file at the top level (a changelog or a lockfile
/// many commits touch says nothing of what changed).
fn area(path: &str) -> Option<String> {
    let (folder, _file) = path.rsplit_once('/')?;
    let mut kept = String::new();
    let mut telling = 0;
    for part in folder.split('/') {
        kept.push_str(part);
        kept.push('/');
        if !GENERIC.contains(&part) {
            telling += 1;
        }
        if telling == 2 {
            break;
        }
    }
    Some(kept)
}

/// "`src/popups/`, `asyncgit/` and `Cargo.toml`": areas as code, so no checker reads them
/// as names.
pub(super) fn area_list(areas: &[String]) -> String {
    let quoted: Vec<String> = areas.iter().map(|a| format!("`{a}`")).collect();
    super::render::name_list(&quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_is_a_folder_down_to_two_telling_names() {
        let area = |path| area(path).unwrap_or_default();
        assert_eq!(area("src/popups/commit.rs"), "src/popups/");
        assert_eq!(
            area("asyncgit/src/sync/branch/mod.rs"),
            "asyncgit/src/sync/"
        );
        assert_eq!(area("src/main.rs"), "src/");
        assert_eq!(area("docs/guide.md"), "docs/");
        assert_eq!(area("Cargo.toml"), "", "the top level is no area");
    }
}
