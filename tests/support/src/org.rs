//! A fixture organisation: real git repositories in a temp dir with a week that has
//! something to be about (issue 12). Week 2026-W47 (2026-11-16 to 2026-11-23, UTC):
//!
//! - `api`, `web`, `worker` existed before; `ci: pin toolchain` rolls out across all three.
//! - `docs-site`, `infra` and `cli-tools` are created in the week; `future` only after it.
//! - `api` has conventional commits in scope `console`, two `ABC-12` commits, a release,
//!   a lockfile-only commit, a formatting pass and a dependabot commit.
//! - `web` has a subtree import and two commits referring to `#42`.
//! - `notes` is one person's repository.
//!
//! More repositories (a shallow clone, a missing blob) go in with [`Org::repo`].

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use raibid::backend::sparky::model::{Period, PeriodKind};
use raibid::backend::sparky::period;

use super::git::{commit_as, git};

pub const BOT: &str = "dependabot[bot]";

pub struct Org {
    pub dir: tempfile::TempDir,
}

/// One repository of the organisation.
pub struct Repo {
    pub path: PathBuf,
}

impl Org {
    pub fn new() -> Self {
        Org {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The week every fixture repository is built around.
    pub fn week() -> Period {
        let monday = jiff::civil::date(2026, 11, 16);
        period::calendar(PeriodKind::Week, monday, &TimeZone::UTC)
    }

    /// A new, empty repository `name` in the organisation.
    pub fn repo(&self, name: &str) -> Repo {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        git(&path, &["init", "--quiet", "--initial-branch=main"]);
        Repo { path }
    }

    /// Every repository folder, by name.
    pub fn repo_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        paths
    }
}

impl Repo {
    /// Writes `files` (path, content) and commits them as `who` at `when` (RFC 3339).
    pub fn commit(&self, who: &str, when: &str, subject: &str, files: &[(&str, String)]) -> &Self {
        for (file, content) in files {
            let path = self.path.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        commit_as(&self.path, who, when, subject);
        self
    }

    pub fn head(&self) -> String {
        git(&self.path, &["rev-parse", "HEAD"])
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `count` numbered lines starting with `word`.
pub fn lines(word: &str, count: usize) -> String {
    (1..=count).map(|n| format!("{word} {n}\n")).collect()
}

/// Before the week, in it, and after it.
const BEFORE: &str = "2026-10-01T09:00:00+00:00";
fn day(day: u32, hour: u32) -> String {
    format!("2026-11-{day:02}T{hour:02}:00:00+00:00")
}

/// The organisation described in the module docs.
pub fn fixture_org() -> Org {
    let org = Org::new();
    let toolchain = |channel: &str| format!("[toolchain]\nchannel = \"{channel}\"\n");

    org.repo("api")
        .commit(
            "Ann",
            BEFORE,
            "Initial commit",
            &[
                ("src/lib.rs", lines("core", 40)),
                ("Cargo.lock", lines("lock", 10)),
                ("rust-toolchain.toml", toolchain("stable")),
            ],
        )
        .commit(
            "Ann",
            &day(16, 9),
            "feat(console): command palette",
            &[("src/console.rs", lines("palette", 60))],
        )
        .commit(
            "Bob",
            &day(16, 14),
            "fix(console): crash on resize",
            &[("src/console.rs", lines("palette", 58) + "resized\n")],
        )
        .commit(
            "Ann",
            &day(17, 10),
            "feat(console): dated digests",
            &[("src/digests.rs", lines("digest", 30))],
        )
        .commit(
            "Ann",
            &day(17, 15),
            "ci: pin toolchain",
            &[("rust-toolchain.toml", toolchain("1.91"))],
        )
        .commit(
            "Bob",
            &day(18, 9),
            "ABC-12 retry uploads",
            &[("src/upload.rs", lines("retry", 25))],
        )
        .commit(
            "Bob",
            &day(18, 11),
            "ABC-12: log every retry",
            &[("src/upload.rs", lines("retry", 25) + &lines("log", 5))],
        )
        .commit(
            "Ann",
            &day(18, 16),
            "Update dependencies",
            &[("Cargo.lock", lines("lock", 8) + &lines("newer", 4))],
        )
        .commit(
            "Ann",
            &day(19, 10),
            "cargo fmt",
            &[("src/lib.rs", lines("core", 30) + &lines("  core", 10))],
        )
        .commit(
            BOT,
            &day(19, 12),
            "chore(deps): bump serde from 1.0.1 to 1.0.2",
            &[("Cargo.lock", lines("lock", 8) + &lines("bumped", 4))],
        )
        .commit(
            "Ann",
            &day(20, 9),
            "release: v1.2.0",
            &[("CHANGELOG.md", "## 1.2.0\n- palette\n".to_string())],
        );

    org.repo("web")
        .commit(
            "Bob",
            BEFORE,
            "Initial commit",
            &[
                ("index.html", lines("<p>", 20)),
                ("rust-toolchain.toml", toolchain("stable")),
            ],
        )
        .commit(
            "Bob",
            &day(16, 11),
            "Squashed 'ui/' content from commit 1a2b3c4",
            &[
                ("ui/widgets.js", lines("widget", 400)),
                ("ui/README.md", lines("ui", 10)),
            ],
        )
        .commit(
            "Ann",
            &day(17, 16),
            "ci: pin toolchain",
            &[("rust-toolchain.toml", toolchain("1.91"))],
        )
        .commit(
            "Bob",
            &day(18, 10),
            "fix header overflow, closes #42",
            &[("header.css", lines("rule", 12))],
        )
        .commit(
            "Carol",
            &day(19, 15),
            "test header overflow for #42",
            &[("header.test.js", lines("case", 20))],
        )
        .commit(
            "Carol",
            &day(19, 16),
            "refs #42: header tests on narrow screens",
            &[("header.test.js", lines("case", 26))],
        );

    org.repo("worker")
        .commit(
            "Carol",
            BEFORE,
            "Initial commit",
            &[
                ("main.go", lines("func", 30)),
                ("rust-toolchain.toml", toolchain("stable")),
            ],
        )
        .commit(
            "Carol",
            &day(17, 17),
            "ci: pin toolchain.",
            &[("rust-toolchain.toml", toolchain("1.91"))],
        );

    org.repo("docs-site")
        .commit(
            "Ann",
            &day(16, 8),
            "Initial commit",
            &[("index.md", lines("welcome", 10))],
        )
        .commit(
            "Ann",
            &day(21, 10),
            "docs: getting started",
            &[("start.md", lines("step", 40))],
        );
    org.repo("infra")
        .commit(
            "Bob",
            &day(17, 8),
            "Initial commit",
            &[("README.md", lines("infra", 5))],
        )
        .commit(
            "Bob",
            &day(17, 9),
            "[infra] pin images",
            &[("images.yaml", lines("image", 12))],
        )
        .commit(
            "Bob",
            &day(20, 9),
            "[infra] add a node pool",
            &[("pools.yaml", lines("pool", 18))],
        );
    org.repo("cli-tools").commit(
        "Carol",
        &day(22, 20),
        "Initial commit",
        &[("main.rs", lines("tool", 15))],
    );
    org.repo("future").commit(
        "Dee",
        "2026-12-02T10:00:00+00:00",
        "Initial commit",
        &[("plan.md", lines("plan", 5))],
    );
    org.repo("notes")
        .commit(
            "Dee",
            BEFORE,
            "Initial commit",
            &[("notes.md", lines("note", 5))],
        )
        .commit(
            "Dee",
            &day(18, 20),
            "Write up the planning meeting",
            &[("meeting.md", lines("point", 22))],
        )
        .commit(
            "Dee",
            &day(21, 9),
            "Sort the reading list",
            &[("reading.md", lines("book", 14))],
        );
    org
}
