//! Which index a concurrent build makes, read from its statement.

use strata_manifest::lexer::significant;

/// The schema (if written) and name of the index a `CREATE [UNIQUE] INDEX
/// CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] [schema.]table` statement builds.
pub(crate) fn concurrent_index(sql: &str) -> Option<(Option<String>, String)> {
    let tokens = significant(sql);
    let is = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.is_word(w));
    let mut i = 0;
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
    let name = tokens.get(i)?.name()?;
    i += 1;
    if !is(i, "on") {
        return None;
    }
    i += 1;
    if is(i, "only") {
        i += 1;
    }
    let schema = match tokens.get(i + 1) {
        Some(dot) if dot.is_punct(".") => tokens.get(i).and_then(|t| t.name()),
        _ => None,
    };
    Some((schema, name))
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
