//! A project's stack, resolved: `labforge.yaml` plus `.env`, the user's overrides and the run
//! mode, turned into the exact containers to run, each with a config hash. Pure apart from
//! reading the project's files; no Docker here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Error;
pub use super::dotenv::read_dotenv;
use super::dotenv::{self, interpolate};
use super::instance::Instance;
use super::spec::{self, Port, ServiceKind, StackSpec};
use crate::context::{Context, Env, ImageKey, UserConfig};
use crate::health::{How, Protocol, Ready};

/// Labels on every Docker object labforge creates. The project label names the instance
/// ([`Instance`]): the project's name, with a suffix for a second folder of the same project.
pub const LABEL_PROJECT: &str = "io.labforge.project";
pub const LABEL_SERVICE: &str = "io.labforge.service";
pub const LABEL_CONFIG_HASH: &str = "io.labforge.config-hash";
/// [`Service::spec_hash`] of what the container was made from: `status` tells an outdated one.
pub const LABEL_SPEC_HASH: &str = "io.labforge.spec-hash";
/// `development` (source mounted, reloading server) or `production`, on containers.
pub const LABEL_MODE: &str = "io.labforge.mode";

/// How the app runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Source bind-mounted, reloading server, image rebuilt only when dependencies change.
    Dev,
    /// The production image built from the whole project, as the Dockerfile says.
    Prod,
}

/// Where a service's image comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ImageSource {
    /// An image reference, pulled if absent.
    Pull(String),
    /// Built from the project; `tag` is filled in once the context is hashed.
    Build { context: PathBuf, dockerfile: String, args: BTreeMap<String, String>, rebuild_on: Vec<String> },
}

/// A Docker healthcheck with parsed durations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

/// One container to run.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub kind: ServiceKind,
    pub image: ImageSource,
    pub command: Option<Vec<String>>,
    pub working_dir: Option<String>,
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    /// (Docker volume name, path in the container).
    pub volumes: Vec<(String, String)>,
    /// Host paths mounted into the container: the source in development mode.
    pub binds: Vec<Bind>,
    /// Services whose containers start first (`depends_on`).
    pub depends_on: Vec<String>,
    /// Those of [`Service::depends_on`] that must also be ready before this one starts
    /// (`condition: ready`). Not part of the config hash: the container is the same either way.
    #[serde(skip)]
    pub ready_first: Vec<String>,
    pub healthcheck: Option<Healthcheck>,
    pub ready_path: String,
    /// How the service tells it is ready (labforge.yaml's `ready:`, or its kind's default). Not
    /// part of the config hash: the healthcheck derived from it is.
    #[serde(skip)]
    pub ready: Ready,
    /// In development mode, the globs of the files the reloading server watches (`dev.reload_on`).
    /// Not part of the config hash: they change nothing in the container.
    #[serde(skip)]
    pub reload_on: Vec<String>,
}

/// A host path mounted into a container.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bind {
    pub host: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// A project's whole stack.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    /// Which copy of the project this folder runs: the names of its Docker objects.
    pub instance: Instance,
    pub dir: PathBuf,
    pub mode: Mode,
    /// Services in start order: every service after the ones it depends on.
    pub services: Vec<Service>,
}

impl Project {
    /// Reads `labforge.yaml` and `.env` from `dir` and resolves them for `mode`, as the
    /// readable instance (see [`Project::in_instance`]).
    pub fn load(dir: &Path, mode: Mode, ctx: &Context) -> Result<Project, Error> {
        let (shown, spec) = StackSpec::load(dir)?;
        let dotenv = read_dotenv(dir)?;
        resolve(&spec, &shown, dir, mode, ctx.user_config()?, ctx.env(), &dotenv)
    }

    /// A project known only by its name and folder: enough to find its objects and remove them
    /// (`down` and `logs` work even when the rest of labforge.yaml has become invalid).
    pub fn bare(name: &str, dir: &Path) -> Project {
        Project {
            name: name.to_string(),
            instance: Instance::plain(name, dir),
            dir: dir.to_path_buf(),
            mode: Mode::Dev,
            services: Vec::new(),
        }
    }

    /// The same project as another instance: its volumes renamed for it.
    pub fn in_instance(mut self, instance: Instance) -> Project {
        let old = format!("{}_", self.instance.name());
        for service in &mut self.services {
            for (volume, _) in &mut service.volumes {
                if let Some(key) = volume.strip_prefix(&old) {
                    *volume = instance.volume(key);
                }
            }
        }
        self.instance = instance;
        self
    }

    pub fn network_name(&self) -> String {
        self.instance.network()
    }

    pub fn container_name(&self, service: &str) -> String {
        self.instance.container(service)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The app service (the one of kind `app`), if the stack has one.
    pub fn app(&self) -> Option<&Service> {
        self.services.iter().find(|s| s.kind == ServiceKind::App)
    }
}

fn resolve(
    spec: &StackSpec,
    path: &str,
    dir: &Path,
    mode: Mode,
    user: &UserConfig,
    env: &Env,
    dotenv: &BTreeMap<String, String>,
) -> Result<Project, Error> {
    let project = spec.project.value.clone();
    let instance = Instance::plain(&project, dir);
    let lookup = |name: &str| env.string(name).or_else(|| dotenv.get(name).cloned());
    let mut problems = Vec::new();
    let mut services = Vec::new();
    for (name, s) in spec.services.value.iter() {
        let mut env = BTreeMap::new();
        if let Some(build) = &s.build {
            let context = dir.join(&build.context.value);
            for (field, at, target) in [
                ("build.context", &build.context, linked_outside(dir, &context)),
                (
                    "build.dockerfile",
                    &build.dockerfile,
                    linked_outside(&context, &context.join(&build.dockerfile.value)),
                ),
            ] {
                if let Some(target) = target {
                    let message = format!("service `{name}`: {field} `{}` {target}", at.value);
                    problems.push(spec::located(path, &at.referenced, &message));
                }
            }
        }
        if let Some(file) = &s.env_file {
            let env_path = dir.join(&file.value);
            if let Some(target) = linked_outside(dir, &env_path) {
                problems.push(spec::located(
                    path,
                    &file.referenced,
                    &format!("service `{name}`: env_file `{}` {target}", file.value),
                ));
            } else {
                match std::fs::read(&env_path) {
                    Ok(bytes) => match dotenv::read_bytes(&env_path.display().to_string(), bytes) {
                        Ok(vars) => env.extend(vars),
                        Err(found) => problems.extend(found),
                    },
                    Err(e) => problems.push(spec::located(
                        path,
                        &file.referenced,
                        &format!(
                            "service `{name}`: env_file `{}` cannot be read: {e} (create it, or remove `env_file`)",
                            file.value
                        ),
                    )),
                }
            }
        }
        for (key, value) in &s.environment {
            match interpolate(&value.value, &lookup) {
                Ok(v) => {
                    env.insert(key.clone(), v);
                }
                Err(e) => problems.push(spec::located(
                    path,
                    &value.referenced,
                    &format!("service `{name}`: environment {key} {e}"),
                )),
            }
        }
        let override_image = user.images.get(&image_key(s.kind)).cloned();
        let image = match (&s.build, &s.image) {
            (Some(build), _) => {
                let mut args = build.args.clone();
                if let Some(python) = override_image.filter(|_| s.kind == ServiceKind::App) {
                    args.insert("PYTHON_IMAGE".to_string(), python);
                }
                ImageSource::Build {
                    context: dir.join(&build.context.value),
                    dockerfile: build.dockerfile.value.clone(),
                    args,
                    rebuild_on: s
                        .dev
                        .as_ref()
                        .map(|d| d.rebuild_on.iter().map(|f| f.value.clone()).collect())
                        .unwrap_or_default(),
                }
            }
            (None, Some(image)) => ImageSource::Pull(override_image.unwrap_or_else(|| image.value.clone())),
            (None, None) => unreachable!("the spec validation requires image or build"),
        };
        let mut command = s.command.clone();
        let mut working_dir = None;
        let mut binds = Vec::new();
        if let (Mode::Dev, Some(dev)) = (mode, &s.dev) {
            command = Some(dev.command.clone());
            working_dir = Some(dev.mount.value.clone());
            let mount = dev.mount.value.trim_end_matches('/');
            binds.push(Bind { host: dir.to_path_buf(), target: mount.to_string(), read_only: false });
            // The mounted project holds .env with its secrets: the container gets them as
            // environment variables, and sees an empty file instead (some libraries read
            // `./.env` themselves, and fail on a file they may not read).
            if dir.join(".env").exists() {
                binds.push(Bind { host: PathBuf::from("/dev/null"), target: format!("{mount}/.env"), read_only: true });
            }
            env.insert("PYTHONPATH".to_string(), format!("{mount}/src"));
        }
        // The port the service listens on in its container: its kind's, if it publishes that one.
        let ports: Vec<Port> = s.ports.iter().filter_map(|p| spec::parse_port(&p.value).ok()).collect();
        let own_port = ports
            .iter()
            .map(|p| p.container)
            .find(|c| *c == s.kind.port())
            .or(ports.first().map(|p| p.container))
            .unwrap_or(s.kind.port());
        let ready = match &s.ready {
            Some(ready) => ready.value.resolve(own_port).map_err(|e| {
                Error::Spec(vec![spec::located(path, &ready.referenced, &format!("service `{name}`: {e}"))])
            })?,
            None => default_ready(s.kind, s.ready_path.as_ref().map(|p| p.value.as_str()), own_port),
        };
        // Docker's healthcheck follows `ready:` unless the service defines its own.
        let derived = s.ready.is_some().then(|| Healthcheck {
            test: std::iter::once("CMD".to_string()).chain(ready.command()).collect(),
            interval: ready.every,
            timeout: Duration::from_secs(3),
            retries: 60,
            start_period: Duration::ZERO,
        });
        let healthcheck = s.healthcheck.as_ref().map(|h| {
            let d = |v: &Option<serde_saphyr::Spanned<String>>, default: u64| {
                v.as_ref()
                    .and_then(|d| crate::base::parse_duration(&d.value).ok())
                    .unwrap_or(Duration::from_secs(default))
            };
            Healthcheck {
                test: h.test.value.clone(),
                interval: d(&h.interval, 30),
                timeout: d(&h.timeout, 30),
                retries: h.retries.unwrap_or(3),
                start_period: d(&h.start_period, 0),
            }
        });
        let healthcheck = healthcheck.or(derived);
        services.push(Service {
            name: name.clone(),
            kind: s.kind,
            image,
            command,
            working_dir,
            env,
            ports,
            volumes: s
                .volumes
                .iter()
                .filter_map(|v| spec::parse_volume(&v.value).ok())
                .map(|(vol, at)| (instance.volume(vol), at.to_string()))
                .collect(),
            binds,
            depends_on: s.depends_on.iter().map(|d| d.service.value.clone()).collect(),
            ready_first: s
                .depends_on
                .iter()
                .filter(|d| d.condition == spec::Condition::Ready)
                .map(|d| d.service.value.clone())
                .collect(),
            healthcheck,
            ready_path: ready.http_path().map(str::to_string).unwrap_or_else(|| "/ready".to_string()),
            ready,
            reload_on: match (mode, &s.dev) {
                (Mode::Dev, Some(dev)) => dev.reload_on.iter().map(|g| g.value.clone()).collect(),
                _ => Vec::new(),
            },
        });
    }
    if !problems.is_empty() {
        return Err(Error::Spec(problems));
    }
    Ok(Project { name: project, instance, dir: dir.to_path_buf(), mode, services: start_order(services) })
}

/// How `path`, which names something inside `folder`, leads outside it through a symbolic link
/// (`leads to /etc/shadow, outside ...`), or `None` when it stays inside (or does not exist yet).
fn linked_outside(folder: &Path, path: &Path) -> Option<String> {
    let (Ok(folder), Ok(target)) = (folder.canonicalize(), path.canonicalize()) else {
        return None;
    };
    (!target.starts_with(&folder)).then(|| {
        format!(
            "leads to {} through a symbolic link, outside {}: name something inside it",
            target.display(),
            folder.display()
        )
    })
}

/// A service's readiness when labforge.yaml does not define it: its kind's protocol, or for an
/// app `GET ready_path` (default `/ready`).
fn default_ready(kind: ServiceKind, ready_path: Option<&str>, port: u16) -> Ready {
    let how = match kind {
        ServiceKind::Postgres => How::Protocol(Protocol::Postgres),
        ServiceKind::Mongo => How::Protocol(Protocol::Mongo),
        ServiceKind::App => How::Http(ready_path.unwrap_or("/ready").to_string()),
    };
    Ready { how, live: None, every: Duration::from_secs(1), port }
}

/// The user's image override that applies to a service of `kind`: the database image, or the
/// app's base image.
pub fn image_key(kind: ServiceKind) -> ImageKey {
    match kind {
        ServiceKind::Postgres => ImageKey::Postgres,
        ServiceKind::Mongo => ImageKey::Mongo,
        ServiceKind::App => ImageKey::Python,
    }
}

/// Orders services so each comes after its dependencies (the spec has no cycles), keeping the
/// file's order otherwise.
fn start_order(mut pending: Vec<Service>) -> Vec<Service> {
    let mut ordered: Vec<Service> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let next =
            pending.iter().position(|s| s.depends_on.iter().all(|d| ordered.iter().any(|o| &o.name == d))).unwrap_or(0);
        ordered.push(pending.remove(next));
    }
    ordered
}

impl Service {
    /// A hash of everything that defines the container. A container whose label differs is
    /// recreated; one that matches is left alone. The host port is not part of it when it was
    /// chosen automatically: only what the file asks for is.
    pub fn config_hash(&self, image_id: &str) -> String {
        self.hash_with(image_id)
    }

    /// A hash of the service as labforge.yaml and .env define it, without its image (which only
    /// `up` resolves): a container labelled otherwise runs a configuration edited since.
    pub fn spec_hash(&self) -> String {
        self.hash_with("")
    }

    fn hash_with(&self, image_id: &str) -> String {
        let mut h = Sha256::new();
        let body = serde_json::json!({
            "service": self,
            "env": self.env,
            "image_id": image_id,
        });
        h.update(body.to_string().as_bytes());
        crate::base::hex(&h.finalize()[..8])
    }

    /// The `VAR` of this service's environment, or `default`.
    pub fn env_or(&self, key: &str, default: &str) -> String {
        self.env.get(key).filter(|v| !v.is_empty()).cloned().unwrap_or_else(|| default.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `labforge.yaml` text resolved in development mode with `user`'s overrides and no variables.
    fn resolve_text(text: &str, user: &UserConfig) -> Result<Project, Error> {
        let spec = StackSpec::parse("labforge.yaml", text).unwrap();
        resolve(&spec, "labforge.yaml", Path::new("."), Mode::Dev, user, &Env::default(), &BTreeMap::new())
    }

    #[test]
    fn services_start_after_their_dependencies() {
        let text = "version: 1\nproject: p\nservices:\n  app:\n    kind: app\n    image: x\n    depends_on: [db]\n  db:\n    kind: postgres\n    image: y\n";
        let project = resolve_text(text, &UserConfig::default()).unwrap();
        let order: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(order, ["db", "app"]);
    }

    #[test]
    fn user_overrides_replace_images_and_the_python_base() {
        let text = "version: 1\nproject: p\nservices:\n  db:\n    kind: postgres\n    image: postgres:17\n  app:\n    kind: app\n    build: { args: { PYTHON_IMAGE: python:3.12-slim } }\n";
        let mut user = UserConfig::default();
        user.images.insert(ImageKey::Postgres, "mirror/pg:15".into());
        user.images.insert(ImageKey::Python, "mirror/py:3.11".into());
        let project = resolve_text(text, &user).unwrap();
        assert_eq!(project.service("db").unwrap().image, ImageSource::Pull("mirror/pg:15".into()));
        let ImageSource::Build { args, .. } = &project.service("app").unwrap().image else { panic!() };
        assert_eq!(args["PYTHON_IMAGE"], "mirror/py:3.11");
    }

    #[test]
    fn an_unset_variable_is_named_with_the_fix() {
        let text = "version: 1\nproject: p\nservices:\n  db:\n    kind: postgres\n    image: x\n    environment: { POSTGRES_PASSWORD: \"${PG_PW}\" }\n";
        let err = resolve_text(text, &UserConfig::default()).unwrap_err();
        assert!(err.to_string().contains("uses ${PG_PW}, which is not set (add `PG_PW=...` to .env)"), "{err}");
    }
}
