//! Which index a concurrent build makes, read from its statement.

use strata_manifest::lexer::significant;

/// A `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY]
/// [schema.]table …` statement taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConcurrentIndex<'a> {
    /// The index's schema: the table's, if written.
    pub(crate) schema: Option<String>,
    /// The index's name.
    pub(crate) name: String,
    /// `CREATE UNIQUE INDEX`.
    pub(crate) unique: bool,
    /// The table, as written (`"schema"."table"` or `table`).
    pub(crate) table: &'a str,
    /// What follows the table: the method, the keys, `INCLUDE`, `WHERE`.
    pub(crate) rest: &'a str,
}

impl ConcurrentIndex<'_> {
    /// The same index, named `name`, on `table` (as written, `ONLY` and
    /// all): `CREATE [UNIQUE] INDEX {how} "name" ON table …`.
    pub(crate) fn statement(&self, how: &str, name: &str, table: &str) -> String {
        format!(
            "CREATE {}INDEX {how} {} ON {table} {}",
            if self.unique { "UNIQUE " } else { "" },
            strata_manifest::quote_ident(name),
            self.rest
        )
    }
}

/// The concurrent index build `sql` is, if it is one.
pub(crate) fn concurrent_index(sql: &str) -> Option<ConcurrentIndex<'_>> {
    let tokens = significant(sql);
    let is = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.is_word(w));
    let mut i = 0;
    if !is(i, "create") {
        return None;
    }
    i += 1;
    let unique = is(i, "unique");
    if unique {
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
    let first = tokens.get(i)?;
    first.name()?;
    let (schema, last) = match tokens.get(i + 1) {
        Some(dot) if dot.is_punct(".") => (first.name(), tokens.get(i + 2)?),
        _ => (None, first),
    };
    last.name()?;
    Some(ConcurrentIndex {
        schema,
        name,
        unique,
        table: sql.get(first.start..last.end())?,
        rest: sql.get(last.end()..)?.trim(),
    })
}

#[cfg(test)]
mod tests {
    use super::concurrent_index;

    #[test]
    fn finds_the_index_a_concurrent_build_makes() {
        let unique = concurrent_index(
            r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Notes_idx" ON "tenant_kct"."customers" ("note") WHERE x"#,
        )
        .unwrap();
        assert_eq!(unique.schema.as_deref(), Some("tenant_kct"));
        assert_eq!(unique.name, "Notes_idx");
        assert!(unique.unique);
        assert_eq!(unique.table, r#""tenant_kct"."customers""#);
        assert_eq!(unique.rest, r#"("note") WHERE x"#);

        let plain = concurrent_index(
            "create index concurrently orders_idx on only orders using btree (placed_at)",
        )
        .unwrap();
        assert_eq!((plain.schema, plain.name.as_str()), (None, "orders_idx"));
        assert!(!plain.unique);
        assert_eq!(plain.table, "orders");
        assert_eq!(plain.rest, "using btree (placed_at)");

        assert_eq!(
            concurrent_index("CREATE INDEX orders_idx ON orders (placed_at)"),
            None
        );
        assert_eq!(concurrent_index("CREATE INDEX CONCURRENTLY x ON"), None);
    }
}
