//! One module per subcommand. Each turns its clap arguments into calls on the library and
//! reports through the [`crate::ui::Shell`]; the work itself lives in the domain modules.

pub mod check;
pub mod doctor;
pub mod down;
pub mod lab;
pub mod logs;
pub mod new;
pub mod quickstart;
pub mod status;
pub mod templates;
pub mod up;

use std::time::Duration;

use crate::stack::docker::Docker;

/// How long labforge waits for the Docker daemon to answer before saying it is unreachable.
pub const DOCKER_DEADLINE: Duration = Duration::from_millis(900);

/// A single-threaded tokio runtime: labforge's concurrency is waiting, not computing.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}

/// Connects to the Docker daemon, or explains why not.
pub async fn docker() -> Result<Docker, crate::Error> {
    Ok(Docker::connect(DOCKER_DEADLINE).await?)
}
