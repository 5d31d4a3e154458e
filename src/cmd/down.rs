//! `labforge down`: remove the project's containers and network; volumes with `--volumes`.

use crate::cli::DownArgs;
use crate::stack::down;
use crate::stack::spec::StackSpec;
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: DownArgs, shell: &Shell) -> Result<Outcome, Error> {
    let project = StackSpec::project_name(&args.project.dir)?;
    super::runtime().block_on(async {
        let engine = super::docker().await?;
        let report = down::down(&engine, &project, args.volumes, shell).await?;
        if report.containers.is_empty() && report.networks.is_empty() && report.volumes.is_empty() {
            shell.line(format_args!("nothing to remove for project {project}"));
        }
        Ok(Outcome::Success)
    })
}
