//! Collecting commits from local repositories with gix, and from GitHub ([`github`]).
//!
//! [`collect`] reports what `git log --numstat --since-as-filter=<since> --until=<until - 1s>`
//! reports on HEAD: the same commits, mailmapped authors and line counts.

mod cache;
pub mod github;
mod numstat;
mod packs;
mod remote;
mod renames;
mod repos;

use std::path::{Path, PathBuf};

use gix::ObjectId;
use jiff::Timestamp;

use super::model::{CommitRecord, RepoActivity};
use cache::NumstatCache;
use numstat::{LineCounter, Numstat};
pub use remote::origin_url;
pub use repos::{find_repos, folder_name};

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{} is not a git repository", path.display())]
    NotARepository { path: PathBuf },
    #[error("{} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("no git repository contains {}: {}", cwd.display(), describe(source))]
    NoRepositoryHere { cwd: PathBuf, source: gix::Error },
    #[error("cannot read folder {}: {source}", path.display())]
    ReadFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open git repository {}: {}", path.display(), describe(source))]
    Open { path: PathBuf, source: gix::Error },
    #[error("{}: cannot walk the history from HEAD: {}", repo.display(), describe(source))]
    Walk { repo: PathBuf, source: gix::Error },
    #[error("{}: a collecting thread stopped unexpectedly", repo.display())]
    Worker { repo: PathBuf },
}

/// A gix error on one line, each cause's message once, outermost first: its alternate form
/// prints debug structures on several lines.
fn describe(error: &gix::Error) -> String {
    let mut messages: Vec<String> = Vec::new();
    for cause in error.iter_errors() {
        let message = cause.to_string();
        if !message.is_empty() && !messages.iter().any(|known| known.contains(&message)) {
            messages.push(message);
        }
    }
    messages.join(": ")
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

/// What was read of one repository, and what could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub activity: RepoActivity,
    /// Commits not read in full, `(sha, why)` in walk order: counted without their line
    /// counts when a tree or blob of theirs (or their parent's tree) cannot be read, left
    /// out when the commit itself cannot be decoded.
    pub unread_commits: Vec<(String, String)>,
    /// Why the walk stopped before the end of the history (a missing or unreadable commit):
    /// commits beyond it are not counted.
    pub cut_short: Option<String>,
}

impl Collected {
    /// One sentence on what could not be read; `None` when everything was.
    pub fn unread(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(why) = &self.cut_short {
            parts.push(format!("the history is read only in part: {why}"));
        }
        if let Some((sha, why)) = self.unread_commits.first() {
            let count = self.unread_commits.len();
            let commits = if count == 1 { "commit" } else { "commits" };
            let more = match count - 1 {
                0 => String::new(),
                1 => "; and 1 more".to_string(),
                n => format!("; and {n} more"),
            };
            parts.push(format!(
                "{count} {commits} not read in full (commit {}: {why}{more})",
                short(sha)
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Commits reachable from HEAD with `since <= committer time < until`, newest first, as
/// `git log --numstat --since-as-filter` reports them. An unborn HEAD yields no commits.
///
/// The walk visits every commit reachable from HEAD, as `--since-as-filter` does: commit
/// times are not monotonic along history, so stopping at the first older commit would miss
/// commits. Walking is cheap next to diffing, which happens only for commits in the period.
/// Periods with many commits are diffed on up to two threads.
///
/// What git cannot read either does not stop the collection (git would stop with `fatal:`):
/// a commit whose trees or blobs are missing is counted without its lines, and a walk that
/// reaches a missing commit keeps what it found ([`Collected`] says what was not read).
/// Only a repository that cannot be opened, or whose HEAD cannot be read, is an error.
///
/// With a `cache_dir`, line counts are remembered there by commit and not diffed again
/// (see [`cache`]); a shallow or partly read history is not remembered.
pub fn collect(
    repo_path: &Path,
    since: Timestamp,
    until: Timestamp,
    bots: &[String],
    cache_dir: Option<&Path>,
) -> Result<Collected, CollectError> {
    collect_on_threads(repo_path, since, until, bots, cache_dir, cores().min(2))
}

/// [`collect`] of each of `repos`, in their order. Repositories are read on up to two
/// threads: each walks the next repository's history, then each diffs the next walked
/// repository, the one with the most commits in the period first, so that one large
/// repository does not leave a thread idle at the end. A single repository gets both
/// threads for its commits.
pub fn collect_each(
    repos: &[PathBuf],
    since: Timestamp,
    until: Timestamp,
    bots: &[String],
    cache_dir: Option<&Path>,
) -> Vec<Result<Collected, CollectError>> {
    let threads = cores().min(2).min(repos.len());
    if threads <= 1 {
        return repos
            .iter()
            .map(|repo| collect(repo, since, until, bots, cache_dir))
            .collect();
    }
    let walks = on_threads(
        threads,
        repos.iter().map(|repo| (repo.as_path(), ())).collect(),
        |repo, ()| walk(repo, since, until).map(|(opened, walked)| (opened.into_sync(), walked)),
    );
    let mut largest_first: Vec<_> = walks.into_iter().enumerate().collect();
    largest_first.sort_by_key(|(_, walk)| {
        std::cmp::Reverse(walk.as_ref().map_or(0, |(_, walked)| walked.selected.len()))
    });
    let (order, walks): (Vec<usize>, Vec<_>) = largest_first.into_iter().unzip();
    let items = order.iter().map(|&at| repos[at].as_path()).zip(walks);
    let read = on_threads(threads, items.collect(), |repo, walk| {
        let (opened, walked) = walk?;
        read(repo, opened.to_thread_local(), walked, bots, cache_dir, 1)
    });
    let mut collected: Vec<_> = order.into_iter().zip(read).collect();
    collected.sort_unstable_by_key(|(at, _)| *at);
    collected
        .into_iter()
        .map(|(_, collected)| collected)
        .collect()
}

/// `job` of each of `items` on `threads` threads, each taking the next item; the results in
/// the items' order. An item whose thread stopped unexpectedly is a [`CollectError::Worker`].
fn on_threads<X: Send, T: Send>(
    threads: usize,
    items: Vec<(&Path, X)>,
    job: impl Fn(&Path, X) -> Result<T, CollectError> + Sync,
) -> Vec<Result<T, CollectError>> {
    let paths: Vec<&Path> = items.iter().map(|(path, _)| *path).collect();
    let left = std::sync::Mutex::new(items.into_iter().enumerate());
    let work = || {
        let mut done = Vec::new();
        loop {
            let next = left
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .next();
            let Some((at, (path, item))) = next else {
                return done;
            };
            done.push((at, job(path, item)));
        }
    };
    let mut results: Vec<Option<Result<T, CollectError>>> = paths.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        for handle in handles {
            for (at, result) in handle.join().unwrap_or_default() {
                results[at] = Some(result);
            }
        }
    });
    results
        .into_iter()
        .zip(paths)
        .map(|(result, path)| {
            result.unwrap_or_else(|| {
                Err(CollectError::Worker {
                    repo: path.to_path_buf(),
                })
            })
        })
        .collect()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// [`collect`] with at most `threads` threads (at least one), each with its own repository
/// handle and caches. Periods under 64 commits always use one.
pub fn collect_on_threads(
    repo_path: &Path,
    since: Timestamp,
    until: Timestamp,
    bots: &[String],
    cache_dir: Option<&Path>,
    threads: usize,
) -> Result<Collected, CollectError> {
    let (repo, walked) = walk(repo_path, since, until)?;
    read(repo_path, repo, walked, bots, cache_dir, threads)
}

/// Opens the repository and walks its history from HEAD.
fn walk(
    repo_path: &Path,
    since: Timestamp,
    until: Timestamp,
) -> Result<(gix::Repository, Walked), CollectError> {
    let repo = gix::open(repo_path).map_err(|source| CollectError::Open {
        path: repo_path.to_path_buf(),
        source,
    })?;
    let walked = select(&repo, since, until).map_err(|source| CollectError::Walk {
        repo: repo_path.to_path_buf(),
        source,
    })?;
    Ok((repo, walked))
}

/// Reads the commits `walked` selected, on up to `threads` threads.
fn read(
    repo_path: &Path,
    repo: gix::Repository,
    walked: Walked,
    bots: &[String],
    cache_dir: Option<&Path>,
    threads: usize,
) -> Result<Collected, CollectError> {
    let open_error = |source| CollectError::Open {
        path: repo_path.to_path_buf(),
        source,
    };
    let settings = numstat::settings(&repo).map_err(open_error)?;
    let context = Context {
        path: repo_path,
        name: repos::repo_name(&repo),
        mailmap: repo.open_mailmap(),
        bots,
        cache: NumstatCache::open(cache_dir, walked.root, settings),
    };
    let selected = &walked.selected;
    let threads = if selected.len() < PARALLEL_FROM {
        1
    } else {
        threads.max(1)
    };
    let read = match threads {
        1 => Worker::new(repo, &context)?.records(selected),
        threads => in_parallel(repo.into_sync(), &context, selected, threads)?,
    };
    context.cache.remember(
        read.iter()
            .filter(|r| r.diffed)
            .filter_map(|r| r.record.as_ref())
            .map(|c| (c.sha.as_str(), Numstat::of(c))),
    );
    let (commits, unread): (Vec<_>, Vec<_>) =
        read.into_iter().map(|r| (r.record, r.unread)).unzip();
    Ok(Collected {
        activity: RepoActivity {
            name: context.name,
            path: repo_path.display().to_string(),
            commits: commits.into_iter().flatten().collect(),
            first_commit: walked.first_commit,
            ..RepoActivity::default()
        },
        unread_commits: unread.into_iter().flatten().collect(),
        cut_short: walked.cut_short,
    })
}

/// The committer time of the newest commit reachable from HEAD before `before`, as
/// `git log -1 --before` finds it; `None` when there is none or the repository cannot be read.
pub fn newest_before(repo_path: &Path, before: Timestamp) -> Option<Timestamp> {
    let repo = gix::open(repo_path).ok()?;
    let head = repo.head().ok()?.try_into_peeled_id().ok()??;
    let order = gix::revision::walk::Sorting::ByCommitTime(Default::default());
    let seconds = repo
        .rev_walk([head])
        .sorting(order)
        .all()
        .ok()?
        .map_while(Result::ok)
        .map(|info| info.commit_time.unwrap_or_default())
        .find(|&committed| committed < before.as_second())?;
    Timestamp::from_second(seconds).ok()
}

/// The abbreviated id git prints.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// A second thread sets up its own repository handle and caches: not worth it for few commits.
const PARALLEL_FROM: usize = 64;
/// Bytes of decoded commits the walk keeps: a commit is about a kilobyte.
const WALK_CACHE: usize = 4 << 20;
/// Commits a thread takes at a time.
const CHUNK: usize = 16;

/// A commit in the period, as the walk found it.
struct Selected {
    id: ObjectId,
    parents: Vec<ObjectId>,
    committed: i64,
}

/// What the walk from HEAD found.
struct Walked {
    selected: Vec<Selected>,
    /// The committer time of the earliest root commit, when the whole history was walked.
    first_commit: Option<Timestamp>,
    /// That root commit.
    root: Option<ObjectId>,
    cut_short: Option<String>,
}

fn select(
    repo: &gix::Repository,
    since: Timestamp,
    until: Timestamp,
) -> Result<Walked, gix::Error> {
    let mut walked = Walked {
        selected: Vec::new(),
        first_commit: None,
        root: None,
        cut_short: None,
    };
    let Some(head) = repo.head()?.try_into_peeled_id()? else {
        return Ok(walked);
    };
    // Without a commit-graph file the walk reads each commit twice: for its date when its
    // child queues it, and for its parents when it is next. Kept for the second read.
    let mut repo = repo.clone();
    repo.object_cache_size(WALK_CACHE);
    let in_period = |seconds: i64| {
        let nanos = i128::from(seconds) * 1_000_000_000;
        since.as_nanosecond() <= nanos && nanos < until.as_nanosecond()
    };
    // A shallow clone's boundary commits are roots to git: their parents are not there.
    // They are not the repository's first commits, though.
    let shallow = repo.shallow_commits()?;
    let is_shallow = |id: &ObjectId| {
        shallow
            .as_ref()
            .is_some_and(|ids| ids.binary_search(id).is_ok())
    };
    let mut first_root: Option<(i64, ObjectId)> = None;
    let mut reached_boundary = false;
    let order = gix::revision::walk::Sorting::ByCommitTime(Default::default());
    for info in repo.rev_walk([head]).sorting(order).all()? {
        let info = match info {
            Ok(info) => info,
            Err(error) => {
                walked.cut_short = Some(describe(&gix::Error::from_error(error)));
                break;
            }
        };
        let committed = info.commit_time.unwrap_or_default();
        let boundary = is_shallow(&info.id);
        reached_boundary |= boundary;
        if info.parent_ids.is_empty() && !boundary {
            first_root = Some(first_root.map_or((committed, info.id), |first| {
                first.min((committed, info.id))
            }));
        }
        if in_period(committed) {
            walked.selected.push(Selected {
                parents: if boundary {
                    Vec::new()
                } else {
                    info.parent_ids.to_vec()
                },
                id: info.id,
                committed,
            });
        }
    }
    if !reached_boundary
        && walked.cut_short.is_none()
        && let Some((seconds, root)) = first_root
    {
        walked.first_commit = Timestamp::from_second(seconds).ok();
        walked.root = Some(root);
    }
    Ok(walked)
}

/// What every worker shares.
struct Context<'a> {
    path: &'a Path,
    name: String,
    mailmap: gix::mailmap::Snapshot,
    bots: &'a [String],
    cache: NumstatCache,
}

/// A commit as far as it could be read.
struct Read {
    /// `None` when the commit cannot be decoded.
    record: Option<CommitRecord>,
    /// `(sha, why)` when it was not read in full.
    unread: Option<(String, String)>,
    /// Whether its lines were counted by this run, not taken from the cache.
    diffed: bool,
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

    fn records(&mut self, selected: &[Selected]) -> Vec<Read> {
        selected.iter().map(|commit| self.record(commit)).collect()
    }

    fn record(&mut self, selected: &Selected) -> Read {
        let context = self.context;
        let sha = selected.id.to_string();
        let commit = match self.repo.find_commit(selected.id) {
            Ok(commit) => commit,
            Err(error) => return Self::unreadable(sha, error),
        };
        let decoded = match commit.decode() {
            Ok(decoded) => decoded,
            Err(error) => return Self::unreadable(sha, error),
        };
        let author = match decoded.author() {
            Ok(author) => author.trim(),
            Err(error) => return Self::unreadable(sha, gix::Error::from_error(error)),
        };
        // An unreadable date is 1970, as git shows it.
        let time = author.time().unwrap_or_default();
        let mapped = context.mailmap.resolve_cow(author);
        let name = mapped.name.to_string();
        let email = mapped.email.to_string();
        let is_merge = selected.parents.len() > 1;
        // git log shows no diff for merges by default: their lines were counted on the
        // branches they bring in.
        let cached = context.cache.get(&selected.id).cloned();
        let diffed = !is_merge && cached.is_none();
        let numstat = match cached {
            _ if is_merge => Ok(Numstat::default()),
            Some(cached) => Ok(cached),
            None => numstat(&self.repo, &mut self.counter, selected, decoded.tree()),
        };
        let (numstat, unread) = match numstat {
            Ok(numstat) => (numstat, None),
            Err(error) => {
                let why = format!("its lines cannot be counted: {}", describe(&error));
                (Numstat::default(), Some((sha.clone(), why)))
            }
        };
        let diffed = diffed && unread.is_none();
        Read {
            record: Some(CommitRecord {
                login: None,
                repo: context.name.clone(),
                is_bot: is_bot(&name, &email, context.bots),
                author: name,
                email,
                time: Timestamp::from_second(time.seconds).unwrap_or(Timestamp::UNIX_EPOCH),
                offset_seconds: time.offset,
                committed: committed(selected),
                // Like git's %s: the first paragraph, its lines joined by spaces.
                subject: decoded.message().summary().to_string(),
                files_changed: numstat.files_changed,
                insertions: numstat.insertions,
                deletions: numstat.deletions,
                paths: numstat.paths,
                is_merge,
                sha,
            }),
            unread,
            diffed,
        }
    }

    /// The walk decoded the commit, so only a corrupt object gets here: left out, since
    /// neither its author nor its subject is known.
    fn unreadable(sha: String, error: gix::Error) -> Read {
        Read {
            record: None,
            unread: Some((
                sha,
                format!("it cannot be read and is left out: {}", describe(&error)),
            )),
            diffed: false,
        }
    }
}

/// The line counts of a commit that is not a merge, against its parent's tree.
fn numstat(
    repo: &gix::Repository,
    counter: &mut LineCounter,
    selected: &Selected,
    tree: ObjectId,
) -> Result<Numstat, gix::Error> {
    let parent_tree = match selected.parents.first() {
        Some(parent) => repo.find_commit(*parent)?.tree_id()?.detach(),
        None => ObjectId::empty_tree(repo.object_hash()),
    };
    counter.count(repo, parent_tree, tree)
}

fn committed(selected: &Selected) -> Timestamp {
    Timestamp::from_second(selected.committed).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Threads take chunks of neighbouring commits, the first thread from the newest end, the
/// second from the oldest (the others alternate), until they meet: each thread reads a
/// contiguous run of history, where a blob one commit writes is the one its successor
/// changes (see [`packs`]). Records come back in walk order.
fn in_parallel(
    repo: gix::ThreadSafeRepository,
    context: &Context<'_>,
    selected: &[Selected],
    threads: usize,
) -> Result<Vec<Read>, CollectError> {
    let chunks: Vec<&[Selected]> = selected.chunks(CHUNK).collect();
    let left = std::sync::Mutex::new(0..chunks.len());
    let work = |thread: usize| -> Result<Vec<(usize, Vec<Read>)>, CollectError> {
        let mut worker = Worker::new(repo.to_thread_local(), context)?;
        let mut done = Vec::new();
        loop {
            let next = {
                let mut left = left.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if thread.is_multiple_of(2) {
                    left.next()
                } else {
                    left.next_back()
                }
            };
            let Some(index) = next else {
                return Ok(done);
            };
            done.push((index, worker.records(chunks[index])));
        }
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| scope.spawn(move || work(thread)))
            .collect();
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
