//! `when:` and `require:` expressions from manifests, evaluated with Tera's expression language
//! (`db == "postgres" and "oauth" in extras`). Each expression is parsed once, up front, so a
//! broken one is reported with the rest of the manifest's problems.

use tera::{Context, Tera};

/// A parsed expression, evaluated by the [`Conditions`] that parsed it.
#[derive(Debug, Clone)]
pub struct Expr {
    id: String,
    pub source: String,
}

/// The set of expressions one manifest uses.
#[derive(Default)]
pub struct Conditions {
    tera: Tera,
}

impl std::fmt::Debug for Conditions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conditions")
    }
}

impl Conditions {
    /// Parses `source`; the error says what is wrong with it.
    pub fn add(&mut self, source: &str) -> Result<Expr, String> {
        if source.contains("{%") || source.contains("%}") || source.contains("{{") || source.contains("}}") {
            return Err(format!("`{source}` must be a bare expression, without `{{%` or `{{{{` delimiters"));
        }
        let id = format!("condition-{}", self.tera.get_template_names().count());
        self.tera
            .add_raw_template(&id, &format!("{{% if {source} %}}1{{% endif %}}"))
            // Tera's own words name the `{% if %}` tag this wraps the expression in, which the
            // author never wrote.
            .map_err(|_| {
                format!(
                    "`{source}` is not a valid expression (write e.g. `db == \"postgres\"` or `\"graphql\" in extras`)"
                )
            })?;
        Ok(Expr { id, source: source.to_string() })
    }

    /// Evaluates `expr` against `context`.
    pub fn eval(&self, expr: &Expr, context: &Context) -> Result<bool, String> {
        self.tera
            .render(&expr.id, context)
            .map(|out| out == "1")
            .map_err(|e| format!("`{}` cannot be evaluated: {}", expr.source, crate::base::first_line(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_membership_and_equality() {
        let mut c = Conditions::default();
        let e = c.add(r#""oauth" in extras and auth == "jwt""#).unwrap();
        let mut ctx = Context::new();
        ctx.insert("extras", &vec!["oauth"]);
        ctx.insert("auth", "jwt");
        assert!(c.eval(&e, &ctx).unwrap());
        ctx.insert("auth", "none");
        assert!(!c.eval(&e, &ctx).unwrap());
    }

    #[test]
    fn rejects_delimiters_and_syntax_errors() {
        let mut c = Conditions::default();
        assert!(c.add("x %}{{ secrets }}{% if y").unwrap_err().contains("bare expression"));
        assert!(c.add("db ==").unwrap_err().contains("not a valid expression"));
    }
}
