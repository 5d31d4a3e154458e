//! `.env` files, read strictly (every problem as `FILE:LINE:COLUMN`, a value never repeated in a
//! message: it may be a secret), and the `${VAR}` substitution of labforge.yaml's `environment:`.
//! Reads files only; no Docker here.

use std::collections::BTreeMap;
use std::path::Path;

use super::Error;

/// The file name of the project's variables.
pub const FILE_NAME: &str = ".env";

/// The project's `.env` in `dir`, parsed; empty when there is none.
pub fn read_dotenv(dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let path = dir.join(FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => read_bytes(&path.display().to_string(), bytes).map_err(Error::Spec),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::Config(format!("cannot read {}: {e}", path.display()))),
    }
}

/// A dotenv file's bytes read from `path` (as messages show it).
pub fn read_bytes(path: &str, bytes: Vec<u8>) -> Result<BTreeMap<String, String>, Vec<String>> {
    let text = crate::base::utf8_text(path, bytes).map_err(|problem| vec![problem])?;
    parse_dotenv(path, &text)
}

/// `KEY=VALUE` lines; `#` comments, blank lines, `export ` prefixes, CRLF line endings and
/// values in matching quotes allowed. `Err` holds every problem, one line each.
pub fn parse_dotenv(path: &str, text: &str) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut vars = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let at = |column: usize, message: String| format!("{path}:{}:{column}: {message}", index + 1);
        let column_of = |part: &str| line[..line.len() - part.len()].chars().count() + 1;
        if let Some(nul) = line.find('\0') {
            problems.push(at(line[..nul].chars().count() + 1, "a NUL byte (remove it)".into()));
            continue;
        }
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let content = content.strip_prefix("export ").map(str::trim_start).unwrap_or(content);
        let Some((key, value)) = content.split_once('=') else {
            problems.push(at(
                column_of(content),
                "this line has no `=`: write KEY=VALUE, or start the line with `#` to make it a comment".into(),
            ));
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            problems.push(at(column_of(content), "the variable name before `=` is empty".into()));
            continue;
        }
        if !is_variable_name(key) {
            problems.push(at(
                column_of(content),
                format!(
                    "`{}` is not a variable name (letters, digits and `_`, not starting with a digit)",
                    key.chars().take(40).collect::<String>().escape_default()
                ),
            ));
            continue;
        }
        // Still the end of the line (`column_of` counts back from it), spaces at the end included.
        let value = value.trim_start();
        match unquote(value.trim_end()) {
            Ok(v) => {
                vars.insert(key.to_string(), v.to_string());
            }
            Err(why) => problems.push(at(column_of(value), format!("{key}: {why}"))),
        }
    }
    if problems.is_empty() { Ok(vars) } else { Err(problems) }
}

/// A value without its quotes: `"x"` and `'x'` hold exactly `x` (a `#` comment may follow the
/// closing quote); an unquoted value is taken as written.
fn unquote(value: &str) -> Result<&str, String> {
    let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return Ok(value);
    };
    let body = &value[1..];
    let Some(end) = body.find(quote) else {
        return Err(format!("the value's {quote} is not closed on this line (close it; a value cannot span lines)"));
    };
    let after = body[end + 1..].trim_start();
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!("text follows the value's closing {quote} (quote the whole value)"));
    }
    Ok(&body[..end])
}

/// A name a shell and Docker accept for a variable.
pub fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `${...}` substitution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    /// The variable is set neither in `.env` nor in labforge's environment.
    #[error("uses ${{{0}}}, which is not set (add `{0}=...` to .env)")]
    Unset(String),
    /// The text is no valid substitution (an unclosed `${`, a bad name).
    #[error("{0}")]
    Syntax(String),
}

/// Replaces `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`, and a `$` not followed by
/// `{` is kept.
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Unresolved> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                let name: String = body.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                return Err(Unresolved::Syntax(format!(
                    "`${{{name}` is not closed (write `${{{name}}}`, or `$$` for a literal `$`)"
                )));
            };
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if !is_variable_name(name) {
                return Err(Unresolved::Syntax(format!(
                    "`${{{}}}` does not name a variable (letters, digits and `_`; `${{NAME:-default}}` gives a default)",
                    expr.escape_default()
                )));
            }
            match (lookup(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(Unresolved::Unset(name.to_string())),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> BTreeMap<String, String> {
        parse_dotenv(".env", text).unwrap()
    }

    fn problems(text: &str) -> Vec<String> {
        parse_dotenv(".env", text).unwrap_err()
    }

    #[test]
    fn dotenv_understands_comments_quotes_and_export() {
        let env = parsed("# c\nA=1\nexport B=\"two words\"\n\nC='x=y'\nD=\"q\" # note\nE=\n");
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "two words");
        assert_eq!(env["C"], "x=y");
        assert_eq!(env["D"], "q");
        assert_eq!(env["E"], "");
    }

    #[test]
    fn crlf_line_endings_simply_work() {
        let env = parsed("A=1\r\nB=\"two\"\r\n# c\r\n\r\nC=3");
        assert_eq!(
            env,
            BTreeMap::from([("A".into(), "1".into()), ("B".into(), "two".into()), ("C".into(), "3".into())])
        );
    }

    #[test]
    fn every_bad_line_is_refused_with_its_location() {
        let text = "OK=1\nno equals sign\nA=\"open\n=value\n1X=2\nB=ok\0\nC=\"x\" y\nexport =3\n";
        assert_eq!(
            problems(text),
            vec![
                ".env:2:1: this line has no `=`: write KEY=VALUE, or start the line with `#` to make it a comment",
                ".env:3:3: A: the value's \" is not closed on this line (close it; a value cannot span lines)",
                ".env:4:1: the variable name before `=` is empty",
                ".env:5:1: `1X` is not a variable name (letters, digits and `_`, not starting with a digit)",
                ".env:6:5: a NUL byte (remove it)",
                ".env:7:3: C: text follows the value's closing \" (quote the whole value)",
                ".env:8:8: the variable name before `=` is empty",
            ]
        );
    }

    #[test]
    fn spaces_after_a_bad_value_move_no_column() {
        // Found by the dotenv fuzz target: the column was counted back from the trimmed value, a
        // byte off per trailing space, and inside a multi-byte character it panicked.
        assert_eq!(
            problems("A=\"open   \nP='s\u{12c}=#R   \n"),
            vec![
                ".env:1:3: A: the value's \" is not closed on this line (close it; a value cannot span lines)",
                ".env:2:3: P: the value's ' is not closed on this line (close it; a value cannot span lines)",
            ]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever is typed into `.env` — quotes left open, characters of several bytes, spaces
        /// and CR at the end — the parser answers with values or one-line located problems, never
        /// a panic.
        #[test]
        fn any_dotenv_is_parsed_or_refused(
            lines in proptest::collection::vec(
                ("(export )?", "[A-Z_1 -]{0,3}", "=?", "[ '\"#=x\t\r\u{0}\u{12c}\u{20ac}]{0,12}"),
                0..6,
            ),
        ) {
            let text: String = lines.iter().map(|(export, key, eq, value)| format!("{export}{key}{eq}{value}\n")).collect();
            if let Err(problems) = parse_dotenv(".env", &text) {
                for problem in problems {
                    proptest::prop_assert!(problem.starts_with(".env:") && !problem.contains('\n'), "{problem}");
                }
            }
        }
    }

    #[test]
    fn a_value_is_never_repeated_in_a_message() {
        for text in ["SECRET=\"hunter2\n", "hunter2\n", "SECRET='hunter2' x\n", "SECRET=hunter2\0\n"] {
            for problem in problems(text) {
                assert!(!problem.contains("hunter2"), "{problem}");
            }
        }
    }

    #[test]
    fn non_utf8_is_located() {
        let problems = read_bytes(".env", b"A=1\nB=\xff\n".to_vec()).unwrap_err();
        assert_eq!(problems, vec![".env:2:3: byte 0xff is not UTF-8 text (save the file as UTF-8)"]);
    }

    #[test]
    fn interpolates_variables_defaults_and_dollars() {
        let lookup = |n: &str| (n == "USER").then(|| "shop".to_string());
        assert_eq!(interpolate("postgresql://${USER}:${PW:-x}@h/$$db", &lookup).unwrap(), "postgresql://shop:x@h/$db");
        assert_eq!(interpolate("${MISSING}", &lookup).unwrap_err(), Unresolved::Unset("MISSING".into()));
        assert_eq!(interpolate("cost: $5", &lookup).unwrap(), "cost: $5");
    }

    #[test]
    fn an_unclosed_or_nameless_substitution_is_a_syntax_error() {
        let lookup = |_: &str| Some("x".to_string());
        assert_eq!(
            interpolate("postgresql://${PG_PW@db", &lookup).unwrap_err().to_string(),
            "`${PG_PW` is not closed (write `${PG_PW}`, or `$$` for a literal `$`)"
        );
        assert!(matches!(interpolate("${}", &lookup), Err(Unresolved::Syntax(_))));
        assert!(matches!(interpolate("${A B}", &lookup), Err(Unresolved::Syntax(_))));
    }
}
