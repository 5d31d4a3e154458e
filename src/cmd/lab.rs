//! `labforge lab ...`: list, start, show, hint, solve, reset, validate, selftest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::base::runtime;
use crate::cli::{LabArgs, LabCommand, StepArgs};
use crate::context::Context;
use crate::lab::catalog::{Catalog, folder_files};
use crate::lab::spec::Lab;
use crate::lab::workspace::{LabWorkspace, Progress, save_progress};
use crate::lab::{self, Error as LabError};
use crate::report::{Event, Reporter};
use crate::scaffold::PlannedFile;
use crate::stack::endpoints;
use crate::stack::image::resolve_image;
use crate::stack::kind::PUBLISHED_ON;
use crate::stack::project::{ImageSource, Mode, Project, Service};
use crate::stack::runtime::{OnDocker, Runtime};
use crate::stack::spec::ServiceKind;
use crate::stack::up::UpOptions;
use crate::ui::{Shell, Terminal, markdown};
use crate::{Error, Outcome};

pub fn run(args: LabArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let catalog = Catalog::choose(args.labs_dir.as_deref(), ctx);
    match args.command {
        LabCommand::List { json } => list(&catalog, json, shell),
        LabCommand::Start { id, dir, force } => start(&catalog, &id, dir, force, ctx, shell),
        LabCommand::Show(step) => show(&catalog, &step, ctx, shell),
        LabCommand::Hint(step) => hint(&catalog, &step, ctx, shell),
        LabCommand::Solve { step, force } => solve(&catalog, &step, force, shell),
        LabCommand::Reset { project, force } => reset(&catalog, &project.dir, force, shell),
        LabCommand::Validate { path } => validate(&catalog, path.as_deref(), shell),
        LabCommand::Selftest { id, all, json, target, registry, github_repo } => {
            if let Some(registry) = &registry {
                super::deploy::check_registry(registry)?;
            }
            if let Some(repo) = &github_repo {
                crate::github::setup::check_repo(repo)?;
            }
            let cluster = lab::selftest::OnCluster { target: super::deploy::target(&target)?, registry, github_repo };
            selftest(&catalog, id, all, json, &cluster, ctx, shell)
        }
    }
}

/// The lab of the workspace in `dir`, with its progress.
fn open(catalog: &Catalog, dir: &Path) -> Result<(LabWorkspace, Lab), Error> {
    let ws = LabWorkspace::open(dir)?;
    let lab = lab::load(catalog, &ws.progress.lab)?;
    Ok((ws, lab))
}

fn list(catalog: &Catalog, json: bool, shell: &Shell) -> Result<Outcome, Error> {
    let here = LabWorkspace::open(Path::new(".")).ok();
    let mut labs = Vec::new();
    for id in catalog.ids()? {
        labs.push(lab::load(catalog, &id)?);
    }
    let progress = |lab: &Lab| {
        here.as_ref()
            .filter(|ws| ws.progress.lab == lab.id)
            .map(|ws| format!("{}/{} steps", ws.progress.passed_count(lab), lab.steps.len()))
    };
    if json {
        let list: Vec<_> = labs
            .iter()
            .map(|l| {
                json!({
                    "id": l.id, "title": l.title, "summary": l.summary, "topics": l.topics,
                    "difficulty": l.difficulty, "minutes": l.minutes, "steps": l.steps.len(),
                    "template": l.template, "stack": l.stack, "progress": progress(l),
                })
            })
            .collect();
        shell.line(serde_json::to_string_pretty(&json!({ "labs": list })).expect("JSON serializes"));
        return Ok(Outcome::Success);
    }
    let width = labs.iter().map(|l| l.id.len()).max().unwrap_or(2);
    for l in &labs {
        let mut line = format!(
            "{:<width$}  {}  {}",
            l.id,
            l.title,
            shell.dim(&format!("[{}; {}]", l.topics.join(", "), l.difficulty))
        );
        if let Some(p) = progress(l) {
            line.push_str(&format!("  — {p}"));
        }
        shell.line(line);
    }
    shell.line("");
    shell.line(format_args!("{} labs. Start one with `labforge lab start ID`.", labs.len()));
    Ok(Outcome::Success)
}

fn start(
    catalog: &Catalog,
    id: &str,
    dir: Option<PathBuf>,
    force: bool,
    ctx: &Context,
    shell: &Shell,
) -> Result<Outcome, Error> {
    let lab = lab::load(catalog, id)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&lab.id));
    let began = Instant::now();
    // Starting a lab again where it was started resumes it: a learner repeats the command after
    // an interrupted start or a reboot, and nothing of theirs may be lost for it.
    let progress = match LabWorkspace::open(&dir) {
        Ok(ws) if !force && ws.progress.lab == lab.id => {
            shell.status(
                "Resuming",
                format_args!("lab {} in {}: your files and progress are kept", lab.id, dir.display()),
            );
            ws.progress
        }
        _ => {
            lab::scaffold(&lab, &dir, &lab::project_name("lab", &lab), force)?;
            shell.status(
                "Started",
                format_args!(
                    "lab {} in {} ({} steps): project created in {:.1}s",
                    lab.id,
                    dir.display(),
                    lab.steps.len(),
                    began.elapsed().as_secs_f64()
                ),
            );
            Progress::new(&lab.id)
        }
    };
    let project_seconds = began.elapsed().as_secs_f64();
    let runtime = runtime();
    let terminal = Terminal::new(shell);
    let stack = match lab.stack {
        true => Some((
            Project::load(&dir, Mode::Dev, ctx)?,
            UpOptions {
                timeout: Duration::from_secs(300),
                strict_ports: false,
                ca_bundle: ctx.ca_bundle(None)?.map(|(_, b)| b),
            },
        )),
        false => None,
    };
    // The venv and the app's image need the same downloads but nothing of each other: they are
    // made side by side, and the stack starts once the image is there.
    let (venv_seconds, image_seconds) = runtime.block_on(async {
        let venv = async {
            let started = Instant::now();
            if lab.needs_venv() {
                lab::venv::ensure(&dir, ctx, &terminal).await?;
            }
            Ok::<_, Error>(started.elapsed().as_secs_f64())
        };
        let image = async {
            let started = Instant::now();
            if let Some((project, options)) = &stack {
                build_images(project, options, ctx, &terminal).await?;
            }
            Ok::<_, Error>(started.elapsed().as_secs_f64())
        };
        let (venv, image) = tokio::join!(venv, image);
        Ok::<_, Error>((venv?, image?))
    })?;
    if let Some((project, options)) = &stack {
        let started = Instant::now();
        let (outcome, _) = runtime.block_on(async {
            let runtime = OnDocker::new(super::docker(ctx).await?);
            let interrupt = super::interrupt(shell);
            super::up::bring_up(&runtime, project, options, ctx, shell, &interrupt, false).await
        })?;
        if outcome != Outcome::Success {
            return Ok(outcome);
        }
        shell.status(
            "Ready",
            format_args!(
                "lab {} in {:.1}s: project {project_seconds:.1}s, dependencies {venv_seconds:.1}s beside the image {image_seconds:.1}s, stack {:.1}s",
                lab.id,
                began.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64()
            ),
        );
    } else {
        shell.status(
            "Ready",
            format_args!(
                "lab {} in {:.1}s: project {project_seconds:.1}s, dependencies {venv_seconds:.1}s",
                lab.id,
                began.elapsed().as_secs_f64()
            ),
        );
    }
    let ws = LabWorkspace::open(&dir)?;
    shell.line("");
    shell.line(format_args!("{} — {}", shell.bold(&lab.title), lab.summary));
    let index = progress.current(&lab).map_or(lab.steps.len() - 1, |(i, _)| i);
    show_step(shell, &lab, &progress, index, &text_context(&ws, &lab, ctx)?)?;
    shell.line(format_args!("Work in {}; `labforge check` there checks the step.", dir.display()));
    Ok(Outcome::Success)
}

/// Builds the images of the project's services that are built (not pulled), or finds them built:
/// a development image is shared by every project that installs the same dependencies, so a
/// second lab of a template finds it. Says when it was found rather than built.
async fn build_images(project: &Project, options: &UpOptions, ctx: &Context, report: &Terminal) -> Result<(), Error> {
    let engine = super::docker(ctx).await?;
    for service in project.services.iter().filter(|s| matches!(s.image, ImageSource::Build { .. })) {
        let watched = Watched { inner: report, built: AtomicBool::new(false) };
        let image = resolve_image(&engine, project, service, options, &watched).await?;
        if !watched.built.load(Ordering::Relaxed) {
            report.emit(Event::ImageFound { service: service.name.clone(), image: image.reference });
        }
    }
    Ok(())
}

/// Passes events on, noting whether a build started.
struct Watched<'a> {
    inner: &'a Terminal,
    built: AtomicBool,
}

impl Reporter for Watched<'_> {
    fn emit(&self, event: Event) {
        if matches!(event, Event::BuildStarted { .. }) {
            self.built.store(true, Ordering::Relaxed);
        }
        self.inner.emit(event);
    }
}

/// Where the learner reaches the app of the lab in `dir`: the port its running container
/// publishes (it may have been given another than labforge.yaml asks for), else the one asked for.
fn app_url(dir: &Path, lab: &Lab, ctx: &Context) -> String {
    let project = Project::load(dir, Mode::Dev, ctx).ok();
    let Some((project, app)) = project.as_ref().and_then(|p| Some((p, p.app()?))) else {
        return format!("http://{PUBLISHED_ON}:{}", ServiceKind::App.port());
    };
    let published = if lab.stack { runtime().block_on(published_ports(project, app, ctx)) } else { None };
    let ports = published.unwrap_or_else(|| app.ports.iter().map(|p| (p.container, p.host)).collect());
    endpoints::address(project, app, &ports)
}

/// The ports the app's running container publishes, when Docker answers and it runs.
async fn published_ports(project: &Project, app: &Service, ctx: &Context) -> Option<Vec<(u16, u16)>> {
    let runtime = OnDocker::new(super::docker(ctx).await.ok()?);
    let project = runtime.place_in(project.clone(), ctx).await.ok()?;
    let observed = runtime.observe(&project).await.ok()?;
    let ports = observed.into_iter().find(|o| o.service == app.name && o.is_running())?.ports;
    (!ports.is_empty()).then_some(ports)
}

/// The context the lab's instructions and hints are rendered with in this workspace.
fn text_context(ws: &LabWorkspace, lab: &Lab, ctx: &Context) -> Result<tera::Context, Error> {
    Ok(lab::text_context(&ws.context()?, &app_url(&ws.dir, lab, ctx)))
}

fn step_index(lab: &Lab, ws: &LabWorkspace, args: &StepArgs) -> Result<usize, Error> {
    match &args.step {
        Some(wanted) => super::check::resolve_step(lab, wanted),
        None => Ok(ws.progress.current(lab).map(|(i, _)| i).unwrap_or(lab.steps.len() - 1)),
    }
}

fn show_step(
    shell: &Shell,
    lab: &Lab,
    progress: &Progress,
    index: usize,
    context: &tera::Context,
) -> Result<(), Error> {
    let step = &lab.steps[index];
    let instructions = lab::render_text(&step.instructions, context).map_err(|e| {
        LabError::Usage(format!("the instructions of step {} of lab `{}` do not render: {e}", index + 1, lab.id))
    })?;
    let state = if progress.step(&step.id).passed { " ✓ passed" } else { "" };
    shell.line("");
    shell.line(format_args!("{} {}/{} · {}{state}", shell.bold("Step"), index + 1, lab.steps.len(), step.title));
    shell.line("");
    markdown::print(shell, &instructions);
    shell.line("");
    if !step.hints.is_empty() {
        shell.line(shell.dim(&format!("{} hints: `labforge lab hint`", step.hints.len())));
    }
    Ok(())
}

fn show(catalog: &Catalog, args: &StepArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let (ws, lab) = open(catalog, &args.project.dir)?;
    let index = step_index(&lab, &ws, args)?;
    shell.line(format_args!(
        "{} — {}/{} steps passed",
        shell.bold(&lab.title),
        ws.progress.passed_count(&lab),
        lab.steps.len()
    ));
    show_step(shell, &lab, &ws.progress, index, &text_context(&ws, &lab, ctx)?)?;
    Ok(Outcome::Success)
}

fn hint(catalog: &Catalog, args: &StepArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let (mut ws, lab) = open(catalog, &args.project.dir)?;
    let index = step_index(&lab, &ws, args)?;
    let step = &lab.steps[index];
    if step.hints.is_empty() {
        shell.line(format_args!("step {} has no hints; `labforge lab show` has its instructions", index + 1));
        return Ok(Outcome::Success);
    }
    let progress = ws.progress.step_mut(&step.id);
    let shown = progress.hints as usize;
    if shown >= step.hints.len() {
        shell.line(format_args!(
            "No more hints for step {} · {}: all {} were shown. `labforge lab show` has the instructions; \
             `labforge lab solve` writes the reference solution.",
            index + 1,
            step.title,
            step.hints.len()
        ));
        return Ok(Outcome::Success);
    }
    progress.hints = (shown + 1) as u32;
    ws.save()?;
    shell.line(format_args!("Hint {}/{} for step {} · {}", shown + 1, step.hints.len(), index + 1, step.title));
    let context = text_context(&ws, &lab, ctx)?;
    let text = lab::render_text(&step.hints[shown], &context).map_err(|e| {
        LabError::Usage(format!("hint {} of step {} of lab `{}` does not render: {e}", shown + 1, index + 1, lab.id))
    })?;
    shell.line(format_args!("  {text}"));
    Ok(Outcome::Success)
}

fn solve(catalog: &Catalog, args: &StepArgs, force: bool, shell: &Shell) -> Result<Outcome, Error> {
    let (ws, lab) = open(catalog, &args.project.dir)?;
    let index = step_index(&lab, &ws, args)?;
    let step = &lab.steps[index];
    let context = ws.context()?;
    let files = lab::solution(&lab, &step.id, &context)?;
    // The learner's own work is what differs from everything labforge wrote: the project as
    // `lab start` made it, and every step's reference solution.
    let started = lab::plan(&lab, &ws.recorded.project)?;
    let mut written: Vec<PlannedFile> = started.files;
    for other in &lab.steps {
        written.extend(lab::solution(&lab, &other.id, &context)?);
    }
    let changed: Vec<&str> = files
        .iter()
        .filter(|f| {
            std::fs::read(ws.dir.join(&f.path))
                .is_ok_and(|current| !written.iter().any(|w| w.path == f.path && w.contents == current))
        })
        .map(|f| f.path.as_str())
        .collect();
    if !changed.is_empty() && !force {
        return Err(LabError::Usage(format!(
            "the solution of step {} would replace {} (pass `--force` to overwrite your version)",
            index + 1,
            changed.join(", ")
        ))
        .into());
    }
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    lab::write_files(&ws.dir, files)?;
    shell.status("Solved", format_args!("step {} · {}: wrote {}", index + 1, step.title, paths.join(", ")));
    if lab.needs_cluster() {
        shell.line("`labforge deploy` sends it to the cluster; `labforge check` confirms it.");
    } else {
        shell.line("`labforge check` confirms it; a changed Dockerfile or dependency needs `labforge up`.");
    }
    Ok(Outcome::Success)
}

fn reset(catalog: &Catalog, dir: &Path, force: bool, shell: &Shell) -> Result<Outcome, Error> {
    let (ws, lab) = open(catalog, dir)?;
    if force {
        let files = crate::scaffold::render_overlay(&lab.files.under("starter"), &ws.context()?)?;
        let count = files.len();
        lab::write_files(&ws.dir, files)?;
        shell.status("Restored", format_args!("{count} starter files"));
    }
    save_progress(&ws.dir, &Progress::new(&lab.id))?;
    shell.status("Reset", format_args!("progress of lab {}: back to step 1", lab.id));
    if !force {
        shell.line("Your files are unchanged; `labforge lab reset --force` also restores the starter files.");
    }
    Ok(Outcome::Success)
}

fn validate(catalog: &Catalog, path: Option<&Path>, shell: &Shell) -> Result<Outcome, Error> {
    let labs: Vec<(String, Result<Lab, Vec<String>>)> = match path {
        Some(path) if path.join("lab.yaml").is_file() => {
            let files = folder_files(path)?;
            vec![(path.display().to_string(), catalog.parse(files))]
        }
        Some(path) => {
            let dir_catalog = catalog.in_dir(path);
            let ids = dir_catalog.ids()?;
            if ids.is_empty() {
                return Err(
                    LabError::Usage(format!("{} holds no lab.yaml, nor folders with one", path.display())).into()
                );
            }
            ids.iter()
                .map(|id| Ok((id.clone(), dir_catalog.parse(dir_catalog.files(id)?))))
                .collect::<Result<_, Error>>()?
        }
        None => catalog
            .ids()?
            .iter()
            .map(|id| Ok((id.clone(), catalog.parse(catalog.files(id)?))))
            .collect::<Result<_, Error>>()?,
    };
    let mut problems = Vec::new();
    for (name, result) in &labs {
        // What `lab start`, `lab solve` and selftest would refuse, refused here too.
        let unusable = result.as_ref().ok().and_then(|lab| lab::renders(lab).err());
        match result {
            Ok(_) if let Some(why) = unusable => problems.push(format!("{name}: {why}")),
            Ok(lab) if !lab.proof_gaps.is_empty() => problems.extend(lab.proof_gaps.iter().cloned()),
            Ok(lab) => shell.line(format_args!(
                "✓ {name}: {} steps, {} checks, {} mistakes, {} other solutions",
                lab.steps.len(),
                lab.steps.iter().map(|s| s.checks.len()).sum::<usize>(),
                lab.steps.iter().map(|s| s.wrong.len()).sum::<usize>(),
                lab.steps.iter().map(|s| s.alternatives.len()).sum::<usize>()
            )),
            Err(errors) => problems.extend(errors.iter().cloned()),
        }
    }
    if problems.is_empty() {
        return Ok(Outcome::Success);
    }
    Err(LabError::Invalid(problems).into())
}

fn selftest(
    catalog: &Catalog,
    id: Option<String>,
    all: bool,
    json: bool,
    cluster: &lab::selftest::OnCluster,
    ctx: &Context,
    shell: &Shell,
) -> Result<Outcome, Error> {
    let ids = match (id, all) {
        (Some(id), _) => vec![id],
        (None, true) => catalog.ids()?,
        (None, false) => {
            return Err(LabError::Usage("name a lab (`labforge lab selftest ID`) or pass `--all`".into()).into());
        }
    };
    let labs: Vec<Lab> = ids.iter().map(|id| lab::load(catalog, id)).collect::<Result<_, _>>()?;
    let progress = Terminal::new(shell);
    let mut reports = Vec::new();
    for lab in &labs {
        let report = lab::selftest::run(lab, cluster, ctx, &progress)?;
        if !json {
            if report.passed {
                shell.line(format_args!(
                    "✓ {}: every step fails on the starter and passes on the solution ({:.1} s)",
                    report.lab, report.seconds
                ));
            } else {
                shell.line(format_args!("✗ {} ({:.1} s)", report.lab, report.seconds));
                for p in &report.problems {
                    shell.line(format_args!("    {p}"));
                }
            }
            for p in &report.proven {
                match p.kind {
                    "wrong" => shell.line(format_args!(
                        "    ✓ {} / mistake `{}` caught by `{}`",
                        p.step,
                        p.overlay,
                        p.by.join("`, `")
                    )),
                    _ => shell.line(format_args!("    ✓ {} / other solution `{}` passes", p.step, p.overlay)),
                }
            }
            for guard in &report.guards {
                shell.line(format_args!("    guard {guard}"));
            }
            if let Some(why) = &report.not_run {
                shell.line(format_args!(
                    "    not run, {} checks that need a cluster or GitHub ({why}): {}",
                    report.skipped.len(),
                    report.skipped.join("; ")
                ));
            }
        }
        reports.push(report);
    }
    let passed = reports.iter().all(|r| r.passed);
    if json {
        // The JSON document is the output; the table is for whoever watches (CI prints it).
        eprintln!("{}", proof_table(&reports));
    } else {
        shell.line(proof_table(&reports));
    }
    if json {
        shell.line(
            serde_json::to_string_pretty(&json!({ "passed": passed, "labs": reports })).expect("JSON serializes"),
        );
    }
    Ok(if passed { Outcome::Success } else { Outcome::Failed })
}

/// What selftest proved, one row per step: checks seen failing (of those run, guards apart),
/// mistakes caught, other correct solutions passed.
fn proof_table(reports: &[lab::selftest::SelftestReport]) -> String {
    let header = ["lab", "step", "checks failable", "guards", "wrong caught", "alternatives passed"];
    let rows: Vec<[String; 6]> = reports
        .iter()
        .flat_map(|r| {
            r.steps.iter().map(|s| {
                [
                    r.lab.clone(),
                    s.step.clone(),
                    format!("{}/{}", s.failable, s.checks - s.guards),
                    s.guards.to_string(),
                    format!("{}/{}", s.wrong_caught, s.wrong),
                    format!("{}/{}", s.alternatives_passed, s.alternatives),
                ]
            })
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[&str]| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    let mut out = vec![line(&header)];
    out.extend(rows.iter().map(|r| line(&r.iter().map(String::as_str).collect::<Vec<_>>())));
    out.join("\n")
}
