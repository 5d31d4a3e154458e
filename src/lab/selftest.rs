//! `lab selftest`: a lab proves itself. In a scratch folder: start it; every step must fail on the
//! starter; lay every step's solution over it, bring the stack up again; every check must pass.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::spec::{Lab, Step};
use super::{Error, project_name, scaffold, solution, venv, write_files};
use crate::base::runtime;
use crate::check::{self, Check, Workspace};
use crate::context::Context;
use crate::interrupt::Interrupt;
use crate::report::{Event, Reporter};
use crate::stack::docker::{CONNECT_DEADLINE, Docker};
use crate::stack::project::{Mode, Project};
use crate::stack::runtime::{OnDocker, Runtime};
use crate::stack::up::UpOptions;

/// What a lab's selftest found.
#[derive(Debug, Clone, Serialize)]
pub struct SelftestReport {
    pub lab: String,
    pub passed: bool,
    /// Each problem on one line: a step that passes on the starter, a check that fails on the
    /// solution, a stack that does not come up.
    pub problems: Vec<String>,
    pub seconds: f64,
}

/// Runs the selftest of `lab` in a scratch folder, removing its stack afterwards.
pub fn run(lab: &Lab, ctx: &Context, report: &dyn Reporter) -> Result<SelftestReport, Error> {
    let started = Instant::now();
    let scratch =
        tempfile::Builder::new().prefix("labforge-selftest-").tempdir().map_err(|e| Error::Usage(e.to_string()))?;
    let name = project_name("selftest", lab);
    let dir = scratch.path().join(&name);
    report.emit(Event::SelftestStarted { lab: lab.id.clone(), steps: lab.steps.len() });
    scaffold(lab, &dir, &name, false)?;
    let runtime = runtime();
    if lab.needs_venv() {
        runtime.block_on(venv::ensure(&dir, ctx, report))?;
    }
    let context = super::workspace::read_recorded(&dir)
        .and_then(|r| crate::scaffold::project_context(&r).map_err(Error::from))?;
    let result = runtime.block_on(async {
        let mut problems = Vec::new();
        let runtime = match lab.stack {
            true => Some(OnDocker::new(Docker::connect(&ctx.docker_host(), CONNECT_DEADLINE).await?)),
            false => None,
        };
        if let Some(runtime) = &runtime
            && let Err(problem) = bring_up(runtime, &dir, ctx, report).await?
        {
            problems.push(format!("the starter's stack does not come up: {problem}"));
            return Ok::<_, Error>(problems);
        }

        let ws = Workspace::new(&dir, context.clone(), lab.files.clone(), ctx);
        let steps: Vec<&Step> = lab.steps.iter().collect();
        let checks: Vec<&[Check]> = steps.iter().map(|s| s.checks.as_slice()).collect();
        for (step, results) in steps.iter().zip(check::run_steps(&ws, &checks).await) {
            if results.iter().all(|r| r.passed) {
                problems.push(format!(
                    "step `{}` passes on the starter: it must fail until the learner solves it",
                    step.id
                ));
            } else {
                for r in results.iter().filter(|r| !r.passed) {
                    report.emit(Event::SelftestStarterFailed {
                        step: step.id.clone(),
                        check: r.name.clone(),
                        reason: r.reason.clone().unwrap_or_default(),
                    });
                }
            }
        }

        for step in &lab.steps {
            write_files(&dir, solution(lab, &step.id, &context)?)?;
        }
        if lab.needs_venv() {
            // When the solution changed the dependencies, they are installed as for a learner.
            venv::ensure(&dir, ctx, report).await?;
        }
        if let Some(runtime) = &runtime {
            // As a learner would after `lab solve`: `up` rebuilds what a changed dependency
            // needs; the reloading server picks up the rest, and the checks wait for it.
            if let Err(problem) = bring_up(runtime, &dir, ctx, report).await? {
                problems.push(format!("the solution's stack does not come up: {problem}"));
                return Ok(problems);
            }
        }
        let ws = Workspace::new(&dir, context, lab.files.clone(), ctx);
        for (step, results) in steps.iter().zip(check::run_steps(&ws, &checks).await) {
            for r in results.into_iter().filter(|r| !r.passed) {
                problems.push(format!(
                    "step `{}`: check `{}` fails on the solution: {}",
                    step.id,
                    r.name,
                    r.reason.as_deref().unwrap_or_default()
                ));
            }
        }
        Ok(problems)
    });
    if lab.stack {
        let project = crate::stack::spec::StackSpec::project_name(&dir).unwrap_or(name);
        let _ = runtime.block_on(async {
            let runtime = OnDocker::new(Docker::connect(&ctx.docker_host(), CONNECT_DEADLINE).await?);
            let project = runtime.place_in(Project::bare(&project, &dir), ctx).await?;
            runtime.tear_down(&project, true, report).await.map_err(Error::from)
        });
    }
    let problems = result?;
    Ok(SelftestReport {
        lab: lab.id.clone(),
        passed: problems.is_empty(),
        problems,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `labforge up` in development mode; `Ok(Err(..))` describes services that did not come up.
async fn bring_up(
    runtime: &OnDocker<Docker>,
    dir: &Path,
    ctx: &Context,
    report_to: &dyn Reporter,
) -> Result<Result<(), String>, Error> {
    let project = runtime.place_in(Project::load(dir, Mode::Dev, ctx)?, ctx).await?;
    let options = UpOptions {
        timeout: Duration::from_secs(240),
        strict_ports: false,
        ca_bundle: ctx.ca_bundle(None)?.map(|(_, bytes)| bytes),
    };
    let report = runtime.ensure(&project, &options, report_to, &Interrupt::never()).await?;
    if report.all_ready() {
        return Ok(Ok(()));
    }
    let failed: Vec<String> = report
        .services
        .iter()
        .filter_map(|s| match &s.readiness {
            crate::stack::ready::Readiness::Failed { reason, logs, .. } => {
                Some(format!("{}: {reason}; last log line: {}", s.name, logs.last().map(String::as_str).unwrap_or("-")))
            }
            _ => None,
        })
        .collect();
    Ok(Err(failed.join("; ")))
}
