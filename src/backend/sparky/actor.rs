//! The Sparky actor: owns the drafts store, runs digests, reports back as events.
//!
//! Store operations run one at a time on the blocking pool (git commits must not race);
//! digests run as their own tasks so a slow model never holds up an approval, and hand
//! their finished text back here to be stored. Publications run as tasks too. The actor
//! owns them all: stopping it drops the digests being written and waits for the
//! publications going, so none is cut between a channel's answer and its record.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinSet};

use super::approval::{self, ApproveError};
use super::channels::{ChannelName, Delivery};
use super::checker::{Finding, Rules};
use super::collect;
use super::delivery::{self, Plan};
use super::model::{DigestData, DraftState, Period, PeriodKind};
use super::period;
use super::pipeline::{
    self, Composed, DigestRequest, PeriodSpec, Prepared, Source, Sources, WriterChoice,
};
use super::store::{DraftSummary, Store};
use crate::backend::actor::{Actor, Events, Inbox};
use crate::config::Config;

#[derive(Debug)]
pub enum Command {
    /// List the drafts again.
    Refresh,
    /// Load a draft for the preview.
    Open(String),
    Digest(DigestRequest),
    /// The startup digest: write the digest of the current calendar period unless a draft
    /// for it exists; a period without activity is answered with [`Event::Empty`].
    DigestIfMissing(PeriodKind),
    /// Write a draft again from the same period and repositories.
    Regenerate(String),
    SaveBody {
        id: String,
        body: String,
    },
    Autosave {
        id: String,
        body: String,
    },
    ClearRecovery(String),
    SetState {
        id: String,
        state: DraftState,
    },
    /// Approve a draft by [`approval::approve`]: checked first, answered with
    /// [`Event::ApprovalHasFindings`] when the checker finds something, unless
    /// `despite_findings` (the console's confirmation forces it).
    Approve {
        id: String,
        despite_findings: bool,
    },
    /// Work out what publishing a draft would send to each of its channels
    /// (`channels` empty: the configured ones).
    PlanPublish {
        id: String,
        channels: Vec<ChannelName>,
    },
    /// Publish a draft to these channels.
    Publish {
        id: String,
        channels: Vec<ChannelName>,
    },
}

#[derive(Debug)]
pub enum Event {
    Listed {
        drafts: Vec<DraftSummary>,
        problems: Vec<String>,
    },
    Opened {
        id: String,
        body: String,
        data: Option<Box<DigestData>>,
        recovery: Option<String>,
        /// What the checker finds in the draft against its data.
        findings: Vec<Finding>,
    },
    /// Something to know while a digest is collected, such as a GitHub rate-limit wait.
    Notice(String),
    /// A digest started: its tokens follow as `Token`s.
    Writing {
        label: String,
    },
    Token(String),
    Written {
        id: String,
        notices: Vec<String>,
    },
    /// The period had no commits and the config says such periods yield no draft.
    Skipped {
        label: String,
    },
    /// The startup digest's period had no activity, so nothing was written; `last_active`
    /// is the latest period of its kind with commits, if any.
    Empty {
        label: String,
        last_active: Option<Period>,
    },
    /// `unapproved`: the edit changed an approved draft, which now needs approval again.
    Saved {
        id: String,
        unapproved: bool,
    },
    StateChanged {
        id: String,
        state: DraftState,
    },
    /// The draft to approve has findings: the console asks before approving it anyway.
    ApprovalHasFindings {
        id: String,
        findings: usize,
    },
    /// What publishing would send: the console previews it before confirming.
    PublishPlanned(Box<Plan>),
    /// One channel's result while a draft is published.
    Delivered {
        id: String,
        channel: ChannelName,
        result: Result<String, String>,
    },
    /// Every channel has answered.
    Published {
        id: String,
        message: String,
    },
    Failed {
        op: Op,
        message: String,
    },
}

/// What the actor was doing when it failed: the console routes a failure by it, and
/// shows it as "could not {op}".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    OpenStore,
    List,
    Open,
    /// Collecting, analysing or writing a digest.
    WriteDigest,
    StoreDigest,
    Regenerate,
    Save,
    Autosave,
    DiscardRecovery,
    Approve,
    /// Marking a draft with this state.
    Mark(DraftState),
    PlanPublication,
    Publish,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Op::OpenStore => "open the drafts store",
            Op::List => "list drafts",
            Op::Open => "open the draft",
            Op::WriteDigest => "write the digest",
            Op::StoreDigest => "store the digest",
            Op::Regenerate => "regenerate",
            Op::Save => "save the draft",
            Op::Autosave => "autosave",
            Op::DiscardRecovery => "discard the recovery file",
            Op::Approve => "approve the draft",
            Op::Mark(state) => return write!(f, "mark the draft {}", state.as_str()),
            Op::PlanPublication => "plan the publication",
            Op::Publish => "publish",
        };
        f.write_str(what)
    }
}

/// Where the actor keeps its files.
#[derive(Debug, Clone)]
pub struct Places {
    pub drafts_dir: PathBuf,
    pub default_docs_dir: PathBuf,
    pub cwd: PathBuf,
    /// The data dir: GitHub's cache lives under it unless `github.cache_dir` says otherwise.
    pub data_dir: PathBuf,
}

impl Places {
    /// What publishing needs of them.
    pub fn delivery(&self) -> delivery::Places {
        delivery::Places {
            default_docs_dir: self.default_docs_dir.clone(),
            data_dir: self.data_dir.clone(),
        }
    }
}

pub struct Setup {
    pub config: Arc<Config>,
    pub places: Places,
}

/// Starts the actor; stopping it drops the digests being written and waits for the
/// publications going.
pub fn spawn(setup: Setup, events: Events<Event>) -> Actor<Command> {
    Actor::spawn(|inbox| run(setup, inbox, events))
}

/// A digest's task's result: nothing to store (the startup digest's draft exists or its
/// period was empty), or what to store, or why it could not be written.
type Finished = Option<Result<(Prepared, Option<Composed>), String>>;

async fn run(setup: Setup, mut inbox: Inbox<Command>, events: Events<Event>) {
    let Setup { config, places } = setup;
    let store = match blocking({
        let dir = places.drafts_dir.clone();
        move || Store::open(&dir).map_err(|e| e.to_string())
    })
    .await
    {
        Ok(store) => Arc::new(store),
        Err(message) => {
            let _ = events.send(Event::Failed {
                op: Op::OpenStore,
                message,
            });
            return;
        }
    };
    // Kept for the actor's life: dropping it stops the watch.
    let (changed_tx, mut changed) = mpsc::unbounded_channel();
    let _watcher = match watch(&places.drafts_dir, changed_tx) {
        Ok(watcher) => Some(watcher),
        Err(e) => {
            let _ = events.send(Event::Notice(format!(
                "drafts written by other processes show after a refresh only: cannot watch {}: {e}",
                places.drafts_dir.display()
            )));
            None
        }
    };
    let mut worker = Worker {
        config,
        places,
        store,
        events,
        digests: JoinSet::new(),
        publications: JoinSet::new(),
    };
    worker.list().await;
    loop {
        tokio::select! {
            command = inbox.recv() => match command {
                Some(command) => worker.handle(command).await,
                None => break,
            },
            Some(done) = worker.digests.join_next() => worker.store_digest(done).await,
            Some(_) = worker.publications.join_next() => {}
            Some(()) = changed.recv() => {
                // One listing for a burst of changes (a draft is two files and a commit).
                while changed.try_recv().is_ok() {}
                worker.list().await;
            }
        }
    }
    worker.digests.shutdown().await;
    while worker.publications.join_next().await.is_some() {}
}

/// Watches the store's directory (not below: git's own files change on every commit) and
/// sends `changed` when a draft's file is written, renamed or removed, by any process.
fn watch(dir: &Path, changed: mpsc::UnboundedSender<()>) -> notify::Result<RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reads, our own listing among them, change nothing, nor do the access times they
        // may update: either would list again after every listing.
        let is_draft_change = event.is_ok_and(|event| {
            !matches!(
                event.kind,
                EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
            ) && event.paths.iter().any(|p| is_draft_file(p))
        });
        if is_draft_change {
            let _ = changed.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

/// A draft's text or data; not the store's hidden files (temp files, autosaves).
fn is_draft_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_none_or(|name| name.starts_with('.'));
    let draft = path
        .extension()
        .is_some_and(|ext| ext == "md" || ext == "json");
    draft && !hidden
}

struct Worker {
    config: Arc<Config>,
    places: Places,
    store: Arc<Store>,
    events: Events<Event>,
    digests: JoinSet<Finished>,
    /// Each publication's task; it reports its results itself.
    publications: JoinSet<()>,
}

impl Worker {
    fn send(&self, event: Event) {
        // The console may be gone while we finish; nothing to tell then.
        let _ = self.events.send(event);
    }

    fn failed(&self, op: Op, message: String) {
        self.send(Event::Failed { op, message });
    }

    /// Runs a store operation on the blocking pool.
    async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let store = Arc::clone(&self.store);
        blocking(move || work(&store)).await
    }

    async fn list(&self) {
        match self
            .with_store(|s| s.list().map_err(|e| e.to_string()))
            .await
        {
            Ok(listing) => self.send(Event::Listed {
                drafts: listing.drafts,
                problems: listing.problems.iter().map(ToString::to_string).collect(),
            }),
            Err(message) => self.failed(Op::List, message),
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Refresh => self.list().await,
            Command::Open(id) => self.open(id).await,
            Command::Digest(request) => self.start_digest(request, None),
            Command::DigestIfMissing(kind) => {
                let request = DigestRequest {
                    period: PeriodSpec::Calendar { kind, date: None },
                    repos: Vec::new(),
                    writer: WriterChoice::from_config(&self.config.sparky.writer),
                    kind: None,
                };
                self.start_digest(request, Some(Arc::clone(&self.store)));
            }
            Command::Regenerate(id) => self.regenerate(id).await,
            Command::SaveBody { id, body } => {
                let target = id.clone();
                let saved = self
                    .with_store(move |s| save_edit(s, &target, &body).map_err(|e| e.to_string()))
                    .await;
                match saved {
                    Ok(unapproved) => {
                        self.send(Event::Saved { id, unapproved });
                        self.list().await;
                    }
                    Err(message) => self.failed(Op::Save, message),
                }
            }
            Command::Autosave { id, body } => {
                if let Err(message) = self
                    .with_store(move |s| s.write_recovery(&id, &body).map_err(|e| e.to_string()))
                    .await
                {
                    self.failed(Op::Autosave, message);
                }
            }
            Command::ClearRecovery(id) => {
                if let Err(message) = self
                    .with_store(move |s| s.clear_recovery(&id).map_err(|e| e.to_string()))
                    .await
                {
                    self.failed(Op::DiscardRecovery, message);
                }
            }
            Command::Approve {
                id,
                despite_findings,
            } => {
                let (target, config) = (id.clone(), Arc::clone(&self.config));
                let approved = self
                    .with_store(move |s| {
                        Ok(approval::approve(
                            s,
                            &target,
                            despite_findings,
                            &Rules::of(&config),
                        ))
                    })
                    .await;
                match approved {
                    Ok(Ok(_)) => self.state_changed(id, DraftState::Approved).await,
                    Ok(Err(ApproveError::Findings { findings, .. })) => {
                        self.send(Event::ApprovalHasFindings {
                            id,
                            findings: findings.len(),
                        })
                    }
                    Ok(Err(e)) => self.failed(Op::Approve, e.to_string()),
                    Err(message) => self.failed(Op::Approve, message),
                }
            }
            Command::SetState { id, state } => self.set_state(id, state).await,
            Command::PlanPublish { id, channels } => {
                let config = Arc::clone(&self.config);
                match self
                    .with_store(move |s| {
                        delivery::plan(s, &id, &config, &channels).map_err(|e| e.to_string())
                    })
                    .await
                {
                    Ok(plan) => self.send(Event::PublishPlanned(Box::new(plan))),
                    Err(message) => self.failed(Op::PlanPublication, message),
                }
            }
            Command::Publish { id, channels } => self.publish(id, channels),
        }
    }

    async fn set_state(&self, id: String, state: DraftState) {
        let target = id.clone();
        match self
            .with_store(move |s| s.set_state(&target, state).map_err(|e| e.to_string()))
            .await
        {
            Ok(()) => self.state_changed(id, state).await,
            Err(message) => self.failed(Op::Mark(state), message),
        }
    }

    async fn state_changed(&self, id: String, state: DraftState) {
        self.send(Event::StateChanged { id, state });
        self.list().await;
    }

    async fn open(&self, id: String) {
        let target = id.clone();
        let config = Arc::clone(&self.config);
        let loaded = self
            .with_store(move |s| {
                let draft = s.load(&target).map_err(|e| e.to_string())?;
                let data = s.data(&target);
                let findings = approval::findings(&draft, data.as_ref(), &Rules::of(&config));
                let recovery = s.recovery(&target).map_err(|e| e.to_string())?;
                Ok((draft.body, data.ok().map(Box::new), recovery, findings))
            })
            .await;
        match loaded {
            Ok((body, data, recovery, findings)) => self.send(Event::Opened {
                id,
                body,
                data,
                recovery,
                findings,
            }),
            Err(message) => self.failed(Op::Open, message),
        }
    }

    async fn regenerate(&mut self, id: String) {
        let target = id.clone();
        let loaded = self
            .with_store(move |s| {
                let kind = s.load(&target).map_err(|e| e.to_string())?.front.kind;
                Ok((kind, s.data(&target).map_err(|e| e.to_string())?))
            })
            .await;
        match loaded {
            Ok((kind, data)) => {
                // GitHub repositories' paths are their web pages: GitHub is asked again
                // when the config's source includes it.
                let local = data.repo_paths.into_iter().filter(|p| !p.contains("://"));
                let request = DigestRequest {
                    period: PeriodSpec::Exact(data.period),
                    repos: local.map(PathBuf::from).collect(),
                    writer: WriterChoice::from_config(&self.config.sparky.writer),
                    kind: Some(kind),
                };
                self.start_digest(request, None);
            }
            Err(message) => self.failed(Op::Regenerate, message),
        }
    }

    /// Runs a digest in its own task, from the config's `sparky.source`. `startup` (the
    /// store) makes it the startup digest: a no-op when the draft exists, and no draft but
    /// [`Event::Empty`] when the period had no activity.
    fn start_digest(&mut self, request: DigestRequest, startup: Option<Arc<Store>>) {
        let config = Arc::clone(&self.config);
        let cwd = self.places.cwd.clone();
        let data_dir = self.places.data_dir.clone();
        let events = self.events.clone();
        self.digests.spawn(async move {
            let writer = request.writer;
            let prepared = match prepare(&config, &cwd, &data_dir, &request, &events).await {
                Ok(ready) => ready,
                Err(message) => return Some(Err(message)),
            };
            if let Some(store) = startup {
                if store.exists(&prepared.id) {
                    return None;
                }
                if is_empty(&prepared.data) {
                    let label = prepared.data.period.label.clone();
                    let last_active = blocking(move || Ok(last_active(&prepared.data))).await;
                    let _ = events.send(Event::Empty {
                        label,
                        last_active: last_active.ok().flatten(),
                    });
                    return None;
                }
            }
            let _ = events.send(Event::Writing {
                label: prepared.data.period.label.clone(),
            });
            let (tokens, mut stream) = mpsc::unbounded_channel();
            let forward = {
                let events = events.clone();
                tokio::spawn(async move {
                    while let Some(token) = stream.recv().await {
                        let _ = events.send(Event::Token(token));
                    }
                })
            };
            let composed = pipeline::compose(&config, writer, &prepared, &tokens).await;
            drop(tokens);
            let _ = forward.await;
            Some(composed.map(|c| (prepared, c)).map_err(|e| e.to_string()))
        });
    }

    async fn store_digest(&self, done: Result<Finished, JoinError>) {
        let done = done.unwrap_or_else(|e| Some(Err(format!("background task failed: {e}"))));
        let (prepared, composed) = match done {
            None => return,
            Some(Ok(done)) => done,
            Some(Err(message)) => return self.failed(Op::WriteDigest, message),
        };
        let Some(composed) = composed else {
            return self.send(Event::Skipped {
                label: prepared.data.period.label,
            });
        };
        let id = prepared.id.clone();
        // What was left out of the digest comes first: the console shows the first notice.
        let mut notices = prepared.warnings.clone();
        notices.extend(composed.notices.iter().cloned());
        let saved = self
            .with_store(move |s| pipeline::save(s, &prepared, &composed).map_err(|e| e.to_string()))
            .await;
        match saved {
            Ok(_) => {
                self.list().await;
                self.send(Event::Written { id, notices });
            }
            Err(message) => self.failed(Op::StoreDigest, message),
        }
    }

    /// Publishes in its own task, so a slow channel never holds up the store; the console
    /// lists the drafts again on [`Event::Published`].
    fn publish(&mut self, id: String, channels: Vec<ChannelName>) {
        let config = Arc::clone(&self.config);
        let store = Arc::clone(&self.store);
        let places = self.places.delivery();
        let events = self.events.clone();
        self.publications.spawn(async move {
            let planned = blocking({
                let (store, config, id) = (Arc::clone(&store), Arc::clone(&config), id.clone());
                move || delivery::plan(&store, &id, &config, &channels).map_err(|e| e.to_string())
            })
            .await;
            let plan = match planned {
                Ok(plan) => plan,
                Err(message) => {
                    let _ = events.send(Event::Failed {
                        op: Op::Publish,
                        message,
                    });
                    return;
                }
            };
            let results = delivery::deliver(&plan, &config, &places, store, |channel, result| {
                let _ = events.send(Event::Delivered {
                    id: id.clone(),
                    channel,
                    result: result.as_ref().map(describe).map_err(Clone::clone),
                });
            })
            .await;
            let _ = events.send(Event::Published {
                message: delivery::summary(&results),
                id,
            });
        });
    }
}

/// No commits and nothing else on GitHub: what makes a period's digest a single line.
fn is_empty(data: &DigestData) -> bool {
    data.metrics.totals.commits == 0
        && !data
            .metrics
            .github
            .as_ref()
            .is_some_and(|g| g.has_activity())
}

/// The latest period of `data`'s kind before `data`'s with commits: the previous one when
/// it had commits (GitHub's repositories are not asked again), else the one holding the
/// newest earlier commit of the local repositories.
fn last_active(data: &DigestData) -> Option<Period> {
    let period = &data.period;
    if data
        .metrics
        .trend
        .as_ref()
        .is_some_and(|trend| trend.previous.commits > 0)
    {
        return Some(period::previous(period));
    }
    let newest = data
        .repo_paths
        .iter()
        .filter(|path| !path.contains("://"))
        .filter_map(|path| collect::newest_before(Path::new(path), period.since))
        .max()?;
    let tz = period::time_zone(&period.time_zone).ok()?;
    let day = newest.to_zoned(tz.clone()).date();
    Some(period::calendar(period.kind, day, &tz))
}

/// One line for a channel's delivery: what happened and where.
pub fn describe(delivery: &Delivery) -> String {
    let publication = delivery.publication();
    format!(
        "{} {}: {}",
        publication.channel,
        delivery.verb(),
        publication.url
    )
}

/// Collects and analyses a digest's period from `sparky.source`; GitHub's rate-limit
/// waits are sent as [`Event::Notice`]s while they last.
async fn prepare(
    config: &Config,
    cwd: &std::path::Path,
    data_dir: &std::path::Path,
    request: &DigestRequest,
    events: &Events<Event>,
) -> Result<Prepared, String> {
    let source = Source::from_config(&config.sparky.source);
    let github = if source.uses_github() {
        let (notices, mut heard) = mpsc::unbounded_channel::<String>();
        let events = events.clone();
        tokio::spawn(async move {
            while let Some(notice) = heard.recv().await {
                let _ = events.send(Event::Notice(notice));
            }
        });
        let github = pipeline::github_client(config, data_dir, Some(notices));
        Some(github.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let sources = github.as_ref().map_or(Sources::Local, |g| source.with(g));
    let dirs = pipeline::Dirs {
        cwd: cwd.to_path_buf(),
        data_dir: data_dir.to_path_buf(),
    };
    pipeline::prepare_from(config, &dirs, request, sources, jiff::Timestamp::now())
        .await
        .map_err(|e| e.to_string())
}

/// Saves an edit and drops its autosave. An approved or published draft that changes goes
/// back to draft: what was approved is not what would be published (again).
fn save_edit(store: &Store, id: &str, body: &str) -> Result<bool, super::store::StoreError> {
    let before = store.load(id)?;
    store.save_body(id, body)?;
    store.clear_recovery(id)?;
    let unapproved = matches!(
        before.front.state,
        DraftState::Approved | DraftState::Published
    ) && before.body != body;
    if unapproved {
        store.set_state(id, DraftState::Draft)?;
    }
    Ok(unapproved)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(format!("background task failed: {e}")))
}
