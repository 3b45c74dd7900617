//! Snapshots of the Cluster view at 80x24 and 160x48, drawn from fixed state with a fixed
//! clock.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use raibid::app::state::State;
use raibid::app::theme::Themes;
use raibid::app::update::{Msg, Settings, update};
use raibid::backend::cluster::Component;
use raibid::backend::cluster::actor::Event as ClusterEvent;
use raibid::backend::cluster::report::{Outcome, Progress};
use raibid::backend::sparky::pipeline::WriterChoice;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const SETTINGS: Settings = Settings {
    writer: WriterChoice::Builtin,
};

fn render(state: &State, width: u16, height: u16) -> String {
    let themes = Themes::builtin();
    let theme = themes.get(&state.theme).expect("built-in theme");
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| raibid::views::draw(frame, state, theme))
        .unwrap();
    terminal.backend().to_string()
}

fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            render(state, width, height)
        );
    }
}

fn press(state: &mut State, code: KeyCode) {
    update(
        state,
        SETTINGS,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    );
}

fn event(state: &mut State, event: ClusterEvent) {
    update(state, SETTINGS, Msg::Cluster(event));
}

/// The Cluster view with Gitea selected.
fn shown() -> State {
    let mut state = support::state();
    press(&mut state, KeyCode::Char('5'));
    for _ in 0..3 {
        press(&mut state, KeyCode::Char('j'));
    }
    state
}

#[test]
fn cluster_view_connected_with_a_run_going() {
    let mut state = shown();
    event(
        &mut state,
        ClusterEvent::Connected(support::cluster_status::SERVER.into()),
    );
    event(
        &mut state,
        ClusterEvent::Status(support::cluster_status::status()),
    );
    press(&mut state, KeyCode::Char('i'));
    press(&mut state, KeyCode::Char('y'));
    // Started a minute and a half before the fixed clock.
    state.cluster.run.as_mut().unwrap().started =
        support::now() - jiff::SignedDuration::from_secs(95);
    let mut progress = |p| event(&mut state, ClusterEvent::Progress(p));
    progress(Progress::Started(Component::K3s));
    progress(Progress::Finished(Component::K3s, Outcome::AlreadyDone));
    progress(Progress::Started(Component::Namespaces));
    progress(Progress::Finished(Component::Namespaces, Outcome::Applied));
    progress(Progress::Started(Component::Redis));
    for n in 1..=14 {
        progress(Progress::Log(
            Component::Redis,
            format!("waiting: StatefulSet raibid/redis 0/1 ready ({n}s of 300s)"),
        ));
    }
    progress(Progress::Log(
        Component::Redis,
        "pod raibid/redis-0: pulling image docker.io/library/redis:7.4-alpine, a long line that is cut at the edge of the screen"
            .into(),
    ));
    snapshot("cluster_running", &state);
}

#[test]
fn cluster_view_without_a_kubeconfig() {
    let mut state = shown();
    event(
        &mut state,
        ClusterEvent::Unavailable(
            "no kubeconfig found (tried /home/me/.kube/config, /etc/rancher/k3s/k3s.yaml); \
             set cluster.kubeconfig or run `raibid up` to install k3s"
                .into(),
        ),
    );
    // The status line would repeat the reason; show the view's own hints instead.
    state.status = None;
    snapshot("cluster_unavailable", &state);
}

#[test]
fn cluster_view_after_a_failed_run() {
    let mut state = shown();
    event(
        &mut state,
        ClusterEvent::Status(support::cluster_status::status()),
    );
    press(&mut state, KeyCode::Char('u'));
    press(&mut state, KeyCode::Char('y'));
    let mut progress = |p| event(&mut state, ClusterEvent::Progress(p));
    progress(Progress::Started(Component::Gitea));
    progress(Progress::Log(
        Component::Gitea,
        "applied Deployment raibid/gitea".into(),
    ));
    progress(Progress::Failed(
        Component::Gitea,
        "Deployment raibid/gitea: 0/1 ready after 300s".into(),
    ));
    event(
        &mut state,
        ClusterEvent::RunFinished(Err(
            "Gitea (git + registry): Deployment raibid/gitea: 0/1 ready after 300s".into(),
        )),
    );
    snapshot("cluster_failed", &state);
}

#[test]
fn an_unreachable_api_says_how_to_point_at_another_cluster() {
    let mut state = shown();
    event(
        &mut state,
        ClusterEvent::Unavailable(
            "the Kubernetes API at https://10.0.0.5:6443 (from /home/me/.kube/config) does \
             not answer: connection refused"
                .into(),
        ),
    );
    let screen = render(&state, 80, 24);
    assert!(
        screen.contains("set cluster.kubeconfig or run `raibid up`"),
        "{screen}"
    );
    assert!(screen.contains("connection refused"), "{screen}");
}
