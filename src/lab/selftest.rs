//! `lab selftest`: a lab proves itself. In a scratch folder: start it; every step must fail on the
//! starter; lay every step's solution over it, bring the stack up again; every check must pass.
//!
//! A lab with `k8s` checks deploys the starter, then the solution, to the cluster the kubeconfig
//! (or `--context`) names, and removes them afterwards. Without a cluster that answers, those
//! checks are not run, and the report names them: the rest of the lab is still proven.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::patch::Change;
use super::spec::{Lab, Step};
use super::{Error, project_name, scaffold, solution, venv, write_files};
use crate::base::runtime;
use crate::check::{self, Check, Workspace};
use crate::context::Context;
use crate::github::client::GitHub;
use crate::github::{runs, setup};
use crate::interrupt::Interrupt;
use crate::k8s::cluster::{self, Cluster, Target};
use crate::k8s::deploy;
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
    /// The checks that need a cluster and were not run (`step / check`), when none answered.
    pub skipped: Vec<String>,
    /// Why they were not run.
    pub not_run: Option<String>,
    /// The mistakes caught (with the checks that caught each) and the other correct solutions
    /// that passed.
    pub proven: Vec<Proven>,
    /// Per step: how much of it the starter, the mistakes and the other solutions proved.
    pub steps: Vec<StepProof>,
    /// The checks no mistake is meant to fail (`step / check: why`).
    pub guards: Vec<String>,
    pub seconds: f64,
}

/// What selftest proved of one step: the row of `lab selftest`'s table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepProof {
    pub step: String,
    /// The step's checks that judge the project here (not a cluster's or GitHub's): the ones
    /// its mistakes and other solutions are run against.
    pub checks: usize,
    /// Of those that are not guards, the ones seen failing on the starter or on a mistake.
    pub failable: usize,
    /// Guards: checks no mistake is meant to fail.
    pub guards: usize,
    pub wrong: usize,
    pub wrong_caught: usize,
    pub alternatives: usize,
    pub alternatives_passed: usize,
}

/// A `wrong/` overlay that a check caught, or an `alternative/` one that passed.
#[derive(Debug, Clone, Serialize)]
pub struct Proven {
    pub step: String,
    pub overlay: String,
    /// `wrong` or `alternative`.
    pub kind: &'static str,
    /// For a mistake: the checks that failed on it, and why.
    pub by: Vec<String>,
    pub reasons: Vec<String>,
}

/// Whether a check judges the project here (its files, its stack), not a cluster or GitHub:
/// the checks the mistakes and other solutions are run against.
fn is_local(c: &Check) -> bool {
    !c.kind.needs_cluster() && !c.kind.needs_github()
}

/// What the project held at each path an overlay changes (`None`: nothing), to put back.
fn save(dir: &Path, changes: &[Change]) -> Vec<Change> {
    changes.iter().map(|(path, _)| (path.clone(), std::fs::read(dir.join(path)).ok())).collect()
}

fn restore(dir: &Path, saved: Vec<Change>) -> Result<(), Error> {
    for (path, bytes) in saved {
        let at = dir.join(&path);
        let done = match bytes {
            Some(bytes) => std::fs::write(&at, bytes),
            None => std::fs::remove_file(&at).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            }),
        };
        done.map_err(|e| Error::Usage(format!("cannot restore {path}: {e}")))?;
    }
    Ok(())
}

/// Where a lab's remote checks find what they ask: the cluster of its `k8s` checks, the GitHub
/// repository of its `github` checks.
#[derive(Debug, Clone, Default)]
pub struct OnCluster {
    pub target: Target,
    /// For a cluster other than kind: the registry its nodes pull the app's image from.
    pub registry: Option<String>,
    /// `OWNER/NAME`, created when missing: the starter and the solution are pushed there, the
    /// solution's workflow run there.
    pub github_repo: Option<String>,
}

/// The longest a solution's workflow run may take.
const RUN_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// The longest a starter's or a solution's rollout may take.
const ROLLOUT_DEADLINE: Duration = Duration::from_secs(300);

/// Runs the selftest of `lab` in a scratch folder, removing its stack afterwards.
pub fn run(lab: &Lab, on: &OnCluster, ctx: &Context, report: &dyn Reporter) -> Result<SelftestReport, Error> {
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
    let lab_tests = super::lab_tests(lab, &name, &context)?;
    let mut not_run = Vec::new();
    let cluster = match lab.needs_cluster() {
        false => None,
        true => match runtime.block_on(cluster::connect(&on.target, ctx)) {
            Ok(cluster) => Some(cluster),
            Err(e) => {
                not_run.push(e.to_string());
                None
            }
        },
    };
    // GitHub: a token, and a repository to push to.
    let github = match (lab.needs_github(), &on.github_repo) {
        (false, _) => None,
        (true, None) => {
            not_run.push("no --github-repo to push the lab to".to_string());
            None
        }
        (true, Some(repo)) => match runtime.block_on(GitHub::sign_in(None, ctx, report)) {
            Ok(gh) => Some((gh, repo.clone())),
            Err(e) => {
                not_run.push(e.to_string());
                None
            }
        },
    };
    let left_out =
        |c: &Check| (cluster.is_none() && c.kind.needs_cluster()) || (github.is_none() && c.kind.needs_github());
    let skipped: Vec<String> = lab
        .steps
        .iter()
        .flat_map(|s| s.checks.iter().filter(|c| left_out(c)).map(|c| format!("{} / {}", s.id, c.name)))
        .collect();
    let not_run = (!not_run.is_empty()).then(|| not_run.join("; "));
    let mut proven: Vec<Proven> = Vec::new();
    // (step, check) seen failing on the starter or on a mistake: a check never seen failing
    // proves nothing.
    let mut failed_somewhere: BTreeSet<(String, String)> = BTreeSet::new();
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

        if let Some(cluster) = &cluster
            && let Err(problem) = deploy_to(cluster, on, &dir, ctx, report).await?
        {
            problems.push(format!("the starter does not deploy: {problem}"));
            return Ok::<_, Error>(problems);
        }
        if let Some((gh, repo)) = &github
            && let Err(problem) = push_to(gh, repo, &dir, ctx, report).await
        {
            problems.push(format!("the starter cannot be pushed to {repo}: {problem}"));
            return Ok::<_, Error>(problems);
        }
        let ws = workspace(&dir, context.clone(), &lab_tests, lab, cluster.as_ref(), ctx);
        let steps: Vec<&Step> = lab.steps.iter().collect();
        // Without a cluster or GitHub, the checks that need one are left out (and reported as not run).
        let runnable: Vec<Vec<Check>> =
            steps.iter().map(|s| s.checks.iter().filter(|c| !left_out(c)).cloned().collect()).collect();
        let checks: Vec<&[Check]> = runnable.iter().map(Vec::as_slice).collect();
        for (step, results) in steps.iter().zip(check::run_steps(&ws, &checks).await) {
            failed_somewhere.extend(results.iter().filter(|r| !r.passed).map(|r| (step.id.clone(), r.name.clone())));
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
        if let Some(cluster) = &cluster
            && let Err(problem) = deploy_to(cluster, on, &dir, ctx, report).await?
        {
            problems.push(format!("the solution does not deploy: {problem}"));
            return Ok(problems);
        }
        if let Some((gh, repo)) = &github {
            let branch = match push_to(gh, repo, &dir, ctx, report).await {
                Ok(branch) => branch,
                Err(problem) => {
                    problems.push(format!("the solution cannot be pushed to {repo}: {problem}"));
                    return Ok(problems);
                }
            };
            if let Err(problem) = run_workflows(gh, repo, &branch, lab, report).await {
                problems.push(format!("the solution's workflow does not run on {repo}: {problem}"));
                return Ok(problems);
            }
        }
        let ws = workspace(&dir, context.clone(), &lab_tests, lab, cluster.as_ref(), ctx);
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
        if !problems.is_empty() {
            return Ok(problems);
        }
        // Each mistake over the solved project must fail a check of its step; each other correct
        // solution must pass them all. The remote checks are left out: the overlay is not deployed.
        for step in &lab.steps {
            let local: Vec<Check> = step.checks.iter().filter(|c| is_local(c)).cloned().collect();
            for (overlay, name, described) in step
                .wrong
                .iter()
                .map(|(n, d)| ("wrong", n, d))
                .chain(step.alternatives.iter().map(|(n, d)| ("alternative", n, d)))
            {
                let folder = format!("{overlay}/{}/{name}", step.id);
                let changes = super::overlay(lab, &folder, &context, &dir)?;
                let saved = save(&dir, &changes);
                super::apply_changes(&dir, changes)?;
                let ws = workspace(&dir, context.clone(), &lab_tests, lab, None, ctx);
                let results = check::run_steps(&ws, &[local.as_slice()]).await.into_iter().next().unwrap_or_default();
                restore(&dir, saved)?;
                if lab.stack {
                    // The next overlay is laid only once the server runs the solution again: a
                    // change that lands while it restarts for this one could go unseen.
                    let ws = workspace(&dir, context.clone(), &lab_tests, lab, None, ctx);
                    let _ = ws.app_serves_current_code().await;
                }
                let failed: Vec<&check::CheckResult> = results.iter().filter(|r| !r.passed).collect();
                if overlay == "wrong" {
                    failed_somewhere.extend(failed.iter().map(|r| (step.id.clone(), r.name.clone())));
                }
                match (overlay, failed.is_empty()) {
                    ("wrong", true) => problems.push(format!(
                        "step `{}`: the mistake `{name}` ({described}) passes every check: a check must catch it",
                        step.id
                    )),
                    ("wrong", false) => proven.push(Proven {
                        step: step.id.clone(),
                        overlay: name.clone(),
                        kind: "wrong",
                        by: failed.iter().map(|r| r.name.clone()).collect(),
                        reasons: failed.iter().map(|r| r.reason.clone().unwrap_or_default()).collect(),
                    }),
                    (_, true) => proven.push(Proven {
                        step: step.id.clone(),
                        overlay: name.clone(),
                        kind: "alternative",
                        by: Vec::new(),
                        reasons: Vec::new(),
                    }),
                    (_, false) => problems.push(format!(
                        "step `{}`: the other correct solution `{name}` ({described}) fails {}",
                        step.id,
                        failed
                            .iter()
                            .map(|r| format!("`{}`: {}", r.name, r.reason.as_deref().unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )),
                }
            }
        }
        for step in &lab.steps {
            // The remote checks are not held to it: a mistake cannot be deployed here.
            for c in step.checks.iter().filter(|c| is_local(c) && c.guard.is_none()) {
                if !failed_somewhere.contains(&(step.id.clone(), c.name.clone())) {
                    problems.push(format!(
                        "step `{}`: check `{}` fails on neither the starter nor any mistake, so it proves nothing: \
                         ship a `wrong` overlay it catches, or mark it `guard:` with the reason none can fail it",
                        step.id, c.name
                    ));
                }
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
    if cluster.is_some() {
        let _ = runtime.block_on(deploy::undeploy(&dir, &on.target, ctx));
    }
    let mut problems = result?;
    problems.extend(lab.proof_gaps.iter().cloned());
    let steps = lab
        .steps
        .iter()
        .map(|step| {
            let run: Vec<&Check> = step.checks.iter().filter(|c| is_local(c)).collect();
            let mine = |kind: &str| proven.iter().filter(|p| p.step == step.id && p.kind == kind).count();
            StepProof {
                step: step.id.clone(),
                checks: run.len(),
                failable: run
                    .iter()
                    .filter(|c| c.guard.is_none() && failed_somewhere.contains(&(step.id.clone(), c.name.clone())))
                    .count(),
                guards: run.iter().filter(|c| c.guard.is_some()).count(),
                wrong: step.wrong.len(),
                wrong_caught: mine("wrong"),
                alternatives: step.alternatives.len(),
                alternatives_passed: mine("alternative"),
            }
        })
        .collect();
    let guards = lab
        .steps
        .iter()
        .flat_map(|s| {
            s.checks.iter().filter_map(move |c| Some(format!("{} / {}: {}", s.id, c.name, c.guard.as_ref()?)))
        })
        .collect();
    Ok(SelftestReport {
        lab: lab.id.clone(),
        passed: problems.is_empty(),
        problems,
        skipped,
        not_run,
        proven,
        steps,
        guards,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `labforge ci setup` of the project in `dir` to `repo` (created when missing); the branch.
async fn push_to(
    gh: &GitHub<'_>,
    repo: &str,
    dir: &Path,
    ctx: &Context,
    report: &dyn Reporter,
) -> Result<String, String> {
    let options = setup::Options { repo: repo.to_string(), create: true, private: true, ..setup::Options::default() };
    let prepared = setup::prepare(dir, &options, ctx).await.map_err(|e| e.to_string())?;
    setup::setup_with(gh, dir, &options, prepared, report).await.map(|r| r.push.branch).map_err(|e| e.to_string())
}

/// Runs, to their end, the workflows the lab's `github` checks ask about.
async fn run_workflows(
    gh: &GitHub<'_>,
    repo: &str,
    branch: &str,
    lab: &Lab,
    report: &dyn Reporter,
) -> Result<(), String> {
    let mut workflows: Vec<&str> = lab
        .steps
        .iter()
        .flat_map(|s| &s.checks)
        .filter_map(|c| match &c.kind {
            crate::check::kinds::CheckKind::Github(g) => Some(g.workflow.as_str()),
            _ => None,
        })
        .collect();
    workflows.sort();
    workflows.dedup();
    for workflow in workflows {
        let run = runs::dispatch(gh, repo, workflow, branch).await.map_err(|e| e.to_string())?;
        runs::watch(gh, repo, run.id, RUN_DEADLINE, report).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn workspace(
    dir: &Path,
    context: tera::Context,
    lab_tests: &BTreeMap<String, Vec<u8>>,
    lab: &Lab,
    cluster: Option<&Cluster>,
    ctx: &Context,
) -> Workspace {
    let ws = Workspace::new(dir, context, lab.files.clone(), ctx).with_lab_tests(lab_tests.clone());
    match cluster {
        Some(cluster) => ws.on_cluster(cluster.clone()),
        None => ws,
    }
}

/// `labforge deploy` of the project in `dir`; `Ok(Err(..))` says which step failed and why.
async fn deploy_to(
    cluster: &Cluster,
    on: &OnCluster,
    dir: &Path,
    ctx: &Context,
    report: &dyn Reporter,
) -> Result<Result<(), String>, Error> {
    let options = deploy::Options {
        target: Target { namespace: Some(cluster.namespace.clone()), ..on.target.clone() },
        registry: on.registry.clone(),
        timeout: ROLLOUT_DEADLINE,
        dry_run: false,
        ca_bundle: ctx.ca_bundle(None)?.map(|(_, bytes)| bytes),
    };
    // What `deploy` refuses (a manifest it cannot read, a cluster that stopped answering) is a
    // problem of this lab's run like any failed step.
    let deployed = match deploy::deploy(dir, &options, ctx, report, &Interrupt::never()).await {
        Ok(deployed) => deployed,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if deployed.ok() {
        return Ok(Ok(()));
    }
    let mut why: Vec<String> =
        deployed.steps.iter().filter(|s| !s.ok).map(|s| format!("{}: {}", s.step, s.detail)).collect();
    why.extend(deployed.problems.iter().map(|p| format!("{}: {}", p.object, p.problem)));
    Ok(Err(why.join("; ")))
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
