//! `file` checks: a project file exists (or not), contains text, matches a regex.

use super::kinds::FileCheck;
use super::{Failure, Workspace, snippet};
use crate::base::regex;

pub fn check(ws: &Workspace, c: &FileCheck) -> Result<(), Failure> {
    let rel = ws.render(&c.path)?;
    let path = ws.dir.join(&rel);
    let text = match std::fs::read(&path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Failure::new(format!("cannot read {rel}: {e}"))),
    };
    let Some(text) = text else {
        return if c.exists { Err(Failure::mismatch(&rel, "the file", "no such file")) } else { Ok(()) };
    };
    if !c.exists {
        return Err(Failure::mismatch(&rel, "no such file", "the file exists"));
    }
    if let Some(needle) = &c.contains
        && !text.contains(needle.as_str())
    {
        return Err(Failure::mismatch(&rel, format!("the text {needle:?}"), "no such text"));
    }
    if let Some(pattern) = &c.regex
        && !regex(pattern).map_err(Failure::new)?.is_match(&text)
    {
        return Err(Failure::mismatch(&rel, format!("text matching /{pattern}/"), "no match"));
    }
    if let Some(needle) = &c.absent
        && let Some(line) = text.lines().position(|l| l.contains(needle.as_str()))
    {
        let shown = snippet(text.lines().nth(line).unwrap_or_default(), 80);
        return Err(Failure::mismatch(&rel, format!("no {needle:?}"), format!("line {}: {shown}", line + 1)));
    }
    Ok(())
}
