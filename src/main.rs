//! The `labforge` binary: parse arguments, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = labforge::cli::Cli::parse();
    let ctx = labforge::context::Context::from_process();
    let shell = labforge::ui::Shell::new(ctx.no_color());
    match labforge::run(cli, &ctx, &shell) {
        Ok(_) if let Some(why) = shell.output_error() => {
            let err = labforge::Error::Output(why.to_string());
            shell.error(&err);
            err.exit_code()
        }
        Ok(outcome) => outcome.exit_code(),
        Err(labforge::Error::Interrupted) => labforge::Error::Interrupted.exit_code(),
        Err(err) => {
            shell.error(&err);
            err.exit_code()
        }
    }
}
