//! The test harness: a builder that runs the real `labforge` binary in a scratch folder and reads
//! like the spec (`Test::new().args(["new", "shop"]).run().success()`), and the third-party tools
//! the suite checks generated projects with.

pub mod database;
pub mod github;
pub mod k8s;
pub mod python;
pub mod stack;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// The labforge binary under test.
pub fn labforge_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_labforge"))
}

/// A labforge invocation being built.
pub struct Test {
    root: TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    /// A fresh scratch folder `ROOT/work`, which is the working directory.
    pub fn new() -> Test {
        let root = tempfile::Builder::new().prefix("labforge-test-").tempdir().expect("tempdir");
        std::fs::create_dir(root.path().join("work")).expect("work dir");
        Test { root, args: Vec::new(), env: Vec::new() }
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Test {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// An environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The scratch root (the parent of the working directory).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The working directory.
    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    pub fn run(self) -> Run {
        let mut cmd = Command::new(labforge_bin());
        cmd.args(&self.args)
            .current_dir(self.work())
            .env("NO_COLOR", "1")
            .env_remove("LABFORGE_TEMPLATES")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run labforge");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: self.args,
            root: self.root,
        }
    }
}

/// A finished invocation.
pub struct Run {
    pub root: TempDir,
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn context(&self) -> String {
        format!(
            "labforge {}\n--- exit {}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "expected success:\n{}", self.context());
        self
    }

    pub fn code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "expected exit {code}:\n{}", self.context());
        self
    }

    pub fn stderr_has(self, text: &str) -> Run {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.context());
        self
    }

    /// A usage error: exit 2 and exactly one `error:` line on stderr, nothing on stdout.
    pub fn usage_error(self, text: &str) -> Run {
        let run = self.code(2).stderr_has(text);
        let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected a one-line error:\n{}", run.context());
        assert!(lines[0].starts_with("error: "), "{}", run.context());
        assert!(run.stdout.is_empty(), "{}", run.context());
        run
    }

    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// A path relative to the working directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.work().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Asserts that the scratch root holds nothing but the empty working directory.
    pub fn nothing_written(&self) -> &Run {
        let all = files_under(self.root.path());
        assert!(all.is_empty(), "expected nothing written, found {all:?}\n{}", self.context());
        let entries: Vec<_> = std::fs::read_dir(self.root.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("work")], "{}", self.context());
        self
    }
}

/// Every file and symlink below `dir`, as sorted `/`-separated relative paths.
pub fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// One way to call `labforge new`: a template and its answers.
#[derive(Debug, Clone)]
pub struct Combo {
    pub framework: String,
    pub db: String,
    pub auth: String,
    pub extras: Vec<String>,
}

impl Combo {
    /// A short stable name: `fastapi-postgres-jwt-graphql-ratelimit`.
    pub fn slug(&self) -> String {
        let mut parts = vec![self.framework.clone(), self.db.clone(), self.auth.clone()];
        parts.extend(self.extras.iter().cloned());
        parts.join("-")
    }

    pub fn new_args(&self, name: &str, dir: &Path) -> Vec<String> {
        let mut args = vec![
            "new".to_string(),
            name.to_string(),
            "--framework".into(),
            self.framework.clone(),
            "--db".into(),
            self.db.clone(),
            "--auth".into(),
            self.auth.clone(),
            "--with".into(),
            self.extras.join(","),
            "--dir".into(),
            dir.display().to_string(),
            "--yes".into(),
        ];
        if self.extras.is_empty() {
            args.retain(|a| a != "--with" && !a.is_empty());
        }
        args
    }

    /// Renders this combination into `dir` with the real binary.
    pub fn generate(&self, name: &str, dir: &Path) {
        let out = Command::new(labforge_bin())
            .args(self.new_args(name, dir))
            .env("NO_COLOR", "1")
            .env_remove("LABFORGE_TEMPLATES")
            .output()
            .expect("run labforge new");
        assert!(
            out.status.success(),
            "labforge new failed for {}:\n{}",
            self.slug(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// What the suite checks: every combination `labforge templates` lists, with all the extras it
/// allows, plus, per template and database, the bare variant (no auth, no extras).
pub fn matrix() -> Vec<Combo> {
    use labforge::scaffold::{Template, Templates};
    let mut out = Vec::new();
    for name in Templates::Embedded.names() {
        let template = Template::builtin(&name, &Templates::Embedded).expect("built-in template loads");
        let mut bare_done = BTreeSet::new();
        for combo in template.combinations() {
            let get = |key: &str| combo.answers.get(key).and_then(|v| v.as_str()).unwrap_or("none").to_string();
            let extras: Vec<String> = combo
                .allows
                .get("extras")
                .and_then(|v| v.as_array())
                .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let db = get("db");
            out.push(Combo { framework: name.clone(), db: db.clone(), auth: get("auth"), extras: extras.clone() });
            if !extras.is_empty() && bare_done.insert(db.clone()) {
                out.push(Combo { framework: name.clone(), db, auth: "none".into(), extras: Vec::new() });
            }
        }
    }
    out
}

/// Asserts what `lab selftest --json` proved of one lab (an element of its `labs`): each mistake
/// (`wrong/` overlay) was caught with a reason containing its text, and each other correct
/// solution (`alternative/`) passed.
pub fn assert_proven(lab: &serde_json::Value, mistakes: &[(&str, &str)], alternatives: &[&str]) {
    let proven = |overlay: &str| {
        lab["proven"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["overlay"] == overlay)
            .unwrap_or_else(|| panic!("{overlay} is proven: {lab:#}"))
            .clone()
    };
    for (overlay, reason) in mistakes {
        let p = proven(overlay);
        assert_eq!(p["kind"], "wrong", "{p:#}");
        let reasons = p["reasons"].as_array().unwrap();
        assert!(reasons.iter().any(|r| r.as_str().unwrap().contains(reason)), "{overlay}: {p:#}");
    }
    for overlay in alternatives {
        assert_eq!(proven(overlay)["kind"], "alternative");
    }
}
