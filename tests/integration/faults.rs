//! Fault injection on the real daemon: each fault a user (or a crash) can leave a stack in, what
//! `status` says of it, and that the next `up` converges on the declared state with the data kept.
//!
//! One table, one project: a fault is injected into a healthy stack holding two items; `status`
//! must tell the truth about it (its exit code and the words that name the damage); the next `up`
//! must end ready, the items still in PostgreSQL and served by the app.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::stack::{StackProject, docker, eventually, exclusive, http, labelled, text};

const PROJECT: &str = "lf-faults";

/// What `status` must say while the fault is in place.
struct Told {
    code: i32,
    /// Words its output must hold (in the table or a warning).
    says: &'static str,
}

struct Fault {
    name: &'static str,
    /// Damages the stack; returns what must live until the repairing `up` has run (a port held).
    inject: fn(&StackProject) -> Option<TcpListener>,
    told: Told,
    /// Words the repairing `up` must print.
    repair: &'static str,
}

fn container(service: &str) -> String {
    format!("{PROJECT}-{service}")
}

fn kill(service: &str) -> Option<TcpListener> {
    docker(&["kill", &container(service)]);
    // `docker kill` returns once the signal is sent; the state follows.
    eventually(Duration::from_secs(10), "the container stops", || {
        (docker(&["inspect", "--format", "{{.State.Running}}", &container(service)]).trim() == "false").then_some(())
    });
    None
}

fn remove(service: &str) -> Option<TcpListener> {
    docker(&["rm", "--force", &container(service)]);
    None
}

fn stop(service: &str) -> Option<TcpListener> {
    docker(&["stop", "--time", "2", &container(service)]);
    None
}

const FAULTS: &[Fault] = &[
    Fault {
        name: "the app's container is killed",
        inject: |_| kill("app"),
        told: Told { code: 1, says: "exited" },
        repair: "Ready app in",
    },
    Fault {
        name: "PostgreSQL's container is killed",
        inject: |_| kill("postgres"),
        told: Told { code: 1, says: "exited" },
        repair: "Ready postgres in",
    },
    Fault {
        name: "the app's container is removed",
        inject: |_| remove("app"),
        told: Told { code: 1, says: "missing" },
        repair: "Created",
    },
    Fault {
        name: "PostgreSQL's container is removed (its volume stays)",
        inject: |_| remove("postgres"),
        told: Told { code: 1, says: "missing" },
        repair: "Created",
    },
    Fault {
        name: "the app is stopped",
        inject: |_| stop("app"),
        told: Told { code: 1, says: "exited" },
        repair: "Ready app in",
    },
    Fault {
        name: "the network is removed (containers disconnected first)",
        inject: |project| {
            let network = labelled("network", &project.name).pop().expect("the project's network");
            for container in labelled("container", &project.name) {
                docker(&["network", "disconnect", &network, &container]);
            }
            docker(&["network", "rm", &network]);
            None
        },
        told: Told { code: 1, says: "is not on the project's network" },
        repair: "Ready app in",
    },
    Fault {
        name: "the app is stopped and its port taken by another program",
        inject: |project| {
            let port = project.host_port("app", 8000);
            stop("app");
            Some(TcpListener::bind(("127.0.0.1", port)).expect("the stopped app's port is free"))
        },
        told: Told { code: 1, says: "exited" },
        repair: "is in use",
    },
    Fault {
        name: ".env changed (a new setting for the app)",
        inject: |project| {
            let env = project.dir.join(".env");
            let mut text = std::fs::read_to_string(&env).unwrap();
            text.push_str(&format!("FAULT_SETTING={}\n", std::process::id()));
            std::fs::write(&env, text).unwrap();
            None
        },
        told: Told { code: 0, says: "outdated" },
        repair: "Recreated",
    },
];

/// Item names in PostgreSQL, read directly with the project's credentials.
fn stored_items(project: &StackProject) -> Vec<String> {
    let port = project.host_port("postgres", 5432);
    let (user, password, db) =
        (project.env("POSTGRES_USER"), project.env("POSTGRES_PASSWORD"), project.env("POSTGRES_DB"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut config = tokio_postgres::Config::new();
        config.host("127.0.0.1").port(port).user(&user).password(&password).dbname(&db);
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.expect("connect to PostgreSQL");
        tokio::spawn(connection);
        let rows = client.query("SELECT name FROM items ORDER BY name", &[]).await.expect("query items");
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    })
}

/// The item names the app serves.
fn served_items(project: &StackProject) -> Vec<String> {
    let port = project.host_port("app", 8000);
    let (status, body) = http(port, "GET", "/items", None).expect("the app answers");
    assert_eq!(status, 200, "{body}");
    let items: serde_json::Value = serde_json::from_str(&body).expect("a JSON list");
    let mut names: Vec<String> =
        items.as_array().expect("a list").iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

const ITEMS: [&str; 2] = ["kettle", "teapot"];

/// The project, on host ports of its own: tests running beside these ones publish the defaults,
/// and a port one of them takes between two `up`s would be a fault this table does not mean.
fn stack() -> StackProject {
    let project = StackProject::new(PROJECT, &["--db", "postgres", "--auth", "none"]);
    let yaml = project.dir.join("labforge.yaml");
    let free = || TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = std::fs::read_to_string(&yaml).unwrap();
    let text = text
        .replace("\"8000:8000\"", &format!("\"{}:8000\"", free()))
        .replace("\"5432:5432\"", &format!("\"{}:5432\"", free()));
    std::fs::write(&yaml, text).unwrap();
    project
}

fn assert_whole(project: &StackProject, after: &str) {
    assert_eq!(stored_items(project), ITEMS, "PostgreSQL keeps the items after {after}");
    assert_eq!(served_items(project), ITEMS, "the app serves them after {after}");
    let status = project.run(&["status"]);
    assert!(status.status.success(), "status after the repair of {after}:\n{}", text(&status));
}

#[test]
fn every_fault_in_the_table_is_told_by_status_and_repaired_by_the_next_up() {
    let _docker = exclusive();
    let project = stack();
    project.up_ok(&[]);
    let port = project.host_port("app", 8000);
    for name in ITEMS {
        let (status, body) = http(port, "POST", "/items", Some(&format!(r#"{{"name": "{name}"}}"#))).unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let mut failures = Vec::new();
    for fault in FAULTS {
        let held = (fault.inject)(&project);
        let status = project.run(&["status"]);
        let said = text(&status);
        if status.status.code() != Some(fault.told.code) || !said.contains(fault.told.says) {
            failures.push(format!(
                "{}: status should exit {} and say {:?}; it exited {:?}:\n{said}",
                fault.name,
                fault.told.code,
                fault.told.says,
                status.status.code()
            ));
        }
        let out = project.run(&["up"]);
        let repaired = text(&out);
        drop(held);
        if !out.status.success() || !repaired.contains(fault.repair) {
            failures.push(format!("{}: up should succeed saying {:?}:\n{repaired}", fault.name, fault.repair));
            // The rest of the table needs a healthy stack.
            break;
        }
        assert_whole(&project, fault.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The lines `up` prints at each of its phases, in order; an interrupt at each must leave a
/// state that `status` reports as not ready and that the next `up` completes.
const PHASES: &[&str] =
    &["Network labforge_lf-faults created", "Created lf-faults-postgres", "Ready postgres in", "Created lf-faults-app"];

#[test]
fn an_interrupt_at_each_phase_of_up_is_completed_by_the_next_up() {
    let _docker = exclusive();
    let project = stack();
    project.up_ok(&[]);
    let port = project.host_port("app", 8000);
    for name in ITEMS {
        let (status, body) = http(port, "POST", "/items", Some(&format!(r#"{{"name": "{name}"}}"#))).unwrap();
        assert_eq!(status, 201, "{body}");
    }
    for phase in PHASES {
        let down = project.run(&["down"]);
        assert!(down.status.success(), "{}", text(&down));
        let mut child = project.command(&["up"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut seen = Vec::new();
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("up never printed {phase:?}; it printed:\n{}", seen.join("\n")));
            let reached = line.contains(phase);
            seen.push(line);
            if reached {
                break;
            }
        }
        rustix::process::kill_process(rustix::process::Pid::from_child(&child), rustix::process::Signal::INT).unwrap();
        let exit = eventually(Duration::from_secs(15), "up exits after SIGINT", || child.try_wait().unwrap());
        assert_eq!(exit.code(), Some(130), "interrupted at {phase:?}");

        // The truth, whichever it is: the interrupted stack may go on starting by itself (an app
        // container already started becomes ready), so `status` may say all is well only when
        // the app does serve the items at that moment.
        let status = project.run(&["status"]);
        match status.status.code() {
            Some(1) => {}
            Some(0) => assert_eq!(served_items(&project), ITEMS, "status said ready at {phase:?}:\n{}", text(&status)),
            other => panic!("interrupted at {phase:?}, status exited {other:?}:\n{}", text(&status)),
        }
        let out = project.run(&["up"]);
        assert!(out.status.success(), "up after an interrupt at {phase:?}:\n{}", text(&out));
        assert_whole(&project, &format!("an interrupt at {phase:?}"));
    }
}
