//! Workflow runs: `ci run` dispatches a workflow and finds the run that dispatch started — never an
//! older one, nor another actor's — then `--watch` follows its jobs and steps to the verdict;
//! `ci status` lists the runs of a commit; `ci logs` prints a run's job logs.

use std::time::{Duration, Instant};

use http::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::Error;
use super::client::GitHub;
use crate::report::{Event, Reporter};

/// How often a run is looked at while it is watched (what `gh run watch` does).
pub const WATCH_EVERY: Duration = Duration::from_secs(3);
/// How often the run a dispatch started is looked for.
const FIND_EVERY: Duration = Duration::from_secs(2);
/// How long GitHub may take to list the run a dispatch started.
const FIND_DEADLINE: Duration = Duration::from_secs(90);
/// How much of a failed job's log is shown.
pub const LOG_TAIL: usize = 30;

/// A workflow run, as labforge shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: u64,
    pub number: u64,
    pub workflow: String,
    pub event: String,
    pub branch: String,
    pub sha: String,
    pub actor: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    /// `success`, `failure`, `cancelled`, ... once completed.
    pub conclusion: Option<String>,
    pub created_at: String,
    pub url: String,
    /// The workflow's file (`.github/workflows/ci.yml`).
    pub path: String,
}

impl Run {
    fn from_json(v: &Value) -> Run {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        Run {
            id: v.get("id").and_then(Value::as_u64).unwrap_or_default(),
            number: v.get("run_number").and_then(Value::as_u64).unwrap_or_default(),
            workflow: s("/name"),
            event: s("/event"),
            branch: s("/head_branch"),
            sha: s("/head_sha"),
            actor: s("/actor/login"),
            status: s("/status"),
            conclusion: v.get("conclusion").and_then(Value::as_str).map(str::to_string),
            created_at: s("/created_at"),
            url: s("/html_url"),
            path: s("/path"),
        }
    }

    /// The workflow's file name (`ci.yml`).
    pub fn workflow_file(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    pub fn completed(&self) -> bool {
        self.status == "completed"
    }

    pub fn succeeded(&self) -> bool {
        self.conclusion.as_deref() == Some("success")
    }

    /// `CI #12 (workflow_dispatch on main)`.
    pub fn title(&self) -> String {
        format!("{} #{} ({} on {})", self.workflow, self.number, self.event, self.branch)
    }
}

/// A job of a run and its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    /// (name, status, conclusion) in order.
    pub steps: Vec<(String, String, Option<String>)>,
}

impl Job {
    fn from_json(v: &Value) -> Job {
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let c = |v: &Value| v.get("conclusion").and_then(Value::as_str).map(str::to_string);
        Job {
            id: v.get("id").and_then(Value::as_u64).unwrap_or_default(),
            name: s(v, "name"),
            status: s(v, "status"),
            conclusion: c(v),
            steps: v
                .get("steps")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|step| (s(step, "name"), s(step, "status"), c(step)))
                .collect(),
        }
    }

    /// The first step that failed.
    pub fn failed_step(&self) -> Option<&str> {
        self.steps.iter().find(|s| s.2.as_deref() == Some("failure")).map(|s| s.0.as_str())
    }
}

/// What a watched run ended with.
#[derive(Debug, Clone, Serialize)]
pub struct Watched {
    pub run: Run,
    pub jobs: Vec<Job>,
    /// The failed job, its failing step and the last lines of its log.
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub job: String,
    pub step: Option<String>,
    pub log_tail: Vec<String>,
}

/// Dispatches `workflow` (a file name such as `ci.yml`, or an id) on `git_ref`, and returns the run
/// it started.
pub async fn dispatch(gh: &GitHub<'_>, repo: &str, workflow: &str, git_ref: &str) -> Result<Run, Error> {
    let body = json!({"ref": git_ref, "return_run_details": true});
    let route = format!("/repos/{repo}/actions/workflows/{workflow}/dispatches");
    let reply = gh.call(Method::POST, &route, Some(&body), &format!("start {workflow} on {git_ref}")).await?;
    if let Some(id) = reply.body.get("workflow_run_id").and_then(Value::as_u64) {
        return get(gh, repo, id).await;
    }
    // No run details (an older GitHub Enterprise Server): the run is the one this actor's
    // dispatch on that branch created at or after the moment GitHub answered — by GitHub's own
    // clock, its `Date` header, so no clock skew can pick an older run.
    let since = reply
        .headers
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
        .map(|z| z.timestamp())
        .unwrap_or_else(jiff::Timestamp::now);
    find(gh, repo, workflow, git_ref, since).await
}

async fn find(
    gh: &GitHub<'_>,
    repo: &str,
    workflow: &str,
    git_ref: &str,
    since: jiff::Timestamp,
) -> Result<Run, Error> {
    // GitHub's times have whole seconds.
    let floor = jiff::Timestamp::from_second(since.as_second()).unwrap_or(since);
    let since_text = floor.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let route = format!(
        "/repos/{repo}/actions/workflows/{workflow}/runs?event=workflow_dispatch&branch={git_ref}&actor={}&created=%3E%3D{since_text}&per_page=20",
        gh.login
    );
    let started = Instant::now();
    let mut ticks = tokio::time::interval(FIND_EVERY);
    while started.elapsed() < FIND_DEADLINE {
        ticks.tick().await;
        let listed = gh.call(Method::GET, &route, None, "find the run the dispatch started").await?;
        let mut runs: Vec<Run> = listed
            .body
            .get("workflow_runs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(Run::from_json)
            .filter(|r| {
                r.event == "workflow_dispatch"
                    && r.branch == git_ref
                    && r.actor.eq_ignore_ascii_case(&gh.login)
                    && r.created_at.parse::<jiff::Timestamp>().is_ok_and(|t| t >= floor)
            })
            .collect();
        // The earliest after the dispatch is the dispatch's own.
        runs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        if let Some(run) = runs.into_iter().next() {
            return Ok(run);
        }
    }
    Err(Error::Api(format!(
        "the dispatch of {workflow} on {git_ref} was accepted, but no run of it appeared within {}s: see https://github.com/{repo}/actions",
        FIND_DEADLINE.as_secs()
    )))
}

/// A run by its id.
pub async fn get(gh: &GitHub<'_>, repo: &str, id: u64) -> Result<Run, Error> {
    let reply =
        gh.call(Method::GET, &format!("/repos/{repo}/actions/runs/{id}"), None, &format!("read run {id}")).await?;
    Ok(Run::from_json(&reply.body))
}

/// The jobs of a run.
pub async fn jobs(gh: &GitHub<'_>, repo: &str, id: u64) -> Result<Vec<Job>, Error> {
    let reply = gh
        .call(
            Method::GET,
            &format!("/repos/{repo}/actions/runs/{id}/jobs?per_page=100"),
            None,
            &format!("read the jobs of run {id}"),
        )
        .await?;
    Ok(reply.body.get("jobs").and_then(Value::as_array).into_iter().flatten().map(Job::from_json).collect())
}

/// The runs of commit `sha`, newest first.
pub async fn of_commit(gh: &GitHub<'_>, repo: &str, sha: &str) -> Result<Vec<Run>, Error> {
    let reply = gh
        .call(
            Method::GET,
            &format!("/repos/{repo}/actions/runs?head_sha={sha}&per_page=20"),
            None,
            "list the commit's runs",
        )
        .await?;
    Ok(reply.body.get("workflow_runs").and_then(Value::as_array).into_iter().flatten().map(Run::from_json).collect())
}

/// A job's whole log (GitHub answers with a redirect to the file, which is followed).
pub async fn job_log(gh: &GitHub<'_>, repo: &str, job: u64) -> Result<String, Error> {
    let reply =
        gh.call(Method::GET, &format!("/repos/{repo}/actions/jobs/{job}/logs"), None, "read the job's log").await?;
    Ok(match reply.body {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// Follows run `id` until it completes or `deadline` passes: each job and step as it ends, and
/// for a failure the failing step and its log's last lines.
pub async fn watch(
    gh: &GitHub<'_>,
    repo: &str,
    id: u64,
    deadline: Duration,
    report: &dyn Reporter,
) -> Result<Watched, Error> {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    let mut ticks = tokio::time::interval(WATCH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    // What the run was last seen doing: said again only when it changes (a log, not a ticker).
    let mut doing = String::new();
    loop {
        ticks.tick().await;
        let run = get(gh, repo, id).await?;
        if first {
            report.emit(Event::RunWatched { run: format!("{} {}", run.title(), run.url) });
            first = false;
        }
        let jobs = jobs(gh, repo, id).await?;
        for job in &jobs {
            for (step, status, conclusion) in &job.steps {
                let key = format!("{}/{step}", job.name);
                if status == "completed" && !seen.contains(&key) {
                    seen.push(key);
                    report.emit(Event::RunStep {
                        job: job.name.clone(),
                        step: Some(step.clone()),
                        conclusion: conclusion.clone().unwrap_or_default(),
                    });
                } else if status == "in_progress" && doing != key {
                    doing = key;
                    report.emit(Event::RunProgress { line: format!("{} › {step}", job.name) });
                }
            }
            if job.status == "completed" && !seen.contains(&job.name) {
                seen.push(job.name.clone());
                report.emit(Event::RunStep {
                    job: job.name.clone(),
                    step: None,
                    conclusion: job.conclusion.clone().unwrap_or_default(),
                });
            }
        }
        if run.completed() {
            report.emit(Event::RunFinished { conclusion: run.conclusion.clone().unwrap_or_default() });
            let failure = match run.succeeded() {
                true => None,
                false => match jobs.iter().find(|j| j.conclusion.as_deref() == Some("failure")) {
                    Some(job) => {
                        let log = job_log(gh, repo, job.id).await.unwrap_or_default();
                        Some(Failure {
                            job: job.name.clone(),
                            step: job.failed_step().map(str::to_string),
                            log_tail: tail(&log, job.failed_step()),
                        })
                    }
                    None => None,
                },
            };
            return Ok(Watched { run, jobs, failure });
        }
        if started.elapsed() >= deadline {
            report.emit(Event::RunFinished { conclusion: String::new() });
            return Err(Error::Api(format!(
                "run #{} has not completed within {} min (it is {}): `labforge ci status` shows it later, or see {}",
                run.number,
                deadline.as_secs() / 60,
                run.status,
                run.url
            )));
        }
    }
}

/// The last lines of a job's log, of the failing step's section when the log marks it
/// (`##[group]Run ...` starts a step), without the runner's timestamps.
pub fn tail(log: &str, step: Option<&str>) -> Vec<String> {
    let lines: Vec<&str> = log.lines().map(strip_timestamp).collect();
    let start = step.and_then(|_| lines.iter().rposition(|l| l.starts_with("##[group]Run "))).unwrap_or(0);
    let section = &lines[start..];
    let end =
        section.iter().rposition(|l| !l.trim().is_empty() && !l.starts_with("##[group]Post ")).map_or(0, |e| e + 1);
    section[..end].iter().rev().take(LOG_TAIL).rev().map(|l| l.to_string()).collect()
}

/// `2026-11-30T10:00:00.1234567Z text` → `text`.
fn strip_timestamp(line: &str) -> &str {
    match line.split_once(' ') {
        Some((stamp, rest)) if stamp.len() >= 20 && stamp.ends_with('Z') && stamp.as_bytes()[4] == b'-' => rest,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_failing_steps_without_timestamps() {
        let log = "2026-11-30T10:00:00.0000001Z ##[group]Run pip install -e .\n2026-11-30T10:00:01.0000001Z installed\n2026-11-30T10:00:02.0000001Z ##[group]Run pytest\n2026-11-30T10:00:03.0000001Z FAILED tests/test_items.py::test_create\n2026-11-30T10:00:04.0000001Z ##[error]Process completed with exit code 1.\n";
        assert_eq!(
            tail(log, Some("Test")),
            [
                "##[group]Run pytest",
                "FAILED tests/test_items.py::test_create",
                "##[error]Process completed with exit code 1."
            ]
        );
        assert_eq!(tail(log, None).len(), 5);
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(tail(&long, None).len(), LOG_TAIL);
        assert_eq!(tail(&long, None).last().map(String::as_str), Some("line 99"));
    }

    #[test]
    fn a_job_names_its_first_failed_step() {
        let job = Job::from_json(&json!({"id": 1, "name": "test", "status": "completed", "conclusion": "failure",
            "steps": [{"name": "Install", "status": "completed", "conclusion": "success"},
                      {"name": "Test", "status": "completed", "conclusion": "failure"},
                      {"name": "Post", "status": "completed", "conclusion": "skipped"}]}));
        assert_eq!(job.failed_step(), Some("Test"));
    }
}
