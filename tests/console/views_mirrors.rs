//! Snapshots of the Mirrors view at 80x24 and 160x48, drawn from fixed state with a fixed
//! clock.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::State;
use raibid::app::theme::Themes;
use raibid::app::update::{Msg, Settings, update};
use raibid::backend::mirror::actor::Event as MirrorsEvent;
use raibid::backend::sparky::pipeline::WriterChoice;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const SETTINGS: Settings = Settings {
    writer: WriterChoice::Builtin,
};

fn render(state: &State, width: u16, height: u16) -> String {
    let themes = Themes::builtin();
    let theme = themes.get(&state.theme).expect("built-in theme");
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| raibid::views::draw(frame, state, theme))
        .unwrap();
    terminal.backend().to_string()
}

fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            render(state, width, height)
        );
    }
}

fn press(state: &mut State, code: KeyCode) {
    update(
        state,
        SETTINGS,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    );
}

fn event(state: &mut State, event: MirrorsEvent) {
    update(state, SETTINGS, Msg::Mirrors(event));
}

/// The Mirrors view with the fixture's mirrors listed and the stale one selected.
fn listed() -> State {
    let mut state = support::state();
    press(&mut state, KeyCode::Char('6'));
    event(
        &mut state,
        MirrorsEvent::Listed(support::mirror_status::mirrors()),
    );
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char('j'));
    state
}

#[test]
fn mirrors_view_with_stale_and_fresh_mirrors() {
    let mut state = listed();
    press(&mut state, KeyCode::Char('S'));
    event(
        &mut state,
        MirrorsEvent::Synced(Ok("mirrors/sparky-prompts".into())),
    );
    // The status line would repeat the message; show the view's own hints instead.
    state.status = None;
    snapshot("mirrors_listed", &state);
}

#[test]
fn mirrors_view_while_a_sync_runs() {
    let mut state = listed();
    press(&mut state, KeyCode::Char('S'));
    snapshot("mirrors_syncing", &state);
}

#[test]
fn mirrors_view_without_the_config_it_needs() {
    let mut state = support::state();
    press(&mut state, KeyCode::Char('6'));
    event(
        &mut state,
        MirrorsEvent::Unavailable(
            "gitea.token is not set: set it in the config or in RAIBID_GITEA_TOKEN".into(),
        ),
    );
    state.status = None;
    snapshot("mirrors_unavailable", &state);
}

#[test]
fn stale_rows_are_in_the_warning_colour() {
    let mut state = listed();
    // The selection bar would hide the row's colour: select a fresh row.
    press(&mut state, KeyCode::Char('g'));
    let themes = Themes::builtin();
    let theme = themes.get(&state.theme).expect("built-in theme");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| raibid::views::draw(frame, &state, theme))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let colour_of = |name: &str| {
        let y = (0..24)
            .find(|&y| {
                let row: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
                row.contains(name)
            })
            .unwrap_or_else(|| panic!("{name} on screen"));
        // The GitHub column starts after the border and the badge.
        (buffer[(1, y)].fg, buffer[(8, y)].fg)
    };
    assert_eq!(
        colour_of("sparky-prompts"),
        (theme.warn, theme.warn),
        "badge and name"
    );
    assert_eq!(colour_of("legacy-website").1, theme.warn);
    let (badge, name) = colour_of("raibid-labs/docs");
    assert_eq!(badge, theme.ok);
    assert_ne!(name, theme.warn);
}

#[test]
fn mirrors_view_before_the_first_list() {
    let mut state = support::state();
    press(&mut state, KeyCode::Char('6'));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("reading the mirrors…"), "{screen}");
    event(&mut state, MirrorsEvent::Listed(Vec::new()));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("0 mirrors, 0 stale"), "{screen}");
    assert!(screen.contains("No mirrors yet."), "{screen}");
}

#[test]
fn a_long_list_shows_the_window_around_the_selection() {
    let mut state = support::state();
    press(&mut state, KeyCode::Char('6'));
    let many = (0..500)
        .map(|n| {
            support::mirror_status::mirror(
                &format!("raibid-labs/repo-{n:03}"),
                Some(support::now()),
                false,
            )
        })
        .collect();
    event(&mut state, MirrorsEvent::Listed(many));
    press(&mut state, KeyCode::Char('G'));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("500 mirrors, 0 stale"), "{screen}");
    assert!(screen.contains("raibid-labs/repo-499"), "{screen}");
    assert!(!screen.contains("raibid-labs/repo-000"), "{screen}");
    assert!(screen.contains("0s ago"), "{screen}");
}
