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
//!     depends_on: [postgres]         # started first; the app waits for it itself
//!     ready: { http: /ready, live: /health }
//! ```
//!
//! `depends_on: { postgres: { condition: ready } }` starts a service only once its dependency is
//! ready, for an image that cannot wait by itself.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

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
    pub services: Spanned<Services>,
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

/// `services:`: each service by name, with where its name is written.
#[derive(Debug, Default)]
pub struct Services {
    by_name: BTreeMap<String, ServiceSpec>,
    names: BTreeMap<String, Location>,
}

impl Services {
    /// Where the service's name is written in the file.
    pub fn name_at(&self, name: &str) -> Location {
        self.names.get(name).copied().unwrap_or(Location::UNKNOWN)
    }
}

impl std::ops::Deref for Services {
    type Target = BTreeMap<String, ServiceSpec>;
    fn deref(&self) -> &Self::Target {
        &self.by_name
    }
}

impl<'de> Deserialize<'de> for Services {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Services;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of service names to services")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Services, A::Error> {
                let mut services = Services::default();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let spec = map.next_value::<ServiceSpec>()?;
                    services.names.insert(name.value.clone(), name.referenced);
                    services.by_name.insert(name.value, spec);
                }
                Ok(services)
            }
        }
        deserializer.deserialize_map(Visit)
    }
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
    pub env_file: Option<Spanned<String>>,
    /// Environment variables; `${VAR}` is replaced from `.env` or labforge's environment.
    #[serde(default)]
    pub environment: BTreeMap<String, Spanned<String>>,
    /// `HOST:CONTAINER` or `CONTAINER`; published on 127.0.0.1 only.
    #[serde(default)]
    pub ports: Vec<Spanned<String>>,
    /// `NAME:/path/in/container` named volumes.
    #[serde(default)]
    pub volumes: Vec<Spanned<String>>,
    /// Services started before this one: a list of names, or a mapping of names to
    /// `{ condition: started | ready }` (`ready`: only once the dependency is ready).
    #[serde(default)]
    pub depends_on: DependsOn,
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
    pub ready_path: Option<Spanned<String>>,
}

/// When a dependent service may start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Once the dependency's container has started: the dependent waits for it by itself (the
    /// generated apps' migration retries the database), and counts as ready only once its own
    /// readiness probe passes. Starting early overlaps the two starts.
    #[default]
    Started,
    /// Only once the dependency is ready: for an image that cannot wait by itself.
    Ready,
}

/// One entry of `depends_on`.
#[derive(Debug)]
pub struct Dependency {
    pub service: Spanned<String>,
    pub condition: Condition,
}

/// `depends_on:` as a list of names (each `condition: started`) or a mapping of names to
/// `{ condition: ... }`, as docker compose reads it.
#[derive(Debug, Default)]
pub struct DependsOn(Vec<Dependency>);

impl std::ops::Deref for DependsOn {
    type Target = [Dependency];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DependsOn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct When {
            #[serde(default)]
            condition: Condition,
        }
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = DependsOn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a list of service names, or a mapping of service names to `{ condition: started | ready }`",
                )
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<DependsOn, A::Error> {
                let mut deps = Vec::new();
                while let Some(service) = seq.next_element::<Spanned<String>>()? {
                    deps.push(Dependency { service, condition: Condition::Started });
                }
                Ok(DependsOn(deps))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DependsOn, A::Error> {
                let mut deps = Vec::new();
                while let Some(service) = map.next_key::<Spanned<String>>()? {
                    let when = map.next_value::<When>()?;
                    deps.push(Dependency { service, condition: when.condition });
                }
                Ok(DependsOn(deps))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// How to build an image from the project.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    /// The folder sent to the builder, relative to the project; inside it.
    #[serde(default = "dot")]
    pub context: Spanned<String>,
    /// Relative to the context; inside it.
    #[serde(default = "dockerfile")]
    pub dockerfile: Spanned<String>,
    #[serde(default)]
    pub args: BTreeMap<String, String>,
}

fn dot() -> Spanned<String> {
    Spanned::new(".".into(), Location::UNKNOWN, Location::UNKNOWN)
}

fn dockerfile() -> Spanned<String> {
    Spanned::new("Dockerfile".into(), Location::UNKNOWN, Location::UNKNOWN)
}

/// Development mode for an app service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevSpec {
    /// The reloading server command.
    pub command: Vec<String>,
    /// Where the project folder is bind-mounted in the container: an absolute path, not `/`.
    pub mount: Spanned<String>,
    /// Files (relative to the build context) whose change means the image (its dependencies)
    /// must be rebuilt.
    #[serde(default)]
    pub rebuild_on: Vec<Spanned<String>>,
    /// Globs (relative to the project) of the files the reloading server watches: after an edit
    /// of one, checks wait until the server has reloaded (see [`super::reload`]).
    #[serde(default)]
    pub reload_on: Vec<Spanned<String>>,
}

/// A Docker healthcheck; durations are like `1s`, `500ms`, `2m`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckSpec {
    pub test: Spanned<Vec<String>>,
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
    /// Reads and validates `dir/labforge.yaml`: every command that needs the whole stack starts
    /// here, so the same file gets the same messages from each.
    pub fn load(dir: &Path) -> Result<(String, StackSpec), super::Error> {
        let (path, text) = read(dir)?;
        let spec = StackSpec::parse(&path, &text).map_err(super::Error::Spec)?;
        Ok((path, spec))
    }

    /// The project name in `dir/labforge.yaml`, read leniently: `down` and `logs` must work even
    /// when the rest of the file has become invalid. A file that is no YAML, or names no valid
    /// project, gets the messages every other command gives.
    pub fn project_name(dir: &Path) -> Result<String, super::Error> {
        #[derive(Deserialize)]
        struct Named {
            project: String,
        }
        let (path, text) = read(dir)?;
        crate::base::yaml_syntax(&path, &text).map_err(|problem| super::Error::Spec(vec![problem]))?;
        match StackSpec::parse(&path, &text) {
            Ok(spec) => Ok(spec.project.value),
            Err(problems) => match serde_saphyr::from_str::<Named>(&text) {
                Ok(named) if is_dns_label(&named.project) => Ok(named.project),
                _ => Err(super::Error::Spec(problems)),
            },
        }
    }

    /// Parses and validates `text` read from `path`. `Err` holds every problem, one line each.
    pub fn parse(path: &str, text: &str) -> Result<StackSpec, Vec<String>> {
        let spec: StackSpec = crate::base::from_yaml(path, text).map_err(|problem| vec![problem])?;
        let problems = spec.problems(path);
        if problems.is_empty() { Ok(spec) } else { Err(problems) }
    }

    fn problems(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let at = |loc: &Location, msg: String| located(path, loc, &msg);
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
        if self.services.value.is_empty() {
            out.push(at(&self.services.referenced, "`services` is empty: define at least one service".into()));
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
        let services = &self.services.value;
        let names: Vec<&str> = services.keys().map(String::as_str).collect();
        for (name, service) in services.iter() {
            let name_at = services.name_at(name);
            if !is_dns_label(name) {
                out.push(at(&name_at, format!("service name `{name}` must be lowercase letters, digits and `-`")));
            }
            let mut problem = |loc: &Location, msg: String| out.push(at(loc, format!("service `{name}`: {msg}")));
            match (&service.image, &service.build) {
                (None, None) => problem(&name_at, "needs `image` or `build`".into()),
                (Some(image), _) if image.value.trim().is_empty() => {
                    problem(&image.referenced, "`image` is empty".into())
                }
                (Some(image), _) if let Some(why) = crate::base::image_reference_problem(&image.value) => problem(
                    &image.referenced,
                    format!("`image: {}` is not an image reference: {why}", image.value.escape_default()),
                ),
                _ => {}
            }
            if let Some(build) = &service.build {
                if let Some(why) = outside(&build.context.value, "the project") {
                    problem(
                        &build.context.referenced,
                        format!(
                            "build.context `{}` {why}: it must be a folder inside the project, relative to labforge.yaml (e.g. `.`)",
                            build.context.value
                        ),
                    );
                }
                if let Some(why) = outside(&build.dockerfile.value, "the build context") {
                    problem(
                        &build.dockerfile.referenced,
                        format!(
                            "build.dockerfile `{}` {why}: it must be a file inside the build context, relative to it (e.g. `Dockerfile`)",
                            build.dockerfile.value
                        ),
                    );
                }
            }
            if let Some(file) = &service.env_file
                && let Some(why) = outside(&file.value, "the project")
            {
                problem(
                    &file.referenced,
                    format!(
                        "env_file `{}` {why}: it must be a file inside the project, relative to labforge.yaml (e.g. `.env`)",
                        file.value
                    ),
                );
            }
            for (key, value) in &service.environment {
                // Only the syntax here: whether each variable is set is known once the stack is resolved.
                let set = |_: &str| Some("set".to_string());
                if let Err(e @ super::dotenv::Unresolved::Syntax(_)) = super::dotenv::interpolate(&value.value, &set) {
                    problem(&value.referenced, format!("environment {key}: {e}"));
                }
            }
            for port in &service.ports {
                if let Err(e) = parse_port(&port.value) {
                    problem(&port.referenced, e);
                }
            }
            for volume in &service.volumes {
                if let Err(e) = parse_volume(&volume.value) {
                    problem(&volume.referenced, e);
                }
            }
            for dep in service.depends_on.iter().map(|d| &d.service) {
                if dep.value == *name {
                    problem(&dep.referenced, format!("depends on itself (remove `{name}` from depends_on)"));
                } else if !services.contains_key(&dep.value) {
                    problem(
                        &dep.referenced,
                        format!("depends on `{}`, which is not defined (services: {})", dep.value, names.join(", ")),
                    );
                }
            }
            if let Some(hc) = &service.healthcheck {
                if hc.test.value.is_empty() {
                    problem(&hc.test.referenced, "healthcheck `test` is empty".into());
                }
                for d in [&hc.interval, &hc.timeout, &hc.start_period].into_iter().flatten() {
                    if let Err(e) = crate::base::parse_duration(&d.value) {
                        problem(&d.referenced, e);
                    }
                }
            }
            if let Some(dev) = &service.dev {
                if !is_container_dir(&dev.mount.value) {
                    problem(
                        &dev.mount.referenced,
                        format!(
                            "dev.mount `{}` must be an absolute path in the container other than `/` (e.g. `/app`)",
                            dev.mount.value
                        ),
                    );
                }
                for file in &dev.rebuild_on {
                    if let Some(why) = outside(&file.value, "the build context") {
                        problem(
                            &file.referenced,
                            format!(
                                "dev.rebuild_on `{}` {why}: it must be a file inside the build context, relative to it",
                                file.value
                            ),
                        );
                    }
                }
                for glob in &dev.reload_on {
                    if let Err(e) = super::reload::Sources::new(std::slice::from_ref(&glob.value)) {
                        problem(&glob.referenced, format!("dev.reload_on: {e}"));
                    }
                }
            }
            if let Some(p) = &service.ready_path
                && !is_http_path(&p.value)
            {
                problem(
                    &p.referenced,
                    format!(
                        "ready_path `{}` must be a path starting with `/`, without spaces (e.g. `/ready`)",
                        p.value.escape_default()
                    ),
                );
            }
            if let Some(ready) = &service.ready {
                let own = match service.kind {
                    ServiceKind::Postgres => Some(Protocol::Postgres),
                    ServiceKind::Mongo => Some(Protocol::Mongo),
                    ServiceKind::App => None,
                };
                if let Err(e) = ready.value.resolve(service.kind.port()) {
                    problem(&ready.referenced, e.to_string());
                } else if let Some(protocol) = ready.value.protocol
                    && Some(protocol) != own
                {
                    problem(
                        &ready.referenced,
                        format!(
                            "`ready.protocol: {}` does not match its kind `{}`",
                            format!("{protocol:?}").to_lowercase(),
                            format!("{:?}", service.kind).to_lowercase()
                        ),
                    );
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
            for dep in spec.services.value.get(name).map(|s| &s.depends_on[..]).unwrap_or_default() {
                let dep = &dep.service;
                let dep_name = dep.value.as_str();
                if dep_name == name || !spec.services.value.contains_key(dep_name) {
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
        self.services.value.keys().find_map(|name| visit(self, name, &mut Vec::new(), &mut done))
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

/// Reads `dir/labforge.yaml`: its path as messages show it, and its text (UTF-8, or an error
/// that locates the first byte that is not).
pub fn read(dir: &Path) -> Result<(String, String), super::Error> {
    let path = dir.join(FILE_NAME);
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            super::Error::Config(format!(
                "no {FILE_NAME} in {} (run labforge in a project made by `labforge new`, or pass `--dir`)",
                dir.display()
            ))
        } else {
            super::Error::Config(format!("cannot read {shown}: {e}"))
        }
    })?;
    let text = crate::base::utf8_text(&shown, bytes).map_err(|problem| super::Error::Spec(vec![problem]))?;
    Ok((shown, text))
}

/// `path:line:column: message`, or `path: message` for a value that has no place in the file.
pub(super) fn located(path: &str, loc: &Location, message: &str) -> String {
    if loc.line() == 0 {
        format!("{path}: {message}")
    } else {
        format!("{path}:{}:{}: {message}", loc.line(), loc.column())
    }
}

/// Why the relative path `path` does not name something inside `folder` (`is absolute`,
/// `leaves the project`, `is empty`), or `None` when it does.
fn outside(path: &str, folder: &str) -> Option<String> {
    if path.trim().is_empty() {
        return Some("is empty".into());
    }
    let windows_drive = path.len() >= 2 && path.as_bytes()[1] == b':' && path.as_bytes()[0].is_ascii_alphabetic();
    if path.starts_with(['/', '\\']) || windows_drive {
        return Some("is absolute".into());
    }
    let mut depth = 0usize;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if depth == 0 => return Some(format!("leaves {folder}")),
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    None
}

/// An absolute path in a Linux container that names a folder other than `/`.
fn is_container_dir(path: &str) -> bool {
    let mut depth = 0usize;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => depth = depth.saturating_sub(1),
            _ => depth += 1,
        }
    }
    path.starts_with('/') && depth > 0 && !path.chars().any(|c| c.is_control() || c == ':')
}

/// A path an HTTP request line can carry: starts with `/`, no spaces or control characters.
fn is_http_path(path: &str) -> bool {
    path.starts_with('/') && !path.chars().any(|c| c.is_whitespace() || c.is_control())
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
        assert_eq!(spec.services.value["app"].depends_on[0].service.value, "postgres");
        assert_eq!(spec.services.value["app"].depends_on[0].condition, Condition::Started);
        assert_eq!(parse_port("8000").unwrap(), Port { host: 8000, container: 8000 });
    }

    #[test]
    fn unknown_dependency_names_file_line_and_choices() {
        let text = GOOD.replace("depends_on: [postgres]", "depends_on: [db]");
        let problems = StackSpec::parse("labforge.yaml", &text).unwrap_err();
        assert_eq!(
            problems,
            vec!["labforge.yaml:14:18: service `app`: depends on `db`, which is not defined (services: app, postgres)"]
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

    /// The only problem `text` has, which must be located.
    fn problem(text: &str) -> String {
        let problems = StackSpec::parse("labforge.yaml", text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        problems[0].clone()
    }

    #[test]
    fn problems_once_reported_without_a_place_are_located() {
        let cases = [
            (
                GOOD.replace("  app:\n", "  App:\n"),
                "labforge.yaml:10:3: service name `App` must be lowercase letters, digits and `-`",
            ),
            (
                GOOD.replace("    ports: [\"8000\"]", "    ports: [\"8000\"]\n    ready_path: ready"),
                "labforge.yaml:14:17: service `app`: ready_path `ready` must be a path starting with `/`, without spaces (e.g. `/ready`)",
            ),
            (
                "version: 1\nproject: p\nservices: {}\n".to_string(),
                "labforge.yaml:3:11: `services` is empty: define at least one service",
            ),
            (
                GOOD.replace("    build: { context: . }", ""),
                "labforge.yaml:10:3: service `app`: needs `image` or `build`",
            ),
            (
                GOOD.replace("test: [CMD-SHELL, pg_isready]", "test: []"),
                "labforge.yaml:9:26: service `postgres`: healthcheck `test` is empty",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(problem(&text), expected);
        }
    }

    #[test]
    fn paths_must_stay_inside_the_project_and_mounts_be_container_folders() {
        let app = |extra: &str| format!("version: 1\nproject: p\nservices:\n  app:\n    kind: app\n{extra}");
        for (extra, expected) in [
            ("    build: { context: ../.. }\n", "6:23: service `app`: build.context `../..` leaves the project"),
            ("    build: { context: /etc }\n", "6:23: service `app`: build.context `/etc` is absolute"),
            ("    build: { context: a/../.. }\n", "6:23: service `app`: build.context `a/../..` leaves the project"),
            (
                "    build: { dockerfile: ../../../../etc/passwd }\n",
                "6:26: service `app`: build.dockerfile `../../../../etc/passwd` leaves the build context",
            ),
            ("    image: x\n    env_file: /etc/shadow\n", "7:15: service `app`: env_file `/etc/shadow` is absolute"),
            ("    image: x\n    env_file: ../.env\n", "7:15: service `app`: env_file `../.env` leaves the project"),
            (
                "    image: x\n    dev: { command: [x], mount: / }\n",
                "7:33: service `app`: dev.mount `/` must be an absolute",
            ),
            (
                "    image: x\n    dev: { command: [x], mount: app }\n",
                "7:33: service `app`: dev.mount `app` must be an absolute",
            ),
            (
                "    image: x\n    dev: { command: [x], mount: /app/.. }\n",
                "7:33: service `app`: dev.mount `/app/..` must be",
            ),
            (
                "    image: x\n    dev: { command: [x], mount: /app, rebuild_on: [../x] }\n",
                "7:52: service `app`: dev.rebuild_on `../x` leaves the build context",
            ),
            (
                "    image: x\n    environment: { URL: \"postgresql://${PW@db\" }\n",
                "7:25: service `app`: environment URL: `${PW` is not closed (write `${PW}`, or `$$` for a literal `$`)",
            ),
        ] {
            let found = problem(&app(extra));
            assert!(found.starts_with(&format!("labforge.yaml:{expected}")), "{extra}: {found}");
        }
        for fine in [
            "    build: { context: ./a/../b, dockerfile: docker/Dockerfile }\n",
            "    image: x\n    dev: { command: [x], mount: /srv/app/ }\n    env_file: config/.env\n",
        ] {
            StackSpec::parse("labforge.yaml", &app(fine)).unwrap();
        }
    }

    #[test]
    fn library_wording_does_not_leak() {
        for (text, expected) in [
            (
                "version: 1\nproject: p\nproject: q\n",
                "labforge.yaml:3:1: duplicate key `project` (each key may appear once)",
            ),
            ("version: one\nproject: p\nservices: {}\n", "labforge.yaml:1:10: expected a whole number, 0 or more"),
            (
                "version: 1\n---\nversion: 1\n",
                "labforge.yaml:3:1: the file holds more than one YAML document (remove the `---` lines)",
            ),
        ] {
            assert_eq!(problem(text), expected);
        }
        let deep = format!("version: {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(problem(&deep).ends_with("the file is nested too deeply to be a labforge file"), "{}", problem(&deep));
        let laughs = (1..12).fold("a: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string(), |text, i| {
            format!("{text}{}: &a{i} [{}]\n", (b'a' + i as u8) as char, vec![format!("*a{}", i - 1); 10].join(", "))
        });
        let found = problem(&laughs);
        assert!(found.ends_with("the file is too large or expands too many aliases to be a labforge file"), "{found}");
        assert!(!found.contains("budget") && !found.contains("Options"), "{found}");
    }

    #[test]
    fn a_broken_file_reads_the_same_to_every_command() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["version: 1\nproject: p\nservices: [\n", "version: 1\nproject: p\nservices:\n  app: [kind\n"] {
            std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
            let full = StackSpec::load(dir.path()).unwrap_err().to_string();
            let name = StackSpec::project_name(dir.path()).unwrap_err().to_string();
            assert_eq!(full, name);
            assert!(full.contains("unclosed bracket"), "{full}");
        }
        std::fs::write(dir.path().join(FILE_NAME), b"version: 1\nproject: \xff\n").unwrap();
        let full = StackSpec::load(dir.path()).unwrap_err().to_string();
        assert!(full.ends_with("labforge.yaml:2:10: byte 0xff is not UTF-8 text (save the file as UTF-8)"), "{full}");
        assert_eq!(full, StackSpec::project_name(dir.path()).unwrap_err().to_string());
        // The rest of the file invalid, the name fine: `down` still finds the project.
        std::fs::write(dir.path().join(FILE_NAME), "version: 1\nproject: shop\nservices: {}\n").unwrap();
        assert_eq!(StackSpec::project_name(dir.path()).unwrap(), "shop");
    }
}
