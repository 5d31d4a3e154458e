//! `labforge up`: bring the project's stack up and prove every service ready.

use std::time::Duration;

use crate::cli::UpArgs;
use crate::interrupt::Interrupt;
use crate::stack::config::{UserConfig, ca_bundle};
use crate::stack::project::{Mode, Project};
use crate::stack::up::{self, UpOptions, UpReport};
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: UpArgs, shell: &Shell) -> Result<Outcome, Error> {
    let mode = if args.prod { Mode::Prod } else { Mode::Dev };
    // Everything that can be wrong with the files is found before Docker is touched.
    let project = Project::load(&args.project.dir, mode, &UserConfig::load()?)?;
    let options = UpOptions {
        timeout: Duration::from_secs(args.timeout),
        strict_ports: args.strict_ports,
        ca_bundle: ca_bundle(args.ca_cert.as_deref())?.map(|(_, bytes)| bytes),
    };
    super::runtime().block_on(async {
        let engine = super::docker().await?;
        let interrupt = Interrupt::install(shell);
        let shell = if args.json { shell.for_json() } else { shell.clone() };
        let (outcome, _) = bring_up(&engine, &project, &options, &shell, &interrupt, args.json).await?;
        Ok(outcome)
    })
}

/// Runs `up` and reports it; shared with `quickstart`.
pub async fn bring_up(
    engine: &crate::stack::docker::Docker,
    project: &Project,
    options: &UpOptions,
    shell: &Shell,
    interrupt: &Interrupt,
    json: bool,
) -> Result<(Outcome, UpReport), Error> {
    let report = up::up(engine, project, options, shell, interrupt).await?;
    if json {
        shell.line(serde_json::to_string_pretty(&report).expect("reports serialize"));
    } else {
        up::print_report(shell, project, &report);
    }
    if report.interrupted {
        shell.line("interrupted: what started is left running; `labforge up` continues, `labforge down` removes it");
        return Err(Error::Interrupted);
    }
    let outcome = if report.all_ready() { Outcome::Success } else { Outcome::Failed };
    Ok((outcome, report))
}
