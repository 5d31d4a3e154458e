//! The project's stack on Docker: `labforge.yaml` ([`spec`]) and `.env` ([`dotenv`]), the
//! resolved containers ([`project`]) and the folder's instance of them ([`instance`]), the image
//! build context ([`build`]), the Engine adapter ([`docker`]), the commands' workflows ([`up`],
//! [`down`]) and the development server's reloads ([`reload`]).

pub mod build;
pub mod diagnose;
pub mod docker;
pub mod dotenv;
pub mod down;
pub mod endpoints;
#[cfg(test)]
pub(crate) mod fake;
pub mod image;
pub mod instance;
pub mod kind;
pub mod ports;
pub mod probe;
pub mod project;
pub mod ready;
pub mod reload;
pub mod runtime;
pub mod spec;
pub mod up;

#[cfg(test)]
mod tests;

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
    /// An image cannot be had (the pull failed), with what to do instead.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Docker(#[from] DockerError),
}

impl From<crate::context::ConfigError> for Error {
    fn from(err: crate::context::ConfigError) -> Self {
        Error::Config(err.0)
    }
}
