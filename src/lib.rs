//! labforge: a local DevOps lab orchestrator for people learning Python backend development.
//!
//! The binary is a thin shell around [`run`]; every command lives in [`cmd`] and the domains it
//! drives ([`scaffold`], [`stack`]) are plain library code, testable without a terminal.

pub mod check;
pub mod cli;
pub mod cmd;
pub mod embedded;
pub mod error;
pub mod interrupt;
pub mod lab;
pub mod scaffold;
pub mod stack;
pub mod ui;

pub use error::{Error, Outcome};

/// Runs one parsed command line.
pub fn run(cli: cli::Cli, shell: &ui::Shell) -> Result<Outcome, Error> {
    match cli.command {
        cli::Command::Quickstart(args) => cmd::quickstart::run(args, shell),
        cli::Command::New(args) => cmd::new::run(args, shell),
        cli::Command::Templates(args) => cmd::templates::run(args, shell),
        cli::Command::Up(args) => cmd::up::run(args, shell),
        cli::Command::Down(args) => cmd::down::run(args, shell),
        cli::Command::Status(args) => cmd::status::run(args, shell),
        cli::Command::Logs(args) => cmd::logs::run(args, shell),
        cli::Command::Doctor => cmd::doctor::run(shell),
        cli::Command::Lab(args) => cmd::lab::run(args, shell),
        cli::Command::Check(args) => cmd::check::run(args, shell),
    }
}
