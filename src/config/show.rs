//! The effective config as TOML for `raibid config show`, with secrets masked.

use toml::{Table, Value};

use super::{Config, Secret};

/// Every secret in the config, by section and key. A new `Secret` field belongs here.
fn secrets(config: &Config) -> [(&'static str, &'static str, &Secret); 1] {
    [("publish", "token", &config.publish.token)]
}

/// The config as TOML; each secret shows its source and whether it holds a value, e.g.
/// `token = "<env RAIBID_PUBLISH_TOKEN: set>"`, never the value itself.
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
    table
        .iter_mut()
        .for_each(|(_, value)| shorten_floats(value));
    table.to_string()
}

/// `f32` keys arrive widened to `f64` (`0.2` as `0.20000000298023224`); print such values
/// by their shortest `f32` form. Values an `f32` cannot hold exactly are left alone.
fn shorten_floats(value: &mut Value) {
    match value {
        Value::Float(float) if f64::from(*float as f32) == *float => {
            *float = (*float as f32).to_string().parse().unwrap_or(*float);
        }
        Value::Table(table) => table
            .iter_mut()
            .for_each(|(_, value)| shorten_floats(value)),
        Value::Array(items) => items.iter_mut().for_each(shorten_floats),
        _ => {}
    }
}
