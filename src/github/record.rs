//! What `ci setup` last pushed (`.labforge/ci-repo.json`): the repository, branch and commit that
//! `ci run`, `ci status` and `ci logs` use when no flag names them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;

const FILE: &str = ".labforge/ci-repo.json";

/// The repository the project was last pushed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    pub repo: String,
    pub branch: String,
    pub commit: String,
}

pub fn save(dir: &Path, pushed: &Pushed) -> Result<(), Error> {
    write_private(&dir.join(FILE), serde_json::to_string_pretty(pushed).unwrap_or_default().as_bytes())
}

pub fn load(dir: &Path) -> Option<Pushed> {
    std::fs::read(dir.join(FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

/// The project's commit: its git HEAD when it is a git repository (and git is on PATH), else the
/// commit `ci setup` last pushed.
pub fn head_commit(dir: &Path, ctx: &crate::context::Context) -> Option<String> {
    if dir.join(".git").exists()
        && let Some(git) = ctx.which("git")
        && let Ok(out) = std::process::Command::new(git).args(["rev-parse", "HEAD"]).current_dir(dir).output()
        && out.status.success()
    {
        return Some(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    load(dir).map(|p| p.commit)
}

/// Writes `bytes` to `path` (mode 0600) through a temporary file, so a reader never sees half.
pub fn write_private(path: &PathBuf, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::Usage(format!("cannot write {}: {e}", parent.display())))?;
    let temp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))
}
