//! Labs: the catalog ([`catalog`]), the strict definition ([`spec`]), a learner's workspace and
//! progress ([`workspace`]), and the operations on them: starting a lab, laying a solution over
//! it, preparing its Python environment, and proving a lab works ([`selftest`]).

pub mod catalog;
pub mod selftest;
pub mod spec;
pub mod workspace;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::scaffold::{self, Given, GivenValue, PlannedFile, ProjectName, Secrets, TargetState, Template};
use crate::ui::Shell;
pub use spec::Lab;
use workspace::{Progress, save_progress};

/// What can stop a lab command (exit 2). A failing check is a result, not an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Scaffold(#[from] scaffold::Error),
}

/// Parses a lab from the catalog, reporting every problem.
pub fn load(catalog: &catalog::Catalog, id: &str) -> Result<Lab, Error> {
    Lab::parse(catalog.files(id)?).map_err(Error::Invalid)
}

/// The project name a lab workspace gets: `lab-<id>` for learners.
pub fn project_name(prefix: &str, lab: &Lab) -> String {
    let mut name = format!("{prefix}-{}", lab.id);
    name.truncate(scaffold_name_max());
    name.trim_end_matches('-').to_string()
}

fn scaffold_name_max() -> usize {
    40
}

/// Scaffolds the lab's template into `dir` as project `name` and lays the starter over it.
pub fn scaffold(lab: &Lab, dir: &Path, name: &str, force: bool) -> Result<(), Error> {
    let project = ProjectName::parse(name).map_err(scaffold::Error::from)?;
    let state = TargetState::inspect(dir, force)?;
    let template = Template::builtin(&lab.template.framework)?;
    let mut given = Given::default();
    given.set("db", "db", GivenValue::One(lab.template.db.clone()));
    given.set("auth", "auth", GivenValue::One(lab.template.auth.clone()));
    given.set("extras", "extras", GivenValue::Many(lab.template.extras.clone()));
    let answers = scaffold::Answers::resolve(&template, given, None)?;
    let mut plan = scaffold::render(&template, &project, &answers, &Secrets::generate()?)?;
    let recorded = scaffold::Recorded {
        template: template.name().to_string(),
        template_version: template.manifest.version.clone(),
        labforge_version: env!("CARGO_PKG_VERSION").to_string(),
        project: project.name.clone(),
        answers: answers.to_map(),
    };
    let context = scaffold::project_context(&recorded)?;
    // The starter replaces scaffold files in the plan itself, so the project appears whole.
    let starter = scaffold::render_overlay(&lab.files.under("starter"), &context)?;
    let removed: Vec<String> = lab
        .starter_remove
        .iter()
        .map(|p| {
            tera::Tera::new()
                .render_str(p, &context, false)
                .map_err(|e| Error::Usage(format!("starter_remove `{p}`: {e}")))
        })
        .collect::<Result<_, _>>()?;
    plan.files.retain(|f| {
        !removed.iter().any(|r| f.path == *r || f.path.starts_with(&format!("{}/", r.trim_end_matches('/'))))
    });
    for file in starter {
        match plan.files.iter_mut().find(|f| f.path == file.path) {
            Some(slot) => slot.contents = file.contents,
            None => plan.files.push(file),
        }
    }
    plan.files.sort_by(|a, b| a.path.cmp(&b.path));
    plan.write(dir, state)?;
    save_progress(dir, &Progress::new(&lab.id))
}

/// The files a step's reference solution writes.
pub fn solution(lab: &Lab, step: &str, context: &tera::Context) -> Result<Vec<PlannedFile>, Error> {
    Ok(scaffold::render_overlay(&lab.files.under(&format!("solution/{step}")), context)?)
}

/// Writes files into the project (replacing, never through a symlink).
pub fn write_files(dir: &Path, files: Vec<PlannedFile>) -> Result<(), Error> {
    let plan = scaffold::Plan { files, values: Default::default() };
    plan.write(dir, TargetState::NotEmpty)?;
    Ok(())
}

/// Creates the project's `.venv` with its dev dependencies: with `uv` when it is on PATH (fast),
/// else `python3 -m venv` and pip. Every step has a deadline.
pub fn create_venv(dir: &Path, shell: &Shell) -> Result<(), Error> {
    let venv = dir.join(".venv");
    if venv.join("bin/python").exists() {
        return Ok(());
    }
    shell.status("Installing", "the project's dependencies into .venv (once per lab)");
    let python = std::env::var("LABFORGE_PYTHON").unwrap_or_else(|_| "python3".into());
    let steps: Vec<(PathBuf, Vec<String>)> = match which("uv") {
        Some(uv) => vec![
            (uv.clone(), vec!["venv".into(), "--quiet".into(), "--python".into(), python, ".venv".into()]),
            (
                uv,
                vec![
                    "pip".into(),
                    "install".into(),
                    "--quiet".into(),
                    "--python".into(),
                    ".venv/bin/python".into(),
                    "-e".into(),
                    ".[dev]".into(),
                ],
            ),
        ],
        None => vec![
            (PathBuf::from(python), vec!["-m".into(), "venv".into(), ".venv".into()]),
            (venv.join("bin/pip"), vec!["install".into(), "--quiet".into(), "-e".into(), ".[dev]".into()]),
        ],
    };
    for (program, args) in steps {
        let mut child = std::process::Command::new(&program)
            .args(&args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::Usage(format!("cannot run {}: {e} (labs need Python 3.11+ with venv)", program.display()))
            })?;
        let deadline = std::time::Instant::now() + Duration::from_secs(900);
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| Error::Usage(e.to_string()))? {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                return Err(Error::Usage(format!("{} {} took over 15 minutes", program.display(), args.join(" "))));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if !status.success() {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
            }
            let _ = std::fs::remove_dir_all(&venv);
            return Err(Error::Usage(format!(
                "installing the project's dependencies failed ({} {}): {}",
                program.display(),
                args.join(" "),
                err.lines().rev().take(3).collect::<Vec<_>>().join(" / ")
            )));
        }
    }
    Ok(())
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file())
}
