//! The headless commands as a user runs them: the real binary, real git repositories,
//! a config file, and the exit codes and messages that come back.

use std::path::PathBuf;

use support::cli::{Commit, Lab, TUESDAY, fails, ok};

/// The built-in writer, nothing else configured.
const BUILTIN: &str = "[sparky]\nwriter = \"builtin\"\n";

/// A commit the week before [`TUESDAY`]'s.
const EARLIER: Commit = Commit {
    who: "Ann",
    when: "2026-11-10T10:00:00Z",
    file: "notes.txt",
    text: "old\n",
    subject: "chore: earlier week",
};

/// A repository with two authors' commits on 2026-11-17 and one a week earlier.
fn lab() -> Lab {
    Lab::new(BUILTIN, &[EARLIER, TUESDAY[0], TUESDAY[1]])
}

#[test]
fn digest_json_reports_id_path_and_metrics() {
    let lab = lab();
    let out = ok(&lab.raibid(&[
        "digest",
        "--period",
        "week",
        "--date",
        "2026-11-18",
        "--json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["id"], "2026-W47-lab");
    let path = PathBuf::from(report["path"].as_str().unwrap());
    assert!(
        path.starts_with(lab.data_dir().join("drafts")),
        "{}",
        path.display()
    );
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("state: \"draft\"")
    );
    let totals = &report["metrics"]["totals"];
    assert_eq!(totals["commits"], 2);
    assert_eq!(totals["insertions"], 2);
    assert_eq!(totals["deletions"], 1);
    let people = report["metrics"]["contributors"].as_array().unwrap();
    let ann = people.iter().find(|p| p["name"] == "Ann").unwrap();
    assert_eq!(
        (ann["commits"].as_u64(), ann["insertions"].as_u64()),
        (Some(1), Some(2))
    );
    let bob = people.iter().find(|p| p["name"] == "Bob").unwrap();
    assert_eq!(
        (bob["commits"].as_u64(), bob["deletions"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(report["metrics"]["repos"][0]["name"], "lab");
    assert_eq!(
        report["metrics"]["trend"]["previous"]["commits"], 1,
        "the week before had one commit"
    );
}

#[test]
fn review_and_publish_from_the_command_line() {
    let lab = lab();
    let (id, _) = lab.digest(&["--period", "day", "--date", "2026-11-17"]);
    assert_eq!(id, "2026-11-17-lab");

    let listed: serde_json::Value =
        serde_json::from_str(&ok(&lab.raibid(&["drafts", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["state"], "draft");
    assert!(ok(&lab.raibid(&["drafts", "show", &id])).contains("feat: two functions"));

    let refused = fails(&lab.raibid(&["drafts", "publish", &id]), 1);
    assert!(refused.contains("approve"), "{refused}");
    ok(&lab.raibid(&["drafts", "approve", &id]));

    let wrong = fails(
        &lab.raibid(&["drafts", "publish", &id, "--channel", "mastodon"]),
        2,
    );
    assert!(wrong.contains("does not take daily drafts"), "{wrong}");
    let dry = ok(&lab.raibid(&["drafts", "publish", &id, "--dry-run"]));
    assert!(dry.starts_with("== docs\n---\ntitle:"), "{dry}");
    let docs = lab.data_dir().join("docs");
    assert!(!docs.join("content").exists(), "a dry run writes nothing");

    let published = ok(&lab.raibid(&["drafts", "publish", &id]));
    assert!(
        published.contains("content/blog/2026/11/2026-11-17.md"),
        "{published}"
    );
    assert!(docs.join("content/blog/2026/11/2026-11-17.md").exists());
    let again = ok(&lab.raibid(&["drafts", "publish", &id]));
    assert!(again.contains("unchanged"), "{again}");
    let shown = ok(&lab.raibid(&["drafts", "show", &id]));
    assert!(
        shown.contains("published to docs: ")
            && shown.contains("content/blog/2026/11/2026-11-17.md"),
        "the publication is recorded on the draft: {shown}"
    );

    let listed: serde_json::Value =
        serde_json::from_str(&ok(&lab.raibid(&["drafts", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["state"], "published");
}

#[test]
fn approving_a_draft_with_findings_takes_force() {
    let lab = lab();
    let (id, _) = lab.digest(&["--period", "day", "--date", "2026-11-17"]);
    let draft = lab.draft(&id);
    let body = std::fs::read_to_string(&draft).unwrap();
    std::fs::write(&draft, format!("{body}\nWe made 999 commits.\n")).unwrap();
    let state = || {
        let listed: serde_json::Value =
            serde_json::from_str(&ok(&lab.raibid(&["drafts", "list", "--json"]))).unwrap();
        listed[0]["state"].as_str().unwrap().to_owned()
    };

    let refused = fails(&lab.raibid(&["drafts", "approve", &id]), 1);
    let named = refused.lines().any(|line| {
        line.starts_with(&format!("{id}:"))
            && line.ends_with(": number: 999 commits: no commit count in the data is 999")
    });
    assert!(named, "the findings are named: {refused}");
    assert!(
        refused.contains(&format!("{id}: not approved: the checker found"))
            && refused.contains("--force"),
        "{refused}"
    );
    assert_eq!(state(), "draft", "nothing changed");

    let forced = lab.raibid(&["drafts", "approve", &id, "--force"]);
    let (out, err) = (ok(&forced), String::from_utf8_lossy(&forced.stderr));
    assert!(
        out.starts_with(&format!("{id}\tapproved, forced despite ")),
        "{out}"
    );
    assert!(err.contains("number: 999 commits"), "{err}");
    assert_eq!(state(), "approved");
}

#[test]
fn ollama_unreachable_falls_back_with_a_notice() {
    let lab = lab();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    lab.write_config(&format!(
        "[sparky]\nwriter = \"ollama\"\n[ollama]\nurl = \"http://127.0.0.1:{port}\"\n"
    ));
    let out = lab.raibid(&[
        "digest",
        "--period",
        "day",
        "--date",
        "2026-11-17",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(report["writer"], "builtin");
    let notice = report["notices"][0].as_str().unwrap();
    assert!(
        notice.contains("not reachable") && notice.contains("built-in"),
        "{notice}"
    );
}

#[test]
fn an_empty_period_yields_one_line_or_nothing() {
    let lab = lab();
    let (_, path) = lab.digest(&["--period", "day", "--date", "2026-11-01"]);
    let text = std::fs::read_to_string(path).unwrap();
    let body = text.rsplit("---\n").next().unwrap().trim();
    assert_eq!(body.lines().count(), 1, "{body}");

    lab.write_config("[sparky]\nwriter = \"builtin\"\nempty_period = \"none\"\n");
    let out = ok(&lab.raibid(&["digest", "--period", "day", "--date", "2026-11-02"]));
    assert!(out.contains("no draft written"), "{out}");
}

#[test]
fn a_broken_config_exits_2_naming_file_line_and_key() {
    let lab = lab();
    lab.write_config("[ollama]\nnum_ctx = \"big\"\n");
    let before = std::fs::read(lab.config()).unwrap();
    let err = fails(&lab.raibid(&["drafts", "list"]), 2);
    assert!(
        err.contains("config.toml:2:") && err.contains("ollama.num_ctx"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(lab.config()).unwrap(),
        before,
        "the file is left as it was"
    );
    assert!(
        !lab.data_dir().join("drafts").exists(),
        "nothing was written"
    );

    lab.write_config("[keys]\nquit = [\"ctrl-\"]\n");
    let err = fails(&lab.raibid(&["config", "check"]), 2);
    assert!(
        err.contains("config.toml:2:") && err.contains("keys.quit"),
        "{err}"
    );
}

/// A command whose stderr is no terminal logs there, in JSON when asked, and to the log
/// file; a level filter that does not parse is bad input.
#[test]
fn logs_go_to_a_piped_stderr_and_the_log_file() {
    let lab = lab();
    let args = [
        "digest",
        "--period",
        "week",
        "--date",
        "2026-11-18",
        "--json",
    ];
    let out = lab
        .command(&args)
        .env("RAIBID_LOG_FORMAT", "json")
        .output()
        .unwrap();
    let stderr = support::cli::exits(&out, 0).1;
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect();
    let written = lines
        .iter()
        .find(|line| line["fields"]["message"] == "digest written")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(written["fields"]["draft"], "2026-W47-lab");
    let file = std::fs::read_to_string(lab.data_dir().join("raibid.log")).unwrap();
    assert!(file.contains("digest written"), "{file}");

    let out = lab
        .command(&args)
        .env("RUST_LOG", "raibid=loud")
        .output()
        .unwrap();
    let err = fails(&out, 2);
    assert!(
        err.contains("RUST_LOG=\"raibid=loud\" is not a log filter"),
        "{err}"
    );
}

#[test]
fn a_path_that_is_not_a_repository_exits_2() {
    let lab = lab();
    let plain = lab.root().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let err = fails(
        &lab.raibid(&["digest", "--repo", plain.to_str().unwrap()]),
        2,
    );
    assert!(
        err.contains(plain.to_str().unwrap()) && err.contains("not a git repository"),
        "{err}"
    );
    let err = fails(
        &lab.command(&["digest"])
            .current_dir(&plain)
            .output()
            .unwrap(),
        2,
    );
    assert!(
        err.contains("no git repository contains") && err.contains(plain.to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn an_unreadable_draft_is_reported_and_the_rest_still_list() {
    let lab = lab();
    lab.digest(&["--period", "day", "--date", "2026-11-17"]);
    lab.digest(&["--period", "week", "--date", "2026-11-17"]);
    let broken = lab.draft("2026-11-17-lab");
    std::fs::write(&broken, "---\ntitle: [unclosed\n").unwrap();
    let out = lab.raibid(&["drafts", "list"]);
    let listed = ok(&out);
    assert!(listed.contains("2026-W47-lab"));
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.contains("2026-11-17-lab.md"), "{warning}");
    let err = fails(&lab.raibid(&["drafts", "show", "2026-11-17-lab"]), 2);
    assert!(err.contains("2026-11-17-lab.md"), "{err}");
}

#[test]
fn config_path_show_and_check() {
    let lab = lab();
    lab.write_config(
        "[publish]\ntoken = { env = \"LAB_TOKEN\" }\n\
         [ci]\nredis_url = \"redis://:url-s3cret@127.0.0.1:6379/0\"\n",
    );
    let paths = ok(&lab.raibid(&["config", "path"]));
    assert!(paths.contains(lab.config().to_str().unwrap()));
    let shown = lab
        .command(&["config", "show"])
        .env("LAB_TOKEN", "hunter2-secret")
        .output()
        .unwrap();
    let shown = ok(&shown);
    assert!(
        shown.contains("LAB_TOKEN") && !shown.contains("hunter2-secret"),
        "{shown}"
    );
    assert!(
        shown.contains("redis://:***@127.0.0.1:6379/0") && !shown.contains("url-s3cret"),
        "{shown}"
    );
    assert!(ok(&lab.raibid(&["config", "check"])).contains(": ok"));
}
