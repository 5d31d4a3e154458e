//! `labforge templates`: the catalog, its options and the combinations that work.

use crate::support::Test;

#[test]
fn lists_every_template_with_options_defaults_and_combinations() {
    let run = Test::new().args(["templates"]).run().success();
    for text in ["fastapi", "flask", "django", "--db", "postgres (default)", "--with", "valid combinations"] {
        assert!(run.stdout.contains(text), "missing {text:?}:\n{}", run.stdout);
    }
}

#[test]
fn json_lists_combinations_that_new_accepts() {
    let run = Test::new().args(["templates", "--json"]).run().success();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let templates = doc["templates"].as_array().unwrap();
    assert!(templates.len() >= 3);
    let fastapi = templates.iter().find(|t| t["name"] == "fastapi").unwrap();
    let combos = fastapi["combinations"].as_array().unwrap();
    assert_eq!(combos.len(), 6, "3 databases × 2 auth modes");
    // oauth needs jwt, so it is offered only with auth=jwt.
    for combo in combos {
        let allows_oauth = combo["allows"]["extras"].as_array().unwrap().iter().any(|e| e == "oauth");
        assert_eq!(allows_oauth, combo["answers"]["auth"] == "jwt", "{combo}");
    }
    let db = fastapi["variables"].as_array().unwrap().iter().find(|v| v["name"] == "db").unwrap();
    assert_eq!(db["flag"], "--db");
    assert_eq!(db["default"], "postgres");
}

#[test]
fn every_template_file_is_tracked_by_git() {
    // A template's own .gitignore once hid `.env` from git: a clean clone then lacked it.
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("git")
        .args(["ls-files", "--others", "--ignored", "--exclude-standard", "templates", "labs"])
        .current_dir(root)
        .output()
        .expect("git is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ignored: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("__pycache__") && !l.ends_with(".pyc"))
        .map(str::to_string)
        .collect();
    assert!(ignored.is_empty(), "git ignores template files, so a clean clone would lack them: {ignored:?}");
}
