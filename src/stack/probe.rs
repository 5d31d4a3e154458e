//! Readiness: proving a service answers, from the host, in its own protocol. PostgreSQL runs
//! `SELECT 1` over TCP, MongoDB answers `ping`, the app answers `GET ready_path` with 2xx.
//! One attempt at a time; the caller decides how often and until when.

use std::time::Duration;

use mongodb::bson::doc;
use mongodb::options::{ClientOptions, Credential, ServerAddress};

use super::kind::{Login, PUBLISHED_ON};

/// How one attempt may take at most.
const ATTEMPT: Duration = Duration::from_secs(1);

/// A protocol check against a published port on [`PUBLISHED_ON`].
pub enum Probe {
    Postgres { config: Box<tokio_postgres::Config> },
    Mongo { client: mongodb::Client },
    Http { client: reqwest::Client, url: String },
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Postgres { config } => write!(
                f,
                "postgres {}@{PUBLISHED_ON}:{}/{}",
                config.get_user().unwrap_or_default(),
                config.get_ports().first().copied().unwrap_or_default(),
                config.get_dbname().unwrap_or_default()
            ),
            Probe::Mongo { .. } => f.write_str("mongo ping"),
            Probe::Http { url, .. } => write!(f, "GET {url}"),
        }
    }
}

/// A PostgreSQL client's settings for the database published on `port`, signed in as `login`.
pub fn postgres_config(port: u16, login: &Login) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host(PUBLISHED_ON)
        .port(port)
        .user(login.user.as_deref().unwrap_or("postgres"))
        .password(&login.password)
        .dbname(&login.database)
        .connect_timeout(ATTEMPT);
    config
}

/// A MongoDB client for the server published on `port`; with a user, it authenticates against
/// `admin` like the official image.
pub fn mongo_client(port: u16, login: &Login) -> Result<mongodb::Client, String> {
    let mut options = ClientOptions::default();
    options.hosts = vec![ServerAddress::Tcp { host: PUBLISHED_ON.into(), port: Some(port) }];
    options.direct_connection = Some(true);
    options.connect_timeout = Some(ATTEMPT);
    options.server_selection_timeout = Some(ATTEMPT);
    options.heartbeat_freq = Some(Duration::from_millis(500));
    options.app_name = Some("labforge".into());
    if let Some(user) = &login.user {
        let mut credential = Credential::default();
        credential.username = Some(user.clone());
        credential.password = Some(login.password.clone());
        credential.source = Some("admin".into());
        options.credential = Some(credential);
    }
    mongodb::Client::with_options(options).map_err(|e| e.to_string())
}

impl Probe {
    /// `SELECT 1` over TCP as `login`.
    pub fn postgres(port: u16, login: &Login) -> Probe {
        Probe::Postgres { config: Box::new(postgres_config(port, login)) }
    }

    /// `ping` as `login`.
    pub fn mongo(port: u16, login: &Login) -> Result<Probe, String> {
        Ok(Probe::Mongo { client: mongo_client(port, login)? })
    }

    /// `GET path` answering 2xx.
    pub fn http(port: u16, path: &str) -> Probe {
        let client = reqwest::Client::builder().timeout(ATTEMPT).no_proxy().build().unwrap_or_default();
        Probe::Http { client, url: format!("http://{PUBLISHED_ON}:{port}{path}") }
    }

    /// One attempt. `Err` says what the service answered, for the failure report.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Probe::Postgres { config } => {
                let attempt = async {
                    let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| pg_error(&e))?;
                    let driver = tokio::spawn(connection);
                    let result = client.simple_query("SELECT 1").await.map(|_| ()).map_err(|e| pg_error(&e));
                    drop(client);
                    let _ = driver.await;
                    result
                };
                tokio::time::timeout(ATTEMPT * 2, attempt).await.map_err(|_| "no answer".to_string())?
            }
            Probe::Mongo { client } => {
                let admin = client.database("admin");
                let ping = admin.run_command(doc! { "ping": 1 });
                match tokio::time::timeout(ATTEMPT * 2, ping).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("no answer".into()),
                }
            }
            Probe::Http { client, url } => match client.get(url).send().await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => Err(format!("{url} answered {}", response.status())),
                Err(e) if e.is_connect() => Err(format!("{url}: connection refused")),
                Err(e) => {
                    let mut cause: &dyn std::error::Error = &e;
                    while let Some(source) = cause.source() {
                        cause = source;
                    }
                    Err(format!("{url}: {cause}"))
                }
            },
        }
    }
}

/// The server's own message when there is one (`password authentication failed ...`).
fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let text = e.to_string();
            let source = std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_default();
            if source.is_empty() { text } else { format!("{text}: {source}") }
        }
    }
}
