//! `labforge.yaml`, the project's stack definition: the typed schema and its validation. Every
//! problem is reported with `file:line:column` and what to change. No Docker here.
//!
//! ```yaml
//! version: 1
//! project: shop
//! services:
//!   postgres:
//!     kind: postgres                 # postgres | mongo | app: decides how readiness is proven
//!     image: postgres:17             # overridable per user: LABFORGE_IMAGE_POSTGRES, config file
//!     environment:
//!       POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}   # ${VAR} comes from .env or the environment
//!     ports: ["5432:5432"]           # HOST:CONTAINER, always published on 127.0.0.1
//!     volumes: ["pgdata:/var/lib/postgresql/data"]
//!     ready: { protocol: postgres, every: 1s }   # the one definition of readiness (crate::health)
//!   app:
//!     kind: app
//!     build: { context: ., dockerfile: Dockerfile, args: { PYTHON_IMAGE: python:3.12-slim } }
//!     dev: { command: [uvicorn, shop.main:app, --reload], mount: /app, rebuild_on: [pyproject.toml] }
//!     env_file: .env
//!     ports: ["8000:8000"]
//!     depends_on: [postgres]
//!     ready: { http: /ready, live: /health }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::health::{Protocol, ReadySpec};

/// The file name `labforge up` reads.
pub const FILE_NAME: &str = "labforge.yaml";

/// The whole stack.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSpec {
    /// Schema version; 1 is the only one so far.
    pub version: Spanned<u32>,
    /// Project name; prefixes container, network and volume names.
    pub project: Spanned<String>,
    pub services: BTreeMap<String, ServiceSpec>,
    /// What `labforge ci` needs beyond the files.
    #[serde(default)]
    pub ci: CiSpec,
}

/// The `ci:` section: the Actions secrets the workflow uses, set by `labforge ci setup` from
/// `.env` (or `--secret NAME=@FILE`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiSpec {
    #[serde(default)]
    pub secrets: Vec<Spanned<String>>,
}

/// Whether `name` is a valid Actions secret name: letters, digits and `_`, not starting with a
/// digit or `GITHUB_` (GitHub's own rules).
pub fn is_secret_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.to_ascii_uppercase().starts_with("GITHUB_")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a service is, which decides how labforge proves it is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// PostgreSQL: ready when `SELECT 1` succeeds over TCP.
    Postgres,
    /// MongoDB: ready when `ping` succeeds.
    Mongo,
    /// The HTTP application: ready when `GET ready_path` returns 2xx.
    App,
}

/// One container.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub kind: ServiceKind,
    /// Image to run; required unless `build` is given.
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// Build the image from the project.
    #[serde(default)]
    pub build: Option<BuildSpec>,
    /// Overrides the image's command.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Development mode: bind-mount the source and run a reloading server.
    #[serde(default)]
    pub dev: Option<DevSpec>,
    /// A dotenv file (relative to the project) whose variables are passed to the container.
    #[serde(default)]
    pub env_file: Option<String>,
    /// Environment variables; `${VAR}` is replaced from `.env` or labforge's environment.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// `HOST:CONTAINER` or `CONTAINER`; published on 127.0.0.1 only.
    #[serde(default)]
    pub ports: Vec<Spanned<String>>,
    /// `NAME:/path/in/container` named volumes.
    #[serde(default)]
    pub volumes: Vec<Spanned<String>>,
    /// Services that must be ready before this one starts.
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    /// A Docker healthcheck of the service's own; without one, `up` derives it from `ready`.
    #[serde(default)]
    pub healthcheck: Option<HealthcheckSpec>,
    /// How the service tells it is ready, once for every form (see [`crate::health`]); the
    /// service kind's protocol (or `GET /ready` for an app) when absent.
    #[serde(default)]
    pub ready: Option<Spanned<ReadySpec>>,
    /// For `kind: app`: the path that answers 2xx once the app and its dependencies work (the
    /// older spelling of `ready: { http: PATH }`).
    #[serde(default)]
    pub ready_path: Option<String>,
}

/// How to build an image from the project.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    #[serde(default = "dot")]
    pub context: String,
    #[serde(default = "dockerfile")]
    pub dockerfile: String,
    #[serde(default)]
    pub args: BTreeMap<String, String>,
}

fn dot() -> String {
    ".".into()
}

fn dockerfile() -> String {
    "Dockerfile".into()
}

/// Development mode for an app service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevSpec {
    /// The reloading server command.
    pub command: Vec<String>,
    /// Where the project folder is bind-mounted in the container.
    pub mount: String,
    /// Files whose change means the image (its dependencies) must be rebuilt.
    #[serde(default)]
    pub rebuild_on: Vec<String>,
    /// Globs (relative to the project) of the files the reloading server watches: after an edit
    /// of one, checks wait until the server has reloaded (see [`super::reload`]).
    #[serde(default)]
    pub reload_on: Vec<Spanned<String>>,
}

/// A Docker healthcheck; durations are like `1s`, `500ms`, `2m`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckSpec {
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: Option<Spanned<String>>,
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub start_period: Option<Spanned<String>>,
}

/// A published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Port {
    pub host: u16,
    pub container: u16,
}

impl StackSpec {
    /// The project name in `dir/labforge.yaml`, read leniently: `down` and `logs` must work even
    /// when the rest of the file has become invalid.
    pub fn project_name(dir: &std::path::Path) -> Result<String, super::Error> {
        #[derive(Deserialize)]
        struct Named {
            project: String,
        }
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            super::Error::Config(format!(
                "cannot read {}: {e} (run labforge in a project folder, or pass `--dir`)",
                path.display()
            ))
        })?;
        serde_saphyr::from_str::<Named>(&text)
            .map(|n| n.project)
            .map_err(|e| super::Error::Spec(vec![crate::base::yaml_error(&path.display().to_string(), &e)]))
    }

    /// Parses and validates `text` read from `path`. `Err` holds every problem, one line each.
    pub fn parse(path: &str, text: &str) -> Result<StackSpec, Vec<String>> {
        let spec: StackSpec = serde_saphyr::from_str(text).map_err(|e| vec![crate::base::yaml_error(path, &e)])?;
        let problems = spec.problems(path);
        if problems.is_empty() { Ok(spec) } else { Err(problems) }
    }

    fn problems(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let at = |loc: &serde_saphyr::Location, msg: String| format!("{path}:{}:{}: {msg}", loc.line(), loc.column());
        if self.version.value != 1 {
            out.push(at(
                &self.version.referenced,
                format!("version {} is not supported (use `version: 1`)", self.version.value),
            ));
        }
        if !is_dns_label(&self.project.value) {
            out.push(at(
                &self.project.referenced,
                format!("project `{}` must be lowercase letters, digits and `-`", self.project.value),
            ));
        }
        if self.services.is_empty() {
            out.push(format!("{path}: `services` is empty: define at least one service"));
        }
        for secret in &self.ci.secrets {
            if !is_secret_name(&secret.value) {
                out.push(at(
                    &secret.referenced,
                    format!(
                        "ci.secrets: `{}` is not a secret name (letters, digits and `_`, not starting with a digit or GITHUB_)",
                        secret.value
                    ),
                ));
            }
        }
        let names: Vec<&str> = self.services.keys().map(String::as_str).collect();
        for (name, service) in &self.services {
            if !is_dns_label(name) {
                out.push(format!("{path}: service name `{name}` must be lowercase letters, digits and `-`"));
            }
            match (&service.image, &service.build) {
                (None, None) => out.push(format!("{path}: service `{name}` needs `image` or `build`")),
                (Some(image), _) if image.value.trim().is_empty() => {
                    out.push(at(&image.referenced, format!("service `{name}`: `image` is empty")))
                }
                (Some(image), _) if let Some(why) = crate::base::image_reference_problem(&image.value) => out.push(at(
                    &image.referenced,
                    format!(
                        "service `{name}`: `image: {}` is not an image reference: {why}",
                        image.value.escape_default()
                    ),
                )),
                _ => {}
            }
            for port in &service.ports {
                if let Err(e) = parse_port(&port.value) {
                    out.push(at(&port.referenced, format!("service `{name}`: {e}")));
                }
            }
            for volume in &service.volumes {
                if let Err(e) = parse_volume(&volume.value) {
                    out.push(at(&volume.referenced, format!("service `{name}`: {e}")));
                }
            }
            for dep in &service.depends_on {
                if dep.value == *name {
                    out.push(at(
                        &dep.referenced,
                        format!("service `{name}` depends on itself (remove it from depends_on)"),
                    ));
                } else if !self.services.contains_key(&dep.value) {
                    out.push(at(
                        &dep.referenced,
                        format!(
                            "service `{name}` depends on `{}`, which is not defined (services: {})",
                            dep.value,
                            names.join(", ")
                        ),
                    ));
                }
            }
            if let Some(hc) = &service.healthcheck {
                if hc.test.is_empty() {
                    out.push(format!("{path}: service `{name}`: healthcheck `test` is empty"));
                }
                for d in [&hc.interval, &hc.timeout, &hc.start_period].into_iter().flatten() {
                    if let Err(e) = crate::base::parse_duration(&d.value) {
                        out.push(at(&d.referenced, format!("service `{name}`: {e}")));
                    }
                }
            }
            for glob in service.dev.iter().flat_map(|d| &d.reload_on) {
                if let Err(e) = super::reload::Sources::new(std::slice::from_ref(&glob.value)) {
                    out.push(at(&glob.referenced, format!("service `{name}`: dev.reload_on: {e}")));
                }
            }
            if let Some(p) = &service.ready_path
                && !p.starts_with('/')
            {
                out.push(format!("{path}: service `{name}`: ready_path `{p}` must start with `/`"));
            }
            if let Some(ready) = &service.ready {
                let own = match service.kind {
                    ServiceKind::Postgres => Some(Protocol::Postgres),
                    ServiceKind::Mongo => Some(Protocol::Mongo),
                    ServiceKind::App => None,
                };
                if let Err(e) = ready.value.resolve(service.kind.port()) {
                    out.push(at(&ready.referenced, format!("service `{name}`: {e}")));
                } else if let Some(protocol) = ready.value.protocol
                    && Some(protocol) != own
                {
                    out.push(at(
                        &ready.referenced,
                        format!(
                            "service `{name}`: `ready.protocol: {}` does not match its kind `{}`",
                            format!("{protocol:?}").to_lowercase(),
                            format!("{:?}", service.kind).to_lowercase()
                        ),
                    ));
                }
            }
        }
        if let Some((cycle, loc)) = self.find_cycle() {
            out.push(at(
                &loc,
                format!("depends_on forms a cycle: {} (remove one of these dependencies)", cycle.join(" → ")),
            ));
        }
        out
    }

    /// A dependency cycle, as the services in order (first repeated last), and where it closes.
    fn find_cycle(&self) -> Option<(Vec<String>, serde_saphyr::Location)> {
        fn visit<'a>(
            spec: &'a StackSpec,
            name: &'a str,
            stack: &mut Vec<&'a str>,
            done: &mut Vec<&'a str>,
        ) -> Option<(Vec<String>, serde_saphyr::Location)> {
            if done.contains(&name) {
                return None;
            }
            stack.push(name);
            for dep in spec.services.get(name).map(|s| s.depends_on.as_slice()).unwrap_or_default() {
                let dep_name = dep.value.as_str();
                if dep_name == name || !spec.services.contains_key(dep_name) {
                    continue;
                }
                if let Some(start) = stack.iter().position(|s| *s == dep_name) {
                    let mut cycle: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(dep_name.to_string());
                    return Some((cycle, dep.referenced));
                }
                if let Some(found) = visit(spec, dep_name, stack, done) {
                    return Some(found);
                }
            }
            stack.pop();
            done.push(name);
            None
        }
        let mut done = Vec::new();
        self.services.keys().find_map(|name| visit(self, name, &mut Vec::new(), &mut done))
    }
}

/// `8000:8000` or `8000` (same port on the host).
pub fn parse_port(text: &str) -> Result<Port, String> {
    let bad = || {
        format!(
            "port `{text}` must be `HOST:CONTAINER` or `CONTAINER`, with ports 1-65535 (it is always published on 127.0.0.1)"
        )
    };
    let number = |s: &str| s.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
    match text.split_once(':') {
        Some((host, container)) => Ok(Port { host: number(host)?, container: number(container)? }),
        None => {
            let p = number(text)?;
            Ok(Port { host: p, container: p })
        }
    }
}

/// `name:/path` → (name, path).
pub fn parse_volume(text: &str) -> Result<(&str, &str), String> {
    match text.split_once(':') {
        Some((name, path)) if is_dns_label(name) && path.starts_with('/') => Ok((name, path)),
        _ => Err(format!("volume `{text}` must be `NAME:/absolute/path` with a lowercase name")),
    }
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version: 1
project: shop
services:
  postgres:
    kind: postgres
    image: postgres:17
    ports: [\"5432:5432\"]
    volumes: [\"pgdata:/var/lib/postgresql/data\"]
    healthcheck: { test: [CMD-SHELL, pg_isready], interval: 1s }
  app:
    kind: app
    build: { context: . }
    ports: [\"8000\"]
    depends_on: [postgres]
";

    #[test]
    fn accepts_a_valid_stack() {
        let spec = StackSpec::parse("labforge.yaml", GOOD).unwrap();
        assert_eq!(spec.services["app"].depends_on[0].value, "postgres");
        assert_eq!(parse_port("8000").unwrap(), Port { host: 8000, container: 8000 });
    }

    #[test]
    fn unknown_dependency_names_file_line_and_choices() {
        let text = GOOD.replace("depends_on: [postgres]", "depends_on: [db]");
        let problems = StackSpec::parse("labforge.yaml", &text).unwrap_err();
        assert_eq!(
            problems,
            vec!["labforge.yaml:14:18: service `app` depends on `db`, which is not defined (services: app, postgres)"]
        );
    }

    #[test]
    fn a_cycle_is_reported_with_its_path() {
        let text = GOOD.replace("    healthcheck:", "    depends_on: [app]\n    healthcheck:");
        let problems = StackSpec::parse("labforge.yaml", &text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("cycle: app → postgres → app"), "{}", problems[0]);
        assert!(problems[0].starts_with("labforge.yaml:"), "{}", problems[0]);
    }

    #[test]
    fn an_image_that_is_no_reference_is_located() {
        let text = GOOD.replace("image: postgres:17", "image: postgres 17");
        let problems = StackSpec::parse("labforge.yaml", &text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("labforge.yaml:")
                && problems[0].ends_with(
                    "service `postgres`: `image: postgres 17` is not an image reference: it contains a space"
                ),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_fields_and_bad_yaml_are_located() {
        let text = GOOD.replace("    kind: app", "    kind: app\n    imagee: x");
        let problems = StackSpec::parse("labforge.yaml", &text).unwrap_err();
        assert!(problems[0].starts_with("labforge.yaml:12:5: unknown field `imagee`"), "{problems:?}");
        let problems = StackSpec::parse("labforge.yaml", "version: [1\n").unwrap_err();
        assert!(problems[0].starts_with("labforge.yaml:"), "{problems:?}");
    }

    #[test]
    fn bad_ports_volumes_and_durations_are_explained() {
        let text = GOOD
            .replace("\"8000\"", "\"80000\"")
            .replace("pgdata:/var", "pgdata:var")
            .replace("interval: 1s", "interval: soon");
        let problems = StackSpec::parse("labforge.yaml", &text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }
}
