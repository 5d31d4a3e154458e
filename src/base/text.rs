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

/// The first line of a message that has text, trimmed: an error's headline, for a one-line report.
pub fn first_line(message: impl std::fmt::Display) -> String {
    let text = message.to_string();
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(&text).trim().to_string()
}

/// Why `reference` is not an image reference Docker would take (`postgres:17`,
/// `localhost:5001/shop/app:1.2`, `name@sha256:...`), or `None` when it is one.
pub fn image_reference_problem(reference: &str) -> Option<String> {
    const PATH: &str = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    const HOST: &str = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
    static GRAMMAR: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(&format!(
            r"^(?:{HOST}(?:\.{HOST})*(?::[0-9]+)?/)?{PATH}(?:/{PATH})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(?:@sha256:[a-f0-9]{{64}})?$"
        ))
        .expect("the reference grammar compiles")
    });
    if reference.trim().is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = reference.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "it contains {}",
            if c == ' ' { "a space".into() } else { format!("`{}`", c.escape_default()) }
        ));
    }
    (!GRAMMAR.is_match(reference)).then(|| "expected NAME[:TAG][@DIGEST], e.g. `postgres:17`".to_string())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::image_reference_problem;

    #[test]
    fn image_references_as_docker_takes_them() {
        let digest = format!("app@sha256:{}", "a".repeat(64));
        for good in [
            "postgres:17",
            "labforge-test/postgres:15",
            "localhost:5001/shop/app:1.2",
            "mirror.example.com/library/python:3.11-slim",
            &digest,
        ] {
            assert_eq!(image_reference_problem(good), None, "{good}");
        }
        for (bad, why) in [
            ("", "it is empty"),
            ("post gres", "it contains a space"),
            ("pg\n", "it contains `\\n`"),
            ("Postgres:17", "expected NAME[:TAG][@DIGEST], e.g. `postgres:17`"),
            ("postgres:", "expected NAME[:TAG][@DIGEST], e.g. `postgres:17`"),
            ("a//b", "expected NAME[:TAG][@DIGEST], e.g. `postgres:17`"),
            ("app@sha256:abc", "expected NAME[:TAG][@DIGEST], e.g. `postgres:17`"),
        ] {
            assert_eq!(image_reference_problem(bad).as_deref(), Some(why), "{bad:?}");
        }
    }
}
