//! `k8s`: an object in the cluster — it exists (or not), its rollout is complete with N
//! available replicas, every container has probes and resources, a Service has ready endpoints,
//! fields hold values (JSONPath). `manifest`: the same judgements of an object as the project's
//! `k8s/` folder defines it, without a cluster.

use super::jsonpath::{JsonPath, matches, show};
use serde_json::Value;

use super::kinds::{K8sCheck, K8sExpect, ManifestCheck};
use super::{Failure, Workspace};
use crate::k8s::inspect;

pub async fn k8s(ws: &Workspace, c: &K8sCheck) -> Result<(), Failure> {
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
    judge(&what, &live, e)
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
        (Some(d), true) => judge(&format!("{object} ({})", d.source), &d.body, &c.expect),
    }
}

/// The judgements both kinds share: probes, resources, fields.
fn judge(what: &str, live: &Value, e: &K8sExpect) -> Result<(), Failure> {
    if e.probes == Some(true) {
        let missing = inspect::missing_probes(live);
        if !missing.is_empty() {
            return Err(Failure::mismatch(
                what,
                "a readiness and a liveness probe on every container",
                format!("none on {}", missing.join(", ")),
            ));
        }
    }
    if e.resources == Some(true) {
        let missing = inspect::missing_resources(live);
        if !missing.is_empty() {
            return Err(Failure::mismatch(
                what,
                "CPU and memory requests and limits on every container",
                format!("missing {}", missing.join(", ")),
            ));
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
