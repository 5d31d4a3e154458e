//! All terminal output goes through [`Shell`]: results on stdout, errors and warnings on stderr,
//! colour only on a terminal and never when `NO_COLOR` is set. Prompts live in [`prompt`].

pub mod markdown;
pub mod progress;
pub mod prompt;

use std::error::Error as StdError;
use std::fmt::Display;
use std::io::{IsTerminal, Write};

use console::{Style, style};

/// The one object that prints.
#[derive(Debug, Clone)]
pub struct Shell {
    color_out: bool,
    color_err: bool,
    interactive: bool,
    tty_out: bool,
    /// Progress goes to stderr, keeping stdout for a JSON document.
    status_to_stderr: bool,
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}

impl Shell {
    /// A shell on the process's own terminal streams.
    pub fn new() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Shell {
            color_out: !no_color && console::colors_enabled(),
            color_err: !no_color && console::colors_enabled_stderr(),
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            tty_out: std::io::stdout().is_terminal(),
            status_to_stderr: false,
        }
    }

    /// Whether a person is at the keyboard: stdin and stderr are both terminals.
    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// Whether stdout is a terminal (progress bars) rather than a pipe or file (plain lines).
    pub fn is_tty_out(&self) -> bool {
        self.tty_out
    }

    /// A plain line of result output on stdout.
    pub fn line(&self, text: impl Display) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`labforge templates | head`) is not an error worth reporting.
        let _ = writeln!(out, "{text}");
    }

    /// The same shell with progress (status lines, warnings, bars) on stderr, for commands
    /// whose stdout is a JSON document.
    pub fn for_json(&self) -> Shell {
        Shell { status_to_stderr: true, tty_out: false, ..self.clone() }
    }

    /// A progress or result line with a right-aligned, coloured verb, cargo-style.
    pub fn status(&self, verb: &str, text: impl Display) {
        let verb = format!("{verb:>10}");
        if self.status_to_stderr {
            let verb = self.paint_err(&verb, Style::new().green().bold());
            let _ = writeln!(std::io::stderr().lock(), "{verb} {text}");
        } else {
            let verb = self.paint_out(&verb, Style::new().green().bold());
            self.line(format_args!("{verb} {text}"));
        }
    }

    /// A line of progress detail (build output, pull status): stdout, or stderr in JSON mode.
    pub fn detail(&self, text: impl Display) {
        if self.status_to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        } else {
            self.line(text);
        }
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
