//! Checks that a value is one the program can use, beyond its type.

use super::Config;
use crate::app::theme::Themes;

/// The first value that cannot be used: its dotted key and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub key: &'static str,
    pub message: String,
}

pub(crate) fn validate(config: &Config, themes: &Themes) -> Result<(), Problem> {
    let problem = |key, message: String| Err(Problem { key, message });
    if themes.get(&config.ui.theme).is_none() {
        return problem(
            "ui.theme",
            format!(
                "unknown theme `{}`; available: {} (or add {0}.toml to the themes dir)",
                config.ui.theme,
                themes.names().join(", ")
            ),
        );
    }
    if !(1..=240).contains(&config.ui.max_fps) {
        return problem(
            "ui.max_fps",
            format!("{} is not in 1..=240", config.ui.max_fps),
        );
    }
    let choices: [(&'static str, &str, &[&str]); 3] = [
        (
            "sparky.writer",
            &config.sparky.writer,
            &["auto", "ollama", "builtin"],
        ),
        (
            "sparky.empty_period",
            &config.sparky.empty_period,
            &["one-line", "none"],
        ),
        (
            "sparky.startup_digest",
            &config.sparky.startup_digest,
            &["day", "week", "month", "off"],
        ),
    ];
    for (key, value, allowed) in choices {
        if !allowed.contains(&value) {
            return problem(
                key,
                format!("`{value}` is not one of {}", allowed.join(", ")),
            );
        }
    }
    let zone = &config.sparky.time_zone;
    if !zone.is_empty() && jiff::tz::TimeZone::get(zone).is_err() {
        return problem(
            "sparky.time_zone",
            format!("unknown time zone `{zone}`; use an IANA name such as Europe/Berlin"),
        );
    }
    if let Err(why) = check_http_url(&config.ollama.url) {
        return problem("ollama.url", format!("`{}` {why}", config.ollama.url));
    }
    if config.ollama.num_ctx < 512 {
        return problem(
            "ollama.num_ctx",
            format!("{} is below 512", config.ollama.num_ctx),
        );
    }
    Ok(())
}

/// `http://` or `https://`, a host and an optional numeric port.
fn check_http_url(url: &str) -> Result<(), &'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .ok_or("is not an http:// or https:// URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("has an unclosed `[` in its host")?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("has no host");
    }
    if port.is_some_and(|port| port.parse::<u16>().is_err()) {
        return Err("has a port that is not a number up to 65535");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_need_scheme_and_host() {
        for good in [
            "http://127.0.0.1:11434",
            "https://ollama.lab/api",
            "http://[::1]:11434/",
            "HTTP://user@host",
        ] {
            assert_eq!(check_http_url(good), Ok(()), "{good}");
        }
        for bad in [
            "127.0.0.1:11434",
            "ftp://host",
            "http://",
            "http://:80",
            "http://h:99999",
            "http://[::1",
        ] {
            assert!(check_http_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default(), &Themes::builtin()), Ok(()));
    }

    #[test]
    fn each_rule_names_its_key() {
        let themes = Themes::builtin();
        type Breaker = fn(&mut Config);
        let cases: [(&str, Breaker); 8] = [
            ("ui.theme", |c| c.ui.theme = "neon".into()),
            ("ui.max_fps", |c| c.ui.max_fps = 0),
            ("sparky.writer", |c| c.sparky.writer = "gpt".into()),
            ("sparky.empty_period", |c| {
                c.sparky.empty_period = "filler".into()
            }),
            ("sparky.startup_digest", |c| {
                c.sparky.startup_digest = "year".into()
            }),
            ("sparky.time_zone", |c| {
                c.sparky.time_zone = "Mars/Olympus".into()
            }),
            ("ollama.url", |c| c.ollama.url = "localhost".into()),
            ("ollama.num_ctx", |c| c.ollama.num_ctx = 511),
        ];
        for (key, break_it) in cases {
            let mut config = Config::default();
            break_it(&mut config);
            assert_eq!(validate(&config, &themes).map_err(|p| p.key), Err(key));
        }
        let mut config = Config::default();
        config.sparky.time_zone = "Europe/Berlin".into();
        config.ui.max_fps = 240;
        config.ollama.num_ctx = 512;
        assert_eq!(validate(&config, &themes), Ok(()));
    }
}
