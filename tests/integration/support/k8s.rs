//! A scripted Kubernetes API server for the deploy tests: `tests/k8s/emulator.py` (kmock's
//! emulator, run by the tools venv's Python; see tests/k8s/README.md), a kubeconfig that points at
//! it, and its control endpoints (request log, rollout times, scenario).
#![allow(dead_code)] // not every test uses every helper

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

/// A running emulator; killed when dropped.
pub struct Emulator {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Emulator {
    /// Starts the emulator with one of its scenarios (`healthy`, `stale`, `never`, `crashloop`, ...).
    pub fn start(scenario: &str) -> Emulator {
        Emulator::start_with(scenario, &[])
    }

    /// As [`Emulator::start`], with more arguments, e.g. `["--rollout-delay-ms", "50"]`.
    pub fn start_with(scenario: &str, args: &[&str]) -> Emulator {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/k8s/emulator.py");
        let dir = tempfile::Builder::new().prefix("labforge-k8s-").tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("emulator.log")).expect("emulator log");
        let mut child = super::python::tool("python")
            .arg(&script)
            .args(["--scenario", scenario])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start tests/k8s/emulator.py");

        // The first stdout line is `{"port": N}`; the rest (none expected) is drained.
        let stdout = child.stdout.take().expect("emulator stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = tx.send(reader.read_line(&mut line).map(|_| line));
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("emulator.log")).unwrap_or_default();
                panic!("the emulator did not report its port within 60 s ({other:?}):\n{log}");
            }
        };
        let port = serde_json::from_str::<Value>(line.trim())
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("unexpected first line from the emulator: {line:?}"));

        let kubeconfig = format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: emulator\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n\
             - name: emulator\n  user:\n    token: emulator-token\n\
             contexts:\n\
             - name: emulator\n  context:\n    cluster: emulator\n    user: emulator\n    namespace: default\n\
             current-context: emulator\n"
        );
        std::fs::write(dir.path().join("kubeconfig"), kubeconfig).expect("write kubeconfig");
        Emulator { child, port, dir }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A kubeconfig whose only context, `emulator` (current), reaches this emulator.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// What the emulator wrote to stderr so far (its errors), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("emulator.log")).unwrap_or_default()
    }

    /// Every API request so far: `{"method", "path" (with query), "content_type", "write",
    /// "time" (seconds since start), "status"}`, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        match self.call("GET", "/_emulator/requests", None) {
            Value::Array(items) => items,
            other => panic!("unexpected request log: {other}"),
        }
    }

    /// The requests that changed something (POST, PUT, PATCH, DELETE without dryRun).
    pub fn writes(&self) -> Vec<Value> {
        self.requests().into_iter().filter(|r| r["write"] == Value::Bool(true)).collect()
    }

    pub fn clear_requests(&self) {
        self.call("DELETE", "/_emulator/requests", None);
    }

    /// A raw GET of an API path (`/apis/apps/v1/namespaces/shop/deployments/shop`): the JSON
    /// answer (a text answer, such as a pod log, as a JSON string), or `None` on 404.
    pub fn get(&self, path: &str) -> Option<Value> {
        let (status, body) = self.http("GET", path, None);
        match status {
            404 => None,
            200..=299 => Some(serde_json::from_str(&body).unwrap_or(Value::String(body))),
            _ => panic!("GET {path}: {status}\n{body}"),
        }
    }

    /// When each workload became available, in emulator seconds: `{"deployments/NS/NAME": 1.234}`.
    pub fn available(&self) -> Value {
        self.call("GET", "/_emulator/available", None)
    }

    /// A raw POST of `body` to an API path, as another client (kubectl) would make it.
    pub fn post(&self, path: &str, body: &Value) -> Value {
        self.call("POST", path, Some(body.to_string().as_str()))
    }

    /// Switches the scenario for the rollouts that start from now on.
    pub fn set_scenario(&self, name: &str) {
        let body = serde_json::json!({ "scenario": name }).to_string();
        self.call("POST", "/_emulator/scenario", Some(body.as_str()));
    }

    /// The scenario and how long each rollout takes from now on.
    pub fn set_scenario_with_delay(&self, name: &str, rollout_delay_ms: u64) {
        let body = serde_json::json!({ "scenario": name, "rollout_delay_ms": rollout_delay_ms }).to_string();
        self.call("POST", "/_emulator/scenario", Some(body.as_str()));
    }

    /// A control-endpoint call that must succeed.
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> Value {
        let (status, text) = self.http(method, path, body);
        assert!((200..300).contains(&status), "{method} {path}: {status}\n{text}\n{}", self.log());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
    }

    /// One HTTP/1.1 request with `Connection: close`; returns (status, body).
    fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the emulator");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send to the emulator");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read from the emulator");
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let chunked = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("transfer-encoding:") && l.contains("chunked")
        });
        let body = if chunked { dechunk(body) } else { body.to_string() };
        (status, body)
    }
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].strip_prefix("\r\n").unwrap_or(&tail[size..]);
    }
    out
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
