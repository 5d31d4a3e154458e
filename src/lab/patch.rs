//! Overlays written as patches. A mistake or another correct solution usually differs from the
//! reference solution in a line or two; `wrong/<step>/<name>.patch` holds just those lines, as the
//! unified diff `diff -u` or `git diff` prints, against the solved project. The patch is a Tera
//! template like every lab file (`src/{{ project.package }}/...`), rendered before it is applied.
//! A hunk applies only where its context matches exactly: a patch that no longer fits the
//! solution is an error, never a silently different overlay.

/// One file's part of a patch: where it lands and its hunks (`None`: the file is removed).
#[derive(Debug, Clone, PartialEq)]
pub struct FilePatch {
    /// The project path, without git's `a/`/`b/` prefixes.
    pub path: String,
    /// The `--- ` line through the last hunk, as diffy parses it.
    text: String,
    /// `--- /dev/null`: the file is created.
    created: bool,
    /// `+++ /dev/null`: the file is removed.
    removed: bool,
}

/// What applying a patch does to one file: its new contents, or `None` when it is removed.
pub type Change = (String, Option<Vec<u8>>);

/// Splits a (rendered) multi-file patch into its files; each must parse as a unified diff.
pub fn split(text: &str) -> Result<Vec<FilePatch>, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ ")))
        .collect();
    if starts.is_empty() {
        return Err("it holds no file: a unified diff starts each file with `--- PATH` and `+++ PATH`".into());
    }
    let mut files = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(lines.len());
        let part: String = lines[start..end].iter().copied().filter(|l| !l.starts_with("diff ")).collect();
        let old = header_path(lines[start], "--- ");
        let new = header_path(lines[start + 1], "+++ ");
        let (created, removed) = (old.is_none(), new.is_none());
        let path = match new.or(old) {
            Some(path) => path,
            None => return Err(format!("line {}: both sides are /dev/null", start + 1)),
        };
        diffy::Patch::from_str(&part).map_err(|e| format!("{path}: {e}"))?;
        files.push(FilePatch { path, text: part, created, removed });
    }
    Ok(files)
}

/// The path a `--- `/`+++ ` line names: git's `a/`/`b/` dropped, `diff -u`'s date after a tab
/// dropped; `None` for `/dev/null`.
fn header_path(line: &str, prefix: &str) -> Option<String> {
    let name = line.trim_end_matches(['\n', '\r']).strip_prefix(prefix)?;
    let name = name.split('\t').next().unwrap_or(name).trim_end();
    if name == "/dev/null" {
        return None;
    }
    let name = name.strip_prefix("a/").or_else(|| name.strip_prefix("b/")).unwrap_or(name);
    Some(name.to_string())
}

/// Applies the patch to the files `read` gives (the project as it is), in memory.
pub fn apply(files: &[FilePatch], read: impl Fn(&str) -> Option<Vec<u8>>) -> Result<Vec<Change>, String> {
    files
        .iter()
        .map(|file| {
            let base = match (file.created, read(&file.path)) {
                (true, Some(_)) => return Err(format!("{}: it creates a file that exists", file.path)),
                (true, None) => String::new(),
                (false, None) => return Err(format!("{}: there is no such file to change", file.path)),
                (false, Some(bytes)) => {
                    String::from_utf8(bytes).map_err(|_| format!("{}: the file is not UTF-8 text", file.path))?
                }
            };
            let patch = diffy::Patch::from_str(&file.text).map_err(|e| format!("{}: {e}", file.path))?;
            let patched = diffy::apply(&base, &patch)
                .map_err(|e| format!("{}: {e}: the patch does not fit the solved project", file.path))?;
            Ok((file.path.clone(), (!file.removed).then(|| patched.into_bytes())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_FILES: &str = "\
diff --git a/app/main.py b/app/main.py
--- a/app/main.py
+++ b/app/main.py
@@ -1,3 +1,3 @@
 import os
-PORT = 8000
+PORT = 9000
 print(PORT)
--- /dev/null\t2026-11-30 10:00:00
+++ app/new.py\t2026-11-30 10:00:00
@@ -0,0 +1 @@
+x = 1
";

    fn project(path: &str) -> Option<Vec<u8>> {
        (path == "app/main.py").then(|| b"import os\nPORT = 8000\nprint(PORT)\n".to_vec())
    }

    #[test]
    fn a_patch_changes_and_creates_files_by_their_project_paths() {
        let files = split(TWO_FILES).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["app/main.py", "app/new.py"]);
        let changes = apply(&files, project).unwrap();
        assert_eq!(changes[0], ("app/main.py".to_string(), Some(b"import os\nPORT = 9000\nprint(PORT)\n".to_vec())));
        assert_eq!(changes[1], ("app/new.py".to_string(), Some(b"x = 1\n".to_vec())));
    }

    #[test]
    fn a_removal_gives_no_contents() {
        let patch = "--- a/app/main.py\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-import os\n-PORT = 8000\n-print(PORT)\n";
        let changes = apply(&split(patch).unwrap(), project).unwrap();
        assert_eq!(changes, [("app/main.py".to_string(), None)]);
    }

    #[test]
    fn a_patch_that_does_not_fit_is_refused_with_the_file_it_names() {
        let stale = TWO_FILES.replace(" import os", " import sys");
        let err = apply(&split(&stale).unwrap(), project).unwrap_err();
        assert!(err.starts_with("app/main.py: ") && err.contains("does not fit the solved project"), "{err}");
        let missing = apply(&split(TWO_FILES).unwrap(), |_| None).unwrap_err();
        assert_eq!(missing, "app/main.py: there is no such file to change");
        let exists =
            apply(&split(TWO_FILES).unwrap(), |p| project(p).or_else(|| Some(b"x = 0\n".to_vec()))).unwrap_err();
        assert_eq!(exists, "app/new.py: it creates a file that exists");
    }

    #[test]
    fn text_that_is_no_diff_is_refused() {
        assert!(split("just some words\n").unwrap_err().contains("holds no file"));
        let broken = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n";
        assert!(split(broken).unwrap_err().starts_with("x: "), "{:?}", split(broken));
    }
}
