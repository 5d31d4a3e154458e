//! All terminal output goes through [`Shell`]: the product of a command (a table, a plan, a JSON
//! document) on stdout; status lines, progress, warnings and errors on stderr, cargo-style; colour
//! and bars only on a terminal, never colour when `NO_COLOR` is set. [`terminal::Terminal`] renders
//! the domains' events through it. Prompts live in [`prompt`].

pub mod markdown;
pub mod progress;
pub mod prompt;
pub mod terminal;

pub use terminal::Terminal;

use std::error::Error as StdError;
use std::fmt::Display;
use std::io::{IsTerminal, Write};

use console::{Style, style};

/// The first error writing to stdout, for the exit code.
static OUTPUT_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The one object that prints.
#[derive(Debug, Clone)]
pub struct Shell {
    color_out: bool,
    color_err: bool,
    interactive: bool,
    /// stderr is a terminal: progress may draw bars and spinners there.
    tty_err: bool,
}

impl Shell {
    /// A shell on the process's own terminal streams; `no_color` when the user asked for none.
    pub fn new(no_color: bool) -> Self {
        Shell {
            color_out: !no_color && console::colors_enabled(),
            color_err: !no_color && console::colors_enabled_stderr(),
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            tty_err: std::io::stderr().is_terminal(),
        }
    }

    /// Whether a person is at the keyboard: stdin and stderr are both terminals.
    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// Whether stderr is a terminal (progress bars) rather than a pipe or file (plain lines).
    pub fn is_tty_err(&self) -> bool {
        self.tty_err
    }

    /// A plain line of result output on stdout. A write that fails is remembered for
    /// [`Shell::output_error`], except on a closed pipe (`labforge templates | head`), which is
    /// not an error worth reporting.
    pub fn line(&self, text: impl Display) {
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            let _ = OUTPUT_ERROR.set(e.to_string());
        }
    }

    /// Why the output could not be written (a full disk, a closed file), if it could not: the
    /// command must not report success then.
    pub fn output_error(&self) -> Option<&'static str> {
        OUTPUT_ERROR.get().map(String::as_str)
    }

    /// A status line on stderr with a right-aligned, coloured verb, cargo-style.
    pub fn status(&self, verb: &str, text: impl Display) {
        let verb = self.paint_err(&format!("{verb:>10}"), Style::new().green().bold());
        let _ = writeln!(std::io::stderr().lock(), "{verb} {text}");
    }

    /// A line of progress detail (build output, pull status) on stderr.
    pub fn detail(&self, text: impl Display) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// Emphasis for a word inside an output line.
    pub fn bold(&self, text: &str) -> String {
        self.paint_out(text, Style::new().bold())
    }

    /// De-emphasis for a word inside an output line.
    pub fn dim(&self, text: &str) -> String {
        self.paint_out(text, Style::new().dim())
    }

    /// A warning on stderr.
    pub fn warn(&self, text: impl Display) {
        let label = self.paint_err("warning", Style::new().yellow().bold());
        let _ = writeln!(std::io::stderr().lock(), "{label}: {text}");
    }

    /// An error on stderr: `error: message`, then each cause on a `Caused by:` line.
    pub fn error(&self, err: &dyn StdError) {
        let mut stderr = std::io::stderr().lock();
        let label = self.paint_err("error", Style::new().red().bold());
        let _ = writeln!(stderr, "{label}: {err}");
        let mut source = err.source();
        while let Some(cause) = source {
            let _ = writeln!(stderr, "\nCaused by:\n  {cause}");
            source = cause.source();
        }
    }

    fn paint_out(&self, text: &str, with: Style) -> String {
        paint(self.color_out, text, with)
    }

    fn paint_err(&self, text: &str, with: Style) -> String {
        paint(self.color_err, text, with)
    }
}

fn paint(enabled: bool, text: &str, with: Style) -> String {
    if enabled {
        with.apply_to(text).force_styling(true).to_string()
    } else {
        style(text).force_styling(false).to_string()
    }
}
