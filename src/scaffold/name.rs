//! Project names: what a user may type, and the Python package and Kubernetes (DNS-1123) names
//! derived from it.

use std::fmt;

use serde::Serialize;

/// Longest accepted name. Kubernetes object names are DNS labels (63 characters) and labforge
/// appends suffixes such as `-postgres-headless`.
pub const MAX_LEN: usize = 40;

/// A validated project name and the names derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectName {
    /// As given: `order-service`.
    pub name: String,
    /// Python import name: `order_service`.
    pub package: String,
    /// DNS-1123 label for Kubernetes objects and container names: `order-service`.
    pub dns: String,
    /// Human title for READMEs and API docs: `Order Service`.
    pub title: String,
}

/// Why a name was refused; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NameError(String);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Module names a project package must not shadow (`import re` would find the project): the
/// standard library of every Python the templates support, and the top-level modules of the
/// generated projects' dependencies. One name per line; `#` starts a comment.
const SHADOWED: &str = include_str!("python_modules.txt");

fn shadows(package: &str) -> bool {
    SHADOWED.lines().any(|line| !line.starts_with('#') && line.trim() == package)
}

const PYTHON_KEYWORDS: &[&str] = &[
    "false", "none", "true", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "type",
];

impl ProjectName {
    /// Validates `raw` and derives the other names. The error names the problem and a fix.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let fail = |why: String| Err(NameError(why));
        if raw.trim().is_empty() {
            return fail("the project name is empty: pass a name such as `shop`".into());
        }
        if raw.contains('/') || raw.contains('\\') || raw.contains("..") {
            return fail(format!(
                "project name `{}` looks like a path: pass a plain name such as `shop` and choose the location with `--dir`",
                raw.escape_default()
            ));
        }
        let chars = raw.chars().count();
        if chars > MAX_LEN {
            return fail(format!("the project name is {chars} characters long: use at most {MAX_LEN}"));
        }
        if let Some(bad) = raw.chars().find(|c| !c.is_ascii()) {
            return fail(format!(
                "project name `{raw}` contains `{bad}`: use lowercase ASCII letters, digits, `-` and `_`"
            ));
        }
        if let Some(bad) = raw.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
            let shown = if bad == ' ' { "a space".to_string() } else { format!("`{}`", bad.escape_default()) };
            return fail(format!(
                "project name `{}` contains {shown}: use lowercase ASCII letters, digits, `-` and `_` (e.g. `{}`)",
                raw.escape_default(),
                suggest(raw)
            ));
        }
        if raw.chars().any(|c| c.is_ascii_uppercase()) {
            return fail(format!("project name `{raw}` has uppercase letters: use `{}`", raw.to_ascii_lowercase()));
        }
        if !raw.starts_with(|c: char| c.is_ascii_lowercase()) {
            return fail(format!("project name `{raw}` must start with a letter (e.g. `app-{raw}`)"));
        }
        if raw.ends_with(['-', '_']) {
            return fail(format!("project name `{raw}` must end with a letter or digit"));
        }
        let package = raw.replace('-', "_");
        if PYTHON_KEYWORDS.contains(&package.as_str()) {
            return fail(format!("project name `{raw}` is a Python keyword: choose another, such as `{raw}-api`"));
        }
        if shadows(&package) {
            return fail(format!(
                "project name `{raw}` would make a Python package that shadows the `{package}` module: choose another, such as `{raw}-api`"
            ));
        }
        let title = raw
            .split(['-', '_'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut cs = w.chars();
                cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(ProjectName { name: raw.to_string(), package, dns: raw.replace('_', "-"), title })
    }
}

/// A valid-looking name built from an invalid one, for the error message.
fn suggest(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.starts_with(|c: char| c.is_ascii_lowercase()) { out } else { "my-service".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(raw: &str) -> String {
        ProjectName::parse(raw).unwrap_err().to_string()
    }

    #[test]
    fn derives_package_dns_and_title() {
        let n = ProjectName::parse("order-service_v2").unwrap();
        assert_eq!(n.package, "order_service_v2");
        assert_eq!(n.dns, "order-service-v2");
        assert_eq!(n.title, "Order Service V2");
    }

    #[test]
    fn refuses_paths_with_advice() {
        assert!(err("../x").contains("looks like a path"), "{}", err("../x"));
        assert!(err("a/b").contains("--dir"));
        assert!(err("..").contains("looks like a path"));
    }

    #[test]
    fn refuses_spaces_and_suggests_a_fix() {
        assert_eq!(
            err("Bad Name"),
            "project name `Bad Name` contains a space: use lowercase ASCII letters, digits, `-` and `_` (e.g. `bad-name`)"
        );
    }

    #[test]
    fn refuses_empty_long_and_non_ascii() {
        assert!(err("").contains("empty"));
        assert!(err("   ").contains("empty"));
        assert!(err(&"a".repeat(200)).contains("200 characters"));
        assert!(ProjectName::parse(&"a".repeat(MAX_LEN)).is_ok());
        assert!(err("café").contains("`é`"));
    }

    #[test]
    fn refuses_uppercase_leading_digits_and_trailing_separators() {
        assert!(err("Shop").contains("use `shop`"));
        assert!(err("1shop").contains("start with a letter"));
        assert!(err("shop-").contains("end with a letter or digit"));
        assert!(err("-shop").contains("start with a letter"));
    }

    #[test]
    fn refuses_names_that_shadow_python_modules() {
        assert!(err("fastapi").contains("shadows the `fastapi` module"));
        assert!(err("class").contains("Python keyword"));
        assert!(err("tests").contains("shadows"));
        // Standard-library names once accepted, after which the app could not start.
        for name in
            ["enum", "os", "datetime", "collections", "functools", "ssl", "hashlib", "copy", "math", "signal", "site"]
        {
            assert!(err(name).contains(&format!("shadows the `{name}` module")), "{name} is accepted");
        }
        assert!(err("typing-extensions").contains("shadows the `typing_extensions` module"));
        assert!(ProjectName::parse("enum-api").is_ok() && ProjectName::parse("sites").is_ok());
    }
}
