//! Checks that run a program: `command` (in the project's venv or the app container), `pytest`
//! and `lint` (ruff), reading what the tools themselves report.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::kinds::{CommandCheck, CommandExpect, LintCheck, Place, PytestCheck};
use super::{Failure, Workspace, snippet};
use crate::base::regex;
use crate::stack::runtime::Runtime;

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
    let mut path = bin.clone().into_os_string();
    path.push(":");
    path.push(ws.ctx.path_var());
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
            let app = stack
                .project
                .app()
                .filter(|app| stack.service(&app.name).is_some())
                .ok_or_else(|| Failure::new(format!("the app is not running ({})", stack.runtime.start_hint())))?;
            let (code, output) =
                stack.runtime.exec(&stack.project, &app.name, &argv).await.map_err(|e| Failure::new(e.to_string()))?;
            (code, output, String::new())
        }
    };
    judge_command(&shown, code, &stdout, &stderr, &c.expect)
}

/// The verdict on a command that ran as `shown` and ended with `code` and this output.
fn judge_command(shown: &str, code: i64, stdout: &str, stderr: &str, e: &CommandExpect) -> Result<(), Failure> {
    if code != e.exit {
        let said = snippet(&format!("{stdout}{stderr}"), 200);
        let actual = if said.is_empty() { format!("exit code {code}") } else { format!("exit code {code}: {said}") };
        return Err(Failure::mismatch(&format!("`{shown}`"), format!("exit code {}", e.exit), actual));
    }
    if let Some(needle) = &e.stdout_contains
        && !stdout.contains(needle.as_str())
    {
        return Err(Failure::mismatch(
            &format!("`{shown}`"),
            format!("output containing {needle:?}"),
            snippet(stdout, 200),
        ));
    }
    if let Some(pattern) = &e.stdout_regex
        && !regex(pattern).map_err(Failure::new)?.is_match(stdout)
    {
        return Err(Failure::mismatch(
            &format!("`{shown}`"),
            format!("output matching /{pattern}/"),
            snippet(stdout, 200),
        ));
    }
    Ok(())
}

/// One test case of pytest's JUnit XML report (xunit1, which names each case's file); a test
/// module that failed to import is a case too.
#[derive(Debug, PartialEq)]
struct Case {
    file: String,
    name: String,
    outcome: Outcome,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Passed,
    Skipped,
    /// A failure or an error, with what it said (its assertion message, or for a module that
    /// could not be imported the exception), XML entities decoded.
    Failed(Option<String>),
}

/// A compiled regex, made once per process.
macro_rules! static_regex {
    ($pattern:expr) => {{
        static RE: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new($pattern).expect("a valid regex"));
        &*RE
    }};
}

fn cases(xml: &str) -> Vec<Case> {
    let case = static_regex!(r#"(?s)<testcase\b([^>]*?)(?:/>|>(.*?)</testcase>)"#);
    let failed = static_regex!(r#"(?s)<(?:failure|error)\b([^>]*?)(?:/>|>(.*?)</(?:failure|error)>)"#);
    let attr = |attrs: &str, name: &str| -> Option<String> {
        static_regex!(r#"([\w-]+)="([^"]*)""#).captures_iter(attrs).find(|c| &c[1] == name).map(|c| unescape_xml(&c[2]))
    };
    case.captures_iter(xml)
        .map(|c| {
            let (attrs, body) = (&c[1], c.get(2).map_or("", |b| b.as_str()));
            let outcome = if let Some(f) = failed.captures(body) {
                let message = attr(&f[1], "message").filter(|m| !m.trim().is_empty());
                // pytest says only "collection failure" for a test module that cannot be imported;
                // the exception is in the body, on the lines that start with "E ".
                let message = match message.as_deref() {
                    Some("collection failure") | None => {
                        let text = unescape_xml(f.get(2).map_or("", |t| t.as_str()));
                        let raised: Vec<&str> =
                            text.lines().filter_map(|l| l.strip_prefix("E ")).map(str::trim).collect();
                        if raised.is_empty() { message } else { Some(raised.join("\n")) }
                    }
                    Some(_) => message,
                };
                Outcome::Failed(message)
            } else if body.contains("<skipped") {
                Outcome::Skipped
            } else {
                Outcome::Passed
            };
            let file = attr(attrs, "file").unwrap_or_default();
            // A module that failed to import has no class; its file names it better than pytest's dotted name.
            let name = match attr(attrs, "classname").as_deref() {
                Some("") if !file.is_empty() => file.clone(),
                _ => attr(attrs, "name").unwrap_or_default(),
            };
            Case { file, name, outcome }
        })
        .collect()
}

/// Decodes the entities an XML attribute value may hold.
fn unescape_xml(text: &str) -> String {
    let numeric = static_regex!(r"&#(x[0-9a-fA-F]+|[0-9]+);");
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

/// Whether `file` (relative to the project, as pytest reports it) is `target` or inside it.
fn is_under(file: &str, target: &str) -> bool {
    let target = target.trim_start_matches("./").trim_end_matches('/');
    target == "." || file == target || file.strip_prefix(target).is_some_and(|rest| rest.starts_with('/'))
}

/// Whether a pytest check can share a pytest run with others: its tests are named as files or
/// folders (the run's report is split by file) and it measures no coverage (which would count
/// the other checks' tests too).
pub fn can_share_a_run(c: &PytestCheck) -> bool {
    // The learner's own tests share their basenames (and `conftest.py`) with the lab's copies.
    !c.own
        && c.coverage.is_none()
        && (!c.tests.is_empty() || !c.hidden.is_empty())
        && !c.tests.iter().chain(&c.hidden).any(|t| t.contains("::"))
}

pub async fn pytest(ws: &Workspace, c: &PytestCheck) -> Result<(), Failure> {
    pytest_together(ws, &[c]).await.pop().expect("one result per check")
}

/// One pytest check's tests, as run and as shown to the learner.
struct Targets {
    run: Vec<String>,
    shown: String,
}

/// Runs several pytest checks in one pytest process — Python's imports are most of a short test
/// run, and paid once — and judges each on the test cases from its own files. Each check alone
/// would have reported the same: a test module that fails to import fails the checks that name
/// it, not the run. More than one check only when each [`can_share_a_run`].
pub async fn pytest_together(ws: &Workspace, checks: &[&PytestCheck]) -> Vec<Result<(), Failure>> {
    match run_pytest(ws, checks).await {
        Ok(results) => results,
        Err(failure) => checks.iter().map(|_| Err(failure.clone())).collect(),
    }
}

async fn run_pytest(ws: &Workspace, checks: &[&PytestCheck]) -> Result<Vec<Result<(), Failure>>, Failure> {
    let scratch = tempfile::tempdir().map_err(|e| Failure::new(format!("cannot make a scratch folder: {e}")))?;
    // The lab's tests run from copies inside the project, so they import it like its own tests.
    let copies_name = match checks.iter().all(|c| c.own && c.hidden.is_empty()) {
        true => None,
        false => Some(copy_lab_tests(ws)?),
    };
    let mut targets = Vec::new();
    for c in checks {
        let named: Vec<String> = c.tests.iter().map(|t| ws.render(t)).collect::<Result<_, _>>()?;
        let (mut run, mut shown) = match (&copies_name, c.own) {
            (Some(copies), false) => {
                let run = named.iter().map(|t| format!(".labforge/{copies}/shipped/{t}")).collect();
                (run, named.iter().map(|t| format!("{t} (the lab's copy)")).collect::<Vec<_>>())
            }
            _ => (named.clone(), named),
        };
        if let Some(copies) = &copies_name {
            run.extend(c.hidden.iter().map(|h| format!(".labforge/{copies}/hidden/{h}")));
            shown.extend(c.hidden.iter().map(|h| format!(".labforge/hidden-tests/{h}")));
        }
        let shown = if shown.is_empty() { "the project's tests".to_string() } else { shown.join(" ") };
        targets.push(Targets { run, shown });
    }
    // A missing file stops pytest before it runs anything: it fails its own check only.
    let shipped = copies_name.as_ref().map(|copies| format!(".labforge/{copies}/shipped/"));
    let mut verdicts: Vec<Option<Result<(), Failure>>> = targets
        .iter()
        .map(|t| {
            let missing = t.run.iter().find(|r| !ws.dir.join(r.split("::").next().unwrap_or(r)).exists())?;
            let actual = match shipped.as_deref().and_then(|prefix| missing.strip_prefix(prefix)) {
                Some(path) => format!("the lab ships no {path} (`tests` names the lab's own test files)"),
                None => format!("no file or folder {missing}"),
            };
            Some(Err(Failure::mismatch("pytest", format!("tests in {}", t.shown), actual)))
        })
        .collect();
    let mut union: Vec<&str> = Vec::new();
    for (t, verdict) in targets.iter().zip(&verdicts) {
        if verdict.is_none() {
            for r in &t.run {
                if !union.contains(&r.as_str()) {
                    union.push(r);
                }
            }
        }
    }
    if verdicts.iter().all(Option::is_some) {
        return Ok(verdicts.into_iter().flatten().collect());
    }

    let junit = scratch.path().join("junit.xml");
    let mut args: Vec<String> =
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "junit_family=xunit1"].map(String::from).into();
    args.push("--continue-on-collection-errors".into());
    if let Some(copies) = &copies_name
        && checks.iter().all(|c| !c.own)
    {
        // Only the lab's tests run: the lab's pytest settings, not the learner's (whose
        // `addopts` could deselect or skip), and no `conftest.py` from outside the copies (one
        // at the project's root could rewrite every outcome).
        let config = format!(".labforge/{copies}/shipped/pyproject.toml");
        if ws.lab_tests.contains_key("pyproject.toml") {
            args.extend(["-c".to_string(), config, "--rootdir=.".to_string()]);
        } else {
            args.extend(["-o".to_string(), "addopts=".to_string()]);
        }
        args.push(format!("--confcutdir=.labforge/{copies}"));
    }
    args.push(format!("--junitxml={}", junit.display()));
    let coverage_json = scratch.path().join("coverage.json");
    if checks.iter().any(|c| c.coverage.is_some()) {
        args.push(format!("--cov=src/{}", ws.package()));
        args.push(format!("--cov-report=json:{}", coverage_json.display()));
    }
    args.extend(union.iter().map(|t| t.to_string()));
    // Coverage data goes to the scratch folder too: in the project it would be a change that
    // `check --watch` reacts to, and concurrent pytest checks would write the same file.
    let coverage_data = scratch.path().join(".coverage");
    let (code, stdout, stderr) = run_in_venv(ws, "python", &args, &[("COVERAGE_FILE", &coverage_data)]).await?;
    let report = std::fs::read_to_string(&junit).unwrap_or_default();
    let mut all = cases(&report);
    if let Some(copies) = &copies_name {
        for case in &mut all {
            case.name = case
                .name
                .replace(&format!(".labforge/{copies}/shipped/"), "")
                .replace(&format!(".labforge/{copies}/hidden/"), ".labforge/hidden-tests/");
        }
    }
    let alone = checks.len() == 1;
    for ((c, t), verdict) in checks.iter().zip(&targets).zip(&mut verdicts) {
        if verdict.is_some() {
            continue;
        }
        let mine: Vec<&Case> =
            all.iter().filter(|case| alone || t.run.iter().any(|r| is_under(&case.file, r))).collect();
        *verdict = Some(if code == 5 || (!report.is_empty() && mine.is_empty()) {
            Err(Failure::mismatch("pytest", format!("tests in {}", t.shown), "no tests were collected"))
        } else if report.is_empty() || code == 4 || code == 3 {
            Err(Failure::new(format!(
                "pytest could not run {}: {}",
                t.shown,
                snippet(&format!("{stdout}{stderr}"), 240)
            )))
        } else {
            judge(c, &t.shown, &mine, &coverage_json)
        });
    }
    Ok(verdicts.into_iter().flatten().collect())
}

/// Copies the lab's tests to `.labforge/lab-tests-<digest of them>/`: `hidden/` holds its hidden
/// tests (rendered for this project), `shipped/` the project's tests as the lab ships them. The
/// copy is kept between runs, so Python's compiled test modules (pytest's rewritten asserts) are
/// reused; each run first makes it exactly the lab's again — a file edited or added there by hand
/// is replaced or removed — and removes copies of other versions of the lab's tests.
fn copy_lab_tests(ws: &Workspace) -> Result<String, Failure> {
    let copy_error = |e: std::io::Error| Failure::new(format!("cannot copy the lab's tests: {e}"));
    let hidden = ws.lab_files.under("tests").into_iter().map(|(rel, bytes)| {
        let text = ws.render(&String::from_utf8_lossy(&bytes))?;
        Ok((format!("hidden/{rel}"), text.into_bytes()))
    });
    let shipped = ws.lab_tests.iter().map(|(rel, bytes)| Ok((format!("shipped/{rel}"), bytes.clone())));
    let files: BTreeMap<String, Vec<u8>> = hidden.chain(shipped).collect::<Result<_, Failure>>()?;
    let mut digest = Sha256::new();
    for (rel, bytes) in &files {
        digest.update((rel.len() as u64).to_le_bytes());
        digest.update(rel);
        digest.update((bytes.len() as u64).to_le_bytes());
        digest.update(bytes);
    }
    let name = format!("lab-tests-{}", crate::base::hex(&digest.finalize()[..8]));
    let parent = ws.dir.join(".labforge");
    let dir = parent.join(&name);
    std::fs::create_dir_all(&dir).map_err(copy_error)?;
    for (rel, bytes) in &files {
        let dest = dir.join(rel);
        if std::fs::read(&dest).is_ok_and(|now| now == *bytes) {
            continue;
        }
        let folder = dest.parent().unwrap_or(&dir);
        std::fs::create_dir_all(folder).map_err(copy_error)?;
        // Whole or not at all: a pytest run beside this one may be reading it.
        let mut file = tempfile::NamedTempFile::new_in(folder).map_err(copy_error)?;
        file.write_all(bytes).map_err(copy_error)?;
        file.persist(&dest).map_err(|e| copy_error(e.error))?;
    }
    for entry in ignore::WalkBuilder::new(&dir).standard_filters(false).build().flatten() {
        let rel = entry.path().strip_prefix(&dir).unwrap_or(entry.path());
        let compiled = rel.components().any(|c| c.as_os_str() == "__pycache__");
        let ours = files.contains_key(&rel.to_string_lossy().replace('\\', "/"));
        if entry.file_type().is_some_and(|t| t.is_file()) && !compiled && !ours {
            std::fs::remove_file(entry.path()).map_err(copy_error)?;
        }
    }
    for entry in std::fs::read_dir(&parent).map_err(copy_error)?.flatten() {
        let other = entry.file_name().to_string_lossy().into_owned();
        if other.starts_with("lab-tests-") && other != name {
            // Best effort: a copy another run still uses goes with the next run after it.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(name)
}

/// A pytest check's verdict on its own test cases: at least one ran, none failed, not all were
/// skipped (`pytestmark = pytest.mark.skip` on the file a check names must not pass a step),
/// at least `min_passed` passed (skipped ones do not count), and the coverage is met.
fn judge(c: &PytestCheck, shown: &str, mine: &[&Case], coverage_json: &Path) -> Result<(), Failure> {
    if mine.is_empty() {
        return Err(Failure::mismatch(&format!("pytest {shown}"), "tests that run", "none ran"));
    }
    let failing: Vec<&Case> = mine.iter().copied().filter(|k| matches!(k.outcome, Outcome::Failed(_))).collect();
    if let Some(first) = failing.first() {
        let names = failing.iter().take(5).map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ");
        let said = match &first.outcome {
            Outcome::Failed(Some(m)) => format!("; the first says: {}", snippet(m, 240)),
            _ => String::new(),
        };
        return Err(Failure::mismatch(
            &format!("pytest {shown}"),
            "every test to pass",
            format!("{} of {} failed: {names}{said}", failing.len(), mine.len()),
        ));
    }
    let skipped: Vec<&Case> = mine.iter().copied().filter(|k| k.outcome == Outcome::Skipped).collect();
    // Skipped cases never count as passed (`min_passed` counts passes); a check none of whose
    // cases ran proves nothing.
    if skipped.len() == mine.len() {
        let names = skipped.iter().take(5).map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(Failure::mismatch(
            &format!("pytest {shown}"),
            "every test to run and pass (a skipped test proves nothing)",
            format!("{} of {} skipped: {names}", skipped.len(), mine.len()),
        ));
    }
    let passed = mine.iter().filter(|k| k.outcome == Outcome::Passed).count() as u32;
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
        let doc: serde_json::Value = std::fs::read_to_string(coverage_json)
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
    if !c.noqa {
        check.push("--ignore-noqa".into());
    }
    if !c.select.is_empty() {
        check.push(format!("--extend-select={}", c.select.join(",")));
    }
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
mod judge_tests {
    use super::*;

    /// A `command` check's verdict on both sides, each miss with its own reason.
    #[test]
    fn a_command_passes_on_its_exit_code_and_output_and_fails_for_each_miss() {
        let expect = |spec: serde_json::Value| -> CommandExpect { serde_json::from_value(spec).unwrap() };
        let all = expect(serde_json::json!({"exit": 0, "stdout_contains": "3.12", "stdout_regex": "^Python 3\\.\\d+"}));
        assert_eq!(judge_command("python -V", 0, "Python 3.12.1\n", "", &all), Ok(()));
        let cases = [
            (3, "", "boom", serde_json::json!({}), "`python -V`: expected exit code 0, got exit code 3: boom"),
            (0, "", "", serde_json::json!({"exit": 1}), "`python -V`: expected exit code 1, got exit code 0"),
            (
                0,
                "Python 3.11.2",
                "",
                serde_json::json!({"stdout_contains": "3.12"}),
                "`python -V`: expected output containing \"3.12\", got Python 3.11.2",
            ),
            (
                0,
                "3.12",
                "",
                serde_json::json!({"stdout_regex": "^Python"}),
                "`python -V`: expected output matching /^Python/, got 3.12",
            ),
        ];
        for (code, stdout, stderr, spec, reason) in cases {
            let said = judge_command("python -V", code, stdout, stderr, &expect(spec.clone())).unwrap_err().reason;
            assert_eq!(said, reason, "{spec}");
        }
    }

    fn case(name: &str, outcome: Outcome) -> Case {
        Case { file: "tests/test_items.py".into(), name: name.into(), outcome }
    }

    /// The pytest verdict on both sides, each failing case with its own reason.
    #[test]
    fn a_pytest_check_passes_only_on_tests_that_ran_and_passed() {
        let check = |min: Option<u32>| PytestCheck {
            tests: vec![],
            own: false,
            hidden: vec![],
            min_passed: min,
            coverage: None,
        };
        let nowhere = Path::new("/nonexistent/coverage.json");
        let judged = |min: Option<u32>, cases: Vec<Case>| {
            let mine: Vec<&Case> = cases.iter().collect();
            judge(&check(min), "tests/test_items.py", &mine, nowhere).map_err(|f| f.reason)
        };
        assert_eq!(judged(Some(2), vec![case("a", Outcome::Passed), case("b", Outcome::Passed)]), Ok(()));
        let cases = [
            (None, vec![], "pytest tests/test_items.py: expected tests that run, got none ran"),
            (
                None,
                vec![case("a", Outcome::Passed), case("b", Outcome::Failed(Some("assert 500 == 201".into())))],
                "pytest tests/test_items.py: expected every test to pass, got 1 of 2 failed: b; the first says: assert 500 == 201",
            ),
            (
                None,
                vec![case("a", Outcome::Skipped), case("b", Outcome::Skipped)],
                "pytest tests/test_items.py: expected every test to run and pass (a skipped test proves nothing), got 2 of 2 skipped: a, b",
            ),
            (
                Some(3),
                vec![case("a", Outcome::Passed), case("b", Outcome::Passed)],
                "pytest tests/test_items.py: expected at least 3 passing tests, got 2",
            ),
            (
                Some(2),
                vec![case("a", Outcome::Passed), case("b", Outcome::Skipped)],
                "pytest tests/test_items.py: expected at least 2 passing tests, got 1",
            ),
        ];
        for (min, cases, reason) in cases {
            assert_eq!(judged(min, cases), Err(reason.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_test_case_with_its_file_and_what_a_failure_said() {
        let xml = r#"<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4">
            <testcase classname="" name="tests.test_bad" file="tests/test_bad.py" time="0.000"><error message="collection failure">Traceback:
tests/test_bad.py:1: in &lt;module&gt;
    import nonexistent
E   ModuleNotFoundError: No module named 'nonexistent'</error></testcase>
            <testcase classname="tests.test_items" name="test_create" file="tests/test_items.py" time="0.1"><failure message="AssertionError: with &quot;the bug&quot; put back &lt;still&gt; passes&#10;assert 0 != 0">body</failure></testcase>
            <testcase classname="tests.test_items" name="test_skip" file="tests/test_items.py"><skipped message="later"/></testcase>
            <testcase classname=".labforge.hidden-tests-x1.test_h" name="test_ok" file=".labforge/hidden-tests-x1/test_h.py" time="0.1"/></testsuite></testsuites>"#;
        let all = cases(xml);
        let outcomes: Vec<(&str, &str, &Outcome)> =
            all.iter().map(|c| (c.file.as_str(), c.name.as_str(), &c.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                (
                    "tests/test_bad.py",
                    "tests/test_bad.py",
                    &Outcome::Failed(Some("ModuleNotFoundError: No module named 'nonexistent'".into()))
                ),
                (
                    "tests/test_items.py",
                    "test_create",
                    &Outcome::Failed(Some(
                        "AssertionError: with \"the bug\" put back <still> passes\nassert 0 != 0".into()
                    ))
                ),
                ("tests/test_items.py", "test_skip", &Outcome::Skipped),
                (".labforge/hidden-tests-x1/test_h.py", "test_ok", &Outcome::Passed),
            ]
        );
        let empty =
            cases(r#"<testsuite tests="1"><testcase name="t" file="a.py"><error message=""/></testcase></testsuite>"#);
        assert_eq!(empty[0].outcome, Outcome::Failed(None));
    }

    #[test]
    fn a_case_belongs_to_the_checks_that_name_its_file_or_a_folder_above_it() {
        assert!(is_under("tests/test_items.py", "tests/test_items.py"));
        assert!(is_under("tests/test_items.py", "tests"));
        assert!(is_under("tests/test_items.py", "./tests/"));
        assert!(is_under("tests/test_items.py", "."));
        assert!(!is_under("tests/test_items_more.py", "tests/test_items.py"));
        assert!(!is_under("tests2/test_a.py", "tests"));
        assert!(!is_under(".labforge/hidden-tests-x1/test_h.py", "tests"));
    }
}
