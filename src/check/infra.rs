//! Checks on the stack itself: `container` (running, healthy, non-root, HEALTHCHECK, image size),
//! `postgres` (SQL as the project's own user) and `mongo` (queries with the project's credentials).

use std::time::Duration;

use mongodb::bson::{self, Document};
use serde_json::Value;
use tokio::time::Instant;

use super::jsonpath::{matches, show};
use super::kinds::{ContainerCheck, MongoCheck, PostgresCheck, RowsExpect};
use super::{Failure, Stack, Workspace};
use crate::base::wait::{Ended, Verdict, Wait, no_events};
use crate::stack::probe;
use crate::stack::project::Service;
use crate::stack::ready::Readiness;
use crate::stack::runtime::{Observed, Runtime};
use crate::stack::spec::ServiceKind;

/// How often a `healthy` expectation looks again while the container's healthcheck is `starting`.
const HEALTH_POLL: Duration = Duration::from_millis(200);

/// Checks a service's container. A container whose healthcheck is still `starting` has not been
/// judged yet (Docker's first probe comes one interval after the start), so a `healthy`
/// expectation watches it until the healthcheck decides or the check's deadline is near.
pub async fn container(ws: &Workspace, c: &ContainerCheck, deadline: Instant) -> Result<(), Failure> {
    let stack = ws.stack().await?;
    let what = format!("container of `{}`", c.service);
    let e = &c.expect;
    let Some(first) = stack.service(&c.service) else {
        return Err(Failure::mismatch(&what, "a container", format!("none ({})", stack.runtime.start_hint())));
    };
    let mut latest = None;
    if e.healthy == Some(true) {
        let undecided = |s: &Observed| s.is_running() && s.health.as_deref() == Some("starting");
        let mut current = first.clone();
        // What was seen last is judged below, with room left before the check's deadline.
        let room = deadline.saturating_duration_since(Instant::now()).saturating_sub(2 * HEALTH_POLL);
        let ended = Wait::at_most(room, HEALTH_POLL)
            .run(std::future::pending(), no_events::<()>(), async |_| {
                if !undecided(&current) {
                    return Verdict::Done(());
                }
                let observed = stack.runtime.observe(&stack.project).await;
                match observed.map(|all| all.into_iter().find(|s| s.service == c.service)) {
                    Ok(Some(now)) => {
                        current = now;
                        if undecided(&current) { Verdict::Pending("starting".into()) } else { Verdict::Done(()) }
                    }
                    Ok(None) => Verdict::Failed(Failure::mismatch(&what, "a container", "none (it was removed)")),
                    Err(e) => Verdict::Failed(Failure::new(e.to_string())),
                }
            })
            .await;
        if let Ended::Failed(failure) = ended {
            return Err(failure);
        }
        latest = Some(current);
    }
    let container = latest.as_ref().unwrap_or(first);
    let running = container.is_running();
    if let Some(want) = e.running
        && want != running
    {
        return Err(Failure::mismatch(
            &what,
            if want { "running" } else { "stopped" },
            format!("{:?}", container.state).to_lowercase(),
        ));
    }
    if let Some(true) = e.healthy {
        let health = match container.health.as_deref() {
            Some("healthy") => None,
            Some("starting") => Some("starting (its healthcheck had not decided by the check's deadline)"),
            Some(other) => Some(other),
            None => Some("no healthcheck"),
        };
        if let Some(health) = health {
            return Err(Failure::mismatch(&what, "healthy", health));
        }
    }
    if let Some(want) = e.non_root {
        let user = container.user.trim();
        let root =
            user.is_empty() || user == "root" || user == "0" || user.starts_with("0:") || user.starts_with("root:");
        if want && root {
            return Err(Failure::mismatch(
                &what,
                "a non-root user (USER in the Dockerfile)",
                if user.is_empty() { "root (no USER)" } else { user },
            ));
        }
    }
    if e.healthcheck.is_some() || e.max_image_mb.is_some() {
        let image = stack
            .runtime
            .image(&stack.project, &c.service)
            .await
            .map_err(|e| Failure::new(e.to_string()))?
            .ok_or_else(|| Failure::new(format!("the image of `{}` is gone", c.service)))?;
        if let Some(true) = e.healthcheck
            && !image.healthcheck
        {
            return Err(Failure::mismatch(&what, "an image with a HEALTHCHECK", "no HEALTHCHECK in the image"));
        }
        if let Some(max) = e.max_image_mb {
            let mb = image.size_bytes as f64 / 1_000_000.0;
            if mb > max as f64 {
                return Err(Failure::mismatch(&what, format!("an image of at most {max} MB"), format!("{mb:.0} MB")));
            }
        }
    }
    Ok(())
}

/// Room left before the check's deadline for the failure report (the service's last log lines).
const REPORT_ROOM: Duration = Duration::from_secs(1);

/// Restarts `service`'s container and waits, as `labforge up` does, until it answers in its own
/// protocol again (`SELECT 1`, `ping`, the app's ready path), until `deadline`.
pub async fn restart(ws: &Workspace, service: &str, deadline: Instant) -> Result<(), Failure> {
    let stack = ws.stack().await?;
    let what = format!("`{service}` restarted");
    if stack.service(service).is_none() {
        return Err(Failure::mismatch(&what, "a container", format!("none ({})", stack.runtime.start_hint())));
    }
    if stack.project.service(service).is_none() {
        return Err(Failure::new(format!("labforge.yaml has no service `{service}`")));
    }
    let timeout = deadline.saturating_duration_since(Instant::now()).saturating_sub(REPORT_ROOM);
    let readiness =
        stack.runtime.restart(&stack.project, service, timeout).await.map_err(|e| Failure::new(e.to_string()))?;
    match readiness {
        Readiness::Ready { .. } => Ok(()),
        Readiness::Failed { reason, logs, .. } => Err(Failure::mismatch(
            &what,
            "to answer again",
            format!("{reason}; its last log line: {}", logs.last().map(String::as_str).unwrap_or("-")),
        )),
        Readiness::Skipped { reason } => Err(Failure::new(format!("{what}: {reason}"))),
    }
}

fn service_of(stack: &Stack, kind: ServiceKind) -> Result<&Service, Failure> {
    stack
        .project
        .services
        .iter()
        .find(|s| s.kind == kind)
        .ok_or_else(|| Failure::new(format!("labforge.yaml has no {kind:?} service").to_lowercase()))
}

/// A cell as text, as `psql` would show it; `null` for SQL NULL.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn show_rows(rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "no rows".into();
    }
    let shown: Vec<String> = rows.iter().take(5).map(|r| format!("[{}]", r.join(", "))).collect();
    let more = if rows.len() > 5 { format!(" and {} more", rows.len() - 5) } else { String::new() };
    format!("{}{more}", shown.join(" "))
}

/// What the app's current code wrote, or migrated: after an edit the reloading app migrates and
/// serves again, and the database is judged once it has (see
/// [`Workspace::app_serves_current_code`]).
pub async fn postgres(ws: &Workspace, c: &PostgresCheck) -> Result<(), Failure> {
    let stack = ws.stack().await?;
    ws.app_serves_current_code().await?;
    let db = service_of(stack, ServiceKind::Postgres)?;
    let port = stack.host_port(&db.name)?;
    let login = stack.project.login(db).ok_or_else(|| Failure::new("the postgres service has no login"))?;
    let (client, connection) = probe::postgres_config(port, &login)
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| Failure::new(format!("cannot connect to PostgreSQL: {e}")))?;
    let driver = tokio::spawn(connection);
    let sql = ws.render(&c.sql)?;
    let result = client.simple_query(&sql).await;
    drop(client);
    let _ = driver.await;
    let messages = result.map_err(|e| {
        let message = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
        Failure::mismatch(&format!("`{sql}`"), "the query to run", message)
    })?;
    let rows: Vec<Vec<String>> = messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("null").to_string()).collect())
            }
            _ => None,
        })
        .collect();
    judge_rows(&format!("`{sql}`"), &rows, &c.expect)
}

/// The verdict on the rows a query answered (each cell as PostgreSQL's text, `null` for NULL).
fn judge_rows(what: &str, rows: &[Vec<String>], expect: &RowsExpect) -> Result<(), Failure> {
    let want =
        |rows: &Vec<Vec<Value>>| -> Vec<Vec<String>> { rows.iter().map(|r| r.iter().map(cell).collect()).collect() };
    if let Some(expected) = &expect.rows
        && want(expected) != rows
    {
        return Err(Failure::mismatch(what, show_rows(&want(expected)), show_rows(rows)));
    }
    if let Some(expected) = &expect.contains {
        for row in want(expected) {
            if !rows.contains(&row) {
                return Err(Failure::mismatch(what, format!("a row [{}]", row.join(", ")), show_rows(rows)));
            }
        }
    }
    if let Some(count) = expect.count
        && rows.len() != count
    {
        return Err(Failure::mismatch(what, format!("{count} rows"), format!("{} ({})", rows.len(), show_rows(rows))));
    }
    Ok(())
}

/// What the app's current code wrote, judged once it serves (as [`postgres`]).
pub async fn mongo(ws: &Workspace, c: &MongoCheck) -> Result<(), Failure> {
    let stack = ws.stack().await?;
    ws.app_serves_current_code().await?;
    let db = service_of(stack, ServiceKind::Mongo)?;
    let port = stack.host_port(&db.name)?;
    let login = stack.project.login(db).ok_or_else(|| Failure::new("the mongo service has no login"))?;
    let client = probe::mongo_client(port, &login).map_err(Failure::new)?;
    let database = login.database;
    let collection = client.database(&database).collection::<Document>(&ws.render(&c.collection)?);
    let filter: Document = bson::to_document(&c.filter).map_err(|e| Failure::new(format!("filter: {e}")))?;
    let what = format!("{database}.{} {}", c.collection, show(&serde_json::to_value(&c.filter).unwrap_or_default()));
    let e = &c.expect;
    if let Some(count) = e.count {
        let found =
            collection.count_documents(filter.clone()).await.map_err(|e| Failure::new(format!("MongoDB: {e}")))?;
        if found != count {
            return Err(Failure::mismatch(&what, format!("{count} documents"), format!("{found}")));
        }
    }
    if let Some(expected) = &e.documents {
        let mut cursor = collection.find(filter).await.map_err(|e| Failure::new(format!("MongoDB: {e}")))?;
        let mut found = Vec::new();
        while cursor.advance().await.map_err(|e| Failure::new(format!("MongoDB: {e}")))? {
            let doc = cursor.deserialize_current().map_err(|e| Failure::new(format!("MongoDB: {e}")))?;
            found.push(bson::Bson::Document(doc).into_relaxed_extjson());
        }
        for want in expected {
            if !found.iter().any(|doc| matches(want, doc)) {
                let seen: Vec<String> = found.iter().take(3).map(show).collect();
                return Err(Failure::mismatch(
                    &what,
                    format!("a document like {}", show(want)),
                    if seen.is_empty() { "none".into() } else { seen.join(", ") },
                ));
            }
        }
    }
    if let Some(keys) = &e.index_keys {
        let mut cursor = collection.list_indexes().await.map_err(|e| Failure::new(format!("MongoDB: {e}")))?;
        let mut indexes: Vec<Vec<(String, i64)>> = Vec::new();
        while cursor.advance().await.map_err(|e| Failure::new(format!("MongoDB: {e}")))? {
            let model = cursor.deserialize_current().map_err(|e| Failure::new(format!("MongoDB: {e}")))?;
            indexes.push(
                model
                    .keys
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_i32().map(i64::from).or(v.as_i64()).unwrap_or(1)))
                    .collect(),
            );
        }
        let wanted: Vec<(String, i64)> = keys
            .iter()
            .map(|pair| (pair.first().map(cell).unwrap_or_default(), pair.get(1).and_then(Value::as_i64).unwrap_or(1)))
            .collect();
        if !indexes.contains(&wanted) {
            let shown: Vec<String> = indexes
                .iter()
                .map(|i| format!("[{}]", i.iter().map(|(k, d)| format!("{k}: {d}")).collect::<Vec<_>>().join(", ")))
                .collect();
            return Err(Failure::mismatch(
                &format!("indexes of {database}.{}", c.collection),
                format!("one on [{}]", wanted.iter().map(|(k, d)| format!("{k}: {d}")).collect::<Vec<_>>().join(", ")),
                shown.join(" "),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `postgres` check's verdict on the rows on both sides, each miss with its own reason.
    #[test]
    fn rows_pass_when_they_match_and_fail_for_each_miss() {
        let rows = vec![vec!["1".to_string(), "kettle".to_string()], vec!["2".to_string(), "null".to_string()]];
        let expect = |spec: serde_json::Value| -> RowsExpect { serde_json::from_value(spec).unwrap() };
        let all = expect(serde_json::json!({"rows": [[1, "kettle"], [2, null]], "contains": [[2, null]], "count": 2}));
        assert_eq!(judge_rows("`q`", &rows, &all), Ok(()));
        let cases = [
            (serde_json::json!({"rows": [[1, "kettle"]]}), "`q`: expected [1, kettle], got [1, kettle] [2, null]"),
            (
                serde_json::json!({"contains": [[3, "teapot"]]}),
                "`q`: expected a row [3, teapot], got [1, kettle] [2, null]",
            ),
            (serde_json::json!({"count": 1}), "`q`: expected 1 rows, got 2 ([1, kettle] [2, null])"),
        ];
        for (spec, reason) in cases {
            assert_eq!(judge_rows("`q`", &rows, &expect(spec.clone())).unwrap_err().reason, reason, "{spec}");
        }
    }
}
