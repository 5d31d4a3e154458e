//! Readiness: whether a started service is ready, proven the same way by `up`, a restart, and
//! the checks. Engine events, the protocol probe ([`super::probe`]) and the app's log are each
//! judged by a pure condition (`judge_*`, table-tested); one [`Wait`] schedules the looks.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast;

use super::diagnose::diagnose;
use super::docker::{Container, DockerError, Engine, Event, EventKind, State};
use super::probe::Probe;
use super::project::{Project, Service};
use super::reload;
use super::spec::ServiceKind;
use crate::base::wait::{Ended, Verdict, Wait, Wake};
use crate::health::{How, Protocol};
use crate::interrupt::Interrupt;

/// How often a starting service is probed.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// How often a starting app's log is searched for a crash.
const CRASH_CHECK_EVERY: Duration = Duration::from_millis(1000);

/// How far back a starting app's log is searched for a traceback.
const CRASH_LOG_LINES: usize = 300;

/// How many log lines a failure report shows.
const FAILURE_LOG_LINES: usize = 40;

/// Whether a service was proven ready.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Readiness {
    /// Proven ready `seconds` after its wait began; `at_ms` is when (Unix time, milliseconds).
    Ready {
        seconds: f64,
        at_ms: u128,
    },
    Failed {
        reason: String,
        diagnosis: Option<String>,
        logs: Vec<String>,
    },
    Skipped {
        reason: String,
    },
}

/// The protocol probe for a service of `project`, on its published port.
pub fn probe_for(project: &Project, service: &Service, ports: &[(u16, u16)]) -> Result<Option<Probe>, String> {
    let Some(port) = service.host_port(ports) else { return Ok(None) };
    Ok(match (&service.ready.how, project.login(service)) {
        (How::Http(path), _) => Some(Probe::http(port, path)),
        (How::Protocol(Protocol::Postgres), Some(login)) => Some(Probe::postgres(port, &login)),
        (How::Protocol(Protocol::Mongo), Some(login)) => Some(Probe::mongo(port, &login)?),
        // A TCP or command check runs in the container: Docker's healthcheck, derived from the
        // same definition, reports it.
        _ => None,
    })
}

/// The project's Engine events, forwarded to every subscriber of the channel by a task the caller
/// aborts when done.
pub(super) fn subscribe<E: Engine>(
    engine: &E,
    project: &str,
) -> (broadcast::Sender<Event>, tokio::task::JoinHandle<()>) {
    let (events_tx, _) = broadcast::channel::<Event>(256);
    let mut stream = engine.events(project);
    let forward = events_tx.clone();
    let task = tokio::spawn(async move {
        while let Some(Ok(event)) = stream.next().await {
            let _ = forward.send(event);
        }
    });
    (events_tx, task)
}

/// Restarts `service`'s container and waits until it is ready again exactly as `up` waits: its
/// protocol probe, Engine events, crash signatures in its log, within `timeout`.
pub async fn restart<E: Engine>(
    engine: &E,
    project: &Project,
    service: &Service,
    container: &Container,
    grace: Duration,
    timeout: Duration,
) -> Result<Readiness, DockerError> {
    engine.restart(&container.id, grace).await?;
    // Subscribed after the restart, which has already stopped the old process: its `die` is not
    // this start's. A death in between shows in the state `wait_ready` inspects first.
    let (events_tx, events_task) = subscribe(engine, project.instance.name());
    let ports: Vec<(u16, u16)> = container.ports.iter().map(|(inside, _, host)| (*inside, *host)).collect();
    let readiness = wait_ready(
        engine,
        project,
        service,
        &ports,
        &container.id,
        events_tx.subscribe(),
        timeout,
        &Interrupt::never(),
    )
    .await;
    events_task.abort();
    Ok(readiness)
}

/// Waits until the service answers its probe, or it dies, turns unhealthy, crashes, or the
/// deadline passes: Engine events as they happen, the probe every [`PROBE_EVERY`], the app's log
/// every [`CRASH_CHECK_EVERY`], each judged by a condition below.
#[allow(clippy::too_many_arguments)]
pub(super) async fn wait_ready<E: Engine>(
    engine: &E,
    project: &Project,
    service: &Service,
    ports: &[(u16, u16)],
    id: &str,
    events: broadcast::Receiver<Event>,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Readiness {
    let started = Instant::now();
    let probe = match probe_for(project, service, ports) {
        Ok(p) => p,
        Err(reason) => return failed(engine, id, reason).await,
    };
    // A container that is already gone (an unchanged one that died since) fails at once.
    let inspected = match engine.inspect(id).await {
        Ok(found) => found,
        Err(e) => return failed(engine, id, e.to_string()).await,
    };
    if let Some(not_ready) = judge_state(inspected.as_ref()) {
        return failed(engine, id, not_ready.reason).await;
    }
    let events = receive(events).filter(|e| std::future::ready(e.container == id)).map(|e| e.kind);
    // A reloading development server survives its app's crash and waits for an edit, so the
    // container never dies: the crash shows only in the log.
    let crash_ticks = (CRASH_CHECK_EVERY.as_millis() / PROBE_EVERY.as_millis()).max(1) as u64;
    let mut crashed_in_a_row = 0;
    let mut last = String::from("no answer yet");
    let ended = Wait::at_most(timeout, PROBE_EVERY)
        .run(interrupt.wait(), events, async |wake| match wake {
            Wake::Event(kind) => judge_event(&kind, probe.is_some()).unwrap_or_else(|| Verdict::Pending(last.clone())),
            Wake::Tick(n) => {
                if service.kind == ServiceKind::App && n % crash_ticks == 0 {
                    // Tracebacks through importlib run to dozens of lines: look further back
                    // than the report shows.
                    let logs = engine.logs(id, CRASH_LOG_LINES).await.unwrap_or_default();
                    crashed_in_a_row = if reload::ends_in_crash(&logs) { crashed_in_a_row + 1 } else { 0 };
                    if let Some(crash) = judge_crash(crashed_in_a_row, logs) {
                        return Verdict::Failed(crash);
                    }
                }
                match &probe {
                    Some(probe) => {
                        let verdict = judge_probe(probe.check().await);
                        if let Verdict::Pending(why) = &verdict {
                            last.clone_from(why);
                        }
                        verdict
                    }
                    // Without a published port, a running container with no healthcheck is the
                    // best evidence there is.
                    None if service.healthcheck.is_none() => Verdict::Done(()),
                    None => Verdict::Pending("waiting for the healthcheck".into()),
                }
            }
        })
        .await;
    match ended {
        Ended::Done(()) => ready(started),
        Ended::Failed(NotReady { reason, logs: Some(logs) }) => {
            let diagnosis = diagnose(&logs, &reason).map(str::to_string);
            let shown = logs[logs.len().saturating_sub(FAILURE_LOG_LINES)..].to_vec();
            Readiness::Failed { reason, diagnosis, logs: shown }
        }
        Ended::Failed(NotReady { reason, logs: None }) => failed(engine, id, reason).await,
        Ended::TimedOut { last } => {
            failed(engine, id, format!("not ready after {}s (last probe: {last})", timeout.as_secs())).await
        }
        Ended::Cancelled => Readiness::Skipped { reason: "interrupted while waiting".into() },
    }
}

/// The project's events from a broadcast channel, skipping what a slow reader missed.
fn receive(events: broadcast::Receiver<Event>) -> impl futures_util::Stream<Item = Event> {
    futures_util::stream::unfold(events, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => return Some((event, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// Why a starting service will not become ready, with the log lines already read when the log
/// is the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    pub reason: String,
    pub logs: Option<Vec<String>>,
}

impl NotReady {
    fn because(reason: impl Into<String>) -> NotReady {
        NotReady { reason: reason.into(), logs: None }
    }
}

/// The container's state when the wait begins: it must be running.
pub fn judge_state(container: Option<&Container>) -> Option<NotReady> {
    match container {
        Some(c) if c.state == State::Running => None,
        Some(c) => Some(NotReady::because(
            format!("the container is {:?} (exit code {})", c.state, c.exit_code.unwrap_or(-1)).to_lowercase(),
        )),
        None => Some(NotReady::because("the container disappeared")),
    }
}

/// An Engine event about the starting container. `probed`: the service has a protocol probe;
/// without one, a healthcheck turning healthy is the proof. `None`: the event decides nothing.
pub fn judge_event(kind: &EventKind, probed: bool) -> Option<Verdict<(), NotReady>> {
    let failed = |why: String| Some(Verdict::Failed(NotReady::because(why)));
    match kind {
        EventKind::Die { exit_code } => failed(format!("the container exited with code {}", exit_code.unwrap_or(-1))),
        EventKind::Oom => failed("the container ran out of memory".into()),
        EventKind::Health { healthy: false } => failed("the container's healthcheck reports unhealthy".into()),
        EventKind::Health { healthy: true } if !probed => Some(Verdict::Done(())),
        EventKind::Health { healthy: true } | EventKind::Start => None,
    }
}

/// One probe attempt. A database that answered and refused the credentials fails at once:
/// waiting cannot help (while it initialises it does not listen on TCP at all).
pub fn judge_probe(attempt: Result<(), String>) -> Verdict<(), NotReady> {
    match attempt {
        Ok(()) => Verdict::Done(()),
        Err(e) if is_auth_failure(&e) => {
            Verdict::Failed(NotReady::because(format!("the database refused labforge's credentials: {e}")))
        }
        Err(e) => Verdict::Pending(e),
    }
}

/// The app's log: a traceback after the server last started is this start's crash once it was
/// seen on two looks in a row while the probe still fails — not one the app logged and survived.
pub fn judge_crash(crashed_in_a_row: u32, logs: Vec<String>) -> Option<NotReady> {
    (crashed_in_a_row >= 2).then(|| NotReady {
        reason: "the app crashed while starting (its traceback is below)".to_string(),
        logs: Some(logs),
    })
}

fn is_auth_failure(probe_error: &str) -> bool {
    ["password authentication failed", "AuthenticationFailed", "Authentication failed"]
        .iter()
        .any(|n| probe_error.contains(n))
}

/// Ready now, `started` being when the wait began.
pub fn ready(started: Instant) -> Readiness {
    let at_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    Readiness::Ready { seconds: started.elapsed().as_secs_f64(), at_ms }
}

pub(super) async fn failed<E: Engine>(engine: &E, id: &str, reason: String) -> Readiness {
    let logs = engine.logs(id, FAILURE_LOG_LINES).await.unwrap_or_default();
    let diagnosis = diagnose(&logs, &reason).map(str::to_string);
    Readiness::Failed { reason, diagnosis, logs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(reason: &str) -> Option<Verdict<(), NotReady>> {
        Some(Verdict::Failed(NotReady::because(reason)))
    }

    #[test]
    fn engine_events_decide_only_what_they_prove() {
        type Case = (EventKind, bool, Option<Verdict<(), NotReady>>);
        let cases: [Case; 7] = [
            (EventKind::Die { exit_code: Some(3) }, true, failed("the container exited with code 3")),
            (EventKind::Die { exit_code: None }, false, failed("the container exited with code -1")),
            (EventKind::Oom, true, failed("the container ran out of memory")),
            (EventKind::Health { healthy: false }, true, failed("the container's healthcheck reports unhealthy")),
            // Healthy proves readiness only where no protocol probe can.
            (EventKind::Health { healthy: true }, false, Some(Verdict::Done(()))),
            (EventKind::Health { healthy: true }, true, None),
            (EventKind::Start, false, None),
        ];
        for (kind, probed, expected) in cases {
            assert_eq!(judge_event(&kind, probed), expected, "{kind:?}, probed: {probed}");
        }
    }

    #[test]
    fn a_probe_waits_through_refusals_and_stops_at_wrong_credentials() {
        assert_eq!(judge_probe(Ok(())), Verdict::Done(()));
        assert_eq!(judge_probe(Err("connection refused".into())), Verdict::Pending("connection refused".into()));
        assert_eq!(
            judge_probe(Err("the database system is starting up".into())),
            Verdict::Pending("the database system is starting up".into())
        );
        for refusal in ["password authentication failed for user \"shop\"", "Command failed: AuthenticationFailed"] {
            let Verdict::Failed(why) = judge_probe(Err(refusal.into())) else { panic!("{refusal} must fail at once") };
            assert_eq!(why.reason, format!("the database refused labforge's credentials: {refusal}"));
        }
    }

    #[test]
    fn only_a_running_container_is_waited_for() {
        let container = |state, exit_code| Container {
            id: "c".into(),
            name: "shop-app".into(),
            labels: Default::default(),
            state,
            health: None,
            exit_code,
            oom_killed: false,
            image_id: String::new(),
            user: String::new(),
            ports: Vec::new(),
            bindings: Vec::new(),
            networks: Vec::new(),
        };
        assert_eq!(judge_state(Some(&container(State::Running, None))), None);
        assert_eq!(
            judge_state(Some(&container(State::Exited, Some(1)))),
            Some(NotReady::because("the container is exited (exit code 1)"))
        );
        assert_eq!(judge_state(None), Some(NotReady::because("the container disappeared")));
    }

    #[test]
    fn a_crash_counts_once_seen_twice_in_a_row() {
        let logs = vec!["Traceback (most recent call last):".to_string(), "KeyError: 1".to_string()];
        assert_eq!(judge_crash(0, logs.clone()), None);
        assert_eq!(judge_crash(1, logs.clone()), None, "one sighting may be a traceback a reload replaces");
        let crash = judge_crash(2, logs.clone()).expect("a crash");
        assert_eq!(crash.logs, Some(logs), "the log is the evidence, shown as read");
    }
}
