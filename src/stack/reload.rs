//! Development mode: whether the reloading server already serves the source as it is on disk.
//!
//! After an edit the server goes on answering with the old code until its reloader notices and a
//! fresh process has loaded the new one, a second or more later. Whatever judges the app (a lab
//! check) must wait for that. Two facts decide it: when the source last changed (the newest
//! modification time among the files `dev.reload_on` names) and when the serving process loaded
//! the code (`loaded_at`, Unix time, which the app's readiness answer carries in development).
//! No clock but the host's is involved: the container shares its kernel, and a bind mount shows
//! the same files.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::Value;

use super::diagnose::diagnose;
use super::project::Project;
use super::runtime::Runtime;
use crate::base::wait::{Ended, Verdict, Wait, Wake, no_events};

/// How often the app is asked while it reloads.
const ASK_EVERY: Duration = Duration::from_millis(100);
/// How often its log is searched for a crash meanwhile.
const CRASH_CHECK_EVERY: Duration = Duration::from_millis(1000);
/// How far back the log is searched for a traceback.
const CRASH_LOG_LINES: usize = 300;

/// The files a reloading server watches, as `dev.reload_on` globs relative to the project
/// (`src/**/*.py`; `*` stays within a folder, `**` crosses folders).
#[derive(Debug, Clone)]
pub struct Sources {
    globs: GlobSet,
}

impl Sources {
    /// The set of `globs`, or why one of them is not a valid glob.
    pub fn new(globs: &[String]) -> Result<Sources, String> {
        let mut set = GlobSetBuilder::new();
        for glob in globs {
            let glob = GlobBuilder::new(glob).literal_separator(true).build().map_err(|e| e.to_string())?;
            set.add(glob);
        }
        Ok(Sources { globs: set.build().map_err(|e| e.to_string())? })
    }

    /// When the newest of the files below `dir` that match last changed; `None` when none match.
    /// Hidden files and folders (editors' swap files, `.venv`, `.git`) and `__pycache__` are
    /// not looked at: reloaders ignore them too.
    pub fn newest_change(&self, dir: &Path) -> Option<SystemTime> {
        fn walk(sources: &Sources, base: &Path, dir: &Path, newest: &mut Option<SystemTime>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') || name == "__pycache__" || name == "node_modules" {
                    continue;
                }
                let Ok(kind) = entry.file_type() else { continue };
                let path = entry.path();
                if kind.is_dir() {
                    walk(sources, base, &path, newest);
                    continue;
                }
                let Ok(relative) = path.strip_prefix(base) else { continue };
                if sources.globs.is_match(relative)
                    && let Ok(modified) = entry.metadata().and_then(|m| m.modified())
                    && newest.is_none_or(|n| modified > n)
                {
                    *newest = Some(modified);
                }
            }
        }
        let mut newest = None;
        walk(self, dir, dir, &mut newest);
        newest
    }
}

/// What the app's readiness answer says about the code it serves.
#[derive(Debug, Clone, PartialEq)]
pub enum Serving {
    /// Its process loaded the code after the source last changed.
    Current,
    /// It still serves code loaded before the source last changed.
    Stale,
    /// It answered without saying when it loaded its code (an app that does not report it, or
    /// a 4xx such as a rate limit): there is no telling, so nothing to wait for.
    Unknown,
    /// It did not answer, or not yet successfully (it is reloading, or its database is not ready).
    Away(String),
}

/// Reads one answer of the readiness path against `changed`, when the source last changed.
pub fn judge(status: u16, body: &str, changed: SystemTime) -> Serving {
    match status {
        200..=299 => {
            let loaded = serde_json::from_str::<Value>(body).ok().and_then(|v| v.get("loaded_at")?.as_f64());
            match loaded {
                None => Serving::Unknown,
                Some(loaded) if loaded > unix_seconds(changed) => Serving::Current,
                Some(_) => Serving::Stale,
            }
        }
        400..=499 => Serving::Unknown,
        _ => Serving::Away(format!("it answered {status}")),
    }
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A log line that says a server process has started, or is being started again.
fn is_restart(line: &str) -> bool {
    const MARKS: [&str; 5] = [
        "Application startup complete", // uvicorn
        "Booting worker",               // gunicorn
        "Reloading...",                 // uvicorn's reloader, after a change
        " * Detected change in",        // Flask (werkzeug)
        "changed, reloading.",          // Django's autoreloader
    ];
    MARKS.iter().any(|mark| line.contains(mark))
}

/// Whether a log ends in a crash: a Python traceback with no line after it that says the server
/// started, or is starting, again. (A reloading server survives its app's crash, so the container
/// keeps running: the log is the only sign.)
pub fn ends_in_crash(logs: &[String]) -> bool {
    logs.iter()
        .rposition(|l| l.starts_with("Traceback (most recent call last)"))
        .is_some_and(|at| !logs[at..].iter().any(|l| is_restart(l)))
}

/// Why the wait for a reload ended without the app serving the current source.
#[derive(Debug, Clone, PartialEq)]
pub struct NotReloaded {
    pub reason: String,
    pub diagnosis: Option<String>,
}

/// Waits until `service` of `project`, whose readiness path answers at `url`, serves the source as
/// it was at `changed`, within `timeout`. Returns how long it waited.
pub async fn wait_until_current<R: Runtime>(
    runtime: &R,
    project: &Project,
    service: &str,
    url: &str,
    changed: SystemTime,
    timeout: Duration,
) -> Result<Duration, NotReloaded> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(1))
        .build()
        .map_err(|e| NotReloaded { reason: e.to_string(), diagnosis: None })?;
    // The first look at the log comes after the reloader had time to say it is reloading: a
    // traceback from before the edit is not this reload's.
    let crash_ticks = (CRASH_CHECK_EVERY.as_millis() / ASK_EVERY.as_millis()).max(1) as u64;
    let mut crashed_in_a_row = 0;
    let ended = Wait::at_most(timeout, ASK_EVERY)
        .run(std::future::pending(), no_events::<()>(), async |wake| {
            let Wake::Tick(n) = wake else { return Verdict::Pending(String::new()) };
            if n > 0 && n % crash_ticks == 0 {
                let logs = runtime.logs(project, service, CRASH_LOG_LINES).await.unwrap_or_default();
                // Seen twice in a row while the app still does not serve the new code: not a
                // traceback that a reload is about to replace.
                crashed_in_a_row = if ends_in_crash(&logs) { crashed_in_a_row + 1 } else { 0 };
                if crashed_in_a_row >= 2 {
                    let said = logs.iter().rev().find(|l| !l.trim().is_empty()).map_or("", |l| l.trim());
                    return Verdict::Failed(NotReloaded {
                        reason: format!("the app crashed while reloading your last change: {said}"),
                        diagnosis: diagnose(&logs, "").map(str::to_string),
                    });
                }
            }
            // A rate limit that counts the readiness path (a lab's starter does) answers 429 once
            // labforge's own requests used it up, and a 429 says nothing of the code. Behind a
            // proxy it trusts, the app counts each forwarded client on its own: each look comes as
            // a client of its own (a documentation address, RFC 5737), which no limit has counted.
            let client_address = format!("192.0.2.{}", n % 250 + 1);
            let serving = match client.get(url).header("x-forwarded-for", client_address).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    judge(status, &response.text().await.unwrap_or_default(), changed)
                }
                Err(e) => Serving::Away(if e.is_connect() { "connection refused".into() } else { e.to_string() }),
            };
            match serving {
                Serving::Current | Serving::Unknown => Verdict::Done(()),
                Serving::Stale => Verdict::Pending("it still serves the code from before".into()),
                Serving::Away(why) => Verdict::Pending(why),
            }
        })
        .await;
    match ended {
        Ended::Done(()) => Ok(started.elapsed()),
        Ended::Failed(not_reloaded) => Err(not_reloaded),
        Ended::TimedOut { last } => Err(NotReloaded {
            reason: format!("the app has not reloaded your last change within {}s ({last})", timeout.as_secs()),
            diagnosis: None,
        }),
        Ended::Cancelled => unreachable!("nothing cancels this wait"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds)
    }

    #[test]
    fn an_answer_is_judged_against_the_last_change() {
        let changed = at(1_700_000_000.5);
        let body = |loaded: f64| format!(r#"{{"status": "ok", "loaded_at": {loaded}}}"#);
        assert_eq!(judge(200, &body(1_700_000_000.6), changed), Serving::Current);
        assert_eq!(judge(200, &body(1_700_000_000.4), changed), Serving::Stale);
        assert_eq!(judge(200, &body(1_700_000_000.5), changed), Serving::Stale, "not loaded after the change");
        assert_eq!(judge(200, r#"{"status": "ok"}"#, changed), Serving::Unknown);
        assert_eq!(judge(200, "ok", changed), Serving::Unknown);
        assert_eq!(judge(429, "slow down", changed), Serving::Unknown);
        assert_eq!(judge(503, &body(1_700_000_000.6), changed), Serving::Away("it answered 503".into()));
    }

    #[test]
    fn a_traceback_is_a_crash_until_the_server_starts_again() {
        let log = |text: &str| text.lines().map(str::to_string).collect::<Vec<_>>();
        let crashed = log(
            "INFO: Application startup complete.\nTraceback (most recent call last):\n  File \"x.py\", line 1\nSyntaxError: invalid syntax",
        );
        assert!(ends_in_crash(&crashed));
        let reloading = log(
            "Traceback (most recent call last):\nSyntaxError: invalid syntax\nWARNING:  WatchFiles detected changes in 'src/a.py'. Reloading...",
        );
        assert!(!ends_in_crash(&reloading));
        let restarted = log("Traceback (most recent call last):\nKeyError: 1\nINFO:     Application startup complete.");
        assert!(!ends_in_crash(&restarted));
        assert!(!ends_in_crash(&log("INFO: Application startup complete.")));
    }

    #[test]
    fn only_the_watched_files_count_and_hidden_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, seconds: u64| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let time = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
            std::fs::File::create(&path).unwrap().set_modified(time).unwrap();
            time
        };
        let sources = Sources::new(&["src/**/*.py".to_string()]).unwrap();
        assert_eq!(sources.newest_change(dir.path()), None);
        let first = write("src/pkg/api/items.py", 1_000);
        assert_eq!(sources.newest_change(dir.path()), Some(first));
        write("tests/test_items.py", 2_000);
        write("src/pkg/.items.py.swp", 2_000);
        write("src/pkg/.#items.py", 2_000);
        write("src/pkg/__pycache__/items.cpython-311.py", 2_000);
        write("src/pkg/notes.md", 2_000);
        assert_eq!(sources.newest_change(dir.path()), Some(first), "none of these is watched");
        let second = write("src/main.py", 3_000);
        assert_eq!(sources.newest_change(dir.path()), Some(second), "`**` also matches no folder at all");
        assert!(Sources::new(&["src/[".to_string()]).is_err());
    }
}
