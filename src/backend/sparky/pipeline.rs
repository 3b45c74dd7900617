//! One digest from request to stored draft. The console's actor and `raibid digest` both
//! run these steps, so what a user sees in one is what the other does.
//!
//! Activity comes from local clones ([`prepare`]), from GitHub, or from both merged
//! without double counting ([`prepare_from`], [`super::merge`]).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use super::analyze::{Metrics, SourceFailure, analyze};
use super::channels::docs;
use super::checker::{self, Finding, Rules};
use super::collect;
use super::collect::github::GitHubActivity;
use super::merge::{self, GithubRepo, LocalRepo};
use super::model::{
    Activity, DigestData, DraftKind, DraftState, FrontMatter, Period, PeriodKind, RepoActivity,
};
use super::period;
use super::store::Store;
use super::write::{self, BuiltinWriter, ModelWriter, TokenSink, WriteError, Writer};
use crate::backend::forge::github::{GitHub, GitHubError, RepoInfo, Usage};
use crate::backend::llm::Backend;
use crate::config::Config;

/// Which writer to use; `Auto` tries Ollama and falls back to the built-in writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WriterChoice {
    Auto,
    Builtin,
    Ollama,
    /// An OpenAI-compatible server (`[openai]`).
    Openai,
}

impl WriterChoice {
    pub fn from_config(name: &str) -> WriterChoice {
        match name {
            "builtin" => WriterChoice::Builtin,
            "ollama" => WriterChoice::Ollama,
            "openai" => WriterChoice::Openai,
            _ => WriterChoice::Auto,
        }
    }
}

/// Where a digest's activity comes from: `sparky.source`, or `raibid digest --source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The local repositories (`sparky.repos`, `sparky.scan`, or the current one).
    Local,
    /// The repositories `[github]` selects.
    Github,
    /// Both, a local clone and its GitHub repository merged into one.
    Both,
}

impl Source {
    /// `github` or `both`; anything else is `local`.
    pub fn from_config(name: &str) -> Source {
        match name {
            "github" => Source::Github,
            "both" => Source::Both,
            _ => Source::Local,
        }
    }

    pub fn uses_github(self) -> bool {
        self != Source::Local
    }

    /// The source with the client GitHub needs (unused for `Local`).
    pub fn with(self, github: &GitHub) -> Sources<'_> {
        match self {
            Source::Local => Sources::Local,
            Source::Github => Sources::Github(github),
            Source::Both => Sources::Both(github),
        }
    }
}

/// What [`prepare_from`] collects from, with the GitHub client when it needs one.
#[derive(Debug, Clone, Copy)]
pub enum Sources<'a> {
    Local,
    Github(&'a GitHub),
    Both(&'a GitHub),
}

/// The GitHub client of `config`: its cache in `github.cache_dir`, or `github` under
/// `data_dir` when that is empty; rate-limit waits are announced to `notices`. Fails
/// without a token, naming `github.token`.
pub fn github_client(
    config: &Config,
    data_dir: &Path,
    notices: Option<UnboundedSender<String>>,
) -> Result<GitHub, GitHubError> {
    let cache_dir = crate::backend::forge::github::cache_dir(&config.github, data_dir);
    let github = GitHub::new(&config.github, &cache_dir)?;
    Ok(match notices {
        Some(notices) => github.with_notices(notices),
        None => github,
    })
}

/// Where a digest reads and remembers: `cwd` for repository paths given relative (or the
/// repository containing it), `data_dir` for the cache of line counts (`numstat` under it).
#[derive(Debug, Clone)]
pub struct Dirs {
    pub cwd: PathBuf,
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodSpec {
    /// The calendar period containing `date` (today when `None`).
    Calendar {
        kind: PeriodKind,
        date: Option<jiff::civil::Date>,
    },
    /// `--since/--until`: a date (local midnight) or an RFC 3339 instant each.
    Range { since: String, until: String },
    /// The period of an existing draft, when it is written again.
    Exact(Period),
}

#[derive(Debug, Clone)]
pub struct DigestRequest {
    pub period: PeriodSpec,
    /// Local repositories to collect; empty: the config's (or the current directory's).
    /// Not used when GitHub is the only source (`raibid digest` refuses both).
    pub repos: Vec<PathBuf>,
    pub writer: WriterChoice,
    /// A blog or social post of the period; `None`: the period's digest.
    pub kind: Option<DraftKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Period(#[from] period::PeriodError),
    #[error(transparent)]
    Collect(#[from] collect::CollectError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error(transparent)]
    Github(#[from] GitHubError),
    #[error("[github] selects no repositories: set github.orgs or github.repos")]
    NoGithubRepos,
    #[error("collecting stopped unexpectedly: {0}")]
    Task(String),
    #[error("no repository could be read:{}", listed(.0))]
    NothingRead(Vec<SourceFailure>),
}

/// One indented line per failure.
fn listed(failures: &[SourceFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("\n  {}: {}", f.repo, f.reason))
        .collect()
}

/// The collected and analysed period, ready for a writer.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The digest's id, e.g. `2026-W47-raibid`; a post's adds its kind:
    /// `2026-W47-raibid-blog`.
    pub id: String,
    pub kind: DraftKind,
    pub data: DigestData,
    /// One line per repository that could not be read, from GitHub (also in the data's
    /// `metrics.github.failures`) or locally (the data's `failures`): the digest was
    /// written without it, or, when it was read in part, with what was read.
    pub warnings: Vec<String>,
    /// What GitHub cost, when it was asked.
    pub usage: Option<Usage>,
}

/// A written draft, not yet stored.
#[derive(Debug, Clone)]
pub struct Composed {
    pub front: FrontMatter,
    pub body: String,
    /// What the user should know, such as a fallback to the built-in writer.
    pub notices: Vec<String>,
    /// What the checker finds in the body (none for a model's draft: it must pass).
    pub findings: Vec<Finding>,
}

/// What `raibid digest --json` prints.
#[derive(Debug, Serialize)]
pub struct DigestReport<'a> {
    pub id: &'a str,
    pub path: Option<&'a Path>,
    pub period: &'a Period,
    pub writer: Option<&'a str>,
    pub notices: &'a [String],
    pub metrics: &'a Metrics,
    /// Repositories that could not be read, wholly or in part: local ones, then GitHub's.
    pub failures: Vec<&'a SourceFailure>,
    /// What GitHub cost; `null` when it was not asked.
    pub usage: Option<Usage>,
}

/// Collects the period and the one before it from the local repositories, and analyses
/// them. Blocking (git reads).
pub fn prepare(
    config: &Config,
    dirs: &Dirs,
    request: &DigestRequest,
    now: Timestamp,
) -> Result<Prepared, PipelineError> {
    let (current, previous) = periods(config, request, now)?;
    let local = collect_local(config, dirs, request, &current, &previous, false)?;
    if local.nothing_read() {
        let failures = local.failures.into_iter().map(|f| f.failure).collect();
        return Err(PipelineError::NothingRead(failures));
    }
    let (now_repos, before_repos) = local.repos.into_iter().map(|l| (l.now, l.before)).unzip();
    let prepared = finish(
        Activity {
            period: current,
            repos: now_repos,
        },
        Activity {
            period: previous,
            repos: before_repos,
        },
        local.failures,
        None,
    );
    Ok(as_kind(prepared, request.kind, config))
}

/// [`prepare`] from `sources`: the local repositories as [`prepare`] collects them,
/// GitHub's (the period and the one before, asked at once), or both merged
/// ([`super::merge`]). A repository GitHub cannot read is left out and reported in
/// [`Prepared::warnings`] and the data; it never fails the digest. One whose activity was
/// cut short is kept with what was fetched, and reported the same way.
pub async fn prepare_from(
    config: &Config,
    dirs: &Dirs,
    request: &DigestRequest,
    sources: Sources<'_>,
    now: Timestamp,
) -> Result<Prepared, PipelineError> {
    let (github, with_local) = match sources {
        Sources::Local => {
            let (config, dirs, request) = (config.clone(), dirs.clone(), request.clone());
            return blocking(move || prepare(&config, &dirs, &request, now)).await;
        }
        Sources::Github(github) => (github, false),
        Sources::Both(github) => (github, true),
    };
    let (current, previous) = periods(config, request, now)?;
    let local = if with_local {
        let (config, dirs, request) = (config.clone(), dirs.clone(), request.clone());
        let (current, previous) = (current.clone(), previous.clone());
        blocking(move || collect_local(&config, &dirs, &request, &current, &previous, true)).await?
    } else {
        LocalRead::default()
    };
    let selected = github.selected_repos().await?;
    if selected.is_empty() && !with_local {
        return Err(PipelineError::NoGithubRepos);
    }
    let bots = &config.sparky.bots;
    let (now_github, before_github) = tokio::join!(
        collect::github::activity(github, &selected, &current, bots),
        collect::github::activity(github, &selected, &previous, bots)
    );
    let failures = failures(&now_github, &before_github);
    let left_out: Vec<&str> = failures
        .iter()
        .filter(|f| !f.incomplete)
        .map(|f| f.failure.repo.as_str())
        .collect();
    let mut now_local = Vec::new();
    let mut before_local = Vec::new();
    for l in local.repos {
        now_local.push(LocalRepo {
            activity: l.now,
            origin: l.origin.clone(),
        });
        before_local.push(LocalRepo {
            activity: l.before,
            origin: l.origin,
        });
    }
    let activity = Activity {
        period: current,
        repos: merge::merge(now_local, github_repos(now_github, &selected, &left_out)),
    };
    let before = Activity {
        period: previous,
        repos: merge::merge(
            before_local,
            github_repos(before_github, &selected, &left_out),
        ),
    };
    let mut prepared = finish(activity, before, local.failures, Some(failures));
    prepared.usage = Some(github.usage());
    Ok(as_kind(prepared, request.kind, config))
}

/// The prepared period as the draft `kind` asks for: a post's id is the digest's plus its
/// kind, and a social post links to the period's digest on the docs site
/// (`publish.site_url`), when there is one.
pub fn as_kind(mut prepared: Prepared, kind: Option<DraftKind>, config: &Config) -> Prepared {
    let Some(kind) = kind.filter(|k| !k.is_digest()) else {
        return prepared;
    };
    prepared.id = format!("{}-{}", prepared.id, kind.as_str());
    prepared.kind = kind;
    if kind.post_limit().is_some() {
        prepared.data.link = digest_url(&config.publish.site_url, &prepared.data.period);
    }
    prepared
}

/// Where the period's digest is published on the docs site at `site_url`, when it is set.
fn digest_url(site_url: &str, period: &Period) -> Option<String> {
    if site_url.trim().is_empty() {
        return None;
    }
    let tz = period::time_zone(&period.time_zone).ok()?;
    // The digest's draft as it would be dated: where it is published depends on that.
    let digest = FrontMatter {
        title: String::new(),
        date: period.since.to_zoned(tz).date().to_string(),
        period: period.label.clone(),
        kind: DraftKind::for_period(period.kind),
        state: DraftState::Draft,
        writer: String::new(),
        model: None,
    };
    Some(docs::post_url(
        site_url,
        &docs::target_path(&digest, period),
    ))
}

/// The period asked for and the one before it.
fn periods(
    config: &Config,
    request: &DigestRequest,
    now: Timestamp,
) -> Result<(Period, Period), PipelineError> {
    let tz = period::time_zone(&config.sparky.time_zone)?;
    let current = match &request.period {
        PeriodSpec::Calendar { kind, date } => {
            let date = date.unwrap_or_else(|| now.to_zoned(tz.clone()).date());
            period::calendar(*kind, date, &tz)
        }
        PeriodSpec::Range { since, until } => period::custom(
            period::parse_instant(since, &tz)?,
            period::parse_instant(until, &tz)?,
            &tz,
        )?,
        PeriodSpec::Exact(period) => period.clone(),
    };
    let previous = period::previous(&current);
    Ok((current, previous))
}

/// One local repository in both periods.
struct Local {
    now: RepoActivity,
    before: RepoActivity,
    /// Its `origin` remote, when asked for and readable.
    origin: Option<String>,
}

/// The local repositories as far as they could be read.
#[derive(Default)]
struct LocalRead {
    repos: Vec<Local>,
    /// Those not read, or read only in part.
    failures: Vec<Failed>,
}

impl LocalRead {
    /// Repositories were asked for and none could be read.
    fn nothing_read(&self) -> bool {
        self.repos.is_empty()
            && !self.failures.is_empty()
            && self.failures.iter().all(|f| !f.incomplete)
    }
}

/// The request's repositories (or the config's, or the current one) in both periods.
/// A repository that cannot be read is reported in the failures and the others go on; one
/// whose first commit is after the period did not exist then and is left out (of the
/// draft's repositories and of the paths a regeneration collects: its set is the same).
/// Blocking (git reads).
fn collect_local(
    config: &Config,
    dirs: &Dirs,
    request: &DigestRequest,
    current: &Period,
    previous: &Period,
    with_origin: bool,
) -> Result<LocalRead, PipelineError> {
    let (repos, scan) = if request.repos.is_empty() {
        (
            config.sparky.repos.as_slice(),
            config.sparky.scan.as_slice(),
        )
    } else {
        (request.repos.as_slice(), &[][..])
    };
    let paths = collect::find_repos(repos, scan, &dirs.cwd)?;

    // One walk covers both periods; the commits are split by committer time afterwards.
    let numstat_cache = dirs.data_dir.join("numstat");
    let each = collect::collect_each(
        &paths,
        previous.since,
        current.until,
        &config.sparky.bots,
        Some(&numstat_cache),
    );
    let mut read = LocalRead::default();
    for (path, collected) in paths.iter().zip(each) {
        let collected = match collected {
            Ok(collected) => collected,
            Err(error) => {
                read.failures.push(Failed {
                    failure: SourceFailure {
                        repo: collect::folder_name(path),
                        reason: error.to_string(),
                    },
                    incomplete: false,
                });
                continue;
            }
        };
        if let Some(reason) = collected.unread() {
            read.failures.push(Failed {
                failure: SourceFailure {
                    repo: collected.activity.name.clone(),
                    reason,
                },
                incomplete: true,
            });
        }
        let both = collected.activity;
        if both
            .first_commit
            .is_some_and(|first| first >= current.until)
        {
            continue;
        }
        let (now_commits, before_commits) = both
            .commits
            .into_iter()
            .partition(|c| c.committed >= current.since);
        read.repos.push(Local {
            now: RepoActivity {
                name: both.name.clone(),
                path: both.path.clone(),
                commits: now_commits,
                first_commit: both.first_commit,
                ..RepoActivity::default()
            },
            before: RepoActivity {
                name: both.name,
                path: both.path,
                commits: before_commits,
                first_commit: both.first_commit,
                ..RepoActivity::default()
            },
            origin: with_origin.then(|| collect::origin_url(path)).flatten(),
        });
    }
    Ok(read)
}

/// A repository that could not be read, or was read only in part.
struct Failed {
    failure: SourceFailure,
    /// Read in part: kept with what was read, not left out.
    incomplete: bool,
}

/// Repositories that failed in either period, each once: they are left out of both, so
/// the trend compares like with like. One that failed in a period and was incomplete in
/// the other is left out.
fn failures(now: &GitHubActivity, before: &GitHubActivity) -> Vec<Failed> {
    let mut failures: Vec<Failed> = Vec::new();
    for failure in now.failures.iter().chain(&before.failures) {
        let failed = Failed {
            failure: SourceFailure {
                repo: failure.repo.clone(),
                reason: failure.reason.clone(),
            },
            incomplete: failure.incomplete,
        };
        match failures.iter_mut().find(|f| f.failure.repo == failure.repo) {
            Some(known) if known.incomplete && !failure.incomplete => *known = failed,
            Some(_) => {}
            None => failures.push(failed),
        }
    }
    failures
}

/// GitHub's repositories without those left out, with the addresses a clone may have.
fn github_repos(
    activity: GitHubActivity,
    selected: &[RepoInfo],
    left_out: &[&str],
) -> Vec<GithubRepo> {
    activity
        .repos
        .into_iter()
        .filter(|repo| !left_out.contains(&repo.name.as_str()))
        .map(|repo| {
            let info = selected
                .iter()
                .find(|info| info.full_name.eq_ignore_ascii_case(&repo.name));
            GithubRepo {
                urls: info
                    .map(|info| vec![info.clone_url.clone(), info.html_url.clone()])
                    .unwrap_or_default(),
                activity: repo,
            }
        })
        .collect()
}

/// Analyses both periods into a draft's data, with the local repositories that could not
/// be read. `github` is `Some` when GitHub was a source: the data then has GitHub metrics
/// even when no repository came from it.
fn finish(
    activity: Activity,
    before: Activity,
    local: Vec<Failed>,
    github: Option<Vec<Failed>>,
) -> Prepared {
    let mut metrics = analyze(&activity, Some(&before));
    // Repositories left out still name the draft: a failure does not change its id.
    let mut names: Vec<&str> = activity.repos.iter().map(|r| r.name.as_str()).collect();
    for failed in local.iter().chain(github.iter().flatten()) {
        let repo = failed.failure.repo.as_str();
        if !failed.incomplete && !names.contains(&repo) {
            names.push(repo);
        }
    }
    let scope = scope_name(&names);
    let mut warnings: Vec<String> = local.iter().map(|f| f.warning("")).collect();
    if let Some(github) = github {
        warnings.extend(github.iter().map(|f| f.warning("GitHub: ")));
        metrics.github.get_or_insert_with(Default::default).failures =
            github.into_iter().map(|f| f.failure).collect();
    }
    let data = DigestData {
        repos: activity.repos.iter().map(|r| r.name.clone()).collect(),
        repo_paths: activity.repos.iter().map(|r| r.path.clone()).collect(),
        commits: activity.repos.into_iter().flat_map(|r| r.commits).collect(),
        failures: local.into_iter().map(|f| f.failure).collect(),
        metrics,
        period: activity.period,
        link: None,
    };
    Prepared {
        id: Store::draft_id(&data.period.label, &scope),
        kind: DraftKind::for_period(data.period.kind),
        data,
        warnings,
        usage: None,
    }
}

impl Failed {
    /// The console's and the command line's line for it.
    fn warning(&self, source: &str) -> String {
        let (repo, reason) = (&self.failure.repo, &self.failure.reason);
        if self.incomplete {
            format!("{source}{repo}: {reason}")
        } else {
            format!("{source}{repo} was left out: {reason}")
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PipelineError> + Send + 'static,
) -> Result<T, PipelineError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(PipelineError::Task(e.to_string())))
}

/// A draft is named after its one repository, or after how many it covers.
fn scope_name(names: &[&str]) -> String {
    match names {
        [one] => (*one).to_owned(),
        many => {
            // FNV-1a over the sorted names: stable across runs, tells repo sets apart.
            let mut names = many.to_vec();
            names.sort_unstable();
            let hash = names
                .iter()
                .flat_map(|n| n.bytes().chain([0]))
                .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
            format!("{}-repos-{:08x}", many.len(), hash as u32)
        }
    }
}

/// Writes the draft's text. `None` when the period had no commits and the config says
/// such periods yield nothing.
pub async fn compose(
    config: &Config,
    writer: WriterChoice,
    prepared: &Prepared,
    tokens: &TokenSink,
) -> Result<Option<Composed>, PipelineError> {
    let data = &prepared.data;
    let mut notices = Vec::new();
    let github_activity = data
        .metrics
        .github
        .as_ref()
        .is_some_and(|g| g.has_activity());
    let model = if data.metrics.totals.commits == 0 {
        if config.sparky.empty_period == "none" && !github_activity {
            return Ok(None);
        }
        // Nothing for a model to say: a digest is one line, a post says so in its form.
        None
    } else if writer == WriterChoice::Builtin {
        None
    } else {
        model_draft(config, writer, prepared, tokens, &mut notices).await?
    };
    let (written, writer_name, findings) = match model {
        Some((written, name)) => (written, name, Vec::new()),
        None => {
            let written = BuiltinWriter.write(data, prepared.kind, tokens).await?;
            let findings = checker::check(&written.body, prepared.kind, data, &Rules::of(config));
            (written, BuiltinWriter.name(), findings)
        }
    };
    notices.extend(written.notes.iter().cloned());
    let tz = period::time_zone(&data.period.time_zone)?;
    let front = FrontMatter {
        title: written.title,
        date: data.period.since.to_zoned(tz).date().to_string(),
        period: data.period.label.clone(),
        kind: prepared.kind,
        state: DraftState::Draft,
        writer: writer_name.to_string(),
        model: written.model,
    };
    Ok(Some(Composed {
        front,
        body: written.body,
        notices,
        findings,
    }))
}

/// A model's draft that the checker passes, written up to `sparky.attempts` times (each
/// with another seed). `None` when the built-in writer should take over: every attempt
/// had findings or an unusable answer, or the model is unreachable (or failed, under
/// `auto`); `notices` says why, one line per failed attempt.
async fn model_draft(
    config: &Config,
    writer: WriterChoice,
    prepared: &Prepared,
    tokens: &TokenSink,
    notices: &mut Vec<String>,
) -> Result<Option<(write::Written, &'static str)>, PipelineError> {
    let backend = match writer {
        WriterChoice::Openai => Backend::OpenAi,
        _ => Backend::Ollama,
    };
    let fall_back = |e: WriteError, notices: &mut Vec<String>| {
        if e.is_unreachable() || writer == WriterChoice::Auto {
            notices.push(format!("{e}; used the built-in writer"));
            Ok(None)
        } else {
            Err(PipelineError::Write(e))
        }
    };
    let model = match ModelWriter::new(config, backend) {
        Ok(model) => model,
        Err(e) => return fall_back(e, notices),
    };
    let rules = Rules::of(config);
    let attempts = config.sparky.attempts.max(1);
    for attempt in 0..attempts {
        if attempt > 0 {
            // The live preview shows where the next attempt starts.
            let _ = tokens.send(format!(
                "\n\n--- attempt {} of {attempts} ---\n\n",
                attempt + 1
            ));
        }
        let written = match model
            .for_attempt(attempt)
            .write(&prepared.data, prepared.kind, tokens)
            .await
        {
            Ok(written) => written,
            // Another seed may well answer in the shape asked for.
            Err(e) if e.is_bad_answer() => {
                notices.push(format!("attempt {} of {attempts}: {e}", attempt + 1));
                continue;
            }
            Err(e) => return fall_back(e, notices),
        };
        let findings = checker::check(&written.body, prepared.kind, &prepared.data, &rules);
        let Some(first) = findings.first() else {
            return Ok(Some((written, backend.name())));
        };
        notices.push(format!(
            "attempt {} of {attempts}: the checker found {} (first, line {}: {})",
            attempt + 1,
            count(findings.len(), "problem", "problems"),
            first.line,
            first.message
        ));
    }
    notices.push(format!(
        "no model draft was usable and passed the checker in {}: used the built-in writer",
        count(attempts as usize, "attempt", "attempts")
    ));
    Ok(None)
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Stores a composed draft; returns the path of its Markdown file. Blocking (git).
pub fn save(
    store: &Store,
    prepared: &Prepared,
    composed: &Composed,
) -> Result<PathBuf, PipelineError> {
    Ok(store.write(
        &prepared.id,
        &composed.front,
        &composed.body,
        &prepared.data,
    )?)
}
