//! The one wait everything in labforge waits with: look at a thing every `every` and on every
//! event, until a look decides (done or failed), the deadline passes, or the caller cancels
//! (Ctrl-C). What a look *means* is a pure function beside the thing waited for — a condition, in
//! kube-rs's words; this only schedules the looks, so every wait has a deadline and none sleeps.

use std::future::Future;
use std::time::Duration;

use futures_util::{Stream, StreamExt};

/// What one look decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<T, F> {
    /// The wait is over and worked.
    Done(T),
    /// The wait is over and cannot work (waiting longer cannot help).
    Failed(F),
    /// Not yet; why not, for the message if the deadline passes.
    Pending(String),
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended<T, F> {
    Done(T),
    Failed(F),
    /// The deadline passed; the last [`Verdict::Pending`] reason.
    TimedOut {
        last: String,
    },
    Cancelled,
}

/// What woke a look: the `n`th tick (the first comes at once), or an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake<E> {
    Tick(u64),
    Event(E),
}

/// A deadline and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    deadline: Option<Duration>,
    every: Duration,
}

impl Wait {
    /// Looks every `every`, for at most `deadline`.
    pub fn at_most(deadline: Duration, every: Duration) -> Wait {
        Wait { deadline: Some(deadline), every }
    }

    /// Looks every `every` until a look decides or the caller cancels: for `check --watch`, whose
    /// end is the user's Ctrl-C.
    pub fn until_cancelled(every: Duration) -> Wait {
        Wait { deadline: None, every }
    }

    /// Runs the wait. `look` is called on every tick and every event, in order, one at a time;
    /// a look in progress is never cut short (each has its own timeout), the deadline and the
    /// cancel are noticed between looks. When `events` ends, the ticks go on.
    pub async fn run<T, F, E>(
        self,
        cancel: impl Future<Output = ()>,
        events: impl Stream<Item = E>,
        mut look: impl AsyncFnMut(Wake<E>) -> Verdict<T, F>,
    ) -> Ended<T, F> {
        let deadline = async {
            match self.deadline {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(cancel, deadline, events);
        let mut events_open = true;
        let mut ticks = 0;
        let mut last = String::from("no answer yet");
        loop {
            let wake = tokio::select! {
                biased;
                () = &mut cancel => return Ended::Cancelled,
                () = &mut deadline => return Ended::TimedOut { last },
                event = events.next(), if events_open => match event {
                    Some(event) => Wake::Event(event),
                    None => {
                        events_open = false;
                        continue;
                    }
                },
                _ = tick.tick() => {
                    ticks += 1;
                    Wake::Tick(ticks - 1)
                }
            };
            match look(wake).await {
                Verdict::Done(value) => return Ended::Done(value),
                Verdict::Failed(why) => return Ended::Failed(why),
                Verdict::Pending(why) => last = why,
            }
        }
    }
}

/// A stream that never yields: a wait without events.
pub fn no_events<E>() -> impl Stream<Item = E> {
    futures_util::stream::pending()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
    }

    #[test]
    fn a_look_that_decides_ends_the_wait_with_its_verdict() {
        runtime().block_on(async {
            let mut looks = 0;
            let ended: Ended<u64, String> = Wait::at_most(Duration::from_secs(5), Duration::from_millis(100))
                .run(std::future::pending(), no_events::<()>(), async |wake| {
                    looks += 1;
                    match wake {
                        Wake::Tick(3) => Verdict::Done(3),
                        _ => Verdict::Pending("not yet".into()),
                    }
                })
                .await;
            assert_eq!((ended, looks), (Ended::Done(3), 4), "ticks 0, 1, 2 pending, 3 done");
            let failed: Ended<(), &str> = Wait::at_most(Duration::from_secs(5), Duration::from_millis(100))
                .run(std::future::pending(), no_events::<()>(), async |_| Verdict::Failed("refused"))
                .await;
            assert_eq!(failed, Ended::Failed("refused"));
        });
    }

    #[test]
    fn the_deadline_ends_a_wait_with_the_last_reason() {
        runtime().block_on(async {
            let started = tokio::time::Instant::now();
            let ended: Ended<(), ()> = Wait::at_most(Duration::from_secs(2), Duration::from_millis(100))
                .run(std::future::pending(), no_events::<()>(), async |wake| match wake {
                    Wake::Tick(n) => Verdict::Pending(format!("look {n}")),
                    Wake::Event(()) => unreachable!(),
                })
                .await;
            assert_eq!(ended, Ended::TimedOut { last: "look 19".into() });
            assert_eq!(started.elapsed(), Duration::from_secs(2));
        });
    }

    #[test]
    fn events_wake_a_look_between_ticks_and_cancel_wins_at_once() {
        runtime().block_on(async {
            let events = futures_util::stream::iter(["start", "die"]);
            let mut seen = Vec::new();
            let ended: Ended<(), String> = Wait::at_most(Duration::from_secs(60), Duration::from_secs(10))
                .run(std::future::pending(), events, async |wake| match wake {
                    Wake::Event("die") => Verdict::Failed(format!("died after {seen:?}")),
                    other => {
                        seen.push(format!("{other:?}"));
                        Verdict::Pending(String::new())
                    }
                })
                .await;
            assert_eq!(ended, Ended::Failed(r#"died after ["Event(\"start\")"]"#.into()), "before the first tick");

            let cancelled: Ended<(), ()> = Wait::until_cancelled(Duration::from_millis(100))
                .run(std::future::ready(()), no_events::<()>(), async |_| Verdict::Done(()))
                .await;
            assert_eq!(cancelled, Ended::Cancelled, "a cancel already fired ends the wait before any look");
        });
    }
}
