//! `up`: observe what already runs, plan, apply through the [`Engine`], and prove every service
//! ready. A service whose config hash is unchanged is left alone; one that changed is recreated
//! alone; dependents start only once their dependencies answer.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::context::{self, CA_PATH};
use super::diagnose::diagnose;
use super::docker::{Container, ContainerSpec, DockerError, Engine, Event, EventKind, Progress, State};
use super::project::{
    ImageSource, LABEL_CONFIG_HASH, LABEL_MODE, LABEL_PROJECT, LABEL_SERVICE, Mode, Project, Service,
};
use super::ready::Probe;
use super::spec::ServiceKind;
use super::{Error, endpoints, reload};
use crate::interrupt::Interrupt;
use crate::ui::Shell;
use crate::ui::progress::{BuildProgress, PullProgress};

/// How often a starting service is probed.
const PROBE_EVERY: Duration = Duration::from_millis(100);
/// How often a starting app's log is searched for a crash.
const CRASH_CHECK_EVERY: Duration = Duration::from_millis(1000);
/// How far back a starting app's log is searched for a traceback.
const CRASH_LOG_LINES: usize = 300;
/// How many log lines a failure report shows.
const FAILURE_LOG_LINES: usize = 40;

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

/// Whether a service was proven ready.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Readiness {
    /// Proven ready `seconds` after its wait began; `at_ms` is when (Unix time, milliseconds).
    Ready {
        seconds: f64,
        at_ms: u128,
    },
    Failed {
        reason: String,
        diagnosis: Option<String>,
        logs: Vec<String>,
    },
    Skipped {
        reason: String,
    },
}

/// One service's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub kind: ServiceKind,
    pub container: String,
    pub action: Action,
    /// (container port, host port on 127.0.0.1).
    #[serde(serialize_with = "ports_as_objects")]
    pub ports: Vec<(u16, u16)>,
    pub readiness: Readiness,
}

fn ports_as_objects<S: serde::Serializer>(ports: &[(u16, u16)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(ports.len()))?;
    for (container, host) in ports {
        seq.serialize_element(&serde_json::json!({ "container": container, "host": host, "host_ip": "127.0.0.1" }))?;
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

/// A service's image, resolved to the daemon's id.
struct Image {
    reference: String,
    id: String,
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
    shell: &Shell,
    interrupt: &Interrupt,
) -> Result<UpReport, Error> {
    let existing = engine.containers(&project.name).await?;
    let by_service = |name: &str| existing.iter().find(|c| c.label(LABEL_SERVICE) == Some(name)).cloned();

    // Ports are checked before anything is created, so `--strict-ports` fails with nothing done.
    let mut ports: BTreeMap<String, Vec<(u16, u16)>> = BTreeMap::new();
    for service in &project.services {
        let held = by_service(&service.name).filter(|c| c.state == State::Running);
        ports.insert(service.name.clone(), choose_ports(service, held.as_ref(), opts.strict_ports)?);
    }

    let network = project.network_name();
    if !engine.network_exists(&network).await? {
        engine.create_network(&network, labels(project, None, None)).await?;
        shell.status("Network", format_args!("{network} created"));
    }
    for service in &project.services {
        for (volume, _) in &service.volumes {
            if !engine.volume_exists(volume).await? {
                engine.create_volume(volume, labels(project, Some(&service.name), None)).await?;
                shell.status("Volume", format_args!("{volume} created"));
            }
        }
    }

    let mut images = HashMap::new();
    for service in &project.services {
        if interrupt.is_set() {
            return Ok(skipped_report(project, "interrupted before it started", true));
        }
        let image = tokio::select! {
            image = resolve_image(engine, project, service, opts, shell) => image?,
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
                Some(c) if same(c) && c.state == State::Running => Action::Unchanged,
                Some(c) if same(c) && c.state != State::Dead && c.bindings.iter().all(|(_, h)| port_is_free(*h)) => {
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
        warn_moved_ports(plan, shell);
    }

    // Subscribe before starting anything, so no die or health event can be missed.
    let (events_tx, events_task) = subscribe(engine, &project.name);

    // Every container that needs creating is created at once; each service then starts the moment
    // its own dependencies answer, and reports as soon as it is ready itself.
    let outcomes: Vec<watch::Sender<Option<bool>>> = plans.iter().map(|_| watch::channel(None).0).collect();
    let index: HashMap<&str, usize> = plans.iter().enumerate().map(|(i, p)| (p.service.name.as_str(), i)).collect();
    let runs = plans.iter().enumerate().map(|(i, plan)| {
        let outcomes = &outcomes;
        let index = &index;
        let events = events_tx.subscribe();
        let image = &images[&plan.service.name];
        async move {
            let prepared = prepare(engine, project, plan, image).await;
            let mut blocked = None;
            for dep in &plan.service.depends_on {
                let mut rx = outcomes[index[dep.as_str()]].subscribe();
                let ready = rx.wait_for(Option::is_some).await.map(|v| *v == Some(true)).unwrap_or(false);
                if !ready && blocked.is_none() {
                    blocked = Some(format!("`{dep}` is not ready"));
                }
            }
            if blocked.is_none() && interrupt.is_set() {
                blocked = Some("interrupted before it started".to_string());
            }
            let result = match (blocked, prepared) {
                (Some(reason), _) => (Action::Skipped, Readiness::Skipped { reason }),
                (None, Err(e)) => (plan.action, failed_to_start(&e)),
                (None, Ok(id)) => match start(engine, project, plan, id, shell).await {
                    Err(e) => (plan.action, failed_to_start(&e)),
                    Ok(id) => {
                        let readiness =
                            wait_ready(engine, plan.service, &plan.ports, &id, events, opts.timeout, interrupt).await;
                        let name = &plan.service.name;
                        match &readiness {
                            Readiness::Ready { .. } if plan.action == Action::Unchanged => {
                                shell.status("Ready", format_args!("{name} (unchanged)"))
                            }
                            Readiness::Ready { seconds, .. } => {
                                shell.status("Ready", format_args!("{name} in {seconds:.1}s"))
                            }
                            _ => {}
                        }
                        (plan.action, readiness)
                    }
                },
            };
            outcomes[i].send_replace(Some(matches!(result.1, Readiness::Ready { .. })));
            result
        }
    });
    let results = join_all(runs).await;
    events_task.abort();

    let interrupted = interrupt.is_set()
        || results.iter().any(|(_, r)| matches!(r, Readiness::Skipped { reason } if reason.starts_with("interrupted")));
    let services = plans
        .into_iter()
        .zip(results)
        .map(|(p, (action, readiness))| ServiceReport {
            name: p.service.name.clone(),
            kind: p.service.kind,
            container: project.container_name(&p.service.name),
            action,
            ports: p.ports,
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

/// The labels every object of the project carries.
pub fn labels(project: &Project, service: Option<&str>, hash: Option<&str>) -> HashMap<String, String> {
    let mut labels = HashMap::from([(LABEL_PROJECT.to_string(), project.name.clone())]);
    if let Some(service) = service {
        labels.insert(LABEL_SERVICE.to_string(), service.to_string());
    }
    if let Some(hash) = hash {
        labels.insert(LABEL_CONFIG_HASH.to_string(), hash.to_string());
    }
    labels
}

/// Host ports for a service: the requested ones, or free ones when those are busy.
fn choose_ports(service: &Service, held: Option<&Container>, strict: bool) -> Result<Vec<(u16, u16)>, Error> {
    let mut chosen = Vec::new();
    for port in &service.ports {
        // The service's own running container holding its port is not a conflict.
        let own = held.is_some_and(|c| c.ports.iter().any(|(cp, _, hp)| *cp == port.container && *hp == port.host));
        if own || port_is_free(port.host) {
            chosen.push((port.container, port.host));
        } else if strict {
            return Err(Error::Port(format!(
                "port {} for `{}` is in use on 127.0.0.1 (free it, change the port in labforge.yaml, or drop `--strict-ports` to let labforge choose one)",
                port.host, service.name
            )));
        } else {
            let free = free_port().map_err(|e| Error::Port(format!("no free port for `{}`: {e}", service.name)))?;
            chosen.push((port.container, free));
        }
    }
    Ok(chosen)
}

/// Says which of a service's ports are published elsewhere than labforge.yaml asks, naming the
/// port the service actually gets (a kept container keeps the port it was given before).
fn warn_moved_ports(plan: &Planned, shell: &Shell) {
    for port in &plan.service.ports {
        let Some(&(_, used)) = plan.ports.iter().find(|(container, _)| *container == port.container) else {
            continue;
        };
        if used == port.host {
            continue;
        }
        let name = &plan.service.name;
        if port_is_free(port.host) {
            shell.warn(format_args!(
                "`{name}` is published on 127.0.0.1:{used}, not {}: that port was in use when its container was made (`labforge down` then `labforge up` moves it back)",
                port.host
            ));
        } else {
            shell.warn(format_args!("port {} is in use: `{name}` is published on 127.0.0.1:{used} instead", port.host));
        }
    }
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Finds or pulls a service's image, or builds the app's image when its content hash is new.
async fn resolve_image<E: Engine>(
    engine: &E,
    project: &Project,
    service: &Service,
    opts: &UpOptions,
    shell: &Shell,
) -> Result<Image, Error> {
    match &service.image {
        ImageSource::Pull(reference) => {
            if let Some(id) = engine.image_id(reference).await? {
                return Ok(Image { reference: reference.clone(), id });
            }
            shell.status("Pulling", reference);
            let started = Instant::now();
            let mut progress = PullProgress::new(shell);
            let mut sink = |p: Progress| match p {
                Progress::Layer { id, status, current, total } => progress.layer(&id, &status, current, total),
                Progress::Line(text) => progress.line(&text),
            };
            let pulled = engine.pull(reference, &mut sink).await;
            progress.finish();
            pulled?;
            let id = engine.image_id(reference).await?.ok_or_else(|| {
                Error::Docker(DockerError::Call {
                    what: format!("pull {reference}"),
                    reason: "the image is still missing after the pull".into(),
                })
            })?;
            shell.status("Pulled", format_args!("{reference} in {:.1}s", started.elapsed().as_secs_f64()));
            Ok(Image { reference: reference.clone(), id })
        }
        ImageSource::Build { context: dir, dockerfile, args, rebuild_on } => {
            let extra: Vec<(&str, &[u8])> = opts.ca_bundle.as_deref().map(|ca| vec![(CA_PATH, ca)]).unwrap_or_default();
            let packed = context::pack(dir, &extra)?;
            let args_text = serde_json::to_string(args).unwrap_or_default();
            // Development images depend only on what installs dependencies, so a source edit
            // never rebuilds; production images depend on the whole context.
            let hash = match project.mode {
                Mode::Dev => {
                    let mut parts: Vec<Vec<u8>> = vec![args_text.into_bytes(), dockerfile.as_bytes().to_vec()];
                    for file in rebuild_on.iter().chain(std::iter::once(dockerfile)) {
                        parts.push(file.as_bytes().to_vec());
                        parts.push(std::fs::read(dir.join(file)).unwrap_or_default());
                    }
                    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                    format!("dev-{}", context::digest(&refs))
                }
                Mode::Prod => context::digest(&[args_text.as_bytes(), &packed.tar]),
            };
            let reference = format!("labforge/{}-{}:{hash}", project.name, service.name);
            if let Some(id) = engine.image_id(&reference).await? {
                return Ok(Image { reference, id });
            }
            shell.status("Building", format_args!("{reference} ({} files in the context)", packed.files.len()));
            let started = Instant::now();
            let mut progress = BuildProgress::new(shell, &service.name);
            let mut sink = |p: Progress| {
                if let Progress::Line(text) = p {
                    progress.line(&text);
                }
            };
            let args: HashMap<String, String> = args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let built = engine
                .build(
                    packed.tar,
                    &reference,
                    dockerfile,
                    &args,
                    // One label: the classic builder adds a layer per label.
                    &labels(project, None, None),
                    &mut sink,
                )
                .await;
            progress.finish();
            let id = built?;
            shell.status("Built", format_args!("{reference} in {:.1}s", started.elapsed().as_secs_f64()));
            Ok(Image { reference, id })
        }
    }
}

/// Makes the planned container exist, stopped or running as it is; returns its id. A container
/// to recreate is removed first. Nothing is started here.
async fn prepare<E: Engine>(engine: &E, project: &Project, plan: &Planned<'_>, image: &Image) -> Result<String, Error> {
    let service = plan.service;
    match (plan.action, &plan.existing) {
        (Action::Unchanged | Action::Started, Some(c)) => return Ok(c.id.clone()),
        (Action::Recreated, Some(c)) => engine.remove(&c.id, Duration::from_secs(10)).await?,
        _ => {}
    }
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
            labels
        },
        ports: plan.ports.clone(),
        volumes: service.volumes.clone(),
        binds: service.binds.iter().map(|b| (absolute(&b.host), b.target.clone(), b.read_only)).collect(),
        network: project.network_name(),
        aliases: vec![service.name.clone()],
        healthcheck: service.healthcheck.clone(),
    };
    Ok(engine.create(&spec).await?)
}

/// Starts a prepared container (an unchanged one already runs) and reports it.
async fn start<E: Engine>(
    engine: &E,
    project: &Project,
    plan: &Planned<'_>,
    id: String,
    shell: &Shell,
) -> Result<String, Error> {
    let name = project.container_name(&plan.service.name);
    if plan.action == Action::Unchanged {
        return Ok(id);
    }
    if let Err(e) = engine.start(&id).await {
        // A container that cannot start (its port was taken meanwhile, say) is removed again, so
        // the next `up` starts clean.
        if plan.action != Action::Started {
            let _ = engine.remove(&id, Duration::from_secs(1)).await;
        }
        return Err(e.into());
    }
    let published: Vec<String> = plan.ports.iter().map(|(c, h)| format!("{c} → 127.0.0.1:{h}")).collect();
    let verb = match plan.action {
        Action::Recreated => "Recreated",
        Action::Started => "Started",
        _ => "Created",
    };
    if published.is_empty() {
        shell.status(verb, &name);
    } else {
        shell.status(verb, format_args!("{name} ({})", published.join(", ")));
    }
    Ok(id)
}

fn absolute(path: &std::path::Path) -> String {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

/// The protocol probe for a service, on its published port.
pub fn probe_for(service: &Service, ports: &[(u16, u16)]) -> Result<Option<Probe>, String> {
    let host_port = |default: u16| ports.iter().find(|(c, _)| *c == default).or(ports.first()).map(|(_, h)| *h);
    Ok(match service.kind {
        ServiceKind::Postgres => host_port(5432).map(|port| {
            let user = service.env_or("POSTGRES_USER", "postgres");
            let database = service.env_or("POSTGRES_DB", &user);
            Probe::postgres(port, user, service.env_or("POSTGRES_PASSWORD", ""), database)
        }),
        ServiceKind::Mongo => match host_port(27017) {
            Some(port) => Some(Probe::mongo(
                port,
                service.env.get("MONGO_INITDB_ROOT_USERNAME").filter(|u| !u.is_empty()).cloned(),
                service.env.get("MONGO_INITDB_ROOT_PASSWORD").cloned(),
            )?),
            None => None,
        },
        ServiceKind::App => host_port(8000).map(|port| Probe::http(port, &service.ready_path)),
    })
}

/// The project's Engine events, forwarded to every subscriber of the channel by a task the caller
/// aborts when done.
fn subscribe<E: Engine>(engine: &E, project: &str) -> (broadcast::Sender<Event>, tokio::task::JoinHandle<()>) {
    let (events_tx, _) = broadcast::channel::<Event>(256);
    let mut stream = engine.events(project);
    let forward = events_tx.clone();
    let task = tokio::spawn(async move {
        while let Some(Ok(event)) = stream.next().await {
            let _ = forward.send(event);
        }
    });
    (events_tx, task)
}

/// Restarts `service`'s container and waits until it is ready again exactly as `up` waits: its
/// protocol probe, Engine events, crash signatures in its log, within `timeout`.
pub async fn restart<E: Engine>(
    engine: &E,
    project: &str,
    service: &Service,
    container: &Container,
    grace: Duration,
    timeout: Duration,
) -> Result<Readiness, DockerError> {
    engine.restart(&container.id, grace).await?;
    // Subscribed after the restart, which has already stopped the old process: its `die` is not
    // this start's. A death in between shows in the state `wait_ready` inspects first.
    let (events_tx, events_task) = subscribe(engine, project);
    let ports: Vec<(u16, u16)> = container.ports.iter().map(|(inside, _, host)| (*inside, *host)).collect();
    let readiness =
        wait_ready(engine, service, &ports, &container.id, events_tx.subscribe(), timeout, &Interrupt::never()).await;
    events_task.abort();
    Ok(readiness)
}

/// Waits until the service answers its probe, or it dies, turns unhealthy, or the deadline
/// passes. Events arrive as they happen; the probe runs every [`PROBE_EVERY`].
async fn wait_ready<E: Engine>(
    engine: &E,
    service: &Service,
    ports: &[(u16, u16)],
    id: &str,
    mut events: broadcast::Receiver<Event>,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Readiness {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let probe = match probe_for(service, ports) {
        Ok(p) => p,
        Err(reason) => return failed(engine, id, reason).await,
    };
    // A container that is already gone (an unchanged one that died since) fails at once.
    match engine.inspect(id).await {
        Ok(Some(c)) if c.state == State::Running => {}
        Ok(Some(c)) => {
            return failed(
                engine,
                id,
                format!("the container is {:?} (exit code {})", c.state, c.exit_code.unwrap_or(-1)).to_lowercase(),
            )
            .await;
        }
        Ok(None) => return failed(engine, id, "the container disappeared".into()).await,
        Err(e) => return failed(engine, id, e.to_string()).await,
    }
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A reloading development server survives its app's crash and waits for an edit, so the
    // container never dies: the crash shows only in the log.
    let mut crash_check = tokio::time::interval(CRASH_CHECK_EVERY);
    crash_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = String::from("no answer yet");
    let mut crash_seen = 0;
    loop {
        tokio::select! {
            () = interrupt.wait() => return Readiness::Skipped { reason: "interrupted while waiting".into() },
            () = tokio::time::sleep_until(deadline) => {
                return failed(engine, id, format!("not ready after {}s (last probe: {last})", timeout.as_secs())).await;
            }
            event = events.recv() => match event.map(|e| (e.container == id).then_some(e.kind)) {
                Ok(Some(EventKind::Die { exit_code })) => {
                    return failed(engine, id, format!("the container exited with code {}", exit_code.unwrap_or(-1))).await;
                }
                Ok(Some(EventKind::Oom)) => return failed(engine, id, "the container ran out of memory".into()).await,
                Ok(Some(EventKind::Health { healthy: false })) => {
                    return failed(engine, id, "the container's healthcheck reports unhealthy".into()).await;
                }
                Ok(Some(EventKind::Health { healthy: true })) if probe.is_none() => return ready(started),
                _ => {}
            },
            _ = crash_check.tick(), if service.kind == ServiceKind::App => {
                // Tracebacks through importlib run to dozens of lines: look further back than
                // the report shows.
                let logs = engine.logs(id, CRASH_LOG_LINES).await.unwrap_or_default();
                // A traceback after the server last started is this start's crash: seen on two
                // checks in a row while the probe still fails, not a passing one the app
                // logged and survived.
                crash_seen = if reload::ends_in_crash(&logs) { crash_seen + 1 } else { 0 };
                if crash_seen >= 2 {
                    let reason = "the app crashed while starting (its traceback is below)".to_string();
                    let diagnosis = diagnose(&logs, &reason).map(str::to_string);
                    let shown = logs[logs.len().saturating_sub(FAILURE_LOG_LINES)..].to_vec();
                    return Readiness::Failed { reason, diagnosis, logs: shown };
                }
            }
            _ = tick.tick() => match &probe {
                Some(probe) => match probe.check().await {
                    Ok(()) => return ready(started),
                    // The database answered and refused the credentials: waiting cannot help.
                    // (While it initialises it does not listen on TCP at all.)
                    Err(e) if is_auth_failure(&e) => {
                        return failed(engine, id, format!("the database refused labforge's credentials: {e}")).await;
                    }
                    Err(e) => last = e,
                },
                // Without a published port, a running container with no healthcheck is the best
                // evidence there is.
                None if service.healthcheck.is_none() => return ready(started),
                None => {}
            },
        }
    }
}

fn is_auth_failure(probe_error: &str) -> bool {
    ["password authentication failed", "AuthenticationFailed", "Authentication failed"]
        .iter()
        .any(|n| probe_error.contains(n))
}

fn ready(started: Instant) -> Readiness {
    let at_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    Readiness::Ready { seconds: started.elapsed().as_secs_f64(), at_ms }
}

async fn failed<E: Engine>(engine: &E, id: &str, reason: String) -> Readiness {
    let logs = engine.logs(id, FAILURE_LOG_LINES).await.unwrap_or_default();
    let diagnosis = diagnose(&logs, &reason).map(str::to_string);
    Readiness::Failed { reason, diagnosis, logs }
}

/// Prints the end-of-`up` table: each service, its state and where to reach it.
pub fn print_report(shell: &Shell, project: &Project, report: &UpReport) {
    for service in &report.services {
        if let Readiness::Failed { reason, diagnosis, logs } = &service.readiness {
            shell.line("");
            shell.line(format_args!("{} failed: {reason}", shell.bold(&service.name)));
            if !logs.is_empty() {
                shell.line(format_args!("  last {} log lines of {}:", logs.len(), service.container));
                for line in logs {
                    shell.line(format_args!("  │ {line}"));
                }
            }
            if let Some(d) = diagnosis {
                shell.line(format_args!("  diagnosis: {d}"));
            }
        }
    }
    shell.line("");
    let width = report.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
    shell.line(format_args!("{:<width$}  {:<8}  {}", "SERVICE", "STATE", "ADDRESS"));
    for s in &report.services {
        let state = match &s.readiness {
            Readiness::Ready { .. } => "ready",
            Readiness::Failed { .. } => "failed",
            Readiness::Skipped { .. } => "skipped",
        };
        let address = project.service(&s.name).map(|svc| endpoints::address(svc, &s.ports)).unwrap_or_default();
        shell.line(format_args!("{:<width$}  {state:<8}  {address}", s.name));
    }
}
