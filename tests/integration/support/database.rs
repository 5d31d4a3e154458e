//! Database servers for the generated projects' own test suites: a stand-in image (built by
//! `tests/images/build.sh`) published on 127.0.0.1 at a random port, with a random password,
//! removed on drop. A sentinel planted in the development database tells whether a test suite
//! left that database alone.

use std::process::Command;
use std::time::Duration;

use super::stack::{MONGO_IMAGE, POSTGRES_IMAGE, docker, eventually, images};

/// The name of the table (PostgreSQL) or collection (MongoDB) that must outlive a test run.
const SENTINEL: &str = "labforge_sentinel";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mongo,
}

/// A running server, removed (with its anonymous volume) when dropped.
pub struct DatabaseServer {
    engine: Engine,
    container: String,
    password: String,
    /// The development database: the one the project's settings name, which tests must not touch.
    database: String,
    port: u16,
}

impl DatabaseServer {
    /// Starts `engine`'s stand-in image with `database` as the development database, and waits
    /// until it answers over TCP from the host.
    pub fn start(engine: Engine, database: &str) -> DatabaseServer {
        images();
        let password = random_hex(16);
        let (image, port, env) = match engine {
            Engine::Postgres => {
                (POSTGRES_IMAGE, 5432, vec![format!("POSTGRES_PASSWORD={password}"), format!("POSTGRES_DB={database}")])
            }
            Engine::Mongo => (
                MONGO_IMAGE,
                27017,
                vec!["MONGO_INITDB_ROOT_USERNAME=root".to_string(), format!("MONGO_INITDB_ROOT_PASSWORD={password}")],
            ),
        };
        let mut args = vec!["run".to_string(), "--detach".into(), "--publish".into(), format!("127.0.0.1::{port}")];
        for var in env {
            args.extend(["--env".to_string(), var]);
        }
        args.extend(["--label".to_string(), "io.labforge.test=generated-suite".into(), image.to_string()]);
        let container = docker(&args.iter().map(String::as_str).collect::<Vec<_>>()).trim().to_string();
        let published = docker(&["port", &container, &format!("{port}/tcp")]);
        let host_port = published
            .lines()
            .find_map(|l| l.strip_prefix("127.0.0.1:"))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no published port for {container}: {published}"));
        let server = DatabaseServer { engine, container, password, database: database.to_string(), port: host_port };
        eventually(Duration::from_secs(60), "the database server answers over TCP", || {
            server.query_ok(server.ping()).then_some(())
        });
        server
    }

    /// The environment variable a generated project reads, pointing at the development database.
    pub fn env(&self) -> (&'static str, String) {
        match self.engine {
            Engine::Postgres => (
                "DATABASE_URL",
                format!("postgresql://postgres:{}@127.0.0.1:{}/{}", self.password, self.port, self.database),
            ),
            Engine::Mongo => {
                ("MONGO_URL", format!("mongodb://root:{}@127.0.0.1:{}/?authSource=admin", self.password, self.port))
            }
        }
    }

    /// Writes the sentinel into the development database (idempotent).
    pub fn plant_sentinel(&self) {
        let script = match self.engine {
            Engine::Postgres => format!(
                "CREATE TABLE IF NOT EXISTS {SENTINEL} (note text); \
                 INSERT INTO {SENTINEL} SELECT 'keep me' WHERE NOT EXISTS (SELECT 1 FROM {SENTINEL});"
            ),
            Engine::Mongo => format!(
                "c = db[{:?}][{SENTINEL:?}]\nif not c.find_one(): c.insert_one({{'note': 'keep me'}})",
                self.database
            ),
        };
        let out = self.query(&script);
        assert!(out.status.success(), "planting the sentinel: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Whether the development database is as `plant_sentinel` left it: the sentinel, and no
    /// other table or collection (a suite that migrated it, or emptied tables in it, would show).
    pub fn untouched(&self) -> Result<(), String> {
        let script = match self.engine {
            Engine::Postgres => format!(
                "SELECT (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables \
                 WHERE table_schema = 'public') || ' ' || (SELECT note FROM {SENTINEL})"
            ),
            Engine::Mongo => format!(
                "d = db[{:?}]\nprint(','.join(sorted(d.list_collection_names())), d[{SENTINEL:?}].find_one()['note'])",
                self.database
            ),
        };
        let out = self.query(&script);
        let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let expected = format!("{SENTINEL} keep me");
        match out.status.success() && found == expected {
            true => Ok(()),
            false => Err(format!(
                "the development database {:?} changed: expected {expected:?}, found {found:?} {}",
                self.database,
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    /// The databases on the server whose names start with `test_`: what a test run left behind.
    pub fn test_databases(&self) -> Vec<String> {
        let script = match self.engine {
            Engine::Postgres => "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'".to_string(),
            Engine::Mongo => "print('\\n'.join(n for n in db.list_database_names() if n.startswith('test_')))".into(),
        };
        let out = self.query(&script);
        assert!(out.status.success(), "listing databases: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    fn ping(&self) -> &'static str {
        match self.engine {
            Engine::Postgres => "SELECT 1",
            Engine::Mongo => "db.admin.command('ping')",
        }
    }

    fn query_ok(&self, script: &str) -> bool {
        self.query(script).status.success()
    }

    /// Runs `script` inside the container against the server's TCP listener: SQL through
    /// `psql`, or Python with `db` a pymongo client (the mongo stand-in ships pymongo).
    fn query(&self, script: &str) -> std::process::Output {
        let mut cmd = Command::new("docker");
        cmd.args(["exec", "--env"]);
        match self.engine {
            Engine::Postgres => {
                cmd.arg(format!("PGPASSWORD={}", self.password)).args([
                    &self.container,
                    "psql",
                    "--host=127.0.0.1",
                    "--username=postgres",
                    "--no-align",
                    "--tuples-only",
                    "--set=ON_ERROR_STOP=1",
                    &format!("--dbname={}", self.database),
                    "--command",
                    script,
                ]);
            }
            Engine::Mongo => {
                let program = format!(
                    "import os, pymongo\n\
                     db = pymongo.MongoClient('127.0.0.1', 27017, username='root', password=os.environ['PW'], \
                     serverSelectionTimeoutMS=2000)\n{script}\n"
                );
                cmd.arg(format!("PW={}", self.password)).args([
                    &self.container,
                    "/opt/nx-27017/bin/python",
                    "-c",
                    &program,
                ]);
            }
        }
        cmd.output().expect("docker exec")
    }
}

impl Drop for DatabaseServer {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "--force", "--volumes", &self.container]).output();
    }
}

/// `bytes` random bytes as lowercase hex.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
