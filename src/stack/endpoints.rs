//! Where a learner reaches each service from the host: URLs and connection strings, with the
//! password masked. Never prints a secret.

use super::project::Service;
use super::spec::ServiceKind;

/// The address of `service` on its published ports, password masked as `***`.
pub fn address(service: &Service, ports: &[(u16, u16)]) -> String {
    let host_port = |default: u16| ports.iter().find(|(c, _)| *c == default).or(ports.first()).map(|(_, h)| *h);
    match (
        service.kind,
        host_port(match service.kind {
            ServiceKind::Postgres => 5432,
            ServiceKind::Mongo => 27017,
            ServiceKind::App => 8000,
        }),
    ) {
        (_, None) => "(no published port)".to_string(),
        (ServiceKind::Postgres, Some(port)) => {
            let user = service.env_or("POSTGRES_USER", "postgres");
            let db = service.env_or("POSTGRES_DB", &user);
            format!("postgresql://{user}:***@127.0.0.1:{port}/{db}")
        }
        (ServiceKind::Mongo, Some(port)) => {
            match service.env.get("MONGO_INITDB_ROOT_USERNAME").filter(|u| !u.is_empty()) {
                Some(user) => format!("mongodb://{user}:***@127.0.0.1:{port}/?authSource=admin"),
                None => format!("mongodb://127.0.0.1:{port}/"),
            }
        }
        (ServiceKind::App, Some(port)) => format!("http://127.0.0.1:{port}"),
    }
}
