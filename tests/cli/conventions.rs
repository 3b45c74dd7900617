//! What users of kubectl, gh and k9s expect, checked on the real binary: completions, a
//! man page, `--color`, `--json` on the commands that report, and a `rust-version` as high
//! as the dependencies ask.

use std::process::Command;

use serde_json::Value;
use support::cli::{Lab, TUESDAY, bin, ok};
use support::redis::RedisServer;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn completions_name_the_commands_in_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        let script = ok(&out);
        for command in ["digest", "drafts", "mirror", "schedule", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let bash = ok(&Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap());
    assert!(bash.contains("complete -F _raibid"), "{bash}");
    assert!(bash.contains("--color"), "the global flags complete too");
}

#[test]
fn the_man_page_is_roff_naming_the_commands() {
    let page = ok(&Command::new(bin()).arg("man").output().unwrap());
    assert!(page.contains(".TH raibid 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for command in ["raibid\\-digest", "raibid\\-up", "raibid\\-completions"] {
        assert!(page.contains(command), "{command}: {page}");
    }
}

#[test]
fn color_follows_the_flag_in_help_and_errors() {
    let help = |color: &str| {
        let out = Command::new(bin())
            .args(["--color", color, "--help"])
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        ok(&out)
    };
    assert!(help("always").contains('\x1b'), "forced on a pipe");
    assert!(!help("never").contains('\x1b'));
    let refused = Command::new(bin())
        .args(["--color", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("'sometimes'") && said.contains("never"),
        "{said}"
    );
}

#[test]
fn rust_version_is_the_highest_the_dependencies_declare() {
    let host =
        String::from_utf8(Command::new("rustc").arg("-vV").output().unwrap().stdout).unwrap();
    let host = host
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .unwrap();
    // This platform's packages only: those are the ones a build has downloaded.
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let metadata = json(&ok(&out));
    let version = |text: &str| -> Vec<u32> {
        let mut parts: Vec<u32> = text.split('.').map(|p| p.parse().unwrap()).collect();
        parts.resize(3, 0);
        parts
    };
    let mut ours = None;
    let mut highest = (vec![0], String::new());
    for package in metadata["packages"].as_array().unwrap() {
        let Some(declared) = package["rust_version"].as_str() else {
            continue;
        };
        if package["name"] == "raibid" {
            ours = Some(version(declared));
        } else if version(declared) > highest.0 {
            highest = (version(declared), package["name"].to_string());
        }
    }
    assert_eq!(
        ours.expect("Cargo.toml declares a rust-version"),
        highest.0,
        "Cargo.toml's rust-version should be {}'s",
        highest.1
    );
}

#[test]
fn config_reports_as_json() {
    let lab = Lab::new("[sparky]\nwriter = \"builtin\"\n", &[]);
    let shown = json(&ok(&lab.raibid(&["config", "show", "--json"])));
    assert_eq!(shown["sparky"]["writer"], "builtin");
    assert!(shown["ci"].is_object(), "every section: {shown}");
    let checked = json(&ok(&lab.raibid(&["config", "check", "--json"])));
    assert_eq!(checked["ok"], true);
    assert_eq!(checked["config"], lab.config().to_str().unwrap());
    let located = json(&ok(&lab.raibid(&["config", "path", "--json"])));
    assert_eq!(located["config"], lab.config().to_str().unwrap());
    assert!(located["data"].as_str().unwrap().ends_with("raibid"));
}

#[test]
fn drafts_show_and_publish_report_as_json() {
    let lab = Lab::new("[sparky]\nwriter = \"builtin\"\n", &TUESDAY);
    let (id, _) = lab.digest(&["--period", "day", "--date", "2026-11-17"]);
    let shown = json(&ok(&lab.raibid(&["drafts", "show", &id, "--json"])));
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["state"], "draft");
    assert_eq!(shown["kind"], "daily");
    assert_eq!(shown["publications"], serde_json::json!([]));
    assert!(
        shown["body"]
            .as_str()
            .unwrap()
            .contains("feat: two functions")
    );

    ok(&lab.raibid(&["drafts", "approve", &id]));
    let dry = json(&ok(&lab.raibid(&[
        "drafts",
        "publish",
        &id,
        "--dry-run",
        "--json",
    ])));
    assert_eq!(dry[0]["channel"], "docs");
    assert!(dry[0]["text"].as_str().unwrap().starts_with("---\ntitle:"));
    let published = json(&ok(&lab.raibid(&["drafts", "publish", &id, "--json"])));
    assert_eq!(published["id"], id.as_str());
    assert_eq!(published["channels"][0]["channel"], "docs");
    assert_eq!(published["channels"][0]["outcome"], "published");
    let url = published["channels"][0]["publication"]["url"].as_str();
    assert!(url.unwrap().contains("content/blog/2026/11/2026-11-17.md"));
    let shown = json(&ok(&lab.raibid(&["drafts", "show", &id, "--json"])));
    assert_eq!(shown["publications"][0]["channel"], "docs");
}

#[test]
fn a_scheduled_run_reports_each_draft_as_json() {
    let lab = Lab::new(
        "[sparky]\nwriter = \"builtin\"\n[publish]\nauto = [\"daily\"]\n",
        &TUESDAY,
    );
    let args = ["schedule", "run", "daily", "--date", "2026-11-17", "--json"];
    let first = json(&ok(&lab.raibid(&args)));
    assert_eq!(first["period"], "2026-11-17");
    let draft = &first["drafts"][0];
    assert_eq!(draft["id"], "2026-11-17-lab");
    assert_eq!(draft["outcome"], "published", "{first}");
    assert_eq!(draft["writer"], "builtin");
    assert_eq!(draft["findings"], 0);
    assert_eq!(draft["channels"][0]["channel"], "docs");
    let second = json(&ok(&lab.raibid(&args)));
    assert_eq!(second["drafts"][0]["outcome"], "exists");
    assert_eq!(second["drafts"][0]["state"], "published");
}

#[test]
fn jobs_trigger_cancel_and_retry_report_as_json() {
    let redis = RedisServer::start();
    let lab = Lab::new(
        &format!("[ci]\nredis_url = \"{}\"\n", redis.url()),
        &TUESDAY,
    );
    let queued = json(&ok(&lab.raibid(&["jobs", "trigger", "--json"])));
    let id = queued["id"].as_str().unwrap();
    assert_eq!(queued["repo"], "lab");
    assert_eq!(queued["attempt"], 1);
    let cancelled = json(&ok(&lab.raibid(&["jobs", "cancel", id, "--json"])));
    assert_eq!(cancelled["id"], id);
    assert_eq!(cancelled["outcome"], "cancelled");
    let again = json(&ok(&lab.raibid(&["jobs", "cancel", id, "--json"])));
    assert_eq!(again["outcome"], "already_final");
    assert_eq!(again["state"], "cancelled");
    let retried = json(&ok(&lab.raibid(&["jobs", "retry", id, "--json"])));
    assert_ne!(retried["id"], id);
    assert_eq!(retried["attempt"], 2);
}
