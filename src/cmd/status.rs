//! `labforge status`: the project's containers, their state, health and addresses.

use serde_json::json;

use crate::base::runtime;
use crate::cli::StatusArgs;
use crate::context::Context;
use crate::stack::endpoints;
use crate::stack::project::{Mode, Project};
use crate::stack::runtime::{OnDocker, Runtime};
use crate::ui::Shell;
use crate::{Error, Outcome};

pub fn run(args: StatusArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    if args.cluster {
        return cluster(args, ctx, shell);
    }
    let project = Project::load(&args.project.dir, Mode::Dev, ctx)?;
    runtime().block_on(async {
        let runtime = OnDocker::new(super::docker(ctx).await?);
        let project = runtime.place_in(project, ctx).await?;
        let observed = runtime.observe(&project).await?;
        let mut rows = Vec::new();
        for service in &project.services {
            let found = observed.iter().find(|o| o.service == service.name);
            let ports = found.map(|o| o.ports.clone()).unwrap_or_default();
            rows.push(json!({
                "service": service.name,
                "container": found.map(|o| o.name.clone()),
                "state": found.map(|o| serde_json::to_value(o.state).unwrap_or_default()).unwrap_or(json!("missing")),
                "health": found.and_then(|o| o.broken.as_ref().map(|_| "broken".to_string()).or(o.health.clone())),
                "broken": found.and_then(|o| o.broken.clone()),
                "outdated": found.is_some_and(|o| o.outdated),
                "ports": ports.iter().map(|(c, h)| json!({"container": c, "host": h, "host_ip": runtime.host()})).collect::<Vec<_>>(),
                "address": if ports.is_empty() { None } else { Some(endpoints::address(&project, service, &ports)) },
            }));
        }
        // Running, and ready as far as anyone can tell (a service without a healthcheck has no
        // health to wait for).
        let all_ready = rows
            .iter()
            .all(|r| r["state"] == "running" && !matches!(r["health"].as_str(), Some("unhealthy" | "broken" | "starting")));
        if args.json {
            shell.line(serde_json::to_string_pretty(&json!({ "project": project.name, "services": rows })).expect("JSON serializes"));
        } else if observed.is_empty() {
            shell.line(format_args!("project {} has no containers (start it with `labforge up`)", project.name));
        } else {
            let width = project.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
            shell.line(format_args!("{:<width$}  {:<9}  {:<9}  {}", "SERVICE", "STATE", "HEALTH", "ADDRESS"));
            for row in &rows {
                shell.line(format_args!(
                    "{:<width$}  {:<9}  {:<9}  {}",
                    text_of(&row["service"]),
                    text_of(&row["state"]),
                    text_of(&row["health"]),
                    text_of(&row["address"])
                ));
            }
            for row in rows.iter().filter(|r| r["broken"].is_string()) {
                shell.warn(format_args!("`{}` is {}", text_of(&row["service"]), text_of(&row["broken"])));
            }
            for row in rows.iter().filter(|r| r["outdated"] == true) {
                shell.warn(format_args!(
                    "`{}` runs an outdated configuration: labforge.yaml or .env changed since it was made \
                     (run `labforge up` to apply the change)",
                    text_of(&row["service"])
                ));
            }
        }
        Ok(if all_ready { Outcome::Success } else { Outcome::Failed })
    })
}

/// A cell of the table: the text, or `-` for none.
fn text_of(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// `status --cluster`: each workload of `k8s/` on the cluster, ready replicas and rollout state.
fn cluster(args: StatusArgs, ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let target = super::deploy::target(&args.target)?;
    runtime().block_on(async {
        let status = crate::k8s::deploy::status(&args.project.dir, &target, ctx).await?;
        if args.json {
            shell.line(serde_json::to_string_pretty(&status).expect("JSON serializes"));
        } else {
            shell.line(format_args!("context {}, namespace {}", status.context, status.namespace));
            let width = status.workloads.iter().map(|w| w.object.len()).max().unwrap_or(8).max(8);
            shell.line(format_args!("{:<width$}  {:<7}  {}", "WORKLOAD", "READY", "ROLLOUT"));
            for w in &status.workloads {
                shell.line(format_args!(
                    "{:<width$}  {:<7}  {}",
                    w.object,
                    format!("{}/{}", w.ready, w.desired),
                    w.state
                ));
            }
        }
        Ok(if status.healthy() { Outcome::Success } else { Outcome::Failed })
    })
}
