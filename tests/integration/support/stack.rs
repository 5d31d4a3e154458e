//! Real-Docker test support: the stand-in images (built by `tests/images/build.sh`, selected with
//! the same `LABFORGE_IMAGE_*` overrides users have), a project in a scratch folder that is torn
//! down even when a test fails, and one-at-a-time access to the daemon.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::labforge_bin;

pub const PYTHON_IMAGE: &str = "labforge-test/python:3.11";
pub const POSTGRES_IMAGE: &str = "labforge-test/postgres:15";
pub const MONGO_IMAGE: &str = "labforge-test/mongo:nx";

/// Builds the stand-in images once per test run (a no-op when they exist).
pub fn images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/build.sh");
        let out = Command::new("bash").arg(&script).output().expect("run tests/images/build.sh");
        assert!(out.status.success(), "tests/images/build.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
}

/// Docker tests run one at a time: they publish the same default ports and build the same images.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The CA bundle builds must trust here: pip's, else the system's.
pub fn ca_bundle() -> String {
    std::env::var("PIP_CERT").unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".to_string())
}

/// A generated project in a scratch folder, whose stack is removed (volumes too) on drop.
pub struct StackProject {
    root: tempfile::TempDir,
    pub dir: PathBuf,
    pub name: String,
}

impl StackProject {
    /// `labforge new NAME ARGS...` into a scratch folder.
    pub fn new(name: &str, args: &[&str]) -> StackProject {
        images();
        let root = tempfile::Builder::new().prefix("labforge-stack-").tempdir().unwrap();
        let dir = root.path().join(name);
        let out = Command::new(labforge_bin())
            .args(["new", name, "--yes", "--dir"])
            .arg(&dir)
            .args(args)
            .env_remove("LABFORGE_TEMPLATES")
            .output()
            .unwrap();
        assert!(out.status.success(), "labforge new failed: {}", String::from_utf8_lossy(&out.stderr));
        // The user's own config file (this machine's image overrides, say) stays out of the test.
        std::fs::write(root.path().join("config.yaml"), "images: {}\n").unwrap();
        let project = StackProject { root, dir, name: name.to_string() };
        // A stack left over from an earlier, killed run of this test goes first. It belongs to a
        // folder that no longer exists, so this folder's `down` would not find it (it is another
        // instance), while it would keep the project's readable names and ports taken.
        remove_project(name);
        project
    }

    /// A labforge command in the project folder, with the stand-in images and no colour.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(labforge_bin());
        cmd.args(args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .env("LABFORGE_IMAGE_POSTGRES", POSTGRES_IMAGE)
            .env("LABFORGE_IMAGE_MONGO", MONGO_IMAGE)
            .env("LABFORGE_IMAGE_PYTHON", PYTHON_IMAGE)
            .env("PIP_CERT", ca_bundle())
            .env("LABFORGE_CONFIG", self.root.path().join("config.yaml"))
            .env_remove("DOCKER_HOST");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run labforge")
    }

    /// `labforge up ARGS`, asserting it succeeded; returns stdout + stderr.
    pub fn up_ok(&self, args: &[&str]) -> String {
        let mut all = vec!["up"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let text = text(&out);
        assert!(out.status.success(), "labforge up failed ({:?}):\n{text}", out.status.code());
        text
    }

    /// The host port a service's container port is published on, from `labforge status --json`.
    pub fn host_port(&self, service: &str, container_port: u16) -> u16 {
        let out = self.run(&["status", "--json"]);
        let doc: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("status --json: {}", text(&out)));
        doc["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == service)
            .and_then(|s| s["ports"].as_array()?.iter().find(|p| p["container"] == container_port))
            .and_then(|p| p["host"].as_u64())
            .unwrap_or_else(|| panic!("no published port {container_port} for {service}:\n{}", text(&out)))
            as u16
    }

    /// A value from the project's .env.
    pub fn env(&self, key: &str) -> String {
        crate::new::secret_value(&std::fs::read_to_string(self.dir.join(".env")).unwrap(), key)
    }
}

impl Drop for StackProject {
    fn drop(&mut self) {
        let _ = self.run(&["down", "--volumes"]);
    }
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `docker` CLI output for assertions about the daemon's state (labforge itself never shells
/// out to docker).
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker CLI");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Removes every container, network and volume labelled with `project`: what a killed earlier
/// run may have left.
pub fn remove_project(project: &str) {
    for container in labelled("container", project) {
        let _ = Command::new("docker").args(["rm", "--force", "--volumes", &container]).output();
    }
    for network in labelled("network", project) {
        let _ = Command::new("docker").args(["network", "rm", &network]).output();
    }
    for volume in labelled("volume", project) {
        let _ = Command::new("docker").args(["volume", "rm", "--force", &volume]).output();
    }
}

/// Names of the objects of `kind` (container, network, volume) labelled with `project`.
pub fn labelled(kind: &str, project: &str) -> Vec<String> {
    let filter = format!("label=io.labforge.project={project}");
    let args: Vec<&str> = match kind {
        "container" => vec!["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
        "network" => vec!["network", "ls", "--filter", &filter, "--format", "{{.Name}}"],
        _ => vec!["volume", "ls", "--filter", &filter, "--format", "{{.Name}}"],
    };
    docker(&args).lines().map(str::to_string).collect()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `deadline`.
pub fn eventually<T>(deadline: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < deadline, "{what}: not within {deadline:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 request to 127.0.0.1; returns (status, body).
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    http_as(port, method, path, "application/json", body.unwrap_or(""))
}

/// A plain HTTP/1.1 request to 127.0.0.1 with a body of `content_type`; returns (status, body).
pub fn http_as(port: u16, method: &str, path: &str, content_type: &str, body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// A private registry on 127.0.0.1 (Debian's `docker-registry`, installed when missing), for the
/// one thing the machines have no registry for: pulling. Stops when dropped.
pub struct Registry {
    child: std::process::Child,
    _storage: tempfile::TempDir,
    pub address: String,
}

impl Registry {
    pub fn start() -> Registry {
        if Command::new("docker-registry").arg("--version").output().is_err() {
            let out = Command::new("apt-get")
                .args(["install", "-y", "-qq", "docker-registry"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output()
                .expect("apt-get");
            assert!(out.status.success(), "installing docker-registry: {}", String::from_utf8_lossy(&out.stderr));
        }
        let storage = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("127.0.0.1:{port}");
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = Registry { child, _storage: storage, address };
        eventually(Duration::from_secs(20), "the registry answers", || {
            http(port, "GET", "/v2/", None).filter(|(s, _)| *s == 200)
        });
        registry
    }

    /// Publishes `base` plus one fresh layer as `name`, then deletes every local copy of that
    /// layer, so using the reference means a real pull with a layer to download.
    pub fn publish_fresh(&self, base: &str, name: &str) -> String {
        let reference = format!("{}/{name}", self.address);
        let context = tempfile::tempdir().unwrap();
        let token = format!("{:?}", std::time::SystemTime::now());
        std::fs::write(context.path().join("token"), token).unwrap();
        std::fs::write(context.path().join("Dockerfile"), format!("FROM {base}\nCOPY token /labforge-pull-test\n"))
            .unwrap();
        docker(&["build", "--quiet", "--tag", &reference, context.path().to_str().unwrap()]);
        docker(&["push", &reference]);
        docker(&["rmi", &reference]);
        reference
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
