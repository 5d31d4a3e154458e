//! `labforge down`: remove the project's containers and network; volumes with `--volumes`.

use crate::base::runtime;
use crate::cli::DownArgs;
use crate::context::Context;
use crate::stack::project::Project;
use crate::stack::runtime::{OnDocker, Runtime};
use crate::stack::spec::StackSpec;
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub fn run(args: DownArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let name = StackSpec::project_name(&args.project.dir)?;
    runtime().block_on(async {
        let runtime = OnDocker::new(super::docker(ctx).await?);
        let project = runtime.place_in(Project::bare(&name, &args.project.dir), ctx).await?;
        let report = runtime.tear_down(&project, args.volumes, &Terminal::new(shell)).await?;
        if report.containers.is_empty() && report.networks.is_empty() && report.volumes.is_empty() {
            shell.line(format_args!("nothing to remove for project {}", project.instance.name()));
        }
        Ok(Outcome::Success)
    })
}
