//! Bad input: every case exits 2 with one clear line naming what to fix, and writes nothing.

use std::path::Path;

use crate::support::Test;

fn refused(args: &[&str], message: &str) {
    let run = Test::new().args(args.iter().copied()).run().usage_error(message);
    run.nothing_written();
}

#[test]
fn path_like_names_are_refused() {
    refused(&["new", "../x"], "project name `../x` looks like a path");
    refused(&["new", "a/b"], "looks like a path");
    refused(&["new", "/tmp/abs"], "looks like a path");
}

#[test]
fn names_with_spaces_uppercase_or_non_ascii_are_refused_with_a_suggestion() {
    refused(
        &["new", "Bad Name"],
        "contains a space: use lowercase ASCII letters, digits, `-` and `_` (e.g. `bad-name`)",
    );
    refused(&["new", "Shop"], "has uppercase letters: use `shop`");
    refused(&["new", "café"], "contains `é`");
    refused(&["new", "日本"], "contains `日`");
}

#[test]
fn empty_and_overlong_names_are_refused() {
    refused(&["new", ""], "the project name is empty");
    refused(&["new", &"a".repeat(200)], "the project name is 200 characters long: use at most 40");
}

#[test]
fn names_that_shadow_python_modules_are_refused() {
    refused(&["new", "fastapi"], "shadows the `fastapi` module");
    // Once accepted: the project's package hid the standard library's and the app could not start.
    refused(&["new", "enum"], "shadows the `enum` module");
    refused(&["new", "hashlib"], "shadows the `hashlib` module");
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_labforge")).arg("templates").stdout(full).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim(), "error: cannot write the output: No space left on device (os error 28)");
}

#[test]
fn unsupported_combinations_are_refused() {
    refused(
        &["new", "shop", "--framework", "flask", "--db", "mongo"],
        "template `flask` does not support `--db mongo`",
    );
    refused(
        &["new", "shop", "--auth", "none", "--with", "oauth"],
        "`--with oauth` adds OAuth2 scopes to JWT auth: use it with `--auth jwt`",
    );
    refused(
        &["new", "shop", "--with", "graphql,kafka"],
        "does not support `--with kafka` (it supports: graphql, ratelimit, oauth)",
    );
    refused(&["new", "shop", "--db", "mysql"], "choose one of: postgres, mongo, none");
    refused(&["new", "shop", "--framework", "rails"], "unknown template `rails`");
    refused(&["new", "shop", "--set", "colour"], "`--set colour` needs the form KEY=VALUE");
    refused(&["new", "shop", "--set", "colour=red"], "template `fastapi` has no option for `--set colour`");
}

#[test]
fn a_non_empty_target_is_refused_and_left_untouched() {
    let test = Test::new();
    let target = test.work().join("shop");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("important.txt"), "keep me").unwrap();
    let run = test.args(["new", "shop"]).run().usage_error("is not empty (choose another `--dir`, or pass `--force`");
    let left: Vec<_> = std::fs::read_dir(run.path("shop")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("important.txt")]);
    assert_eq!(run.read("shop/important.txt"), "keep me");
}

#[test]
fn a_file_as_target_is_refused() {
    let test = Test::new();
    std::fs::write(test.work().join("shop"), "a file").unwrap();
    let run = test.args(["new", "shop"]).run().usage_error("exists and is not a directory");
    assert_eq!(run.read("shop"), "a file");
}

/// A template folder, outside the test's scratch root, with a manifest and `files`.
fn evil_template(manifest_extra: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!("name: evil\ndescription: tries to escape\n{manifest_extra}");
    std::fs::write(dir.path().join("template.yaml"), manifest).unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn refused_template(template: &Path, message: &str) {
    let run = Test::new()
        .args(["new", "shop", "--template-dir", template.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has(message);
    run.nothing_written();
    // Nothing landed beside the scratch root either.
    let parent = run.root.path().parent().unwrap();
    for escaped in ["escaped.txt", "escaped", "9escaped.txt"] {
        assert!(!parent.join(escaped).exists(), "{escaped} landed beside the scratch root");
    }
}

#[test]
fn template_paths_that_render_outside_the_project_are_refused() {
    let vars = "variables:\n  - {name: dest, help: x, type: string, default: ../../escaped}\n";
    let t = evil_template(vars, &[("{{ dest }}.txt", "pwned")]);
    refused_template(t.path(), "refusing to write ../../escaped.txt: `.` and `..` are not allowed");

    // `..` in the middle of the rendered path, and a name that starts with a digit.
    let vars = "variables:\n  - {name: dest, help: x, type: string, default: x/../../9escaped}\n";
    let t = evil_template(vars, &[("{{ dest }}.txt", "pwned")]);
    refused_template(t.path(), "refusing to write x/../../9escaped.txt: `.` and `..` are not allowed");

    let vars = "variables:\n  - {name: dest, help: x, type: string, default: /tmp/escaped}\n";
    let t = evil_template(vars, &[("{{ dest }}.txt", "pwned")]);
    refused_template(t.path(), "refusing to write /tmp/escaped.txt: absolute paths are not allowed");

    let t = evil_template("", &[("{{ \".git\" }}/hooks/post-checkout", "#!/bin/sh\necho pwned\n")]);
    refused_template(t.path(), "a template may not write inside .git");
}

#[cfg(unix)]
#[test]
fn template_symlinks_are_refused() {
    let t = evil_template("", &[("ok.txt", "fine")]);
    std::os::unix::fs::symlink("/etc/passwd", t.path().join("passwd.txt")).unwrap();
    refused_template(t.path(), "passwd.txt: is a symlink (to /etc/passwd); templates may not contain symlinks");

    let t = evil_template("", &[("ok.txt", "fine")]);
    std::os::unix::fs::symlink("/etc", t.path().join("etc")).unwrap();
    refused_template(t.path(), "etc: is a symlink (to /etc)");
}

#[test]
fn template_layers_must_be_template_names() {
    let t = evil_template("layers: [\"../../etc\"]\n", &[("ok.txt", "fine")]);
    refused_template(t.path(), "layer `../../etc` is not a template name");
}

#[test]
fn a_broken_manifest_reports_every_problem_with_its_location() {
    let t = evil_template(
        "variables:\n  - {name: db, help: x, type: choice, choices: [a], default: b}\n  - {name: n, help: x, type: string, regex: '[a-'}\nfiles:\n  - {paths: ['x'], when: 'db =='}\n",
        &[],
    );
    let run = Test::new().args(["new", "shop", "--template-dir", t.path().to_str().unwrap()]).run().code(2);
    for problem in [
        "default `b` is not one of its choices (a)",
        "bad regex `[a-`",
        "files[0]: when `db ==` is not a valid expression",
    ] {
        assert!(run.stderr.contains(problem), "missing {problem:?} in:\n{}", run.stderr);
    }
    run.nothing_written();
}
