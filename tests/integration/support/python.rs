//! Python for the test suite: a virtual environment of third-party validators (pinned in
//! `tests/tools/requirements.txt`), installed once per machine and shared by every test process,
//! and a way to install and check a generated project for real.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const REQUIREMENTS: &str = include_str!("../../tools/requirements.txt");

/// Where the validators' `bin/` folder is, installing them on first use. Concurrent test
/// processes serialise on a lock file; an interrupted install is redone.
pub fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let venv = base.join(format!("pytools-{:016x}", fnv(REQUIREMENTS.as_bytes())));
        let done = venv.join(".complete");
        fs::create_dir_all(&base).expect("target tmp dir");
        let lock = File::create(base.join("pytools.lock")).expect("lock file");
        lock.lock().expect("lock pytools");
        if !done.exists() {
            let _ = fs::remove_dir_all(&venv);
            run_ok(Command::new(host_python()).args(["-m", "venv"]).arg(&venv), "create the tools venv");
            let req = base.join("pytools-requirements.txt");
            fs::write(&req, REQUIREMENTS).expect("write requirements");
            run_ok(
                Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                    .arg(&req),
                "install the test tools (tests/tools/requirements.txt)",
            );
            fs::write(&done, "").expect("mark tools complete");
        }
        venv.join("bin")
    })
}

/// The host's Python 3 (3.11 or newer).
pub fn host_python() -> String {
    std::env::var("LABFORGE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// A tool from the tools venv.
pub fn tool(name: &str) -> Command {
    Command::new(tools().join(name))
}

/// Runs `cmd`, panicking with its output unless it succeeds.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        out.status.success(),
        "failed to {what} ({:?}):\n--- stdout\n{}\n--- stderr\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `uv` with the machine's CA configuration: behind a TLS-inspecting proxy, pip's `PIP_CERT`
/// names the bundle uv needs too.
fn uv() -> Command {
    let mut cmd = tool("uv");
    if let Ok(cert) = std::env::var("PIP_CERT").or_else(|_| std::env::var("SSL_CERT_FILE")) {
        cmd.env("SSL_CERT_FILE", cert);
    }
    cmd.env("UV_NO_PROGRESS", "1");
    cmd
}

/// What checking one generated project took.
#[derive(Debug)]
pub struct ProjectCheck {
    pub install: Duration,
    pub pytest: Duration,
    pub pytest_summary: String,
}

/// Installs `project` into its own venv from PyPI (`-e .[dev]`) and runs `ruff check`,
/// `ruff format --check` and its pytest suite. `Err` holds the failing step's output.
pub fn check_project(project: &Path) -> Result<ProjectCheck, String> {
    let venv = project.join(".venv");
    let step = |cmd: &mut Command, what: &str| -> Result<Output, String> {
        let out = cmd.current_dir(project).output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(format!(
                "{what} failed in {}:\n--- stdout\n{}\n--- stderr\n{}",
                project.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let started = Instant::now();
    step(uv().args(["venv", "--quiet", "--python"]).arg(host_python()).arg(&venv), "uv venv")?;
    step(
        uv().args(["pip", "install", "--quiet", "--python"]).arg(venv.join("bin/python")).args(["-e", ".[dev]"]),
        "pip install -e .[dev]",
    )?;
    let install = started.elapsed();
    let bin = venv.join("bin");
    // The project's own ruff, at the version its pyproject pins.
    step(Command::new(bin.join("ruff")).args(["check", "--no-cache", "."]), "ruff check")?;
    step(Command::new(bin.join("ruff")).args(["format", "--check", "--no-cache", "."]), "ruff format --check")?;
    let (pytest, pytest_summary) = run_pytest(project, None)?;
    Ok(ProjectCheck { install, pytest, pytest_summary })
}

/// Runs an installed project's pytest suite, on its default storage (SQLite or memory), or with
/// `server` (`DATABASE_URL` or `MONGO_URL` and its value) against a database server. Returns
/// how long it took and pytest's summary line; `Err` holds the output of a failed run.
pub fn run_pytest(project: &Path, server: Option<(&str, &str)>) -> Result<(Duration, String), String> {
    let started = Instant::now();
    let mut pytest = Command::new(project.join(".venv/bin/pytest"));
    pytest
        .args(["-q", "-p", "no:cacheprovider"])
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .env_remove("MONGO_URL");
    if let Some((name, value)) = server {
        pytest.env(name, value);
    }
    let out = pytest.output().map_err(|e| format!("pytest: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "pytest{} failed in {}:\n--- stdout\n{stdout}\n--- stderr\n{}",
            server.map(|(name, _)| format!(" with {name}")).unwrap_or_default(),
            project.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let summary = stdout.lines().rev().find(|l| l.contains("passed")).unwrap_or_default().trim().to_string();
    Ok((started.elapsed(), summary))
}

/// A Python program printing the top-level modules installed in its environment, one per line.
pub const TOP_LEVEL_MODULES: &str = r#"
import importlib.metadata as md
import re

names = set()
for dist in md.distributions():
    top = dist.read_text("top_level.txt")
    if top:
        names.update(top.split())
        continue
    for f in dist.files or []:
        first = f.parts[0]
        if len(f.parts) == 1 and first.endswith(".py"):
            names.add(first[:-3])
        elif len(f.parts) == 1 and first.endswith((".so", ".pyd")):
            names.add(first.split(".")[0])
        elif len(f.parts) > 1 and not first.endswith((".dist-info", ".data")) and first not in ("..", "bin"):
            names.add(first)
print("\n".join(sorted(n for n in names if re.fullmatch(r"[a-z][a-z0-9_]*", n))))
"#;

/// FNV-1a: a stable hash for cache folder names.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}
