//! Calendar periods and the previous period of equal length.
//!
//! Every period is a half-open range of instants, `since` inclusive and `until` exclusive,
//! cut at local midnight in a time zone, so a day across a DST change is 23 or 25 hours.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::model::{Period, PeriodKind};

#[derive(Debug, thiserror::Error)]
pub enum PeriodError {
    #[error("unknown time zone '{name}': {source}")]
    UnknownTimeZone {
        name: String,
        #[source]
        source: jiff::Error,
    },
    #[error("'{text}' is neither a date (YYYY-MM-DD) nor an RFC 3339 time with offset")]
    Instant { text: String },
    #[error("'{text}' has no local midnight in {time_zone}: {source}")]
    Midnight {
        text: String,
        time_zone: String,
        #[source]
        source: jiff::Error,
    },
    #[error("empty range: since {since} is not before until {until}")]
    EmptyRange { since: Timestamp, until: Timestamp },
    #[error(
        "'{text}' names no {kind}: give this, last, today, yesterday or a date (YYYY-MM-DD){also}"
    )]
    Named {
        text: String,
        kind: &'static str,
        /// The kind's own form, if it has one.
        also: &'static str,
    },
}

/// The time zone named `name` (IANA), or the system's when `name` is empty.
pub fn time_zone(name: &str) -> Result<TimeZone, PeriodError> {
    if name.is_empty() {
        return Ok(TimeZone::system());
    }
    TimeZone::get(name).map_err(|source| PeriodError::UnknownTimeZone {
        name: name.to_string(),
        source,
    })
}

/// The calendar day, ISO week (Monday to Monday) or month containing `date`, cut at local
/// midnight in `tz`. `Custom` is no calendar period: it is cut as a `Day`.
///
/// Dates at the very ends of jiff's range clamp to `Timestamp::MIN` / `Timestamp::MAX`
/// rather than fail.
pub fn calendar(kind: PeriodKind, date: Date, tz: &TimeZone) -> Period {
    let (kind, first, after_last, label) = match kind {
        PeriodKind::Day | PeriodKind::Custom => (
            PeriodKind::Day,
            Some(date),
            date.tomorrow().ok(),
            date.to_string(),
        ),
        PeriodKind::Week => {
            let iso = date.iso_week_date();
            let monday = date
                .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
                .ok();
            let next_monday = monday.and_then(|monday| monday.checked_add(7.days()).ok());
            let label = format!("{:04}-W{:02}", iso.year(), iso.week());
            (PeriodKind::Week, monday, next_monday, label)
        }
        PeriodKind::Month => {
            let first = date.first_of_month();
            let next = first.checked_add(1.month()).ok();
            let label = format!("{:04}-{:02}", date.year(), date.month());
            (PeriodKind::Month, Some(first), next, label)
        }
    };
    Period {
        kind,
        since: first
            .and_then(|day| local_midnight(day, tz).ok())
            .unwrap_or(Timestamp::MIN),
        until: after_last
            .and_then(|day| local_midnight(day, tz).ok())
            .unwrap_or(Timestamp::MAX),
        label,
        time_zone: zone_name(tz),
    }
}

/// A custom range; `since` must be before `until`.
pub fn custom(since: Timestamp, until: Timestamp, tz: &TimeZone) -> Result<Period, PeriodError> {
    if since >= until {
        return Err(PeriodError::EmptyRange { since, until });
    }
    Ok(Period {
        kind: PeriodKind::Custom,
        since,
        until,
        label: format!("{}..{}", instant_label(since, tz), instant_label(until, tz)),
        time_zone: zone_name(tz),
    })
}

/// The period of equal length immediately before `period`: the previous day, ISO week or
/// month in the period's time zone, or for a custom range the range of equal duration
/// ending at its start.
pub fn previous(period: &Period) -> Period {
    // A name that no longer resolves can only come from a stored period; UTC keeps the
    // result defined, and `calendar` records the zone it actually used.
    let tz = TimeZone::get(&period.time_zone).unwrap_or(TimeZone::UTC);
    let day_before = period.since.to_zoned(tz.clone()).date().yesterday();
    match (period.kind, day_before) {
        (PeriodKind::Day | PeriodKind::Week | PeriodKind::Month, Ok(day)) => {
            calendar(period.kind, day, &tz)
        }
        _ => shifted_back(period, &tz),
    }
}

/// The period of equal length immediately after `period`: the next day, ISO week or month
/// in the period's time zone, or for a custom range the range of equal duration from its
/// end.
pub fn next(period: &Period) -> Period {
    let tz = TimeZone::get(&period.time_zone).unwrap_or(TimeZone::UTC);
    match period.kind {
        PeriodKind::Day | PeriodKind::Week | PeriodKind::Month => {
            calendar(period.kind, period.until.to_zoned(tz.clone()).date(), &tz)
        }
        PeriodKind::Custom => shifted(period, period.until.duration_since(period.since), &tz),
    }
}

/// The calendar period of `kind` that `text` names on `today` in `tz`: `this` (or
/// nothing), `last`, `today`, `yesterday`, a date in it (`YYYY-MM-DD`), and for a month
/// `YYYY-MM`, for a week `YYYY-Www`.
pub fn named(
    kind: PeriodKind,
    text: &str,
    today: Date,
    tz: &TimeZone,
) -> Result<Period, PeriodError> {
    let text = text.trim();
    let date = match text {
        "" | "this" | "today" => Some(today),
        "last" => return Ok(previous(&calendar(kind, today, tz))),
        "yesterday" => today.yesterday().ok(),
        _ => Date::strptime("%Y-%m-%d", text)
            .ok()
            .or_else(|| own_form(kind, text)),
    };
    date.map(|date| calendar(kind, date, tz))
        .ok_or_else(|| PeriodError::Named {
            text: text.to_string(),
            kind: kind_name(kind),
            also: match kind {
                PeriodKind::Week => " or a week (YYYY-Www)",
                PeriodKind::Month => " or a month (YYYY-MM)",
                PeriodKind::Day | PeriodKind::Custom => "",
            },
        })
}

/// The first day of a month written `YYYY-MM` or of an ISO week written `YYYY-Www`.
fn own_form(kind: PeriodKind, text: &str) -> Option<Date> {
    match kind {
        PeriodKind::Month => Date::strptime("%Y-%m-%d", format!("{text}-01")).ok(),
        PeriodKind::Week => {
            let (year, week) = text.split_once("-W")?;
            let week = jiff::civil::ISOWeekDate::new(
                year.parse().ok()?,
                week.parse().ok()?,
                jiff::civil::Weekday::Monday,
            );
            week.ok().map(|w| w.date())
        }
        PeriodKind::Day | PeriodKind::Custom => None,
    }
}

fn kind_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Day => "day",
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
        PeriodKind::Custom => "period",
    }
}

/// Parses `YYYY-MM-DD` as local midnight in `tz`, or an RFC 3339 time with an offset.
pub fn parse_instant(text: &str, tz: &TimeZone) -> Result<Timestamp, PeriodError> {
    let text = text.trim();
    // `Date`'s own parser would also take the date out of a full timestamp.
    if let Ok(date) = Date::strptime("%Y-%m-%d", text) {
        return local_midnight(date, tz).map_err(|source| PeriodError::Midnight {
            text: text.to_string(),
            time_zone: zone_name(tz),
            source,
        });
    }
    text.parse::<Timestamp>().map_err(|_| PeriodError::Instant {
        text: text.to_string(),
    })
}

/// The first instant of `date` in `tz`. A midnight skipped by a DST gap resolves to the
/// instant right after the gap, as git and calendars do.
fn local_midnight(date: Date, tz: &TimeZone) -> Result<Timestamp, jiff::Error> {
    Ok(date.to_zoned(tz.clone())?.timestamp())
}

fn zone_name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("UTC").to_string()
}

/// `2026-11-01` at local midnight, else `2026-11-01T0830` (seconds only when set): no
/// colons, so labels stay file-name safe.
fn instant_label(instant: Timestamp, tz: &TimeZone) -> String {
    let local = instant.to_zoned(tz.clone());
    let date = local.date();
    let time = local.time();
    let is_midnight = local_midnight(date, tz).is_ok_and(|midnight| midnight == instant);
    if is_midnight {
        date.to_string()
    } else if time.second() == 0 && time.subsec_nanosecond() == 0 {
        format!("{date}T{:02}{:02}", time.hour(), time.minute())
    } else {
        format!(
            "{date}T{:02}{:02}{:02}",
            time.hour(),
            time.minute(),
            time.second()
        )
    }
}

fn shifted_back(period: &Period, tz: &TimeZone) -> Period {
    shifted(period, period.since.duration_since(period.until), tz)
}

/// `period` moved by `by` (back when negative), clamped to jiff's range.
fn shifted(period: &Period, by: SignedDuration, tz: &TimeZone) -> Period {
    let clamp = |at: Timestamp| {
        at.checked_add(by).unwrap_or(if by.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    };
    let (since, until) = (clamp(period.since), clamp(period.until));
    Period {
        kind: PeriodKind::Custom,
        since,
        until,
        label: format!("{}..{}", instant_label(since, tz), instant_label(until, tz)),
        time_zone: zone_name(tz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn berlin() -> TimeZone {
        time_zone("Europe/Berlin").expect("tzdb has Europe/Berlin")
    }

    fn hours(period: &Period) -> i64 {
        period.until.duration_since(period.since).as_hours()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("valid test timestamp")
    }

    #[test]
    fn day_cut_at_local_midnight() {
        let period = calendar(PeriodKind::Day, date(2026, 11, 21), &berlin());
        assert_eq!(period.kind, PeriodKind::Day);
        assert_eq!(period.label, "2026-11-21");
        assert_eq!(period.time_zone, "Europe/Berlin");
        assert_eq!(period.since, ts("2026-11-20T23:00:00Z"));
        assert_eq!(period.until, ts("2026-11-21T23:00:00Z"));
    }

    #[test]
    fn dst_days_are_23_and_25_hours() {
        let spring = calendar(PeriodKind::Day, date(2026, 3, 29), &berlin());
        assert_eq!(hours(&spring), 23);
        let autumn = calendar(PeriodKind::Day, date(2026, 10, 25), &berlin());
        assert_eq!(hours(&autumn), 25);
        let plain = calendar(PeriodKind::Day, date(2026, 3, 30), &berlin());
        assert_eq!(hours(&plain), 24);
    }

    #[test]
    fn week_runs_monday_to_monday() {
        let period = calendar(PeriodKind::Week, date(2026, 11, 21), &TimeZone::UTC);
        assert_eq!(period.label, "2026-W47");
        assert_eq!(period.since, ts("2026-11-16T00:00:00Z"));
        assert_eq!(period.until, ts("2026-11-23T00:00:00Z"));
        let monday = calendar(PeriodKind::Week, date(2026, 11, 16), &TimeZone::UTC);
        assert_eq!(monday, period);
    }

    #[test]
    fn iso_weeks_at_year_ends() {
        let utc = TimeZone::UTC;
        let last = calendar(PeriodKind::Week, date(2026, 12, 31), &utc);
        assert_eq!(last.label, "2026-W53");
        let first = calendar(PeriodKind::Week, date(2027, 1, 1), &utc);
        assert_eq!(first, last);
        assert_eq!(last.since, ts("2026-12-28T00:00:00Z"));
        assert_eq!(last.until, ts("2027-01-04T00:00:00Z"));
        let next = calendar(PeriodKind::Week, date(2027, 1, 4), &utc);
        assert_eq!(next.label, "2027-W01");
        // 2024-12-30 belongs to the first ISO week of 2025.
        let early = calendar(PeriodKind::Week, date(2024, 12, 30), &utc);
        assert_eq!(early.label, "2025-W01");
        let single_digit = calendar(PeriodKind::Week, date(2026, 2, 4), &utc);
        assert_eq!(single_digit.label, "2026-W06");
    }

    #[test]
    fn week_with_dst_change_is_one_hour_short() {
        let period = calendar(PeriodKind::Week, date(2026, 3, 29), &berlin());
        assert_eq!(period.label, "2026-W13");
        assert_eq!(hours(&period), 7 * 24 - 1);
    }

    #[test]
    fn month_lengths() {
        let utc = TimeZone::UTC;
        let days = |y, m| {
            let period = calendar(PeriodKind::Month, date(y, m, 10), &utc);
            hours(&period) / 24
        };
        assert_eq!(days(2026, 1), 31);
        assert_eq!(days(2026, 2), 28);
        assert_eq!(days(2028, 2), 29);
        assert_eq!(days(2026, 4), 30);
        assert_eq!(days(2026, 12), 31);
        let december = calendar(PeriodKind::Month, date(2026, 12, 31), &utc);
        assert_eq!(december.label, "2026-12");
        assert_eq!(december.until, ts("2027-01-01T00:00:00Z"));
    }

    #[test]
    fn custom_kind_is_cut_as_a_day() {
        let period = calendar(PeriodKind::Custom, date(2026, 11, 21), &TimeZone::UTC);
        assert_eq!(
            period,
            calendar(PeriodKind::Day, date(2026, 11, 21), &TimeZone::UTC)
        );
    }

    #[test]
    fn previous_calendar_periods() {
        let tz = berlin();
        let day = calendar(PeriodKind::Day, date(2026, 3, 30), &tz);
        assert_eq!(
            previous(&day),
            calendar(PeriodKind::Day, date(2026, 3, 29), &tz)
        );
        let week = calendar(PeriodKind::Week, date(2027, 1, 6), &tz);
        assert_eq!(previous(&week).label, "2026-W53");
        let march = calendar(PeriodKind::Month, date(2026, 3, 15), &tz);
        let february = previous(&march);
        assert_eq!(february.label, "2026-02");
        assert_eq!(february.until, march.since);
        let january = calendar(PeriodKind::Month, date(2026, 1, 1), &tz);
        assert_eq!(previous(&january).label, "2025-12");
    }

    #[test]
    fn previous_custom_has_equal_length() {
        let utc = TimeZone::UTC;
        let period = custom(ts("2026-11-01T00:00:00Z"), ts("2026-11-09T00:00:00Z"), &utc)
            .expect("since before until");
        assert_eq!(period.label, "2026-11-01..2026-11-09");
        let before = previous(&period);
        assert_eq!(before.kind, PeriodKind::Custom);
        assert_eq!(before.since, ts("2026-10-24T00:00:00Z"));
        assert_eq!(before.until, period.since);
        assert_eq!(before.label, "2026-10-24..2026-11-01");
    }

    #[test]
    fn custom_rejects_empty_ranges_and_labels_times() {
        let utc = TimeZone::UTC;
        let at = ts("2026-11-01T08:30:00Z");
        assert!(matches!(
            custom(at, at, &utc),
            Err(PeriodError::EmptyRange { .. })
        ));
        let period = custom(at, ts("2026-11-02T00:00:15Z"), &utc).expect("non-empty");
        assert_eq!(period.label, "2026-11-01T0830..2026-11-02T000015");
        assert!(!period.label.contains(':'));
    }

    #[test]
    fn next_undoes_previous() {
        let tz = berlin();
        for kind in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
            let period = calendar(kind, date(2026, 12, 31), &tz);
            assert_eq!(next(&previous(&period)), period, "{kind:?}");
            assert_eq!(next(&period).since, period.until, "{kind:?}");
        }
        assert_eq!(
            next(&calendar(PeriodKind::Week, date(2026, 12, 31), &tz)).label,
            "2027-W01"
        );
        let utc = TimeZone::UTC;
        let range = custom(ts("2026-11-01T00:00:00Z"), ts("2026-11-09T00:00:00Z"), &utc)
            .expect("since before until");
        let after = next(&range);
        assert_eq!(after.since, range.until);
        assert_eq!(after.label, "2026-11-09..2026-11-17");
    }

    #[test]
    fn named_periods() {
        let utc = TimeZone::UTC;
        let today = date(2026, 12, 7);
        let label = |kind, text| named(kind, text, today, &utc).map(|p| p.label);
        assert_eq!(label(PeriodKind::Week, "").unwrap(), "2026-W50");
        assert_eq!(label(PeriodKind::Week, "this").unwrap(), "2026-W50");
        assert_eq!(label(PeriodKind::Week, "last").unwrap(), "2026-W49");
        assert_eq!(label(PeriodKind::Week, "2025-11-12").unwrap(), "2025-W46");
        assert_eq!(label(PeriodKind::Week, "2025-W48").unwrap(), "2025-W48");
        assert_eq!(label(PeriodKind::Month, "last").unwrap(), "2026-11");
        assert_eq!(label(PeriodKind::Month, "2025-11").unwrap(), "2025-11");
        assert_eq!(label(PeriodKind::Day, "yesterday").unwrap(), "2026-12-06");
        assert_eq!(label(PeriodKind::Day, "today").unwrap(), "2026-12-07");
        // Yesterday was a Sunday: the week before.
        assert_eq!(label(PeriodKind::Week, "yesterday").unwrap(), "2026-W49");
        for (kind, text) in [
            (PeriodKind::Week, "2025-13-01"),
            (PeriodKind::Month, "2025-13"),
            (PeriodKind::Week, "2025-W54"),
            (PeriodKind::Day, "2025-11"),
            (PeriodKind::Month, "tomorrow"),
        ] {
            let error = label(kind, text).expect_err(text).to_string();
            assert!(error.contains(&format!("'{text}'")), "{error}");
        }
        let error = label(PeriodKind::Month, "nov").unwrap_err().to_string();
        assert!(
            error.contains("names no month") && error.contains("YYYY-MM"),
            "{error}"
        );
    }

    #[test]
    fn parse_instant_dates_and_rfc3339() {
        let tokyo = time_zone("Asia/Tokyo").expect("tzdb has Asia/Tokyo");
        assert_eq!(
            parse_instant("2026-11-21", &tokyo).expect("date"),
            ts("2026-11-20T15:00:00Z")
        );
        assert_eq!(
            parse_instant("2026-11-21T10:00:00+05:30", &tokyo).expect("rfc 3339"),
            ts("2026-11-21T04:30:00Z")
        );
        let error = parse_instant("yesterday", &tokyo).expect_err("not a time");
        assert!(error.to_string().contains("'yesterday'"));
        // A local time without offset is ambiguous across zones: refused.
        assert!(parse_instant("2026-11-21T10:00:00", &tokyo).is_err());
    }

    #[test]
    fn time_zone_names() {
        let error = time_zone("Mars/Olympus").expect_err("not in tzdb");
        assert!(error.to_string().contains("Mars/Olympus"));
        assert_eq!(
            time_zone("Asia/Tokyo").expect("known").iana_name(),
            Some("Asia/Tokyo")
        );
        assert!(time_zone("").is_ok());
    }
}
