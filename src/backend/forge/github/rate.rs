//! GitHub's rate limits, read from an answer's headers: when to wait and until when.
//!
//! - Primary limit: every answer carries `x-ratelimit-remaining` and `x-ratelimit-reset`
//!   (epoch seconds). Exhausted, REST answers 403 or 429 and GraphQL answers 200 with an
//!   error of type `RATE_LIMITED` (documented) or `RATE_LIMIT` (sent since 2026), code
//!   `graphql_rate_limit`; both wait until the reset, plus one second.
//! - A GraphQL rate-limit error whose headers still show quota left: the query costs more
//!   than what is left, or a limit on points per minute; it waits until the reset, a
//!   minute at most.
//! - Secondary limits: 403 or 429 (or a GraphQL rate-limit error) with `retry-after`
//!   (seconds), or a message naming a secondary rate limit without it: GitHub asks for at
//!   least a minute then.

use axum::http::HeaderMap;
use jiff::{SignedDuration, Timestamp};

/// How long to wait after a secondary limit that gives no `retry-after`, and after a
/// primary one whose reset is missing.
const DEFAULT_WAIT: SignedDuration = SignedDuration::from_secs(60);
/// Past the reset time, so the new window has surely begun.
const RESET_MARGIN: SignedDuration = SignedDuration::from_secs(1);

/// The `x-ratelimit-*` headers of one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RateInfo {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<Timestamp>,
    pub used: Option<u64>,
    pub resource: Option<String>,
    /// `retry-after`, in seconds.
    pub retry_after: Option<u64>,
}

impl RateInfo {
    pub fn from_headers(headers: &HeaderMap) -> RateInfo {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &str| text(name).and_then(|value| value.parse::<u64>().ok());
        RateInfo {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset")
                .and_then(|secs| i64::try_from(secs).ok())
                .and_then(|secs| Timestamp::from_second(secs).ok()),
            used: number("x-ratelimit-used"),
            resource: text("x-ratelimit-resource").map(str::to_owned),
            retry_after: number("retry-after"),
        }
    }

    /// When the primary limit's window starts again, with a margin.
    fn reset_wait(&self, now: Timestamp) -> Timestamp {
        self.reset
            .map_or(now + DEFAULT_WAIT, |reset| reset + RESET_MARGIN)
    }
}

/// Why and until when requests must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Wait {
    /// The hourly quota of `resource` (`core`, `graphql`, ...) is spent.
    Primary { resource: String, until: Timestamp },
    /// GitHub asks to slow down (too many requests at once or too fast).
    Secondary { until: Timestamp },
}

impl Wait {
    pub fn until(&self) -> Timestamp {
        match self {
            Wait::Primary { until, .. } | Wait::Secondary { until } => *until,
        }
    }

    /// What refused, and until when: "GitHub rate limit reached (core) until 10:42:07 UTC".
    pub fn refusal(&self) -> String {
        let clock = self.until().strftime("%H:%M:%S UTC");
        match self {
            Wait::Primary { resource, .. } => {
                format!("GitHub rate limit reached ({resource}) until {clock}")
            }
            Wait::Secondary { .. } => format!("GitHub secondary rate limit until {clock}"),
        }
    }

    /// What the user is told, e.g. "GitHub rate limit reached (core): waiting until
    /// 10:42:07 UTC".
    pub fn notice(&self, now: Timestamp) -> String {
        let until = self.until();
        let clock = until.strftime("%H:%M:%S UTC");
        match self {
            Wait::Primary { resource, .. } => {
                format!("GitHub rate limit reached ({resource}): waiting until {clock}")
            }
            Wait::Secondary { .. } => {
                let secs = until.duration_since(now).as_secs_f64().ceil().max(0.0);
                format!("GitHub secondary rate limit: waiting {secs} s, until {clock}")
            }
        }
    }
}

/// Whether an answer says to wait before asking again. `graphql_limited`: the body is
/// a GraphQL answer with a rate-limit error ([`graphql_rate_limited`]). Waits end at least
/// a second after `now`.
pub(super) fn verdict(
    status: u16,
    rate: &RateInfo,
    graphql_limited: bool,
    body: &str,
    now: Timestamp,
    resource: &str,
) -> Option<Wait> {
    let limited_status = status == 403 || status == 429;
    let primary = |rate: &RateInfo| Wait::Primary {
        resource: rate.resource.clone().unwrap_or_else(|| resource.to_owned()),
        until: rate.reset_wait(now),
    };
    let refused = limited_status || graphql_limited;
    let wait = if refused && let Some(secs) = rate.retry_after {
        Wait::Secondary {
            until: now + SignedDuration::from_secs(i64::try_from(secs).unwrap_or(3600)),
        }
    } else if refused && rate.remaining == Some(0) {
        primary(rate)
    } else if graphql_limited {
        // Quota left by the headers, yet refused: the query costs more than what is left
        // (the window's reset helps) or points per minute ran out (a minute does).
        Wait::Primary {
            resource: rate.resource.clone().unwrap_or_else(|| resource.to_owned()),
            until: rate.reset_wait(now).min(now + DEFAULT_WAIT),
        }
    } else if status == 429
        || (limited_status && body.to_ascii_lowercase().contains("secondary rate limit"))
    {
        // A secondary limit without `retry-after` asks for a minute.
        Wait::Secondary {
            until: now + DEFAULT_WAIT,
        }
    } else {
        return None;
    };
    Some(at_least_a_second(wait, now))
}

/// Whether a GraphQL answer's errors include a rate limit: type `RATE_LIMITED` (as
/// documented), `RATE_LIMIT`, or code `graphql_rate_limit` (as GitHub sends since 2026).
pub(super) fn graphql_rate_limited(body: &str) -> bool {
    // Most answers are data: skip parsing them twice.
    if !(body.contains("RATE_LIMIT") || body.contains("graphql_rate_limit")) {
        return false;
    }
    let Ok(body) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    let errors = body.get("errors").and_then(|errors| errors.as_array());
    errors.into_iter().flatten().any(|error| {
        let field = |name: &str| error.get(name).and_then(|value| value.as_str());
        matches!(field("type"), Some("RATE_LIMITED" | "RATE_LIMIT"))
            || field("code") == Some("graphql_rate_limit")
    })
}

/// A primary wait to start before the next request, when an answer spent the last of the
/// quota (a successful answer with `x-ratelimit-remaining: 0`).
pub(super) fn exhausted(rate: &RateInfo, now: Timestamp, resource: &str) -> Option<Wait> {
    if rate.remaining != Some(0) {
        return None;
    }
    let reset = rate.reset?;
    if reset + RESET_MARGIN <= now {
        return None;
    }
    Some(Wait::Primary {
        resource: rate.resource.clone().unwrap_or_else(|| resource.to_owned()),
        until: reset + RESET_MARGIN,
    })
}

fn at_least_a_second(wait: Wait, now: Timestamp) -> Wait {
    let earliest = now + SignedDuration::from_secs(1);
    match wait {
        Wait::Primary { resource, until } => Wait::Primary {
            resource,
            until: until.max(earliest),
        },
        Wait::Secondary { until } => Wait::Secondary {
            until: until.max(earliest),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn now() -> Timestamp {
        "2026-11-05T10:00:00Z".parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reads_the_headers() {
        let reset = now().as_second() + 120;
        let rate = RateInfo::from_headers(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset.to_string()),
            ("x-ratelimit-used", "5000"),
            ("x-ratelimit-resource", "core"),
        ]));
        assert_eq!(rate.limit, Some(5000));
        assert_eq!(rate.remaining, Some(0));
        assert_eq!(rate.reset, Some(Timestamp::from_second(reset).unwrap()));
        assert_eq!(rate.resource.as_deref(), Some("core"));
        assert_eq!(rate.retry_after, None);
        assert_eq!(
            RateInfo::from_headers(&HeaderMap::new()),
            RateInfo::default()
        );
    }

    #[test]
    fn exhausted_primary_waits_until_the_reset_plus_a_second() {
        let reset = now() + SignedDuration::from_mins(42);
        let rate = RateInfo {
            remaining: Some(0),
            reset: Some(reset),
            resource: Some("core".into()),
            ..RateInfo::default()
        };
        for status in [403, 429] {
            let wait = verdict(status, &rate, false, "{}", now(), "core").unwrap();
            assert_eq!(
                wait,
                Wait::Primary {
                    resource: "core".into(),
                    until: reset + SignedDuration::from_secs(1)
                }
            );
            assert_eq!(
                wait.notice(now()),
                "GitHub rate limit reached (core): waiting until 10:42:01 UTC"
            );
        }
        // GraphQL: 200 with a RATE_LIMITED error.
        let wait = verdict(200, &rate, true, "{}", now(), "graphql").unwrap();
        assert_eq!(wait.until(), reset + SignedDuration::from_secs(1));
        // A 403 with quota left is a permission problem, not a limit.
        let left = RateInfo {
            remaining: Some(10),
            ..rate.clone()
        };
        assert_eq!(
            verdict(
                403,
                &left,
                false,
                r#"{"message":"Forbidden"}"#,
                now(),
                "core"
            ),
            None
        );
        assert_eq!(verdict(200, &rate, false, "{}", now(), "core"), None);
    }

    #[test]
    fn secondary_limits_honour_retry_after() {
        let rate = RateInfo {
            remaining: Some(4000),
            retry_after: Some(30),
            ..RateInfo::default()
        };
        let wait = verdict(403, &rate, false, "", now(), "core").unwrap();
        assert_eq!(
            wait,
            Wait::Secondary {
                until: now() + SignedDuration::from_secs(30)
            }
        );
        assert_eq!(
            wait.notice(now()),
            "GitHub secondary rate limit: waiting 30 s, until 10:00:30 UTC"
        );
        let no_header = RateInfo {
            remaining: Some(4000),
            ..RateInfo::default()
        };
        let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        assert_eq!(
            verdict(403, &no_header, false, body, now(), "core")
                .unwrap()
                .until(),
            now() + DEFAULT_WAIT
        );
        assert_eq!(
            verdict(429, &no_header, false, "", now(), "core")
                .unwrap()
                .until(),
            now() + DEFAULT_WAIT
        );
    }

    #[test]
    fn graphql_rate_limit_errors_are_recognised_in_every_form() {
        for body in [
            r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#,
            r#"{"errors":[{"type":"RATE_LIMIT","code":"graphql_rate_limit","message":"API rate limit already exceeded for user ID 1."}]}"#,
            r#"{"errors":[{"code":"graphql_rate_limit","message":"x"}]}"#,
        ] {
            assert!(graphql_rate_limited(body), "{body}");
        }
        for body in [
            r#"{"data":{"x":"RATE_LIMITED"},"errors":[{"type":"NOT_FOUND"}]}"#,
            r#"{"data":{"repository":{"name":"RATE_LIMIT"}}}"#,
            "RATE_LIMITED, not JSON",
        ] {
            assert!(!graphql_rate_limited(body), "{body}");
        }
    }

    #[test]
    fn a_graphql_limit_with_quota_left_waits_for_the_reset_a_minute_at_most() {
        let soon = RateInfo {
            remaining: Some(1),
            reset: Some(now() + SignedDuration::from_secs(5)),
            ..RateInfo::default()
        };
        let wait = verdict(200, &soon, true, "{}", now(), "graphql").unwrap();
        assert_eq!(wait.until(), now() + SignedDuration::from_secs(6));
        let late = RateInfo {
            remaining: Some(4000),
            reset: Some(now() + SignedDuration::from_mins(40)),
            ..RateInfo::default()
        };
        let wait = verdict(200, &late, true, "{}", now(), "graphql").unwrap();
        assert_eq!(wait.until(), now() + DEFAULT_WAIT);
        assert_eq!(
            wait.refusal(),
            "GitHub rate limit reached (graphql) until 10:01:00 UTC"
        );
        // With `retry-after`, that is the wait.
        let told = RateInfo {
            retry_after: Some(7),
            ..late
        };
        let wait = verdict(200, &told, true, "{}", now(), "graphql").unwrap();
        assert_eq!(wait.until(), now() + SignedDuration::from_secs(7));
    }

    #[test]
    fn a_reset_in_the_past_still_waits_a_second() {
        let rate = RateInfo {
            remaining: Some(0),
            reset: Some(now() - SignedDuration::from_mins(5)),
            ..RateInfo::default()
        };
        let wait = verdict(403, &rate, false, "", now(), "core").unwrap();
        assert_eq!(wait.until(), now() + SignedDuration::from_secs(1));
        assert_eq!(exhausted(&rate, now(), "core"), None);
    }

    #[test]
    fn a_spent_quota_blocks_the_next_request() {
        let reset = now() + SignedDuration::from_secs(90);
        let rate = RateInfo {
            remaining: Some(0),
            reset: Some(reset),
            ..RateInfo::default()
        };
        assert_eq!(
            exhausted(&rate, now(), "graphql"),
            Some(Wait::Primary {
                resource: "graphql".into(),
                until: reset + SignedDuration::from_secs(1)
            })
        );
        let left = RateInfo {
            remaining: Some(1),
            ..rate
        };
        assert_eq!(exhausted(&left, now(), "graphql"), None);
    }
}
