//! insta snapshots of what `labforge new` writes, per combination, and of the plan and help text.
//! Secrets are replaced by their names, so the snapshots are stable and reveal nothing.

use crate::support::{Test, files_under, matrix};

/// Files whose full text is snapshotted for every combination.
const KEY_FILES: &[&str] =
    &["pyproject.toml", "Dockerfile", "labforge.yaml", ".env", "k8s/deployment.yaml", ".github/workflows/ci.yml"];

fn redact(text: &str, env: &str) -> String {
    let mut text = text.to_string();
    for line in env.lines() {
        if let Some((key, value)) = line.split_once('=')
            && (key.contains("PASSWORD") || key.contains("SECRET"))
            && value.len() >= 16
        {
            text = text.replace(value, &format!("[{}]", key.to_lowercase()));
        }
    }
    text
}

#[test]
fn every_combination_writes_the_expected_files() {
    for combo in matrix() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("shop");
        combo.generate("shop", &project);
        let env = std::fs::read_to_string(project.join(".env")).unwrap_or_default();
        let mut text = String::from("files:\n");
        for file in files_under(&project) {
            text.push_str(&format!("  {file}\n"));
        }
        for file in KEY_FILES {
            if let Ok(body) = std::fs::read_to_string(project.join(file)) {
                text.push_str(&format!("\n===== {file} =====\n{body}"));
            }
        }
        insta::assert_snapshot!(format!("new-{}", combo.slug()), redact(&text, &env));
    }
}

#[test]
fn dry_run_plan() {
    let run = Test::new().args(["new", "shop", "--dry-run"]).run().success();
    insta::assert_snapshot!("dry-run-plan", run.stdout);
}

#[test]
fn help_texts() {
    for (name, args) in
        [("help", vec!["--help"]), ("help-new", vec!["new", "--help"]), ("help-templates", vec!["templates", "--help"])]
    {
        let run = Test::new().args(args).run().success();
        insta::assert_snapshot!(name, run.stdout);
    }
}
