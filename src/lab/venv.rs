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
use crate::stack::build::Dependencies;

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
    let caches = ctx.cache_dir();
    let deps = std::fs::read_to_string(dir.join("pyproject.toml")).ok().and_then(|t| Dependencies::parse(&t));
    let plan = plan(&venv, &ctx.python(), state == State::Outdated, ctx.which("uv"), &caches, deps.as_ref());
    let result = async {
        if let Some((program, args)) = &plan.create {
            run(&dir, program, args).await?;
        }
        let before = packages(&venv);
        // From the shared cache alone first: a second lab installs without the network.
        let downloaded = match run(&dir, &plan.offline.0, &plan.offline.1).await {
            Ok(()) => false,
            Err(_) => {
                std::fs::create_dir_all(&caches)
                    .map_err(|e| Error::Usage(format!("cannot create {}: {e}", caches.display())))?;
                // One filler at a time: two labs starting at once share what the first fetched.
                let lock = std::fs::File::create(caches.join("wheels.lock"))
                    .map_err(|e| Error::Usage(format!("cannot create {}: {e}", caches.display())))?;
                let _locked = lock.lock();
                let mut wanted = plan.wanted.clone();
                for attempt in 1.. {
                    if let Some((program, args)) = &plan.fill {
                        run(&dir, program, &[args.clone(), std::mem::take(&mut wanted)].concat()).await?;
                    }
                    match run_said(&dir, &plan.online.0, &plan.online.1).await {
                        Ok(()) => break,
                        // A build backend may ask for more than pyproject.toml names (hatchling's
                        // `editables` for an editable install): fetched too, then tried again.
                        Err((error, said)) => {
                            wanted = missing(&said);
                            if plan.fill.is_none() || wanted.is_empty() || attempt == 3 {
                                return Err(error);
                            }
                        }
                    }
                }
                true
            }
        };
        std::fs::write(venv.join(COMPLETE), dependencies_hash(&dir))
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", venv.join(COMPLETE).display())))?;
        Ok::<_, Error>((packages(&venv).saturating_sub(before), downloaded))
    }
    .await;
    if result.is_err() && state != State::Outdated {
        // Nothing half-made is left behind by this run.
        let _ = std::fs::remove_dir_all(&venv);
    }
    let (packages, downloaded) = result?;
    report.emit(Event::VenvInstalled {
        seconds: started.elapsed().as_secs_f64(),
        packages,
        downloaded,
        cache: caches.display().to_string(),
    });
    Ok(())
}

/// A program and its arguments.
type Command = (PathBuf, Vec<String>);

/// The programs that make a venv and install the project into it.
#[derive(Debug)]
struct Plan {
    /// Makes the venv, unless it exists.
    create: Option<Command>,
    /// Installs from the shared cache alone; fails when something is not in it.
    offline: Command,
    /// Fetches requirements into the shared cache (pip: `pip wheel` into the wheelhouse): the
    /// program and its arguments before the requirements.
    fill: Option<Command>,
    /// The requirements the first fill fetches.
    wanted: Vec<String>,
    /// Installs once the cache was filled (uv: fetching what it lacks).
    online: Command,
}

/// The [`Plan`] for `venv`: with uv when it is on PATH (its cache under `caches/uv`), else with
/// pip and a wheelhouse under `caches/wheels` (pip's own cache under `caches/pip`).
fn plan(
    venv: &Path,
    python: &str,
    exists: bool,
    uv: Option<PathBuf>,
    caches: &Path,
    deps: Option<&Dependencies>,
) -> Plan {
    let venv_python = venv.join("bin/python").display().to_string();
    let s = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    match uv {
        Some(uv) => {
            let cache = caches.join("uv").display().to_string();
            let create = (!exists)
                .then(|| (uv.clone(), s(&["venv", "--quiet", "--python", python, &venv.display().to_string()])));
            // Compiled now, once: a check imports the app and its libraries on every run, and
            // Python cannot cache them where PYTHONDONTWRITEBYTECODE is set (pip compiles too).
            let install = s(&[
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--cache-dir",
                &cache,
                "--python",
                &venv_python,
                "-e",
                ".[dev]",
            ]);
            let mut offline = install.clone();
            offline.insert(2, "--offline".into());
            Plan { create, offline: (uv.clone(), offline), fill: None, wanted: Vec::new(), online: (uv, install) }
        }
        None => {
            let wheels = caches.join("wheels").display().to_string();
            let pip_cache = caches.join("pip").display().to_string();
            let create = (!exists).then(|| (PathBuf::from(python), s(&["-m", "venv", &venv.display().to_string()])));
            let pip = |args: &[&str]| (PathBuf::from(&venv_python), s(&[&["-m", "pip"], args].concat()));
            let quiet = ["--quiet", "--disable-pip-version-check"];
            let offline =
                pip(&[&["install"], &quiet[..], &["--compile", "--no-index", "--find-links", &wheels, "-e", ".[dev]"]]
                    .concat());
            match deps {
                Some(deps) => {
                    let fetch = [
                        &["wheel"],
                        &quiet[..],
                        &["--cache-dir", &pip_cache, "--find-links", &wheels, "--wheel-dir", &wheels],
                    ]
                    .concat();
                    let wanted = deps.requirements(&["dev"]);
                    Plan { create, online: offline.clone(), offline, fill: Some(pip(&fetch)), wanted }
                }
                // A pyproject.toml labforge cannot read: pip with its shared cache, from the index.
                None => {
                    let online =
                        pip(&[&["install"], &quiet[..], &["--compile", "--cache-dir", &pip_cache, "-e", ".[dev]"]]
                            .concat());
                    Plan { create, offline, fill: None, wanted: Vec::new(), online }
                }
            }
        }
    }
}

/// How many distributions `venv` holds.
fn packages(venv: &Path) -> usize {
    let Ok(libs) = std::fs::read_dir(venv.join("lib")) else { return 0 };
    libs.flatten()
        .filter_map(|lib| std::fs::read_dir(lib.path().join("site-packages")).ok())
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".dist-info"))
        .count()
}

/// Runs `program` in `dir` within [`DEADLINE`]; a failure says what the program said last.
async fn run(dir: &Path, program: &Path, args: &[String]) -> Result<(), Error> {
    run_said(dir, program, args).await.map_err(|(error, _)| error)
}

/// [`run`], and on failure everything the program wrote to stderr.
async fn run_said(dir: &Path, program: &Path, args: &[String]) -> Result<(), (Error, String)> {
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
            let why = format!("cannot run {}: {e} (labs need Python 3.11+ with venv)", program.display());
            (Error::Usage(why), String::new())
        })?;
    let output = match tokio::time::timeout(DEADLINE, child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| (Error::Usage(format!("{shown}: {e}")), String::new()))?,
        Err(_) => {
            let why = format!("{shown} took over {} minutes", DEADLINE.as_secs() / 60);
            return Err((Error::Usage(why), String::new()));
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    let last: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect();
    let why = format!("installing the project's dependencies failed ({shown}): {}", last.join(" / "));
    Err((Error::Usage(why), said))
}

/// The requirements pip said it found no distribution for.
fn missing(said: &str) -> Vec<String> {
    let mut found: Vec<String> = said
        .lines()
        .filter_map(|l| l.split("No matching distribution found for ").nth(1))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    found.sort();
    found.dedup();
    found
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
        let deps = Dependencies::parse("[project]\nname = \"a\"\ndependencies = [\"fastapi==1\"]\n").unwrap();
        for (exists, uv) in
            [(false, None), (true, None), (false, Some("/bin/uv".into())), (true, Some("/bin/uv".into()))]
        {
            let plan = plan(venv, "python3", exists, uv, Path::new("/cache/labforge"), Some(&deps));
            assert_eq!(plan.create.is_some(), !exists);
            for (program, args) in plan.create.iter().chain([&plan.offline, &plan.online]).chain(&plan.fill) {
                for word in args.iter().cloned().chain([program.display().to_string()]) {
                    assert!(!word.contains(".venv") || Path::new(&word).is_absolute(), "{word} in {args:?}");
                }
            }
        }
    }

    #[test]
    fn the_first_attempt_installs_from_the_shared_cache_without_the_network() {
        let venv = Path::new("/work/lab/.venv");
        let deps = Dependencies::parse("[build-system]\nrequires = [\"hatchling\"]\n[project]\nname = \"a\"\ndependencies = [\"fastapi==1\"]\n[project.optional-dependencies]\ndev = [\"pytest\"]\n").unwrap();
        let pip = plan(venv, "python3", false, None, Path::new("/c"), Some(&deps));
        assert!(pip.offline.1.contains(&"--no-index".to_string()), "{:?}", pip.offline);
        assert!(pip.offline.1.windows(2).any(|w| w == ["--find-links", "/c/wheels"]), "{:?}", pip.offline);
        let fill = &pip.fill.as_ref().unwrap().1;
        assert!(
            fill.windows(2).any(|w| w == ["--wheel-dir", "/c/wheels"])
                && fill.windows(2).any(|w| w == ["--cache-dir", "/c/pip"])
        );
        assert_eq!(pip.wanted, ["hatchling", "fastapi==1", "pytest"]);
        assert_eq!(pip.online, pip.offline, "pip installs from the filled wheelhouse");
        let uv = plan(venv, "python3", false, Some("/bin/uv".into()), Path::new("/c"), Some(&deps));
        assert!(uv.offline.1.contains(&"--offline".to_string()) && !uv.online.1.contains(&"--offline".to_string()));
        assert!(uv.online.1.windows(2).any(|w| w == ["--cache-dir", "/c/uv"]), "{:?}", uv.online);
    }

    #[test]
    fn what_a_build_backend_asked_for_and_the_wheelhouse_lacked_is_named() {
        let said = "  ╰─> [3 lines of output]\n      Looking in links: /w\n      ERROR: Could not find a version that satisfies the requirement editables~=0.3 (from versions: none)\n      ERROR: No matching distribution found for editables~=0.3\n";
        assert_eq!(missing(said), ["editables~=0.3"]);
        assert!(missing("ERROR: something else\n").is_empty());
    }
}
