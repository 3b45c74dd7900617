//! The one shape of the console's actors (sparky, ci, cluster, mirror): each module's
//! `spawn(setup, events)` returns an [`Actor`], reads its `Command`s from an [`Inbox`] and
//! reports its `Event`s through [`Events`]; the actors of views that are read only while
//! on screen repeat their reads with a [`Poll`], and those that also run one long job at a
//! time (cluster, mirror) are a [`Watcher`] started by [`spawn_watcher`].
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
use tokio::task::{JoinError, JoinHandle, JoinSet};
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

/// What a [`Watcher`] reads and runs: its source, set up when first needed, read every
/// period while its view is on screen, and one long job at a time.
pub struct Watched<S, J> {
    /// The actor's stop: a set-up or read in progress is dropped with it.
    pub stop: CancellationToken,
    /// `None` until set up, and while setting up fails.
    pub source: Option<S>,
    pub poll: Poll,
    /// The long job going, if any: one runs while this is not empty.
    pub job: JoinSet<J>,
}

impl<S, J: 'static> Watched<S, J> {
    fn new(period: Duration, stop: CancellationToken) -> Watched<S, J> {
        Watched {
            stop,
            source: None,
            poll: Poll::every(period),
            job: JoinSet::new(),
        }
    }

    /// The job ended, or a read is due.
    async fn next(&mut self) -> Option<Result<J, JoinError>> {
        tokio::select! {
            Some(ended) = self.job.join_next() => Some(ended),
            () = self.poll.due(self.source.is_some()) => None,
        }
    }
}

/// The actor of a view read only while on screen, which also runs one long job at a
/// time: the cluster's bring-ups and removals, a mirror's sync.
pub trait Watcher: Send {
    type Command: Send;
    type Source: Send;
    type Job: Send + 'static;

    fn watched(&mut self) -> &mut Watched<Self::Source, Self::Job>;
    /// Sets the source up unless it is (a failure is reported); whether there is one.
    fn set_up(&mut self) -> impl Future<Output = bool> + Send;
    /// Reads the source and reports what it read.
    fn read(&mut self) -> impl Future<Output = ()> + Send;
    /// The job ended: reports how.
    fn ended(&mut self, ended: Result<Self::Job, JoinError>) -> impl Future<Output = ()> + Send;
    fn handle(&mut self, command: Self::Command) -> impl Future<Output = ()> + Send;

    /// The view is shown (read now and every period) or left (no reads).
    fn watch(&mut self, on: bool) -> impl Future<Output = ()> + Send {
        async move {
            self.watched().poll.watch(on);
            if on {
                self.refresh().await;
            }
        }
    }

    /// Sets up if needed (a failed set-up is retried here), then reads and restarts the
    /// poll from now.
    fn refresh(&mut self) -> impl Future<Output = ()> + Send {
        async move {
            if self.set_up().await {
                self.read().await;
                self.watched().poll.restart();
            }
        }
    }
}

/// Starts the [`Watcher`] `make` builds around its [`Watched`], read every `period` while
/// its view is on screen.
pub fn spawn_watcher<W: Watcher + 'static>(
    period: Duration,
    make: impl FnOnce(Watched<W::Source, W::Job>) -> W,
) -> Actor<W::Command> {
    Actor::spawn(|inbox| {
        let watcher = make(Watched::new(period, inbox.stop().clone()));
        run_watcher(watcher, inbox)
    })
}

/// A [`Watcher`]'s loop, until its inbox ends; a job still going is dropped then.
async fn run_watcher<W: Watcher>(mut watcher: W, mut inbox: Inbox<W::Command>) {
    loop {
        tokio::select! {
            command = inbox.recv() => match command {
                Some(command) => watcher.handle(command).await,
                None => break,
            },
            next = watcher.watched().next() => match next {
                Some(ended) => watcher.ended(ended).await,
                None => watcher.read().await,
            },
        }
    }
    watcher.watched().job.shutdown().await;
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
