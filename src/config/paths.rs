//! Where raibid keeps its files: the XDG config and data dirs (via `directories`), or the
//! config file given with `--config` / `RAIBID_CONFIG`.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use super::ConfigError;

/// The environment variable that names a config file, like `--config`.
pub const CONFIG_ENV: &str = "RAIBID_CONFIG";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub log_file: PathBuf,
    /// User themes: `<config dir>/themes/<name>.toml`.
    pub themes_dir: PathBuf,
}

impl Paths {
    /// `config_override` (from `--config`) wins over `RAIBID_CONFIG`, which wins over
    /// `<config dir>/config.toml`.
    pub fn resolve(config_override: Option<&Path>) -> Result<Paths, ConfigError> {
        let dirs = ProjectDirs::from("", "", "raibid").ok_or(ConfigError::NoHomeDir)?;
        let from_env = std::env::var_os(CONFIG_ENV).filter(|value| !value.is_empty());
        let config_file = match (config_override, from_env) {
            (Some(path), _) => path.to_owned(),
            (None, Some(path)) => PathBuf::from(path),
            (None, None) => dirs.config_dir().join("config.toml"),
        };
        let data_dir = dirs.data_dir().to_owned();
        Ok(Paths {
            config_file,
            log_file: data_dir.join("raibid.log"),
            data_dir,
            themes_dir: dirs.config_dir().join("themes"),
        })
    }
}
