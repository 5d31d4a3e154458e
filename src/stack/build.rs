//! The app image's build context: the project folder as an in-memory tar, filtered by
//! `.dockerignore` with Docker's rules, plus the CA bundle a build behind a TLS-inspecting proxy
//! needs; and the content hashes labforge tags images with.

use std::fs;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use sha2::{Digest, Sha256};

use super::Error;
use crate::base::hex;

/// Where an extra CA bundle goes in the context; the generated Dockerfile trusts
/// `docker/ca-certificates/*.pem` in its build stage only.
pub const CA_PATH: &str = "docker/ca-certificates/labforge-extra-ca.pem";

/// `.dockerignore` rules with Docker's semantics: patterns are anchored at the context root,
/// `*` stays within a path segment, `**` spans segments, a pattern that matches a folder excludes
/// everything in it, `!` re-includes, and the last matching rule wins.
#[derive(Debug, Default)]
pub struct DockerIgnore {
    rules: Vec<(GlobMatcher, bool)>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Result<DockerIgnore, String> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pattern = pattern.trim_start_matches("./").trim_start_matches('/').trim_end_matches('/');
            if pattern.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| format!(".dockerignore: bad pattern `{line}`: {e}"))?;
            rules.push((glob.compile_matcher(), negated));
        }
        Ok(DockerIgnore { rules })
    }

    /// Whether `rel` (a `/`-separated path inside the context) is left out of the context.
    pub fn excludes(&self, rel: &str) -> bool {
        let mut excluded = false;
        for (glob, negated) in &self.rules {
            let hit = glob.is_match(rel) || parents(rel).any(|p| glob.is_match(p));
            if hit {
                excluded = !negated;
            }
        }
        excluded
    }

    fn has_negations(&self) -> bool {
        self.rules.iter().any(|(_, negated)| *negated)
    }
}

fn parents(rel: &str) -> impl Iterator<Item = &str> {
    rel.match_indices('/').map(move |(i, _)| &rel[..i])
}

/// A build context ready to send.
#[derive(Debug)]
pub struct Context {
    pub tar: Vec<u8>,
    /// Paths in the tar, in order.
    pub files: Vec<String>,
}

/// Packs `dir` into a tar the way `docker build` would send it, adding `extra` files. The tar is
/// deterministic (sorted, fixed times and owners) so its hash identifies the content.
pub fn pack(dir: &Path, extra: &[(&str, &[u8])]) -> Result<Context, Error> {
    let ignore = match fs::read_to_string(dir.join(".dockerignore")) {
        Ok(text) => DockerIgnore::parse(&text).map_err(Error::Config)?,
        Err(_) => DockerIgnore::default(),
    };
    let mut files = Vec::new();
    walk(dir, dir, &ignore, &mut files)?;
    files.sort();
    let mut builder = tar::Builder::new(Vec::new());
    let mut listed = Vec::new();
    for rel in &files {
        if extra.iter().any(|(p, _)| p == rel) {
            continue;
        }
        let path = dir.join(rel);
        let meta =
            fs::symlink_metadata(&path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if meta.file_type().is_symlink() {
            let target =
                fs::read_link(&path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            header.set_mode(0o777);
            builder
                .append_link(&mut header, rel, &target)
                .map_err(|e| Error::Config(format!("cannot pack {rel}: {e}")))?;
        } else {
            let bytes = fs::read(&path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
            header.set_size(bytes.len() as u64);
            header.set_mode(mode(&meta));
            builder
                .append_data(&mut header, rel, bytes.as_slice())
                .map_err(|e| Error::Config(format!("cannot pack {rel}: {e}")))?;
        }
        listed.push(rel.clone());
    }
    for (rel, bytes) in extra {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, rel, *bytes).map_err(|e| Error::Config(format!("cannot pack {rel}: {e}")))?;
        listed.push(rel.to_string());
    }
    let tar = builder.into_inner().map_err(|e| Error::Config(format!("cannot pack the build context: {e}")))?;
    Ok(Context { tar, files: listed })
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode(_: &fs::Metadata) -> u32 {
    0o644
}

fn walk(base: &Path, dir: &Path, ignore: &DockerIgnore, out: &mut Vec<String>) -> Result<(), Error> {
    let entries = fs::read_dir(dir).map_err(|e| Error::Config(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(base) else {
            continue;
        };
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let kind = entry.file_type().map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        // The Dockerfile and .dockerignore always go: the daemon needs them.
        let always = rel == "Dockerfile" || rel == ".dockerignore";
        if kind.is_dir() {
            // A folder the rules exclude is skipped whole unless a `!` rule could bring back
            // something inside it.
            if ignore.excludes(&rel) && !ignore.has_negations() {
                continue;
            }
            walk(base, &path, ignore, out)?;
        } else if always || !ignore.excludes(&rel) {
            out.push(rel);
        }
    }
    Ok(())
}

/// A short content hash for image tags.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex(&h.finalize()[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_follows_dockers_rules() {
        let ignore = DockerIgnore::parse("# comment\n.git\n**/__pycache__\n*.md\n!README.md\n/k8s\ntests/\n").unwrap();
        assert!(ignore.excludes(".git/config"), "a folder pattern excludes its contents");
        assert!(ignore.excludes("src/app/__pycache__/x.pyc"));
        assert!(ignore.excludes("NOTES.md"));
        assert!(!ignore.excludes("README.md"), "a later ! rule re-includes");
        assert!(!ignore.excludes("docs/guide.md"), "* does not cross /");
        assert!(ignore.excludes("k8s/deployment.yaml"), "leading / is the context root");
        assert!(ignore.excludes("tests/test_x.py"));
        assert!(!ignore.excludes("src/app/main.py"));
    }

    #[test]
    fn pack_honours_dockerignore_and_adds_extra_files() {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in [
            ("Dockerfile", "FROM x"),
            (".dockerignore", ".env\n.venv\n"),
            (".env", "SECRET=1"),
            ("src/a.py", "x"),
            (".venv/lib/b.py", "y"),
        ] {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let ctx = pack(dir.path(), &[(CA_PATH, b"-----BEGIN CERTIFICATE-----")]).unwrap();
        assert_eq!(ctx.files, vec![".dockerignore", "Dockerfile", "src/a.py", CA_PATH]);
        let again = pack(dir.path(), &[(CA_PATH, b"-----BEGIN CERTIFICATE-----")]).unwrap();
        assert_eq!(digest(&[&ctx.tar]), digest(&[&again.tar]), "the tar is deterministic");
    }
}
