//! Snapshots of every view at 80x24 and 120x40, drawn from fixed state with a fixed clock.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::{Mode, State, ViewId};
use raibid::app::theme::Themes;
use raibid::app::update::{Msg, Settings, update};
use raibid::backend::sparky::actor::Event;
use raibid::backend::sparky::analyze::analyze;
use raibid::backend::sparky::channels::ChannelName;
use raibid::backend::sparky::checker::{self, Rules};
use raibid::backend::sparky::model::{Activity, DraftKind, PeriodKind, RepoActivity};
use raibid::backend::sparky::period;
use raibid::backend::sparky::pipeline::WriterChoice;
use raibid::config::Config;
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
    opened_with(support::BODY)
}

/// The first draft open in the preview with `body`, and what the checker finds in it.
fn opened_with(body: &str) -> State {
    let mut state = support::state();
    state.digests.preview.id = Some("2026-W47-raibid".into());
    let data = support::data();
    let config = Config::default();
    let rules = Rules::of(&config);
    let findings = checker::check(body, DraftKind::Weekly, &data, &rules);
    send(
        &mut state,
        Event::Opened {
            id: "2026-W47-raibid".into(),
            body: body.into(),
            data: Some(Box::new(data)),
            recovery: None,
            findings,
        },
    );
    state
}

fn send(state: &mut State, event: Event) {
    update(
        state,
        Settings {
            writer: WriterChoice::Builtin,
        },
        Msg::Sparky(event),
    );
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

/// Two months back with `[` after `P`: the period shows under the list, and its listed
/// digest is selected.
#[test]
fn digests_view_with_a_selected_period() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('P'));
    press(&mut state, KeyCode::Char('['));
    snapshot("digests_period", &state);
}

#[test]
fn digests_view_with_findings() {
    let altered = support::BODY
        .replace("5 commits", "7 commits")
        .replace("(Ann)", "(Zed)")
        + "\nWe made significant progress.\n";
    snapshot("digests_findings", &opened_with(&altered));
}

#[test]
fn publish_flow_choosing_channels() {
    let mut state = opened();
    send(&mut state, Event::PublishPlanned(support::plan(None)));
    snapshot("publish_choose", &state);
}

#[test]
fn publish_flow_previews_a_social_post_with_its_length() {
    let mut state = opened();
    send(&mut state, Event::PublishPlanned(support::plan(Some(612))));
    press(&mut state, KeyCode::Enter);
    snapshot("publish_preview", &state);
}

#[test]
fn publish_flow_shows_answers_as_they_come() {
    let mut state = opened();
    send(&mut state, Event::PublishPlanned(support::plan(None)));
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Char('y'));
    send(
        &mut state,
        Event::Delivered {
            id: "2026-W47-raibid".into(),
            channel: ChannelName::Docs,
            result: Ok("docs published: https://docs.example/blog/2026/11/week-2026-47".into()),
        },
    );
    snapshot("publish_sending", &state);
}

#[test]
fn digests_view_empty() {
    let mut state = support::state();
    state.digests.drafts.items.clear();
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
        Msg::Sparky(Event::Writing {
            label: "2026-W47".into(),
        }),
    );
    update(
        &mut state,
        settings,
        Msg::Sparky(Event::Token("## Summary\n\nFive commits".into())),
    );
    snapshot("writing", &state);
}

#[test]
fn activity_view() {
    let mut state = opened();
    state.view = ViewId::Activity;
    snapshot("activity", &state);
}

/// A month: every day has a bar, and the axis labels as many days as fit, the first too.
#[test]
fn activity_view_of_a_month() {
    let mut state = opened();
    let data = state.digests.preview.data.as_mut().unwrap();
    data.period = period::calendar(
        PeriodKind::Month,
        "2026-11-01".parse().unwrap(),
        &jiff::tz::TimeZone::UTC,
    );
    let activity = Activity {
        period: data.period.clone(),
        repos: vec![RepoActivity {
            name: "raibid".into(),
            path: "/src/raibid".into(),
            commits: data.commits.clone(),
            ..RepoActivity::default()
        }],
    };
    data.metrics = analyze(&activity, None);
    assert_eq!(data.metrics.commits_per_day.len(), 30);
    state.view = ViewId::Activity;
    snapshot("activity_month", &state);
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

/// A digest's period after its kind: the forms it takes.
#[test]
fn palette_overlay_for_a_dated_digest() {
    let mut state = opened();
    press(&mut state, KeyCode::Char(':'));
    for c in "digest week 2025-".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    snapshot("palette_dated", &state);
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

/// The Jobs view with the fixture's jobs and an agent pool: connected (to a queue whose URL
/// holds a password) and sampled.
fn ci_state(view: ViewId) -> State {
    use raibid::backend::ci::actor::Event as Ci;
    use raibid::backend::queue::contract::{AgentState, AgentStatus, QueueStats};
    let mut state = opened();
    state.view = view;
    let settings = Settings {
        writer: WriterChoice::Builtin,
    };
    let mut send = |event| update(&mut state, settings, Msg::Ci(event));
    send(Ci::Connected {
        queue: "redis://:s3cret@127.0.0.1:6379/0".into(),
    });
    send(Ci::Jobs(support::jobs()));
    send(Ci::Agents(vec![AgentStatus {
        name: "local-1".into(),
        state: AgentState::Busy,
        job: Some("job-2".into()),
        started_at: "2026-11-20T08:00:00Z".parse().unwrap(),
        seen_at: support::now(),
    }]));
    send(Ci::Pool {
        wanted: 2,
        running: 1,
    });
    let start: jiff::Timestamp = "2026-11-20T09:20:00Z".parse().unwrap();
    for i in 0..60u64 {
        let stats = QueueStats {
            depth: i % 7,
            lag: i % 5,
            pending: 1,
            dead: 0,
        };
        send(Ci::Stats {
            stats,
            at: start + jiff::SignedDuration::from_secs(2 * i as i64),
        });
    }
    state
}

#[test]
fn pool_view() {
    snapshot("pool", &ci_state(ViewId::Pool));
}

#[test]
fn jobs_view() {
    snapshot("jobs", &ci_state(ViewId::Jobs));
}

#[test]
fn job_log_view() {
    use raibid::backend::ci::actor::Event as Ci;
    use raibid::backend::queue::contract::{LogLine, LogStream};
    let mut state = ci_state(ViewId::Jobs);
    press(&mut state, KeyCode::Enter);
    let lines = (0..50)
        .map(|i| LogLine {
            entry: format!("{i}-0"),
            step: if i < 30 {
                "cargo build".into()
            } else {
                "cargo test".into()
            },
            stream: if i % 10 == 9 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            },
            line: format!("   Compiling crate-{i} v0.1.0"),
        })
        .collect();
    update(
        &mut state,
        Settings {
            writer: WriterChoice::Builtin,
        },
        Msg::Ci(Ci::Log {
            id: "job-4".into(),
            lines,
            done: true,
        }),
    );
    snapshot("job_log", &state);
}

#[test]
fn jobs_view_when_the_queue_is_down() {
    use raibid::backend::ci::actor::Event as Ci;
    let mut state = opened();
    state.view = ViewId::Jobs;
    update(
        &mut state,
        Settings {
            writer: WriterChoice::Builtin,
        },
        Msg::Ci(Ci::Unavailable {
            message: "redis://127.0.0.1:6379/0: Connection refused".into(),
        }),
    );
    snapshot("jobs_down", &state);
}

#[test]
fn the_pool_and_jobs_views_name_the_labs_queue() {
    use raibid::backend::ci::actor::Event as Ci;
    for view in [ViewId::Pool, ViewId::Jobs] {
        let mut state = ci_state(view);
        update(
            &mut state,
            Settings {
                writer: WriterChoice::Builtin,
            },
            Msg::Ci(Ci::Connected {
                queue: "lab (raibid/redis-0 via port-forward)".into(),
            }),
        );
        let screen = render(&state, 80, 24);
        assert!(
            screen.contains("queue: lab (raibid/redis-0 via port-forward)"),
            "{view:?}:\n{screen}"
        );
    }
}

#[test]
fn the_pool_and_jobs_views_mask_a_queue_password() {
    for view in [ViewId::Pool, ViewId::Jobs] {
        let state = ci_state(view);
        for (width, height) in SIZES {
            let screen = render(&state, width, height);
            assert!(!screen.contains("s3cret"), "{view:?}:\n{screen}");
        }
        let screen = render(&state, 120, 40);
        assert!(
            screen.contains("queue: redis://:***@127.0.0.1:6379/0"),
            "{view:?}:\n{screen}"
        );
    }
}

/// A job whose id is not ASCII (cut inside a character by a byte slice) and whose ref, log
/// lines and agent carry terminal escapes and control characters.
#[test]
fn hostile_job_text_is_cut_by_characters_and_drawn_without_escapes() {
    use raibid::backend::ci::actor::Event as Ci;
    use raibid::backend::queue::contract::{AgentState, AgentStatus, LogLine, LogStream};
    let settings = Settings {
        writer: WriterChoice::Builtin,
    };
    let id = "jéééé-ü1";
    let mut state = ci_state(ViewId::Jobs);
    let mut jobs = support::jobs();
    let newest = jobs.last_mut().unwrap();
    newest.job.id = id.into();
    newest.job.sha = "ßßßßßßßß".into();
    newest.job.git_ref = "refs/heads/\u{1b}[2J\u{1b}]0;pwned\u{7}main\nx".into();
    update(&mut state, settings, Msg::Ci(Ci::Jobs(jobs)));
    update(
        &mut state,
        settings,
        Msg::Ci(Ci::Agents(vec![AgentStatus {
            name: "agent\u{1b}[5m-1".into(),
            state: AgentState::Busy,
            job: Some(id.into()),
            started_at: "2026-11-20T08:00:00Z".parse().unwrap(),
            seen_at: support::now(),
        }])),
    );
    let mut screens = vec![render(&state, 120, 40)];
    snapshot("jobs_hostile", &state);
    press(&mut state, KeyCode::Enter);
    update(
        &mut state,
        settings,
        Msg::Ci(Ci::Log {
            id: id.into(),
            lines: vec![LogLine {
                entry: "1-0".into(),
                step: "build\u{1b}[8m".into(),
                stream: LogStream::Stderr,
                line: "\u{1b}[31merror\u{1b}[0m: boom\r\u{1b}[1A\u{9b}2Kdone".into(),
            }],
            done: true,
        }),
    );
    let log = render(&state, 120, 40);
    assert!(log.contains("Job jéééé-ü1"), "{log}");
    assert!(log.contains("error: boom�done"), "{log}");
    screens.push(log);
    state.view = ViewId::Pool;
    let pool = render(&state, 120, 40);
    assert!(
        pool.contains("agent-1") && pool.contains("job jéééé-ü1"),
        "{pool}"
    );
    screens.push(pool);
    let jobs = &screens[0];
    assert!(
        jobs.contains("jéééé-ü1 raibid-labs/raibid   ßßßßßßß"),
        "{jobs}"
    );
    assert!(jobs.contains("main�x"), "{jobs}");
    for screen in &screens {
        for escape in ["\u{1b}", "\u{9b}", "[2J", "pwned", "[31m", "[5m", "\r"] {
            assert!(!screen.contains(escape), "{escape:?} in:\n{screen}");
        }
    }
}
