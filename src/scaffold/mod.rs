//! Scaffolding: template manifests, answers, rendering to an in-memory [`Plan`], and writing a
//! plan safely to disk. No network and no Docker here; printing is left to the caller.

mod answers;
mod conditions;
mod filters;
mod manifest;
mod name;
mod plan;
mod render;
mod secrets;
mod source;
mod template;

pub use answers::{Answers, Given, GivenValue};
pub use filters::shell as shell_quote;
pub use manifest::{Manifest, VarKind, Variable};
pub use name::ProjectName;
pub use plan::{FileAction, Mode, Plan, PlannedFile, TargetState};
pub use render::{Recorded, project_context, render, render_overlay, safe_relative, strip_tag_lines};
pub use secrets::Secrets;
pub use source::{Templates, read_tree};
pub use template::{Combination, Template};

use std::path::PathBuf;

/// The built-in template used when `--framework` is not given.
pub const DEFAULT_TEMPLATE: &str = "fastapi";

/// Where a generated project records how it was made.
pub const ANSWERS_FILE: &str = ".labforge/answers.yaml";

/// Everything that can stop a scaffold before or while it writes. All are exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Name(#[from] name::NameError),
    #[error("unknown template `{name}` (built-in templates: {known}; see `labforge templates`)")]
    UnknownTemplate { name: String, known: String },
    #[error("template `{template}` is invalid:{}", listed(.problems))]
    InvalidTemplate { template: String, problems: Vec<String> },
    #[error("{0}")]
    Answer(String),
    #[error(
        "{path} is not empty (choose another `--dir`, or pass `--force` to overwrite the files the template writes)"
    )]
    TargetNotEmpty { path: PathBuf },
    #[error("{path} exists and is not a directory (choose another `--dir`)")]
    TargetNotDir { path: PathBuf },
    #[error("refusing to write {path}: {why}")]
    UnsafePath { path: String, why: String },
    #[error("template `{template}`: cannot render {file}:\n{message}")]
    Render { template: String, file: String, message: String },
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Prompt(String),
}

/// One problem on the same line, several one per line below.
fn listed(problems: &[String]) -> String {
    match problems {
        [one] => format!(" {one}"),
        many => many.iter().map(|p| format!("\n  {p}")).collect(),
    }
}

impl Error {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

impl From<crate::ui::prompt::PromptError> for Error {
    fn from(err: crate::ui::prompt::PromptError) -> Self {
        match err {
            crate::ui::prompt::PromptError::Interrupted => Error::Interrupted,
            other => Error::Prompt(other.to_string()),
        }
    }
}
