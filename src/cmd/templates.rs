//! `labforge templates`: what can be scaffolded, with options, defaults and valid combinations.

use serde_json::{Value, json};

use crate::cli::TemplatesArgs;
use crate::context::Context;
use crate::scaffold::{Template, Templates, VarKind};
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: TemplatesArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let templates = Templates::choose(ctx.templates_dir());
    let templates: Vec<Template> = match &args.template_dir {
        Some(dir) => vec![Template::from_dir(dir, &templates)?],
        None => templates.names().into_iter().map(|n| Template::builtin(&n, &templates)).collect::<Result<_, _>>()?,
    };
    if args.json {
        let list: Vec<Value> = templates.iter().map(describe).collect();
        shell.line(serde_json::to_string_pretty(&json!({ "templates": list })).expect("JSON values serialize"));
        return Ok(Outcome::Success);
    }
    for (i, template) in templates.iter().enumerate() {
        if i > 0 {
            shell.line("");
        }
        print_human(shell, template);
    }
    Ok(Outcome::Success)
}

/// The flag a variable is set with on `labforge new`.
pub fn flag(var: &str) -> String {
    match var {
        "db" | "auth" => format!("--{var}"),
        "extras" => "--with".to_string(),
        other => format!("--set {other}="),
    }
}

fn print_human(shell: &Shell, template: &Template) {
    let m = &template.manifest;
    shell.line(format_args!("{}  {}  {}", shell.bold(&m.name), shell.dim(&format!("v{}", m.version)), m.description));
    for var in &m.variables {
        let options = match &var.kind {
            VarKind::Choice { choices, default } => choices
                .iter()
                .map(|c| if c == default { format!("{c} (default)") } else { c.clone() })
                .collect::<Vec<_>>()
                .join(" | "),
            VarKind::Multichoice { choices, default } => {
                let d = if default.is_empty() { "none".to_string() } else { default.join(",") };
                format!("any of {} (default: {d})", choices.join(", "))
            }
            VarKind::Bool { default } => format!("true | false (default: {default})"),
            VarKind::String { default, .. } => format!("text (default: {default:?})"),
        };
        shell.line(format_args!("  {:<9} {:<48} {}", flag(&var.name), options, shell.dim(&var.help)));
    }
    let combos = template.combinations();
    shell.line(format_args!("  valid combinations ({}):", combos.len()));
    for combo in combos {
        let single: Vec<String> = combo.answers.iter().map(|(k, v)| format!("{} {}", flag(k), plain(v))).collect();
        let multi: Vec<String> = combo
            .allows
            .iter()
            .map(|(k, v)| {
                let items: Vec<String> = v.as_array().into_iter().flatten().map(plain).collect();
                format!("{} {}", flag(k), if items.is_empty() { "(none)".to_string() } else { items.join(",") })
            })
            .collect();
        shell.line(format_args!("    {:<32} {}", single.join(" "), multi.join(" ")));
    }
}

fn plain(value: &Value) -> String {
    value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())
}

fn describe(template: &Template) -> Value {
    let m = &template.manifest;
    let variables: Vec<Value> = m
        .variables
        .iter()
        .map(|var| {
            let choices = match &var.kind {
                VarKind::Choice { choices, .. } | VarKind::Multichoice { choices, .. } => {
                    json!(choices)
                }
                _ => Value::Null,
            };
            json!({
                "name": var.name,
                "flag": flag(&var.name).trim_end_matches('=').to_string(),
                "type": var.kind.type_name(),
                "help": var.help,
                "choices": choices,
                "default": var.kind.default_value(),
                "when": var.when.as_ref().map(|w| w.source.clone()),
            })
        })
        .collect();
    json!({
        "name": m.name,
        "version": m.version,
        "description": m.description,
        "variables": variables,
        "combinations": template.combinations(),
    })
}
