//! The local agent pool: N looping `raibid agent` processes, restarted when they die,
//! scaled up and down on command. `raibid pool` runs it headless; the console runs the
//! same supervisor in local mode.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How to start one agent.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    /// The raibid binary.
    pub program: PathBuf,
    /// Arguments before `agent`, e.g. `--config FILE`.
    pub global_args: Vec<OsString>,
    /// Agents are named `<prefix>-1`, `<prefix>-2`, …
    pub name_prefix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolCommand {
    /// Run this many agents.
    Scale(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolEvent {
    Started {
        name: String,
        pid: u32,
    },
    /// `code` is `None` when a signal ended it.
    Exited {
        name: String,
        code: Option<i32>,
    },
    Failed {
        name: String,
        message: String,
    },
    Size {
        wanted: u32,
        running: u32,
    },
}

/// How long a crashed agent waits before it is started again.
const RESTART_DELAY: Duration = Duration::from_secs(2);

/// Starts the supervisor with `initial` agents. Cancelling `stop` sends SIGTERM to every
/// agent and waits for them; the returned sender scales the pool.
pub fn spawn(
    spec: PoolSpec,
    initial: u32,
    events: mpsc::UnboundedSender<PoolEvent>,
    stop: CancellationToken,
) -> (
    mpsc::UnboundedSender<PoolCommand>,
    tokio::task::JoinHandle<()>,
) {
    let (commands, inbox) = mpsc::unbounded_channel();
    let task = tokio::spawn(supervise(spec, initial, inbox, events, stop));
    (commands, task)
}

struct Slot {
    name: String,
    pid: Option<u32>,
}

async fn supervise(
    spec: PoolSpec,
    initial: u32,
    mut inbox: mpsc::UnboundedReceiver<PoolCommand>,
    events: mpsc::UnboundedSender<PoolEvent>,
    stop: CancellationToken,
) {
    let (exits_tx, mut exits) = mpsc::unbounded_channel::<Exit>();
    let mut slots: Vec<Slot> = Vec::new();
    let mut wanted = initial;
    let restart = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(restart);
    let mut restart_armed = true;
    loop {
        // Fill empty slots and trim extra ones; a slot without a pid is waiting to start.
        if restart_armed && restart.is_elapsed() {
            restart_armed = false;
            while slots.len() < wanted as usize {
                slots.push(Slot {
                    name: format!("{}-{}", spec.name_prefix, slots.len() + 1),
                    pid: None,
                });
            }
            for slot in slots.iter_mut().filter(|s| s.pid.is_none()) {
                slot.pid = start(&spec, &slot.name, &exits_tx, &events);
            }
        }
        while slots.len() > wanted as usize {
            if let Some(slot) = slots.pop()
                && let Some(pid) = slot.pid
            {
                terminate(pid);
            }
        }
        let running = slots.iter().filter(|s| s.pid.is_some()).count() as u32;
        let _ = events.send(PoolEvent::Size { wanted, running });

        tokio::select! {
            _ = stop.cancelled() => break,
            command = inbox.recv() => match command {
                Some(PoolCommand::Scale(n)) => {
                    wanted = n;
                    restart.as_mut().reset(tokio::time::Instant::now());
                    restart_armed = true;
                }
                None => break,
            },
            Some(exit) = exits.recv() => {
                // An agent stopped by a scale-down is already gone from its slot.
                if let Some(slot) = slots.iter_mut().find(|s| s.pid == Some(exit.pid)) {
                    let _ = events.send(PoolEvent::Exited { name: slot.name.clone(), code: exit.code });
                    slot.pid = None;
                    restart.as_mut().reset(tokio::time::Instant::now() + RESTART_DELAY);
                    restart_armed = true;
                }
            }
            () = &mut restart, if restart_armed => {}
        }
    }
    // Stop every agent and wait for their exits, so none outlives the pool.
    let mut alive: Vec<u32> = slots.iter().filter_map(|s| s.pid).collect();
    alive.iter().for_each(|pid| terminate(*pid));
    while !alive.is_empty() {
        match exits.recv().await {
            Some(exit) => alive.retain(|pid| *pid != exit.pid),
            None => break,
        }
    }
    let _ = events.send(PoolEvent::Size {
        wanted: 0,
        running: 0,
    });
}

/// An agent process that ended; `code` is `None` when a signal ended it.
struct Exit {
    pid: u32,
    code: Option<i32>,
}

/// Starts one agent; its exit is reported on `exits`.
fn start(
    spec: &PoolSpec,
    name: &str,
    exits: &mpsc::UnboundedSender<Exit>,
    events: &mpsc::UnboundedSender<PoolEvent>,
) -> Option<u32> {
    // The agents must never write to the terminal the console draws on; a stderr that is
    // no terminal (a pod's, a pipe) they share, and their log lines show there.
    let stderr = if std::io::stderr().is_terminal() {
        Stdio::null()
    } else {
        Stdio::inherit()
    };
    let spawned = Command::new(&spec.program)
        .args(&spec.global_args)
        .args(["agent", "--id", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn();
    match spawned {
        Ok(mut child) => {
            let pid = child.id()?;
            let exits = exits.clone();
            tokio::spawn(async move {
                let code = child.wait().await.ok().and_then(|status| status.code());
                let _ = exits.send(Exit { pid, code });
            });
            let _ = events.send(PoolEvent::Started {
                name: name.to_string(),
                pid,
            });
            Some(pid)
        }
        Err(e) => {
            let _ = events.send(PoolEvent::Failed {
                name: name.to_string(),
                message: e.to_string(),
            });
            None
        }
    }
}

/// Asks an agent to stop: it stops claiming, ends its current job and exits.
fn terminate(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a pid we started and a valid signal number has no memory effects.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}
