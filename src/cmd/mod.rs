//! One module per subcommand. Each turns its clap arguments into calls on the library and
//! reports through the [`crate::ui::Shell`]; the work itself lives in the domain modules.

pub mod check;
pub mod ci;
pub mod cluster;
pub mod deploy;
pub mod doctor;
pub mod down;
pub mod lab;
pub mod logs;
pub mod new;
pub mod quickstart;
pub mod status;
pub mod templates;
pub mod up;

use crate::context::Context;
use crate::interrupt::Interrupt;
use crate::stack::docker::{CONNECT_DEADLINE, Docker};
use crate::ui::Shell;

/// Connects to the Docker daemon the context names, or explains why not.
pub(crate) async fn docker(ctx: &Context) -> Result<Docker, crate::Error> {
    Ok(Docker::connect(&ctx.docker_host(), CONNECT_DEADLINE).await?)
}

/// Ctrl-C for a long command: the first press is announced and stops the work at its next safe
/// point; a second one exits at once.
pub(crate) fn interrupt(shell: &Shell) -> Interrupt {
    let shell = shell.clone();
    Interrupt::install(move || {
        shell.warn("interrupted: stopping at the next safe point (press Ctrl-C again to quit at once)")
    })
}
