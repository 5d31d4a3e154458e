//! `labforge new`: scaffold a project. Observe the target, resolve answers, render a plan, then
//! either print it (`--dry-run`) or write it.

use std::path::{Path, PathBuf};

use crate::cli::NewArgs;
use crate::context::Context;
use crate::scaffold::{
    self, Answers, FileAction, Given, GivenValue, Plan, ProjectName, Secrets, TargetState, Template, Templates,
};
use crate::ui::Shell;
use crate::ui::prompt::{Prompter, Terminal};
use crate::{Error, Outcome};

pub fn run(args: NewArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let project = ProjectName::parse(&args.name).map_err(scaffold::Error::from)?;
    let target = args.dir.clone().unwrap_or_else(|| PathBuf::from(&project.name));
    // Refuse a non-empty target before asking anything.
    let state = TargetState::inspect(&target, args.force)?;
    let given = given(&args)?;
    let mut terminal = (shell.is_interactive() && !args.yes).then(Terminal::default);
    if terminal.is_some() {
        // Ctrl-C at a prompt: the prompt hid the cursor; show it again and exit 130. Nothing has
        // been written yet, so there is nothing to undo.
        let _ = ctrlc::set_handler(|| {
            let _ = console::Term::stderr().show_cursor();
            std::process::exit(130);
        });
    }

    let templates = Templates::choose(ctx.templates_dir());
    let template = match (&args.template_dir, &args.framework) {
        (Some(dir), _) => Template::from_dir(dir, &templates)?,
        (None, Some(name)) => Template::builtin(name, &templates)?,
        (None, None) => match terminal.as_mut() {
            Some(prompt) => {
                let names = templates.names();
                let default = names.iter().position(|n| n == scaffold::DEFAULT_TEMPLATE).unwrap_or(0);
                let pick = prompt.select("Framework", &names, default).map_err(scaffold::Error::from)?;
                Template::builtin(&names[pick], &templates)?
            }
            None => Template::builtin(scaffold::DEFAULT_TEMPLATE, &templates)?,
        },
    };
    let answers = Answers::resolve(&template, given, terminal.as_mut().map(|t| t as &mut dyn Prompter))?;
    let plan = scaffold::render(&template, &project, &answers, &Secrets::generate()?)?;

    if args.dry_run {
        print_plan(shell, &plan, &target, &template, &answers);
        return Ok(Outcome::Success);
    }
    plan.write(&target, state)?;
    shell.status(
        "Created",
        format_args!("{} with {} ({})", shell.bold(&project.name), template.name(), answers.summary()),
    );
    shell.line(format_args!("{:>10} {} files in {}", "", plan.files.len(), target.display()));
    if let Some(steps) = plan.values.get("next_steps").and_then(|v| v.as_array()) {
        shell.line("");
        shell.line("Next steps:");
        shell.line(format_args!("  cd {}", shell_path(&target)));
        for step in steps.iter().filter_map(|s| s.as_str()) {
            shell.line(format_args!("  {step}"));
        }
    }
    Ok(Outcome::Success)
}

/// The template answers the command line gave.
fn given(args: &NewArgs) -> Result<Given, scaffold::Error> {
    let mut given = Given::default();
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(scaffold::Error::Answer(format!("`--set {pair}` needs the form KEY=VALUE")));
        };
        let flag = format!("--set {}", key.trim());
        give(&mut given, key.trim(), &flag, &format!("--set {pair}"), GivenValue::One(value.to_string()))?;
    }
    if let Some(db) = &args.db {
        give(&mut given, "db", "--db", &format!("--db {db}"), GivenValue::One(db.clone()))?;
    }
    if let Some(auth) = &args.auth {
        give(&mut given, "auth", "--auth", &format!("--auth {auth}"), GivenValue::One(auth.clone()))?;
    }
    if let Some(extras) = &args.with {
        let shown = format!("--with {}", extras.join(","));
        give(&mut given, "extras", "--with", &shown, GivenValue::Many(extras.clone()))?;
    }
    Ok(given)
}

/// Records one answer, refusing one that contradicts an answer given before (`--db none
/// --set db=mongo` once quietly meant `none`).
fn give(given: &mut Given, var: &str, flag: &str, shown: &str, value: GivenValue) -> Result<(), scaffold::Error> {
    if let Some(earlier) = given.contradicted(var, &value) {
        return Err(scaffold::Error::Answer(format!("`{shown}` contradicts `{earlier}`: give `{var}` once")));
    }
    given.set(var, flag, value);
    Ok(())
}

fn print_plan(shell: &Shell, plan: &Plan, target: &Path, template: &Template, answers: &Answers) {
    shell.line(format_args!(
        "Would write {} files ({}) to {} from template {} ({}):",
        plan.files.len(),
        human_size(plan.size()),
        target.display(),
        template.name(),
        answers.summary()
    ));
    let width = plan.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    for (file, action) in plan.files.iter().zip(plan.actions(target)) {
        let verb = match action {
            FileAction::Create => "create",
            FileAction::Overwrite => "overwrite",
        };
        shell.line(format_args!("  {verb:<9} {:<width$}  {:>8}", file.path, human_size(file.contents.len())));
    }
    shell.line("Nothing was written (--dry-run).");
}

fn human_size(bytes: usize) -> String {
    if bytes < 1024 { format!("{bytes} B") } else { format!("{:.1} KiB", bytes as f64 / 1024.0) }
}

fn shell_path(path: &Path) -> String {
    let text = path.display().to_string();
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        text
    } else {
        crate::scaffold::shell_quote(&text)
    }
}
