//! Column defaults, spelt one way so a model's default and the catalog's agree.

/// Brings a default expression to one spelling, so that what the user wrote
/// (`'n/a'`, `0`, `NOW()`) compares equal to what `pg_get_expr` gives back
/// for it (`'n/a'::character varying`, `0`, `now()`).
///
/// A quoted literal loses the casts PostgreSQL adds after it, and a quoted
/// number loses its quotes (`'-1'::integer` is `-1`); outside literals,
/// letters are lowercased and runs of white space folded.
pub fn canonical_default(expr: &str) -> String {
    let expr = expr.trim();
    if let Some((literal, rest)) = split_literal(expr) {
        if rest.is_empty() || rest.starts_with("::") {
            let inner = &literal[1..literal.len() - 1];
            if inner.parse::<f64>().is_ok() {
                return inner.to_owned();
            }
            return literal.to_owned();
        }
    }
    let mut out = String::with_capacity(expr.len());
    let mut in_quote = false;
    let mut last_space = false;
    for c in expr.chars() {
        if c == '\'' {
            in_quote = !in_quote;
        }
        if !in_quote && c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.push(if in_quote { c } else { c.to_ascii_lowercase() });
    }
    out
}

/// Splits `'it''s'::text` into `'it''s'` and `::text`.
fn split_literal(expr: &str) -> Option<(&str, &str)> {
    let bytes = expr.as_bytes();
    if bytes.first() != Some(&b'\'') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some((&expr[..=i], &expr[i + 1..]));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::canonical_default as c;

    #[test]
    fn model_and_catalog_spellings_agree() {
        assert_eq!(c("'n/a'"), c("'n/a'::character varying"));
        assert_eq!(c("-1"), c("'-1'::integer"));
        assert_eq!(c("NOW()"), c("now()"));
        assert_eq!(c("TRUE"), c("true"));
        assert_eq!(c("'it''s'"), c("'it''s'::text"));
        assert_ne!(c("'A'"), c("'a'"));
        assert_ne!(c("1"), c("2"));
    }
}
