//! Timing shared by the benches.

use std::time::{Duration, Instant};

/// The median wall time of `runs` runs of `run`.
pub fn median(runs: u32, mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
