//! The terminal's renderer of [`Event`]s: cargo-style status lines, a bar per image layer while
//! pulling and a spinner over build output on a terminal, plain lines otherwise (CI logs, pipes).

use std::collections::HashMap;
use std::sync::Mutex;

use super::Shell;
use super::progress::{BuildProgress, PullProgress};
use crate::report::{Event, Object, Reporter, Started, VenvChange};

/// The key of the watched workflow run's spinner among the build spinners.
const RUN: &str = "\0run";

/// Renders events through a [`Shell`].
pub struct Terminal {
    shell: Shell,
    /// Open pulls by image, open builds by service: their bars live until they finish.
    pulls: Mutex<HashMap<String, PullProgress>>,
    builds: Mutex<HashMap<String, BuildProgress>>,
}

impl Terminal {
    pub fn new(shell: &Shell) -> Terminal {
        Terminal { shell: shell.clone(), pulls: Mutex::default(), builds: Mutex::default() }
    }
}

impl Reporter for Terminal {
    fn emit(&self, event: Event) {
        let shell = &self.shell;
        match event {
            Event::Created { object, name } => {
                let what = match object {
                    Object::Container => "Container",
                    Object::Network => "Network",
                    Object::Volume => "Volume",
                };
                shell.status(what, format_args!("{name} created"));
            }
            Event::Removed { object, name } => {
                let what = format!("{object:?}").to_lowercase();
                shell.status("Removed", format_args!("{what} {name}"));
            }
            Event::VolumesKept { names } => shell.detail(format_args!(
                "{:>10} volumes {} (data survives; `--volumes` removes them)",
                "Kept",
                names.join(", ")
            )),
            Event::PullStarted { image } => {
                shell.status("Pulling", &image);
                if let Ok(mut pulls) = self.pulls.lock() {
                    pulls.insert(image, PullProgress::new(shell));
                }
            }
            Event::PullLayer { image, layer, status, current, total } => {
                if let Some(progress) = self.pulls.lock().ok().as_mut().and_then(|p| p.get_mut(&image)) {
                    progress.layer(&layer, &status, current, total);
                }
            }
            Event::PullLine { image, line } => {
                if let Some(progress) = self.pulls.lock().ok().as_mut().and_then(|p| p.get_mut(&image)) {
                    progress.line(&line);
                }
            }
            Event::PullFinished { image, seconds } => {
                if let Some(progress) = self.pulls.lock().ok().and_then(|mut p| p.remove(&image)) {
                    progress.finish();
                }
                if let Some(seconds) = seconds {
                    shell.status("Pulled", format_args!("{image} in {seconds:.1}s"));
                }
            }
            Event::BuildStarted { image, service, files } => {
                shell.status("Building", format_args!("{image} ({files} files in the context)"));
                if let Ok(mut builds) = self.builds.lock() {
                    let progress = BuildProgress::new(shell, &service);
                    builds.insert(service, progress);
                }
            }
            Event::BuildLine { service, line } => {
                if let Some(progress) = self.builds.lock().ok().as_mut().and_then(|b| b.get_mut(&service)) {
                    progress.line(&line);
                }
            }
            Event::ImageFound { service, image } => {
                shell.status("Found", format_args!("{image} for `{service}`: built before, nothing to build"))
            }
            Event::BuildFinished { image, service, seconds } => {
                if let Some(progress) = self.builds.lock().ok().and_then(|mut b| b.remove(&service)) {
                    progress.finish();
                }
                if let Some(seconds) = seconds {
                    shell.status("Built", format_args!("{image} in {seconds:.1}s"));
                }
            }
            Event::ServiceStarted { container, how, ports, host, .. } => {
                let verb = match how {
                    Started::Created => "Created",
                    Started::Recreated => "Recreated",
                    Started::Restarted => "Started",
                };
                let published: Vec<String> = ports.iter().map(|(c, h)| format!("{c} → {host}:{h}")).collect();
                if published.is_empty() {
                    shell.status(verb, &container);
                } else {
                    shell.status(verb, format_args!("{container} ({})", published.join(", ")));
                }
            }
            Event::ServiceReady { service, seconds: None } => shell.status("Ready", format_args!("{service} (unchanged)")),
            Event::ServiceReady { service, seconds: Some(s) } => {
                shell.status("Ready", format_args!("{service} in {s:.1}s"))
            }
            Event::PortMoved { service, wanted, used, wanted_free: true, host } => shell.warn(format_args!(
                "`{service}` is published on {host}:{used}, not {wanted}: that port was in use when its container was made (`labforge down` then `labforge up` moves it back)"
            )),
            Event::PortMoved { service, wanted, used, wanted_free: false, host } => shell.warn(format_args!(
                "port {wanted} is in use: `{service}` is published on {host}:{used} instead"
            )),
            Event::VenvStarted { why: VenvChange::Missing } => {
                shell.status("Installing", "the project's dependencies into .venv (once per lab)")
            }
            Event::VenvStarted { why: VenvChange::Incomplete } => {
                shell.status("Repairing", ".venv: an earlier install did not finish, so it is made again")
            }
            Event::VenvStarted { why: VenvChange::Outdated } => {
                shell.status("Updating", ".venv: pyproject.toml changed since it was installed")
            }
            Event::Step { step, ok: true, detail, seconds } => {
                shell.status("✓", format_args!("{step:<8} {detail} {}", shell.dim(&format!("({seconds:.1}s)"))))
            }
            Event::Step { step, ok: false, detail, seconds } => {
                shell.status("✗", format_args!("{step:<8} {detail} {}", shell.dim(&format!("({seconds:.1}s)"))))
            }
            Event::VenvInstalled { seconds, packages, downloaded, cache } => {
                let from = if downloaded { "fetched into the shared cache" } else { "from the shared cache, no download" };
                shell.status("Installed", format_args!("{packages} packages in {seconds:.1}s ({from} {cache})"))
            }
            Event::RunWatched { run } => {
                shell.status("Watching", format_args!("{run}"));
                if let Ok(mut builds) = self.builds.lock() {
                    builds.insert(RUN.to_string(), BuildProgress::new(shell, "run"));
                }
            }
            Event::RunProgress { line } => {
                if let Some(progress) = self.builds.lock().ok().as_mut().and_then(|b| b.get_mut(RUN)) {
                    progress.line(&line);
                }
            }
            Event::RunStep { job, step, conclusion } => {
                let mark = match conclusion.as_str() {
                    "success" => "✓",
                    "skipped" => "-",
                    _ => "✗",
                };
                let line = match step {
                    Some(step) => format!("    {mark} {job} › {step}"),
                    None => format!("  {mark} {job} ({conclusion})"),
                };
                match self.builds.lock().ok().as_ref().and_then(|b| b.get(RUN)) {
                    Some(progress) => progress.println(&line),
                    None => shell.detail(format_args!("{line}")),
                }
            }
            Event::RunFinished { .. } => {
                if let Some(progress) = self.builds.lock().ok().and_then(|mut b| b.remove(RUN)) {
                    progress.finish();
                }
            }
            Event::Waiting { what, until } => shell.status("Waiting", format_args!("for {what} until {until}")),
            Event::SelftestStarted { lab, steps } => shell.status("Selftest", format_args!("{lab} ({steps} steps)")),
            Event::SelftestStarterFailed { step, check, reason } => {
                shell.detail(format_args!("  starter   {step} / {check}: {reason}"))
            }
        }
    }
}
