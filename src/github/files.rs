//! The project's files as a repository gets them: what `git add -A` would take (`.gitignore`
//! respected, also without a `.git` folder), never the files that hold its secrets, each with its
//! mode and its Git blob id (so an unchanged file is never sent again).

use std::path::Path;

use sha1::{Digest, Sha1};

use super::Error;

/// Files never pushed, whatever `.gitignore` says: they hold the project's secrets.
pub const NEVER: &[&str] = &[".env", "k8s/secret.yaml"];
/// Folders never pushed: labforge's own state (lab progress, `ci setup`'s record and key).
pub const NEVER_FOLDERS: &[&str] = &[".git", ".labforge"];

/// One file of the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// `/`-separated, relative to the project.
    pub path: String,
    /// `100644`, or `100755` for an executable.
    pub mode: &'static str,
    pub bytes: Vec<u8>,
}

impl File {
    /// Git's id of the content (`git hash-object`).
    pub fn blob_sha(&self) -> String {
        let mut hash = Sha1::new();
        hash.update(format!("blob {}\0", self.bytes.len()).as_bytes());
        hash.update(&self.bytes);
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Every file under `dir` to push, sorted by path. Symlinks are left out (the API would store
/// their target as text); so are `.git/`, the files of [`NEVER`] and those in `also_never`
/// (the files secrets are read from).
pub fn collect(dir: &Path, also_never: &[std::path::PathBuf]) -> Result<Vec<File>, Error> {
    let also_never: Vec<std::path::PathBuf> = also_never.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let walk = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(false)
        .git_global(false)
        .ignore(false)
        .parents(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.depth() != 1 || !NEVER_FOLDERS.iter().any(|f| e.file_name() == *f))
        .build();
    let mut files = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| Error::Usage(format!("cannot read the project: {e}")))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(dir) else { continue };
        let path = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        if NEVER.contains(&path.as_str()) || entry.path().canonicalize().is_ok_and(|real| also_never.contains(&real)) {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| Error::Usage(format!("cannot read {path}: {e}")))?;
        files.push(File { mode: mode_of(entry.path()), path, bytes });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn mode_of(path: &Path) -> &'static str {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o111 != 0 => "100755",
        _ => "100644",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_id_is_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        let file = File { path: "a".into(), mode: "100644", bytes: b"hello\n".to_vec() };
        assert_eq!(file.blob_sha(), "ce013625030ba8dba906f756967f9e9ca394464a");
    }

    #[test]
    fn gitignored_and_secret_files_stay_home() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(".gitignore", ".venv/\n*.pyc\n");
        write("src/app.py", "print('hi')\n");
        write("src/app.pyc", "compiled");
        write(".venv/bin/python", "#!");
        write(".env", "SECRET=1\n");
        write("k8s/secret.yaml", "kind: Secret\n");
        write("k8s/deployment.yaml", "kind: Deployment\n");
        write(".git/config", "[core]\n");
        write(".labforge/ci.key", "0123");
        write(".github/workflows/ci.yml", "on: push\n");
        write("run.sh", "#!/bin/sh\n");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        write("deploy.key", "secret");
        let files = collect(dir.path(), &[dir.path().join("deploy.key")]).unwrap();
        let paths: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
        assert_eq!(
            paths,
            [
                (".github/workflows/ci.yml", "100644"),
                (".gitignore", "100644"),
                ("k8s/deployment.yaml", "100644"),
                ("run.sh", "100755"),
                ("src/app.py", "100644")
            ]
        );
    }
}
