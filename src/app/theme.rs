//! Colour themes: TOML files in themes/ built into the binary, extended or overridden by
//! `<name>.toml` files in the user's themes dir.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Deserializer};

use crate::config::error_position;

/// The built-in themes in the order they are offered and cycled.
const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Every colour the views use. A theme file must set all of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// The file's name without `.toml`; not a key in the file.
    #[serde(skip)]
    pub name: String,
    /// Every colour the terminal's default ([`Theme::without_color`]); not a key either.
    #[serde(skip)]
    pub colorless: bool,
    #[serde(deserialize_with = "color")]
    pub bg: Color,
    #[serde(deserialize_with = "color")]
    pub fg: Color,
    #[serde(deserialize_with = "color")]
    pub muted: Color,
    #[serde(deserialize_with = "color")]
    pub accent: Color,
    #[serde(deserialize_with = "color")]
    pub border: Color,
    #[serde(deserialize_with = "color")]
    pub border_focus: Color,
    #[serde(deserialize_with = "color")]
    pub selection_bg: Color,
    #[serde(deserialize_with = "color")]
    pub selection_fg: Color,
    #[serde(deserialize_with = "color")]
    pub title: Color,
    #[serde(deserialize_with = "color")]
    pub ok: Color,
    #[serde(deserialize_with = "color")]
    pub warn: Color,
    #[serde(deserialize_with = "color")]
    pub error: Color,
    #[serde(deserialize_with = "color")]
    pub info: Color,
    #[serde(deserialize_with = "color")]
    pub draft: Color,
    #[serde(deserialize_with = "color")]
    pub approved: Color,
    #[serde(deserialize_with = "color")]
    pub published: Color,
    #[serde(deserialize_with = "color")]
    pub rejected: Color,
    #[serde(deserialize_with = "color")]
    pub chart: Color,
}

impl Theme {
    /// The selected row: its colours, or reversed text when there are none.
    pub fn selected(&self) -> Style {
        if self.colorless {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().bg(self.selection_bg).fg(self.selection_fg)
        }
    }

    /// The same theme with no colour (NO_COLOR, `--color never`): bold and reversed text
    /// still mark what colour marked.
    pub fn without_color(&self) -> Theme {
        let none = Color::Reset;
        Theme {
            name: self.name.clone(),
            colorless: true,
            bg: none,
            fg: none,
            muted: none,
            accent: none,
            border: none,
            border_focus: none,
            selection_bg: none,
            selection_fg: none,
            title: none,
            ok: none,
            warn: none,
            error: none,
            info: none,
            draft: none,
            approved: none,
            published: none,
            rejected: none,
            chart: none,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{}: cannot list themes: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot read theme: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {}{message}", file.display(), key_prefix(key.as_deref()))]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        message: String,
    },
}

fn key_prefix(key: Option<&str>) -> String {
    key.map(|key| format!("key `{key}`: ")).unwrap_or_default()
}

/// All available themes: the built-ins first, then user themes sorted by name. A user theme
/// named like a built-in replaces it in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Themes {
    /// Never empty: the built-ins are always there.
    themes: Vec<Theme>,
}

impl Themes {
    pub fn builtin() -> Themes {
        let themes = BUILTIN
            .iter()
            .map(|(name, text)| {
                parse_theme(name, text)
                    .unwrap_or_else(|error| panic!("built-in theme {name} is broken: {error}"))
            })
            .collect();
        Themes { themes }
    }

    /// The built-ins plus every `*.toml` in `user_dir` (which need not exist).
    pub fn load(user_dir: &Path) -> Result<Themes, ThemeError> {
        let mut themes = Themes::builtin();
        let entries = match std::fs::read_dir(user_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(themes),
            Err(source) => {
                return Err(ThemeError::ReadDir {
                    dir: user_dir.to_owned(),
                    source,
                });
            }
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| ThemeError::ReadDir {
                    dir: user_dir.to_owned(),
                    source,
                })?
                .path();
            if path.extension().is_some_and(|ext| ext == "toml") {
                files.push(path);
            }
        }
        files.sort();
        for file in files {
            themes.insert(load_theme_file(&file)?);
        }
        Ok(themes)
    }

    /// Every theme without colour, names kept so the config and `t` work as before.
    pub fn without_color(&self) -> Themes {
        Themes {
            themes: self.themes.iter().map(Theme::without_color).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.iter().find(|theme| theme.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.themes
            .iter()
            .map(|theme| theme.name.as_str())
            .collect()
    }

    /// The theme after `name`, wrapping around; the first one when `name` is unknown.
    pub fn next_after(&self, name: &str) -> &Theme {
        let next = self
            .themes
            .iter()
            .position(|theme| theme.name == name)
            .map_or(0, |index| (index + 1) % self.themes.len());
        &self.themes[next]
    }

    fn insert(&mut self, theme: Theme) {
        match self
            .themes
            .iter_mut()
            .find(|existing| existing.name == theme.name)
        {
            Some(existing) => *existing = theme,
            None => self.themes.push(theme),
        }
    }
}

fn load_theme_file(file: &Path) -> Result<Theme, ThemeError> {
    let text = std::fs::read_to_string(file).map_err(|source| ThemeError::Read {
        file: file.to_owned(),
        source,
    })?;
    let name = file.file_stem().unwrap_or_default().to_string_lossy();
    parse_theme(&name, &text).map_err(|error| {
        let position = error_position(&text, &error);
        ThemeError::Invalid {
            file: file.to_owned(),
            line: position.line,
            column: position.column,
            key: position.key,
            message: error.message().to_owned(),
        }
    })
}

fn parse_theme(name: &str, text: &str) -> Result<Theme, toml::de::Error> {
    let mut theme: Theme = toml::from_str(text)?;
    theme.name = name.to_owned();
    Ok(theme)
}

/// A colour as `"#rrggbb"` or a terminal colour name such as `"reset"` or `"light-blue"`.
fn color<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Color, D::Error> {
    let text = String::deserialize(deserializer)?;
    Color::from_str(&text).map_err(|_| {
        serde::de::Error::custom(format!(
            "`{text}` is not a colour: use \"#rrggbb\" or a name such as \"blue\" or \"reset\""
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(color: Color) -> (u8, u8, u8) {
        match color {
            Color::Rgb(r, g, b) => (r, g, b),
            other => panic!("contrast needs an RGB colour, got {other:?}"),
        }
    }

    /// WCAG 2 relative luminance.
    fn luminance(color: Color) -> f64 {
        let (r, g, b) = rgb(color);
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    fn contrast(a: Color, b: Color) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        assert!((contrast(Color::Rgb(0, 0, 0), Color::Rgb(255, 255, 255)) - 21.0).abs() < 1e-9);
        // #777777 on white is the classic 4.48:1, just short of AA.
        let grey = contrast(Color::Rgb(0x77, 0x77, 0x77), Color::Rgb(255, 255, 255));
        assert!((grey - 4.48).abs() < 0.01, "{grey}");
    }

    #[test]
    fn every_builtin_theme_parses_with_every_key() {
        let themes = Themes::builtin();
        assert_eq!(themes.names(), ["dark", "light", "high-contrast"]);
        for (name, text) in BUILTIN {
            let table: toml::Table = toml::from_str(text).unwrap();
            for key in [
                "bg",
                "fg",
                "muted",
                "accent",
                "border",
                "border_focus",
                "selection_bg",
                "selection_fg",
                "title",
                "ok",
                "warn",
                "error",
                "info",
                "draft",
                "approved",
                "published",
                "rejected",
                "chart",
            ] {
                assert!(table.contains_key(key), "{name} lacks {key}");
            }
            assert_eq!(table.len(), 18, "{name} has keys the Theme does not know");
        }
    }

    #[test]
    fn high_contrast_states_are_distinct_and_readable() {
        let themes = Themes::builtin();
        let theme = themes.get("high-contrast").unwrap();
        let text = [
            ("fg", theme.fg),
            ("muted", theme.muted),
            ("title", theme.title),
            ("accent", theme.accent),
            ("ok", theme.ok),
            ("warn", theme.warn),
            ("error", theme.error),
            ("info", theme.info),
            ("draft", theme.draft),
            ("approved", theme.approved),
            ("published", theme.published),
            ("rejected", theme.rejected),
        ];
        for (key, color) in text {
            let ratio = contrast(color, theme.bg);
            assert!(ratio >= 4.5, "{key} on bg: {ratio:.2}");
        }
        let selection = contrast(theme.selection_fg, theme.selection_bg);
        assert!(selection >= 4.5, "selection: {selection:.2}");
        for group in [
            [theme.ok, theme.warn, theme.error, theme.info],
            [theme.draft, theme.approved, theme.published, theme.rejected],
        ] {
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    assert_ne!(a, b, "two states share a colour");
                }
            }
        }
    }

    #[test]
    fn every_builtin_theme_keeps_text_readable() {
        for theme in &Themes::builtin().themes {
            for (key, color) in [("fg", theme.fg), ("muted", theme.muted)] {
                let ratio = contrast(color, theme.bg);
                assert!(ratio >= 4.5, "{}: {key} on bg: {ratio:.2}", theme.name);
            }
        }
    }

    #[test]
    fn next_after_cycles_and_starts_over_on_unknown_names() {
        let themes = Themes::builtin();
        assert_eq!(themes.next_after("dark").name, "light");
        assert_eq!(themes.next_after("high-contrast").name, "dark");
        assert_eq!(themes.next_after("nope").name, "dark");
    }

    #[test]
    fn user_themes_extend_and_override_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let dark = BUILTIN[0].1.replace("#1a1b26", "#000001");
        std::fs::write(dir.path().join("dark.toml"), dark).unwrap();
        std::fs::write(dir.path().join("solar.toml"), BUILTIN[1].1).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a theme").unwrap();
        let themes = Themes::load(dir.path()).unwrap();
        assert_eq!(themes.names(), ["dark", "light", "high-contrast", "solar"]);
        assert_eq!(themes.get("dark").unwrap().bg, Color::Rgb(0, 0, 1));
        assert_eq!(
            themes.get("solar").unwrap().fg,
            themes.get("light").unwrap().fg
        );
    }

    #[test]
    fn a_missing_user_dir_gives_the_builtins() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Themes::load(&dir.path().join("absent")).unwrap(),
            Themes::builtin()
        );
    }

    #[test]
    fn a_broken_user_theme_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(
            &file,
            BUILTIN[0]
                .1
                .replace("warn = \"#e0af68\"", "warn = \"#e0af6\""),
        )
        .unwrap();
        let error = Themes::load(dir.path()).unwrap_err().to_string();
        let line = BUILTIN[0]
            .1
            .lines()
            .position(|l| l.starts_with("warn"))
            .unwrap()
            + 1;
        let expected = format!(
            "{}:{line}:8: key `warn`: `#e0af6` is not a colour",
            file.display()
        );
        assert!(error.starts_with(&expected), "{error}");
    }

    #[test]
    fn a_user_theme_missing_a_key_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = BUILTIN[0]
            .1
            .lines()
            .filter(|l| !l.starts_with("chart"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(dir.path().join("short.toml"), text).unwrap();
        let error = Themes::load(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("short.toml:") && error.contains("`chart`"),
            "{error}"
        );
    }

    #[test]
    fn without_color_keeps_names_and_marks_the_selection_by_reversing() {
        let themes = Themes::builtin().without_color();
        assert_eq!(themes.names(), Themes::builtin().names());
        for theme in &themes.themes {
            let shown = format!("{theme:?}");
            assert!(
                !shown.contains("Rgb") && theme.accent == Color::Reset,
                "{shown}"
            );
            assert_eq!(
                theme.selected(),
                Style::default().add_modifier(Modifier::REVERSED)
            );
        }
        let dark = Themes::builtin().next_after("").clone();
        assert_eq!(
            dark.selected(),
            Style::default().bg(dark.selection_bg).fg(dark.selection_fg)
        );
    }
}
