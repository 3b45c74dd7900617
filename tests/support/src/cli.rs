//! The headless binary as a user runs it: a temp dir holding a git repository `lab`, a
//! config file and XDG homes of its own, and `raibid` run in the repository against them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::git::{commit_as, git};

/// The `raibid` binary under test. Cargo sets `CARGO_BIN_EXE_raibid` for raibid's test and
/// benchmark processes; `env!` cannot read it in this crate, which is not raibid's own.
pub fn bin() -> PathBuf {
    std::env::var_os("CARGO_BIN_EXE_raibid")
        .expect("CARGO_BIN_EXE_raibid: run the tests with cargo test or cargo nextest")
        .into()
}

/// `raibid --config config args` run in `dir`, in UTC, its config and data dirs under
/// `root`, with nothing of the user's (nor their log levels).
pub fn command_in(root: &Path, config: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", root.join("home/config"))
        .env("XDG_DATA_HOME", root.join("home/data"))
        .env("TZ", "UTC")
        .env_remove("RAIBID_CONFIG")
        .env_remove("RAIBID_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

/// A commit a [`Lab`] makes: `who` writes `text` to `file` and commits it at `when`.
#[derive(Clone, Copy)]
pub struct Commit {
    pub who: &'static str,
    pub when: &'static str,
    pub file: &'static str,
    pub text: &'static str,
    pub subject: &'static str,
}

/// Ann's and Bob's commits on Tuesday 2026-11-17 (in 2026-W47): two functions, then one
/// of them dropped.
pub const TUESDAY: [Commit; 2] = [
    Commit {
        who: "Ann",
        when: "2026-11-17T09:00:00Z",
        file: "src.rs",
        text: "fn a() {}\nfn b() {}\n",
        subject: "feat: two functions",
    },
    Commit {
        who: "Bob",
        when: "2026-11-17T15:00:00Z",
        file: "src.rs",
        text: "fn a() {}\n",
        subject: "fix: drop b",
    },
];

pub struct Lab {
    root: tempfile::TempDir,
}

impl Lab {
    /// A repository `lab` holding `history` (oldest first), and `config` as the config file.
    pub fn new(config: &str, history: &[Commit]) -> Lab {
        let lab = Lab {
            root: tempfile::tempdir().expect("a temp dir"),
        };
        std::fs::create_dir_all(lab.repo()).expect("the repository's dir");
        git(&lab.repo(), &["init", "-q", "-b", "main"]);
        for commit in history {
            lab.commit(commit);
        }
        lab.write_config(config);
        lab
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn repo(&self) -> PathBuf {
        self.root().join("lab")
    }

    pub fn config(&self) -> PathBuf {
        self.root().join("config.toml")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).expect("the config file");
    }

    pub fn commit(&self, commit: &Commit) {
        std::fs::write(self.repo().join(commit.file), commit.text).expect("the commit's file");
        commit_as(&self.repo(), commit.who, commit.when, commit.subject);
    }

    /// raibid's data dir under the lab's `XDG_DATA_HOME`.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("home/data/raibid")
    }

    /// The file of the draft `id`.
    pub fn draft(&self, id: &str) -> PathBuf {
        self.data_dir().join(format!("drafts/{id}.md"))
    }

    /// `raibid args` in the repository, in UTC, with nothing of the user's config or data;
    /// a caller may add to it (environment, another dir) before running it.
    pub fn command(&self, args: &[&str]) -> Command {
        command_in(self.root(), &self.config(), &self.repo(), args)
    }

    pub fn raibid(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("raibid runs")
    }

    /// Runs `raibid digest args`, which must write a draft; returns the draft's id and file.
    pub fn digest(&self, args: &[&str]) -> (String, PathBuf) {
        let stdout = ok(&self.raibid(&[&["digest"], args].concat()));
        let (id, path) = stdout
            .trim()
            .split_once('\t')
            .expect("a draft's id and file");
        (id.to_owned(), PathBuf::from(path))
    }
}

/// A run's exit code and output, for assertion messages.
pub fn described(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The stdout and stderr of a run that must exit with `code`.
#[track_caller]
pub fn exits(out: &Output, code: i32) -> (String, String) {
    assert_eq!(out.status.code(), Some(code), "{}", described(out));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The stdout of a run that must succeed.
#[track_caller]
pub fn ok(out: &Output) -> String {
    exits(out, 0).0
}

/// The stderr of a run that must exit with `code`.
#[track_caller]
pub fn fails(out: &Output, code: i32) -> String {
    exits(out, code).1
}
