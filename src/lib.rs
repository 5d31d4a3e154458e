//! labforge: a local DevOps lab orchestrator for people learning Python backend development.
//!
//! The binary is a thin shell around [`run`]; every command lives in [`cmd`] and the domains it
//! drives ([`scaffold`], [`stack`]) are plain library code, testable without a terminal.

pub mod base;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod context;
pub mod embedded;
pub mod error;
pub mod github;
pub mod health;
pub mod interrupt;
pub mod k8s;
pub mod lab;
pub mod report;
pub mod scaffold;
pub mod stack;
pub mod ui;

pub use error::{Error, Outcome};

#[cfg(test)]
mod layers;

/// Runs one parsed command line in `ctx`, reporting through `shell`.
pub fn run(cli: cli::Cli, ctx: &context::Context, shell: &ui::Shell) -> Result<Outcome, Error> {
    match cli.command {
        cli::Command::Quickstart(args) => cmd::quickstart::run(args, ctx, shell),
        cli::Command::New(args) => cmd::new::run(args, ctx, shell),
        cli::Command::Templates(args) => cmd::templates::run(args, ctx, shell),
        cli::Command::Up(args) => cmd::up::run(args, ctx, shell),
        cli::Command::Down(args) => cmd::down::run(args, ctx, shell),
        cli::Command::Status(args) => cmd::status::run(args, ctx, shell),
        cli::Command::Logs(args) => cmd::logs::run(args, ctx, shell),
        cli::Command::Doctor => cmd::doctor::run(ctx, shell),
        cli::Command::Lab(args) => cmd::lab::run(args, ctx, shell),
        cli::Command::Check(args) => cmd::check::run(args, ctx, shell),
        cli::Command::Cluster(args) => cmd::cluster::run(args, ctx, shell),
        cli::Command::Deploy(args) => cmd::deploy::run(args, ctx, shell),
        cli::Command::Undeploy(args) => cmd::deploy::undeploy(args, ctx, shell),
        cli::Command::Ci(args) => cmd::ci::run(args, ctx, shell),
    }
}
