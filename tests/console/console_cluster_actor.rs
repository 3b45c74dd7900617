//! The console's cluster actor against a missing kubeconfig and against the simulated lab:
//! what it reports on Watch, how a run reports its steps, and that runs go one at a time.

use std::sync::Arc;
use std::time::Duration;

use raibid::backend::actor::Actor;
use raibid::backend::cluster::Component;
use raibid::backend::cluster::actor::{
    Command as ClusterCommand, Event as ClusterEvent, Run, Setup, spawn,
};
use raibid::backend::cluster::report::{Outcome, Progress};
use raibid::config::Config;
use support::lab::SimLab;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

async fn next(events: &mut UnboundedReceiver<ClusterEvent>) -> ClusterEvent {
    timeout(Duration::from_secs(30), events.recv())
        .await
        .expect("an event in time")
        .expect("the actor is running")
}

/// Events until (and with) the end of a run.
async fn until_finished(events: &mut UnboundedReceiver<ClusterEvent>) -> Vec<ClusterEvent> {
    let mut seen = Vec::new();
    loop {
        let event = next(events).await;
        let done = matches!(event, ClusterEvent::RunFinished(_));
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_missing_kubeconfig_is_reported_and_a_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.cluster.kubeconfig = dir.path().join("nowhere.yaml");
    config.cluster.k3s_install = String::new();
    let setup = Setup {
        config: Arc::new(config),
        data_dir: dir.path().join("data"),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let Actor { commands, handle } = spawn(setup, events_tx.into());

    commands.send(ClusterCommand::Watch).unwrap();
    match next(&mut events).await {
        ClusterEvent::Unavailable(reason) => assert!(reason.contains("nowhere.yaml"), "{reason}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    commands
        .send(ClusterCommand::Run(Run::Up {
            components: vec![Component::Redis],
            force: false,
        }))
        .unwrap();
    assert!(matches!(
        next(&mut events).await,
        ClusterEvent::Unavailable(_)
    ));
    assert_eq!(
        next(&mut events).await,
        ClusterEvent::RunFinished(Err("the cluster is unavailable".into()))
    );
    // A bring-up that includes k3s tries to install it, and says why it cannot.
    commands
        .send(ClusterCommand::Run(Run::Up {
            components: vec![Component::K3s, Component::Redis],
            force: false,
        }))
        .unwrap();
    loop {
        match next(&mut events).await {
            ClusterEvent::RunFinished(Err(reason)) => {
                assert!(reason.contains("cluster.k3s_install is empty"), "{reason}");
                break;
            }
            ClusterEvent::RunFinished(Ok(())) => panic!("installed nothing, yet finished"),
            _ => {}
        }
    }

    drop(commands);
    timeout(Duration::from_secs(5), handle)
        .await
        .expect("stops when its commands are dropped")
        .unwrap();
}

#[tokio::test]
async fn watching_reads_the_status_and_runs_go_one_at_a_time() {
    let sim = SimLab::start().await;
    let setup = Setup {
        config: Arc::new(sim.config.clone()),
        data_dir: sim.data_dir(),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let Actor { commands, handle } = spawn(setup, events_tx.into());

    commands.send(ClusterCommand::Watch).unwrap();
    assert!(matches!(
        next(&mut events).await,
        ClusterEvent::Connected(_)
    ));
    match next(&mut events).await {
        ClusterEvent::Status(status) => {
            assert_eq!(status.components.len(), Component::ALL.len());
            assert_eq!(status.nodes.len(), 1);
        }
        other => panic!("expected Status, got {other:?}"),
    }
    commands.send(ClusterCommand::Unwatch).unwrap();

    // The second run is asked for before the first can finish.
    let up = ClusterCommand::Run(Run::Up {
        components: vec![Component::K3s, Component::Namespaces],
        force: false,
    });
    commands.send(up.clone()).unwrap();
    commands.send(up).unwrap();
    let refused = |e: &ClusterEvent| matches!(e, ClusterEvent::RunFinished(Err(reason)) if reason == "a run is already going");
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e| matches!(e, ClusterEvent::RunFinished(_)) && !refused(e))
    {
        seen.extend(until_finished(&mut events).await);
    }
    assert_eq!(seen.iter().filter(|e| refused(e)).count(), 1, "{seen:?}");
    let first: Vec<ClusterEvent> = seen.into_iter().filter(|e| !refused(e)).collect();
    let progress: Vec<&Progress> = first
        .iter()
        .filter_map(|e| match e {
            ClusterEvent::Progress(p) => Some(p),
            _ => None,
        })
        .collect();
    // The run's checks come first, logged as its first step's.
    let started = progress.iter().find(|p| !matches!(p, Progress::Log(..)));
    assert_eq!(started, Some(&&Progress::Started(Component::K3s)));
    assert!(
        progress.contains(&&Progress::Log(
            Component::K3s,
            format!("✓ api           {} answers", sim.kube.url())
        )),
        "{progress:?}"
    );
    assert!(
        progress.contains(&&Progress::Finished(Component::K3s, Outcome::AlreadyDone)),
        "{progress:?}"
    );
    assert!(
        progress.contains(&&Progress::Finished(
            Component::Namespaces,
            Outcome::Applied
        )),
        "{progress:?}"
    );
    assert_eq!(first.last(), Some(&ClusterEvent::RunFinished(Ok(()))));
    // What the run changed is read right after it.
    assert!(matches!(next(&mut events).await, ClusterEvent::Status(_)));

    drop(commands);
    timeout(Duration::from_secs(5), handle)
        .await
        .expect("stops when its commands are dropped")
        .unwrap();
}
