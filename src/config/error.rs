use std::path::PathBuf;

use crate::app::theme::ThemeError;

/// Why the config cannot be used. Each says which file, line and key, or which variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find the home directory to place config.toml in; pass --config FILE")]
    NoHomeDir,
    #[error("{}: config file not found", path.display())]
    Missing { path: PathBuf },
    #[error("{}: cannot read config: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write the default config: {source}", path.display())]
    WriteTemplate {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax error, unknown key, wrong type or invalid value in the file.
    #[error("{}:{line}:{column}: {}{message}", file.display(), key_prefix(key.as_deref()))]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        /// The dotted key at fault; `None` only for syntax errors outside any key.
        key: Option<String>,
        message: String,
    },
    /// A `RAIBID_*` override that does not fit its key.
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    /// A built-in default that fails validation: a bug in raibid, not in the file.
    #[error("built-in default of `{key}` is invalid: {message}")]
    InvalidDefault { key: String, message: String },
    #[error(transparent)]
    Theme(#[from] ThemeError),
}

fn key_prefix(key: Option<&str>) -> String {
    key.map(|key| format!("key `{key}`: ")).unwrap_or_default()
}
