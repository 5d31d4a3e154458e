//! Rendering: a template plus answers becomes an in-memory [`Plan`]. Nothing touches the disk
//! here, so a template error can never leave a half-written project behind.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use tera::{Context, Tera};

use super::plan::{Mode, Plan, PlannedFile};
use super::source::MANIFEST;
use super::{ANSWERS_FILE, Answers, Error, ProjectName, Secrets, Template, filters};
use crate::health::ReadySpec;

/// Files below this folder of a template are available to `{% include %}` but never written.
const INCLUDES_DIR: &str = "_includes/";

/// What `.labforge/answers.yaml` records: enough for later commands and template updates to
/// know how the project was made. Secrets are never recorded here.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub template: String,
    pub template_version: String,
    pub labforge_version: String,
    pub project: String,
    pub answers: Map<String, Value>,
}

struct Source<'a> {
    rel: &'a str,
    bytes: &'a [u8],
}

/// Renders every file `template` produces for these answers.
pub fn render(template: &Template, project: &ProjectName, answers: &Answers, secrets: &Secrets) -> Result<Plan, Error> {
    let fail = |file: &str, message: String| Error::Render {
        template: template.name().to_string(),
        file: file.to_string(),
        message,
    };
    let values = template.values();
    let conditions = answers.condition_context(&values);

    // Later folders replace earlier ones at the same path.
    let mut sources: BTreeMap<&str, Source> = BTreeMap::new();
    for folder in template.folders() {
        for (rel, bytes) in &folder.files {
            if rel != MANIFEST {
                sources.insert(rel, Source { rel, bytes });
            }
        }
    }

    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    filters::register(&mut tera);
    let mut emitted = Vec::new();
    let mut raw_templates = Vec::new();
    for source in sources.values() {
        let mut included = true;
        let mut render = true;
        let mut mode = Mode::Normal;
        for manifest in template.manifests() {
            for rule in manifest.files.iter().filter(|r| r.globs.is_match(source.rel)) {
                if let Some(when) = &rule.when {
                    included &= manifest.conditions.eval(when, &conditions).map_err(|e| fail(source.rel, e))?;
                }
                render &= rule.render;
                if rule.executable {
                    mode = Mode::Executable;
                }
                if rule.private {
                    mode = Mode::Private;
                }
            }
        }
        let text = std::str::from_utf8(source.bytes).ok();
        if render && let Some(text) = text {
            raw_templates.push((source.rel.to_string(), strip_tag_lines(text)));
        }
        let is_include = source.rel.starts_with(INCLUDES_DIR);
        if included && !is_include {
            emitted.push((source, render && text.is_some(), mode));
        }
    }
    tera.add_raw_templates(raw_templates).map_err(|e| fail("the template", e.to_string()))?;

    let mut context = Context::new();
    for (name, value) in answers.to_map() {
        context.insert(name, &value);
    }
    context.insert("project", project);
    // Values may use the answers and project names, never secrets.
    let values = render_values(&tera, Value::Object(values), &context).map_err(|e| fail("template.yaml values", e))?;
    context.insert("secrets", secrets);
    context.insert("values", &values);
    context.insert("template", &serde_json::json!({ "name": template.name(), "version": template.manifest.version }));
    context.insert("labforge", &serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }));
    // Readiness is defined once, in the project's labforge.yaml: every other form (Dockerfile
    // HEALTHCHECK, Kubernetes probes, CI health options) is rendered from that file's `ready:`.
    let health = match emitted.iter().find(|(source, render, _)| source.rel == STACK_FILE && *render) {
        Some((source, _, _)) => {
            let stack = tera.render(source.rel, &context).map_err(|e| fail(source.rel, e.to_string()))?;
            health_forms(&stack).map_err(|e| fail(STACK_FILE, e))?
        }
        None => Map::new(),
    };
    context.insert("health", &health);

    let mut files: Vec<PlannedFile> = Vec::with_capacity(emitted.len() + 1);
    for (source, render, mode) in emitted {
        let path = if source.rel.contains("{{") || source.rel.contains("{%") {
            tera.render_str(source.rel, &context, false).map_err(|e| fail(source.rel, e.to_string()))?
        } else {
            source.rel.to_string()
        };
        let path = safe_relative(&path).map_err(|why| Error::UnsafePath { path: path.clone(), why })?;
        let contents = if render {
            tera.render(source.rel, &context).map_err(|e| fail(source.rel, e.to_string()))?.into_bytes()
        } else {
            source.bytes.to_vec()
        };
        files.push(PlannedFile { path, contents, mode });
    }

    let recorded = Recorded {
        template: template.name().to_string(),
        template_version: template.manifest.version.clone(),
        labforge_version: env!("CARGO_PKG_VERSION").to_string(),
        project: project.name.clone(),
        answers: answers.to_map(),
    };
    let yaml = serde_saphyr::to_string(&recorded).map_err(|e| fail(ANSWERS_FILE, e.to_string()))?;
    files.push(PlannedFile {
        path: ANSWERS_FILE.to_string(),
        contents: format!(
            "# Written by `labforge new`; later labforge commands read it. Secrets live in .env, not here.\n{yaml}"
        )
        .into_bytes(),
        mode: Mode::Normal,
    });

    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = files.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(fail(&pair[0].path, "two template files render to this same path".to_string()));
    }
    let values = match values {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(Plan { files, values })
}

/// The project's stack file, whose `ready:` definitions the other files' health checks follow.
const STACK_FILE: &str = "labforge.yaml";

/// Each service's readiness forms (see [`crate::health::Ready::forms`]), by service name, from a
/// rendered `labforge.yaml`. Services without `ready:` have none.
fn health_forms(stack: &str) -> Result<Map<String, Value>, String> {
    #[derive(serde::Deserialize)]
    struct Stack {
        #[serde(default)]
        services: BTreeMap<String, Service>,
    }
    #[derive(serde::Deserialize)]
    struct Service {
        #[serde(default)]
        ready: Option<ReadySpec>,
        #[serde(default)]
        ports: Vec<String>,
    }
    let stack: Stack = serde_saphyr::from_str(stack).map_err(|e| crate::base::yaml_error(STACK_FILE, &e))?;
    let mut forms = Map::new();
    for (name, service) in stack.services {
        let Some(spec) = service.ready else { continue };
        // The port the service listens on in its container: the first published one's.
        let port = service
            .ports
            .first()
            .and_then(|p| p.rsplit(':').next()?.parse::<u16>().ok())
            .ok_or_else(|| format!("service `{name}` has `ready:` but publishes no port"))?;
        let ready = spec.resolve(port).map_err(|e| format!("service `{name}`: {e}"))?;
        forms.insert(name, ready.forms());
    }
    Ok(forms)
}

/// Renders every string inside `value` as a Tera template.
fn render_values(tera: &Tera, value: Value, context: &Context) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.contains("{{") || s.contains("{%") => {
            Value::String(tera.render_str(&s, context, false).map_err(|e| e.to_string())?)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| render_values(tera, v, context)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => Value::Object(
            map.into_iter().map(|(k, v)| Ok((k, render_values(tera, v, context)?))).collect::<Result<_, String>>()?,
        ),
        other => other,
    })
}

/// Renders an overlay (a lab's starter or solution files) with `context`: paths and text files
/// are Tera templates, like a template's files; the result is checked like any plan.
pub fn render_overlay(
    files: &BTreeMap<String, std::borrow::Cow<'static, [u8]>>,
    context: &Context,
) -> Result<Vec<PlannedFile>, Error> {
    let fail =
        |file: &str, message: String| Error::Render { template: "overlay".into(), file: file.to_string(), message };
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    filters::register(&mut tera);
    let mut out = Vec::new();
    for (rel, bytes) in files {
        let path = if rel.contains("{{") || rel.contains("{%") {
            tera.render_str(rel, context, false).map_err(|e| fail(rel, e.to_string()))?
        } else {
            rel.clone()
        };
        let path = safe_relative(&path).map_err(|why| Error::UnsafePath { path: path.clone(), why })?;
        let contents = match std::str::from_utf8(bytes) {
            Ok(text) => tera
                .render_str(&strip_tag_lines(text), context, false)
                .map_err(|e| fail(rel, e.to_string()))?
                .into_bytes(),
            Err(_) => bytes.to_vec(),
        };
        out.push(PlannedFile { path, contents, mode: Mode::Normal });
    }
    Ok(out)
}

/// The context project templates see, rebuilt for a generated project from its recorded answers
/// (no secrets: overlays and checks never need them).
pub fn project_context(recorded: &Recorded) -> Result<Context, Error> {
    let project = ProjectName::parse(&recorded.project)?;
    let mut context = Context::new();
    for (name, value) in &recorded.answers {
        context.insert(name.clone(), value);
    }
    context.insert("project", &project);
    context.insert("template", &serde_json::json!({ "name": recorded.template, "version": recorded.template_version }));
    Ok(context)
}

/// Checks that a rendered output path stays inside the project: relative, `/`-separated, no
/// `.`/`..`/empty components, nothing inside `.git`.
pub fn safe_relative(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("the file name renders to nothing".into());
    }
    if path.contains('\0') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err("file names may not contain backslashes or control characters".into());
    }
    if path.starts_with('/') {
        return Err("absolute paths are not allowed; a template writes only inside the project".into());
    }
    for part in path.split('/') {
        match part {
            "" => return Err("the path has an empty component".into()),
            "." | ".." => {
                return Err("`.` and `..` are not allowed; a template writes only inside the project".into());
            }
            // Case-insensitive filesystems (macOS, Windows) take `.GIT` for `.git`, and Windows
            // drops trailing dots and spaces from names.
            _ if part.trim_end_matches(['.', ' ']).eq_ignore_ascii_case(".git") => {
                return Err(format!("a template may not write inside .git (`{part}` is .git on some filesystems)"));
            }
            _ => {}
        }
    }
    Ok(path.to_string())
}

/// Removes lines that hold only `{% %}` tags or `{# #}` comments (with their indentation and line
/// break), like Jinja's `trim_blocks` + `lstrip_blocks`, so templates can indent control flow
/// the way the output is indented. Text inside `{% raw %}` is left alone.
pub fn strip_tag_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_raw = false;
    for line in text.split_inclusive('\n') {
        let tags = tag_only(line);
        match tags {
            Some(tags) if !in_raw || tags.iter().any(|t| is_tag(t, "endraw")) => {
                for tag in &tags {
                    if is_tag(tag, "raw") {
                        in_raw = true;
                    } else if is_tag(tag, "endraw") {
                        in_raw = false;
                    }
                    out.push_str(tag);
                }
            }
            _ => {
                if !in_raw && line.contains("{% raw") {
                    in_raw = !line.contains("{% endraw");
                } else if in_raw && line.contains("{% endraw") {
                    in_raw = false;
                }
                out.push_str(line);
            }
        }
    }
    out
}

fn is_tag(tag: &str, name: &str) -> bool {
    tag.starts_with("{%")
        && tag.trim_start_matches("{%").trim_start_matches('-').trim_end_matches("%}").trim_end_matches('-').trim()
            == name
}

/// The tags of a line made only of tags and whitespace, else `None`.
fn tag_only(line: &str) -> Option<Vec<&str>> {
    let mut rest = line.trim();
    if rest.is_empty() {
        return None;
    }
    let mut tags = Vec::new();
    while !rest.is_empty() {
        let close = if rest.starts_with("{%") {
            "%}"
        } else if rest.starts_with("{#") {
            "#}"
        } else {
            return None;
        };
        let end = rest.find(close)? + 2;
        tags.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_only_lines_vanish_with_their_indentation() {
        let src = "a:\n  {% if x %}\n  b: 1\n  {% endif %}\nc: 2 {% if y %}z{% endif %}\n";
        assert_eq!(strip_tag_lines(src), "a:\n{% if x %}  b: 1\n{% endif %}c: 2 {% if y %}z{% endif %}\n");
    }

    #[test]
    fn raw_blocks_are_left_alone() {
        let src = "{% raw %}\n  {% keep %}\n{% endraw %}\nx\n";
        assert_eq!(strip_tag_lines(src), "{% raw %}  {% keep %}\n{% endraw %}x\n");
    }

    #[test]
    fn output_paths_stay_inside_the_project() {
        for good in ["src/app/main.py", ".gitignore", ".github/workflows/ci.yml", "docs/git/x"] {
            assert!(safe_relative(good).is_ok(), "{good} should be accepted");
        }
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            ".git/hooks/pre-commit",
            ".GIT/hooks/pre-commit",
            "sub/.Git/config",
            ".git./config",
            ".git /config",
            "a\\..\\b",
            "",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad} should be refused");
        }
    }
}
