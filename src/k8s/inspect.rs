//! Objects as they are in the cluster, for checks: any object by kind and name (as JSON), the
//! ready endpoints behind a Service, and whether a workload is available with N ready replicas
//! (the judgements of its pod template are in [`super::podspec`]).

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
    fn common_kinds_have_their_api_version() {
        assert_eq!(api_version_of("Deployment"), Some("apps/v1"));
        assert_eq!(api_version_of("Service"), Some("v1"));
        assert_eq!(api_version_of("Widget"), None);
    }
}
