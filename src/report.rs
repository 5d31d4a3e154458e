//! What labforge's domains have to tell the user while they work, as typed [`Event`]s. Code below
//! `cmd/` emits them to a [`Reporter`] and never prints; renderers decide what they look like:
//! the terminal (`ui::Terminal`: status lines on stderr, bars only on a TTY), JSON lines, or a
//! [`Recorder`] that tests assert on. A live dashboard subscribes to the same stream.
//!
//! Results — the `up` table, `check`'s verdicts, `status` — are the product of a command and are
//! printed by the command itself; events are the progress on the way there.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

/// Something that happened while a command worked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A network or volume was created.
    Created {
        object: Object,
        name: String,
    },
    /// A container, network or volume was removed.
    Removed {
        object: Object,
        name: String,
    },
    /// Volumes `down` left in place (the data survives).
    VolumesKept {
        names: Vec<String>,
    },
    PullStarted {
        image: String,
    },
    /// One image layer's status while pulling; bytes when known.
    PullLayer {
        image: String,
        layer: String,
        status: String,
        current: u64,
        total: u64,
    },
    /// A pull status without a layer.
    PullLine {
        image: String,
        line: String,
    },
    /// The pull ended; `seconds` when it worked.
    PullFinished {
        image: String,
        seconds: Option<f64>,
    },
    BuildStarted {
        image: String,
        service: String,
        files: usize,
    },
    /// A line of build output.
    BuildLine {
        service: String,
        line: String,
    },
    /// A service's image was already built (a development image another project shares).
    ImageFound {
        service: String,
        image: String,
    },
    /// The build ended; `seconds` when it worked.
    BuildFinished {
        image: String,
        service: String,
        seconds: Option<f64>,
    },
    /// A service's container was started: created, recreated, or started again.
    /// Its ports are `(container, host)` pairs published on `host`.
    ServiceStarted {
        service: String,
        container: String,
        how: Started,
        ports: Vec<(u16, u16)>,
        host: String,
    },
    /// A service was proven ready; `seconds: None` when it was running unchanged.
    ServiceReady {
        service: String,
        seconds: Option<f64>,
    },
    /// A service is published on another host port than labforge.yaml asks for. `wanted_free`:
    /// the wanted port is free now (the container kept the port it got when it was made).
    PortMoved {
        service: String,
        wanted: u16,
        used: u16,
        wanted_free: bool,
        host: String,
    },
    /// A step of a multi-step command (`deploy`, `cluster create`) ended: `ok`, what it did, how
    /// long it took.
    Step {
        step: String,
        ok: bool,
        detail: String,
        seconds: f64,
    },
    /// A wait that the other side imposes (a rate limit): what for, and until when.
    Waiting {
        what: String,
        until: String,
    },
    /// A workflow run is being watched: its title and address.
    RunWatched {
        run: String,
    },
    /// What the watched run is doing now (`test › Install`).
    RunProgress {
        line: String,
    },
    /// A job (`step: None`) or a step of the watched run ended.
    RunStep {
        job: String,
        step: Option<String>,
        conclusion: String,
    },
    /// The watched run ended (`conclusion` empty: the watch gave up).
    RunFinished {
        conclusion: String,
    },
    /// A lab's virtual environment is being made or changed.
    VenvStarted {
        why: VenvChange,
    },
    /// The venv holds the project: `packages` installed, `downloaded` when the shared cache
    /// (`cache`) lacked some and they were fetched into it.
    VenvInstalled {
        seconds: f64,
        packages: usize,
        downloaded: bool,
        cache: String,
    },
    SelftestStarted {
        lab: String,
        steps: usize,
    },
    /// A check that failed on a lab's starter, as it must.
    SelftestStarterFailed {
        step: String,
        check: String,
        reason: String,
    },
}

/// A Docker object other than an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Object {
    Container,
    Network,
    Volume,
}

/// How a service's container came to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Started {
    Created,
    Recreated,
    /// A stopped container started again.
    Restarted,
}

/// Why a lab's virtual environment is being installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VenvChange {
    /// There is none yet.
    Missing,
    /// An earlier install did not finish.
    Incomplete,
    /// `pyproject.toml` changed since it was installed.
    Outdated,
}

/// Where events go. Implementations must be cheap: events are emitted while work waits.
pub trait Reporter: Send + Sync {
    fn emit(&self, event: Event);
}

/// Drops every event: for work whose progress nobody watches.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn emit(&self, _: Event) {}
}

/// Keeps every event, for tests to assert on.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    /// The events so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Reporter for Recorder {
    fn emit(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

/// Writes each event as one line of JSON: for machines watching a long command.
pub struct JsonLines<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W) -> JsonLines<W> {
        JsonLines { out: Mutex::new(out) }
    }
}

impl<W: Write + Send> Reporter for JsonLines<W> {
    fn emit(&self, event: Event) {
        if let (Ok(mut out), Ok(line)) = (self.out.lock(), serde_json::to_string(&event)) {
            // A closed pipe is not worth failing the work for.
            let _ = writeln!(out, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_name_each_event_and_its_fields() {
        let json = JsonLines::new(Vec::new());
        json.emit(Event::ServiceReady { service: "app".into(), seconds: Some(1.5) });
        json.emit(Event::Created { object: Object::Volume, name: "shop_pgdata".into() });
        let text = String::from_utf8(json.out.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "{\"event\":\"service_ready\",\"service\":\"app\",\"seconds\":1.5}\n\
             {\"event\":\"created\",\"object\":\"volume\",\"name\":\"shop_pgdata\"}\n"
        );
    }

    #[test]
    fn a_recorder_keeps_the_order() {
        let recorder = Recorder::default();
        recorder.emit(Event::PullStarted { image: "a".into() });
        recorder.emit(Event::PullFinished { image: "a".into(), seconds: None });
        assert_eq!(
            recorder.events(),
            [Event::PullStarted { image: "a".into() }, Event::PullFinished { image: "a".into(), seconds: None }]
        );
    }
}
