//! `labforge cluster create | delete | status`: a local Kubernetes cluster on kind.

use std::time::{Duration, Instant};

use crate::base::runtime;
use crate::cli::{ClusterArgs, ClusterCommand, ClusterCreateArgs, ClusterNameArgs, ClusterStatusArgs};
use crate::context::Context;
use crate::k8s::cluster::{self, Target};
use crate::k8s::kind::{self, Kind};
use crate::report::{Event, Reporter};
use crate::stack::docker::Engine;
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub fn run(args: ClusterArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    match args.command {
        ClusterCommand::Create(args) => create(args, ctx, shell),
        ClusterCommand::Delete(args) => delete(args, ctx, shell),
        ClusterCommand::Status(args) => status(args, ctx, shell),
    }
}

fn target(args: &ClusterNameArgs) -> Target {
    Target { kubeconfig: args.kubeconfig.clone(), context: Some(kind::context_name(&args.name)), namespace: None }
}

fn step(report: &dyn Reporter, step: &str, detail: String, started: Instant) {
    report.emit(Event::Step { step: step.to_string(), ok: true, detail, seconds: started.elapsed().as_secs_f64() });
}

fn create(args: ClusterCreateArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let name = &args.cluster.name;
    kind::check_name(name)?;
    if args.port == 0 || args.registry_port == 0 {
        return Err(crate::k8s::Error::Config("--port and --registry-port must be 1-65535".into()).into());
    }
    let kind = Kind::find(ctx, args.cluster.kubeconfig.as_deref())?;
    let report = Terminal::new(shell);
    runtime().block_on(async {
        let interrupt = super::interrupt(shell);
        let started = Instant::now();
        if kind.clusters().await?.iter().any(|c| c == name) {
            step(&report, "cluster", format!("{name} exists: using it"), started);
        } else {
            shell.status(
                "Creating",
                format_args!("kind cluster {name} (kind prints nothing until it is done; this takes a minute)"),
            );
            let config = kind::config(&kind::Config {
                name: name.clone(),
                host_port: args.port,
                registry_port: args.registry.then_some(args.registry_port),
            });
            kind.create(name, &config, Duration::from_secs(args.timeout), &interrupt).await?;
            step(
                &report,
                "cluster",
                format!("{name} created; NodePort {} is 127.0.0.1:{}", kind::NODE_PORT, args.port),
                started,
            );
        }
        let cluster = cluster::connect(&target(&args.cluster), ctx).await?;
        if args.registry {
            let started = Instant::now();
            let docker = super::docker(ctx).await?;
            let nodes = kind.nodes(name).await?;
            let done = kind::wire_registry(&docker, &nodes, args.registry_port, &args.registry_image, &cluster).await?;
            step(&report, "registry", done, started);
        }
        shell.line(format_args!(
            "cluster {name} is ready: context {} (`labforge deploy` uses it when it is current)",
            cluster.context
        ));
        Ok(Outcome::Success)
    })
}

fn delete(args: ClusterNameArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    kind::check_name(&args.name)?;
    let kind = Kind::find(ctx, args.kubeconfig.as_deref())?;
    runtime().block_on(async {
        let existed = kind.delete(&args.name).await?;
        if existed {
            shell.status("Deleted", format_args!("kind cluster {}", args.name));
        } else {
            shell.line(format_args!("no kind cluster {}: nothing to delete", args.name));
        }
        // The registry goes with the cluster it was made for.
        if let Ok(docker) = super::docker(ctx).await
            && let Some(registry) = docker.inspect(kind::REGISTRY_NAME).await?
            && registry.labels.get(kind::LABEL_REGISTRY) == Some(&args.name)
        {
            docker.remove(&registry.id, Duration::from_secs(5)).await?;
            shell.status("Deleted", format_args!("registry {}", kind::REGISTRY_NAME));
        }
        Ok(Outcome::Success)
    })
}

#[derive(serde::Serialize)]
struct Status {
    name: String,
    exists: bool,
    nodes: Vec<String>,
    context: String,
    reachable: Option<String>,
    registry: Option<String>,
}

fn status(args: ClusterStatusArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let name = &args.cluster.name;
    kind::check_name(name)?;
    let kind = Kind::find(ctx, args.cluster.kubeconfig.as_deref())?;
    runtime().block_on(async {
        let exists = kind.clusters().await?.iter().any(|c| c == name);
        let nodes = if exists { kind.nodes(name).await? } else { Vec::new() };
        let context = kind::context_name(name);
        let reachable = if exists {
            Some(match cluster::connect(&target(&args.cluster), ctx).await {
                Ok(c) => format!("the API server answers at {}", c.server),
                Err(e) => e.to_string(),
            })
        } else {
            None
        };
        let registry = match super::docker(ctx).await {
            Ok(docker) => docker.inspect(kind::REGISTRY_NAME).await?.map(|r| {
                let port = r.bindings.first().map(|(_, host)| *host).unwrap_or_default();
                format!("{} {:?} on 127.0.0.1:{port}", kind::REGISTRY_NAME, r.state).to_lowercase()
            }),
            Err(_) => None,
        };
        let status = Status { name: name.clone(), exists, nodes, context, reachable, registry };
        if args.json {
            shell.line(serde_json::to_string_pretty(&status).unwrap_or_default());
        } else if !status.exists {
            shell.line(format_args!("no kind cluster {name}: create it with `labforge cluster create --name {name}`"));
        } else {
            shell.line(format_args!("cluster   {name} (context {})", status.context));
            shell.line(format_args!("nodes     {}", status.nodes.join(", ")));
            shell.line(format_args!("api       {}", status.reachable.clone().unwrap_or_default()));
            shell.line(format_args!("registry  {}", status.registry.clone().unwrap_or_else(|| "none".into())));
        }
        let healthy =
            status.exists && status.reachable.as_deref().is_some_and(|r| r.starts_with("the API server answers"));
        Ok(if healthy { Outcome::Success } else { Outcome::Failed })
    })
}
