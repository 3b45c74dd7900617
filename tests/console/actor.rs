//! The Sparky actor as the console drives it: commands in, events out, against a real
//! repository, a real drafts store and a real docs repository.

use std::sync::Arc;
use std::time::Duration;

use raibid::backend::actor::Commands;
use raibid::backend::sparky::actor::{self, Command, Event, Op, Places, Setup};
use raibid::backend::sparky::channels::ChannelName;
use raibid::backend::sparky::model::{DraftKind, DraftState, FrontMatter, PeriodKind};
use raibid::backend::sparky::pipeline::{DigestRequest, PeriodSpec, WriterChoice};
use raibid::backend::sparky::store::Store;
use raibid::config::Config;
use support::git::{git, git_with};
use tokio::sync::mpsc;

struct Harness {
    root: tempfile::TempDir,
    /// Dropped with the harness, which stops the actor.
    commands: Commands<Command>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Harness {
    fn start(config: Config) -> Harness {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("lab");
        std::fs::create_dir_all(&repo).unwrap();
        let git = |args: &[&str]| {
            let at = [
                ("GIT_AUTHOR_DATE", "2026-11-17T10:00:00Z"),
                ("GIT_COMMITTER_DATE", "2026-11-17T10:00:00Z"),
            ];
            git_with(&repo, args, &at);
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.txt"), "one\ntwo\n").unwrap();
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "feat: a"]);
        let places = Places {
            drafts_dir: root.path().join("data/drafts"),
            default_docs_dir: root.path().join("data/docs"),
            data_dir: root.path().join("data"),
            cwd: repo,
        };
        let (events_tx, events) = mpsc::unbounded_channel();
        let setup = Setup {
            config: Arc::new(config),
            places,
        };
        let commands = actor::spawn(setup, events_tx.into()).commands;
        Harness {
            root,
            commands,
            events,
        }
    }

    /// A commit made now in the fixture repository (its first is on 2026-11-17).
    fn commit_now(&self) {
        let repo = self.root.path().join("lab");
        std::fs::write(repo.join("b.txt"), "now\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "feat: b"]);
    }

    fn send(&self, command: Command) {
        self.commands.send(command).unwrap();
    }

    /// The next event that `pick` accepts; the others are collected and returned too.
    async fn until<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> (T, Vec<Event>) {
        let mut seen = Vec::new();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(30), self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching event; saw {seen:?}"))
                .expect("the actor is running");
            if let Some(found) = pick(&event) {
                return (found, seen);
            }
            seen.push(event);
        }
    }
}

fn week_of_the_fixture() -> DigestRequest {
    DigestRequest {
        period: PeriodSpec::Calendar {
            kind: PeriodKind::Week,
            date: Some("2026-11-18".parse().unwrap()),
        },
        repos: Vec::new(),
        writer: WriterChoice::Builtin,
        kind: None,
    }
}

// What the tests wait for, one picker per event.
fn listed(e: &Event) -> Option<Vec<(String, DraftState)>> {
    let Event::Listed { drafts, .. } = e else {
        return None;
    };
    Some(
        drafts
            .iter()
            .map(|d| (d.id.clone(), d.front.state))
            .collect(),
    )
}

fn written(e: &Event) -> Option<String> {
    let Event::Written { id, .. } = e else {
        return None;
    };
    Some(id.clone())
}

fn opened(e: &Event) -> Option<(String, Option<String>)> {
    let Event::Opened { body, recovery, .. } = e else {
        return None;
    };
    Some((body.clone(), recovery.clone()))
}

fn saved(e: &Event) -> Option<bool> {
    let Event::Saved { unapproved, .. } = e else {
        return None;
    };
    Some(*unapproved)
}

fn approved(e: &Event) -> Option<()> {
    matches!(
        e,
        Event::StateChanged {
            state: DraftState::Approved,
            ..
        }
    )
    .then_some(())
}

fn delivered(e: &Event) -> Option<(ChannelName, Result<String, String>)> {
    match e {
        Event::Delivered {
            channel, result, ..
        } => Some((*channel, result.clone())),
        _ => None,
    }
}

fn has_findings(e: &Event) -> Option<usize> {
    match e {
        Event::ApprovalHasFindings { findings, .. } => Some(*findings),
        _ => None,
    }
}

#[tokio::test]
async fn approving_a_draft_the_checker_faults_asks_and_a_published_draft_edited_is_reopened() {
    let mut h = Harness::start(Config::default());
    h.send(Command::Digest(week_of_the_fixture()));
    let (id, _) = h.until(written).await;
    h.send(Command::Open(id.clone()));
    let ((body, _), _) = h.until(opened).await;

    h.send(Command::SaveBody {
        id: id.clone(),
        body: format!("{body}\nWe made 999 commits.\n"),
    });
    h.until(saved).await;
    h.send(Command::Approve {
        id: id.clone(),
        despite_findings: false,
    });
    let (findings, _) = h.until(has_findings).await;
    assert_eq!(findings, 1, "the invented count");
    h.send(Command::Refresh);
    let (drafts, _) = h.until(listed).await;
    assert_eq!(
        drafts,
        [(id.clone(), DraftState::Draft)],
        "not approved yet"
    );
    h.send(Command::Approve {
        id: id.clone(),
        despite_findings: true,
    });
    h.until(approved).await;

    // Published, then edited: it needs approval (and the checker) again.
    h.send(Command::Publish {
        id: id.clone(),
        channels: Vec::new(),
    });
    h.until(published).await.0.expect("published");
    h.send(Command::SaveBody {
        id: id.clone(),
        body: format!("{body}\nA late fix.\n"),
    });
    assert!(
        h.until(saved).await.0,
        "the edit unpublished the draft's approval"
    );
    let (drafts, _) = h.until(listed).await;
    assert_eq!(drafts, [(id.clone(), DraftState::Draft)]);
}

fn published(e: &Event) -> Option<Result<String, String>> {
    match e {
        Event::Published { message, .. } => Some(Ok(message.clone())),
        Event::Failed {
            op: Op::Publish,
            message,
        } => Some(Err(message.clone())),
        _ => None,
    }
}

#[tokio::test]
async fn digest_edit_approve_and_publish_through_the_actor() {
    let mut h = Harness::start(Config::default());
    let (drafts, _) = h.until(listed).await;
    assert!(drafts.is_empty());

    h.send(Command::Digest(week_of_the_fixture()));
    let (id, seen) = h.until(written).await;
    assert_eq!(id, "2026-W47-lab");
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Writing { label } if label == "2026-W47"))
    );
    let streamed: String = seen
        .iter()
        .filter_map(|e| match e {
            Event::Token(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        streamed.contains("feat: a"),
        "the text streamed into the preview: {streamed}"
    );

    h.send(Command::Open(id.clone()));
    let ((body, _), _) = h.until(opened).await;
    assert_eq!(body, streamed, "what streamed is what was stored");

    // The built-in draft is clean: approving it needs no question.
    h.send(Command::Approve {
        id: id.clone(),
        despite_findings: false,
    });
    h.until(approved).await;

    // Editing an approved draft sends it back for approval.
    h.send(Command::SaveBody {
        id: id.clone(),
        body: format!("{body}\nOne more line.\n"),
    });
    assert!(h.until(saved).await.0);
    let (drafts, _) = h.until(listed).await;
    assert_eq!(drafts, [(id.clone(), DraftState::Draft)]);

    h.send(Command::Publish {
        id: id.clone(),
        channels: Vec::new(),
    });
    let refused = h
        .until(published)
        .await
        .0
        .expect_err("a draft is not published");
    assert!(refused.contains("approve"), "{refused}");

    h.send(Command::SetState {
        id: id.clone(),
        state: DraftState::Approved,
    });
    h.send(Command::Publish {
        id: id.clone(),
        channels: Vec::new(),
    });
    let (channel, result) = h.until(delivered).await.0;
    assert_eq!(channel, ChannelName::Docs, "publish.channels.weekly");
    let message = result.expect("an approved draft is published");
    assert!(message.contains("week-2026-47.md"), "{message}");
    let summary = h.until(published).await.0.expect("every channel answered");
    assert_eq!(summary, "published to 1 of 1 channels");
}

#[tokio::test]
async fn autosave_is_offered_back_until_saved() {
    let mut h = Harness::start(Config::default());
    h.send(Command::Digest(week_of_the_fixture()));
    let (id, _) = h.until(written).await;

    h.send(Command::Autosave {
        id: id.clone(),
        body: "half-typed".into(),
    });
    h.send(Command::Open(id.clone()));
    let ((_, recovery), _) = h.until(opened).await;
    assert_eq!(recovery.as_deref(), Some("half-typed"));

    h.send(Command::SaveBody {
        id: id.clone(),
        body: "half-typed".into(),
    });
    h.until(saved).await;
    h.send(Command::Open(id.clone()));
    let ((_, recovery), _) = h.until(opened).await;
    assert_eq!(recovery, None, "saving clears the autosave");
}

#[tokio::test]
async fn the_startup_digest_is_written_once() {
    let mut h = Harness::start(Config::default());
    h.commit_now();
    h.send(Command::DigestIfMissing(PeriodKind::Month));
    let (id, _) = h.until(written).await;
    h.send(Command::DigestIfMissing(PeriodKind::Month));
    // A skipped digest sends nothing; give it ample time to have done otherwise.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Ok(event) = h.events.try_recv() {
        assert!(
            !matches!(event, Event::Writing { .. } | Event::Written { .. }),
            "{id} was written again: {event:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_startup_period_writes_nothing_and_names_the_last_active_one() {
    let mut h = Harness::start(Config::default());
    // This month has no commit (the fixture's is on 2026-11-17, and the clock is later).
    h.send(Command::DigestIfMissing(PeriodKind::Month));
    let ((label, last_active), seen) = h
        .until(|e| match e {
            Event::Empty { label, last_active } => Some((label.clone(), last_active.clone())),
            _ => None,
        })
        .await;
    let this_month = jiff::Zoned::now().strftime("%Y-%m").to_string();
    assert_eq!(label, this_month);
    assert_eq!(last_active.expect("November had a commit").label, "2026-11");
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::Writing { .. } | Event::Written { .. })),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_draft_another_process_writes_is_listed_without_a_refresh() {
    let mut h = Harness::start(Config::default());
    let (drafts, _) = h.until(listed).await;
    assert!(drafts.is_empty());
    // What `raibid digest` does, through a store of its own.
    let drafts_dir = h.root.path().join("data/drafts");
    let store = Store::open(&drafts_dir).unwrap();
    let data = support::data();
    let front = FrontMatter {
        title: "Digest".into(),
        date: "2026-11-16".into(),
        period: "2026-W47".into(),
        kind: DraftKind::Weekly,
        state: DraftState::Draft,
        writer: "builtin".into(),
        model: None,
    };
    store
        .write("2026-W47-elsewhere", &front, support::BODY, &data)
        .unwrap();
    let (drafts, _) = h.until(listed).await;
    assert_eq!(
        drafts,
        [("2026-W47-elsewhere".to_string(), DraftState::Draft)]
    );
}
