//! `raibid digest --kind`: posts of a period as the user asks for them, with the real binary,
//! a real git repository and a config file.

use support::cli::{Lab, TUESDAY, fails};

/// A repository `lab` with two authors' commits on 2026-11-17 (in 2026-W47), and a config
/// with the built-in writer and a docs site.
fn lab() -> Lab {
    Lab::new(
        "[sparky]\nwriter = \"builtin\"\n\n[publish]\nsite_url = \"https://lab.example/\"\n",
        &TUESDAY,
    )
}

/// Runs `raibid digest` for 2026-W47 with `extra` arguments; returns the draft's id and its
/// file's text.
fn digest(lab: &Lab, extra: &[&str]) -> (String, String) {
    let week = ["--period", "week", "--date", "2026-11-17"];
    let (id, path) = lab.digest(&[&week[..], extra].concat());
    let text = std::fs::read_to_string(path).expect("the draft file");
    (id, text)
}

/// The draft file's body: what follows the front matter.
fn body(text: &str) -> &str {
    text.splitn(3, "---\n").nth(2).expect("front matter")
}

#[test]
fn digest_kind_mastodon_writes_a_post_beside_the_digest() {
    let lab = lab();
    let (id, text) = digest(&lab, &["--kind", "mastodon"]);
    assert_eq!(id, "2026-W47-lab-mastodon");
    assert!(
        text.contains("title: \"Mastodon post — 2026-W47\"\n"),
        "{text}"
    );
    assert!(text.contains("kind: \"mastodon\"\n"), "{text}");
    let post = body(&text);
    assert!(
        post.starts_with(
            "The main theme of 2026-W47 was “Repository lab created” (all 2 commits, in lab). \
             2 commits by 2 contributors in lab during 2026-W47;"
        ),
        "leads with the theme, then the totals:\n{post}"
    );
    assert!(
        post.contains("\n\nhttps://lab.example/blog/2026/11/week-2026-47\n\n"),
        "links the week's digest on the docs site:\n{post}"
    );
    assert!(
        post.chars().count() <= 500 && !post.contains("## "),
        "{post}"
    );

    let (id, text) = digest(&lab, &["--kind", "blog"]);
    assert_eq!(id, "2026-W47-lab-blog");
    assert!(
        body(&text).contains("\n## Per repository\n\n### lab\n"),
        "{text}"
    );

    // The period's digest keeps its id; a digest kind naming it changes nothing.
    let (id, _) = digest(&lab, &[]);
    assert_eq!(id, "2026-W47-lab");
    let (id, _) = digest(&lab, &["--kind", "weekly"]);
    assert_eq!(id, "2026-W47-lab");
}

#[test]
fn a_digest_kind_of_another_period_exits_2() {
    let lab = lab();
    let err = fails(
        &lab.raibid(&["digest", "--period", "day", "--kind", "weekly"]),
        2,
    );
    assert!(
        err.contains("--kind weekly does not go with --period day, whose digest is daily")
            && err.contains("mastodon"),
        "{err}"
    );
    let err = fails(
        &lab.raibid(&[
            "digest",
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-09",
            "--kind",
            "monthly",
        ]),
        2,
    );
    assert!(err.contains("--since/--until"), "{err}");
}
