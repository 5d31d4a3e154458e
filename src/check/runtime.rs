//! The runtimes the checks run against, as one type: a stack on Docker (`labforge up`), or the
//! project as `labforge deploy` runs it on a cluster (`labforge check --cluster`).

use std::time::Duration;

use crate::interrupt::Interrupt;
use crate::k8s::runtime::OnKubernetes;
use crate::report::Reporter;
use crate::stack::Error;
use crate::stack::docker::{Docker, ImageInfo};
use crate::stack::down::DownReport;
use crate::stack::project::Project;
use crate::stack::ready::Readiness;
use crate::stack::runtime::{Lines, Observed, OnDocker, Runtime};
use crate::stack::up::{UpOptions, UpReport};

/// Any of labforge's runtimes, for callers that work the same on each (the checks).
pub enum AnyRuntime {
    Docker(OnDocker<Docker>),
    /// The project as `labforge deploy` runs it on a cluster.
    Kubernetes(OnKubernetes),
    /// The in-memory Engine of the fast tier.
    #[cfg(test)]
    Fake(OnDocker<crate::stack::fake::FakeEngine>),
}

impl AnyRuntime {
    /// What brings the services up here, for a message about one that is not.
    pub fn start_hint(&self) -> &'static str {
        match self {
            AnyRuntime::Kubernetes(_) => "deploy it with `labforge deploy`",
            _ => "start the stack with `labforge up`",
        }
    }

    /// What runs a service here, for messages.
    pub fn unit(&self) -> &'static str {
        match self {
            AnyRuntime::Kubernetes(_) => "workload",
            _ => "container",
        }
    }
}

/// Calls the same method on whichever runtime it is.
macro_rules! each {
    ($self:ident, $runtime:ident => $call:expr) => {
        match $self {
            AnyRuntime::Docker($runtime) => $call,
            AnyRuntime::Kubernetes($runtime) => $call,
            #[cfg(test)]
            AnyRuntime::Fake($runtime) => $call,
        }
    };
}

impl Runtime for AnyRuntime {
    fn host(&self) -> &str {
        each!(self, r => r.host())
    }

    async fn place(&self, project: Project) -> Result<Project, Error> {
        each!(self, r => r.place(project).await)
    }

    async fn ensure(
        &self,
        project: &Project,
        opts: &UpOptions,
        report: &dyn Reporter,
        interrupt: &Interrupt,
    ) -> Result<UpReport, Error> {
        each!(self, r => r.ensure(project, opts, report, interrupt).await)
    }

    async fn observe(&self, project: &Project) -> Result<Vec<Observed>, Error> {
        each!(self, r => r.observe(project).await)
    }

    async fn logs(&self, project: &Project, service: &str, tail: usize) -> Result<Vec<String>, Error> {
        each!(self, r => r.logs(project, service, tail).await)
    }

    async fn follow(&self, project: &Project, service: &str, tail: usize) -> Result<Lines, Error> {
        each!(self, r => r.follow(project, service, tail).await)
    }

    async fn exec(&self, project: &Project, service: &str, cmd: &[String]) -> Result<(i64, String), Error> {
        each!(self, r => r.exec(project, service, cmd).await)
    }

    async fn restart(&self, project: &Project, service: &str, timeout: Duration) -> Result<Readiness, Error> {
        each!(self, r => r.restart(project, service, timeout).await)
    }

    async fn image(&self, project: &Project, service: &str) -> Result<Option<ImageInfo>, Error> {
        each!(self, r => r.image(project, service).await)
    }

    async fn tear_down(&self, project: &Project, volumes: bool, report: &dyn Reporter) -> Result<DownReport, Error> {
        each!(self, r => r.tear_down(project, volumes, report).await)
    }
}
