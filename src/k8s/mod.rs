//! A project on Kubernetes: the cluster a kubeconfig names ([`cluster`]), the `k8s/` manifests
//! made ready to apply ([`manifest`]), server-side apply through discovery ([`apply`]), the
//! rollout condition `kubectl rollout status` uses ([`rollout`]), why a rollout failed
//! ([`diagnose`]), proof that the app answers ([`prove`]), the whole `deploy` ([`deploy`]) and
//! kind's command line ([`kind`]).
//!
//! kube and k8s-openapi types stay inside this module: commands see plain values and reports.
//! Pure functions (the manifest transforms, the rollout verdict, the diagnosis) are unit-tested
//! here; the API calls are tested against an emulated API server in `tests/integration/k8s.rs`.

pub mod apply;
pub mod cluster;
pub mod deploy;
pub mod diagnose;
pub mod inspect;
pub mod kind;
pub mod manifest;
pub mod podspec;
pub mod prove;
pub mod rollout;
pub mod runtime;
pub mod traffic;

/// The field manager of every server-side apply, and the label value of what labforge manages.
pub const MANAGER: &str = "labforge";
/// Carries the project's name on every object labforge applies; `undeploy` selects on it.
pub const LABEL_PROJECT: &str = "io.labforge.project";
/// The standard label saying which tool manages an object.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The digest of the object as labforge last applied it: equal means nothing to apply.
pub const ANNOTATION_APPLIED: &str = "io.labforge.applied";

/// Why a Kubernetes command could not do its job (exit 2). A rollout that fails is not an error:
/// it is a failed step with its diagnosis (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig, a context or a flag is wrong; the message says what to fix.
    #[error("{0}")]
    Config(String),
    /// A manifest in `k8s/` is wrong: `FILE:LINE:COLUMN: what`.
    #[error("{0}")]
    Manifest(String),
    /// The cluster did not answer, or refused a call.
    #[error("{0}")]
    Api(String),
    /// `kind` is missing or failed.
    #[error("{0}")]
    Kind(String),
    /// The user pressed Ctrl-C; what was half made is cleaned up.
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Stack(#[from] crate::stack::Error),
}

impl From<crate::stack::DockerError> for Error {
    fn from(err: crate::stack::DockerError) -> Self {
        Error::Stack(err.into())
    }
}

/// `what` failed against the API: the server's own message, without kube's wrapping.
pub(crate) fn api_error(what: &str, err: kube::Error) -> Error {
    let reason = match &err {
        kube::Error::Api(status) => status.message.clone(),
        kube::Error::HyperError(e) => format!("cannot reach the API server ({e})"),
        other => other.to_string(),
    };
    Error::Api(format!("{what}: {reason}"))
}
