//! The fast tier of the checks: check kinds that touch a service, run against a stack observed on
//! the in-memory Engine (no Docker), with the app played by a tiny HTTP server on loopback. Each
//! kind is shown on both sides: a case that passes and one that fails for its own reason.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::kinds::CheckKind;
use super::{Check, CheckResult, LabFiles, Stack, Workspace, run_steps};
use crate::check::runtime::AnyRuntime;
use crate::context::{Context, Env};
use crate::stack::docker::{ContainerSpec, Engine};
use crate::stack::fake::{Behaviour, FakeEngine, ImageFacts};
use crate::stack::project::{LABEL_MODE, LABEL_PROJECT, LABEL_SERVICE, Mode, Project};
use crate::stack::runtime::{OnDocker, Runtime};

const STACK: &str = "version: 1
project: shop
services:
  app:
    kind: app
    image: py
    ports: [\"8000\"]
";

/// An answer of the stand-in app: status, extra headers, JSON body.
type Answer = (u16, Vec<(&'static str, &'static str)>, String);

/// Serves the `n`th request (from 0) with `respond(n)`; returns its port.
async fn app(respond: impl Fn(usize) -> Answer + Send + Sync + 'static) -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let respond = std::sync::Arc::new(respond);
    tokio::spawn(async move {
        let mut served = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let (status, headers, body) = respond(served);
            served += 1;
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    port
}

/// Serves every request with `status` and the JSON `body`.
async fn app_answering(status: u16, body: &'static str) -> u16 {
    app(move |_| (status, Vec::new(), body.to_string())).await
}

/// The app's container on the fake Engine, publishing its port 8000 on `host_port`, running the
/// image `py` as `user`, and the workspace that checks it.
async fn workspace(dir: &Path, host_port: u16, facts: ImageFacts, behaviour: Behaviour) -> Workspace {
    workspace_on(dir, host_port, facts, behaviour, FakeEngine::default()).await
}

/// The same on a given fake Engine (scripted `exec` answers, say).
async fn workspace_on(
    dir: &Path,
    host_port: u16,
    facts: ImageFacts,
    behaviour: Behaviour,
    engine: FakeEngine,
) -> Workspace {
    std::fs::write(dir.join("labforge.yaml"), STACK).unwrap();
    let ctx = Context::new(Env::default());
    let project = Project::load(dir, Mode::Prod, &ctx).unwrap();
    engine.image("py", facts);
    engine.script("py", behaviour);
    let labels = HashMap::from([
        (LABEL_PROJECT.to_string(), "shop".to_string()),
        (LABEL_SERVICE.to_string(), "app".to_string()),
        (LABEL_MODE.to_string(), "production".to_string()),
    ]);
    let spec = ContainerSpec {
        name: "shop-app".into(),
        image: "py".into(),
        labels,
        ports: vec![(8000, host_port)],
        ..ContainerSpec::default()
    };
    let id = engine.create(&spec).await.unwrap();
    engine.start(&id).await.unwrap();
    let runtime = AnyRuntime::Fake(OnDocker::new(engine));
    let services = runtime.observe(&project).await.unwrap();
    let files = LabFiles::from_map("fast", Default::default());
    Workspace::new(dir, tera::Context::new(), files, &ctx).on(Stack { runtime, project, services })
}

fn check(name: &str, kind: &str, spec: serde_json::Value) -> Check {
    Check {
        name: name.into(),
        timeout: std::time::Duration::from_secs(10),
        kind: CheckKind::parse(kind, spec).unwrap(),
        guard: None,
    }
}

async fn run(ws: &Workspace, checks: &[Check]) -> Vec<CheckResult> {
    run_steps(ws, &[checks]).await.pop().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn http_checks_judge_the_apps_answer_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let port = app_answering(200, r#"{"status": "ok"}"#).await;
        let ws = workspace(dir.path(), port, ImageFacts::default(), Behaviour::Runs).await;
        let results = run(
            &ws,
            &[
                check(
                    "ok",
                    "http",
                    json!({"requests": [{"path": "/health", "expect": {"status": 200, "json": {"$.status": "ok"}}}]}),
                ),
                check("status", "http", json!({"requests": [{"path": "/health", "expect": {"status": 201}}]})),
                check(
                    "body",
                    "http",
                    json!({"requests": [{"path": "/health", "expect": {"json": {"$.status": "down"}}}]}),
                ),
            ],
        )
        .await;
        assert!(results[0].passed, "{:?}", results[0]);
        assert_eq!(
            (results[1].expected.as_deref(), results[1].actual.as_deref()),
            (Some("status 201"), Some(r#"status 200 {"status": "ok"}"#)),
            "{:?}",
            results[1]
        );
        assert!(
            !results[2].passed && results[2].reason.as_deref().unwrap_or_default().contains("$.status"),
            "{:?}",
            results[2]
        );
    });
}

#[test]
fn container_checks_judge_what_the_runtime_observes() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let port = app_answering(200, "{}").await;
        let facts = ImageFacts { size_bytes: 250_000_000, healthcheck: false, user: String::new() };
        let ws = workspace(dir.path(), port, facts, Behaviour::Runs).await;
        let results = run(
            &ws,
            &[
                check("running", "container", json!({"service": "app", "expect": {"running": true}})),
                check("non-root", "container", json!({"service": "app", "expect": {"non_root": true}})),
                check("small", "container", json!({"service": "app", "expect": {"max_image_mb": 100}})),
                check("healthcheck", "container", json!({"service": "app", "expect": {"healthcheck": true}})),
                check("missing", "container", json!({"service": "nosuch", "expect": {"running": true}})),
            ],
        )
        .await;
        let sides: Vec<(&str, bool, Option<&str>)> =
            results.iter().map(|r| (r.name.as_str(), r.passed, r.actual.as_deref())).collect();
        assert_eq!(
            sides,
            [
                ("running", true, None),
                ("non-root", false, Some("root (no USER)")),
                ("small", false, Some("250 MB")),
                ("healthcheck", false, Some("no HEALTHCHECK in the image")),
                ("missing", false, Some("none (start the stack with `labforge up`)")),
            ]
        );

        let facts = ImageFacts { size_bytes: 60_000_000, healthcheck: true, user: "10001".into() };
        let ws = workspace(dir.path(), port, facts, Behaviour::Runs).await;
        let results = run(
            &ws,
            &[check("all", "container", json!({"service": "app", "expect": {"running": true, "non_root": true, "max_image_mb": 100, "healthcheck": true}}))],
        )
        .await;
        assert!(results[0].passed, "{:?}", results[0]);
    });
}

#[test]
fn a_service_that_exited_is_named_as_not_running() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let ws = workspace(dir.path(), 1, ImageFacts::default(), Behaviour::Exits(1)).await;
        let stack = ws.stack().await.unwrap();
        assert_eq!(stack.not_running(), ["`app` is exited"]);
        let results = run(&ws, &[check("answers", "http", json!({"requests": [{"path": "/health"}]}))]).await;
        assert_eq!(
            results[0].reason.as_deref(),
            Some("`app` is not running (start the stack with `labforge up`)"),
            "{:?}",
            results[0]
        );
    });
}

#[test]
fn a_ratelimit_check_needs_a_429_with_retry_after_within_its_requests() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        // Three requests pass, then the limit answers.
        let port = app(|n| match n {
            0..3 => (200, Vec::new(), "[]".to_string()),
            _ => (429, vec![("retry-after", "5")], r#"{"detail": "slow down"}"#.to_string()),
        })
        .await;
        let ws = workspace(dir.path(), port, ImageFacts::default(), Behaviour::Runs).await;
        let too_few =
            run(&ws, &[check("too few", "ratelimit", json!({"request": {"path": "/items"}, "requests": 2}))]).await;
        assert_eq!(too_few[0].actual.as_deref(), Some("statuses [200×2]"), "{:?}", too_few[0]);
        let enough =
            run(&ws, &[check("enough", "ratelimit", json!({"request": {"path": "/items"}, "requests": 10}))]).await;
        assert!(enough[0].passed, "{:?}", enough[0]);
    });
}

#[test]
fn a_graphql_check_reads_the_data_it_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let port = app_answering(200, r#"{"data": {"items": [{"name": "kettle"}]}}"#).await;
        let ws = workspace(dir.path(), port, ImageFacts::default(), Behaviour::Runs).await;
        let results = run(
            &ws,
            &[
                check(
                    "kettle",
                    "graphql",
                    json!({"query": "{ items { name } }", "expect": {"data": {"$.items[0].name": "kettle"}}}),
                ),
                check(
                    "teapot",
                    "graphql",
                    json!({"query": "{ items { name } }", "expect": {"data": {"$.items[0].name": "teapot"}}}),
                ),
            ],
        )
        .await;
        assert!(results[0].passed, "{:?}", results[0]);
        assert!(
            !results[1].passed && results[1].reason.as_deref().unwrap_or_default().contains("teapot"),
            "{:?}",
            results[1]
        );
    });
}

#[test]
fn the_same_command_checked_by_two_steps_runs_once_and_answers_both() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let engine = FakeEngine::default();
        engine.answer_exec("python", 1, "alembic.util.exc.CommandError: Multiple head revisions");
        let ws = workspace_on(dir.path(), 1, ImageFacts::default(), Behaviour::Runs, engine).await;
        let AnyRuntime::Fake(on) = &ws.stack().await.unwrap().runtime else { unreachable!("a fake stack") };
        let engine = on.engine();
        engine.clear_calls();
        let migrate = json!({"in": "app", "run": ["python", "-m", "shop.migrate"]});
        let crud = [check("schema is up to date", "command", migrate.clone())];
        let price = [
            check("your migration applies", "command", migrate),
            check(
                "scratch database",
                "command",
                json!({"in": "app", "isolated": true, "run": ["python", "-c", "up(); down(); up()"]}),
            ),
        ];
        let results = run_steps(&ws, &[&crud, &price]).await;
        let mut execs: Vec<String> = engine.calls().into_iter().filter(|c| c.starts_with("exec")).collect();
        execs.sort();
        assert_eq!(
            execs,
            ["exec shop-app python -c up(); down(); up()", "exec shop-app python -m shop.migrate"],
            "the repeated command ran again"
        );
        let (first, again) = (&results[0][0], &results[1][0]);
        assert_eq!((first.passed, again.passed), (false, false));
        assert_eq!(again.name, "your migration applies");
        assert_eq!(again.actual, first.actual);
        assert!(
            !price[1].kind.is_ordered() && price[0].kind.is_ordered(),
            "an isolated command runs beside the others"
        );
    });
}

#[test]
fn a_command_in_the_app_is_judged_by_its_exit_code_and_output() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let engine = FakeEngine::default();
        engine.answer_exec("python", 0, "10001\n");
        engine.answer_exec("alembic", 1, "FAILED: Can't locate revision");
        let ws = workspace_on(dir.path(), 1, ImageFacts::default(), Behaviour::Runs, engine).await;
        let results = run(
            &ws,
            &[
                check("uid", "command", json!({"in": "app", "run": ["python", "-c", "import os; print(os.getuid())"], "expect": {"stdout_contains": "10001"}})),
                check("root", "command", json!({"in": "app", "run": ["python", "-c", "import os; print(os.getuid())"], "expect": {"stdout_contains": "0\n"}})),
                check("migrate", "command", json!({"in": "app", "run": ["alembic", "upgrade", "head"]})),
            ],
        )
        .await;
        assert!(results[0].passed, "{:?}", results[0]);
        assert_eq!(results[1].actual.as_deref(), Some("10001"), "{:?}", results[1]);
        assert_eq!(results[2].actual.as_deref(), Some("exit code 1: FAILED: Can't locate revision"), "{:?}", results[2]);
    });
}

#[test]
fn requests_no_http_client_could_send_are_refused_when_the_lab_is_read() {
    let files = LabFiles::from_map("fast", Default::default());
    let refusal = |spec: serde_json::Value| CheckKind::parse("http", spec).unwrap().validate(&files).err();
    assert_eq!(
        refusal(
            json!({"requests": [{"method": "PATCH", "path": "/items/1", "headers": {"X-Forwarded-For": "203.0.113.7"}}]})
        ),
        None
    );
    assert_eq!(
        refusal(json!({"requests": [{"method": "PO ST\r\nX: y", "path": "/"}]})).as_deref(),
        Some("`method: PO ST\\r\\nX: y` is no HTTP method (e.g. GET, POST, PATCH)")
    );
    assert_eq!(
        refusal(json!({"requests": [{"path": "/", "expect": {"status": 9999}}]})).as_deref(),
        Some("`status: 9999` is no HTTP status: use 100 to 599")
    );
    assert_eq!(
        refusal(json!({"requests": [{"path": "/", "headers": {"X-Api-Key": "a\r\nX-Admin: 1"}}]})).as_deref(),
        Some("header `X-Api-Key: a\\r\\nX-Admin: 1` is not a valid HTTP header")
    );
    assert_eq!(
        refusal(json!({"login": {"token": {"path": "/auth/token", "method": "GET /"}}, "requests": [{"path": "/"}]}))
            .as_deref(),
        Some("login: `method: GET /` is no HTTP method (e.g. GET, POST, PATCH)")
    );
}
