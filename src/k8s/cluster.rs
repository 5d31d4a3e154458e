//! The cluster a kubeconfig names: which files, which context, which namespace, whether it is a
//! kind cluster, and a client that has proved it can reach the API server.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::Error;
use crate::context::Context;

/// How long the API server may take to answer the first call before it counts as unreachable.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(5);

/// Where a command deploys: the flags a user gave.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// A reachable cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The same client without kube's retries of 429, 503 and 504: for measuring what a user of
    /// the app would meet, where a retried 503 would hide the failure.
    pub client_without_retries: kube::Client,
    /// The kubeconfig context in use.
    pub context: String,
    /// The API server's URL.
    pub server: String,
    /// The namespace objects without one go to.
    pub namespace: String,
    /// The kind cluster's name, when the context is one `kind create cluster` wrote (`kind-NAME`).
    pub kind: Option<String>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("context", &self.context).field("server", &self.server).finish()
    }
}

/// The kind cluster a context belongs to: kind names its contexts `kind-CLUSTER`.
pub fn kind_cluster(context: &str) -> Option<String> {
    context.strip_prefix("kind-").filter(|name| !name.is_empty()).map(str::to_string)
}

/// Reads the kubeconfig files the context names (merged as kubectl merges them).
pub fn read_kubeconfig(files: &[PathBuf]) -> Result<Kubeconfig, Error> {
    let mut merged: Option<Kubeconfig> = None;
    for file in files.iter().filter(|f| f.exists()) {
        let next = Kubeconfig::read_from(file).map_err(|e| {
            Error::Config(format!("{}: not a kubeconfig: {}", file.display(), crate::base::first_line(&e)))
        })?;
        merged = Some(match merged {
            None => next,
            Some(done) => done.merge(next).map_err(|e| Error::Config(format!("{}: {e}", file.display())))?,
        });
    }
    merged.ok_or_else(|| {
        let named = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
        Error::Config(format!(
            "no kubeconfig found ({}): create a local cluster with `labforge cluster create`, or pass --kubeconfig FILE",
            if named.is_empty() { "set KUBECONFIG or HOME".to_string() } else { named }
        ))
    })
}

/// Connects to the target's cluster and proves the API server answers within
/// [`CONNECT_DEADLINE`].
pub async fn connect(target: &Target, ctx: &Context) -> Result<Cluster, Error> {
    let kubeconfig = read_kubeconfig(&ctx.kubeconfigs(target.kubeconfig.as_deref()))?;
    let context =
        match &target.context {
            Some(name) => {
                if !kubeconfig.contexts.iter().any(|c| &c.name == name) {
                    let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
                    return Err(Error::Config(format!(
                        "--context {name}: no such context in the kubeconfig (it has: {})",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    )));
                }
                name.clone()
            }
            None => kubeconfig.current_context.clone().filter(|c| !c.is_empty()).ok_or_else(|| {
                Error::Config("the kubeconfig has no current context: pass --context NAME".to_string())
            })?,
        };
    let context_namespace = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone());
    let options = KubeConfigOptions { context: Some(context.clone()), ..Default::default() };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| Error::Config(format!("kubeconfig context {context}: {}", crate::base::first_line(&e))))?;
    let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let client_for = |config: kube::Config| {
        kube::Client::try_from(config)
            .map_err(|e| Error::Config(format!("kubeconfig context {context}: {}", crate::base::first_line(&e))))
    };
    let mut without_retries = config.clone();
    without_retries.default_retry = false;
    let client_without_retries = client_for(without_retries)?;
    let client = client_for(config)?;
    let namespace = target.namespace.clone().or(context_namespace).unwrap_or_else(|| "default".to_string());
    check_namespace_name(&namespace)?;
    match tokio::time::timeout(CONNECT_DEADLINE, client.apiserver_version()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(unreachable(&context, &server, &crate::base::first_line(&e))),
        Err(_) => {
            return Err(unreachable(&context, &server, &format!("no answer within {}s", CONNECT_DEADLINE.as_secs())));
        }
    }
    Ok(Cluster { client, client_without_retries, kind: kind_cluster(&context), context, server, namespace })
}

fn unreachable(context: &str, server: &str, why: &str) -> Error {
    let fix = match kind_cluster(context) {
        Some(name) => format!("is the kind cluster running? `labforge cluster status --name {name}`"),
        None => "is the cluster running and the kubeconfig current?".to_string(),
    };
    Error::Api(format!("cannot reach the cluster of context {context} at {server}: {why}; {fix}"))
}

/// A namespace name as Kubernetes requires it (RFC 1123 label).
pub fn check_namespace_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "--namespace {name:?}: a namespace is 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_contexts_name_their_cluster() {
        assert_eq!(kind_cluster("kind-labforge").as_deref(), Some("labforge"));
        assert_eq!(kind_cluster("kind-"), None);
        assert_eq!(kind_cluster("gke_project_europe-west1_prod"), None);
    }

    #[test]
    fn namespace_names_follow_rfc_1123() {
        for good in ["default", "seat-07", "a"] {
            assert!(check_namespace_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Shop", "shop_1", "-a", "a-", &"x".repeat(64)] {
            let err = check_namespace_name(bad).unwrap_err().to_string();
            assert!(err.contains("--namespace") && err.contains("lowercase"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_missing_kubeconfig_says_how_to_get_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_kubeconfig(&[dir.path().join("config")]).unwrap_err().to_string();
        assert!(err.contains("labforge cluster create") && err.contains("--kubeconfig"), "{err}");
        std::fs::write(dir.path().join("bad"), "clusters: [").unwrap();
        let err = read_kubeconfig(&[dir.path().join("bad")]).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: not a kubeconfig", dir.path().join("bad").display())), "{err}");
    }
}
