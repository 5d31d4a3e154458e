//! `labforge status`: the project's containers, their state, health and addresses.

use serde_json::json;

use crate::base::runtime;
use crate::cli::StatusArgs;
use crate::context::Context;
use crate::stack::docker::Engine;
use crate::stack::endpoints;
use crate::stack::instance;
use crate::stack::kind::PUBLISHED_ON;
use crate::stack::project::{LABEL_SERVICE, Mode, Project};
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: StatusArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let project = Project::load(&args.project.dir, Mode::Dev, ctx)?;
    runtime().block_on(async {
        let engine = super::docker(ctx).await?;
        let project = instance::place(&engine, project).await?;
        let containers = engine.containers(project.instance.name()).await?;
        let mut rows = Vec::new();
        for service in &project.services {
            let container = containers.iter().find(|c| c.label(LABEL_SERVICE) == Some(service.name.as_str()));
            let state = container.map(|c| c.state);
            let ports: Vec<(u16, u16)> = container.map(|c| c.ports.iter().map(|(cp, _, hp)| (*cp, *hp)).collect()).unwrap_or_default();
            rows.push(json!({
                "service": service.name,
                "container": container.map(|c| c.name.clone()),
                "state": state.map(|s| serde_json::to_value(s).unwrap_or_default()).unwrap_or(json!("missing")),
                "health": container.and_then(|c| c.health.clone()),
                "ports": ports.iter().map(|(c, h)| json!({"container": c, "host": h, "host_ip": PUBLISHED_ON})).collect::<Vec<_>>(),
                "address": if ports.is_empty() { None } else { Some(endpoints::address(&project, service, &ports)) },
            }));
        }
        let all_running = rows.iter().all(|r| r["state"] == "running" && r["health"] != "unhealthy");
        if args.json {
            shell.line(serde_json::to_string_pretty(&json!({ "project": project.name, "services": rows })).expect("JSON serializes"));
        } else if containers.is_empty() {
            shell.line(format_args!("project {} has no containers (start it with `labforge up`)", project.name));
        } else {
            let width = project.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
            shell.line(format_args!("{:<width$}  {:<9}  {:<9}  {}", "SERVICE", "STATE", "HEALTH", "ADDRESS"));
            for row in &rows {
                let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
                shell.line(format_args!(
                    "{:<width$}  {:<9}  {:<9}  {}",
                    text(&row["service"]),
                    text(&row["state"]),
                    text(&row["health"]),
                    text(&row["address"])
                ));
            }
        }
        Ok(if all_running { Outcome::Success } else { Outcome::Failed })
    })
}
