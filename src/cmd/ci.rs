//! `labforge ci setup` and `labforge ci lint`: the project on GitHub Actions.

use crate::base::runtime;
use crate::cli::{CiArgs, CiCommand, CiLintArgs, CiSetupArgs};
use crate::context::Context;
use crate::github::{self, setup};
use crate::report::Silent;
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub fn run(args: CiArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    match args.command {
        CiCommand::Setup(args) => setup_repo(args, ctx, shell),
        CiCommand::Lint(args) => lint(args, ctx, shell),
    }
}

fn setup_repo(args: CiSetupArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let secrets = args
        .secrets
        .iter()
        .map(|s| setup::parse_secret_flag(s).map_err(|e| github::Error::Usage(format!("--secret {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let options = setup::Options {
        repo: args.repo,
        create: args.create,
        private: args.private,
        branch: args.branch,
        secrets,
        api: args.api_url,
    };
    let dir = &args.project.dir;
    let report = runtime().block_on(async {
        let interrupt = super::interrupt(shell);
        let work = async {
            if args.json {
                setup::setup(dir, &options, ctx, &Silent).await
            } else {
                setup::setup(dir, &options, ctx, &Terminal::new(shell)).await
            }
        };
        tokio::select! {
            done = work => done.map_err(Error::from),
            () = interrupt.wait() => Err(Error::Interrupted),
        }
    })?;
    if args.json {
        shell.line(serde_json::to_string_pretty(&report).expect("reports serialize"));
    } else {
        for change in &report.push.changes {
            shell.line(format_args!("    {change}"));
        }
        shell.line(format_args!(
            "{} is set up: `git clone {}` has the project; its workflow runs on every push",
            report.repo,
            if report.url.is_empty() { &report.repo } else { &report.url }
        ));
    }
    Ok(Outcome::Success)
}

fn lint(args: CiLintArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let linted = runtime().block_on(github::lint::lint(&args.project.dir, ctx))?;
    if args.json {
        shell.line(serde_json::to_string_pretty(&linted).expect("reports serialize"));
    } else if linted.problems.is_empty() {
        shell.line(format_args!("✓ {} workflow(s) clean ({})", linted.files.len(), linted.by));
    } else {
        for problem in &linted.problems {
            shell.line(problem);
        }
        shell.line(format_args!("✗ {} problem(s) ({})", linted.problems.len(), linted.by));
    }
    Ok(if linted.problems.is_empty() { Outcome::Success } else { Outcome::Failed })
}
