//! The backend's top-level modules depend on each other without cycles (see "Dependency
//! direction" in docs/architecture.md): read from the sources' `crate::backend::` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module -> the modules it names, each with a file that names it.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

fn top_level_modules(backend: &Path) -> BTreeSet<String> {
    std::fs::read_dir(backend)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            (path.is_dir() || name != "mod").then_some(name)
        })
        .collect()
}

/// The modules a source names as `crate::backend::NAME` or `crate::backend::{NAME, …}`.
fn named(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::backend::") {
        rest = &rest[at + "crate::backend::".len()..];
        let list = match rest.strip_prefix('{') {
            Some(group) => &group[..group.find('}').unwrap_or(group.len())],
            None => rest,
        };
        for item in list.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
            if !rest.starts_with('{') {
                break;
            }
        }
    }
    names
}

fn edges(backend: &Path) -> Edges {
    let modules = top_level_modules(backend);
    let mut edges = Edges::new();
    let mut pending = vec![backend.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(backend).unwrap();
            let Some(from) = relative.iter().next().and_then(|first| first.to_str()) else {
                continue;
            };
            let from = from.trim_end_matches(".rs");
            if from == "mod" || path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for to in named(&source) {
                if to != from && modules.contains(&to) {
                    edges
                        .entry(from.to_owned())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| relative.display().to_string());
                }
            }
        }
    }
    edges
}

/// A cycle through `start`, as the path of modules back to it.
fn cycle_from(edges: &Edges, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in edges.get(last).into_iter().flat_map(BTreeMap::keys) {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn the_backend_modules_have_no_cycles() {
    let backend = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/backend");
    let edges = edges(&backend);
    assert!(
        edges["sparky"].contains_key("forge"),
        "the reading finds the edges: {edges:?}"
    );
    for module in edges.keys() {
        if let Some(cycle) = cycle_from(&edges, module) {
            let shown: Vec<String> = cycle
                .windows(2)
                .map(|pair| format!("{} -> {} ({})", pair[0], pair[1], edges[&pair[0]][&pair[1]]))
                .collect();
            panic!("a cycle between backend modules:\n  {}", shown.join("\n  "));
        }
    }
}

#[test]
fn paths_and_groups_are_read() {
    let source =
        "use crate::backend::git::Git;\nuse crate::backend::{http, forge::github::GitHub};";
    assert_eq!(named(source), ["git", "http", "forge"]);
}
