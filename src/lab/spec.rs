//! `lab.yaml`: the typed definition of a lab, parsed strictly, with every problem reported as
//! `file:line:column: message`. Pure: it reads the lab's files from memory, runs nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::check::kinds::CheckKind;
use crate::check::{Check, LabFiles};
use crate::scaffold::Templates;

/// How long a check may take unless it says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFile {
    id: Spanned<String>,
    title: String,
    summary: String,
    topics: Vec<String>,
    difficulty: Spanned<String>,
    #[serde(default)]
    minutes: Option<u32>,
    template: Spanned<TemplateChoice>,
    #[serde(default)]
    stack: bool,
    #[serde(default)]
    starter_remove: Vec<Spanned<String>>,
    steps: Spanned<Vec<StepFile>>,
}

/// The `labforge new` options a lab starts from.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TemplateChoice {
    pub framework: String,
    #[serde(default = "none")]
    pub db: String,
    #[serde(default = "none")]
    pub auth: String,
    #[serde(default)]
    pub extras: Vec<String>,
}

fn none() -> String {
    "none".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    id: Spanned<String>,
    title: String,
    instructions: Spanned<String>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    hints: Vec<String>,
    checks: Vec<Spanned<Value>>,
    /// What passing the step proves the learner got right, in one sentence.
    #[serde(default)]
    proves: Option<String>,
    /// Plausible mistakes, each an overlay `wrong/<step>/<name>/`: name → what it gets wrong.
    #[serde(default)]
    wrong: BTreeMap<String, String>,
    /// Correct solutions written another way, each an overlay `alternative/<step>/<name>/`.
    #[serde(default)]
    alternatives: BTreeMap<String, String>,
}

/// A validated lab.
#[derive(Debug, Clone)]
pub struct Lab {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub topics: Vec<String>,
    pub difficulty: String,
    pub minutes: Option<u32>,
    pub template: TemplateChoice,
    pub stack: bool,
    pub starter_remove: Vec<String>,
    pub steps: Vec<Step>,
    pub files: LabFiles,
    /// The catalog its template comes from.
    pub templates: Templates,
    /// What its steps lack to prove their checks (too few mistakes, no other correct solution),
    /// located: a lab may be drafted without them, but `lab validate` and `lab selftest` refuse it.
    pub proof_gaps: Vec<String>,
}

/// One step of a lab.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub instructions: String,
    pub needs: Vec<String>,
    pub hints: Vec<String>,
    pub checks: Vec<Check>,
    /// What passing the step proves the learner got right.
    pub proves: Option<String>,
    /// Plausible mistakes (overlays `wrong/<step>/<name>/`): name → what it gets wrong. Each must
    /// fail at least one check of the step (`lab selftest` proves it).
    pub wrong: BTreeMap<String, String>,
    /// Correct solutions written another way (overlays `alternative/<step>/<name>/`): name → how.
    /// Each must pass every check of the step.
    pub alternatives: BTreeMap<String, String>,
}

impl Lab {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Whether any check needs the project's Python environment.
    pub fn needs_venv(&self) -> bool {
        self.steps.iter().flat_map(|s| &s.checks).any(|c| c.kind.needs_venv())
    }

    /// Whether any check asks a Kubernetes cluster (the learner deploys with `labforge deploy`).
    pub fn needs_cluster(&self) -> bool {
        self.steps.iter().flat_map(|s| &s.checks).any(|c| c.kind.needs_cluster())
    }

    /// Whether any check asks GitHub (the learner pushes with `labforge ci setup`).
    pub fn needs_github(&self) -> bool {
        self.steps.iter().flat_map(|s| &s.checks).any(|c| c.kind.needs_github())
    }

    /// Parses `lab.yaml` from `files`; `Err` holds every problem, each `path:line:column: ...`.
    pub fn parse(files: LabFiles, templates: &Templates) -> Result<Lab, Vec<String>> {
        let path = files.display_path("lab.yaml");
        let Some(bytes) = files.get("lab.yaml") else {
            return Err(vec![format!("{path}: missing: every lab folder needs a lab.yaml")]);
        };
        let text = crate::base::utf8_text(&path, bytes.to_vec()).map_err(|problem| vec![problem])?;
        crate::base::yaml_syntax(&path, &text).map_err(|problem| vec![problem])?;
        let options = serde_saphyr::options! { strict_booleans: true };
        let spec: LabFile = serde_saphyr::from_str_with_options(&text, options)
            .map_err(|e| vec![crate::base::yaml_error(&path, &e)])?;
        let mut problems = Vec::new();
        let at = |loc: &serde_saphyr::Location, msg: String| format!("{path}:{}:{}: {msg}", loc.line(), loc.column());

        if !valid_id(&spec.id.value) {
            problems.push(at(
                &spec.id.referenced,
                format!("id `{}` must be lowercase letters, digits and `-`", spec.id.value),
            ));
        } else if let Some(folder) = files.folder_name()
            && folder != spec.id.value
        {
            problems.push(at(
                &spec.id.referenced,
                format!("id `{}` must match the lab's folder name `{folder}`", spec.id.value),
            ));
        }
        if !["beginner", "intermediate", "advanced"].contains(&spec.difficulty.value.as_str()) {
            problems.push(at(
                &spec.difficulty.referenced,
                format!("difficulty `{}` must be beginner, intermediate or advanced", spec.difficulty.value),
            ));
        }
        if let Err(e) = check_template(&spec.template.value, templates) {
            problems.push(at(&spec.template.referenced, e));
        }
        for remove in &spec.starter_remove {
            // What renders is checked once rendered (`lab::renders`); a plain path here, in place.
            if !remove.value.contains("{{")
                && let Err(why) = crate::scaffold::safe_relative(remove.value.trim_end_matches('/'))
            {
                problems.push(at(&remove.referenced, format!("starter_remove `{}`: {why}", remove.value)));
            }
        }
        if spec.steps.value.is_empty() {
            problems.push(at(&spec.steps.referenced, "`steps` is empty: a lab needs at least one step".into()));
        }

        let sample = sample_context(&spec.id.value, &spec.template.value);
        let mut steps: Vec<Step> = Vec::new();
        let mut proof_gaps: Vec<String> = Vec::new();
        for step in spec.steps.value {
            let id = step.id.value.clone();
            if !valid_id(&id) {
                problems
                    .push(at(&step.id.referenced, format!("step id `{id}` must be lowercase letters, digits and `-`")));
            }
            if steps.iter().any(|s| s.id == id) {
                problems.push(at(&step.id.referenced, format!("step id `{id}` is used twice")));
            }
            for need in &step.needs {
                if !steps.iter().any(|s| s.id == need.value) {
                    let why = if need.value == id {
                        "itself".to_string()
                    } else {
                        "a step that does not come before it".to_string()
                    };
                    problems.push(at(&need.referenced, format!("step `{id}` needs `{}`, {why}", need.value)));
                }
            }
            let instructions = match files.get(&step.instructions.value) {
                Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                None => {
                    problems.push(at(
                        &step.instructions.referenced,
                        format!("instructions `{}` do not exist in the lab folder", step.instructions.value),
                    ));
                    String::new()
                }
            };
            if let Err(e) = super::render_text(&instructions, &sample) {
                problems.push(at(
                    &step.instructions.referenced,
                    format!("instructions `{}` do not render: {e}", step.instructions.value),
                ));
            }
            for (i, hint) in step.hints.iter().enumerate() {
                if let Err(e) = super::render_text(hint, &sample) {
                    problems.push(at(&step.id.referenced, format!("step `{id}`: hint {} does not render: {e}", i + 1)));
                }
            }
            if !files.has_dir(&format!("solution/{id}")) {
                problems.push(at(
                    &step.id.referenced,
                    format!("step `{id}` has no reference solution: add solution/{id}/"),
                ));
            }
            if step.checks.is_empty() {
                problems.push(at(&step.id.referenced, format!("step `{id}` has no checks")));
            }
            for (folder, named) in [("wrong", &step.wrong), ("alternative", &step.alternatives)] {
                for name in named.keys() {
                    if !valid_id(name) {
                        problems.push(at(
                            &step.id.referenced,
                            format!("step `{id}`: {folder} `{name}` must be lowercase letters, digits and `-`"),
                        ));
                    } else if !files.has_dir(&format!("{folder}/{id}/{name}"))
                        && files.get(&format!("{folder}/{id}/{name}.patch")).is_none()
                    {
                        problems.push(at(
                            &step.id.referenced,
                            format!(
                                "step `{id}`: {folder} `{name}` has no overlay: add {folder}/{id}/{name}.patch or {folder}/{id}/{name}/"
                            ),
                        ));
                    }
                }
                let entries = files.under(&format!("{folder}/{id}"));
                let found: BTreeSet<(&str, &str)> = entries
                    .keys()
                    .map(|rel| match rel.split_once('/') {
                        Some((dir, _)) => (dir, dir),
                        None => (rel.strip_suffix(".patch").unwrap_or(rel), rel.as_str()),
                    })
                    .collect();
                for (name, entry) in found {
                    if !named.contains_key(name) {
                        problems.push(format!(
                            "{}: not described in lab.yaml: add `{name}: what it does` under step `{id}`'s `{}`",
                            files.display_path(&format!("{folder}/{id}/{entry}")),
                            if folder == "wrong" { "wrong" } else { "alternatives" }
                        ));
                    }
                }
            }
            let mut checks: Vec<Check> = Vec::new();
            let step_ref = step.id.referenced;
            for raw in step.checks {
                match parse_check(raw.value, &files) {
                    Ok(check) => {
                        if checks.iter().any(|c| c.name == check.name) {
                            problems.push(at(
                                &raw.referenced,
                                format!("step `{id}`: check name `{}` is used twice", check.name),
                            ));
                        }
                        checks.push(check);
                    }
                    Err(e) => problems.push(at(&raw.referenced, format!("step `{id}`: {e}"))),
                }
            }
            proof_gaps.extend(
                proof_problems(&id, &checks, &step.wrong, &step.alternatives).into_iter().map(|p| at(&step_ref, p)),
            );
            if step.proves.as_deref().is_none_or(|p| p.trim().is_empty()) {
                proof_gaps.push(at(&step_ref, format!("step `{id}` does not say what it `proves:` (one sentence)")));
            }
            steps.push(Step {
                id,
                title: step.title,
                instructions,
                needs: step.needs.into_iter().map(|n| n.value).collect(),
                hints: step.hints,
                checks,
                proves: step.proves,
                wrong: step.wrong,
                alternatives: step.alternatives,
            });
        }
        // Every overlay file must land inside the project once its name is rendered.
        let overlays = std::iter::once("starter".to_string())
            .chain(steps.iter().map(|s| format!("solution/{}", s.id)))
            .chain(steps.iter().flat_map(|s| s.wrong.keys().map(move |n| format!("wrong/{}/{n}", s.id))))
            .chain(steps.iter().flat_map(|s| s.alternatives.keys().map(move |n| format!("alternative/{}/{n}", s.id))));
        for overlay in overlays {
            for rel in files.under(&overlay).keys() {
                if let Err(why) = overlay_path(rel, &sample) {
                    problems.push(format!("{}: {why}", files.display_path(&format!("{overlay}/{rel}"))));
                }
            }
            let patch = format!("{overlay}.patch");
            if let Some(bytes) = files.get(&patch)
                && let Err(why) = patch_paths(bytes, &sample)
            {
                problems.push(format!("{}: {why}", files.display_path(&patch)));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Lab {
            id: spec.id.value,
            title: spec.title,
            summary: spec.summary,
            topics: spec.topics,
            difficulty: spec.difficulty.value,
            minutes: spec.minutes,
            template: spec.template.value,
            stack: spec.stack,
            starter_remove: spec.starter_remove.into_iter().map(|r| r.value).collect(),
            steps,
            files,
            templates: templates.clone(),
            proof_gaps,
        })
    }
}

/// Where an overlay file lands in the project: its name rendered, and refused unless it stays inside.
fn overlay_path(rel: &str, context: &tera::Context) -> Result<String, String> {
    let rendered = super::render_text(rel, context).map_err(|e| format!("its name does not render: {e}"))?;
    crate::scaffold::safe_relative(&rendered).map_err(|why| format!("its name renders to `{rendered}`: {why}"))
}

/// What a step must ship to prove its checks mean what they say: at least two mistakes (one for a
/// step whose checks only read files: there are fewer ways to get those wrong), at least one
/// other correct solution, and the lab's tests beside a learner's own.
fn proof_problems(
    id: &str,
    checks: &[Check],
    wrong: &BTreeMap<String, String>,
    alternatives: &BTreeMap<String, String>,
) -> Vec<String> {
    use crate::check::kinds::CheckKind;
    let mut problems = Vec::new();
    let files_only = checks.iter().all(|c| {
        matches!(
            c.kind,
            CheckKind::File(_)
                | CheckKind::Lint(_)
                | CheckKind::Manifest(_)
                | CheckKind::Workflow(_)
                | CheckKind::Container(_)
        )
    });
    let least = if files_only { 1 } else { 2 };
    if wrong.len() < least {
        problems.push(format!(
            "step `{id}` ships {} plausible mistake(s) under `wrong`, at least {least} needed: each a wrong/{id}/NAME.patch that a check must catch",
            wrong.len()
        ));
    }
    if alternatives.is_empty() {
        problems.push(format!(
            "step `{id}` ships no other correct solution under `alternatives`: add one written another valid way (alternative/{id}/NAME.patch)"
        ));
    }
    let pytest = |own: bool| checks.iter().any(|c| matches!(&c.kind, CheckKind::Pytest(p) if p.own == own));
    if pytest(true) && !pytest(false) {
        problems.push(format!(
            "step `{id}` runs only the learner's own tests (`own: true`): add a `pytest` check of the lab's copy or hidden tests against the same code"
        ));
    }
    problems
}

/// A patch overlay must render, parse as a unified diff, and change only files inside the project.
fn patch_paths(bytes: &[u8], context: &tera::Context) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    let rendered = super::render_text(text, context).map_err(|e| format!("it does not render: {e}"))?;
    for file in super::patch::split(&rendered)? {
        crate::scaffold::safe_relative(&file.path).map_err(|why| format!("`{}`: {why}", file.path))?;
    }
    Ok(())
}

/// A context like a learner's workspace gives instructions and hints, to prove they render.
fn sample_context(id: &str, choice: &TemplateChoice) -> tera::Context {
    let mut project = tera::Context::new();
    if let Ok(name) = crate::scaffold::ProjectName::parse(&format!("lab-{id}")) {
        project.insert("project", &name);
    }
    project.insert("db", &choice.db);
    project.insert("auth", &choice.auth);
    project.insert("extras", &choice.extras);
    let app = crate::stack::spec::ServiceKind::App;
    super::text_context(&project, &format!("http://{}:{}", crate::stack::kind::PUBLISHED_ON, app.port()))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The template and options must be ones `labforge new` accepts.
fn check_template(choice: &TemplateChoice, templates: &Templates) -> Result<(), String> {
    let template = crate::scaffold::Template::builtin(&choice.framework, templates).map_err(|e| e.to_string())?;
    let mut given = crate::scaffold::Given::default();
    given.set("db", "db", crate::scaffold::GivenValue::One(choice.db.clone()));
    given.set("auth", "auth", crate::scaffold::GivenValue::One(choice.auth.clone()));
    given.set("extras", "extras", crate::scaffold::GivenValue::Many(choice.extras.clone()));
    crate::scaffold::Answers::resolve(&template, given, None).map(|_| ()).map_err(|e| format!("template: {e}"))
}

/// One check from its YAML mapping: the common fields, then the kind's own, strictly.
fn parse_check(value: Value, files: &LabFiles) -> Result<Check, String> {
    let Value::Object(mut map) = value else {
        return Err("a check must be a mapping with `name` and `kind`".into());
    };
    let name = match map.remove("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n,
        Some(_) => return Err("check `name` must be text".into()),
        None => return Err("a check needs a `name`".into()),
    };
    let kind = match map.remove("kind") {
        Some(Value::String(k)) => k,
        _ => return Err(format!("check `{name}` needs a `kind` ({})", CheckKind::NAMES.join(", "))),
    };
    let timeout = match map.remove("timeout") {
        None => DEFAULT_TIMEOUT,
        Some(Value::String(t)) => crate::base::parse_duration(&t).map_err(|e| format!("check `{name}`: {e}"))?,
        Some(other) => return Err(format!("check `{name}`: timeout {other} must be like `10s`")),
    };
    let guard = match map.remove("guard") {
        None => None,
        Some(Value::String(why)) if !why.trim().is_empty() => Some(why),
        Some(_) => return Err(format!("check `{name}`: `guard` must say why no mistake of the step can fail it")),
    };
    let kind = CheckKind::parse(&kind, Value::Object(map)).map_err(|e| format!("check `{name}`: {e}"))?;
    kind.validate(files).map_err(|e| format!("check `{name}`: {e}"))?;
    Ok(Check { name, timeout, kind, guard })
}

/// Values a check compares against, in a lab's YAML: any JSON.
pub type Expected = BTreeMap<String, Value>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    const GOOD: &str = "id: demo
title: Demo
summary: A demo lab.
topics: [http]
difficulty: beginner
template: {framework: fastapi, db: none, auth: none}
steps:
  - id: first
    title: First
    instructions: steps/first.md
    hints: [look closer]
    checks:
      - {name: health, kind: http, requests: [{path: /health, expect: {status: 200, json: {$.status: ok}}}]}
      - {name: file, kind: file, path: README.md, regex: 'Shop|Demo'}
  - id: second
    title: Second
    instructions: steps/second.md
    needs: [first]
    checks:
      - {name: sql, kind: postgres, sql: SELECT 1, expect: {count: 1}}
";

    fn lab(yaml: &str) -> LabFiles {
        let mut files = BTreeMap::new();
        files.insert("lab.yaml".to_string(), yaml.as_bytes().to_vec());
        files.insert("steps/first.md".to_string(), b"# First".to_vec());
        files.insert("steps/second.md".to_string(), b"# Second".to_vec());
        files.insert("solution/first/x.py".to_string(), b"x = 1".to_vec());
        files.insert("solution/second/x.py".to_string(), b"x = 2".to_vec());
        LabFiles::from_map("demo", files)
    }

    #[test]
    fn a_good_lab_parses() {
        let lab = Lab::parse(lab(GOOD), &Templates::Embedded).unwrap();
        assert_eq!(lab.steps.len(), 2);
        assert_eq!(lab.steps[1].needs, ["first"]);
        assert!(lab.steps[0].checks[0].kind.is_ordered());
        assert!(!lab.steps[0].checks[1].kind.is_ordered());
    }

    #[test]
    fn yaml_1_1_booleans_stay_text() {
        let yaml = GOOD.replace("{$.status: ok}", "{$.status: yes}");
        let lab = Lab::parse(lab(&yaml), &Templates::Embedded).unwrap();
        let CheckKind::Http(http) = &lab.steps[0].checks[0].kind else { panic!("an http check") };
        assert_eq!(http.requests[0].expect.json["$.status"], serde_json::json!("yes"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever an editor leaves behind, the parser answers with problems, never a panic.
        #[test]
        fn mangled_labs_never_panic(
            cut in 0usize..GOOD.len(),
            at in 0usize..GOOD.len(),
            junk in "[ -~\n\t]{0,12}",
            drop_line in 0usize..30,
        ) {
            let mut text: String =
                GOOD.lines().enumerate().filter(|(i, _)| *i != drop_line).map(|(_, l)| format!("{l}\n")).collect();
            let at = at.min(text.len());
            text.insert_str(at, &junk);
            let cut = cut.max(text.len() / 2).min(text.len());
            text.truncate(cut);
            let _ = Lab::parse(lab(&text), &Templates::Embedded);
        }
    }
}
