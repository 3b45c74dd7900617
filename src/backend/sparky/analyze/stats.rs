//! Durations, medians and percentiles as the metrics report them.

use jiff::Timestamp;

use crate::backend::sparky::model::Period;

/// Whether `at` falls in the period: `since` inclusive, `until` exclusive.
pub(super) fn in_period(period: &Period, at: Timestamp) -> bool {
    period.since <= at && at < period.until
}

/// Hours from `from` to `to`; a negative span (clock skew) counts as none.
pub(super) fn hours_between(from: Timestamp, to: Timestamp) -> f64 {
    let seconds = (to.as_second() - from.as_second()).max(0);
    seconds as f64 / 3600.0
}

/// The period's length in days (a fraction for a custom range), at least one second.
pub(super) fn days(period: &Period) -> f64 {
    let seconds = (period.until.as_second() - period.since.as_second()).max(1);
    seconds as f64 / 86_400.0
}

/// Rounded to one decimal: digests show durations and rates so, and the data holds exactly
/// what they show.
pub(super) fn tenths(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The middle value, or the mean of the two middle ones; `None` without values.
pub(super) fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted(values);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Nearest rank: the smallest value with at least `pct` percent of the values at or below
/// it, so it is always one of the values; `None` without values.
pub(super) fn percentile(values: &[f64], pct: u32) -> Option<f64> {
    let sorted = sorted(values);
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(pct) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// `(after - before)` as a percent of `before`; `None` when `before` is zero.
pub(super) fn change_pct(before: u64, after: u64) -> Option<f64> {
    (before > 0).then(|| (after as f64 - before as f64) * 100.0 / before as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_nearest_rank_percentiles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 90), Some(9.0));
        assert_eq!(percentile(&ten, 100), Some(10.0));
        assert_eq!(percentile(&[7.0], 90), Some(7.0));
        assert_eq!(percentile(&[1.0, 2.0, 30.0], 90), Some(30.0));
        assert_eq!(percentile(&[], 90), None);
        assert_eq!(tenths(18.449), 18.4);
        assert_eq!(tenths(18.46), 18.5);
    }
}
