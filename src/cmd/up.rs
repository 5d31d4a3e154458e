//! `labforge up`: bring the project's stack up and prove every service ready.

use std::time::Duration;

use crate::base::runtime;
use crate::cli::UpArgs;
use crate::context::Context;
use crate::interrupt::Interrupt;
use crate::stack::endpoints;
use crate::stack::project::{Mode, Project};
use crate::stack::ready::Readiness;
use crate::stack::runtime::{OnDocker, Runtime};
use crate::stack::up::{UpOptions, UpReport};
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub fn run(args: UpArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let mode = if args.prod { Mode::Prod } else { Mode::Dev };
    // Everything that can be wrong with the files is found before Docker is touched.
    let project = Project::load(&args.project.dir, mode, ctx)?;
    let options = UpOptions {
        timeout: Duration::from_secs(args.timeout),
        strict_ports: args.strict_ports,
        ca_bundle: ctx.ca_bundle(args.ca_cert.as_deref())?.map(|(_, bytes)| bytes),
    };
    runtime().block_on(async {
        let runtime = OnDocker::new(super::docker(ctx).await?);
        let interrupt = super::interrupt(shell);
        let (outcome, _) = bring_up(&runtime, &project, &options, ctx, shell, &interrupt, args.json).await?;
        Ok(outcome)
    })
}

/// Runs `up` for the folder's instance of `project` and reports it; shared with `quickstart` and
/// `lab start`.
pub async fn bring_up(
    runtime: &impl Runtime,
    project: &Project,
    options: &UpOptions,
    ctx: &Context,
    shell: &Shell,
    interrupt: &Interrupt,
    json: bool,
) -> Result<(Outcome, UpReport), Error> {
    let project = &runtime.place_in(project.clone(), ctx).await?;
    let report = runtime.ensure(project, options, &Terminal::new(shell), interrupt).await?;
    if json {
        shell.line(serde_json::to_string_pretty(&report).expect("reports serialize"));
    } else {
        print_report(shell, project, &report);
    }
    if report.interrupted {
        shell.line("interrupted: what started is left running; `labforge up` continues, `labforge down` removes it");
        return Err(Error::Interrupted);
    }
    let outcome = if report.all_ready() { Outcome::Success } else { Outcome::Failed };
    Ok((outcome, report))
}

/// Prints the end-of-`up` table: each service, its state and where to reach it.
pub fn print_report(shell: &Shell, project: &Project, report: &UpReport) {
    for service in &report.services {
        if let Readiness::Failed { reason, diagnosis, logs } = &service.readiness {
            shell.line("");
            shell.line(format_args!("{} failed: {reason}", shell.bold(&service.name)));
            if !logs.is_empty() {
                shell.line(format_args!("  last {} log lines of {}:", logs.len(), service.container));
                for line in logs {
                    shell.line(format_args!("  │ {line}"));
                }
            }
            if let Some(d) = diagnosis {
                shell.line(format_args!("  diagnosis: {d}"));
            }
        }
    }
    shell.line("");
    let width = report.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
    shell.line(format_args!("{:<width$}  {:<8}  {}", "SERVICE", "STATE", "ADDRESS"));
    for s in &report.services {
        let state = match &s.readiness {
            Readiness::Ready { .. } => "ready",
            Readiness::Failed { .. } => "failed",
            Readiness::Skipped { .. } => "skipped",
        };
        let address =
            project.service(&s.name).map(|svc| endpoints::address(project, svc, &s.ports)).unwrap_or_default();
        shell.line(format_args!("{:<width$}  {state:<8}  {address}", s.name));
    }
}
