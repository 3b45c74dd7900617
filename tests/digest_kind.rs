//! `raibid digest --kind`: posts of a period as the user asks for them, with the real binary,
//! a real git repository and a config file.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use support::git::{git, git_with};

const BIN: &str = env!("CARGO_BIN_EXE_raibid");

struct Lab {
    root: tempfile::TempDir,
}

impl Lab {
    /// A repository `lab` with two authors' commits on 2026-11-17 (in 2026-W47), and a
    /// config with the built-in writer and a docs site.
    fn new() -> Lab {
        let lab = Lab {
            root: tempfile::tempdir().expect("temp dir"),
        };
        std::fs::create_dir_all(lab.repo()).expect("repo dir");
        git(&lab.repo(), &["init", "-q", "-b", "main"]);
        lab.commit("Ann", "2026-11-17T09:00:00Z", "feat: two functions");
        lab.commit("Bob", "2026-11-17T15:00:00Z", "fix: drop one");
        std::fs::write(
            lab.root.path().join("config.toml"),
            "[sparky]\nwriter = \"builtin\"\n\n[publish]\nsite_url = \"https://lab.example/\"\n",
        )
        .expect("config");
        lab
    }

    fn repo(&self) -> PathBuf {
        self.root.path().join("lab")
    }

    fn commit(&self, who: &str, when: &str, subject: &str) {
        let file = self.repo().join("src.rs");
        let before = std::fs::read_to_string(&file).unwrap_or_default();
        std::fs::write(&file, format!("{before}// {subject}\n")).expect("write");
        git(&self.repo(), &["add", "."]);
        let email = format!("{}@example.org", who.to_lowercase());
        let identity = [
            ("GIT_AUTHOR_NAME", who),
            ("GIT_AUTHOR_EMAIL", email.as_str()),
            ("GIT_AUTHOR_DATE", when),
            ("GIT_COMMITTER_NAME", who),
            ("GIT_COMMITTER_EMAIL", email.as_str()),
            ("GIT_COMMITTER_DATE", when),
        ];
        git_with(&self.repo(), &["commit", "-q", "-m", subject], &identity);
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
            .expect("run raibid")
    }

    /// Runs `raibid digest` for 2026-W47 with `extra` arguments; returns the draft's id and
    /// its file's text.
    fn digest(&self, extra: &[&str]) -> (String, String) {
        let mut args = vec!["digest", "--period", "week", "--date", "2026-11-17"];
        args.extend(extra);
        let out = self.raibid(&args);
        assert!(
            out.status.success(),
            "exit {:?}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let (id, path) = stdout.trim().split_once('\t').expect("id and path");
        let text = std::fs::read_to_string(path).expect("the draft file");
        (id.to_owned(), text)
    }
}

/// The draft file's body: what follows the front matter.
fn body(text: &str) -> &str {
    text.splitn(3, "---\n").nth(2).expect("front matter")
}

#[test]
fn digest_kind_mastodon_writes_a_post_beside_the_digest() {
    let lab = Lab::new();
    let (id, text) = lab.digest(&["--kind", "mastodon"]);
    assert_eq!(id, "2026-W47-lab-mastodon");
    assert!(
        text.contains("title: \"Mastodon post — 2026-W47\"\n"),
        "{text}"
    );
    assert!(text.contains("kind: \"mastodon\"\n"), "{text}");
    let post = body(&text);
    assert!(
        post.starts_with("2 commits by 2 contributors in lab during 2026-W47;"),
        "{post}"
    );
    assert!(
        post.contains("\n\nhttps://lab.example/blog/2026/11/week-2026-47\n\n"),
        "links the week's digest on the docs site:\n{post}"
    );
    assert!(
        post.chars().count() <= 500 && !post.contains("## "),
        "{post}"
    );

    let (id, text) = lab.digest(&["--kind", "blog"]);
    assert_eq!(id, "2026-W47-lab-blog");
    assert!(
        body(&text).contains("\n## Per repository\n\n### lab\n"),
        "{text}"
    );

    // The period's digest keeps its id; a digest kind naming it changes nothing.
    let (id, _) = lab.digest(&[]);
    assert_eq!(id, "2026-W47-lab");
    let (id, _) = lab.digest(&["--kind", "weekly"]);
    assert_eq!(id, "2026-W47-lab");
}

#[test]
fn a_digest_kind_of_another_period_exits_2() {
    let lab = Lab::new();
    let out = lab.raibid(&["digest", "--period", "day", "--kind", "weekly"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--kind weekly does not go with --period day, whose digest is daily")
            && err.contains("mastodon"),
        "{err}"
    );
    let out = lab.raibid(&[
        "digest",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-09",
        "--kind",
        "monthly",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since/--until"));
}
