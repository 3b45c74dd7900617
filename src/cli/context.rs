//! What every command needs: paths, the checked config, keymap and themes, and the logger.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::Console;
use crate::app::keymap::Keymap;
use crate::app::theme::Themes;
use crate::backend::ci::pool::PoolSpec;
use crate::backend::sparky::actor::Places;
use crate::backend::sparky::pipeline;
use crate::backend::sparky::store::Store;
use crate::config::{self, CONFIG_ENV, Config, Paths};

use super::{Failure, logging};

pub struct Context {
    pub paths: Paths,
    pub config: Arc<Config>,
    pub keymap: Keymap,
    pub themes: Themes,
    pub cwd: PathBuf,
}

impl Context {
    /// Loads and checks everything; any fault in the user's files is exit 2.
    pub fn load(config_override: Option<&Path>) -> Result<Context, Failure> {
        let paths = Paths::resolve(config_override).map_err(Failure::bad_input)?;
        let explicit = config_override.is_some()
            || std::env::var_os(CONFIG_ENV).is_some_and(|v| !v.is_empty());
        let config = config::load(&paths, explicit).map_err(Failure::bad_input)?;
        let keymap = Keymap::new(&config.keys).map_err(|e| {
            let key = format!("keys.{}", e.action);
            let at = std::fs::read_to_string(&paths.config_file)
                .ok()
                .and_then(|text| config::locate_key(&text, &key))
                .map(|(line, column)| format!(":{line}:{column}"))
                .unwrap_or_default();
            Failure::bad_input(format!(
                "{}{at}: key `{key}`: {}",
                paths.config_file.display(),
                e.message
            ))
        })?;
        let themes = Themes::load(&paths.themes_dir).map_err(Failure::bad_input)?;
        logging::init(&config.log, &paths.log_file).map_err(Failure::bad_input)?;
        let cwd = std::env::current_dir()
            .map_err(|e| Failure::failed(format!("cannot read the current directory: {e}")))?;
        Ok(Context {
            paths,
            config: Arc::new(config),
            keymap,
            themes,
            cwd,
        })
    }

    pub fn places(&self) -> Places {
        let store = &self.config.store.dir;
        Places {
            drafts_dir: if store.as_os_str().is_empty() {
                self.paths.data_dir.join("drafts")
            } else {
                store.clone()
            },
            default_docs_dir: self.paths.data_dir.join("docs"),
            data_dir: self.paths.data_dir.clone(),
            cwd: self.cwd.clone(),
        }
    }

    /// Where digests read and remember.
    pub fn dirs(&self) -> pipeline::Dirs {
        pipeline::Dirs {
            cwd: self.cwd.clone(),
            data_dir: self.paths.data_dir.clone(),
        }
    }

    pub fn store(&self) -> Result<Store, Failure> {
        Store::open(&self.places().drafts_dir).map_err(Failure::failed)
    }

    /// How pools start agents: this binary, with the config this process was given.
    pub fn pool_spec(&self) -> Result<PoolSpec, Failure> {
        let program = std::env::current_exe()
            .map_err(|e| Failure::failed(format!("cannot find the raibid binary: {e}")))?;
        Ok(PoolSpec {
            program,
            global_args: vec![
                "--config".into(),
                self.paths.config_file.clone().into_os_string(),
            ],
            name_prefix: "local".into(),
        })
    }

    pub fn console(self) -> Result<Console, Failure> {
        let places = self.places();
        let pool = self.pool_spec()?;
        Ok(Console {
            config: self.config,
            keymap: self.keymap,
            themes: self.themes,
            places,
            pool,
            data_dir: self.paths.data_dir.clone(),
        })
    }
}
