//! Objects as they are in the cluster, for checks: any object by kind and name (as JSON), the
//! ready endpoints behind a Service, and pure judgements of a workload — available with N
//! ready replicas, probes and resources on every container.

use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::apply::Kinds;
use super::cluster::Cluster;
use super::manifest::{self, Object};
use super::rollout;
use super::{Error, api_error};
use crate::base::wait::Verdict;

/// The apiVersion of the kinds a lab names without one.
pub fn api_version_of(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        "Service" | "ConfigMap" | "Secret" | "Pod" | "PersistentVolumeClaim" | "ServiceAccount" | "Namespace" => "v1",
        "Job" | "CronJob" => "batch/v1",
        "Ingress" | "NetworkPolicy" => "networking.k8s.io/v1",
        "HorizontalPodAutoscaler" => "autoscaling/v2",
        "PodDisruptionBudget" => "policy/v1",
        "Role" | "RoleBinding" => "rbac.authorization.k8s.io/v1",
        _ => return None,
    })
}

/// The object `kind`/`name` in `namespace` as the API server returns it, or `None`.
pub async fn get(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: &str,
) -> Result<Option<Value>, Error> {
    let placed = Object {
        source: format!("{kind}/{name}"),
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: (!manifest::CLUSTER_SCOPED.contains(&kind)).then(|| namespace.to_string()),
        body: Value::Null,
        digest: String::new(),
    };
    let api = Kinds::new(cluster.client.clone()).api(&placed).await?;
    let found = api.get_opt(name).await.map_err(|e| api_error(&format!("read {kind}/{name}"), e))?;
    Ok(found.map(|o| serde_json::to_value(o).unwrap_or_default()))
}

/// How many endpoints behind the Service are ready (its EndpointSlices).
pub async fn ready_endpoints(cluster: &Cluster, namespace: &str, service: &str) -> Result<usize, Error> {
    let api: Api<EndpointSlice> = Api::namespaced(cluster.client.clone(), namespace);
    let slices = api
        .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={service}")))
        .await
        .map_err(|e| api_error(&format!("list the endpoints of Service/{service}"), e))?;
    Ok(slices
        .items
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .count())
}

/// A workload's available replicas once its rollout is complete; `Err` says what it still waits
/// for.
pub fn available(kind: &str, object: &Value) -> Result<i32, String> {
    let look = rollout::look_at(kind, object)?;
    match look.verdict {
        Verdict::Done(()) => Ok(look.available),
        Verdict::Failed(why) | Verdict::Pending(why) => Err(why),
    }
}

/// The containers of a workload's pod template (or a Pod), init containers first.
fn containers(object: &Value) -> Vec<&Value> {
    let spec = match object.get("kind").and_then(Value::as_str) {
        Some("Pod") => object.get("spec"),
        Some("CronJob") => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    };
    let Some(spec) = spec else { return Vec::new() };
    ["containers"].iter().filter_map(|k| spec.get(k)?.as_array()).flatten().collect()
}

fn name_of(container: &Value) -> String {
    container.get("name").and_then(Value::as_str).unwrap_or("?").to_string()
}

/// The containers (not init containers) lacking a readiness or a liveness probe, with which.
pub fn missing_probes(object: &Value) -> Vec<String> {
    containers(object)
        .into_iter()
        .filter_map(|c| {
            let missing: Vec<&str> = ["readinessProbe", "livenessProbe"]
                .into_iter()
                .filter(|p| c.get(*p).is_none_or(Value::is_null))
                .collect();
            (!missing.is_empty()).then(|| format!("{} ({})", name_of(c), missing.join(", ")))
        })
        .collect()
}

/// The containers lacking a CPU or memory request or limit, with which.
pub fn missing_resources(object: &Value) -> Vec<String> {
    containers(object)
        .into_iter()
        .filter_map(|c| {
            let missing: Vec<String> = ["requests", "limits"]
                .iter()
                .flat_map(|set| ["cpu", "memory"].map(|r| (set, r)))
                .filter(|(set, r)| c.pointer(&format!("/resources/{set}/{r}")).is_none_or(Value::is_null))
                .map(|(set, r)| format!("{set}.{r}"))
                .collect();
            (!missing.is_empty()).then(|| format!("{} ({})", name_of(c), missing.join(", ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(containers: Value, status: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "generation": 2},
            "spec": {"replicas": 3, "selector": {}, "template": {"spec": {"containers": containers}}},
            "status": status,
        })
    }

    #[test]
    fn available_counts_replicas_only_of_a_complete_rollout() {
        let done = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 3});
        assert_eq!(available("Deployment", &deployment(json!([]), done)), Ok(3));
        let stale = json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3});
        assert!(available("Deployment", &deployment(json!([]), stale)).unwrap_err().contains("generation 2"));
        assert!(available("Service", &json!({})).is_err());
    }

    #[test]
    fn probes_and_resources_are_required_of_every_container() {
        let full = json!({
            "name": "app",
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8000}},
            "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
        });
        let bare = json!({"name": "sidecar", "readinessProbe": {"tcpSocket": {"port": 9}}, "resources": {"limits": {"memory": "64Mi"}}});
        let object = deployment(json!([full, bare]), json!({}));
        assert_eq!(missing_probes(&object), ["sidecar (livenessProbe)"]);
        assert_eq!(missing_resources(&object), ["sidecar (requests.cpu, requests.memory, limits.cpu)"]);
        let only_full = deployment(json!([full]), json!({}));
        assert!(missing_probes(&only_full).is_empty() && missing_resources(&only_full).is_empty());
    }

    #[test]
    fn common_kinds_have_their_api_version() {
        assert_eq!(api_version_of("Deployment"), Some("apps/v1"));
        assert_eq!(api_version_of("Service"), Some("v1"));
        assert_eq!(api_version_of("Widget"), None);
    }
}
