//! Where a learner reaches each service from the host: URLs and connection strings, with the
//! password masked. Never prints a secret.

use super::kind::{Login, PUBLISHED_ON};
use super::project::{Project, Service};
use super::spec::ServiceKind;

/// The address of `service` of `project` on its published ports, password masked as `***`.
pub fn address(project: &Project, service: &Service, ports: &[(u16, u16)]) -> String {
    let Some(port) = service.host_port(ports) else {
        return "(no published port)".to_string();
    };
    match (service.kind, project.login(service)) {
        (ServiceKind::Postgres, Some(login)) => {
            let user = login.user.unwrap_or_default();
            format!("postgresql://{user}:***@{PUBLISHED_ON}:{port}/{}", login.database)
        }
        (ServiceKind::Mongo, Some(Login { user: Some(user), .. })) => {
            format!("mongodb://{user}:***@{PUBLISHED_ON}:{port}/?authSource=admin")
        }
        (ServiceKind::Mongo, _) => format!("mongodb://{PUBLISHED_ON}:{port}/"),
        _ => format!("http://{PUBLISHED_ON}:{port}"),
    }
}
