//! Progress for long transfers: a bar per image layer while pulling and a spinner over the build
//! output on a terminal; plain lines otherwise (CI logs, pipes).

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Shell;

/// Pull progress, one bar per layer.
pub struct PullProgress {
    shell: Shell,
    multi: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
    last: HashMap<String, String>,
}

impl PullProgress {
    pub fn new(shell: &Shell) -> PullProgress {
        let multi = shell.is_tty_err().then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        PullProgress { shell: shell.clone(), multi, bars: HashMap::new(), last: HashMap::new() }
    }

    /// A layer's status: `Downloading` with bytes, `Pull complete`, ...
    pub fn layer(&mut self, id: &str, status: &str, current: u64, total: u64) {
        match &self.multi {
            Some(multi) => {
                let bar = self.bars.entry(id.to_string()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(total.max(1)));
                    bar.set_style(
                        ProgressStyle::with_template("  {prefix:12} {bar:30} {bytes:>10}/{total_bytes:<10} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(id.to_string());
                    bar
                });
                if total > 0 {
                    bar.set_length(total);
                    bar.set_position(current);
                }
                bar.set_message(status.to_string());
                if status.contains("complete") || status.contains("Already exists") {
                    bar.finish();
                }
            }
            None => {
                // One line per change of status, not per byte.
                if self.last.get(id).map(String::as_str) != Some(status) {
                    self.shell.detail(format_args!("  {id}: {status}"));
                    self.last.insert(id.to_string(), status.to_string());
                }
            }
        }
    }

    pub fn line(&mut self, text: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(format!("  {text}"));
            }
            None => self.shell.detail(format_args!("  {text}")),
        }
    }

    pub fn finish(self) {
        if let Some(multi) = self.multi {
            let _ = multi.clear();
        }
    }
}

/// Build output: the latest line under a spinner on a terminal, every line otherwise.
pub struct BuildProgress {
    shell: Shell,
    spinner: Option<ProgressBar>,
}

impl BuildProgress {
    pub fn new(shell: &Shell, what: &str) -> BuildProgress {
        let spinner = shell.is_tty_err().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {prefix}: {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        BuildProgress { shell: shell.clone(), spinner }
    }

    pub fn line(&mut self, text: &str) {
        match &self.spinner {
            Some(bar) => bar.set_message(text.to_string()),
            None => self.shell.detail(format_args!("  │ {text}")),
        }
    }

    /// A line that stays, printed above the spinner.
    pub fn println(&self, text: &str) {
        match &self.spinner {
            Some(bar) => bar.println(text),
            None => self.shell.detail(format_args!("{text}")),
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.spinner {
            bar.finish_and_clear();
        }
    }
}
