//! `labforge ci lint`: the workflows checked before anything is pushed. actionlint when it is on
//! `PATH` (it knows every action's inputs and the expression language); otherwise labforge's own
//! structural checks. Either way each problem is one line, `FILE:LINE:COLUMN: what`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use super::Error;
use crate::context::Context;

/// Where workflows live.
pub const DIR: &str = ".github/workflows";
/// How long actionlint may take.
const ACTIONLINT_DEADLINE: Duration = Duration::from_secs(60);

/// What linted the workflows, and what it found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Linted {
    /// `actionlint` or `labforge`.
    pub by: &'static str,
    pub files: Vec<String>,
    pub problems: Vec<String>,
}

/// The project's workflow files, relative to `dir`, sorted.
pub fn workflow_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .map(|n| format!("{DIR}/{n}"))
        .collect();
    files.sort();
    files
}

/// Lints the workflows of the project in `dir`.
pub async fn lint(dir: &Path, ctx: &Context) -> Result<Linted, Error> {
    let files = workflow_files(dir);
    if files.is_empty() {
        return Err(Error::Usage(format!("no workflow in {}: add one (e.g. {DIR}/ci.yml)", dir.join(DIR).display())));
    }
    if let Some(actionlint) = ctx.which("actionlint") {
        return Ok(Linted { by: "actionlint", problems: actionlint_problems(&actionlint, dir, &files).await?, files });
    }
    let mut problems = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(dir.join(file)).map_err(|e| Error::Usage(format!("cannot read {file}: {e}")))?;
        problems.extend(structural(file, &text));
    }
    Ok(Linted { by: "labforge", files, problems })
}

async fn actionlint_problems(actionlint: &PathBuf, dir: &Path, files: &[String]) -> Result<Vec<String>, Error> {
    let run = tokio::process::Command::new(actionlint)
        .args(["-no-color", "-oneline"])
        .args(files)
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(ACTIONLINT_DEADLINE, run).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(Error::Usage(format!("cannot run {}: {e}", actionlint.display()))),
        Err(_) => {
            return Err(Error::Usage(format!("actionlint did not finish within {}s", ACTIONLINT_DEADLINE.as_secs())));
        }
    };
    let problems: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    match out.status.code() {
        Some(0) => Ok(Vec::new()),
        Some(1) if !problems.is_empty() => Ok(problems),
        _ => Err(Error::Usage(format!(
            "actionlint failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("no message")
        ))),
    }
}

#[derive(Deserialize)]
struct Workflow {
    on: Option<Spanned<Value>>,
    jobs: Option<Spanned<BTreeMap<String, Spanned<Job>>>>,
}

#[derive(Deserialize)]
struct Job {
    #[serde(rename = "runs-on")]
    runs_on: Option<Value>,
    uses: Option<Value>,
    needs: Option<Spanned<Value>>,
    steps: Option<Vec<Spanned<JobStep>>>,
}

#[derive(Deserialize)]
struct JobStep {
    uses: Option<Value>,
    run: Option<Value>,
}

/// What a runner would refuse in `text`, a workflow read from `path`, without knowing any action.
pub fn structural(path: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(at) = line.find("${{")
            && !line[at..].contains("}}")
        {
            out.push(format!("{path}:{}:{}: `${{{{` is not closed by `}}}}` on this line", i + 1, at + 1));
        }
    }
    let workflow: Workflow = match serde_saphyr::from_str(text) {
        Ok(w) => w,
        Err(e) => {
            out.push(crate::base::yaml_error(path, &e));
            return out;
        }
    };
    let at = |loc: &serde_saphyr::Location, msg: String| format!("{path}:{}:{}: {msg}", loc.line(), loc.column());
    if workflow.on.as_ref().is_none_or(|on| on.value.is_null()) {
        out.push(format!(
            "{path}:1:1: no `on:`: name the events that start the workflow (push, pull_request, workflow_dispatch)"
        ));
    }
    let Some(jobs) = workflow.jobs.filter(|j| !j.value.is_empty()) else {
        out.push(format!("{path}:1:1: no `jobs:`: a workflow needs at least one job"));
        return out;
    };
    let ids: BTreeSet<&str> = jobs.value.keys().map(String::as_str).collect();
    let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (id, job) in &jobs.value {
        let loc = &job.referenced;
        if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            out.push(at(
                loc,
                format!("job id `{id}` must start with a letter or `_` and hold only letters, digits, `-` and `_`"),
            ));
        }
        let job = &job.value;
        if job.runs_on.is_none() && job.uses.is_none() {
            out.push(at(loc, format!("job `{id}` has no `runs-on` (or `uses` for a reusable workflow)")));
        }
        let needs: Vec<String> = match job.needs.as_ref().map(|n| &n.value) {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        for need in &needs {
            if !ids.contains(need.as_str()) {
                let loc = job.needs.as_ref().map_or(loc, |n| &n.referenced);
                out.push(at(loc, format!("job `{id}` needs `{need}`, which is not a job of this workflow")));
            }
        }
        graph.insert(id, needs);
        for step in job.steps.iter().flatten() {
            match (&step.value.uses, &step.value.run) {
                (None, None) => {
                    out.push(at(&step.referenced, format!("a step of job `{id}` has neither `uses` nor `run`")))
                }
                (Some(_), Some(_)) => {
                    out.push(at(&step.referenced, format!("a step of job `{id}` has both `uses` and `run`")))
                }
                _ => {}
            }
        }
        if job.uses.is_none() && job.steps.as_ref().is_none_or(Vec::is_empty) {
            out.push(at(loc, format!("job `{id}` has no `steps`")));
        }
    }
    if let Some(cycle) = cycle(&graph) {
        out.push(format!(
            "{path}:{}:{}: the jobs' `needs` form a cycle: {}",
            jobs.referenced.line(),
            jobs.referenced.column(),
            cycle.join(" → ")
        ));
    }
    out
}

/// A cycle of `needs`, as the jobs in it, if there is one.
fn cycle(graph: &BTreeMap<&str, Vec<String>>) -> Option<Vec<String>> {
    fn visit<'g>(
        node: &'g str,
        graph: &'g BTreeMap<&str, Vec<String>>,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|n| n.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some((key, _)) = graph.get_key_value(next.as_str())
                && let Some(found) = visit(key, graph, path, done)
            {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "on:\n  push:\n  workflow_dispatch:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v5\n      - run: pytest\n  image:\n    needs: [test]\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker build .\n";

    #[test]
    fn a_sound_workflow_has_no_problem() {
        assert_eq!(structural("ci.yml", GOOD), Vec::<String>::new());
    }

    #[test]
    fn each_problem_is_located() {
        let cases = [
            (GOOD.replace("on:\n  push:\n  workflow_dispatch:\n", ""), "ci.yml:1:1: no `on:`"),
            (
                GOOD.replace("    needs: [test]\n", "    needs: [tests]\n"),
                "ci.yml:11:12: job `image` needs `tests`, which is not a job",
            ),
            (
                GOOD.replace("      - run: pytest\n", "      - name: nothing\n"),
                "ci.yml:9:9: a step of job `test` has neither `uses` nor `run`",
            ),
            (
                GOOD.replace("    runs-on: ubuntu-latest\n    steps:\n      - uses", "    steps:\n      - uses"),
                "job `test` has no `runs-on`",
            ),
            (GOOD.replace("run: pytest", "run: echo ${{ github.sha"), "ci.yml:9:19: `${{` is not closed"),
            (
                GOOD.replace("  test:\n    runs-on", "  test:\n    needs: image\n    runs-on"),
                "the jobs' `needs` form a cycle: image → test → image",
            ),
            ("on: push\njobs: {}\n".to_string(), "ci.yml:1:1: no `jobs:`"),
            ("on: [push\n".to_string(), "ci.yml:"),
        ];
        for (text, expected) in cases {
            let problems = structural("ci.yml", &text);
            assert!(problems.iter().any(|p| p.contains(expected)), "{expected:?} in {problems:#?}\n{text}");
        }
    }
}
