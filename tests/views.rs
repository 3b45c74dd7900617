//! Snapshots of every view at 80x24 and 120x40, drawn from fixed state with a fixed clock.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::{Mode, State, ViewId};
use raibid::app::theme::Themes;
use raibid::app::update::{Msg, Settings, update};
use raibid::backend::sparky::actor::Event;
use raibid::backend::sparky::pipeline::WriterChoice;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn render(state: &State, width: u16, height: u16) -> String {
    let themes = Themes::builtin();
    let theme = themes.get(&state.theme).expect("built-in theme");
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| raibid::views::draw(frame, state, theme))
        .unwrap();
    terminal.backend().to_string()
}

fn press(state: &mut State, code: KeyCode) {
    update(
        state,
        Settings {
            writer: WriterChoice::Builtin,
        },
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    );
}

fn opened() -> State {
    let mut state = support::state();
    state.preview.id = Some("2026-W47-raibid".into());
    update(
        &mut state,
        Settings {
            writer: WriterChoice::Builtin,
        },
        Msg::Backend(Event::Opened {
            id: "2026-W47-raibid".into(),
            body: support::BODY.into(),
            data: Some(Box::new(support::data())),
            recovery: None,
        }),
    );
    state
}

fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            render(state, width, height)
        );
    }
}

#[test]
fn digests_view() {
    snapshot("digests", &opened());
}

#[test]
fn digests_view_empty() {
    let mut state = support::state();
    state.drafts.clear();
    snapshot("digests_empty", &state);
}

#[test]
fn digests_view_filtered() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('/'));
    for c in "daily".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    snapshot("digests_filtered", &state);
}

#[test]
fn editor() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('e'));
    assert!(matches!(state.mode, Mode::Editing(_)));
    press(&mut state, KeyCode::Char('X'));
    snapshot("editor", &state);
}

#[test]
fn writing_in_progress() {
    let mut state = opened();
    let settings = Settings {
        writer: WriterChoice::Builtin,
    };
    update(
        &mut state,
        settings,
        Msg::Backend(Event::Writing {
            label: "2026-W47".into(),
        }),
    );
    update(
        &mut state,
        settings,
        Msg::Backend(Event::Token("## Summary\n\nFive commits".into())),
    );
    snapshot("writing", &state);
}

#[test]
fn activity_view() {
    let mut state = opened();
    state.view = ViewId::Activity;
    snapshot("activity", &state);
}

#[test]
fn activity_view_without_a_draft() {
    let mut state = support::state();
    state.view = ViewId::Activity;
    snapshot("activity_empty", &state);
}

#[test]
fn help_overlay() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('?'));
    snapshot("help", &state);
}

#[test]
fn palette_overlay() {
    let mut state = opened();
    press(&mut state, KeyCode::Char(':'));
    press(&mut state, KeyCode::Char('d'));
    snapshot("palette", &state);
}

#[test]
fn confirm_overlay() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('x'));
    snapshot("confirm", &state);
}

#[test]
fn every_theme_draws() {
    for theme in ["dark", "light", "high-contrast"] {
        let mut state = opened();
        state.theme = theme.into();
        assert!(render(&state, 80, 24).contains("2026-W47-raibid"));
    }
}
