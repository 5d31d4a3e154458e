//! `template.yaml`: the typed spec as written, and the validated [`Manifest`] built from it.
//! Validation reports every problem at once (kickstart-style), each naming where it is.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::{Location, Spanned};

use super::conditions::{Conditions, Expr};

/// Variable names the renderer provides itself; a manifest may not redefine them.
const RESERVED: &[&str] = &["project", "secrets", "template", "labforge", "values"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestSpec {
    name: String,
    description: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    layers: Vec<Spanned<String>>,
    #[serde(default)]
    variables: Vec<Spanned<VariableSpec>>,
    #[serde(default)]
    rules: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    values: Map<String, Value>,
    #[serde(default)]
    files: Vec<Spanned<FileRuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableSpec {
    name: String,
    help: String,
    #[serde(rename = "type")]
    kind: KindSpec,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    default: Option<Value>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    when: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum KindSpec {
    String,
    Bool,
    Choice,
    Multichoice,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    #[serde(default)]
    when: Option<String>,
    require: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRuleSpec {
    paths: Vec<String>,
    #[serde(default)]
    when: Option<String>,
    #[serde(default)]
    executable: bool,
    #[serde(default)]
    private: bool,
    #[serde(default = "yes")]
    render: bool,
}

fn yes() -> bool {
    true
}

/// A validated template manifest.
#[derive(Debug)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub version: String,
    pub layers: Vec<String>,
    pub variables: Vec<Variable>,
    pub rules: Vec<Rule>,
    pub values: Map<String, Value>,
    pub files: Vec<FileRule>,
    pub conditions: Conditions,
}

/// One question a template asks.
#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub help: String,
    pub kind: VarKind,
    pub when: Option<Expr>,
}

/// A variable's type, choices and default.
#[derive(Debug)]
pub enum VarKind {
    String { default: String, regex: Option<Regex> },
    Bool { default: bool },
    Choice { choices: Vec<String>, default: String },
    Multichoice { choices: Vec<String>, default: Vec<String> },
}

impl VarKind {
    /// The default as a template value.
    pub fn default_value(&self) -> Value {
        match self {
            VarKind::String { default, .. } => Value::from(default.as_str()),
            VarKind::Bool { default } => Value::from(*default),
            VarKind::Choice { default, .. } => Value::from(default.as_str()),
            VarKind::Multichoice { default, .. } => Value::from(default.clone()),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            VarKind::String { .. } => "string",
            VarKind::Bool { .. } => "bool",
            VarKind::Choice { .. } => "choice",
            VarKind::Multichoice { .. } => "multichoice",
        }
    }
}

/// A constraint between answers: when `when` holds, `require` must hold too.
#[derive(Debug)]
pub struct Rule {
    pub when: Option<Expr>,
    pub require: Expr,
    pub message: String,
}

/// How the files a set of globs matches are treated.
#[derive(Debug)]
pub struct FileRule {
    pub patterns: Vec<String>,
    pub globs: GlobSet,
    pub when: Option<Expr>,
    pub executable: bool,
    /// Holds secrets: written readable by the owner only.
    pub private: bool,
    pub render: bool,
}

impl Manifest {
    /// Parses and validates a manifest; `Err` holds every problem found, each a one-line message
    /// prefixed with `path`.
    pub fn parse(path: &str, text: &str) -> Result<Manifest, Vec<String>> {
        let spec: ManifestSpec = crate::base::from_yaml(path, text).map_err(|problem| vec![problem])?;
        let mut problems = Vec::new();
        let mut conditions = Conditions::default();
        let mut problem =
            |loc: Location, what: String| problems.push(format!("{path}:{}:{}: {what}", loc.line(), loc.column()));

        let version = spec.version.unwrap_or_else(|| "0.0.0".to_string());
        for layer in &spec.layers {
            if !valid_identifier(layer.value.trim_start_matches('_')) {
                problem(layer.referenced, format!("layer `{}` is not a template name", layer.value));
            }
        }

        let mut variables = Vec::new();
        for Spanned { value: var, referenced: loc, .. } in spec.variables {
            let mut problem = |what: String| problem(loc, what);
            let at = format!("variable `{}`", var.name);
            if !valid_identifier(&var.name) {
                problem(format!("{at}: names are lowercase letters, digits and `_`, starting with a letter"));
            }
            if RESERVED.contains(&var.name.as_str()) {
                problem(format!("{at}: the name is reserved (labforge provides {})", RESERVED.join(", ")));
            }
            if variables.iter().any(|v: &Variable| v.name == var.name) {
                problem(format!("{at}: defined twice"));
            }
            let when = var
                .when
                .as_deref()
                .and_then(|w| conditions.add(w).map_err(|e| problem(format!("{at}: when {e}"))).ok());
            match build_kind(&var) {
                Ok(kind) => variables.push(Variable { name: var.name, help: var.help, kind, when }),
                Err(e) => problem(format!("{at}: {e}")),
            }
        }

        let mut rules = Vec::new();
        for (i, Spanned { value: rule, referenced: loc, .. }) in spec.rules.into_iter().enumerate() {
            let mut problem = |what: String| problem(loc, what);
            let at = format!("rules[{i}]");
            let when = rule
                .when
                .as_deref()
                .and_then(|w| conditions.add(w).map_err(|e| problem(format!("{at}: when {e}"))).ok());
            match conditions.add(&rule.require) {
                Ok(require) => rules.push(Rule { when, require, message: rule.message }),
                Err(e) => problem(format!("{at}: require {e}")),
            }
        }

        let mut files = Vec::new();
        for (i, Spanned { value: rule, referenced: loc, .. }) in spec.files.into_iter().enumerate() {
            let mut problem = |what: String| problem(loc, what);
            let at = format!("files[{i}]");
            if rule.paths.is_empty() {
                problem(format!("{at}: `paths` is empty"));
            }
            let mut builder = GlobSetBuilder::new();
            for pattern in &rule.paths {
                // `*` stays within one path segment, `**` spans segments, as in .gitignore.
                match GlobBuilder::new(pattern).literal_separator(true).build() {
                    Ok(glob) => {
                        builder.add(glob);
                    }
                    Err(e) => problem(format!("{at}: bad glob `{pattern}`: {e}")),
                }
            }
            let when = rule
                .when
                .as_deref()
                .and_then(|w| conditions.add(w).map_err(|e| problem(format!("{at}: when {e}"))).ok());
            match builder.build() {
                Ok(globs) => files.push(FileRule {
                    patterns: rule.paths,
                    globs,
                    when,
                    executable: rule.executable,
                    private: rule.private,
                    render: rule.render,
                }),
                Err(e) => problem(format!("{at}: {e}")),
            }
        }

        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Manifest {
            name: spec.name,
            description: spec.description,
            version,
            layers: spec.layers.into_iter().map(|l| l.value).collect(),
            variables,
            rules,
            values: spec.values,
            files,
            conditions,
        })
    }

    /// The variable called `name`.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

fn build_kind(var: &VariableSpec) -> Result<VarKind, String> {
    let has_choices = !var.choices.is_empty();
    if var.regex.is_some() && var.kind != KindSpec::String {
        return Err("`regex` only applies to `type: string`".into());
    }
    match var.kind {
        KindSpec::String => {
            if has_choices {
                return Err("`choices` needs `type: choice` or `type: multichoice`".into());
            }
            let regex = match &var.regex {
                Some(r) => Some(Regex::new(&format!("^(?:{r})$")).map_err(|e| crate::base::regex_problem(r, &e))?),
                None => None,
            };
            let default = match &var.default {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => return Err(format!("default {other} is not a string")),
            };
            if let Some(re) = &regex
                && !re.is_match(&default)
            {
                return Err(format!("default `{default}` does not match its regex"));
            }
            Ok(VarKind::String { default, regex })
        }
        KindSpec::Bool => match &var.default {
            None => Ok(VarKind::Bool { default: false }),
            Some(Value::Bool(b)) => Ok(VarKind::Bool { default: *b }),
            Some(other) => Err(format!("default {other} is not true or false")),
        },
        KindSpec::Choice => {
            if !has_choices {
                return Err("`type: choice` needs `choices`".into());
            }
            let default = match &var.default {
                None => var.choices[0].clone(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => return Err(format!("default {other} is not a string")),
            };
            if !var.choices.contains(&default) {
                return Err(format!("default `{default}` is not one of its choices ({})", var.choices.join(", ")));
            }
            Ok(VarKind::Choice { choices: var.choices.clone(), default })
        }
        KindSpec::Multichoice => {
            if !has_choices {
                return Err("`type: multichoice` needs `choices`".into());
            }
            let default: Vec<String> = match &var.default {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or(format!("default item {v} is not a string")))
                    .collect::<Result<_, _>>()?,
                Some(other) => return Err(format!("default {other} is not a list")),
            };
            if let Some(bad) = default.iter().find(|d| !var.choices.contains(d)) {
                return Err(format!("default `{bad}` is not one of its choices ({})", var.choices.join(", ")));
            }
            Ok(VarKind::Multichoice { choices: var.choices.clone(), default })
        }
    }
}

fn valid_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name: demo
description: A demo
version: 1.2.3
variables:
  - name: db
    help: Database
    type: choice
    choices: [postgres, none]
  - name: extras
    help: Extras
    type: multichoice
    choices: [a, b]
    default: [a]
  - name: owner
    help: Owner
    type: string
    regex: "[a-z]+"
    default: me
rules:
  - when: '"b" in extras'
    require: 'db == "postgres"'
    message: b needs postgres
files:
  - paths: ["db/**"]
    when: 'db == "postgres"'
"#;

    #[test]
    fn parses_a_complete_manifest() {
        let m = Manifest::parse("t.yaml", GOOD).unwrap();
        assert_eq!(m.version, "1.2.3");
        assert_eq!(m.variables.len(), 3);
        assert!(matches!(&m.variables[0].kind, VarKind::Choice { default, .. } if default == "postgres"));
        assert!(m.files[0].globs.is_match("db/models.py"));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = r#"
name: bad
description: broken in four ways
variables:
  - name: db
    help: Database
    type: choice
    choices: [postgres]
    default: mysql
  - name: project
    help: reserved
    type: bool
  - name: owner
    help: Owner
    type: string
    regex: "[a-z"
files:
  - paths: ["a/**"]
    when: "db =="
"#;
        let problems = Manifest::parse("t.yaml", text).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("default `mysql` is not one of its choices (postgres)"));
        assert!(problems[1].contains("reserved"));
        assert!(problems[2].contains("bad regex"));
        assert!(problems[3].contains("files[0]: when `db ==` is not a valid expression"));
        // Each at the item it is about (once only `t.yaml:`); no wording of the libraries.
        for (problem, at) in problems.iter().zip(["t.yaml:5:5:", "t.yaml:10:5:", "t.yaml:13:5:", "t.yaml:18:5:"]) {
            assert!(problem.starts_with(at), "{problem} is not at {at}");
        }
        assert!(problems[2].ends_with("bad regex `[a-z`: unclosed character class"), "{}", problems[2]);
        assert!(!problems[3].contains("%}"), "{}", problems[3]);
    }

    #[test]
    fn unknown_fields_are_errors_with_a_location() {
        let problems = Manifest::parse("t.yaml", "name: x\ndescription: y\nvariabels: []\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("t.yaml:3:1: unknown field `variabels`"), "{}", problems[0]);
    }
}
