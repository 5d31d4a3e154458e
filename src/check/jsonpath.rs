//! The JSON paths labs use to point into responses: `$`, `.field` and `[index]` steps, as in
//! `$.items[0].name`. Small on purpose: it is what a learner reads in a failure message.

use serde_json::Value;

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    source: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

impl JsonPath {
    pub fn parse(source: &str) -> Result<JsonPath, String> {
        let bad = |why: &str| {
            Err(format!("JSON path `{source}` {why} (use `$`, `.field` and `[index]`, e.g. `$.items[0].name`)"))
        };
        let Some(mut rest) = source.trim().strip_prefix('$') else {
            return bad("must start with `$`");
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return bad("has an empty field name");
                }
                steps.push(Step::Field(after[..end].to_string()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let Some(end) = after.find(']') else { return bad("has an unclosed `[`") };
                let inner = after[..end].trim();
                match inner.parse::<usize>() {
                    Ok(i) => steps.push(Step::Index(i)),
                    Err(_) => {
                        let key = inner.trim_matches(|c| c == '\'' || c == '"');
                        if key.is_empty() {
                            return bad("has an empty `[]`");
                        }
                        steps.push(Step::Field(key.to_string()));
                    }
                }
                rest = &after[end + 1..];
            } else {
                return bad("has unexpected text");
            }
        }
        Ok(JsonPath { source: source.trim().to_string(), steps })
    }

    /// The value at this path, if there is one.
    pub fn find<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for step in &self.steps {
            value = match step {
                Step::Field(name) => value.as_object()?.get(name)?,
                Step::Index(i) => value.as_array()?.get(*i)?,
            };
        }
        Some(value)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// Whether `actual` matches `expected`: equal JSON, except that a number equals its text and an
/// expected object only needs its own fields to match (extra fields are fine).
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y)),
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (Value::String(e), other) if !other.is_string() && !other.is_object() && !other.is_array() => {
            e == &other.to_string()
        }
        (e, a) => e == a,
    }
}

/// A value as a learner reads it in a message: strings without quotes when short.
pub fn show(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > 120 { format!("{}…", text.chars().take(120).collect::<String>()) } else { text }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_fields_and_indexes() {
        let doc = json!({"items": [{"name": "kettle"}], "a b": 1});
        assert_eq!(JsonPath::parse("$.items[0].name").unwrap().find(&doc), Some(&json!("kettle")));
        assert_eq!(JsonPath::parse("$['a b']").unwrap().find(&doc), Some(&json!(1)));
        assert_eq!(JsonPath::parse("$.items[3]").unwrap().find(&doc), None);
        assert_eq!(JsonPath::parse("$").unwrap().find(&doc), Some(&doc));
    }

    #[test]
    fn refuses_malformed_paths_with_an_example() {
        for bad in ["items", "$..x", "$.items[0", "$.items[]", "$ x"] {
            let err = JsonPath::parse(bad).unwrap_err();
            assert!(err.contains("e.g. `$.items[0].name`"), "{bad}: {err}");
        }
    }

    #[test]
    fn objects_match_on_their_own_fields_and_numbers_match_text() {
        assert!(matches(&json!({"name": "k"}), &json!({"name": "k", "id": 3})));
        assert!(!matches(&json!({"name": "k"}), &json!({"name": "x"})));
        assert!(matches(&json!("3"), &json!(3)));
        assert!(matches(&json!(2), &json!(2.0)));
        assert!(!matches(&json!([1]), &json!([1, 2])));
    }
}
