//! `labforge logs [SERVICE] [-f] [--tail N]`: a service's output, or every service's, prefixed.

use futures_util::StreamExt;
use futures_util::stream::select_all;

use crate::base::runtime;
use crate::cli::LogsArgs;
use crate::context::Context;
use crate::stack::Error as StackError;
use crate::stack::project::Project;
use crate::stack::runtime::{OnDocker, Runtime};
use crate::stack::spec::StackSpec;
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: LogsArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    if args.cluster {
        return cluster(args, ctx, shell);
    }
    let name = StackSpec::project_name(&args.project.dir)?;
    runtime().block_on(async {
        let runtime = OnDocker::new(super::docker(ctx).await?);
        let project = runtime.place_in(Project::bare(&name, &args.project.dir), ctx).await?;
        let mut services: Vec<String> = runtime.observe(&project).await?.into_iter().map(|o| o.service).collect();
        services.sort();
        if let Some(wanted) = &args.service {
            services.retain(|s| s == wanted);
            if services.is_empty() {
                return Err(StackError::Config(format!(
                    "service `{wanted}` of project {name} has no container (see `labforge status`)"
                ))
                .into());
            }
        }
        let prefix = args.service.is_none();
        let width = services.iter().map(String::len).max().unwrap_or(0);
        if !args.follow {
            for service in &services {
                for line in runtime.logs(&project, service, args.tail).await? {
                    if prefix { shell.line(format_args!("{service:<width$} | {line}")) } else { shell.line(line) }
                }
            }
            return Ok(Outcome::Success);
        }
        let mut streams = Vec::new();
        for service in &services {
            let name = service.clone();
            streams.push(runtime.follow(&project, service, args.tail).await?.map(move |chunk| (name.clone(), chunk)));
        }
        let mut merged = select_all(streams);
        let interrupt = super::interrupt(shell);
        loop {
            tokio::select! {
                () = interrupt.wait() => return Ok(Outcome::Success),
                next = merged.next() => match next {
                    Some((name, Ok(text))) => {
                        for line in text.lines() {
                            if prefix { shell.line(format_args!("{name:<width$} | {line}")) } else { shell.line(line) }
                        }
                    }
                    Some((_, Err(e))) => return Err(e.into()),
                    None => return Ok(Outcome::Success),
                },
            }
        }
    })
}

/// `logs --cluster`: the last lines of every pod of the project's workloads.
fn cluster(args: LogsArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    if args.follow {
        return Err(StackError::Config(
            "--follow works on Docker only; on a cluster, run `labforge logs --cluster` again".into(),
        )
        .into());
    }
    let target = super::deploy::target(&args.target)?;
    let tail = i64::try_from(args.tail).unwrap_or(i64::MAX);
    runtime().block_on(async {
        let pods = crate::k8s::deploy::logs(&args.project.dir, &target, ctx, tail).await?;
        if pods.is_empty() {
            shell.line("no pods of this project on the cluster (deploy it with `labforge deploy`)");
        }
        let width = pods.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        for (pod, text) in pods {
            for line in text.lines() {
                shell.line(format_args!("{pod:<width$} | {line}"));
            }
        }
        Ok(Outcome::Success)
    })
}
