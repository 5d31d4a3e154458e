//! `labforge deploy` and `labforge undeploy`: the project on a Kubernetes cluster.

use std::time::Duration;

use crate::base::runtime;
use crate::cli::{DeployArgs, KubeTarget, UndeployArgs};
use crate::context::Context;
use crate::k8s::cluster::Target;
use crate::k8s::deploy::{self, Options};
use crate::report::Silent;
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub(crate) fn target(args: &KubeTarget) -> Result<Target, Error> {
    if let Some(ns) = &args.namespace {
        crate::k8s::cluster::check_namespace_name(ns)?;
    }
    Ok(Target { kubeconfig: args.kubeconfig.clone(), context: args.context.clone(), namespace: args.namespace.clone() })
}

pub fn run(args: DeployArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    if args.timeout == 0 {
        return Err(crate::k8s::Error::Config("--timeout must be at least 1 second".into()).into());
    }
    if let Some(registry) = &args.registry {
        check_registry(registry)?;
    }
    let options = Options {
        target: target(&args.target)?,
        registry: args.registry.clone(),
        timeout: Duration::from_secs(args.timeout),
        dry_run: args.dry_run,
        ca_bundle: ctx.ca_bundle(args.ca_cert.as_deref())?.map(|(_, bytes)| bytes),
    };
    runtime().block_on(async {
        let interrupt = super::interrupt(shell);
        let report = if args.json {
            deploy::deploy(&args.project.dir, &options, ctx, &Silent, &interrupt).await?
        } else {
            deploy::deploy(&args.project.dir, &options, ctx, &Terminal::new(shell), &interrupt).await?
        };
        if args.json {
            shell.line(serde_json::to_string_pretty(&report).unwrap_or_default());
        } else {
            for problem in &report.problems {
                shell.line(format_args!("✗ {}: {}", problem.object, problem.problem));
                for line in &problem.detail {
                    shell.line(format_args!("    {line}"));
                }
                shell.line(format_args!("  fix: {}", problem.fix));
            }
            if let (true, Some(url)) = (report.ok(), &report.url) {
                shell.line(format_args!("the app answers at {url}"));
            }
            if report.ok() && !report.dry_run {
                shell.line(format_args!(
                    "deployed to namespace {} of context {}: `labforge logs --cluster` shows its log, `labforge undeploy` removes it",
                    report.namespace, report.context
                ));
            }
        }
        Ok(if report.ok() { Outcome::Success } else { Outcome::Failed })
    })
}

/// `HOST[:PORT]/PATH` or `HOST[:PORT]`, as image references start.
pub(crate) fn check_registry(registry: &str) -> Result<(), Error> {
    let ok = !registry.is_empty()
        && !registry.contains("://")
        && !registry.contains('@')
        && !registry.chars().any(char::is_whitespace)
        && registry.split('/').all(|part| !part.is_empty())
        && registry
            .split('/')
            .skip(1)
            .all(|part| part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
    if ok {
        Ok(())
    } else {
        Err(crate::k8s::Error::Config(format!(
            "--registry {registry:?}: give the registry as HOST[:PORT]/PATH (e.g. localhost:5001/team), without a scheme or tag"
        ))
        .into())
    }
}

pub fn undeploy(args: UndeployArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let target = target(&args.target)?;
    runtime().block_on(async {
        let done = deploy::undeploy(&args.project.dir, &target, ctx).await?;
        if args.json {
            shell.line(serde_json::to_string_pretty(&done).unwrap_or_default());
        } else if done.deleted.is_empty() {
            shell.line(format_args!(
                "nothing of this project's to remove in namespace {} of context {}",
                done.namespace, done.context
            ));
        } else {
            for object in &done.deleted {
                shell.status("Deleted", object);
            }
            shell.line(format_args!(
                "volume claims of StatefulSets stay (the database's data); delete them with kubectl when you mean to"
            ));
        }
        Ok(Outcome::Success)
    })
}
