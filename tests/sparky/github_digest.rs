//! Digests with GitHub data: the built-in writer's sections for pull requests, reviews,
//! issues and releases, every number in them from the data; and the pipeline with source
//! `both` against a fake GitHub and a local clone of one of its repositories.

use std::collections::BTreeSet;

use raibid::backend::sparky::analyze::ThemeKind;
use raibid::backend::sparky::model::{DigestData, DraftKind};
use raibid::backend::sparky::pipeline::{
    self, DigestRequest, PeriodSpec, Prepared, Source, Sources, WriterChoice,
};
use raibid::config::{Config, Secret};
use support::cli::command_in;
use support::git::{commit_as, git};
use support::github::{FakeGitHub, Refusal};
use support::{github_config, github_week, write_builtin};

fn headings(body: &str) -> Vec<&str> {
    body.lines().filter_map(|l| l.strip_prefix("## ")).collect()
}

#[test]
fn a_weekly_digest_with_github_data() {
    let written = write_builtin(&github_week::weekly(), DraftKind::Weekly);
    insta::assert_snapshot!("weekly_github", written.body);
    assert_eq!(
        headings(&written.body),
        [
            "Summary",
            "Themes",
            "Highlights",
            "Per repository",
            "In figures",
            "Trend",
            "Pull requests",
            "Reviews",
            "Issues",
            "Releases",
            "Notable changes",
            "Contributors",
            "Activity by day"
        ]
    );
}

#[test]
fn the_github_sections_state_the_data() {
    let body = write_builtin(&github_week::weekly(), DraftKind::Weekly).body;
    for expected in [
        "Pull requests: 4 merged and 4 opened; 0.6 merged per day. Time to merge: median 3.5 h, \
         90th percentile 24 h.",
        "- [lab/api#42](https://github.com/lab/api/pull/42) feat!: drop the v1 format (bob), \
         +96/−310 lines, merged in 2 h, reviewed by ann and carol",
        "- [lab/api#43](https://github.com/lab/api/pull/43) chore(deps): bump tokio \
         (dependabot\\[bot\\]), +12/−12 lines, merged in 1.5 h (bot), without review",
        "- bob — 2 pull requests reviewed",
        "- Merged without review: 1 pull request",
        "Issues: 3 opened and 2 closed; the backlog grew by 1. Median time to close: 240 h.",
        "- [lab/api v0.4.0](https://github.com/lab/api/releases/tag/v0.4.0) Streaming — Fri \
         2026-11-20",
        "- Ann (ann) — 2 commits, +258/−35 lines, 1 pull request merged, 2 reviews in lab/api",
        "### lab/api — 3 commits, +354/−345 lines; 3 pull requests merged, 2 issues closed",
        "- Pull requests merged: 4, up 100% from 2",
        "- Median time to merge: 3.5 h, against 30 h",
        "ann reviewed the most pull requests, 2.",
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
}

#[test]
fn every_number_comes_from_the_data() {
    let data = github_week::weekly();
    for kind in [DraftKind::Daily, DraftKind::Weekly, DraftKind::Monthly] {
        let written = write_builtin(&data, kind);
        let mut rest = format!("{}\n{}", written.title, written.body);
        for span in rest.clone().split('`').skip(1).step_by(2) {
            assert!(data.commits.iter().any(|c| c.sha.starts_with(span)));
            rest = rest.replace(&format!("`{span}`"), " ");
        }
        let g = data.metrics.github.as_ref().expect("GitHub data");
        // Text taken whole from the data may carry digits of its own.
        let mut verbatim: Vec<String> = data.commits.iter().map(|c| c.subject.clone()).collect();
        verbatim.extend(g.pull_requests.merged_list.iter().flat_map(|pr| {
            [
                pr.url.clone(),
                pr.title.clone(),
                format!("{}#{}", pr.repo, pr.number),
            ]
        }));
        verbatim.extend(
            g.releases
                .iter()
                .flat_map(|r| [r.url.clone(), r.tag.clone()]),
        );
        verbatim.extend(data.metrics.commits_per_day.iter().map(|d| d.date.clone()));
        verbatim.extend(["2026-11-20".into(), "2026-W47".into(), "2026-W46".into()]);
        verbatim.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for piece in verbatim {
            rest = rest.replace(&piece, " ");
        }
        let allowed = numbers_in(&data);
        for number in numbers(&rest) {
            assert!(
                allowed.contains(&number),
                "{number} is not in the data of {kind:?}:\n{rest}"
            );
        }
    }
}

/// Numbers in text: digit runs, thousands separated or not ("2,197"), with one decimal
/// when there is one ("18.5").
fn numbers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            let separated = |i: usize| {
                chars[i] == ','
                    && chars.len() >= i + 4
                    && chars[i + 1..i + 4].iter().all(char::is_ascii_digit)
            };
            while i < chars.len() && (chars[i].is_ascii_digit() || separated(i)) {
                i += 1;
            }
            if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                i += 2;
            }
            found.push(chars[start..i].iter().filter(|c| **c != ',').collect());
        } else {
            i += 1;
        }
    }
    found
}

/// Every figure of the data, as the digest writes it, and the few it derives.
fn numbers_in(data: &DigestData) -> BTreeSet<String> {
    let m = &data.metrics;
    let mut n = support::local_counts(data);
    n.insert(m.commits_per_day.iter().map(|d| d.commits).sum());
    let mut pcts = Vec::new();
    if let Some(trend) = &m.trend {
        pcts.extend([trend.commits_change_pct, trend.lines_change_pct]);
    }
    let mut decimals = Vec::new();
    let g = m.github.as_ref().expect("GitHub data");
    let prs = &g.pull_requests;
    n.extend([prs.opened, prs.merged, prs.closed_unmerged]);
    decimals.push(prs.merged_per_day);
    decimals.extend(prs.median_hours_to_merge);
    decimals.extend(prs.p90_hours_to_merge);
    for r in &prs.per_repo {
        n.extend([r.opened, r.merged, r.closed_unmerged]);
    }
    for pr in &prs.merged_list {
        n.extend([pr.additions, pr.deletions]);
        decimals.push(pr.hours_to_merge);
    }
    n.extend(g.reviews.reviewers.iter().map(|r| r.reviewed));
    n.insert(g.reviews.merged_without_review);
    let issues = &g.issues;
    n.extend([issues.opened, issues.closed, issues.net.unsigned_abs()]);
    decimals.extend(issues.median_hours_to_close);
    for r in &issues.per_repo {
        n.extend([r.opened, r.closed]);
    }
    for p in &g.people {
        n.extend([
            p.commits,
            p.insertions,
            p.deletions,
            p.prs_opened,
            p.prs_merged,
            p.reviews,
        ]);
    }
    if let Some(trend) = &g.trend {
        let p = &trend.previous;
        n.extend([
            p.prs_opened,
            p.prs_merged,
            p.issues_opened,
            p.issues_closed,
            p.releases,
        ]);
        decimals.extend(p.median_hours_to_merge);
        pcts.extend([
            trend.prs_merged_change_pct,
            trend.prs_opened_change_pct,
            trend.issues_closed_change_pct,
        ]);
    }
    n.insert(g.releases.len() as u64);
    // The name of the percentile: "90th percentile".
    n.insert(90);
    n.extend(pcts.into_iter().flatten().map(|p| p.abs().round() as u64));
    let mut all: BTreeSet<String> = n.iter().map(u64::to_string).collect();
    all.extend(decimals.iter().map(f64::to_string));
    all
}

// ---------------------------------------------------------------------------------------
// The pipeline against the fake GitHub and a local clone of one of its repositories.

struct Setup {
    root: tempfile::TempDir,
    fake: FakeGitHub,
    config: Config,
}

impl Setup {
    /// The fake organisation `lab` with three repositories, the config that selects it,
    /// and a local clone of `lab/repo-01` with two commits in 2026-W45 and one the week
    /// before (its own history: the fake's commits are not git objects).
    /// The binary on this setup's fake GitHub (as a config file would set it), in the
    /// setup's root.
    fn raibid(&self, args: &[&str]) -> std::process::Output {
        let Secret::File(token) = &self.config.github.token else {
            unreachable!("the setup's token is a file")
        };
        let config = self.root.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[sparky]\nwriter = \"builtin\"\ntime_zone = \"UTC\"\n\n[github]\napi_url = \"{}\"\n\
                 orgs = [\"lab\"]\ntoken = {{ file = \"{}\" }}\n",
                self.fake.url(),
                token.display()
            ),
        )
        .unwrap();
        command_in(self.root.path(), &config, self.root.path(), args)
            .output()
            .unwrap()
    }

    fn new() -> Setup {
        let root = tempfile::tempdir().unwrap();
        let fake = FakeGitHub::start("lab", 3);
        let mut config = github_config(&fake, root.path());
        config.sparky.writer = "builtin".into();
        let clone = root.path().join("clone-of-01");
        std::fs::create_dir_all(&clone).unwrap();
        git(&clone, &["init", "-q", "-b", "main"]);
        let origin = "https://github.com/lab/repo-01.git";
        git(&clone, &["remote", "add", "origin", origin]);
        for (n, when) in [
            "2026-10-28T10:00:00Z",
            "2026-11-03T10:00:00Z",
            "2026-11-04T10:00:00Z",
        ]
        .into_iter()
        .enumerate()
        {
            std::fs::write(clone.join("notes.txt"), "line\n".repeat(n + 1)).unwrap();
            commit_as(&clone, "Fixture", when, &format!("local change {n}"));
        }
        Setup { root, fake, config }
    }

    fn clone_path(&self) -> std::path::PathBuf {
        std::fs::canonicalize(self.root.path().join("clone-of-01")).unwrap()
    }

    fn request(&self) -> DigestRequest {
        DigestRequest {
            period: PeriodSpec::Exact(support::github::week()),
            repos: vec![self.clone_path()],
            writer: WriterChoice::Builtin,
            kind: None,
        }
    }

    fn dirs(&self) -> pipeline::Dirs {
        pipeline::Dirs {
            cwd: self.root.path().to_path_buf(),
            data_dir: self.root.path().join("data"),
        }
    }

    async fn prepare(&self, source: Source) -> Prepared {
        let github =
            pipeline::github_client(&self.config, self.root.path(), None).expect("a client");
        let sources = match source {
            Source::Local => Sources::Local,
            _ => source.with(&github),
        };
        pipeline::prepare_from(
            &self.config,
            &self.dirs(),
            &self.request(),
            sources,
            jiff::Timestamp::now(),
        )
        .await
        .expect("prepared")
    }
}

#[tokio::test]
async fn both_sources_merge_a_clone_with_its_github_repository() {
    let setup = Setup::new();
    let prepared = setup.prepare(Source::Both).await;
    let data = &prepared.data;
    assert_eq!(data.repos, ["lab/repo-01", "lab/repo-00", "lab/repo-02"]);
    assert_eq!(
        data.repo_paths[0],
        setup.clone_path().display().to_string(),
        "the merged repository is the clone: regenerating collects it again"
    );
    assert!(data.repo_paths[1].starts_with("https://github.com/lab/"));

    // Every GitHub commit of the week, and the clone's two.
    let period = support::github::week();
    let truths: Vec<_> = ["repo-00", "repo-01", "repo-02"]
        .iter()
        .map(|name| setup.fake.truth(name, &period))
        .collect();
    let github_commits: usize = truths.iter().map(|t| t.commits.len()).sum();
    assert_eq!(data.metrics.totals.commits as usize, github_commits + 2);
    let local: Vec<_> = data
        .commits
        .iter()
        .filter(|c| c.subject.starts_with("local change"))
        .collect();
    assert_eq!(local.len(), 2);
    assert!(local.iter().all(|c| c.repo == "lab/repo-01"));
    let shas: BTreeSet<&str> = data.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas.len(), data.commits.len(), "each commit once");

    // Pull requests, issues and releases as GitHub has them.
    let g = data.metrics.github.as_ref().expect("GitHub metrics");
    let merged_in_week: usize = ["repo-00", "repo-01", "repo-02"]
        .iter()
        .map(|name| {
            let repo = setup.fake.repo(name);
            repo.pulls
                .iter()
                .filter(|p| {
                    p.merged
                        .is_some_and(|m| period.since <= m && m < period.until)
                })
                .count()
        })
        .sum();
    assert_eq!(g.pull_requests.merged as usize, merged_in_week);
    let releases: usize = truths.iter().map(|t| t.releases.len()).sum();
    assert_eq!(g.releases.len(), releases);
    assert!(g.failures.is_empty() && prepared.warnings.is_empty());
    assert!(g.trend.is_some(), "the week before was asked for too");
    let usage = prepared.usage.expect("GitHub was asked");
    assert!(usage.requests > 0);

    // The clone's commit of the week before counts in the trend.
    let trend = data.metrics.trend.as_ref().unwrap();
    let before: usize = ["repo-00", "repo-01", "repo-02"]
        .iter()
        .map(|name| {
            let previous = raibid::backend::sparky::period::previous(&period);
            setup.fake.truth(name, &previous).commits.len()
        })
        .sum();
    assert_eq!(trend.previous.commits as usize, before + 1);

    // The draft says so.
    let (tokens, _rx) = tokio::sync::mpsc::unbounded_channel();
    let composed = pipeline::compose(&setup.config, WriterChoice::Builtin, &prepared, &tokens)
        .await
        .unwrap()
        .expect("a draft");
    for heading in ["## Pull requests", "## Releases", "## Contributors"] {
        assert!(
            composed.body.contains(heading),
            "{heading}:\n{}",
            composed.body
        );
    }
}

#[tokio::test]
async fn a_failing_repository_is_left_out_and_reported() {
    let setup = Setup::new();
    setup.fake.fail("repo-02");
    let prepared = setup.prepare(Source::Github).await;
    assert_eq!(prepared.data.repos, ["lab/repo-00", "lab/repo-01"]);
    let g = prepared.data.metrics.github.as_ref().unwrap();
    assert_eq!(g.failures.len(), 1);
    assert_eq!(g.failures[0].repo, "lab/repo-02");
    assert_eq!(prepared.warnings.len(), 1);
    assert!(
        prepared.warnings[0].contains("lab/repo-02"),
        "{:?}",
        prepared.warnings
    );
    assert!(
        !prepared
            .data
            .commits
            .iter()
            .any(|c| c.subject.starts_with("local change")),
        "source github reads no clone"
    );
    let (tokens, _rx) = tokio::sync::mpsc::unbounded_channel();
    let composed = pipeline::compose(&setup.config, WriterChoice::Builtin, &prepared, &tokens)
        .await
        .unwrap()
        .expect("a draft");
    assert!(
        composed
            .body
            .contains("## Not collected\n\n- lab/repo-02: ")
    );
}

/// GitHub's `RATE_LIMIT` answer (quota left by its headers) once left a repository out
/// of the digest; it is waited out, and the digest is complete. A commit GitHub gives no
/// file count for is counted as unknown, not as 0 files.
#[tokio::test]
async fn a_rate_limit_answer_is_waited_out_and_unknown_file_counts_are_told() {
    let setup = Setup::new();
    let week = support::github::week();
    let truth = setup.fake.truth("repo-00", &week);
    let data = setup.fake.repo("repo-00");
    // The week's largest change by a person: ranked among the notable ones.
    let large = data
        .commits
        .iter()
        .filter(|c| c.parents == 1 && truth.commits.contains(&c.oid))
        .filter(|c| !c.headline.starts_with("build(deps)"))
        .max_by_key(|c| c.additions + c.deletions)
        .expect("a commit in the week");
    setup.fake.hide_file_count("repo-00", &large.oid);
    setup.fake.refuse(
        Refusal::GraphQl {
            kind: "RATE_LIMIT",
            spent: false,
        },
        1,
    );
    let prepared = setup.prepare(Source::Github).await;
    assert_eq!(setup.fake.rate_limited(), 1);
    assert_eq!(
        prepared.data.repos,
        ["lab/repo-00", "lab/repo-01", "lab/repo-02"]
    );
    assert!(prepared.warnings.is_empty(), "{:?}", prepared.warnings);
    let mut commits = 0;
    let mut files = 0;
    for name in ["repo-00", "repo-01", "repo-02"] {
        let truth = setup.fake.truth(name, &week);
        commits += truth.commits.len() as u64;
        let data = setup.fake.repo(name);
        files += data
            .commits
            .iter()
            .filter(|c| c.parents == 1 && truth.commits.contains(&c.oid))
            .filter_map(|c| c.files)
            .map(u64::from)
            .sum::<u64>();
    }
    let totals = &prepared.data.metrics.totals;
    assert_eq!(totals.commits, commits);
    assert_eq!((totals.files_changed, totals.files_unknown), (files, 1));
    let notable = &prepared.data.metrics.notable;
    let unknown: Vec<&str> = notable
        .iter()
        .filter(|n| n.files_unknown)
        .map(|n| n.sha.as_str())
        .collect();
    assert_eq!(unknown, [large.oid.as_str()]);
}

/// Merged pull requests sharing a label are a theme: the draft tells it with the commits
/// that squash-merged them, and `--json` carries it with its pull requests.
#[tokio::test]
async fn merged_pull_requests_sharing_a_label_are_a_theme_in_the_draft_and_the_json() {
    let setup = Setup::new();
    let merged = [
        (
            "repo-00",
            "Rotate the signing keys",
            "ann",
            &["security"][..],
        ),
        (
            "repo-01",
            "Check webhook signatures",
            "bob",
            &["backend", "security"],
        ),
        ("repo-02", "Refuse weak ciphers", "cleo", &["Security"]),
    ]
    .map(|(repo, title, login, labels)| {
        let (number, commit) = setup.fake.merge_pull(repo, title, login, labels);
        (format!("lab/{repo}"), number, commit)
    });
    let prepared = setup.prepare(Source::Github).await;
    let themes = &prepared.data.metrics.themes;
    let theme = themes
        .iter()
        .find(|t| t.kind == ThemeKind::Label)
        .unwrap_or_else(|| panic!("a label theme among {themes:#?}"));
    assert_eq!(theme.title, "Pull requests labelled ‘security’");
    assert_eq!(theme.key, "security");
    let pulls: BTreeSet<(String, u64)> = theme.pull_requests.iter().cloned().collect();
    let expected: BTreeSet<(String, u64)> = merged
        .iter()
        .map(|(repo, number, _)| (repo.clone(), *number))
        .collect();
    assert_eq!(pulls, expected);
    let commits: BTreeSet<&str> = theme.commits.iter().map(String::as_str).collect();
    let squashed: BTreeSet<&str> = merged.iter().map(|(_, _, c)| c.oid.as_str()).collect();
    assert_eq!(commits, squashed, "the commits that merged them");
    assert_eq!(theme.repos.len(), 3);
    let people: BTreeSet<&str> = theme.people.iter().map(String::as_str).collect();
    assert_eq!(
        people,
        BTreeSet::from(["Ann Example", "Bob Builder", "Cleo Coder"])
    );

    let (tokens, _rx) = tokio::sync::mpsc::unbounded_channel();
    let composed = pipeline::compose(&setup.config, WriterChoice::Builtin, &prepared, &tokens)
        .await
        .unwrap()
        .expect("a draft");
    let body = &composed.body;
    let told = body
        .split("### ")
        .find(|section| section.starts_with("Pull requests labelled ‘security’\n"))
        .unwrap_or_else(|| panic!("a subsection for the label theme:\n{body}"));
    assert!(
        body.contains("The main themes of 2026-W45 were “Pull requests labelled ‘security’”"),
        "the label theme leads:\n{body}"
    );
    assert!(
        composed.findings.is_empty(),
        "the checker knows the theme's figures: {:#?}",
        composed.findings
    );
    for (_, _, commit) in &merged {
        assert!(
            told.contains(&commit.headline),
            "{} in:\n{told}",
            commit.headline
        );
    }

    let out = setup.raibid(&[
        "digest",
        "--source",
        "github",
        "--period",
        "week",
        "--date",
        "2026-11-04",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let json_themes = report["metrics"]["themes"].as_array().expect("themes");
    let label = json_themes
        .iter()
        .find(|t| t["kind"] == "label")
        .unwrap_or_else(|| panic!("a label theme in {json_themes:#?}"));
    assert_eq!(label["title"], "Pull requests labelled ‘security’");
    assert_eq!(label["pull_requests"].as_array().map(Vec::len), Some(3));
    assert_eq!(label["commits"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn an_incomplete_repository_is_kept_and_reported() {
    let setup = Setup::new();
    // More pages of releases than the client follows.
    setup.fake.release_many("repo-02", 100 * 20 + 5);
    let prepared = setup.prepare(Source::Github).await;
    assert_eq!(
        prepared.data.repos,
        ["lab/repo-00", "lab/repo-01", "lab/repo-02"]
    );
    let g = prepared.data.metrics.github.as_ref().unwrap();
    assert_eq!(g.failures.len(), 1, "{:?}", g.failures);
    assert_eq!(g.failures[0].repo, "lab/repo-02");
    assert!(g.failures[0].reason.starts_with("incomplete: "));
    assert!(g.releases.len() > 1900, "what was fetched counts");
    assert_eq!(
        prepared.warnings,
        [
            "GitHub: lab/repo-02: incomplete: more than 100 pages of releases; the digest shows what was fetched"
        ]
    );
}

#[tokio::test]
async fn the_local_source_is_as_before() {
    let setup = Setup::new();
    let prepared = setup.prepare(Source::Local).await;
    let before = pipeline::prepare(
        &setup.config,
        &setup.dirs(),
        &setup.request(),
        jiff::Timestamp::now(),
    )
    .unwrap();
    assert_eq!(prepared.data, before.data);
    assert_eq!(prepared.data.repos, ["clone-of-01"]);
    assert_eq!(prepared.data.metrics.github, None);
    assert_eq!(prepared.usage, None);
    assert_eq!(setup.fake.requests(), 0);

    // What the local path has always made of the clone, stated, not just compared with
    // itself: its two commits of 2026-W45, the one of the week before in the trend, and
    // nothing of GitHub's anywhere in the data.
    let data = &prepared.data;
    assert_eq!(data.period, support::github::week());
    assert_eq!(data.repo_paths, [setup.clone_path().display().to_string()]);
    let subjects: Vec<&str> = data.commits.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["local change 2", "local change 1"]);
    assert!(
        data.commits.iter().all(|c| c.repo == "clone-of-01"),
        "{:?}",
        data.commits
    );
    assert_eq!(data.metrics.totals.commits, 2);
    let trend = data.metrics.trend.as_ref().expect("the week before");
    assert_eq!(trend.previous.commits, 1);
    assert!(prepared.warnings.is_empty(), "{:?}", prepared.warnings);
    let json = serde_json::to_value(data).unwrap();
    assert_eq!(json["repos"], serde_json::json!(["clone-of-01"]));
    assert!(
        json["metrics"].get("github").is_none(),
        "no `github` key: {}",
        json["metrics"]
    );
    assert!(!json.to_string().contains("lab/repo-"), "{json}");
}

#[test]
fn digest_source_github_without_a_token_exits_2_naming_the_key() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("config.toml");
    std::fs::write(
        &config,
        "[github]\norgs = [\"lab\"]\ntoken = { env = \"RAIBID_TEST_NO_SUCH_TOKEN\" }\n",
    )
    .unwrap();
    let args = ["digest", "--source", "github", "--json"];
    let out = command_in(root.path(), &config, root.path(), &args)
        .env_remove("RAIBID_TEST_NO_SUCH_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("github.token"), "{stderr}");
}

#[test]
fn digest_repo_with_source_github_exits_2() {
    let setup = Setup::new();
    let clone = setup.clone_path();
    let out = setup.raibid(&[
        "digest",
        "--source",
        "github",
        "--period",
        "week",
        "--date",
        "2026-11-04",
        "--json",
        "--repo",
        clone.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--repo names local repositories; it does not apply to --source github"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no report");
    assert_eq!(setup.fake.requests(), 0, "GitHub was not asked");
}

#[test]
fn digest_json_reports_failures_and_usage() {
    let setup = Setup::new();
    setup.fake.fail("repo-02");
    let clone = setup.clone_path();
    let out = setup.raibid(&[
        "digest",
        "--source",
        "both",
        "--period",
        "week",
        "--date",
        "2026-11-04",
        "--repo",
        clone.to_str().unwrap(),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: GitHub: lab/repo-02 was left out"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failures"][0]["repo"], "lab/repo-02");
    assert!(report["usage"]["requests"].as_u64().unwrap() > 0);
    assert!(report["metrics"]["github"]["pull_requests"]["merged"].is_u64());
    assert!(
        setup.root.path().join("home/data/raibid/github").is_dir(),
        "the cache is under the data dir when github.cache_dir is empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_actor_writes_from_the_configured_source_and_tells_what_happened() {
    use raibid::backend::sparky::actor::{self, Command, Event, Places};
    use std::time::Duration;

    let mut setup = Setup::new();
    setup.config.sparky.source = "both".into();
    setup.fake.fail("repo-02");
    // GitHub is out of quota for a moment: the wait is announced while it lasts.
    setup
        .fake
        .exhaust_until(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2));
    let places = Places {
        drafts_dir: setup.root.path().join("data/drafts"),
        default_docs_dir: setup.root.path().join("data/docs"),
        data_dir: setup.root.path().join("data"),
        cwd: setup.clone_path(),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let actor_setup = actor::Setup {
        config: std::sync::Arc::new(setup.config.clone()),
        places,
    };
    let commands = actor::spawn(actor_setup, events_tx.into()).commands;
    commands.send(Command::Digest(setup.request())).unwrap();
    let mut notices = Vec::new();
    let (id, written_notices) = loop {
        let event = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .expect("an event within a minute")
            .expect("the actor runs");
        match event {
            Event::Notice(notice) => notices.push(notice),
            Event::Written { id, notices } => break (id, notices),
            Event::Failed { op, message } => panic!("could not {op}: {message}"),
            _ => {}
        }
    };
    drop(commands);
    assert!(
        notices.iter().any(|n| n.contains("rate limit")),
        "{notices:?}"
    );
    assert!(
        written_notices[0].contains("lab/repo-02"),
        "the failure comes first: {written_notices:?}"
    );
    assert!(
        id.starts_with("2026-W45-3-repos-"),
        "a failed repository still names the draft: {id}"
    );
}
