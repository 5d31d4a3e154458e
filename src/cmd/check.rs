//! `labforge check [--step N | --all] [--json] [--watch]`: run a lab step's checks, say what
//! passes and what fails with expected and actual, and record the learner's progress.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::base::runtime;
use crate::base::wait::{Ended, Verdict, Wait, no_events};
use crate::check::{self, Check, CheckResult};
use crate::cli::CheckArgs;
use crate::context::Context;
use crate::lab::catalog::Catalog;
use crate::lab::spec::{Lab, Step};
use crate::lab::workspace::{LabWorkspace, now};
use crate::lab::{self, Error as LabError};
use crate::stack::Error as StackError;
use crate::ui::Shell;
use crate::{Error, Outcome};

/// One step's outcome, as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct StepReport {
    pub index: usize,
    pub id: String,
    pub title: String,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
}

/// The document `labforge check --json` prints. Its shape is stable: see the README.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub lab: String,
    pub passed: bool,
    pub steps: Vec<StepReport>,
}

pub fn run(args: CheckArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let dir = args.step.project.dir.clone();
    let catalog = Catalog::choose(args.labs_dir.as_deref(), ctx);
    let mut ws = LabWorkspace::open(&dir)?;
    let lab = lab::load(&catalog, &ws.progress.lab)?;
    if args.watch {
        return watch(&mut ws, &lab, &args, ctx, shell);
    }
    let report = check_once(&mut ws, &lab, &args, ctx)?;
    if args.json {
        shell.line(serde_json::to_string_pretty(&report).expect("reports serialize"));
    } else {
        print(shell, &lab, &ws, &report);
    }
    Ok(if report.passed { Outcome::Success } else { Outcome::Failed })
}

/// Resolves `--step` (a number from 1, or an id) to an index.
pub fn resolve_step(lab: &Lab, wanted: &str) -> Result<usize, Error> {
    let by_number = wanted.parse::<usize>().ok().filter(|n| *n >= 1 && *n <= lab.steps.len()).map(|n| n - 1);
    by_number.or_else(|| lab.steps.iter().position(|s| s.id == wanted)).ok_or_else(|| {
        let ids: Vec<String> = lab.steps.iter().enumerate().map(|(i, s)| format!("{} ({})", i + 1, s.id)).collect();
        LabError::Usage(format!("lab `{}` has no step `{wanted}` (steps: {})", lab.id, ids.join(", "))).into()
    })
}

fn check_once(ws: &mut LabWorkspace, lab: &Lab, args: &CheckArgs, ctx: &Context) -> Result<CheckReport, Error> {
    let steps: Vec<(usize, &Step)> = if args.all {
        lab.steps.iter().enumerate().collect()
    } else if let Some(wanted) = &args.step.step {
        let i = resolve_step(lab, wanted)?;
        vec![(i, &lab.steps[i])]
    } else {
        match ws.progress.current(lab) {
            Some(current) => vec![current],
            // Done: checking again confirms everything still passes.
            None => lab.steps.iter().enumerate().collect(),
        }
    };
    let context = ws.context()?;
    let lab_tests = lab::lab_tests(lab, &ws.recorded.project, &context)?;
    let mut workspace = check::Workspace::new(&ws.dir, context, lab.files.clone(), ctx).with_lab_tests(lab_tests);
    let needs_stack = steps.iter().flat_map(|(_, s)| &s.checks).any(|c| c.kind.needs_stack());
    let target = super::deploy::target(&args.target)?;
    let chose_cluster =
        args.cluster || target.kubeconfig.is_some() || target.context.is_some() || target.namespace.is_some();
    let results = runtime().block_on(async {
        if chose_cluster {
            // A cluster asked for and not reached is a setup problem (exit 2), as Docker's is.
            let cluster = crate::k8s::cluster::connect(&target, ctx).await?;
            workspace = if args.cluster { workspace.deployed_on(cluster) } else { workspace.on_cluster(cluster) };
        }
        if needs_stack && (args.cluster || lab.stack) {
            // A daemon that does not answer, or services that are not running (on Docker or the
            // cluster), is a setup problem (exit 2), not a failed step, and no attempt is counted.
            if !args.cluster {
                super::docker(ctx).await?;
            }
            let stack = workspace.stack().await.map_err(|f| StackError::Config(f.reason))?;
            let stopped = stack.not_running();
            if !stopped.is_empty() {
                let (what, fix) = match args.cluster {
                    true => ("the project is not running on the cluster", "deploy it with `labforge deploy`"),
                    false => ("the lab's stack is not running", "start it with `labforge up`"),
                };
                return Err(StackError::NotRunning(format!("{what} ({}): {fix}", stopped.join(", "))).into());
            }
        }
        let chosen: Vec<&[Check]> = steps.iter().map(|(_, step)| step.checks.as_slice()).collect();
        let results = check::run_steps(&workspace, &chosen).await;
        Ok::<_, Error>(steps.iter().zip(results).map(|((i, step), checks)| (*i, *step, checks)).collect::<Vec<_>>())
    })?;
    let mut reports = Vec::new();
    for (index, step, checks) in results {
        let passed = checks.iter().all(|c| c.passed);
        let progress = ws.progress.step_mut(&step.id);
        progress.attempts += 1;
        if passed && !progress.passed {
            progress.passed_at = Some(now());
        }
        progress.passed = passed;
        reports.push(StepReport { index: index + 1, id: step.id.clone(), title: step.title.clone(), passed, checks });
    }
    ws.save()?;
    Ok(CheckReport { lab: lab.id.clone(), passed: reports.iter().all(|r| r.passed), steps: reports })
}

fn print(shell: &Shell, lab: &Lab, ws: &LabWorkspace, report: &CheckReport) {
    for step in &report.steps {
        shell.line(format_args!("{} {}/{} · {}", shell.bold("Step"), step.index, lab.steps.len(), step.title));
        let width = step.checks.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
        for c in &step.checks {
            let mark = if c.passed { "✓" } else { "✗" };
            shell.line(format_args!("  {mark} {:<width$}  {}", c.name, shell.dim(&format!("{} ms", c.duration_ms))));
            if let Some(reason) = &c.reason {
                shell.line(format_args!("      {reason}"));
            }
        }
        let failing = step.checks.iter().filter(|c| !c.passed).count();
        if step.passed {
            shell.line(format_args!("  step {} passed", step.index));
        } else {
            shell.line(format_args!(
                "  {failing} of {} checks fail; `labforge lab hint` gives a hint, `labforge lab show` the instructions",
                step.checks.len()
            ));
        }
        shell.line("");
    }
    match ws.progress.current(lab) {
        None => shell.line(format_args!("All {} steps of {} pass: the lab is complete.", lab.steps.len(), lab.title)),
        Some((i, next)) if report.passed => {
            shell.line(format_args!("Next: step {}/{} · {} (`labforge lab show`)", i + 1, lab.steps.len(), next.title))
        }
        Some(_) => {}
    }
}

/// Runs the checks, then again each time a project file changes, until Ctrl-C. A burst of saves
/// runs them once: they start after [`QUIET`] without a further change, or after [`BURST_CAP`]
/// of changes that do not stop.
fn watch(ws: &mut LabWorkspace, lab: &Lab, args: &CheckArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let runtime = runtime();
    let interrupt = runtime.block_on(async { super::interrupt(shell) });
    let mut seen = newest_change(&ws.dir);
    loop {
        match check_once(ws, lab, args, ctx) {
            Ok(report) => print(shell, lab, ws, &report),
            // A stack that is down can be brought up while the watch goes on.
            Err(e @ Error::Stack(_)) => shell.error(&e),
            Err(e) => return Err(e),
        }
        shell.line(shell.dim("watching for changes (Ctrl-C stops)"));
        let changed = runtime.block_on(async {
            // (the newest change seen, when it was seen, when the burst began)
            let mut burst: Option<(SystemTime, Instant, Instant)> = None;
            Wait::until_cancelled(POLL)
                .run(interrupt.wait(), no_events::<()>(), async |_| {
                    let newest = newest_change(&ws.dir);
                    let now = Instant::now();
                    burst = match burst {
                        _ if newest <= seen => None,
                        Some((last, at, began)) if last == newest => {
                            if now - at >= QUIET || now - began >= BURST_CAP {
                                return Verdict::Done(newest);
                            }
                            Some((last, at, began))
                        }
                        Some((_, _, began)) => Some((newest, now, began)),
                        None => Some((newest, now, now)),
                    };
                    Verdict::<_, ()>::Pending("no change yet".into())
                })
                .await
        });
        match changed {
            Ended::Done(time) => seen = time,
            _ => return Err(Error::Interrupted),
        }
    }
}

/// How often `--watch` looks at the project's modification times.
const POLL: Duration = Duration::from_millis(100);
/// How long the files must stay unchanged before `--watch` checks again.
const QUIET: Duration = Duration::from_millis(300);
/// The longest `--watch` waits for a stream of changes to stop.
const BURST_CAP: Duration = Duration::from_secs(3);

/// The latest modification time among the project's own files.
fn newest_change(dir: &Path) -> SystemTime {
    fn walk(dir: &Path, newest: &mut SystemTime) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if matches!(name.as_ref(), ".venv" | ".git" | ".labforge" | "__pycache__" | ".pytest_cache" | ".ruff_cache")
            {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&entry.path(), newest);
            } else if let Ok(modified) = meta.modified()
                && modified > *newest
            {
                *newest = modified;
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    walk(dir, &mut newest);
    newest
}
