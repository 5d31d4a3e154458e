//! `workflow`: a GitHub Actions workflow of the project judged from its file — clean (actionlint
//! or labforge's structural checks), the events that start it, its job graph, its service
//! containers and what its steps run. `github`: the workflow on GitHub — its latest run for the
//! project's commit, a job or step of that run, a repository secret.

use serde_json::Value;

use super::kinds::{GithubCheck, WorkflowCheck};
use super::{Failure, Workspace};
use crate::github::runs;

pub async fn workflow(ws: &Workspace, c: &WorkflowCheck) -> Result<(), Failure> {
    let file = ws.render(&c.file)?;
    let text = std::fs::read_to_string(ws.dir.join(&file))
        .map_err(|_| Failure::mismatch(&file, "the workflow file", "no such file"))?;
    let e = &c.expect;
    if e.lint == Some(true) {
        let problems = match ws.ctx.which("actionlint") {
            Some(_) => {
                let linted =
                    crate::github::lint::lint(&ws.dir, &ws.ctx).await.map_err(|e| Failure::new(e.to_string()))?;
                linted.problems.into_iter().filter(|p| p.starts_with(&file)).collect()
            }
            None => crate::github::lint::structural(&file, &text),
        };
        if !problems.is_empty() {
            return Err(Failure::mismatch(&file, "a clean workflow", problems.join("; ")));
        }
    }
    let workflow: Value =
        serde_saphyr::from_str(&text).map_err(|err| Failure::new(crate::base::yaml_error(&file, &err)))?;
    judge(&file, &workflow, c)
}

/// The expectations of `c` against the parsed workflow.
fn judge(file: &str, workflow: &Value, c: &WorkflowCheck) -> Result<(), Failure> {
    let e = &c.expect;
    let events = events(workflow.get("on").unwrap_or(&Value::Null));
    for wanted in &e.on {
        if !events.contains(wanted) {
            return Err(Failure::mismatch(
                &format!("{file}: on"),
                format!("`{wanted}` among the events"),
                shown(&events),
            ));
        }
    }
    let job = |id: &str| -> Result<&Value, Failure> {
        workflow.pointer(&format!("/jobs/{id}")).filter(|j| j.is_object()).ok_or_else(|| {
            let jobs: Vec<String> = workflow
                .get("jobs")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            Failure::mismatch(&format!("{file}: jobs"), format!("a job `{id}`"), shown(&jobs))
        })
    };
    for (id, wanted) in &e.needs {
        let needs = match job(id)?.get("needs") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        if let Some(missing) = wanted.iter().find(|w| !needs.contains(w)) {
            return Err(Failure::mismatch(&format!("{file}: job `{id}` needs"), format!("`{missing}`"), shown(&needs)));
        }
    }
    for (id, wanted) in &e.services {
        let services = job(id)?.get("services").and_then(Value::as_object);
        for name in wanted {
            let Some(service) = services.and_then(|s| s.get(name)) else {
                let have: Vec<String> = services.map(|s| s.keys().cloned().collect()).unwrap_or_default();
                return Err(Failure::mismatch(
                    &format!("{file}: job `{id}` services"),
                    format!("a service `{name}`"),
                    shown(&have),
                ));
            };
            let options = service.get("options").and_then(Value::as_str).unwrap_or_default();
            if !options.contains("--health-cmd") {
                return Err(Failure::mismatch(
                    &format!("{file}: job `{id}`, service `{name}`"),
                    "health options (`--health-cmd`), so the steps start once it is ready",
                    if options.is_empty() { "no options".to_string() } else { options.to_string() },
                ));
            }
        }
    }
    for (id, texts) in &e.runs {
        let steps: Vec<String> = job(id)?
            .get("steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| {
                [s.get("run"), s.get("uses")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        // Each text in a step at or after the one that held the text before it.
        let mut from = 0;
        for text in texts {
            match steps.iter().skip(from).position(|s| s.contains(text.as_str())) {
                Some(at) => from += at,
                None => {
                    return Err(Failure::mismatch(
                        &format!("{file}: job `{id}` steps"),
                        format!("a step running `{text}`{}", if from > 0 { " after the ones before it" } else { "" }),
                        format!("{} steps without it", steps.len()),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The events of an `on:` value: a name, a list of names, or a mapping by name.
fn events(on: &Value) -> Vec<String> {
    match on {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn shown(items: &[String]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

pub async fn github(ws: &Workspace, c: &GithubCheck) -> Result<(), Failure> {
    let gh = ws.github().await?;
    let pushed = crate::github::record::load(&ws.dir);
    let repo = match (&c.repo, &pushed) {
        (Some(repo), _) => ws.render(repo)?,
        (None, Some(p)) => p.repo.clone(),
        (None, None) => return Err(Failure::new("which repository? run `labforge ci setup --repo OWNER/NAME` first")),
    };
    let e = &c.expect;
    if let Some(secret) = &e.secret {
        let found = gh
            .get_opt(&format!("/repos/{repo}/actions/secrets/{secret}"), "read the secret")
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        if found.is_none() {
            return Err(Failure::mismatch(
                &repo,
                format!("the Actions secret {secret}"),
                "none (`labforge ci setup` sets it)",
            ));
        }
        if e.conclusion.is_none() && e.job.is_none() {
            return Ok(());
        }
    }
    let sha = crate::github::record::head_commit(&ws.dir, &ws.ctx)
        .ok_or_else(|| Failure::new("which commit? push the project with `labforge ci setup` first"))?;
    let path = format!(".github/workflows/{}", c.workflow);
    let all = runs::of_commit(gh, &repo, &sha).await.map_err(|e| Failure::new(e.to_string()))?;
    let short = &sha[..sha.len().min(12)];
    let Some(run) = all.into_iter().find(|r| r.path == path || r.workflow_file() == c.workflow) else {
        return Err(Failure::mismatch(
            &format!("{repo} at {short}"),
            format!("a run of {}", c.workflow),
            "none (`labforge ci run --watch` starts one)",
        ));
    };
    let wanted = e.conclusion.as_deref().unwrap_or("success");
    if !run.completed() {
        return Err(Failure::mismatch(
            &run.title(),
            format!("a run that concluded {wanted}"),
            format!("{} (still running)", run.status),
        ));
    }
    let what = format!("{} at {short}", run.title());
    if run.conclusion.as_deref() != Some(wanted) && e.job.is_none() {
        return Err(Failure::mismatch(&what, wanted, run.conclusion.clone().unwrap_or_default()));
    }
    if let Some(job_name) = &e.job {
        let jobs = runs::jobs(gh, &repo, run.id).await.map_err(|e| Failure::new(e.to_string()))?;
        let Some(job) = jobs.iter().find(|j| &j.name == job_name || j.name.starts_with(&format!("{job_name} (")))
        else {
            let names: Vec<String> = jobs.iter().map(|j| j.name.clone()).collect();
            return Err(Failure::mismatch(&what, format!("a job `{job_name}`"), shown(&names)));
        };
        match &e.step {
            None if job.conclusion.as_deref() != Some("success") => {
                return Err(Failure::mismatch(
                    &format!("{what}, job {job_name}"),
                    "success",
                    job.conclusion.clone().unwrap_or(job.status.clone()),
                ));
            }
            None => {}
            Some(step) => match job.steps.iter().find(|s| &s.0 == step) {
                Some((_, _, Some(conclusion))) if conclusion == "success" => {}
                Some((_, status, conclusion)) => {
                    return Err(Failure::mismatch(
                        &format!("{what}, job {job_name}, step {step}"),
                        "success",
                        conclusion.clone().unwrap_or(status.clone()),
                    ));
                }
                None => {
                    let names: Vec<String> = job.steps.iter().map(|s| s.0.clone()).collect();
                    return Err(Failure::mismatch(
                        &format!("{what}, job {job_name}"),
                        format!("a step `{step}`"),
                        shown(&names),
                    ));
                }
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::kinds::WorkflowExpect;

    fn check(expect: WorkflowExpect) -> WorkflowCheck {
        WorkflowCheck { file: "ci.yml".into(), expect }
    }

    const WORKFLOW: &str = "on:\n  push:\n  workflow_dispatch:\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps: [{run: ruff check .}]\n  test:\n    runs-on: ubuntu-latest\n    services:\n      postgres:\n        image: postgres:17\n        options: --health-cmd pg_isready\n      cache:\n        image: redis\n    steps: [{uses: actions/checkout@v5}, {run: pip install -e .}, {run: pytest}]\n  image:\n    needs: [lint, test]\n    runs-on: ubuntu-latest\n    steps: [{run: docker build .}]\n";

    fn workflow() -> Value {
        serde_saphyr::from_str(WORKFLOW).unwrap()
    }

    #[test]
    fn each_expectation_passes_on_a_workflow_that_meets_it() {
        let expect = WorkflowExpect {
            on: vec!["push".into(), "workflow_dispatch".into()],
            needs: [("image".to_string(), vec!["test".to_string()])].into(),
            services: [("test".to_string(), vec!["postgres".to_string()])].into(),
            runs: [("test".to_string(), vec!["pip install".to_string(), "pytest".to_string()])].into(),
            ..WorkflowExpect::default()
        };
        assert_eq!(judge("ci.yml", &workflow(), &check(expect)), Ok(()));
        let listed: Value = serde_saphyr::from_str("on: [push, pull_request]\n").unwrap();
        assert_eq!(events(&listed["on"]), ["push", "pull_request"]);
        assert_eq!(events(&Value::String("push".into())), ["push"]);
    }

    #[test]
    fn each_expectation_fails_for_its_own_reason() {
        let fails = |expect: WorkflowExpect| judge("ci.yml", &workflow(), &check(expect)).unwrap_err().reason;
        let cases = [
            (
                WorkflowExpect { on: vec!["pull_request".into()], ..Default::default() },
                "ci.yml: on: expected `pull_request` among the events, got push, workflow_dispatch",
            ),
            (
                WorkflowExpect {
                    needs: [("deploy".to_string(), vec!["image".to_string()])].into(),
                    ..Default::default()
                },
                "ci.yml: jobs: expected a job `deploy`, got lint, test, image",
            ),
            (
                WorkflowExpect {
                    needs: [("image".to_string(), vec!["deploy".to_string()])].into(),
                    ..Default::default()
                },
                "ci.yml: job `image` needs: expected `deploy`, got lint, test",
            ),
            (
                WorkflowExpect {
                    services: [("test".to_string(), vec!["cache".to_string()])].into(),
                    ..Default::default()
                },
                "ci.yml: job `test`, service `cache`: expected health options (`--health-cmd`), so the steps start once it is ready, got no options",
            ),
            (
                WorkflowExpect {
                    services: [("lint".to_string(), vec!["postgres".to_string()])].into(),
                    ..Default::default()
                },
                "ci.yml: job `lint` services: expected a service `postgres`, got none",
            ),
            (
                WorkflowExpect {
                    runs: [("test".to_string(), vec!["pytest".to_string(), "pip install".to_string()])].into(),
                    ..Default::default()
                },
                "ci.yml: job `test` steps: expected a step running `pip install` after the ones before it, got 3 steps without it",
            ),
        ];
        for (expect, reason) in cases {
            assert_eq!(fails(expect), reason);
        }
    }
}
