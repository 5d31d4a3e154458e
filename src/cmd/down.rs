//! `labforge down`: remove the project's containers and network; volumes with `--volumes`.

use crate::base::runtime;
use crate::cli::DownArgs;
use crate::context::Context;
use crate::stack::spec::StackSpec;
use crate::stack::{down, instance};
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub fn run(args: DownArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let project = StackSpec::project_name(&args.project.dir)?;
    runtime().block_on(async {
        let engine = super::docker(ctx).await?;
        let project = instance::resolve(&engine, &project, &args.project.dir).await?;
        let report = down::down(&engine, project.name(), args.volumes, &Terminal::new(shell)).await?;
        if report.containers.is_empty() && report.networks.is_empty() && report.volumes.is_empty() {
            shell.line(format_args!("nothing to remove for project {}", project.name()));
        }
        Ok(Outcome::Success)
    })
}
