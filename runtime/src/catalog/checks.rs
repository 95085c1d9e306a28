//! Check constraints, compared in the server's own spelling.

use strata_manifest::{Check, Table};

use super::{read_row, Compare, Part, Read, TableCompare};
use crate::canonical::{Kind, TableSpelling};
use crate::drift::{compare_named, same_expr, Collector, ObjectKind};

/// Schema, table, name and definition of every check, a table's together.
pub(crate) const PART: Part = Part {
    name: "checks",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text, con.conname::text,
            pg_catalog.pg_get_constraintdef(con.oid)]
   FROM pg_catalog.pg_constraint con
   JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND con.contype = 'c'
   ORDER BY con.conrelid, con.conname",
    read: Read::Rows(|fields, catalog| {
        let (schema, table, name, definition): (String, String, String, String) = read_row(fields)?;
        if let Some(at) = catalog.table_index(&schema, &table) {
            catalog.state.tables[at].checks.push(Check {
                name,
                expr: check_expression(&definition),
            });
        }
        Ok(())
    }),
    compare: Compare::Table(TableCompare {
        complete_with: "checks",
        compare,
        release: |table| table.checks = Vec::new(),
    }),
};

fn compare(expected: &Table, actual: &Table, spelling: &TableSpelling<'_>, out: &mut Collector) {
    compare_named(
        out,
        ObjectKind::Check,
        &expected.schema,
        &expected.checks,
        &actual.checks,
        |c| &c.name,
        |c| c.expr.clone(),
        |a, b| same_expr(spelling, Kind::Check, &a.expr, &b.expr),
    );
}

/// `CHECK ((total_cents >= 0)) NOT VALID` → `(total_cents >= 0)`.
pub(crate) fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_suffix("NOT VALID").unwrap_or(text).trim();
    text.strip_prefix("CHECK").unwrap_or(text).trim().to_owned()
}
