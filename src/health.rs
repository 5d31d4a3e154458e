//! Readiness, defined once per service in `labforge.yaml` (`ready:`), and every form it takes:
//! labforge's own probe, the Docker healthcheck, the Dockerfile's `HEALTHCHECK`, Kubernetes'
//! readiness and liveness probes, and the health options of CI service containers. `labforge new`
//! renders the generated files' forms from the project's own `labforge.yaml`, and `labforge up`
//! derives the Docker healthcheck from it, so the forms cannot drift apart. Pure.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A service's protocol, for a probe that speaks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// PostgreSQL: labforge runs `SELECT 1` over TCP; containers run `pg_isready`.
    Postgres,
    /// MongoDB: labforge sends `ping`; containers and Kubernetes see the port accept.
    Mongo,
}

/// `ready:` as written in `labforge.yaml`: exactly one of `protocol`, `http`, `tcp`, `exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadySpec {
    /// The service's own protocol answers.
    pub protocol: Option<Protocol>,
    /// `GET PATH` on the service's port answers 2xx.
    pub http: Option<String>,
    /// The service's port accepts a connection.
    pub tcp: Option<bool>,
    /// A shell command in the container exits 0.
    pub exec: Option<String>,
    /// `GET PATH` answers while the process is alive (liveness: the Docker and Dockerfile
    /// healthcheck, Kubernetes' liveness probe); readiness is asked otherwise.
    pub live: Option<String>,
    /// How often Docker and Kubernetes ask (default 1s; Kubernetes counts whole seconds).
    pub every: Option<String>,
}

/// How a service tells it is ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    Protocol(Protocol),
    Http(String),
    Tcp,
    Exec(String),
}

/// A service's readiness, resolved: how, the liveness path if any, how often, on which port (the
/// port the service listens on in its container).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ready {
    pub how: How,
    pub live: Option<String>,
    pub every: Duration,
    pub port: u16,
}

impl ReadySpec {
    /// The readiness this spec defines for a service listening on `port`; `Err` says what to fix.
    pub fn resolve(&self, port: u16) -> Result<Ready, String> {
        let how = match (&self.protocol, &self.http, self.tcp, &self.exec) {
            (Some(protocol), None, None, None) => How::Protocol(*protocol),
            (None, Some(path), None, None) => How::Http(path.clone()),
            (None, None, Some(true), None) => How::Tcp,
            (None, None, None, Some(command)) if !command.trim().is_empty() => How::Exec(command.clone()),
            (None, None, None, Some(_)) => return Err("`ready.exec` is empty: give the command to run".into()),
            (None, None, Some(false), None) => return Err("`ready.tcp` must be `true` when it is given".into()),
            _ => {
                return Err(
                    "`ready` needs exactly one of `protocol`, `http`, `tcp` or `exec` (e.g. `ready: { http: /ready }`)"
                        .into(),
                );
            }
        };
        for path in [self.http.as_ref(), self.live.as_ref()].into_iter().flatten() {
            if !path.starts_with('/') {
                return Err(format!("`ready` path `{path}` must start with `/`"));
            }
        }
        let every = match &self.every {
            Some(text) => crate::base::parse_duration(text).map_err(|e| format!("`ready.every`: {e}"))?,
            None => Duration::from_secs(1),
        };
        Ok(Ready { how, live: self.live.clone(), every, port })
    }
}

impl Ready {
    /// An HTTP service's readiness on `path`.
    pub fn http(path: &str, port: u16) -> Ready {
        Ready { how: How::Http(path.to_string()), live: None, every: Duration::from_secs(1), port }
    }

    /// The readiness path of an HTTP service.
    pub fn http_path(&self) -> Option<&str> {
        match &self.how {
            How::Http(path) => Some(path),
            _ => None,
        }
    }

    /// What a container runs to say it is healthy, as an argument list: the liveness path when
    /// one is given, else the readiness check. (Docker's healthcheck test is `CMD` and these.)
    pub fn command(&self) -> Vec<String> {
        let port = self.port;
        let tcp = || vec!["bash".to_string(), "-c".to_string(), format!("exec 3<>/dev/tcp/127.0.0.1/{port}")];
        match (&self.how, &self.live) {
            (_, Some(path)) | (How::Http(path), None) => vec![
                "python".into(),
                "-c".into(),
                format!("import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=2)"),
            ],
            (How::Protocol(Protocol::Postgres), None) => {
                vec![
                    "sh".into(),
                    "-c".into(),
                    r#"pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB""#.into(),
                ]
            }
            (How::Protocol(Protocol::Mongo) | How::Tcp, None) => tcp(),
            (How::Exec(command), None) => vec!["sh".into(), "-c".into(), command.clone()],
        }
    }

    /// [`Ready::command`] as one shell line (CI's `--health-cmd`).
    pub fn shell(&self) -> String {
        let command = self.command();
        match command.as_slice() {
            [sh, c, line] if sh == "sh" && c == "-c" => line.clone(),
            [program, c, script] => format!("{program} {c} \"{script}\""),
            _ => command.join(" "),
        }
    }

    fn period(&self) -> u64 {
        self.every.as_secs().max(1)
    }

    fn probe(&self, how: &How) -> Value {
        let port = self.port;
        match how {
            How::Http(path) => json!({ "httpGet": { "path": path, "port": port } }),
            How::Protocol(Protocol::Mongo) | How::Tcp => json!({ "tcpSocket": { "port": port } }),
            How::Protocol(Protocol::Postgres) | How::Exec(_) => {
                let line = match self.command().as_slice() {
                    [_, _, line] => line.clone(),
                    other => other.join(" "),
                };
                json!({ "exec": { "command": ["sh", "-c", line] } })
            }
        }
    }

    /// Kubernetes' readiness probe.
    pub fn k8s_readiness(&self) -> Value {
        let mut probe = self.probe(&self.how);
        probe["periodSeconds"] = json!(self.period().max(5));
        probe["timeoutSeconds"] = json!(3);
        probe["failureThreshold"] = json!(3);
        probe
    }

    /// Kubernetes' liveness probe: the liveness path, else the port accepting connections.
    pub fn k8s_liveness(&self) -> Value {
        let how = match &self.live {
            Some(path) => How::Http(path.clone()),
            None => How::Tcp,
        };
        let mut probe = self.probe(&how);
        probe["initialDelaySeconds"] = json!(15);
        probe["periodSeconds"] = json!(10);
        probe["timeoutSeconds"] = json!(3);
        probe["failureThreshold"] = json!(3);
        probe
    }

    /// Every form at once, for templates: `command` (argument list), `shell`, `k8s_readiness` and
    /// `k8s_liveness` (one-line JSON, which is YAML, its keys sorted so the output is stable),
    /// `every` (seconds).
    pub fn forms(&self) -> Value {
        json!({
            "command": self.command(),
            "shell": self.shell(),
            "k8s_readiness": self.k8s_readiness().to_string(),
            "k8s_liveness": self.k8s_liveness().to_string(),
            "every": self.period(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ReadySpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn exactly_one_way_is_accepted_and_paths_are_checked() {
        assert_eq!(spec("http: /ready").resolve(8000).unwrap().how, How::Http("/ready".into()));
        assert_eq!(spec("protocol: postgres").resolve(5432).unwrap().how, How::Protocol(Protocol::Postgres));
        assert_eq!(spec("tcp: true").resolve(6379).unwrap().how, How::Tcp);
        for (bad, says) in [
            ("http: /ready\ntcp: true", "exactly one of"),
            ("{}", "exactly one of"),
            ("http: ready", "must start with `/`"),
            ("http: /ready\nlive: health", "must start with `/`"),
            ("exec: '  '", "is empty"),
            ("tcp: false", "must be `true`"),
            ("http: /ready\nevery: soon", "ready.every"),
        ] {
            let err = spec(bad).resolve(8000).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn every_form_follows_the_one_definition() {
        let app = spec("http: /ready\nlive: /health").resolve(8000).unwrap();
        assert_eq!(
            app.command()[2],
            "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
        );
        assert_eq!(app.k8s_readiness()["httpGet"], json!({"path": "/ready", "port": 8000}));
        assert_eq!(app.k8s_liveness()["httpGet"], json!({"path": "/health", "port": 8000}));

        let moved = spec("http: /healthz\nlive: /alive").resolve(9000).unwrap();
        assert!(moved.command()[2].contains("http://127.0.0.1:9000/alive"));
        assert_eq!(moved.k8s_readiness()["httpGet"], json!({"path": "/healthz", "port": 9000}));

        let pg = spec("protocol: postgres").resolve(5432).unwrap();
        assert_eq!(pg.shell(), r#"pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB""#);
        assert_eq!(pg.k8s_readiness()["exec"]["command"][2], json!(pg.shell()));
        assert_eq!(pg.k8s_liveness()["tcpSocket"], json!({"port": 5432}));

        let mongo = spec("protocol: mongo").resolve(27017).unwrap();
        assert_eq!(mongo.shell(), r#"bash -c "exec 3<>/dev/tcp/127.0.0.1/27017""#);
        assert_eq!(mongo.k8s_readiness()["tcpSocket"], json!({"port": 27017}));

        let custom = spec("exec: pg_isready -q\nevery: 7s").resolve(5432).unwrap();
        assert_eq!(custom.shell(), "pg_isready -q");
        assert_eq!(custom.k8s_readiness()["periodSeconds"], json!(7));
    }
}
