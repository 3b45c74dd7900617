//! The console loop: waits for input, backend events, signals or a due timer; applies
//! everything that arrived; draws once. With nothing happening it sleeps without waking.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_stream::StreamExt as _;
use tokio_util::sync::CancellationToken;

use crate::backend::ci::actor as ci_actor;
use crate::backend::ci::pool::PoolSpec;
use crate::backend::cluster::actor as cluster_actor;
use crate::backend::mirrors_actor;
use crate::backend::sparky::actor::{self, Command, Places};
use crate::backend::sparky::model::PeriodKind;
use crate::backend::sparky::period;
use crate::backend::sparky::pipeline::WriterChoice;
use crate::config::Config;
use jiff::tz::TimeZone;

use super::keymap::Keymap;
use super::state::{Mode, State};
use super::terminal::{self, Tui};
use super::theme::Themes;
use super::update::{Cmd, Msg, Settings, update};

const SPIN_EVERY: Duration = Duration::from_millis(120);
/// How long quitting waits for local agents to stop.
const AGENTS_STOP: Duration = Duration::from_secs(15);

pub struct Console {
    pub config: Arc<Config>,
    pub keymap: Keymap,
    pub themes: Themes,
    pub places: Places,
    /// How the console starts local agents when asked to scale the pool.
    pub pool: PoolSpec,
    /// Where the console keeps its files (the gitops work tree among them).
    pub data_dir: std::path::PathBuf,
}

/// Runs the console until the user quits or a signal arrives; the terminal is restored
/// on every path out.
pub async fn run(console: Console) -> color_eyre::Result<()> {
    let mut tui = terminal::enter()?;
    let result = event_loop(&mut tui, console).await;
    terminal::restore();
    result
}

async fn event_loop(tui: &mut Tui, console: Console) -> color_eyre::Result<()> {
    let Console {
        config,
        keymap,
        themes,
        places,
        pool,
        data_dir,
    } = console;
    let names = themes.names().into_iter().map(String::from).collect();
    // The config check has refused an unknown zone already.
    let time_zone = period::time_zone(&config.sparky.time_zone).unwrap_or(TimeZone::UTC);
    let mut state = State::new(
        keymap,
        config.ui.theme.clone(),
        names,
        jiff::Timestamp::now(),
    )
    .in_time_zone(time_zone);
    let settings = Settings {
        writer: WriterChoice::from_config(&config.sparky.writer),
    };
    let frame_gap = Duration::from_secs(1) / config.ui.max_fps.max(1);
    let autosave_gap = Duration::from_secs(config.ui.autosave_secs.max(1));

    let cancel = CancellationToken::new();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let ci_setup = ci_actor::Setup {
        config: Arc::clone(&config),
        cwd: places.cwd.clone(),
        pool,
    };
    let cluster_setup = cluster_actor::Setup {
        config: Arc::clone(&config),
        data_dir,
    };
    let mirrors_setup = mirrors_actor::Setup {
        config: Arc::clone(&config),
    };
    let sparky = actor::spawn(Arc::clone(&config), places, events_tx, cancel.clone());
    let (ci_tx, mut ci_events) = mpsc::unbounded_channel();
    let (ci, ci_task) = ci_actor::spawn(ci_setup, ci_tx, cancel.clone());
    // Idle until the Cluster view is shown: a machine without a cluster starts as fast.
    let (cluster_tx, mut cluster_events) = mpsc::unbounded_channel();
    let (cluster, cluster_task) = cluster_actor::spawn(cluster_setup, cluster_tx, cancel.clone());
    // Likewise until the Mirrors view is shown: Gitea and GitHub are not asked before.
    let (mirrors_tx, mut mirrors_events) = mpsc::unbounded_channel();
    let (mirrors, mirrors_task) = mirrors_actor::spawn(mirrors_setup, mirrors_tx, cancel.clone());
    if let Some(kind) = startup_period(&config.sparky.startup_digest) {
        let _ = sparky.send(Command::DigestIfMissing(kind));
    }

    let mut input = EventStream::new();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut last_spin = Instant::now();
    let mut last_autosave = Instant::now();
    let mut sparky_alive = true;
    let mut ci_alive = true;
    let mut cluster_alive = true;
    let mut mirrors_alive = true;

    loop {
        let now = Instant::now();
        if dirty && last_draw.is_none_or(|at| now >= at + frame_gap) {
            let theme = themes
                .get(&state.theme)
                .unwrap_or_else(|| themes.next_after(""));
            draw(tui, &state, theme)?;
            dirty = false;
            last_draw = Some(now);
        }
        // Timers exist only while they have work: idle means no wake-ups at all.
        let frame_due = dirty.then(|| last_draw.map_or(now, |at| at + frame_gap));
        let spin_due = (!state.busy.is_empty()).then(|| last_spin + SPIN_EVERY);
        let editing_dirty = matches!(&state.mode, Mode::Editing(e) if e.is_dirty());
        let autosave_due = editing_dirty.then(|| last_autosave + autosave_gap);

        let mut msgs = Vec::new();
        tokio::select! {
            term = input.next() => match term {
                Some(Ok(event)) => push_terminal(event, &mut msgs, &mut dirty),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            event = events.recv(), if sparky_alive => match event {
                Some(event) => msgs.push(Msg::Sparky(event)),
                None => {
                    sparky_alive = false;
                    state.error("the Sparky worker stopped; see the log file for why");
                    dirty = true;
                }
            },
            event = ci_events.recv(), if ci_alive => match event {
                Some(event) => msgs.push(Msg::Ci(event)),
                None => {
                    ci_alive = false;
                    state.error("the CI worker stopped; see the log file for why");
                    dirty = true;
                }
            },
            event = cluster_events.recv(), if cluster_alive => match event {
                Some(event) => msgs.push(Msg::Cluster(event)),
                None => {
                    cluster_alive = false;
                    state.error("the cluster worker stopped; see the log file for why");
                    dirty = true;
                }
            },
            event = mirrors_events.recv(), if mirrors_alive => match event {
                Some(event) => msgs.push(Msg::Mirrors(event)),
                None => {
                    mirrors_alive = false;
                    state.error("the mirrors worker stopped; see the log file for why");
                    dirty = true;
                }
            },
            _ = sleep_until(frame_due.unwrap_or(now)), if frame_due.is_some() => {}
            _ = sleep_until(spin_due.unwrap_or(now)), if spin_due.is_some() => {
                last_spin = Instant::now();
                msgs.push(Msg::Spin);
            }
            _ = sleep_until(autosave_due.unwrap_or(now)), if autosave_due.is_some() => {
                last_autosave = Instant::now();
                msgs.push(Msg::Autosave);
            }
            _ = terminate.recv() => state.quit = true,
            _ = hangup.recv() => state.quit = true,
        }
        // Drain the backend events already waiting, so a burst costs one frame. (Terminal
        // input is not drained: polling crossterm's EventStream outside the task loses its
        // wake-up; key bursts are coalesced by the frame limit instead.)
        while let Ok(event) = events.try_recv() {
            msgs.push(Msg::Sparky(event));
        }
        while let Ok(event) = ci_events.try_recv() {
            msgs.push(Msg::Ci(event));
        }
        while let Ok(event) = cluster_events.try_recv() {
            msgs.push(Msg::Cluster(event));
        }
        while let Ok(event) = mirrors_events.try_recv() {
            msgs.push(Msg::Mirrors(event));
        }
        for msg in msgs {
            if matches!(msg, Msg::Key(_)) && !matches!(state.mode, Mode::Editing(_)) {
                last_autosave = Instant::now();
            }
            state.now = jiff::Timestamp::now();
            for command in update(&mut state, settings, msg) {
                // A stopped actor was reported when its channel closed.
                let _ = match command {
                    Cmd::Sparky(command) => sparky.send(command).is_ok(),
                    Cmd::Ci(command) => ci.send(command).is_ok(),
                    Cmd::Cluster(command) => cluster.send(command).is_ok(),
                    Cmd::Mirrors(command) => mirrors.send(command).is_ok(),
                };
            }
            dirty = true;
        }
        if state.quit {
            break;
        }
    }
    // Local agents finish their jobs as cancelled and exit; wait so none outlives us.
    if state.ci.pool.is_some_and(|(_, running)| running > 0) {
        state.info("stopping local agents…");
        let theme = themes
            .get(&state.theme)
            .unwrap_or_else(|| themes.next_after(""));
        draw(tui, &state, theme)?;
    }
    cancel.cancel();
    let _ = tokio::time::timeout(AGENTS_STOP, ci_task).await;
    // A run in progress is dropped with the token; this returns at once.
    let _ = cluster_task.await;
    // A sync in progress is dropped with the token too.
    let _ = mirrors_task.await;
    Ok(())
}

fn startup_period(name: &str) -> Option<PeriodKind> {
    match name {
        "day" => Some(PeriodKind::Day),
        "week" => Some(PeriodKind::Week),
        "month" => Some(PeriodKind::Month),
        _ => None,
    }
}

/// Key presses become messages; a resize only asks for a redraw (coalesced with the rest).
fn push_terminal(event: TermEvent, msgs: &mut Vec<Msg>, dirty: &mut bool) {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => msgs.push(Msg::Key(key)),
        TermEvent::Resize(..) | TermEvent::FocusGained => *dirty = true,
        _ => {}
    }
}

/// One frame, inside a synchronized update so the terminal shows it whole.
fn draw(tui: &mut Tui, state: &State, theme: &super::theme::Theme) -> std::io::Result<()> {
    crossterm::queue!(tui.backend_mut(), BeginSynchronizedUpdate)?;
    tui.draw(|frame| crate::views::draw(frame, state, theme))?;
    crossterm::queue!(tui.backend_mut(), EndSynchronizedUpdate)?;
    tui.backend_mut().flush()
}
