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
