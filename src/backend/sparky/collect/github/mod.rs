//! GitHub activity for Sparky: each repository's commits, pull requests, issues and
//! releases in a period, queried through the forge's [`GitHub`] client (GraphQL: see
//! [`query`]) and kept per period with the repository's `pushed_at` ([`store`]), so an
//! unchanged repository is not queried again.

mod query;
mod store;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::backend::forge::github::{GitHub, RepoInfo};
use crate::backend::sparky::model::{Period, RepoActivity};
use query::{Collector, Reply};
use store::{ACTIVITY_FORMAT, ActivityStore, StoredPeriod};

/// Queries per repository and period at most (each brings up to 100 commits).
const MAX_QUERIES: u32 = 200;
/// Activity of a period that had not ended when it was fetched is reused this long when
/// the repository's `pushed_at` is unchanged: issues and pull requests from forks do not
/// change `pushed_at`.
const FRESH_FOR: SignedDuration = SignedDuration::from_mins(10);

/// The activity of many repositories; one failing does not fail the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GitHubActivity {
    /// In the order the repositories were given; incomplete ones included.
    pub repos: Vec<RepoActivity>,
    pub failures: Vec<RepoFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoFailure {
    /// `owner/name`.
    pub repo: String,
    /// E.g. `no access: ...` for a repository the token cannot see, or `incomplete: ...`.
    pub reason: String,
    /// A warning, not a failure: collecting was cut short, and what was fetched is in
    /// [`GitHubActivity::repos`] (but not kept for the next run).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// Each repository's activity in `period`: commits with line counts (bots flagged
/// with `bots`), pull requests opened, merged or closed in it (reviewers, line counts),
/// issues (pull requests excluded) and releases. At most `github.concurrency` repositories
/// at a time; a repository that fails is in `failures`, never fails the run. A
/// repository whose `pushed_at` is unchanged since its activity for this period was
/// fetched (after the period ended, or within the last minutes) is not queried again.
/// Activity cut short (too many pages) is in `repos` with what was fetched, and in
/// `failures` as [`RepoFailure::incomplete`]; it is not remembered for the next run.
pub async fn activity(
    github: &GitHub,
    repos: &[RepoInfo],
    period: &Period,
    bots: &[String],
) -> GitHubActivity {
    let mut unique: Vec<RepoInfo> = Vec::with_capacity(repos.len());
    for repo in repos {
        if !unique
            .iter()
            .any(|seen| seen.full_name.eq_ignore_ascii_case(&repo.full_name))
        {
            unique.push(repo.clone());
        }
    }
    let store = Arc::new(ActivityStore::new(github.cache_dir(), github.api()));
    let limit = Arc::new(Semaphore::new(github.concurrency()));
    let bots: Arc<[String]> = bots.into();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, repo) in unique.iter().cloned().enumerate() {
        let github = github.clone();
        let store = store.clone();
        let limit = limit.clone();
        let bots = bots.clone();
        let (since, until) = (period.since, period.until);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let result = repo_activity(&github, &store, &repo, since, until, &bots).await;
            (index, result)
        });
    }
    let mut results: Vec<Option<Result<Fetched, String>>> = vec![None; unique.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            Err(error) => tracing::error!(%error, "github: an activity task stopped"),
        }
    }
    let mut activity = GitHubActivity::default();
    for (repo, result) in unique.iter().zip(results) {
        match result.unwrap_or_else(|| Err("collecting stopped unexpectedly".into())) {
            Ok(Fetched {
                activity: found,
                incomplete,
            }) => {
                activity.repos.push(found);
                if let Some(reason) = incomplete {
                    let reason = github.redact(&reason);
                    tracing::warn!(repo = %repo.full_name, %reason, "github: incomplete activity for this repository");
                    activity.failures.push(RepoFailure {
                        repo: repo.full_name.clone(),
                        reason,
                        incomplete: true,
                    });
                }
            }
            Err(reason) => {
                let reason = github.redact(&reason);
                tracing::warn!(repo = %repo.full_name, %reason, "github: no activity for this repository");
                activity.failures.push(RepoFailure {
                    repo: repo.full_name.clone(),
                    reason,
                    incomplete: false,
                });
            }
        }
    }
    activity
}

async fn repo_activity(
    github: &GitHub,
    store: &ActivityStore,
    repo: &RepoInfo,
    since: Timestamp,
    until: Timestamp,
    bots: &[String],
) -> Result<Fetched, String> {
    let now = Timestamp::now();
    if let Some(stored) = store.load(&repo.full_name, since, until).await
        && reusable(&stored, repo, now)
    {
        tracing::debug!(repo = %repo.full_name, "github: activity unchanged since the last run");
        return Ok(Fetched {
            activity: query::flag_bots(stored.activity, bots),
            incomplete: None,
        });
    }
    let fetched_at = Timestamp::now();
    let Fetched {
        activity: fetched,
        incomplete,
    } = fetch_activity(github, repo, since, until).await?;
    if incomplete.is_some() {
        // Not kept: the next run asks again rather than taking part for the whole.
        return Ok(Fetched {
            activity: query::flag_bots(fetched, bots),
            incomplete,
        });
    }
    let stored = StoredPeriod {
        since,
        until,
        pushed_at: repo.pushed_at,
        fetched_at,
        format: ACTIVITY_FORMAT,
        activity: fetched.clone(),
    };
    if let Err(error) = store.save(&repo.full_name, stored).await {
        tracing::warn!(repo = %repo.full_name, %error, "github: cannot write the activity state");
    }
    Ok(Fetched {
        activity: query::flag_bots(fetched, bots),
        incomplete: None,
    })
}

async fn fetch_activity(
    github: &GitHub,
    repo: &RepoInfo,
    since: Timestamp,
    until: Timestamp,
) -> Result<Fetched, String> {
    let mut collector = Collector::new(&repo.full_name, &repo.html_url, since, until);
    let mut queries = 0;
    while let Some(request) = collector.next_request() {
        queries += 1;
        if queries > MAX_QUERIES {
            collector.cut_short(format!(
                "incomplete: more than {MAX_QUERIES} queries; the digest shows what was fetched"
            ));
            break;
        }
        let answer = github
            .graphql(&request)
            .await
            .map_err(|error| error.to_string())?;
        let (reply, cost) = query::read_reply(&answer.body);
        github.add_points(cost.unwrap_or(0));
        match reply {
            Reply::Data(repository) if answer.status == 200 => {
                collector.absorb(&repository)?;
            }
            Reply::NotFound => {
                return Err(
                    "no access: the token cannot see this repository (404 Not Found)".into(),
                );
            }
            Reply::Errors(message) if answer.status == 200 => {
                return Err(format!("GitHub's GraphQL API answered: {message}"));
            }
            _ => {
                return Err(format!(
                    "GitHub's GraphQL API answered {}: {}",
                    answer.status,
                    answer.message()
                ));
            }
        }
    }
    let incomplete = collector.incomplete();
    Ok(Fetched {
        activity: collector.finish(),
        incomplete,
    })
}

/// One repository's activity for a period, and why it is incomplete when it is.
#[derive(Debug, Clone)]
struct Fetched {
    activity: RepoActivity,
    incomplete: Option<String>,
}

/// Whether stored activity still holds: in the current format, same `pushed_at`, fetched
/// after the period ended or only minutes ago.
fn reusable(stored: &StoredPeriod, repo: &RepoInfo, now: Timestamp) -> bool {
    stored.format == ACTIVITY_FORMAT
        && stored.pushed_at == repo.pushed_at
        && (stored.fetched_at >= stored.until || now.duration_since(stored.fetched_at) < FRESH_FOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn repo(pushed: &str) -> RepoInfo {
        RepoInfo {
            full_name: "acme/web".into(),
            owner: "acme".into(),
            name: "web".into(),
            private: false,
            archived: false,
            fork: false,
            clone_url: String::new(),
            html_url: String::new(),
            default_branch: "main".into(),
            pushed_at: Some(at(pushed)),
        }
    }

    #[test]
    fn stored_activity_is_reused_only_when_nothing_was_pushed_and_its_format_holds() {
        let stored = StoredPeriod {
            since: at("2026-11-02T00:00:00Z"),
            until: at("2026-11-09T00:00:00Z"),
            pushed_at: Some(at("2026-11-08T10:00:00Z")),
            fetched_at: at("2026-11-10T00:00:00Z"),
            format: ACTIVITY_FORMAT,
            activity: RepoActivity::default(),
        };
        let later = at("2026-11-20T00:00:00Z");
        assert!(reusable(&stored, &repo("2026-11-08T10:00:00Z"), later));
        assert!(!reusable(&stored, &repo("2026-11-12T10:00:00Z"), later));
        let without_labels = StoredPeriod {
            format: 0,
            ..stored.clone()
        };
        assert!(
            !reusable(&without_labels, &repo("2026-11-08T10:00:00Z"), later),
            "stored before pull requests carried labels"
        );
        // Fetched while the period ran: good for a few minutes only.
        let running = StoredPeriod {
            fetched_at: at("2026-11-05T00:00:00Z"),
            ..stored
        };
        let repo = repo("2026-11-08T10:00:00Z");
        assert!(reusable(&running, &repo, at("2026-11-05T00:05:00Z")));
        assert!(!reusable(&running, &repo, at("2026-11-05T00:15:00Z")));
    }
}
