//! The real binary in a real terminal (tmux): start, write the startup digest, switch views,
//! edit and save, quit; and the terminal is restored on quit and on SIGTERM. Without a
//! terminal it explains itself and exits 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use support::git::{git, git_with};

const BIN: &str = env!("CARGO_BIN_EXE_raibid");

/// One tmux server per test, on its own socket, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, dir: &Path, home: &Path, args: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("raibid-{name}-{}", std::process::id()),
        };
        let script = format!(
            "cd {dir} && XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data {BIN} {args}; echo EXIT=$?; sleep 60",
            dir = dir.display(),
            home = home.display(),
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &tmux.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "30",
                &script,
            ])
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed (the test command installs it)");
        assert!(status.success());
        tmux
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", key]);
            sleep(Duration::from_millis(60));
        }
    }

    /// Waits until the screen shows `text`; fails with the screen after 30 s.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {text:?}; the screen shows:\n{screen}"
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// tmux's own view of the pane: is the alternate screen on, is the cursor shown.
    fn alternate_screen_and_cursor(&self) -> String {
        self.tmux(&["display-message", "-p", "#{alternate_on} #{cursor_flag}"])
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// A repository with one commit made now, so this week's digest has something to say,
/// and a config file beside it.
fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("lab");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "# lab\n\nA fixture.\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "feat: first light"]);
    let config = root.path().join("config.toml");
    std::fs::write(
        &config,
        "[sparky]\nwriter = \"builtin\"\nstartup_digest = \"week\"\n",
    )
    .unwrap();
    (root, repo, config)
}

#[test]
fn console_session_from_start_to_quit() {
    let (root, repo, config) = fixture();
    let home = root.path().join("home");
    let tmux = Tmux::start(
        "session",
        &repo,
        &home,
        &format!("--config {}", config.display()),
    );

    // The startup digest is written and previewed without any key.
    let screen = tmux.wait_for("Drafts (1)");
    assert!(screen.contains("-lab"), "{screen}");
    tmux.wait_for("feat: first light");
    assert_eq!(
        tmux.alternate_screen_and_cursor(),
        "1 0",
        "full screen, cursor hidden"
    );

    tmux.keys(&["2"]);
    tmux.wait_for("Commits per day");
    tmux.keys(&["BTab"]);
    tmux.wait_for("Drafts (1)");
    tmux.keys(&["?"]);
    tmux.wait_for("Keys");
    tmux.keys(&["Escape"]);

    // Edit, save, and the stored draft has the edit.
    tmux.keys(&["e"]);
    tmux.wait_for("Editing");
    tmux.keys(&["Hello from tmux. ", "C-s"]);
    tmux.wait_for("saved");
    tmux.keys(&["Escape"]);
    tmux.wait_for("words · builtin");
    let drafts = home.join("data/raibid/drafts");
    let stored: Vec<String> = std::fs::read_dir(&drafts)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        stored.iter().any(|text| text.contains("Hello from tmux.")),
        "{stored:?}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("EXIT=0");
    assert_eq!(
        tmux.alternate_screen_and_cursor(),
        "0 1",
        "terminal restored after quit"
    );
}

/// A draft written by `raibid digest` in another process shows in the running console's
/// list without a key: the console watches the drafts store.
#[test]
fn a_draft_written_by_the_cli_appears_in_the_list() {
    let (root, repo, config) = fixture();
    std::fs::write(
        &config,
        "[sparky]\nwriter = \"builtin\"\nstartup_digest = \"off\"\n",
    )
    .unwrap();
    let home = root.path().join("home");
    let tmux = Tmux::start(
        "watch",
        &repo,
        &home,
        &format!("--config {}", config.display()),
    );
    tmux.wait_for("Drafts (0)");
    // The console's store is ready once its first commit is in: two processes creating
    // one store at once would both commit.
    let drafts = home.join("data/raibid/drafts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !Command::new("git")
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .current_dir(&drafts)
        .output()
        .is_ok_and(|out| out.status.success())
    {
        assert!(Instant::now() < deadline, "the console made no store");
        sleep(Duration::from_millis(100));
    }
    let out = Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "digest"])
        .current_dir(&repo)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("the digest's id")
        .to_string();
    let screen = tmux.wait_for("Drafts (1)");
    assert!(screen.contains(&id[..id.len().min(20)]), "{id}:\n{screen}");
    tmux.wait_for("feat: first light");
    tmux.keys(&["q"]);
    tmux.wait_for("EXIT=0");
}

/// A repository whose only commit is in 2026-W47: this week's startup digest writes no
/// draft, names that week instead, and `n` writes it.
#[test]
fn an_empty_week_offers_the_last_active_one() {
    let (root, repo, config) = fixture();
    let dated = [
        ("GIT_AUTHOR_DATE", "2026-11-17T10:00:00Z"),
        ("GIT_COMMITTER_DATE", "2026-11-17T10:00:00Z"),
    ];
    git_with(&repo, &["commit", "-q", "--amend", "--no-edit"], &dated);
    let home = root.path().join("home");
    let tmux = Tmux::start(
        "empty",
        &repo,
        &home,
        &format!("--config {}", config.display()),
    );
    tmux.wait_for("last activity in 2026-W47");
    tmux.wait_for("[ 2026-W47 ]");
    assert!(tmux.screen().contains("Drafts (0)"), "{}", tmux.screen());
    tmux.keys(&["n"]);
    let screen = tmux.wait_for("Drafts (1)");
    assert!(screen.contains("2026-W47-lab"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("EXIT=0");
}

#[test]
fn sigterm_restores_the_terminal() {
    let (root, repo, config) = fixture();
    let home = root.path().join("home");
    let tmux = Tmux::start(
        "sigterm",
        &repo,
        &home,
        &format!("--config {}", config.display()),
    );
    tmux.wait_for("Drafts (1)");
    let pid = tmux.tmux(&["display-message", "-p", "#{pane_pid}"]);
    // The pane runs a shell; raibid is its child.
    let status = Command::new("pkill")
        .args(["-TERM", "-P", pid.trim(), "-x", "raibid"])
        .status()
        .unwrap();
    assert!(status.success(), "raibid was running");
    tmux.wait_for("EXIT=0");
    assert_eq!(
        tmux.alternate_screen_and_cursor(),
        "0 1",
        "terminal restored after SIGTERM"
    );
}

#[test]
fn without_a_terminal_it_names_the_headless_commands() {
    let (root, repo, config) = fixture();
    let home = root.path().join("home");
    let out = Command::new(BIN)
        .args(["--config", config.to_str().unwrap()])
        .current_dir(&repo)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs a terminal") && stderr.contains("raibid digest"),
        "{stderr}"
    );
    drop(root);
}

/// The CI views against a real redis-server: start a local agent with `+`, build this
/// repository's HEAD with `T`, watch the job succeed, and quit with no agent left behind.
#[test]
fn local_pool_builds_a_triggered_job() {
    let (root, repo, config) = fixture();
    let redis = support::redis::RedisServer::start();
    let workspaces = root.path().join("workspaces");
    std::fs::write(
        &config,
        format!(
            "[sparky]\nwriter = \"builtin\"\nstartup_digest = \"off\"\n\
             [ci]\nredis_url = \"{}\"\nsteps = [\"cat README.md\"]\nworkspace_dir = \"{}\"\n",
            redis.url(),
            workspaces.display()
        ),
    )
    .unwrap();
    let home = root.path().join("home");
    let tmux = Tmux::start(
        "ci",
        &repo,
        &home,
        &format!("--config {}", config.display()),
    );
    tmux.wait_for("1 Digests");

    tmux.keys(&["3"]);
    tmux.wait_for("queue: redis://");
    tmux.keys(&["+"]);
    tmux.wait_for("local pool 1/1 agents");
    tmux.wait_for("local-1");

    tmux.keys(&["T"]);
    tmux.wait_for("Build this repository's HEAD?");
    tmux.keys(&["y"]);
    tmux.wait_for("queued lab at");
    tmux.keys(&["4"]);
    tmux.wait_for("success");
    tmux.keys(&["Enter"]);
    tmux.wait_for("A fixture.");

    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("EXIT=0");
    let agents = Command::new("pgrep")
        .args(["-f", &format!("{} agent --id local-1", config.display())])
        .output()
        .unwrap();
    assert!(
        agents.stdout.is_empty(),
        "the pool's agents stop with the console"
    );
}

/// The colour parameters of every SGR sequence on `screen` (tmux's `capture-pane -e`):
/// 30–49 and 90–107, 38 and 48 included.
fn colors(screen: &str) -> Vec<String> {
    screen
        .split("\x1b[")
        .skip(1)
        .filter_map(|rest| rest.split_once('m').map(|(params, _)| params))
        .flat_map(|params| params.split(';'))
        .filter(|p| {
            p.parse::<u32>()
                .is_ok_and(|n| ((30..=49).contains(&n) && n != 39 && n != 49) || n >= 90)
        })
        .map(String::from)
        .collect()
}

#[test]
fn color_never_draws_the_console_without_colour_and_the_selection_reversed() {
    let (root, repo, config) = fixture();
    let home = root.path().join("home");
    let args = |color: &str| format!("--config {} --color {color}", config.display());
    let plain = Tmux::start("plain", &repo, &home, &args("never"));
    // Listed, so the selection bar is drawn: the digest streams in before that.
    plain.wait_for("Drafts (1)");
    let screen = plain.tmux(&["capture-pane", "-p", "-e"]);
    assert_eq!(colors(&screen), Vec::<String>::new(), "{screen:?}");
    assert!(
        screen.contains("\x1b[7m") || screen.contains(";7m"),
        "{screen:?}"
    );
    drop(plain);

    let colored = Tmux::start("colored", &repo, &home, &args("always"));
    colored.wait_for("feat: first light");
    let screen = colored.tmux(&["capture-pane", "-p", "-e"]);
    assert!(!colors(&screen).is_empty(), "{screen:?}");
    drop(root);
}
