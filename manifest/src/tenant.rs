//! The tenant stream: tables that exist once per tenant schema, written with
//! a placeholder schema that the runtime replaces by the tenant's.

use crate::ident::quote_ident;
use crate::lexer::{tokenize, TokenKind};
use crate::SchemaState;

/// The schema name tenant models and the tenant stream's migrations carry in
/// place of a tenant's schema. In SQL it always appears quoted, as
/// `"{tenant}"`, which no tenant schema name can spell (tenant schemas are
/// lowercase letters, digits and underscores).
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// `template` with the tenant's schema (`quoted_schema`, already quoted
/// with [`quote_ident`]) wherever the quoted placeholder stands as a schema
/// name: before the `.` of a qualified name, or after `SCHEMA` (`CREATE
/// SCHEMA IF NOT EXISTS "{tenant}"`, `SET SCHEMA "{tenant}"`). The text is
/// read by the one lexer, so string literals, comments, dollar-quoted
/// bodies and a column that happens to be called `{tenant}` are left as
/// they are. This is the one function that turns tenant SQL into a
/// tenant's SQL; [`SchemaState::for_tenant`] is its twin for states.
///
/// ```
/// use strata_manifest::{tenant_sql, quote_ident};
/// let sql = tenant_sql(r#"SELECT * FROM "{tenant}"."contacts""#, &quote_ident("tenant_acme"));
/// assert_eq!(sql, r#"SELECT * FROM "tenant_acme"."contacts""#);
/// ```
pub fn tenant_sql(template: &str, quoted_schema: &str) -> String {
    let placeholder = quote_ident(TENANT_PLACEHOLDER);
    let tokens = tokenize(template);
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !tokens[i].is_trivia())
        .collect();
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0;
    for (n, &i) in significant.iter().enumerate() {
        let token = &tokens[i];
        if token.kind != TokenKind::QuotedIdent || token.text != placeholder {
            continue;
        }
        let at = |k: usize| significant.get(k).map(|&j| &tokens[j]);
        let before_dot = at(n + 1).is_some_and(|t| t.is_punct("."));
        let back = |k: usize| n.checked_sub(k).and_then(at);
        let after_schema = back(1).is_some_and(|t| t.is_word("schema"))
            || (back(1).is_some_and(|t| t.is_word("exists"))
                && (back(2).is_some_and(|t| t.is_word("if"))
                    && back(3).is_some_and(|t| t.is_word("schema"))
                    || back(2).is_some_and(|t| t.is_word("not"))
                        && back(3).is_some_and(|t| t.is_word("if"))
                        && back(4).is_some_and(|t| t.is_word("schema"))));
        if before_dot || after_schema {
            out.push_str(template.get(next..token.start).unwrap_or_default());
            out.push_str(quoted_schema);
            next = token.end();
        }
    }
    out.push_str(template.get(next..).unwrap_or_default());
    out
}

/// The marker line of a tenant migration before its steps that run after
/// the tenant's transaction, each on its own: the concurrent index builds,
/// the validations and the keys `USING INDEX` of a change to tables every
/// tenant has already.
pub const AFTER_TRANSACTION: &str = "-- strata:after-transaction";

/// `sql` split at its [`AFTER_TRANSACTION`] marker: what runs in the
/// tenant's transaction, and what runs after it, if anything does.
///
/// ```
/// use strata_manifest::after_transaction;
/// let (head, tail) = after_transaction("SELECT 1;\n-- strata:after-transaction\nSELECT 2;\n");
/// assert_eq!(head, "SELECT 1;\n");
/// assert_eq!(tail, Some("-- strata:after-transaction\nSELECT 2;\n"));
/// assert_eq!(after_transaction("SELECT 1;"), ("SELECT 1;", None));
/// ```
pub fn after_transaction(sql: &str) -> (&str, Option<&str>) {
    let marker = tokenize(sql)
        .into_iter()
        .find(|t| t.kind == TokenKind::Comment && t.text.trim_end() == AFTER_TRANSACTION);
    match marker.and_then(|t| Some((sql.get(..t.start)?, sql.get(t.start..)?))) {
        Some((head, tail)) => (head, Some(tail)),
        None => (sql, None),
    }
}

/// `sql` in a form that runs inside a transaction: `CONCURRENTLY` taken out
/// of every `CREATE [UNIQUE] INDEX` and `DROP INDEX`. For a new tenant,
/// whose tables are new, the steps after the transaction run in it.
///
/// ```
/// use strata_manifest::in_one_transaction;
/// assert_eq!(
///     in_one_transaction("CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX CONCURRENTLY IF EXISTS j;"),
///     "CREATE UNIQUE INDEX i ON t (a);\nDROP INDEX IF EXISTS j;"
/// );
/// ```
pub fn in_one_transaction(sql: &str) -> String {
    let tokens = tokenize(sql);
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !tokens[i].is_trivia())
        .collect();
    let mut out = String::with_capacity(sql.len());
    let mut next = 0;
    let mut statement_start = 0;
    let mut ends = crate::lexer::StatementEnds::default();
    for (n, &i) in significant.iter().enumerate() {
        let token = &tokens[i];
        if ends.ends_at(token) {
            statement_start = n + 1;
            continue;
        }
        if !token.is_word("concurrently") {
            continue;
        }
        let word = |k: usize| significant.get(k).map(|&j| &tokens[j]);
        let from = n - statement_start;
        let create = word(statement_start).is_some_and(|t| t.is_word("create"))
            && ((from == 2 && word(n - 1).is_some_and(|t| t.is_word("index")))
                || (from == 3
                    && word(n - 2).is_some_and(|t| t.is_word("unique"))
                    && word(n - 1).is_some_and(|t| t.is_word("index"))));
        let drop = from == 2
            && word(statement_start).is_some_and(|t| t.is_word("drop"))
            && word(n - 1).is_some_and(|t| t.is_word("index"));
        if create || drop {
            out.push_str(sql.get(next..token.start).unwrap_or_default());
            // The word and the space after it.
            next = tokens
                .get(i + 1)
                .filter(|t| t.kind == TokenKind::Space)
                .map_or(token.end(), |t| t.end());
        }
    }
    out.push_str(sql.get(next..).unwrap_or_default());
    out
}

impl SchemaState {
    /// This tenant-stream state with the placeholder schema replaced by
    /// `schema`: what one tenant's schema must look like. Names in shared
    /// schemas (the targets of foreign keys into shared tables) stay as they are.
    pub fn for_tenant(&self, schema: &str) -> SchemaState {
        let swap = |name: &mut String| {
            if name == TENANT_PLACEHOLDER {
                *name = schema.to_owned();
            }
        };
        let mut state = self.clone();
        state.schemas = self
            .schemas
            .iter()
            .map(|s| {
                let mut s = s.clone();
                swap(&mut s);
                s
            })
            .collect();
        for table in &mut state.tables {
            swap(&mut table.schema);
            for key in &mut table.foreign_keys {
                swap(&mut key.references.schema);
            }
            if let Some(view) = &mut table.compat_view {
                swap(&mut view.schema);
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, ForeignKey, QualifiedName, Table};

    #[test]
    fn a_tenant_state_keeps_references_to_shared_tables() {
        let mut state = SchemaState::default();
        let mut contacts = Table::new(TENANT_PLACEHOLDER, "contacts");
        for (name, target) in [
            ("type_id", QualifiedName::new("contact", "contact_types")),
            (
                "parent_id",
                QualifiedName::new(TENANT_PLACEHOLDER, "contacts"),
            ),
        ] {
            contacts.add_foreign_key(ForeignKey {
                name: format!("{name}_fkey"),
                columns: vec![name.to_owned()],
                references: target,
                referenced_columns: vec!["id".to_owned()],
                on_delete: Action::NoAction,
                on_update: Action::NoAction,
                deferral: Default::default(),
                not_valid: false,
            });
        }
        state.add_table(contacts);
        let one = state.for_tenant("tenant_acme");
        assert_eq!(one.schemas.iter().collect::<Vec<_>>(), ["tenant_acme"]);
        let table = one.table("tenant_acme", "contacts").unwrap();
        let targets: Vec<_> = table
            .foreign_keys
            .iter()
            .map(|k| format!("{}.{}", k.references.schema, k.references.name))
            .collect();
        assert_eq!(targets, ["tenant_acme.contacts", "contact.contact_types"]);
    }

    #[test]
    fn only_a_schema_name_is_replaced() {
        let sql = tenant_sql(
            "-- \"{tenant}\".x in a comment\nCREATE SCHEMA IF NOT EXISTS \"{tenant}\";\n\
             ALTER TABLE \"{tenant}\".\"{tenant}\" ADD COLUMN \"{tenant}\" text \
             DEFAULT '\"{tenant}\".x' CHECK (\"{tenant}\" <> $$\"{tenant}\".y$$);\n\
             ALTER TABLE \"s\".\"t\" SET SCHEMA \"{tenant}\"",
            r#""tenant_a""#,
        );
        assert_eq!(
            sql,
            "-- \"{tenant}\".x in a comment\nCREATE SCHEMA IF NOT EXISTS \"tenant_a\";\n\
             ALTER TABLE \"tenant_a\".\"{tenant}\" ADD COLUMN \"{tenant}\" text \
             DEFAULT '\"{tenant}\".x' CHECK (\"{tenant}\" <> $$\"{tenant}\".y$$);\n\
             ALTER TABLE \"s\".\"t\" SET SCHEMA \"tenant_a\""
        );
    }

    #[test]
    fn only_the_quoted_placeholder_is_replaced() {
        let sql = tenant_sql(
            r#"CREATE TABLE "{tenant}"."t" ("x" text DEFAULT '{tenant}')"#,
            r#""tenant_a""#,
        );
        assert_eq!(
            sql,
            r#"CREATE TABLE "tenant_a"."t" ("x" text DEFAULT '{tenant}')"#
        );
    }
}
