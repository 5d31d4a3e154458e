//! `file` checks: a project file exists (or not), contains text, matches a regex.

use super::kinds::FileCheck;
use super::{Failure, Workspace, snippet};
use crate::base::regex;

pub fn check(ws: &Workspace, c: &FileCheck) -> Result<(), Failure> {
    let rel = ws.render(&c.path)?;
    let text = match std::fs::read(ws.dir.join(&rel)) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Failure::new(format!("cannot read {rel}: {e}"))),
    };
    judge(&rel, text.as_deref(), c)
}

/// The verdict on the file at `rel`, holding `text` (`None`: there is no such file).
fn judge(rel: &str, text: Option<&str>, c: &FileCheck) -> Result<(), Failure> {
    let Some(text) = text else {
        return if c.exists { Err(Failure::mismatch(rel, "the file", "no such file")) } else { Ok(()) };
    };
    if !c.exists {
        return Err(Failure::mismatch(rel, "no such file", "the file exists"));
    }
    if let Some(needle) = &c.contains
        && !text.contains(needle.as_str())
    {
        return Err(Failure::mismatch(rel, format!("the text {needle:?}"), "no such text"));
    }
    if let Some(pattern) = &c.regex
        && !regex(pattern).map_err(Failure::new)?.is_match(text)
    {
        return Err(Failure::mismatch(rel, format!("text matching /{pattern}/"), "no match"));
    }
    if let Some(needle) = &c.absent
        && let Some(line) = text.lines().position(|l| l.contains(needle.as_str()))
    {
        let shown = snippet(text.lines().nth(line).unwrap_or_default(), 80);
        return Err(Failure::mismatch(rel, format!("no {needle:?}"), format!("line {}: {shown}", line + 1)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(spec: serde_json::Value) -> FileCheck {
        serde_json::from_value(spec).unwrap()
    }

    /// Each expectation of a `file` check on both sides, each miss with its own reason.
    #[test]
    fn each_expectation_passes_when_met_and_fails_with_its_own_reason() {
        let text = "FROM python:3.12-slim\nUSER app\nHEALTHCHECK CMD python -c 'import sys'\n";
        let all = file(serde_json::json!({
            "path": "Dockerfile", "contains": "USER app", "regex": "(?m)^HEALTHCHECK ", "absent": "curl"
        }));
        assert_eq!(judge("Dockerfile", Some(text), &all), Ok(()));
        assert_eq!(judge("gone.txt", None, &file(serde_json::json!({"path": "gone.txt", "exists": false}))), Ok(()));
        let cases = [
            (None, serde_json::json!({}), "Dockerfile: expected the file, got no such file"),
            (
                Some(text),
                serde_json::json!({"exists": false}),
                "Dockerfile: expected no such file, got the file exists",
            ),
            (
                Some(text),
                serde_json::json!({"contains": "USER root"}),
                "Dockerfile: expected the text \"USER root\", got no such text",
            ),
            (
                Some(text),
                serde_json::json!({"regex": "^EXPOSE \\d+"}),
                "Dockerfile: expected text matching /^EXPOSE \\d+/, got no match",
            ),
            (
                Some(text),
                serde_json::json!({"absent": "USER"}),
                "Dockerfile: expected no \"USER\", got line 2: USER app",
            ),
        ];
        for (text, mut spec, reason) in cases {
            spec["path"] = "Dockerfile".into();
            let said = judge("Dockerfile", text, &file(spec.clone())).unwrap_err().reason;
            assert_eq!(said, reason, "{spec}");
        }
    }
}
