//! Labs: the catalog ([`catalog`]), the strict definition ([`spec`]), a learner's workspace and
//! progress ([`workspace`]), its Python environment ([`venv`]), and the operations on them:
//! starting a lab, laying a solution over it, rendering its texts, and proving a lab works
//! ([`selftest`]).

pub mod catalog;
pub mod patch;
pub mod selftest;
pub mod spec;
pub mod venv;
pub mod workspace;

use std::collections::BTreeMap;
use std::path::Path;

use crate::check::kinds::CheckKind;

use crate::scaffold::{self, Given, GivenValue, PlannedFile, ProjectName, Secrets, TargetState, Template};
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
    /// The lab's stack could not be brought up or inspected (`lab selftest`).
    #[error(transparent)]
    Stack(#[from] crate::stack::Error),
}

impl From<crate::stack::DockerError> for Error {
    fn from(err: crate::stack::DockerError) -> Self {
        Error::Stack(err.into())
    }
}

impl From<crate::context::ConfigError> for Error {
    fn from(err: crate::context::ConfigError) -> Self {
        Error::Stack(err.into())
    }
}

/// Parses a lab from the catalog, reporting every problem.
pub fn load(catalog: &catalog::Catalog, id: &str) -> Result<Lab, Error> {
    catalog.parse(catalog.files(id)?).map_err(Error::Invalid)
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
    let state = TargetState::inspect(dir, force)?;
    plan(lab, name)?.write(dir, state)?;
    save_progress(dir, &Progress::new(&lab.id))
}

/// The lab's project as `lab start` writes it, in memory: the template rendered as project
/// `name` (with fresh secrets), the starter laid over it.
pub fn plan(lab: &Lab, name: &str) -> Result<scaffold::Plan, Error> {
    planned(lab, name).map(|(plan, _)| plan)
}

/// [`plan`], and the project context its files were rendered with.
fn planned(lab: &Lab, name: &str) -> Result<(scaffold::Plan, tera::Context), Error> {
    let project = ProjectName::parse(name).map_err(scaffold::Error::from)?;
    let template = Template::builtin(&lab.template.framework, &lab.templates)?;
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
            let fail = |why: String| Error::Usage(format!("starter_remove `{p}`: {why}"));
            let rendered = tera::Tera::new().render_str(p, &context, false).map_err(|e| fail(e.to_string()))?;
            scaffold::safe_relative(rendered.trim_end_matches('/')).map_err(fail)
        })
        .collect::<Result<_, _>>()?;
    let under = |f: &PlannedFile, r: &str| f.path == *r || f.path.starts_with(&format!("{r}/"));
    if let Some((raw, r)) =
        lab.starter_remove.iter().zip(&removed).find(|(_, r)| !plan.files.iter().any(|f| under(f, r)))
    {
        return Err(Error::Usage(format!(
            "starter_remove `{raw}`: the template writes no file or folder `{r}` (a typo?)"
        )));
    }
    plan.files.retain(|f| !removed.iter().any(|r| under(f, r)));
    for file in starter {
        match plan.files.iter_mut().find(|f| f.path == file.path) {
            Some(slot) => slot.contents = file.contents,
            None => plan.files.push(file),
        }
    }
    plan.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((plan, context))
}

/// Renders everything of the lab a learner's commands would (the project `lab start` writes, and
/// each step's solution, mistakes and other solutions) without writing anything: `lab validate`
/// refuses what `lab start` or `lab solve` would.
pub fn renders(lab: &Lab) -> Result<(), Error> {
    let name = project_name("lab", lab);
    let (plan, context) = planned(lab, &name)?;
    let mut solved: BTreeMap<String, Vec<u8>> = plan.files.into_iter().map(|f| (f.path, f.contents)).collect();
    for step in &lab.steps {
        solved.extend(solution(lab, &step.id, &context)?.into_iter().map(|f| (f.path, f.contents)));
    }
    for step in &lab.steps {
        let wrong = step.wrong.keys().map(|name| format!("wrong/{}/{name}", step.id));
        for folder in wrong.chain(step.alternatives.keys().map(|name| format!("alternative/{}/{name}", step.id))) {
            overlay_on(lab, &folder, &context, &|path| solved.get(path).cloned())?;
        }
    }
    Ok(())
}

/// The files a step's reference solution writes.
pub fn solution(lab: &Lab, step: &str, context: &tera::Context) -> Result<Vec<PlannedFile>, Error> {
    Ok(scaffold::render_overlay(&lab.files.under(&format!("solution/{step}")), context)?)
}

/// The project's tests and `pyproject.toml` as the lab ships them: the solved project's (the
/// template's, laid over by the starter and every step's solution), rendered for project `name`
/// (`context` is its project context). `pytest` checks run these against the learner's code.
pub fn lab_tests(lab: &Lab, name: &str, context: &tera::Context) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    if !lab.steps.iter().flat_map(|s| &s.checks).any(|c| matches!(c.kind, CheckKind::Pytest(_))) {
        return Ok(BTreeMap::new());
    }
    let shipped = |path: &str| path.starts_with("tests/") || path == "pyproject.toml";
    let mut files: BTreeMap<String, Vec<u8>> =
        plan(lab, name)?.files.into_iter().filter(|f| shipped(&f.path)).map(|f| (f.path, f.contents)).collect();
    for step in &lab.steps {
        files.extend(
            solution(lab, &step.id, context)?.into_iter().filter(|f| shipped(&f.path)).map(|f| (f.path, f.contents)),
        );
    }
    Ok(files)
}

/// What overlay `KIND/STEP/NAME` (`wrong/...`, `alternative/...`) does to the project in `dir`:
/// the files of its folder, rendered, or its `.patch` rendered and applied to the files as they are.
pub fn overlay(lab: &Lab, folder: &str, context: &tera::Context, dir: &Path) -> Result<Vec<patch::Change>, Error> {
    overlay_on(lab, folder, context, &|path| std::fs::read(dir.join(path)).ok())
}

/// [`overlay`] on a project whose files `read` gives.
fn overlay_on(
    lab: &Lab,
    folder: &str,
    context: &tera::Context,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<patch::Change>, Error> {
    let patch_file = format!("{folder}.patch");
    let Some(bytes) = lab.files.get(&patch_file) else {
        let files = scaffold::render_overlay(&lab.files.under(folder), context)?;
        return Ok(files.into_iter().map(|f| (f.path, Some(f.contents))).collect());
    };
    let fail = |why: String| Error::Usage(format!("{}: {why}", lab.files.display_path(&patch_file)));
    let text = std::str::from_utf8(bytes).map_err(|_| fail("it is not UTF-8 text".into()))?;
    let rendered = render_text(text, context).map_err(|e| fail(format!("it does not render: {e}")))?;
    let files = patch::split(&rendered).map_err(fail)?;
    for file in &files {
        scaffold::safe_relative(&file.path).map_err(|why| fail(format!("`{}`: {why}", file.path)))?;
    }
    patch::apply(&files, read).map_err(fail)
}

/// Writes an overlay's changes into the project: files replaced (never through a symlink) or removed.
pub fn apply_changes(dir: &Path, changes: Vec<patch::Change>) -> Result<(), Error> {
    let mut files = Vec::new();
    for (path, contents) in changes {
        match contents {
            Some(contents) => files.push(PlannedFile { path, contents, mode: scaffold::Mode::Normal }),
            None => {
                std::fs::remove_file(dir.join(&path)).map_err(|e| Error::Usage(format!("cannot remove {path}: {e}")))?
            }
        }
    }
    write_files(dir, files)
}

/// Writes files into the project (replacing, never through a symlink).
pub fn write_files(dir: &Path, files: Vec<PlannedFile>) -> Result<(), Error> {
    let plan = scaffold::Plan { files, values: Default::default() };
    plan.write(dir, TargetState::NotEmpty)?;
    Ok(())
}

/// The context a step's instructions and hints are rendered with: the project's names and answers
/// (`{{ project.package }}`) and where the learner reaches the app (`{{ app.url }}`).
pub fn text_context(project: &tera::Context, app_url: &str) -> tera::Context {
    let mut context = project.clone();
    context.insert("app", &serde_json::json!({ "url": app_url }));
    context
}

/// Renders instructions or a hint (Tera) with a [`text_context`]; the error is one line that
/// says where in the text the problem is.
pub fn render_text(text: &str, context: &tera::Context) -> Result<String, String> {
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
        return Ok(text.to_string());
    }
    tera::Tera::new().render_str(text, context, false).map_err(|e| {
        // Tera's message is a first line, then ` --> NAME:LINE:COLUMN` and the text around it.
        let shown = e.to_string();
        let message = shown.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
        let place = shown.lines().find_map(|l| l.trim().strip_prefix("--> ")).and_then(|place| {
            let mut parts = place.rsplitn(3, ':');
            let column = parts.next()?;
            Some(format!("line {}, column {column}", parts.next()?))
        });
        match place {
            Some(place) => format!("{place}: {message}"),
            None => message,
        }
    })
}
