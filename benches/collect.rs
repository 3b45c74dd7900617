//! Collecting numstat: our `collect()` side by side with `git log --numstat`.
//!
//! `cargo bench --bench collect`, with
//! - `RAIBID_BENCH_REPO`: the repository (default: the current directory's),
//! - `RAIBID_BENCH_SINCE` / `RAIBID_BENCH_UNTIL`: `YYYY-MM-DD` (UTC) or RFC 3339
//!   (default: the whole history),
//! - `RAIBID_BENCH_RUNS`: runs of each (default 5).
//!
//! After timing, one untimed pass compares every commit's numstat with git's.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use raibid::backend::sparky::{collect, period};

type Numstat = (u32, u64, u64);

fn main() {
    if let Err(error) = run() {
        eprintln!("bench collect: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let repo = match std::env::var_os("RAIBID_BENCH_REPO") {
        Some(path) => PathBuf::from(path),
        None => collect::find_repos(&[], &[], &cwd)
            .map_err(|e| e.to_string())?
            .remove(0),
    };
    let since = instant("RAIBID_BENCH_SINCE")?;
    let until = instant("RAIBID_BENCH_UNTIL")?;
    let runs: usize = std::env::var("RAIBID_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5)
        .max(1);
    let range = match (since, until) {
        (None, None) => "whole history".to_string(),
        _ => format!(
            "{} .. {}",
            since.map_or("start".into(), |t| t.to_string()),
            until.map_or("now".into(), |t| t.to_string())
        ),
    };
    println!("repository: {}", repo.display());
    println!("period:     {range}");
    println!("runs:       {runs} each");

    let mut rows = Vec::new();
    for threads in [1, 2] {
        let mut times = Vec::new();
        let mut commits = 0;
        let cpu_before = cpu_seconds();
        for _ in 0..runs {
            let start = Instant::now();
            let activity = collect::collect_on_threads(
                &repo,
                since.unwrap_or(Timestamp::MIN),
                until.unwrap_or(Timestamp::MAX),
                &[],
                None,
                threads,
            )
            .map_err(|e| e.to_string())?;
            times.push(start.elapsed());
            commits = activity.activity.commits.len();
        }
        let cpu = cpu_spent(cpu_before, cpu_seconds(), |cpu| cpu.own, runs);
        rows.push((format!("raibid, {threads} thread(s)"), commits, times, cpu));
    }
    let mut times = Vec::new();
    let mut commits = 0;
    let cpu_before = cpu_seconds();
    for _ in 0..runs {
        let start = Instant::now();
        commits = git_log_discarded(&repo, since, until)?;
        times.push(start.elapsed());
    }
    let cpu = cpu_spent(cpu_before, cpu_seconds(), |cpu| cpu.children, runs);
    rows.push(("git log --numstat".to_string(), commits, times, cpu));

    println!();
    println!(
        "{:<22} {:>8} {:>10} {:>10} {:>12} {:>10}",
        "", "commits", "best", "median", "commits/s", "CPU/run"
    );
    for (name, commits, times, cpu) in &mut rows {
        report(name, *commits, times, *cpu);
    }

    verify(&repo, since, until)
}

fn instant(var: &str) -> Result<Option<Timestamp>, String> {
    match std::env::var(var) {
        Ok(text) => period::parse_instant(&text, &TimeZone::UTC)
            .map(Some)
            .map_err(|e| format!("{var}: {e}")),
        Err(_) => Ok(None),
    }
}

fn git_args(since: Option<Timestamp>, until: Option<Timestamp>) -> Vec<String> {
    let mut args = vec!["log".to_string(), "--numstat".to_string()];
    args.push("--format=@%H".to_string());
    if let Some(since) = since {
        args.push(format!("--since-as-filter=@{} +0000", since.as_second()));
    }
    if let Some(until) = until {
        // --until is inclusive; our periods end before `until`.
        args.push(format!("--until=@{} +0000", until.as_second() - 1));
    }
    args
}

/// Runs git log with its output going to a pipe that is read and thrown away; returns the
/// number of commits it printed.
fn git_log_discarded(
    repo: &Path,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<usize, String> {
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(git_args(since, until))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let stdout = child.stdout.take().ok_or("git has no stdout")?;
    let mut commits = 0;
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        commits += usize::from(line.first() == Some(&b'@'));
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("git log failed: {status}"));
    }
    Ok(commits)
}

fn report(name: &str, commits: usize, times: &mut [Duration], cpu: Option<f64>) {
    times.sort();
    let best = times[0];
    let median = times[times.len() / 2];
    let rate = commits as f64 / best.as_secs_f64();
    let cpu = cpu.map_or("-".to_string(), |cpu| format!("{cpu:.2}s"));
    println!(
        "{name:<22} {commits:>8} {:>9.3}s {:>9.3}s {rate:>12.0} {cpu:>10}",
        best.as_secs_f64(),
        median.as_secs_f64()
    );
}

/// User + system CPU seconds of this process and of its waited-for children.
#[derive(Clone, Copy)]
struct Cpu {
    own: f64,
    children: f64,
}

/// From /proc/self/stat (Linux), in clock ticks of 1/100 s (`getconf CLK_TCK`): CPU time
/// shows the cost of the work whatever else the machine's cores are busy with.
fn cpu_seconds() -> Option<Cpu> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name in parentheses: state is field 3, utime 14.
    let fields: Vec<f64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = fields[..] else {
        return None;
    };
    Some(Cpu {
        own: (utime + stime) / 100.0,
        children: (cutime + cstime) / 100.0,
    })
}

fn cpu_spent(
    before: Option<Cpu>,
    after: Option<Cpu>,
    pick: fn(Cpu) -> f64,
    runs: usize,
) -> Option<f64> {
    Some((pick(after?) - pick(before?)) / runs as f64)
}

/// Compares every commit's (files, insertions, deletions) with git's.
fn verify(repo: &Path, since: Option<Timestamp>, until: Option<Timestamp>) -> Result<(), String> {
    let activity = collect::collect(
        repo,
        since.unwrap_or(Timestamp::MIN),
        until.unwrap_or(Timestamp::MAX),
        &[],
        None,
    )
    .map_err(|e| e.to_string())?
    .activity;
    let ours: HashMap<String, Numstat> = activity
        .commits
        .iter()
        .map(|c| (c.sha.clone(), (c.files_changed, c.insertions, c.deletions)))
        .collect();
    let theirs = git_numstat(repo, since, until)?;
    let mut differing: Vec<(&String, Option<&Numstat>, Option<&Numstat>)> = theirs
        .iter()
        .filter(|(sha, stat)| ours.get(*sha) != Some(stat))
        .map(|(sha, stat)| (sha, ours.get(sha), Some(stat)))
        .collect();
    differing.extend(
        ours.iter()
            .filter(|(sha, _)| !theirs.contains_key(*sha))
            .map(|(sha, stat)| (sha, Some(stat), None)),
    );
    let sum = |stats: &HashMap<String, Numstat>| {
        stats.values().fold((0u64, 0u64, 0u64), |acc, s| {
            (acc.0 + u64::from(s.0), acc.1 + s.1, acc.2 + s.2)
        })
    };
    println!();
    println!(
        "totals (files, +, -): ours {:?}, git {:?}",
        sum(&ours),
        sum(&theirs)
    );
    println!(
        "commits whose numstat differs from git's: {}",
        differing.len()
    );
    for (sha, ours, theirs) in differing.iter().take(10) {
        println!("  {sha}: ours {ours:?}, git {theirs:?}");
    }
    Ok(())
}

fn git_numstat(
    repo: &Path,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<HashMap<String, Numstat>, String> {
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(git_args(since, until))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut bytes = Vec::new();
    child
        .stdout
        .take()
        .ok_or("git has no stdout")?
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    child.wait().map_err(|e| e.to_string())?;
    // Paths need not be UTF-8; only the counts and shas matter here.
    let text = String::from_utf8_lossy(&bytes);
    let mut stats = HashMap::new();
    let mut current: Option<(String, Numstat)> = None;
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(sha) = line.strip_prefix('@') {
            stats.extend(current.take());
            current = Some((sha.to_string(), (0, 0, 0)));
        } else if let Some((_, stat)) = current.as_mut() {
            let mut fields = line.splitn(3, '\t');
            let mut count = || {
                fields
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            stat.1 += count();
            stat.2 += count();
            stat.0 += 1;
        }
    }
    stats.extend(current);
    Ok(stats)
}
