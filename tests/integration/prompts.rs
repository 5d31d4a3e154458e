//! On a terminal, `labforge new` asks for the options it was not given. These tests drive the
//! real binary through a pseudo-terminal (Python's `pty` module) like a person at the keyboard.

use std::process::Command;

use crate::support::python::host_python;
use crate::support::{Test, labforge_bin};

/// Runs labforge on a pty in `cwd`; `steps` alternate between text to wait for (each with a
/// 10-second deadline) and keys to send. Returns the exit code and the transcript.
const DRIVER: &str = r#"
import json, os, pty, select, sys, time
binary, cwd, args, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.environ["NO_COLOR"] = "1"
    os.execv(binary, [binary] + args)
seen = b""
def read_until(text, deadline):
    global seen
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.stdout.write("TIMEOUT waiting for %r\n" % text)
            return False
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return text.encode() in seen
            if not chunk:
                return text.encode() in seen
            seen += chunk
    return True
for kind, value in steps:
    if kind == "expect":
        if not read_until(value, time.monotonic() + 10):
            os.kill(pid, 9)
            break
    else:
        os.write(fd, value.encode())
read_until("\0never", time.monotonic() + 10)
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.stdout.write("EXIT %d\n" % code)
sys.stdout.write(seen.decode(errors="replace"))
"#;

fn drive(test: &Test, args: &[&str], steps: &[(&str, &str)]) -> (i32, String) {
    let steps: Vec<[&str; 2]> = steps.iter().map(|(k, v)| [*k, *v]).collect();
    let out = Command::new(host_python())
        .args(["-c", DRIVER])
        .arg(labforge_bin())
        .arg(test.work())
        .arg(serde_json::to_string(args).unwrap())
        .arg(serde_json::to_string(&steps).unwrap())
        .env_remove("LABFORGE_TEMPLATES")
        .output()
        .expect("run the pty driver");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = text.lines().next().and_then(|l| l.strip_prefix("EXIT ")).and_then(|c| c.parse().ok()).unwrap_or(-1);
    (code, text)
}

const DOWN: &str = "\x1b[B";

#[test]
fn asks_for_missing_options_on_a_terminal() {
    let test = Test::new();
    let (code, transcript) = drive(
        &test,
        &["new", "shop", "--db", "none"],
        &[
            ("expect", "Framework"),
            ("send", "\r"), // fastapi, the default
            ("expect", "Authentication"),
            ("send", DOWN),
            ("send", "\r"), // none
            ("expect", "Optional features"),
            ("send", " "), // graphql, the first
            ("send", "\r"),
            ("expect", "Created shop"),
        ],
    );
    assert_eq!(code, 0, "{transcript}");
    assert!(!transcript.contains("Database"), "--db was given, so it must not be asked:\n{transcript}");
    let answers = std::fs::read_to_string(test.work().join("shop/.labforge/answers.yaml")).unwrap();
    assert!(answers.contains("template: fastapi"), "{answers}");
    assert!(answers.contains("db: none") && answers.contains("auth: none"), "{answers}");
    assert!(answers.contains("extras:\n  - graphql"), "{answers}");
}

#[test]
fn yes_never_asks_even_on_a_terminal() {
    let test = Test::new();
    let (code, transcript) = drive(&test, &["new", "shop", "--yes"], &[("expect", "Created shop")]);
    assert_eq!(code, 0, "{transcript}");
    assert!(!transcript.contains("Framework"), "{transcript}");
}

#[test]
fn ctrl_c_at_a_prompt_exits_130_and_writes_nothing() {
    let test = Test::new();
    let (code, transcript) = drive(&test, &["new", "shop"], &[("expect", "Framework"), ("send", "\x03")]);
    assert_eq!(code, 130, "{transcript}");
    assert_eq!(std::fs::read_dir(test.work()).unwrap().count(), 0, "nothing written");
}
