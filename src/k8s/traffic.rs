//! A rollout under traffic: the Deployment's pods are replaced as `kubectl rollout restart`
//! replaces them, while requests go to its Service all along, through the API server's proxy
//! (which sends each to one of the Service's ready endpoints, on any cluster). Every request
//! that does not answer 2xx is a failure a user of the app would have seen.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Error;
use super::cluster::Cluster;
use super::prove::{self, Answer};
use super::rollout::{self, Workload};
use crate::base::wait::Verdict;

/// How often a request is sent.
const REQUEST_EVERY: Duration = Duration::from_millis(100);
/// How often the rollout is looked at.
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// How long requests go on after the rollout completed: the old pods stop in this time.
const AFTERWARDS: Duration = Duration::from_secs(2);

/// What the requests met.
#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    pub sent: usize,
    pub failed: usize,
    /// The first failure: its status (or why nothing answered) and when, from the restart.
    pub first_failure: Option<String>,
    /// Whether the rollout completed within the deadline.
    pub completed: bool,
    pub seconds: f64,
}

/// Restarts `deployment`'s pods and asks `path` of `service` (on `port`, a name or a number;
/// `None` for the Service's only port) until the rollout has completed and a little longer,
/// within `deadline`.
pub async fn restart_under_traffic(
    cluster: &Cluster,
    namespace: &str,
    deployment: &str,
    service: &str,
    port: Option<&str>,
    path: &str,
    deadline: Duration,
) -> Result<Traffic, Error> {
    let client = &cluster.client;
    let workload = Workload { kind: "Deployment".into(), name: deployment.into() };
    rollout::restart(client, namespace, &workload).await?;

    let started = Instant::now();
    let mut traffic = Traffic { sent: 0, failed: 0, first_failure: None, completed: false, seconds: 0.0 };
    let mut completed_at: Option<Instant> = None;
    let mut last_look = None::<Instant>;
    let mut ticks = tokio::time::interval(REQUEST_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while started.elapsed() < deadline {
        ticks.tick().await;
        // Never retried: a 503 the proxy answers is a request a user's client saw fail.
        let answer: Answer =
            prove::through_service(&cluster.client_without_retries, namespace, service, port, path).await;
        traffic.sent += 1;
        if !answer.ok() {
            traffic.failed += 1;
            if traffic.first_failure.is_none() {
                let what = match answer.status {
                    Some(status) => format!("{status} {}", answer.body),
                    None => answer.body,
                };
                traffic.first_failure = Some(format!("{} after {:.1}s", what.trim(), started.elapsed().as_secs_f64()));
            }
        }
        match completed_at {
            Some(at) if at.elapsed() >= AFTERWARDS => break,
            Some(_) => {}
            None if last_look.is_none_or(|l| l.elapsed() >= LOOK_EVERY) => {
                last_look = Some(Instant::now());
                let look = rollout::look(client, namespace, &workload).await?;
                if let Some(look) = look
                    && matches!(look.verdict, Verdict::Done(()))
                {
                    completed_at = Some(Instant::now());
                    traffic.completed = true;
                }
            }
            None => {}
        }
    }
    traffic.seconds = started.elapsed().as_secs_f64();
    Ok(traffic)
}
