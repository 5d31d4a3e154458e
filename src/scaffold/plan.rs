//! A rendered project held in memory, and writing it to disk without ever writing outside the
//! target, following a symlink, or leaving a half-written project behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Error;

/// How a file's permissions are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 0644 (subject to umask).
    Normal,
    /// 0755: scripts.
    Executable,
    /// 0600: files holding secrets.
    Private,
}

/// One file to write.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// `/`-separated path inside the project, already checked by [`super::safe_relative`].
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: Mode,
}

/// Every file a scaffold writes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    /// The template's `values`, rendered with the answers (e.g. `next_steps`).
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// What is at the target path before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Missing,
    Empty,
    NotEmpty,
}

/// What writing a file will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    Create,
    Overwrite,
}

impl TargetState {
    /// Looks at `target`; refuses a non-empty folder unless `force`, and anything not a folder.
    pub fn inspect(target: &Path, force: bool) -> Result<TargetState, Error> {
        let meta = match fs::metadata(target) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TargetState::Missing),
            Err(e) => {
                return Err(Error::Io { what: "cannot read", path: target.into(), source: e });
            }
        };
        if !meta.is_dir() {
            return Err(Error::TargetNotDir { path: target.into() });
        }
        let mut entries = fs::read_dir(target).map_err(Error::io("cannot read", target))?;
        match entries.next() {
            None => Ok(TargetState::Empty),
            Some(_) if force => Ok(TargetState::NotEmpty),
            Some(_) => Err(Error::TargetNotEmpty { path: target.into() }),
        }
    }
}

impl Plan {
    /// Total bytes to write.
    pub fn size(&self) -> usize {
        self.files.iter().map(|f| f.contents.len()).sum()
    }

    /// What writing each file into `target` would do.
    pub fn actions(&self, target: &Path) -> Vec<FileAction> {
        self.files
            .iter()
            .map(|f| {
                if fs::symlink_metadata(target.join(&f.path)).is_ok() {
                    FileAction::Overwrite
                } else {
                    FileAction::Create
                }
            })
            .collect()
    }

    /// Writes the plan into `target`, whose state was just inspected.
    ///
    /// A missing target is built in a hidden sibling folder and renamed into place, so it appears
    /// complete or not at all. Into an existing folder every path is checked first (no symlink or
    /// file where a folder must be), then each file is written to a temporary name and renamed,
    /// which replaces a symlink rather than writing through it.
    pub fn write(&self, target: &Path, state: TargetState) -> Result<(), Error> {
        match state {
            TargetState::Missing => self.write_fresh(target),
            TargetState::Empty | TargetState::NotEmpty => {
                self.preflight(target)?;
                for file in &self.files {
                    write_file(target, file)?;
                }
                Ok(())
            }
        }
    }

    fn write_fresh(&self, target: &Path) -> Result<(), Error> {
        let name = target.file_name().ok_or_else(|| Error::TargetNotDir { path: target.into() })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(Error::io("cannot create folder", &parent))?;
        let staging = parent.join(format!(".{}.labforge-{}", name.to_string_lossy(), std::process::id()));
        let result = (|| {
            fs::create_dir(&staging).map_err(Error::io("cannot create folder", &staging))?;
            for file in &self.files {
                write_file(&staging, file)?;
            }
            fs::rename(&staging, target).map_err(Error::io("cannot move the new project to", target))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result
    }

    fn preflight(&self, target: &Path) -> Result<(), Error> {
        for file in &self.files {
            let mut at = target.to_path_buf();
            let parts: Vec<&str> = file.path.split('/').collect();
            for (i, part) in parts.iter().enumerate() {
                at.push(part);
                let last = i + 1 == parts.len();
                let Ok(meta) = fs::symlink_metadata(&at) else {
                    break;
                };
                let kind = meta.file_type();
                let refuse =
                    |why: &str| Err(Error::UnsafePath { path: at.display().to_string(), why: why.to_string() });
                if kind.is_symlink() && !last {
                    return refuse("it is a symlink, and labforge never writes through one");
                }
                if !last && !kind.is_dir() {
                    return refuse("the template needs a folder here, but it is a file");
                }
                if last && kind.is_dir() {
                    return refuse("the template writes a file here, but it is a folder");
                }
            }
        }
        Ok(())
    }
}

fn write_file(root: &Path, file: &PlannedFile) -> Result<(), Error> {
    let path = root.join(&file.path);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(Error::io("cannot create folder", dir))?;
    }
    let tmp = path
        .with_file_name(format!(".{}.labforge-tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match file.mode {
            Mode::Normal => 0o644,
            Mode::Executable => 0o755,
            Mode::Private => 0o600,
        });
    }
    let _ = fs::remove_file(&tmp);
    let result =
        options.open(&tmp).and_then(|mut f| f.write_all(&file.contents)).and_then(|()| fs::rename(&tmp, &path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(Error::io("cannot write", &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(paths: &[&str]) -> Plan {
        Plan {
            files: paths
                .iter()
                .map(|p| PlannedFile { path: p.to_string(), contents: b"new".to_vec(), mode: Mode::Normal })
                .collect(),
            values: Default::default(),
        }
    }

    #[test]
    fn fresh_target_appears_complete_with_no_staging_left() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("deep/shop");
        plan(&["a.txt", "src/b.py"]).write(&target, TargetState::inspect(&target, false).unwrap()).unwrap();
        assert_eq!(fs::read_to_string(target.join("src/b.py")).unwrap(), "new");
        let leftovers: Vec<_> =
            fs::read_dir(dir.path().join("deep")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("shop")]);
    }

    #[test]
    fn non_empty_target_is_refused_without_force_and_kept_intact() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let err = TargetState::inspect(dir.path(), false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(fs::read_to_string(dir.path().join("keep.txt")).unwrap(), "mine");
    }

    #[cfg(unix)]
    #[test]
    fn force_never_writes_through_a_symlinked_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = dir.path().join("shop");
        fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(outside.path(), target.join("src")).unwrap();
        let state = TargetState::inspect(&target, true).unwrap();
        let err = plan(&["a.txt", "src/b.py"]).write(&target, state).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0, "nothing written outside");
        assert!(!target.join("a.txt").exists(), "preflight runs before any write");
    }

    #[cfg(unix)]
    #[test]
    fn force_replaces_a_symlinked_file_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("shop");
        fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&victim, target.join("a.txt")).unwrap();
        plan(&["a.txt"]).write(&target, TargetState::NotEmpty).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(target.join("a.txt")).unwrap(), "new");
    }
}
