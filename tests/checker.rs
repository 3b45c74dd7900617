//! The draft checker against real drafts: the built-in writer's digests of local and
//! GitHub data (from the fake GitHub, through the pipeline) are clean, and each kind of
//! untruth a model or a hand edit can put in a draft is found. Then `raibid drafts check`
//! as a user runs it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::checker::{self, Finding, Rule, Rules};
use raibid::backend::sparky::model::{
    Activity, DigestData, DraftKind, Period, PeriodKind, RepoActivity,
};
use raibid::backend::sparky::pipeline::{self, DigestRequest, PeriodSpec, Source, WriterChoice};
use raibid::backend::sparky::write::{BuiltinWriter, Writer};
use raibid::config::{Config, Secret};
use support::git::git_with;
use support::github::FakeGitHub;

const DIGESTS: [DraftKind; 4] = [
    DraftKind::Daily,
    DraftKind::Weekly,
    DraftKind::Monthly,
    DraftKind::Digest,
];

fn filler_phrases() -> Vec<String> {
    Config::default().sparky.filler_phrases
}

fn check(body: &str, kind: DraftKind, data: &DigestData) -> Vec<Finding> {
    let phrases = filler_phrases();
    let rules = Rules {
        filler_phrases: &phrases,
    };
    checker::check(body, kind, data, &rules)
}

fn written(data: &DigestData, kind: DraftKind) -> String {
    let (tokens, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime
        .block_on(BuiltinWriter.write(data, kind, &tokens))
        .expect("the built-in writer never fails")
        .body
}

/// The findings of a body that must have exactly these (rule, line) findings.
#[track_caller]
fn assert_found(body: &str, kind: DraftKind, data: &DigestData, expected: &[(Rule, usize)]) {
    let findings = check(body, kind, data);
    let got: Vec<(Rule, usize)> = findings.iter().map(|f| (f.rule, f.line)).collect();
    assert_eq!(got, expected, "findings: {findings:#?}\nin:\n{body}");
}

#[track_caller]
fn assert_clean(body: &str, kind: DraftKind, data: &DigestData) {
    assert_found(body, kind, data, &[]);
}

/// The 1-based line of the first line containing `text`.
#[track_caller]
fn line_of(body: &str, text: &str) -> usize {
    body.lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no {text:?} in:\n{body}"))
        + 1
}

/// `body` with `from` (which must be there) replaced by `to`.
#[track_caller]
fn edited(body: &str, from: &str, to: &str) -> String {
    assert!(body.contains(from), "no {from:?} in:\n{body}");
    body.replacen(from, to, 1)
}

/// A period of the local fixture's repository without commits.
fn quiet() -> DigestData {
    let mut data = support::data();
    let activity = Activity {
        period: data.period.clone(),
        repos: vec![RepoActivity {
            name: "raibid".into(),
            path: "/src/raibid".into(),
            ..RepoActivity::default()
        }],
    };
    data.metrics = analyze(&activity, None);
    data.commits.clear();
    data
}

// ---------------------------------------------------------------------------------------
// Clean drafts pass.

#[test]
fn built_in_digests_of_local_data_are_clean() {
    let data = support::data();
    for kind in DIGESTS {
        assert_clean(&written(&data, kind), kind, &data);
    }
    let quiet = quiet();
    let one_line = written(&quiet, DraftKind::Weekly);
    assert_eq!(one_line.lines().count(), 1, "{one_line}");
    assert_clean(&one_line, DraftKind::Weekly, &quiet);
}

/// The fake GitHub's organisation `lab` (three repositories) for `period`, the period
/// before included, through the pipeline as `raibid digest --source github` collects it.
fn github_data(period: Period) -> DigestData {
    let root = tempfile::tempdir().unwrap();
    let fake = FakeGitHub::start("lab", 3);
    let token = root.path().join("token");
    std::fs::write(&token, fake.token()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut config = Config::default();
    config.github.api_url = fake.url();
    config.github.token = Secret::File(token);
    config.github.orgs = vec!["lab".into()];
    config.github.cache_dir = root.path().join("github-cache");
    config.sparky.time_zone = "UTC".into();
    let request = DigestRequest {
        period: PeriodSpec::Exact(period),
        repos: Vec::new(),
        writer: WriterChoice::Builtin,
        kind: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let prepared = runtime.block_on(async {
        let github = pipeline::github_client(&config, root.path(), None).expect("a client");
        pipeline::prepare_from(
            &config,
            root.path(),
            &request,
            Source::Github.with(&github),
            jiff::Timestamp::now(),
        )
        .await
        .expect("prepared")
    });
    prepared.data
}

/// November 2026 (UTC): the fake's data covers its first half.
fn november() -> Period {
    Period {
        kind: PeriodKind::Month,
        since: "2026-11-01T00:00:00Z".parse().unwrap(),
        until: "2026-12-01T00:00:00Z".parse().unwrap(),
        label: "2026-11".into(),
        time_zone: "UTC".into(),
    }
}

#[test]
fn built_in_digests_of_github_data_are_clean() {
    let week = support::github::week();
    for (kind, period) in [
        (DraftKind::Daily, support::github::day()),
        (DraftKind::Weekly, week.clone()),
        (DraftKind::Digest, week),
        (DraftKind::Monthly, november()),
    ] {
        let data = github_data(period);
        let g = data.metrics.github.as_ref().expect("GitHub data");
        assert!(
            g.pull_requests.merged > 0 && data.metrics.totals.commits > 0,
            "{kind:?}: the period has pull requests and commits to state"
        );
        let body = written(&data, kind);
        assert!(body.contains("## Pull requests"), "{body}");
        assert_clean(&body, kind, &data);
    }
}

#[test]
fn a_busy_range_is_cut_to_its_ceiling_and_stays_clean() {
    // All six weeks of the fake's activity as one range: more to list than 1200 words hold.
    let range = Period {
        kind: PeriodKind::Custom,
        since: "2026-10-10T00:00:00Z".parse().unwrap(),
        until: "2026-11-20T00:00:00Z".parse().unwrap(),
        label: "2026-10-10..2026-11-20".into(),
        time_zone: "UTC".into(),
    };
    let data = github_data(range);
    let body = written(&data, DraftKind::Digest);
    assert!(body.split_whitespace().count() <= 1200, "{body}");
    assert!(body.contains("- …"), "the longest lists were cut: {body}");
    assert_clean(&body, DraftKind::Digest, &data);
}

// ---------------------------------------------------------------------------------------
// What is wrong is found.

#[test]
fn an_altered_number_is_caught() {
    let data = support::data();
    let body = written(&data, DraftKind::Weekly);
    let summary = line_of(&body, "5 commits by 3 contributors");

    // No commit count of the data is 6 (it is a number of the data: files, days ...).
    let more = edited(&body, "5 commits by 3", "6 commits by 3");
    assert_found(&more, DraftKind::Weekly, &data, &[(Rule::Number, summary)]);
    let findings = check(&more, DraftKind::Weekly, &data);
    assert!(
        findings[0].excerpt == "6 commits" && findings[0].message.contains("commit count"),
        "{findings:?}"
    );

    // 4 is a commit count (Ann's), but 4 contributors is not.
    let people = edited(&body, "by 3 contributors", "by 4 contributors");
    assert_found(
        &people,
        DraftKind::Weekly,
        &data,
        &[(Rule::Number, summary)],
    );

    // Lines are pairs: each number alone is in the data, the pair is not.
    let lines = edited(&body, "+483/−112", "+483/−80");
    assert_found(&lines, DraftKind::Weekly, &data, &[(Rule::Number, summary)]);

    // A number the data never holds, with no unit, and a percent the trend does not have.
    let bare = format!("{body}\nWe shipped 4711 of them, up 12%.\n");
    let last = bare.lines().count();
    assert_found(
        &bare,
        DraftKind::Weekly,
        &data,
        &[(Rule::Number, last), (Rule::Number, last)],
    );

    // A date outside the data.
    let date = edited(&body, "Mon 2026-11-16", "Mon 2026-11-09");
    let day = line_of(&date, "2026-11-09");
    assert_found(&date, DraftKind::Weekly, &data, &[(Rule::Number, day)]);
}

#[test]
fn an_invented_pull_request_is_caught() {
    let data = github_weekly();
    let body = written(&data, DraftKind::Weekly);
    let line = line_of(&body, "[lab/api#42]");
    // Another repository's number, an unknown number, and a bare one.
    let moved = edited(&body, "[lab/api#42]", "[lab/web#42]");
    assert_found(
        &moved,
        DraftKind::Weekly,
        &data,
        &[(Rule::PullRequest, line)],
    );
    let invented = format!("{body}\nAlso merged #77 and lab/api#41.\n");
    let last = invented.lines().count();
    assert_found(
        &invented,
        DraftKind::Weekly,
        &data,
        &[(Rule::PullRequest, last)],
    );
    let linked = format!("{body}\nSee [lab/api#99](https://github.com/lab/api/pull/99).\n");
    let last = linked.lines().count();
    assert_found(
        &linked,
        DraftKind::Weekly,
        &data,
        &[(Rule::PullRequest, last), (Rule::Link, last)],
    );
}

#[test]
fn an_unknown_author_is_caught() {
    let data = support::data();
    let body = written(&data, DraftKind::Weekly);
    // The built-in weekly names Cleo's breaking change in Notable changes and Highlights.
    let notable = line_of(&body, "`abc0004` feat!: new job schema — Cleo in raibid");
    let wrong = edited(
        &body,
        "`abc0004` feat!: new job schema — Cleo",
        "`abc0004` feat!: new job schema — Ann",
    );
    assert_found(&wrong, DraftKind::Weekly, &data, &[(Rule::Author, notable)]);
    let findings = check(&wrong, DraftKind::Weekly, &data);
    assert_eq!(findings[0].message, "`abc0004` is by Cleo, not Ann");

    // In the prose form, with the subject reworded too.
    let prose = format!("{body}\nThe schema change `abc0004` new schema (Mallory) landed.\n");
    let last = prose.lines().count();
    assert_found(&prose, DraftKind::Weekly, &data, &[(Rule::Author, last)]);

    // Handles must be logins the data knows; an address is not a handle.
    let github = github_weekly();
    let body = written(&github, DraftKind::Weekly);
    let thanks = format!("{body}\nThanks @carol, @Ann and @mallory (mail ann@example.org).\n");
    let last = thanks.lines().count();
    assert_found(&thanks, DraftKind::Weekly, &github, &[(Rule::Login, last)]);
    // A pull request's author, too.
    let line = line_of(&body, "[lab/api#42]");
    let wrong = edited(
        &body,
        "drop the v1 format (bob)",
        "drop the v1 format (carol)",
    );
    assert_found(&wrong, DraftKind::Weekly, &github, &[(Rule::Author, line)]);
}

#[test]
fn an_invented_sha_version_and_repository_are_caught() {
    let data = github_weekly();
    let body = written(&data, DraftKind::Weekly);
    let sha = &data.commits[0].sha;
    let extra = format!(
        "{body}\nSee `{}` and {}.\nSee `1234abc` and 9f3e2d1c.\nReleased v0.4.0, not v9.9.9.\n\
         Moved to lab/secret and ghost-org/tools, not lab/api and/or lab/web.\n",
        &sha[..7],
        &sha[..12],
    );
    let n = extra.lines().count();
    assert_found(
        &extra,
        DraftKind::Weekly,
        &data,
        &[
            (Rule::Sha, n - 2),
            (Rule::Sha, n - 2),
            (Rule::Version, n - 1),
            (Rule::Repository, n),
            (Rule::Repository, n),
        ],
    );
    let findings = check(&extra, DraftKind::Weekly, &data);
    let excerpts: Vec<&str> = findings.iter().map(|f| f.excerpt.as_str()).collect();
    assert_eq!(
        excerpts,
        [
            "1234abc",
            "9f3e2d1c",
            "v9.9.9",
            "lab/secret",
            "ghost-org/tools"
        ]
    );
}

#[test]
fn links_must_be_the_datas() {
    let mut data = github_weekly();
    data.link = Some("https://docs.example.org/blog/2026/11/week-2026-47".into());
    let body = "Week 47 of lab: https://docs.example.org/blog/2026/11/week-2026-47 and \
                [the release](https://github.com/lab/api/releases/tag/v0.4.0). More at \
                https://example.org/elsewhere.";
    assert_found(body, DraftKind::Mastodon, &data, &[(Rule::Link, 1)]);
}

#[test]
fn a_social_post_over_its_limit_is_caught_in_its_own_unit() {
    let data = support::data();
    // 291 graphemes, 581 chars: an accented letter is two code points, a thumb with a
    // skin tone two more, each one grapheme.
    let post = format!("{} {}", "e\u{301}".repeat(200), "👍🏽".repeat(90));
    assert_clean(&post, DraftKind::Bluesky, &data);
    assert_found(&post, DraftKind::Mastodon, &data, &[(Rule::Length, 0)]);
    let long = format!("{post}{}", "👍🏽".repeat(10));
    assert_found(&long, DraftKind::Bluesky, &data, &[(Rule::Length, 0)]);
    let findings = check(&long, DraftKind::Bluesky, &data);
    assert_eq!(findings[0].excerpt, "301 graphemes");
    // Posts have no headings.
    assert_found(
        "## Summary\n\nBusy.",
        DraftKind::X,
        &data,
        &[(Rule::Section, 1)],
    );
}

#[test]
fn long_texts_stay_under_their_kinds_ceiling() {
    let data = support::data();
    let body = written(&data, DraftKind::Daily);
    let padded = format!("{body}\n{}\n", "word ".repeat(300));
    assert_found(&padded, DraftKind::Daily, &data, &[(Rule::Length, 0)]);
    // A quiet period makes a short post honestly: only the ceiling is a rule.
    let blog = format!("## Summary\n\n{}\n", "word ".repeat(2600));
    assert_found(&blog, DraftKind::Blog, &quiet(), &[(Rule::Length, 0)]);
    let findings = check(&blog, DraftKind::Blog, &quiet());
    assert!(findings[0].message.contains("1500-2500"), "{findings:?}");
    assert_clean("## Summary\n\nA quiet week.\n", DraftKind::Blog, &quiet());
}

#[test]
fn a_missing_required_section_is_caught() {
    let data = support::data();
    let body = written(&data, DraftKind::Weekly);
    let without = edited(&body, "## Notable changes", "## Changes");
    assert_found(&without, DraftKind::Weekly, &data, &[(Rule::Section, 0)]);
    let without = edited(&body, "## Summary", "Summary");
    assert_found(&without, DraftKind::Weekly, &data, &[(Rule::Section, 0)]);
    // A blog post needs its Highlights; a quiet period's digest needs no Notable changes.
    let story = "word ".repeat(1500);
    let blog = format!("## Summary\n\n{story}\n\n## Notable changes\n\n- x\n");
    assert_found(&blog, DraftKind::Blog, &data, &[(Rule::Section, 0)]);
    let findings = check(&blog, DraftKind::Blog, &data);
    assert!(
        findings[0].message.contains("## Highlights"),
        "{findings:?}"
    );
    assert_clean(
        "## Summary\n\nNo commits during 2026-W47.\n",
        DraftKind::Weekly,
        &quiet(),
    );
}

#[test]
fn a_filler_phrase_is_caught_but_not_in_the_datas_own_words() {
    let data = support::data();
    let body = written(&data, DraftKind::Weekly);
    let filler = format!("{body}\nWe made Significant\nProgress, and going forward: stay tuned!\n");
    let n = filler.lines().count();
    assert_found(
        &filler,
        DraftKind::Weekly,
        &data,
        &[(Rule::Filler, n - 1), (Rule::Filler, n), (Rule::Filler, n)],
    );
    // Stock words inside a phrase, or a commit subject that says them, are not filler.
    let mut quoting = support::data();
    quoting.commits[0].subject = "docs: stay tuned".into();
    let body = format!("{body}\nThe greatest job: `abc0001` docs: stay tuned (Ann).\n");
    assert_clean(&body, DraftKind::Weekly, &quoting);
}

/// The hand-made GitHub week of tests/github_digest.rs in brief: two repositories, merged
/// pull requests with reviewers, issues and a release.
fn github_weekly() -> DigestData {
    use raibid::backend::sparky::model::{
        CommitRecord, IssueRecord, PullRequestRecord, ReleaseRecord,
    };
    let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
    let commit = |seed: u64, repo: &str, author: &str, when: &str| CommitRecord {
        login: None,
        repo: repo.into(),
        sha: format!("{:07x}{}", 0x5eed000 + seed, "1".repeat(33)),
        author: author.into(),
        email: format!("{}@users.noreply.github.com", author.to_lowercase()),
        time: at(when),
        offset_seconds: 0,
        committed: at(when),
        subject: format!("change {seed} in {repo}"),
        files_changed: 2,
        insertions: 10 * seed,
        deletions: seed,
        is_merge: false,
        is_bot: false,
    };
    let pr = |repo: &str, number: u64, title: &str, author: &str, reviewers: &[&str]| {
        PullRequestRecord {
            repo: repo.into(),
            number,
            title: title.into(),
            author: author.into(),
            url: format!("https://github.com/{repo}/pull/{number}"),
            created: at("2026-11-16T08:00:00Z"),
            merged: Some(at("2026-11-17T10:00:00Z")),
            closed: Some(at("2026-11-17T10:00:00Z")),
            reviewers: reviewers.iter().map(|r| r.to_string()).collect(),
            additions: 40 + number,
            deletions: number,
            is_bot: false,
        }
    };
    let period = Period {
        kind: PeriodKind::Week,
        since: at("2026-11-16T00:00:00Z"),
        until: at("2026-11-23T00:00:00Z"),
        label: "2026-W47".into(),
        time_zone: "UTC".into(),
    };
    let api = RepoActivity {
        name: "lab/api".into(),
        path: "https://github.com/lab/api".into(),
        commits: vec![
            commit(1, "lab/api", "Ann", "2026-11-17T09:00:00Z"),
            commit(2, "lab/api", "Bob", "2026-11-18T09:00:00Z"),
        ],
        pull_requests: vec![
            pr("lab/api", 41, "feat: stream tokens", "ann", &["bob"]),
            pr(
                "lab/api",
                42,
                "feat!: drop the v1 format",
                "bob",
                &["ann", "carol"],
            ),
        ],
        issues: vec![IssueRecord {
            repo: "lab/api".into(),
            number: 7,
            title: "crash on start".into(),
            author: "erin".into(),
            url: "https://github.com/lab/api/issues/7".into(),
            created: at("2026-11-16T10:00:00Z"),
            closed: Some(at("2026-11-18T10:00:00Z")),
            is_bot: false,
        }],
        releases: vec![ReleaseRecord {
            repo: "lab/api".into(),
            tag: "v0.4.0".into(),
            name: "Streaming".into(),
            author: "ann".into(),
            url: "https://github.com/lab/api/releases/tag/v0.4.0".into(),
            published: at("2026-11-20T15:00:00Z"),
            prerelease: false,
        }],
    };
    let web = RepoActivity {
        name: "lab/web".into(),
        path: "https://github.com/lab/web".into(),
        commits: vec![commit(3, "lab/web", "Carol", "2026-11-19T09:00:00Z")],
        pull_requests: vec![pr(
            "lab/web",
            9,
            "docs: explain the score",
            "carol",
            &["bob"],
        )],
        ..RepoActivity::default()
    };
    let activity = Activity {
        period: period.clone(),
        repos: vec![api, web],
    };
    let mut commits: Vec<CommitRecord> = activity
        .repos
        .iter()
        .flat_map(|r| r.commits.clone())
        .collect();
    commits.sort_by_key(|c| std::cmp::Reverse(c.committed));
    DigestData {
        repos: activity.repos.iter().map(|r| r.name.clone()).collect(),
        repo_paths: activity.repos.iter().map(|r| r.path.clone()).collect(),
        metrics: analyze(&activity, None),
        period,
        commits,
        link: None,
    }
}

#[test]
fn the_hand_made_github_week_is_clean() {
    let data = github_weekly();
    for kind in [DraftKind::Weekly, DraftKind::Digest, DraftKind::Monthly] {
        assert_clean(&written(&data, kind), kind, &data);
    }
}

// ---------------------------------------------------------------------------------------
// `raibid drafts check` as a user runs it.

const BIN: &str = env!("CARGO_BIN_EXE_raibid");

/// A repository with two authors' commits on 2026-11-17, a config, and a data dir.
struct Lab {
    root: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let lab = Lab {
            root: tempfile::tempdir().unwrap(),
        };
        let repo = lab.repo();
        std::fs::create_dir_all(&repo).unwrap();
        git_with(&repo, &["init", "-q", "-b", "main"], &[]);
        for (who, when, text, subject) in [
            (
                "Ann",
                "2026-11-17T09:00:00Z",
                "fn a() {}\nfn b() {}\n",
                "feat: two functions",
            ),
            ("Bob", "2026-11-17T15:00:00Z", "fn a() {}\n", "fix: drop b"),
        ] {
            std::fs::write(repo.join("src.rs"), text).unwrap();
            let email = format!("{}@example.org", who.to_lowercase());
            let identity = [
                ("GIT_AUTHOR_NAME", who),
                ("GIT_AUTHOR_EMAIL", email.as_str()),
                ("GIT_AUTHOR_DATE", when),
                ("GIT_COMMITTER_NAME", who),
                ("GIT_COMMITTER_EMAIL", email.as_str()),
                ("GIT_COMMITTER_DATE", when),
            ];
            git_with(&repo, &["add", "."], &identity);
            git_with(&repo, &["commit", "-q", "-m", subject], &identity);
        }
        std::fs::write(
            lab.root.path().join("config.toml"),
            "[sparky]\nwriter = \"builtin\"\ntime_zone = \"UTC\"\n",
        )
        .unwrap();
        lab
    }

    fn repo(&self) -> PathBuf {
        self.root.path().join("lab")
    }

    fn draft(&self, id: &str) -> PathBuf {
        self.root
            .path()
            .join(format!("home/data/raibid/drafts/{id}.md"))
    }

    fn raibid(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(self.root.path().join("config.toml"))
            .args(args)
            .current_dir(self.repo())
            .env("XDG_CONFIG_HOME", self.root.path().join("home/config"))
            .env("XDG_DATA_HOME", self.root.path().join("home/data"))
            .env("TZ", "UTC")
            .env_remove("RAIBID_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn exits(out: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "no {from:?} in:\n{text}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn drafts_check_from_the_command_line() {
    let lab = Lab::new();
    let (line, _) = exits(
        &lab.raibid(&["digest", "--period", "day", "--date", "2026-11-17"]),
        0,
    );
    let id = line.split('\t').next().unwrap().to_owned();
    assert_eq!(id, "2026-11-17-lab");

    let (clean, _) = exits(&lab.raibid(&["drafts", "check", &id]), 0);
    assert_eq!(clean, format!("{id}: no findings\n"));

    // A hand edit that inflates the count and credits someone else.
    let draft = lab.draft(&id);
    replace_in(
        &draft,
        "2 commits by 2 contributors",
        "12 commits by 2 contributors",
    );
    replace_in(&draft, "## Notable changes", "## Changes");
    let (found, stderr) = exits(&lab.raibid(&["drafts", "check", &id]), 1);
    let lines: Vec<&str> = found.lines().collect();
    assert_eq!(lines.len(), 2, "{found}");
    assert!(
        lines[0].starts_with(&format!("{id}:0: section: no `## Notable changes`")),
        "{found}"
    );
    assert!(
        lines[1].starts_with(&format!("{id}:3: number: 12 commits:")),
        "{found}"
    );
    assert!(stderr.contains("2 findings"), "{stderr}");

    let (json, _) = exits(&lab.raibid(&["drafts", "check", &id, "--json"]), 1);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["id"], id.as_str());
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0]["rule"], "section");
    assert_eq!(findings[1]["rule"], "number");
    assert_eq!(findings[1]["line"], 3);
    assert_eq!(findings[1]["excerpt"], "12 commits");

    let (_, unknown) = exits(&lab.raibid(&["drafts", "check", "2026-01-01-lab"]), 2);
    assert!(unknown.contains("2026-01-01-lab"), "{unknown}");
    exits(&lab.raibid(&["drafts", "check", "../etc/passwd"]), 2);
}
