//! The Runtime seam on Kubernetes: a project as `labforge deploy` runs it in a cluster, seen the
//! way the checks see a stack on Docker. Each service of labforge.yaml is the workload `deploy`
//! made of it (the app: Deployment `DNS`; a database: StatefulSet `DNS-SERVICE`). Its ports are
//! reached from the host through local listeners on 127.0.0.1 that port-forward each connection
//! to a ready pod, as `kubectl port-forward` does; a command runs in a ready pod (`exec`); a
//! restart replaces the pods (as `kubectl rollout restart`) and waits for the rollout; logs are
//! the pods'.
//!
//! Bringing a project up is `labforge deploy`'s job and taking it down `undeploy`'s: [`ensure`]
//! and [`tear_down`] say so rather than doing half of it.
//!
//! [`ensure`]: Runtime::ensure
//! [`tear_down`]: Runtime::tear_down

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, LogParams};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use super::cluster::Cluster;
use super::rollout::{self, Workload};
use crate::base::wait::Verdict;
use crate::interrupt::Interrupt;
use crate::report::Reporter;
use crate::stack::Error;
use crate::stack::docker::{ImageInfo, State};
use crate::stack::down::DownReport;
use crate::stack::project::Project;
use crate::stack::ready::Readiness;
use crate::stack::runtime::{Lines, Observed, Runtime};
use crate::stack::up::{UpOptions, UpReport};

/// How often a restart looks at its rollout.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// A project's services as workloads of one namespace of a cluster.
pub struct OnKubernetes {
    cluster: Cluster,
    /// The local listeners already opened: (workload, container port) → host port.
    forwards: Mutex<BTreeMap<(String, u16), u16>>,
}

impl OnKubernetes {
    pub fn new(cluster: Cluster) -> OnKubernetes {
        OnKubernetes { cluster, forwards: Mutex::new(BTreeMap::new()) }
    }

    fn namespace(&self) -> &str {
        &self.cluster.namespace
    }

    /// The workload `deploy` made of `service`, if the cluster has it.
    async fn workload(&self, project: &Project, service: &str) -> Result<Option<(Workload, Value)>, Error> {
        let dns = project.name.replace('_', "-");
        let name = if project.app().is_some_and(|a| a.name == service) { dns } else { format!("{dns}-{service}") };
        let client = &self.cluster.client;
        let deployment: Option<Deployment> =
            Api::namespaced(client.clone(), self.namespace()).get_opt(&name).await.map_err(|e| failed(&name, e))?;
        if let Some(d) = deployment {
            return Ok(Some((Workload { kind: "Deployment".into(), name }, to_json(&d))));
        }
        let set: Option<StatefulSet> =
            Api::namespaced(client.clone(), self.namespace()).get_opt(&name).await.map_err(|e| failed(&name, e))?;
        Ok(set.map(|s| (Workload { kind: "StatefulSet".into(), name }, to_json(&s))))
    }

    /// The workload's pods that are ready, newest first; an error when none is.
    async fn ready_pod(&self, project: &Project, service: &str) -> Result<(Workload, String, String), Error> {
        let (workload, _) = self.workload(project, service).await?.ok_or_else(|| not_deployed(service))?;
        let pods = ready_pods(&self.cluster.client, self.namespace(), &workload).await?;
        let pod = pods.first().ok_or_else(|| {
            Error::NotRunning(format!("`{service}` has no ready pod in namespace {}", self.namespace()))
        })?;
        let container = pod_container(pod);
        Ok((workload, pod.metadata.name.clone().unwrap_or_default(), container))
    }

    /// A listener on 127.0.0.1 whose every connection is port-forwarded to `port` of a ready pod
    /// of `workload`; opened once.
    async fn forward(&self, workload: &Workload, port: u16) -> Result<u16, Error> {
        let mut forwards = self.forwards.lock().await;
        if let Some(local) = forwards.get(&(workload.name.clone(), port)) {
            return Ok(*local);
        }
        let listener = TcpListener::bind((crate::stack::kind::PUBLISHED_ON, 0))
            .await
            .map_err(|e| Error::Config(format!("cannot listen on 127.0.0.1 for a port-forward: {e}")))?;
        let local = listener.local_addr().map_err(|e| Error::Config(e.to_string()))?.port();
        let (client, namespace, workload_) =
            (self.cluster.client.clone(), self.namespace().to_string(), workload.clone());
        // The listener lives as long as the process: a check process is short, and each
        // connection picks a ready pod anew (pods come and go in a rollout).
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (client, namespace, workload) = (client.clone(), namespace.clone(), workload_.clone());
                tokio::spawn(async move {
                    let Ok(pods) = ready_pods(&client, &namespace, &workload).await else { return };
                    let Some(pod) = pods.first().and_then(|p| p.metadata.name.clone()) else { return };
                    let api: Api<Pod> = Api::namespaced(client, &namespace);
                    let Ok(mut forwarder) = api.portforward(&pod, &[port]).await else { return };
                    if let Some(mut upstream) = forwarder.take_stream(port) {
                        let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
                    }
                    forwarder.abort();
                });
            }
        });
        forwards.insert((workload.name.clone(), port), local);
        Ok(local)
    }
}

fn to_json<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or_default()
}

fn failed(name: &str, e: kube::Error) -> Error {
    Error::NotRunning(super::api_error(&format!("read {name}"), e).to_string())
}

fn not_deployed(service: &str) -> Error {
    Error::NotRunning(format!("`{service}` is not deployed (deploy it with `labforge deploy`)"))
}

/// The name of the pod's first container: the service's own (sidecars come after it).
fn pod_container(pod: &Pod) -> String {
    pod.spec.as_ref().and_then(|s| s.containers.first()).map(|c| c.name.clone()).unwrap_or_default()
}

fn is_ready(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    pod.metadata.deletion_timestamp.is_none()
        && status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The ready pods of `workload`, newest first.
async fn ready_pods(client: &kube::Client, namespace: &str, workload: &Workload) -> Result<Vec<Pod>, Error> {
    let mut pods: Vec<Pod> = rollout::pods_of(client, namespace, workload)
        .await
        .map_err(|e| Error::NotRunning(e.to_string()))?
        .into_iter()
        .filter(is_ready)
        .collect();
    pods.sort_by(|a, b| b.metadata.creation_timestamp.cmp(&a.metadata.creation_timestamp));
    Ok(pods)
}

/// The user the pod's first container runs as, from its security context (the container's, else
/// the pod's): `runAsUser`, else "non-root" when only `runAsNonRoot` is set; empty means root
/// or unknown.
fn user_of(workload: &Value) -> String {
    let spec = workload.pointer("/spec/template/spec");
    let container = spec.and_then(|s| s.pointer("/containers/0/securityContext"));
    let pod = spec.and_then(|s| s.get("securityContext"));
    let uid = [container, pod].into_iter().flatten().find_map(|c| c.get("runAsUser")?.as_i64());
    match uid {
        Some(0) => String::new(),
        Some(uid) => uid.to_string(),
        None if [container, pod].into_iter().flatten().any(|c| c.get("runAsNonRoot") == Some(&Value::Bool(true))) => {
            "non-root".into()
        }
        None => String::new(),
    }
}

impl Runtime for OnKubernetes {
    fn host(&self) -> &str {
        crate::stack::kind::PUBLISHED_ON
    }

    /// A project has one instance per namespace: `deploy` names its objects by the project.
    async fn place(&self, project: Project) -> Result<Project, Error> {
        Ok(project)
    }

    async fn ensure(
        &self,
        _project: &Project,
        _opts: &UpOptions,
        _report: &dyn Reporter,
        _interrupt: &Interrupt,
    ) -> Result<UpReport, Error> {
        Err(Error::Config("on a cluster, `labforge deploy` brings the project up".into()))
    }

    async fn observe(&self, project: &Project) -> Result<Vec<Observed>, Error> {
        let mut observed = Vec::new();
        for service in &project.services {
            let Some((workload, object)) = self.workload(project, &service.name).await? else { continue };
            let look = rollout::look_at(&workload.kind, &object).map_err(Error::NotRunning)?;
            let running = look.ready > 0;
            let mut ports = Vec::new();
            if running {
                ports.push((service.kind.port(), self.forward(&workload, service.kind.port()).await?));
            }
            observed.push(Observed {
                service: service.name.clone(),
                name: workload.id(),
                state: if running { State::Running } else { State::Created },
                // A workload's own health: every replica ready and the rollout complete.
                health: Some(match look.verdict {
                    Verdict::Done(()) => "healthy".to_string(),
                    Verdict::Pending(_) => "starting".to_string(),
                    Verdict::Failed(_) => "unhealthy".to_string(),
                }),
                exit_code: None,
                user: user_of(&object),
                ports,
                reloads: false,
                broken: None,
                outdated: false,
            });
        }
        Ok(observed)
    }

    async fn logs(&self, project: &Project, service: &str, tail: usize) -> Result<Vec<String>, Error> {
        let (_, pod, container) = self.ready_pod(project, service).await?;
        let pods: Api<Pod> = Api::namespaced(self.cluster.client.clone(), self.namespace());
        let params = LogParams { container: Some(container), tail_lines: Some(tail as i64), ..LogParams::default() };
        let text = pods.logs(&pod, &params).await.map_err(|e| failed(&pod, e))?;
        Ok(text.lines().map(str::to_string).collect())
    }

    async fn follow(&self, project: &Project, service: &str, tail: usize) -> Result<Lines, Error> {
        let (_, pod, container) = self.ready_pod(project, service).await?;
        let pods: Api<Pod> = Api::namespaced(self.cluster.client.clone(), self.namespace());
        let params = LogParams {
            container: Some(container),
            tail_lines: Some(tail as i64),
            follow: true,
            ..LogParams::default()
        };
        let stream = pods.log_stream(&pod, &params).await.map_err(|e| failed(&pod, e))?;
        Ok(stream.lines().map_err(|e| Error::NotRunning(format!("the log stream broke: {e}"))).boxed())
    }

    async fn exec(&self, project: &Project, service: &str, cmd: &[String]) -> Result<(i64, String), Error> {
        let (_, pod, container) = self.ready_pod(project, service).await?;
        let pods: Api<Pod> = Api::namespaced(self.cluster.client.clone(), self.namespace());
        let params = AttachParams::default().container(container).stdin(false).stdout(true).stderr(true);
        let mut attached = pods.exec(&pod, cmd.to_vec(), &params).await.map_err(|e| failed(&pod, e))?;
        let (mut stdout, mut stderr) = (attached.stdout(), attached.stderr());
        let status = attached.take_status();
        let (mut out, mut err) = (String::new(), String::new());
        if let Some(stdout) = stdout.as_mut() {
            let _ = stdout.read_to_string(&mut out).await;
        }
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut err).await;
        }
        let status = match status {
            Some(status) => status.await,
            None => None,
        };
        let _ = attached.join().await;
        out.push_str(&err);
        Ok((exit_code(status.as_ref()), out))
    }

    async fn restart(&self, project: &Project, service: &str, timeout: Duration) -> Result<Readiness, Error> {
        let (workload, _) = self.workload(project, service).await?.ok_or_else(|| not_deployed(service))?;
        rollout::restart(&self.cluster.client, self.namespace(), &workload)
            .await
            .map_err(|e| Error::NotRunning(e.to_string()))?;
        let started = Instant::now();
        let mut ticks = tokio::time::interval(LOOK_EVERY);
        let mut last = String::new();
        while started.elapsed() < timeout {
            ticks.tick().await;
            let look = rollout::look(&self.cluster.client, self.namespace(), &workload)
                .await
                .map_err(|e| Error::NotRunning(e.to_string()))?;
            match look.map(|l| l.verdict) {
                Some(Verdict::Done(())) => return Ok(crate::stack::ready::ready(started)),
                Some(Verdict::Failed(why)) => {
                    return Ok(Readiness::Failed { reason: why, logs: Vec::new(), diagnosis: None });
                }
                Some(Verdict::Pending(why)) => last = why,
                None => return Err(not_deployed(service)),
            }
        }
        Ok(Readiness::Failed {
            reason: format!("the restart's rollout did not complete within {}s ({last})", timeout.as_secs()),
            logs: Vec::new(),
            diagnosis: None,
        })
    }

    /// The nodes hold the images; what runs there cannot be measured from here.
    async fn image(&self, _project: &Project, _service: &str) -> Result<Option<ImageInfo>, Error> {
        Ok(None)
    }

    async fn tear_down(&self, _project: &Project, _volumes: bool, _report: &dyn Reporter) -> Result<DownReport, Error> {
        Err(Error::Config("on a cluster, `labforge undeploy` removes the project".into()))
    }
}

/// A command's exit code from the Status its exec ended with: 0 for Success, the `ExitCode`
/// cause otherwise (-1 when the API says nothing usable).
fn exit_code(status: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>) -> i64 {
    let Some(status) = status else { return -1 };
    if status.status.as_deref() == Some("Success") {
        return 0;
    }
    status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
        .and_then(|c| c.message.as_deref()?.parse().ok())
        .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_user_comes_from_the_containers_security_context_else_the_pods() {
        let with = |container: Value, pod: Value| json!({"spec": {"template": {"spec": {"securityContext": pod, "containers": [{"name": "app", "securityContext": container}]}}}});
        assert_eq!(user_of(&with(json!({"runAsUser": 10001}), json!({"runAsUser": 0}))), "10001");
        assert_eq!(user_of(&with(json!(null), json!({"runAsUser": 999}))), "999");
        assert_eq!(user_of(&with(json!({"runAsUser": 0}), json!({"runAsUser": 999}))), "");
        assert_eq!(user_of(&with(json!(null), json!({"runAsNonRoot": true}))), "non-root");
        assert_eq!(user_of(&with(json!(null), json!(null))), "");
    }

    #[test]
    fn an_exec_ends_with_its_exit_code() {
        let status = |json: Value| serde_json::from_value(json).unwrap();
        assert_eq!(exit_code(Some(&status(json!({"status": "Success"})))), 0);
        let failed = json!({"status": "Failure", "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}});
        assert_eq!(exit_code(Some(&status(failed))), 3);
        assert_eq!(exit_code(Some(&status(json!({"status": "Failure"})))), -1);
        assert_eq!(exit_code(None), -1);
    }
}
