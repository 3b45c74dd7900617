//! The status a job moves to, as plain functions of the stored one: the queue's state
//! machine without Redis (contract.rs lists the transitions).

use jiff::Timestamp;

use super::contract::{JobState, JobStatus};

/// Taken by `agent` for its `deliveries`-th delivery; `started_at` keeps the first start.
pub fn running(stored: &JobStatus, agent: &str, deliveries: u32, now: Timestamp) -> JobStatus {
    JobStatus {
        state: JobState::Running,
        agent: Some(agent.to_string()),
        deliveries,
        started_at: stored.started_at.or(Some(now)),
        finished_at: None,
        ..stored.clone()
    }
}

/// Given up on after `deliveries` deliveries, none of which finished.
pub fn dead(stored: &JobStatus, deliveries: u32, now: Timestamp) -> JobStatus {
    JobStatus {
        state: JobState::Dead,
        deliveries,
        finished_at: Some(now),
        message: Some(dead_reason(deliveries)),
        ..stored.clone()
    }
}

/// The reason written to the dead-letter stream and the status.
pub fn dead_reason(deliveries: u32) -> String {
    format!("delivered {deliveries} times without finishing")
}

pub fn cancelled_while_queued(stored: &JobStatus, now: Timestamp) -> JobStatus {
    JobStatus {
        state: JobState::Cancelled,
        finished_at: Some(now),
        message: Some("cancelled while queued".to_string()),
        ..stored.clone()
    }
}

/// An agent's final status as stored: naming that agent, with `finished_at` filled in.
pub fn finished(reported: &JobStatus, agent: &str, now: Timestamp) -> JobStatus {
    JobStatus {
        agent: Some(agent.to_string()),
        finished_at: reported.finished_at.or(Some(now)),
        ..reported.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_reclaimed_job_keeps_its_first_start() {
        let first = running(&JobStatus::queued(), "a", 1, at("2026-11-20T10:00:00Z"));
        let again = running(&first, "b", 2, at("2026-11-20T10:05:00Z"));
        assert_eq!(again.agent.as_deref(), Some("b"));
        assert_eq!(again.deliveries, 2);
        assert_eq!(again.started_at, Some(at("2026-11-20T10:00:00Z")));
        assert_eq!(again.state, JobState::Running);
    }

    #[test]
    fn dead_says_why() {
        let stored = running(&JobStatus::queued(), "a", 2, at("2026-11-20T10:00:00Z"));
        let status = dead(&stored, 3, at("2026-11-20T10:09:00Z"));
        assert_eq!(status.state, JobState::Dead);
        assert_eq!(
            status.message.as_deref(),
            Some("delivered 3 times without finishing")
        );
        assert_eq!(status.finished_at, Some(at("2026-11-20T10:09:00Z")));
        assert!(status.state.is_final());
    }

    #[test]
    fn finished_names_the_agent_and_keeps_a_reported_end() {
        let reported = JobStatus {
            state: JobState::Success,
            finished_at: Some(at("2026-11-20T10:01:00Z")),
            ..JobStatus::queued()
        };
        let stored = finished(&reported, "a", at("2026-11-20T10:02:00Z"));
        assert_eq!(stored.agent.as_deref(), Some("a"));
        assert_eq!(stored.finished_at, Some(at("2026-11-20T10:01:00Z")));
        let unset = finished(
            &JobStatus {
                finished_at: None,
                ..reported
            },
            "a",
            at("2026-11-20T10:02:00Z"),
        );
        assert_eq!(unset.finished_at, Some(at("2026-11-20T10:02:00Z")));
    }
}
