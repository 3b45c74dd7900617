//! `--color auto|always|never` and `NO_COLOR` (<https://no-color.org>): set and not empty,
//! it turns colour off unless `--color always` says otherwise. raibid's own lines carry no
//! colour; the flag governs clap's help and errors and the console's theme.

use std::ffi::OsString;

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// Unless NO_COLOR is set (and, for help and errors, only on a terminal).
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// clap writes help and usage errors while it parses, before `--color` is known: so
    /// the flag is read from the raw arguments first (clap validates it in the same parse).
    pub fn before_parsing(args: &[OsString]) -> ColorWhen {
        let mut args = args.iter().skip(1).map(|arg| arg.to_str().unwrap_or(""));
        let mut last = None;
        while let Some(arg) = args.next() {
            let value = match arg {
                "--" => break,
                "--color" => args.next(),
                _ => arg.strip_prefix("--color="),
            };
            last = value
                .and_then(|v| clap::ValueEnum::from_str(v, false).ok())
                .or(last);
        }
        last.unwrap_or_default()
    }

    pub fn for_clap(self) -> clap::ColorChoice {
        match self {
            ColorWhen::Auto => clap::ColorChoice::Auto,
            ColorWhen::Always => clap::ColorChoice::Always,
            ColorWhen::Never => clap::ColorChoice::Never,
        }
    }

    /// Whether the console draws its theme's colours, given NO_COLOR's value.
    pub fn colors(self, no_color: Option<OsString>) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => no_color.is_none_or(|value| value.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn before(args: &[&str]) -> ColorWhen {
        let args: Vec<OsString> = std::iter::once("raibid")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        ColorWhen::before_parsing(&args)
    }

    #[test]
    fn the_flag_is_found_in_either_spelling_and_the_last_one_wins() {
        assert_eq!(before(&[]), ColorWhen::Auto);
        assert_eq!(before(&["--color", "never", "--help"]), ColorWhen::Never);
        assert_eq!(before(&["doctor", "--color=always"]), ColorWhen::Always);
        assert_eq!(
            before(&["--color=never", "--color", "always"]),
            ColorWhen::Always
        );
        assert_eq!(before(&["--", "--color=never"]), ColorWhen::Auto);
        assert_eq!(before(&["--color", "sometimes"]), ColorWhen::Auto);
    }

    #[test]
    fn no_color_counts_only_when_set_and_not_empty() {
        assert!(ColorWhen::Auto.colors(None));
        assert!(ColorWhen::Auto.colors(Some("".into())));
        assert!(!ColorWhen::Auto.colors(Some("1".into())));
        assert!(ColorWhen::Always.colors(Some("1".into())));
        assert!(!ColorWhen::Never.colors(None));
    }
}
