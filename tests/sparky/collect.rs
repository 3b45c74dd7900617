//! collect() against `git log --numstat` on a fixture repository built with the git CLI,
//! and `raibid digest` over repositories that cannot all be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::Timestamp;
use jiff::civil::date;
use jiff::tz::TimeZone;
use raibid::backend::sparky::collect::{self, CollectError};
use raibid::backend::sparky::model::{CommitRecord, Period, PeriodKind};
use raibid::backend::sparky::period;

const BOT_EMAIL: &str = "49699333+dependabot[bot]@users.noreply.github.com";

/// Runs git in `dir`, isolated from the machine's configuration.
fn git(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.useConfigOnly=false",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgSign=false",
        ])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git prints UTF-8 here")
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        git(dir.path(), &["init", "-q"], &[]);
        // Modes come from the index only, so `git add -A` keeps `update-index --chmod`.
        git(dir.path(), &["config", "core.fileMode", "false"], &[]);
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, file: &str, content: impl AsRef<[u8]>) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("file has a folder")).expect("mkdir");
        std::fs::write(path, content).expect("write fixture file");
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args, &[])
    }

    /// Commits everything with `who` = (name, email) as author and committer.
    fn commit(&self, who: (&str, &str), when: &str, message: &str) -> String {
        self.commit_dated(who, when, when, message)
    }

    fn commit_dated(
        &self,
        who: (&str, &str),
        authored: &str,
        committed: &str,
        message: &str,
    ) -> String {
        self.git(&["add", "-A"]);
        self.commit_index(who, authored, committed, message)
    }

    /// Commits what is staged, without `git add`.
    fn commit_index(
        &self,
        who: (&str, &str),
        authored: &str,
        committed: &str,
        message: &str,
    ) -> String {
        git(
            self.path(),
            &["commit", "-q", "-m", message],
            &dated(who, authored, committed),
        );
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn dated<'a>(
    who: (&'a str, &'a str),
    authored: &'a str,
    committed: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("GIT_AUTHOR_NAME", who.0),
        ("GIT_AUTHOR_EMAIL", who.1),
        ("GIT_AUTHOR_DATE", authored),
        ("GIT_COMMITTER_NAME", who.0),
        ("GIT_COMMITTER_EMAIL", who.1),
        ("GIT_COMMITTER_DATE", committed),
    ]
}

fn numbered(prefix: &str, count: usize) -> String {
    (1..=count)
        .map(|n| format!("{prefix} line {n}\n"))
        .collect()
}

const ALICE: (&str, &str) = ("Alice Example", "alice@example.com");
const BOB: (&str, &str) = ("Bob Builder", "bob@example.com");
const BOBBY: (&str, &str) = ("bobby", "bob@old.example.org");
const CAROL: (&str, &str) = ("Carol", "carol@example.com");
const DAVE: (&str, &str) = ("Dave", "dave@example.com");
const BOT: (&str, &str) = ("dependabot[bot]", BOT_EMAIL);

/// Shas of the commits the assertions single out.
struct History {
    bobby: String,
    binary: String,
    pure_rename: String,
    edited_rename: String,
    merge: String,
    bot: String,
    before_utc_midnight: String,
    at_utc_midnight: String,
    backdated_author: String,
    out_of_order: String,
    mode_change: String,
    no_final_newline: String,
}

/// Several authors (two identities of Bob merged by .mailmap), a branch merged with changes
/// on both sides, renames, a binary file, a bot, commits around midnight in UTC and Tokyo,
/// offsets +09:00, -07:00 and +05:30, and committer times that go back in time.
fn build_history(repo: &Fixture) -> History {
    repo.write(
        ".mailmap",
        "Bob Builder <bob@example.com> <bob@old.example.org>\n",
    );
    repo.write("README.md", "# Fixture\n\nA test repository.\n");
    repo.write("src/lib.rs", numbered("lib", 20));
    repo.write("empty.txt", "");
    repo.write("script.sh", "echo hello\n");
    repo.commit(ALICE, "2026-11-01T10:00:00+00:00", "Initial commit");

    let mut lib = numbered("lib", 20).replace("lib line 3\n", "lib line three\n");
    lib.push_str("extra 1\nextra 2\n");
    repo.write("src/lib.rs", &lib);
    repo.commit(BOB, "2026-11-02T08:00:00+09:00", "Edit lib");

    repo.write("docs/guide.md", numbered("guide", 12));
    let bobby = repo.commit(
        BOBBY,
        "2026-11-02T09:00:00-07:00",
        "Add the guide\n\nWith a body.",
    );

    repo.write("assets/logo.bin", [0u8, 1, 2, 0, 255, 10, 0, 7]);
    repo.write("README.md", "# Fixture\n\nA test repository with a logo.\n");
    let binary = repo.commit(CAROL, "2026-11-03T12:00:00+05:30", "Add a logo");

    repo.git(&["mv", "docs/guide.md", "docs/manual.md"]);
    repo.git(&["mv", "empty.txt", "empty-renamed.txt"]);
    let pure_rename = repo.commit(ALICE, "2026-11-03T13:00:00+00:00", "Rename the guide");

    repo.git(&["mv", "src/lib.rs", "src/core.rs"]);
    repo.write(
        "src/core.rs",
        lib.replace("lib line 10\n", "core line 10\n") + "core tail\n",
    );
    let edited_rename = repo.commit(BOB, "2026-11-04T09:00:00+09:00", "Rename lib to core");

    repo.write("assets/logo.bin", [0u8, 9, 9, 0, 255, 10, 0, 8, 0]);
    repo.commit(CAROL, "2026-11-04T10:00:00+05:30", "Update the logo");

    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "README.md",
        "# Fixture project\n\nA test repository with a logo.\n",
    );
    repo.write("feature.txt", numbered("feature", 5));
    repo.commit(DAVE, "2026-11-04T18:00:00+02:00", "Add the feature");

    repo.git(&["checkout", "-q", "main"]);
    let core = std::fs::read_to_string(repo.path().join("src/core.rs")).expect("core.rs");
    repo.write(
        "src/core.rs",
        core.replace("lib line 15\n", "core line 15\n"),
    );
    repo.commit(ALICE, "2026-11-04T19:00:00+00:00", "Tune core");

    let when = "2026-11-04T20:00:00+00:00";
    git(
        repo.path(),
        &[
            "merge",
            "-q",
            "--no-ff",
            "feature",
            "-m",
            "Merge branch 'feature'",
        ],
        &dated(ALICE, when, when),
    );
    let merge = repo.git(&["rev-parse", "HEAD"]).trim().to_string();

    repo.write("deps.toml", "serde = \"1.0.1\"\n");
    let bot = repo.commit(BOT, "2026-11-05T03:00:00+00:00", "Bump serde");

    // Around midnight in Tokyo (15:00 UTC), then in UTC.
    repo.write("tokyo.txt", "before\n");
    repo.commit(
        BOB,
        "2026-11-05T23:59:59+09:00",
        "Just before midnight in Tokyo",
    );
    repo.write("tokyo.txt", "before\nafter\n");
    repo.commit(BOB, "2026-11-06T00:00:00+09:00", "Midnight in Tokyo");
    repo.write("utc.txt", "before\n");
    let before_utc_midnight = repo.commit(
        CAROL,
        "2026-11-05T23:59:59+00:00",
        "Just before midnight UTC",
    );
    repo.write("utc.txt", "before\nat\n");
    let at_utc_midnight = repo.commit(DAVE, "2026-11-05T17:00:00-07:00", "Midnight UTC");
    repo.write("utc.txt", "before\nat\nafter\n");
    repo.commit(
        CAROL,
        "2026-11-06T05:30:01+05:30",
        "Just after midnight UTC",
    );

    repo.write("rebased.txt", numbered("rebased", 3));
    let backdated_author = repo.commit_dated(
        ALICE,
        "2026-10-20T09:00:00+02:00",
        "2026-11-06T09:00:00+00:00",
        "Written long ago, committed now",
    );

    repo.write("clock.txt", "skewed\n");
    let out_of_order = repo.commit(
        DAVE,
        "2026-11-03T06:00:00+00:00",
        "Committed with a slow clock",
    );

    repo.git(&["update-index", "--chmod=+x", "script.sh"]);
    let when = "2026-11-06T10:00:00+00:00";
    let mode_change = repo.commit_index(ALICE, when, when, "Make the script executable");

    repo.write(
        "README.md",
        "# Fixture project\n\nA test repository with a logo.",
    );
    let no_final_newline = repo.commit(BOB, "2026-11-06T11:00:00+00:00", "Drop the final newline");

    repo.git(&["rm", "-q", "feature.txt"]);
    repo.commit(DAVE, "2026-11-06T12:00:00+00:00", "Remove the feature");

    repo.write("week.txt", "sunday\n");
    repo.commit(ALICE, "2026-11-08T23:30:00+00:00", "Sunday night");
    repo.write("week.txt", "sunday\nmonday\n");
    repo.commit(ALICE, "2026-11-09T00:30:00+00:00", "Monday morning");

    History {
        bobby,
        binary,
        pure_rename,
        edited_rename,
        merge,
        bot,
        before_utc_midnight,
        at_utc_midnight,
        backdated_author,
        out_of_order,
        mode_change,
        no_final_newline,
    }
}

/// One commit as git log prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GitCommit {
    author: String,
    email: String,
    authored: i64,
    committed: i64,
    subject: String,
    is_merge: bool,
    files_changed: u32,
    insertions: u64,
    deletions: u64,
}

impl GitCommit {
    fn of(record: &CommitRecord) -> Self {
        GitCommit {
            author: record.author.clone(),
            email: record.email.clone(),
            authored: record.time.as_second(),
            committed: record.committed.as_second(),
            subject: record.subject.clone(),
            is_merge: record.is_merge,
            files_changed: record.files_changed,
            insertions: record.insertions,
            deletions: record.deletions,
        }
    }
}

/// `git log --numstat` for the half-open range: `--until` is inclusive, hence one second less.
fn git_log(repo: &Path, since: Timestamp, until: Timestamp) -> BTreeMap<String, GitCommit> {
    let output = Command::new("git")
        .current_dir(repo)
        .args([
            "log",
            "--numstat",
            "--format=commit\t%H\t%P\t%aN\t%aE\t%at\t%ct\t%s",
            &format!("--since-as-filter=@{} +0000", since.as_second()),
            &format!("--until=@{} +0000", until.as_second() - 1),
        ])
        .output()
        .expect("git log runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let mut commits = BTreeMap::new();
    let mut current: Option<(String, GitCommit)> = None;
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(header) = line.strip_prefix("commit\t") {
            commits.extend(current.take());
            let fields: Vec<&str> = header.splitn(7, '\t').collect();
            let [sha, parents, author, email, authored, committed, subject] = fields[..] else {
                panic!("unexpected header {header:?}");
            };
            let commit = GitCommit {
                author: author.to_string(),
                email: email.to_string(),
                authored: authored.parse().expect("%at"),
                committed: committed.parse().expect("%ct"),
                subject: subject.to_string(),
                is_merge: parents.split(' ').count() > 1,
                files_changed: 0,
                insertions: 0,
                deletions: 0,
            };
            current = Some((sha.to_string(), commit));
        } else {
            let (_, commit) = current.as_mut().expect("numstat follows a header");
            let mut fields = line.splitn(3, '\t');
            let mut count = || {
                fields
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            commit.insertions += count();
            commit.deletions += count();
            commit.files_changed += 1;
        }
    }
    commits.extend(current);
    commits
}

fn collected(repo: &Path, period: &Period) -> Vec<CommitRecord> {
    let bots = vec!["[bot]".to_string()];
    collect::collect(repo, period.since, period.until, &bots, None)
        .expect("collect succeeds")
        .activity
        .commits
}

/// collect() and git log agree on the period; returns what collect() found, by sha.
fn assert_same_as_git(repo: &Path, period: &Period) -> BTreeMap<String, CommitRecord> {
    let records = collected(repo, period);
    let ours: BTreeMap<String, GitCommit> = records
        .iter()
        .map(|r| (r.sha.clone(), GitCommit::of(r)))
        .collect();
    assert_eq!(
        ours.len(),
        records.len(),
        "no commit twice in {}",
        period.label
    );
    let theirs = git_log(repo, period.since, period.until);
    assert_eq!(ours, theirs, "period {}", period.label);
    let total = |pick: fn(&GitCommit) -> u64| -> (u64, u64) {
        (
            ours.values().map(pick).sum(),
            theirs.values().map(pick).sum(),
        )
    };
    let (a, b) = total(|c| c.insertions);
    assert_eq!(a, b, "insertions in {}", period.label);
    let (a, b) = total(|c| c.deletions);
    assert_eq!(a, b, "deletions in {}", period.label);
    let (a, b) = total(|c| u64::from(c.files_changed));
    assert_eq!(a, b, "files in {}", period.label);
    let committed: Vec<Timestamp> = records.iter().map(|r| r.committed).collect();
    assert!(
        committed
            .iter()
            .all(|t| period.since <= *t && *t < period.until),
        "every commit inside {}",
        period.label
    );
    records.into_iter().map(|r| (r.sha.clone(), r)).collect()
}

#[test]
fn collect_equals_git_log_numstat() {
    let repo = Fixture::new();
    let history = build_history(&repo);
    let utc = period::time_zone("UTC").expect("UTC");
    let tokyo = period::time_zone("Asia/Tokyo").expect("Asia/Tokyo");

    let whole = period::custom(
        "2000-01-01T00:00:00Z".parse().expect("ts"),
        "2030-01-01T00:00:00Z".parse().expect("ts"),
        &utc,
    )
    .expect("range");
    let all = assert_same_as_git(repo.path(), &whole);
    assert_eq!(all.len(), 23, "every commit of the fixture");

    let merge = &all[&history.merge];
    assert!(merge.is_merge);
    assert_eq!(
        (merge.files_changed, merge.insertions, merge.deletions),
        (0, 0, 0)
    );
    let bobby = &all[&history.bobby];
    assert_eq!(
        (bobby.author.as_str(), bobby.email.as_str()),
        BOB,
        "mailmap applied"
    );
    assert_eq!(bobby.subject, "Add the guide");
    assert_eq!(bobby.offset_seconds, -7 * 3600);
    assert!(all[&history.bot].is_bot);
    assert_eq!(all.values().filter(|c| c.is_bot).count(), 1);
    let binary = &all[&history.binary];
    assert_eq!(
        (binary.files_changed, binary.insertions, binary.deletions),
        (2, 1, 1)
    );
    assert_eq!(binary.offset_seconds, 5 * 3600 + 1800);
    let pure = &all[&history.pure_rename];
    assert_eq!(
        (pure.files_changed, pure.insertions, pure.deletions),
        (2, 0, 0)
    );
    let edited = &all[&history.edited_rename];
    assert_eq!(
        (edited.files_changed, edited.insertions, edited.deletions),
        (1, 2, 1)
    );
    assert_eq!(edited.offset_seconds, 9 * 3600);
    let mode = &all[&history.mode_change];
    assert_eq!(
        (mode.files_changed, mode.insertions, mode.deletions),
        (1, 0, 0)
    );
    let newline = &all[&history.no_final_newline];
    assert_eq!(
        (newline.files_changed, newline.insertions, newline.deletions),
        (1, 1, 1)
    );
    let backdated = &all[&history.backdated_author];
    assert_eq!(
        backdated.time,
        "2026-10-20T07:00:00Z".parse::<Timestamp>().expect("ts")
    );
    assert_eq!(
        backdated.committed,
        "2026-11-06T09:00:00Z".parse::<Timestamp>().expect("ts")
    );
    assert!(
        all.values()
            .all(|c| c.repo == repo_folder_name(repo.path()))
    );

    let utc_5th = period::calendar(PeriodKind::Day, date(2026, 11, 5), &utc);
    let day = assert_same_as_git(repo.path(), &utc_5th);
    assert!(day.contains_key(&history.before_utc_midnight));
    assert!(!day.contains_key(&history.at_utc_midnight));
    let utc_6th = period::calendar(PeriodKind::Day, date(2026, 11, 6), &utc);
    let day = assert_same_as_git(repo.path(), &utc_6th);
    assert!(day.contains_key(&history.at_utc_midnight));
    assert!(!day.contains_key(&history.before_utc_midnight));

    let tokyo_6th = period::calendar(PeriodKind::Day, date(2026, 11, 6), &tokyo);
    let day = assert_same_as_git(repo.path(), &tokyo_6th);
    assert_eq!(day.len(), 8, "Tokyo's 6th ends at 15:00 UTC");
    assert!(day.values().any(|c| c.subject == "Midnight in Tokyo"));
    assert!(
        !day.values()
            .any(|c| c.subject == "Just before midnight in Tokyo")
    );

    // Behind newer commits in the walk, so plain `--since` would stop before it.
    let third = period::calendar(PeriodKind::Day, date(2026, 11, 3), &utc);
    let day = assert_same_as_git(repo.path(), &third);
    assert!(day.contains_key(&history.out_of_order));

    let week = period::calendar(PeriodKind::Week, date(2026, 11, 5), &utc);
    assert_eq!(week.label, "2026-W45");
    let days = assert_same_as_git(repo.path(), &week);
    assert!(days.values().any(|c| c.subject == "Sunday night"));
    assert!(!days.values().any(|c| c.subject == "Monday morning"));
    assert_same_as_git(repo.path(), &period::previous(&week));
}

/// All of `repo`'s history, collected on `threads` threads.
fn whole_history(repo: &Path, threads: usize) -> collect::Collected {
    let everything =
        period::custom(Timestamp::UNIX_EPOCH, Timestamp::MAX, &TimeZone::UTC).expect("range");
    collect::collect_on_threads(repo, everything.since, everything.until, &[], None, threads)
        .expect("collect succeeds")
}

#[test]
fn two_threads_collect_what_one_thread_and_git_do() {
    let repo = Fixture::new();
    let authors = [ALICE, BOB, CAROL];
    for n in 0..80 {
        let file = format!("src/file{}.rs", n % 7);
        let mut content = std::fs::read_to_string(repo.path().join(&file)).unwrap_or_default();
        content.push_str(&numbered(&format!("change {n}"), n % 5 + 1));
        repo.write(&file, content);
        let when = format!("2026-11-{:02}T{:02}:00:00+00:00", 1 + n / 24, n % 24);
        repo.commit(authors[n % 3], &when, &format!("Change {n}"));
    }
    let one = whole_history(repo.path(), 1);
    let two = whole_history(repo.path(), 2);
    assert_eq!(one.activity.commits.len(), 80);
    assert_eq!(one, two, "same records in the same order");
    let first_day = period::calendar(PeriodKind::Day, date(2026, 11, 1), &TimeZone::UTC);
    assert_same_as_git(repo.path(), &first_day);
    let theirs = git_log(
        repo.path(),
        Timestamp::UNIX_EPOCH,
        "2030-01-01T00:00:00Z".parse().expect("ts"),
    );
    let ours: BTreeMap<String, GitCommit> = two
        .activity
        .commits
        .iter()
        .map(|r| (r.sha.clone(), GitCommit::of(r)))
        .collect();
    assert_eq!(ours, theirs);
}

/// In a pack most versions of a file are deltas of another, in chains: reading them base
/// first through the kept entries gives the bytes git reads.
#[test]
fn a_packed_history_with_delta_chains_counts_as_git_does() {
    let repo = Fixture::new();
    let mut lines: Vec<String> = (0..300)
        .map(|n| format!("let value_{n} = {n};\n"))
        .collect();
    for n in 0..90 {
        match n % 3 {
            0 => lines[(n * 7) % 300] = format!("let changed_{n} = {n};\n"),
            1 => lines.insert((n * 13) % 300, format!("// note {n}\n")),
            _ => {
                lines.remove((n * 5) % 290);
            }
        }
        repo.write("src/main.rs", lines.concat());
        repo.write(
            "src/other.rs",
            numbered(&format!("other {}", n / 4), 40 + n),
        );
        if n == 45 {
            repo.git(&["mv", "src/other.rs", "src/moved.rs"]);
            repo.write("src/other.rs", numbered("new other", 10));
        }
        let when = format!("2026-10-{:02}T{:02}:00:00+00:00", 1 + n / 24, n % 24);
        repo.commit(ALICE, &when, &format!("Edit {n}"));
    }
    repo.git(&["gc", "-q", "--aggressive"]);
    let packs = repo.path().join(".git/objects/pack");
    let index = std::fs::read_dir(&packs)
        .expect("packs")
        .map(|entry| entry.expect("entry").path())
        .find(|path| path.extension().is_some_and(|e| e == "idx"))
        .expect("a pack");
    let verified = repo.git(&["verify-pack", "-v", &index.display().to_string()]);
    assert!(
        verified.contains("chain length = 3"),
        "the fixture has delta chains: {verified}"
    );
    let everything =
        period::custom(Timestamp::UNIX_EPOCH, Timestamp::MAX, &TimeZone::UTC).expect("range");
    assert_same_as_git(repo.path(), &everything);
    let one = whole_history(repo.path(), 1);
    assert_eq!(one.activity.commits.len(), 90);
    assert_eq!(one.unread(), None);
}

/// Blobs read once are remembered by id across files and commits; whether a file is text
/// still follows its own path's attributes, as in git.
#[test]
fn one_blob_at_paths_with_other_diff_attributes_counts_per_path() {
    let repo = Fixture::new();
    repo.write(".gitattributes", "*.dat -diff\n");
    repo.write("notes.txt", numbered("shared", 3));
    repo.commit(ALICE, "2026-11-02T10:00:00+00:00", "Notes");
    repo.write("copy.dat", numbered("shared", 3));
    let copied = repo.commit(ALICE, "2026-11-03T10:00:00+00:00", "The notes as data");
    repo.write("notes.txt", numbered("shared", 4));
    repo.write("copy.dat", numbered("shared", 5));
    let grown = repo.commit(ALICE, "2026-11-04T10:00:00+00:00", "Both grow");
    let everything =
        period::custom(Timestamp::UNIX_EPOCH, Timestamp::MAX, &TimeZone::UTC).expect("range");
    let commits = assert_same_as_git(repo.path(), &everything);
    let counts = |sha: &str| (commits[sha].files_changed, commits[sha].insertions);
    assert_eq!(counts(&copied), (1, 0), "binary by its attributes");
    assert_eq!(counts(&grown), (2, 1), "the text file's line only");
}

/// A remembered count is what the next run reports: changed by hand in the cache, the
/// change shows (so the cache is read), until other diff settings make it count again.
#[test]
fn line_counts_are_remembered_by_commit_under_their_diff_settings() {
    let repo = Fixture::new();
    for n in 0..6 {
        repo.write("notes.txt", numbered("note", n + 1));
        repo.commit(
            ALICE,
            &format!("2026-11-0{}T10:00:00+00:00", n + 1),
            &format!("Note {n}"),
        );
    }
    let cache = tempfile::tempdir().expect("tempdir");
    let all = |cache_dir: Option<&Path>| {
        collect::collect(repo.path(), Timestamp::MIN, Timestamp::MAX, &[], cache_dir)
            .expect("collected")
    };
    let counted = all(None);
    assert_eq!(all(Some(cache.path())), counted, "the first run counts");
    let files: Vec<PathBuf> = std::fs::read_dir(cache.path())
        .expect("the cache dir exists")
        .map(|entry| entry.expect("entry").path())
        .collect();
    let root = git(repo.path(), &["rev-list", "--max-parents=0", "HEAD"], &[]);
    assert_eq!(files, [cache.path().join(format!("{}.jsonl", root.trim()))]);
    assert_eq!(
        all(Some(cache.path())),
        counted,
        "the second run reads the counts"
    );

    let newest = &counted.activity.commits[0];
    let text = std::fs::read_to_string(&files[0]).expect("cache");
    let edited: String = text
        .lines()
        .map(|line| match line.contains(&newest.sha) {
            true => line.replace("\"insertions\":1,", "\"insertions\":999,"),
            false => line.to_owned(),
        })
        .chain(["not json".to_owned()])
        .map(|line| line + "\n")
        .collect();
    assert_ne!(
        edited,
        text + "not json\n",
        "the newest commit added one line"
    );
    std::fs::write(&files[0], edited).expect("write");
    let remembered = all(Some(cache.path()));
    assert_eq!(remembered.activity.commits[0].insertions, 999);
    assert_eq!(
        remembered.activity.commits[1..],
        counted.activity.commits[1..]
    );

    git(repo.path(), &["config", "diff.algorithm", "histogram"], &[]);
    assert_eq!(
        all(Some(cache.path())),
        counted,
        "other settings count again"
    );
}

#[test]
fn shallow_clone_boundary_counts_as_root() {
    let source = Fixture::new();
    for n in 0..5 {
        source.write("notes.txt", numbered("note", n + 1));
        source.write(&format!("file{n}.txt"), numbered("file", 3));
        source.commit(
            BOB,
            &format!("2026-11-0{}T10:00:00+00:00", n + 1),
            &format!("Note {n}"),
        );
    }
    let parent = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", source.path().display());
    git(
        parent.path(),
        &["clone", "-q", "--depth", "2", &url, "shallow"],
        &[],
    );
    let clone = parent.path().join("shallow");
    let everything = period::custom(
        "2000-01-01T00:00:00Z".parse().expect("ts"),
        "2030-01-01T00:00:00Z".parse().expect("ts"),
        &TimeZone::UTC,
    )
    .expect("range");
    let commits = assert_same_as_git(&clone, &everything);
    assert_eq!(commits.len(), 2);
    let boundary = commits
        .values()
        .find(|c| c.subject == "Note 3")
        .expect("the boundary commit");
    assert_eq!(
        boundary.files_changed, 5,
        "the whole tree, as for a root commit"
    );
}

fn repo_folder_name(path: &Path) -> String {
    path.file_name()
        .expect("named")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn empty_repository_has_no_commits() {
    let repo = Fixture::new();
    let activity = collect::collect(repo.path(), Timestamp::MIN, Timestamp::MAX, &[], None)
        .expect("an unborn HEAD is no error")
        .activity;
    assert!(activity.commits.is_empty());
    assert_eq!(activity.name, repo_folder_name(repo.path()));
}

#[test]
fn bare_repository_is_named_without_git_suffix() {
    let source = Fixture::new();
    source.write("a.txt", "a\n");
    source.commit(ALICE, "2026-11-01T10:00:00+00:00", "One");
    let parent = tempfile::tempdir().expect("tempdir");
    let bare = parent.path().join("tools.git");
    git(
        parent.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &source.path().display().to_string(),
            "tools.git",
        ],
        &[],
    );
    let activity = collect::collect(&bare, Timestamp::MIN, Timestamp::MAX, &[], None)
        .expect("bare repo")
        .activity;
    assert_eq!(activity.name, "tools");
    assert_eq!(activity.commits.len(), 1);
    assert_eq!(activity.commits[0].repo, "tools");
    assert_eq!(activity.commits[0].files_changed, 1);
}

#[test]
fn find_repos_rejects_plain_folders_and_missing_paths() {
    let folder = tempfile::tempdir().expect("tempdir");
    let plain = folder.path().join("plain");
    std::fs::create_dir(&plain).expect("mkdir");
    let error = collect::find_repos(std::slice::from_ref(&plain), &[], folder.path())
        .expect_err("a plain folder is no repository");
    assert!(matches!(error, CollectError::NotARepository { .. }));
    assert_eq!(
        error.to_string(),
        format!("{} is not a git repository", plain.display())
    );

    let missing = folder.path().join("missing");
    let error = collect::find_repos(&[PathBuf::from("missing")], &[], folder.path())
        .expect_err("a missing path is no repository");
    assert_eq!(
        error.to_string(),
        format!("{} does not exist", missing.display())
    );

    let error = collect::find_repos(&[], &[], &plain).expect_err("no repository around");
    assert!(
        error.to_string().contains(&plain.display().to_string()),
        "{error}"
    );
}

#[test]
fn find_repos_scans_folders_and_deduplicates() {
    let root = tempfile::tempdir().expect("tempdir");
    for name in ["beta", "alpha"] {
        git(root.path(), &["init", "-q", name], &[]);
    }
    git(root.path(), &["init", "-q", "--bare", "gamma.git"], &[]);
    std::fs::create_dir(root.path().join("plain")).expect("mkdir");
    std::fs::write(root.path().join("notes.txt"), "not a folder").expect("write");
    let canonical = |name: &str| std::fs::canonicalize(root.path().join(name)).expect("exists");

    let found = collect::find_repos(
        &[PathBuf::from("beta"), root.path().join("beta")],
        &[PathBuf::from(".")],
        root.path(),
    )
    .expect("scan");
    assert_eq!(
        found,
        vec![
            canonical("beta"),
            canonical("alpha"),
            canonical("gamma.git")
        ]
    );

    let nested = root.path().join("alpha/src/deep");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let found = collect::find_repos(&[], &[], &nested).expect("discovered upward");
    assert_eq!(found, vec![canonical("alpha")]);
}

#[test]
fn bots_match_name_or_email_ignoring_case() {
    let bots = vec!["[bot]".to_string(), "Renovate".to_string()];
    assert!(collect::is_bot("dependabot[bot]", BOT_EMAIL, &bots));
    assert!(collect::is_bot(
        "renovate",
        "renovate@whitesourcesoftware.com",
        &bots
    ));
    assert!(collect::is_bot("Someone", "x+RENOVATE@example.com", &bots));
    assert!(!collect::is_bot("Alice", "alice@example.com", &bots));
    assert!(!collect::is_bot(
        "Alice",
        "alice@example.com",
        &[String::new()]
    ));
}

/// Three commits on three days: `a.txt`, then `b/c.txt` in a new folder, then `a.txt` again.
/// Returns their shas, oldest first.
fn three_days(repo: &Fixture) -> [String; 3] {
    repo.write("a.txt", numbered("a", 3));
    let first = repo.commit(ALICE, "2026-11-01T10:00:00+00:00", "Add a");
    repo.write("b/c.txt", numbered("only in the second commit", 4));
    let second = repo.commit(BOB, "2026-11-02T10:00:00+00:00", "Add b/c");
    repo.write("a.txt", numbered("a", 5));
    let third = repo.commit(ALICE, "2026-11-03T10:00:00+00:00", "Grow a");
    [first, second, third]
}

fn day(day: i8) -> Period {
    period::calendar(PeriodKind::Day, date(2026, 11, day), &TimeZone::UTC)
}

/// Deletes the loose object `spec` (e.g. `HEAD~1:b`) names; returns its id.
fn delete_object(repo: &Fixture, spec: &str) -> String {
    let id = repo.git(&["rev-parse", spec]).trim().to_string();
    let file = repo
        .path()
        .join(".git/objects")
        .join(&id[..2])
        .join(&id[2..]);
    std::fs::remove_file(&file).expect("a loose object");
    id
}

#[test]
fn first_commit_is_the_earliest_root_and_unknown_through_a_shallow_boundary() {
    let repo = Fixture::new();
    three_days(&repo);
    // An unrelated history merged in, its root older than the main one's.
    repo.git(&["checkout", "-q", "--orphan", "old"]);
    repo.git(&["rm", "-rq", "--cached", "."]);
    repo.write("old.txt", "old\n");
    git(repo.path(), &["add", "old.txt"], &[]);
    repo.commit_index(
        CAROL,
        "2026-10-01T10:00:00+00:00",
        "2026-10-01T10:00:00+00:00",
        "Old root",
    );
    repo.git(&["checkout", "-q", "-f", "main"]);
    git(
        repo.path(),
        &[
            "merge",
            "-q",
            "--allow-unrelated-histories",
            "-m",
            "Merge old",
            "old",
        ],
        &dated(
            ALICE,
            "2026-11-04T10:00:00+00:00",
            "2026-11-04T10:00:00+00:00",
        ),
    );
    let collected = collect::collect(repo.path(), Timestamp::MIN, Timestamp::MAX, &[], None)
        .expect("collect succeeds");
    assert_eq!(
        collected.activity.first_commit,
        Some("2026-10-01T10:00:00Z".parse().expect("ts"))
    );
    assert_eq!(collected.unread(), None);

    let parent = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", repo.path().display());
    git(
        parent.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
        &[],
    );
    let shallow = collect::collect(
        &parent.path().join("shallow"),
        Timestamp::MIN,
        Timestamp::MAX,
        &[],
        None,
    )
    .expect("a shallow clone is read");
    assert_eq!(shallow.activity.commits.len(), 1);
    assert_eq!(
        shallow.activity.first_commit, None,
        "a shallow boundary is not a root"
    );
    assert_eq!(
        shallow.unread(),
        None,
        "a shallow clone is read as git reads it"
    );
}

/// A commit whose blob or tree is missing is counted without its lines, named in the
/// notice; the commits git can read still count as git counts them.
#[test]
fn a_missing_blob_or_tree_leaves_its_commit_without_lines() {
    for missing in ["HEAD~1:b/c.txt", "HEAD~1:b"] {
        let repo = Fixture::new();
        let [first, second, third] = three_days(&repo);
        let id = delete_object(&repo, missing);
        let collected = collect::collect(repo.path(), Timestamp::MIN, Timestamp::MAX, &[], None)
            .expect("the others are read");
        let shas: Vec<&str> = collected
            .activity
            .commits
            .iter()
            .map(|c| c.sha.as_str())
            .collect();
        assert_eq!(shas, [&third, &second, &first], "{missing}");
        let broken = &collected.activity.commits[1];
        assert_eq!(
            (broken.author.as_str(), broken.subject.as_str()),
            ("Bob Builder", "Add b/c")
        );
        assert_eq!((broken.files_changed, broken.insertions), (0, 0));
        assert_eq!(collected.unread_commits.len(), 1, "{missing}");
        let notice = collected.unread().expect("a notice");
        assert!(
            notice.starts_with(&format!(
                "1 commit not read in full (commit {}",
                &second[..7]
            )) && notice.contains(&id),
            "{missing}: {notice}"
        );
        assert_same_as_git(repo.path(), &day(1));
        assert_same_as_git(repo.path(), &day(3));
    }
}

/// A missing commit stops the walk (git stops there too): what came before is kept, the
/// commit whose parent is missing has no lines, and the history is said to be cut short.
#[test]
fn a_missing_parent_commit_cuts_the_history_short() {
    let repo = Fixture::new();
    let [_, second, third] = three_days(&repo);
    delete_object(&repo, "HEAD~2");
    let collected = collect::collect(repo.path(), Timestamp::MIN, Timestamp::MAX, &[], None)
        .expect("what is there is read");
    let shas: Vec<&str> = collected
        .activity
        .commits
        .iter()
        .map(|c| c.sha.as_str())
        .collect();
    assert_eq!(shas, [&third, &second]);
    assert_eq!(collected.activity.first_commit, None);
    let notice = collected.unread().expect("a notice");
    assert!(
        notice.starts_with("the history is read only in part")
            && notice.contains(&format!("commit {}", &second[..7])),
        "{notice}"
    );
    // `git log` stops with `fatal:` here; `git show` still counts the newest commit.
    assert_eq!(
        repo.git(&["show", "--numstat", "--format=", "HEAD"]).trim(),
        "2\t0\ta.txt"
    );
    let newest = &collected.activity.commits[0];
    assert_eq!(
        (newest.files_changed, newest.insertions, newest.deletions),
        (1, 2, 0)
    );
}

/// A repository that cannot be opened at all is an error naming it.
#[test]
fn a_repository_that_cannot_be_opened_is_an_error_naming_it() {
    let folder = tempfile::tempdir().expect("tempdir");
    let broken = folder.path().join("broken");
    std::fs::create_dir(&broken).expect("mkdir");
    std::fs::write(broken.join(".git"), "gitdir: /nonexistent/raibid-test\n").expect("write");
    let found = collect::find_repos(&[], &[folder.path().to_path_buf()], folder.path())
        .expect("the folder is listed");
    assert_eq!(
        found.len(),
        1,
        "it looks like a repository: kept to be reported"
    );
    let error = collect::collect(&found[0], Timestamp::MIN, Timestamp::MAX, &[], None)
        .expect_err("cannot be opened");
    assert!(
        error.to_string().contains(&broken.display().to_string()),
        "{error}"
    );
}

/// A corrupt pack: the repository is reported, never a panic.
#[test]
fn a_corrupt_pack_is_reported() {
    let repo = Fixture::new();
    three_days(&repo);
    repo.git(&["gc", "-q"]);
    corrupt_packs(repo.path());
    let outcome = collect::collect(repo.path(), Timestamp::MIN, Timestamp::MAX, &[], None);
    match outcome {
        Err(error) => assert!(
            error
                .to_string()
                .contains(&repo.path().display().to_string()),
            "{error}"
        ),
        Ok(collected) => assert!(collected.unread().is_some(), "{collected:?}"),
    }
}

/// Overwrites the middle of every pack in `repo` with garbage.
fn corrupt_packs(repo: &Path) {
    let packs = repo.join(".git/objects/pack");
    for entry in std::fs::read_dir(&packs).expect("packs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "pack") {
            let mut bytes = std::fs::read(&path).expect("pack");
            let middle = bytes.len() / 2;
            let end = (middle + 64).min(bytes.len() - 20);
            bytes[12..end].fill(0xAB);
            let mut permissions = std::fs::metadata(&path).expect("meta").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&path, permissions).expect("writable");
            std::fs::write(&path, bytes).expect("corrupt");
        }
    }
}

/// A folder `org` under `root` with the repositories `good` names (a commit each on
/// 2026-11-17), `partial` ones (a blob missing) and `broken` ones (`.git` points nowhere);
/// returns the config that scans it with the built-in writer.
fn organisation(root: &Path, good: &[&str], partial: &[&str], broken: &[&str]) -> PathBuf {
    use support::git::{commit_as, git};
    let org = root.join("org");
    for name in good.iter().chain(partial) {
        let repo = org.join(name);
        std::fs::create_dir_all(&repo).expect("mkdir");
        git(&repo, &["init", "-q", "-b", "main"]);
        // Histories of their own: identical commits would share their remembered counts.
        std::fs::write(repo.join("lib.rs"), format!("fn {name}() {{}}\n")).expect("write");
        commit_as(&repo, "Ann", "2026-11-17T09:00:00Z", "feat: a");
        if partial.contains(name) {
            let blob = git(&repo, &["rev-parse", "HEAD:lib.rs"]);
            let file = repo.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
            std::fs::remove_file(file).expect("a loose blob");
        }
    }
    for name in broken {
        let repo = org.join(name);
        std::fs::create_dir_all(&repo).expect("mkdir");
        std::fs::write(repo.join(".git"), "gitdir: /nonexistent/raibid-test\n").expect("write");
    }
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[sparky]\nwriter = \"builtin\"\nscan = [\"{}\"]\n",
            org.display()
        ),
    )
    .expect("config");
    config
}

fn digest_of(root: &Path, config: &Path) -> std::process::Output {
    let args = [
        "digest",
        "--period",
        "week",
        "--date",
        "2026-11-18",
        "--json",
    ];
    support::cli::command_in(root, config, root, &args)
        .output()
        .expect("raibid runs")
}

#[test]
fn digest_goes_on_past_unreadable_repositories_and_names_them() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = organisation(root.path(), &["alpha", "beta"], &["partial"], &["broken"]);
    let out = digest_of(root.path(), &config);
    let stdout = support::cli::ok(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["metrics"]["totals"]["commits"], 3, "{stdout}");
    let failures = report["failures"].as_array().expect("failures");
    let reason = |repo: &str| {
        failures
            .iter()
            .find(|f| f["repo"] == repo)
            .and_then(|f| f["reason"].as_str())
            .unwrap_or_else(|| panic!("{repo} in {failures:?}"))
            .to_string()
    };
    assert!(
        reason("broken").contains("cannot open git repository"),
        "{failures:?}"
    );
    assert!(
        reason("partial").starts_with("1 commit not read in full"),
        "{failures:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: broken was left out"), "{stderr}");
    let draft = std::fs::read_to_string(report["path"].as_str().expect("a draft")).expect("draft");
    let section = draft
        .split("## Not collected")
        .nth(1)
        .unwrap_or_else(|| panic!("a Not collected section in {draft}"));
    assert!(
        section.contains("- broken: cannot open") && section.contains("- partial: 1 commit"),
        "{section}"
    );
}

#[test]
fn digest_exits_1_when_no_repository_can_be_read() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = organisation(root.path(), &[], &[], &["one", "two"]);
    let stderr = support::cli::fails(&digest_of(root.path(), &config), 1);
    assert!(
        stderr.starts_with("raibid: no repository could be read:")
            && stderr.contains("\n  one: cannot open git repository")
            && stderr.contains("\n  two: cannot open git repository"),
        "{stderr}"
    );
}

/// Submodule entries (gitlinks) as git counts them: added and moved to a new commit, one
/// line each; moved without a new commit, a file with no lines; turned into a file and back,
/// the file's lines and the `Subproject commit` line.
#[test]
fn submodule_entries_count_as_git_counts_them() {
    let repo = Fixture::new();
    repo.write("t.txt", "t\n");
    let first = repo.commit(ALICE, "2026-11-01T10:00:00+00:00", "Init");
    repo.write("t.txt", "t\nu\n");
    let second = repo.commit(ALICE, "2026-11-01T11:00:00+00:00", "Touch");
    let gitlink = |sha: &str, path: &str| {
        repo.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{sha},{path}"),
        ]);
    };
    let steps: [(&str, &dyn Fn()); 5] = [
        ("Add a submodule", &|| gitlink(&first, "sub")),
        ("Move it, same commit", &|| {
            repo.git(&["update-index", "--force-remove", "sub"]);
            gitlink(&first, "moved");
        }),
        ("Move it to a new commit", &|| gitlink(&second, "moved")),
        ("Make it a file", &|| {
            repo.git(&["update-index", "--force-remove", "moved"]);
            repo.write("moved", "now a file\nof two lines\n");
            repo.git(&["add", "moved"]);
        }),
        ("Make it a submodule again", &|| {
            repo.git(&["update-index", "--force-remove", "moved"]);
            std::fs::remove_file(repo.path().join("moved")).expect("rm");
            gitlink(&first, "moved");
        }),
    ];
    for (hour, (subject, step)) in steps.iter().enumerate() {
        step();
        let when = format!("2026-11-02T{:02}:00:00+00:00", hour + 10);
        repo.commit_index(BOB, &when, &when, subject);
    }
    let range = period::custom(
        "2026-11-01T00:00:00Z".parse().expect("ts"),
        "2026-11-03T00:00:00Z".parse().expect("ts"),
        &TimeZone::UTC,
    )
    .expect("range");
    let ours = assert_same_as_git(repo.path(), &range);
    let moved = ours
        .values()
        .find(|c| c.subject == "Move it, same commit")
        .expect("the move");
    assert_eq!(
        (moved.files_changed, moved.insertions, moved.deletions),
        (1, 0, 0)
    );
}

/// A repository whose first commit is after the period did not exist then: the digest
/// neither lists it nor is named after it, and regenerating collects the same set.
#[test]
fn digest_leaves_out_repositories_created_after_the_period() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = organisation(root.path(), &["alpha"], &[], &[]);
    let later = root.path().join("org/later");
    std::fs::create_dir_all(&later).expect("mkdir");
    support::git::git(&later, &["init", "-q", "-b", "main"]);
    std::fs::write(later.join("lib.rs"), "fn b() {}\n").expect("write");
    support::git::commit_as(&later, "Bob", "2026-12-01T09:00:00Z", "feat: b");

    let stdout = support::cli::ok(&digest_of(root.path(), &config));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["id"], "2026-W47-alpha");
    let path = PathBuf::from(report["path"].as_str().expect("a draft"));
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_extension("json")).expect("the draft's data"),
    )
    .expect("JSON");
    assert_eq!(data["repos"], serde_json::json!(["alpha"]));
    assert_eq!(data["repo_paths"].as_array().map(Vec::len), Some(1));
}

/// A folder without permission in a scanned folder is reported, not skipped. Root reads
/// every folder: there the test has nothing to check (the `.git` that points nowhere above
/// stands in for a repository that cannot be opened).
#[test]
fn digest_reports_a_folder_without_permission() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let config = organisation(root.path(), &["alpha"], &[], &[]);
    let locked = root.path().join("org/locked");
    std::fs::create_dir_all(&locked).expect("mkdir");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let out = digest_of(root.path(), &config);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let report: serde_json::Value = serde_json::from_str(&support::cli::ok(&out)).expect("JSON");
    assert_eq!(report["failures"][0]["repo"], "locked", "{report}");
}
