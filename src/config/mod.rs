//! Settings: `config.toml` in the user's config dir (or `--config` / `RAIBID_CONFIG`),
//! `RAIBID_<SECTION>_<KEY>` overrides, validation, secrets and user themes' location.

mod env;
mod error;
mod load;
mod locate;
mod paths;
mod schema;
pub mod secret;
mod show;
mod validate;

pub use error::ConfigError;
pub use load::{load, load_with_env};
pub(crate) use locate::error_position;
pub use locate::locate_key;
pub use paths::{CONFIG_ENV, Paths};
pub use schema::*;
pub use secret::{Secret, SecretError};
pub use show::show;
pub use validate::{GITEA_MIN_CHART_VERSION, GITEA_MIN_VERSION, parse_version};

/// The commented config written on first run: every key as `# key = default` under its
/// `[section]`, with a line above saying what it does.
pub const DEFAULT_TEMPLATE: &str = include_str!("default.toml");
