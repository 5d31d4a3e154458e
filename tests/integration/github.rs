//! `labforge ci setup` and `ci lint` against a fake GitHub API (wiremock with an in-memory
//! repository store, `support/github.rs`): GitHub cannot be reached from the test machines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::github::{FakeGitHub, TOKEN};
use crate::support::labforge_bin;
use crate::support::stack::text;

/// A freshly generated FastAPI + PostgreSQL project whose workflow needs the secret
/// `POSTGRES_PASSWORD` (from .env).
struct Project {
    _root: tempfile::TempDir,
    dir: PathBuf,
}

impl Project {
    fn new() -> Project {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("shop");
        let out = Command::new(labforge_bin())
            .args(["new", "shop", "--yes", "--dir"])
            .arg(&dir)
            .env_remove("LABFORGE_TEMPLATES")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let spec = dir.join("labforge.yaml");
        let mut yaml = std::fs::read_to_string(&spec).unwrap();
        yaml.push_str("ci:\n  secrets: [POSTGRES_PASSWORD]\n");
        std::fs::write(&spec, yaml).unwrap();
        // What a learner's folder holds besides the project: none of it may reach GitHub.
        std::fs::create_dir_all(dir.join(".venv/bin")).unwrap();
        std::fs::write(dir.join(".venv/bin/python"), "#!").unwrap();
        Project { _root: root, dir }
    }

    fn env(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join(".env")).unwrap();
        text.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap().trim_matches('"').to_string()
    }
}

/// `labforge ARGS` in the project against the fake, with the canary token, tracing at its most
/// verbose and no actionlint (the structural lint; `ci lint` is tested with both).
fn ci(project: &Project, github: &FakeGitHub, token: &str, args: &[&str]) -> Output {
    Command::new(labforge_bin())
        .args(["ci"])
        .args(args)
        .args(["--api-url", &github.uri()])
        .current_dir(&project.dir)
        .env("GH_TOKEN", token)
        .env_remove("GITHUB_TOKEN")
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .env("NO_COLOR", "1")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

fn no_token_in(out: &Output) {
    assert!(!text(out).contains(TOKEN) && !text(out).contains(&TOKEN[4..20]), "the token leaked:\n{}", text(out));
}

#[test]
fn setup_creates_pushes_one_commit_seals_secrets_and_a_second_run_changes_nothing() {
    let project = Project::new();
    let github = FakeGitHub::start("learner", "repo, workflow");
    let key = project.dir.join("deploy.key");
    std::fs::write(&key, "-----BEGIN KEY-----\nabc\n-----END KEY-----\n").unwrap();
    let key_flag = format!("DEPLOY_KEY=@{}", key.display());

    let out = ci(
        &project,
        &github,
        TOKEN,
        &["setup", "--repo", "learner/shop", "--create", "--private", "--secret", &key_flag, "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    no_token_in(&out);
    let report = json(&out);
    assert_eq!(report["created"], true);
    assert_eq!(report["push"]["committed"], true);
    // The branch holds the project as `git add -A` would take it, without its secrets.
    let files = github.files("learner/shop", "main");
    for wanted in [
        "labforge.yaml",
        "Dockerfile",
        ".github/workflows/ci.yml",
        "k8s/deployment.yaml",
        ".gitignore",
        "pyproject.toml",
    ] {
        assert!(files.contains_key(wanted), "{wanted} pushed: {:?}", files.keys());
    }
    for never in [".env", "k8s/secret.yaml", ".venv/bin/python", "deploy.key"] {
        assert!(!files.contains_key(never), "{never} must not be pushed");
    }
    assert_eq!(files["labforge.yaml"], std::fs::read(project.dir.join("labforge.yaml")).unwrap());
    assert_eq!(github.commits("learner/shop"), 2, "the empty repository's first commit, then all files in one");
    // Each secret arrived sealed for the repository's key, and opens to its value.
    assert_eq!(
        github.secret("learner/shop", "POSTGRES_PASSWORD").as_deref(),
        Some(project.env("POSTGRES_PASSWORD").as_str())
    );
    assert_eq!(
        github.secret("learner/shop", "DEPLOY_KEY").as_deref(),
        Some("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
    );
    let first = github.requests();
    let pushes = first.iter().filter(|r| r.starts_with("POST ") && r.contains("/git/")).count();
    assert_eq!(pushes, 2, "one tree and one commit, not a request per file: {first:#?}");
    assert!(github.authorizations().iter().all(|a| a == &format!("Bearer {TOKEN}")), "the token goes to the API only");

    // Nothing changed: nothing written.
    github.reset_requests();
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop", "--secret", &key_flag, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let again = json(&out);
    assert_eq!(again["push"]["committed"], false);
    assert!(again["secrets"].as_array().unwrap().iter().all(|s| s["change"] == "unchanged"), "{again:#}");
    let writes: Vec<String> = github.requests().into_iter().filter(|r| !r.starts_with("GET ")).collect();
    assert_eq!(writes, Vec::<String>::new(), "a second run writes nothing");
    assert_eq!(github.commits("learner/shop"), 2);

    // One file and one secret changed: one commit with that file, one secret sent.
    std::fs::write(project.dir.join("README.md"), "# Shop\n\nNow on GitHub.\n").unwrap();
    std::fs::write(&key, "rotated\n").unwrap();
    github.reset_requests();
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop", "--secret", &key_flag]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("~ README.md"), "{}", text(&out));
    let writes: Vec<String> = github.requests().into_iter().filter(|r| !r.starts_with("GET ")).collect();
    assert_eq!(
        writes,
        [
            "POST /repos/learner/shop/git/trees",
            "POST /repos/learner/shop/git/commits",
            "PATCH /repos/learner/shop/git/refs/heads/main",
            "PUT /repos/learner/shop/actions/secrets/DEPLOY_KEY"
        ]
    );
    assert_eq!(github.secret("learner/shop", "DEPLOY_KEY").as_deref(), Some("rotated\n"));
    // The record of what was sent holds no value, and only the owner may read it.
    let record = std::fs::read_to_string(project.dir.join(".labforge/ci.json")).unwrap();
    assert!(!record.contains("rotated") && !record.contains(&project.env("POSTGRES_PASSWORD")), "{record}");
    use std::os::unix::fs::PermissionsExt;
    for file in [".labforge/ci.json", ".labforge/ci.key"] {
        let mode = std::fs::metadata(project.dir.join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{file} is private");
    }
}

#[test]
fn refusals_and_bad_input_are_one_line_exit_2_and_write_nothing() {
    let project = Project::new();
    let github = FakeGitHub::start("learner", "repo, workflow");
    // Progress lines may come first; the error is one line, the last.
    let one_line = |out: &Output, says: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", text(out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert_eq!(stderr.trim().lines().last(), Some(errors[0]), "{stderr}");
        assert!(errors[0].contains(says), "{says:?} in {stderr}");
        no_token_in(out);
    };
    one_line(&ci(&project, &github, TOKEN, &["setup", "--repo", "learner"]), "--repo learner: expected OWNER/NAME");
    one_line(
        &ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop", "--secret", "X=hunter2"]),
        "shell's history",
    );
    one_line(
        &ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop"]),
        "does not exist (or the token cannot see it): pass --create",
    );
    one_line(
        &ci(&project, &github, "ghp_wrongToken", &["setup", "--repo", "learner/shop"]),
        "GitHub refused the token from GH_TOKEN (Bad credentials)",
    );
    let no_token = Command::new(labforge_bin())
        .args(["ci", "setup", "--repo", "learner/shop", "--api-url", &github.uri()])
        .current_dir(&project.dir)
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    one_line(&no_token, "no GitHub token: set GH_TOKEN");
    github.add_repo("learner/taken");
    github.script("POST", "/user/repos", ResponseTemplate::new(422).set_body_json(serde_json::json!({"message": "Repository creation failed.", "errors": [{"message": "name already exists on this account"}]})));
    one_line(
        &ci(&project, &github, TOKEN, &["setup", "--repo", "learner/other", "--create"]),
        "GitHub refused the request (Repository creation failed.: name already exists on this account)",
    );
    // A missing secret value is found before any request.
    let spec = project.dir.join("labforge.yaml");
    let yaml = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("secrets: [POSTGRES_PASSWORD]", "secrets: [POSTGRES_PASSWORD, NOT_IN_ENV]");
    std::fs::write(&spec, yaml).unwrap();
    github.reset_requests();
    one_line(&ci(&project, &github, TOKEN, &["setup", "--repo", "learner/taken"]), "ci.secrets names NOT_IN_ENV");
    assert_eq!(github.requests(), Vec::<String>::new());
    assert!(github.files_if_any("learner/taken").is_none(), "nothing pushed");
}

#[test]
fn a_token_without_the_workflow_scope_is_told_which_scope_before_anything_is_pushed() {
    let project = Project::new();
    let github = FakeGitHub::start("learner", "repo");
    github.add_repo("learner/shop");
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("needs the token's `workflow` scope, which the token from GH_TOKEN lacks: `gh auth refresh --scopes workflow`"), "{}", text(&out));
    assert!(github.requests().iter().all(|r| !r.starts_with("POST")), "{:?}", github.requests());

    // GitHub's own word on a missing scope, or a fine-grained token's missing permission.
    let github = FakeGitHub::start("learner", "repo, workflow");
    github.add_repo("learner/shop");
    github.script(
        "GET",
        "/repos/learner/shop/actions/secrets/public-key",
        ResponseTemplate::new(403)
            .insert_header("x-accepted-oauth-scopes", "admin:repo_hook")
            .set_body_json(serde_json::json!({"message": "Must have admin rights to Repository."})),
    );
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("the token from GH_TOKEN lacks the `admin:repo_hook` scope (Must have admin rights to Repository.); `gh auth refresh --scopes admin:repo_hook` adds it"), "{}", text(&out));
    github.script(
        "POST",
        "/repos/learner/shop/git/trees",
        ResponseTemplate::new(403)
            .set_body_json(serde_json::json!({"message": "Resource not accessible by personal access token"})),
    );
    std::fs::write(project.dir.join("README.md"), "changed\n").unwrap();
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("make the tree: the fine-grained token from GH_TOKEN lacks a permission this needs"),
        "{}",
        text(&out)
    );
}

#[test]
fn rate_limits_are_waited_out_with_what_and_until_when() {
    let project = Project::new();
    let github = FakeGitHub::start("learner", "repo, workflow");
    github.add_repo("learner/shop");
    let reset = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1).to_string();
    github.script(
        "GET",
        "/repos/learner/shop",
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.as_str())
            .set_body_json(serde_json::json!({"message": "API rate limit exceeded for user ID 1."})),
    );
    github.script(
        "PUT",
        "/repos/learner/shop/actions/secrets/",
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(serde_json::json!({"message": "You have exceeded a secondary rate limit."})),
    );
    let started = std::time::Instant::now();
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Waiting for GitHub's rate limit (read the repository) until "), "{said}");
    assert!(
        said.contains("Waiting for GitHub's secondary rate limit (set the secret POSTGRES_PASSWORD) until "),
        "{said}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "it waited");
    assert_eq!(
        github.secret("learner/shop", "POSTGRES_PASSWORD").as_deref(),
        Some(project.env("POSTGRES_PASSWORD").as_str())
    );
}

/// `ci lint`: actionlint's verdict when it is on PATH (the tools venv has it), labforge's
/// structural one otherwise; both locate each problem.
#[test]
fn lint_locates_problems_with_actionlint_or_without_it() {
    let project = Project::new();
    let lint = |path: &str| {
        Command::new(labforge_bin())
            .args(["ci", "lint"])
            .current_dir(&project.dir)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let with = format!("{}:/usr/bin:/bin", crate::support::python::tools().display());
    for path in [with.as_str(), "/usr/bin:/bin"] {
        let out = lint(path);
        assert!(out.status.success(), "the generated workflow is clean ({path}):\n{}", text(&out));
    }
    let workflow = project.dir.join(".github/workflows/ci.yml");
    let good = std::fs::read_to_string(&workflow).unwrap();
    std::fs::write(&workflow, good.replace("    needs: [lint, test]\n", "    needs: [lint, tests]\n")).unwrap();
    let by_actionlint = lint(&with);
    assert_eq!(by_actionlint.status.code(), Some(1), "{}", text(&by_actionlint));
    assert!(
        text(&by_actionlint).contains(".github/workflows/ci.yml:") && text(&by_actionlint).contains("tests"),
        "{}",
        text(&by_actionlint)
    );
    assert!(text(&by_actionlint).contains("(actionlint)"), "{}", text(&by_actionlint));
    let by_labforge = lint("/usr/bin:/bin");
    assert_eq!(by_labforge.status.code(), Some(1), "{}", text(&by_labforge));
    assert!(
        text(&by_labforge).contains("job `image` needs `tests`, which is not a job of this workflow"),
        "{}",
        text(&by_labforge)
    );
    let line = good.lines().position(|l| l.contains("needs: [lint, test]")).unwrap() + 1;
    assert!(text(&by_labforge).contains(&format!(".github/workflows/ci.yml:{line}:")), "{}", text(&by_labforge));
    // `ci setup` lints first and pushes nothing while the workflow is broken.
    let github = FakeGitHub::start("learner", "repo, workflow");
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop", "--create"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(github.requests(), Vec::<String>::new(), "nothing is sent");
    let _ = Path::new("");
}

/// The measure BENCHMARKS.md quotes (`cargo test --test integration github::requests -- --nocapture`):
/// `ci setup`'s requests do not grow with the project's files.
#[test]
fn requests_stay_constant_whatever_the_number_of_files() {
    let mut counts = Vec::new();
    for extra in [0, 60] {
        let project = Project::new();
        for i in 0..extra {
            std::fs::write(project.dir.join(format!("src/extra_{i}.py")), format!("VALUE = {i}\n")).unwrap();
        }
        let files = crate::support::files_under(&project.dir).len();
        let github = FakeGitHub::start("learner", "repo, workflow");
        let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop", "--create"]);
        assert!(out.status.success(), "{}", text(&out));
        let first = github.requests().len();
        github.reset_requests();
        let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop"]);
        assert!(out.status.success(), "{}", text(&out));
        let again = github.requests().len();
        eprintln!("ci setup of {files} files in the folder: {first} requests; again, unchanged: {again} requests");
        counts.push((first, again));
    }
    assert_eq!(counts[0], counts[1], "the same number of requests for 60 more files");
}

/// A project pushed to `learner/shop` on a fresh fake, ready for runs.
fn pushed() -> (Project, FakeGitHub) {
    let project = Project::new();
    let github = FakeGitHub::start("learner", "repo, workflow");
    let out = ci(&project, &github, TOKEN, &["setup", "--repo", "learner/shop", "--create"]);
    assert!(out.status.success(), "{}", text(&out));
    (project, github)
}

/// `ci run --watch`: the run the dispatch started is found by branch, actor and time — not an
/// older run of the same workflow, nor another actor's that started at the same moment — and
/// followed to its verdict.
#[test]
fn run_finds_its_own_run_and_watches_it_to_success() {
    use std::time::{Duration, SystemTime};
    let (project, github) = pushed();
    let older = github.add_old_run("learner/shop", "learner", Duration::from_secs(120), "failure");
    github.plan_run("success", Duration::from_secs(4), false, Some("someone-else"));
    let out = ci(&project, &github, TOKEN, &["run", "--watch"]);
    let finished = SystemTime::now();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    no_token_in(&out);
    let runs = github.runs("learner/shop");
    let ours = runs.iter().find(|r| r.actor == "learner" && r.id != older).unwrap();
    assert!(runs.iter().any(|r| r.actor == "someone-else"), "the decoy exists");
    let said = text(&out);
    assert!(said.contains(&format!("✓ CI #{} (workflow_dispatch on main) succeeded", ours.id)), "{said}");
    assert!(said.contains("✓ test › Test") && said.contains("✓ lint (success)"), "{said}");
    assert_eq!(
        said.matches("│ test › Install").count(),
        1,
        "what the run is doing is said once, not at every look: {said}"
    );
    let noticed = finished.duration_since(ours.completes_at()).unwrap_or_default();
    eprintln!("verdict {:.1} s after the run completed (watch interval 3 s)", noticed.as_secs_f64());
    assert!(noticed < Duration::from_secs(5), "noticed {noticed:?} after completion");
    // The dispatch was asked for the run's details, and the lookup was narrowed to this actor.
    let requests = github.requests();
    assert!(requests.iter().any(|r| r.starts_with("GET /repos/learner/shop/actions/workflows/ci.yml/runs?event=workflow_dispatch&branch=main&actor=learner&created=")), "{requests:#?}");
}

#[test]
fn a_failed_run_exits_1_with_the_failing_step_and_its_log_tail() {
    use std::time::Duration;
    let (project, github) = pushed();
    github.plan_run("failure", Duration::from_secs(1), true, None);
    let out = ci(&project, &github, TOKEN, &["run", "--watch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    let run = github.runs("learner/shop").last().unwrap().id;
    assert!(
        said.contains(&format!("✗ CI #{run} (workflow_dispatch on main) failed in job test, step Test:")),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "FAILED tests/test_items.py::test_create_item - assert 500 == 201 (job {})",
            run * 10 + 2
        )),
        "{said}"
    );
    assert!(!said.contains("Successfully installed shop"), "only the failing step's lines: {said}");
    assert!(!said.contains("2026-11-30T10:00"), "without the runner's timestamps: {said}");

    // The same run through `ci status` (the commit `ci setup` pushed) and `ci logs`.
    let out = ci(&project, &github, TOKEN, &["status"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("✗ CI #{run} (workflow_dispatch on main)")) && text(&out).contains("failure"),
        "{}",
        text(&out)
    );
    let out = ci(&project, &github, TOKEN, &["logs", &run.to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("── test") && text(&out).contains("assert 500 == 201"), "{}", text(&out));
    assert!(!text(&out).contains("── lint"), "only the failed job: {}", text(&out));
}

#[test]
fn a_workflow_that_cannot_be_dispatched_is_explained() {
    let (project, github) = pushed();
    let out = ci(&project, &github, TOKEN, &["run", "--workflow", "deploy.yml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("start deploy.yml on main: not found"), "{}", text(&out));
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(labforge_bin())
        .args(["ci", "status", "--api-url", &github.uri()])
        .current_dir(elsewhere.path())
        .env("GH_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("which repository? pass --repo OWNER/NAME"), "{}", text(&out));
}

/// `labforge ARGS` in `dir` with the catalog's labs, against the fake.
fn labforge_at(dir: &Path, github: &FakeGitHub, args: &[&str]) -> Output {
    Command::new(labforge_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("LABFORGE_LABS")
        .env("LABFORGE_GITHUB_API", github.uri())
        .env("GH_TOKEN", TOKEN)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .env("NO_COLOR", "1")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
}

/// The `ci-cd` lab as a learner does it: the workflow checks offline, then the `github` checks
/// against the run on GitHub — a failed run fails them for what failed, a green one passes.
#[test]
fn the_ci_cd_lab_is_checked_offline_then_against_the_run_on_github() {
    use std::time::Duration;
    let root = tempfile::tempdir().unwrap();
    let github = FakeGitHub::start("learner", "repo, workflow");
    let out = labforge_at(root.path(), &github, &["lab", "start", "ci-cd", "--dir", "ci-cd"]);
    assert!(out.status.success(), "{}", text(&out));
    let dir = root.path().join("ci-cd");
    let solve = labforge_at(&dir, &github, &["lab", "solve", "--step", "green-run", "--force"]);
    assert!(solve.status.success(), "{}", text(&solve));
    let check = |github: &FakeGitHub| {
        let out = labforge_at(&dir, github, &["check", "--step", "green-run", "--json"]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        let results: Vec<(String, bool, String)> = doc["steps"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (c["name"].as_str().unwrap().into(), c["passed"] == true, c["reason"].as_str().unwrap_or("").into())
            })
            .collect();
        (out.status.code(), results)
    };
    // Not pushed yet: the workflow check passes, the github ones say what to do.
    let (code, results) = check(&github);
    assert_eq!(code, Some(1));
    assert!(results[0].1, "{results:?}");
    assert!(results[1].2.contains("labforge ci setup"), "{results:?}");

    let out = labforge_at(&dir, &github, &["ci", "setup", "--repo", "learner/pipeline", "--create"]);
    assert!(out.status.success(), "{}", text(&out));
    let (_, results) = check(&github);
    assert!(
        results[1].2.contains("expected a run of ci.yml, got none (`labforge ci run --watch` starts one)"),
        "{results:?}"
    );

    github.plan_run("failure", Duration::from_millis(500), true, None);
    let out = labforge_at(&dir, &github, &["ci", "run", "--watch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (code, results) = check(&github);
    assert_eq!(code, Some(1));
    assert!(results[1].2.ends_with("expected success, got failure"), "{results:?}");
    assert!(results[2].2.contains("job deploy: expected success, got skipped"), "{results:?}");

    github.plan_run("success", Duration::from_millis(500), true, None);
    let out = labforge_at(&dir, &github, &["ci", "run", "--watch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (code, results) = check(&github);
    assert_eq!(code, Some(0), "{results:?}");
}

/// `lab selftest ci-cd --github-repo`: the starter and the solution pushed, the solution's
/// workflow run to its end, every check proven; without a repository the `github` checks are
/// listed as not run and the rest is still proven.
#[test]
fn the_ci_cd_lab_proves_itself_on_github() {
    use std::time::Duration;
    let scratch = tempfile::tempdir().unwrap();
    let github = FakeGitHub::start("learner", "repo, workflow");
    github.plan_run("success", Duration::from_millis(500), false, Some("someone-else"));
    let out = labforge_at(
        scratch.path(),
        &github,
        &["lab", "selftest", "ci-cd", "--github-repo", "learner/lab-ci", "--json"],
    );
    let doc = json(&out);
    let lab = &doc["labs"][0];
    assert!(out.status.success() && lab["passed"] == true, "{lab:#}\n{}", text(&out));
    assert_eq!(lab["skipped"], serde_json::json!([]));
    let runs = github.runs("learner/lab-ci");
    assert_eq!(runs.iter().filter(|r| r.actor == "learner").count(), 1, "the solution's workflow ran once");
    no_token_in(&out);

    let out = labforge_at(scratch.path(), &github, &["lab", "selftest", "ci-cd", "--json"]);
    let lab = json(&out)["labs"][0].clone();
    assert!(out.status.success() && lab["passed"] == true, "{lab:#}");
    assert_eq!(lab["skipped"].as_array().unwrap().len(), 2, "{lab:#}");
}

/// The `ci-cd` lab's mistakes (`wrong/` overlays) each fail their step for their own reason and
/// its other correct workflows (`alternative/`) pass, as `lab selftest` proves them offline.
#[test]
fn the_ci_cd_lab_refuses_plausible_mistakes_and_accepts_other_correct_workflows() {
    let scratch = tempfile::tempdir().unwrap();
    let github = FakeGitHub::start("learner", "repo, workflow");
    let out = labforge_at(scratch.path(), &github, &["lab", "selftest", "ci-cd", "--json"]);
    let doc = json(&out);
    let lab = &doc["labs"][0];
    assert!(out.status.success() && lab["passed"] == true, "{lab:#}");
    crate::support::assert_proven(
        lab,
        &[
            ("database-not-awaited", "health options (`--health-cmd`)"),
            ("does-not-parse", ".github/workflows/ci.yml"),
            ("image-without-the-tests", "job `image` needs: expected `test`, got lint"),
            ("deploy-without-the-image", "job `deploy` needs: expected `image`, got none"),
            ("never-asks-ready", "expected a step running `/ready`"),
            ("cannot-be-started-by-hand", "expected `workflow_dispatch` among the events"),
        ],
        &["needs-in-another-order", "kind-by-hand", "events-as-a-list"],
    );
    assert!(github.requests().is_empty(), "offline: nothing asked of GitHub");
}

/// The real thing, with a token and a throwaway repository:
/// `LABFORGE_E2E_GITHUB_TOKEN=… LABFORGE_E2E_GITHUB_REPO=you/labforge-e2e cargo test --test integration e2e_github`.
/// The generated workflow's full pipeline runs there, kind deployment included.
#[test]
fn e2e_github() {
    let (Ok(token), Ok(repo)) = (std::env::var("LABFORGE_E2E_GITHUB_TOKEN"), std::env::var("LABFORGE_E2E_GITHUB_REPO"))
    else {
        eprintln!(
            "e2e_github: SKIPPED (set LABFORGE_E2E_GITHUB_TOKEN and LABFORGE_E2E_GITHUB_REPO to run it against GitHub)"
        );
        return;
    };
    let project = Project::new();
    let run = |args: &[&str]| {
        let out =
            Command::new(labforge_bin()).args(args).current_dir(&project.dir).env("GH_TOKEN", &token).output().unwrap();
        assert!(!text(&out).contains(&token), "the token leaked");
        out
    };
    let setup = run(&["ci", "setup", "--repo", &repo, "--create", "--private"]);
    assert!(setup.status.success(), "{}", text(&setup));
    let again = run(&["ci", "setup", "--repo", &repo, "--json"]);
    assert_eq!(json(&again)["push"]["committed"], false, "{}", text(&again));
    let watched = run(&["ci", "run", "--watch", "--timeout", "40"]);
    assert!(watched.status.success(), "{}", text(&watched));
    let status = run(&["ci", "status"]);
    assert!(text(&status).contains("success"), "{}", text(&status));
}
