//! Tera filters that turn a value into a correctly quoted literal for the file it lands in.
//! Tera escapes only HTML; YAML, TOML, Python, shell and Dockerfile output need these.

use tera::{Kwargs, State, Tera, Value};

/// Registers `json`, `yaml`, `toml`, `py`, `shell` and `py_imports` on `tera`.
pub fn register(tera: &mut Tera) {
    // A JSON string literal is also a valid double-quoted YAML scalar, TOML basic string and
    // Python string literal, so one quoting function serves four formats.
    for name in ["json", "yaml", "toml", "py"] {
        tera.register_filter(name, |value: &Value, _: Kwargs, _: &State| json(value));
    }
    tera.register_filter("shell", |value: &str, _: Kwargs, _: &State| shell(value));
    tera.register_filter("py_imports", |value: &str, _: Kwargs, _: &State| py_imports(value));
}

/// The line length of the generated projects' ruff configuration.
const PY_LINE: usize = 100;

/// Python imports as ruff formats them: a `from x import a, b` line longer than the line length
/// (a long project name makes long module paths) becomes one name per line in parentheses, with
/// the trailing comma that keeps ruff from joining it again. For `{% filter py_imports %}`.
pub fn py_imports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        match body.split_once(" import ") {
            Some((from, names))
                if body.starts_with("from ") && !names.contains('(') && body.chars().count() > PY_LINE =>
            {
                out.push_str(from);
                out.push_str(" import (\n");
                for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    out.push_str("    ");
                    out.push_str(name);
                    out.push_str(",\n");
                }
                out.push(')');
                out.push_str(end);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// JSON on one line, with a space after `,` and `:` so flow lists read like hand-written ones:
/// `["uvicorn", "app.main:app"]`.
fn json(value: &Value) -> String {
    let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    let mut out = String::new();
    write_inline(&value, &mut out);
    out
}

fn write_inline(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_inline(item, out);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push_str(": ");
                write_inline(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// POSIX shell single quoting: `it's` becomes `'it'\''s'`.
pub fn shell(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_python_imports_get_one_name_per_line() {
        let short = "from shop.security import SCOPES, create_access_token\nimport os\n";
        assert_eq!(py_imports(short), short);
        let package = "a_forty_character_project_name_for_tests";
        let long = format!("from {package}.security import SCOPES, create_access_token, verify_password\nimport os");
        assert_eq!(
            py_imports(&long),
            format!(
                "from {package}.security import (\n    SCOPES,\n    create_access_token,\n    verify_password,\n)\nimport os"
            )
        );
    }

    fn render(source: &str, value: &str) -> String {
        let mut tera = Tera::new();
        register(&mut tera);
        let mut ctx = tera::Context::new();
        ctx.insert("v", value);
        tera.render_str(source, &ctx, false).unwrap()
    }

    #[test]
    fn quotes_hostile_strings_for_each_format() {
        let hostile = "a\"b'c\n$(rm -rf /)";
        assert_eq!(render("{{ v | yaml }}", hostile), r#""a\"b'c\n$(rm -rf /)""#);
        assert_eq!(render("{{ v | shell }}", hostile), "'a\"b'\\''c\n$(rm -rf /)'");
        assert_eq!(render("{{ v | py }}", "x"), r#""x""#);
        assert_eq!(render(r#"{{ ["a", "b"] | json }}"#, ""), r#"["a", "b"]"#);
    }
}
