//! `deploy` as steps, each timed and reported: reach the cluster, build the app's image (tagged
//! by content) and get it to the nodes, apply `k8s/`, wait for the rollout, prove the app
//! answers. And `undeploy`, its inverse for what labforge applied.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::apply::{self, Applied, Change, Kinds};
use super::cluster::{self, Cluster, Target};
use super::diagnose::Diagnosis;
use super::kind::{self, Kind};
use super::manifest::{self, Object};
use super::prove::{self, Answer};
use super::rollout::{self, Rollout, Workload};
use super::{Error, api_error};
use crate::context::Context;
use crate::interrupt::Interrupt;
use crate::report::{Event, Reporter};
use crate::stack::docker::{Docker, Engine, Progress};
use crate::stack::image::resolve_image;
use crate::stack::project::{Mode, Project};
use crate::stack::up::UpOptions;

/// What `deploy` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// `HOST[:PORT]/PATH` the cluster pulls from, for clusters that cannot see local images.
    pub registry: Option<String>,
    /// How long the rollout may take.
    pub timeout: Duration,
    /// Change nothing in the cluster: the API server validates every change without storing it.
    pub dry_run: bool,
    pub ca_bundle: Option<Vec<u8>>,
}

/// One step's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub ok: bool,
    pub detail: String,
    pub seconds: f64,
}

/// Everything `deploy` did, for the terminal and `--json`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub context: String,
    pub namespace: String,
    pub dry_run: bool,
    pub image: Option<String>,
    pub steps: Vec<Step>,
    pub applied: Vec<Applied>,
    pub rollout: Option<Rollout>,
    pub answers: Vec<Answer>,
    pub problems: Vec<Diagnosis>,
    /// Where the host reaches the app (a kind cluster's published node port).
    pub url: Option<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok) && self.problems.is_empty()
    }

    fn step(&mut self, step: &'static str, ok: bool, detail: String, started: Instant, report: &dyn Reporter) {
        let seconds = started.elapsed().as_secs_f64();
        report.emit(Event::Step { step: step.to_string(), ok, detail: detail.clone(), seconds });
        self.steps.push(Step { step, ok, detail, seconds });
    }
}

/// The project as `deploy` needs it: its name, app service and files.
struct Source<'a> {
    project: Project,
    dir: &'a Path,
    env: BTreeMap<String, String>,
}

impl Source<'_> {
    fn load<'a>(dir: &'a Path, ctx: &Context) -> Result<Source<'a>, Error> {
        let project = Project::load(dir, Mode::Prod, ctx)?;
        let env = crate::stack::project::read_dotenv(dir)?;
        Ok(Source { project, dir, env })
    }

    fn services(&self) -> Vec<String> {
        self.project
            .services
            .iter()
            .filter(|s| Some(s.name.as_str()) != self.project.app().map(|a| a.name.as_str()))
            .map(|s| s.name.clone())
            .collect()
    }

    fn objects(&self, namespace: &str, image: Option<&str>) -> Result<Vec<Object>, Error> {
        let documents = manifest::load(&self.dir.join(manifest::DIR))?;
        let services = self.services();
        let project =
            manifest::Project { name: &self.project.name, namespace, image, env: &self.env, services: &services };
        let mut objects = manifest::prepare(&documents, &project)?;
        if namespace != "default" && !objects.iter().any(|o| o.kind == "Namespace" && o.name == namespace) {
            objects.insert(0, namespace_object(namespace, &self.project.name));
        }
        Ok(objects)
    }
}

/// The namespace a `--namespace` names, made when missing. `undeploy` leaves it: it may hold
/// more than this project.
fn namespace_object(namespace: &str, project: &str) -> Object {
    let docs = [manifest::Document {
        source: "--namespace".into(),
        body: serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
    }];
    let p = manifest::Project { name: project, namespace, ..Default::default() };
    manifest::prepare(&docs, &p).map(|mut o| o.remove(0)).expect("a namespace object is valid")
}

/// Deploys the project in `dir`. `Err` is for what the user must fix before a deploy can start
/// (exit 2); a step that fails is in the report (exit 1).
pub async fn deploy(
    dir: &Path,
    options: &Options,
    ctx: &Context,
    report: &dyn Reporter,
    interrupt: &Interrupt,
) -> Result<Report, Error> {
    let source = Source::load(dir, ctx)?;
    // Every manifest problem is found before anything is built or touched.
    source.objects("default", None)?;
    let started = Instant::now();
    let cluster = cluster::connect(&options.target, ctx).await?;
    let mut out = Report {
        context: cluster.context.clone(),
        namespace: cluster.namespace.clone(),
        dry_run: options.dry_run,
        ..Report::default()
    };
    let where_ = match &cluster.kind {
        Some(name) => format!("kind cluster {name}"),
        None => cluster.server.clone(),
    };
    if cluster.kind.is_none() && options.registry.is_none() && !options.dry_run {
        return Err(Error::Config(format!(
            "context {} is not a kind cluster, so its nodes cannot see this machine's images: pass --registry HOST/PATH, a registry the cluster pulls from",
            cluster.context
        )));
    }
    out.step(
        "cluster",
        true,
        format!("context {} ({where_}), namespace {}", cluster.context, cluster.namespace),
        started,
        report,
    );

    // The image: built by content, then on the nodes.
    let started = Instant::now();
    let docker = match source.project.app() {
        Some(_) => Some(Docker::connect(&ctx.docker_host(), crate::stack::docker::CONNECT_DEADLINE).await?),
        None => None,
    };
    let image = match (source.project.app(), &docker) {
        (Some(app), Some(docker)) => {
            let opts =
                UpOptions { timeout: options.timeout, strict_ports: false, ca_bundle: options.ca_bundle.clone() };
            let built = resolve_image(docker, &source.project, app, &opts, report).await?;
            let (reference, detail) = if options.dry_run {
                (built.reference.clone(), format!("{} (not sent to the cluster: dry run)", built.reference))
            } else {
                deliver(docker, &cluster, options, &built.reference, &built.id, ctx, report).await?
            };
            out.step("image", true, detail, started, report);
            Some(reference)
        }
        _ => None,
    };
    out.image = image.clone();

    // The objects, and on a kind cluster that publishes its node port, a Service on it.
    let started = Instant::now();
    let mut objects = source.objects(&cluster.namespace, image.as_deref())?;
    if let (Some(name), Some(image), Some(docker)) = (&cluster.kind, &image, &docker)
        && let Some(host_port) = node_port_on_host(docker, name).await
        && let Some(doc) = manifest::host_service(&objects, image, kind::NODE_PORT)
    {
        let p = manifest::Project { name: &source.project.name, namespace: &cluster.namespace, ..Default::default() };
        objects.extend(manifest::prepare(&[doc], &p)?);
        out.url = Some(format!("http://127.0.0.1:{host_port}"));
    }
    let mut kinds = Kinds::new(cluster.client.clone());
    out.applied = apply::apply(&mut kinds, &objects, options.dry_run).await?;
    let count = |c: Change| out.applied.iter().filter(|a| a.change == c).count();
    let detail = format!(
        "{} objects: {} created, {} configured, {} unchanged{}",
        out.applied.len(),
        count(Change::Created),
        count(Change::Configured),
        count(Change::Unchanged),
        if options.dry_run { " (dry run: nothing stored)" } else { "" }
    );
    out.step("apply", true, detail, started, report);
    if options.dry_run {
        return Ok(out);
    }

    // The rollout.
    let started = Instant::now();
    let workloads: Vec<Workload> = objects
        .iter()
        .filter(|o| rollout::is_workload(&o.kind))
        .map(|o| Workload { kind: o.kind.clone(), name: o.name.clone() })
        .collect();
    let every = Duration::from_secs(1);
    let waited =
        rollout::wait(&cluster.client, &cluster.namespace, &workloads, options.timeout, every, interrupt).await?;
    let ok = waited.problems.is_empty();
    let detail = if ok {
        waited.completed.iter().map(|(w, s)| format!("{w} in {s:.1}s")).collect::<Vec<_>>().join(", ")
    } else {
        format!("{} problem(s)", waited.problems.len())
    };
    out.problems.extend(waited.problems.clone());
    out.rollout = Some(waited);
    out.step(
        "rollout",
        ok,
        if workloads.is_empty() { "no Deployment or StatefulSet".into() } else { detail },
        started,
        report,
    );
    if !ok {
        return Ok(out);
    }

    // The proof.
    if let Some(app) = source.project.app() {
        let started = Instant::now();
        let answers = answer(&cluster, &objects, image.as_deref(), app).await?;
        let ok = answers.iter().all(Answer::ok);
        let detail = answers
            .iter()
            .map(|a| format!("{} {}", a.path, a.status.map_or("no answer".to_string(), |s| s.to_string())))
            .collect::<Vec<_>>()
            .join(", ");
        let via = answers.first().map(|a| a.via.clone()).unwrap_or_default();
        if !ok {
            for a in answers.iter().filter(|a| !a.ok()) {
                out.problems.push(Diagnosis {
                    object: format!("{} via {}", a.path, a.via),
                    problem: format!(
                        "the app answers {} on {}",
                        a.status.map_or("nothing".into(), |s| s.to_string()),
                        a.path
                    ),
                    detail: vec![a.body.clone()],
                    fix: "read what the app says above; `labforge logs --cluster` shows its log".into(),
                    final_: true,
                });
            }
        }
        out.answers = answers;
        out.step("answers", ok, format!("{detail} ({via})"), started, report);
    }
    Ok(out)
}

/// The host port a kind cluster's control-plane node publishes [`kind::NODE_PORT`] on.
async fn node_port_on_host(docker: &Docker, cluster: &str) -> Option<u16> {
    let node = docker.inspect(&format!("{cluster}-control-plane")).await.ok()??;
    node.bindings.iter().find(|(container, _)| *container == kind::NODE_PORT).map(|(_, host)| *host)
}

/// Gets the built image to the cluster's nodes; returns the reference the manifests use and
/// what was done.
async fn deliver(
    docker: &Docker,
    cluster: &Cluster,
    options: &Options,
    reference: &str,
    id: &str,
    ctx: &Context,
    report: &dyn Reporter,
) -> Result<(String, String), Error> {
    if let Some(registry) = &options.registry {
        let registry = registry.trim_end_matches('/');
        let (_, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
        let repository = reference.rsplit_once(':').map_or(reference, |(r, _)| r);
        let name = repository.rsplit('/').next().unwrap_or(repository);
        let target = format!("{registry}/{name}:{tag}");
        // Pushed before: the digest the registry gave it is on the image (tags are by content).
        let repository = format!("{registry}/{name}@");
        if let Some(info) = docker.image_info(id).await?
            && let Some(pinned) = info.repo_digests.iter().find(|d| d.starts_with(&repository))
        {
            return Ok((pinned.clone(), format!("{reference} already pushed as {pinned}")));
        }
        docker.tag(id, &target).await?;
        let mut sink = |p: Progress| {
            if let Progress::Line(line) = p {
                report.emit(Event::BuildLine { service: "push".into(), line });
            }
        };
        let digest = docker.push(&target, &mut sink).await?;
        let pinned = format!("{registry}/{name}@{digest}");
        return Ok((pinned.clone(), format!("{reference} pushed as {pinned}")));
    }
    let cluster_name = cluster.kind.clone().unwrap_or_default();
    let kind = Kind::find(ctx, None)?;
    let nodes = kind.nodes(&cluster_name).await?;
    let mut lacking = Vec::new();
    for node in &nodes {
        if !node_has(docker, node, reference, id).await {
            lacking.push(node.clone());
        }
    }
    if lacking.is_empty() && !nodes.is_empty() {
        return Ok((
            reference.to_string(),
            format!("{reference} already on the node{}", if nodes.len() == 1 { "" } else { "s" }),
        ));
    }
    kind.load(&cluster_name, reference).await?;
    Ok((
        reference.to_string(),
        format!(
            "{reference} loaded into {}",
            if lacking.is_empty() { "the cluster".to_string() } else { lacking.join(", ") }
        ),
    ))
}

/// Whether a kind node (a container on this Docker) holds the image with this id: what it
/// stores under the reference has the same config digest, which is Docker's image id.
async fn node_has(docker: &Docker, node: &str, reference: &str, id: &str) -> bool {
    let cmd: Vec<String> = ["crictl", "inspecti", "-o", "json", reference].iter().map(|s| s.to_string()).collect();
    match docker.exec(node, &cmd).await {
        Ok((0, output)) => serde_json::from_str::<serde_json::Value>(&output)
            .ok()
            .and_then(|v| v.pointer("/status/id").and_then(|i| i.as_str()).map(|i| i == id))
            .unwrap_or(false),
        _ => false,
    }
}

/// Asks the app's liveness and readiness paths through a ready pod of the workload that runs
/// the image, or through its Service.
async fn answer(
    cluster: &Cluster,
    objects: &[Object],
    image: Option<&str>,
    app: &crate::stack::project::Service,
) -> Result<Vec<Answer>, Error> {
    let workload = objects
        .iter()
        .filter(|o| rollout::is_workload(&o.kind))
        .find(|o| image.is_some_and(|i| manifest::images(&o.body).iter().any(|x| x == i)))
        .or_else(|| objects.iter().find(|o| o.kind == "Deployment"));
    let Some(workload) = workload else { return Ok(Vec::new()) };
    let port = app.ports.first().map_or(app.ready.port, |p| p.container);
    let pods = rollout::pods_of(
        &cluster.client,
        &cluster.namespace,
        &Workload { kind: workload.kind.clone(), name: workload.name.clone() },
    )
    .await?;
    let ready = pods.iter().find(|p| {
        p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    });
    let pod_name = ready.and_then(|p| p.metadata.name.clone());
    let labels = workload
        .body
        .pointer("/spec/template/metadata/labels")
        .and_then(|l| l.as_object())
        .cloned()
        .unwrap_or_default();
    let service = objects.iter().filter(|o| o.kind == "Service").find(|s| {
        let selector = s.body.pointer("/spec/selector").and_then(|l| l.as_object());
        selector.is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
    });
    let service = service.map(|s| {
        let port = s
            .body
            .pointer("/spec/ports/0/port")
            .map_or("80".to_string(), |p| p.to_string().trim_matches('"').to_string());
        (s.name.as_str(), port)
    });
    let mut paths: Vec<String> = app.ready.live.iter().cloned().collect();
    paths.extend(app.ready.http_path().map(str::to_string));
    if paths.is_empty() {
        paths.push("/".to_string());
    }
    let target =
        prove::Target { namespace: &cluster.namespace, pod: pod_name.as_deref(), container_port: port, service };
    Ok(prove::ask(&cluster.client, &target, &paths).await)
}

/// What `undeploy` removed.
#[derive(Debug, Clone, Serialize)]
pub struct Undeployed {
    pub context: String,
    pub namespace: String,
    pub deleted: Vec<String>,
}

/// Deletes what labforge applied for the project in `dir` (labelled as the project's and with
/// labforge's field manager), nothing else. Volumes of StatefulSets (their claims) stay.
pub async fn undeploy(dir: &Path, target: &Target, ctx: &Context) -> Result<Undeployed, Error> {
    let source = Source::load(dir, ctx)?;
    let cluster = cluster::connect(target, ctx).await?;
    let objects: Vec<Object> =
        source.objects(&cluster.namespace, None)?.into_iter().filter(|o| o.kind != "Namespace").collect();
    let mut kinds = Kinds::new(cluster.client.clone());
    let deleted = apply::delete(&mut kinds, &objects, &source.project.name).await?;
    Ok(Undeployed { context: cluster.context, namespace: cluster.namespace, deleted })
}

/// The last lines of the app's pods, for `logs --cluster`.
pub async fn logs(dir: &Path, target: &Target, ctx: &Context, tail: i64) -> Result<Vec<(String, String)>, Error> {
    let source = Source::load(dir, ctx)?;
    let cluster = cluster::connect(target, ctx).await?;
    let objects = source.objects(&cluster.namespace, None)?;
    let mut out = Vec::new();
    let pods_api: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(cluster.client.clone(), &cluster.namespace);
    for o in objects.iter().filter(|o| rollout::is_workload(&o.kind)) {
        for pod in rollout::pods_of(
            &cluster.client,
            &cluster.namespace,
            &Workload { kind: o.kind.clone(), name: o.name.clone() },
        )
        .await?
        {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let params = kube::api::LogParams { tail_lines: Some(tail), ..Default::default() };
            let text = pods_api
                .logs(&name, &params)
                .await
                .map_err(|e| api_error(&format!("read the log of pod/{name}"), e))?;
            out.push((name, text));
        }
    }
    Ok(out)
}

/// A workload of the project as the cluster has it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadStatus {
    pub object: String,
    pub ready: i32,
    pub desired: i32,
    /// `complete`, `missing`, or what the rollout still waits for.
    pub state: String,
}

/// The project on the cluster, for `status --cluster`.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub context: String,
    pub namespace: String,
    pub workloads: Vec<WorkloadStatus>,
}

impl ClusterStatus {
    pub fn healthy(&self) -> bool {
        !self.workloads.is_empty() && self.workloads.iter().all(|w| w.state == "complete")
    }
}

/// Each Deployment and StatefulSet of `k8s/`: its ready replicas and whether its rollout is
/// complete, judged as `deploy` judges it.
pub async fn status(dir: &Path, target: &Target, ctx: &Context) -> Result<ClusterStatus, Error> {
    use crate::base::wait::Verdict;
    let source = Source::load(dir, ctx)?;
    let cluster = cluster::connect(target, ctx).await?;
    let objects = source.objects(&cluster.namespace, None)?;
    let mut workloads = Vec::new();
    for o in objects.iter().filter(|o| rollout::is_workload(&o.kind)) {
        let workload = Workload { kind: o.kind.clone(), name: o.name.clone() };
        let (state, ready, desired) = match rollout::look(&cluster.client, &cluster.namespace, &workload).await? {
            None => ("missing".to_string(), 0, 0),
            Some(look) => {
                let state = match look.verdict {
                    Verdict::Done(()) => "complete".to_string(),
                    Verdict::Failed(why) | Verdict::Pending(why) => why,
                };
                (state, look.ready, look.desired)
            }
        };
        workloads.push(WorkloadStatus { object: o.id(), ready, desired, state });
    }
    Ok(ClusterStatus { context: cluster.context, namespace: cluster.namespace, workloads })
}
