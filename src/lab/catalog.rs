//! Where labs come from: the catalog embedded in the binary, or a folder named by `--labs-dir` or
//! `LABFORGE_LABS` (for lab authors and facilitators). Reading a folder refuses symlinks.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Error;
use super::spec::Lab;
pub use crate::check::LabFiles;
use crate::check::files::Origin;
use crate::context::Context;
use crate::embedded;
use crate::scaffold::Templates;

/// Where to look for labs, and for the templates they start from.
#[derive(Debug, Clone)]
pub struct Catalog {
    labs: Labs,
    templates: Templates,
}

#[derive(Debug, Clone)]
enum Labs {
    Embedded,
    Dir(PathBuf),
}

impl Catalog {
    /// `--labs-dir`, else `LABFORGE_LABS`, else the embedded catalog; templates as the context says.
    pub fn choose(flag: Option<&Path>, ctx: &Context) -> Catalog {
        let labs = match flag.map(Path::to_path_buf).or_else(|| ctx.labs_dir()) {
            Some(dir) => Labs::Dir(dir),
            None => Labs::Embedded,
        };
        Catalog { labs, templates: Templates::choose(ctx.templates_dir()) }
    }

    /// The labs embedded in the binary, on the embedded templates.
    pub fn embedded() -> Catalog {
        Catalog { labs: Labs::Embedded, templates: Templates::Embedded }
    }

    /// The labs in `dir`, on this catalog's templates.
    pub fn in_dir(&self, dir: &Path) -> Catalog {
        Catalog { labs: Labs::Dir(dir.to_path_buf()), templates: self.templates.clone() }
    }

    /// Parses a lab's files against this catalog's templates; `Err` holds every problem.
    pub fn parse(&self, files: LabFiles) -> Result<Lab, Vec<String>> {
        Lab::parse(files, &self.templates)
    }

    /// The ids of the catalog's labs, sorted.
    pub fn ids(&self) -> Result<Vec<String>, Error> {
        let mut ids: Vec<String> = match &self.labs {
            Labs::Embedded => embedded::LABS
                .iter()
                .filter_map(|(path, _)| path.strip_suffix("/lab.yaml"))
                .filter(|id| !id.contains('/'))
                .map(str::to_string)
                .collect(),
            Labs::Dir(dir) => std::fs::read_dir(dir)
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
        match &self.labs {
            Labs::Embedded => {
                let prefix = format!("{id}/");
                let files: BTreeMap<_, _> = embedded::LABS
                    .iter()
                    .filter_map(|(path, bytes)| Some((path.strip_prefix(&prefix)?.to_string(), Cow::Borrowed(*bytes))))
                    .collect();
                if !files.contains_key("lab.yaml") {
                    return Err(unknown());
                }
                Ok(LabFiles::new(Origin::Builtin(id.to_string()), files))
            }
            Labs::Dir(dir) => {
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
    Ok(LabFiles::new(Origin::Dir(folder.to_path_buf()), files))
}
