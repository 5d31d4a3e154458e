//! Where template files come from: the catalog embedded in the binary, or a folder on disk.
//! Reading a folder is strict: symlinks, special files and non-UTF-8 names are refused, so a
//! template can never point the renderer outside its own folder.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::Error;
use crate::embedded;

/// The manifest every template and layer folder holds.
pub const MANIFEST: &str = "template.yaml";

/// The files of one template folder, keyed by `/`-separated path relative to the folder.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub origin: Origin,
    pub files: BTreeMap<String, Cow<'static, [u8]>>,
}

/// Where a layer was read from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Dir(PathBuf),
}

impl Layer {
    /// The manifest's text, or `None` when the folder has no `template.yaml`.
    pub fn manifest_text(&self) -> Option<Result<&str, std::str::Utf8Error>> {
        self.files.get(MANIFEST).map(|bytes| std::str::from_utf8(bytes))
    }

    /// A human name for where the manifest lives, for error messages.
    pub fn manifest_path(&self) -> String {
        match &self.origin {
            Origin::Builtin => format!("templates/{}/{MANIFEST}", self.name),
            Origin::Dir(dir) => dir.join(MANIFEST).display().to_string(),
        }
    }
}

/// Where built-in templates and layers come from: the catalog embedded in the binary, or a folder
/// that replaces it (`LABFORGE_TEMPLATES`, for template authors who want to see an edit without
/// rebuilding labforge).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Templates {
    #[default]
    Embedded,
    Dir(PathBuf),
}

impl Templates {
    /// The folder when one is given, else the embedded catalog.
    pub fn choose(dir: Option<PathBuf>) -> Templates {
        dir.map_or(Templates::Embedded, Templates::Dir)
    }

    /// Names of the templates users can choose (layers starting with `_` are internal).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self {
            Templates::Dir(dir) => fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().join(MANIFEST).is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect(),
            Templates::Embedded => embedded::TEMPLATES
                .iter()
                .filter_map(|(path, _)| path.strip_suffix(MANIFEST)?.strip_suffix('/'))
                .map(str::to_string)
                .collect(),
        };
        names.retain(|name| !name.contains('/') && !name.starts_with('_'));
        names.sort();
        names.dedup();
        names
    }

    /// A template or layer by name.
    pub fn layer(&self, name: &str) -> Option<Layer> {
        if let Templates::Dir(dir) = self {
            let mut layer = from_dir(&dir.join(name)).ok()?;
            layer.name = name.to_string();
            return Some(layer);
        }
        let prefix = format!("{name}/");
        let files: BTreeMap<_, _> = embedded::TEMPLATES
            .iter()
            .filter_map(|(path, bytes)| Some((path.strip_prefix(&prefix)?.to_string(), Cow::Borrowed(*bytes))))
            .collect();
        (!files.is_empty()).then(|| Layer { name: name.to_string(), origin: Origin::Builtin, files })
    }
}

/// Files and folders that are build debris, never template content.
pub fn is_debris(name: &str) -> bool {
    matches!(name, "__pycache__" | ".ruff_cache" | ".pytest_cache" | ".mypy_cache" | ".DS_Store")
        || name.ends_with(".pyc")
}

/// Reads a template folder, refusing anything that could escape it. All problems are reported
/// together.
pub fn from_dir(dir: &Path) -> Result<Layer, Error> {
    let meta = fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Answer(format!(
            "--template-dir {} does not exist (pass the folder that holds template.yaml)",
            dir.display()
        )),
        _ => Error::io("cannot read template folder", dir)(e),
    })?;
    if !meta.is_dir() {
        return Err(Error::Answer(format!("--template-dir {} is not a folder", dir.display())));
    }
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "template".to_string());
    let files = read_tree(dir)?;
    if !files.contains_key(MANIFEST) {
        return Err(Error::InvalidTemplate {
            template: dir.display().to_string(),
            problems: vec![format!("{MANIFEST} is missing: every template folder needs one")],
        });
    }
    Ok(Layer { name, origin: Origin::Dir(dir.to_path_buf()), files })
}

/// Every regular file below `dir`, keyed by `/`-separated relative path. Symlinks, special files
/// and non-UTF-8 names are refused, all of them reported together.
pub fn read_tree(dir: &Path) -> Result<BTreeMap<String, Cow<'static, [u8]>>, Error> {
    let mut files = BTreeMap::new();
    let mut problems = Vec::new();
    walk(dir, dir, &mut files, &mut problems)?;
    if !problems.is_empty() {
        return Err(Error::InvalidTemplate { template: dir.display().to_string(), problems });
    }
    Ok(files)
}

fn walk(
    base: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Cow<'static, [u8]>>,
    problems: &mut Vec<String>,
) -> Result<(), Error> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(Error::io("cannot read template folder", dir))?
        .collect::<Result<_, _>>()
        .map_err(Error::io("cannot read template folder", dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let shown = path.strip_prefix(base).unwrap_or(&path).display().to_string();
        let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
            problems.push(format!("{shown}: file name is not UTF-8"));
            continue;
        };
        if is_debris(&file_name) || file_name == ".git" {
            continue;
        }
        let meta = fs::symlink_metadata(&path).map_err(Error::io("cannot read", &path))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = fs::read_link(&path).map(|t| t.display().to_string()).unwrap_or_default();
            problems.push(format!("{shown}: is a symlink (to {target}); templates may not contain symlinks"));
        } else if kind.is_dir() {
            walk(base, &path, files, problems)?;
        } else if kind.is_file() {
            let rel = path.strip_prefix(base).unwrap_or(&path);
            let rel: Vec<&str> = rel.components().filter_map(|c| c.as_os_str().to_str()).collect();
            let bytes = fs::read(&path).map_err(Error::io("cannot read", &path))?;
            files.insert(rel.join("/"), Cow::Owned(bytes));
        } else {
            problems.push(format!("{shown}: is not a regular file or folder"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_lists_user_facing_templates_only() {
        let names = Templates::Embedded.names();
        assert!(names.iter().any(|n| n == "fastapi"), "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with('_')));
    }

    #[cfg(unix)]
    #[test]
    fn folder_with_a_symlink_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(MANIFEST), "name: x\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("leak.txt")).unwrap();
        let err = from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("leak.txt: is a symlink (to /etc/passwd)"), "{err}");
    }
}
