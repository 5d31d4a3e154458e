//! The files a lab ships, in memory: its `lab.yaml`, instructions, overlays and hidden tests.
//! Checks read the hidden tests from here; the lab catalog fills it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The files of one lab, keyed by `/`-separated path inside its folder.
#[derive(Debug, Clone)]
pub struct LabFiles {
    origin: Origin,
    files: BTreeMap<String, Cow<'static, [u8]>>,
}

/// Where a lab's files were read from, for messages.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Embedded in the binary, under `labs/ID`.
    Builtin(String),
    /// A folder on disk.
    Dir(PathBuf),
}

impl LabFiles {
    /// The files of a lab read from `origin`.
    pub fn new(origin: Origin, files: BTreeMap<String, Cow<'static, [u8]>>) -> LabFiles {
        LabFiles { origin, files }
    }

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
