//! `labforge new`: what a user gets on the happy paths.

use std::collections::BTreeSet;

use crate::support::{Test, files_under};

#[test]
fn defaults_without_a_terminal_never_prompt() {
    // stdin is not a TTY under the test harness: labforge must not block and must use defaults.
    let run = Test::new()
        .args(["new", "shop"])
        .run()
        .success()
        .stderr_has("Created shop with fastapi (db=postgres auth=jwt)");
    let answers = run.read("shop/.labforge/answers.yaml");
    assert!(answers.contains("template: fastapi"), "{answers}");
    assert!(answers.contains("db: postgres") && answers.contains("auth: jwt"), "{answers}");
    assert!(answers.contains("template_version:"), "{answers}");
    assert!(
        !answers.contains(&secret_value(&run.read("shop/.env"), "POSTGRES_PASSWORD")),
        "answers must not record secrets"
    );
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let run = Test::new().args(["new", "shop", "--dry-run"]).run().success();
    run.nothing_written();
    assert!(run.stdout.contains("Would write"), "{}", run.stdout);
    for file in
        ["Dockerfile", "k8s/deployment.yaml", ".github/workflows/ci.yml", "labforge.yaml", ".env", "pyproject.toml"]
    {
        assert!(run.stdout.contains(file), "plan lacks {file}:\n{}", run.stdout);
    }
    assert!(run.stdout.trim_end().ends_with("Nothing was written (--dry-run)."));
}

#[test]
fn dry_run_lists_exactly_the_files_a_real_run_writes() {
    let planned: BTreeSet<String> = Test::new()
        .args(["new", "shop", "--with", "graphql,ratelimit", "--dry-run"])
        .run()
        .success()
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("create"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let run = Test::new().args(["new", "shop", "--with", "graphql,ratelimit"]).run().success();
    assert_eq!(planned, files_under(&run.path("shop")));
}

#[test]
fn dir_chooses_where_the_project_goes() {
    let run = Test::new().args(["new", "shop", "--dir", "deep/nested/place"]).run().success();
    assert!(run.path("deep/nested/place/pyproject.toml").is_file());
    assert!(!run.path("shop").exists());
}

#[test]
fn an_empty_existing_target_is_fine() {
    let test = Test::new();
    std::fs::create_dir(test.work().join("shop")).unwrap();
    let run = test.args(["new", "shop"]).run().success();
    assert!(run.path("shop/pyproject.toml").is_file());
}

#[test]
fn force_overwrites_template_files_and_keeps_the_users_own() {
    let test = Test::new();
    let target = test.work().join("shop");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "mine").unwrap();
    std::fs::write(target.join("Dockerfile"), "old").unwrap();
    let run = test.args(["new", "shop", "--force"]).run().success();
    assert_eq!(run.read("shop/notes.txt"), "mine");
    assert!(run.read("shop/Dockerfile").contains("FROM ${PYTHON_IMAGE}"));
}

#[test]
fn secrets_are_random_per_project_and_private() {
    let a = Test::new().args(["new", "shop"]).run().success();
    let b = Test::new().args(["new", "shop"]).run().success();
    let (env_a, env_b) = (a.read("shop/.env"), b.read("shop/.env"));
    for key in ["POSTGRES_PASSWORD", "JWT_SECRET"] {
        let (va, vb) = (secret_value(&env_a, key), secret_value(&env_b, key));
        assert!(va.len() >= 32, "{key} is too short: {va}");
        assert_ne!(va, vb, "two projects share {key}");
    }
    assert!(secret_value(&env_a, "JWT_SECRET").len() >= 64, "a JWT key of at least 32 bytes, hex-encoded");
    // The Kubernetes Secret carries the same values as .env, and both are git-ignored.
    let secret = a.read("shop/k8s/secret.yaml");
    assert!(secret.contains(&secret_value(&env_a, "POSTGRES_PASSWORD")));
    let ignored = a.read("shop/.gitignore");
    assert!(ignored.lines().any(|l| l == ".env") && ignored.lines().any(|l| l == "k8s/secret.yaml"), "{ignored}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["shop/.env", "shop/k8s/secret.yaml"] {
            let mode = std::fs::metadata(a.path(file)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} must be readable by its owner only");
        }
    }
}

#[test]
fn no_secret_appears_in_any_output() {
    for args in [vec!["new", "shop"], vec!["new", "shop", "--dry-run"]] {
        let run = Test::new().args(args).run().success();
        let env = if run.path("shop/.env").exists() { run.read("shop/.env") } else { String::new() };
        for key in ["POSTGRES_PASSWORD", "JWT_SECRET"] {
            if !env.is_empty() {
                let value = secret_value(&env, key);
                assert!(!run.stdout.contains(&value) && !run.stderr.contains(&value), "{key} was printed");
            }
        }
        assert!(!run.stdout.contains("JWT_SECRET="), "{}", run.stdout);
    }
}

#[test]
fn external_template_dir_renders_with_the_same_engine() {
    let test = Test::new();
    let tpl = test.root().join("tpl");
    std::fs::create_dir_all(tpl.join("src")).unwrap();
    std::fs::write(
        tpl.join("template.yaml"),
        "name: tiny\ndescription: A tiny template\nversion: 2.0.0\nvariables:\n  - {name: greeting, help: Greeting, type: string, regex: '[a-z ]+', default: hello}\n",
    )
    .unwrap();
    std::fs::write(tpl.join("src/{{ project.package }}.txt"), "{{ greeting }} from {{ project.title }}\n").unwrap();
    let run = test
        .args(["new", "my-app", "--template-dir", tpl.to_str().unwrap(), "--set", "greeting=good morning"])
        .run()
        .success();
    assert_eq!(run.read("my-app/src/my_app.txt"), "good morning from My App\n");
    assert!(run.read("my-app/.labforge/answers.yaml").contains("template_version: \"2.0.0\""));
}

/// The value of `KEY=value` in a dotenv text.
pub fn secret_value(env: &str, key: &str) -> String {
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing from .env:\n{env}"))
        .to_string()
}
