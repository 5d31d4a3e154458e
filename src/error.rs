//! The top-level error and outcome types, which own labforge's exit codes:
//! 0 ok, 1 a step or check failed, 2 usage/config/infrastructure error, 130 interrupted.

use std::process::ExitCode;

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything it set out to do worked.
    Success,
    /// It ran, but a step or check failed (exit 1).
    Failed,
    /// It ran its checks, and the Docker daemon was unreachable (exit 2).
    Unreachable,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
            Outcome::Unreachable => ExitCode::from(2),
        }
    }
}

/// Anything that stops a command before it could finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scaffold(crate::scaffold::Error),
    #[error(transparent)]
    Stack(#[from] crate::stack::Error),
    #[error(transparent)]
    Lab(crate::lab::Error),
    #[error(transparent)]
    K8s(crate::k8s::Error),
    #[error(transparent)]
    GitHub(#[from] crate::github::Error),
    /// The user interrupted a prompt or a wait (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    /// The command's output could not be written (stdout is a full disk, say).
    #[error("cannot write the output: {0}")]
    Output(String),
}

impl From<crate::scaffold::Error> for Error {
    fn from(err: crate::scaffold::Error) -> Self {
        match err {
            crate::scaffold::Error::Interrupted => Error::Interrupted,
            other => Error::Scaffold(other),
        }
    }
}

impl From<crate::lab::Error> for Error {
    fn from(err: crate::lab::Error) -> Self {
        match err {
            crate::lab::Error::Scaffold(e) => e.into(),
            crate::lab::Error::Stack(e) => Error::Stack(e),
            other => Error::Lab(other),
        }
    }
}

impl From<crate::k8s::Error> for Error {
    fn from(err: crate::k8s::Error) -> Self {
        match err {
            crate::k8s::Error::Stack(e) => Error::Stack(e),
            crate::k8s::Error::Interrupted => Error::Interrupted,
            other => Error::K8s(other),
        }
    }
}

impl From<crate::context::ConfigError> for Error {
    fn from(err: crate::context::ConfigError) -> Self {
        Error::Stack(err.into())
    }
}

impl From<crate::stack::DockerError> for Error {
    fn from(err: crate::stack::DockerError) -> Self {
        Error::Stack(err.into())
    }
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Interrupted => ExitCode::from(130),
            Error::Output(_) => ExitCode::FAILURE,
            Error::Scaffold(_) | Error::Stack(_) | Error::Lab(_) | Error::K8s(_) | Error::GitHub(_) => {
                ExitCode::from(2)
            }
        }
    }
}
