//! Checks: running a step's checks against a learner's project and its running stack, each with
//! a deadline, independent ones together. A failing check is data — a [`CheckResult`] saying what
//! was expected and what came back — never an error; only an unreachable Docker daemon is.

pub mod files;
pub mod jsonpath;
pub mod kinds;
pub mod runtime;

mod ci;
mod cluster;
mod file;
mod http;
mod infra;
mod process;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::{OnceCell, RwLock, Semaphore};

use crate::context::Context;
use crate::stack::docker::{CONNECT_DEADLINE, Docker};
use crate::stack::project::{Mode, Project};
use crate::stack::reload;
use crate::stack::runtime::{Observed, OnDocker, Runtime};
pub use files::LabFiles;
use kinds::CheckKind;
use runtime::AnyRuntime;

/// One check of a lab step: its name, its deadline and what it checks.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub timeout: std::time::Duration,
    pub kind: CheckKind,
    /// Why no mistake of its step can fail this check (a guard against breaking what already
    /// works); `lab selftest` lists guards instead of requiring a mistake that fails them.
    pub guard: Option<String>,
}

/// Why a check failed, for a learner: what was expected and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub reason: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure { reason: reason.into(), expected: None, actual: None }
    }

    /// "expected X, got Y", with both kept apart for `--json`.
    pub fn mismatch(what: &str, expected: impl Into<String>, actual: impl Into<String>) -> Failure {
        let (expected, actual) = (expected.into(), actual.into());
        Failure {
            reason: format!("{what}: expected {expected}, got {actual}"),
            expected: Some(expected),
            actual: Some(actual),
        }
    }
}

/// The outcome of one check, as `labforge check --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub kind: &'static str,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    pub duration_ms: u64,
}

/// The project being checked, and its stack once a check asks for it.
pub struct Workspace {
    pub dir: PathBuf,
    pub context: tera::Context,
    pub lab_files: LabFiles,
    /// The project's tests and `pyproject.toml` as the lab ships them (the solved project's),
    /// by project path: `pytest` checks run these, never the learner's copies.
    pub lab_tests: BTreeMap<String, Vec<u8>>,
    /// Where the checks run: the environment and the Docker daemon.
    pub ctx: Context,
    stack: OnceCell<Result<Stack, String>>,
    cluster: OnceCell<Result<crate::k8s::cluster::Cluster, String>>,
    /// The services are the project's deployment on the cluster, not its stack on Docker.
    deployed: bool,
    github: OnceCell<Result<crate::github::client::GitHub<'static>, String>>,
    current: OnceCell<Result<(), Failure>>,
}

/// The running stack as checks see it: the project, its services as observed once, and the
/// runtime they run on (for what a check does to them).
pub struct Stack {
    pub runtime: AnyRuntime,
    pub project: Project,
    pub services: Vec<Observed>,
}

impl Stack {
    /// The observed `service`, if it exists.
    pub fn service(&self, service: &str) -> Option<&Observed> {
        self.services.iter().find(|s| s.service == service)
    }

    /// Each service that does not run, with what it is instead (`` `app` is exited``).
    pub fn not_running(&self) -> Vec<String> {
        self.project
            .services
            .iter()
            .filter_map(|service| match self.service(&service.name) {
                None => Some(format!("`{}` has no {}", service.name, self.runtime.unit())),
                Some(s) if !s.is_running() => {
                    Some(format!("`{}` is {}", service.name, format!("{:?}", s.state).to_lowercase()))
                }
                Some(_) => None,
            })
            .collect()
    }

    /// `http://HOST:PORT` of the app service, when it runs.
    pub fn app_url(&self) -> Result<String, Failure> {
        let app = self.project.app().ok_or_else(|| Failure::new("labforge.yaml has no app service"))?;
        let port = self.host_port(&app.name)?;
        Ok(format!("http://{}:{port}", self.runtime.host()))
    }

    /// The host port a running service publishes its own port on (or its first).
    pub fn host_port(&self, service: &str) -> Result<u16, Failure> {
        let observed = self
            .service(service)
            .filter(|s| s.is_running())
            .ok_or_else(|| Failure::new(format!("`{service}` is not running ({})", self.runtime.start_hint())))?;
        self.project
            .service(service)
            .and_then(|s| s.host_port(&observed.ports))
            .ok_or_else(|| Failure::new(format!("`{service}` publishes no port")))
    }
}

impl Workspace {
    pub fn new(dir: &Path, context: tera::Context, lab_files: LabFiles, ctx: &Context) -> Workspace {
        Workspace {
            dir: dir.to_path_buf(),
            context,
            lab_files,
            lab_tests: BTreeMap::new(),
            ctx: ctx.clone(),
            stack: OnceCell::new(),
            cluster: OnceCell::new(),
            deployed: false,
            github: OnceCell::new(),
            current: OnceCell::new(),
        }
    }

    /// The project's tests as the lab ships them (see [`Workspace::lab_tests`]).
    pub fn with_lab_tests(mut self, lab_tests: BTreeMap<String, Vec<u8>>) -> Workspace {
        self.lab_tests = lab_tests;
        self
    }

    /// GitHub, signed in with the token gh would use (`GH_TOKEN`, `GITHUB_TOKEN`, `gh auth token`);
    /// once for all checks.
    pub async fn github(&self) -> Result<&crate::github::client::GitHub<'static>, Failure> {
        let github = self
            .github
            .get_or_init(|| async {
                crate::github::client::GitHub::sign_in(None, &self.ctx, &crate::report::Silent)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await;
        github.as_ref().map_err(|e| Failure::new(e.clone()))
    }

    /// The checks of kind `k8s` ask `cluster` rather than the current kubeconfig context's.
    pub fn on_cluster(self, cluster: crate::k8s::cluster::Cluster) -> Workspace {
        let _ = self.cluster.set(Ok(cluster));
        self
    }

    /// The checks of the services (`http`, `postgres`, `container`, `command` in the app...) ask
    /// the project as `labforge deploy` runs it on `cluster`, through port-forwards and exec.
    pub fn deployed_on(mut self, cluster: crate::k8s::cluster::Cluster) -> Workspace {
        self.deployed = true;
        self.on_cluster(cluster)
    }

    /// The cluster of the current kubeconfig context; connecting once for all checks.
    pub async fn cluster(&self) -> Result<&crate::k8s::cluster::Cluster, Failure> {
        let cluster = self
            .cluster
            .get_or_init(|| async {
                let target = crate::k8s::cluster::Target::default();
                crate::k8s::cluster::connect(&target, &self.ctx).await.map_err(|e| e.to_string())
            })
            .await;
        cluster.as_ref().map_err(|e| Failure::new(e.clone()))
    }

    /// Renders a lab string (a path, an argument, SQL) with the project's context.
    pub fn render(&self, text: &str) -> Result<String, Failure> {
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(text.to_string());
        }
        tera::Tera::new()
            .render_str(text, &self.context, false)
            .map_err(|e| Failure::new(format!("cannot render `{text}`: {e}")))
    }

    /// The project's Python package name.
    pub fn package(&self) -> String {
        self.render("{{ project.package }}").unwrap_or_else(|_| "app".into())
    }

    /// The project's `.venv/bin`, or why it is missing.
    pub fn venv_bin(&self) -> Result<PathBuf, Failure> {
        let bin = self.dir.join(".venv/bin");
        if bin.join("python").exists() {
            Ok(bin)
        } else {
            Err(Failure::new(
                "the project has no .venv: create it with `python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'`",
            ))
        }
    }

    /// The same workspace on a stack already observed (the fast tier's canned one, say).
    pub fn on(mut self, stack: Stack) -> Workspace {
        self.stack = OnceCell::new_with(Some(Ok(stack)));
        self
    }

    /// The running stack (or deployment); connecting to Docker (or the cluster) once for all checks.
    pub async fn stack(&self) -> Result<&Stack, Failure> {
        let stack = self
            .stack
            .get_or_init(|| async {
                let (runtime, mode) = if self.deployed {
                    let cluster = self.cluster().await.map_err(|f| f.reason)?.clone();
                    (AnyRuntime::Kubernetes(crate::k8s::runtime::OnKubernetes::new(cluster)), Mode::Prod)
                } else {
                    let engine =
                        Docker::connect(&self.ctx.docker_host(), CONNECT_DEADLINE).await.map_err(|e| e.to_string())?;
                    (AnyRuntime::Docker(OnDocker::new(engine)), Mode::Dev)
                };
                let project = Project::load(&self.dir, mode, &self.ctx).map_err(|e| e.to_string())?;
                let project = runtime.place_in(project, &self.ctx).await.map_err(|e| e.to_string())?;
                let services = runtime.observe(&project).await.map_err(|e| e.to_string())?;
                Ok(Stack { runtime, project, services })
            })
            .await;
        stack.as_ref().map_err(|e| Failure::new(e.clone()))
    }

    /// Waits, once for all checks, until the app serves the project's source as it is now: after
    /// an edit (or `lab solve`) its reloading server answers with the old code for a moment, and
    /// no check may judge that. An app that crashes on the new code fails every check that asks.
    pub async fn app_serves_current_code(&self) -> Result<(), Failure> {
        let outcome = self
            .current
            .get_or_init(|| async {
                let stack = self.stack().await?;
                let Some(app) = stack.project.app() else { return Ok(()) };
                let Some(changed) = reload::Sources::new(&app.reload_on)
                    .map_err(|e| Failure::new(format!("labforge.yaml: dev.reload_on: {e}")))?
                    .newest_change(&self.dir)
                else {
                    return Ok(());
                };
                // A production container runs the code its image was built with: nothing reloads.
                if !stack.service(&app.name).is_some_and(|s| s.reloads) {
                    return Ok(());
                }
                let url = format!("{}{}", stack.app_url()?, app.ready_path);
                reload::wait_until_current(&stack.runtime, &stack.project, &app.name, &url, changed, RELOAD_DEADLINE)
                    .await
                    .map(|_| ())
                    .map_err(|e| match e.diagnosis {
                        Some(diagnosis) => Failure::new(format!("{}; {diagnosis}", e.reason)),
                        None => Failure::new(e.reason),
                    })
            })
            .await;
        outcome.clone()
    }
}

/// The longest checks wait for the development server to reload an edit.
const RELOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the checks of one or several steps (`check`, `check --all`, `lab selftest`), each within
/// its own deadline: the checks that touch the app's data in the order of the steps and of their
/// checks, while the ones that only read (files, lint, tests, containers) run beside them, as
/// many at a time as the machine has cores (test suites and linters are CPU-bound), the pytest
/// checks among them in a single pytest run where they can share one. Results come back per
/// step, in order.
pub async fn run_steps(ws: &Workspace, steps: &[&[Check]]) -> Vec<Vec<CheckResult>> {
    type Numbered<'s> = Vec<((usize, usize), &'s Check)>;
    let all = steps.iter().enumerate().flat_map(|(s, checks)| checks.iter().enumerate().map(move |(i, c)| ((s, i), c)));
    let (ordered, free): (Numbered, Numbered) = all.partition(|(_, c)| c.kind.is_ordered());
    // A check that reads a container, or runs an isolated command in one, never overlaps one that
    // restarts a service: that would change what it reads, or kill its command.
    let containers = RwLock::new(());
    // Pytest checks that can share one pytest run do: Python's imports are most of a short run.
    let (pytests, free): (Numbered, Numbered) = free.into_iter().partition(|(_, c)| match &c.kind {
        CheckKind::Pytest(p) => process::can_share_a_run(p),
        _ => false,
    });
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let slots = Semaphore::new(cores);
    let shared_run = async {
        let _slot = slots.acquire().await.expect("the semaphore is never closed");
        let checks: Vec<&Check> = pytests.iter().map(|(_, c)| *c).collect();
        pytests.iter().map(|(at, _)| *at).zip(run_pytests(ws, &checks).await).collect::<Vec<_>>()
    };
    let together = join_all(free.into_iter().map(|(at, c)| {
        let slots = &slots;
        let containers = &containers;
        async move {
            let _slot = slots.acquire().await.expect("the semaphore is never closed");
            let _shared = match c.kind.uses_a_container() {
                true => Some(containers.read().await),
                false => None,
            };
            (at, run_one(ws, c).await)
        }
    }));
    let in_order = async {
        let mut out: Vec<((usize, usize), CheckResult)> = Vec::new();
        // A command check asserts a state (the schema is migrated): the same command twice in one
        // run, as a later step re-asserting what an earlier one did, runs once and answers both.
        let mut commands: Vec<(&kinds::CommandCheck, usize)> = Vec::new();
        for (at, c) in ordered {
            let command = match &c.kind {
                CheckKind::Command(command) => Some(command),
                _ => None,
            };
            if let Some(&(_, first)) = command.and_then(|command| commands.iter().find(|(k, _)| *k == command)) {
                let answer = CheckResult { name: c.name.clone(), duration_ms: 0, ..out[first].1.clone() };
                out.push((at, answer));
                continue;
            }
            if let Some(command) = command {
                commands.push((command, out.len()));
            }
            let _exclusive = match c.kind.restarts() {
                true => Some(containers.write().await),
                false => None,
            };
            out.push((at, run_one(ws, c).await));
        }
        out
    };
    let (mut results, rest, shared) = tokio::join!(together, in_order, shared_run);
    results.extend(rest);
    results.extend(shared);
    results.sort_by_key(|(at, _)| *at);
    let mut per_step: Vec<Vec<CheckResult>> = steps.iter().map(|_| Vec::new()).collect();
    for ((s, _), r) in results {
        per_step[s].push(r);
    }
    per_step
}

/// Runs pytest checks in one pytest run (see [`process::pytest_together`]), within the longest
/// of their timeouts; each gets the run's duration.
async fn run_pytests(ws: &Workspace, checks: &[&Check]) -> Vec<CheckResult> {
    match checks {
        [] => return Vec::new(),
        [one] => return vec![run_one(ws, one).await],
        _ => {}
    }
    let kinds: Vec<&kinds::PytestCheck> = checks
        .iter()
        .map(|c| match &c.kind {
            CheckKind::Pytest(p) => p,
            _ => unreachable!("run_steps hands run_pytests pytest checks only"),
        })
        .collect();
    let started = Instant::now();
    let timeout = checks.iter().map(|c| c.timeout).max().unwrap_or_default();
    let outcomes = match tokio::time::timeout(timeout, process::pytest_together(ws, &kinds)).await {
        Ok(outcomes) => outcomes,
        Err(_) => {
            let why = format!(
                "no answer within {}s (the longest timeout of the pytest checks run together)",
                timeout.as_secs()
            );
            checks.iter().map(|_| Err(Failure::new(why.clone()))).collect()
        }
    };
    let duration = started.elapsed();
    checks.iter().zip(outcomes).map(|(check, outcome)| result(check, outcome, duration)).collect()
}

async fn run_one(ws: &Workspace, check: &Check) -> CheckResult {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + check.timeout;
    let outcome = match tokio::time::timeout_at(deadline, dispatch(ws, &check.kind, deadline)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::new(format!("no answer within {}s (the check's timeout)", check.timeout.as_secs()))),
    };
    result(check, outcome, started.elapsed())
}

fn result(check: &Check, outcome: Result<(), Failure>, took: std::time::Duration) -> CheckResult {
    let (reason, expected, actual) = match &outcome {
        Ok(()) => (None, None, None),
        Err(f) => (Some(f.reason.clone()), f.expected.clone(), f.actual.clone()),
    };
    CheckResult {
        name: check.name.clone(),
        kind: check.kind.name(),
        passed: outcome.is_ok(),
        reason,
        expected,
        actual,
        duration_ms: took.as_millis() as u64,
    }
}

/// Runs one check; `deadline` is when its timeout ends, for checks that wait for a state to settle.
async fn dispatch(ws: &Workspace, kind: &CheckKind, deadline: tokio::time::Instant) -> Result<(), Failure> {
    match kind {
        CheckKind::File(c) => file::check(ws, c),
        CheckKind::Command(c) => process::command(ws, c).await,
        CheckKind::Pytest(c) => process::pytest(ws, c).await,
        CheckKind::Lint(c) => process::lint(ws, c).await,
        CheckKind::Http(c) => http::http(ws, c, deadline).await,
        CheckKind::Ratelimit(c) => http::ratelimit(ws, c).await,
        CheckKind::Graphql(c) => http::graphql(ws, c).await,
        CheckKind::Container(c) => infra::container(ws, c, deadline).await,
        CheckKind::Postgres(c) => infra::postgres(ws, c).await,
        CheckKind::Mongo(c) => infra::mongo(ws, c).await,
        CheckKind::K8s(c) => cluster::k8s(ws, c, deadline).await,
        CheckKind::Manifest(c) => cluster::manifest(ws, c),
        CheckKind::Workflow(c) => ci::workflow(ws, c).await,
        CheckKind::Github(c) => ci::github(ws, c).await,
    }
}

/// Text shortened for a one-line message.
pub fn snippet(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max { format!("{}…", flat.chars().take(max).collect::<String>()) } else { flat }
}
