//! Where labs come from: the catalog embedded in the binary, or a folder named by `--labs-dir` or
//! `LABFORGE_LABS` (for lab authors and facilitators). Reading a folder refuses symlinks.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Error;
use crate::embedded;

/// Environment variable naming a folder of labs that replaces the embedded catalog.
pub const LABS_ENV: &str = "LABFORGE_LABS";

/// The files of one lab, keyed by `/`-separated path inside its folder.
#[derive(Debug, Clone)]
pub struct LabFiles {
    origin: Origin,
    files: BTreeMap<String, Cow<'static, [u8]>>,
}

#[derive(Debug, Clone)]
enum Origin {
    Builtin(String),
    Dir(PathBuf),
}

impl LabFiles {
    /// A lab held in memory, as a folder named `name` would hold it (tests, tools).
    pub fn from_map(name: &str, files: BTreeMap<String, Vec<u8>>) -> LabFiles {
        LabFiles {
            origin: Origin::Builtin(name.to_string()),
            files: files.into_iter().map(|(k, v)| (k, Cow::Owned(v))).collect(),
        }
    }

    pub fn get(&self, rel: &str) -> Option<&[u8]> {
        self.files.get(rel).map(|b| b.as_ref())
    }

    /// Whether any file lies below `prefix/`.
    pub fn has_dir(&self, prefix: &str) -> bool {
        let prefix = format!("{}/", prefix.trim_end_matches('/'));
        self.files.keys().any(|k| k.starts_with(&prefix))
    }

    /// The files below `prefix/`, keyed by their path inside it.
    pub fn under(&self, prefix: &str) -> BTreeMap<String, Cow<'static, [u8]>> {
        let prefix = format!("{}/", prefix.trim_end_matches('/'));
        self.files.iter().filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone()))).collect()
    }

    /// How to name a file of this lab in messages.
    pub fn display_path(&self, rel: &str) -> String {
        match &self.origin {
            Origin::Builtin(id) => format!("labs/{id}/{rel}"),
            Origin::Dir(dir) => dir.join(rel).display().to_string(),
        }
    }

    /// The lab folder's own name.
    pub fn folder_name(&self) -> Option<String> {
        match &self.origin {
            Origin::Builtin(id) => Some(id.clone()),
            Origin::Dir(dir) => dir.canonicalize().ok()?.file_name().map(|n| n.to_string_lossy().into_owned()),
        }
    }
}

/// Where to look for labs.
#[derive(Debug, Clone)]
pub enum Catalog {
    Embedded,
    Dir(PathBuf),
}

impl Catalog {
    /// `--labs-dir`, else `LABFORGE_LABS`, else the embedded catalog.
    pub fn choose(flag: Option<&Path>) -> Catalog {
        match flag {
            Some(dir) => Catalog::Dir(dir.to_path_buf()),
            None => match std::env::var_os(LABS_ENV).filter(|v| !v.is_empty()) {
                Some(dir) => Catalog::Dir(PathBuf::from(dir)),
                None => Catalog::Embedded,
            },
        }
    }

    /// The ids of the catalog's labs, sorted.
    pub fn ids(&self) -> Result<Vec<String>, Error> {
        let mut ids: Vec<String> = match self {
            Catalog::Embedded => embedded::LABS
                .iter()
                .filter_map(|(path, _)| path.strip_suffix("/lab.yaml"))
                .filter(|id| !id.contains('/'))
                .map(str::to_string)
                .collect(),
            Catalog::Dir(dir) => std::fs::read_dir(dir)
                .map_err(|e| Error::Usage(format!("cannot read the labs folder {}: {e}", dir.display())))?
                .flatten()
                .filter(|e| e.path().join("lab.yaml").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect(),
        };
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// One lab's files.
    pub fn files(&self, id: &str) -> Result<LabFiles, Error> {
        let unknown = || {
            let known = self.ids().unwrap_or_default().join(", ");
            Error::Usage(format!("there is no lab `{id}` (labs: {known}; see `labforge lab list`)"))
        };
        if id.is_empty() || id.contains('/') || id.contains("..") {
            return Err(unknown());
        }
        match self {
            Catalog::Embedded => {
                let prefix = format!("{id}/");
                let files: BTreeMap<_, _> = embedded::LABS
                    .iter()
                    .filter_map(|(path, bytes)| Some((path.strip_prefix(&prefix)?.to_string(), Cow::Borrowed(*bytes))))
                    .collect();
                if !files.contains_key("lab.yaml") {
                    return Err(unknown());
                }
                Ok(LabFiles { origin: Origin::Builtin(id.to_string()), files })
            }
            Catalog::Dir(dir) => {
                let folder = dir.join(id);
                if !folder.join("lab.yaml").is_file() {
                    return Err(unknown());
                }
                folder_files(&folder)
            }
        }
    }
}

/// A lab folder anywhere on disk.
pub fn folder_files(folder: &Path) -> Result<LabFiles, Error> {
    let files = crate::scaffold::read_tree(folder).map_err(|e| Error::Usage(e.to_string()))?;
    Ok(LabFiles { origin: Origin::Dir(folder.to_path_buf()), files })
}
