//! The Runtime seam: what `up`, `status`, `down`, a restart and the checks need of the place where
//! a project's services run, in labforge's own terms — bring them to what the project specifies,
//! observe them, read their logs, run a command in one, restart one, reach them from the host,
//! tear them down. [`OnDocker`] is the implementation on the Docker Engine (any [`Engine`]: the
//! daemon, or the in-memory one of the fast tier); `k8s::runtime::OnKubernetes` the one on
//! a cluster. The checks, which must not care which, hold a `check::runtime::AnyRuntime`.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::Error;
use super::docker::{Container, Engine, ImageInfo, State};
use super::down::{DownReport, down};
use super::instance;
use super::kind::PUBLISHED_ON;
use super::project::{LABEL_MODE, LABEL_SERVICE, LABEL_SPEC_HASH, Project};
use super::ready::{self, Readiness};
use super::up::{UpOptions, UpReport, up};
use crate::context::Context;
use crate::interrupt::Interrupt;
use crate::report::Reporter;

/// A service as the runtime sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub service: String,
    /// What runs it (a container's name).
    pub name: String,
    pub state: State,
    /// `starting`, `healthy`, `unhealthy`; `None` without a healthcheck.
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    /// The user it runs as; empty means root.
    pub user: String,
    /// `(port inside, port on the host)` for what it publishes while it runs.
    pub ports: Vec<(u16, u16)>,
    /// It runs the project's source with a reloading server: not production (a container made
    /// before the mode label existed counts as development, which it was).
    pub reloads: bool,
    /// Why it does not work although it may run (it lost its network, say): `up` repairs it.
    pub broken: Option<String>,
    /// It was made from a configuration (labforge.yaml, .env) edited since: `up` recreates it.
    pub outdated: bool,
}

impl Observed {
    pub fn is_running(&self) -> bool {
        self.state == State::Running
    }
}

/// Where a project's services run.
#[allow(async_fn_in_trait)]
pub trait Runtime {
    /// The address the host reaches published ports on.
    fn host(&self) -> &str;
    /// `project` as its folder runs it here: in the folder's own instance (see
    /// [`super::instance`]), so two folders of one project never share anything.
    async fn place(&self, project: Project) -> Result<Project, Error>;
    /// [`Runtime::place`], unless `ctx` names the instance itself (a workshop seat).
    async fn place_in(&self, project: Project, ctx: &Context) -> Result<Project, Error> {
        match ctx.instance() {
            Some(suffix) => {
                let name = format!("{}-{suffix}", project.name);
                let dir = project.dir.clone();
                Ok(project.in_instance(instance::Instance::named(&name, &dir)))
            }
            None => self.place(project).await,
        }
    }
    /// Brings the services to what `project` specifies — creates what is missing, recreates what
    /// changed, leaves the rest — and proves each ready.
    async fn ensure(
        &self,
        project: &Project,
        opts: &UpOptions,
        report: &dyn Reporter,
        interrupt: &Interrupt,
    ) -> Result<UpReport, Error>;
    /// Every service of the project that exists, as it is now.
    async fn observe(&self, project: &Project) -> Result<Vec<Observed>, Error>;
    /// The last `tail` lines a service wrote.
    async fn logs(&self, project: &Project, service: &str, tail: usize) -> Result<Vec<String>, Error>;
    /// What a service writes from now on, after its last `tail` lines.
    async fn follow(&self, project: &Project, service: &str, tail: usize) -> Result<Lines, Error>;
    /// Runs `cmd` in a running service; its exit code and output.
    async fn exec(&self, project: &Project, service: &str, cmd: &[String]) -> Result<(i64, String), Error>;
    /// Restarts a service and waits, as `ensure` does, until it is ready again.
    async fn restart(&self, project: &Project, service: &str, timeout: Duration) -> Result<Readiness, Error>;
    /// The image a service runs: its size and whether it defines a HEALTHCHECK.
    async fn image(&self, project: &Project, service: &str) -> Result<Option<ImageInfo>, Error>;
    /// Removes the services, and their data when `volumes`.
    async fn tear_down(&self, project: &Project, volumes: bool, report: &dyn Reporter) -> Result<DownReport, Error>;
}

/// Output as it is written, in chunks of whole lines.
pub type Lines = BoxStream<'static, Result<String, Error>>;

/// How long a restarted service's process gets to stop after SIGTERM.
const RESTART_GRACE: Duration = Duration::from_secs(10);

/// Services as containers on a Docker Engine.
pub struct OnDocker<E: Engine> {
    engine: E,
}

impl<E: Engine> OnDocker<E> {
    pub fn new(engine: E) -> OnDocker<E> {
        OnDocker { engine }
    }

    pub fn engine(&self) -> &E {
        &self.engine
    }

    async fn container(&self, project: &Project, service: &str) -> Result<Container, Error> {
        let containers = self.engine.containers(project.instance.name()).await?;
        containers.into_iter().find(|c| c.label(LABEL_SERVICE) == Some(service)).ok_or_else(|| {
            Error::NotRunning(format!("`{service}` has no container (start the stack with `labforge up`)"))
        })
    }
}

fn observed(container: &Container, project: &Project, network: &str) -> Option<Observed> {
    let detached = container.state == State::Running && !container.networks.iter().any(|n| n == network);
    let service = container.label(LABEL_SERVICE)?;
    // A container made before the label existed cannot tell: it counts as current.
    let outdated = container
        .label(LABEL_SPEC_HASH)
        .is_some_and(|made_from| project.service(service).is_some_and(|s| s.spec_hash() != made_from));
    Some(Observed {
        service: service.to_string(),
        name: container.name.clone(),
        state: container.state,
        health: container.health.clone(),
        exit_code: container.exit_code,
        user: container.user.clone(),
        ports: container.ports.iter().map(|(inside, _, host)| (*inside, *host)).collect(),
        reloads: container.label(LABEL_MODE) != Some("production"),
        broken: detached.then(|| format!("not on the project's network `{network}` (run `labforge up` to repair)")),
        outdated,
    })
}

impl<E: Engine> Runtime for OnDocker<E> {
    fn host(&self) -> &str {
        PUBLISHED_ON
    }

    async fn place(&self, project: Project) -> Result<Project, Error> {
        Ok(instance::place(&self.engine, project).await?)
    }

    async fn ensure(
        &self,
        project: &Project,
        opts: &UpOptions,
        report: &dyn Reporter,
        interrupt: &Interrupt,
    ) -> Result<UpReport, Error> {
        up(&self.engine, project, opts, report, interrupt).await
    }

    async fn observe(&self, project: &Project) -> Result<Vec<Observed>, Error> {
        let containers = self.engine.containers(project.instance.name()).await?;
        let network = project.network_name();
        let mut observed: Vec<Observed> = containers.iter().filter_map(|c| observed(c, project, &network)).collect();
        // Docker's healthcheck says `starting` until its first run, up to a whole interval after
        // `up` saw the service ready: labforge's own probe, from the same definition, decides.
        let probes = observed.iter_mut().filter(|o| o.is_running() && o.health.as_deref() == Some("starting")).map(
            |o| async move {
                let probe = project.service(&o.service).and_then(|s| ready::probe_for(project, s, &o.ports).ok()?);
                if let Some(probe) = probe
                    && probe.check().await.is_ok()
                {
                    o.health = Some("healthy".into());
                }
            },
        );
        futures_util::future::join_all(probes).await;
        Ok(observed)
    }

    async fn logs(&self, project: &Project, service: &str, tail: usize) -> Result<Vec<String>, Error> {
        let container = self.container(project, service).await?;
        Ok(self.engine.logs(&container.id, tail).await?)
    }

    async fn follow(&self, project: &Project, service: &str, tail: usize) -> Result<Lines, Error> {
        let container = self.container(project, service).await?;
        Ok(self.engine.follow_logs(&container.id, tail).map(|chunk| chunk.map_err(Error::from)).boxed())
    }

    async fn exec(&self, project: &Project, service: &str, cmd: &[String]) -> Result<(i64, String), Error> {
        let container = self.container(project, service).await?;
        Ok(self.engine.exec(&container.id, cmd).await?)
    }

    async fn restart(&self, project: &Project, service: &str, timeout: Duration) -> Result<Readiness, Error> {
        let container = self.container(project, service).await?;
        let spec = project
            .service(service)
            .ok_or_else(|| Error::Config(format!("labforge.yaml has no service `{service}`")))?;
        Ok(ready::restart(&self.engine, project, spec, &container, RESTART_GRACE, timeout).await?)
    }

    async fn image(&self, project: &Project, service: &str) -> Result<Option<ImageInfo>, Error> {
        let container = self.container(project, service).await?;
        Ok(self.engine.image_info(&container.image_id).await?)
    }

    async fn tear_down(&self, project: &Project, volumes: bool, report: &dyn Reporter) -> Result<DownReport, Error> {
        down(&self.engine, project.instance.name(), volumes, report).await
    }
}
