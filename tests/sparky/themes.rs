//! What a period was about (issue 12): themes and bulk changes found in a fixture
//! organisation built with the git CLI, and its metrics still equal to `git log --numstat`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use raibid::backend::sparky::analyze::{BulkReason, Metrics, ThemeKind, analyze};
use raibid::backend::sparky::collect;
use raibid::backend::sparky::model::{Activity, Period};
use support::git::git;
use support::org::{BOT, Org, fixture_org};

/// The week collected as `raibid digest` collects it.
fn collected(org: &Org, period: &Period) -> Activity {
    let bots = vec!["[bot]".to_string()];
    let repos = org
        .repo_paths()
        .iter()
        .map(|path| {
            collect::collect(path, period.since, period.until, &bots, None)
                .unwrap()
                .activity
        })
        .collect();
    Activity {
        period: period.clone(),
        repos,
    }
}

fn set(items: &[String]) -> BTreeSet<&str> {
    items.iter().map(String::as_str).collect()
}

#[test]
fn themes_tell_what_the_week_was_about() {
    let org = fixture_org();
    let week = Org::week();
    let metrics = analyze(&collected(&org, &week), None);

    let found: Vec<(&str, ThemeKind, &str, BTreeSet<&str>)> = metrics
        .themes
        .iter()
        .map(|t| (t.id.as_str(), t.kind, t.title.as_str(), set(&t.repos)))
        .collect();
    let repos = |names: &[&'static str]| names.iter().copied().collect::<BTreeSet<_>>();
    assert_eq!(
        found,
        vec![
            (
                "t1",
                ThemeKind::NewRepositories,
                "Three repositories created",
                repos(&["cli-tools", "docs-site", "infra"])
            ),
            (
                "t2",
                ThemeKind::SharedChange,
                "`ci: pin toolchain` across 3 repositories",
                repos(&["api", "web", "worker"])
            ),
            (
                "t3",
                ThemeKind::Workstream,
                "Work on #42 in web",
                repos(&["web"])
            ),
            (
                "t4",
                ThemeKind::Scope,
                "Console work (feat/fix scope console)",
                repos(&["api"])
            ),
            (
                "t5",
                ThemeKind::Workstream,
                "Work on ABC-12",
                repos(&["api"])
            ),
            (
                "t6",
                ThemeKind::Workstream,
                "Workstream [infra]",
                repos(&["infra"])
            ),
            (
                "t7",
                ThemeKind::Release,
                "Release v1.2.0 of api",
                repos(&["api"])
            ),
        ]
    );

    let subjects = subjects_by_sha(&org);
    let shared = &metrics.themes[1];
    assert_eq!(shared.commits.len(), 3);
    assert_eq!(shared.people, vec!["Ann", "Carol"], "most commits first");
    let console = &metrics.themes[3];
    assert_eq!(console.people, vec!["Ann", "Bob"]);
    let told: Vec<&String> = metrics.themes.iter().flat_map(|t| &t.commits).collect();
    assert_eq!(
        told.len(),
        set_of(&told).len(),
        "each commit joins one theme"
    );
    for sha in &told {
        let subject = &subjects[*sha];
        assert!(
            !subject.starts_with("Squashed") && subject != "cargo fmt",
            "bulk commit {subject:?} in a theme"
        );
    }
    assert!(
        metrics
            .themes
            .iter()
            .all(|t| !t.people.iter().any(|p| p == BOT)),
        "bots are not people of a theme"
    );
    assert!(
        metrics
            .themes
            .iter()
            .all(|t| !t.repos.iter().any(|r| r == "future" || r == "notes")),
        "a repository after the week and a quiet one-person one have no theme"
    );
}

#[test]
fn bulk_changes_are_named_and_never_notable() {
    let org = fixture_org();
    let metrics = analyze(&collected(&org, &Org::week()), None);
    let subjects = subjects_by_sha(&org);
    let bulk: BTreeMap<&str, BulkReason> = metrics
        .bulk
        .iter()
        .map(|b| (subjects[&b.sha].as_str(), b.reason))
        .collect();
    assert_eq!(
        bulk,
        BTreeMap::from([
            (
                "Squashed 'ui/' content from commit 1a2b3c4",
                BulkReason::Import
            ),
            ("Update dependencies", BulkReason::Lockfile),
            ("cargo fmt", BulkReason::Formatting),
            (
                "chore(deps): bump serde from 1.0.1 to 1.0.2",
                BulkReason::Lockfile
            ),
        ])
    );
    let notable: BTreeSet<&str> = metrics.notable.iter().map(|n| n.sha.as_str()).collect();
    assert!(
        metrics
            .bulk
            .iter()
            .all(|b| !notable.contains(b.sha.as_str())),
        "bulk commits are not notable"
    );
    assert_eq!(
        metrics.notable[0].subject, "feat(console): command palette",
        "the 410-line import no longer leads"
    );
}

#[test]
fn the_organisation_counts_as_git_counts_it() {
    let org = fixture_org();
    let week = Org::week();
    let activity = collected(&org, &week);
    let metrics: Metrics = analyze(&activity, None);
    let mut git_totals = (0, 0, 0, 0);
    for path in org.repo_paths() {
        let log = git_numstat(&path, &week);
        let repo = activity
            .repos
            .iter()
            .find(|r| Path::new(&r.path) == path)
            .unwrap();
        let ours: BTreeMap<&str, Vec<String>> = repo
            .commits
            .iter()
            .map(|c| (c.sha.as_str(), c.paths.clone()))
            .collect();
        let theirs: BTreeMap<&str, Vec<String>> = log
            .iter()
            .map(|(sha, files)| (sha.as_str(), files.iter().map(|f| f.0.clone()).collect()))
            .collect();
        assert_eq!(ours, theirs, "paths of {}", path.display());
        for files in log.values() {
            git_totals.0 += 1;
            git_totals.1 += files.iter().map(|f| f.1).sum::<u64>();
            git_totals.2 += files.iter().map(|f| f.2).sum::<u64>();
            git_totals.3 += files.len() as u64;
        }
    }
    let totals = &metrics.totals;
    assert_eq!(
        (
            totals.commits,
            totals.insertions,
            totals.deletions,
            totals.files_changed
        ),
        git_totals
    );
    assert_eq!(totals.active_repos, 7, "future has no commit in the week");
}

fn set_of<'a>(items: &[&'a String]) -> BTreeSet<&'a String> {
    items.iter().copied().collect()
}

/// Every commit subject of the organisation, by sha.
fn subjects_by_sha(org: &Org) -> BTreeMap<String, String> {
    org.repo_paths()
        .iter()
        .flat_map(|path| {
            git(path, &["log", "--format=%H %s"])
                .lines()
                .map(|line| {
                    let (sha, subject) = line.split_once(' ').unwrap();
                    (sha.to_string(), subject.to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `git log --numstat` of the period: per commit, `(path, insertions, deletions)`.
fn git_numstat(repo: &Path, period: &Period) -> BTreeMap<String, Vec<(String, u64, u64)>> {
    let since = format!("--since-as-filter=@{} +0000", period.since.as_second());
    let until = format!("--until=@{} +0000", period.until.as_second() - 1);
    let text = git(
        repo,
        &["log", "--numstat", "--format=commit %H", &since, &until],
    );
    let mut commits: BTreeMap<String, Vec<(String, u64, u64)>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(sha) = line.strip_prefix("commit ") {
            current = sha.to_string();
            commits.entry(current.clone()).or_default();
        } else {
            let mut fields = line.splitn(3, '\t');
            let mut count = || fields.next().unwrap().parse::<u64>().unwrap_or(0);
            let (insertions, deletions) = (count(), count());
            let path = fields.next().unwrap().to_string();
            commits
                .get_mut(&current)
                .unwrap()
                .push((path, insertions, deletions));
        }
    }
    commits
}

/// The organisation's week as a user writes it: `raibid digest` over the folder, with a
/// shallow clone and a repository missing a blob beside the fixture's repositories.
#[test]
fn the_weekly_of_the_organisation_opens_with_its_themes_and_tells_each_thing_once() {
    let org = fixture_org();
    let root = org.dir.path();
    let home = tempfile::tempdir().unwrap();
    let upstream = home.path().join("upstream");
    std::fs::create_dir(&upstream).unwrap();
    git(&upstream, &["init", "--quiet", "--initial-branch=main"]);
    let upstream = support::org::Repo { path: upstream };
    upstream
        .commit(
            "Dan",
            "2026-10-01T09:00:00+00:00",
            "Initial commit",
            &[("a.txt", "a\n".into())],
        )
        .commit(
            "Dan",
            "2026-11-19T09:00:00+00:00",
            "docs: notes",
            &[("b.txt", "b\n".into())],
        );
    let source = format!("file://{}", upstream.path().display());
    git(root, &["clone", "--quiet", "--depth=1", &source, "shallow"]);
    let damaged = org.repo("damaged");
    damaged
        .commit(
            "Ann",
            "2026-10-01T09:00:00+00:00",
            "Initial commit",
            &[("a.rs", "fn a() {}\n".into())],
        )
        .commit(
            "Ann",
            "2026-11-18T09:00:00+00:00",
            "feat: damaged",
            &[("lib.rs", "fn b() {}\n".into())],
        );
    let blob = git(damaged.path(), &["rev-parse", "HEAD:lib.rs"]);
    std::fs::remove_file(
        damaged
            .path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[sparky]\nwriter = \"builtin\"\nscan = [\"{}\"]\n",
            root.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        support::cli::command_in(home.path(), &config, home.path(), args)
            .output()
            .unwrap()
    };

    let args = [
        "digest",
        "--period",
        "week",
        "--date",
        "2026-11-18",
        "--json",
    ];
    let out = run(&args);
    let report: serde_json::Value = serde_json::from_str(&support::cli::ok(&out)).unwrap();
    let failures = report["failures"].as_array().unwrap();
    assert!(
        failures.iter().any(|f| f["repo"] == "damaged"),
        "the damaged repository is named: {failures:?}"
    );
    let draft = std::fs::read_to_string(report["path"].as_str().unwrap()).unwrap();
    let summary = draft.split("\n## ").nth(1).unwrap();
    for theme in [
        "Three repositories created",
        "`ci: pin toolchain` across 3 repositories",
    ] {
        assert!(summary.contains(theme), "{theme} leads:\n{draft}");
    }
    assert!(
        !draft.contains("future"),
        "a repository created after the week is left out:\n{draft}"
    );
    assert!(draft.contains("## Not collected"), "{draft}");

    let id = report["id"].as_str().unwrap();
    let check = support::cli::ok(&run(&["drafts", "check", id]));
    assert_eq!(check, format!("{id}: no findings\n"), "{draft}");
}
