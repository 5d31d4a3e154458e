//! What a command learns from outside itself: the process environment, the user's
//! configuration, where the Docker daemon is, the tools on `PATH`. It is read once, at the command
//! edge ([`Context::from_process`]), and passed down; nothing below `cmd/` reads the process
//! environment or loads configuration by itself, so a test builds a [`Context`] from pairs and
//! sees exactly what a user with those variables would.
//!
//! Every environment variable labforge reads is named in this module.

pub mod config;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use config::{ConfigError, ImageKey, UserConfig};

/// A folder of labs that replaces the embedded catalog (lab authors, facilitators).
pub const LABS_ENV: &str = "LABFORGE_LABS";
/// A folder of templates that replaces the embedded catalog (template authors).
pub const TEMPLATES_ENV: &str = "LABFORGE_TEMPLATES";
/// The Python that makes a lab's virtual environment.
pub const PYTHON_ENV: &str = "LABFORGE_PYTHON";
/// Where labforge keeps what projects share (the wheel cache of lab environments); else
/// `$XDG_CACHE_HOME/labforge`, else `~/.cache/labforge`.
pub const CACHE_ENV: &str = "LABFORGE_CACHE_DIR";
/// Where Docker clients connect; the default socket when unset.
pub const DOCKER_HOST_ENV: &str = "DOCKER_HOST";
/// The daemon's default socket.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
/// The kubeconfig files to merge (`:`-separated), as kubectl reads them; `~/.kube/config` when unset.
pub const KUBECONFIG_ENV: &str = "KUBECONFIG";

/// A snapshot of environment variables. A variable set to the empty string counts as unset, as
/// `NO_COLOR` and the Docker CLI treat it.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, OsString>,
}

impl Env {
    /// The process's environment, now. The one place labforge reads it.
    pub fn from_process() -> Env {
        Env { vars: std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))).collect() }
    }

    /// An environment of exactly these variables (tests, and commands that start from a clean one).
    pub fn from_pairs<K: Into<String>, V: Into<OsString>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// A variable's value when it is set and not empty.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(name).map(OsString::as_os_str).filter(|v| !v.is_empty())
    }

    /// A variable's value as text, when it is set, not empty and UTF-8.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).and_then(OsStr::to_str).map(str::to_string)
    }
}

/// Everything a command knows about its surroundings; cheap to clone and share between tasks.
#[derive(Debug, Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    env: Env,
    /// Loaded on first use: `labforge new` must work with a broken config file.
    user: OnceLock<Result<UserConfig, ConfigError>>,
    /// The instance every project is run as, when the caller names it (a workshop seat).
    instance: Option<String>,
}

impl Context {
    /// A context over `env`.
    pub fn new(env: Env) -> Context {
        Context { inner: Arc::new(Inner { env, user: OnceLock::new(), instance: None }) }
    }

    /// The same context, running every project as instance `suffix` (`shop-SUFFIX-postgres`):
    /// what a workshop sets per seat, so that seats never share an object.
    pub fn with_instance(&self, suffix: &str) -> Context {
        let inner = Inner { env: self.inner.env.clone(), user: OnceLock::new(), instance: Some(suffix.to_string()) };
        Context { inner: Arc::new(inner) }
    }

    /// The instance suffix set by [`Context::with_instance`], if any.
    pub fn instance(&self) -> Option<&str> {
        self.inner.instance.as_deref()
    }

    /// The context of this process: its environment and the user's configuration.
    pub fn from_process() -> Context {
        Context::new(Env::from_process())
    }

    /// The environment, for what projects interpolate (`${VAR}` in `labforge.yaml`).
    pub fn env(&self) -> &Env {
        &self.inner.env
    }

    /// The user's configuration: the config file, then the image variables over it.
    pub fn user_config(&self) -> Result<&UserConfig, ConfigError> {
        self.inner.user.get_or_init(|| UserConfig::load(&self.inner.env)).as_ref().map_err(Clone::clone)
    }

    /// The CA bundle builds trust: `flag` (`--ca-cert`), else the first of [`config::CA_ENV`]
    /// that is set. Its path and contents.
    pub fn ca_bundle(&self, flag: Option<&Path>) -> Result<Option<(PathBuf, Vec<u8>)>, ConfigError> {
        config::ca_bundle(flag, &self.inner.env)
    }

    /// Where the Docker daemon listens: `DOCKER_HOST`, else the default socket.
    pub fn docker_host(&self) -> String {
        self.inner.env.string(DOCKER_HOST_ENV).unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_string())
    }

    /// The Python that creates virtual environments.
    pub fn python(&self) -> String {
        self.inner.env.string(PYTHON_ENV).unwrap_or_else(|| "python3".to_string())
    }

    /// Where labforge keeps what projects share: [`CACHE_ENV`], else `$XDG_CACHE_HOME/labforge`,
    /// else `$HOME/.cache/labforge`, else a folder in the temporary directory.
    pub fn cache_dir(&self) -> PathBuf {
        let env = &self.inner.env;
        env.get(CACHE_ENV).map(PathBuf::from).unwrap_or_else(|| {
            let base = env.get("XDG_CACHE_HOME").map(PathBuf::from);
            let base = base.or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cache")));
            base.unwrap_or_else(std::env::temp_dir).join("labforge")
        })
    }

    /// The `PATH` child processes inherit.
    pub fn path_var(&self) -> OsString {
        self.inner.env.get("PATH").map(OsStr::to_os_string).unwrap_or_default()
    }

    /// A program on `PATH`.
    pub fn which(&self, tool: &str) -> Option<PathBuf> {
        crate::base::which(tool, &self.path_var())
    }

    /// The folder of labs that replaces the embedded catalog, if one is set.
    pub fn labs_dir(&self) -> Option<PathBuf> {
        self.inner.env.get(LABS_ENV).map(PathBuf::from)
    }

    /// The folder of templates that replaces the embedded catalog, if one is set.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        self.inner.env.get(TEMPLATES_ENV).map(PathBuf::from)
    }

    /// The kubeconfig files, in the order kubectl merges them: `flag` (`--kubeconfig`), else
    /// every file `KUBECONFIG` names, else `~/.kube/config`.
    pub fn kubeconfigs(&self, flag: Option<&Path>) -> Vec<PathBuf> {
        if let Some(path) = flag {
            return vec![path.to_path_buf()];
        }
        match self.inner.env.get(KUBECONFIG_ENV) {
            Some(list) => std::env::split_paths(list).filter(|p| !p.as_os_str().is_empty()).collect(),
            None => {
                self.inner.env.get("HOME").map(|home| vec![Path::new(home).join(".kube/config")]).unwrap_or_default()
            }
        }
    }

    /// A GitHub token from the environment, with the variable it came from: `GH_TOKEN`, else
    /// `GITHUB_TOKEN` (as gh reads them).
    pub fn github_token(&self) -> Option<(&'static str, String)> {
        ["GH_TOKEN", "GITHUB_TOKEN"].into_iter().find_map(|name| Some((name, self.inner.env.string(name)?)))
    }

    /// The GitHub API root `LABFORGE_GITHUB_API` names (what `--api-url` sets for one command).
    pub fn github_api(&self) -> Option<String> {
        self.inner.env.string("LABFORGE_GITHUB_API")
    }

    /// The GitHub Enterprise Server host `GH_HOST` names, if any.
    pub fn github_host(&self) -> Option<String> {
        self.inner.env.string("GH_HOST")
    }

    /// Whether the user asked for no colour (`NO_COLOR`, any non-empty value).
    pub fn no_color(&self) -> bool {
        self.inner.env.get("NO_COLOR").is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_variables_count_as_unset() {
        let ctx = Context::new(Env::from_pairs([("DOCKER_HOST", ""), ("NO_COLOR", ""), ("LABFORGE_PYTHON", "")]));
        assert_eq!(ctx.docker_host(), DEFAULT_DOCKER_HOST);
        assert!(!ctx.no_color());
        assert_eq!(ctx.python(), "python3");
        let ctx = Context::new(Env::from_pairs([("DOCKER_HOST", "tcp://10.0.0.5:2375"), ("NO_COLOR", "1")]));
        assert_eq!(ctx.docker_host(), "tcp://10.0.0.5:2375");
        assert!(ctx.no_color());
    }

    #[test]
    fn the_user_config_comes_from_the_given_environment_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, "images:\n  postgres: mirror/pg:17\n").unwrap();
        let ctx = Context::new(Env::from_pairs([
            ("LABFORGE_CONFIG", file.as_os_str().to_owned()),
            ("LABFORGE_IMAGE_MONGO", OsString::from("mirror/mongo:8")),
        ]));
        let user = ctx.user_config().unwrap();
        assert_eq!(user.images[&ImageKey::Postgres], "mirror/pg:17");
        assert_eq!(user.images[&ImageKey::Mongo], "mirror/mongo:8");
        assert_eq!(user.image_sources[&ImageKey::Mongo], "LABFORGE_IMAGE_MONGO");
        let bare = Context::new(Env::default());
        assert!(bare.user_config().unwrap().images.is_empty(), "no HOME, no file, no variables: no overrides");
    }

    #[test]
    fn a_broken_config_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, "images:\n  nosuch: x\n").unwrap();
        let ctx = Context::new(Env::from_pairs([("LABFORGE_CONFIG", file.as_os_str().to_owned())]));
        let err = ctx.user_config().unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:2:", file.display())), "{err}");
    }

    #[test]
    fn image_overrides_that_name_no_image_are_refused_with_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        let with =
            |pairs: Vec<(&str, OsString)>| Context::new(Env::from_pairs(pairs)).user_config().unwrap_err().to_string();
        std::fs::write(&file, "images:\n  postgres: \"\"\n").unwrap();
        assert_eq!(
            with(vec![("LABFORGE_CONFIG", file.as_os_str().to_owned())]),
            format!("{}:2:13: images.postgres: `` is not an image reference: it is empty", file.display())
        );
        std::fs::write(&file, "images:\n  mongo: my mongo\n").unwrap();
        let said = with(vec![("LABFORGE_CONFIG", file.as_os_str().to_owned())]);
        assert!(said.starts_with(&format!("{}:2:10: images.mongo", file.display())), "{said}");
        assert!(said.ends_with("it contains a space"), "{said}");
        std::fs::write(&file, b"images:\n  mongo: m\xffngo\n").unwrap();
        assert_eq!(
            with(vec![("LABFORGE_CONFIG", file.as_os_str().to_owned())]),
            format!("{}:2:11: byte 0xff is not UTF-8 text (save the file as UTF-8)", file.display())
        );
        assert_eq!(
            with(vec![("LABFORGE_IMAGE_POSTGRES", OsString::from("Postgres:17"))]),
            "LABFORGE_IMAGE_POSTGRES=`Postgres:17` is not an image reference: expected NAME[:TAG][@DIGEST], e.g. `postgres:17`"
        );
        let missing = dir.path().join("nowhere.yaml");
        assert_eq!(
            with(vec![("LABFORGE_CONFIG", missing.as_os_str().to_owned())]),
            format!(
                "LABFORGE_CONFIG names {}, which is not a file: create it, or unset LABFORGE_CONFIG",
                missing.display()
            )
        );
    }
}
