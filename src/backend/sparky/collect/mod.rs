//! Collecting commits from local repositories with gix.
//!
//! [`collect`] reports what `git log --numstat --since-as-filter=<since> --until=<until - 1s>`
//! reports on HEAD: the same commits, mailmapped authors and line counts.

mod numstat;
mod remote;
mod renames;
mod repos;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use gix::ObjectId;
use jiff::Timestamp;

use super::model::{CommitRecord, RepoActivity};
use numstat::{LineCounter, Numstat};
pub use remote::origin_url;
pub use repos::find_repos;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{} is not a git repository", path.display())]
    NotARepository { path: PathBuf },
    #[error("{} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("no git repository contains {}: {source:#}", cwd.display())]
    NoRepositoryHere { cwd: PathBuf, source: gix::Error },
    #[error("cannot read folder {}: {source}", path.display())]
    ReadFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open git repository {}: {source:#}", path.display())]
    Open { path: PathBuf, source: gix::Error },
    #[error("{}: cannot walk the history from HEAD: {source:#}", repo.display())]
    Walk { repo: PathBuf, source: gix::Error },
    #[error("{}: cannot read commit {sha}: {source:#}", repo.display())]
    Commit {
        repo: PathBuf,
        sha: String,
        source: gix::Error,
    },
    #[error("{}: cannot diff commit {sha}: {source:#}", repo.display())]
    Diff {
        repo: PathBuf,
        sha: String,
        source: gix::Error,
    },
    #[error("{}: a collecting thread stopped unexpectedly", repo.display())]
    Worker { repo: PathBuf },
}

/// Whether a name or email contains one of `bots` (case-insensitive), like `[bot]`.
pub fn is_bot(name: &str, email: &str, bots: &[String]) -> bool {
    let name = name.to_lowercase();
    let email = email.to_lowercase();
    bots.iter()
        .filter(|bot| !bot.is_empty())
        .map(|bot| bot.to_lowercase())
        .any(|bot| name.contains(&bot) || email.contains(&bot))
}

/// Commits reachable from HEAD with `since <= committer time < until`, newest first, as
/// `git log --numstat --since-as-filter` reports them. An unborn HEAD yields no commits.
///
/// The walk visits every commit reachable from HEAD, as `--since-as-filter` does: commit
/// times are not monotonic along history, so stopping at the first older commit would miss
/// commits. Walking is cheap next to diffing, which happens only for commits in the period.
/// Periods with many commits are diffed on up to two threads.
pub fn collect(
    repo_path: &Path,
    since: Timestamp,
    until: Timestamp,
    bots: &[String],
) -> Result<RepoActivity, CollectError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    collect_on_threads(repo_path, since, until, bots, cores.min(2))
}

/// [`collect`] with at most `threads` threads (at least one), each with its own repository
/// handle and caches. Periods under 64 commits always use one.
pub fn collect_on_threads(
    repo_path: &Path,
    since: Timestamp,
    until: Timestamp,
    bots: &[String],
    threads: usize,
) -> Result<RepoActivity, CollectError> {
    let repo = gix::open(repo_path).map_err(|source| CollectError::Open {
        path: repo_path.to_path_buf(),
        source,
    })?;
    let selected = select(&repo, since, until).map_err(|source| CollectError::Walk {
        repo: repo_path.to_path_buf(),
        source,
    })?;
    let context = Context {
        path: repo_path,
        name: repos::repo_name(&repo),
        mailmap: repo.open_mailmap(),
        bots,
    };
    let threads = if selected.len() < PARALLEL_FROM {
        1
    } else {
        threads.max(1)
    };
    let commits = match threads {
        1 => Worker::new(repo, &context)?.records(&selected)?,
        threads => in_parallel(repo.into_sync(), &context, &selected, threads)?,
    };
    Ok(RepoActivity {
        name: context.name,
        path: repo_path.display().to_string(),
        commits,
        ..RepoActivity::default()
    })
}

/// A second thread sets up its own repository handle and caches: not worth it for few commits.
const PARALLEL_FROM: usize = 64;
/// Commits a thread takes at a time.
const CHUNK: usize = 16;

/// A commit in the period, as the walk found it.
struct Selected {
    id: ObjectId,
    parents: Vec<ObjectId>,
    committed: i64,
}

fn select(
    repo: &gix::Repository,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<Selected>, gix::Error> {
    let Some(head) = repo.head()?.try_into_peeled_id()? else {
        return Ok(Vec::new());
    };
    let in_period = |seconds: i64| {
        let nanos = i128::from(seconds) * 1_000_000_000;
        since.as_nanosecond() <= nanos && nanos < until.as_nanosecond()
    };
    // A shallow clone's boundary commits are roots to git: their parents are not there.
    let shallow = repo.shallow_commits()?;
    let is_shallow = |id: &ObjectId| {
        shallow
            .as_ref()
            .is_some_and(|ids| ids.binary_search(id).is_ok())
    };
    let order = gix::revision::walk::Sorting::ByCommitTime(Default::default());
    let mut selected = Vec::new();
    for info in repo.rev_walk([head]).sorting(order).all()? {
        let info = info?;
        let committed = info.commit_time.unwrap_or_default();
        if in_period(committed) {
            selected.push(Selected {
                parents: if is_shallow(&info.id) {
                    Vec::new()
                } else {
                    info.parent_ids.to_vec()
                },
                id: info.id,
                committed,
            });
        }
    }
    Ok(selected)
}

/// What every worker shares.
struct Context<'a> {
    path: &'a Path,
    name: String,
    mailmap: gix::mailmap::Snapshot,
    bots: &'a [String],
}

/// Turns selected commits into records; one per thread.
struct Worker<'a> {
    repo: gix::Repository,
    counter: LineCounter,
    context: &'a Context<'a>,
}

impl<'a> Worker<'a> {
    /// No object cache: on tokio's history 4 and 32 MiB caches measured no faster than none.
    fn new(repo: gix::Repository, context: &'a Context<'a>) -> Result<Self, CollectError> {
        let counter = LineCounter::new(&repo).map_err(|source| CollectError::Open {
            path: context.path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            repo,
            counter,
            context,
        })
    }

    fn records(&mut self, selected: &[Selected]) -> Result<Vec<CommitRecord>, CollectError> {
        selected.iter().map(|commit| self.record(commit)).collect()
    }

    fn record(&mut self, selected: &Selected) -> Result<CommitRecord, CollectError> {
        let context = self.context;
        let sha = selected.id.to_string();
        let commit_error = |source| CollectError::Commit {
            repo: context.path.to_path_buf(),
            sha: sha.clone(),
            source,
        };
        let commit = self.repo.find_commit(selected.id).map_err(commit_error)?;
        let decoded = commit.decode().map_err(commit_error)?;
        let author = decoded
            .author()
            .map_err(|error| commit_error(gix::Error::from_error(error)))?
            .trim();
        // An unreadable date is 1970, as git shows it.
        let time = author.time().unwrap_or_default();
        let mapped = context.mailmap.resolve_cow(author);
        let name = mapped.name.to_string();
        let email = mapped.email.to_string();
        let is_merge = selected.parents.len() > 1;
        let numstat = if is_merge {
            // git log shows no diff for merges by default: their lines were counted on the
            // branches they bring in.
            Numstat::default()
        } else {
            let parent_tree = match selected.parents.first() {
                Some(parent) => self
                    .repo
                    .find_commit(*parent)
                    .and_then(|parent| parent.tree_id())
                    .map_err(commit_error)?
                    .detach(),
                None => ObjectId::empty_tree(self.repo.object_hash()),
            };
            self.counter
                .count(&self.repo, parent_tree, decoded.tree())
                .map_err(|source| CollectError::Diff {
                    repo: context.path.to_path_buf(),
                    sha: sha.clone(),
                    source,
                })?
        };
        Ok(CommitRecord {
            login: None,
            repo: context.name.clone(),
            is_bot: is_bot(&name, &email, context.bots),
            author: name,
            email,
            time: Timestamp::from_second(time.seconds).unwrap_or(Timestamp::UNIX_EPOCH),
            offset_seconds: time.offset,
            committed: Timestamp::from_second(selected.committed).unwrap_or(Timestamp::UNIX_EPOCH),
            // Like git's %s: the first paragraph, its lines joined by spaces.
            subject: decoded.message().summary().to_string(),
            files_changed: numstat.files_changed,
            insertions: numstat.insertions,
            deletions: numstat.deletions,
            paths: numstat.paths,
            is_merge,
            sha,
        })
    }
}

/// Threads take chunks of neighbouring commits in turn; records come back in walk order.
fn in_parallel(
    repo: gix::ThreadSafeRepository,
    context: &Context<'_>,
    selected: &[Selected],
    threads: usize,
) -> Result<Vec<CommitRecord>, CollectError> {
    let chunks: Vec<&[Selected]> = selected.chunks(CHUNK).collect();
    let next = AtomicUsize::new(0);
    let work = || -> Result<Vec<(usize, Vec<CommitRecord>)>, CollectError> {
        let mut worker = Worker::new(repo.to_thread_local(), context)?;
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = chunks.get(index) else {
                return Ok(done);
            };
            done.push((index, worker.records(chunk)?));
        }
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        handles.into_iter().map(|handle| handle.join()).collect()
    });
    let mut done = Vec::with_capacity(chunks.len());
    for result in results {
        let worker_done = result.map_err(|_| CollectError::Worker {
            repo: context.path.to_path_buf(),
        })??;
        done.extend(worker_done);
    }
    done.sort_unstable_by_key(|(index, _)| *index);
    Ok(done.into_iter().flat_map(|(_, records)| records).collect())
}
