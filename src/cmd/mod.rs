//! One module per subcommand. Each turns its clap arguments into calls on the library and
//! reports through the [`crate::ui::Shell`]; the work itself lives in the domain modules.

pub mod new;
pub mod templates;
