//! Why a rollout is stuck, from what the cluster says about its pods: their status, the events
//! about them and the last lines their containers wrote. Each problem comes with its fix. Pure:
//! the API calls that gather the evidence are in [`super::rollout`].

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Event, Pod};
use serde::Serialize;

/// How many lines of a crashed container's log a diagnosis quotes.
pub const LOG_TAIL: i64 = 20;

/// One problem, where it is, what the cluster said and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// `pod/shop-7d9f-abcde` or `Deployment/shop`.
    pub object: String,
    /// One line: what is wrong.
    pub problem: String,
    /// What the cluster said: messages, the log tail.
    pub detail: Vec<String>,
    /// What to do about it.
    pub fix: String,
    /// Whether it will not heal by waiting (a rollout wait may stop at once).
    #[serde(rename = "final")]
    pub final_: bool,
}

impl Diagnosis {
    /// A rollout that ended without a pod-level explanation.
    pub fn rollout(object: &str, problem: &str) -> Diagnosis {
        Diagnosis {
            object: object.to_string(),
            problem: problem.to_string(),
            detail: Vec::new(),
            fix: "look at `labforge logs --cluster` and the events of the namespace".to_string(),
            final_: true,
        }
    }
}

/// Containers whose log is worth reading: they terminated at least once.
pub fn crashed_containers(pod: &Pod) -> Vec<String> {
    statuses(pod)
        .filter(|s| {
            s.last_state.as_ref().and_then(|l| l.terminated.as_ref()).is_some()
                || waiting_reason(s) == Some("CrashLoopBackOff")
        })
        .map(|s| s.name.clone())
        .collect()
}

fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    status
        .and_then(|s| s.init_container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(status.and_then(|s| s.container_statuses.as_ref()).into_iter().flatten())
}

fn waiting_reason(status: &ContainerStatus) -> Option<&str> {
    status.state.as_ref()?.waiting.as_ref()?.reason.as_deref()
}

fn container<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.init_containers.iter().flatten().chain(spec.containers.iter()).find(|c| c.name == name)
}

/// Every problem the pods show, at most one per container (and one per pod for scheduling); the
/// same problem in several replicas is told once, naming them all.
pub fn diagnose(pods: &[Pod], events: &[Event], logs: &BTreeMap<String, String>) -> Vec<Diagnosis> {
    let mut merged: Vec<Diagnosis> = Vec::new();
    for d in each_problem(pods, events, logs) {
        match merged.iter_mut().find(|m| m.problem == d.problem && m.detail == d.detail && m.fix == d.fix) {
            Some(same) => same.object = format!("{}, {}", same.object, d.object),
            None => merged.push(d),
        }
    }
    merged
}

fn each_problem(pods: &[Pod], events: &[Event], logs: &BTreeMap<String, String>) -> Vec<Diagnosis> {
    let mut found = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let object = format!("pod/{name}");
        let about: Vec<&Event> = events
            .iter()
            .filter(|e| {
                e.involved_object.kind.as_deref() == Some("Pod")
                    && e.involved_object.name.as_deref() == Some(name.as_str())
            })
            .collect();
        let said = |reason: &str| -> Vec<String> {
            about.iter().filter(|e| e.reason.as_deref() == Some(reason)).filter_map(|e| e.message.clone()).collect()
        };
        if let Some(d) = unschedulable(pod, &object, &said("FailedScheduling")) {
            found.push(d);
            continue;
        }
        for status in statuses(pod) {
            let log = logs.get(&format!("{name}/{}", status.name));
            if let Some(d) = container_problem(pod, &object, status, &about, log) {
                found.push(d);
            }
        }
    }
    found
}

fn unschedulable(pod: &Pod, object: &str, events: &[String]) -> Option<Diagnosis> {
    let status = pod.status.as_ref()?;
    if status.phase.as_deref() != Some("Pending") {
        return None;
    }
    let condition = status.conditions.iter().flatten().find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    let message = condition.message.clone().or_else(|| events.last().cloned()).unwrap_or_default();
    let requests = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| {
            let r = c.resources.as_ref()?.requests.as_ref()?;
            Some(format!(
                "{} requests cpu {} and memory {}",
                c.name,
                r.get("cpu").map_or("-", |q| q.0.as_str()),
                r.get("memory").map_or("-", |q| q.0.as_str())
            ))
        })
        .collect::<Vec<_>>();
    let (problem, fix) = if message.contains("unbound") && message.contains("PersistentVolumeClaim") {
        (
            "its volume claim is not bound to any volume".to_string(),
            "the cluster has no default StorageClass that can provision it: install one (kind and k3s ship local-path) or set storageClassName in the volumeClaimTemplates".to_string(),
        )
    } else if message.contains("Insufficient cpu") || message.contains("Insufficient memory") {
        let what = if message.contains("Insufficient memory") { "memory" } else { "cpu" };
        (
            format!("no node has enough free {what} for it"),
            format!(
                "lower resources.requests.{what} in k8s/ (now: {}), or give the cluster more capacity",
                requests.join("; ")
            ),
        )
    } else if message.contains("taint") {
        (
            "every node has a taint the pod does not tolerate".to_string(),
            "add a matching toleration to the pod template, or remove the taint from a node (`kubectl taint nodes NODE KEY-`)".to_string(),
        )
    } else {
        ("it cannot be scheduled on any node".to_string(), "read the scheduler's message above".to_string())
    };
    Some(Diagnosis {
        object: object.to_string(),
        problem: format!("Pending: {problem}"),
        detail: vec![message],
        fix,
        // The scheduler retries: capacity can free up, a volume can bind.
        final_: false,
    })
}

fn container_problem(
    pod: &Pod,
    object: &str,
    status: &ContainerStatus,
    events: &[&Event],
    log: Option<&String>,
) -> Option<Diagnosis> {
    let name = status.name.as_str();
    let spec = container(pod, name);
    let waiting = status.state.as_ref().and_then(|s| s.waiting.as_ref());
    let reason = waiting.and_then(|w| w.reason.as_deref()).unwrap_or_default();
    let waiting_message = waiting.and_then(|w| w.message.clone()).unwrap_or_default();
    let last = status.last_state.as_ref().and_then(|l| l.terminated.as_ref());
    let object = format!("{object} container {name}");
    let event_messages = |reasons: &[&str]| -> Vec<String> {
        events
            .iter()
            .filter(|e| reasons.contains(&e.reason.as_deref().unwrap_or_default()))
            .filter_map(|e| e.message.clone())
            .filter(|m| {
                m.contains(&format!("\"{}\"", status.image))
                    || !m.contains("image \"")
                    || reasons.contains(&"Unhealthy")
            })
            .collect()
    };

    if reason == "ImagePullBackOff" || reason == "ErrImagePull" || reason == "InvalidImageName" {
        let mut detail = event_messages(&["Failed"]);
        if detail.is_empty() {
            detail.push(waiting_message.clone());
        }
        let said = detail.join(" ").to_lowercase();
        let image = &status.image;
        let fix = if said.contains("unauthorized")
            || said.contains("authentication required")
            || said.contains("denied")
            || said.contains("forbidden")
        {
            format!(
                "the registry refuses to serve {image} without credentials: create a pull secret (`kubectl create secret docker-registry NAME --docker-server=... --docker-username=... --docker-password=...`) and name it in spec.template.spec.imagePullSecrets"
            )
        } else if image.ends_with(":latest") || !image.rsplit('/').next().unwrap_or(image).contains(':') {
            format!(
                "{image} has no fixed tag: `latest` makes the node pull it; let `labforge deploy` set the image it built"
            )
        } else if said.contains("not found") || said.contains("manifest unknown") || said.contains("does not exist") {
            format!(
                "{image} is on no node and in no registry the node can reach: on kind, `labforge deploy` loads the image it built; elsewhere pass --registry HOST/PATH so it is pushed; check the tag in k8s/ if you set it by hand"
            )
        } else {
            format!("the node cannot pull {image}: check the name, the tag and that the node reaches the registry")
        };
        return Some(Diagnosis {
            object,
            problem: format!("{reason}: the image {image} cannot be pulled"),
            detail,
            fix,
            final_: true,
        });
    }
    if reason == "CreateContainerConfigError" || reason == "CreateContainerError" {
        let message = waiting_message;
        let fix = if let Some(key) = between(&message, "couldn't find key ", " in ") {
            format!(
                "add {key} to the project's .env (labforge deploy makes the Secret from it when k8s/ has none) or to the Secret/ConfigMap the message names"
            )
        } else if message.contains("not found") {
            "the Secret or ConfigMap the pod refers to does not exist: keep k8s/secret.yaml and k8s/configmap.yaml, or the .env labforge makes the Secret from".to_string()
        } else {
            "read the message above".to_string()
        };
        return Some(Diagnosis {
            object,
            problem: format!("{reason}: the container cannot be configured"),
            detail: vec![message],
            fix,
            final_: true,
        });
    }
    let oom = last.filter(|t| t.reason.as_deref() == Some("OOMKilled"));
    if let Some(killed) = oom {
        let limit = spec
            .and_then(|c| c.resources.as_ref()?.limits.as_ref()?.get("memory").map(|q| q.0.clone()))
            .unwrap_or_else(|| "none set".to_string());
        return Some(Diagnosis {
            object,
            problem: format!(
                "OOMKilled: the container used more than its memory limit ({limit}) and was killed (exit code {})",
                killed.exit_code
            ),
            detail: log.map(|l| tail(l)).unwrap_or_default(),
            fix: format!(
                "raise resources.limits.memory of {name} in k8s/ (now {limit}), or make the app use less memory"
            ),
            final_: reason == "CrashLoopBackOff",
        });
    }
    if reason == "CrashLoopBackOff" || (status.restart_count > 0 && last.is_some() && !status.ready) {
        let code = last.map(|t| t.exit_code).map_or("unknown".to_string(), |c| c.to_string());
        let mut detail = log.map(|l| tail(l)).unwrap_or_default();
        if detail.is_empty() {
            detail.push("(the container wrote nothing before it exited)".to_string());
        }
        return Some(Diagnosis {
            object,
            problem: format!(
                "CrashLoopBackOff: the container exits with code {code} ({} restarts); its last lines:",
                status.restart_count
            ),
            detail,
            fix:
                "fix what the log says; `labforge up --prod` runs the same image on Docker, where it is quicker to try"
                    .to_string(),
            final_: reason == "CrashLoopBackOff",
        });
    }
    let running = status.state.as_ref().and_then(|s| s.running.as_ref()).is_some();
    if running && !status.ready {
        let failures = event_messages(&["Unhealthy"]);
        let probe = spec.and_then(|c| c.readiness_probe.as_ref());
        let target = probe.and_then(|p| p.http_get.as_ref()).map(|h| {
            let port = match &h.port {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            };
            format!("GET {} on port {port}", h.path.as_deref().unwrap_or("/"))
        });
        if failures.is_empty() && target.is_none() {
            return None;
        }
        let last_answer = failures.last().cloned().unwrap_or_else(|| "no answer recorded yet".to_string());
        return Some(Diagnosis {
            object,
            problem: format!(
                "not ready: its readiness probe ({}) keeps failing",
                target.unwrap_or_else(|| "exec or tcp".to_string())
            ),
            detail: vec![format!("last answer: {last_answer}")],
            fix: "the app runs but says it is not ready: read what /ready answers (its dependencies, e.g. the database), and check the probe's path and port match the app".to_string(),
            final_: false,
        });
    }
    None
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn tail(log: &str) -> Vec<String> {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(LOG_TAIL as usize)..].iter().map(|l| l.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value, status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "shop-1"}, "spec": spec, "status": status})).unwrap()
    }

    fn app_spec() -> serde_json::Value {
        json!({"containers": [{
            "name": "app", "image": "labforge/shop-app:3f2a",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}}
        }]})
    }

    fn container_status(extra: serde_json::Value) -> serde_json::Value {
        let mut s =
            json!({"name": "app", "image": "labforge/shop-app:3f2a", "imageID": "", "ready": false, "restartCount": 0});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        json!({"phase": "Running", "containerStatuses": [s]})
    }

    fn event(reason: &str, message: &str) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "shop-1"},
            "reason": reason, "message": message, "type": "Warning"
        }))
        .unwrap()
    }

    fn one(pods: &[Pod], events: &[Event], logs: &[(&str, &str)]) -> Diagnosis {
        let logs = logs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut found = diagnose(pods, events, &logs);
        assert_eq!(found.len(), 1, "{found:#?}");
        found.remove(0)
    }

    #[test]
    fn an_image_that_is_not_there_says_how_deploy_delivers_it() {
        let p = pod(
            app_spec(),
            container_status(
                json!({"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"labforge/shop-app:3f2a\""}}}),
            ),
        );
        let e = event(
            "Failed",
            "Failed to pull image \"labforge/shop-app:3f2a\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/labforge/shop-app:3f2a\": not found",
        );
        let d = one(&[p], &[e], &[]);
        assert!(d.problem.starts_with("ImagePullBackOff") && d.final_, "{d:?}");
        assert!(d.fix.contains("loads the image") && d.fix.contains("--registry"), "{}", d.fix);
        assert!(d.detail[0].contains("not found"));
    }

    #[test]
    fn a_private_registry_asks_for_a_pull_secret_and_latest_for_a_tag() {
        let pulling = |image: &str| {
            let mut spec = app_spec();
            spec["containers"][0]["image"] = json!(image);
            let mut status = container_status(json!({"state": {"waiting": {"reason": "ErrImagePull"}}}));
            status["containerStatuses"][0]["image"] = json!(image);
            pod(spec, status)
        };
        let e = event("Failed", "Failed to pull image \"ghcr.io/acme/shop:1.0\": 401 Unauthorized");
        assert!(one(&[pulling("ghcr.io/acme/shop:1.0")], &[e], &[]).fix.contains("imagePullSecrets"));
        let e = event("Failed", "Failed to pull image \"shop:latest\": not found");
        assert!(one(&[pulling("shop:latest")], &[e], &[]).fix.contains("no fixed tag"));
    }

    #[test]
    fn a_crash_loop_quotes_the_exit_code_and_the_log_tail() {
        let p = pod(
            app_spec(),
            container_status(json!({
                "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}
            })),
        );
        let log = "Traceback (most recent call last):\n  File \"app.py\"\nsqlalchemy.exc.OperationalError: could not translate host name \"shop-postgres\"\n";
        let d = one(std::slice::from_ref(&p), &[], &[("shop-1/app", log)]);
        assert!(d.problem.contains("code 1") && d.problem.contains("5 restarts") && d.final_, "{d:?}");
        assert_eq!(
            d.detail.last().unwrap(),
            "sqlalchemy.exc.OperationalError: could not translate host name \"shop-postgres\""
        );
        assert_eq!(crashed_containers(&p), ["app"]);
    }

    #[test]
    fn an_oom_kill_names_the_limit() {
        let p = pod(
            app_spec(),
            container_status(json!({
                "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
            })),
        );
        let d = one(&[p], &[], &[]);
        assert!(
            d.problem.starts_with("OOMKilled") && d.problem.contains("512Mi") && d.fix.contains("limits.memory"),
            "{d:?}"
        );
    }

    #[test]
    fn pending_pods_say_why_the_scheduler_refused_them() {
        let pending = |message: &str| {
            pod(
                app_spec(),
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]}),
            )
        };
        let d = one(&[pending("0/1 nodes are available: 1 Insufficient memory.")], &[], &[]);
        assert!(d.problem.contains("memory") && d.fix.contains("128Mi") && !d.final_, "{d:?}");
        let d = one(&[pending("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.")], &[], &[]);
        assert!(d.fix.contains("StorageClass"), "{d:?}");
        let d = one(&[pending("0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}.")], &[], &[]);
        assert!(d.fix.contains("toleration"), "{d:?}");
    }

    #[test]
    fn a_failing_readiness_probe_names_path_port_and_last_answer() {
        let p = pod(app_spec(), container_status(json!({"state": {"running": {}}})));
        let e = event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503");
        let d = one(&[p], &[e], &[]);
        assert!(d.problem.contains("GET /ready on port http"), "{d:?}");
        assert_eq!(d.detail, ["last answer: Readiness probe failed: HTTP probe failed with statuscode: 503"]);
        assert!(!d.final_);
    }

    #[test]
    fn a_missing_secret_key_names_the_key_and_where_to_add_it() {
        let p = pod(
            app_spec(),
            container_status(
                json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "couldn't find key JWT_SECRET in Secret default/shop-secrets"}}}),
            ),
        );
        let d = one(&[p], &[], &[]);
        assert!(d.fix.starts_with("add JWT_SECRET to the project's .env") && d.final_, "{d:?}");
    }

    #[test]
    fn one_problem_in_many_replicas_is_told_once() {
        let replica = |name: &str| {
            let mut p = pod(
                app_spec(),
                container_status(
                    json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "couldn't find key JWT_SECRET in Secret default/shop-secrets"}}}),
                ),
            );
            p.metadata.name = Some(name.into());
            p
        };
        let found = diagnose(&[replica("shop-1"), replica("shop-2")], &[], &BTreeMap::new());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].object, "pod/shop-1 container app, pod/shop-2 container app");
    }

    #[test]
    fn a_healthy_pod_has_nothing_to_say() {
        let p = pod(app_spec(), container_status(json!({"ready": true, "state": {"running": {}}})));
        assert!(diagnose(&[p], &[], &BTreeMap::new()).is_empty());
    }
}
