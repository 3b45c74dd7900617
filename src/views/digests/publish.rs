//! The publish flow of the Digests view: choose channels, preview what each receives,
//! confirm, then watch each channel's answer.

use crossterm::event::{KeyCode, KeyEvent};

use super::{PublishFlow, PublishStage};
use crate::app::keymap::Action;
use crate::app::state::{BusyKey, Mode, State};
use crate::backend::sparky::actor::Command;
use crate::backend::sparky::channels::ChannelName;
use crate::backend::sparky::delivery::Plan;

use crate::app::update::Cmd;

const PUBLISHING: &str = "publishing";

/// A plan came back from the actor: the flow opens on the channel list, unless the user
/// has moved on to something else meanwhile (an editor, a question).
pub(super) fn planned(state: &mut State, plan: Box<Plan>) {
    if matches!(state.mode, Mode::Normal) {
        state.mode = Mode::Publishing(Box::new(PublishFlow::new(plan)));
    }
}

pub(crate) fn on_key(
    state: &mut State,
    mut flow: Box<PublishFlow>,
    action: Option<Action>,
    key: KeyEvent,
) -> Vec<Cmd> {
    let mut commands = Vec::new();
    let keep = match (flow.stage, action, key.code) {
        (PublishStage::Sending | PublishStage::Done, Some(Action::Back), _) => false,
        (PublishStage::Sending | PublishStage::Done, ..) => true,
        (PublishStage::Choose, Some(Action::Back), _) => false,
        (PublishStage::Choose, _, KeyCode::Char(' ')) => {
            let at = flow.cursor;
            flow.chosen[at] = !flow.chosen[at];
            true
        }
        (PublishStage::Choose, Some(Action::Up), _) => {
            flow.cursor = flow.cursor.saturating_sub(1);
            true
        }
        (PublishStage::Choose, Some(Action::Down), _) => {
            flow.cursor = (flow.cursor + 1).min(flow.chosen.len().saturating_sub(1));
            true
        }
        (PublishStage::Choose, _, KeyCode::Enter) => {
            match flow.chosen_indexes().first() {
                Some(&first) => {
                    flow.cursor = first;
                    flow.scroll = 0;
                    flow.stage = PublishStage::Preview;
                }
                None => state.warn("choose at least one channel (space)"),
            }
            true
        }
        (PublishStage::Preview, Some(Action::Back), _)
        | (PublishStage::Preview, _, KeyCode::Char('n')) => {
            flow.stage = PublishStage::Choose;
            true
        }
        (PublishStage::Preview, Some(Action::Up | Action::Down), _)
        | (PublishStage::Preview, _, KeyCode::Left | KeyCode::Right) => {
            let forward = matches!(action, Some(Action::Down)) || key.code == KeyCode::Right;
            step_preview(&mut flow, forward);
            true
        }
        (PublishStage::Preview, Some(Action::ScrollPreviewUp | Action::PageUp), _) => {
            flow.scroll = flow.scroll.saturating_sub(5);
            true
        }
        (PublishStage::Preview, Some(Action::ScrollPreviewDown | Action::PageDown), _) => {
            flow.scroll = flow.scroll.saturating_add(5);
            true
        }
        // Only `y`: Enter opened the preview, and a second Enter must not post.
        (PublishStage::Preview, _, KeyCode::Char('y')) => {
            commands.push(send(state, &mut flow));
            true
        }
        _ => true,
    };
    if keep {
        state.mode = Mode::Publishing(flow);
    }
    commands
}

/// The next (or previous) chosen rendering, wrapping around.
fn step_preview(flow: &mut PublishFlow, forward: bool) {
    let chosen = flow.chosen_indexes();
    let at = chosen.iter().position(|&i| i == flow.cursor).unwrap_or(0);
    let n = chosen.len().max(1);
    let next = if forward {
        (at + 1) % n
    } else {
        (at + n - 1) % n
    };
    flow.cursor = chosen.get(next).copied().unwrap_or(0);
    flow.scroll = 0;
}

fn send(state: &mut State, flow: &mut PublishFlow) -> Cmd {
    flow.stage = PublishStage::Sending;
    state.start_busy(BusyKey::Publishing, PUBLISHING);
    let channels: Vec<ChannelName> = flow
        .chosen_indexes()
        .into_iter()
        .map(|i| flow.plan.renderings[i].channel)
        .collect();
    Cmd::Sparky(Command::Publish {
        id: flow.plan.id.clone(),
        channels,
    })
}

/// A channel answered: shown in the flow when it is still open, else in the status bar.
pub(super) fn delivered(
    state: &mut State,
    id: &str,
    channel: ChannelName,
    result: Result<String, String>,
) {
    if let Mode::Publishing(flow) = &mut state.mode {
        let at = flow
            .plan
            .renderings
            .iter()
            .position(|r| r.channel == channel);
        if flow.plan.id == id
            && let Some(at) = at
        {
            flow.results[at] = Some(result);
            return;
        }
    }
    match result {
        Ok(message) => state.info(format!("{id}: {message}")),
        Err(message) => state.error(format!("{id}: {channel}: {message}")),
    }
}

/// Publishing stopped before any channel was asked (the draft changed meanwhile, say).
pub(super) fn failed(state: &mut State) {
    if let Mode::Publishing(flow) = &mut state.mode
        && flow.stage == PublishStage::Sending
    {
        flow.stage = PublishStage::Done;
    }
}

/// Every channel answered.
pub(super) fn finished(state: &mut State, id: &str) {
    if let Mode::Publishing(flow) = &mut state.mode
        && flow.plan.id == id
    {
        flow.stage = PublishStage::Done;
    }
    state.end_busy(BusyKey::Publishing);
}
