//! What the user's machine adds to a project's stack: image overrides for offline workshops and
//! private mirrors, and extra CA certificates for builds behind TLS-inspecting proxies. Reads
//! files and the [`Env`] snapshot only; no Docker here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Env;

/// A problem with the user's configuration or a CA bundle it names (exit 2).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Environment variables that replace an image, per service kind. `PYTHON` replaces the app's
/// base image (its `PYTHON_IMAGE` build argument).
pub const IMAGE_ENV: [(&str, ImageKey); 3] = [
    ("LABFORGE_IMAGE_POSTGRES", ImageKey::Postgres),
    ("LABFORGE_IMAGE_MONGO", ImageKey::Mongo),
    ("LABFORGE_IMAGE_PYTHON", ImageKey::Python),
];

/// Environment variables a CA bundle for builds is taken from, in order, when `--ca-cert` is not
/// given: the ones pip, OpenSSL and requests already honour.
pub const CA_ENV: [&str; 3] = ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"];

/// Which image an override replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKey {
    Postgres,
    Mongo,
    Python,
}

impl ImageKey {
    /// Its key under `images:` in the config file.
    pub fn field(self) -> &'static str {
        match self {
            ImageKey::Postgres => "postgres",
            ImageKey::Mongo => "mongo",
            ImageKey::Python => "python",
        }
    }
}

impl std::fmt::Display for ImageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImageKey::Postgres => "postgres",
            ImageKey::Mongo => "mongo",
            ImageKey::Python => "python (the app's base)",
        })
    }
}

/// `~/.config/labforge/config.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSpec {
    #[serde(default)]
    images: BTreeMap<ImageKey, serde_saphyr::Spanned<String>>,
}

/// The user's settings that apply to every project.
#[derive(Debug, Default, Clone)]
pub struct UserConfig {
    /// Image replacements, environment over config file.
    pub images: BTreeMap<ImageKey, String>,
    /// Where each image replacement came from, for `doctor` and messages.
    pub image_sources: BTreeMap<ImageKey, String>,
}

impl UserConfig {
    /// The config file's path: `$LABFORGE_CONFIG`, else `$XDG_CONFIG_HOME/labforge/config.yaml`,
    /// else `~/.config/labforge/config.yaml`.
    pub fn path(env: &Env) -> Option<PathBuf> {
        if let Some(p) = env.get("LABFORGE_CONFIG") {
            return Some(PathBuf::from(p));
        }
        let base = env
            .get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("labforge/config.yaml"))
    }

    /// Reads the config file (if any) and the environment.
    pub fn load(env: &Env) -> Result<UserConfig, ConfigError> {
        let mut config = UserConfig::default();
        if let Some(named) = env.get("LABFORGE_CONFIG")
            && !Path::new(named).is_file()
        {
            return Err(ConfigError(format!(
                "LABFORGE_CONFIG names {}, which is not a file: create it, or unset LABFORGE_CONFIG",
                Path::new(named).display()
            )));
        }
        if let Some(path) = Self::path(env)
            && path.exists()
        {
            let shown = path.display().to_string();
            let bytes = std::fs::read(&path).map_err(|e| ConfigError(format!("cannot read {shown}: {e}")))?;
            let text = crate::base::utf8_text(&shown, bytes).map_err(ConfigError)?;
            let spec: ConfigSpec = crate::base::from_yaml(&shown, &text).map_err(ConfigError)?;
            for (key, image) in spec.images {
                if let Some(why) = crate::base::image_reference_problem(&image.value) {
                    let at = image.referenced;
                    return Err(ConfigError(format!(
                        "{shown}:{}:{}: images.{}: `{}` is not an image reference: {why}",
                        at.line(),
                        at.column(),
                        key.field(),
                        image.value.escape_default()
                    )));
                }
                config.image_sources.insert(key, shown.clone());
                config.images.insert(key, image.value);
            }
        }
        for (var, key) in IMAGE_ENV {
            if let Some(image) = env.string(var)
                && !image.trim().is_empty()
            {
                if let Some(why) = crate::base::image_reference_problem(image.trim()) {
                    return Err(ConfigError(format!(
                        "{var}=`{}` is not an image reference: {why}",
                        image.escape_default()
                    )));
                }
                config.images.insert(key, image.trim().to_string());
                config.image_sources.insert(key, var.to_string());
            }
        }
        Ok(config)
    }
}

/// Finds the CA bundle to trust in builds: `--ca-cert`, else the first of [`CA_ENV`] that names
/// a readable file. Returns its path and contents.
pub fn ca_bundle(flag: Option<&Path>, env: &Env) -> Result<Option<(PathBuf, Vec<u8>)>, ConfigError> {
    let candidates: Vec<(PathBuf, String)> = match flag {
        Some(path) => vec![(path.to_path_buf(), "--ca-cert".to_string())],
        None => CA_ENV.iter().filter_map(|var| env.get(var).map(|v| (PathBuf::from(v), var.to_string()))).collect(),
    };
    let Some((path, source)) = candidates.into_iter().next() else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| ConfigError(format!("cannot read the CA certificate {} (from {source}): {e}", path.display())))?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
        return Err(ConfigError(format!("{} (from {source}) holds no PEM certificate", path.display())));
    }
    Ok(Some((path, bytes)))
}
