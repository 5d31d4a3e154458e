//! The Docker Engine, behind [`Engine`]: the operations labforge uses, in labforge's own types.
//! [`Docker`] is the real adapter on bollard; no bollard type leaves this file.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkCreateRequest, NetworkingConfig,
    PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters as q;
use futures_util::stream::{BoxStream, StreamExt};

use super::kind::PUBLISHED_ON;
use super::project::{Healthcheck, LABEL_PROJECT};

/// A failed Engine call: what labforge was doing and what the daemon said.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "cannot reach the Docker daemon at {endpoint}: {reason} (start Docker, or point DOCKER_HOST at a running daemon; `labforge doctor` checks the setup)"
    )]
    Unreachable { endpoint: String, reason: String },
    #[error("docker: {what}: {reason}")]
    Call { what: String, reason: String },
}

fn call(what: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> DockerError {
    let what = what.into();
    move |e| DockerError::Call { what, reason: reason(&e) }
}

/// `Ok(None)` for the daemon's 404: an absent object is an answer, not an error.
fn absent_ok<T>(result: Result<T, bollard::errors::Error>, what: impl Into<String>) -> Result<Option<T>, DockerError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(e) => Err(call(what)(e)),
    }
}

/// The daemon's message without bollard's wrapping.
fn reason(e: &bollard::errors::Error) -> String {
    match e {
        // Something that is not a daemon (a proxy, another web server) answers with no message.
        bollard::errors::Error::DockerResponseServerError { message, status_code } if message.trim().is_empty() => {
            format!("it answered HTTP {status_code} with no message, so it is no Docker daemon")
        }
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => {
            // The innermost cause that says something tells what happened ("Connection refused");
            // the outer layers only say which client noticed.
            let mut said = other.to_string();
            let mut cause: &dyn std::error::Error = other;
            while let Some(source) = cause.source() {
                cause = source;
                let text = source.to_string();
                if !text.trim().is_empty() {
                    said = text;
                }
            }
            if said.trim().is_empty() { format!("{other:?}") } else { said }
        }
    }
}

/// An object's labels.
pub type Labels = HashMap<String, String>;

/// The daemon labforge talks to.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub endpoint: String,
    pub version: String,
    pub api_version: String,
}

/// A container's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Created,
    Running,
    Restarting,
    Paused,
    Exited,
    Dead,
    Other,
}

/// A labelled container as the Engine reports it.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub labels: HashMap<String, String>,
    pub state: State,
    /// `starting`, `healthy`, `unhealthy`, or `None` without a healthcheck.
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub image_id: String,
    /// The user the container runs as (`Config.User`); empty means root.
    pub user: String,
    /// (container port, host IP, host port) for published TCP ports.
    pub ports: Vec<(u16, String, u16)>,
    /// (container port, host port) the container publishes whenever it runs: what a stopped
    /// container will take when it starts again.
    pub bindings: Vec<(u16, u16)>,
    /// The networks it is attached to, by name.
    pub networks: Vec<String>,
}

impl Container {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// The host port a container port is published on.
    pub fn host_port(&self, container_port: u16) -> Option<u16> {
        self.ports.iter().find(|(c, _, _)| *c == container_port).map(|(_, _, h)| *h)
    }
}

/// What labforge needs to know about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub size_bytes: u64,
    /// The image defines a HEALTHCHECK.
    pub healthcheck: bool,
    /// `REGISTRY/PATH@sha256:...` for each registry the image was pushed to or pulled from.
    pub repo_digests: Vec<String>,
}

/// Everything needed to create a container.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub env: Vec<(String, String)>,
    pub labels: HashMap<String, String>,
    /// (container port, host port), published on [`PUBLISHED_ON`].
    pub ports: Vec<(u16, u16)>,
    /// (volume name, path in the container).
    pub volumes: Vec<(String, String)>,
    /// (host path, path in the container).
    /// (host path, path in the container, read-only).
    pub binds: Vec<(String, String, bool)>,
    pub network: String,
    /// Names other containers reach this one by on the network.
    pub aliases: Vec<String>,
    pub healthcheck: Option<Healthcheck>,
}

/// An Engine event about one of a project's containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The container's id: a recreated service has a new one, and its old container's `die`
    /// must not be taken for the new one's.
    pub container: String,
    pub service: String,
    pub kind: EventKind,
}

/// What happened to the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Start,
    Die { exit_code: Option<i64> },
    Oom,
    Health { healthy: bool },
}

/// A line of image pull or build progress.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Per-layer pull progress: layer id, status, bytes done and total when known.
    Layer { id: String, status: String, current: u64, total: u64 },
    /// A line of build output or a pull status without a layer.
    Line(String),
}

/// The Engine operations labforge uses. The real one is [`Docker`]; tests may supply another.
#[allow(async_fn_in_trait)]
pub trait Engine {
    fn info(&self) -> &EngineInfo;
    async fn containers(&self, project: &str) -> Result<Vec<Container>, DockerError>;
    async fn inspect(&self, id: &str) -> Result<Option<Container>, DockerError>;
    async fn network_exists(&self, name: &str) -> Result<bool, DockerError>;
    async fn create_network(&self, name: &str, labels: HashMap<String, String>) -> Result<(), DockerError>;
    async fn remove_network(&self, name: &str) -> Result<(), DockerError>;
    /// The labels of every container, network and volume labelled `key=value`.
    async fn labelled(&self, key: &str, value: &str) -> Result<Vec<Labels>, DockerError>;
    /// Names of the project's labelled networks and volumes.
    async fn project_networks(&self, project: &str) -> Result<Vec<String>, DockerError>;
    async fn project_volumes(&self, project: &str) -> Result<Vec<String>, DockerError>;
    async fn volume_exists(&self, name: &str) -> Result<bool, DockerError>;
    async fn create_volume(&self, name: &str, labels: HashMap<String, String>) -> Result<(), DockerError>;
    async fn remove_volume(&self, name: &str) -> Result<(), DockerError>;
    /// Size and healthcheck of an image, or `None` when the daemon does not have it.
    async fn image_info(&self, reference: &str) -> Result<Option<ImageInfo>, DockerError>;
    /// Runs `cmd` in a running container; returns its exit code and combined output.
    async fn exec(&self, id: &str, cmd: &[String]) -> Result<(i64, String), DockerError>;
    /// The image's id, or `None` when the daemon does not have it.
    async fn image_id(&self, reference: &str) -> Result<Option<String>, DockerError>;
    async fn pull(&self, reference: &str, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<(), DockerError>;
    /// Gives the image `source` (a reference or an id) the name `target` (`REPOSITORY:TAG`).
    async fn tag(&self, source: &str, target: &str) -> Result<(), DockerError>;
    /// Pushes `reference` (`REGISTRY/PATH:TAG`) to its registry; returns the manifest digest the
    /// registry stored it under (`sha256:...`).
    async fn push(&self, reference: &str, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<String, DockerError>;
    /// Builds from an uncompressed tar context; returns the image id.
    async fn build(
        &self,
        context: Vec<u8>,
        tag: &str,
        dockerfile: &str,
        args: &HashMap<String, String>,
        labels: &HashMap<String, String>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<String, DockerError>;
    async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError>;
    async fn start(&self, id: &str) -> Result<(), DockerError>;
    /// Stops a running container (its process gets `grace` after SIGTERM) and starts it again.
    async fn restart(&self, id: &str, grace: Duration) -> Result<(), DockerError>;
    /// Stops (SIGTERM, then SIGKILL after `grace`) and removes a container and its anonymous volumes.
    async fn remove(&self, id: &str, grace: Duration) -> Result<(), DockerError>;
    /// The last `tail` lines of a container's output (stdout and stderr).
    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>, DockerError>;
    /// A container's output as it is written, after its last `tail` lines.
    fn follow_logs(&self, id: &str, tail: usize) -> BoxStream<'static, Result<String, DockerError>>;
    /// Start, die, OOM and health events of the project's containers, from now on.
    fn events(&self, project: &str) -> BoxStream<'static, Result<Event, DockerError>>;
}

/// The Docker Engine through bollard.
#[derive(Debug, Clone)]
pub struct Docker {
    client: bollard::Docker,
    info: EngineInfo,
}

/// How long labforge waits for the Docker daemon to answer before saying it is unreachable.
pub const CONNECT_DEADLINE: Duration = Duration::from_millis(900);

impl Docker {
    /// Connects to the daemon at `host` (`unix://PATH`, `tcp://HOST:PORT`), negotiates the API
    /// version (Engine API 1.41 and later) and reads the daemon's version, all within `deadline`,
    /// so an absent daemon is reported at once.
    pub async fn connect(host: &str, deadline: Duration) -> Result<Docker, DockerError> {
        let endpoint = host.to_string();
        let unreachable = |reason: String| DockerError::Unreachable { endpoint: endpoint.clone(), reason };
        let attempt = async {
            let client = bollard::Docker::connect_with_host(host).map_err(|e| unreachable(reason(&e)))?;
            let client = client.negotiate_version().await.map_err(|e| unreachable(reason(&e)))?;
            let version = client.version().await.map_err(|e| unreachable(reason(&e)))?;
            Ok::<_, DockerError>((client, version))
        };
        let (client, version) = tokio::time::timeout(deadline, attempt)
            .await
            .map_err(|_| unreachable(format!("no answer within {} ms", deadline.as_millis())))??;
        let info = EngineInfo {
            endpoint: endpoint.clone(),
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
        };
        // Long operations (builds, pulls) have their own deadlines; individual calls get bollard's.
        Ok(Docker { client: client.with_timeout(Duration::from_secs(600)), info })
    }
}

fn label_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{LABEL_PROJECT}={project}")])])
}

fn to_state(s: Option<&str>) -> State {
    match s {
        Some("created") => State::Created,
        Some("running") => State::Running,
        Some("restarting") => State::Restarting,
        Some("paused") => State::Paused,
        Some("exited") => State::Exited,
        Some("dead") => State::Dead,
        _ => State::Other,
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

impl Engine for Docker {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    async fn containers(&self, project: &str) -> Result<Vec<Container>, DockerError> {
        let options = q::ListContainersOptionsBuilder::default().all(true).filters(&label_filter(project)).build();
        let summaries = self.client.list_containers(Some(options)).await.map_err(call("list containers"))?;
        let mut out = Vec::new();
        for summary in summaries {
            if let Some(id) = summary.id
                && let Some(container) = self.inspect(&id).await?
            {
                out.push(container);
            }
        }
        Ok(out)
    }

    async fn inspect(&self, id: &str) -> Result<Option<Container>, DockerError> {
        let inspected = self.client.inspect_container(id, None::<q::InspectContainerOptions>).await;
        let Some(c) = absent_ok(inspected, format!("inspect container {id}"))? else {
            return Ok(None);
        };
        let state = c.state.unwrap_or_default();
        let settings = c.network_settings.unwrap_or_default();
        let mut networks: Vec<String> = settings.networks.unwrap_or_default().into_keys().collect();
        networks.sort();
        let mut ports = Vec::new();
        for (key, bindings) in settings.ports.unwrap_or_default() {
            let Some(port) = key.strip_suffix("/tcp").and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            for b in bindings.unwrap_or_default() {
                if let Some(host) = b.host_port.and_then(|p| p.parse::<u16>().ok()) {
                    ports.push((port, b.host_ip.unwrap_or_default(), host));
                }
            }
        }
        ports.sort();
        let mut bindings = Vec::new();
        let configured = c.host_config.as_ref().and_then(|h| h.port_bindings.clone()).unwrap_or_default();
        for (key, hosts) in configured {
            let Some(port) = key.strip_suffix("/tcp").and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            for b in hosts.unwrap_or_default() {
                if let Some(host) = b.host_port.and_then(|p| p.parse::<u16>().ok()) {
                    bindings.push((port, host));
                }
            }
        }
        bindings.sort();
        Ok(Some(Container {
            id: c.id.unwrap_or_default(),
            name: c.name.unwrap_or_default().trim_start_matches('/').to_string(),
            user: c.config.as_ref().and_then(|cfg| cfg.user.clone()).unwrap_or_default(),
            labels: c.config.and_then(|cfg| cfg.labels).unwrap_or_default(),
            state: to_state(state.status.map(|s| s.to_string()).as_deref()),
            health: state.health.and_then(|h| h.status).map(|s| s.to_string()).filter(|s| !s.is_empty() && s != "none"),
            exit_code: state.exit_code,
            oom_killed: state.oom_killed.unwrap_or(false),
            image_id: c.image.unwrap_or_default(),
            ports,
            bindings,
            networks,
        }))
    }

    async fn labelled(&self, key: &str, value: &str) -> Result<Vec<Labels>, DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{key}={value}")])]);
        let containers = q::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let containers = self.client.list_containers(Some(containers)).await.map_err(call("list containers"))?;
        let networks = q::ListNetworksOptionsBuilder::default().filters(&filters).build();
        let networks = self.client.list_networks(Some(networks)).await.map_err(call("list networks"))?;
        let volumes = q::ListVolumesOptionsBuilder::default().filters(&filters).build();
        let volumes = self.client.list_volumes(Some(volumes)).await.map_err(call("list volumes"))?;
        Ok(containers
            .into_iter()
            .map(|c| c.labels.unwrap_or_default())
            .chain(networks.into_iter().map(|n| n.labels.unwrap_or_default()))
            .chain(volumes.volumes.unwrap_or_default().into_iter().map(|v| v.labels))
            .collect())
    }

    async fn network_exists(&self, name: &str) -> Result<bool, DockerError> {
        let inspected = self.client.inspect_network(name, None::<q::InspectNetworkOptions>).await;
        Ok(absent_ok(inspected, format!("inspect network {name}"))?.is_some())
    }

    async fn create_network(&self, name: &str, labels: HashMap<String, String>) -> Result<(), DockerError> {
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            labels: Some(labels),
            ..Default::default()
        };
        self.client.create_network(request).await.map(|_| ()).map_err(call(format!("create network {name}")))
    }

    async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        absent_ok(self.client.remove_network(name).await, format!("remove network {name}")).map(drop)
    }

    async fn project_networks(&self, project: &str) -> Result<Vec<String>, DockerError> {
        let options = q::ListNetworksOptionsBuilder::default().filters(&label_filter(project)).build();
        let networks = self.client.list_networks(Some(options)).await.map_err(call("list networks"))?;
        Ok(networks.into_iter().filter_map(|n| n.name).collect())
    }

    async fn project_volumes(&self, project: &str) -> Result<Vec<String>, DockerError> {
        let options = q::ListVolumesOptionsBuilder::default().filters(&label_filter(project)).build();
        let volumes = self.client.list_volumes(Some(options)).await.map_err(call("list volumes"))?;
        Ok(volumes.volumes.unwrap_or_default().into_iter().map(|v| v.name).collect())
    }

    async fn volume_exists(&self, name: &str) -> Result<bool, DockerError> {
        Ok(absent_ok(self.client.inspect_volume(name).await, format!("inspect volume {name}"))?.is_some())
    }

    async fn create_volume(&self, name: &str, labels: HashMap<String, String>) -> Result<(), DockerError> {
        let request = VolumeCreateRequest { name: Some(name.to_string()), labels: Some(labels), ..Default::default() };
        self.client.create_volume(request).await.map(|_| ()).map_err(call(format!("create volume {name}")))
    }

    async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        let removed = self.client.remove_volume(name, None::<q::RemoveVolumeOptions>).await;
        absent_ok(removed, format!("remove volume {name}")).map(drop)
    }

    async fn image_info(&self, reference: &str) -> Result<Option<ImageInfo>, DockerError> {
        let inspected = self.client.inspect_image(reference).await;
        Ok(absent_ok(inspected, format!("inspect image {reference}"))?.map(|image| ImageInfo {
            size_bytes: image.size.unwrap_or(0).max(0) as u64,
            healthcheck: image
                .config
                .and_then(|c| c.healthcheck)
                .and_then(|h| h.test)
                .is_some_and(|test| !test.is_empty() && test[0] != "NONE"),
            repo_digests: image.repo_digests.unwrap_or_default(),
        }))
    }

    async fn exec(&self, id: &str, cmd: &[String]) -> Result<(i64, String), DockerError> {
        let config = bollard::models::ExecConfig {
            cmd: Some(cmd.to_vec()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self.client.create_exec(id, config).await.map_err(call(format!("exec in {id}")))?;
        let mut output = String::new();
        if let bollard::exec::StartExecResults::Attached { output: mut stream, .. } =
            self.client.start_exec(&created.id, None).await.map_err(call(format!("exec in {id}")))?
        {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(call(format!("exec in {id}")))?;
                output.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
        }
        let inspected = self.client.inspect_exec(&created.id).await.map_err(call(format!("exec in {id}")))?;
        Ok((inspected.exit_code.unwrap_or(-1), output))
    }

    async fn image_id(&self, reference: &str) -> Result<Option<String>, DockerError> {
        let inspected = self.client.inspect_image(reference).await;
        Ok(absent_ok(inspected, format!("inspect image {reference}"))?.and_then(|image| image.id))
    }

    async fn tag(&self, source: &str, target: &str) -> Result<(), DockerError> {
        let (repo, tag) = match target.rfind(':').filter(|&at| !target[at..].contains('/')) {
            Some(at) => (&target[..at], &target[at + 1..]),
            None => (target, "latest"),
        };
        let options = q::TagImageOptionsBuilder::default().repo(repo).tag(tag).build();
        self.client.tag_image(source, Some(options)).await.map_err(call(format!("tag {source} as {target}")))
    }

    async fn push(&self, reference: &str, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<String, DockerError> {
        let (repo, tag) = match reference.rfind(':').filter(|&at| !reference[at..].contains('/')) {
            Some(at) => (&reference[..at], &reference[at + 1..]),
            None => (reference, "latest"),
        };
        let options = q::PushImageOptionsBuilder::default().tag(tag).build();
        let mut stream = self.client.push_image(repo, Some(options), None);
        let mut digest = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(call(format!("push {reference}")))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(DockerError::Call { what: format!("push {reference}"), reason: err });
            }
            let status = info.status.unwrap_or_default();
            // The last line reads `TAG: digest: sha256:HEX size: N`.
            if let Some(found) = status.split_whitespace().find(|w| w.starts_with("sha256:")) {
                digest = Some(found.to_string());
            }
            if !status.is_empty() {
                progress(Progress::Line(status));
            }
        }
        digest.ok_or_else(|| DockerError::Call {
            what: format!("push {reference}"),
            reason: "the registry did not say which digest it stored".into(),
        })
    }

    async fn pull(&self, reference: &str, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<(), DockerError> {
        let options = q::CreateImageOptionsBuilder::default().from_image(reference).build();
        let mut stream = self.client.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(call(format!("pull {reference}")))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(DockerError::Call { what: format!("pull {reference}"), reason: err });
            }
            let status = info.status.unwrap_or_default();
            match (info.id, info.progress_detail) {
                (Some(id), Some(detail)) => progress(Progress::Layer {
                    id,
                    status,
                    current: detail.current.unwrap_or(0).max(0) as u64,
                    total: detail.total.unwrap_or(0).max(0) as u64,
                }),
                (Some(id), None) => progress(Progress::Layer { id, status, current: 0, total: 0 }),
                (None, _) if !status.is_empty() => progress(Progress::Line(status)),
                _ => {}
            }
        }
        Ok(())
    }

    async fn build(
        &self,
        context: Vec<u8>,
        tag: &str,
        dockerfile: &str,
        args: &HashMap<String, String>,
        labels: &HashMap<String, String>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<String, DockerError> {
        let options = q::BuildImageOptionsBuilder::default()
            .dockerfile(dockerfile)
            .t(tag)
            .rm(true)
            .forcerm(true)
            .buildargs(args)
            .labels(labels)
            .build();
        let mut stream = self.client.build_image(options, None, Some(bollard::body_full(context.into())));
        let mut image_id = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(call(format!("build {tag}")))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message) {
                return Err(DockerError::Call { what: format!("build {tag}"), reason: message });
            }
            if let Some(id) = info.aux.and_then(|a| a.id) {
                image_id = Some(id);
            }
            if let Some(text) = info.stream {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    progress(Progress::Line(line.to_string()));
                }
            }
        }
        match image_id {
            Some(id) => Ok(id),
            None => self.image_id(tag).await?.ok_or_else(|| DockerError::Call {
                what: format!("build {tag}"),
                reason: "no image was produced".into(),
            }),
        }
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        let mut exposed = Vec::new();
        let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for (container, host) in &spec.ports {
            let key = format!("{container}/tcp");
            exposed.push(key.clone());
            // Published on loopback only: a database on 0.0.0.0 bypasses host firewalls.
            bindings.insert(
                key,
                Some(vec![PortBinding { host_ip: Some(PUBLISHED_ON.into()), host_port: Some(host.to_string()) }]),
            );
        }
        let mut binds: Vec<String> = spec.volumes.iter().map(|(v, at)| format!("{v}:{at}")).collect();
        binds.extend(
            spec.binds
                .iter()
                .map(|(host, at, ro)| if *ro { format!("{host}:{at}:ro") } else { format!("{host}:{at}") }),
        );
        let healthcheck = spec.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(match h.test.first().map(String::as_str) {
                Some("CMD" | "CMD-SHELL" | "NONE") => h.test.clone(),
                _ => std::iter::once("CMD".to_string()).chain(h.test.iter().cloned()).collect(),
            }),
            interval: Some(nanos(h.interval)),
            timeout: Some(nanos(h.timeout)),
            retries: Some(i64::from(h.retries)),
            start_period: Some(nanos(h.start_period)),
            start_interval: None,
        });
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.cmd.clone(),
            working_dir: spec.working_dir.clone(),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(spec.labels.clone()),
            exposed_ports: Some(exposed),
            healthcheck,
            host_config: Some(HostConfig {
                port_bindings: Some(bindings),
                binds: Some(binds),
                network_mode: Some(spec.network.clone()),
                init: Some(true),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    spec.network.clone(),
                    EndpointSettings { aliases: Some(spec.aliases.clone()), ..Default::default() },
                )])),
            }),
            ..Default::default()
        };
        let options = q::CreateContainerOptionsBuilder::default().name(&spec.name).build();
        let created = self
            .client
            .create_container(Some(options), body)
            .await
            .map_err(call(format!("create container {}", spec.name)))?;
        Ok(created.id)
    }

    async fn start(&self, id: &str) -> Result<(), DockerError> {
        self.client
            .start_container(id, None::<q::StartContainerOptions>)
            .await
            .map_err(call(format!("start container {id}")))
    }

    async fn restart(&self, id: &str, grace: Duration) -> Result<(), DockerError> {
        let options = q::RestartContainerOptionsBuilder::default().t(grace.as_secs() as i32).build();
        self.client.restart_container(id, Some(options)).await.map_err(call(format!("restart container {id}")))
    }

    async fn remove(&self, id: &str, grace: Duration) -> Result<(), DockerError> {
        let stop = q::StopContainerOptionsBuilder::default().t(grace.as_secs() as i32).build();
        match self.client.stop_container(id, Some(stop)).await {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 304 | 404, .. }) => {}
            Err(e) => return Err(call(format!("stop container {id}"))(e)),
        }
        let options = q::RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        let removed = self.client.remove_container(id, Some(options)).await;
        absent_ok(removed, format!("remove container {id}")).map(drop)
    }

    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>, DockerError> {
        let options = q::LogsOptionsBuilder::default().stdout(true).stderr(true).tail(&tail.to_string()).build();
        let mut stream = self.client.logs(id, Some(options));
        let mut lines = Vec::new();
        while let Some(item) = stream.next().await {
            let chunk = item.map_err(call(format!("read logs of {id}")))?;
            lines.extend(String::from_utf8_lossy(&chunk.into_bytes()).lines().map(str::to_string));
        }
        Ok(lines)
    }

    fn follow_logs(&self, id: &str, tail: usize) -> BoxStream<'static, Result<String, DockerError>> {
        let options =
            q::LogsOptionsBuilder::default().stdout(true).stderr(true).follow(true).tail(&tail.to_string()).build();
        let id = id.to_string();
        self.client
            .logs(&id, Some(options))
            .map(move |item| {
                item.map(|chunk| String::from_utf8_lossy(&chunk.into_bytes()).into_owned())
                    .map_err(call(format!("follow logs of {id}")))
            })
            .boxed()
    }

    fn events(&self, project: &str) -> BoxStream<'static, Result<Event, DockerError>> {
        let mut filters = label_filter(project);
        filters.insert("type".into(), vec!["container".into()]);
        let options = q::EventsOptionsBuilder::default().filters(&filters).build();
        self.client
            .events(Some(options))
            .filter_map(|item| async move {
                let message = match item {
                    Ok(m) => m,
                    Err(e) => return Some(Err(call("read events")(e))),
                };
                let actor = message.actor?;
                let container = actor.id?;
                let attributes = actor.attributes.unwrap_or_default();
                let service = attributes.get(super::project::LABEL_SERVICE)?.clone();
                let action = message.action?;
                let kind = match action.as_str() {
                    "start" => EventKind::Start,
                    "die" => EventKind::Die { exit_code: attributes.get("exitCode").and_then(|c| c.parse().ok()) },
                    "oom" => EventKind::Oom,
                    a if a.starts_with("health_status") => {
                        EventKind::Health { healthy: a.ends_with("healthy") && !a.ends_with("unhealthy") }
                    }
                    _ => return None,
                };
                Some(Ok(Event { container, service, kind }))
            })
            .boxed()
    }
}
