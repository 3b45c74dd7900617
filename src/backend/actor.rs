//! The one shape of the console's actors (sparky, ci, cluster, mirror): each module's
//! `spawn(setup, events)` returns an [`Actor`], reads its `Command`s from an [`Inbox`] and
//! reports its `Event`s through [`Events`]; the actors of views that are read only while
//! on screen repeat their reads with a [`Poll`].
//!
//! An actor stops when its [`Commands`] is dropped: its inbox ends at once (commands still
//! queued are dropped), what it awaits in place is cancelled through [`Inbox::stop`], and
//! its handle finishes once the tasks it owns have ended.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::SendError;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};
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

/// A read an actor repeats while its view is on screen (`watch(true)`), and never
/// otherwise: an actor whose view is elsewhere sleeps without waking.
pub struct Poll {
    interval: Interval,
    watching: bool,
}

impl Poll {
    pub fn every(period: Duration) -> Poll {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Poll {
            interval,
            watching: false,
        }
    }

    pub fn watch(&mut self, on: bool) {
        self.watching = on;
    }

    /// The next read is one period from now (one has just been made).
    pub fn restart(&mut self) {
        self.interval.reset();
    }

    /// Resolves when the next read is due: never while not watching, nor while there is
    /// nothing `ready` to read.
    pub async fn due(&mut self, ready: bool) {
        if self.watching && ready {
            self.interval.tick().await;
        } else {
            std::future::pending().await
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An actor that reports each command, then awaits until stopped; it reports 0 when
    /// its inbox ends.
    fn stuck_after_each_command(events: Events<u32>) -> Actor<u32> {
        Actor::spawn(|mut inbox: Inbox<u32>| async move {
            while let Some(n) = inbox.recv().await {
                let _ = events.send(n);
                inbox.stop().cancelled().await;
            }
            let _ = events.send(0);
        })
    }

    #[tokio::test]
    async fn dropping_the_commands_cancels_the_await_and_drops_what_is_queued() {
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let Actor { commands, handle } = stuck_after_each_command(events_tx.into());
        commands.send(1).unwrap();
        assert_eq!(events.recv().await, Some(1));
        commands.send(2).unwrap();
        drop(commands);
        handle.await.unwrap();
        assert_eq!(events.recv().await, Some(0));
        assert_eq!(events.recv().await, None, "the actor dropped its events");
    }

    #[tokio::test]
    async fn wrapped_events_share_one_channel() {
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let odd = stuck_after_each_command(Events::wrapped(events_tx.clone(), Err));
        let even = stuck_after_each_command(Events::wrapped(events_tx, Ok));
        odd.commands.send(1).unwrap();
        assert_eq!(events.recv().await, Some(Err(1)));
        even.commands.send(2).unwrap();
        assert_eq!(events.recv().await, Some(Ok(2)));
        drop(odd.commands);
        odd.handle.await.unwrap();
        assert_eq!(events.recv().await, Some(Err(0)));
        drop(even.commands);
        even.handle.await.unwrap();
        assert_eq!(events.recv().await, Some(Ok(0)));
        assert_eq!(events.recv().await, None);
    }
}
