//! Answers to a template's variables: what the command line gave, checked against the manifest,
//! completed from prompts (when a person is there to ask) or defaults.

use serde_json::{Map, Value};

use super::Error;
use super::manifest::{VarKind, Variable};
use super::template::Template;
use crate::ui::prompt::Prompter;

/// A value from the command line, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GivenValue {
    One(String),
    Many(Vec<String>),
}

/// Values the user gave, each with the flag it came from so errors can name it.
#[derive(Debug, Default, Clone)]
pub struct Given {
    entries: Vec<(String, String, GivenValue)>,
}

impl Given {
    /// Records `value` for variable `var`, given as `flag` (e.g. `--db`).
    pub fn set(&mut self, var: &str, flag: &str, value: GivenValue) {
        self.entries.retain(|(name, _, _)| name != var);
        self.entries.push((var.to_string(), flag.to_string(), value));
    }

    /// How the command line already gave `var` a value other than `value` (`--set db=mongo`),
    /// or `None`: a command line that contradicts itself is refused, not settled by order.
    pub fn contradicted(&self, var: &str, value: &GivenValue) -> Option<String> {
        let items = |v: &GivenValue| match v {
            GivenValue::One(s) => s.split(',').map(|i| i.trim().to_string()).collect::<Vec<_>>(),
            GivenValue::Many(items) => items.iter().map(|i| i.trim().to_string()).collect(),
        };
        let (_, flag, earlier) = self.entries.iter().find(|(name, _, _)| name == var)?;
        (items(earlier) != items(value)).then(|| {
            let shown = items(earlier).join(",");
            if flag.starts_with("--set ") { format!("{flag}={shown}") } else { format!("{flag} {shown}") }
        })
    }

    fn take(&mut self, var: &str) -> Option<(String, GivenValue)> {
        let index = self.entries.iter().position(|(name, _, _)| name == var)?;
        let (_, flag, value) = self.entries.remove(index);
        Some((flag, value))
    }
}

/// Checked answers, in manifest order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Answers {
    values: Vec<(String, Value)>,
}

impl Answers {
    /// Resolves every variable of `template`: given values are checked; missing ones are asked
    /// when `prompter` is present, else defaulted. Then the template's rules are checked.
    pub fn resolve(
        template: &Template,
        mut given: Given,
        mut prompter: Option<&mut dyn Prompter>,
    ) -> Result<Answers, Error> {
        let manifest = &template.manifest;
        let values = template.values();
        let mut answers = Answers::default();
        for var in &manifest.variables {
            let applies = match &var.when {
                Some(when) => {
                    manifest.conditions.eval(when, &answers.condition_context(&values)).map_err(Error::Answer)?
                }
                None => true,
            };
            let value = match (given.take(&var.name), applies) {
                (Some((flag, _)), false) => {
                    let when = var.when.as_ref().map(|w| w.source.as_str()).unwrap_or_default();
                    return Err(Error::Answer(format!(
                        "`{flag}` does not apply to template `{}` when {} (it needs {when})",
                        manifest.name,
                        answers.summary()
                    )));
                }
                (Some((flag, value)), true) => check(manifest.name.as_str(), var, &flag, value)?,
                (None, true) => match prompter.as_deref_mut() {
                    Some(p) => ask(p, var)?,
                    None => var.kind.default_value(),
                },
                (None, false) => var.kind.default_value(),
            };
            answers.values.push((var.name.clone(), value));
        }
        if let Some((_, flag, _)) = given.entries.first() {
            let known: Vec<&str> = manifest.variables.iter().map(|v| v.name.as_str()).collect();
            return Err(Error::Answer(format!(
                "template `{}` has no option for `{flag}` (its options: {})",
                manifest.name,
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        }
        template.check_rules(&answers).map_err(Error::Answer)?;
        Ok(answers)
    }

    /// The answer for `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A copy with `name` set to `value`.
    pub fn with(&self, name: &str, value: Value) -> Answers {
        let mut copy = self.clone();
        match copy.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => copy.values.push((name.to_string(), value)),
        }
        copy
    }

    /// Answers as a JSON object, in manifest order.
    pub fn to_map(&self) -> Map<String, Value> {
        self.values.iter().cloned().collect()
    }

    /// The context `when:` expressions see: the answers and the template's values.
    pub fn condition_context(&self, values: &Map<String, Value>) -> tera::Context {
        let mut context = tera::Context::new();
        context.insert("values", values);
        for (name, value) in &self.values {
            context.insert(name.clone(), value);
        }
        context
    }

    /// A short human summary: `postgres · jwt · graphql, ratelimit`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .values
            .iter()
            .filter_map(|(name, value)| match value {
                Value::String(s) if !s.is_empty() => Some(format!("{name}={s}")),
                Value::Bool(b) => Some(format!("{name}={b}")),
                Value::Array(items) if !items.is_empty() => {
                    Some(format!("{name}={}", items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")))
                }
                _ => None,
            })
            .collect();
        if parts.is_empty() { "the defaults".to_string() } else { parts.join(" ") }
    }
}

/// Checks one given value against its variable.
fn check(template: &str, var: &Variable, flag: &str, value: GivenValue) -> Result<Value, Error> {
    let fail = |msg: String| Err(Error::Answer(msg));
    let items = match value {
        GivenValue::One(s) => vec![s],
        GivenValue::Many(v) => v,
    };
    match &var.kind {
        VarKind::Choice { choices, .. } => {
            let [one] = items.as_slice() else {
                return fail(format!("`{flag}` takes one value (one of: {})", choices.join(", ")));
            };
            if !choices.contains(one) {
                return fail(format!(
                    "template `{template}` does not support `{flag} {one}` (choose one of: {})",
                    choices.join(", ")
                ));
            }
            Ok(Value::from(one.as_str()))
        }
        VarKind::Multichoice { choices, .. } => {
            let mut chosen: Vec<String> = Vec::new();
            for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
                if !choices.iter().any(|c| c == item) {
                    let supported = if choices.is_empty() { "none".to_string() } else { choices.join(", ") };
                    return fail(format!(
                        "template `{template}` does not support `{flag} {item}` (it supports: {supported})"
                    ));
                }
                if !chosen.iter().any(|c| c == item) {
                    chosen.push(item.to_string());
                }
            }
            // Keep the manifest's order so output does not depend on how flags were typed.
            chosen.sort_by_key(|c| choices.iter().position(|x| x == c));
            Ok(Value::from(chosen))
        }
        VarKind::Bool { .. } => match items.as_slice() {
            [one] if matches!(one.as_str(), "true" | "yes" | "1") => Ok(Value::from(true)),
            [one] if matches!(one.as_str(), "false" | "no" | "0") => Ok(Value::from(false)),
            _ => fail(format!("`{flag}` takes true or false")),
        },
        VarKind::String { regex, .. } => {
            let text = items.join(",");
            if text.chars().any(char::is_control) {
                return fail(format!("`{flag}` must not contain control characters"));
            }
            if let Some(re) = regex
                && !re.is_match(&text)
            {
                let pattern = re.as_str().trim_start_matches("^(?:").trim_end_matches(")$");
                return fail(format!("`{flag}` value `{}` must match `{pattern}`", text.escape_default()));
            }
            Ok(Value::from(text))
        }
    }
}

/// Asks for one variable.
fn ask(prompter: &mut dyn Prompter, var: &Variable) -> Result<Value, Error> {
    Ok(match &var.kind {
        VarKind::Choice { choices, default } => {
            let at = choices.iter().position(|c| c == default).unwrap_or(0);
            Value::from(choices[prompter.select(&var.help, choices, at)?].as_str())
        }
        VarKind::Multichoice { choices, default } => {
            let checked: Vec<bool> = choices.iter().map(|c| default.contains(c)).collect();
            let picked = prompter.multi_select(&var.help, choices, &checked)?;
            Value::from(picked.into_iter().map(|i| choices[i].clone()).collect::<Vec<_>>())
        }
        VarKind::Bool { default } => Value::from(prompter.confirm(&var.help, *default)?),
        VarKind::String { default, regex } => {
            let regex = regex.clone();
            let validate = move |text: &str| match &regex {
                Some(re) if !re.is_match(text) => Err(format!("must match {}", re.as_str())),
                _ => Ok(()),
            };
            Value::from(prompter.input(&var.help, default, &validate)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_given_twice_differently_is_a_contradiction() {
        let mut given = Given::default();
        given.set("db", "--set db", GivenValue::One("mongo".into()));
        assert_eq!(given.contradicted("db", &GivenValue::One("none".into())).as_deref(), Some("--set db=mongo"));
        assert_eq!(given.contradicted("db", &GivenValue::One("mongo".into())), None);
        assert_eq!(given.contradicted("auth", &GivenValue::One("jwt".into())), None);
        given.set("extras", "--with", GivenValue::Many(vec!["graphql".into(), "ratelimit".into()]));
        assert_eq!(given.contradicted("extras", &GivenValue::One("graphql, ratelimit".into())), None);
        assert_eq!(
            given.contradicted("extras", &GivenValue::One("graphql".into())).as_deref(),
            Some("--with graphql,ratelimit")
        );
    }
}
