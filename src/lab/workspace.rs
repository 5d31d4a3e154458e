//! A learner's lab workspace: the project folder, which lab it is, and the learner's progress in
//! `.labforge/progress.json`, written atomically so a crash never leaves half a file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;
use super::spec::Lab;
use crate::scaffold::{ANSWERS_FILE, Recorded};

/// Where progress is kept, inside the project.
pub const PROGRESS_FILE: &str = ".labforge/progress.json";

/// What the learner has done, per step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub lab: String,
    #[serde(default)]
    pub started_at: u64,
    #[serde(default)]
    pub steps: BTreeMap<String, StepProgress>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StepProgress {
    #[serde(default)]
    pub passed: bool,
    #[serde(default)]
    pub passed_at: Option<u64>,
    /// How many times `labforge check` ran this step.
    #[serde(default)]
    pub attempts: u32,
    /// How many hints were shown.
    #[serde(default)]
    pub hints: u32,
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Progress {
    pub fn new(lab: &str) -> Progress {
        Progress { lab: lab.to_string(), started_at: now(), steps: BTreeMap::new() }
    }

    pub fn step(&self, id: &str) -> StepProgress {
        self.steps.get(id).cloned().unwrap_or_default()
    }

    pub fn step_mut(&mut self, id: &str) -> &mut StepProgress {
        self.steps.entry(id.to_string()).or_default()
    }

    /// The first step not passed yet, in the lab's order; `None` when the lab is done.
    pub fn current<'l>(&self, lab: &'l Lab) -> Option<(usize, &'l super::spec::Step)> {
        lab.steps.iter().enumerate().find(|(_, s)| !self.step(&s.id).passed)
    }

    pub fn passed_count(&self, lab: &Lab) -> usize {
        lab.steps.iter().filter(|s| self.step(&s.id).passed).count()
    }
}

/// A project folder that holds a lab.
#[derive(Debug, Clone)]
pub struct LabWorkspace {
    pub dir: PathBuf,
    pub progress: Progress,
    pub recorded: Recorded,
}

impl LabWorkspace {
    /// Opens the lab workspace in `dir`; the error says how to start one.
    pub fn open(dir: &Path) -> Result<LabWorkspace, Error> {
        let progress_path = dir.join(PROGRESS_FILE);
        let text = std::fs::read_to_string(&progress_path).map_err(|_| {
            Error::Usage(format!(
                "{} is not a lab workspace (start one with `labforge lab start ID`, or pass `--dir`)",
                dir.display()
            ))
        })?;
        let progress: Progress = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!("{} is damaged ({e}): `labforge lab reset` starts it over", progress_path.display()))
        })?;
        let recorded = read_recorded(dir)?;
        Ok(LabWorkspace { dir: dir.to_path_buf(), progress, recorded })
    }

    /// Saves progress: a temporary file, flushed, then renamed over the old one.
    pub fn save(&self) -> Result<(), Error> {
        save_progress(&self.dir, &self.progress)
    }

    pub fn context(&self) -> Result<tera::Context, Error> {
        crate::scaffold::project_context(&self.recorded).map_err(|e| Error::Usage(e.to_string()))
    }
}

pub fn read_recorded(dir: &Path) -> Result<Recorded, Error> {
    let path = dir.join(ANSWERS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!("cannot read {}: {e} (is this a project made by labforge?)", path.display()))
    })?;
    crate::base::from_yaml(&path.display().to_string(), &text).map_err(Error::Usage)
}

pub fn save_progress(dir: &Path, progress: &Progress) -> Result<(), Error> {
    let path = dir.join(PROGRESS_FILE);
    let io = |e: std::io::Error| Error::Usage(format!("cannot save {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(serde_json::to_string_pretty(progress).expect("progress serializes").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_survives_a_round_trip_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut progress = Progress::new("http-rest");
        progress.step_mut("create").passed = true;
        progress.step_mut("create").attempts = 3;
        save_progress(dir.path(), &progress).unwrap();
        let text = std::fs::read_to_string(dir.path().join(PROGRESS_FILE)).unwrap();
        assert_eq!(serde_json::from_str::<Progress>(&text).unwrap(), progress);
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join(".labforge")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("progress.json")]);
    }
}
