//! `RAIBID_<SECTION>_<KEY>` overrides. The keys come from the default config's serialized
//! table, so a new key gets its variable without further code.

use toml::{Table, Value};

use super::{Config, ConfigError};

/// A variable that overrides one key, e.g. `RAIBID_OLLAMA_NUM_CTX` for `ollama.num_ctx`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Override {
    pub section: String,
    pub key: String,
    pub var: String,
    /// The default value, whose type the variable's text is parsed to.
    pub default: Value,
}

impl Override {
    pub fn dotted_key(&self) -> String {
        format!("{}.{}", self.section, self.key)
    }
}

/// Every scalar and list key of every section. Not `[keys]` (bindings are edited in the
/// file) and not table-valued keys such as secrets, whose sources name variables themselves.
pub(crate) fn overrides() -> Vec<Override> {
    let defaults =
        Table::try_from(Config::default()).expect("the default config serializes to a table");
    let mut overrides = Vec::new();
    for (section, value) in defaults {
        let Value::Table(keys) = value else { continue };
        if section == "keys" {
            continue;
        }
        for (key, default) in keys {
            if default.is_table() {
                continue;
            }
            let var = format!("RAIBID_{section}_{key}")
                .to_uppercase()
                .replace('-', "_");
            overrides.push(Override {
                section: section.clone(),
                key,
                var,
                default,
            });
        }
    }
    overrides
}

/// Applies every set variable on top of the file: `document` is the file's table and
/// `from_file` the config it gave. Returns the result and the overrides that were applied.
pub(crate) fn apply(
    from_file: Config,
    mut document: Table,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Config, Vec<Override>), ConfigError> {
    let mut config = from_file;
    let mut applied = Vec::new();
    for candidate in overrides() {
        let Some(text) = env(&candidate.var) else {
            continue;
        };
        let env_error = |message: String| ConfigError::Env {
            var: candidate.var.clone(),
            message,
        };
        let value = parse_like(&candidate.default, &text).map_err(env_error)?;
        let section = document
            .entry(candidate.section.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(section) = section else {
            return Err(env_error(format!(
                "`{}` in the file is not a table",
                candidate.section
            )));
        };
        section.insert(candidate.key.clone(), value);
        // Deserialize after each variable so that a value that does not fit names its variable.
        config = Value::Table(document.clone())
            .try_into::<Config>()
            .map_err(|error| env_error(error.message().to_owned()))?;
        applied.push(candidate);
    }
    Ok((config, applied))
}

/// Parses `text` to the type of `default`; lists are comma-separated strings.
fn parse_like(default: &Value, text: &str) -> Result<Value, String> {
    match default {
        Value::String(_) => Ok(Value::String(text.to_owned())),
        Value::Integer(_) => text
            .trim()
            .parse()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, got `{text}`")),
        Value::Float(_) => text
            .trim()
            .parse()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, got `{text}`")),
        Value::Boolean(_) => match text.trim() {
            "true" => Ok(Value::Boolean(true)),
            "false" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got `{text}`")),
        },
        Value::Array(_) => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        )),
        Value::Datetime(_) | Value::Table(_) => Err("this key has no override".to_owned()),
    }
}
