//! Scheduled runs (`raibid schedule run daily|weekly|monthly`, from cron or the cluster's
//! CronJobs): which completed period a run writes about, which kinds of draft, and which
//! of them go out without a person's approval.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::model::{DraftKind, Period, PeriodKind};
use super::period;
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }

    fn period_kind(self) -> PeriodKind {
        match self {
            Cadence::Daily => PeriodKind::Day,
            Cadence::Weekly => PeriodKind::Week,
            Cadence::Monthly => PeriodKind::Month,
        }
    }

    /// The last period completed at `now`: yesterday, last week or last month in `tz`.
    /// A run at 00:00 UTC on Monday writes about the Sunday before it, whatever the minute.
    pub fn last_completed(self, now: Timestamp, tz: &TimeZone) -> Period {
        let today = now.to_zoned(tz.clone()).date();
        period::previous(&period::calendar(self.period_kind(), today, tz))
    }

    /// The calendar period containing `date`, for re-running a missed schedule.
    pub fn containing(self, date: jiff::civil::Date, tz: &TimeZone) -> Period {
        period::calendar(self.period_kind(), date, tz)
    }

    /// The kinds this run writes (`schedule.<cadence>`), the digest first: posts link to
    /// it. Config check refuses unknown names and another period's digest.
    pub fn kinds(self, config: &Config) -> Vec<DraftKind> {
        let names = match self {
            Cadence::Daily => &config.schedule.daily,
            Cadence::Weekly => &config.schedule.weekly,
            Cadence::Monthly => &config.schedule.monthly,
        };
        let mut kinds: Vec<DraftKind> = names.iter().filter_map(|n| DraftKind::parse(n)).collect();
        kinds.sort_by_key(|k| !k.is_digest());
        kinds
    }

    /// The digest kind of this run's period.
    pub fn digest_kind(self) -> DraftKind {
        DraftKind::for_period(self.period_kind())
    }
}

/// Whether drafts of `kind` are published without a person when the checker finds
/// nothing (`publish.auto`); manual approval is the default.
pub fn auto_publish(config: &Config, kind: DraftKind) -> bool {
    config.publish.auto.iter().any(|k| k == kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    #[test]
    fn each_run_writes_about_the_period_just_completed() {
        let utc = TimeZone::UTC;
        let daily = Cadence::Daily.last_completed(at("2026-11-23T00:00:00Z"), &utc);
        assert_eq!(daily.label, "2026-11-22");
        let weekly = Cadence::Weekly.last_completed(at("2026-11-23T08:00:00Z"), &utc);
        assert_eq!(weekly.label, "2026-W47");
        let monthly = Cadence::Monthly.last_completed(at("2026-12-01T09:00:00Z"), &utc);
        assert_eq!(monthly.label, "2026-11");
        let late = Cadence::Daily.last_completed(at("2026-11-23T23:59:59Z"), &utc);
        assert_eq!(
            late.label, "2026-11-22",
            "a late run still writes yesterday"
        );
    }

    #[test]
    fn kinds_and_policy_come_from_the_config() {
        let mut config = Config::default();
        assert_eq!(Cadence::Weekly.kinds(&config), [DraftKind::Weekly]);
        assert!(
            !auto_publish(&config, DraftKind::Weekly),
            "manual by default"
        );
        config.schedule.weekly = vec!["mastodon".into(), "weekly".into()];
        config.publish.auto = vec!["mastodon".into()];
        assert_eq!(
            Cadence::Weekly.kinds(&config),
            [DraftKind::Weekly, DraftKind::Mastodon],
            "the digest first: the post links to it"
        );
        assert!(auto_publish(&config, DraftKind::Mastodon));
        assert!(!auto_publish(&config, DraftKind::Weekly));
    }
}
