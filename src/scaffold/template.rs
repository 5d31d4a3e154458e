//! A template ready to render: its validated manifest plus the layers it builds on, and the
//! questions that follow from it (valid combinations, rule checks).

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::manifest::{Manifest, VarKind};
use super::source::{self, Layer, Templates};
use super::{Answers, Error};

/// A template and the layers it builds on. Layers render first, in order, and the template's own
/// files last, so its files replace a layer's files at the same path.
#[derive(Debug)]
pub struct Template {
    pub manifest: Manifest,
    pub files: Layer,
    pub layers: Vec<(Layer, Manifest)>,
}

/// One valid assignment of a template's single-valued options, and which items of each
/// multi-valued option it allows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Combination {
    pub answers: Map<String, Value>,
    pub allows: Map<String, Value>,
}

impl Template {
    /// A template of the catalog by name.
    pub fn builtin(name: &str, templates: &Templates) -> Result<Template, Error> {
        let unknown = || Error::UnknownTemplate { name: name.to_string(), known: templates.names().join(", ") };
        if name.starts_with('_') || name.contains('/') {
            return Err(unknown());
        }
        let layer = templates.layer(name).ok_or_else(unknown)?;
        Template::assemble(layer, templates)
    }

    /// A template kept in a folder; its `layers` may name layers of the catalog.
    pub fn from_dir(dir: &Path, templates: &Templates) -> Result<Template, Error> {
        Template::assemble(source::from_dir(dir)?, templates)
    }

    fn assemble(top: Layer, templates: &Templates) -> Result<Template, Error> {
        let template_name = top.name.clone();
        let invalid = |problems| Error::InvalidTemplate { template: template_name.clone(), problems };
        let manifest = parse_manifest(&top).map_err(invalid)?;
        let mut layers = Vec::new();
        let mut problems = Vec::new();
        for name in &manifest.layers {
            let Some(layer) = templates.layer(name) else {
                problems.push(format!("{}: layer `{name}` does not exist", top.manifest_path()));
                continue;
            };
            match parse_manifest(&layer) {
                Ok(m) if !m.variables.is_empty() || !m.rules.is_empty() || !m.layers.is_empty() => {
                    problems.push(format!("{}: a layer may only declare files and values", layer.manifest_path()));
                }
                Ok(m) => layers.push((layer, m)),
                Err(mut more) => problems.append(&mut more),
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(Template { manifest, files: top, layers })
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Every manifest that governs this template's files, bottom-up, the template's own last.
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.layers.iter().map(|(_, m)| m).chain(std::iter::once(&self.manifest))
    }

    /// Every folder of files, bottom-up, the template's own last.
    pub fn folders(&self) -> impl Iterator<Item = &Layer> {
        self.layers.iter().map(|(l, _)| l).chain(std::iter::once(&self.files))
    }

    /// Static values for templates: layer `values`, overridden by the template's own.
    pub fn values(&self) -> Map<String, Value> {
        let mut values = Map::new();
        for manifest in self.manifests() {
            values.extend(manifest.values.clone());
        }
        values
    }

    /// The first rule these answers break, as its message.
    pub fn check_rules(&self, answers: &Answers) -> Result<(), String> {
        let context = answers.condition_context(&self.values());
        let conditions = &self.manifest.conditions;
        for rule in &self.manifest.rules {
            let applies = match &rule.when {
                Some(when) => conditions.eval(when, &context)?,
                None => true,
            };
            if applies && !conditions.eval(&rule.require, &context)? {
                return Err(rule.message.clone());
            }
        }
        Ok(())
    }

    /// Every valid assignment of the single-valued (choice and bool) variables, with the items of
    /// each multichoice variable that the assignment allows.
    pub fn combinations(&self) -> Vec<Combination> {
        let mut assignments: Vec<Answers> = vec![Answers::default()];
        for var in &self.manifest.variables {
            let options: Vec<Value> = match &var.kind {
                VarKind::Choice { choices, .. } => choices.iter().map(|c| Value::from(c.as_str())).collect(),
                VarKind::Bool { .. } => vec![Value::from(false), Value::from(true)],
                other => vec![other.default_value()],
            };
            assignments = assignments
                .into_iter()
                .flat_map(|base| {
                    let applies = var.when.as_ref().is_none_or(|w| {
                        self.manifest.conditions.eval(w, &base.condition_context(&self.values())).unwrap_or(false)
                    });
                    let options = if applies { options.clone() } else { vec![var.kind.default_value()] };
                    options.into_iter().map(move |value| base.with(&var.name, value))
                })
                .collect();
        }
        assignments
            .into_iter()
            .filter(|answers| self.check_rules(answers).is_ok())
            .map(|answers| {
                let mut single = Map::new();
                let mut allows = Map::new();
                for var in &self.manifest.variables {
                    match &var.kind {
                        VarKind::Multichoice { choices, .. } => {
                            let ok: Vec<Value> = choices
                                .iter()
                                .filter(|item| {
                                    self.check_rules(&answers.with(&var.name, Value::from(vec![item.as_str()]))).is_ok()
                                })
                                .map(|item| Value::from(item.as_str()))
                                .collect();
                            allows.insert(var.name.clone(), Value::Array(ok));
                        }
                        VarKind::Choice { .. } | VarKind::Bool { .. } => {
                            if let Some(value) = answers.get(&var.name) {
                                single.insert(var.name.clone(), value.clone());
                            }
                        }
                        VarKind::String { .. } => {}
                    }
                }
                Combination { answers: single, allows }
            })
            .collect()
    }
}

fn parse_manifest(layer: &Layer) -> Result<Manifest, Vec<String>> {
    let path = layer.manifest_path();
    match layer.manifest_text() {
        None => Err(vec![format!("{path} is missing")]),
        // Read again to locate the first byte that is not UTF-8.
        Some(Err(_)) => Err(vec![
            crate::base::utf8_text(&path, layer.files[super::source::MANIFEST].to_vec())
                .err()
                .unwrap_or_else(|| format!("{path} is not UTF-8")),
        ]),
        Some(Ok(text)) => Manifest::parse(&path, text),
    }
}
