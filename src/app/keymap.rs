//! Actions and the keys bound to them. Each view declares its bindings where it handles
//! them (`update::view_bindings`), the keys every view shares on top; `[keys]` in the
//! config replaces the keys of any action, and the help is generated from the live map.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::ViewId;
use super::update::{GLOBAL_BINDINGS, view_bindings};

/// Declares the actions once: the enum, every action in order, and each one's name.
macro_rules! actions {
    ($($action:ident => $name:literal,)*) => {
        /// Everything a key can do outside of text input.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($action,)*
        }

        impl Action {
            pub const ALL: &[Action] = &[$(Action::$action,)*];

            /// The name used in `[keys]` and in the command palette.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$action => $name,)*
                }
            }
        }
    };
}

actions! {
    Quit => "quit",
    Help => "help",
    Palette => "palette",
    Filter => "filter",
    Back => "back",
    NextView => "next-view",
    PrevView => "prev-view",
    Up => "up",
    Down => "down",
    PageUp => "page-up",
    PageDown => "page-down",
    Top => "top",
    Bottom => "bottom",
    ScrollPreviewUp => "scroll-preview-up",
    ScrollPreviewDown => "scroll-preview-down",
    Edit => "edit",
    Regenerate => "regenerate",
    Approve => "approve",
    Reject => "reject",
    Publish => "publish",
    NewDigest => "new-digest",
    PrevPeriod => "prev-period",
    NextPeriod => "next-period",
    CyclePeriodKind => "period-kind",
    CycleTheme => "cycle-theme",
    Save => "save",
    Open => "open",
    Follow => "follow",
    Sort => "sort",
    Trigger => "trigger",
    CancelJob => "cancel-job",
    RetryJob => "retry-job",
    ScaleUp => "scale-up",
    ScaleDown => "scale-down",
    Refresh => "refresh",
    ClusterInstall => "cluster-install",
    ClusterUpgrade => "cluster-upgrade",
    ClusterRemove => "cluster-remove",
    SyncMirror => "sync-mirror",
    View1 => "view-1",
    View2 => "view-2",
    View3 => "view-3",
    View4 => "view-4",
    View5 => "view-5",
    View6 => "view-6",
}

impl Action {
    /// The position of the view a `view-N` action shows.
    pub fn view_index(self) -> Option<usize> {
        [
            Action::View1,
            Action::View2,
            Action::View3,
            Action::View4,
            Action::View5,
            Action::View6,
        ]
        .iter()
        .position(|a| *a == self)
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// One command a part of the console offers, declared next to the code that handles it:
/// the help, the palette and the status line are made from these.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub action: Action,
    /// Its keys unless `[keys]` rebinds them.
    pub keys: &'static [&'static str],
    /// What the help says it does.
    pub about: &'static str,
    /// Shown in the status line.
    pub hint: bool,
}

impl Binding {
    pub const fn new(action: Action, keys: &'static [&'static str], about: &'static str) -> Self {
        Binding {
            action,
            keys,
            about,
            hint: false,
        }
    }

    /// The same, shown in the status line.
    pub const fn hinted(self) -> Self {
        Binding { hint: true, ..self }
    }
}

/// One key with its modifiers, as written in the config: `q`, `G`, `ctrl-s`, `shift-tab`, `f5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeOrd,
    ctrl: bool,
    alt: bool,
}

/// `KeyCode` is not `Ord`; the subset a binding can name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(Named),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Named {
    Esc,
    Enter,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

const NAMED: [(&str, Named); 15] = [
    ("esc", Named::Esc),
    ("enter", Named::Enter),
    ("tab", Named::Tab),
    ("shift-tab", Named::BackTab),
    ("backspace", Named::Backspace),
    ("delete", Named::Delete),
    ("insert", Named::Insert),
    ("up", Named::Up),
    ("down", Named::Down),
    ("left", Named::Left),
    ("right", Named::Right),
    ("home", Named::Home),
    ("end", Named::End),
    ("pageup", Named::PageUp),
    ("pagedown", Named::PageDown),
];

impl Key {
    /// Parses a binding such as `ctrl-s`, `alt-x`, `shift-tab`, `space`, `f2`, `G`, `?`.
    pub fn parse(text: &str) -> Result<Key, String> {
        if let Some((_, named)) = NAMED.iter().find(|(name, _)| *name == text) {
            return Ok(Key {
                code: KeyCodeOrd::Named(*named),
                ctrl: false,
                alt: false,
            });
        }
        let (ctrl, alt, rest) = match text.split_once('-') {
            Some(("ctrl", rest)) if !rest.is_empty() => (true, false, rest),
            Some(("alt", rest)) if !rest.is_empty() => (false, true, rest),
            _ => (false, false, text),
        };
        if ctrl || alt {
            let inner = Key::parse(rest)?;
            return Ok(Key { ctrl, alt, ..inner });
        }
        let code = if rest == "space" {
            KeyCodeOrd::Char(' ')
        } else if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            KeyCodeOrd::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCodeOrd::Char(c),
                _ => {
                    return Err(format!(
                        "`{text}` is not a key (try `q`, `ctrl-s`, `shift-tab`, `f5`)"
                    ));
                }
            }
        };
        Ok(Key {
            code,
            ctrl: false,
            alt: false,
        })
    }

    /// The key a terminal event stands for, if a binding can name it.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Esc => KeyCodeOrd::Named(Named::Esc),
            KeyCode::Enter => KeyCodeOrd::Named(Named::Enter),
            KeyCode::Tab => KeyCodeOrd::Named(Named::Tab),
            KeyCode::BackTab => KeyCodeOrd::Named(Named::BackTab),
            KeyCode::Backspace => KeyCodeOrd::Named(Named::Backspace),
            KeyCode::Delete => KeyCodeOrd::Named(Named::Delete),
            KeyCode::Insert => KeyCodeOrd::Named(Named::Insert),
            KeyCode::Up => KeyCodeOrd::Named(Named::Up),
            KeyCode::Down => KeyCodeOrd::Named(Named::Down),
            KeyCode::Left => KeyCodeOrd::Named(Named::Left),
            KeyCode::Right => KeyCodeOrd::Named(Named::Right),
            KeyCode::Home => KeyCodeOrd::Named(Named::Home),
            KeyCode::End => KeyCodeOrd::Named(Named::End),
            KeyCode::PageUp => KeyCodeOrd::Named(Named::PageUp),
            KeyCode::PageDown => KeyCodeOrd::Named(Named::PageDown),
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Named(named) => {
                let name = NAMED
                    .iter()
                    .find(|(_, n)| *n == named)
                    .map_or("?", |(name, _)| name);
                f.write_str(name)
            }
        }
    }
}

/// Why a `[keys]` entry was refused: the action name and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    pub action: String,
    pub message: String,
}

/// The live bindings: an action's keys are the same in every view that offers it, and a
/// key means one action per view.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_action: BTreeMap<Action, Vec<Key>>,
    by_view: BTreeMap<ViewId, BTreeMap<Key, Action>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&BTreeMap::new()).expect("the default bindings are valid")
    }
}

impl Keymap {
    /// The defaults, with each action named in `overrides` bound to exactly the keys given.
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, KeymapError> {
        let every_binding = GLOBAL_BINDINGS
            .iter()
            .chain(ViewId::ALL.iter().flat_map(|view| view_bindings(*view)));
        let mut by_action = BTreeMap::new();
        for binding in every_binding {
            by_action.entry(binding.action).or_insert_with(|| {
                binding
                    .keys
                    .iter()
                    .map(|k| Key::parse(k).expect("default key parses"))
                    .collect::<Vec<Key>>()
            });
        }
        for (name, keys) in overrides {
            let error = |message: String| KeymapError {
                action: name.clone(),
                message,
            };
            let action = Action::from_name(name)
                .filter(|action| by_action.contains_key(action))
                .ok_or_else(|| {
                    let known: Vec<&str> = by_action.keys().map(|a| a.name()).collect();
                    error(format!(
                        "unknown action `{name}`; actions: {}",
                        known.join(", ")
                    ))
                })?;
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(error)?;
            by_action.insert(action, parsed);
        }
        let mut by_view = BTreeMap::new();
        for view in ViewId::ALL {
            let mut by_key = BTreeMap::new();
            for binding in GLOBAL_BINDINGS.iter().chain(view_bindings(view)) {
                for key in &by_action[&binding.action] {
                    match by_key.insert(*key, binding.action) {
                        Some(other) if other != binding.action => {
                            return Err(KeymapError {
                                action: binding.action.name().into(),
                                message: format!(
                                    "`{key}` is bound to both `{}` and `{}` in the {} view",
                                    other.name(),
                                    binding.action.name(),
                                    view.title()
                                ),
                            });
                        }
                        _ => {}
                    }
                }
            }
            by_view.insert(view, by_key);
        }
        Ok(Keymap { by_action, by_view })
    }

    /// What `event` does in `view`.
    pub fn action(&self, view: ViewId, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event)?;
        self.by_view.get(&view)?.get(&key).copied()
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.by_action.get(&action).map_or(&[], Vec::as_slice)
    }

    /// `q`, or `k/up` when several keys are bound; empty when unbound.
    pub fn label(&self, action: Action) -> String {
        self.keys(action)
            .iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_resolve_events() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::Char('s'), KeyModifiers::CONTROL)
            ),
            Some(Action::Save)
        );
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::BackTab, KeyModifiers::SHIFT)
            ),
            Some(Action::PrevView)
        );
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::Char('z'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(keymap.label(Action::Up), "k/up");
    }

    #[test]
    fn overrides_replace_an_actions_keys() {
        let overrides = BTreeMap::from([(
            "quit".to_string(),
            vec!["ctrl-q".to_string(), "f10".to_string()],
        )]);
        let keymap = Keymap::new(&overrides).unwrap();
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            keymap.action(
                ViewId::Digests,
                &event(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(ViewId::Digests, &event(KeyCode::F(10), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(keymap.label(Action::Quit), "ctrl-q/f10");
    }

    #[test]
    fn bad_overrides_say_what_is_wrong() {
        let unknown = BTreeMap::from([("launch".to_string(), vec!["l".to_string()])]);
        assert!(
            Keymap::new(&unknown)
                .unwrap_err()
                .message
                .contains("unknown action `launch`")
        );
        let bad_key = BTreeMap::from([("quit".to_string(), vec!["ctrl-".to_string()])]);
        assert!(
            Keymap::new(&bad_key)
                .unwrap_err()
                .message
                .contains("is not a key")
        );
        let clash = BTreeMap::from([("quit".to_string(), vec!["j".to_string()])]);
        let err = Keymap::new(&clash).unwrap_err();
        assert!(
            err.message.contains("`j` is bound to both"),
            "{}",
            err.message
        );
        // Keys clash only within a view: `e` edits drafts, and may sort the jobs.
        let other_view = BTreeMap::from([("sort".to_string(), vec!["e".to_string()])]);
        assert!(Keymap::new(&other_view).is_ok());
        let same_view = BTreeMap::from([("sort".to_string(), vec!["c".to_string()])]);
        let err = Keymap::new(&same_view).unwrap_err();
        assert!(
            err.message.contains("`c` is bound to both")
                && err.message.ends_with("in the Jobs view"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_key_means_the_natural_thing_in_each_view() {
        let keymap = Keymap::default();
        let s = event(KeyCode::Char('s'), KeyModifiers::NONE);
        assert_eq!(keymap.action(ViewId::Jobs, &s), Some(Action::Sort));
        assert_eq!(keymap.action(ViewId::Mirrors, &s), Some(Action::SyncMirror));
        assert_eq!(keymap.action(ViewId::Cluster, &s), None);
        // The keys every view shares are bound everywhere.
        let q = event(KeyCode::Char('q'), KeyModifiers::NONE);
        assert!(
            ViewId::ALL
                .iter()
                .all(|view| keymap.action(*view, &q) == Some(Action::Quit))
        );
    }

    #[test]
    fn every_key_round_trips_through_display() {
        for text in [
            "q",
            "G",
            "?",
            "ctrl-s",
            "alt-x",
            "shift-tab",
            "space",
            "f5",
            "pagedown",
            "esc",
        ] {
            assert_eq!(Key::parse(text).unwrap().to_string(), text);
        }
    }
}
