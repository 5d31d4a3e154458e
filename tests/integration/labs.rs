//! Labs and checks: the lab parser on malformed labs (every error located, exit 2, no panic, a
//! property test), every check kind on both sides against real projects and stacks, the stable
//! `check --json` shape, progress, hints, solve, reset, `check --watch`, and `lab selftest --all` over the catalog.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::labforge_bin;
use crate::support::stack::{MONGO_IMAGE, POSTGRES_IMAGE, PYTHON_IMAGE, ca_bundle, docker, exclusive, images, text};

/// A folder of labs written by a test.
struct Labs {
    dir: tempfile::TempDir,
}

impl Labs {
    fn new() -> Labs {
        Labs { dir: tempfile::tempdir().unwrap() }
    }

    /// Writes `labs/<id>/<rel>`.
    fn file(&self, id: &str, rel: &str, text: &str) -> &Labs {
        let path = self.dir.path().join(id).join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// A lab with one step `only` whose checks are `checks` (YAML list items, indented by 6).
    fn lab(&self, id: &str, template: &str, stack: bool, checks: &str) -> &Labs {
        self.file(
            id,
            "lab.yaml",
            &format!(
                "id: {id}\ntitle: Test lab {id}\nsummary: Checks under test.\ntopics: [testing]\ndifficulty: beginner\ntemplate: {template}\nstack: {stack}\nsteps:\n  - id: only\n    title: The only step\n    instructions: steps/only.md\n    hints: [first hint, second hint]\n    checks:\n{checks}"
            ),
        );
        self.file(id, "steps/only.md", "# Only\nDo the thing.\n");
        self.file(id, "solution/only/NOTES.md", "solved\n")
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// labforge with the test's labs, the stand-in images and the tools venv (uv) on PATH.
fn labforge(labs: &Path, cwd: &Path, args: &[&str]) -> Output {
    command(labs, cwd, args).output().expect("run labforge")
}

/// The command [`labforge`] runs, to change before running it.
fn command(labs: &Path, cwd: &Path, args: &[&str]) -> Command {
    let path = format!("{}:{}", crate::support::python::tools().display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new(labforge_bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("LABFORGE_LABS", labs)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("LABFORGE_IMAGE_POSTGRES", POSTGRES_IMAGE)
        .env("LABFORGE_IMAGE_MONGO", MONGO_IMAGE)
        .env("LABFORGE_IMAGE_PYTHON", PYTHON_IMAGE)
        .env("PIP_CERT", ca_bundle())
        .env_remove("LABFORGE_TEMPLATES")
        .env_remove("DOCKER_HOST");
    cmd
}

/// `PATH` without the folders that hold `uv` (the tools venv among them): a machine without uv.
fn path_without_uv() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path).filter(|dir| !dir.join("uv").exists()).collect();
    std::env::join_paths(kept).unwrap().to_string_lossy().into_owned()
}

/// The attempts recorded for the step `id` of the workspace in `dir`.
fn attempts(dir: &Path, id: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join(".labforge/progress.json")).unwrap();
    let progress: serde_json::Value = serde_json::from_str(&text).unwrap();
    progress["steps"][id]["attempts"].as_u64().unwrap_or(0)
}

/// The checks of `check --json`: name → (passed, reason).
fn check_results(out: &Output) -> Vec<(String, bool, String)> {
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("check --json ({e}):\n{}", text(out)));
    doc["steps"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["passed"].as_bool().unwrap(),
                c["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Every check named `pass: ...` passed and every `fail: ...` failed with a reason that names
/// what was expected and what came back.
fn assert_sides(results: &[(String, bool, String)], out: &Output) {
    assert!(!results.is_empty());
    for (name, passed, reason) in results {
        if name.starts_with("pass") {
            assert!(passed, "{name} should pass, failed: {reason}\n{}", text(out));
        } else {
            assert!(!passed, "{name} should fail\n{}", text(out));
            assert!(
                reason.contains("expected") && reason.contains("got"),
                "{name}: the reason names expected and actual: {reason}"
            );
        }
    }
}

#[test]
fn validate_reports_every_problem_with_its_location_and_exits_2() {
    let labs = Labs::new();
    labs.lab(
        "broken",
        "{framework: fastapi, db: none, auth: none}",
        false,
        "      - {name: a, kind: telepathy}\n      - {name: b, kind: file}\n      - {name: c, kind: file, path: x, regex: '[unclosed'}\n",
    );
    // A step that needs a step that does not exist.
    let text = std::fs::read_to_string(labs.path().join("broken/lab.yaml")).unwrap();
    std::fs::write(labs.path().join("broken/lab.yaml"), text.replace("    hints:", "    needs: [setup]\n    hints:"))
        .unwrap();
    // Instructions that do not render, and a starter file whose name renders outside the project.
    labs.file("broken", "steps/only.md", "# Only\ncurl {{ app.url }}/items {{ nope }}\n");
    labs.file("broken", "starter/x/{{ \"..\" }}/{{ \"..\" }}/9escaped.txt", "pwned\n");
    labs.lab("yaml", "{framework: fastapi}", false, "      - {name: a, kind: file, path: x}\n");
    std::fs::write(labs.path().join("yaml/lab.yaml"), "id: yaml\ntitle: [unclosed\n").unwrap();
    // Requests no HTTP client could send, and a status no server can answer (issue 12: passed).
    labs.lab(
        "requests",
        "{framework: fastapi, db: none, auth: none}",
        true,
        "      - {name: m, kind: http, requests: [{method: \"PO ST\\r\\nX: y\", path: /}]}\n      - {name: s, kind: http, requests: [{path: /, expect: {status: 9999}}]}\n",
    );
    // What `lab start` refuses, `lab validate` refuses: a starter_remove that leaves the project.
    labs.lab(
        "remover",
        "{framework: fastapi, db: none, auth: none}",
        false,
        "      - {name: a, kind: file, path: x}\n",
    );
    let text = std::fs::read_to_string(labs.path().join("remover/lab.yaml")).unwrap();
    std::fs::write(
        labs.path().join("remover/lab.yaml"),
        text.replace("stack: false", "stack: false\nstarter_remove: [\"../outside\"]"),
    )
    .unwrap();

    let out = labforge(labs.path(), labs.path(), &["lab", "validate", labs.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let broken = labs.path().join("broken/lab.yaml").display().to_string();
    for expected in [
        format!("{broken}:15:9: step `only`: check `a`: unknown check kind `telepathy` (kinds: file, command"),
        format!("{broken}:16:9: step `only`: check `b`: missing field `path`"),
        format!("{broken}:17:9: step `only`: check `c`: bad regex `[unclosed`"),
        format!("{broken}:12:13: step `only` needs `setup`, a step that does not come before it"),
        format!(
            "{broken}:11:19: instructions `steps/only.md` do not render: line 2, column 29: Variable `nope` is not defined"
        ),
        format!(
            "{}: its name renders to `x/../../9escaped.txt`: `.` and `..` are not allowed",
            labs.path().join("broken/starter/x/{{ \"..\" }}/{{ \"..\" }}/9escaped.txt").display()
        ),
        "step `only`: check `m`: `method: PO ST\\r\\nX: y` is no HTTP method (e.g. GET, POST, PATCH)".to_string(),
        "step `only`: check `s`: `status: 9999` is no HTTP status: use 100 to 599".to_string(),
        format!(
            "{}:8:18: starter_remove `../outside`: `.` and `..` are not allowed",
            labs.path().join("remover/lab.yaml").display()
        ),
    ] {
        assert!(stderr.contains(&expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(stderr.contains("yaml/lab.yaml:2:8:"), "broken YAML is located:\n{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn the_catalog_validates() {
    let out = Command::new(labforge_bin()).args(["lab", "validate"]).env_remove("LABFORGE_LABS").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for id in [
        "http-rest",
        "validation",
        "postgres-orm",
        "mongodb",
        "jwt-auth",
        "oauth2-scopes",
        "rate-limiting",
        "graphql",
        "testing-linting",
        "dockerize",
        "debugging",
    ] {
        assert!(stdout.contains(&format!("✓ {id}: ")), "the catalog lacks a valid `{id}`:\n{stdout}");
    }
}

/// A lab workspace started from `labs` in a scratch folder; its stack is removed on drop.
struct Started {
    _root: tempfile::TempDir,
    dir: PathBuf,
    labs: PathBuf,
}

impl Started {
    fn new(labs: &Labs, id: &str) -> Started {
        crate::support::stack::remove_project(&format!("lab-{id}"));
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(id);
        let started = Started { dir: dir.clone(), labs: labs.path().to_path_buf(), _root: root };
        let out = labforge(labs.path(), dir.parent().unwrap(), &["lab", "start", id, "--dir", dir.to_str().unwrap()]);
        assert!(out.status.success(), "lab start failed:\n{}", text(&out));
        started
    }

    fn run(&self, args: &[&str]) -> Output {
        labforge(&self.labs, &self.dir, args)
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.run(&["down", "--volumes"]);
    }
}

#[test]
fn file_command_pytest_and_lint_checks_pass_and_fail_for_the_right_reasons() {
    let labs = Labs::new();
    labs.lab(
        "local",
        "{framework: fastapi, db: none, auth: none}",
        false,
        r#"      - {name: "pass: file exists", kind: file, path: "src/{{ project.package }}/main.py", contains: create_app, regex: 'def create_app\('}
      - {name: "fail: file contains", kind: file, path: pyproject.toml, contains: "django=="}
      - {name: "fail: file absent", kind: file, path: pyproject.toml, absent: fastapi}
      - {name: "fail: file missing", kind: file, path: nowhere.txt}
      - {name: "pass: command", kind: command, run: [python, -c, "print('hello 3')"], expect: {stdout_regex: 'hello \d'}}
      - {name: "fail: command exit", kind: command, run: [python, -c, "import sys; sys.exit(3)"]}
      - {name: "pass: pytest", kind: pytest, tests: [tests/test_health.py], min_passed: 1}
      - {name: "fail: pytest coverage", kind: pytest, tests: [tests/test_health.py], coverage: {min: 99}}
      - {name: "fail: pytest failing", kind: pytest, hidden: [test_wrong.py]}
      - {name: "pass: pytest on a folder", kind: pytest, tests: [tests], min_passed: 1}
      - {name: "fail: pytest import error", kind: pytest, hidden: [test_broken_import.py]}
      - {name: "fail: pytest missing file", kind: pytest, tests: [tests/test_nowhere.py]}
      - {name: "fail: pytest skipped by the learner", kind: pytest, tests: [extra/test_skipped.py], own: true}
      - {name: "pass: lint", kind: lint, paths: [src]}
      - {name: "fail: lint", kind: lint, paths: [planted.py]}
"#,
    );
    labs.file("local", "tests/test_wrong.py", "def test_arithmetic():\n    assert 1 + 1 == 3\n");
    labs.file("local", "tests/test_broken_import.py", "import not_a_module\n\n\ndef test_never():\n    pass\n");
    labs.file("local", "starter/planted.py", "import os\nx=1\n");
    // What issue 11 found: a learner's test file disabled wholesale keeps a step green.
    labs.file(
        "local",
        "starter/extra/test_skipped.py",
        "import pytest\n\npytestmark = pytest.mark.skip\n\n\ndef test_items() -> None:\n    assert False\n",
    );
    let ws = Started::new(&labs, "local");
    // The learner disables a test file the lab ships, and adds a root conftest.py that turns
    // every failure into a pass: the checks run the lab's copy, under none of that ("pass:
    // pytest" runs the lab's test_health.py, "fail: pytest failing" still fails).
    std::fs::write(
        ws.dir.join("tests/test_health.py"),
        "import pytest\n\npytestmark = pytest.mark.skip\n\n\ndef test_health() -> None:\n    assert False\n",
    )
    .unwrap();
    std::fs::write(
        ws.dir.join("conftest.py"),
        "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    outcome = yield\n    if outcome.get_result().failed:\n        outcome.get_result().outcome = \"passed\"\n",
    )
    .unwrap();
    let out = ws.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let results = check_results(&out);
    assert_sides(&results, &out);
    let reason = |name: &str| results.iter().find(|r| r.0 == name).unwrap().2.clone();
    assert!(
        reason("fail: pytest failing").contains("test_arithmetic")
            && reason("fail: pytest failing").contains("the first says: assert (1 + 1) == 3"),
        "names the failing test and what it said: {}",
        reason("fail: pytest failing")
    );
    assert!(reason("fail: pytest coverage").contains("expected at least 99%"), "{}", reason("fail: pytest coverage"));
    // The pytest checks share one pytest run; each is judged on its own files: a test module that
    // cannot be imported or a missing file fails only the check that names it.
    assert!(
        reason("fail: pytest import error").contains("No module named 'not_a_module'"),
        "says why the module did not import: {}",
        reason("fail: pytest import error")
    );
    assert!(
        reason("fail: pytest skipped by the learner").contains("got 1 of 1 skipped: test_items"),
        "{}",
        reason("fail: pytest skipped by the learner")
    );
    assert!(
        reason("fail: pytest missing file").contains("got the lab ships no tests/test_nowhere.py"),
        "{}",
        reason("fail: pytest missing file")
    );
    assert!(reason("fail: lint").contains("F401"), "names the rule: {}", reason("fail: lint"));
    assert!(reason("fail: command exit").contains("exit code 3"), "{}", reason("fail: command exit"));
    assert!(!ws.dir.join(".coverage").exists(), "coverage data stays out of the learner's project");
    let leftovers: Vec<_> = std::fs::read_dir(ws.dir.join(".labforge"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("lab-tests"))
        .collect();
    assert_eq!(leftovers.len(), 1, "one copy of the lab's tests, kept for the next run: {leftovers:?}");

    // The kept copy is the lab's again on every run: a learner who skips the copied test and
    // plants a conftest.py beside it changes nothing.
    let copy = ws.dir.join(".labforge").join(&leftovers[0]);
    std::fs::write(copy.join("hidden/test_wrong.py"), "import pytest\n\npytestmark = pytest.mark.skip\n").unwrap();
    std::fs::write(copy.join("conftest.py"), std::fs::read(ws.dir.join("conftest.py")).unwrap()).unwrap();
    let again = check_results(&ws.run(&["check", "--json"]));
    let failing = again.iter().find(|r| r.0 == "fail: pytest failing").unwrap();
    assert!(!failing.1 && failing.2.contains("the first says: assert (1 + 1) == 3"), "{failing:?}");
    assert!(!copy.join("conftest.py").exists(), "the planted conftest.py is removed");

    // The JSON document's shape is stable (durations redacted, and the coverage measured, which
    // moves with every change to the template's code).
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut shape = doc.clone();
    for c in shape["steps"][0]["checks"].as_array_mut().unwrap() {
        c["duration_ms"] = serde_json::json!("[ms]");
        if c["name"] == "fail: pytest coverage" {
            let measured = c["actual"].as_str().unwrap().to_string();
            assert!(measured.ends_with('%') && measured.trim_end_matches('%').parse::<f64>().is_ok(), "{measured}");
            c["reason"] = serde_json::json!(c["reason"].as_str().unwrap().replace(&measured, "[coverage]"));
            c["actual"] = serde_json::json!("[coverage]");
        }
    }
    let shape = serde_json::to_string_pretty(&shape).unwrap().replace(&ws.dir.display().to_string(), "[dir]");
    insta::assert_snapshot!("check-json", shape);

    // Progress: an attempt recorded per check run (two), not passed; hints come one at a time.
    let progress: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.dir.join(".labforge/progress.json")).unwrap()).unwrap();
    assert_eq!(progress["steps"]["only"]["attempts"], 2);
    assert_eq!(progress["steps"]["only"]["passed"], false);
    assert!(String::from_utf8_lossy(&ws.run(&["lab", "hint"]).stdout).contains("Hint 1/2"));
    assert!(String::from_utf8_lossy(&ws.run(&["lab", "hint"]).stdout).contains("Hint 2/2"));
    let after_the_last = ws.run(&["lab", "hint"]);
    let said = String::from_utf8_lossy(&after_the_last.stdout);
    assert!(after_the_last.status.success(), "{}", text(&after_the_last));
    assert!(said.contains("No more hints for step 1") && !said.contains("Hint 2/2"), "{said}");
    let show = String::from_utf8_lossy(&ws.run(&["lab", "show"]).stdout).into_owned();
    assert!(show.contains("Step 1/1 · The only step") && show.contains("Do the thing."), "{show}");
}

#[test]
fn list_solve_and_reset_follow_the_learner() {
    let labs = Labs::new();
    labs.lab(
        "journey",
        "{framework: fastapi, db: none, auth: none}",
        false,
        "      - {name: notes say done, kind: file, path: notes.txt, contains: DONE}\n",
    );
    labs.file("journey", "starter/notes.txt", "TODO\n");
    labs.file("journey", "solution/only/notes.txt", "DONE\n");
    let ws = Started::new(&labs, "journey");
    let notes = || std::fs::read_to_string(ws.dir.join("notes.txt")).unwrap();
    let list = |ws: &Started| String::from_utf8_lossy(&ws.run(&["lab", "list"]).stdout).into_owned();
    assert_eq!(notes(), "TODO\n", "the starter overlay is laid over the project");
    assert!(list(&ws).contains("journey") && list(&ws).contains("0/1 steps"), "{}", list(&ws));
    assert_eq!(ws.run(&["check"]).status.code(), Some(1));

    // The learner's own version is not overwritten without --force.
    std::fs::write(ws.dir.join("notes.txt"), "my attempt\n").unwrap();
    let refused = ws.run(&["lab", "solve"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("notes.txt") && said.contains("--force") && said.lines().count() == 1, "{said}");
    assert_eq!(notes(), "my attempt\n");
    let solved = ws.run(&["lab", "solve", "--force"]);
    assert!(solved.status.success(), "{}", text(&solved));
    assert_eq!(notes(), "DONE\n");
    assert_eq!(ws.run(&["check"]).status.code(), Some(0));
    assert!(list(&ws).contains("1/1 steps"), "{}", list(&ws));

    // reset: progress back to the start, files only with --force.
    assert!(ws.run(&["lab", "reset"]).status.success());
    assert!(list(&ws).contains("0/1 steps"), "{}", list(&ws));
    assert_eq!(notes(), "DONE\n", "reset without --force keeps the learner's files");
    assert!(ws.run(&["lab", "reset", "--force"]).status.success());
    assert_eq!(notes(), "TODO\n", "reset --force restores the starter");

    // A file as the starter wrote it is not the learner's work: solve replaces it without --force.
    let solved = ws.run(&["lab", "solve"]);
    assert!(solved.status.success(), "{}", text(&solved));
    assert_eq!(notes(), "DONE\n");
}

#[test]
fn check_watch_runs_again_when_a_file_changes() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let labs = Labs::new();
    labs.lab(
        "watched",
        "{framework: fastapi, db: none, auth: none}",
        false,
        "      - {name: greeting, kind: file, path: hello.txt, contains: hello}\n",
    );
    let ws = Started::new(&labs, "watched");
    let mut child = Command::new(labforge_bin())
        .args(["check", "--watch"])
        .current_dir(&ws.dir)
        .env("LABFORGE_LABS", labs.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // One run's output, up to the line that says it watches; a deadline on every line.
    let next_run = || {
        let mut run = Vec::new();
        loop {
            let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}; so far: {run:?}"));
            if line.contains("watching for changes") {
                return run.join("\n");
            }
            run.push(line);
        }
    };
    let first = next_run();
    assert!(first.contains("✗ greeting") && first.contains("hello.txt"), "{first}");
    std::fs::write(ws.dir.join("hello.txt"), "hello, world\n").unwrap();
    let second = next_run();
    assert!(second.contains("✓ greeting") && second.contains("step 1 passed"), "{second}");
    rustix::process::kill_process(rustix::process::Pid::from_child(&child), rustix::process::Signal::INT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "Ctrl-C ends the watch");
}

#[test]
fn http_postgres_container_and_command_checks_against_a_running_stack() {
    let _docker = exclusive();
    images();
    let labs = Labs::new();
    labs.lab(
        "stack-sql",
        "{framework: fastapi, db: postgres, auth: jwt}",
        true,
        r#"      - {name: "pass: health", kind: http, requests: [{path: /health, expect: {status: 200, json: {$.status: ok}}}]}
      - {name: "fail: status", kind: http, requests: [{path: /health, expect: {status: 201}}]}
      - name: "pass: login and me"
        kind: http
        login:
          register: {path: /auth/register, json: {email: learner@example.com, password: s3cret-Passw0rd}}
          token: {path: /auth/token, form: {username: learner@example.com, password: s3cret-Passw0rd}}
        requests:
          - {path: /auth/me, expect: {status: 200, json: {$.email: learner@example.com}, json_absent: [$.password_hash, $.hashed_password]}}
      - {name: "pass: expired token refused", kind: http, requests: [{path: /auth/me, jwt: {claims: {sub: "1"}, expires_in: -60}, expect: {status: 401}}]}
      - {name: "fail: expired token accepted", kind: http, requests: [{path: /auth/me, jwt: {claims: {sub: "1"}, expires_in: -60}, expect: {status: 200}}]}
      - {name: "pass: sql", kind: postgres, sql: "SELECT 1 + 1", expect: {rows: [[2]]}}
      - {name: "fail: sql rows", kind: postgres, sql: "SELECT 'kettle'", expect: {rows: [[teapot]]}}
      - {name: "pass: container", kind: container, service: app, expect: {running: true, non_root: true, healthcheck: true}}
      - {name: "fail: image size", kind: container, service: app, expect: {max_image_mb: 1}}
      - {name: "pass: healthy once its healthcheck decides", kind: container, service: app, expect: {healthy: true}}
      - {name: "pass: command in app", kind: command, in: app, run: [python, -c, "import os; print(os.getuid())"], expect: {stdout_contains: "10001"}}
      - {name: "pass: answers after a restart", kind: http, requests: [{path: /ready, restart: app, expect: {status: 200}}]}
      - {name: "fail: restart of a missing service", kind: http, requests: [{path: /ready, restart: nosuch, expect: {status: 200}}]}
"#,
    );
    let ws = Started::new(&labs, "stack-sql");
    let started_at = || {
        let out = Command::new("docker")
            .args(["inspect", "--format", "{{.State.StartedAt}}", "lab-stack-sql-app"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let before = started_at();
    let out = ws.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_sides(&check_results(&out), &out);
    assert_ne!(started_at(), before, "the app's container was restarted");
}

#[test]
fn mongo_graphql_and_ratelimit_checks_against_a_running_stack() {
    let _docker = exclusive();
    images();
    let labs = Labs::new();
    labs.lab(
        "stack-nosql",
        "{framework: fastapi, db: mongo, auth: none, extras: [graphql, ratelimit]}",
        true,
        r#"      - {name: "pass: create", kind: http, requests: [{method: POST, path: /items, json: {name: kettle}, expect: {status: 201}, save: {id: $.id}}, {path: "/items/{id}", expect: {status: 200, json: {$.name: kettle}}}]}
      - {name: "pass: mongo documents", kind: mongo, collection: items, filter: {name: kettle}, expect: {count: 1, documents: [{name: kettle}]}}
      - {name: "fail: mongo count", kind: mongo, collection: items, expect: {count: 5}}
      - {name: "pass: index keys", kind: mongo, collection: items, expect: {index_keys: [[created_at, 1]]}}
      - {name: "fail: index keys", kind: mongo, collection: items, expect: {index_keys: [[price, -1]]}}
      - {name: "pass: graphql", kind: graphql, query: "{ items { name } }", expect: {data: {'$.items[0].name': kettle}}}
      - {name: "fail: graphql", kind: graphql, query: "{ items { name } }", expect: {data: {'$.items[0].name': teapot}}}
      - {name: "fail: ratelimit", kind: ratelimit, request: {path: /items}, requests: 3}
      - {name: "pass: ratelimit", kind: ratelimit, request: {path: /items}, requests: 70}
"#,
    );
    let ws = Started::new(&labs, "stack-nosql");
    let out = ws.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_sides(&check_results(&out), &out);
}

#[test]
fn the_whole_catalog_passes_its_selftest() {
    let _docker = exclusive();
    images();
    let tools = crate::support::python::tools();
    let out = Command::new(labforge_bin())
        .args(["lab", "selftest", "--all", "--json"])
        .env_remove("LABFORGE_LABS")
        // No cluster: the `k8s` checks are listed as not run (a cluster is the emulator's test).
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("PATH", format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default()))
        .env("LABFORGE_IMAGE_POSTGRES", POSTGRES_IMAGE)
        .env("LABFORGE_IMAGE_MONGO", MONGO_IMAGE)
        .env("LABFORGE_IMAGE_PYTHON", PYTHON_IMAGE)
        .env("PIP_CERT", ca_bundle())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("selftest --json ({e}):\n{}", text(&out)));
    // What each step proved, for `.ci/run` to print: checks seen failing, mistakes caught, other
    // solutions passed.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let table = stderr.rfind("checks failable").and_then(|at| stderr[..at].rfind('\n')).map(|at| &stderr[at + 1..]);
    let table = table.expect("selftest prints its table");
    assert!(table.lines().count() > 40, "a row per step of the catalog:\n{table}");
    std::fs::write(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("selftest-table.txt"), table).unwrap();
    let mut failures = Vec::new();
    for lab in doc["labs"].as_array().unwrap() {
        eprintln!("{}: {:.1} s", lab["lab"], lab["seconds"].as_f64().unwrap_or(0.0));
        if lab["passed"] != true {
            failures.push(format!("{}: {}", lab["lab"], lab["problems"]));
        }
    }
    assert!(doc["labs"].as_array().unwrap().len() >= 13, "the whole catalog is tested");
    let lab = |id: &str| doc["labs"].as_array().unwrap().iter().find(|l| l["lab"] == id).unwrap().clone();
    assert!(lab("kubernetes")["not_run"].as_str().unwrap().contains("no kubeconfig found"), "{:#}", lab("kubernetes"));
    assert!(lab("ci-cd")["not_run"].as_str().unwrap().contains("no --github-repo"), "{:#}", lab("ci-cd"));
    assert_eq!(lab("ci-cd")["skipped"].as_array().unwrap().len(), 2);
    // The mistakes issue 11 found are caught, each for its reason.
    crate::support::assert_proven(
        &lab("rate-limiting"),
        &[
            ("retry-after-soon", "Retry-After: soon"),
            ("retry-after-negative", "Retry-After: -1"),
            ("one-bucket-for-everyone", "one client's limit blocks every client"),
            // The learner's tests are skipped; the lab's copy of them is not.
            ("ready-limited-and-its-tests-skipped", "tests/test_ratelimit.py (the lab's copy)"),
        ],
        &["retry-after-as-http-date"],
    );
    crate::support::assert_proven(
        &lab("jwt-auth"),
        &[
            ("token-still-signed-for-30-days", "signed for 2592000 s"),
            ("any-password-signs-in", "expected status 401"),
            ("signature-not-verified", "expected status 401"),
            ("leeway-and-its-tests-skipped", "tests/test_auth.py (the lab's copy)"),
        ],
        &[],
    );
    crate::support::assert_proven(
        &lab("postgres-orm"),
        &[
            ("escapes-quotes-by-hand", "S608"),
            ("blacklist-and-its-tests-skipped", "S608"),
            ("negative-price-on-patch", "expected status 422"),
            ("downgrade-does-nothing", "test_migrations.py"),
        ],
        &[],
    );
    crate::support::assert_proven(
        &lab("validation"),
        &[("cost-and-description-unconstrained", "expected status 422")],
        &["gt-minus-one"],
    );
    crate::support::assert_proven(
        &lab("http-rest"),
        &[("location-always-the-first-item", "GET /items/1")],
        &["relative-location"],
    );
    let remote = ["kubernetes", "ci-cd"];
    assert!(
        doc["labs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| remote.contains(&l["lab"].as_str().unwrap()) || l["skipped"] == serde_json::json!([])),
        "only the labs that need a cluster or GitHub leave checks out"
    );
    assert!(failures.is_empty() && out.status.success(), "{}", failures.join("\n"));
}

#[test]
fn lab_start_makes_the_venv_from_any_folder_with_or_without_uv_and_repairs_a_half_made_one() {
    use std::os::unix::process::CommandExt;
    use std::time::Duration;

    let labs = Labs::new();
    labs.lab(
        "venv",
        "{framework: fastapi, db: none, auth: none}",
        false,
        "      - {name: the project's tests pass, kind: pytest, tests: [tests/test_health.py], min_passed: 2}\n",
    );
    let root = tempfile::tempdir().unwrap();
    let no_uv = path_without_uv();

    // Without uv, from the parent folder (the lab's folder named relatively), interrupted while
    // pip installs: the whole process group is killed, as a closed terminal would.
    let mut child = command(labs.path(), root.path(), &["lab", "start", "venv"])
        .env("PATH", &no_uv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let venv = root.path().join("venv/.venv");
    crate::support::stack::eventually(Duration::from_secs(120), "the venv is created", || {
        venv.join("bin/python").exists().then_some(())
    });
    let group = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process_group(group, rustix::process::Signal::KILL).unwrap();
    child.wait().unwrap();
    assert!(!venv.join(".labforge-complete").exists(), "the install was interrupted before it completed");

    // Starting it again resumes the lab and makes the venv again, with pip.
    // Python may not write bytecode here, as in many containers and CI machines: the install
    // compiles the libraries once, or every check would compile them again.
    let again = command(labs.path(), root.path(), &["lab", "start", "venv"])
        .env("PATH", &no_uv)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again));
    assert!(compiled(&venv, "fastapi"), "pip left the libraries uncompiled");
    let said = text(&again);
    assert!(said.contains("Resuming") && said.contains("Repairing"), "{said}");
    assert!(venv.join(".labforge-complete").exists());
    let check = labforge(labs.path(), &root.path().join("venv"), &["check"]);
    assert_eq!(check.status.code(), Some(0), "the repaired venv runs the project's tests:\n{}", text(&check));

    // With uv, into a folder named relatively with --dir.
    let nested = command(labs.path(), root.path(), &["lab", "start", "venv", "--dir", "nested/copy"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(nested.status.success(), "{}", text(&nested));
    assert!(compiled(&root.path().join("nested/copy/.venv"), "fastapi"), "uv left the libraries uncompiled");
    assert!(root.path().join("nested/copy/.venv/.labforge-complete").exists());
    let check = labforge(labs.path(), &root.path().join("nested/copy"), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
}

#[test]
fn a_second_lab_with_the_same_dependencies_builds_no_image_and_downloads_nothing() {
    let _docker = exclusive();
    images();
    // Two labs of one template with the same answers: their projects differ (names, packages,
    // secrets) but install the same dependencies.
    let labs = Labs::new();
    for id in ["share-a", "share-b"] {
        let check = "      - {name: the app answers, kind: http, requests: [{path: /health, expect: {status: 200}}]}\n      - {name: the project's tests pass, kind: pytest, tests: [tests/test_health.py], min_passed: 2}\n";
        labs.lab(id, "{framework: fastapi, db: none, auth: none}", true, check);
        crate::support::stack::remove_project(&format!("lab-{id}"));
    }
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("labforge-cache");
    let start = |id: &str, offline: bool| {
        let mut cmd = command(labs.path(), root.path(), &["lab", "start", id]);
        // pip's path (no uv), with a cache of the test's own.
        cmd.env("PATH", path_without_uv()).env("LABFORGE_CACHE_DIR", &cache).env_remove("PIP_FIND_LINKS");
        if offline {
            // Every way to the package index leads nowhere: only a network-free install succeeds.
            for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
                cmd.env(var, "http://127.0.0.1:9");
            }
            cmd.env("PIP_INDEX_URL", "http://127.0.0.1:9/simple");
        }
        let out = cmd.output().unwrap();
        let said = text(&out);
        assert!(out.status.success(), "lab start {id}:\n{said}");
        said
    };
    let first = start("share-a", false);
    assert!(first.contains("fetched into the shared cache"), "an empty cache is filled:\n{first}");
    assert!(cache.join("wheels").read_dir().unwrap().count() > 10, "the wheelhouse holds the wheels");

    let second = start("share-b", true);
    assert!(!second.contains("Building"), "the second lab builds no image:\n{second}");
    assert!(second.contains("Found labforge/dev:"), "{second}");
    assert!(second.contains("from the shared cache, no download"), "{second}");
    let image = |container: &str| docker(&["inspect", "--format", "{{.Image}}", container]).trim().to_string();
    let shared = image("lab-share-a-app");
    assert_eq!(image("lab-share-b-app"), shared, "both labs run one development image");
    let inspect = |format: &str| docker(&["image", "inspect", "--format", format, &shared]).trim().to_string();
    let hash = inspect("{{index .Config.Labels \"io.labforge.dev-hash\"}}");
    let tags = inspect("{{join .RepoTags \" \"}}");
    assert!(
        tags.split(' ').any(|t| t == format!("labforge/dev:{hash}")),
        "tagged by its labelled hash: {tags} / {hash}"
    );
    // The second lab's venv works, from the cache alone.
    let check = labforge(labs.path(), &root.path().join("share-b"), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    for id in ["share-a", "share-b"] {
        let _ = labforge(labs.path(), &root.path().join(id), &["down", "--volumes"]);
    }
}

/// Whether `venv` holds compiled bytecode of the library `package`.
fn compiled(venv: &Path, package: &str) -> bool {
    let lib = std::fs::read_dir(venv.join("lib")).unwrap().next().unwrap().unwrap().path();
    let cache = lib.join("site-packages").join(package).join("__pycache__");
    std::fs::read_dir(cache)
        .is_ok_and(|mut files| files.any(|f| f.unwrap().file_name().to_string_lossy().ends_with(".pyc")))
}

#[test]
fn overlays_whose_names_render_outside_the_project_are_refused_and_write_nothing() {
    let escaping = "x/{{ \"..\" }}/{{ \"..\" }}/9escaped.txt";
    let refusal = "its name renders to `x/../../9escaped.txt`: `.` and `..` are not allowed";
    let nowhere = |root: &Path| {
        for dir in [root, root.parent().unwrap()] {
            assert!(!dir.join("9escaped.txt").exists(), "a file escaped into {}", dir.display());
        }
    };

    // lab start: the starter is refused before anything is written.
    let labs = Labs::new();
    labs.lab("escape", "{framework: fastapi, db: none, auth: none}", false, "      - {name: a, kind: file, path: x}\n");
    labs.file("escape", &format!("starter/{escaping}"), "pwned\n");
    let root = tempfile::tempdir().unwrap();
    let out = labforge(labs.path(), root.path(), &["lab", "start", "escape"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(refusal) && stderr.lines().count() == 1, "{stderr}");
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0, "nothing is written");
    nowhere(root.path());

    // lab solve: a solution that escapes is refused, the learner's project left as it was.
    let labs = Labs::new();
    labs.lab("solved", "{framework: fastapi, db: none, auth: none}", false, "      - {name: a, kind: file, path: x}\n");
    let ws = Started::new(&labs, "solved");
    let before = crate::support::files_under(&ws.dir);
    labs.file("solved", &format!("solution/only/{escaping}"), "pwned\n");
    let out = ws.run(&["lab", "solve", "--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(refusal) && stderr.lines().count() == 1, "{stderr}");
    assert_eq!(crate::support::files_under(&ws.dir), before);
    nowhere(&ws.dir);
    nowhere(ws.dir.parent().unwrap());
}

#[test]
fn checks_wait_for_the_reload_show_the_real_address_and_need_the_stack_running() {
    use std::time::{Duration, Instant};

    let _docker = exclusive();
    images();
    let labs = Labs::new();
    labs.lab(
        "reload",
        "{framework: fastapi, db: none, auth: none}",
        true,
        "      - {name: health says solved, kind: http, requests: [{path: /health, expect: {status: 200, json: {$.status: solved}}}]}\n",
    );
    labs.file("reload", "steps/only.md", "# Only\nTry `curl -s {{ app.url }}/health`.\n");
    // The port labforge.yaml asks for is taken: the app gets another, and every text says which.
    let _taken = std::net::TcpListener::bind("127.0.0.1:8000");
    crate::support::stack::remove_project("lab-reload");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("reload");
    let started = labforge(labs.path(), root.path(), &["lab", "start", "reload", "--dir", "reload"]);
    let ws = Started { dir: dir.clone(), labs: labs.path().to_path_buf(), _root: root };
    assert!(started.status.success(), "{}", text(&started));
    let status: serde_json::Value = serde_json::from_slice(&ws.run(&["status", "--json"]).stdout).unwrap();
    let port = status["services"][0]["ports"][0]["host"].as_u64().unwrap();
    assert_ne!(port, 8000);
    let url = format!("http://127.0.0.1:{port}");
    let said = text(&started);
    assert!(said.contains(&format!("port 8000 is in use: `app` is published on 127.0.0.1:{port} instead")), "{said}");
    assert!(said.contains(&format!("Try `curl -s {url}/health`")), "lab start shows the real address:\n{said}");
    assert!(!said.contains("--strict-ports"), "{said}");
    let show = String::from_utf8_lossy(&ws.run(&["lab", "show"]).stdout).into_owned();
    assert!(show.contains(&format!("Try `curl -s {url}/health`")), "{show}");

    let check = |expect: i32| {
        let started = Instant::now();
        let out = ws.run(&["check", "--json"]);
        assert_eq!(out.status.code(), Some(expect), "{}", text(&out));
        (check_results(&out), started.elapsed())
    };
    check(1);
    assert_eq!(attempts(&dir, "only"), 1);

    // The solution replaces the health route; the check right after `lab solve` must see it,
    // not the code the reloading server still runs for a moment.
    let health = "src/lab_reload/api/health.py";
    let original = std::fs::read_to_string(dir.join(health)).unwrap();
    let solved = original.replace(
        "It never touches the database.\"\"\"\n    return {\"status\": \"ok\"}",
        "It never touches the database.\"\"\"\n    return {\"status\": \"solved\"}",
    );
    assert_ne!(solved, original);
    labs.file("reload", "solution/only/src/{{ project.package }}/api/health.py", &solved);
    let solve = ws.run(&["lab", "solve"]);
    assert!(solve.status.success(), "{}", text(&solve));
    check(0);

    // An edit that breaks the app fails the check with the crash, without waiting the deadline out.
    std::fs::write(dir.join(health), format!("{solved}\ndef broken(:\n")).unwrap();
    let (results, took) = check(1);
    let reason = &results[0].2;
    assert!(reason.contains("crashed while reloading") && reason.contains("SyntaxError"), "{reason}");
    assert!(reason.contains("Python syntax error"), "the diagnosis says what to do: {reason}");
    // The reason above is the crash, never the deadline's; on a loaded machine the reloader itself
    // may need seconds to notice the edit, so the time only has to stay clear of the 30 s deadline.
    assert!(took < Duration::from_secs(28), "a crash is reported before the 30 s deadline: {took:?}");

    // Mended, it passes again; a change the server does not watch is not waited for.
    std::fs::write(dir.join(health), &solved).unwrap();
    check(0);
    std::fs::write(dir.join("tests/test_more.py"), "def test_more() -> None:\n    assert True\n").unwrap();
    let (_, took) = check(0);
    assert!(took < Duration::from_secs(20), "nothing reloads for tests/: {took:?}");

    // A stopped stack is a setup problem: exit 2, one line, and no attempt counted.
    let before = attempts(&dir, "only");
    crate::support::stack::docker(&["stop", "--time", "1", "lab-reload-app"]);
    let stopped = ws.run(&["check"]);
    assert_eq!(stopped.status.code(), Some(2), "{}", text(&stopped));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(
        stderr.trim(),
        "error: the lab's stack is not running (`app` is exited): start it with `labforge up`",
        "{}",
        text(&stopped)
    );
    assert_eq!(attempts(&dir, "only"), before);
}

#[test]
fn two_copies_of_one_lab_are_up_at_once_each_checked_and_torn_down_alone() {
    let _docker = exclusive();
    images();
    let labs = Labs::new();
    // Each run of the check adds one item through the app and counts the items in PostgreSQL: a
    // check that reached the other copy's stack would count two.
    labs.lab(
        "twins",
        "{framework: fastapi, db: postgres, auth: none}",
        true,
        r#"      - {name: "create", kind: http, requests: [{method: POST, path: /items, json: {name: kettle, quantity: 1}, expect: {status: 201}}]}
      - {name: "count", kind: postgres, sql: "SELECT count(*) FROM items", expect: {rows: [["1"]]}}
"#,
    );
    let first = Started::new(&labs, "twins");
    // A second copy beside the first (no clean-up of the project's objects: they are the first's).
    let root = tempfile::tempdir().unwrap();
    let second = Started { dir: root.path().join("twins"), labs: labs.path().to_path_buf(), _root: root };
    let out = labforge(labs.path(), second.dir.parent().unwrap(), &["lab", "start", "twins", "--dir", "twins"]);
    assert!(out.status.success(), "the second lab start failed:\n{}", text(&out));

    for copy in [&first, &second] {
        let out = copy.run(&["check", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(check_results(&out).iter().all(|(_, passed, _)| *passed), "{}", text(&out));
    }

    let down = second.run(&["down", "--volumes"]);
    assert!(down.status.success(), "{}", text(&down));
    let status = first.run(&["status"]);
    assert!(status.status.success(), "the first copy still runs:\n{}", text(&status));
    let out = first.run(&["check", "--json"]);
    let results = check_results(&out);
    assert!(
        results.iter().any(|(name, passed, why)| name == "count" && !passed && why.contains("got [2]")),
        "the first copy's own data, untouched by the second's down: {}",
        text(&out)
    );
}

/// `k8s` checks against an emulated cluster (tests/k8s/emulator.py): objects applied there as
/// another client would, the emulator's controllers rolling them out.
#[test]
fn k8s_checks_pass_and_fail_for_the_right_reasons() {
    use crate::support::k8s::Emulator;
    let emulator = Emulator::start_with("healthy", &["--rollout-delay-ms", "0"]);
    let container = |probes: bool, resources: bool| {
        let mut c =
            serde_json::json!({"name": "app", "image": "shop:1", "ports": [{"name": "http", "containerPort": 8000}]});
        if probes {
            c["readinessProbe"] = serde_json::json!({"httpGet": {"path": "/ready", "port": "http"}});
            c["livenessProbe"] = serde_json::json!({"httpGet": {"path": "/health", "port": "http"}});
        }
        if resources {
            c["resources"] = serde_json::json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}});
        }
        c
    };
    let rolling = serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}});
    let recreate = serde_json::json!({"type": "Recreate"});
    for (name, replicas, probes, strategy) in
        [("good", 3, true, &rolling), ("bare", 1, false, &rolling), ("abrupt", 1, true, &recreate)]
    {
        let deployment = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "strategy": strategy,
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container(probes, probes)]}}
            }
        });
        emulator.post("/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl", &deployment);
        let service = serde_json::json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]}
        });
        emulator.post("/api/v1/namespaces/default/services?fieldManager=kubectl", &service);
    }
    let nobody = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nobody"}, "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}});
    emulator.post("/api/v1/namespaces/default/services?fieldManager=kubectl", &nobody);
    let labs = Labs::new();
    labs.lab(
        "cluster",
        "{framework: fastapi, db: none, auth: none}",
        false,
        r#"      - {name: "pass: available", kind: k8s, object: Deployment/good, expect: {available: 3}}
      - {name: "fail: available", kind: k8s, object: Deployment/good, expect: {available: 5}}
      - {name: "pass: probes and resources", kind: k8s, object: Deployment/good, expect: {probes: true, resources: true}}
      - {name: "fail: probes", kind: k8s, object: Deployment/bare, expect: {probes: true}}
      - {name: "fail: resources", kind: k8s, object: Deployment/bare, expect: {resources: true}}
      - {name: "pass: fields", kind: k8s, object: Deployment/good, expect: {fields: {"$.spec.strategy.rollingUpdate.maxUnavailable": 0, "$.spec.template.spec.containers[0].readinessProbe.httpGet.path": /ready}}}
      - {name: "fail: fields", kind: k8s, object: Deployment/bare, expect: {fields: {"$.spec.replicas": 3}}}
      - {name: "pass: endpoints", kind: k8s, object: Service/good, expect: {endpoints: true}}
      - {name: "fail: endpoints", kind: k8s, object: Service/nobody, expect: {endpoints: true}}
      - {name: "pass: absent", kind: k8s, object: "ConfigMap/{{ project.dns }}-nothing", expect: {exists: false}}
      - {name: "fail: missing", kind: k8s, object: Deployment/elsewhere, namespace: other}
      - {name: "pass: manifest", kind: manifest, object: "Deployment/{{ project.dns }}", expect: {probes: true, resources: true, fields: {"$.spec.replicas": 1, "$.spec.strategy.rollingUpdate.maxUnavailable": 0}}}
      - {name: "fail: manifest fields", kind: manifest, object: "Deployment/{{ project.dns }}", expect: {fields: {"$.spec.replicas": 3}}}
      - {name: "fail: manifest missing", kind: manifest, object: Deployment/nothing}
      - {name: "pass: manifest absent", kind: manifest, object: StatefulSet/postgres, expect: {exists: false}}
      - {name: "pass: rollout", kind: k8s, object: Deployment/good, timeout: 60s, expect: {rollout_without_errors: {service: good, path: /ready}}}
      - {name: "fail: rollout", kind: k8s, object: Deployment/abrupt, timeout: 60s, expect: {rollout_without_errors: {service: abrupt, port: 80, path: /ready}}}
"#,
    );
    let ws = Started::new(&labs, "cluster");
    // From here on a rollout takes a second: long enough for requests to meet the gap Recreate leaves.
    emulator.set_scenario_with_delay("healthy", 1000);
    let out =
        command(labs.path(), &ws.dir, &["check", "--json"]).env("KUBECONFIG", emulator.kubeconfig()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let results = check_results(&out);
    assert_eq!(results.len(), 17, "{results:?}");
    assert_sides(&results, &out);
    let reason = |name: &str| results.iter().find(|r| r.0 == name).unwrap().2.clone();
    assert!(
        reason("fail: probes").contains("none on app (readinessProbe, livenessProbe)"),
        "{}",
        reason("fail: probes")
    );
    assert!(
        reason("fail: available").contains("expected 5 available replicas, got 3"),
        "{}",
        reason("fail: available")
    );
    assert!(reason("fail: endpoints").contains("got 0 ready endpoints"), "{}", reason("fail: endpoints"));
    let rollout = reason("fail: rollout");
    assert!(
        rollout.contains("GET /ready through Service/abrupt while every pod of Deployment/abrupt")
            && rollout.contains("expected no failed request, got ")
            && rollout.contains("the first 503 no endpoints available for service"),
        "{rollout}"
    );
    // Both restarts happened: each Deployment's pod template carries the annotation.
    for name in ["good", "abrupt"] {
        let live = emulator.get(&format!("/apis/apps/v1/namespaces/default/deployments/{name}")).unwrap();
        assert!(
            live["spec"]["template"]["metadata"]["annotations"]["io.labforge.restarted-at"].is_string(),
            "{live:#}"
        );
    }
    let fields = reason("fail: manifest fields");
    assert!(fields.contains("(k8s/deployment.yaml:1) at $.spec.replicas: expected 3, got 1"), "{fields}");

    // No cluster to ask: the checks fail, saying why.
    let out =
        command(labs.path(), &ws.dir, &["check", "--json"]).env("KUBECONFIG", ws.dir.join("none")).output().unwrap();
    let results = check_results(&out);
    let live: Vec<_> = results.iter().filter(|r| !r.0.contains("manifest")).collect();
    assert!(live.iter().all(|r| !r.1 && r.2.contains("no kubeconfig found")), "{results:?}");
    let offline: Vec<_> = results.iter().filter(|r| r.0.starts_with("pass: manifest")).collect();
    assert!(offline.len() == 2 && offline.iter().all(|r| r.1), "manifest checks need no cluster: {results:?}");
}

/// The `kubernetes` lab's mistakes (`wrong/` overlays) each fail their step for their own reason,
/// and its other correct solutions (`alternative/`) pass, as `lab selftest` proves them. No
/// cluster is needed: the manifest checks catch every one.
#[test]
fn the_kubernetes_lab_refuses_plausible_mistakes_and_accepts_other_correct_manifests() {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(labforge_bin())
        .args(["lab", "selftest", "kubernetes", "--json"])
        .current_dir(scratch.path())
        .env_remove("LABFORGE_LABS")
        .env("KUBECONFIG", scratch.path().join("none"))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let lab = &doc["labs"][0];
    assert!(out.status.success() && lab["passed"] == true, "{lab:#}");
    crate::support::assert_proven(
        lab,
        &[
            ("liveness-asks-the-database", "app's livenessProbe asks /ready, not /health"),
            ("probe-on-a-closed-port", "app's readinessProbe asks port 80, which the container does not expose"),
            ("request-above-limit", "app's requests.memory 1Gi is more than its limit 512Mi"),
            ("limits-only", "app lacks requests.cpu, requests.memory"),
            (
                "url-in-the-configmap",
                "app gets DATABASE_URL from ConfigMap selftest-kubernetes-config, not from a Secret",
            ),
            (
                "credential-in-the-manifest",
                "app gets DATABASE_URL from a value written in the manifest, not from a Secret",
            ),
            ("configmap-not-listed", "configmap.yaml"),
            ("two-replicas", "at $.spec.replicas: expected 3, got 2"),
            ("one-pod-may-stop", "maxUnavailable lets 1 of 3 pods stop before their replacements are ready"),
            (
                "prestop-longer-than-the-grace-period",
                "app's preStop wait of 45s does not end before terminationGracePeriodSeconds (30s)",
            ),
            ("recreate", "strategy Recreate stops every old pod before a new one is ready"),
        ],
        &["numbered-port", "other-units", "one-variable-at-a-time", "exec-sleep-and-the-default-strategy"],
    );
}

/// `labforge check --cluster`: the `http`, `postgres`, `container` and `command` checks run
/// against the project as `labforge deploy` runs it, through the Kubernetes runtime — a local
/// port-forward per service and pod exec. The emulated cluster's pods are stood in for by the
/// same project's real containers (the emulator forwards to them and execs in them), so every
/// request and query crosses kube-rs's port-forward and exec as it would on a cluster.
#[test]
fn the_same_checks_run_against_the_deployment_on_a_cluster() {
    use crate::support::k8s::Emulator;
    let _docker = exclusive();
    images();
    let registry = crate::support::stack::Registry::start();
    let emulator = Emulator::start_with("healthy", &["--rollout-delay-ms", "100"]);
    let labs = Labs::new();
    labs.lab(
        "ondeploy",
        "{framework: fastapi, db: postgres, auth: none}",
        true,
        r#"      - {name: "pass: health", kind: http, requests: [{path: /health, expect: {status: 200, json: {$.status: ok}}}]}
      - {name: "pass: create", kind: http, requests: [{method: POST, path: /items, json: {name: k8s-crate}, expect: {status: 201}}]}
      - {name: "pass: the row is in PostgreSQL", kind: postgres, sql: "SELECT name FROM items WHERE name = 'k8s-crate'", expect: {rows: [[k8s-crate]]}}
      - {name: "pass: command in app", kind: command, in: app, run: [python, -c, "import os; print(os.getuid())"], expect: {stdout_contains: "10001"}}
      - {name: "fail: exit code", kind: command, in: app, run: [python, -c, "raise SystemExit(3)"]}
      - {name: "pass: container", kind: container, service: app, expect: {running: true, non_root: true}}
      - {name: "pass: answers after a restart", kind: http, requests: [{path: /ready, restart: app, expect: {status: 200}}]}
"#,
    );
    let ws = Started::new(&labs, "ondeploy");
    let on_cluster =
        |args: &[&str]| command(labs.path(), &ws.dir, args).env("KUBECONFIG", emulator.kubeconfig()).output().unwrap();
    let prefix = format!("{}/labforge", registry.address);
    let deployed = on_cluster(&["deploy", "--registry", &prefix]);
    assert!(deployed.status.success(), "{}\n{}", text(&deployed), emulator.log());
    // The stack's containers stand in for the pods.
    let status: serde_json::Value = serde_json::from_slice(&ws.run(&["status", "--json"]).stdout).unwrap();
    let host_port = |service: &str| {
        let s = status["services"].as_array().unwrap().iter().find(|s| s["service"] == service).unwrap();
        s["ports"][0]["host"].as_u64().unwrap()
    };
    emulator.post(
        "/_emulator/backends",
        &serde_json::json!({"8000": format!("127.0.0.1:{}", host_port("app")), "5432": format!("127.0.0.1:{}", host_port("postgres"))}),
    );
    emulator.post("/_emulator/exec", &serde_json::json!({"prefix": ["docker", "exec", "lab-ondeploy-app"]}));
    emulator.clear_requests();

    let out = on_cluster(&["check", "--cluster", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", text(&out), emulator.log());
    let results = check_results(&out);
    assert_sides(&results, &out);
    let reason = results.iter().find(|r| r.0 == "fail: exit code").unwrap().2.clone();
    assert!(reason.contains("expected exit code 0, got exit code 3"), "{reason}");
    let paths: Vec<String> = emulator.requests().iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    let forwarded = |pod: &str| -> Vec<&String> {
        paths.iter().filter(|p| p.contains(&format!("/pods/{pod}")) && p.contains("/portforward?")).collect()
    };
    assert!(forwarded("lab-ondeploy-postgres-0").iter().all(|p| p.contains("ports=5432")), "{paths:?}");
    assert_eq!(forwarded("lab-ondeploy-postgres-0").len(), 1, "{paths:?}");
    assert!(paths.iter().any(|p| p.contains("/exec?") && p.contains("command=python")), "{paths:?}");
    // The restart replaced the Deployment's pods: the request after it went to a new one.
    let app_pods: Vec<&str> = paths
        .iter()
        .filter(|p| p.contains("/portforward?") && p.contains("ports=8000"))
        .map(|p| p.split("/pods/").nth(1).unwrap().split('/').next().unwrap())
        .collect();
    assert!(app_pods.len() >= 3, "{paths:?}");
    assert_ne!(app_pods.first(), app_pods.last(), "{paths:?}");

    // Not deployed: a setup problem, as a stopped stack is.
    let undeployed = on_cluster(&["undeploy"]);
    assert!(undeployed.status.success(), "{}", text(&undeployed));
    let out = on_cluster(&["check", "--cluster"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("deploy it with `labforge deploy`") && stderr.trim().lines().count() == 1, "{stderr}");
}

/// `wrong/` and `alternative/` overlays: `lab validate` requires each to be described and to
/// exist; `lab selftest` fails a lab whose mistake no check catches, or whose other correct
/// solution a check refuses, and names them.
#[test]
fn selftest_proves_each_mistake_caught_and_each_other_solution_accepted() {
    let labs = Labs::new();
    let lab = |wrong: &str, alternatives: &str| {
        labs.file(
            "overlays",
            "lab.yaml",
            &format!(
                "id: overlays\ntitle: Overlays\nsummary: Mistakes and alternatives.\ntopics: [testing]\ndifficulty: beginner\ntemplate: {{framework: fastapi, db: none, auth: none}}\nstack: false\nsteps:\n  - id: only\n    title: Only\n    instructions: steps/only.md\n    checks:\n      - {{name: says hello, kind: file, path: GREETING.txt, regex: '^(hello|hi)\\b'}}\n    wrong:\n{wrong}    alternatives:\n{alternatives}"
            ),
        );
    };
    labs.file("overlays", "steps/only.md", "# Only\n");
    labs.file("overlays", "starter/GREETING.txt", "bye\n");
    labs.file("overlays", "solution/only/GREETING.txt", "hello there\n");
    labs.file("overlays", "wrong/only/shouts/GREETING.txt", "HELLO\n");
    labs.file("overlays", "wrong/only/silent/GREETING.txt", "hello-ish\n");
    labs.file("overlays", "alternative/only/informal/GREETING.txt", "hi there\n");
    labs.file("overlays", "alternative/only/polite/GREETING.txt", "good morning\n");
    let selftest = || labforge(labs.path(), labs.path(), &["lab", "selftest", "overlays", "--json"]);

    // Undescribed and missing overlays are refused with their place.
    lab("      shouts: upper case\n", "      informal: hi\n      missing: nowhere\n");
    let out =
        labforge(labs.path(), labs.path(), &["lab", "validate", &labs.path().join("overlays").display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("wrong/only/silent: not described in lab.yaml"), "{said}");
    assert!(said.contains("alternative/only/polite: not described in lab.yaml"), "{said}");
    assert!(
        said.contains(
            "alternative `missing` has no overlay: add alternative/only/missing.patch or alternative/only/missing/"
        ),
        "{said}"
    );

    // `silent` ("hello-ish") passes the check: a mistake nobody catches; `polite` is refused.
    lab(
        "      shouts: upper case\n      silent: a greeting with a suffix\n",
        "      informal: hi\n      polite: good morning\n",
    );
    let out = selftest();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems: Vec<&str> =
        doc["labs"][0]["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(
        problems.iter().any(|p| p.contains("the mistake `silent` (a greeting with a suffix) passes every check")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("the other correct solution `polite` (good morning) fails `says hello`")),
        "{problems:?}"
    );
    let proven = doc["labs"][0]["proven"].as_array().unwrap();
    assert!(proven.iter().any(|p| p["overlay"] == "shouts" && p["by"][0] == "says hello"), "{proven:?}");
    assert!(proven.iter().any(|p| p["overlay"] == "informal" && p["kind"] == "alternative"), "{proven:?}");

    // A patch that no longer fits the solved project is refused by `lab validate` already, as
    // `lab selftest` would refuse it (no Docker, no venv needed to find out).
    std::fs::remove_dir_all(labs.path().join("overlays/wrong/only/shouts")).unwrap();
    labs.file(
        "overlays",
        "wrong/only/shouts.patch",
        "--- a/GREETING.txt\n+++ b/GREETING.txt\n@@ -1 +1 @@\n-hello over there\n+HELLO\n",
    );
    let out =
        labforge(labs.path(), labs.path(), &["lab", "validate", &labs.path().join("overlays").display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("wrong/only/shouts.patch: GREETING.txt: error applying hunk #1"), "{}", text(&out));
}
