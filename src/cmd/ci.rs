//! `labforge ci setup` and `labforge ci lint`: the project on GitHub Actions.

use crate::base::runtime;
use std::path::Path;
use std::time::Duration;

use crate::cli::{CiArgs, CiCommand, CiLintArgs, CiLogsArgs, CiRepo, CiRunArgs, CiSetupArgs, CiStatusArgs};
use crate::context::Context;
use crate::github::client::GitHub;
use crate::github::runs::{self, Run};
use crate::github::{self, record, setup};
use crate::report::Reporter;
use crate::report::Silent;
use crate::ui::{Shell, Terminal};
use crate::{Error, Outcome};

pub fn run(args: CiArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    match args.command {
        CiCommand::Setup(args) => setup_repo(args, ctx, shell),
        CiCommand::Lint(args) => lint(args, ctx, shell),
        CiCommand::Run(args) => run_workflow(args, ctx, shell),
        CiCommand::Status(args) => status(args, ctx, shell),
        CiCommand::Logs(args) => logs(args, ctx, shell),
    }
}

/// The repository a command talks to: `--repo`, else the one `ci setup` pushed to.
fn repo_of(at: &CiRepo) -> Result<String, Error> {
    match (&at.repo, record::load(&at.project.dir)) {
        (Some(repo), _) => Ok(setup::check_repo(repo).map(|_| repo.clone())?),
        (None, Some(pushed)) => Ok(pushed.repo),
        (None, None) => Err(github::Error::Usage(
            "which repository? pass --repo OWNER/NAME (or run `labforge ci setup` in this project first)".into(),
        )
        .into()),
    }
}

/// Runs `work` with a signed-in client, reporting on the terminal unless `json`; Ctrl-C ends it.
fn with_github<T>(
    at: &CiRepo,
    ctx: &Context,
    shell: &Shell,
    work: impl AsyncFnOnce(&GitHub<'_>) -> Result<T, github::Error>,
) -> Result<T, Error> {
    let terminal = Terminal::new(shell);
    let report: &dyn Reporter = if at.json { &Silent } else { &terminal };
    runtime().block_on(async {
        let interrupt = super::interrupt(shell);
        let go = async {
            let gh = GitHub::sign_in(at.api_url.as_deref(), ctx, report).await?;
            work(&gh).await
        };
        tokio::select! {
            done = go => done.map_err(Error::from),
            () = interrupt.wait() => Err(Error::Interrupted),
        }
    })
}

fn run_workflow(args: CiRunArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let repo = repo_of(&args.at)?;
    if args.timeout == 0 {
        return Err(github::Error::Usage("--timeout must be at least 1 minute".into()).into());
    }
    let pushed = record::load(&args.at.project.dir).filter(|p| p.repo == repo);
    let (run, watched) = with_github(&args.at, ctx, shell, async |gh| {
        let git_ref = match (&args.git_ref, pushed) {
            (Some(r), _) => r.clone(),
            (None, Some(p)) => p.branch,
            (None, None) => default_branch(gh, &repo).await?,
        };
        let run = runs::dispatch(gh, &repo, &args.workflow, &git_ref).await?;
        let watched = match args.watch {
            true => Some(runs::watch(gh, &repo, run.id, Duration::from_secs(args.timeout * 60), gh.report()).await?),
            false => None,
        };
        Ok((run, watched))
    })?;
    if args.at.json {
        shell.line(
            serde_json::to_string_pretty(&serde_json::json!({"run": run, "watched": watched})).expect("serializes"),
        );
    } else if let Some(w) = &watched {
        if let Some(failure) = &w.failure {
            shell.line(format_args!(
                "✗ {} failed in job {}{}:",
                w.run.title(),
                failure.job,
                failure.step.as_deref().map(|s| format!(", step {s}")).unwrap_or_default()
            ));
            for line in &failure.log_tail {
                shell.line(format_args!("    {line}"));
            }
            shell.line(format_args!("{}", w.run.url));
        } else if w.run.succeeded() {
            shell.line(format_args!("✓ {} succeeded: {}", w.run.title(), w.run.url));
        } else {
            shell.line(format_args!(
                "✗ {} ended {}: {}",
                w.run.title(),
                w.run.conclusion.as_deref().unwrap_or("?"),
                w.run.url
            ));
        }
    } else {
        shell.line(format_args!(
            "started {}: {} (`labforge ci run --watch` follows a run to its end)",
            run.title(),
            run.url
        ));
    }
    Ok(match watched {
        Some(w) if !w.run.succeeded() => Outcome::Failed,
        _ => Outcome::Success,
    })
}

async fn default_branch(gh: &GitHub<'_>, repo: &str) -> Result<String, github::Error> {
    let found = gh.call(http::Method::GET, &format!("/repos/{repo}"), None, "read the repository").await?;
    Ok(found.body.get("default_branch").and_then(serde_json::Value::as_str).unwrap_or("main").to_string())
}

/// The commit `status` and `logs` look at: the project's git HEAD, else the commit `ci setup`
/// pushed.
fn head_commit(dir: &Path, ctx: &Context) -> Result<String, Error> {
    record::head_commit(dir, ctx).ok_or_else(|| {
        github::Error::Usage("which commit? pass --sha (or run `labforge ci setup` in this project first)".into())
            .into()
    })
}

fn status(args: CiStatusArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let repo = repo_of(&args.at)?;
    let sha = match &args.sha {
        Some(sha) => sha.clone(),
        None => head_commit(&args.at.project.dir, ctx)?,
    };
    let found: Vec<Run> = with_github(&args.at, ctx, shell, async |gh| runs::of_commit(gh, &repo, &sha).await)?;
    if args.at.json {
        shell.line(serde_json::to_string_pretty(&found).expect("serializes"));
        return Ok(Outcome::Success);
    }
    if found.is_empty() {
        shell.line(format_args!("no run of {repo} for commit {}", &sha[..sha.len().min(12)]));
    }
    for run in &found {
        let state = run.conclusion.clone().unwrap_or_else(|| run.status.clone());
        let mark = match state.as_str() {
            "success" => "✓",
            "failure" | "cancelled" | "timed_out" | "startup_failure" => "✗",
            _ => "…",
        };
        shell.line(format_args!("{mark} {:<40} {:<12} {}", run.title(), state, run.url));
    }
    Ok(Outcome::Success)
}

fn logs(args: CiLogsArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let repo = repo_of(&args.at)?;
    let sha = match args.run {
        Some(_) => String::new(),
        None => head_commit(&args.at.project.dir, ctx)?,
    };
    let printed = with_github(&args.at, ctx, shell, async |gh| {
        let id = match args.run {
            Some(id) => id,
            None => runs::of_commit(gh, &repo, &sha).await?.first().map(|r| r.id).ok_or_else(|| {
                github::Error::Usage(format!(
                    "no run of {repo} for commit {}: pass the run's id",
                    &sha[..sha.len().min(12)]
                ))
            })?,
        };
        let mut printed = Vec::new();
        for job in runs::jobs(gh, &repo, id).await? {
            if args.all || job.conclusion.as_deref() == Some("failure") {
                printed.push((job.name.clone(), runs::job_log(gh, &repo, job.id).await?));
            }
        }
        Ok(printed)
    })?;
    for (job, log) in &printed {
        shell.line(format_args!("── {job}"));
        shell.line(log.trim_end());
    }
    if printed.is_empty() {
        shell.line("no failed job (`--all` prints every job's log)");
    }
    Ok(Outcome::Success)
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
