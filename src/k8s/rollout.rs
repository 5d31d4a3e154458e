//! When a rollout is complete, as `kubectl rollout status` decides it: the controller has seen
//! the latest generation (a status older than the spec proves nothing), every replica is updated,
//! and as many are ready and available as the spec asks. The verdicts are pure functions of the
//! object; [`wait`] feeds them from a watch, so completion is noticed the moment the API server
//! reports it, and looks at the pods on each tick to fail early with a diagnosis.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event as KubeEvent, Pod};
use kube::api::{Api, ListParams, LogParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde::Serialize;

use super::diagnose::{self, Diagnosis};
use super::{Error, api_error};
use crate::base::wait::{Ended, Verdict, Wait, Wake};
use crate::interrupt::Interrupt;

/// A workload whose rollout is waited for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Workload {
    pub kind: String,
    pub name: String,
}

impl Workload {
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// The kinds whose rollout labforge follows.
pub fn is_workload(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet")
}

/// Pending while the status is older than the spec: it says nothing about the latest change.
fn stale(generation: Option<i64>, observed: Option<i64>) -> Option<Verdict<(), String>> {
    let (generation, observed) = (generation.unwrap_or(0), observed.unwrap_or(0));
    (observed < generation).then(|| {
        Verdict::Pending(format!(
            "waiting for the controller to see generation {generation} (its status is of generation {observed})"
        ))
    })
}

/// A rollout's verdict: done, failed for good (the deadline the controller itself gave up at), or
/// pending with what is missing.
pub fn judge_deployment(d: &Deployment) -> Verdict<(), String> {
    let Some(status) = &d.status else { return Verdict::Pending("no status yet".into()) };
    if let Some(stale) = stale(d.metadata.generation, status.observed_generation) {
        return stale;
    }
    let progressing = status.conditions.iter().flatten().find(|c| c.type_ == "Progressing");
    if progressing.is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
        return Verdict::Failed("the deployment exceeded its progress deadline".into());
    }
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < wanted {
        Verdict::Pending(format!("{updated} of {wanted} replicas updated"))
    } else if total > updated {
        Verdict::Pending(format!("{} old replicas still running", total - updated))
    } else if available < updated {
        Verdict::Pending(format!("{available} of {updated} updated replicas available"))
    } else {
        Verdict::Done(())
    }
}

/// As [`judge_deployment`], for a StatefulSet with the rolling-update strategy (its partition
/// honoured); one with `OnDelete` is done once the controller has seen it.
pub fn judge_statefulset(s: &StatefulSet) -> Verdict<(), String> {
    let Some(status) = &s.status else { return Verdict::Pending("no status yet".into()) };
    if let Some(stale) = stale(s.metadata.generation, status.observed_generation) {
        return stale;
    }
    let spec = s.spec.as_ref();
    let strategy = spec.and_then(|s| s.update_strategy.as_ref());
    if strategy.and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return Verdict::Done(());
    }
    let wanted = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < wanted {
        return Verdict::Pending(format!("{ready} of {wanted} replicas ready"));
    }
    let partition = strategy.and_then(|s| s.rolling_update.as_ref()).and_then(|r| r.partition).unwrap_or(0);
    if partition > 0 {
        let updated = status.updated_replicas.unwrap_or(0);
        return if updated < wanted - partition {
            Verdict::Pending(format!("{updated} of {} replicas updated (partition {partition})", wanted - partition))
        } else {
            Verdict::Done(())
        };
    }
    if status.update_revision.is_some() && status.update_revision != status.current_revision {
        let updated = status.updated_replicas.unwrap_or(0);
        return Verdict::Pending(format!("{updated} of {wanted} replicas updated to the new revision"));
    }
    Verdict::Done(())
}

/// What one look at a workload shows: its rollout verdict and replica counts, and the selector
/// of its pods.
#[derive(Debug, Clone)]
pub struct Look {
    pub verdict: Verdict<(), String>,
    pub ready: i32,
    pub available: i32,
    pub desired: i32,
    pub selector: Option<String>,
}

/// The workload kinds whose rollout labforge follows, each judged by its own verdict.
trait Rolls:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    const KIND: &'static str;
    fn look(&self) -> Look;
}

fn selector_text(labels: Option<&BTreeMap<String, String>>) -> Option<String> {
    labels.map(|l| l.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
}

impl Rolls for Deployment {
    const KIND: &'static str = "Deployment";
    fn look(&self) -> Look {
        let status = self.status.as_ref();
        Look {
            verdict: judge_deployment(self),
            ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            available: status.and_then(|s| s.available_replicas).unwrap_or(0),
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            selector: selector_text(self.spec.as_ref().and_then(|s| s.selector.match_labels.as_ref())),
        }
    }
}

impl Rolls for StatefulSet {
    const KIND: &'static str = "StatefulSet";
    fn look(&self) -> Look {
        let ready = self.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0);
        Look {
            verdict: judge_statefulset(self),
            ready,
            available: ready,
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            selector: selector_text(self.spec.as_ref().and_then(|s| s.selector.match_labels.as_ref())),
        }
    }
}

async fn look_as<K: Rolls>(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<Look>, Error> {
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let found = api.get_opt(name).await.map_err(|e| api_error(&format!("read {}/{name}", K::KIND), e))?;
    Ok(found.map(|k| k.look()))
}

/// The workload as the cluster has it now, or `None` when it does not exist.
pub async fn look(client: &kube::Client, namespace: &str, workload: &Workload) -> Result<Option<Look>, Error> {
    match workload.kind.as_str() {
        "Deployment" => look_as::<Deployment>(client, namespace, &workload.name).await,
        _ => look_as::<StatefulSet>(client, namespace, &workload.name).await,
    }
}

/// Replaces every pod of `workload`, as `kubectl rollout restart` does: a new value of the pod
/// template's annotation [`ANNOTATION_RESTARTED`] (merge patch, field manager `labforge`).
pub async fn restart(client: &kube::Client, namespace: &str, workload: &Workload) -> Result<(), Error> {
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {ANNOTATION_RESTARTED: now}}}}});
    let params = kube::api::PatchParams { field_manager: Some(super::MANAGER.to_string()), ..Default::default() };
    let patch = kube::api::Patch::Merge(&patch);
    let patched = match workload.kind.as_str() {
        "Deployment" => Api::<Deployment>::namespaced(client.clone(), namespace)
            .patch(&workload.name, &params, &patch)
            .await
            .map(|_| ()),
        _ => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .patch(&workload.name, &params, &patch)
            .await
            .map(|_| ()),
    };
    patched.map_err(|e| api_error(&format!("restart {}", workload.id()), e))
}

/// The annotation of the pod template whose change restarts a workload's pods.
pub const ANNOTATION_RESTARTED: &str = "io.labforge.restarted-at";

/// A look at a workload given as JSON (a check's copy of it); `Err` for kinds without a rollout.
pub fn look_at(kind: &str, object: &serde_json::Value) -> Result<Look, String> {
    fn parse<K: Rolls>(object: &serde_json::Value) -> Result<Look, String> {
        serde_json::from_value::<K>(object.clone()).map(|k| k.look()).map_err(|e| e.to_string())
    }
    match kind {
        "Deployment" => parse::<Deployment>(object),
        "StatefulSet" => parse::<StatefulSet>(object),
        other => Err(format!("{other} has no rollout")),
    }
}

/// A workload judged after a change, or why the watch broke.
type Judged = Result<(Workload, Verdict<(), String>), String>;

/// Every change to the named workloads of kind `K`, judged, from a watch that retries by itself.
fn watch<K: Rolls>(
    client: &kube::Client,
    namespace: &str,
    names: Vec<String>,
) -> futures_util::stream::BoxStream<'static, Judged> {
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .filter_map(move |seen| {
            std::future::ready(match seen {
                Err(e) => Some(Err(e.to_string())),
                Ok(k) => {
                    let name = k.meta().name.clone().unwrap_or_default();
                    names.contains(&name).then(|| Ok((Workload { kind: K::KIND.to_string(), name }, k.look().verdict)))
                }
            })
        })
        .boxed()
}

/// How a wait for rollouts ended.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    /// When each workload completed, counted from the start of the wait.
    pub completed: BTreeMap<String, f64>,
    /// Why it did not complete: empty when it did.
    pub problems: Vec<Diagnosis>,
    /// What the wait was still missing at its end.
    pub last: Option<String>,
}

/// Waits until every workload's rollout is complete, at most `deadline`. Each change the API
/// server reports is judged at once; every `every`, the pods of workloads not done yet are looked
/// at, and a failure that will not heal by itself (an image that cannot be pulled, a crash loop, a
/// missing key) ends the wait with its diagnosis.
pub async fn wait(
    client: &kube::Client,
    namespace: &str,
    workloads: &[Workload],
    deadline: Duration,
    every: Duration,
    interrupt: &Interrupt,
) -> Result<Rollout, Error> {
    let started = Instant::now();
    let mut pending: BTreeMap<Workload, String> =
        workloads.iter().map(|w| (w.clone(), "not seen yet".to_string())).collect();
    let mut completed = BTreeMap::new();
    let names = |kind: &str| workloads.iter().filter(|w| w.kind == kind).map(|w| w.name.clone()).collect::<Vec<_>>();
    let events = stream::select(
        watch::<Deployment>(client, namespace, names(Deployment::KIND)),
        watch::<StatefulSet>(client, namespace, names(StatefulSet::KIND)),
    );

    let ended = Wait::at_most(deadline, every)
        .run(interrupt.wait(), events, async |wake| {
            match wake {
                Wake::Event(Ok((workload, verdict))) => {
                    note(&mut pending, &mut completed, started, &workload.kind, Some(&workload.name), verdict)
                }
                Wake::Event(Err(why)) => {
                    // The watcher retries by itself; a tick will look again meanwhile.
                    pending.values_mut().for_each(|v| *v = format!("watch interrupted: {why}"));
                }
                Wake::Tick(_) => {
                    for workload in pending.keys().cloned().collect::<Vec<_>>() {
                        if let Ok(Some(Look { verdict, .. })) = look(client, namespace, &workload).await {
                            note(&mut pending, &mut completed, started, &workload.kind, Some(&workload.name), verdict);
                        }
                    }
                    if !pending.is_empty() {
                        let stuck = stuck_pods(client, namespace, pending.keys()).await;
                        if !stuck.is_empty() {
                            return Verdict::Failed(stuck);
                        }
                    }
                }
            }
            if pending.is_empty() {
                return Verdict::Done(());
            }
            if let Some((w, why)) = pending.iter().find(|(_, why)| why.starts_with("failed: ")) {
                return Verdict::Failed(vec![Diagnosis::rollout(&w.id(), why.trim_start_matches("failed: "))]);
            }
            Verdict::Pending(pending.iter().map(|(w, why)| format!("{}: {why}", w.id())).collect::<Vec<_>>().join("; "))
        })
        .await;
    match ended {
        Ended::Done(()) => Ok(Rollout { completed, problems: Vec::new(), last: None }),
        Ended::Failed(problems) => Ok(Rollout { completed, problems, last: None }),
        Ended::TimedOut { last } => {
            let mut problems = diagnose_all(client, namespace, pending.keys()).await;
            if problems.is_empty() {
                problems.push(Diagnosis::rollout(
                    "rollout",
                    &format!("not complete after {}s: {last}", deadline.as_secs()),
                ));
            }
            Ok(Rollout { completed, problems, last: Some(last) })
        }
        Ended::Cancelled => Err(Error::Interrupted),
    }
}

fn note(
    pending: &mut BTreeMap<Workload, String>,
    completed: &mut BTreeMap<String, f64>,
    started: Instant,
    kind: &str,
    name: Option<&str>,
    verdict: Verdict<(), String>,
) {
    let key = Workload { kind: kind.to_string(), name: name.unwrap_or_default().to_string() };
    if !pending.contains_key(&key) {
        return;
    }
    match verdict {
        Verdict::Done(()) => {
            pending.remove(&key);
            completed.insert(key.id(), started.elapsed().as_secs_f64());
        }
        Verdict::Failed(why) => {
            pending.insert(key, format!("failed: {why}"));
        }
        Verdict::Pending(why) => {
            pending.insert(key, why);
        }
    }
}

/// The pods of `workloads`, their events and, for containers that crashed, the last lines of
/// their previous run.
async fn evidence<'a>(
    client: &kube::Client,
    namespace: &str,
    workloads: impl Iterator<Item = &'a Workload>,
) -> (Vec<Pod>, Vec<KubeEvent>, BTreeMap<String, String>) {
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut pods = Vec::new();
    for workload in workloads {
        if let Some(selector) = selector(client, namespace, workload).await
            && let Ok(list) = pods_api.list(&ListParams::default().labels(&selector)).await
        {
            pods.extend(list.items);
        }
    }
    let events: Api<KubeEvent> = Api::namespaced(client.clone(), namespace);
    let events = events.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    let mut logs = BTreeMap::new();
    for pod in &pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        for container in diagnose::crashed_containers(pod) {
            let params = LogParams {
                container: Some(container.clone()),
                previous: true,
                tail_lines: Some(diagnose::LOG_TAIL),
                ..Default::default()
            };
            let text = match pods_api.logs(&name, &params).await {
                Ok(text) => text,
                Err(_) => pods_api.logs(&name, &LogParams { previous: false, ..params }).await.unwrap_or_default(),
            };
            logs.insert(format!("{name}/{container}"), text);
        }
    }
    (pods, events, logs)
}

async fn selector(client: &kube::Client, namespace: &str, workload: &Workload) -> Option<String> {
    look(client, namespace, workload).await.ok()??.selector
}

async fn stuck_pods<'a>(
    client: &kube::Client,
    namespace: &str,
    workloads: impl Iterator<Item = &'a Workload>,
) -> Vec<Diagnosis> {
    let (pods, events, logs) = evidence(client, namespace, workloads).await;
    diagnose::diagnose(&pods, &events, &logs).into_iter().filter(|d| d.final_).collect()
}

async fn diagnose_all<'a>(
    client: &kube::Client,
    namespace: &str,
    workloads: impl Iterator<Item = &'a Workload>,
) -> Vec<Diagnosis> {
    let (pods, events, logs) = evidence(client, namespace, workloads).await;
    diagnose::diagnose(&pods, &events, &logs)
}

/// Reads a workload's pods' names, for `logs --cluster` and the proof of the app.
pub async fn pods_of(client: &kube::Client, namespace: &str, workload: &Workload) -> Result<Vec<Pod>, Error> {
    let Some(selector) = selector(client, namespace, workload).await else { return Ok(Vec::new()) };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    Ok(pods.list(&ListParams::default().labels(&selector)).await.map_err(|e| api_error("list pods", e))?.items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(json: serde_json::Value) -> Deployment {
        serde_json::from_value(json).unwrap()
    }

    fn with_status(generation: i64, replicas: i32, status: serde_json::Value) -> Deployment {
        deployment(serde_json::json!({
            "metadata": {"name": "shop", "generation": generation},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": status,
        }))
    }

    #[test]
    fn a_deployment_is_done_only_when_the_status_is_of_its_generation() {
        let all_ready = serde_json::json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2});
        assert_eq!(judge_deployment(&with_status(2, 2, all_ready.clone())), Verdict::Done(()));
        let stale = judge_deployment(&with_status(3, 2, all_ready));
        assert!(
            matches!(&stale, Verdict::Pending(why) if why.contains("generation 3") && why.contains("of generation 2")),
            "{stale:?}"
        );
        let none = deployment(serde_json::json!({"metadata": {"name": "shop", "generation": 1}}));
        assert_eq!(judge_deployment(&none), Verdict::Pending("no status yet".into()));
    }

    #[test]
    fn a_deployment_waits_for_updated_then_old_gone_then_available_replicas() {
        let cases = [
            (
                serde_json::json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}),
                "1 of 2 replicas updated",
            ),
            (
                serde_json::json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}),
                "1 old replicas still running",
            ),
            (
                serde_json::json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}),
                "1 of 2 updated replicas available",
            ),
        ];
        for (status, says) in cases {
            assert_eq!(judge_deployment(&with_status(1, 2, status)), Verdict::Pending(says.into()));
        }
        let gave_up = serde_json::json!({"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]});
        assert!(matches!(judge_deployment(&with_status(1, 2, gave_up)), Verdict::Failed(_)));
    }

    #[test]
    fn a_statefulset_honours_generation_revision_and_partition() {
        let set = |generation: i64, spec: serde_json::Value, status: serde_json::Value| -> StatefulSet {
            let mut s = serde_json::json!({"metadata": {"name": "db", "generation": generation}, "spec": {"replicas": 1, "selector": {}, "template": {}, "serviceName": "db"}, "status": status});
            for (k, v) in spec.as_object().unwrap() {
                s["spec"][k] = v.clone();
            }
            serde_json::from_value(s).unwrap()
        };
        let ready = serde_json::json!({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-1"});
        assert_eq!(judge_statefulset(&set(1, serde_json::json!({}), ready.clone())), Verdict::Done(()));
        assert!(
            matches!(judge_statefulset(&set(2, serde_json::json!({}), ready)), Verdict::Pending(_)),
            "stale status"
        );
        let rolling = serde_json::json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 0, "currentRevision": "db-1", "updateRevision": "db-2"});
        assert_eq!(
            judge_statefulset(&set(2, serde_json::json!({}), rolling)),
            Verdict::Pending("0 of 1 replicas updated to the new revision".into())
        );
        let not_ready = serde_json::json!({"observedGeneration": 1, "replicas": 1, "readyReplicas": 0});
        assert_eq!(
            judge_statefulset(&set(1, serde_json::json!({}), not_ready)),
            Verdict::Pending("0 of 1 replicas ready".into())
        );
        let on_delete = serde_json::json!({"updateStrategy": {"type": "OnDelete"}});
        assert_eq!(
            judge_statefulset(&set(1, on_delete, serde_json::json!({"observedGeneration": 1}))),
            Verdict::Done(())
        );
    }
}
