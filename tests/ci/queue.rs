//! The queue contract (docs/queue.md) against a real redis-server per test.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use raibid::backend::queue::contract::{
    AgentState, AgentStatus, Job, JobState, JobStatus, LogStream, QueueEvent, QueueStats, Trigger,
};
use raibid::backend::queue::{
    CancelOutcome, Claimed, Enqueued, JobFilter, Queue, QueueError, QueueSettings, new_job_id,
};
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamInfoGroupsReply, StreamRangeReply};
use support::redis::RedisServer;
use tokio_util::sync::CancellationToken;

const NOW: Duration = Duration::ZERO;
/// How long a test waits for something that should happen well within it.
const PATIENCE: Duration = Duration::from_secs(10);

fn settings() -> QueueSettings {
    QueueSettings {
        heartbeat: Duration::from_millis(300),
        reclaim_after: Duration::from_secs(1),
        max_deliveries: 3,
        log_lines: 100,
        log_line_bytes: 8192,
        retention: Duration::from_secs(86_400),
        replay_window: Duration::from_secs(3600),
    }
}

async fn queue(redis: &RedisServer, settings: QueueSettings) -> Queue {
    Queue::connect(&redis.url(), "raibid", settings)
        .await
        .unwrap()
}

async fn raw(redis: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn job(repo: &str) -> Job {
    Job {
        id: new_job_id(),
        repo: repo.to_string(),
        clone_url: format!("/srv/git/{repo}.git"),
        git_ref: "refs/heads/main".to_string(),
        sha: "9fceb02d0ae598e95dc970b74767f19372d61af8".to_string(),
        trigger: Trigger::Push,
        requested_by: "ann".to_string(),
        created_at: Timestamp::now(),
        attempt: 1,
        timeout_secs: 600,
    }
}

fn ended(claimed: &Claimed, state: JobState) -> JobStatus {
    JobStatus {
        state,
        finished_at: Some(Timestamp::now()),
        ..claimed.status.clone()
    }
}

fn stats(depth: u64, lag: u64, pending: u64, dead: u64) -> QueueStats {
    QueueStats {
        depth,
        lag,
        pending,
        dead,
    }
}

/// The states the events stream recorded for one job, in order.
async fn job_states(queue: &Queue, id: &str) -> Vec<JobState> {
    let events = queue.events("0-0", NOW).await.unwrap();
    events
        .into_iter()
        .filter_map(|(_, event)| match event {
            QueueEvent::Job { id: of, state, .. } if of == id => Some(state),
            _ => None,
        })
        .collect()
}

/// Claims with short blocks until a job comes, for at most PATIENCE.
async fn claim_soon(queue: &Queue, agent: &str) -> Claimed {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(claimed) = queue
            .claim(agent, Duration::from_millis(100))
            .await
            .unwrap()
        {
            return claimed;
        }
        assert!(
            Instant::now() < deadline,
            "{agent} got no job within {PATIENCE:?}"
        );
    }
}

/// Waits until Redis reports `count` clients blocked in a read.
async fn blocked_clients(redis: &RedisServer, count: u32) {
    let mut conn = raw(redis).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let info: String = redis::cmd("INFO")
            .arg("clients")
            .query_async(&mut conn)
            .await
            .unwrap();
        if info.contains(&format!("blocked_clients:{count}\r")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {count} blocked clients: {info}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Heartbeats `claims` as `agent` every 300 ms until the token is cancelled.
fn keep_alive(queue: &Queue, agent: &str, claims: Vec<Claimed>) -> CancellationToken {
    let stop = CancellationToken::new();
    let (queue, agent, token) = (queue.clone(), agent.to_string(), stop.clone());
    tokio::spawn(async move {
        while !token.is_cancelled() {
            for claimed in &claims {
                assert!(
                    !queue.heartbeat(claimed, &agent).await.unwrap(),
                    "told to stop"
                );
            }
            tokio::select! {
                () = token.cancelled() => {}
                () = tokio::time::sleep(Duration::from_millis(300)) => {}
            }
        }
    });
    stop
}

#[tokio::test]
async fn a_job_goes_from_queued_to_running_to_success() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let job = job("lab/raibid");

    queue.enqueue(&job).await.unwrap();
    assert_eq!(queue.stats().await.unwrap(), stats(1, 1, 0, 0));
    assert_eq!(
        queue.job(&job.id).await.unwrap().unwrap().status.state,
        JobState::Queued
    );

    let claimed = queue.claim("agent-a", NOW).await.unwrap().expect("a job");
    assert_eq!(claimed.job, job);
    assert_eq!(claimed.deliveries, 1);
    assert_eq!(claimed.status.state, JobState::Running);
    assert_eq!(claimed.status.agent.as_deref(), Some("agent-a"));
    assert!(claimed.status.started_at.is_some());
    let record = queue.job(&job.id).await.unwrap().unwrap();
    assert_eq!(record.status, claimed.status);
    assert_eq!(queue.stats().await.unwrap(), stats(1, 0, 1, 0));

    assert!(
        queue
            .finish(&claimed, "agent-a", &ended(&claimed, JobState::Success))
            .await
            .unwrap()
    );
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 0));
    let record = queue.job(&job.id).await.unwrap().unwrap();
    assert_eq!(record.status.state, JobState::Success);
    assert_eq!(record.status.agent.as_deref(), Some("agent-a"));
    assert!(record.status.finished_at.is_some());
    assert_eq!(
        job_states(&queue, &job.id).await,
        [JobState::Queued, JobState::Running, JobState::Success]
    );
    assert_eq!(queue.claim("agent-a", NOW).await.unwrap(), None);
}

#[tokio::test]
async fn finishing_refuses_a_state_that_is_not_final() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    queue.enqueue(&job("lab/raibid")).await.unwrap();
    let claimed = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    let error = queue
        .finish(&claimed, "agent-a", &ended(&claimed, JobState::Running))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            QueueError::NotFinal {
                state: JobState::Running,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(queue.stats().await.unwrap(), stats(1, 0, 1, 0));
}

#[tokio::test]
async fn a_silent_agents_job_is_reclaimed_and_ends_once() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let job = job("lab/raibid");
    queue.enqueue(&job).await.unwrap();

    // Agent A takes the job and goes silent, as if killed with SIGKILL.
    let by_a = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    let taken = Instant::now();
    let by_b = claim_soon(&queue, "agent-b").await;
    assert!(
        taken.elapsed() >= Duration::from_millis(900),
        "reclaimed after {:?}",
        taken.elapsed()
    );
    assert_eq!(by_b.job.id, job.id);
    assert_eq!(by_b.entry, by_a.entry);
    assert_eq!(by_b.deliveries, 2);
    assert_eq!(by_b.status.agent.as_deref(), Some("agent-b"));
    assert_eq!(
        by_b.status.started_at, by_a.status.started_at,
        "the first start is kept"
    );

    assert!(
        queue
            .finish(&by_b, "agent-b", &ended(&by_b, JobState::Success))
            .await
            .unwrap()
    );
    // A wakes up late: told to stop, and its result is not stored.
    assert!(queue.heartbeat(&by_a, "agent-a").await.unwrap());
    assert!(
        !queue
            .finish(&by_a, "agent-a", &ended(&by_a, JobState::Failure))
            .await
            .unwrap()
    );

    let record = queue.job(&job.id).await.unwrap().unwrap();
    assert_eq!(record.status.state, JobState::Success);
    assert_eq!(record.status.agent.as_deref(), Some("agent-b"));
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 0));
    assert_eq!(
        job_states(&queue, &job.id).await,
        [
            JobState::Queued,
            JobState::Running,
            JobState::Running,
            JobState::Success
        ]
    );
}

#[tokio::test]
async fn a_taken_over_agent_cannot_finish_while_the_new_one_runs() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    queue.enqueue(&job("lab/raibid")).await.unwrap();
    let by_a = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    let by_b = claim_soon(&queue, "agent-b").await;

    assert!(
        !queue
            .finish(&by_a, "agent-a", &ended(&by_a, JobState::Cancelled))
            .await
            .unwrap()
    );
    assert_eq!(
        queue.job(&by_b.job.id).await.unwrap().unwrap().status.state,
        JobState::Running
    );
    assert!(!queue.heartbeat(&by_b, "agent-b").await.unwrap());
    assert!(
        queue
            .finish(&by_b, "agent-b", &ended(&by_b, JobState::Success))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn reclaiming_follows_the_cursor_past_live_jobs() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    for n in 0..16 {
        queue.enqueue(&job(&format!("lab/repo-{n}"))).await.unwrap();
    }
    let mut claims = Vec::new();
    for _ in 0..16 {
        claims.push(queue.claim("agent-a", NOW).await.unwrap().unwrap());
    }
    let lapsing = claims.pop().unwrap();

    // Fifteen live jobs come first in the pending list: one XAUTOCLAIM scans only ten.
    let alive = keep_alive(&queue, "agent-a", claims.clone());
    let reclaimed = claim_soon(&queue, "agent-b").await;
    assert_eq!(reclaimed.job.id, lapsing.job.id);
    assert_eq!(reclaimed.deliveries, 2);
    assert!(
        queue
            .finish(&reclaimed, "agent-b", &ended(&reclaimed, JobState::Success))
            .await
            .unwrap()
    );

    // Once A stops, all fifteen are reclaimed over several claims.
    alive.cancel();
    let mut ids = Vec::new();
    for _ in 0..15 {
        let claimed = claim_soon(&queue, "agent-b").await;
        assert_eq!(claimed.deliveries, 2);
        assert!(
            queue
                .finish(&claimed, "agent-b", &ended(&claimed, JobState::Success))
                .await
                .unwrap()
        );
        ids.push(claimed.job.id);
    }
    ids.sort();
    let mut expected: Vec<String> = claims.into_iter().map(|claimed| claimed.job.id).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(queue.claim("agent-b", NOW).await.unwrap(), None);
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 0));
}

#[tokio::test]
async fn heartbeats_keep_a_live_job_from_being_reclaimed() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    queue.enqueue(&job("lab/raibid")).await.unwrap();
    let by_a = queue.claim("agent-a", NOW).await.unwrap().unwrap();

    let alive = keep_alive(&queue, "agent-a", vec![by_a.clone()]);
    let watching = Instant::now();
    while watching.elapsed() < Duration::from_millis(2500) {
        assert_eq!(
            queue
                .claim("agent-b", Duration::from_millis(100))
                .await
                .unwrap(),
            None
        );
    }
    // The same job is reclaimed once the heartbeats stop: the wait above could have failed.
    alive.cancel();
    let by_b = claim_soon(&queue, "agent-b").await;
    assert_eq!(by_b.job.id, by_a.job.id);
}

#[tokio::test]
async fn a_job_delivered_too_often_is_dead_lettered() {
    let redis = RedisServer::start();
    let queue = queue(
        &redis,
        QueueSettings {
            max_deliveries: 2,
            ..settings()
        },
    )
    .await;
    let job = job("lab/flaky");
    queue.enqueue(&job).await.unwrap();

    let first = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    let second = claim_soon(&queue, "agent-b").await;
    assert_eq!((first.deliveries, second.deliveries), (1, 2));

    // The third delivery would exceed max_deliveries: dead-lettered, handed to nobody.
    let deadline = Instant::now() + PATIENCE;
    while queue.stats().await.unwrap().dead == 0 {
        assert!(Instant::now() < deadline, "never dead-lettered");
        assert_eq!(
            queue
                .claim("agent-c", Duration::from_millis(100))
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 1));
    let record = queue.job(&job.id).await.unwrap().unwrap();
    assert_eq!(record.status.state, JobState::Dead);
    assert_eq!(record.status.deliveries, 3);
    assert_eq!(
        record.status.message.as_deref(),
        Some("delivered 3 times without finishing")
    );

    let dead: StreamRangeReply = redis::cmd("XRANGE")
        .arg("raibid:dead")
        .arg("-")
        .arg("+")
        .query_async(&mut raw(&redis).await)
        .await
        .unwrap();
    let entry = &dead.ids[0];
    assert_eq!(
        entry.get::<String>("reason").as_deref(),
        Some("delivered 3 times without finishing")
    );
    assert_eq!(entry.get::<u32>("deliveries"), Some(3));
    let buried: Job = serde_json::from_str(&entry.get::<String>("job").unwrap()).unwrap();
    assert_eq!(buried, job);

    assert_eq!(queue.claim("agent-c", NOW).await.unwrap(), None);
    assert!(
        !queue
            .finish(&second, "agent-b", &ended(&second, JobState::Success))
            .await
            .unwrap()
    );
    assert_eq!(
        queue.job(&job.id).await.unwrap().unwrap().status.state,
        JobState::Dead
    );
}

#[tokio::test]
async fn unreadable_jobs_are_dead_lettered_as_they_are() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let mut conn = raw(&redis).await;
    let _: String = redis::cmd("XADD")
        .arg("raibid:jobs")
        .arg("*")
        .arg("job")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let broken = job("lab/raibid");
    queue.enqueue(&broken).await.unwrap();
    let _: u32 = redis::cmd("HSET")
        .arg(format!("raibid:job:{}", broken.id))
        .arg("status")
        .arg(r#"{"state":"paused"}"#)
        .query_async(&mut conn)
        .await
        .unwrap();
    let good = job("lab/raibid");
    queue.enqueue(&good).await.unwrap();

    // Neither the unreadable entry nor the unreadable record stops the claim.
    let claimed = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, good.id);
    assert_eq!(queue.stats().await.unwrap(), stats(1, 0, 1, 2));
    let dead: StreamRangeReply = redis::cmd("XRANGE")
        .arg("raibid:dead")
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        dead.ids[0].get::<String>("job").as_deref(),
        Some("{not json")
    );
    let reason = dead.ids[1].get::<String>("reason").unwrap();
    assert!(reason.contains("unknown variant `paused`"), "{reason}");
}

#[tokio::test]
async fn cancel_and_retry() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;

    // Queued: cancelled at once, and its entry is skipped when claimed.
    let waiting = job("lab/raibid");
    queue.enqueue(&waiting).await.unwrap();
    assert_eq!(
        queue.cancel(&waiting.id).await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        queue.job(&waiting.id).await.unwrap().unwrap().status.state,
        JobState::Cancelled
    );
    assert_eq!(queue.claim("agent-a", NOW).await.unwrap(), None);
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 0));

    // Running: the agent hears of it at its next heartbeat.
    let running = job("lab/raibid");
    queue.enqueue(&running).await.unwrap();
    let claimed = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    assert!(!queue.heartbeat(&claimed, "agent-a").await.unwrap());
    assert_eq!(
        queue.cancel(&running.id).await.unwrap(),
        CancelOutcome::Requested
    );
    assert!(queue.heartbeat(&claimed, "agent-a").await.unwrap());
    assert!(
        queue
            .finish(&claimed, "agent-a", &ended(&claimed, JobState::Cancelled))
            .await
            .unwrap()
    );
    assert_eq!(
        queue.cancel(&running.id).await.unwrap(),
        CancelOutcome::AlreadyFinal(JobState::Cancelled)
    );

    // Retry of a final job: a new job, attempt 2, queued.
    let retried = queue.retry(&running.id, "bob").await.unwrap();
    assert_ne!(retried.id, running.id);
    assert_eq!(retried.attempt, 2);
    assert_eq!(retried.trigger, Trigger::Retry);
    assert_eq!(retried.requested_by, "bob");
    assert_eq!(
        (retried.repo.as_str(), retried.sha.as_str()),
        (running.repo.as_str(), running.sha.as_str())
    );
    assert_eq!(
        queue.job(&retried.id).await.unwrap().unwrap().status.state,
        JobState::Queued
    );
    assert_eq!(queue.stats().await.unwrap(), stats(1, 1, 0, 0));

    // Retry of a running job is refused; unknown ids are not found.
    let claimed = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    let error = queue.retry(&claimed.job.id, "bob").await.unwrap_err();
    assert!(
        matches!(
            error,
            QueueError::NotFinal {
                state: JobState::Running,
                ..
            }
        ),
        "{error}"
    );
    let error = queue.cancel("no-such-job").await.unwrap_err();
    assert!(matches!(error, QueueError::NotFound { .. }), "{error}");
    assert!(matches!(
        queue.retry("no-such-job", "bob").await,
        Err(QueueError::NotFound { .. })
    ));
}

#[tokio::test]
async fn the_same_delivery_or_push_queues_one_job() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let first = job("lab/raibid");
    let push = |delivery: &'static str, job: Job| {
        let queue = queue.clone();
        async move { queue.enqueue_push(delivery, "gitea", &job).await.unwrap() }
    };
    assert_eq!(push("8a3c-delivery", first.clone()).await, Enqueued::Queued);
    assert_eq!(
        push("8a3c-delivery", job("lab/raibid")).await,
        Enqueued::Redelivered(first.id.clone())
    );
    // The same call repeated (a retry after a dropped connection) queues nothing new either.
    assert_eq!(push("8a3c-delivery", first.clone()).await, Enqueued::Queued);
    queue.enqueue(&first).await.unwrap();
    // A replay: the same push with a new delivery id.
    assert_eq!(
        push("another-delivery", job("lab/raibid")).await,
        Enqueued::Replayed(first.id.clone())
    );
    // ...whose delivery id is remembered too.
    assert_eq!(
        push("another-delivery", job("lab/raibid")).await,
        Enqueued::Redelivered(first.id.clone())
    );

    assert_eq!(queue.stats().await.unwrap(), stats(1, 1, 0, 0));
    let listed = queue.jobs(&JobFilter::default(), 0, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].job, first);

    // Another sha, ref, repository or forge is another push.
    let others = [
        Job {
            sha: "1111111111111111111111111111111111111111".into(),
            ..job("lab/raibid")
        },
        Job {
            git_ref: "refs/heads/next".into(),
            ..job("lab/raibid")
        },
        job("lab/other"),
    ];
    for (n, other) in others.into_iter().enumerate() {
        let delivery = ["d-sha", "d-ref", "d-repo"][n];
        assert_eq!(push(delivery, other).await, Enqueued::Queued, "{delivery}");
    }
    let on_github = queue
        .enqueue_push("d-forge", "github", &job("lab/raibid"))
        .await
        .unwrap();
    assert_eq!(on_github, Enqueued::Queued);
    assert_eq!(queue.stats().await.unwrap().depth, 5);
}

#[tokio::test]
async fn a_push_is_a_replay_only_within_the_window() {
    let redis = RedisServer::start();
    let queue = queue(
        &redis,
        QueueSettings {
            replay_window: Duration::from_secs(1),
            ..settings()
        },
    )
    .await;
    let first = job("lab/raibid");
    let again = job("lab/raibid");
    assert_eq!(
        queue.enqueue_push("d1", "gitea", &first).await.unwrap(),
        Enqueued::Queued
    );
    assert_eq!(
        queue.enqueue_push("d2", "gitea", &again).await.unwrap(),
        Enqueued::Replayed(first.id.clone())
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        queue.enqueue_push("d3", "gitea", &again).await.unwrap(),
        Enqueued::Queued,
        "the window has passed"
    );

    let off = self::queue(
        &redis,
        QueueSettings {
            replay_window: Duration::ZERO,
            ..settings()
        },
    )
    .await;
    assert_eq!(
        off.enqueue_push("d4", "gitea", &job("lab/raibid"))
            .await
            .unwrap(),
        Enqueued::Queued,
        "no window: only redeliveries are recognised"
    );
}

#[tokio::test]
async fn finished_jobs_their_logs_index_entries_and_dead_letters_expire() {
    let redis = RedisServer::start();
    let retention = Duration::from_secs(1);
    let queue = queue(
        &redis,
        QueueSettings {
            retention,
            max_deliveries: 1,
            ..settings()
        },
    )
    .await;
    // A job that crashed its agents goes to the dead letters.
    let lost = job("lab/lost");
    queue.enqueue(&lost).await.unwrap();
    queue.claim("agent-b", NOW).await.unwrap().unwrap();
    tokio::time::sleep(settings().reclaim_after + Duration::from_millis(100)).await;
    assert_eq!(queue.claim("agent-c", NOW).await.unwrap(), None);
    assert_eq!(queue.stats().await.unwrap().dead, 1);
    let done = job("lab/done");
    queue.enqueue(&done).await.unwrap();
    let claimed = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    queue
        .append_log(&done.id, &batch("build", 0, 3))
        .await
        .unwrap();
    assert!(
        queue
            .finish(&claimed, "agent-a", &ended(&claimed, JobState::Success))
            .await
            .unwrap()
    );
    // A live job never expires.
    let waiting = job("lab/waiting");
    queue.enqueue(&waiting).await.unwrap();

    let mut redis_raw = raw(&redis).await;
    let ttl = |key: String| redis::cmd("PTTL").arg(key).clone();
    let job_ttl: i64 = ttl(format!("raibid:job:{}", done.id))
        .query_async(&mut redis_raw)
        .await
        .unwrap();
    let log_ttl: i64 = ttl(format!("raibid:log:{}", done.id))
        .query_async(&mut redis_raw)
        .await
        .unwrap();
    assert!((1..=1000).contains(&job_ttl), "{job_ttl}");
    assert!((1..=1000).contains(&log_ttl), "{log_ttl}");

    tokio::time::sleep(retention + Duration::from_millis(200)).await;
    // The next enqueue trims the index and the dead letters.
    queue.enqueue(&job("lab/next")).await.unwrap();
    assert_eq!(queue.job(&done.id).await.unwrap(), None);
    assert_eq!(queue.job(&lost.id).await.unwrap(), None);
    assert!(queue.logs(&done.id, None, 10).await.unwrap().is_empty());
    assert_eq!(queue.stats().await.unwrap().dead, 0);
    let index: Vec<String> = redis::cmd("ZRANGE")
        .arg("raibid:jobs:index")
        .arg(0)
        .arg(-1)
        .query_async(&mut redis_raw)
        .await
        .unwrap();
    assert_eq!(index.len(), 2, "{index:?}");
    assert!(index.contains(&waiting.id));
    let live = queue.job(&waiting.id).await.unwrap().unwrap();
    assert_eq!(live.status.state, JobState::Queued);
}

#[tokio::test]
async fn waiting_jobs_survive_a_redis_restart() {
    let mut redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let mut queued: Vec<String> = Vec::new();
    for n in 0..3 {
        let job = job(&format!("lab/repo-{n}"));
        queue.enqueue(&job).await.unwrap();
        queued.push(job.id);
    }
    let running = queue.claim("agent-a", NOW).await.unwrap().unwrap();

    redis.restart();

    // The same handle reconnects; the two waiting jobs and the running one are all there.
    assert_eq!(queue.stats().await.unwrap(), stats(3, 2, 1, 0));
    let mut claimed = vec![running.job.id];
    while let Some(next) = queue.claim("agent-b", NOW).await.unwrap() {
        claimed.push(next.job.id);
    }
    claimed.sort();
    queued.sort();
    assert_eq!(claimed, queued);
}

#[tokio::test]
async fn a_blocking_claim_waits_its_block_and_wakes_on_a_new_job() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;

    let started = Instant::now();
    assert_eq!(
        queue
            .claim("agent-a", Duration::from_secs(2))
            .await
            .unwrap(),
        None
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );

    let agent = queue.clone();
    let claim = tokio::spawn(async move { agent.claim("agent-a", Duration::from_secs(30)).await });
    blocked_clients(&redis, 1).await;
    // The shared connection stays free while the claim blocks on its own.
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 0));
    let producer = queue.clone();
    let job = job("lab/raibid");
    let enqueued = Instant::now();
    producer.enqueue(&job).await.unwrap();
    let claimed = claim.await.unwrap().unwrap().expect("woken with the job");
    assert_eq!(claimed.job.id, job.id);
    assert!(
        enqueued.elapsed() < Duration::from_secs(2),
        "woke after {:?}",
        enqueued.elapsed()
    );
}

#[tokio::test]
async fn lag_stays_exact_when_jobs_finish_out_of_order() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    for n in 0..3 {
        queue.enqueue(&job(&format!("lab/repo-{n}"))).await.unwrap();
    }
    let slow = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    let quick = queue.claim("agent-b", NOW).await.unwrap().unwrap();
    assert!(
        queue
            .finish(&quick, "agent-b", &ended(&quick, JobState::Success))
            .await
            .unwrap()
    );

    // KEDA reads the lag from XINFO GROUPS itself: it must be there, not nil.
    let groups: StreamInfoGroupsReply = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg("raibid:jobs")
        .query_async(&mut raw(&redis).await)
        .await
        .unwrap();
    assert_eq!(groups.groups[0].lag, Some(1));
    let numbers = queue.stats().await.unwrap();
    assert_eq!((numbers.lag, numbers.pending), (1, 1));

    assert!(
        queue
            .finish(&slow, "agent-a", &ended(&slow, JobState::Success))
            .await
            .unwrap()
    );
    assert_eq!(queue.stats().await.unwrap(), stats(1, 1, 0, 0));
}

#[tokio::test]
async fn jobs_are_listed_newest_first_and_filtered() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut job = job(if n % 2 == 0 { "lab/even" } else { "lab/odd" });
        job.created_at = Timestamp::from_second(1_763_600_000 + n).unwrap();
        queue.enqueue(&job).await.unwrap();
        ids.push(job.id);
    }
    let claimed = queue.claim("agent-a", NOW).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, ids[0]);

    let listed = |records: Vec<raibid::backend::queue::contract::JobRecord>| -> Vec<String> {
        records.into_iter().map(|record| record.job.id).collect()
    };
    let pick = |order: &[usize]| -> Vec<String> { order.iter().map(|&n| ids[n].clone()).collect() };
    let all = JobFilter::default();
    assert_eq!(
        listed(queue.jobs(&all, 0, 10).await.unwrap()),
        pick(&[4, 3, 2, 1, 0])
    );
    assert_eq!(listed(queue.jobs(&all, 1, 2).await.unwrap()), pick(&[3, 2]));
    let even = JobFilter {
        state: None,
        repo: Some("lab/even".to_string()),
    };
    assert_eq!(
        listed(queue.jobs(&even, 1, 10).await.unwrap()),
        pick(&[2, 0])
    );
    let running = JobFilter {
        state: Some(JobState::Running),
        repo: None,
    };
    assert_eq!(
        listed(queue.jobs(&running, 0, 10).await.unwrap()),
        pick(&[0])
    );
    assert!(queue.jobs(&all, 0, 0).await.unwrap().is_empty());
    assert_eq!(queue.job("no-such-job").await.unwrap(), None);
}

fn batch(step: &str, from: usize, count: usize) -> Vec<(String, LogStream, String)> {
    (from..from + count)
        .map(|n| {
            let stream = [LogStream::Stdout, LogStream::Stderr, LogStream::System][n % 3];
            (step.to_string(), stream, format!("line {n}"))
        })
        .collect()
}

#[tokio::test]
async fn logs_read_back_in_order_and_follow() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let id = new_job_id();
    queue.append_log(&id, &batch("build", 0, 3)).await.unwrap();
    queue.append_log(&id, &batch("build", 3, 3)).await.unwrap();
    queue.append_log(&id, &batch("test", 6, 3)).await.unwrap();

    let lines = queue.logs(&id, None, 100).await.unwrap();
    let texts: Vec<&str> = lines.iter().map(|line| line.line.as_str()).collect();
    assert_eq!(
        texts,
        (0..9).map(|n| format!("line {n}")).collect::<Vec<_>>()
    );
    assert_eq!(lines[1].stream, LogStream::Stderr);
    assert_eq!(lines[2].stream, LogStream::System);
    assert_eq!(
        (lines[5].step.as_str(), lines[6].step.as_str()),
        ("build", "test")
    );
    let rest = queue.logs(&id, Some(&lines[3].entry), 100).await.unwrap();
    assert_eq!(rest, lines[4..]);
    assert_eq!(queue.logs(&id, None, 2).await.unwrap(), lines[..2]);

    // Following from the last line: only what comes after it.
    let last = lines[8].entry.clone();
    let follower = queue.clone();
    let (job_id, after) = (id.clone(), last.clone());
    let follow = tokio::spawn(async move {
        follower
            .follow_logs(&job_id, Some(&after), Duration::from_secs(30))
            .await
    });
    blocked_clients(&redis, 1).await;
    queue.append_log(&id, &batch("test", 9, 2)).await.unwrap();
    let followed = follow.await.unwrap().unwrap();
    let texts: Vec<&str> = followed.iter().map(|line| line.line.as_str()).collect();
    assert_eq!(texts, ["line 9", "line 10"]);

    let nothing = queue
        .follow_logs(&id, Some(&followed[1].entry), Duration::from_millis(200))
        .await;
    assert!(nothing.unwrap().is_empty());
    assert_eq!(queue.follow_logs(&id, None, NOW).await.unwrap().len(), 11);
    let error = queue.logs(&id, Some("not-an-id"), 10).await.unwrap_err();
    assert!(matches!(error, QueueError::BadEntryId { .. }), "{error}");
}

#[tokio::test]
async fn a_jobs_log_keeps_log_lines_of_log_line_bytes_and_says_what_was_cut() {
    let redis = RedisServer::start();
    let queue = queue(
        &redis,
        QueueSettings {
            log_line_bytes: 64,
            ..settings()
        },
    )
    .await;
    let id = new_job_id();
    for from in (0..1000).step_by(30) {
        queue
            .append_log(&id, &batch("build", from, 30))
            .await
            .unwrap();
    }
    let long = ("build".to_string(), LogStream::Stdout, "x".repeat(1000));
    queue
        .append_log(&id, std::slice::from_ref(&long))
        .await
        .unwrap();
    let kept = queue.logs(&id, None, 5000).await.unwrap();
    assert_eq!(kept.len(), 101, "100 lines and the marker");
    assert_eq!(kept[99].line, "line 99");
    assert_eq!(kept[100].stream, LogStream::System);
    assert_eq!(
        kept[100].line,
        "[log cut: only the first 100 lines are kept (ci.log_lines)]"
    );

    let other = new_job_id();
    queue.append_log(&other, &[long]).await.unwrap();
    let cut = queue.logs(&other, None, 10).await.unwrap();
    assert_eq!(
        cut[0].line,
        format!("{} [line cut: 936 more bytes]", "x".repeat(64))
    );
}

fn agent(name: &str, state: AgentState, job: Option<&str>) -> AgentStatus {
    AgentStatus {
        name: name.to_string(),
        state,
        job: job.map(str::to_string),
        started_at: Timestamp::now(),
        seen_at: Timestamp::now(),
    }
}

/// The agent events for `name` so far, as (state, job).
async fn agent_events(queue: &Queue, name: &str) -> Vec<(AgentState, Option<String>)> {
    let events = queue.events("0-0", NOW).await.unwrap();
    events
        .into_iter()
        .filter_map(|(_, event)| match event {
            QueueEvent::Agent {
                name: of,
                state,
                job,
                ..
            } if of == name => Some((state, job)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn agents_are_listed_while_they_beat() {
    let redis = RedisServer::start();
    let queue = queue(
        &redis,
        QueueSettings {
            heartbeat: Duration::from_millis(200),
            ..settings()
        },
    )
    .await;

    queue
        .agent_seen(&agent("agent-a", AgentState::Idle, None))
        .await
        .unwrap();
    queue
        .agent_seen(&agent("agent-a", AgentState::Idle, None))
        .await
        .unwrap();
    queue
        .agent_seen(&agent("agent-a", AgentState::Busy, Some("job-1")))
        .await
        .unwrap();
    queue
        .agent_seen(&agent("agent-b", AgentState::Idle, None))
        .await
        .unwrap();
    let listed: Vec<(String, AgentState)> = queue
        .agents()
        .await
        .unwrap()
        .into_iter()
        .map(|agent| (agent.name, agent.state))
        .collect();
    assert_eq!(
        listed,
        [
            ("agent-a".to_string(), AgentState::Busy),
            ("agent-b".to_string(), AgentState::Idle)
        ]
    );
    assert_eq!(
        agent_events(&queue, "agent-a").await,
        [
            (AgentState::Idle, None),
            (AgentState::Busy, Some("job-1".to_string()))
        ]
    );

    queue.agent_gone("agent-b").await.unwrap();
    assert_eq!(
        agent_events(&queue, "agent-b").await.last(),
        Some(&(AgentState::Stopping, None))
    );

    // agent-a stops beating: gone after three heartbeats' time.
    let silent = Instant::now();
    let deadline = silent + PATIENCE;
    while !queue.agents().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "agent-a never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        silent.elapsed() >= Duration::from_millis(450),
        "expired after {:?}",
        silent.elapsed()
    );
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg("raibid:agents")
        .query_async(&mut raw(&redis).await)
        .await
        .unwrap();
    assert!(members.is_empty(), "{members:?}");
}

#[tokio::test]
async fn events_resume_after_an_entry_and_wait_for_new_ones() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let first = job("lab/raibid");
    queue.enqueue(&first).await.unwrap();
    let seen = queue.events("0-0", NOW).await.unwrap();
    assert_eq!(seen.len(), 1);

    let watcher = queue.clone();
    let after = seen[0].0.clone();
    let watch = tokio::spawn(async move { watcher.events(&after, Duration::from_secs(30)).await });
    blocked_clients(&redis, 1).await;
    let second = job("lab/raibid");
    queue.enqueue(&second).await.unwrap();
    let next = watch.await.unwrap().unwrap();
    assert!(
        matches!(&next[..], [(_, QueueEvent::Job { id, state: JobState::Queued, .. })] if *id == second.id)
    );

    assert!(
        queue
            .events("$", Duration::from_millis(100))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        queue.events("later", NOW).await,
        Err(QueueError::BadEntryId { .. })
    ));
}

#[tokio::test]
async fn a_wrong_address_names_it_without_the_password() {
    let error = Queue::connect("redis://:hunter2@127.0.0.1:1/0", "raibid", settings())
        .await
        .err()
        .expect("nothing listens on port 1");
    let message = error.to_string();
    assert!(matches!(error, QueueError::Connect { .. }), "{message}");
    assert!(message.contains("redis://:***@127.0.0.1:1/0"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn listing_an_empty_queue_or_past_its_end_is_empty() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    assert!(
        queue
            .jobs(&JobFilter::default(), 0, 50)
            .await
            .unwrap()
            .is_empty()
    );
    queue.enqueue(&job("only")).await.unwrap();
    assert!(
        queue
            .jobs(&JobFilter::default(), 5, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---- pushes the server refuses, against the real router and queue ----

const WEBHOOK_SECRET: &str = "gitea-s3cret";
const API_TOKEN: &str = "api-t0ken";
const GITEA_PUSH: &str = include_str!("../fixtures/gitea_push.json");

/// The server's router on `queue`, listening on a free port; its base URL.
async fn serve_webhooks(queue: Queue) -> String {
    use raibid::backend::ci::server::push::Forges;
    use raibid::backend::ci::server::{ServerLimits, ServerSettings, router};
    let settings = ServerSettings {
        token: Some(API_TOKEN.into()),
        gitea_secret: Some(WEBHOOK_SECRET.into()),
        github_secret: None,
        body_limit: 64 * 1024,
        job_timeout_secs: 900,
        forges: Forges {
            gitea: vec!["http://gitea.lab:3000".into()],
            local: [("lab/fixture".to_string(), "/srv/git/fixture".to_string())].into(),
            ..Forges::default()
        },
        limits: ServerLimits::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(queue, settings);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Delivers `push` as a signed Gitea push; the status and the JSON answer.
async fn deliver(base: &str, push: &serde_json::Value, delivery: &str) -> (u16, serde_json::Value) {
    use hmac::Mac as _;
    let body = push.to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/gitea"))
        .header("Content-Type", "application/json")
        .header("X-Gitea-Event", "push")
        .header("X-Gitea-Delivery", delivery)
        .header(
            "X-Gitea-Signature",
            hex::encode(mac.finalize().into_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn hostile_pushes_are_refused_with_their_reason_and_queue_nothing() {
    let redis = RedisServer::start();
    let queue = queue(&redis, settings()).await;
    let base = serve_webhooks(queue.clone()).await;
    let fixture: serde_json::Value = serde_json::from_str(GITEA_PUSH).unwrap();
    let with = |field: &str, value: &str| {
        let mut push = fixture.clone();
        match field {
            "ref" => push["ref"] = value.into(),
            "clone_url" => push["repository"]["clone_url"] = value.into(),
            _ => push["repository"]["full_name"] = value.into(),
        }
        push
    };
    let hostile = [
        (with("clone_url", "file:///etc"), "a local path"),
        (with("clone_url", "/srv/git/fixture"), "a local path"),
        (with("clone_url", "fd::0"), "remote helpers"),
        (with("clone_url", "ext::sh -c id"), "remote helpers"),
        (
            with("clone_url", "https://evil.example/lab/raibid.git"),
            "configured forge",
        ),
        (
            with("clone_url", "http://gitea.lab:3000/lab/other.git"),
            "configured forge",
        ),
        (
            with("ref", "refs/pull/1/head"),
            "only refs/heads/* and refs/tags/*",
        ),
        (
            with("ref", "refs/heads/main\nINFO job queued"),
            "not a ref git accepts",
        ),
        (
            with("ref", "refs/heads/\u{1b}[2Jmain"),
            "not a ref git accepts",
        ),
        (with("full_name", "lab/../etc"), "not owner/name"),
    ];
    for (n, (push, reason)) in hostile.iter().enumerate() {
        let delivery = format!("0b0c4e7e-55a1-4f5e-9d7e-{n:012}");
        let (status, answer) = deliver(&base, push, &delivery).await;
        assert_eq!(status, 422, "{push}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(reason), "{reason:?} not in {error:?}");
        assert!(!error.chars().any(char::is_control), "{error:?}");
    }
    assert_eq!(queue.stats().await.unwrap(), stats(0, 0, 0, 0));
    assert!(
        queue
            .jobs(&JobFilter::default(), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The forge's own push is queued once; sent again with a new delivery id it is a replay.
    let (status, first) = deliver(&base, &fixture, "6d1f8a8e-3d8e-4a53-a8a4-000000000001").await;
    assert_eq!((status, &first["queued"]), (202, &true.into()), "{first}");
    let id = first["job"].as_str().unwrap();
    let (status, again) = deliver(&base, &fixture, "6d1f8a8e-3d8e-4a53-a8a4-000000000002").await;
    assert_eq!(status, 202);
    assert_eq!(again["queued"], false);
    assert_eq!(again["job"], id);
    assert_eq!(
        again["reason"],
        format!("the same push: already queued as job {id}")
    );
    assert_eq!(queue.stats().await.unwrap().depth, 1);

    // A listed local repository is built from its path.
    let local = with("clone_url", "/srv/git/fixture");
    let mut local = local;
    local["repository"]["full_name"] = "lab/fixture".into();
    let (status, answer) = deliver(&base, &local, "6d1f8a8e-3d8e-4a53-a8a4-000000000003").await;
    assert_eq!(status, 202, "{answer}");
    let queued = queue
        .job(answer["job"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queued.job.git_protocols(), "file:http:https");
    let forge_job = queue.job(id).await.unwrap().unwrap();
    assert_eq!(forge_job.job.git_protocols(), "http:https");

    let metrics = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "raibid_webhooks_total{source=\"gitea\",outcome=\"refused\"} 10",
        "raibid_webhooks_total{source=\"gitea\",outcome=\"duplicate\"} 1",
        "raibid_webhooks_total{source=\"gitea\",outcome=\"queued\"} 2",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }
}
