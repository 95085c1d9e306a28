//! Which index a concurrent build makes, read from its statement.

/// The schema (if written) and name of the index a `CREATE [UNIQUE] INDEX
/// CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] [schema.]table` statement builds.
pub(crate) fn concurrent_index(sql: &str) -> Option<(Option<String>, String)> {
    let tokens = tokens(sql, 12);
    let word = |i: usize| {
        tokens
            .get(i)
            .map(|(t, quoted)| (t.to_ascii_lowercase(), *quoted))
    };
    let mut i = 0;
    let is = |i: usize, w: &str| word(i).is_some_and(|(t, quoted)| !quoted && t == w);
    if !is(i, "create") {
        return None;
    }
    i += 1;
    if is(i, "unique") {
        i += 1;
    }
    if !(is(i, "index") && is(i + 1, "concurrently")) {
        return None;
    }
    i += 2;
    if is(i, "if") && is(i + 1, "not") && is(i + 2, "exists") {
        i += 3;
    }
    let (name, _) = tokens.get(i)?.clone();
    i += 1;
    if !is(i, "on") {
        return None;
    }
    i += 1;
    if is(i, "only") {
        i += 1;
    }
    let schema = match tokens.get(i + 1) {
        Some((dot, false)) if dot == "." => tokens.get(i).map(|(s, _)| s.clone()),
        _ => None,
    };
    Some((schema, name))
}

/// The first `limit` tokens of a statement: words (folded to lower case, as
/// PostgreSQL folds unquoted names), quoted names (`true`) and single
/// punctuation characters.
fn tokens(sql: &str, limit: usize) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if out.len() >= limit {
            break;
        }
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut name = String::new();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        name.push('"');
                        continue;
                    }
                    break;
                }
                name.push(c);
            }
            out.push((name, true));
        } else if c.is_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if !(c.is_alphanumeric() || c == '_' || c == '$') {
                    break;
                }
                word.push(c.to_ascii_lowercase());
                chars.next();
            }
            out.push((word, false));
        } else {
            chars.next();
            out.push((c.to_string(), false));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::concurrent_index;

    #[test]
    fn finds_the_index_a_concurrent_build_makes() {
        assert_eq!(
            concurrent_index(
                r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Notes_idx" ON "tenant_kct"."customers" ("note")"#
            ),
            Some((Some("tenant_kct".into()), "Notes_idx".into()))
        );
        assert_eq!(
            concurrent_index("create index concurrently orders_idx on only orders (placed_at)"),
            Some((None, "orders_idx".into()))
        );
        assert_eq!(
            concurrent_index("CREATE INDEX orders_idx ON orders (placed_at)"),
            None
        );
    }
}
