//! One digest from request to stored draft. The console's actor and `raibid digest` both
//! run these steps, so what a user sees in one is what the other does.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use super::analyze::{Metrics, analyze};
use super::collect;
use super::model::{
    Activity, DigestData, DraftKind, DraftState, FrontMatter, Period, PeriodKind, RepoActivity,
};
use super::period;
use super::store::Store;
use super::write::{self, BuiltinWriter, OllamaWriter, TokenSink, WriteError, Writer};
use crate::config::Config;

/// Which writer to use; `Auto` tries Ollama and falls back to the built-in writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WriterChoice {
    Auto,
    Builtin,
    Ollama,
}

impl WriterChoice {
    pub fn from_config(name: &str) -> WriterChoice {
        match name {
            "builtin" => WriterChoice::Builtin,
            "ollama" => WriterChoice::Ollama,
            _ => WriterChoice::Auto,
        }
    }
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
    /// Repositories to collect; empty: the config's (or the current directory's).
    pub repos: Vec<PathBuf>,
    pub writer: WriterChoice,
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
}

/// The collected and analysed period, ready for a writer.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub kind: DraftKind,
    pub data: DigestData,
}

/// A written draft, not yet stored.
#[derive(Debug, Clone)]
pub struct Composed {
    pub front: FrontMatter,
    pub body: String,
    /// What the user should know, such as a fallback to the built-in writer.
    pub notices: Vec<String>,
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
}

/// Collects the period and the one before it, and analyses them. Blocking (git reads).
pub fn prepare(
    config: &Config,
    cwd: &Path,
    request: &DigestRequest,
    now: Timestamp,
) -> Result<Prepared, PipelineError> {
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
    let (repos, scan) = if request.repos.is_empty() {
        (
            config.sparky.repos.as_slice(),
            config.sparky.scan.as_slice(),
        )
    } else {
        (request.repos.as_slice(), &[][..])
    };
    let paths = collect::find_repos(repos, scan, cwd)?;

    // One walk covers both periods; the commits are split by committer time afterwards.
    let mut now_repos = Vec::new();
    let mut before_repos = Vec::new();
    for path in &paths {
        let both = collect::collect(path, previous.since, current.until, &config.sparky.bots)?;
        let (now_commits, before_commits) = both
            .commits
            .into_iter()
            .partition(|c| c.committed >= current.since);
        now_repos.push(RepoActivity {
            name: both.name.clone(),
            path: both.path.clone(),
            commits: now_commits,
            ..RepoActivity::default()
        });
        before_repos.push(RepoActivity {
            name: both.name,
            path: both.path,
            commits: before_commits,
            ..RepoActivity::default()
        });
    }
    let activity = Activity {
        period: current.clone(),
        repos: now_repos,
    };
    let before = Activity {
        period: previous,
        repos: before_repos,
    };
    let metrics = analyze(&activity, Some(&before));
    let scope = scope_name(&activity.repos);
    let data = DigestData {
        repos: activity.repos.iter().map(|r| r.name.clone()).collect(),
        repo_paths: activity.repos.iter().map(|r| r.path.clone()).collect(),
        commits: activity.repos.into_iter().flat_map(|r| r.commits).collect(),
        metrics,
        period: current,
    };
    Ok(Prepared {
        id: Store::draft_id(&data.period.label, &scope),
        kind: DraftKind::for_period(data.period.kind),
        data,
    })
}

/// A draft is named after its one repository, or after how many it covers.
fn scope_name(repos: &[RepoActivity]) -> String {
    match repos {
        [one] => one.name.clone(),
        many => {
            // FNV-1a over the sorted names: stable across runs, tells repo sets apart.
            let mut names: Vec<&str> = many.iter().map(|r| r.name.as_str()).collect();
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
    let (written, writer_name) = if data.metrics.totals.commits == 0 {
        if config.sparky.empty_period == "none" {
            return Ok(None);
        }
        (write::one_line(data), "builtin")
    } else if writer == WriterChoice::Builtin {
        (
            BuiltinWriter.write(data, prepared.kind, tokens).await?,
            BuiltinWriter.name(),
        )
    } else {
        let attempt = match OllamaWriter::new(&config.ollama) {
            Ok(ollama) => ollama.write(data, prepared.kind, tokens).await,
            Err(e) => Err(e),
        };
        match attempt {
            Ok(written) => (written, "ollama"),
            Err(e) if e.is_unreachable() || writer == WriterChoice::Auto => {
                notices.push(format!("{e}; used the built-in writer"));
                (
                    BuiltinWriter.write(data, prepared.kind, tokens).await?,
                    BuiltinWriter.name(),
                )
            }
            Err(e) => return Err(e.into()),
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
    }))
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
