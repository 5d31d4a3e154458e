//! What labforge knows about each kind of service, in one place: the port it listens on in its
//! container, how a client signs in (the variables of the official images), and where the host
//! reaches what a container publishes. Readiness probes, addresses, checks and `doctor` all ask
//! here. Pure; no Docker, no network.

use super::project::{Project, Service};
use super::spec::ServiceKind;

/// The address every published port is bound to, and so where the host reaches the services:
/// loopback only, since a database on 0.0.0.0 bypasses host firewalls.
pub const PUBLISHED_ON: &str = "127.0.0.1";

impl ServiceKind {
    /// The port the service listens on inside its container.
    pub const fn port(self) -> u16 {
        match self {
            ServiceKind::Postgres => 5432,
            ServiceKind::Mongo => 27017,
            ServiceKind::App => 8000,
        }
    }

    /// The service's name for people (`doctor`, messages).
    pub const fn title(self) -> &'static str {
        match self {
            ServiceKind::Postgres => "PostgreSQL",
            ServiceKind::Mongo => "MongoDB",
            ServiceKind::App => "the app",
        }
    }
}

/// How a client signs in to a database service, read from the variables its image is started
/// with. The password is a secret: it is never part of an address or a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// `None` for a MongoDB without authentication.
    pub user: Option<String>,
    pub password: String,
    pub database: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &"***")
            .field("database", &self.database)
            .finish()
    }
}

impl Service {
    /// The host port the service's own port is published on (else its first published port),
    /// from `(container, host)` pairs.
    pub fn host_port(&self, ports: &[(u16, u16)]) -> Option<u16> {
        let own = self.kind.port();
        ports.iter().find(|(container, _)| *container == own).or(ports.first()).map(|(_, host)| *host)
    }
}

impl Project {
    /// How to sign in to `service` of this project; `None` for the app. The MongoDB database is
    /// the `MONGO_DB` the app is given (any service's), else the project's name as a package.
    pub fn login(&self, service: &Service) -> Option<Login> {
        match service.kind {
            ServiceKind::Postgres => {
                let user = service.env_or("POSTGRES_USER", "postgres");
                Some(Login {
                    password: service.env_or("POSTGRES_PASSWORD", ""),
                    database: service.env_or("POSTGRES_DB", &user),
                    user: Some(user),
                })
            }
            ServiceKind::Mongo => Some(Login {
                user: service.env.get("MONGO_INITDB_ROOT_USERNAME").filter(|u| !u.is_empty()).cloned(),
                password: service.env_or("MONGO_INITDB_ROOT_PASSWORD", ""),
                database: self
                    .services
                    .iter()
                    .find_map(|s| s.env.get("MONGO_DB").filter(|v| !v.is_empty()))
                    .cloned()
                    .unwrap_or_else(|| self.name.replace('-', "_")),
            }),
            ServiceKind::App => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stack::instance::Instance;
    use crate::stack::project::{ImageSource, Mode};

    fn service(kind: ServiceKind, env: &[(&str, &str)]) -> Service {
        Service {
            name: "s".into(),
            kind,
            image: ImageSource::Pull("x".into()),
            command: None,
            working_dir: None,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            ports: Vec::new(),
            volumes: Vec::new(),
            binds: Vec::new(),
            depends_on: Vec::new(),
            ready_first: Vec::new(),
            healthcheck: None,
            ready_path: "/ready".into(),
            ready: crate::health::Ready::http("/ready", kind.port()),
            reload_on: Vec::new(),
        }
    }

    fn project(services: Vec<Service>) -> Project {
        let dir = std::path::PathBuf::from("/p/my-shop");
        Project { name: "my-shop".into(), instance: Instance::plain("my-shop", &dir), dir, mode: Mode::Dev, services }
    }

    #[test]
    fn logins_follow_the_official_images_defaults() {
        let bare = project(vec![service(ServiceKind::Postgres, &[]), service(ServiceKind::Mongo, &[])]);
        let pg = bare.login(&bare.services[0]).unwrap();
        assert_eq!(
            (pg.user.as_deref(), pg.password.as_str(), pg.database.as_str()),
            (Some("postgres"), "", "postgres")
        );
        let mongo = bare.login(&bare.services[1]).unwrap();
        assert_eq!((mongo.user, mongo.database.as_str()), (None, "my_shop"), "no auth; the database after the project");

        let set = project(vec![
            service(ServiceKind::Postgres, &[("POSTGRES_USER", "shop"), ("POSTGRES_PASSWORD", "s3cret")]),
            service(ServiceKind::Mongo, &[("MONGO_INITDB_ROOT_USERNAME", "root")]),
            service(ServiceKind::App, &[("MONGO_DB", "catalog")]),
        ]);
        let pg = set.login(&set.services[0]).unwrap();
        assert_eq!(pg.database, "shop", "the database defaults to the user");
        assert!(!format!("{pg:?}").contains("s3cret"), "a login never shows its password");
        let mongo = set.login(&set.services[1]).unwrap();
        assert_eq!((mongo.user.as_deref(), mongo.database.as_str()), (Some("root"), "catalog"), "the app's MONGO_DB");
        assert!(set.login(&set.services[2]).is_none());
    }

    #[test]
    fn the_host_port_is_the_one_of_the_kinds_own_port() {
        let db = service(ServiceKind::Postgres, &[]);
        assert_eq!(db.host_port(&[(9187, 9187), (5432, 55432)]), Some(55432));
        assert_eq!(db.host_port(&[(6000, 6001)]), Some(6001), "else the first published port");
        assert_eq!(db.host_port(&[]), None);
    }
}
