//! `up`: observe what already runs, plan, apply through the [`Engine`], and prove every service
//! ready. A service whose config hash is unchanged is left alone; one that changed is recreated
//! alone; dependents start once their dependencies' containers have started (they wait for them
//! by themselves), or once those are ready for `depends_on` with `condition: ready`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::watch;

use super::Error;
use super::diagnose::diagnose;
use super::docker::{Container, ContainerSpec, DockerError, Engine, State};
use super::image::{Image, resolve_image};
use super::instance::LABEL_DIR;
use super::kind::PUBLISHED_ON;
use super::ports::{choose_ports, free_port, port_is_free, warn_moved_ports};
use super::project::{
    LABEL_CONFIG_HASH, LABEL_MODE, LABEL_PROJECT, LABEL_SERVICE, LABEL_SPEC_HASH, Mode, Project, Service,
};
use super::ready::{Readiness, failed, subscribe, wait_ready};
use super::spec::ServiceKind;
use crate::interrupt::Interrupt;
use crate::report::{Event, Object, Reporter, Started};

/// Choices for one `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Deadline for each service to become ready.
    pub timeout: Duration,
    /// Fail (exit 2) instead of choosing another port when a requested one is busy.
    pub strict_ports: bool,
    /// PEM bundle trusted by pip inside the app image build.
    pub ca_bundle: Option<Vec<u8>>,
}

/// What `up` did to a service's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Unchanged,
    Started,
    Created,
    Recreated,
    /// Not touched: a dependency failed, or `up` was interrupted first.
    Skipped,
}

/// One service's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub kind: ServiceKind,
    pub container: String,
    pub action: Action,
    /// (container port, host port on [`PUBLISHED_ON`]).
    #[serde(serialize_with = "ports_as_objects")]
    pub ports: Vec<(u16, u16)>,
    pub readiness: Readiness,
}

fn ports_as_objects<S: serde::Serializer>(ports: &[(u16, u16)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(ports.len()))?;
    for (container, host) in ports {
        seq.serialize_element(&serde_json::json!({ "container": container, "host": host, "host_ip": PUBLISHED_ON }))?;
    }
    seq.end()
}

/// The outcome of `up`.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub services: Vec<ServiceReport>,
    pub interrupted: bool,
}

impl UpReport {
    pub fn all_ready(&self) -> bool {
        !self.interrupted && self.services.iter().all(|s| matches!(s.readiness, Readiness::Ready { .. }))
    }

    /// Containers created or recreated by this run.
    pub fn changed(&self) -> usize {
        self.services.iter().filter(|s| matches!(s.action, Action::Created | Action::Recreated)).count()
    }
}

/// The planned container for a service.
struct Planned<'a> {
    service: &'a Service,
    hash: String,
    existing: Option<Container>,
    action: Action,
    ports: Vec<(u16, u16)>,
}

/// Brings `project` up.
pub async fn up<E: Engine>(
    engine: &E,
    project: &Project,
    opts: &UpOptions,
    report: &dyn Reporter,
    interrupt: &Interrupt,
) -> Result<UpReport, Error> {
    let existing = engine.containers(project.instance.name()).await?;
    let by_service = |name: &str| existing.iter().find(|c| c.label(LABEL_SERVICE) == Some(name)).cloned();

    // Ports are checked before anything is created, so `--strict-ports` fails with nothing done.
    let mut ports: BTreeMap<String, Vec<(u16, u16)>> = BTreeMap::new();
    for service in &project.services {
        let held = by_service(&service.name).filter(|c| c.state == State::Running);
        ports.insert(service.name.clone(), choose_ports(service, held.as_ref(), opts.strict_ports)?);
    }

    let network = project.network_name();
    // A container that is not on the network as it exists now (the network was removed, and
    // perhaps made again) cannot reach the others: it is made anew, its volumes kept.
    let network_is_new = !engine.network_exists(&network).await?;
    if network_is_new {
        engine.create_network(&network, labels(project, None, None)).await?;
        report.emit(Event::Created { object: Object::Network, name: network.clone() });
    }
    let attached = |c: &Container| !network_is_new && c.networks.contains(&network);
    for service in &project.services {
        for (volume, _) in &service.volumes {
            if !engine.volume_exists(volume).await? {
                engine.create_volume(volume, labels(project, Some(&service.name), None)).await?;
                report.emit(Event::Created { object: Object::Volume, name: volume.clone() });
            }
        }
    }

    let mut images = HashMap::new();
    for service in &project.services {
        if interrupt.is_set() {
            return Ok(skipped_report(project, "interrupted before it started", true));
        }
        let image = tokio::select! {
            image = resolve_image(engine, project, service, opts, report) => image?,
            () = interrupt.wait() => return Ok(skipped_report(project, "interrupted before it started", true)),
        };
        images.insert(service.name.clone(), image);
    }

    let plans: Vec<Planned> = project
        .services
        .iter()
        .map(|service| {
            let image = &images[&service.name];
            let hash = service.config_hash(&image.id);
            let existing = by_service(&service.name);
            let same = |c: &Container| c.label(LABEL_CONFIG_HASH) == Some(hash.as_str());
            // A stopped container starts again on the ports it was created with: only while
            // they are all free; else it is made anew on the ports chosen now.
            let action = match &existing {
                Some(c) if same(c) && attached(c) && c.state == State::Running => Action::Unchanged,
                Some(c)
                    if same(c)
                        && attached(c)
                        && c.state != State::Dead
                        && c.bindings.iter().all(|(_, h)| port_is_free(*h)) =>
                {
                    Action::Started
                }
                Some(_) => Action::Recreated,
                None => Action::Created,
            };
            let ports = match (&existing, action) {
                (Some(c), Action::Unchanged) if !c.ports.is_empty() => {
                    c.ports.iter().map(|(container, _, host)| (*container, *host)).collect()
                }
                (Some(c), Action::Started) if !c.bindings.is_empty() => c.bindings.clone(),
                _ => ports[&service.name].clone(),
            };
            Planned { service, hash, existing, action, ports }
        })
        .collect();
    for plan in &plans {
        warn_moved_ports(plan.service, &plan.ports, report);
    }

    // Subscribe before starting anything, so no die or health event can be missed.
    let (events_tx, events_task) = subscribe(engine, project.instance.name());

    // Every container that needs creating is created at once; each service then starts the moment
    // its dependencies' containers have started (or, for `condition: ready`, once they are ready),
    // and reports as soon as it is ready itself. A dependent that starts early waits for its
    // dependencies by itself; its own readiness probe passes only once they answer.
    let started: Vec<watch::Sender<Option<bool>>> = plans.iter().map(|_| watch::channel(None).0).collect();
    let outcomes: Vec<watch::Sender<Option<bool>>> = plans.iter().map(|_| watch::channel(None).0).collect();
    let index: HashMap<&str, usize> = plans.iter().enumerate().map(|(i, p)| (p.service.name.as_str(), i)).collect();
    let runs = plans.iter().enumerate().map(|(i, plan)| {
        let (started, outcomes, index) = (&started, &outcomes, &index);
        let events = events_tx.subscribe();
        let image = &images[&plan.service.name];
        async move {
            let prepared = prepare(engine, project, plan, image).await;
            let mut blocked = None;
            for dep in &plan.service.depends_on {
                let gate = if plan.service.ready_first.contains(dep) { outcomes } else { started };
                let mut rx = gate[index[dep.as_str()]].subscribe();
                let ok = rx.wait_for(Option::is_some).await.map(|v| *v == Some(true)).unwrap_or(false);
                if !ok && blocked.is_none() {
                    blocked = Some(format!("`{dep}` is not ready"));
                }
            }
            if blocked.is_none() && interrupt.is_set() {
                blocked = Some("interrupted before it started".to_string());
            }
            let mut ports = plan.ports.clone();
            let result = match (blocked, prepared) {
                (Some(reason), _) => (Action::Skipped, Readiness::Skipped { reason }),
                (None, Err(e)) => (plan.action, failed_to_start(&e)),
                (None, Ok(id)) => {
                    let start = start(engine, project, plan, image, id, &mut ports, opts.strict_ports, report).await;
                    started[i].send_replace(Some(start.is_ok()));
                    match start {
                        Err(e) => (plan.action, failed_to_start(&e)),
                        Ok(id) => {
                            let ready = wait_ready(
                                engine,
                                project,
                                plan.service,
                                &ports,
                                &id,
                                events,
                                opts.timeout,
                                interrupt,
                            );
                            let readiness = tokio::select! {
                                readiness = ready => readiness,
                                dep = failed_dependency(plan.service, outcomes, index) => {
                                    failed(engine, &id, format!("`{dep}`, which it depends on, did not become ready")).await
                                }
                            };
                            if let Readiness::Ready { seconds, .. } = &readiness {
                                let seconds = (plan.action != Action::Unchanged).then_some(*seconds);
                                report.emit(Event::ServiceReady { service: plan.service.name.clone(), seconds });
                            }
                            (plan.action, readiness)
                        }
                    }
                }
            };
            // A dependent never waits on a service that did not get as far as starting.
            started[i].send_if_modified(|s| {
                let unset = s.is_none();
                if unset {
                    *s = Some(false);
                }
                unset
            });
            outcomes[i].send_replace(Some(matches!(result.1, Readiness::Ready { .. })));
            (result.0, result.1, ports)
        }
    });
    let results = join_all(runs).await;
    events_task.abort();

    let interrupted = interrupt.is_set()
        || results
            .iter()
            .any(|(_, r, _)| matches!(r, Readiness::Skipped { reason } if reason.starts_with("interrupted")));
    let services = plans
        .into_iter()
        .zip(results)
        .map(|(p, (action, readiness, ports))| ServiceReport {
            name: p.service.name.clone(),
            kind: p.service.kind,
            container: project.container_name(&p.service.name),
            action,
            ports,
            readiness,
        })
        .collect();
    Ok(UpReport { services, interrupted })
}

fn failed_to_start(e: &Error) -> Readiness {
    let reason = e.to_string();
    let diagnosis = diagnose(&[], &reason).map(str::to_string);
    Readiness::Failed { reason, diagnosis, logs: Vec::new() }
}

fn skipped_report(project: &Project, reason: &str, interrupted: bool) -> UpReport {
    UpReport {
        services: project
            .services
            .iter()
            .map(|s| ServiceReport {
                name: s.name.clone(),
                kind: s.kind,
                container: project.container_name(&s.name),
                action: Action::Skipped,
                ports: Vec::new(),
                readiness: Readiness::Skipped { reason: reason.to_string() },
            })
            .collect(),
        interrupted,
    }
}

/// The labels every object of the project's instance carries.
pub fn labels(project: &Project, service: Option<&str>, hash: Option<&str>) -> HashMap<String, String> {
    let mut labels = HashMap::from([
        (LABEL_PROJECT.to_string(), project.instance.name().to_string()),
        (LABEL_DIR.to_string(), project.instance.dir().to_string()),
    ]);
    if let Some(service) = service {
        labels.insert(LABEL_SERVICE.to_string(), service.to_string());
    }
    if let Some(hash) = hash {
        labels.insert(LABEL_CONFIG_HASH.to_string(), hash.to_string());
    }
    labels
}

/// Makes the planned container exist, stopped or running as it is; returns its id. A container
/// to recreate is removed first. Nothing is started here.
async fn prepare<E: Engine>(engine: &E, project: &Project, plan: &Planned<'_>, image: &Image) -> Result<String, Error> {
    match (plan.action, &plan.existing) {
        (Action::Unchanged | Action::Started, Some(c)) => return Ok(c.id.clone()),
        (Action::Recreated, Some(c)) => engine.remove(&c.id, Duration::from_secs(10)).await?,
        _ => {}
    }
    create(engine, project, plan, image, &plan.ports).await
}

/// Creates the service's container, published on `ports`.
async fn create<E: Engine>(
    engine: &E,
    project: &Project,
    plan: &Planned<'_>,
    image: &Image,
    ports: &[(u16, u16)],
) -> Result<String, Error> {
    let service = plan.service;
    let spec = ContainerSpec {
        name: project.container_name(&service.name),
        image: image.reference.clone(),
        cmd: service.command.clone(),
        working_dir: service.working_dir.clone(),
        env: service.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        labels: {
            let mut labels = labels(project, Some(&service.name), Some(&plan.hash));
            let mode = match project.mode {
                Mode::Dev => "development",
                Mode::Prod => "production",
            };
            labels.insert(LABEL_MODE.to_string(), mode.to_string());
            labels.insert(LABEL_SPEC_HASH.to_string(), service.spec_hash());
            labels
        },
        ports: ports.to_vec(),
        volumes: service.volumes.clone(),
        binds: service.binds.iter().map(|b| (absolute(&b.host), b.target.clone(), b.read_only)).collect(),
        network: project.network_name(),
        aliases: vec![service.name.clone()],
        healthcheck: service.healthcheck.clone(),
    };
    Ok(engine.create(&spec).await?)
}

/// How many times a container is made anew on other ports when a host port it was given is
/// taken by another program between labforge's check and Docker's bind.
const PORT_ATTEMPTS: usize = 5;

/// Starts a prepared container (an unchanged one already runs) and reports it. When Docker
/// cannot bind a host port because another program took it after labforge chose it, the
/// container is made anew on a free port (unless `strict`), at most [`PORT_ATTEMPTS`] times;
/// `ports` ends as the ones really published.
#[allow(clippy::too_many_arguments)]
async fn start<E: Engine>(
    engine: &E,
    project: &Project,
    plan: &Planned<'_>,
    image: &Image,
    mut id: String,
    ports: &mut [(u16, u16)],
    strict: bool,
    report: &dyn Reporter,
) -> Result<String, Error> {
    let name = project.container_name(&plan.service.name);
    if plan.action == Action::Unchanged {
        return Ok(id);
    }
    let mut how = match plan.action {
        Action::Recreated => Started::Recreated,
        Action::Started => Started::Restarted,
        _ => Started::Created,
    };
    let mut attempt = 1;
    loop {
        let Err(e) = engine.start(&id).await else { break };
        let busy = busy_ports(&e, ports);
        let retry = !strict && !busy.is_empty() && attempt < PORT_ATTEMPTS;
        // A container that cannot start is removed again (one made by this run, or one about to
        // be made anew on other ports), so the next `up` starts clean.
        if retry || how != Started::Restarted {
            let _ = engine.remove(&id, Duration::from_secs(1)).await;
        }
        if !retry {
            return Err(e.into());
        }
        let mut moved = Vec::new();
        for (container, host) in ports.iter_mut().filter(|(_, host)| busy.contains(host)) {
            *host = free_port().map_err(|e| Error::Port(format!("no free port for `{}`: {e}", plan.service.name)))?;
            moved.push((*container, *host));
        }
        warn_moved_ports(plan.service, &moved, report);
        if how == Started::Restarted {
            how = Started::Recreated;
        }
        id = create(engine, project, plan, image, ports).await?;
        attempt += 1;
    }
    report.emit(Event::ServiceStarted {
        service: plan.service.name.clone(),
        container: name,
        how,
        ports: ports.to_vec(),
        host: PUBLISHED_ON.to_string(),
    });
    Ok(id)
}

/// The host ports of `ports` that Docker's start error says another program holds: the one it
/// names, or every one when it names none. Empty when the error is not about a busy port.
pub fn busy_ports(error: &DockerError, ports: &[(u16, u16)]) -> Vec<u16> {
    let text = error.to_string();
    if !["port is already allocated", "address already in use"].iter().any(|m| text.contains(m)) {
        return Vec::new();
    }
    let named: Vec<u16> = ports
        .iter()
        .map(|(_, host)| *host)
        .filter(|host| {
            text.contains(&format!("{PUBLISHED_ON}:{host} ")) || text.contains(&format!("{PUBLISHED_ON}:{host}:"))
        })
        .collect();
    if named.is_empty() { ports.iter().map(|(_, host)| *host).collect() } else { named }
}

/// The first of `service`'s dependencies whose readiness failed; pending while none has.
async fn failed_dependency(
    service: &Service,
    outcomes: &[watch::Sender<Option<bool>>],
    index: &HashMap<&str, usize>,
) -> String {
    let watches = service.depends_on.iter().map(|dep| {
        let mut rx = outcomes[index[dep.as_str()]].subscribe();
        Box::pin(async move {
            match rx.wait_for(|v| *v == Some(false)).await {
                Ok(_) => dep.clone(),
                Err(_) => std::future::pending().await,
            }
        })
    });
    let watches: Vec<_> = watches.collect();
    if watches.is_empty() {
        return std::future::pending().await;
    }
    futures_util::future::select_all(watches).await.0
}

fn absolute(path: &std::path::Path) -> String {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}
