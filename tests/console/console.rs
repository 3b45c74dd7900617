//! The console's reducer: keys and backend events in, state and actor commands out.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::keymap::Keymap;
use raibid::app::state::{Level, Mode, State, ViewId};
use raibid::app::update::{Cmd, Msg, Settings, Worker, update};
use raibid::backend::sparky::actor::{Command, Event, Op};
use raibid::backend::sparky::channels::ChannelName;
use raibid::backend::sparky::model::{DraftState, PeriodKind};
use raibid::backend::sparky::pipeline::{PeriodSpec, WriterChoice};
use raibid::views::digests::PublishStage;

const SETTINGS: Settings = Settings {
    writer: WriterChoice::Builtin,
};

/// The commands for the Sparky actor; these tests expect no others.
fn sparky(commands: Vec<Cmd>) -> Vec<Command> {
    commands
        .into_iter()
        .map(|c| match c {
            Cmd::Sparky(command) => command,
            Cmd::Ci(command) => panic!("unexpected CI command {command:?}"),
            Cmd::Cluster(command) => panic!("unexpected cluster command {command:?}"),
            Cmd::Mirrors(command) => panic!("unexpected mirrors command {command:?}"),
        })
        .collect()
}

fn key(state: &mut State, code: KeyCode) -> Vec<Command> {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    sparky(update(state, SETTINGS, Msg::Key(key)))
}

fn ctrl(state: &mut State, c: char) -> Vec<Command> {
    let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    sparky(update(state, SETTINGS, Msg::Key(key)))
}

fn typed(state: &mut State, text: &str) -> Vec<Command> {
    text.chars()
        .flat_map(|c| key(state, KeyCode::Char(c)))
        .collect()
}

fn event(state: &mut State, event: Event) -> Vec<Command> {
    sparky(update(state, SETTINGS, Msg::Sparky(event)))
}

/// A state whose first draft is open in the preview.
fn opened() -> State {
    let mut state = support::state();
    state.digests.preview.id = Some("2026-W47-raibid".into());
    event(
        &mut state,
        Event::Opened {
            id: "2026-W47-raibid".into(),
            body: support::BODY.into(),
            data: Some(Box::new(support::data())),
            recovery: None,
            findings: Vec::new(),
        },
    );
    state
}

fn opens(commands: &[Command]) -> Vec<&str> {
    commands
        .iter()
        .filter_map(|c| {
            if let Command::Open(id) = c {
                Some(id.as_str())
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn listing_selects_and_opens_the_first_draft() {
    let mut state = support::state();
    state.digests.drafts.items.clear();
    let commands = event(
        &mut state,
        Event::Listed {
            drafts: support::drafts(),
            problems: vec![],
        },
    );
    assert_eq!(opens(&commands), ["2026-W47-raibid"]);
    assert_eq!(state.digests.drafts.selected, 0);
}

#[test]
fn moving_the_selection_opens_each_draft_once() {
    let mut state = opened();
    assert_eq!(
        opens(&key(&mut state, KeyCode::Char('j'))),
        ["2026-11-19-raibid"]
    );
    assert_eq!(
        opens(&key(&mut state, KeyCode::Down)),
        ["2026-11-18-raibid"]
    );
    assert_eq!(
        opens(&key(&mut state, KeyCode::Char('G'))),
        ["2026-10-raibid"]
    );
    assert!(
        key(&mut state, KeyCode::Char('j')).is_empty(),
        "already at the bottom"
    );
    assert_eq!(
        opens(&key(&mut state, KeyCode::Char('g'))),
        ["2026-W47-raibid"]
    );
    assert_eq!(state.digests.drafts.selected, 0);
}

#[test]
fn the_preview_follows_only_the_selected_draft() {
    let mut state = opened();
    key(&mut state, KeyCode::Char('j'));
    event(
        &mut state,
        Event::Opened {
            id: "2026-W47-raibid".into(),
            body: "stale".into(),
            data: None,
            recovery: None,
            findings: Vec::new(),
        },
    );
    assert_ne!(
        state.digests.preview.text, "stale",
        "a late answer for another draft is ignored"
    );
}

#[test]
fn approve_goes_to_the_checker_but_reject_asks_first_and_publish_plans() {
    let mut state = opened();
    let approve = key(&mut state, KeyCode::Char('a'));
    assert!(
        matches!(&approve[..], [Command::Approve { id, despite_findings: false }] if id == "2026-W47-raibid")
    );

    assert!(key(&mut state, KeyCode::Char('x')).is_empty());
    assert!(matches!(state.mode, Mode::Confirm(_)));
    assert!(
        key(&mut state, KeyCode::Char('n')).is_empty(),
        "declining does nothing"
    );
    assert!(matches!(state.mode, Mode::Normal));
    key(&mut state, KeyCode::Char('x'));
    let reject = key(&mut state, KeyCode::Char('y'));
    assert!(matches!(
        &reject[..],
        [Command::SetState {
            state: DraftState::Rejected,
            ..
        }]
    ));

    // Publishing a draft that is not approved only explains why not.
    assert!(key(&mut state, KeyCode::Char('p')).is_empty());
    assert!(matches!(state.mode, Mode::Normal));
    assert!(state.status.as_ref().unwrap().text.contains("approve"));
    key(&mut state, KeyCode::Char('j')); // the approved daily
    let plan = key(&mut state, KeyCode::Char('p'));
    assert!(
        matches!(&plan[..], [Command::PlanPublish { id, channels }] if id == "2026-11-19-raibid" && channels.is_empty()),
        "publishing starts from what each channel would receive: {plan:?}"
    );
}

#[test]
fn publishing_chooses_channels_previews_each_and_shows_every_answer() {
    let mut state = opened();
    event(&mut state, Event::PublishPlanned(support::plan(None)));
    let Mode::Publishing(flow) = &state.mode else {
        panic!("the publish flow opens on the plan");
    };
    assert_eq!(
        flow.chosen,
        [true, true],
        "every configured channel is chosen"
    );

    // Space leaves a channel out; Enter previews the chosen ones.
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Up);
    key(&mut state, KeyCode::Char(' '));
    assert!(key(&mut state, KeyCode::Enter).is_empty());
    let Mode::Publishing(flow) = &state.mode else {
        panic!("still publishing");
    };
    assert_eq!(flow.stage, PublishStage::Preview);
    assert_eq!(flow.cursor, 1, "the first chosen rendering is shown");

    // n goes back to the list; y sends the chosen channels only.
    key(&mut state, KeyCode::Char('n'));
    let Mode::Publishing(flow) = &state.mode else {
        panic!("still publishing");
    };
    assert_eq!(flow.stage, PublishStage::Choose);
    key(&mut state, KeyCode::Enter);
    let sent = key(&mut state, KeyCode::Char('y'));
    assert!(
        matches!(&sent[..], [Command::Publish { id, channels }] if id == "2026-W47-raibid" && channels == &[ChannelName::Devto]),
        "{sent:?}"
    );
    assert_eq!(
        state.busy.len(),
        1,
        "the spinner runs until every answer is in"
    );

    event(
        &mut state,
        Event::Delivered {
            id: "2026-W47-raibid".into(),
            channel: ChannelName::Devto,
            result: Err("devto: rate limited for 30 s".into()),
        },
    );
    let Mode::Publishing(flow) = &state.mode else {
        panic!("still publishing");
    };
    assert_eq!(
        flow.results[1],
        Some(Err("devto: rate limited for 30 s".into()))
    );
    let refresh = event(
        &mut state,
        Event::Published {
            id: "2026-W47-raibid".into(),
            message: "published to 0 of 1 channels".into(),
        },
    );
    assert!(matches!(&refresh[..], [Command::Refresh]), "{refresh:?}");
    assert!(state.busy.is_empty());
    let Mode::Publishing(flow) = &state.mode else {
        panic!("the answers stay on screen");
    };
    assert_eq!(flow.stage, PublishStage::Done);
    key(&mut state, KeyCode::Esc);
    assert!(matches!(state.mode, Mode::Normal));
}

#[test]
fn approving_a_draft_with_findings_asks_first() {
    let mut state = opened();
    let approve = key(&mut state, KeyCode::Char('a'));
    assert!(matches!(&approve[..], [Command::Approve { .. }]));
    // The actor's checker found something: the console asks before approving anyway.
    event(
        &mut state,
        Event::ApprovalHasFindings {
            id: "2026-W47-raibid".into(),
            findings: 2,
        },
    );
    let Mode::Confirm(confirm) = &state.mode else {
        panic!("approval asks first");
    };
    assert!(
        confirm.question.contains("2 problems") && confirm.question.contains("Approve anyway"),
        "{}",
        confirm.question
    );
    let approve = key(&mut state, KeyCode::Char('y'));
    assert!(
        matches!(&approve[..], [Command::Approve { id, despite_findings: true }] if id == "2026-W47-raibid"),
        "{approve:?}"
    );
}

#[test]
fn editing_saves_with_ctrl_s_and_asks_before_discarding() {
    let mut state = opened();
    assert!(key(&mut state, KeyCode::Char('e')).is_empty());
    assert!(matches!(state.mode, Mode::Editing(_)));
    typed(&mut state, "Hello ");
    // In the editor, letters are text, not actions.
    assert!(matches!(state.mode, Mode::Editing(_)));
    let saved = ctrl(&mut state, 's');
    match &saved[..] {
        [Command::SaveBody { id, body }] => {
            assert_eq!(id, "2026-W47-raibid");
            assert!(body.starts_with("Hello ## Summary"), "{body}");
        }
        other => panic!("expected a save, got {other:?}"),
    }
    typed(&mut state, "more");
    assert!(key(&mut state, KeyCode::Esc).is_empty());
    assert!(
        matches!(state.mode, Mode::Confirm(_)),
        "dirty editor asks before closing"
    );
    key(&mut state, KeyCode::Char('n'));
    assert!(
        matches!(state.mode, Mode::Editing(_)),
        "declining returns to the editor"
    );
    key(&mut state, KeyCode::Esc);
    let closed = key(&mut state, KeyCode::Char('y'));
    assert!(matches!(
        &closed[..],
        [Command::ClearRecovery(_), Command::Open(_)]
    ));
    assert!(matches!(state.mode, Mode::Normal));
}

#[test]
fn autosave_sends_the_dirty_text_only() {
    let mut state = opened();
    key(&mut state, KeyCode::Char('e'));
    assert!(
        update(&mut state, SETTINGS, Msg::Autosave).is_empty(),
        "nothing to save yet"
    );
    typed(&mut state, "x");
    let autosaved = sparky(update(&mut state, SETTINGS, Msg::Autosave));
    assert!(
        matches!(&autosaved[..], [Command::Autosave { body, .. }] if body.starts_with("x## Summary"))
    );
}

#[test]
fn recovered_edits_are_offered_back() {
    let mut state = support::state();
    state.digests.preview.id = Some("2026-W47-raibid".into());
    event(
        &mut state,
        Event::Opened {
            id: "2026-W47-raibid".into(),
            body: support::BODY.into(),
            data: None,
            recovery: Some("recovered text".into()),
            findings: Vec::new(),
        },
    );
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("unsaved edits")
    );
    key(&mut state, KeyCode::Char('e'));
    assert!(matches!(state.mode, Mode::Confirm(_)));
    key(&mut state, KeyCode::Char('y'));
    match &state.mode {
        Mode::Editing(editor) => {
            assert_eq!(editor.text(), "recovered text");
            assert!(editor.is_dirty(), "recovered text is not saved yet");
        }
        other => panic!("expected the editor, got {other:?}"),
    }
}

#[test]
fn declining_recovery_discards_it() {
    let mut state = support::state();
    state.digests.preview.id = Some("2026-W47-raibid".into());
    event(
        &mut state,
        Event::Opened {
            id: "2026-W47-raibid".into(),
            body: "saved".into(),
            data: None,
            recovery: Some("old".into()),
            findings: Vec::new(),
        },
    );
    key(&mut state, KeyCode::Char('e'));
    let commands = key(&mut state, KeyCode::Char('n'));
    assert!(matches!(&commands[..], [Command::ClearRecovery(id)] if id == "2026-W47-raibid"));
    assert!(matches!(&state.mode, Mode::Editing(editor) if editor.text() == "saved"));
}

#[test]
fn tab_and_digits_switch_the_sparky_views() {
    let mut state = opened();
    key(&mut state, KeyCode::Tab);
    assert_eq!(state.view, ViewId::Activity);
    key(&mut state, KeyCode::BackTab);
    assert_eq!(state.view, ViewId::Digests);
    key(&mut state, KeyCode::Char('2'));
    assert_eq!(state.view, ViewId::Activity);
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(state.view, ViewId::Digests);
}

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let mut state = opened();
    key(&mut state, KeyCode::Char('/'));
    let commands = typed(&mut state, "daily");
    assert_eq!(state.digests.drafts.visible().len(), 2);
    assert!(opens(&commands).contains(&"2026-11-19-raibid"));
    key(&mut state, KeyCode::Enter);
    assert!(matches!(state.mode, Mode::Normal));
    assert_eq!(state.digests.drafts.filter, "daily");
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.digests.drafts.visible().len(), 4);
}

#[test]
fn the_palette_runs_commands_by_unambiguous_prefix() {
    let mut state = opened();
    key(&mut state, KeyCode::Char(':'));
    typed(&mut state, "digest d");
    let commands = key(&mut state, KeyCode::Enter);
    match &commands[..] {
        [Command::Digest(request)] => {
            assert_eq!(request.period, calendar(PeriodKind::Day, "2026-11-20"));
            assert_eq!(request.writer, WriterChoice::Builtin);
        }
        other => panic!("expected a digest, got {other:?}"),
    }
    key(&mut state, KeyCode::Char(':'));
    typed(&mut state, "theme l");
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.theme, "light");
    key(&mut state, KeyCode::Char(':'));
    typed(&mut state, "digest");
    assert!(
        key(&mut state, KeyCode::Enter).is_empty(),
        "three commands match `digest`"
    );
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("no single command")
    );
}

#[test]
fn help_opens_and_closes() {
    let mut state = opened();
    key(&mut state, KeyCode::Char('?'));
    assert!(matches!(state.mode, Mode::Help));
    key(&mut state, KeyCode::Char('j'));
    assert!(
        matches!(state.mode, Mode::Help),
        "other keys keep the help open"
    );
    key(&mut state, KeyCode::Esc);
    assert!(matches!(state.mode, Mode::Normal));
}

#[test]
fn themes_cycle_in_order() {
    let mut state = opened();
    key(&mut state, KeyCode::Char('t'));
    assert_eq!(state.theme, "light");
    key(&mut state, KeyCode::Char('t'));
    assert_eq!(state.theme, "high-contrast");
    key(&mut state, KeyCode::Char('t'));
    assert_eq!(state.theme, "dark");
}

#[test]
fn a_written_digest_streams_into_the_preview_then_opens() {
    let mut state = opened();
    let commands = key(&mut state, KeyCode::Char('n'));
    assert_eq!(
        digest_of(&commands),
        &calendar(PeriodKind::Week, "2026-11-16"),
        "the current week"
    );
    event(
        &mut state,
        Event::Writing {
            label: "2026-W47".into(),
        },
    );
    assert!(state.digests.preview.streaming);
    assert_eq!(state.busy.len(), 1);
    assert!(
        key(&mut state, KeyCode::Char('n')).is_empty(),
        "one digest at a time"
    );
    event(&mut state, Event::Token("## Sum".into()));
    event(&mut state, Event::Token("mary".into()));
    assert_eq!(state.digests.preview.text, "## Summary");
    assert!(key(&mut state, KeyCode::Char('e')).is_empty());
    assert!(
        matches!(state.mode, Mode::Normal),
        "a draft being written cannot be edited"
    );
    let commands = event(
        &mut state,
        Event::Written {
            id: "2026-11-19-raibid".into(),
            notices: vec!["Ollama is not reachable".into()],
        },
    );
    assert_eq!(opens(&commands), ["2026-11-19-raibid"]);
    assert_eq!(state.digests.drafts.selected, 1);
    assert!(!state.digests.preview.streaming);
    assert!(state.busy.is_empty());
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("Ollama is not reachable")
    );
}

#[test]
fn failures_stop_the_spinner_and_say_what_failed() {
    let mut state = opened();
    event(
        &mut state,
        Event::Writing {
            label: "2026-W47".into(),
        },
    );
    event(
        &mut state,
        Event::Failed {
            op: Op::WriteDigest,
            message: "boom".into(),
        },
    );
    assert!(state.busy.is_empty());
    assert_eq!(
        state.status.as_ref().unwrap().text,
        "could not write the digest: boom"
    );
}

#[test]
fn a_failure_ends_only_the_job_it_names() {
    let mut state = opened();
    event(
        &mut state,
        Event::Writing {
            label: "2026-W47".into(),
        },
    );
    for op in [Op::Publish, Op::List, Op::Regenerate] {
        event(
            &mut state,
            Event::Failed {
                op,
                message: "boom".into(),
            },
        );
        assert_eq!(state.busy.len(), 1, "{op:?}");
        assert!(state.digests.preview.streaming, "{op:?}");
    }
    event(
        &mut state,
        Event::Failed {
            op: Op::StoreDigest,
            message: "disk full".into(),
        },
    );
    assert!(state.busy.is_empty());
    assert!(!state.digests.preview.streaming);
}

#[test]
fn a_stopped_actor_is_reported() {
    let mut state = support::state();
    let commands = update(&mut state, SETTINGS, Msg::Stopped(Worker::Cluster));
    assert!(sparky(commands).is_empty());
    let status = state.status.unwrap();
    assert_eq!(status.level, Level::Error);
    assert_eq!(
        status.text,
        "the cluster worker stopped; see the log file for why"
    );
}

#[test]
fn quit_and_remapped_keys() {
    let overrides = BTreeMap::from([("quit".to_string(), vec!["ctrl-q".to_string()])]);
    let mut state = support::state();
    state.keymap = Keymap::new(&overrides).unwrap();
    key(&mut state, KeyCode::Char('q'));
    assert!(!state.quit, "q is no longer bound");
    ctrl(&mut state, 'q');
    assert!(state.quit);
}

fn calendar(kind: PeriodKind, date: &str) -> PeriodSpec {
    PeriodSpec::Calendar {
        kind,
        date: Some(date.parse().unwrap()),
    }
}

/// The period of the one digest `commands` asks for.
fn digest_of(commands: &[Command]) -> &PeriodSpec {
    match commands {
        [.., Command::Digest(request)] => &request.period,
        other => panic!("expected a digest, got {other:?}"),
    }
}

#[test]
fn brackets_move_through_periods_and_the_digest_key_writes_the_selected_one() {
    let mut state = opened();
    assert_eq!(
        state.digests.period.label, "2026-W47",
        "the current week first"
    );
    assert!(key(&mut state, KeyCode::Char('[')).is_empty());
    assert_eq!(state.digests.period.label, "2026-W46");
    for _ in 0..3 {
        key(&mut state, KeyCode::Char(']'));
    }
    assert_eq!(state.digests.period.label, "2026-W49");
    assert_eq!(
        digest_of(&key(&mut state, KeyCode::Char('n'))),
        &calendar(PeriodKind::Week, "2026-11-30")
    );

    // Days, weeks or months: from a period without today, its first day's.
    key(&mut state, KeyCode::Char('P'));
    assert_eq!(state.digests.period.label, "2026-11");
    // A period with a listed digest selects and opens it.
    let commands = key(&mut state, KeyCode::Char('['));
    assert_eq!(state.digests.period.label, "2026-10");
    assert_eq!(opens(&commands), ["2026-10-raibid"]);
    assert_eq!(
        state.digests.drafts.selected_item().unwrap().id,
        "2026-10-raibid"
    );
    key(&mut state, KeyCode::Char('P'));
    assert_eq!(state.digests.period.label, "2026-10-01");
    key(&mut state, KeyCode::Char('P'));
    assert_eq!(state.digests.period.label, "2026-W40");
    assert_eq!(
        digest_of(&key(&mut state, KeyCode::Char('n'))),
        &calendar(PeriodKind::Week, "2026-09-28")
    );
    // From the current period, today's.
    let mut state = opened();
    key(&mut state, KeyCode::Char('P'));
    key(&mut state, KeyCode::Char('P'));
    assert_eq!(state.digests.period.label, "2026-11-20");
}

#[test]
fn the_palette_writes_the_period_it_names() {
    let mut state = opened();
    for (input, label, first_day) in [
        ("digest week 2025-11-12", "2025-W46", "2025-11-10"),
        ("digest month last", "2026-10", "2026-10-01"),
        ("digest day yesterday", "2026-11-19", "2026-11-19"),
        ("digest month 2025-11", "2025-11", "2025-11-01"),
        ("digest week 2025-W48", "2025-W48", "2025-11-24"),
        ("digest month", "2026-11", "2026-11-01"),
    ] {
        key(&mut state, KeyCode::Char(':'));
        typed(&mut state, input);
        let commands = key(&mut state, KeyCode::Enter);
        let kind = state.digests.period.kind;
        assert_eq!(digest_of(&commands), &calendar(kind, first_day), "{input}");
        assert_eq!(state.digests.period.label, label, "{input}");
    }
    // The month digest listed is selected on the way.
    key(&mut state, KeyCode::Char(':'));
    typed(&mut state, "digest month last");
    let commands = key(&mut state, KeyCode::Enter);
    assert_eq!(opens(&commands), ["2026-10-raibid"]);

    for (input, named) in [
        ("digest week 2025-13-40", "'2025-13-40' names no week"),
        ("digest month november", "'november' names no month"),
        ("digest fortnight last", "`fortnight` is no period"),
    ] {
        key(&mut state, KeyCode::Char(':'));
        typed(&mut state, input);
        assert!(key(&mut state, KeyCode::Enter).is_empty(), "{input}");
        let status = state.status.as_ref().unwrap();
        assert!(status.text.contains(named), "{input}: {}", status.text);
    }
    assert_eq!(
        state.digests.period.label, "2026-10",
        "a bad date changes nothing"
    );
}

#[test]
fn an_empty_startup_period_offers_the_last_active_one() {
    let mut state = opened();
    let tz = jiff::tz::TimeZone::UTC;
    let october = raibid::backend::sparky::period::calendar(
        PeriodKind::Month,
        "2026-10-15".parse().unwrap(),
        &tz,
    );
    let commands = event(
        &mut state,
        Event::Empty {
            label: "2026-11".into(),
            last_active: Some(october),
        },
    );
    assert_eq!(state.digests.period.label, "2026-10");
    assert_eq!(opens(&commands), ["2026-10-raibid"], "its digest is listed");
    let status = state.status.clone().unwrap().text;
    assert!(
        status.contains("2026-11 has no commits; last activity in 2026-10: press n"),
        "{status}"
    );
    assert_eq!(
        digest_of(&key(&mut state, KeyCode::Char('n'))),
        &calendar(PeriodKind::Month, "2026-10-01")
    );

    event(
        &mut state,
        Event::Empty {
            label: "2026-W47".into(),
            last_active: None,
        },
    );
    let status = state.status.clone().unwrap().text;
    assert!(status.contains("2026-W47 has no commits"), "{status}");
    assert_eq!(
        state.digests.period.label, "2026-10",
        "nothing else to offer"
    );
}

#[test]
fn a_draft_listed_by_the_store_watch_joins_the_list_and_the_selection_stays() {
    let mut state = opened();
    key(&mut state, KeyCode::Char('j'));
    let mut drafts = support::drafts();
    // Written by the CLI: the newest first, as the store lists them.
    drafts.insert(
        0,
        support::summary(
            "2026-W48-raibid",
            raibid::backend::sparky::model::DraftKind::Weekly,
            DraftState::Draft,
            900,
        ),
    );
    let commands = event(
        &mut state,
        Event::Listed {
            drafts,
            problems: vec![],
        },
    );
    assert!(commands.is_empty(), "the preview stays: {commands:?}");
    assert_eq!(state.digests.drafts.items[0].id, "2026-W48-raibid");
    assert_eq!(
        state.digests.drafts.selected_item().unwrap().id,
        "2026-11-19-raibid"
    );
}
