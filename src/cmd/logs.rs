//! `labforge logs [SERVICE] [-f] [--tail N]`: a service's output, or every service's, prefixed.

use futures_util::StreamExt;
use futures_util::stream::select_all;

use crate::base::runtime;
use crate::cli::LogsArgs;
use crate::context::Context;
use crate::stack::Error as StackError;
use crate::stack::docker::Engine;
use crate::stack::instance;
use crate::stack::project::LABEL_SERVICE;
use crate::stack::spec::StackSpec;
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: LogsArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let project = StackSpec::project_name(&args.project.dir)?;
    runtime().block_on(async {
        let engine = super::docker(ctx).await?;
        let project = instance::resolve(&engine, &project, &args.project.dir).await?.name().to_string();
        let mut containers = engine.containers(&project).await?;
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(wanted) = &args.service {
            containers.retain(|c| c.label(LABEL_SERVICE) == Some(wanted.as_str()));
            if containers.is_empty() {
                return Err(StackError::Config(format!(
                    "service `{wanted}` of project {project} has no container (see `labforge status`)"
                ))
                .into());
            }
        }
        let prefix = args.service.is_none();
        let label = |c: &crate::stack::docker::Container| c.label(LABEL_SERVICE).unwrap_or(&c.name).to_string();
        let width = containers.iter().map(|c| label(c).len()).max().unwrap_or(0);
        if !args.follow {
            for c in &containers {
                for line in engine.logs(&c.id, args.tail).await? {
                    if prefix { shell.line(format_args!("{:<width$} | {line}", label(c))) } else { shell.line(line) }
                }
            }
            return Ok(Outcome::Success);
        }
        let streams = containers.iter().map(|c| {
            let name = label(c);
            engine.follow_logs(&c.id, args.tail).map(move |chunk| (name.clone(), chunk)).boxed()
        });
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
