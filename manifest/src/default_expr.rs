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

/// Brings a check or index predicate to one spelling, so that what the user
/// wrote (`length(sku) > 0`, `deleted_at IS NULL`) compares equal to what
/// PostgreSQL prints back (`(length(sku) > 0)`, `(deleted_at IS NULL)`).
///
/// Outside string literals: letters are lowercased, and white space,
/// parentheses, double quotes and `::type` casts are dropped. That is a
/// comparison key, not SQL; two different expressions that only differ in
/// those could compare equal, which drift checking accepts.
pub fn canonical_expr(expr: &str) -> String {
    let expr = desugar(expr);
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            // A literal, copied as it is up to its closing quote; a quoted
            // number with a cast is the number (PostgreSQL prints `-1` as `'-1'::integer`).
            let end = rest[1..].find('\'').map_or(rest.len(), |i| i + 2);
            let literal = &rest[..end];
            let inner = literal.trim_matches('\'');
            if rest[end..].starts_with("::") && inner.parse::<f64>().is_ok() {
                out.push_str(inner);
            } else {
                out.push_str(literal);
            }
            rest = &rest[end..];
        } else if let Some(after) = rest.strip_prefix("::") {
            rest = skip_type(after);
        } else {
            if !(c.is_whitespace() || c == '(' || c == ')' || c == '"') {
                out.push(c.to_ascii_lowercase());
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Rewrites what PostgreSQL rewrites before it stores an expression:
/// `x IN (a, b)` is kept as `x = ANY (ARRAY[a, b])`, `x NOT IN (…)` as
/// `x <> ALL (ARRAY[…])`, `x BETWEEN a AND b` as `x >= a AND x <= b` and
/// `x NOT BETWEEN a AND b` as `x < a OR x > b`. Only plain operands (names,
/// literals, numbers) are rewritten; anything else is left as written.
fn desugar(expr: &str) -> String {
    let tokens = lex(expr);
    let word = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.eq_ignore_ascii_case(w));
    let operand = |i: usize| {
        tokens.get(i).is_some_and(|t| {
            let c = t.chars().next().unwrap_or(' ');
            c.is_alphanumeric() || c == '_' || c == '"' || c == '\'' || c == '-'
        }) && !["and", "or", "not", "in", "between"]
            .iter()
            .any(|w| word(i, w))
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let negated = word(i + 1, "not");
        let at = i + 1 + usize::from(negated);
        if operand(i) && word(at, "in") && tokens.get(at + 1).is_some_and(|t| t == "(") {
            let close = (at + 2..tokens.len()).find(|&j| tokens[j] == ")" || tokens[j] == "(");
            if let Some(close) = close.filter(|&j| tokens[j] == ")") {
                let (op, quantifier) = if negated { ("<>", "ALL") } else { ("=", "ANY") };
                let items = &tokens[at + 2..close];
                out.push(tokens[i].clone());
                out.push(op.to_owned());
                // A one-item list is stored as a plain comparison.
                if items.iter().any(|t| t == ",") {
                    out.extend([quantifier, "(", "ARRAY", "["].map(str::to_owned));
                    out.extend(items.iter().cloned());
                    out.extend(["]", ")"].map(str::to_owned));
                } else {
                    out.extend(items.iter().cloned());
                }
                i = close + 1;
                continue;
            }
        }
        if operand(i)
            && word(at, "between")
            && operand(at + 1)
            && word(at + 2, "and")
            && operand(at + 3)
        {
            let (x, low, high) = (&tokens[i], &tokens[at + 1], &tokens[at + 3]);
            let text = if negated {
                format!("{x} < {low} OR {x} > {high}")
            } else {
                format!("{x} >= {low} AND {x} <= {high}")
            };
            out.push(text);
            i = at + 4;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    // Spaces between tokens, but casts stay glued: `x::text`, as skip_type reads them.
    let mut text = String::with_capacity(expr.len() + out.len());
    for (n, token) in out.iter().enumerate() {
        if n > 0 && token != "::" && out[n - 1] != "::" {
            text.push(' ');
        }
        text.push_str(token);
    }
    text
}

/// Tokens of an expression: literals, quoted names, words and numbers
/// (with a leading minus), operators and single punctuation.
fn lex(expr: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut rest = expr;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        } else if c == '\'' || c == '"' {
            rest[1..].find(c).map_or(rest.len(), |i| i + 2)
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            rest.find(|x: char| !(x.is_alphanumeric() || x == '_' || x == '.' || x == '$'))
                .unwrap_or(rest.len())
        } else if "<>=!".contains(c) {
            rest.find(|x: char| !"<>=!".contains(x))
                .unwrap_or(rest.len())
        } else if (c == ':' && rest.starts_with("::")) || rest.starts_with("[]") {
            2
        } else {
            c.len_utf8()
        };
        tokens.push(rest[..len].to_owned());
        rest = &rest[len..];
    }
    tokens
}

/// Skips a type name after `::`: `text`, `"char"`, `character varying(64)`, `integer[]`.
fn skip_type(text: &str) -> &str {
    let mut rest = text.trim_start_matches('"');
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    rest = rest[word_end..].trim_start_matches('"');
    for tail in [
        " varying",
        " precision",
        " with time zone",
        " without time zone",
    ] {
        if rest.len() >= tail.len() && rest[..tail.len()].eq_ignore_ascii_case(tail) {
            rest = &rest[tail.len()..];
        }
    }
    if let Some(args) = rest.trim_start().strip_prefix('(') {
        if let Some(close) = args.find(')') {
            if args[..close]
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
            {
                rest = &args[close + 1..];
            }
        }
    }
    while let Some(after) = rest.trim_start().strip_prefix("[]") {
        rest = after;
    }
    rest
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

    #[test]
    fn expressions_as_written_and_as_printed_agree() {
        use super::canonical_expr as e;
        assert_eq!(e("length(sku) > 0"), e("(length(sku) > 0)"));
        assert_eq!(e("deleted_at IS NULL"), e("(deleted_at IS NULL)"));
        assert_eq!(e("status <> 'void'"), e("((status)::text <> 'void'::text)"));
        assert_eq!(e("total_cents >= 0"), e("(total_cents >= 0)"));
        assert_ne!(e("status <> 'Void'"), e("status <> 'void'"));
        assert_ne!(e("a > 0"), e("a > 1"));
        assert_eq!(e("a::integer AND b"), "aandb");
        assert_eq!(e("x > -1"), e("(x > '-1'::integer)"));
        assert_ne!(e("x = '1'"), e("x = 1"));
        assert_eq!(e("(name)::character varying(64) = 'x'::text"), "name='x'");
        assert_eq!(
            e("rating BETWEEN 1 AND 5"),
            e("((rating >= 1) AND (rating <= 5))")
        );
        assert_eq!(
            e("rating NOT BETWEEN 1 AND 5"),
            e("((rating < 1) OR (rating > 5))")
        );
        assert_eq!(
            e("status IN ('open', 'paid')"),
            e("((status)::text = ANY ((ARRAY['open'::character varying, 'paid'::character varying])::text[]))")
        );
        assert_eq!(
            e("status NOT IN ('void', 'lost')"),
            e("(status <> ALL (ARRAY['void'::text, 'lost'::text]))")
        );
        assert_eq!(
            e("status NOT IN ('void')"),
            e("((status)::text <> 'void'::text)")
        );
        assert_ne!(
            e("status IN ('open')"),
            e("(status = ANY (ARRAY['paid'::text]))")
        );
    }
}

/// `expr` with the column names it mentions renamed by `rename`, as
/// PostgreSQL itself rewrites a stored check or index predicate when a
/// column is renamed. String literals are left alone.
pub(crate) fn rename_identifiers(expr: &str, rename: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let end = rest[1..].find('\'').map_or(rest.len(), |i| i + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if c == '"' {
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
            let name = rest[1..end.saturating_sub(1).max(1)].replace("\"\"", "\"");
            match rename(&name) {
                Some(new) => out.push_str(&crate::quote_ident(&new)),
                None => out.push_str(&rest[..end]),
            }
            rest = &rest[end..];
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = rest
                .find(|x: char| !(x.is_ascii_alphanumeric() || x == '_' || x == '$'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            // An unquoted name is folded to lower case by PostgreSQL.
            match rename(&word.to_ascii_lowercase()) {
                Some(new) => out.push_str(&crate::quote_ident(&new)),
                None => out.push_str(word),
            }
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod rename_tests {
    use super::rename_identifiers;

    #[test]
    fn renames_columns_not_literals_or_functions() {
        let rename = |n: &str| (n == "note").then(|| "remark".to_owned());
        assert_eq!(
            rename_identifiers("length(note) < 10 AND note <> 'note'", rename),
            r#"length("remark") < 10 AND "remark" <> 'note'"#
        );
        assert_eq!(
            rename_identifiers(r#""note" IS NOT NULL"#, rename),
            r#""remark" IS NOT NULL"#
        );
        assert_eq!(rename_identifiers("Note > 0", rename), r#""remark" > 0"#);
    }
}
