//! A lab project's Python environment, `.venv`: created with `uv` when it is on PATH, else with
//! `python3 -m venv` and pip, and marked complete only once every package is installed — so a
//! `.venv` left by an interrupted or failed install is noticed and made again, and one whose
//! `pyproject.toml` changed is brought up to date. Every program runs with a deadline.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Error;
use crate::context::Context;
use crate::report::{Event, Reporter, VenvChange};

/// Written into `.venv` after the last package is installed: the hash of the `pyproject.toml` it
/// was installed from.
const COMPLETE: &str = ".labforge-complete";

/// The longest one program (a venv creation, an install) may take.
const DEADLINE: Duration = Duration::from_secs(15 * 60);

/// What the `.venv` of a project is, as [`ensure`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// There is none.
    Missing,
    /// Some of it exists, but its install never finished (interrupted, or failed).
    Incomplete,
    /// Complete, but for another `pyproject.toml` than the project's now.
    Outdated,
    /// Complete for the project's dependencies as they are.
    Ready,
}

/// The state of `dir/.venv`.
pub fn state(dir: &Path) -> State {
    let venv = dir.join(".venv");
    if std::fs::symlink_metadata(&venv).is_err() {
        return State::Missing;
    }
    match std::fs::read_to_string(venv.join(COMPLETE)) {
        Err(_) => State::Incomplete,
        Ok(hash) if hash.trim() == dependencies_hash(dir) && venv.join("bin/python").exists() => State::Ready,
        Ok(_) => State::Outdated,
    }
}

/// Makes `dir/.venv` hold the project with its dev dependencies (`pip install -e '.[dev]'`),
/// doing only what its [`State`] needs.
pub async fn ensure(dir: &Path, ctx: &Context, report: &dyn Reporter) -> Result<(), Error> {
    // The programs run inside the project: every path handed to them is absolute, so the
    // project may be named relative to wherever labforge was started.
    let dir = std::path::absolute(dir).map_err(|e| Error::Usage(format!("cannot resolve {}: {e}", dir.display())))?;
    let venv = dir.join(".venv");
    let state = state(&dir);
    match state {
        State::Ready => return Ok(()),
        State::Missing => report.emit(Event::VenvStarted { why: VenvChange::Missing }),
        State::Incomplete => {
            report.emit(Event::VenvStarted { why: VenvChange::Incomplete });
            std::fs::remove_dir_all(&venv)
                .map_err(|e| Error::Usage(format!("cannot remove the incomplete {}: {e}", venv.display())))?;
        }
        State::Outdated => report.emit(Event::VenvStarted { why: VenvChange::Outdated }),
    }
    let started = Instant::now();
    // Not complete from here on until the install below says so.
    let _ = std::fs::remove_file(venv.join(COMPLETE));
    let python = ctx.python();
    let result = async {
        for (program, args) in commands(&venv, &python, state == State::Outdated, ctx.which("uv")) {
            run(&dir, &program, &args).await?;
        }
        std::fs::write(venv.join(COMPLETE), dependencies_hash(&dir))
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", venv.join(COMPLETE).display())))
    }
    .await;
    if result.is_err() && state != State::Outdated {
        // Nothing half-made is left behind by this run.
        let _ = std::fs::remove_dir_all(&venv);
    }
    result?;
    report.emit(Event::VenvInstalled { seconds: started.elapsed().as_secs_f64() });
    Ok(())
}

/// The programs that make the venv (unless it exists) and install the project into it.
fn commands(venv: &Path, python: &str, exists: bool, uv: Option<PathBuf>) -> Vec<(PathBuf, Vec<String>)> {
    let venv_python = venv.join("bin/python").display().to_string();
    let mut steps = Vec::new();
    match uv {
        Some(uv) => {
            if !exists {
                let args = ["venv", "--quiet", "--python", python, &venv.display().to_string()];
                steps.push((uv.clone(), args.map(str::to_string).to_vec()));
            }
            // Compiled now, once: a check imports the app and its libraries on every run, and
            // Python cannot cache them where PYTHONDONTWRITEBYTECODE is set (pip compiles too).
            let args = ["pip", "install", "--quiet", "--compile-bytecode", "--python", &venv_python, "-e", ".[dev]"];
            steps.push((uv, args.map(str::to_string).to_vec()));
        }
        None => {
            if !exists {
                steps.push((PathBuf::from(python), vec!["-m".into(), "venv".into(), venv.display().to_string()]));
            }
            let args = ["-m", "pip", "install", "--quiet", "--compile", "--disable-pip-version-check", "-e", ".[dev]"];
            steps.push((PathBuf::from(&venv_python), args.map(str::to_string).to_vec()));
        }
    }
    steps
}

/// Runs `program` in `dir` within [`DEADLINE`]; a failure says what the program said last.
async fn run(dir: &Path, program: &Path, args: &[String]) -> Result<(), Error> {
    let shown = format!("{} {}", program.display(), args.join(" "));
    let child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Error::Usage(format!("cannot run {}: {e} (labs need Python 3.11+ with venv)", program.display()))
        })?;
    let output = match tokio::time::timeout(DEADLINE, child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| Error::Usage(format!("{shown}: {e}")))?,
        Err(_) => return Err(Error::Usage(format!("{shown} took over {} minutes", DEADLINE.as_secs() / 60))),
    };
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let last: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect();
    Err(Error::Usage(format!("installing the project's dependencies failed ({shown}): {}", last.join(" / "))))
}

/// What the venv was installed from: the project's `pyproject.toml`.
fn dependencies_hash(dir: &Path) -> String {
    let bytes = std::fs::read(dir.join("pyproject.toml")).unwrap_or_default();
    crate::base::hex(&Sha256::digest(&bytes)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_venv_is_ready_only_once_marked_complete_for_the_current_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join(".venv");
        std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname = \"a\"\n").unwrap();
        assert_eq!(state(dir.path()), State::Missing);
        // What an interrupted `python3 -m venv` + pip leaves: a python, no mark.
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("bin/python"), "").unwrap();
        assert_eq!(state(dir.path()), State::Incomplete);
        std::fs::write(venv.join(COMPLETE), dependencies_hash(dir.path())).unwrap();
        assert_eq!(state(dir.path()), State::Ready);
        std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname = \"b\"\n").unwrap();
        assert_eq!(state(dir.path()), State::Outdated);
    }

    #[test]
    fn every_path_handed_to_a_program_is_absolute() {
        // The regression: `ID/.venv/bin/pip` run inside `ID/` from its parent folder.
        let venv = Path::new("/work/lab/.venv");
        for (exists, uv) in
            [(false, None), (true, None), (false, Some("/bin/uv".into())), (true, Some("/bin/uv".into()))]
        {
            let steps = commands(venv, "python3", exists, uv);
            assert_eq!(steps.len(), if exists { 1 } else { 2 });
            for (program, args) in steps {
                for word in args.iter().cloned().chain([program.display().to_string()]) {
                    assert!(!word.contains(".venv") || Path::new(&word).is_absolute(), "{word} in {args:?}");
                }
            }
        }
    }
}
