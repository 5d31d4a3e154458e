//! Generated apps against schemathesis: each FastAPI database, Flask on PostgreSQL and without a
//! database, and Django on PostgreSQL, with the richest options `labforge new` offers, brought up
//! on the real Docker daemon and attacked through their own OpenAPI description. MongoDB is the
//! nx-27017 stand-in (tests/images), not mongod.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::python::tool;
use crate::support::stack::{StackProject, eventually, exclusive};

/// The checks of the issue: no 5xx, only documented statuses, bodies and content types.
const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance";
/// Examples per operation and phase: enough to reach every documented failure mode seen so far,
/// few enough that a run takes well under a minute.
const MAX_EXAMPLES: &str = "30";
/// A fixed seed, so a failure reproduces.
const SEED: &str = "1";
const RUN_DEADLINE: Duration = Duration::from_secs(300);

const EMAIL: &str = "schemathesis@example.com";
const PASSWORD: &str = "correct-horse-battery";

/// One request to the app on `port`, with `content_type`; the status and body, or `None` when
/// the app does not answer.
fn request(port: u16, path: &str, content_type: &str, body: &str) -> Option<(u16, String)> {
    crate::support::stack::http_as(port, "POST", path, content_type, body)
}

/// How a framework's API issues a bearer token: register, then log in.
enum Login {
    /// FastAPI: JSON `{email, password}` to /auth/register, an OAuth2 password form to /auth/token.
    FastApi,
    /// Flask and Django: JSON `{username, password}` to /auth/register and /auth/login.
    Username,
}

impl Login {
    fn token(&self, port: u16) -> String {
        let (register, login, login_type, login_body, account) = match self {
            Login::FastApi => (
                "/auth/register",
                "/auth/token",
                "application/x-www-form-urlencoded",
                format!("username={}&password={PASSWORD}", EMAIL.replace('@', "%40")),
                format!(r#"{{"email": "{EMAIL}", "password": "{PASSWORD}"}}"#),
            ),
            Login::Username => {
                let body = format!(r#"{{"username": "schemathesis", "password": "{PASSWORD}"}}"#);
                ("/auth/register", "/auth/login", "application/json", body.clone(), body)
            }
        };
        let (status, answer) = request(port, register, "application/json", &account).expect("the app answers");
        assert_eq!(status, 201, "register: {answer}");
        let (status, answer) = request(port, login, login_type, &login_body).expect("the app answers");
        assert_eq!(status, 200, "log in: {answer}");
        let doc: serde_json::Value = serde_json::from_str(&answer).unwrap_or_else(|_| panic!("token: {answer}"));
        doc["access_token"].as_str().unwrap_or_else(|| panic!("no access_token: {answer}")).to_string()
    }
}

/// What a schemathesis run printed, and how many cases it generated.
struct Run {
    output: String,
    success: bool,
    cases: u64,
}

/// `st run` against the app's OpenAPI description, with the token on every request, killed at
/// the deadline.
fn schemathesis(schema_url: &str, token: &str) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let mut child = tool("st")
        .args(["run", schema_url, "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "1", "--request-timeout", "10", "--header"])
        .arg(format!("Authorization: Bearer {token}"))
        .current_dir(scratch.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run schemathesis");
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let (mut out, mut err) = (String::new(), String::new());
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        out + &err
    });
    let status = eventually(RUN_DEADLINE, "schemathesis finishes", || match child.try_wait() {
        Ok(Some(status)) => Some(status),
        Ok(None) => {
            // `eventually` polls; a run takes tens of seconds, so no more than a short nap here.
            std::thread::sleep(Duration::from_millis(200));
            None
        }
        Err(e) => panic!("waiting for schemathesis: {e}"),
    });
    let output = reader.join().unwrap();
    let cases = summary_cases(&output).unwrap_or_else(|| panic!("no test-case summary in:\n{output}"));
    Run { output, success: status.success(), cases }
}

/// The number of generated cases from schemathesis's summary (`  701 generated, 701 passed`).
fn summary_cases(output: &str) -> Option<u64> {
    let mut lines = output.lines().skip_while(|l| l.trim() != "Test cases:");
    lines.next()?;
    lines.next()?.split_whitespace().next()?.parse().ok()
}

/// Brings up `name` with `args`, lifts its rate limit so the run exercises the logic rather than
/// the limiter, and asserts that schemathesis finds nothing.
fn attack(name: &str, args: &[&str], login: Login) {
    let _docker = exclusive();
    let started = Instant::now();
    let project = StackProject::new(name, args);
    let env_file = project.dir.join(".env");
    let env = std::fs::read_to_string(&env_file).unwrap();
    let mut env: String = env.lines().filter(|l| !l.starts_with("RATE_LIMIT=")).map(|l| format!("{l}\n")).collect();
    env.push_str("RATE_LIMIT=100000/minute\n");
    std::fs::write(&env_file, env).unwrap();
    // Other test processes on this machine publish ports too: one that takes a port between `up`
    // choosing it and Docker binding it makes `up` choose another by itself.
    project.up_ok(&[]);
    let port = project.host_port("app", 8000);
    let token = login.token(port);
    let up = started.elapsed();

    let run = schemathesis(&format!("http://127.0.0.1:{port}/openapi.json"), &token);
    println!(
        "{name} ({}): {} cases, schemathesis {:.1}s after {:.1}s to come up",
        args.join(" "),
        run.cases,
        (started.elapsed() - up).as_secs_f64(),
        up.as_secs_f64()
    );
    assert!(run.success && run.cases > 0, "schemathesis found failures in {name}:\n{}", run.output);
}

const FASTAPI_ALL: [&str; 4] = ["--auth", "jwt", "--with", "graphql,ratelimit,oauth"];

#[test]
fn schemathesis_finds_nothing_in_fastapi_on_postgres() {
    attack("lf-st-fp", &[&["--db", "postgres"], &FASTAPI_ALL[..]].concat(), Login::FastApi);
}

#[test]
fn schemathesis_finds_nothing_in_fastapi_on_mongo() {
    attack("lf-st-fm", &[&["--db", "mongo"], &FASTAPI_ALL[..]].concat(), Login::FastApi);
}

#[test]
fn schemathesis_finds_nothing_in_fastapi_without_a_database() {
    attack("lf-st-fn", &[&["--db", "none"], &FASTAPI_ALL[..]].concat(), Login::FastApi);
}

const FLASK_ALL: [&str; 6] = ["--framework", "flask", "--auth", "jwt", "--with", "ratelimit"];

#[test]
fn schemathesis_finds_nothing_in_flask_on_postgres() {
    attack("lf-st-lp", &[&FLASK_ALL[..], &["--db", "postgres"]].concat(), Login::Username);
}

#[test]
fn schemathesis_finds_nothing_in_flask_without_a_database() {
    attack("lf-st-ln", &[&FLASK_ALL[..], &["--db", "none"]].concat(), Login::Username);
}

#[test]
fn schemathesis_finds_nothing_in_django_on_postgres() {
    let args = ["--framework", "django", "--db", "postgres", "--auth", "jwt", "--with", "ratelimit"];
    attack("lf-st-dp", &args, Login::Username);
}

#[test]
fn schemathesis_summary_gives_the_number_of_cases() {
    let output = "Test cases:\n  701 generated, 701 passed\n\nSeed: 1\n";
    assert_eq!(summary_cases(output), Some(701));
    assert_eq!(summary_cases("no summary"), None);
}
