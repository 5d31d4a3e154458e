//! An in-memory Docker Engine for the fast tier: containers, networks, volumes and images as
//! plain data, Engine events on a channel, and a script per image of what its containers do when
//! they start (run, exit, crash in their log, turn unhealthy). Every call is recorded, so a test
//! can say what `up` did and in which order, without a daemon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt};
use tokio::sync::broadcast;

use super::docker::{
    Container, ContainerSpec, DockerError, Engine, EngineInfo, Event, EventKind, ImageInfo, Labels, Progress, State,
};
use super::kind::PUBLISHED_ON;
use super::project::{LABEL_PROJECT, LABEL_SERVICE};

/// What a container of an image does when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Runs, and keeps running.
    #[default]
    Runs,
    /// Exits with this code right after starting.
    Exits(i64),
    /// Runs, and writes these lines to its log (a traceback, say).
    Logs(Vec<String>),
    /// Runs, and its healthcheck reports unhealthy.
    Unhealthy,
}

#[derive(Debug, Clone)]
struct Held {
    spec: ContainerSpec,
    /// The networks it is attached to: its spec's, until [`FakeEngine::cut_network`].
    networks: Vec<String>,
    state: State,
    exit_code: Option<i64>,
    logs: Vec<String>,
}

/// What an image says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageFacts {
    pub size_bytes: u64,
    pub healthcheck: bool,
    /// The user its containers run as (`USER`); empty for root.
    pub user: String,
}

#[derive(Debug, Default)]
struct World {
    containers: HashMap<String, Held>,
    networks: HashMap<String, Labels>,
    volumes: HashMap<String, Labels>,
    images: HashMap<String, String>,
    facts: HashMap<String, ImageFacts>,
    behaviours: HashMap<String, Behaviour>,
    /// What `exec` answers, by the command's first word.
    execs: HashMap<String, (i64, String)>,
    calls: Vec<String>,
    /// Why every pull fails, as with no registry reachable.
    pull_error: Option<String>,
    /// Host ports another program holds: a container published on one cannot start.
    taken_ports: Vec<u16>,
    /// Every host port is held by another program.
    every_port_taken: bool,
    next_id: u64,
}

/// The fake Engine.
pub struct FakeEngine {
    info: EngineInfo,
    world: Arc<Mutex<World>>,
    events: broadcast::Sender<Event>,
}

impl Default for FakeEngine {
    fn default() -> Self {
        FakeEngine {
            info: EngineInfo { endpoint: "fake://".into(), version: "fake".into(), api_version: "1.45".into() },
            world: Arc::default(),
            events: broadcast::channel(256).0,
        }
    }
}

impl FakeEngine {
    /// Containers of `image` will behave so when they start.
    pub fn script(&self, image: &str, behaviour: Behaviour) {
        self.world.lock().unwrap().behaviours.insert(image.to_string(), behaviour);
    }

    /// An image the daemon has, with what it says about itself.
    pub fn image(&self, reference: &str, facts: ImageFacts) {
        let mut world = self.world.lock().unwrap();
        world.images.insert(reference.to_string(), reference.to_string());
        world.facts.insert(reference.to_string(), facts);
    }

    /// `exec` of a command whose first word is `program` answers `code` and `output`.
    pub fn answer_exec(&self, program: &str, code: i64, output: &str) {
        self.world.lock().unwrap().execs.insert(program.to_string(), (code, output.to_string()));
    }

    /// Every mutating call so far, as `verb name` (`create shop-db`, `start shop-db`, ...).
    pub fn calls(&self) -> Vec<String> {
        self.world.lock().unwrap().calls.clone()
    }

    /// Every pull fails from now on, saying `reason`.
    pub fn fail_pulls(&self, reason: &str) {
        self.world.lock().unwrap().pull_error = Some(reason.to_string());
    }

    /// Another program holds host `port` from now on (taken after labforge saw it free).
    pub fn take_port(&self, port: u16) {
        self.world.lock().unwrap().taken_ports.push(port);
    }

    /// Another program takes every host port a container asks for.
    pub fn take_every_port(&self) {
        self.world.lock().unwrap().every_port_taken = true;
    }

    /// The host ports a container was created with.
    pub fn ports_of(&self, name: &str) -> Option<Vec<(u16, u16)>> {
        let world = self.world.lock().unwrap();
        world.containers.values().find(|b| b.spec.name == name).map(|b| b.spec.ports.clone())
    }

    /// `docker network disconnect` of every container, then `docker network rm`: a network a
    /// user removed by hand.
    pub fn cut_network(&self, name: &str) {
        let mut world = self.world.lock().unwrap();
        world.networks.remove(name);
        for held in world.containers.values_mut() {
            held.networks.retain(|n| n != name);
        }
    }

    /// Forgets the calls so far.
    pub fn clear_calls(&self) {
        self.world.lock().unwrap().calls.clear();
    }

    /// Names of the containers that exist, sorted.
    pub fn container_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.world.lock().unwrap().containers.values().map(|b| b.spec.name.clone()).collect();
        names.sort();
        names
    }

    /// The environment a container was created with.
    pub fn env_of(&self, name: &str) -> Option<Vec<(String, String)>> {
        let world = self.world.lock().unwrap();
        world.containers.values().find(|b| b.spec.name == name).map(|b| b.spec.env.clone())
    }

    fn record(&self, call: String) {
        self.world.lock().unwrap().calls.push(call);
    }

    fn name_of(&self, id: &str) -> String {
        self.world.lock().unwrap().containers.get(id).map(|b| b.spec.name.clone()).unwrap_or_else(|| id.to_string())
    }

    fn emit(&self, id: &str, service: &str, kind: EventKind) {
        let _ = self.events.send(Event { container: id.to_string(), service: service.to_string(), kind });
    }

    fn view(world: &World, id: &str, b: &Held) -> Container {
        Container {
            id: id.to_string(),
            name: b.spec.name.clone(),
            labels: b.spec.labels.clone(),
            state: b.state,
            health: None,
            exit_code: b.exit_code,
            oom_killed: false,
            image_id: b.spec.image.clone(),
            user: world.facts.get(&b.spec.image).map(|f| f.user.clone()).unwrap_or_default(),
            ports: if b.state == State::Running {
                b.spec.ports.iter().map(|(c, h)| (*c, PUBLISHED_ON.to_string(), *h)).collect()
            } else {
                Vec::new()
            },
            bindings: b.spec.ports.clone(),
            networks: b.networks.clone(),
        }
    }
}

fn in_project(labels: &Labels, project: &str) -> bool {
    labels.get(LABEL_PROJECT).map(String::as_str) == Some(project)
}

impl Engine for FakeEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    async fn containers(&self, project: &str) -> Result<Vec<Container>, DockerError> {
        let world = self.world.lock().unwrap();
        let mut found: Vec<Container> = world
            .containers
            .iter()
            .filter(|(_, b)| in_project(&b.spec.labels, project))
            .map(|(id, b)| FakeEngine::view(&world, id, b))
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    async fn inspect(&self, id: &str) -> Result<Option<Container>, DockerError> {
        let world = self.world.lock().unwrap();
        Ok(world.containers.get(id).map(|b| FakeEngine::view(&world, id, b)))
    }

    async fn labelled(&self, key: &str, value: &str) -> Result<Vec<Labels>, DockerError> {
        let world = self.world.lock().unwrap();
        let matches = |labels: &&Labels| labels.get(key).map(String::as_str) == Some(value);
        Ok(world
            .containers
            .values()
            .map(|b| &b.spec.labels)
            .chain(world.networks.values())
            .chain(world.volumes.values())
            .filter(matches)
            .cloned()
            .collect())
    }

    async fn network_exists(&self, name: &str) -> Result<bool, DockerError> {
        Ok(self.world.lock().unwrap().networks.contains_key(name))
    }

    async fn create_network(&self, name: &str, labels: Labels) -> Result<(), DockerError> {
        self.record(format!("create network {name}"));
        self.world.lock().unwrap().networks.insert(name.to_string(), labels);
        Ok(())
    }

    async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        self.record(format!("remove network {name}"));
        self.world.lock().unwrap().networks.remove(name);
        Ok(())
    }

    async fn project_networks(&self, project: &str) -> Result<Vec<String>, DockerError> {
        let world = self.world.lock().unwrap();
        Ok(world.networks.iter().filter(|(_, l)| in_project(l, project)).map(|(n, _)| n.clone()).collect())
    }

    async fn project_volumes(&self, project: &str) -> Result<Vec<String>, DockerError> {
        let world = self.world.lock().unwrap();
        Ok(world.volumes.iter().filter(|(_, l)| in_project(l, project)).map(|(n, _)| n.clone()).collect())
    }

    async fn volume_exists(&self, name: &str) -> Result<bool, DockerError> {
        Ok(self.world.lock().unwrap().volumes.contains_key(name))
    }

    async fn create_volume(&self, name: &str, labels: Labels) -> Result<(), DockerError> {
        self.record(format!("create volume {name}"));
        self.world.lock().unwrap().volumes.insert(name.to_string(), labels);
        Ok(())
    }

    async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        self.record(format!("remove volume {name}"));
        self.world.lock().unwrap().volumes.remove(name);
        Ok(())
    }

    async fn image_info(&self, reference: &str) -> Result<Option<ImageInfo>, DockerError> {
        let world = self.world.lock().unwrap();
        let known = world.images.iter().find(|(r, id)| *r == reference || *id == reference).map(|(r, _)| r);
        Ok(known.map(|r| {
            let facts = world.facts.get(r).cloned().unwrap_or_default();
            ImageInfo { size_bytes: facts.size_bytes, healthcheck: facts.healthcheck, repo_digests: Vec::new() }
        }))
    }

    async fn exec(&self, id: &str, cmd: &[String]) -> Result<(i64, String), DockerError> {
        self.record(format!("exec {} {}", self.name_of(id), cmd.join(" ")));
        let world = self.world.lock().unwrap();
        let program = cmd.first().map(String::as_str).unwrap_or_default();
        Ok(world.execs.get(program).cloned().unwrap_or((127, format!("{program}: not found"))))
    }

    async fn image_id(&self, reference: &str) -> Result<Option<String>, DockerError> {
        Ok(self.world.lock().unwrap().images.get(reference).cloned())
    }

    async fn pull(&self, reference: &str, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<(), DockerError> {
        self.record(format!("pull {reference}"));
        if let Some(reason) = self.world.lock().unwrap().pull_error.clone() {
            return Err(DockerError::Call { what: format!("pull {reference}"), reason });
        }
        progress(Progress::Layer { id: "layer1".into(), status: "Pull complete".into(), current: 1, total: 1 });
        self.world.lock().unwrap().images.insert(reference.to_string(), format!("sha256:{reference}"));
        Ok(())
    }

    async fn tag(&self, source: &str, target: &str) -> Result<(), DockerError> {
        self.record(format!("tag {source} {target}"));
        let mut world = self.world.lock().unwrap();
        let id = world.images.get(source).cloned().unwrap_or_else(|| source.to_string());
        world.images.insert(target.to_string(), id);
        Ok(())
    }

    async fn push(&self, reference: &str, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<String, DockerError> {
        self.record(format!("push {reference}"));
        progress(Progress::Line(format!("{reference}: pushed")));
        Ok(format!("sha256:{:064x}", reference.len()))
    }

    async fn build(
        &self,
        _context: Vec<u8>,
        tag: &str,
        _dockerfile: &str,
        _args: &HashMap<String, String>,
        _labels: &HashMap<String, String>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<String, DockerError> {
        self.record(format!("build {tag}"));
        progress(Progress::Line("Step 1/1 : FROM scratch".into()));
        let id = format!("sha256:{tag}");
        self.world.lock().unwrap().images.insert(tag.to_string(), id.clone());
        Ok(id)
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        self.record(format!("create {}", spec.name));
        let mut world = self.world.lock().unwrap();
        if world.containers.values().any(|b| b.spec.name == spec.name) {
            return Err(DockerError::Call {
                what: format!("create container {}", spec.name),
                reason: format!("Conflict. The container name \"/{}\" is already in use", spec.name),
            });
        }
        world.next_id += 1;
        let id = format!("c{}", world.next_id);
        world.containers.insert(
            id.clone(),
            Held {
                spec: spec.clone(),
                networks: vec![spec.network.clone()],
                state: State::Created,
                exit_code: None,
                logs: Vec::new(),
            },
        );
        Ok(id)
    }

    async fn start(&self, id: &str) -> Result<(), DockerError> {
        self.record(format!("start {}", self.name_of(id)));
        let (service, behaviour) = {
            let mut world = self.world.lock().unwrap();
            let behaviour = world
                .containers
                .get(id)
                .map(|b| world.behaviours.get(&b.spec.image).cloned().unwrap_or_default())
                .unwrap_or_default();
            let (every, taken) = (world.every_port_taken, world.taken_ports.clone());
            let Some(b) = world.containers.get_mut(id) else {
                return Err(DockerError::Call {
                    what: format!("start container {id}"),
                    reason: "no such container".into(),
                });
            };
            // Docker's own words when the port a container is published on is held elsewhere.
            if let Some((_, host)) = b.spec.ports.iter().find(|(_, h)| every || taken.contains(h)) {
                return Err(DockerError::Call {
                    what: format!("start container {}", b.spec.name),
                    reason: format!(
                        "driver failed programming external connectivity on endpoint {} (0f3c): Bind for {PUBLISHED_ON}:{host} failed: port is already allocated",
                        b.spec.name
                    ),
                });
            }
            b.state = State::Running;
            if let Behaviour::Logs(lines) = &behaviour {
                b.logs.extend(lines.iter().cloned());
            }
            if let Behaviour::Exits(code) = behaviour {
                b.state = State::Exited;
                b.exit_code = Some(code);
            }
            (b.spec.labels.get(LABEL_SERVICE).cloned().unwrap_or_default(), behaviour)
        };
        self.emit(id, &service, EventKind::Start);
        match behaviour {
            Behaviour::Exits(code) => self.emit(id, &service, EventKind::Die { exit_code: Some(code) }),
            Behaviour::Unhealthy => self.emit(id, &service, EventKind::Health { healthy: false }),
            Behaviour::Runs | Behaviour::Logs(_) => {}
        }
        Ok(())
    }

    async fn restart(&self, id: &str, _grace: Duration) -> Result<(), DockerError> {
        self.start(id).await
    }

    async fn remove(&self, id: &str, _grace: Duration) -> Result<(), DockerError> {
        self.record(format!("remove {}", self.name_of(id)));
        self.world.lock().unwrap().containers.remove(id);
        Ok(())
    }

    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>, DockerError> {
        let world = self.world.lock().unwrap();
        let logs = world.containers.get(id).map(|b| b.logs.clone()).unwrap_or_default();
        Ok(logs[logs.len().saturating_sub(tail)..].to_vec())
    }

    fn follow_logs(&self, _id: &str, _tail: usize) -> BoxStream<'static, Result<String, DockerError>> {
        futures_util::stream::empty().boxed()
    }

    fn events(&self, project: &str) -> BoxStream<'static, Result<Event, DockerError>> {
        let (world, project) = (Arc::clone(&self.world), project.to_string());
        futures_util::stream::unfold(self.events.subscribe(), |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(event) => return Some((event, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |event| {
            let world = world.lock().unwrap();
            let ours = world.containers.get(&event.container).is_some_and(|b| in_project(&b.spec.labels, &project));
            std::future::ready(ours)
        })
        .map(Ok)
        .boxed()
    }
}
