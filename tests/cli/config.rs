//! Config loading, env overrides, validation errors, secrets and `show`.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use raibid::config::{
    Config, ConfigError, DEFAULT_TEMPLATE, Paths, Secret, SecretError, load_with_env, show,
};
use tempfile::TempDir;

fn paths_in(dir: &Path) -> Paths {
    Paths {
        config_file: dir.join("config").join("raibid").join("config.toml"),
        data_dir: dir.join("data"),
        log_file: dir.join("data").join("raibid.log"),
        themes_dir: dir.join("config").join("raibid").join("themes"),
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// Writes `text` as the config file and loads it with `env` as the whole environment.
fn load_text(text: &str, env: &[(&str, &str)]) -> (TempDir, Paths, Result<Config, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_in(dir.path());
    std::fs::create_dir_all(paths.config_file.parent().unwrap()).unwrap();
    std::fs::write(&paths.config_file, text).unwrap();
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let result = load_with_env(&paths, true, &|var| env.get(var).cloned());
    (dir, paths, result)
}

/// The template with every `# key = value` line uncommented.
fn uncommented_template() -> String {
    DEFAULT_TEMPLATE
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_key_line(rest) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_key_line(text: &str) -> bool {
    text.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    })
}

#[test]
fn first_run_writes_the_template_and_returns_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_in(dir.path());
    let config = load_with_env(&paths, false, &no_env).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(
        std::fs::read_to_string(&paths.config_file).unwrap(),
        DEFAULT_TEMPLATE
    );
    // The second run reads the file it wrote.
    assert_eq!(
        load_with_env(&paths, false, &no_env).unwrap(),
        Config::default()
    );
}

#[test]
fn an_explicit_missing_file_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_in(dir.path());
    let error = load_with_env(&paths, true, &no_env).unwrap_err();
    assert!(matches!(error, ConfigError::Missing { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&paths.config_file.display().to_string())
    );
    assert!(!paths.config_file.exists());
}

#[test]
fn the_template_parses_to_the_defaults() {
    let config: Config = toml::from_str(DEFAULT_TEMPLATE).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn the_uncommented_template_sets_every_key_to_its_default() {
    let text = uncommented_template();
    let config: Config = toml::from_str(&text).unwrap();
    assert_eq!(config, Config::default());

    let written: toml::Table = toml::from_str(&text).unwrap();
    let defaults = toml::Table::try_from(Config::default()).unwrap();
    let key_set = |table: &toml::Table| -> Vec<String> {
        let mut keys = Vec::new();
        for (section, value) in table {
            for key in value.as_table().unwrap().keys() {
                keys.push(format!("{section}.{key}"));
            }
            keys.push(section.clone());
        }
        keys.sort();
        keys
    };
    assert_eq!(
        key_set(&written),
        key_set(&defaults),
        "template and Config differ in keys"
    );
}

#[test]
fn the_uncommented_template_differs_when_a_default_changes() {
    // Guards the test above: uncommenting really sets values.
    let text = uncommented_template().replace("num_ctx = 8192", "num_ctx = 4096");
    let config: Config = toml::from_str(&text).unwrap();
    assert_eq!(config.ollama.num_ctx, 4096);
}

#[test]
fn a_file_loads_without_being_changed() {
    let text = "[ollama]\nmodel = \"qwen2.5:7b\"\n\n[sparky]\nrepos = [\"/src/a\"]\n";
    let (_dir, paths, result) = load_text(text, &[]);
    let config = result.unwrap();
    assert_eq!(config.ollama.model, "qwen2.5:7b");
    assert_eq!(config.sparky.repos, [PathBuf::from("/src/a")]);
    assert_eq!(config.ui, Config::default().ui);
    assert_eq!(std::fs::read_to_string(&paths.config_file).unwrap(), text);
}

/// Loads a broken file and checks the error names file, line and key, and the file is intact.
fn assert_broken(text: &str, line: usize, key: &str, message: &str) {
    let (_dir, paths, result) = load_text(text, &[]);
    let error = result.unwrap_err();
    let shown = error.to_string();
    let file = paths.config_file.display().to_string();
    assert!(shown.starts_with(&format!("{file}:{line}:")), "{shown}");
    assert!(shown.contains(&format!("key `{key}`")), "{shown}");
    assert!(shown.contains(message), "{shown}");
    match error {
        ConfigError::Invalid {
            line: at,
            key: Some(at_key),
            ..
        } => {
            assert_eq!((at, at_key.as_str()), (line, key));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(&paths.config_file).unwrap(),
        text,
        "file was changed"
    );
}

#[test]
fn a_syntax_error_names_file_line_and_key() {
    assert_broken(
        "[ui]\ntheme = \"dark\"\n\n[ollama]\nnum_ctx = = 5\n",
        5,
        "ollama.num_ctx",
        "",
    );
}

#[test]
fn an_unknown_key_names_file_line_and_key() {
    assert_broken(
        "[ui]\nmax_fps = 30\nthem = \"dark\"\n",
        3,
        "ui.them",
        "unknown field `them`",
    );
}

#[test]
fn an_unclosed_header_names_its_table() {
    assert_broken("[sparky]\nrepos = []\n[ui\n", 3, "ui", "unclosed table");
}

#[test]
fn an_unknown_section_names_it() {
    assert_broken(
        "[ui]\n\n[olama]\nurl = \"x\"\n",
        3,
        "olama",
        "unknown field `olama`",
    );
}

#[test]
fn a_wrong_type_in_a_nested_key_names_file_line_and_key() {
    let text = "[ui]\n\n[ollama]\nmodel = \"m\"\nnum_ctx = \"x\"\n";
    let (_dir, paths, result) = load_text(text, &[]);
    let expected = format!(
        "{}:5:11: key `ollama.num_ctx`: invalid type: string \"x\", expected u32",
        paths.config_file.display()
    );
    assert_eq!(result.unwrap_err().to_string(), expected);
    assert_broken(text, 5, "ollama.num_ctx", "expected u32");
}

#[test]
fn a_wrong_type_in_a_list_names_the_list() {
    assert_broken(
        "[sparky]\nbots = [\n  \"a\",\n  3,\n]\n",
        4,
        "sparky.bots",
        "invalid type",
    );
}

#[test]
fn an_unknown_theme_names_file_line_and_key() {
    assert_broken(
        "[ui]\ntheme = \"neon\"\n",
        2,
        "ui.theme",
        "unknown theme `neon`",
    );
}

#[test]
fn invalid_values_name_their_key() {
    assert_broken(
        "[ollama]\nurl = \"localhost:11434\"\n",
        2,
        "ollama.url",
        "http",
    );
    assert_broken("[ollama]\nnum_ctx = 100\n", 2, "ollama.num_ctx", "512");
    assert_broken(
        "[sparky]\nwriter = \"gpt\"\n",
        2,
        "sparky.writer",
        "auto, ollama, openai, builtin",
    );
    assert_broken(
        "[publish.channels]\nmastodon = [\"docs\"]\n",
        1,
        "publish.channels",
        "docs does not take mastodon drafts",
    );
    assert_broken(
        "[schedule]\nweekly = [\"daily\"]\n",
        2,
        "schedule.weekly",
        "another period's digest",
    );
    assert_broken(
        "[publish]\nauto = [\"x\"]\n",
        2,
        "publish.auto",
        "no channel",
    );
    assert_broken(
        "[schedule]\nweekly = [\"weekly\", \"tiktok\"]\n",
        2,
        "schedule.weekly",
        "unknown kind `tiktok`",
    );
    assert_broken(
        "[sparky]\ntime_zone = \"Mars/Olympus\"\n",
        2,
        "sparky.time_zone",
        "Mars",
    );
    assert_broken("ui.max_fps = 0\n", 1, "ui.max_fps", "1..=240");
}

#[test]
fn a_badly_shaped_secret_names_its_key() {
    assert_broken(
        "[publish]\ntoken = { vault = \"x\" }\n",
        2,
        "publish.token.vault",
        "expected one of `none`, `env`, `file`",
    );
}

#[test]
fn a_user_theme_can_be_chosen_and_a_broken_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_in(dir.path());
    std::fs::create_dir_all(&paths.themes_dir).unwrap();
    std::fs::write(&paths.config_file, "[ui]\ntheme = \"solar\"\n").unwrap();
    let solar = std::fs::read_to_string("themes/light.toml").unwrap();
    std::fs::write(paths.themes_dir.join("solar.toml"), &solar).unwrap();
    assert_eq!(
        load_with_env(&paths, true, &no_env).unwrap().ui.theme,
        "solar"
    );

    std::fs::write(
        paths.themes_dir.join("solar.toml"),
        solar.replace("#fafafa", "white-ish"),
    )
    .unwrap();
    let error = load_with_env(&paths, true, &no_env).unwrap_err();
    assert!(matches!(error, ConfigError::Theme(_)), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.contains("solar.toml:") && shown.contains("key `bg`"),
        "{shown}"
    );
}

#[test]
fn env_overrides_strings_numbers_lists_and_flags() {
    let text = "[ollama]\nurl = \"http://file:1\"\nnum_ctx = 1024\n";
    let env = [
        ("RAIBID_OLLAMA_URL", "https://gpu.lab:11434"),
        ("RAIBID_OLLAMA_NUM_CTX", "16384"),
        ("RAIBID_OLLAMA_TEMPERATURE", "0.7"),
        ("RAIBID_SPARKY_REPOS", "/src/a, /src/b c,"),
        ("RAIBID_PUBLISH_PUSH", "true"),
        ("RAIBID_UI_THEME", "light"),
    ];
    let (_dir, _paths, result) = load_text(text, &env);
    let config = result.unwrap();
    assert_eq!(config.ollama.url, "https://gpu.lab:11434");
    assert_eq!(config.ollama.num_ctx, 16384);
    assert_eq!(config.ollama.temperature, 0.7);
    assert_eq!(
        config.sparky.repos,
        [PathBuf::from("/src/a"), PathBuf::from("/src/b c")]
    );
    assert!(config.publish.push);
    assert_eq!(config.ui.theme, "light");
}

#[test]
fn an_empty_list_variable_clears_the_list() {
    let (_dir, _paths, result) = load_text("", &[("RAIBID_SPARKY_BOTS", "")]);
    assert!(result.unwrap().sparky.bots.is_empty());
}

fn env_error(env: &[(&str, &str)]) -> (String, String) {
    let (_dir, paths, result) = load_text("", env);
    match result.unwrap_err() {
        ConfigError::Env { var, message } => {
            assert_eq!(std::fs::read_to_string(&paths.config_file).unwrap(), "");
            (var, message)
        }
        other => panic!("expected Env, got {other:?}"),
    }
}

#[test]
fn a_bad_env_value_names_its_variable() {
    let (var, message) = env_error(&[("RAIBID_OLLAMA_NUM_CTX", "lots")]);
    assert_eq!(var, "RAIBID_OLLAMA_NUM_CTX");
    assert!(
        message.contains("integer") && message.contains("lots"),
        "{message}"
    );

    let (var, message) = env_error(&[("RAIBID_UI_MAX_FPS", "-1")]);
    assert_eq!(var, "RAIBID_UI_MAX_FPS");
    assert!(message.contains("u32"), "{message}");

    let (var, _) = env_error(&[("RAIBID_PUBLISH_PUSH", "yes")]);
    assert_eq!(var, "RAIBID_PUBLISH_PUSH");
}

#[test]
fn an_invalid_env_value_is_blamed_on_its_variable() {
    let (var, message) = env_error(&[("RAIBID_UI_THEME", "neon")]);
    assert_eq!(var, "RAIBID_UI_THEME");
    assert!(message.contains("unknown theme `neon`"), "{message}");
    let (var, _) = env_error(&[("RAIBID_SPARKY_STARTUP_DIGEST", "year")]);
    assert_eq!(var, "RAIBID_SPARKY_STARTUP_DIGEST");
}

#[test]
fn the_publish_token_variable_is_a_secret_not_an_override() {
    let (_dir, _paths, result) = load_text("", &[("RAIBID_PUBLISH_TOKEN", "s3cr3t")]);
    let config = result.unwrap();
    assert_eq!(
        config.publish.token,
        Secret::Env("RAIBID_PUBLISH_TOKEN".into())
    );
}

#[test]
fn secrets_parse_from_their_toml_forms() {
    let parse = |text: &str| toml::from_str::<Config>(text).unwrap().publish.token;
    assert_eq!(
        parse("[publish]\ntoken = { env = \"GH\" }"),
        Secret::Env("GH".into())
    );
    assert_eq!(
        parse("[publish]\ntoken = { file = \"/k\" }"),
        Secret::File("/k".into())
    );
    assert_eq!(parse("[publish]\ntoken = \"none\""), Secret::None);
    assert_eq!(parse(""), Secret::Env("RAIBID_PUBLISH_TOKEN".into()));
}

#[test]
fn a_secret_comes_from_the_environment() {
    // PATH is set in every test run; reading it needs no change to the process environment.
    let expected = std::env::var("PATH").ok().filter(|path| !path.is_empty());
    assert_eq!(Secret::Env("PATH".into()).reveal().unwrap(), expected);
    let unset = Secret::Env("RAIBID_TEST_NEVER_SET_4F2A".into());
    assert_eq!(unset.reveal().unwrap(), None);
    assert_eq!(Secret::None.reveal().unwrap(), None);
}

fn secret_file(dir: &Path, mode: u32, content: &str) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn a_secret_comes_from_a_0600_file_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), 0o600, "  s3cr3t-value\n");
    assert_eq!(
        Secret::File(path).reveal().unwrap().as_deref(),
        Some("s3cr3t-value")
    );
}

#[test]
fn a_secret_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), 0o644, "s3cr3t-value");
    let error = Secret::File(path.clone()).reveal().unwrap_err();
    assert!(
        matches!(error, SecretError::Permissions { mode: 0o644, .. }),
        "{error:?}"
    );
    let shown = error.to_string();
    assert!(
        shown.contains(&path.display().to_string()) && shown.contains("0644"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
    let group_only = secret_file(dir.path(), 0o640, "s3cr3t-value");
    assert!(Secret::File(group_only).reveal().is_err());
}

#[test]
fn a_missing_secret_file_names_its_path() {
    let error = Secret::File("/nonexistent/raibid-token".into())
        .reveal()
        .unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/raibid-token"),
        "{error}"
    );
}

/// The config with `[ci]` keys `ci`, loaded as a file would be.
fn ci_config(ci: &str) -> Config {
    let (_dir, _paths, config) = load_text(&format!("[ci]\n{ci}\n"), &[]);
    config.unwrap()
}

#[test]
fn the_queue_password_comes_from_a_0400_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), 0o400, "pass word/1\n");
    let config = ci_config(&format!(
        "redis_url = \"redis://redis.lab:6379/0\"\nredis_password = {{ file = {:?} }}",
        path.display().to_string()
    ));
    assert_eq!(config.ci.redis_password, Secret::File(path));
    assert_eq!(
        config.ci.queue_url().unwrap(),
        "redis://:pass%20word%2F1@redis.lab:6379/0"
    );
    let mut socket = config.ci.clone();
    socket.redis_url = "unix:///run/redis.sock".into();
    assert_eq!(
        socket.queue_url().unwrap(),
        "unix:///run/redis.sock?pass=pass+word%2F1"
    );
}

#[test]
fn without_a_queue_password_the_url_is_used_as_is() {
    let config = ci_config("redis_url = \"redis://:inline@redis.lab:6379/0\"");
    assert_eq!(config.ci.redis_password, Secret::None);
    assert_eq!(
        config.ci.queue_url().unwrap(),
        "redis://:inline@redis.lab:6379/0"
    );
    assert_eq!(
        Config::default().ci.queue_url().unwrap(),
        "redis://127.0.0.1:6379/0"
    );
}

#[test]
fn a_missing_queue_password_file_names_the_key_and_the_path() {
    let config = ci_config("redis_password = { file = \"/nonexistent/raibid/redis/password\" }");
    let shown = config.ci.queue_url().unwrap_err().to_string();
    assert!(
        shown.starts_with("ci.redis_password: /nonexistent/raibid/redis/password: "),
        "{shown}"
    );
}

#[test]
fn a_queue_password_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), 0o444, "s3cr3t-value");
    let config = ci_config(&format!(
        "redis_password = {{ file = {:?} }}",
        path.display().to_string()
    ));
    let shown = config.ci.queue_url().unwrap_err().to_string();
    assert!(
        shown.contains("ci.redis_password") && shown.contains("0444"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[test]
fn debug_and_display_show_the_source_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), 0o600, "s3cr3t-value");
    let secret = Secret::File(path.clone());
    assert_eq!(secret.to_string(), format!("file {}", path.display()));
    assert!(!format!("{secret:?}").contains("s3cr3t"));
    assert_eq!(Secret::Env("GH".into()).to_string(), "env GH");
}

#[test]
fn show_masks_secrets_and_prints_the_effective_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), 0o600, "s3cr3t-value");
    let mut config = Config::default();
    config.ollama.num_ctx = 4096;
    config.publish.token = Secret::File(path.clone());
    let shown = show(&config);
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(
        shown.contains(&format!("token = \"<file {}: set>\"", path.display())),
        "{shown}"
    );
    assert!(shown.contains("num_ctx = 4096"), "{shown}");
    assert!(shown.contains("temperature = 0.2\n"), "{shown}");
    let table: toml::Table = toml::from_str(&shown).unwrap();
    assert_eq!(table["ui"]["theme"].as_str(), Some("dark"));

    config.publish.token = Secret::Env("PATH".into());
    let shown = show(&config);
    assert!(shown.contains("token = \"<env PATH: set>\""), "{shown}");
    if let Ok(value) = std::env::var("PATH") {
        assert!(!shown.contains(&value), "{shown}");
    }
    config.publish.token = Secret::None;
    assert!(show(&config).contains("token = \"<none>\""));
}

#[test]
fn show_masks_passwords_in_urls() {
    let mut config = Config::default();
    config.ci.redis_url = "redis://:s3cr3t@redis:6379/0".into();
    config.gitea.url = "https://ci:t0ken@gitea.local".into();
    config.ollama.url = "http://ann@127.0.0.1:11434".into();
    let shown = show(&config);
    for secret in ["s3cr3t", "t0ken", "ann@"] {
        assert!(!shown.contains(secret), "{secret}:\n{shown}");
    }
    assert!(
        shown.contains("redis_url = \"redis://:***@redis:6379/0\""),
        "{shown}"
    );
    assert!(shown.contains("\"https://ci:***@gitea.local\""), "{shown}");
    assert!(shown.contains("\"http://***@127.0.0.1:11434\""), "{shown}");
}

#[test]
fn an_explicit_path_wins() {
    let paths = Paths::resolve(Some(Path::new("/etc/raibid.toml"))).unwrap();
    assert_eq!(paths.config_file, Path::new("/etc/raibid.toml"));
}

/// Runs `print_paths_for_parent` in a child test process with `env` and parses its output.
/// What `raibid config path` prints with `env` set, keyed like [`Paths`]' fields.
fn child_paths(env: &[(&str, &Path)]) -> HashMap<String, String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raibid"));
    command.args(["config", "path"]).env_remove("RAIBID_CONFIG");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once(char::is_whitespace))
        .map(|(name, value)| {
            let field = match name {
                "config" => "config_file",
                "data" => "data_dir",
                "log" => "log_file",
                "themes" => "themes_dir",
                other => other,
            };
            (field.to_owned(), value.trim().to_owned())
        })
        .collect()
}

#[test]
fn paths_follow_xdg_dirs_and_raibid_config() {
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = (dir.path().join("c"), dir.path().join("d"));
    let xdg = [
        ("XDG_CONFIG_HOME", config.as_path()),
        ("XDG_DATA_HOME", data.as_path()),
    ];
    let paths = child_paths(&xdg);
    let expect = |path: PathBuf| path.display().to_string();
    assert_eq!(
        paths["config_file"],
        expect(config.join("raibid/config.toml"))
    );
    assert_eq!(paths["data_dir"], expect(data.join("raibid")));
    assert_eq!(paths["log_file"], expect(data.join("raibid/raibid.log")));
    assert_eq!(paths["themes_dir"], expect(config.join("raibid/themes")));

    let chosen = dir.path().join("elsewhere.toml");
    let paths = child_paths(&[xdg[0], xdg[1], ("RAIBID_CONFIG", chosen.as_path())]);
    assert_eq!(paths["config_file"], expect(chosen));
    assert_eq!(paths["themes_dir"], expect(config.join("raibid/themes")));
}
