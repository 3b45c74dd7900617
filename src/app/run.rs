//! The console loop: waits for input, backend events, signals or a due timer; applies
//! everything that arrived; draws once. With nothing happening it sleeps without waking.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tokio_stream::StreamExt as _;

use crate::backend::actor::{Actor, Commands, Events};
use crate::backend::ci::actor as ci_actor;
use crate::backend::ci::pool::PoolSpec;
use crate::backend::cluster::actor as cluster_actor;
use crate::backend::mirror::actor as mirror_actor;
use crate::backend::sparky::actor::{self as sparky_actor, Places};
use crate::backend::sparky::model::PeriodKind;
use crate::backend::sparky::period;
use crate::backend::sparky::pipeline::WriterChoice;
use crate::config::Config;
use jiff::tz::TimeZone;

use super::keymap::Keymap;
use super::state::{Mode, State};
use super::terminal::{self, Tui};
use super::theme::Themes;
use super::update::{Cmd, Msg, Settings, Worker, update};

const SPIN_EVERY: Duration = Duration::from_millis(120);
/// How long quitting waits for the actors to stop: local agents finish their jobs as
/// cancelled, publications going get their answers.
const ACTORS_STOP: Duration = Duration::from_secs(15);

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

    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (commands, mut running) = start_actors(config, places, pool, data_dir, &events_tx);
    drop(events_tx);

    let mut input = EventStream::new();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut last_spin = Instant::now();
    let mut last_autosave = Instant::now();

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
        let mut stopped = None;
        tokio::select! {
            term = input.next() => match term {
                Some(Ok(event)) => push_terminal(event, &mut msgs, &mut dirty),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            Some(msg) = events.recv() => msgs.push(msg),
            Some(Ok(worker)) = running.join_next() => stopped = Some(worker),
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
        while let Ok(msg) = events.try_recv() {
            msgs.push(msg);
        }
        // After the events a stopped actor sent before it stopped.
        msgs.extend(stopped.map(Msg::Stopped));
        for msg in msgs {
            if matches!(msg, Msg::Key(_)) && !matches!(state.mode, Mode::Editing(_)) {
                last_autosave = Instant::now();
            }
            state.now = jiff::Timestamp::now();
            for command in update(&mut state, settings, msg) {
                commands.send(command);
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
    drop(commands);
    let all_stopped = async { while running.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(ACTORS_STOP, all_stopped).await;
    Ok(())
}

/// Every actor's commands; dropping them stops the actors.
struct ActorCommands {
    sparky: Commands<sparky_actor::Command>,
    ci: Commands<ci_actor::Command>,
    cluster: Commands<cluster_actor::Command>,
    mirrors: Commands<mirror_actor::Command>,
}

impl ActorCommands {
    fn send(&self, command: Cmd) {
        // A stopped actor was reported when it stopped.
        let _ = match command {
            Cmd::Sparky(command) => self.sparky.send(command).is_ok(),
            Cmd::Ci(command) => self.ci.send(command).is_ok(),
            Cmd::Cluster(command) => self.cluster.send(command).is_ok(),
            Cmd::Mirrors(command) => self.mirrors.send(command).is_ok(),
        };
    }
}

/// Starts every actor, each reporting into `events`; their tasks are in the set, each
/// ending with its actor's name once it has stopped. The cluster and mirrors actors idle
/// until their view is shown: a machine without a cluster or Gitea starts as fast.
fn start_actors(
    config: Arc<Config>,
    places: Places,
    pool: PoolSpec,
    data_dir: std::path::PathBuf,
    events: &mpsc::UnboundedSender<Msg>,
) -> (ActorCommands, JoinSet<Worker>) {
    let ci = ci_actor::Setup {
        config: Arc::clone(&config),
        cwd: places.cwd.clone(),
        pool,
    };
    let cluster = cluster_actor::Setup {
        config: Arc::clone(&config),
        data_dir,
    };
    let mirrors = mirror_actor::Setup {
        config: Arc::clone(&config),
    };
    let startup = startup_period(&config.sparky.startup_digest);
    let sparky = sparky_actor::Setup { config, places };
    let sparky = sparky_actor::spawn(sparky, Events::wrapped(events.clone(), Msg::Sparky));
    let ci = ci_actor::spawn(ci, Events::wrapped(events.clone(), Msg::Ci));
    let cluster = cluster_actor::spawn(cluster, Events::wrapped(events.clone(), Msg::Cluster));
    let mirrors = mirror_actor::spawn(mirrors, Events::wrapped(events.clone(), Msg::Mirrors));
    let mut running = JoinSet::new();
    let commands = ActorCommands {
        sparky: watch(Worker::Sparky, sparky, &mut running),
        ci: watch(Worker::Ci, ci, &mut running),
        cluster: watch(Worker::Cluster, cluster, &mut running),
        mirrors: watch(Worker::Mirrors, mirrors, &mut running),
    };
    if let Some(kind) = startup {
        let _ = commands
            .sparky
            .send(sparky_actor::Command::DigestIfMissing(kind));
    }
    (commands, running)
}

/// `actor`'s commands; its task joins `running`, where it ends with `worker`.
fn watch<C>(worker: Worker, actor: Actor<C>, running: &mut JoinSet<Worker>) -> Commands<C> {
    let Actor { commands, handle } = actor;
    running.spawn(async move {
        let _ = handle.await;
        worker
    });
    commands
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
