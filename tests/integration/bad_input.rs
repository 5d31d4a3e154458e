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

/// A project folder holding `files`: labforge `args` in it (Docker at a closed port, no user
/// config) must refuse with `message` on one line, exit 2, and leave every file as it was.
fn refused_in(files: &[(&str, &[u8])], args: &[&str], message: &str) -> crate::support::Run {
    let test = Test::new();
    for (path, bytes) in files {
        let path = test.work().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let home = test.root().join("home").display().to_string();
    let before = crate::support::files_under(test.root());
    let run = test
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .args(args.iter().copied())
        .run()
        .usage_error(message);
    assert_eq!(crate::support::files_under(run.root.path()), before, "files changed");
    for (path, bytes) in files {
        assert_eq!(std::fs::read(run.path(path)).unwrap(), *bytes, "{path} changed");
    }
    run
}

const APP: &str = "version: 1\nproject: shop\nservices:\n  app:\n    kind: app\n    build: { context: . }\n";

#[test]
fn labforge_yaml_problems_once_unlocated_name_their_line_and_column() {
    let with = |extra: &str| format!("{APP}{extra}");
    for (text, message) in [
        (
            "version: 1\nproject: shop\nservices:\n  App:\n    kind: app\n    image: shop:1\n".to_string(),
            "error: ./labforge.yaml:4:3: service name `App` must be lowercase letters, digits and `-`",
        ),
        (with("    ready_path: ready\n"), "error: ./labforge.yaml:7:17: service `app`: ready_path `ready` must be"),
        (
            with("    environment:\n      URL: ${DB_URL}\n"),
            "error: ./labforge.yaml:8:12: service `app`: environment URL uses ${DB_URL}, which is not set",
        ),
        ("version: 1\nproject: shop\nservices: {}\n".to_string(), "error: ./labforge.yaml:3:11: `services` is empty"),
        (
            with("    env_file: app.env\n"),
            "error: ./labforge.yaml:7:15: service `app`: env_file `app.env` cannot be read",
        ),
    ] {
        refused_in(&[("labforge.yaml", text.as_bytes())], &["status"], message);
    }
    refused_in(
        &[("labforge.yaml", b"version: 1\nproject: sh\xffop\nservices: {}\n")],
        &["status"],
        "error: ./labforge.yaml:2:12: byte 0xff is not UTF-8 text (save the file as UTF-8)",
    );
}

#[test]
fn yaml_errors_are_in_labforges_words() {
    for (text, message) in [
        (
            format!("{APP}  app:\n    kind: app\n"),
            "./labforge.yaml:7:3: duplicate key `app` (each key may appear once)",
        ),
        (APP.replace("version: 1", "version: one"), "./labforge.yaml:1:10: expected a whole number, 0 or more"),
        (
            format!("version: {}1{}\n", "[".repeat(3000), "]".repeat(3000)),
            "the file is nested too deeply to be a labforge file",
        ),
    ] {
        let run = refused_in(&[("labforge.yaml", text.as_bytes())], &["status"], message);
        for leaked in ["DuplicateKeyPolicy", "invalid u32", "budget", "recursion"] {
            assert!(!run.stderr.contains(leaked), "{}", run.stderr);
        }
    }
}

#[test]
fn a_broken_labforge_yaml_gets_the_same_message_from_up_down_status_and_logs() {
    // Once: "expected mapping start" from `up`, "unclosed bracket" from `down`.
    let text = b"version: 1\nproject: shop\nservices: [\n";
    let said: Vec<String> = ["up", "down", "status", "logs"]
        .iter()
        .map(|command| {
            refused_in(&[("labforge.yaml", text)], &[command], "error: ./labforge.yaml:3:11: unclosed bracket '['")
                .stderr
        })
        .collect();
    assert!(said.iter().all(|s| *s == said[0]), "{said:#?}");
}

#[test]
fn paths_in_labforge_yaml_must_stay_inside_the_project() {
    let app = |build: &str, extra: &str| {
        format!("version: 1\nproject: shop\nservices:\n  app:\n    kind: app\n    build: {build}\n{extra}")
    };
    for (text, message) in [
        (
            app("{ context: ../.. }", ""),
            "./labforge.yaml:6:23: service `app`: build.context `../..` leaves the project",
        ),
        (app("{ context: /etc }", ""), "./labforge.yaml:6:23: service `app`: build.context `/etc` is absolute"),
        (
            app("{ dockerfile: ../../../../etc/passwd }", ""),
            "./labforge.yaml:6:26: service `app`: build.dockerfile `../../../../etc/passwd` leaves the build context",
        ),
        (
            app("{ context: . }", "    env_file: /etc/shadow\n"),
            "./labforge.yaml:7:15: service `app`: env_file `/etc/shadow` is absolute",
        ),
        (
            app("{ context: . }", "    dev: { command: [x], mount: / }\n"),
            "./labforge.yaml:7:33: service `app`: dev.mount `/` must be an absolute path in the container other than `/`",
        ),
        (
            app("{ context: . }", "    dev: { command: [x], mount: app }\n"),
            "./labforge.yaml:7:33: service `app`: dev.mount `app` must be an absolute path",
        ),
        (
            app("{ context: . }", "    environment: { URL: \"postgresql://${PW@db\" }\n"),
            "./labforge.yaml:7:25: service `app`: environment URL: `${PW` is not closed (write `${PW}`",
        ),
    ] {
        refused_in(&[("labforge.yaml", text.as_bytes())], &["up"], message);
    }
}

#[test]
fn bad_dotenv_lines_are_refused_with_their_line() {
    let stack = b"version: 1\nproject: shop\nservices:\n  db:\n    kind: postgres\n    image: postgres:17\n    environment: { POSTGRES_PASSWORD: \"${PW}\" }\n";
    for (env, message) in [
        (&b"PW=1\njust words\n"[..], "error: ./.env:2:1: this line has no `=`"),
        (b"PW=\"secret\n", "error: ./.env:1:4: PW: the value's \" is not closed on this line"),
        (b"PW=sec\0ret\n", "error: ./.env:1:7: a NUL byte (remove it)"),
        (b"=secret\n", "error: ./.env:1:1: the variable name before `=` is empty"),
        (b"P-W=secret\n", "error: ./.env:1:1: `P-W` is not a variable name"),
    ] {
        let run = refused_in(&[("labforge.yaml", stack), (".env", env)], &["status"], message);
        assert!(!run.stderr.contains("secret"), "a value is echoed: {}", run.stderr);
    }
}

#[test]
fn a_dotenv_with_crlf_line_endings_simply_works() {
    let stack = b"version: 1\nproject: shop\nservices:\n  db:\n    kind: postgres\n    image: postgres:17\n    environment: { POSTGRES_PASSWORD: \"${PW}\", POSTGRES_USER: \"${PG_USER}\" }\n";
    // Everything is read: the refusal is the Docker host's (a closed port), not the file's.
    refused_in(
        &[("labforge.yaml", stack), (".env", b"# local\r\nPW=\"secret\"\r\nPG_USER=shop\r\n")],
        &["status"],
        "error: cannot reach the Docker daemon at tcp://127.0.0.1:1: Connection refused",
    );
}

#[test]
fn a_docker_host_that_is_no_daemon_is_named_with_what_to_do() {
    // Something answers HTTP with no message (a proxy, another server): once an empty cause.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let test = Test::new();
    std::fs::write(test.work().join("labforge.yaml"), APP).unwrap();
    let host = format!("tcp://127.0.0.1:{port}");
    let home = test.root().join("home").display().to_string();
    test.env("DOCKER_HOST", &host).env("HOME", &home).env("XDG_CONFIG_HOME", &home).args(["status"]).run().usage_error(
        &format!(
            "error: cannot reach the Docker daemon at {host}: it answered HTTP 404 with no message, so it is no Docker daemon (start Docker, or point DOCKER_HOST at a running daemon"
        ),
    );
}

#[test]
fn a_set_that_contradicts_a_flag_is_refused() {
    // Once silently `none`.
    refused(
        &["new", "shop", "--db", "none", "--set", "db=mongo"],
        "`--db none` contradicts `--set db=mongo`: give `db` once",
    );
    refused(
        &["new", "shop", "--set", "db=mongo", "--set", "db=postgres"],
        "`--set db=postgres` contradicts `--set db=mongo`",
    );
    refused(&["new", "shop", "--auth", "jwt", "--set", "auth=none"], "`--auth jwt` contradicts `--set auth=none`");
}

#[test]
fn git_folders_in_any_case_are_refused_in_templates() {
    for path in [".GIT/hooks/post-checkout", "sub/.Git/config", "{{ \".git.\" }}/config"] {
        let t = evil_template("", &[(path, "#!/bin/sh\necho pwned\n")]);
        refused_template(t.path(), "a template may not write inside .git");
    }
}

#[test]
fn bad_user_config_is_located() {
    for (config, message) in [
        (&b"images:\n  postgres: \"\"\n"[..], "error: config.yaml:2:13: images.postgres: `` is not an image reference"),
        (b"images:\n  postgres: p\xffg\n", "error: config.yaml:2:14: byte 0xff is not UTF-8 text"),
    ] {
        let test = Test::new();
        std::fs::write(test.work().join("labforge.yaml"), APP).unwrap();
        std::fs::write(test.work().join("config.yaml"), config).unwrap();
        test.env("DOCKER_HOST", "tcp://127.0.0.1:1")
            .env("LABFORGE_CONFIG", "config.yaml")
            .args(["status"])
            .run()
            .usage_error(message);
    }
}

#[cfg(unix)]
#[test]
fn a_path_in_labforge_yaml_that_leaves_the_project_through_a_symlink_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secrets.env"), "TOKEN=outside\n").unwrap();
    let test = Test::new();
    let text = format!("{APP}    env_file: app.env\n").replace("context: .", "context: src");
    std::fs::write(test.work().join("labforge.yaml"), text).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secrets.env"), test.work().join("app.env")).unwrap();
    std::os::unix::fs::symlink(outside.path(), test.work().join("src")).unwrap();
    let run = test.env("DOCKER_HOST", "tcp://127.0.0.1:1").args(["status"]).run().code(2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].starts_with("error: ./labforge.yaml:6:23: service `app`: build.context `src` leads to "),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].starts_with("./labforge.yaml:7:15: service `app`: env_file `app.env` leads to "),
        "{}",
        run.stderr
    );
    assert!(lines.iter().all(|l| l.contains("through a symbolic link, outside")), "{}", run.stderr);
    assert!(!run.stderr.contains("outside\n") && !run.stderr.contains("TOKEN"), "{}", run.stderr);
}
