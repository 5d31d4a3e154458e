//! The fast tier of the stack: `up`, `down` and instances against the in-memory Engine
//! ([`super::fake`]) — reconcile, start order, failures, deadlines, interrupts and the events
//! reported — with no daemon and no network. Time is paused: deadlines pass at once.

use std::path::Path;
use std::time::Duration;

use super::down::down;
use super::fake::{Behaviour, FakeEngine};
use super::instance;
use super::project::{Mode, Project};
use super::ready::Readiness;
use super::up::{Action, UpOptions, UpReport, up};
use crate::context::{Context, Env};
use crate::interrupt::Interrupt;
use crate::report::{Event, Object, Recorder, Silent, Started};
use crate::stack::runtime::Runtime;

/// A database, and an app that depends on it; no published ports, so a running container with no
/// healthcheck is ready (the protocol probes are tested against real services elsewhere).
const STACK: &str = "version: 1
project: shop
services:
  db:
    kind: postgres
    image: pg
    volumes: [\"pgdata:/var/lib/postgresql/data\"]
  app:
    kind: app
    image: py
    depends_on: [db]
    environment: { MODE: one }
";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
}

fn load(dir: &Path, yaml: &str) -> Project {
    std::fs::write(dir.join("labforge.yaml"), yaml).unwrap();
    Project::load(dir, Mode::Dev, &Context::new(Env::default())).unwrap()
}

/// The stack with an app that does not depend on the database and has a healthcheck, so only its
/// own events, log and deadline decide its readiness.
fn app_with_healthcheck() -> String {
    STACK.replace("    depends_on: [db]\n", "    healthcheck: { test: [CMD, x], interval: 1s }\n")
}

fn options() -> UpOptions {
    UpOptions { timeout: Duration::from_secs(30), strict_ports: false, ca_bundle: None }
}

async fn up_with(engine: &FakeEngine, project: &Project, interrupt: &Interrupt) -> (UpReport, Vec<Event>) {
    let recorder = Recorder::default();
    let report = up(engine, project, &options(), &recorder, interrupt).await.unwrap();
    (report, recorder.events())
}

fn actions(report: &UpReport) -> Vec<(String, Action)> {
    report.services.iter().map(|s| (s.name.clone(), s.action)).collect()
}

fn readiness<'r>(report: &'r UpReport, service: &str) -> &'r Readiness {
    &report.services.iter().find(|s| s.name == service).expect("the service is reported").readiness
}

#[test]
fn up_creates_in_dependency_order_then_changes_nothing_then_recreates_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), STACK);
    let engine = FakeEngine::default();
    runtime().block_on(async {
        let (report, events) = up_with(&engine, &project, &Interrupt::never()).await;
        assert!(report.all_ready(), "{report:?}");
        assert_eq!(actions(&report), [("db".into(), Action::Created), ("app".into(), Action::Created)]);
        let calls = engine.calls();
        let at = |call: &str| calls.iter().position(|c| c == call).unwrap_or_else(|| panic!("no {call}: {calls:?}"));
        assert!(at("start shop-db") < at("start shop-app"), "the app starts once the db has started: {calls:?}");
        assert!(at("create volume shop_pgdata") < at("create shop-db"));
        assert_eq!(events[0], Event::Created { object: Object::Network, name: "labforge_shop".into() });
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::ServiceStarted { service, how: Started::Created, .. } if service == "app"))
        );
        assert!(
            events.iter().any(|e| matches!(e, Event::ServiceReady { service, seconds: Some(_) } if service == "db"))
        );

        engine.clear_calls();
        let (again, events) = up_with(&engine, &project, &Interrupt::never()).await;
        assert_eq!(actions(&again), [("db".into(), Action::Unchanged), ("app".into(), Action::Unchanged)]);
        assert_eq!(engine.calls(), Vec::<String>::new(), "a second up touches nothing");
        assert!(events.iter().all(|e| matches!(e, Event::ServiceReady { seconds: None, .. })), "{events:?}");

        let changed = load(dir.path(), &STACK.replace("MODE: one", "MODE: two"));
        let on = crate::stack::runtime::OnDocker::new(engine);
        assert_eq!(outdated(&on, &project).await, Vec::<String>::new(), "status: all current");
        assert_eq!(outdated(&on, &changed).await, ["app"], "status: the edited service is outdated");
        let engine = on.engine();
        engine.clear_calls();
        let (third, _) = up_with(engine, &changed, &Interrupt::never()).await;
        assert_eq!(actions(&third), [("db".into(), Action::Unchanged), ("app".into(), Action::Recreated)]);
        assert_eq!(engine.calls(), ["remove shop-app", "create shop-app", "start shop-app"]);
        assert!(engine.env_of("shop-app").unwrap().contains(&("MODE".into(), "two".into())));
        assert_eq!(outdated(&on, &changed).await, Vec::<String>::new(), "status after up: all current");
    });
}

/// The services `status` calls outdated.
async fn outdated(on: &crate::stack::runtime::OnDocker<FakeEngine>, project: &Project) -> Vec<String> {
    on.observe(project).await.unwrap().into_iter().filter(|o| o.outdated).map(|o| o.service).collect()
}

#[test]
fn a_network_removed_by_hand_is_reported_broken_and_the_next_up_reattaches_every_container() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), STACK);
    let engine = FakeEngine::default();
    runtime().block_on(async {
        up_with(&engine, &project, &Interrupt::never()).await;
        // `docker network disconnect` of both containers, then `docker network rm`.
        engine.cut_network("labforge_shop");
        let on = crate::stack::runtime::OnDocker::new(engine);
        let observed = on.observe(&project).await.unwrap();
        assert!(observed.iter().all(|o| o.is_running()), "the containers still run");
        let broken: Vec<&str> = observed.iter().filter_map(|o| o.broken.as_deref()).collect();
        assert_eq!(broken.len(), 2, "status tells the truth: {observed:?}");
        assert!(broken[0].contains("not on the project's network `labforge_shop`"), "{broken:?}");

        let engine = on.engine();
        engine.clear_calls();
        let (report, _) = up_with(engine, &project, &Interrupt::never()).await;
        assert!(report.all_ready(), "{report:?}");
        assert_eq!(actions(&report), [("db".into(), Action::Recreated), ("app".into(), Action::Recreated)]);
        assert!(engine.calls().contains(&"create network labforge_shop".to_string()), "{:?}", engine.calls());
        assert!(!engine.calls().iter().any(|c| c.starts_with("remove volume")), "the data is kept");
        let observed = on.observe(&project).await.unwrap();
        assert!(observed.iter().all(|o| o.is_running() && o.broken.is_none()), "{observed:?}");
    });
}

#[test]
fn a_pull_that_fails_says_how_to_use_an_image_this_machine_has() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), STACK);
    let engine = FakeEngine::default();
    engine.fail_pulls("Get \"https://registry.example/v2/\": dial tcp: lookup registry.example: no such host\nmore");
    runtime().block_on(async {
        let err = up(&engine, &project, &options(), &Silent, &Interrupt::never()).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot pull `pg` for `db` (Get \"https://registry.example/v2/\": dial tcp: lookup registry.example: no such host): \
             to use an image this machine has, set LABFORGE_IMAGE_POSTGRES=IMAGE (or `images.postgres` in labforge's config \
             file); or load one with `docker load -i FILE`"
        );
        assert!(engine.container_names().is_empty(), "nothing is created");
    });
}

/// The stack with an app that has a healthcheck (so only its own events decide when it is ready)
/// and depends on the database as `depends` says.
fn app_depending(depends: &str) -> String {
    STACK.replace(
        "    depends_on: [db]\n",
        &format!("    depends_on: {depends}\n    healthcheck: {{ test: [CMD, x], interval: 1s }}\n"),
    )
}

#[test]
fn a_dependency_that_dies_fails_with_its_exit_code_and_so_does_its_started_dependent() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), &app_depending("[db]"));
    let engine = FakeEngine::default();
    engine.script("pg", Behaviour::Exits(3));
    runtime().block_on(async {
        let started = tokio::time::Instant::now();
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        assert!(!report.all_ready());
        // Seen by its die event, or by its state when it died before the wait began.
        let died = ["the container exited with code 3", "the container is exited (exit code 3)"];
        let db = readiness(&report, "db");
        assert!(matches!(db, Readiness::Failed { reason, .. } if died.contains(&reason.as_str())), "{db:?}");
        // The app started beside it, and waited for it by itself: its wait ends with the db's.
        assert!(engine.calls().contains(&"start shop-app".to_string()), "{:?}", engine.calls());
        let app = readiness(&report, "app");
        assert!(
            matches!(app, Readiness::Failed { reason, .. } if reason == "`db`, which it depends on, did not become ready"),
            "{app:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1), "no waiting for the app's deadline");
    });
}

#[test]
fn a_dependent_starts_before_its_dependency_is_ready_unless_it_asks_for_condition_ready() {
    // The db never turns healthy: it fails at the deadline.
    let db_never_ready =
        |yaml: String| yaml.replace("    image: pg\n", "    image: pg\n    healthcheck: { test: [CMD, x] }\n");
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), &db_never_ready(STACK.to_string()));
    let engine = FakeEngine::default();
    runtime().block_on(async {
        let (report, events) = up_with(&engine, &project, &Interrupt::never()).await;
        assert!(matches!(readiness(&report, "db"), Readiness::Failed { .. }), "{report:?}");
        assert_eq!(engine.calls().iter().filter(|c| c.starts_with("start ")).count(), 2, "{:?}", engine.calls());
        // The order stays visible: the db's start is reported before the app's.
        let started: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::ServiceStarted { service, .. } => Some(service.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(started, ["db", "app"]);
    });

    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), &db_never_ready(app_depending("{ db: { condition: ready } }")));
    let engine = FakeEngine::default();
    runtime().block_on(async {
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        let app = report.services.iter().find(|s| s.name == "app").unwrap();
        assert_eq!(app.action, Action::Skipped);
        assert!(matches!(&app.readiness, Readiness::Skipped { reason } if reason == "`db` is not ready"), "{app:?}");
        assert!(!engine.calls().contains(&"start shop-app".to_string()), "it never starts: {:?}", engine.calls());
    });
}

/// The stack with its app asking for a port that was free when labforge looked: that port and
/// the project.
fn app_on_a_free_port(dir: &Path) -> (u16, Project) {
    let wanted = crate::stack::ports::free_port().unwrap();
    let spec = STACK.replace("    image: py\n", &format!("    image: py\n    ports: [\"{wanted}:8000\"]\n"));
    (wanted, load(dir, &spec))
}

#[test]
fn a_port_taken_between_the_check_and_the_start_is_replaced_and_the_one_used_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let (wanted, project) = app_on_a_free_port(dir.path());
    let engine = FakeEngine::default();
    engine.take_port(wanted);
    runtime().block_on(async {
        // Nothing answers the app's probe here: its start is what this is about.
        let (report, events) = up_with(&engine, &project, &Interrupt::never()).await;
        let app = report.services.iter().find(|s| s.name == "app").unwrap();
        let used = app.ports[0].1;
        assert_ne!(used, wanted);
        assert_eq!(app.ports, [(8000, used)]);
        assert_eq!(engine.ports_of("shop-app"), Some(vec![(8000, used)]), "the container is published on it");
        assert!(
            events.contains(&Event::PortMoved {
                service: "app".into(),
                wanted,
                used,
                wanted_free: true,
                host: "127.0.0.1".into()
            }),
            "{events:?}"
        );
        let announced: Vec<&Vec<(u16, u16)>> = events
            .iter()
            .filter_map(|e| match e {
                Event::ServiceStarted { service, ports, .. } if service == "app" => Some(ports),
                _ => None,
            })
            .collect();
        assert_eq!(announced, [&vec![(8000, used)]], "announced once, with the port used");
        let calls = engine.calls();
        let app_calls: Vec<&str> = calls.iter().map(String::as_str).filter(|c| c.ends_with("shop-app")).collect();
        assert_eq!(
            app_calls,
            ["create shop-app", "start shop-app", "remove shop-app", "create shop-app", "start shop-app"]
        );
    });
}

#[test]
fn ports_taken_on_every_attempt_fail_after_a_bounded_number_and_leave_no_container() {
    let dir = tempfile::tempdir().unwrap();
    let (wanted, project) = app_on_a_free_port(dir.path());
    let engine = FakeEngine::default();
    engine.take_every_port();
    runtime().block_on(async {
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        let Readiness::Failed { reason, .. } = readiness(&report, "app") else { panic!("{report:?}") };
        assert!(reason.contains("port is already allocated"), "{reason}");
        let starts = engine.calls().iter().filter(|c| *c == "start shop-app").count();
        assert_eq!(starts, 5, "bounded attempts");
        assert_eq!(engine.container_names(), ["shop-db"], "no app container left behind");
    });
    // With --strict-ports, the port asked for is not replaced.
    let engine = FakeEngine::default();
    engine.take_port(wanted);
    runtime().block_on(async {
        let strict = UpOptions { strict_ports: true, ..options() };
        let report = up(&engine, &project, &strict, &Silent, &Interrupt::never()).await.unwrap();
        assert!(matches!(readiness(&report, "app"), Readiness::Failed { .. }), "{report:?}");
        assert_eq!(engine.calls().iter().filter(|c| *c == "start shop-app").count(), 1);
    });
}

#[test]
fn an_app_that_crashes_in_its_log_fails_with_its_traceback() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), &app_with_healthcheck());
    let engine = FakeEngine::default();
    let traceback =
        ["Traceback (most recent call last):", "  File \"main.py\", line 1", "NameError: name 'x' is not defined"];
    engine.script("py", Behaviour::Logs(traceback.iter().map(|l| l.to_string()).collect()));
    runtime().block_on(async {
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        let Readiness::Failed { reason, logs, .. } = readiness(&report, "app") else { panic!("{report:?}") };
        assert_eq!(reason, "the app crashed while starting (its traceback is below)");
        assert_eq!(logs.last().map(String::as_str), Some("NameError: name 'x' is not defined"));
    });
}

#[test]
fn an_undecided_healthcheck_fails_at_the_deadline_and_an_unhealthy_one_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), &app_with_healthcheck());
    let engine = FakeEngine::default();
    runtime().block_on(async {
        let started = tokio::time::Instant::now();
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        let Readiness::Failed { reason, .. } = readiness(&report, "app") else { panic!("{report:?}") };
        assert!(reason.starts_with("not ready after 30s"), "{reason}");
        assert!(started.elapsed() >= Duration::from_secs(30), "the deadline, not sooner");
        assert!(matches!(readiness(&report, "db"), Readiness::Ready { .. }), "the db does not wait for the app");
    });
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), &app_with_healthcheck());
    let engine = FakeEngine::default();
    engine.script("py", Behaviour::Unhealthy);
    runtime().block_on(async {
        let started = tokio::time::Instant::now();
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        let Readiness::Failed { reason, .. } = readiness(&report, "app") else { panic!("{report:?}") };
        assert_eq!(reason, "the container's healthcheck reports unhealthy");
        assert!(started.elapsed() < Duration::from_secs(1), "no waiting for the deadline");
    });
}

#[test]
fn an_interrupt_before_the_start_creates_nothing_and_the_next_up_continues() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(dir.path(), STACK);
    let engine = FakeEngine::default();
    runtime().block_on(async {
        let (interrupted, _) = up_with(&engine, &project, &Interrupt::fired()).await;
        assert!(interrupted.interrupted);
        assert!(engine.container_names().is_empty(), "{:?}", engine.calls());
        let (report, _) = up_with(&engine, &project, &Interrupt::never()).await;
        assert!(report.all_ready(), "{report:?}");
        assert_eq!(engine.container_names(), ["shop-app", "shop-db"]);
    });
}

#[test]
fn two_folders_of_one_project_get_their_own_objects_and_go_down_alone() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let engine = FakeEngine::default();
    runtime().block_on(async {
        let first = instance::place(&engine, load(a.path(), STACK)).await.unwrap();
        up(&engine, &first, &options(), &Silent, &Interrupt::never()).await.unwrap();
        let second = instance::place(&engine, load(b.path(), STACK)).await.unwrap();
        assert_ne!(second.instance, first.instance);
        let report = up(&engine, &second, &options(), &Silent, &Interrupt::never()).await.unwrap();
        assert!(report.all_ready(), "{report:?}");
        let suffixed = second.instance.name().to_string();
        let mut expected =
            vec!["shop-app".to_string(), "shop-db".into(), format!("{suffixed}-app"), format!("{suffixed}-db")];
        expected.sort();
        assert_eq!(engine.container_names(), expected);
        // Placed again, each folder finds its own instance.
        assert_eq!(instance::place(&engine, load(a.path(), STACK)).await.unwrap().instance, first.instance);
        assert_eq!(instance::place(&engine, load(b.path(), STACK)).await.unwrap().instance, second.instance);

        down(&engine, first.instance.name(), false, &Silent).await.unwrap();
        assert_eq!(engine.container_names(), [format!("{suffixed}-app"), format!("{suffixed}-db")]);
        // Its kept volume still holds the readable name for the first folder.
        assert_eq!(instance::place(&engine, load(a.path(), STACK)).await.unwrap().instance, first.instance);
    });
}

#[test]
fn a_context_that_names_the_instance_runs_the_project_as_that_seat() {
    let dir = tempfile::tempdir().unwrap();
    let engine = FakeEngine::default();
    let docker = crate::stack::runtime::OnDocker::new(engine);
    let ctx = Context::new(Env::default());
    runtime().block_on(async {
        let own = docker.place_in(load(dir.path(), STACK), &ctx).await.unwrap();
        docker.ensure(&own, &options(), &Silent, &Interrupt::never()).await.unwrap();
        // The same folder as seat 07: its own containers, network and volume beside the others.
        let seat = docker.place_in(load(dir.path(), STACK), &ctx.with_instance("seat-07")).await.unwrap();
        assert_eq!(seat.instance.name(), "shop-seat-07");
        let report = docker.ensure(&seat, &options(), &Silent, &Interrupt::never()).await.unwrap();
        assert!(report.all_ready(), "{report:?}");
        assert_eq!(docker.engine().container_names(), ["shop-app", "shop-db", "shop-seat-07-app", "shop-seat-07-db"]);
        assert!(seat.services.iter().any(|s| s.volumes.iter().any(|(v, _)| v == "shop-seat-07_pgdata")));
        docker.tear_down(&seat, true, &Silent).await.unwrap();
        assert_eq!(docker.engine().container_names(), ["shop-app", "shop-db"], "the seat goes down alone");
    });
}
