//! The draft checker against real drafts: the built-in writer's digests of local and
//! GitHub data (from the fake GitHub, through the pipeline) are clean, and each kind of
//! untruth a model or a hand edit can put in a draft is found. Then `raibid drafts check`
//! as a user runs it.

use std::path::Path;

use jiff::civil::date;
use jiff::tz::TimeZone;
use raibid::backend::sparky::checker::{self, Finding, Rule, Rules};
use raibid::backend::sparky::model::{
    Activity, DigestData, DraftKind, Period, PeriodKind, RepoActivity,
};
use raibid::backend::sparky::period;
use raibid::config::Config;
use support::cli::{Lab, TUESDAY, exits, fails, ok};
use support::github::FakeGitHub;
use support::{digest_data, github_week, write_builtin};

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

/// The findings of a body that must have exactly these (rule, line) findings.
#[track_caller]
fn assert_found(body: &str, kind: DraftKind, data: &DigestData, expected: &[(Rule, usize)]) {
    let findings = check(body, kind, data);
    let got: Vec<(Rule, usize)> = findings.iter().map(|f| (f.rule, f.line)).collect();
    assert_eq!(got, expected, "findings: {findings:#?}\nin:\n{body}");
}

/// The findings of a hand-written body that must have exactly these (rule, line) findings,
/// every rule counted.
#[track_caller]
fn assert_exactly(body: &str, kind: DraftKind, data: &DigestData, expected: &[(Rule, usize)]) {
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

/// `body` with `lines` added at its end, and the number of its last line.
fn appended(body: &str, lines: &str) -> (String, usize) {
    let text = format!("{body}\n{lines}\n");
    let last = text.lines().count();
    (text, last)
}

/// `body` with `from` (which must be there) replaced by `to`.
#[track_caller]
fn edited(body: &str, from: &str, to: &str) -> String {
    assert!(body.contains(from), "no {from:?} in:\n{body}");
    body.replacen(from, to, 1)
}

/// A period of the local fixture's repository without commits.
fn quiet() -> DigestData {
    let activity = Activity {
        period: support::data().period,
        repos: vec![RepoActivity {
            name: "raibid".into(),
            path: "/src/raibid".into(),
            ..RepoActivity::default()
        }],
    };
    digest_data(activity, None)
}

// ---------------------------------------------------------------------------------------
// Clean drafts pass.

#[test]
fn built_in_digests_of_local_data_are_clean() {
    let data = support::data();
    for kind in DIGESTS {
        assert_clean(&write_builtin(&data, kind).body, kind, &data);
    }
    let quiet = quiet();
    let one_line = write_builtin(&quiet, DraftKind::Weekly).body;
    assert_eq!(one_line.lines().count(), 1, "{one_line}");
    assert_clean(&one_line, DraftKind::Weekly, &quiet);
}

#[test]
fn names_with_hex_words_hold_no_shas() {
    // Seen with a real model's fallback: a bot's name is no invented sha.
    let rename = |name: &mut String| *name = name.replace("Ann", "Seed e0d533eb maintainers");
    let mut data = support::data();
    data.commits.iter_mut().for_each(|c| rename(&mut c.author));
    data.metrics
        .contributors
        .iter_mut()
        .for_each(|c| rename(&mut c.name));
    data.metrics
        .notable
        .iter_mut()
        .for_each(|n| rename(&mut n.author));
    let body = write_builtin(&data, DraftKind::Weekly).body;
    assert!(body.contains("Seed e0d533eb maintainers"), "{body}");
    assert_clean(&body, DraftKind::Weekly, &data);
}

/// The fake GitHub's organisation `lab` (three repositories) for `period`, the period
/// before included, through the pipeline as `raibid digest --source github` collects it.
fn github_data(period: Period) -> DigestData {
    let root = tempfile::tempdir().unwrap();
    let fake = FakeGitHub::start("lab", 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(support::github_digest_data(&fake, root.path(), period))
}

/// November 2026 (UTC): the fake's data covers its first half.
fn november() -> Period {
    period::calendar(PeriodKind::Month, date(2026, 11, 1), &TimeZone::UTC)
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
        let body = write_builtin(&data, kind).body;
        assert!(body.contains("## Pull requests"), "{body}");
        assert_clean(&body, kind, &data);
    }
}

#[test]
fn a_busy_range_is_cut_to_its_ceiling_and_stays_clean() {
    // All six weeks of the fake's activity as one range: more to list than 1200 words hold.
    let range = period::custom(
        "2026-10-10T00:00:00Z".parse().unwrap(),
        "2026-11-20T00:00:00Z".parse().unwrap(),
        &TimeZone::UTC,
    )
    .expect("a range");
    let data = github_data(range);
    let body = write_builtin(&data, DraftKind::Digest).body;
    assert!(body.split_whitespace().count() <= 1200, "{body}");
    assert!(body.contains("- …"), "the longest lists were cut: {body}");
    assert_clean(&body, DraftKind::Digest, &data);
}

// ---------------------------------------------------------------------------------------
// What is wrong is found.

#[test]
fn an_altered_number_is_caught() {
    let data = support::data();
    let body = write_builtin(&data, DraftKind::Weekly).body;
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
    let (bare, last) = appended(&body, "We shipped 4711 of them, up 12%.");
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
    let data = github_week::weekly();
    let body = write_builtin(&data, DraftKind::Weekly).body;
    let line = line_of(&body, "[lab/api#42]");
    // Another repository's number, an unknown number, and a bare one.
    let moved = edited(&body, "[lab/api#42]", "[lab/web#42]");
    assert_found(
        &moved,
        DraftKind::Weekly,
        &data,
        &[(Rule::PullRequest, line)],
    );
    let (invented, last) = appended(&body, "Also merged #77 and lab/api#41.");
    assert_found(
        &invented,
        DraftKind::Weekly,
        &data,
        &[(Rule::PullRequest, last)],
    );
    let (linked, last) = appended(
        &body,
        "See [lab/api#99](https://github.com/lab/api/pull/99).",
    );
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
    let body = write_builtin(&data, DraftKind::Weekly).body;
    // The built-in weekly names Cleo's breaking change once, in its theme.
    let notable = line_of(&body, "`abc0004` feat!: new job schema — Cleo,");
    let wrong = edited(
        &body,
        "`abc0004` feat!: new job schema — Cleo,",
        "`abc0004` feat!: new job schema — Ann,",
    );
    assert_found(&wrong, DraftKind::Weekly, &data, &[(Rule::Author, notable)]);
    let findings = check(&wrong, DraftKind::Weekly, &data);
    assert_eq!(findings[0].message, "`abc0004` is by Cleo, not Ann");

    // In the prose form, with the subject reworded too.
    let (prose, last) = appended(
        &body,
        "The schema change `abc0004` new schema (Mallory) landed.",
    );
    assert_found(
        &prose,
        DraftKind::Weekly,
        &data,
        &[(Rule::Author, last), (Rule::RepeatedCommit, last)],
    );

    // Handles must be logins the data knows; an address is not a handle.
    let github = github_week::weekly();
    let body = write_builtin(&github, DraftKind::Weekly).body;
    let (thanks, last) = appended(
        &body,
        "Thanks @carol, @Ann and @mallory (mail ann@example.org).",
    );
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
    let data = github_week::weekly();
    let body = write_builtin(&data, DraftKind::Weekly).body;
    // A sha of the data is no invented sha, though naming a commit again is a repeat.
    let sha = &data.commits[0].sha;
    let (extra, n) = appended(
        &body,
        &format!(
            "See `{}` and {}.\nSee `1234abc` and 9f3e2d1c.\nReleased v0.4.0, not v9.9.9.\n\
             Moved to lab/secret and ghost-org/tools, not lab/api and/or lab/web.",
            &sha[..7],
            &sha[..12],
        ),
    );
    assert_found(
        &extra,
        DraftKind::Weekly,
        &data,
        &[
            (Rule::RepeatedCommit, n - 3),
            (Rule::RepeatedCommit, n - 3),
            (Rule::Sha, n - 2),
            (Rule::Sha, n - 2),
            (Rule::Version, n - 1),
            (Rule::Repository, n),
            (Rule::Repository, n),
        ],
    );
    let findings = check(&extra, DraftKind::Weekly, &data);
    let excerpts: Vec<&str> = findings
        .iter()
        .filter(|f| f.rule != Rule::RepeatedCommit)
        .map(|f| f.excerpt.as_str())
        .collect();
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
    let mut data = github_week::weekly();
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
    let body = write_builtin(&data, DraftKind::Daily).body;
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
    let body = write_builtin(&data, DraftKind::Weekly).body;
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
    let body = write_builtin(&data, DraftKind::Weekly).body;
    let (filler, n) = appended(
        &body,
        "We made Significant\nProgress, and going forward: stay tuned!",
    );
    assert_found(
        &filler,
        DraftKind::Weekly,
        &data,
        &[(Rule::Filler, n - 1), (Rule::Filler, n), (Rule::Filler, n)],
    );
    // Stock words inside a phrase, or a commit subject that says them, are not filler.
    let mut quoting = support::data();
    quoting.commits[0].subject = "docs: stay tuned".into();
    let body = format!("{body}\nThe greatest job: docs: stay tuned (Ann).\n");
    assert_clean(&body, DraftKind::Weekly, &quoting);
}

#[test]
fn the_hand_made_github_week_is_clean() {
    let data = github_week::weekly();
    for kind in [DraftKind::Weekly, DraftKind::Digest, DraftKind::Monthly] {
        assert_clean(&write_builtin(&data, kind).body, kind, &data);
    }
}

// ---------------------------------------------------------------------------------------
// Told once: a draft names each commit once, casts no sentence in one mould more than
// twice, and writes large numbers with thousands separators.

/// A weekly of [`support::data`] written by hand, each thing told once.
const TOLD_ONCE: &str = "## Summary

5 commits by 3 contributors; +483/−112 lines. Cleo reshaped the job schema, Ann wrote the \
queue contract and split the store, and Bob fixed the agent heartbeat.

## Notable changes

- `abc0004` feat!: new job schema — Cleo in raibid
- `abc0001` feat: queue contract — Ann in raibid
- `abc0002` fix: agent heartbeat — Bob in raibid
";

#[test]
fn a_draft_that_tells_things_once_is_clean() {
    assert_exactly(TOLD_ONCE, DraftKind::Weekly, &support::data(), &[]);
}

#[test]
fn a_commit_told_twice_is_caught() {
    let data = support::data();
    // Again in the Summary, by a longer start of its sha: the same commit.
    let again = edited(
        TOLD_ONCE,
        "Cleo reshaped the job schema,",
        "Cleo reshaped the job schema in `abc00040000`,",
    );
    let summary = line_of(&again, "reshaped");
    let listed = line_of(&again, "- `abc0004`");
    assert_exactly(
        &again,
        DraftKind::Weekly,
        &data,
        &[(Rule::RepeatedCommit, listed)],
    );
    let findings = check(&again, DraftKind::Weekly, &data);
    assert_eq!(
        findings[0].message,
        format!("`abc0004` is told on line {summary} already: name each commit once")
    );
    // Three times: a finding for each time after the first.
    let (thrice, last) = appended(&again, "- `abc0004` once more");
    assert_exactly(
        &thrice,
        DraftKind::Weekly,
        &data,
        &[(Rule::RepeatedCommit, listed), (Rule::RepeatedCommit, last)],
    );
}

#[test]
fn a_large_number_without_separators_is_caught() {
    let mut data = support::data();
    data.commits[3].insertions = 328_879;
    let told = "Cleo's schema change added 328,879 lines: `abc0004` feat!: new job schema \
                (Cleo), +328,879/−80 lines. Job 123456 of 2026 ran it.";
    let with_separators = edited(told, "Job 123456", "It");
    assert_exactly(&with_separators, DraftKind::Mastodon, &data, &[]);
    // An id is no amount: only the number rule judges it.
    assert_exactly(told, DraftKind::Mastodon, &data, &[(Rule::Number, 1)]);
    for (from, to) in [("added 328,879", "added 328879"), ("+328,879/", "+328879/")] {
        let bare = edited(&with_separators, from, to);
        assert_exactly(&bare, DraftKind::Mastodon, &data, &[(Rule::BareNumber, 1)]);
        let findings = check(&bare, DraftKind::Mastodon, &data);
        assert_eq!(
            findings[0].message,
            "328879 is hard to read: write it with thousands separators, 328,879"
        );
    }
}

#[test]
fn a_sentence_template_used_more_than_twice_is_caught() {
    let data = support::data();
    let twice = "Ann made 3 commits this week. Bob made 1 commit this week.";
    let (clean, _) = appended(TOLD_ONCE, twice);
    assert_exactly(&clean, DraftKind::Weekly, &data, &[]);
    // The third use, on a line of its own: numbers, names and quoted text are masked.
    let (thrice, last) = appended(&clean, "\nCleo made 1 commit this week.");
    assert_exactly(
        &thrice,
        DraftKind::Weekly,
        &data,
        &[(Rule::RepeatedTemplate, last)],
    );
    let findings = check(&thrice, DraftKind::Weekly, &data);
    assert_eq!(findings[0].excerpt, "… made … this week.");
    assert!(findings[0].message.contains("used 3 times"), "{findings:?}");
    // A list's items share a shape by design.
    let (listed, _) = appended(
        TOLD_ONCE,
        "\n- Ann made 3 commits this week.\n- Bob made 1 commit this week.\n- Cleo made 1 commit this week.",
    );
    assert_exactly(&listed, DraftKind::Weekly, &data, &[]);
}

// ---------------------------------------------------------------------------------------
// `raibid drafts check` as a user runs it.

/// A repository with two authors' commits on 2026-11-17, and the built-in writer.
fn lab() -> Lab {
    Lab::new(
        "[sparky]\nwriter = \"builtin\"\ntime_zone = \"UTC\"\n",
        &TUESDAY,
    )
}

/// The file at `path` [`edited`].
fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, edited(&text, from, to)).unwrap();
}

#[test]
fn drafts_check_from_the_command_line() {
    let lab = lab();
    let (id, _) = lab.digest(&["--period", "day", "--date", "2026-11-17"]);
    assert_eq!(id, "2026-11-17-lab");

    let clean = ok(&lab.raibid(&["drafts", "check", &id]));
    assert_eq!(clean, format!("{id}: no findings\n"));

    // A hand edit that inflates the count and credits someone else.
    let draft = lab.draft(&id);
    replace_in(
        &draft,
        "2 commits by 2 contributors",
        "12 commits by 2 contributors",
    );
    replace_in(&draft, "## Notable changes", "## Changes");
    let text = std::fs::read_to_string(&draft).unwrap();
    let body = text.splitn(3, "---\n").nth(2).unwrap();
    let inflated = line_of(body, "12 commits by 2 contributors");
    let (found, stderr) = exits(&lab.raibid(&["drafts", "check", &id]), 1);
    let lines: Vec<&str> = found.lines().collect();
    assert_eq!(lines.len(), 2, "{found}");
    assert!(
        lines[0].starts_with(&format!("{id}:0: section: no `## Notable changes`")),
        "{found}"
    );
    assert!(
        lines[1].starts_with(&format!("{id}:{inflated}: number: 12 commits:")),
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
    assert_eq!(findings[1]["line"], inflated);
    assert_eq!(findings[1]["excerpt"], "12 commits");

    let unknown = fails(&lab.raibid(&["drafts", "check", "2026-01-01-lab"]), 2);
    assert!(unknown.contains("2026-01-01-lab"), "{unknown}");
    fails(&lab.raibid(&["drafts", "check", "../etc/passwd"]), 2);
}
