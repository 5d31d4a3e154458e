//! The lowest layer: small helpers every domain may use — the async runtime, the one wait
//! ([`wait`]), YAML error locations, durations, regexes, hex, finding a program on a PATH. It imports nothing from
//! labforge; nothing here touches the network, the terminal or the process environment.

mod text;
pub mod wait;

pub use text::{
    first_line, from_yaml, hex, image_reference_problem, parse_duration, regex, regex_problem, utf8_text, yaml_error,
    yaml_syntax,
};

use std::ffi::OsStr;
use std::path::PathBuf;

/// A single-threaded tokio runtime: labforge's concurrency is waiting, not computing.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}

/// The first file named `tool` in the folders of `path` (a `PATH` value).
pub fn which(tool: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).map(|dir| dir.join(tool)).find(|p| p.is_file())
}
