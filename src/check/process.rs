//! Checks that run a program: `command` (in the project's venv or the app container), `pytest`
//! and `lint` (ruff), reading what the tools themselves report.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use super::kinds::{CommandCheck, LintCheck, Place, PytestCheck};
use super::{Failure, Workspace, snippet};
use crate::lab::spec::regex;
use crate::stack::docker::Engine;

/// Runs `program` (from the venv when it is there) in the project; returns exit code and output.
/// Runs `program` from the project's venv in the project folder, with `env` added.
async fn run_in_venv(
    ws: &Workspace,
    program: &str,
    args: &[String],
    env: &[(&str, &Path)],
) -> Result<(i64, String, String), Failure> {
    let bin = ws.venv_bin()?;
    let resolved = bin.join(program);
    let program = if resolved.exists() { resolved } else { Path::new(program).to_path_buf() };
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(&program)
        .args(args)
        .current_dir(&ws.dir)
        .env("PATH", path)
        .env("VIRTUAL_ENV", bin.parent().unwrap_or(&bin))
        .env_remove("PYTHONPATH")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Failure::new(format!("cannot run {}: {e}", program.display())))?;
    Ok((
        i64::from(out.status.code().unwrap_or(-1)),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

pub async fn command(ws: &Workspace, c: &CommandCheck) -> Result<(), Failure> {
    let argv: Vec<String> = c.run.iter().map(|a| ws.render(a)).collect::<Result<_, _>>()?;
    let shown = argv.join(" ");
    let (code, stdout, stderr) = match c.place {
        Place::Venv => run_in_venv(ws, &argv[0], &argv[1..], &[]).await?,
        Place::App => {
            let stack = ws.stack().await?;
            let app = stack.project.services.iter().find(|s| s.kind == crate::stack::spec::ServiceKind::App);
            let container = app
                .and_then(|s| stack.container(&s.name))
                .ok_or_else(|| Failure::new("the app is not running (start it with `labforge up`)"))?;
            let (code, output) =
                stack.engine.exec(&container.id, &argv).await.map_err(|e| Failure::new(e.to_string()))?;
            (code, output, String::new())
        }
    };
    if code != c.expect.exit {
        let said = snippet(&format!("{stdout}{stderr}"), 200);
        let actual = if said.is_empty() { format!("exit code {code}") } else { format!("exit code {code}: {said}") };
        return Err(Failure::mismatch(&format!("`{shown}`"), format!("exit code {}", c.expect.exit), actual));
    }
    if let Some(needle) = &c.expect.stdout_contains
        && !stdout.contains(needle.as_str())
    {
        return Err(Failure::mismatch(
            &format!("`{shown}`"),
            format!("output containing {needle:?}"),
            snippet(&stdout, 200),
        ));
    }
    if let Some(pattern) = &c.expect.stdout_regex
        && !regex(pattern).map_err(Failure::new)?.is_match(&stdout)
    {
        return Err(Failure::mismatch(
            &format!("`{shown}`"),
            format!("output matching /{pattern}/"),
            snippet(&stdout, 200),
        ));
    }
    Ok(())
}

/// Counts from pytest's JUnit XML report.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    tests: u32,
    failures: u32,
    errors: u32,
    skipped: u32,
    failing: Vec<String>,
    /// What the first failing test said (its assertion message), XML entities decoded.
    first_message: Option<String>,
}

fn tally(xml: &str) -> Tally {
    let attr = |tag: &str, name: &str| -> u32 {
        regex::Regex::new(&format!(r#"<{tag}\b[^>]*\b{name}="(\d+)""#))
            .ok()
            .and_then(|re| re.captures(xml).and_then(|c| c[1].parse().ok()))
            .unwrap_or(0)
    };
    let failing = regex::Regex::new(r#"<testcase\b[^>]*\bname="([^"]+)"[^>]*>\s*<(failure|error)\b"#)
        .map(|re| re.captures_iter(xml).map(|c| c[1].to_string()).collect())
        .unwrap_or_default();
    let first_message = regex::Regex::new(r#"<(?:failure|error)\b[^>]*\bmessage="([^"]*)""#)
        .ok()
        .and_then(|re| re.captures(xml).map(|c| unescape_xml(&c[1])))
        .filter(|m| !m.trim().is_empty());
    Tally {
        tests: attr("testsuite", "tests"),
        failures: attr("testsuite", "failures"),
        errors: attr("testsuite", "errors"),
        skipped: attr("testsuite", "skipped"),
        failing,
        first_message,
    }
}

/// Decodes the entities an XML attribute value may hold.
fn unescape_xml(text: &str) -> String {
    let numeric = regex::Regex::new(r"&#(x[0-9a-fA-F]+|[0-9]+);").expect("a valid regex");
    let text = numeric.replace_all(text, |c: &regex::Captures| {
        let n = &c[1];
        let code = match n.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => n.parse().ok(),
        };
        code.and_then(char::from_u32).map(String::from).unwrap_or_default()
    });
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

pub async fn pytest(ws: &Workspace, c: &PytestCheck) -> Result<(), Failure> {
    let scratch = tempfile::tempdir().map_err(|e| Failure::new(format!("cannot make a scratch folder: {e}")))?;
    let junit = scratch.path().join("junit.xml");
    let mut args = vec!["-m".to_string(), "pytest".into(), "-q".into(), "-p".into(), "no:cacheprovider".into()];
    args.push(format!("--junitxml={}", junit.display()));
    let mut targets: Vec<String> = c.tests.iter().map(|t| ws.render(t)).collect::<Result<_, _>>()?;
    let mut shown_targets = targets.clone();
    // Hidden tests run from a copy inside the project, so they import it like its own tests; a
    // copy of its own for each check, as checks run at the same time. Removed when dropped.
    let _hidden = if c.hidden.is_empty() {
        None
    } else {
        let copy_error = |e: std::io::Error| Failure::new(format!("cannot copy the lab's tests: {e}"));
        let parent = ws.dir.join(".labforge");
        std::fs::create_dir_all(&parent).map_err(copy_error)?;
        let dir = tempfile::Builder::new().prefix("hidden-tests-").tempdir_in(&parent).map_err(copy_error)?;
        for (rel, bytes) in ws.lab_files.under("tests") {
            let text = ws.render(&String::from_utf8_lossy(&bytes))?;
            let dest = dir.path().join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(copy_error)?;
            }
            std::fs::write(&dest, text).map_err(copy_error)?;
        }
        let name = dir.path().file_name().unwrap_or_default().to_string_lossy().into_owned();
        targets.extend(c.hidden.iter().map(|h| format!(".labforge/{name}/{h}")));
        shown_targets.extend(c.hidden.iter().map(|h| format!(".labforge/hidden-tests/{h}")));
        Some(dir)
    };
    let coverage_json = scratch.path().join("coverage.json");
    if c.coverage.is_some() {
        let package = ws.package();
        args.push(format!("--cov=src/{package}"));
        args.push(format!("--cov-report=json:{}", coverage_json.display()));
    }
    args.extend(targets.iter().cloned());
    // Coverage data goes to the scratch folder too: in the project it would be a change that
    // `check --watch` reacts to, and concurrent pytest checks would write the same file.
    let coverage_data = scratch.path().join(".coverage");
    let (code, stdout, stderr) = run_in_venv(ws, "python", &args, &[("COVERAGE_FILE", &coverage_data)]).await?;
    let shown = if targets.is_empty() { "the project's tests".to_string() } else { shown_targets.join(" ") };
    if code == 5 {
        return Err(Failure::mismatch("pytest", format!("tests in {shown}"), "no tests were collected"));
    }
    let report = std::fs::read_to_string(&junit).unwrap_or_default();
    let t = tally(&report);
    if report.is_empty() || code == 4 || code == 3 {
        return Err(Failure::new(format!(
            "pytest could not run {shown}: {}",
            snippet(&format!("{stdout}{stderr}"), 240)
        )));
    }
    let passed = t.tests.saturating_sub(t.failures + t.errors + t.skipped);
    if t.failures + t.errors > 0 {
        let names = t.failing.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        let said =
            t.first_message.as_deref().map(|m| format!("; the first says: {}", snippet(m, 240))).unwrap_or_default();
        return Err(Failure::mismatch(
            &format!("pytest {shown}"),
            "every test to pass",
            format!("{} of {} failed: {names}{said}", t.failures + t.errors, t.tests),
        ));
    }
    if let Some(min) = c.min_passed
        && passed < min
    {
        return Err(Failure::mismatch(
            &format!("pytest {shown}"),
            format!("at least {min} passing tests"),
            format!("{passed}"),
        ));
    }
    if let Some(coverage) = &c.coverage {
        let doc: serde_json::Value = std::fs::read_to_string(&coverage_json)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| Failure::new("pytest-cov wrote no coverage report (is pytest-cov installed?)"))?;
        let percent = doc["totals"]["percent_covered"].as_f64().unwrap_or(0.0);
        if percent + 1e-9 < coverage.min {
            return Err(Failure::mismatch(
                "coverage",
                format!("at least {:.0}%", coverage.min),
                format!("{percent:.1}%"),
            ));
        }
    }
    Ok(())
}

pub async fn lint(ws: &Workspace, c: &LintCheck) -> Result<(), Failure> {
    let paths: Vec<String> = if c.paths.is_empty() {
        vec![".".to_string()]
    } else {
        c.paths.iter().map(|p| ws.render(p)).collect::<Result<_, _>>()?
    };
    // `.labforge/` holds labforge's own files (copies of hidden tests among them), not the learner's code.
    let mut check = vec![
        "check".to_string(),
        "--no-cache".into(),
        "--extend-exclude=.labforge".into(),
        "--output-format=concise".into(),
    ];
    check.extend(paths.iter().cloned());
    let (code, stdout, _) = run_in_venv(ws, "ruff", &check, &[]).await?;
    if code != 0 {
        let problems: Vec<&str> = stdout.lines().filter(|l| l.contains(": ")).collect();
        let first = problems.iter().take(3).copied().collect::<Vec<_>>().join("; ");
        return Err(Failure::mismatch(
            "ruff check",
            "no problems",
            format!("{} problems, e.g. {first}", problems.len()),
        ));
    }
    let mut format =
        vec!["format".to_string(), "--check".into(), "--no-cache".into(), "--extend-exclude=.labforge".into()];
    format.extend(paths.iter().cloned());
    let (code, stdout, _) = run_in_venv(ws, "ruff", &format, &[]).await?;
    if code != 0 {
        let files: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("Would reformat: ")).collect();
        return Err(Failure::mismatch(
            "ruff format --check",
            "every file formatted",
            format!("would reformat {}", files.join(", ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pytest_junit_counts_and_failing_names() {
        let xml = r#"<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4">
            <testcase classname="tests.test_items" name="test_create" time="0.1"><failure message="AssertionError: with &quot;the bug&quot; put back &lt;still&gt; passes&#10;assert 0 != 0"/></testcase>
            <testcase classname="tests.test_items" name="test_ok" time="0.1"/></testsuite></testsuites>"#;
        let t = tally(xml);
        assert_eq!((t.tests, t.failures, t.errors, t.skipped), (4, 1, 0, 1));
        assert_eq!(t.failing, ["test_create"]);
        assert_eq!(
            t.first_message.as_deref(),
            Some("AssertionError: with \"the bug\" put back <still> passes\nassert 0 != 0")
        );
        assert_eq!(
            tally(r#"<testsuite tests="1"><testcase name="t"><error message=""/></testcase></testsuite>"#)
                .first_message,
            None
        );
    }
}
