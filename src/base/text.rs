//! Parsing and formatting helpers shared by the parsers of `labforge.yaml`, `lab.yaml`,
//! `template.yaml` and the user configuration.

use std::time::Duration;

use regex::Regex;

/// A YAML error as `path:line:column: message`, serde-saphyr's snippet left out.
pub fn yaml_error(path: &str, err: &serde_saphyr::Error) -> String {
    let full = err.to_string();
    // serde-saphyr's message starts with `error: line L column C: ` and adds a snippet; keep the
    // message, put the location in the conventional place.
    let first = full.lines().next().unwrap_or(&full);
    let message = first
        .trim_start_matches("error: ")
        .split_once(": ")
        .filter(|(loc, _)| loc.starts_with("line "))
        .map(|(_, msg)| msg)
        .unwrap_or(first);
    match err.location() {
        Some(loc) => format!("{path}:{}:{}: {message}", loc.line(), loc.column()),
        None => format!("{path}: {message}"),
    }
}

/// `500ms`, `1s`, `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("duration `{text}` must be a number with ms, s or m (e.g. `1s`)");
    let t = text.trim();
    let (num, unit) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else {
        return Err(bad());
    };
    num.parse::<u64>().map(|n| Duration::from_millis(n * unit)).map_err(|_| bad())
}

/// Compiles a regex from a lab, naming it in the error.
pub fn regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        format!("bad regex `{pattern}`: {}", e.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
