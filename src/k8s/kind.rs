//! kind, through its command line (it has no library): the cluster's config, `create` that
//! leaves no half-made cluster behind, `delete` that succeeds when there is nothing to delete,
//! `load` of an image, and a local registry wired as KEP-1755 describes (containerd's
//! `certs.d` on every node and the `local-registry-hosting` ConfigMap).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use std::collections::HashMap;

use super::{Error, MANAGER};
use crate::context::Context;
use crate::interrupt::Interrupt;
use crate::stack::docker::{ContainerSpec, Engine, State};

/// The cluster labforge creates when no name is given.
pub const DEFAULT_NAME: &str = "labforge";
/// The node port a kind cluster of labforge's maps to the host, and the Service `deploy` puts in
/// front of the app there.
pub const NODE_PORT: u16 = 30080;
/// The registry container's name, port inside the container and on 127.0.0.1.
pub const REGISTRY_NAME: &str = "kind-registry";
pub const REGISTRY_PORT: u16 = 5000;
/// The docker network kind puts its nodes on.
pub const NETWORK: &str = "kind";
/// Marks the registry container with the cluster it was made for.
pub const LABEL_REGISTRY: &str = "io.labforge.registry";

/// Where kind is documented to install from.
const INSTALL: &str = "https://kind.sigs.k8s.io/docs/user/quick-start/#installation";

/// The `kind` binary.
#[derive(Debug, Clone)]
pub struct Kind {
    bin: PathBuf,
    kubeconfig: Option<PathBuf>,
}

/// What the cluster's config asks of kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub name: String,
    /// The host port (on 127.0.0.1) that reaches [`NODE_PORT`].
    pub host_port: u16,
    /// The host port of the local registry, when there is one.
    pub registry_port: Option<u16>,
}

/// kind's cluster config: one control-plane node, the app's node port on 127.0.0.1 only (kind's
/// default would listen on every address), containerd told to read registry hosts from
/// `certs.d` when a registry is wired.
pub fn config(c: &Config) -> String {
    let mut text = format!(
        "# Written by labforge for `kind create cluster`.\n\
         kind: Cluster\n\
         apiVersion: kind.x-k8s.io/v1alpha4\n\
         name: {name}\n\
         nodes:\n\
         \x20 - role: control-plane\n\
         \x20   extraPortMappings:\n\
         \x20     # The app's NodePort Service, reachable from this machine only.\n\
         \x20     - containerPort: {NODE_PORT}\n\
         \x20       hostPort: {host}\n\
         \x20       listenAddress: \"127.0.0.1\"\n\
         \x20       protocol: TCP\n",
        name = c.name,
        host = c.host_port,
    );
    if c.registry_port.is_some() {
        text.push_str(
            "containerdConfigPatches:\n\
             \x20 - |-\n\
             \x20   [plugins.\"io.containerd.grpc.v1.cri\".registry]\n\
             \x20     config_path = \"/etc/containerd/certs.d\"\n",
        );
    }
    text
}

/// The containerd `hosts.toml` that sends `localhost:PORT` to the registry container.
pub fn registry_hosts_toml() -> String {
    format!("[host.\"http://{REGISTRY_NAME}:{REGISTRY_PORT}\"]\n")
}

/// The folder of that file on a node.
pub fn registry_hosts_dir(registry_port: u16) -> String {
    format!("/etc/containerd/certs.d/localhost:{registry_port}")
}

/// KEP-1755's ConfigMap: tells tools where the cluster's local registry is.
pub fn registry_hosting_configmap(registry_port: u16) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {
            "localRegistryHosting.v1": format!(
                "host: \"localhost:{registry_port}\"\nhelp: \"https://kind.sigs.k8s.io/docs/user/local-registry/\"\n"
            )
        }
    })
}

/// The kubeconfig context kind writes for a cluster.
pub fn context_name(cluster: &str) -> String {
    format!("kind-{cluster}")
}

/// A cluster name kind accepts (it becomes container and context names).
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 50
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase();
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "--name {name:?}: a cluster name is 1-50 lowercase letters, digits and '-', starting with a letter"
        )))
    }
}

impl Kind {
    /// The `kind` on `PATH`, or how to install it.
    pub fn find(ctx: &Context, kubeconfig: Option<&Path>) -> Result<Kind, Error> {
        let bin = ctx.which("kind").ok_or_else(|| {
            Error::Kind(format!(
                "kind is not installed: install it ({INSTALL}, e.g. `go install sigs.k8s.io/kind@latest`) and make sure it is on PATH"
            ))
        })?;
        Ok(Kind { bin, kubeconfig: kubeconfig.map(Path::to_path_buf) })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
        if let Some(path) = &self.kubeconfig {
            // kind writes and reads the cluster's context there.
            cmd.env(crate::context::KUBECONFIG_ENV, path);
        }
        cmd
    }

    async fn output(&self, args: &[&str], deadline: Duration) -> Result<String, Error> {
        let shown = format!("kind {}", args.join(" "));
        let run = self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).output();
        let out = tokio::time::timeout(deadline, run)
            .await
            .map_err(|_| Error::Kind(format!("`{shown}` did not finish within {}s", deadline.as_secs())))?
            .map_err(|e| Error::Kind(format!("cannot run {}: {e}", self.bin.display())))?;
        if !out.status.success() {
            return Err(Error::Kind(format!("`{shown}` failed: {}", last_line(&out.stderr))));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The clusters kind knows.
    pub async fn clusters(&self) -> Result<Vec<String>, Error> {
        let out = self.output(&["get", "clusters"], Duration::from_secs(30)).await?;
        Ok(out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("No kind clusters"))
            .map(str::to_string)
            .collect())
    }

    /// The node containers of `cluster`.
    pub async fn nodes(&self, cluster: &str) -> Result<Vec<String>, Error> {
        let out = self.output(&["get", "nodes", "--name", cluster], Duration::from_secs(30)).await?;
        Ok(out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("No kind nodes"))
            .map(str::to_string)
            .collect())
    }

    /// Creates `cluster` from `config`, waiting at most `deadline`. When kind fails, the deadline
    /// passes or the user interrupts, what kind made so far is deleted: no half-cluster stays.
    pub async fn create(
        &self,
        cluster: &str,
        config: &str,
        deadline: Duration,
        interrupt: &Interrupt,
    ) -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Kind(format!("cannot write kind's config: {e}")))?;
        let file = dir.path().join("kind.yaml");
        std::fs::write(&file, config).map_err(|e| Error::Kind(format!("cannot write kind's config: {e}")))?;
        let wait = format!("{}s", deadline.as_secs().max(1));
        let mut child = self
            .command(&["create", "cluster", "--name", cluster, "--config", &file.to_string_lossy(), "--wait", &wait])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Kind(format!("cannot run {}: {e}", self.bin.display())))?;
        let stderr = child.stderr.take();
        let collect = async move {
            let mut text = String::new();
            if let Some(mut stderr) = stderr {
                use tokio::io::AsyncReadExt;
                let _ = stderr.read_to_string(&mut text).await;
            }
            text
        };
        let outcome = tokio::select! {
            (status, text) = async { tokio::join!(child.wait(), collect) } => match status {
                Ok(s) if s.success() => Ok(()),
                Ok(_) => Err(format!("`kind create cluster` failed: {}", last_line(text.as_bytes()))),
                Err(e) => Err(format!("cannot run kind: {e}")),
            },
            () = tokio::time::sleep(deadline + Duration::from_secs(30)) => Err(format!("`kind create cluster` did not finish within {}s", deadline.as_secs() + 30)),
            () = interrupt.wait() => Err("interrupted".to_string()),
        };
        if let Err(why) = outcome {
            // The child is killed when dropped (kill_on_drop); then remove what it left.
            let _ = child.kill().await;
            let cleaned = self.delete(cluster).await;
            let note = match &cleaned {
                Ok(_) => "what it had made was deleted".to_string(),
                Err(e) => format!(
                    "deleting what it had made failed too ({e}); run `labforge cluster delete --name {cluster}`"
                ),
            };
            if why == "interrupted" {
                // The deletion above is what the interrupt's promise ("no half-cluster") needs.
                return Err(Error::Interrupted);
            }
            return Err(Error::Kind(format!("{why}; {note}")));
        }
        Ok(())
    }

    /// Deletes `cluster`; `false` when there was none (which is not an error).
    pub async fn delete(&self, cluster: &str) -> Result<bool, Error> {
        let existed = self.clusters().await?.iter().any(|c| c == cluster);
        self.output(&["delete", "cluster", "--name", cluster], Duration::from_secs(120)).await?;
        Ok(existed)
    }

    /// Loads a local image into every node of `cluster`.
    pub async fn load(&self, cluster: &str, image: &str) -> Result<(), Error> {
        self.output(&["load", "docker-image", image, "--name", cluster], Duration::from_secs(600)).await.map(|_| ())
    }
}

/// The local registry: its container (on kind's network, published on 127.0.0.1 only), every
/// node told where `localhost:PORT` really is, and KEP-1755's ConfigMap in the cluster.
pub async fn wire_registry<E: Engine>(
    engine: &E,
    nodes: &[String],
    registry_port: u16,
    image: &str,
    cluster: &super::cluster::Cluster,
) -> Result<String, Error> {
    let made = match engine.inspect(REGISTRY_NAME).await? {
        Some(found) if found.state == State::Running => "running".to_string(),
        Some(found) => {
            engine.start(&found.id).await?;
            "started again".to_string()
        }
        None => {
            if engine.image_id(image).await?.is_none() {
                engine.pull(image, &mut |_| {}).await?;
            }
            let spec = ContainerSpec {
                name: REGISTRY_NAME.to_string(),
                image: image.to_string(),
                labels: HashMap::from([(LABEL_REGISTRY.to_string(), cluster_name(cluster))]),
                ports: vec![(REGISTRY_PORT, registry_port)],
                network: NETWORK.to_string(),
                aliases: vec![REGISTRY_NAME.to_string()],
                ..ContainerSpec::default()
            };
            let id = engine.create(&spec).await?;
            engine.start(&id).await?;
            "created".to_string()
        }
    };
    let dir = registry_hosts_dir(registry_port);
    let script = format!("mkdir -p '{dir}' && printf '%s' '{}' > '{dir}/hosts.toml'", registry_hosts_toml());
    for node in nodes {
        let (code, output) = engine.exec(node, &["sh".to_string(), "-c".to_string(), script.clone()]).await?;
        if code != 0 {
            return Err(Error::Kind(format!("cannot tell node {node} where the registry is: {}", output.trim())));
        }
    }
    let docs = [super::manifest::Document {
        source: "local-registry-hosting".into(),
        body: registry_hosting_configmap(registry_port),
    }];
    let project = super::manifest::Project { name: MANAGER, namespace: "kube-public", ..Default::default() };
    let objects = super::manifest::prepare(&docs, &project)?;
    super::apply::apply(&mut super::apply::Kinds::new(cluster.client.clone()), &objects, false).await?;
    Ok(format!("{REGISTRY_NAME} {made} on 127.0.0.1:{registry_port}, wired into {} node(s)", nodes.len()))
}

fn cluster_name(cluster: &super::cluster::Cluster) -> String {
    cluster.kind.clone().unwrap_or_default()
}

fn last_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_maps_the_node_port_to_loopback_only() {
        let text = config(&Config { name: "labforge".into(), host_port: 8080, registry_port: None });
        let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let mapping = &parsed["nodes"][0]["extraPortMappings"][0];
        assert_eq!(mapping["listenAddress"], "127.0.0.1");
        assert_eq!(mapping["hostPort"], 8080);
        assert_eq!(mapping["containerPort"], NODE_PORT);
        assert_eq!(parsed["name"], "labforge");
        assert!(parsed.get("containerdConfigPatches").is_none());
    }

    #[test]
    fn with_a_registry_containerd_reads_hosts_from_certs_d() {
        let text = config(&Config { name: "dev".into(), host_port: 8080, registry_port: Some(5001) });
        let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let patch = parsed["containerdConfigPatches"][0].as_str().unwrap();
        assert!(patch.contains("[plugins.\"io.containerd.grpc.v1.cri\".registry]"));
        assert!(patch.contains("config_path = \"/etc/containerd/certs.d\""));
        assert_eq!(registry_hosts_toml(), "[host.\"http://kind-registry:5000\"]\n");
        assert_eq!(registry_hosts_dir(5001), "/etc/containerd/certs.d/localhost:5001");
        let hosting = registry_hosting_configmap(5001);
        assert_eq!(hosting["metadata"]["namespace"], "kube-public");
        assert!(hosting["data"]["localRegistryHosting.v1"].as_str().unwrap().starts_with("host: \"localhost:5001\""));
    }

    #[test]
    fn cluster_names_are_what_kind_accepts() {
        assert!(check_name("labforge").is_ok());
        for bad in ["", "Lab", "1lab", "lab_forge", &"a".repeat(51)] {
            assert!(check_name(bad).unwrap_err().to_string().contains("--name"), "{bad}");
        }
        assert_eq!(context_name("labforge"), "kind-labforge");
    }
}
