//! Generated projects, checked for real: third-party validators on the Dockerfile, the workflow
//! and every Kubernetes manifest; and, per combination, a fresh venv with the project's pinned
//! dependencies from PyPI, `ruff check`, `ruff format --check` and the project's own pytest suite.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use labforge::stack::spec::StackSpec;

use crate::support::database::{DatabaseServer, Engine};
use crate::support::python::{check_project, run_ok, run_pytest, tool};
use crate::support::{Combo, matrix};

/// Renders every combination into one scratch folder.
fn render_all() -> (tempfile::TempDir, Vec<(Combo, PathBuf)>) {
    let dir = tempfile::tempdir().unwrap();
    let projects = matrix()
        .into_iter()
        .map(|combo| {
            let path = dir.path().join(combo.slug());
            combo.generate("shop", &path);
            (combo, path)
        })
        .collect();
    (dir, projects)
}

#[test]
fn generated_files_pass_third_party_validators() {
    let (_dir, projects) = render_all();
    let mut dockerfiles = Vec::new();
    let mut workflows = Vec::new();
    let mut manifests = Vec::new();
    for (combo, path) in &projects {
        dockerfiles.push(path.join("Dockerfile"));
        workflows.push(path.join(".github/workflows/ci.yml"));
        let mut k8s: Vec<PathBuf> = std::fs::read_dir(path.join("k8s")).unwrap().flatten().map(|e| e.path()).collect();
        k8s.retain(|p| !p.ends_with("kustomization.yaml"));
        let expected = if combo.db == "none" { 4 } else { 5 };
        assert_eq!(k8s.len(), expected, "{}: Deployment, Service, ConfigMap, Secret and the database", combo.slug());
        // The kustomization lists every manifest, and nothing else.
        let kustomization: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(path.join("k8s/kustomization.yaml")).unwrap()).unwrap();
        let mut listed: Vec<String> =
            kustomization["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
        let mut files: Vec<String> =
            k8s.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        listed.sort();
        files.sort();
        assert_eq!(listed, files, "{}: k8s/kustomization.yaml lists the manifests", combo.slug());
        assert_eq!(kustomization["kind"], "Kustomization");
        manifests.extend(k8s);
        let stack = std::fs::read_to_string(path.join("labforge.yaml")).unwrap();
        if let Err(problems) = StackSpec::parse("labforge.yaml", &stack) {
            panic!("{}: labforge.yaml does not match its schema:\n{}", combo.slug(), problems.join("\n"));
        }
    }
    run_ok(tool("hadolint").arg("--failure-threshold").arg("style").args(&dockerfiles), "hadolint the Dockerfiles");
    run_ok(tool("actionlint").args(&workflows), "actionlint the workflows");
    run_ok(
        tool("check-jsonschema").args(["--builtin-schema", "vendor.github-workflows"]).args(&workflows),
        "check the workflows against the GitHub workflow schema",
    );
    let out = run_ok(
        tool("kubernetes-validate").args(["--strict", "--kubernetes-version", "1.37.0"]).args(&manifests),
        "kubernetes-validate the manifests",
    );
    let passed = String::from_utf8_lossy(&out.stdout).matches("passed").count()
        + String::from_utf8_lossy(&out.stderr).matches("passed").count();
    assert!(passed >= manifests.len(), "every manifest validated ({passed} of {})", manifests.len());
}

#[test]
fn kubernetes_manifests_follow_the_security_and_probe_rules() {
    let (_dir, projects) = render_all();
    for (combo, path) in &projects {
        let deployment = std::fs::read_to_string(path.join("k8s/deployment.yaml")).unwrap();
        let app = app_container(&deployment);
        assert_eq!(app["readinessProbe"]["httpGet"]["path"], "/ready", "{}", combo.slug());
        assert_eq!(app["livenessProbe"]["httpGet"]["path"], "/health", "{}", combo.slug());
        for needle in ["runAsNonRoot: true", "allowPrivilegeEscalation: false", "limits:", "requests:"] {
            assert!(deployment.contains(needle), "{}: deployment lacks {needle}", combo.slug());
        }
        let image = deployment.lines().find(|l| l.trim_start().starts_with("image:")).unwrap();
        assert!(
            !image.ends_with(":latest") && image.contains(':'),
            "{}: image tag must be explicit and never latest: {image}",
            combo.slug()
        );
        let dockerfile = std::fs::read_to_string(path.join("Dockerfile")).unwrap();
        for needle in ["ARG PYTHON_IMAGE=python:3.12-slim", "AS build", "USER 10001", "HEALTHCHECK"] {
            assert!(dockerfile.contains(needle), "{}: Dockerfile lacks {needle}", combo.slug());
        }
    }
}

/// The app's container in a rendered `k8s/deployment.yaml`.
fn app_container(deployment: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_saphyr::from_str(deployment).expect("the deployment is YAML");
    doc["spec"]["template"]["spec"]["containers"][0].clone()
}

/// The first container of the workload in a rendered manifest (the database's StatefulSet).
fn first_container(manifest: &str) -> serde_json::Value {
    serde_saphyr::from_multiple::<serde_json::Value>(manifest)
        .expect("the manifest is YAML")
        .into_iter()
        .find(|doc| doc["kind"] == "StatefulSet" || doc["kind"] == "Deployment")
        .map(|doc| doc["spec"]["template"]["spec"]["containers"][0].clone())
        .expect("a workload")
}

/// Copies the repository's templates into `to`.
fn copy_templates(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_templates(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_form_of_readiness_follows_the_one_in_labforge_yaml() {
    // The built-in templates with other `ready:` definitions for the app and the database.
    let scratch = tempfile::tempdir().unwrap();
    let templates = scratch.path().join("templates");
    copy_templates(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"), &templates);
    let stack = templates.join("_common/labforge.yaml");
    let text = std::fs::read_to_string(&stack).unwrap();
    let changed = text
        .replace(
            "ready: { http: /ready, live: /health, every: 1s }",
            "ready: { http: /healthz, live: /alive, every: 7s }",
        )
        .replace("ready: { protocol: postgres, every: 1s }", "ready: { exec: pg_isready -q -h 127.0.0.1, every: 3s }");
    assert_ne!(changed, text, "the definitions to change are in _common/labforge.yaml");
    std::fs::write(&stack, changed).unwrap();

    let project = scratch.path().join("shop");
    let out = Command::new(crate::support::labforge_bin())
        .args(["new", "shop", "--db", "postgres", "--yes", "--dir"])
        .arg(&project)
        .env("LABFORGE_TEMPLATES", &templates)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |rel: &str| std::fs::read_to_string(project.join(rel)).unwrap();

    // The Dockerfile's HEALTHCHECK asks the liveness path.
    let dockerfile = read("Dockerfile");
    let healthcheck = dockerfile.lines().skip_while(|l| !l.starts_with("HEALTHCHECK")).nth(1).unwrap();
    assert!(healthcheck.contains("http://127.0.0.1:8000/alive"), "{healthcheck}");
    // Kubernetes' probes: readiness and liveness paths, the period.
    let app = app_container(&read("k8s/deployment.yaml"));
    assert_eq!(app["readinessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(app["readinessProbe"]["periodSeconds"], 7);
    assert_eq!(app["livenessProbe"]["httpGet"]["path"], "/alive");
    let postgres = first_container(&read("k8s/postgres.yaml"));
    assert_eq!(
        postgres["readinessProbe"]["exec"]["command"],
        serde_json::json!(["sh", "-c", "pg_isready -q -h 127.0.0.1"])
    );
    // The CI service container's health options.
    let workflow = read(".github/workflows/ci.yml");
    assert!(workflow.contains("--health-cmd 'pg_isready -q -h 127.0.0.1'"), "{workflow}");
    assert!(workflow.contains("--health-interval 3s"), "{workflow}");
    // labforge's own probe and the Docker healthcheck `up` creates.
    let ctx = labforge::context::Context::new(labforge::context::Env::default());
    let loaded = labforge::stack::project::Project::load(&project, labforge::stack::project::Mode::Dev, &ctx).unwrap();
    let app = loaded.app().unwrap();
    assert_eq!(app.ready_path, "/healthz");
    let test = &app.healthcheck.as_ref().unwrap().test;
    assert!(test.last().unwrap().contains("/alive") && test[0] == "CMD", "{test:?}");
    let db = loaded.service("postgres").unwrap().healthcheck.as_ref().unwrap();
    assert_eq!(
        (db.test.clone(), db.interval),
        (
            vec!["CMD".into(), "sh".into(), "-c".into(), "pg_isready -q -h 127.0.0.1".into()],
            std::time::Duration::from_secs(3)
        )
    );

    // And the changed files still pass the validators.
    run_ok(tool("hadolint").arg("--failure-threshold").arg("style").arg(project.join("Dockerfile")), "hadolint");
    run_ok(tool("actionlint").arg(project.join(".github/workflows/ci.yml")), "actionlint");
    let manifests: Vec<PathBuf> = std::fs::read_dir(project.join("k8s"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect();
    run_ok(
        tool("kubernetes-validate").args(["--strict", "--kubernetes-version", "1.37.0"]).args(&manifests),
        "kubernetes-validate",
    );
}

/// The longest project name `labforge new` takes: the generated code must stay ruff-clean with it
/// (module paths in imports and docstrings grow with the name).
const LONGEST_NAME: &str = "a_forty_character_project_name_for_tests";

/// Checks every combination of one template and database with real installs and tests, under
/// the longest project name there can be.
fn python_suite(framework: &str, db: &str) {
    use labforge::scaffold::ProjectName;
    assert!(ProjectName::parse(LONGEST_NAME).is_ok() && ProjectName::parse(&format!("{LONGEST_NAME}x")).is_err());
    let combos: Vec<Combo> = matrix().into_iter().filter(|c| c.framework == framework && c.db == db).collect();
    assert!(!combos.is_empty(), "{framework} × {db} is not a listed combination");
    // The suites run a second time against a real server: SQLite and memory never see an
    // integer beyond a column or a NUL that PostgreSQL refuses.
    let server = match db {
        "postgres" => Some(DatabaseServer::start(Engine::Postgres, LONGEST_NAME)),
        "mongo" => Some(DatabaseServer::start(Engine::Mongo, LONGEST_NAME)),
        _ => None,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for combo in combos {
        let path = dir.path().join(combo.slug());
        combo.generate(LONGEST_NAME, &path);
        let checked = check_project(&path).and_then(|check| {
            refuses_the_dependencies_as_names(&path)?;
            let on_server =
                server.as_ref().map(|server| pytest_leaves_the_database_alone(&path, server)).transpose()?;
            Ok((check, on_server))
        });
        match checked {
            Ok((check, on_server)) => eprintln!(
                "{}: install {:.1}s, pytest {:.1}s: {}{}",
                combo.slug(),
                check.install.as_secs_f64(),
                check.pytest.as_secs_f64(),
                check.pytest_summary,
                on_server
                    .map(|(took, summary)| format!("; against {db} {:.1}s: {summary}", took.as_secs_f64()))
                    .unwrap_or_default()
            ),
            Err(e) => failures.push(format!("{}: {e}", combo.slug())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs the project's pytest against `server`, whose development database (the one the URL names)
/// holds a sentinel: the suite must pass, leave that database as it was (the sentinel, nothing
/// else) and drop every `test_` database it made.
fn pytest_leaves_the_database_alone(
    project: &std::path::Path,
    server: &DatabaseServer,
) -> Result<(std::time::Duration, String), String> {
    server.plant_sentinel();
    let (name, url) = server.env();
    let outcome = run_pytest(project, Some((name, &url)))?;
    server.untouched().map_err(|e| format!("pytest with {name}: {e}"))?;
    let left = server.test_databases();
    if !left.is_empty() {
        return Err(format!("pytest with {name} left databases behind: {left:?}"));
    }
    Ok(outcome)
}

/// No project may be named after a module its dependencies install: `import yaml` would find it.
fn refuses_the_dependencies_as_names(project: &std::path::Path) -> Result<(), String> {
    use labforge::scaffold::ProjectName;
    let out = Command::new(project.join(".venv/bin/python"))
        .arg("-c")
        .arg(crate::support::python::TOP_LEVEL_MODULES)
        .output()
        .map_err(|e| e.to_string())?;
    let own = LONGEST_NAME.replace('-', "_");
    let accepted: Vec<&str> = std::str::from_utf8(&out.stdout)
        .map_err(|e| e.to_string())?
        .lines()
        .filter(|m| *m != own && ProjectName::parse(m).is_ok())
        .collect();
    match accepted.is_empty() && out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "`labforge new` accepts names of modules the project installs (add them to src/scaffold/python_modules.txt): {accepted:?} {}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// Nor after a module of the standard library of the Python on this machine.
#[test]
fn the_standard_library_cannot_be_shadowed() {
    use labforge::scaffold::ProjectName;
    let out = Command::new(crate::support::python::host_python())
        .args(["-c", "import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))"])
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    assert!(names.len() > 200 && names.iter().any(|n| n == "enum"), "{names:?}");
    let accepted: Vec<&String> = names.iter().filter(|n| ProjectName::parse(n).is_ok()).collect();
    assert!(accepted.is_empty(), "`labforge new` accepts standard-library names: {accepted:?}");
}

macro_rules! python_suites {
    ($($name:ident: $framework:literal / $db:literal,)*) => {
        $(
            #[test]
            fn $name() {
                python_suite($framework, $db);
            }
        )*

        #[test]
        fn python_suites_cover_every_listed_combination() {
            let covered: BTreeSet<(String, String)> = [$(($framework.to_string(), $db.to_string())),*].into_iter().collect();
            let listed: BTreeSet<(String, String)> = matrix().into_iter().map(|c| (c.framework, c.db)).collect();
            assert_eq!(covered, listed, "add a python_suites! line for each template × database");
        }
    };
}

python_suites! {
    python_fastapi_postgres: "fastapi" / "postgres",
    python_fastapi_mongo: "fastapi" / "mongo",
    python_fastapi_none: "fastapi" / "none",
    python_flask_postgres: "flask" / "postgres",
    python_flask_none: "flask" / "none",
    python_django_postgres: "django" / "postgres",
    python_django_none: "django" / "none",
}

#[test]
fn host_python_is_new_enough() {
    let out = Command::new(crate::support::python::host_python())
        .args(["-c", "import sys; print(sys.version_info >= (3, 11))"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "True", "the generated projects need Python 3.11+");
}

/// The workflow's deploy job, for every combination: it runs after the image is built and the
/// tests pass, gives its throwaway cluster a Secret with every key `k8s/secret.yaml` has (so the
/// rollout cannot stall on a missing key), applies `k8s/`, waits for each workload and asks the
/// app's own readiness path.
#[test]
fn the_workflow_deploys_what_k8s_defines() {
    let (_dir, projects) = render_all();
    for (combo, path) in &projects {
        let text = std::fs::read_to_string(path.join(".github/workflows/ci.yml")).unwrap();
        let workflow: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let jobs = &workflow["jobs"];
        assert_eq!(jobs["image"]["needs"], serde_json::json!(["lint", "test"]), "{}", combo.slug());
        assert_eq!(jobs["deploy"]["needs"], serde_json::json!(["image"]), "{}", combo.slug());
        let runs: Vec<String> = jobs["deploy"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_string))
            .collect();
        let script = runs.iter().find(|r| r.contains("cat > k8s/secret.yaml")).expect("a step writes the Secret");
        let heredoc: String = script
            .lines()
            .skip_while(|l| !l.contains("<<EOF"))
            .skip(1)
            .take_while(|l| l.trim() != "EOF")
            .map(|l| format!("{}\n", l.replace("${password}", "x").replace("$(openssl rand -hex 32)", "y")))
            .collect();
        let in_ci: serde_json::Value =
            serde_saphyr::from_str(&heredoc).unwrap_or_else(|e| panic!("{}: {e}\n{heredoc}", combo.slug()));
        let generated: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(path.join("k8s/secret.yaml")).unwrap()).unwrap();
        let keys = |v: &serde_json::Value| -> BTreeSet<String> {
            v["stringData"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        let missing: Vec<String> = keys(&generated).difference(&keys(&in_ci)).cloned().collect();
        assert!(missing.is_empty(), "{}: the CI Secret lacks {missing:?}", combo.slug());
        assert_eq!(in_ci["metadata"]["name"], generated["metadata"]["name"], "{}", combo.slug());
        let all = runs.join("\n");
        assert!(all.contains("kubectl apply -k k8s/"), "{}", combo.slug());
        assert!(all.contains("kubectl rollout status deployment/shop "), "{}", combo.slug());
        if combo.db != "none" {
            assert!(
                all.contains(&format!("kubectl rollout status statefulset/shop-{} ", combo.db)),
                "{}",
                combo.slug()
            );
        }
        let stack = std::fs::read_to_string(path.join("labforge.yaml")).unwrap();
        let spec: serde_json::Value = serde_saphyr::from_str(&stack).unwrap();
        let ready = spec["services"]["app"]["ready"]["http"].as_str().unwrap();
        assert!(
            all.contains(&format!("http://127.0.0.1:8080{ready}")),
            "{}: the smoke test asks {ready}",
            combo.slug()
        );
    }
}
