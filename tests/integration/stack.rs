//! `labforge up / down / status / logs / doctor` against the real Docker daemon, with the stand-in
//! images (PostgreSQL from Debian, MongoDB from nx-27017, the app built FROM a Debian python image).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::stack::{StackProject, docker, eventually, exclusive, http, labelled, text};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Item names in the project's PostgreSQL, read directly, not through the app.
fn postgres_items(project: &StackProject) -> Vec<String> {
    postgres_names(project, "items")
}

/// The `name` column of `table`, sorted, read with the project's own credentials.
fn postgres_names(project: &StackProject, table: &str) -> Vec<String> {
    let port = project.host_port("postgres", 5432);
    let (user, password, db) =
        (project.env("POSTGRES_USER"), project.env("POSTGRES_PASSWORD"), project.env("POSTGRES_DB"));
    let sql = format!("SELECT name FROM {table} ORDER BY name");
    runtime().block_on(async {
        let mut config = tokio_postgres::Config::new();
        config.host("127.0.0.1").port(port).user(&user).password(&password).dbname(&db);
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.expect("connect to PostgreSQL");
        tokio::spawn(connection);
        let rows = client.query(&sql, &[]).await.expect("query items");
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    })
}

/// Item names in the project's MongoDB, read directly.
fn mongo_items(project: &StackProject) -> Vec<String> {
    use mongodb::bson::Document;
    let port = project.host_port("mongo", 27017);
    let url = format!(
        "mongodb://{}:{}@127.0.0.1:{port}/?authSource=admin&directConnection=true",
        project.env("MONGO_INITDB_ROOT_USERNAME"),
        project.env("MONGO_INITDB_ROOT_PASSWORD")
    );
    let db = project.env("MONGO_DB");
    runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(&url).await.expect("connect to MongoDB");
        let mut cursor =
            client.database(&db).collection::<Document>("items").find(Document::new()).await.expect("find items");
        let mut names = Vec::new();
        while cursor.advance().await.expect("read items") {
            let doc = cursor.deserialize_current().expect("an item");
            names.push(doc.get_str("name").expect("a name").to_string());
        }
        names.sort();
        names
    })
}

fn create_item(project: &StackProject, name: &str) {
    let port = project.host_port("app", 8000);
    let body = format!(r#"{{"name": "{name}", "quantity": 3}}"#);
    let (status, answer) = http(port, "POST", "/items", Some(&body)).expect("the app answers");
    assert_eq!(status, 201, "create item: {answer}");
}

/// The whole life of a stack: up, prove it works, up again (no change), down, up (data kept),
/// down --volumes (data gone).
fn lifecycle(project: &StackProject, db_service: &str, items: fn(&StackProject) -> Vec<String>) {
    let first = project.up_ok(&[]);
    assert!(first.contains(&format!("Ready {db_service} in")) && first.contains("Ready app in"), "{first}");
    for secret in ["POSTGRES_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD"] {
        if let Ok(env) = std::fs::read_to_string(project.dir.join(".env"))
            && env.contains(secret)
        {
            assert!(!first.contains(&project.env(secret)), "up printed {secret}");
        }
    }
    // Every published port is on loopback.
    for container in labelled("container", &project.name) {
        let bindings = docker(&["inspect", "--format", "{{json .HostConfig.PortBindings}}", &container]);
        assert!(!bindings.contains("0.0.0.0") && bindings.contains("127.0.0.1"), "{container}: {bindings}");
    }

    create_item(project, "kettle");
    create_item(project, "teapot");
    assert_eq!(items(project), ["kettle", "teapot"], "items created through the API are in the database");

    let ids_before = docker(&["ps", "-q", "--filter", &format!("label=io.labforge.project={}", project.name)]);
    let started = Instant::now();
    let out = project.run(&["up", "--json"]);
    let no_op = started.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("up --json");
    for service in report["services"].as_array().unwrap() {
        assert_eq!(service["action"], "unchanged", "a second up must recreate nothing: {service}");
    }
    assert!(no_op < Duration::from_secs(1), "a no-op up took {no_op:?}");
    let ids_after = docker(&["ps", "-q", "--filter", &format!("label=io.labforge.project={}", project.name)]);
    assert_eq!(ids_before, ids_after);

    // A changed service is recreated alone.
    let yaml = project.dir.join("labforge.yaml");
    let stack = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(
        &yaml,
        stack.replacen("      APP_ENV: development", "      APP_ENV: development\n      LOG_LEVEL: DEBUG", 1),
    )
    .unwrap();
    let out = project.run(&["up", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("up --json");
    for service in report["services"].as_array().unwrap() {
        let expected = if service["name"] == "app" { "recreated" } else { "unchanged" };
        assert_eq!(service["action"], expected, "{service}");
    }

    // A network removed by hand (issue 12: `up` recreated it but not the containers' attachment,
    // and `status` said all was well): `status` says which services are cut off, and the next
    // `up` repairs them, the data kept.
    let network = labelled("network", &project.name).pop().expect("the project's network");
    for container in labelled("container", &project.name) {
        docker(&["network", "disconnect", &network, &container]);
    }
    docker(&["network", "rm", &network]);
    let status = project.run(&["status"]);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    assert!(text(&status).contains(&format!("is not on the project's network `{network}`")), "{}", text(&status));
    let repaired = project.up_ok(&[]);
    assert!(repaired.contains("Ready app in"), "{repaired}");
    assert_eq!(items(project), ["kettle", "teapot"], "the data outlives the repair");

    // status and logs show the stack without revealing a secret.
    let status = project.run(&["status"]);
    let status_text = text(&status);
    assert!(status.status.success(), "{status_text}");
    assert!(
        status_text.contains(&format!("{db_service}  "))
            && status_text.contains("running")
            && status_text.contains(":***@"),
        "{status_text}"
    );
    let logs = text(&project.run(&["logs", "app", "--tail", "5"]));
    assert!(logs.lines().count() <= 5 && logs.contains("HTTP/1.1"), "the app's last lines:\n{logs}");
    let all_logs = text(&project.run(&["logs", "--tail", "3"]));
    assert!(
        all_logs.lines().any(|l| l.starts_with("app ")) && all_logs.lines().any(|l| l.starts_with(db_service)),
        "{all_logs}"
    );
    for secret in ["POSTGRES_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD"] {
        if std::fs::read_to_string(project.dir.join(".env")).unwrap().contains(secret) {
            assert!(!status_text.contains(&project.env(secret)), "status printed {secret}");
        }
    }

    let down = project.run(&["down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(labelled("container", &project.name).is_empty(), "down leaves no labelled container");
    assert!(labelled("network", &project.name).is_empty(), "down leaves no labelled network");
    assert_eq!(labelled("volume", &project.name).len(), 1, "down keeps the data volume");

    project.up_ok(&[]);
    assert_eq!(items(project), ["kettle", "teapot"], "data survives down and up");

    let down = project.run(&["down", "--volumes"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(labelled("volume", &project.name).is_empty(), "down --volumes removes the data");
}

#[test]
fn fastapi_postgres_stack_lifecycle() {
    let _docker = exclusive();
    let project = StackProject::new("lf-pg", &["--db", "postgres", "--auth", "none"]);
    lifecycle(&project, "postgres", postgres_items);
}

#[test]
fn fastapi_mongo_stack_lifecycle() {
    let _docker = exclusive();
    let project = StackProject::new("lf-mongo", &["--db", "mongo", "--auth", "none"]);
    lifecycle(&project, "mongo", mongo_items);
}

#[test]
fn development_mode_serves_edits_without_a_rebuild_and_rebuilds_once_for_dependencies() {
    let _docker = exclusive();
    let project = StackProject::new("lf-dev", &["--db", "none", "--auth", "none"]);
    project.up_ok(&[]);
    let port = project.host_port("app", 8000);
    let image = docker(&["inspect", "--format", "{{.Image}}", "lf-dev-app"]);
    // The mounted project's .env is hidden: secrets reach the app as variables only.
    assert_eq!(docker(&["exec", "lf-dev-app", "cat", "/app/.env"]), "", "the container sees an empty .env");

    let health = project.dir.join("src/lf_dev/api/health.py");
    let source = std::fs::read_to_string(&health).unwrap();
    std::fs::write(&health, source.replace(r#"return {"status": "ok"}"#, r#"return {"status": "edited"}"#)).unwrap();
    let edited = Instant::now();
    eventually(Duration::from_secs(2), "the edit is served", || {
        http(port, "GET", "/health", None).filter(|(_, body)| body.contains("edited"))
    });
    eprintln!("edit served after {:?}", edited.elapsed());
    assert_eq!(docker(&["inspect", "--format", "{{.Image}}", "lf-dev-app"]), image, "no rebuild, no new container");
    let again = project.up_ok(&[]);
    assert!(!again.contains("Building"), "a source edit must not rebuild the image:\n{again}");

    // A dependency change: exactly one rebuild, then none. Development images are shared by
    // every project with the same dependencies, so the change is one no earlier run made.
    let pyproject = project.dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let six = format!("dependencies = [\n    \"six>=1.16,!=1.{unique}\",");
    std::fs::write(&pyproject, text.replacen("dependencies = [", &six, 1)).unwrap();
    let rebuilt = project.up_ok(&[]);
    assert_eq!(rebuilt.matches("Building labforge/dev:").count(), 1, "{rebuilt}");
    assert!(rebuilt.contains("Recreated lf-dev-app"), "{rebuilt}");
    let after = project.up_ok(&[]);
    assert!(!after.contains("Building"), "{after}");
}

#[test]
fn production_mode_runs_the_built_image() {
    let _docker = exclusive();
    let project = StackProject::new("lf-prod", &["--db", "postgres", "--auth", "none"]);
    let out = project.up_ok(&["--prod"]);
    assert!(out.contains("Ready app in"), "{out}");
    let mounts = docker(&["inspect", "--format", "{{json .Mounts}}", "lf-prod-app"]);
    assert!(!mounts.contains("\"bind\""), "production mode mounts no source: {mounts}");
    let user = docker(&["inspect", "--format", "{{.Config.User}}", "lf-prod-app"]);
    assert_eq!(user.trim(), "10001:10001", "the app runs as the unprivileged user");
    create_item(&project, "mug");
    assert_eq!(postgres_items(&project), ["mug"], "the entrypoint applied the migrations");
}

#[test]
fn a_busy_port_is_replaced_and_strict_ports_refuses() {
    let _docker = exclusive();
    let project = StackProject::new("lf-port", &["--db", "none", "--auth", "none"]);
    let yaml = project.dir.join("labforge.yaml");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = listener.local_addr().unwrap().port();
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, text.replace("\"8000:8000\"", &format!("\"{busy}:8000\""))).unwrap();

    let strict = project.run(&["up", "--strict-ports"]);
    assert_eq!(strict.status.code(), Some(2), "{}", crate::support::stack::text(&strict));
    assert!(crate::support::stack::text(&strict).contains(&format!("port {busy} for `app` is in use")));
    assert!(labelled("container", &project.name).is_empty(), "--strict-ports fails before creating anything");

    let out = project.up_ok(&[]);
    let chosen = project.host_port("app", 8000);
    assert_ne!(chosen, busy);
    assert!(out.contains(&format!("port {busy} is in use: `app` is published on 127.0.0.1:{chosen} instead")), "{out}");
    assert_eq!(http(chosen, "GET", "/health", None).map(|(s, _)| s), Some(200));

    // Every later `up` names the port the app keeps, not a fresh one it never uses.
    let again = project.up_ok(&[]);
    assert!(again.contains(&format!("`app` is published on 127.0.0.1:{chosen} instead")), "{again}");
    assert!(!again.contains("diagnosis"), "{again}");

    // A stopped app whose port was taken meanwhile is made anew on a free port, which the warning
    // names and the app answers on (it used to be started on the taken port and fail).
    docker(&["stop", "--time", "1", "lf-port-app"]);
    let thief = std::net::TcpListener::bind(("127.0.0.1", chosen)).unwrap();
    let moved = project.up_ok(&[]);
    let now = project.host_port("app", 8000);
    assert!(now != chosen && now != busy, "{moved}");
    assert!(moved.contains(&format!("`app` is published on 127.0.0.1:{now} instead")), "{moved}");
    assert!(moved.contains("Recreated"), "{moved}");
    assert_eq!(http(now, "GET", "/health", None).map(|(s, _)| s), Some(200));
    drop(thief);

    // A stopped app whose port is still free starts again on it, not on a fresh one (an `up`
    // interrupted after creating the container used to announce and probe another port).
    docker(&["stop", "--time", "1", "lf-port-app"]);
    let restarted = project.up_ok(&[]);
    assert_eq!(project.host_port("app", 8000), now, "{restarted}");
    assert!(restarted.contains(&format!("`app` is published on 127.0.0.1:{now} instead")), "{restarted}");
    assert_eq!(http(now, "GET", "/health", None).map(|(s, _)| s), Some(200));

    // Once the requested port is free, the kept container says where it is and how to move it.
    drop(listener);
    let freed = project.up_ok(&[]);
    assert!(
        freed.contains(&format!("`app` is published on 127.0.0.1:{now}, not {busy}: that port was in use")),
        "{freed}"
    );
}

#[test]
fn an_app_that_crashes_on_start_shows_its_log_and_exits_1() {
    let _docker = exclusive();
    let project = StackProject::new("lf-crash", &["--db", "none", "--auth", "none"]);
    let main = project.dir.join("src/lf_crash/main.py");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("raise RuntimeError(\"boom: the app refuses to start\")\n{source}")).unwrap();
    let started = Instant::now();
    let out = project.run(&["up", "--timeout", "60"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("app failed"), "{all}");
    assert!(all.contains("RuntimeError: boom: the app refuses to start"), "the app's log lines appear:\n{all}");
    assert!(started.elapsed() < Duration::from_secs(45), "a crash is reported without waiting for the deadline");
}

#[test]
fn docker_unreachable_exits_2_at_once() {
    let project_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::support::labforge_bin())
        .args(["new", "shop", "--yes", "--dir"])
        .arg(project_dir.path().join("shop"))
        .output()
        .unwrap();
    assert!(out.status.success());
    for host in ["tcp://127.0.0.1:1", "unix:///nonexistent/docker.sock"] {
        let started = Instant::now();
        let out = std::process::Command::new(crate::support::labforge_bin())
            .args(["up"])
            .current_dir(project_dir.path().join("shop"))
            .env("DOCKER_HOST", host)
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("cannot reach the Docker daemon at {host}")), "{stderr}");
        assert!(stderr.contains("DOCKER_HOST"), "says how to fix it: {stderr}");
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    }
}

#[test]
fn sigint_during_up_leaves_a_state_the_next_up_continues_from() {
    let _docker = exclusive();
    let project = StackProject::new("lf-sigint", &["--db", "postgres", "--auth", "none"]);
    // Status lines go to stderr, cargo-style.
    let mut child = project.command(&["up"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Interrupt while PostgreSQL is starting: after its container exists, before it is ready.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let line =
            rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("up reports creating postgres");
        if line.contains("Created lf-sigint-postgres") {
            break;
        }
    }
    rustix::process::kill_process(rustix::process::Pid::from_child(&child), rustix::process::Signal::INT).unwrap();
    let status = eventually(Duration::from_secs(15), "up exits after SIGINT", || child.try_wait().unwrap());
    assert_eq!(status.code(), Some(130));

    let down = project.run(&["down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(labelled("container", &project.name).is_empty(), "no orphans after down");
    assert!(labelled("network", &project.name).is_empty());
    let out = project.up_ok(&[]);
    assert!(out.contains("Ready app in"), "{out}");
}

#[test]
fn malformed_stack_files_are_reported_with_their_location_before_anything_is_created() {
    let _docker = exclusive();
    let project = StackProject::new("lf-bad", &["--db", "postgres", "--auth", "none"]);
    let yaml = project.dir.join("labforge.yaml");
    let good = std::fs::read_to_string(&yaml).unwrap();
    let cases = [
        ("services: [unclosed\n".to_string(), "labforge.yaml:1:"),
        (good.replacen("    kind: postgres", "    kind: postgres\n    imagee: typo", 1), "unknown field `imagee`"),
        (
            good.replacen("depends_on: [postgres]", "depends_on: [database]", 1),
            "depends on `database`, which is not defined",
        ),
        (
            good.replacen("    kind: postgres", "    kind: postgres\n    depends_on: [app]", 1),
            "depends_on forms a cycle",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&yaml, &text).unwrap();
        let out = project.run(&["up"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in: {stderr}");
        assert!(stderr.contains("labforge.yaml:"), "names the file and line: {stderr}");
        assert!(labelled("container", &project.name).is_empty() && labelled("network", &project.name).is_empty());
    }
}

#[test]
fn doctor_checks_docker_and_the_tools() {
    let out =
        std::process::Command::new(crate::support::labforge_bin()).arg("doctor").env("NO_COLOR", "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().next().unwrap_or_default().starts_with("✓ Docker reachable at"), "{stdout}");
    for needle in ["Engine API 1.41 or newer", "port 5432", "kind", "kubectl", "gh"] {
        assert!(stdout.contains(needle), "missing {needle}: {stdout}");
    }
    assert!(stdout.lines().all(|l| l.starts_with("✓ ") || l.starts_with("✗ ")), "one ✓/✗ line per check:\n{stdout}");
    // Image replacements from the user's config file, and the environment over the file.
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "images:\n  postgres: mirror.example/postgres:17\n  mongo: mirror.example/mongo:8\n")
        .unwrap();
    let out = std::process::Command::new(crate::support::labforge_bin())
        .arg("doctor")
        .env("LABFORGE_CONFIG", config.path())
        .env("LABFORGE_IMAGE_MONGO", "local/mongo:test")
        .env_remove("LABFORGE_IMAGE_POSTGRES")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "postgres image replaced by mirror.example/postgres:17 (from {})",
            config.path().display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("mongo image replaced by local/mongo:test (from LABFORGE_IMAGE_MONGO)"), "{stdout}");

    let out = std::process::Command::new(crate::support::labforge_bin())
        .arg("doctor")
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("✗ cannot reach the Docker daemon at tcp://127.0.0.1:1"));
}

#[test]
fn quickstart_scaffolds_the_default_project_and_brings_it_up() {
    let _docker = exclusive();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let cleanup = |dir: &std::path::Path| {
        let _ = std::process::Command::new(crate::support::labforge_bin())
            .args(["down", "--volumes", "--dir"])
            .arg(dir)
            .output();
    };
    let mut cmd = std::process::Command::new(crate::support::labforge_bin());
    cmd.args(["quickstart", "demo", "--dir"]).arg(&dir);
    for (key, value) in [
        ("LABFORGE_IMAGE_POSTGRES", crate::support::stack::POSTGRES_IMAGE),
        ("LABFORGE_IMAGE_MONGO", crate::support::stack::MONGO_IMAGE),
        ("LABFORGE_IMAGE_PYTHON", crate::support::stack::PYTHON_IMAGE),
    ] {
        cmd.env(key, value);
    }
    crate::support::stack::images();
    let out = cmd
        .env("PIP_CERT", crate::support::stack::ca_bundle())
        .env("NO_COLOR", "1")
        .env_remove("LABFORGE_TEMPLATES")
        .output()
        .unwrap();
    let all = text(&out);
    cleanup(&dir);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Created demo with fastapi (db=postgres auth=jwt)"), "{all}");
    assert!(all.contains("Ready postgres in") && all.contains("Ready app in"), "{all}");
    assert!(all.contains("The app answers on http://127.0.0.1:"), "{all}");
}

#[test]
fn an_absent_image_is_pulled_with_progress_per_layer() {
    let _docker = exclusive();
    let registry = crate::support::stack::Registry::start();
    let reference = registry.publish_fresh(crate::support::stack::POSTGRES_IMAGE, "lf/postgres:15");
    let project = StackProject::new("lf-pull", &["--db", "postgres", "--auth", "none"]);
    let out = project.command(&["up"]).env("LABFORGE_IMAGE_POSTGRES", &reference).output().unwrap();
    let all = text(&out);
    project.run(&["down", "--volumes"]);
    let _ = std::process::Command::new("docker").args(["rmi", &reference]).output();
    assert!(out.status.success(), "{all}");
    assert!(all.contains(&format!("Pulling {reference}")), "{all}");
    // Without a terminal: a plain line per layer and status change, no progress bar escapes.
    assert!(all.lines().any(|l| l.trim_start().ends_with(": Pull complete")), "per-layer lines:\n{all}");
    assert!(all.contains(&format!("Pulled {reference} in")), "{all}");
    assert!(!all.contains('\u{1b}'), "no terminal escapes in plain output");
    assert!(all.contains("Ready postgres in"), "{all}");
}

#[test]
fn flask_and_django_stacks_come_up_and_keep_their_items_in_postgres() {
    let _docker = exclusive();
    for (framework, name, table) in [("flask", "lf-flask", "items"), ("django", "lf-django", "lf_django_item")] {
        let project = StackProject::new(name, &["--framework", framework, "--db", "postgres", "--auth", "none"]);
        let out = project.up_ok(&[]);
        assert!(out.contains("Ready postgres in") && out.contains("Ready app in"), "{framework}: {out}");
        create_item(&project, "kettle");
        assert_eq!(postgres_names(&project, table), ["kettle"], "{framework}");
    }
}

/// The names of a project's containers, from `labforge status --json`.
fn container_names(project: &StackProject) -> Vec<String> {
    let out = project.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    doc["services"].as_array().unwrap().iter().filter_map(|s| s["container"].as_str().map(str::to_string)).collect()
}

#[test]
fn two_projects_of_one_name_in_two_folders_run_side_by_side_and_go_down_alone() {
    let _docker = exclusive();
    let first = StackProject::new("lf-twin", &["--db", "postgres", "--auth", "none"]);
    let second = StackProject::new("lf-twin", &["--db", "postgres", "--auth", "none"]);
    first.up_ok(&[]);
    // Before instances, this `up` failed on the first one's container names and broke it.
    second.up_ok(&[]);

    // The first folder keeps the readable names; the second gets its own, suffixed ones.
    let (first_names, second_names) = (container_names(&first), container_names(&second));
    assert!(first_names.contains(&"lf-twin-postgres".to_string()), "{first_names:?}");
    let suffixed = second_names.iter().find(|n| n.ends_with("-postgres")).expect("a postgres container");
    assert!(suffixed.starts_with("lf-twin-") && suffixed != "lf-twin-postgres", "{second_names:?}");
    assert!(second_names.iter().all(|n| !first_names.contains(n)), "{first_names:?} / {second_names:?}");

    // Each app writes to its own database.
    create_item(&first, "kettle");
    create_item(&second, "teapot");
    assert_eq!(postgres_items(&first), ["kettle"]);
    assert_eq!(postgres_items(&second), ["teapot"]);

    // `down` in one folder leaves the other running, with its data.
    let down = first.run(&["down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(labelled("container", "lf-twin").is_empty(), "the first folder's containers are gone");
    let status = second.run(&["status"]);
    assert!(status.status.success(), "the second stack still runs:\n{}", text(&status));
    assert_eq!(postgres_items(&second), ["teapot"]);

    // The first folder comes back to its own names and data, not the second's.
    first.up_ok(&[]);
    assert_eq!(container_names(&first), first_names);
    assert_eq!(postgres_items(&first), ["kettle"]);
}

/// Issue 13: `up` starts the app beside its database, and the app waits for it by itself. Here
/// PostgreSQL becomes ready 5 s late (its container sleeps before the image's own entrypoint, the
/// fault under test): the app is not restarted, does not crash, and is ready within a second of
/// the database.
#[test]
fn the_app_comes_up_within_a_second_of_a_database_that_is_5_s_late() {
    let _docker = exclusive();
    let project = StackProject::new("lf-slowdb", &["--db", "postgres", "--auth", "none"]);
    let yaml = project.dir.join("labforge.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    let late = "    image: postgres:17\n    command: [bash, -c, \"sleep 5 && exec docker-entrypoint.sh postgres\"]\n";
    std::fs::write(&yaml, text.replacen("    image: postgres:17\n", late, 1)).unwrap();

    let out = project.run(&["up", "--json"]);
    assert!(out.status.success(), "{}", crate::support::stack::text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let service = |name: &str| doc["services"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap();
    let (postgres, app) = (service("postgres"), service("app"));
    let ready_at = |s: &serde_json::Value| s["readiness"]["at_ms"].as_u64().unwrap_or_else(|| panic!("{s}"));
    let waited = |s: &serde_json::Value| s["readiness"]["seconds"].as_f64().unwrap();
    assert!(waited(&postgres) >= 5.0, "the database was late: {postgres}");
    // The app's wait began when its container started: beside the database's, not after it.
    assert!(waited(&app) >= 4.0, "the app started before the database was ready: {app}");
    let lag = ready_at(&app).saturating_sub(ready_at(&postgres));
    assert!(ready_at(&app) >= ready_at(&postgres) && lag <= 1000, "app ready {lag} ms after the database");

    let state = docker(&["inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "lf-slowdb-app"]);
    assert_eq!(state.trim(), "0 running", "no crash loop");
    let logs = crate::support::stack::text(
        &std::process::Command::new("docker").args(["logs", "lf-slowdb-app"]).output().unwrap(),
    );
    assert!(logs.contains("Waiting for the database"), "the migration waited for it:\n{logs}");
    assert!(!logs.contains("Traceback"), "{logs}");
}
