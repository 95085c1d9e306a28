//! Check constraints, compared in the server's own spelling.

use strata_manifest::{Check, SchemaState};

use super::{find, rows, tables, Compare, Part, Read};
use crate::canonical::Kind;
use crate::drift::{compare_named, same_expr, Collector, ObjectKind};
use crate::introspect::Catalog;

/// Schema, table, name and definition of every check.
pub(crate) const PART: Part = Part {
    name: "checks",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, con.conname,
            pg_catalog.pg_get_constraintdef(con.oid))
          ORDER BY n.nspname, c.relname, con.conname), '[]')
   FROM pg_catalog.pg_constraint con
   JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND con.contype = 'c'",
    read: Read::Json(|json, catalog| {
        for (schema, table, name, definition) in rows::<(String, String, String, String)>(json)? {
            if let Some(at) = find(&catalog.state, &schema, &table) {
                catalog.state.tables[at].checks.push(Check {
                    name,
                    expr: check_expression(&definition),
                });
            }
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    for (expected, actual) in tables::pairs(expected, catalog) {
        let spelling = catalog.canonical.table(expected);
        compare_named(
            out,
            ObjectKind::Check,
            &expected.schema,
            &expected.checks,
            &actual.checks,
            |c| &c.name,
            |c| c.expr.clone(),
            |a, b| same_expr(&spelling, Kind::Check, &a.expr, &b.expr),
        );
    }
}

/// `CHECK ((total_cents >= 0)) NOT VALID` → `(total_cents >= 0)`.
pub(crate) fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_suffix("NOT VALID").unwrap_or(text).trim();
    text.strip_prefix("CHECK").unwrap_or(text).trim().to_owned()
}
