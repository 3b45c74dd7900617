//! Where log lines go: to stderr when it is not a terminal (a pod, a pipe, systemd), so
//! `kubectl logs` shows what every role did, and to `raibid.log` in the data dir when
//! `log.file` is on. The console on a terminal therefore logs only to its file and never
//! draws a line over its UI.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::config::LogConfig;

/// The filter variables, the first set one wins: raibid's own, then the Rust convention.
const FILTER_VARS: [&str; 2] = ["RAIBID_LOG", "RUST_LOG"];

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the process's logger. A filter that does not parse is bad input; a log file
/// that cannot be opened only costs the file.
pub fn init(config: &LogConfig, log_file: &Path) -> Result<(), String> {
    let filter = filter(&|var| std::env::var(var).ok())?;
    let json = config.format == "json";
    let mut layers: Vec<BoxedLayer> = Vec::new();
    if config.file
        && let Some(file) = open(log_file)
    {
        layers.push(layer(Mutex::new(file), json));
    }
    if !std::io::stderr().is_terminal() {
        layers.push(layer(std::io::stderr, json));
    }
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    Ok(())
}

/// The level filter from the first set variable of [`FILTER_VARS`] (EnvFilter directives,
/// e.g. `debug` or `info,raibid=debug`), else `info`.
fn filter(env: &dyn Fn(&str) -> Option<String>) -> Result<EnvFilter, String> {
    let set = FILTER_VARS
        .iter()
        .find_map(|var| env(var).filter(|v| !v.trim().is_empty()).map(|v| (var, v)));
    let Some((var, directives)) = set else {
        return Ok(EnvFilter::default().add_directive(LevelFilter::INFO.into()));
    };
    EnvFilter::builder()
        .parse(&directives)
        .map_err(|error| format!("{var}={directives:?} is not a log filter: {error}"))
}

fn layer<W>(writer: W, json: bool) -> BoxedLayer
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let text = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    if json {
        text.json().boxed()
    } else {
        text.boxed()
    }
}

fn open(log_file: &Path) -> Option<std::fs::File> {
    log_file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(log_file))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(vars: &[(&str, &str)]) -> Result<String, String> {
        let env = |name: &str| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| value.to_string())
        };
        filter(&env).map(|filter| filter.to_string())
    }

    #[test]
    fn raibid_log_wins_over_rust_log_and_info_is_the_default() {
        assert_eq!(parsed(&[]).unwrap(), "info");
        assert_eq!(parsed(&[("RUST_LOG", "warn")]).unwrap(), "warn");
        assert_eq!(
            parsed(&[("RUST_LOG", "warn"), ("RAIBID_LOG", "debug")]).unwrap(),
            "debug"
        );
        assert_eq!(
            parsed(&[("RAIBID_LOG", " "), ("RUST_LOG", "raibid=trace")]).unwrap(),
            "raibid=trace"
        );
    }

    #[test]
    fn a_bad_filter_names_its_variable() {
        let error = parsed(&[("RUST_LOG", "raibid=loud")]).unwrap_err();
        assert!(error.starts_with("RUST_LOG=\"raibid=loud\""), "{error}");
    }
}
