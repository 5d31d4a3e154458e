//! `k8s`: an object in the cluster — it exists (or not), its rollout is complete with N
//! available replicas, every container has probes and resources, a Service has ready endpoints,
//! fields hold values (JSONPath), probes ask the right paths, variables come from a Secret or a
//! ConfigMap, a rolling update cannot fail a request. `manifest`: the same judgements of an
//! object as the project's `k8s/` folder defines it (with the Secret `deploy` makes from `.env`),
//! without a cluster.

use std::time::Duration;

use serde_json::Value;

use super::jsonpath::{JsonPath, matches, show};
use super::kinds::{K8sCheck, K8sExpect, ManifestCheck};
use super::{Failure, Workspace};
use crate::k8s::inspect;
use crate::k8s::podspec::{self, Keys};

pub async fn k8s(ws: &Workspace, c: &K8sCheck, deadline: tokio::time::Instant) -> Result<(), Failure> {
    let object = ws.render(&c.object)?;
    let (kind, name) =
        object.split_once('/').ok_or_else(|| Failure::new(format!("`object: {object}` must be KIND/NAME")))?;
    let api_version = match &c.api_version {
        Some(v) => v.clone(),
        None => inspect::api_version_of(kind)
            .ok_or_else(|| Failure::new(format!("labforge does not know the apiVersion of kind {kind}")))?
            .to_string(),
    };
    let cluster = ws.cluster().await?;
    let namespace = match &c.namespace {
        Some(ns) => ws.render(ns)?,
        None => cluster.namespace.clone(),
    };
    let found =
        inspect::get(cluster, &api_version, kind, name, &namespace).await.map_err(|e| Failure::new(e.to_string()))?;
    let e = &c.expect;
    let what = format!("{object} in namespace {namespace}");
    let live = match (found, e.exists) {
        (None, false) => return Ok(()),
        (Some(_), false) => return Err(Failure::mismatch(&what, "no such object", "it exists")),
        (None, true) => return Err(Failure::mismatch(&what, "the object", "none (deploy it with `labforge deploy`)")),
        (Some(live), true) => live,
    };
    if let Some(wanted) = e.available {
        match inspect::available(kind, &live) {
            Ok(ready) if ready == wanted => {}
            Ok(ready) => {
                return Err(Failure::mismatch(&what, format!("{wanted} available replicas"), format!("{ready}")));
            }
            Err(why) => {
                return Err(Failure::mismatch(
                    &what,
                    format!("a complete rollout with {wanted} available replicas"),
                    why,
                ));
            }
        }
    }
    if let Some(wanted) = e.endpoints {
        let ready =
            inspect::ready_endpoints(cluster, &namespace, name).await.map_err(|e| Failure::new(e.to_string()))?;
        if wanted != (ready > 0) {
            let expected = if wanted { "at least one ready endpoint" } else { "no ready endpoint" };
            return Err(Failure::mismatch(&what, expected, format!("{ready} ready endpoints")));
        }
    }
    let mut keys = Keys::new();
    if !e.env.is_empty() {
        for (ref_kind, ref_name) in podspec::env_refs(&live) {
            let found = inspect::get(cluster, "v1", &ref_kind, &ref_name, &namespace)
                .await
                .map_err(|e| Failure::new(e.to_string()))?;
            if let Some(found) = found {
                keys.insert((ref_kind, ref_name), podspec::keys_of(&found));
            }
        }
    }
    judge(&what, &live, e, &keys)?;
    if let Some(traffic) = &e.rollout_without_errors {
        let service = ws.render(&traffic.service)?;
        let path = ws.render(&traffic.path)?;
        // What is left of the check's time, less a moment to report the outcome.
        let left =
            deadline.saturating_duration_since(tokio::time::Instant::now()).saturating_sub(Duration::from_secs(1));
        let met = crate::k8s::traffic::restart_under_traffic(
            cluster,
            &namespace,
            name,
            &service,
            traffic.port().as_deref(),
            &path,
            left,
        )
        .await
        .map_err(|e| Failure::new(e.to_string()))?;
        let asked = format!("GET {path} through Service/{service} while every pod of {what} was replaced");
        if met.failed > 0 {
            return Err(Failure::mismatch(
                &asked,
                "no failed request",
                format!(
                    "{} of {} failed, the first {}",
                    met.failed,
                    met.sent,
                    met.first_failure.as_deref().unwrap_or_default()
                ),
            ));
        }
        if !met.completed {
            return Err(Failure::mismatch(
                &asked,
                "a rollout that completes within the check's timeout",
                format!("not complete after {:.0}s ({} requests, none failed)", met.seconds, met.sent),
            ));
        }
    }
    Ok(())
}

/// An object of `k8s/`, found by kind and name in any of its files.
pub fn manifest(ws: &Workspace, c: &ManifestCheck) -> Result<(), Failure> {
    let object = ws.render(&c.object)?;
    let (kind, name) =
        object.split_once('/').ok_or_else(|| Failure::new(format!("`object: {object}` must be KIND/NAME")))?;
    let documents =
        crate::k8s::manifest::load(&ws.dir.join(crate::k8s::manifest::DIR)).map_err(|e| Failure::new(e.to_string()))?;
    let found = documents.iter().find(|d| {
        d.body.get("kind").and_then(Value::as_str) == Some(kind)
            && d.body.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
    });
    let what = format!("{object} in k8s/");
    match (found, c.expect.exists) {
        (None, false) => Ok(()),
        (Some(d), false) => Err(Failure::mismatch(&what, "no such object", format!("it is defined at {}", d.source))),
        (None, true) => Err(Failure::mismatch(&what, "the object", "no document of that kind and name")),
        (Some(d), true) => {
            let keys = if c.expect.env.is_empty() { Keys::new() } else { manifest_keys(ws, &documents)? };
            judge(&format!("{object} ({})", d.source), &d.body, &c.expect, &keys)
        }
    }
}

/// The keys of the ConfigMaps and Secrets `deploy` would apply: those of `k8s/`, and the Secret it
/// makes from `.env` when `k8s/` lacks one the workloads use.
fn manifest_keys(ws: &Workspace, documents: &[crate::k8s::manifest::Document]) -> Result<Keys, Failure> {
    let env = crate::stack::project::read_dotenv(&ws.dir).map_err(|e| Failure::new(e.to_string()))?;
    let name = ws.render("{{ project.name }}")?;
    let project = crate::k8s::manifest::Project { name: &name, env: &env, ..Default::default() };
    let objects = crate::k8s::manifest::prepare(documents, &project).map_err(|e| Failure::new(e.to_string()))?;
    Ok(objects
        .iter()
        .filter(|o| o.kind == "ConfigMap" || o.kind == "Secret")
        .map(|o| ((o.kind.clone(), o.name.clone()), podspec::keys_of(&o.body)))
        .collect())
}

/// The judgements both kinds share: probes, resources, variables, rolling updates, fields.
fn judge(what: &str, live: &Value, e: &K8sExpect, keys: &Keys) -> Result<(), Failure> {
    let only = e.container.as_deref();
    if let Some(name) = only
        && podspec::containers(live, Some(name)).is_empty()
    {
        return Err(Failure::mismatch(what, format!("a container named {name}"), "none"));
    }
    if e.probes == Some(true) {
        let missing = podspec::missing_probes(live, only);
        if !missing.is_empty() {
            return Err(Failure::mismatch(
                what,
                "a readiness and a liveness probe on every container",
                format!("none on {}", missing.join(", ")),
            ));
        }
    }
    // Each problem is a sentence of its own, one per container or setting.
    let judgements = [
        (
            !e.probe_paths.is_empty(),
            "probes that ask the right paths",
            podspec::probe_path_problems(live, only, &e.probe_paths),
        ),
        (e.resources == Some(true), "CPU and memory requests and limits", podspec::resource_problems(live, only)),
        (!e.env.is_empty(), "each variable from the right place", podspec::env_problems(live, only, &e.env, keys)),
        (
            e.zero_downtime == Some(true),
            "a rolling update that cannot fail a request",
            podspec::zero_downtime_problems(live, only),
        ),
    ];
    for (asked, expected, problems) in judgements {
        if asked && !problems.is_empty() {
            return Err(Failure::mismatch(what, expected, problems.join("; ")));
        }
    }
    for (path, expected) in &e.fields {
        let at = JsonPath::parse(path).map_err(Failure::new)?;
        match at.find(live) {
            Some(actual) if matches(expected, actual) => {}
            Some(actual) => return Err(Failure::mismatch(&format!("{what} at {path}"), show(expected), show(actual))),
            None => {
                return Err(Failure::mismatch(
                    &format!("{what} at {path}"),
                    show(expected),
                    "nothing there".to_string(),
                ));
            }
        }
    }
    Ok(())
}
