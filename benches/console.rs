//! Console benchmarks: frame time of the Digests view with 1,000 drafts at 120x40, bytes
//! written to the terminal per frame, and what the real binary costs while idle.
//! Run with `cargo bench --bench console`; figures go to docs/benchmarks.md.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::keymap::Keymap;
use raibid::app::state::State;
use raibid::app::theme::Themes;
use raibid::app::update::{Msg, Settings, update};
use raibid::backend::sparky::model::{DraftKind, DraftState, FrontMatter};
use raibid::backend::sparky::pipeline::WriterChoice;
use raibid::backend::sparky::store::DraftSummary;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
const FRAMES: usize = 2_000;

fn state_with_drafts(count: usize) -> State {
    let mut state = State::new(
        Keymap::default(),
        "dark".into(),
        vec!["dark".into()],
        jiff::Timestamp::UNIX_EPOCH,
    );
    let states = [
        DraftState::Draft,
        DraftState::Approved,
        DraftState::Published,
        DraftState::Rejected,
    ];
    state.digests.drafts.items = (0..count)
        .map(|i| DraftSummary {
            id: format!("2026-11-{:02}-repo-{i:04}", i % 28 + 1),
            front: FrontMatter {
                title: format!("Daily digest — draft {i}"),
                date: format!("2026-11-{:02}", i % 28 + 1),
                period: format!("2026-11-{:02}", i % 28 + 1),
                kind: DraftKind::Daily,
                state: states[i % 4],
                writer: "builtin".into(),
                model: None,
            },
            path: PathBuf::from(format!("/drafts/{i}.md")),
            words: 250,
        })
        .collect();
    state.digests.preview.id = Some(state.digests.drafts.items[0].id.clone());
    state.digests.preview.text = (0..60)
        .map(|i| format!("- `abc{i:04}` change number {i} touched the queue and the agent (Ann)\n"))
        .collect();
    state
}

fn down(state: &mut State) {
    let key = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    update(
        state,
        Settings {
            writer: WriterChoice::Builtin,
        },
        Msg::Key(key),
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Draw time into ratatui's test buffer: layout, widgets and the diff, no terminal I/O.
fn frame_time() {
    let themes = Themes::builtin();
    let theme = themes.get("dark").unwrap();
    let mut state = state_with_drafts(1_000);
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut times = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        down(&mut state);
        let start = Instant::now();
        terminal
            .draw(|frame| raibid::views::draw(frame, &state, theme))
            .unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / FRAMES as u32;
    println!(
        "frame time, Digests view, 1000 drafts, {WIDTH}x{HEIGHT}: mean {:?}, p50 {:?}, p99 {:?}, max {:?} over {FRAMES} frames",
        mean,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap()
    );
}

/// Counts what the crossterm backend would send to the terminal.
#[derive(Clone, Default)]
struct Counter {
    bytes: Rc<Cell<usize>>,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.set(self.bytes.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn bytes_per_frame() {
    let themes = Themes::builtin();
    let theme = themes.get("dark").unwrap();
    let mut state = state_with_drafts(1_000);
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
    };
    let counter = Counter::default();
    let mut terminal =
        Terminal::with_options(CrosstermBackend::new(counter.clone()), options).unwrap();
    let frame = |state: &State, terminal: &mut Terminal<CrosstermBackend<Counter>>| {
        let before = counter.bytes.get();
        terminal
            .draw(|f| raibid::views::draw(f, state, theme))
            .unwrap();
        counter.bytes.get() - before
    };
    let first = frame(&state, &mut terminal);
    let unchanged = frame(&state, &mut terminal);
    let mut moves = 0;
    for _ in 0..100 {
        down(&mut state);
        moves += frame(&state, &mut terminal);
    }
    println!(
        "bytes per frame at {WIDTH}x{HEIGHT}: first frame {first}, unchanged redraw {unchanged}, selection move {} (mean of 100)",
        moves / 100
    );
}

/// The real binary idling in tmux: CPU time and context switches over 10 s.
fn idle_cost() {
    let bin = env!("CARGO_BIN_EXE_raibid");
    let home = std::env::temp_dir().join(format!("raibid-idle-{}", std::process::id()));
    let config = home.join("config.toml");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        &config,
        "[sparky]\nwriter = \"builtin\"\nstartup_digest = \"off\"\n",
    )
    .unwrap();
    let socket = format!("raibid-bench-{}", std::process::id());
    let script = format!(
        "XDG_CONFIG_HOME={h}/c XDG_DATA_HOME={h}/d {bin} --config {c}",
        h = home.display(),
        c = config.display()
    );
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .output()
    };
    if tmux(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "40",
        &script,
    ])
    .is_err()
    {
        println!("idle cost: skipped, tmux is not installed");
        return;
    }
    sleep(Duration::from_secs(3)); // start-up and the first draw
    let shell = String::from_utf8(
        tmux(&["display-message", "-p", "#{pane_pid}"])
            .unwrap()
            .stdout,
    )
    .unwrap();
    let pid = shell.trim().to_string();
    let (cpu_before, switches_before) = process_cost(&pid);
    let seconds = 10;
    sleep(Duration::from_secs(seconds));
    let (cpu_after, switches_after) = process_cost(&pid);
    let _ = tmux(&["kill-server"]);
    let _ = std::fs::remove_dir_all(&home);
    let (woke, ended) = wakeups(&switches_before, &switches_after);
    println!(
        "idle for {seconds} s: CPU {} ms ({:.3}% of a core), {woke} context switches in the {} threads alive throughout, {ended} idle blocking-pool threads retired",
        (cpu_after - cpu_before) * 10,
        (cpu_after - cpu_before) as f64 * 10.0 / (seconds as f64 * 1000.0) * 100.0,
        switches_after.len(),
    );
}

/// CPU ticks (utime + stime, 1/100 s) of `pid`, and context switches per thread.
fn process_cost(pid: &str) -> (u64, BTreeMap<String, u64>) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut switches = BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let total = status
            .lines()
            .filter(|line| line.contains("ctxt_switches:"))
            .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        switches.insert(task.file_name().to_string_lossy().into_owned(), total);
    }
    (field(11) + field(12), switches)
}

/// Wake-ups of the threads alive at both readings, and how many threads ended between.
fn wakeups(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> (u64, usize) {
    let woke = after
        .iter()
        .filter_map(|(tid, n)| before.get(tid).map(|b| n - b))
        .sum();
    let ended = before
        .keys()
        .filter(|tid| !after.contains_key(*tid))
        .count();
    (woke, ended)
}

fn main() {
    frame_time();
    bytes_per_frame();
    idle_cost();
}
