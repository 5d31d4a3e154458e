//! Parsing and formatting helpers shared by the parsers of `labforge.yaml`, `lab.yaml`,
//! `template.yaml` and the user configuration.

use std::time::Duration;

use regex::Regex;

/// A YAML error as `path:line:column: message`, in labforge's words where serde-saphyr's would
/// name its own options or types, its snippet left out.
pub fn yaml_error(path: &str, err: &serde_saphyr::Error) -> String {
    let message = yaml_message(err).unwrap_or_else(|| {
        let full = err.to_string();
        // serde-saphyr's message starts with `error: line L column C: ` and adds a snippet; keep
        // the message, put the location in the conventional place.
        let first = full.lines().next().unwrap_or(&full);
        first
            .trim_start_matches("error: ")
            .split_once(": ")
            .filter(|(loc, _)| loc.starts_with("line "))
            .map(|(_, msg)| msg)
            .unwrap_or(first)
            .to_string()
    });
    match err.location().filter(|loc| loc.line() > 0) {
        Some(loc) => format!("{path}:{}:{}: {message}", loc.line(), loc.column()),
        None => format!("{path}: {message}"),
    }
}

/// Checks the YAML syntax of the whole file, then reads it as `T`: a file that is no YAML gets
/// its syntax error, wherever it is, before any message about what the file holds (a schema
/// error would stop reading at the first wrong key and hide a broken line further down).
pub fn from_yaml<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, String> {
    yaml_syntax(path, text)?;
    serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))
}

/// The YAML syntax of `text`, read from `path`, checked on its own (see [`from_yaml`]).
pub fn yaml_syntax(path: &str, text: &str) -> Result<(), String> {
    serde_saphyr::from_str::<serde::de::IgnoredAny>(text).map(drop).map_err(|e| yaml_error(path, &e))
}

/// labforge's wording of the errors whose serde-saphyr text is meant for a Rust programmer.
fn yaml_message(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    Some(match err {
        E::WithSnippet { error, .. } | E::AliasError { error, .. } => return yaml_message(error),
        E::DuplicateMappingKey { key: Some(key), .. } => format!("duplicate key `{key}` (each key may appear once)"),
        E::DuplicateMappingKey { key: None, .. } => "duplicate key (each key may appear once)".into(),
        E::InvalidScalar { ty, .. } => match *ty {
            "u8" | "u16" | "u32" | "u64" | "usize" => "expected a whole number, 0 or more".into(),
            "i8" | "i16" | "i32" | "i64" | "isize" => "expected a whole number".into(),
            "f32" | "f64" => "expected a number".into(),
            "bool" => "expected `true` or `false`".into(),
            other => format!("expected a value of type {other}"),
        },
        E::InvalidBooleanStrict { .. } => "expected `true` or `false`".into(),
        E::Unexpected { expected, .. } => match *expected {
            "mapping start" | "map" => "expected a mapping (`key: value` entries) here".into(),
            "sequence start" | "seq" => "expected a list here".into(),
            "string scalar" => "expected a text value here, not a list or mapping".into(),
            other => format!("expected {other} here"),
        },
        E::SerdeInvalidType { unexpected, expected, .. } => format!("expected {expected}, found {unexpected}"),
        E::SerdeUnknownVariant { variant, expected, .. } => {
            format!("`{variant}` is not one of: {}", expected.join(", "))
        }
        E::NullIntoString { .. } => "a value is missing here (write it, or remove the key)".into(),
        // The syntax is fine and nothing is there: an empty file, or only comments.
        E::Eof { .. } => "the file holds no YAML content (write its `key: value` entries)".into(),
        E::MultipleDocuments { .. } => "the file holds more than one YAML document (remove the `---` lines)".into(),
        E::Budget { breach: B::Depth { .. }, .. } => "the file is nested too deeply to be a labforge file".into(),
        E::ExternalMessage { msg, .. } if msg.contains("recursion limit exceeded") => {
            "the file is nested too deeply to be a labforge file".into()
        }
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => {
            "the file is too large or expands too many aliases to be a labforge file".into()
        }
        E::UnknownAnchor { .. } => "this alias (`*name`) refers to no anchor (`&name`) defined before it".into(),
        E::InvalidUtf8Input => "the file is not UTF-8 text (save it as UTF-8)".into(),
        _ => return None,
    })
}

/// `bytes` read from `path` as text, or `path:line:column: ...` naming the first byte that is
/// not UTF-8.
pub fn utf8_text(path: &str, bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        let byte = e.as_bytes()[valid.len()];
        format!("{path}:{line}:{column}: byte 0x{byte:02x} is not UTF-8 text (save the file as UTF-8)")
    })
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
    Regex::new(pattern).map_err(|e| regex_problem(pattern, &e))
}

/// `bad regex `PATTERN`: WHY`, with the regex crate's reason and without its drawing of the
/// pattern (which shows any wrapping labforge added, not what the author wrote).
pub fn regex_problem(pattern: &str, err: &regex::Error) -> String {
    let text = err.to_string();
    let why = match err {
        regex::Error::Syntax(_) => text.lines().rev().find_map(|l| l.trim().strip_prefix("error: ")).unwrap_or(&text),
        _ => &text,
    };
    format!("bad regex `{pattern}`: {}", why.split_whitespace().collect::<Vec<_>>().join(" "))
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
