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

/// How a development container uses its image: where the project is mounted, and whether it is
/// given its own command.
#[derive(Debug, Clone, Copy, Default)]
pub struct DevContainer<'a> {
    pub mount: Option<&'a str>,
    pub command_given: bool,
}

/// What determines a project's development image, as named parts to hash: the build arguments,
/// the Dockerfile as [`DevDockerfile`] reads it, each context file its kept instructions copy and
/// each `rebuild_on` file (a `pyproject.toml` by its [`Dependencies`] only). Not the project's
/// name, its source or anything the bind mount hides: projects that install the same things
/// share one image. The base images are returned for the caller to add their ids.
pub fn dev_inputs(
    dir: &Path,
    dockerfile: &str,
    args: &std::collections::BTreeMap<String, String>,
    rebuild_on: &[String],
    container: DevContainer<'_>,
    context: &Context,
    extra: &[(&str, &[u8])],
) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
    let read = |rel: &str| match extra.iter().find(|(p, _)| *p == rel) {
        Some((_, bytes)) => bytes.to_vec(),
        None => fs::read(dir.join(rel)).unwrap_or_default(),
    };
    let text = String::from_utf8_lossy(&read(dockerfile)).into_owned();
    let parsed = DevDockerfile::parse(&text, args, container.mount, container.command_given);
    let mut parts = vec![
        ("args".to_string(), serde_json::to_vec(args).unwrap_or_default()),
        ("Dockerfile".to_string(), parsed.instructions.join("\n").into_bytes()),
    ];
    let copied = context.files.iter().filter(|rel| parsed.sources.iter().any(|s| copied_by(s, rel)));
    let mut files: Vec<&String> = copied.chain(rebuild_on).filter(|rel| rel.as_str() != dockerfile).collect();
    files.sort();
    files.dedup();
    for rel in files {
        let bytes = read(rel);
        let is_pyproject = rel.rsplit('/').next() == Some("pyproject.toml");
        let deps = is_pyproject.then(|| Dependencies::parse(&String::from_utf8_lossy(&bytes))).flatten();
        parts.push((rel.clone(), deps.map(|d| d.canonical().into_bytes()).unwrap_or(bytes)));
    }
    (parts, parsed.bases)
}

/// What a `pyproject.toml` says a project needs installed, without what names the project: the
/// build system's requirements, `requires-python`, `dependencies` and every optional group. Two
/// projects with the same [`Dependencies`] install the same packages, whatever they are called.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependencies {
    pub build: Vec<String>,
    pub python: Option<String>,
    pub runtime: Vec<String>,
    /// Optional groups by name (`dev = [...]`).
    pub optional: std::collections::BTreeMap<String, Vec<String>>,
}

impl Dependencies {
    /// Reads the tables that matter from `pyproject.toml`'s text; `None` when it has no
    /// `[project]` table or a value labforge cannot read (then the whole file counts).
    pub fn parse(text: &str) -> Option<Dependencies> {
        let mut deps = Dependencies::default();
        let mut table = String::new();
        let mut seen_project = false;
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let line = strip_comment(line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                table = line.trim_matches(|c| c == '[' || c == ']').trim().to_string();
                seen_project |= table == "project";
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().trim_matches('"');
            let mut value = value.trim().to_string();
            if value.starts_with('[') {
                while depth(&value) > 0 {
                    value.push(' ');
                    value.push_str(strip_comment(lines.next()?).trim());
                }
            }
            match (table.as_str(), key) {
                ("build-system", "requires") => deps.build = strings(&value)?,
                ("project", "requires-python") => deps.python = strings(&value)?.into_iter().next(),
                ("project", "dependencies") => deps.runtime = strings(&value)?,
                ("project.optional-dependencies", group) => {
                    deps.optional.insert(group.to_string(), strings(&value)?);
                }
                _ => {}
            }
        }
        seen_project.then_some(deps)
    }

    /// Every requirement a development install (`-e '.[GROUPS]'`) needs, the build system's first.
    pub fn requirements(&self, groups: &[&str]) -> Vec<String> {
        let optional = groups.iter().filter_map(|g| self.optional.get(*g)).flatten();
        self.build.iter().chain(&self.runtime).chain(optional).cloned().collect()
    }

    /// One canonical text of everything, for hashing.
    pub fn canonical(&self) -> String {
        let mut text = format!("build={:?}\npython={:?}\nruntime={:?}\n", self.build, self.python, self.runtime);
        for (group, reqs) in &self.optional {
            text.push_str(&format!("{group}={reqs:?}\n"));
        }
        text
    }
}

/// `line` without a TOML comment (a `#` outside a string).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') => return &line[..i],
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    line
}

/// How many `[` of an array value are still open (brackets inside strings do not count).
fn depth(value: &str) -> i32 {
    let mut quote = None;
    let mut depth = 0;
    for c in value.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// The strings of a TOML string or array of strings (basic or literal, no escapes needed in
/// requirement specifiers); `None` for anything else.
fn strings(value: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    let array = rest.starts_with('[');
    if array {
        rest = rest.strip_prefix('[')?.trim_end().strip_suffix(']')?;
    }
    loop {
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        let Some(quote) = rest.chars().next() else { break };
        if quote != '"' && quote != '\'' {
            return None;
        }
        let end = rest[1..].find(quote)? + 1;
        out.push(rest[1..end].to_string());
        rest = &rest[end + 1..];
        if !array {
            break;
        }
    }
    Some(out)
}

/// What the Dockerfile contributes to a development image, and which files of the build context
/// its kept instructions copy. Comments and blank lines do not count; in the last stage, `CMD`
/// does not when the container is given its command (`dev.command`), nor do `COPY`/`ADD` into
/// `mount` (the bind mount of the project hides them). `FROM` references are listed after build-argument
/// substitution, so the caller can add the base images' ids.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DevDockerfile {
    pub instructions: Vec<String>,
    /// Context paths (as written, possibly globs) that kept `COPY`/`ADD` instructions read.
    pub sources: Vec<String>,
    /// Base images (not earlier stages), with build arguments substituted.
    pub bases: Vec<String>,
}

impl DevDockerfile {
    pub fn parse(
        text: &str,
        args: &std::collections::BTreeMap<String, String>,
        mount: Option<&str>,
        command_given: bool,
    ) -> DevDockerfile {
        let mut logical = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(head) => {
                    current.push_str(head.trim());
                    current.push(' ');
                }
                None => {
                    current.push_str(trimmed);
                    logical.push(std::mem::take(&mut current).trim().to_string());
                }
            }
        }
        if !current.trim().is_empty() {
            logical.push(current.trim().to_string());
        }
        let last_from = logical.iter().rposition(|l| keyword(l) == "FROM");
        let mut globals: std::collections::BTreeMap<String, String> = Default::default();
        let mut stages: Vec<String> = Vec::new();
        let mut workdir = String::from("/");
        let mut out = DevDockerfile::default();
        for (i, line) in logical.iter().enumerate() {
            let word = keyword(line);
            let rest = line[word.len()..].trim();
            let last_stage = last_from.is_some_and(|at| i > at);
            match word.as_str() {
                "ARG" if stages.is_empty() => {
                    let (name, default) = rest.split_once('=').unwrap_or((rest, ""));
                    let value =
                        args.get(name.trim()).cloned().unwrap_or_else(|| default.trim().trim_matches('"').into());
                    globals.insert(name.trim().to_string(), value);
                }
                "FROM" => {
                    let mut words = rest.split_whitespace().filter(|w| !w.starts_with("--"));
                    let reference = substitute(words.next().unwrap_or_default(), &globals);
                    let stage = stages.iter().any(|s| s.eq_ignore_ascii_case(&reference));
                    if !stage && reference != "scratch" && !out.bases.contains(&reference) {
                        out.bases.push(reference);
                    }
                    if let (Some(_), Some(name)) = (words.next(), words.next()) {
                        stages.push(name.to_string());
                    } else {
                        stages.push(String::new());
                    }
                    workdir = "/".into();
                }
                "WORKDIR" => {
                    let dir = rest.trim_matches('"');
                    workdir = if dir.starts_with('/') {
                        dir.to_string()
                    } else {
                        format!("{}/{dir}", workdir.trim_end_matches('/'))
                    };
                }
                "CMD" if last_stage && command_given => continue,
                "COPY" | "ADD" => {
                    let words = copy_words(rest);
                    let from = words.iter().any(|w| w.starts_with("--from"));
                    let paths: Vec<&String> = words.iter().filter(|w| !w.starts_with("--")).collect();
                    if let Some((dest, sources)) = paths.split_last() {
                        let dest = if dest.starts_with('/') {
                            dest.to_string()
                        } else {
                            format!("{}/{dest}", workdir.trim_end_matches('/'))
                        };
                        let hidden = mount.is_some_and(|m| {
                            let m = m.trim_end_matches('/');
                            dest.trim_end_matches('/') == m || dest.starts_with(&format!("{m}/"))
                        });
                        if last_stage && hidden && !from {
                            continue;
                        }
                        if !from {
                            out.sources.extend(sources.iter().map(|s| s.to_string()));
                        }
                    }
                }
                _ => {}
            }
            out.instructions.push(line.clone());
        }
        out
    }
}

/// An instruction's keyword, upper-cased.
fn keyword(line: &str) -> String {
    line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase()
}

/// `COPY`/`ADD` arguments in either form (`["a", "b"]` or `a b`), flags included.
fn copy_words(rest: &str) -> Vec<String> {
    let flags: Vec<&str> = rest.split_whitespace().take_while(|w| w.starts_with("--")).collect();
    let tail = rest.split_whitespace().skip(flags.len()).collect::<Vec<_>>().join(" ");
    let mut words: Vec<String> = flags.into_iter().map(str::to_string).collect();
    match serde_json::from_str::<Vec<String>>(&tail) {
        Ok(list) => words.extend(list),
        Err(_) => words.extend(tail.split_whitespace().map(str::to_string)),
    }
    words
}

/// `${NAME}` and `$NAME` replaced with the global build arguments.
fn substitute(word: &str, args: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = word.to_string();
    for (name, value) in args {
        out = out.replace(&format!("${{{name}}}"), value).replace(&format!("${name}"), value);
    }
    out
}

/// Whether the context file `rel` is read by a `COPY`/`ADD` source `source` (a file, a folder, `.`,
/// or a glob).
pub fn copied_by(source: &str, rel: &str) -> bool {
    let source = source.trim_start_matches("./").trim_end_matches('/');
    if source.is_empty() || source == "." {
        return true;
    }
    if rel == source || rel.starts_with(&format!("{source}/")) {
        return true;
    }
    GlobBuilder::new(source)
        .literal_separator(true)
        .build()
        .map(|g| {
            let m = g.compile_matcher();
            m.is_match(rel) || parents(rel).any(|p| m.is_match(p))
        })
        .unwrap_or(false)
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

    const DOCKERFILE: &str = "# {title}: production image\nARG PYTHON_IMAGE=python:3.12-slim\nFROM ${PYTHON_IMAGE} AS requirements\nWORKDIR /src\nCOPY pyproject.toml ./\nRUN make-requirements\n\nFROM ${PYTHON_IMAGE} AS build\nCOPY --from=requirements /requirements.txt /tmp/\nRUN pip install \\\n    -r /tmp/requirements.txt\n\nFROM ${PYTHON_IMAGE}\nWORKDIR /app\nCOPY --from=build /opt/venv /opt/venv\nCOPY docker-entrypoint.sh /usr/local/bin/\nCOPY src/ /app/src/\nCMD [\"python\", \"-m\", \"{pkg}.serve\"]\n";

    /// A project as `labforge new` writes one: named `name`, with `deps` in pyproject.toml.
    fn project(name: &str, deps: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let pkg = name.replace('-', "_");
        for (rel, text) in [
            ("Dockerfile", DOCKERFILE.replace("{title}", name).replace("{pkg}", &pkg)),
            (
                "pyproject.toml",
                format!(
                    "[build-system]\nrequires = [\"hatchling\"]  # backend\n[project]\nname = \"{name}\"\ndescription = \"{name}: a service\"\ndependencies = [\n    \"fastapi==1.0\",  # web\n    \"uvicorn[standard]==0.5\",{deps}\n]\n[project.optional-dependencies]\ndev = [\"pytest==9\"]\n[tool.hatch.build.targets.wheel]\npackages = [\"src/{pkg}\"]\n"
                ),
            ),
            ("docker-entrypoint.sh", "exec \"$@\"\n".to_string()),
            (&format!("src/{pkg}/main.py"), format!("app = '{name}'\n")),
        ] {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    fn dev_hash(dir: &Path, mount: Option<&str>) -> String {
        let ctx = pack(dir, &[]).unwrap();
        let args = [("PYTHON_IMAGE".to_string(), "py:3.11".to_string())].into();
        let rebuild_on = ["pyproject.toml".to_string(), "Dockerfile".to_string()];
        let container = DevContainer { mount, command_given: true };
        let (parts, bases) = dev_inputs(dir, "Dockerfile", &args, &rebuild_on, container, &ctx, &[]);
        assert_eq!(bases, ["py:3.11"], "the base image, with the build argument substituted");
        let refs: Vec<&[u8]> = parts.iter().flat_map(|(n, b)| [n.as_bytes(), b.as_slice()]).collect();
        digest(&refs)
    }

    #[test]
    fn projects_that_install_the_same_dependencies_share_a_development_image() {
        let (a, b) = (project("lab-http-rest", ""), project("lab-validation", ""));
        assert_eq!(dev_hash(a.path(), Some("/app")), dev_hash(b.path(), Some("/app")), "names and source do not count");
        let more = project("lab-validation", "\n    \"six==1.16\",");
        assert_ne!(dev_hash(a.path(), Some("/app")), dev_hash(more.path(), Some("/app")), "a dependency does");
        // What the bind mount does not hide does count: the source copied elsewhere, the entrypoint.
        assert_ne!(dev_hash(a.path(), None), dev_hash(b.path(), None));
        let entry = project("lab-http-rest", "");
        fs::write(entry.path().join("docker-entrypoint.sh"), "migrate\nexec \"$@\"\n").unwrap();
        assert_ne!(dev_hash(a.path(), Some("/app")), dev_hash(entry.path(), Some("/app")));
    }

    #[test]
    fn dependencies_are_read_from_pyproject_without_what_names_the_project() {
        let text = "[build-system]\nrequires = ['hatchling==1.33.0']\n[project]\nname = \"x\"\nrequires-python = \">=3.11\"\ndependencies = [\n  \"uvicorn[standard]==0.54.0\", # the [server]\n  \"a\",\n]\n[project.optional-dependencies]\ndev = [\"pytest==9.2.0\"]\n";
        let deps = Dependencies::parse(text).unwrap();
        assert_eq!(deps.build, ["hatchling==1.33.0"]);
        assert_eq!(deps.python.as_deref(), Some(">=3.11"));
        assert_eq!(deps.runtime, ["uvicorn[standard]==0.54.0", "a"]);
        assert_eq!(
            deps.requirements(&["dev"]),
            ["hatchling==1.33.0", "uvicorn[standard]==0.54.0", "a", "pytest==9.2.0"]
        );
        assert_eq!(Dependencies::parse("[tool.x]\na = 1\n"), None, "no [project]: the whole file counts");
    }
}
