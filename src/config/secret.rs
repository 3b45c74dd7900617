//! Secrets named in the config by their source (an environment variable or a 0600 file),
//! read only when needed and never shown: `Debug`, `Display` and `show` print the source.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a secret comes from. In TOML: `token = { env = "NAME" }`,
/// `token = { file = "/path" }` or `token = "none"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Secret {
    None,
    Env(String),
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {var} holds a secret that is not valid UTF-8")]
    NotUnicode { var: String },
    #[error("{}: cannot read secret: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: secret file has mode {mode:04o}, readable by others; run `chmod 600` on it",
        path.display()
    )]
    Permissions { path: PathBuf, mode: u32 },
}

impl Secret {
    /// The secret's value: `None` when its source is unset, empty or `Secret::None`.
    pub fn reveal(&self) -> Result<Option<String>, SecretError> {
        match self {
            Secret::None => Ok(None),
            Secret::Env(var) => match std::env::var(var) {
                Ok(value) if !value.is_empty() => Ok(Some(value)),
                Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(SecretError::NotUnicode { var: var.clone() })
                }
            },
            Secret::File(path) => read_private_file(path),
        }
    }

    /// Whether the source currently holds a value, for display: `<env NAME: set>`.
    /// Never reads the value itself, only whether it is there.
    pub fn status(&self) -> String {
        match self {
            Secret::None => "<none>".to_owned(),
            Secret::Env(var) => {
                let set = std::env::var_os(var).is_some_and(|value| !value.is_empty());
                format!("<env {var}: {}>", if set { "set" } else { "unset" })
            }
            Secret::File(path) => {
                let state = if path.is_file() { "set" } else { "missing" };
                format!("<file {}: {state}>", path.display())
            }
        }
    }
}

/// Refuses files that the group or others may access: a leaked mode is a leaked secret.
fn read_private_file(path: &Path) -> Result<Option<String>, SecretError> {
    let read_error = |source| SecretError::Read {
        path: path.to_owned(),
        source,
    };
    let mode = std::fs::metadata(path)
        .map_err(read_error)?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    let content = std::fs::read_to_string(path).map_err(read_error)?;
    let value = content.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::None => f.write_str("none"),
            Secret::Env(var) => write!(f, "env {var}"),
            Secret::File(path) => write!(f, "file {}", path.display()),
        }
    }
}
