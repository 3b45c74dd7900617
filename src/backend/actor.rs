//! The one shape of the console's actors (sparky, ci, cluster, mirror): each module's
//! `spawn(setup, events)` returns an [`Actor`], reads its `Command`s from an [`Inbox`] and
//! reports its `Event`s through [`Events`].
//!
//! An actor stops when its [`Commands`] is dropped: its inbox ends at once (commands still
//! queued are dropped), what it awaits in place is cancelled through [`Inbox::stop`], and
//! its handle finishes once the tasks it owns have ended.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::SendError;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

/// A running actor: where to send its commands, and its task.
pub struct Actor<C> {
    pub commands: Commands<C>,
    /// Finishes once the actor and every task it owns have stopped.
    pub handle: JoinHandle<()>,
}

impl<C: Send + 'static> Actor<C> {
    /// Runs `run` as a new actor's task, reading the new actor's inbox.
    pub fn spawn<F>(run: impl FnOnce(Inbox<C>) -> F) -> Actor<C>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (sender, commands) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let inbox = Inbox {
            commands,
            stop: stop.clone(),
        };
        Actor {
            commands: Commands {
                sender,
                _stop: stop.drop_guard(),
            },
            handle: tokio::spawn(run(inbox)),
        }
    }
}

/// Sends commands to one actor; dropping it stops the actor.
pub struct Commands<C> {
    sender: mpsc::UnboundedSender<C>,
    _stop: DropGuard,
}

impl<C> Commands<C> {
    /// Sends `command`; an error means the actor has stopped.
    pub fn send(&self, command: C) -> Result<(), SendError<C>> {
        self.sender.send(command)
    }
}

/// An actor's side of its [`Commands`].
pub struct Inbox<C> {
    commands: mpsc::UnboundedReceiver<C>,
    stop: CancellationToken,
}

impl<C> Inbox<C> {
    /// The next command, or `None` once the actor is to stop.
    pub async fn recv(&mut self) -> Option<C> {
        tokio::select! {
            biased;
            _ = self.stop.cancelled() => None,
            command = self.commands.recv() => command,
        }
    }

    /// Fires when the actor is to stop: long awaits and the processes it starts watch it.
    pub fn stop(&self) -> &CancellationToken {
        &self.stop
    }
}

/// Where an actor sends its events: a channel of their own (tests), or the console's one
/// channel, each event wrapped in the console's message.
pub struct Events<E> {
    send: Arc<dyn Fn(E) -> Result<(), Gone> + Send + Sync>,
}

/// Nobody listens to an actor's events any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

impl<E: 'static> Events<E> {
    /// Events sent into `channel`, each wrapped by `wrap` first.
    pub fn wrapped<T: Send + 'static>(
        channel: mpsc::UnboundedSender<T>,
        wrap: impl Fn(E) -> T + Send + Sync + 'static,
    ) -> Events<E> {
        Events {
            send: Arc::new(move |event| channel.send(wrap(event)).map_err(|_| Gone)),
        }
    }

    /// Sends `event`; an error means nobody listens any more.
    pub fn send(&self, event: E) -> Result<(), Gone> {
        (self.send)(event)
    }
}

impl<E: Send + 'static> From<mpsc::UnboundedSender<E>> for Events<E> {
    fn from(channel: mpsc::UnboundedSender<E>) -> Events<E> {
        Events::wrapped(channel, |event| event)
    }
}

// Derived, these would ask `E: Clone` and `E: Debug`.
impl<E> Clone for Events<E> {
    fn clone(&self) -> Events<E> {
        Events {
            send: Arc::clone(&self.send),
        }
    }
}

impl<E> fmt::Debug for Events<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Events")
    }
}
