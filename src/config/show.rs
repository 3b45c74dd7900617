//! The effective config as TOML for `raibid config show`, with secrets masked.

use toml::{Table, Value};

use super::{Config, Secret};
use crate::backend::queue::mask_url;

/// Every secret in the config, by section and key. A new `Secret` field belongs here.
fn secrets(config: &Config) -> [(&'static str, &'static str, &Secret); 1] {
    [("publish", "token", &config.publish.token)]
}

/// The config as TOML; each secret shows its source and whether it holds a value, e.g.
/// `token = "<env RAIBID_PUBLISH_TOKEN: set>"`, never the value itself, and a password
/// written into a URL shows as `***` (`redis://:***@host`).
pub fn show(config: &Config) -> String {
    let mut table = match Table::try_from(config) {
        Ok(table) => table,
        Err(error) => return format!("# cannot show the config: {error}\n"),
    };
    for (section, key, secret) in secrets(config) {
        if let Some(Value::Table(section)) = table.get_mut(section) {
            section.insert(key.to_owned(), Value::String(secret.status()));
        }
    }
    table.iter_mut().for_each(|(_, value)| shown(value));
    table.to_string()
}

/// Masks the password of every URL and shortens floats, in tables and arrays alike.
fn shown(value: &mut Value) {
    match value {
        // Only a whole URL: a command line holding one (`k3s_install`) is not parsed.
        Value::String(text) if !text.contains(char::is_whitespace) => *text = mask_url(text),
        Value::Float(_) => shorten_float(value),
        Value::Table(table) => table.iter_mut().for_each(|(_, value)| shown(value)),
        Value::Array(items) => items.iter_mut().for_each(shown),
        _ => {}
    }
}

/// `f32` keys arrive widened to `f64` (`0.2` as `0.20000000298023224`); print such values
/// by their shortest `f32` form. Values an `f32` cannot hold exactly are left alone.
fn shorten_float(value: &mut Value) {
    if let Value::Float(float) = value
        && f64::from(*float as f32) == *float
    {
        *float = (*float as f32).to_string().parse().unwrap_or(*float);
    }
}
