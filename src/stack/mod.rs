//! The project's stack on Docker: `labforge.yaml` ([`spec`]), the user's overrides ([`config`]),
//! the resolved containers ([`project`]), the Engine adapter ([`docker`]), the commands'
//! workflows ([`up`], [`down`]) and the development server's reloads ([`reload`]).

pub mod config;
pub mod context;
pub mod diagnose;
pub mod docker;
pub mod down;
pub mod endpoints;
pub mod project;
pub mod ready;
pub mod reload;
pub mod spec;
pub mod up;

pub use docker::DockerError;

/// Why a stack command could not do its job (exit 2). A service that fails to start is not an
/// error here: it is a failed step in the report (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem with labforge.yaml, .env or the user's config.
    #[error("{0}")]
    Config(String),
    /// Every problem found in labforge.yaml, one per line.
    #[error("{}", .0.join("\n"))]
    Spec(Vec<String>),
    /// A requested port is busy and `--strict-ports` forbids choosing another.
    #[error("{0}")]
    Port(String),
    /// Something needs the stack running, and services of it are not.
    #[error("{0}")]
    NotRunning(String),
    #[error(transparent)]
    Docker(#[from] DockerError),
}
