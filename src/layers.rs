//! The layers of labforge and the one direction of imports between them, enforced: a module may
//! use only modules of a lower layer, so no import cycle can form, nothing below `cmd/` reaches
//! up into it, only the command edge (and the context it builds) reads the environment, and only
//! the command edge and the terminal renderer print.
//! ARCHITECTURE.md explains the layers; this test keeps them true.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer: a module may import from lower layers only.
const LAYERS: &[(&str, u8)] = &[
    ("base", 0),
    ("cli", 0),
    ("embedded", 0),
    ("context", 1),
    ("report", 1),
    ("ui", 2),
    ("interrupt", 3),
    ("health", 3),
    ("scaffold", 4),
    ("stack", 4),
    ("k8s", 5),
    ("github", 5),
    ("check", 6),
    ("lab", 7),
    ("error", 8),
    ("cmd", 9),
];

/// Where the process environment may be read: the command edge and the context it builds.
const READS_ENV: &[&str] = &["cmd", "context"];

/// Where output may be written to the terminal: the command edge and the terminal renderer.
const PRINTS: &[&str] = &["cmd", "ui"];

fn sources(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            sources(&entry.path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The top-level modules each module's files name as `crate::x` (also inside `crate::{x, y}`).
fn imports(module: &str) -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join(module), &mut files);
    sources(&src.join(format!("{module}.rs")), &mut files);
    let names: Vec<&str> = LAYERS.iter().map(|(n, _)| *n).collect();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut note = |used: &str| {
            if used != module && names.contains(&used) {
                found.entry(used.to_string()).or_default().push(file.display().to_string());
            }
        };
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                group.split(',').map(|p| p.trim().split("::").next().unwrap_or("")).for_each(&mut note);
            } else {
                note(&rest[..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len())]);
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_from_lower_layers() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, own) in LAYERS {
        for (used, files) in imports(module) {
            if layer[used.as_str()] >= *own {
                wrong.push(format!(
                    "{module} (layer {own}) uses {used} (layer {}) in {}",
                    layer[used.as_str()],
                    files[0]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn the_test_sees_a_wrong_import() {
    // The scanner itself must find what it guards against: `lab` uses `check`, a lower layer.
    assert!(imports("lab").contains_key("check"));
    assert!(imports("check").contains_key("stack"));
    assert!(!imports("check").contains_key("lab"), "check must never use lab");
}

/// Where each of `needles` occurs in the code (tests left out) of files outside `allowed`
/// top-level modules and the crate's root files, as `file (needle)`.
fn occurrences(allowed: &[&str], needles: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        let top = rel.split(['/', '.']).next().unwrap_or_default();
        if allowed.contains(&top) || ["main.rs", "lib.rs", "layers.rs"].contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Tests may print and read what they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        found.extend(needles.iter().filter(|n| code.contains(*n)).map(|n| format!("{rel} ({n})")));
    }
    found
}

#[test]
fn only_the_command_edge_reads_the_environment() {
    let readers = occurrences(READS_ENV, &["env::var(", "env::var_os(", "env::vars(", "env::vars_os("]);
    assert!(readers.is_empty(), "read the environment; take it from the Context instead:\n{}", readers.join("\n"));
}

#[test]
fn only_the_command_edge_and_the_terminal_print() {
    let printers = occurrences(PRINTS, &["println!", "print!(", "eprint", "io::stdout", "io::stderr", "Shell"]);
    assert!(printers.is_empty(), "print; emit a report::Event instead:\n{}", printers.join("\n"));
}
