//! Embeds `templates/` and `labs/` into the binary so an installed labforge works from any
//! directory. Each file becomes an `include_bytes!`, which also makes cargo rebuild when a file
//! changes; `rerun-if-changed` on the folders catches added and removed files.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut out = String::new();
    for (name, dir) in [("TEMPLATES", "templates"), ("LABS", "labs")] {
        let base = root.join(dir);
        println!("cargo:rerun-if-changed={}", base.display());
        let mut files = Vec::new();
        if base.is_dir() {
            collect(&base, &base, &mut files);
        }
        files.sort();
        writeln!(out, "pub static {name}: &[(&str, &[u8])] = &[").unwrap();
        for rel in files {
            let abs = base.join(&rel);
            writeln!(out, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string()).unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    fs::write(dest, out).expect("write embedded.rs");
}

/// Collects regular files below `dir` as `/`-separated paths relative to `base`. Symlinks are
/// refused: a template must never smuggle a link into a generated project.
fn collect(base: &Path, dir: &Path, files: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read template dir").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).expect("stat template file");
        let name = entry.file_name();
        let name = name.to_str().expect("template file names are UTF-8");
        if name == "__pycache__" || name.ends_with(".pyc") || name == ".ruff_cache" || name == ".pytest_cache" {
            continue;
        }
        if meta.file_type().is_symlink() {
            panic!("{} is a symlink; templates must not contain symlinks", path.display());
        } else if meta.is_dir() {
            collect(base, &path, files);
        } else if meta.is_file() {
            let rel = path.strip_prefix(base).expect("below base");
            let rel: Vec<_> = rel.components().map(|c| c.as_os_str().to_str().unwrap()).collect();
            files.push(rel.join("/"));
        }
    }
}
