//! `labforge ci setup`: the repository (created when asked), the project's files in one commit,
//! and the Actions secrets the workflow needs — each step checked, and a second run changes only
//! what differs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use http::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::Error;
use super::client::GitHub;
use super::lint::{self, Linted};
use super::push::{self, Pushed};
use super::secrets::{self, SecretChange};
use super::token::Secret;
use crate::context::Context;
use crate::report::{Event, Reporter};
use crate::stack::spec::{StackSpec, is_secret_name};

/// What `ci setup` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `OWNER/NAME`.
    pub repo: String,
    pub create: bool,
    pub private: bool,
    /// [default: the repository's default branch]
    pub branch: Option<String>,
    /// `NAME=@FILE`: a secret's value from a file rather than `.env`.
    pub secrets: Vec<(String, PathBuf)>,
    /// `--api-url`.
    pub api: Option<String>,
}

/// What `ci setup` did, for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub repo: String,
    pub url: String,
    pub created: bool,
    pub lint: Linted,
    pub push: Pushed,
    pub secrets: Vec<SecretChange>,
}

/// Checks `OWNER/NAME` as GitHub names accounts and repositories.
pub fn check_repo(repo: &str) -> Result<(&str, &str), Error> {
    let bad = || Error::Usage(format!("--repo {repo}: expected OWNER/NAME, e.g. octo-org/shop"));
    let (owner, name) = repo.split_once('/').ok_or_else(bad)?;
    let owner_ok = !owner.is_empty()
        && owner.len() <= 39
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-');
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if owner_ok && name_ok { Ok((owner, name)) } else { Err(bad()) }
}

/// The values of the secrets the project's workflow needs: `labforge.yaml`'s `ci.secrets`, each
/// from `--secret NAME=@FILE` or else `.env`; and any other `--secret`.
pub fn secret_values(dir: &Path, flags: &[(String, PathBuf)]) -> Result<Vec<(String, Secret)>, Error> {
    let (_, spec) = StackSpec::load(dir).map_err(|e| Error::Usage(e.to_string()))?;
    let env = crate::stack::project::read_dotenv(dir).map_err(|e| Error::Usage(e.to_string()))?;
    let mut names: Vec<String> = spec.ci.secrets.iter().map(|s| s.value.clone()).collect();
    for (name, _) in flags {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        if let Some((_, file)) = flags.iter().find(|(n, _)| *n == name) {
            let value = std::fs::read_to_string(file)
                .map_err(|e| Error::Usage(format!("--secret {name}=@{}: {e}", file.display())))?;
            values.push((name, Secret::new(value)));
        } else if let Some(value) = env.get(&name) {
            values.push((name, Secret::new(value.clone())));
        } else {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "labforge.yaml's ci.secrets names {}, which neither .env nor --secret NAME=@FILE gives",
            missing.join(", ")
        )));
    }
    Ok(values)
}

/// Parses `NAME=@FILE`.
pub fn parse_secret_flag(text: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = text.split_once("=@").ok_or_else(|| {
        format!("`{text}`: expected NAME=@FILE (a value on the command line would stay in the shell's history)")
    })?;
    if !is_secret_name(name) {
        return Err(format!(
            "`{name}` is not a secret name (letters, digits and `_`, not starting with a digit or GITHUB_)"
        ));
    }
    if file.is_empty() {
        return Err(format!("`{text}`: name the file after `=@`"));
    }
    Ok((name.to_string(), PathBuf::from(file)))
}

/// What `ci setup` takes from the project, read and checked before the first request.
pub struct Prepared {
    values: Vec<(String, Secret)>,
    linted: Linted,
    files: Vec<super::files::File>,
}

/// Reads and checks everything `ci setup` needs from the project in `dir`: the repository's
/// name, the secrets' values, clean workflows, the files.
pub async fn prepare(dir: &Path, options: &Options, ctx: &Context) -> Result<Prepared, Error> {
    check_repo(&options.repo)?;
    let values = secret_values(dir, &options.secrets)?;
    let linted = lint::lint(dir, ctx).await?;
    if !linted.problems.is_empty() {
        return Err(Error::Workflow(linted.problems));
    }
    // A file a secret is read from is never pushed, even inside the project and not ignored.
    let secret_files: Vec<PathBuf> = options.secrets.iter().map(|(_, file)| file.clone()).collect();
    let files = super::files::collect(dir, &secret_files)?;
    Ok(Prepared { values, linted, files })
}

/// Runs `ci setup` for the project in `dir`. Every problem with the input is found before the
/// first request.
pub async fn setup(dir: &Path, options: &Options, ctx: &Context, report: &dyn Reporter) -> Result<Report, Error> {
    let prepared = prepare(dir, options, ctx).await?;
    let gh = GitHub::sign_in(options.api.as_deref(), ctx, report).await?;
    setup_with(&gh, dir, options, prepared, report).await
}

/// [`setup`] with a client already signed in and the project already [`prepare`]d.
pub async fn setup_with(
    gh: &GitHub<'_>,
    dir: &Path,
    options: &Options,
    prepared: Prepared,
    report: &dyn Reporter,
) -> Result<Report, Error> {
    let Prepared { values, linted, files } = prepared;
    let (owner, name) = check_repo(&options.repo)?;
    step(report, "lint", format!("{} workflow(s) clean ({})", linted.files.len(), linted.by), Instant::now());
    let started = Instant::now();
    let repo = format!("{owner}/{name}");
    let (found, created) = match gh.get_opt(&format!("/repos/{repo}"), "read the repository").await? {
        Some(found) => (found, false),
        None if options.create => (create(gh, owner, name, options.private).await?, true),
        None => {
            return Err(Error::Usage(format!(
                "repository {repo} does not exist (or the token cannot see it): pass --create to create it"
            )));
        }
    };
    let url = found.get("html_url").and_then(Value::as_str).unwrap_or_default().to_string();
    let default_branch = found.get("default_branch").and_then(Value::as_str).unwrap_or("main").to_string();
    step(report, "repository", format!("{repo}{} as {}", if created { " created" } else { "" }, gh.login), started);

    let started = Instant::now();
    let branch = options.branch.clone().unwrap_or(default_branch);
    let message = format!("labforge ci setup: {} files", files.len());
    let pushed = push::push(gh, &repo, &branch, &files, &message).await?;
    let record = super::record::Pushed { repo: repo.clone(), branch: branch.clone(), commit: pushed.commit.clone() };
    super::record::save(dir, &record)?;
    let detail = match pushed.committed {
        true => format!(
            "{} changed, commit {} on {branch}",
            pushed.changes.len(),
            &pushed.commit[..pushed.commit.len().min(12)]
        ),
        false => format!("{} files unchanged on {branch}", pushed.files),
    };
    step(report, "files", detail, started);

    let started = Instant::now();
    let changed = secrets::set(gh, dir, &repo, &values).await?;
    if !changed.is_empty() {
        let said: Vec<String> = changed.iter().map(|c| format!("{} {}", c.name, c.change)).collect();
        step(report, "secrets", said.join(", "), started);
    }
    Ok(Report { repo, url, created, lint: linted, push: pushed, secrets: changed })
}

async fn create(gh: &GitHub<'_>, owner: &str, name: &str, private: bool) -> Result<Value, Error> {
    let route =
        if owner.eq_ignore_ascii_case(&gh.login) { "/user/repos".to_string() } else { format!("/orgs/{owner}/repos") };
    let body = json!({"name": name, "private": private, "auto_init": false});
    Ok(gh.call(Method::POST, &route, Some(&body), &format!("create the repository {owner}/{name}")).await?.body)
}

fn step(report: &dyn Reporter, step: &str, detail: String, started: Instant) {
    report.emit(Event::Step { step: step.into(), ok: true, detail, seconds: started.elapsed().as_secs_f64() });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_named_owner_slash_name() {
        assert_eq!(check_repo("octo-org/shop.api_2").unwrap(), ("octo-org", "shop.api_2"));
        for bad in ["shop", "/shop", "octo/", "octo org/shop", "-octo/shop", "octo/sh op", "a/b/c", "octo/.."] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_secret_flag_names_a_file_never_a_value() {
        assert_eq!(
            parse_secret_flag("DEPLOY_KEY=@key.pem").unwrap(),
            ("DEPLOY_KEY".to_string(), PathBuf::from("key.pem"))
        );
        assert!(parse_secret_flag("DEPLOY_KEY=hunter2").unwrap_err().contains("shell's history"));
        assert!(parse_secret_flag("GITHUB_TOKEN=@x").is_err());
        assert!(parse_secret_flag("1KEY=@x").is_err());
        assert!(parse_secret_flag("KEY=@").is_err());
    }
}
