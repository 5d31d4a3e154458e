//! `labforge quickstart`: the whole value in one command. Scaffold the default project (or reuse
//! the one already there), bring it up, and say where it answers.

use std::path::PathBuf;
use std::time::Duration;

use crate::base::runtime;
use crate::cli::{NewArgs, QuickstartArgs};
use crate::context::Context;
use crate::stack::endpoints;
use crate::stack::project::{Mode, Project};
use crate::stack::runtime::OnDocker;
use crate::stack::spec::{FILE_NAME, ServiceKind};
use crate::stack::up::UpOptions;
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: QuickstartArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.join(FILE_NAME).is_file() {
        shell.status("Using", format_args!("the project in {}", dir.display()));
    } else {
        super::new::run(
            NewArgs {
                name: args.name.clone(),
                framework: None,
                db: None,
                auth: None,
                with: None,
                set: Vec::new(),
                dir: Some(dir.clone()),
                template_dir: None,
                force: false,
                dry_run: false,
                yes: true,
            },
            ctx,
            shell,
        )?;
    }
    let project = Project::load(&dir, Mode::Dev, ctx)?;
    let options = UpOptions {
        timeout: Duration::from_secs(args.timeout),
        strict_ports: false,
        ca_bundle: ctx.ca_bundle(None)?.map(|(_, b)| b),
    };
    let (outcome, report) = runtime().block_on(async {
        let runtime = OnDocker::new(super::docker(ctx).await?);
        let interrupt = super::interrupt(shell);
        super::up::bring_up(&runtime, &project, &options, ctx, shell, &interrupt, false).await
    })?;
    if outcome == Outcome::Success {
        shell.line("");
        let app = report.services.iter().find(|s| s.kind == ServiceKind::App);
        if let (Some(app), Some(service)) = (app, app.and_then(|a| project.service(&a.name))) {
            shell.line(format_args!("The app answers on {}", endpoints::address(&project, service, &app.ports)));
        }
        shell.line(format_args!(
            "Edit {}/src and the running app reloads. Stop with `labforge down --dir {}`.",
            dir.display(),
            dir.display()
        ));
    }
    Ok(outcome)
}
