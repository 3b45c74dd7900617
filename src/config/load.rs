//! Reading the config: the file (or the first-run template), then `RAIBID_*` overrides,
//! then validation. Nothing is written except the template when no file exists yet.

use std::io::Write;
use std::path::Path;

use super::env::{self, Override};
use super::locate::{error_position, locate_key};
use super::validate::{Problem, validate};
use super::{Config, ConfigError, DEFAULT_TEMPLATE, Paths};
use crate::app::theme::Themes;

/// Loads the config with overrides from the process environment. `explicit` says the path
/// was asked for (`--config` or `RAIBID_CONFIG`), so a missing file is an error rather
/// than a first run.
pub fn load(paths: &Paths, explicit: bool) -> Result<Config, ConfigError> {
    load_with_env(paths, explicit, &|var| std::env::var(var).ok())
}

/// [`load`] with the environment given as a lookup, so tests need not touch process state.
pub fn load_with_env(
    paths: &Paths,
    explicit: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let file = &paths.config_file;
    let text = read_or_create(file, explicit)?;
    let invalid = |error: toml::de::Error| {
        let position = error_position(&text, &error);
        ConfigError::Invalid {
            file: file.clone(),
            line: position.line,
            column: position.column,
            key: position.key,
            message: error.message().to_owned(),
        }
    };
    let from_file: Config = toml::from_str(&text).map_err(invalid)?;
    let document: toml::Table = toml::from_str(&text).map_err(invalid)?;
    let (config, applied) = env::apply(from_file, document, env)?;
    let themes = Themes::load(&paths.themes_dir)?;
    validate(&config, &themes).map_err(|problem| blame(problem, &applied, file, &text))?;
    Ok(config)
}

/// Points a validation problem at where its value came from: a variable, or the file.
fn blame(problem: Problem, applied: &[Override], file: &Path, text: &str) -> ConfigError {
    let Problem { key, message } = problem;
    if let Some(applied) = applied.iter().find(|o| o.dotted_key() == key) {
        return ConfigError::Env {
            var: applied.var.clone(),
            message,
        };
    }
    match locate_key(text, key) {
        Some((line, column)) => ConfigError::Invalid {
            file: file.to_owned(),
            line,
            column,
            key: Some(key.to_owned()),
            message,
        },
        None => ConfigError::InvalidDefault {
            key: key.to_owned(),
            message,
        },
    }
}

/// The file's text; on a first run (no file at the default path) the template, written there.
fn read_or_create(file: &Path, explicit: bool) -> Result<String, ConfigError> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if explicit {
                return Err(ConfigError::Missing {
                    path: file.to_owned(),
                });
            }
            write_template(file)?;
            Ok(DEFAULT_TEMPLATE.to_owned())
        }
        Err(source) => Err(ConfigError::Read {
            path: file.to_owned(),
            source,
        }),
    }
}

/// `create_new`, so a file that appeared meanwhile is never overwritten.
fn write_template(file: &Path) -> Result<(), ConfigError> {
    let write_error = |source| ConfigError::WriteTemplate {
        path: file.to_owned(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
    {
        Ok(mut created) => created
            .write_all(DEFAULT_TEMPLATE.as_bytes())
            .map_err(write_error),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(write_error(source)),
    }
}
