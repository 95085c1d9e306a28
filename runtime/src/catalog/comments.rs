//! Comments on tables and columns.

use strata_manifest::SchemaState;

use super::{find, rows, tables, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Schema, table, column (none for the table's own) and text of every
/// comment on a table in the managed schemas or on one of its columns.
pub(crate) const PART: Part = Part {
    name: "comments",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, a.attname, d.description)), '[]')
   FROM pg_catalog.pg_description d
   JOIN pg_catalog.pg_class c ON c.oid = d.objoid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
   WHERE d.classoid = 'pg_catalog.pg_class'::regclass
     AND n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p')",
    read: Read::Json(|json, catalog| {
        type Row = (String, String, Option<String>, String);
        for (schema, table, column, text) in rows::<Row>(json)? {
            let Some(at) = find(&catalog.state, &schema, &table) else {
                continue;
            };
            let t = &mut catalog.state.tables[at];
            match column {
                None => t.comment = Some(text),
                Some(column) => {
                    if let Some(c) = t.columns.iter_mut().find(|c| c.name == column) {
                        c.comment = Some(text);
                    }
                }
            }
        }
        Ok(())
    }),
    compare,
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    for (expected, actual) in tables::pairs(expected, catalog) {
        let mut changed = |object, name: String, want: &Option<String>, have: &Option<String>| {
            if want != have {
                let d = out.push(DifferenceKind::Changed, object, name);
                d.property = Some("comment".to_owned());
                d.expected = want.clone();
                d.actual = have.clone();
            }
        };
        changed(
            ObjectKind::Table,
            quoted(&[&expected.schema, &expected.name]),
            &expected.comment,
            &actual.comment,
        );
        for column in &expected.columns {
            if let Some(found) = actual.column(&column.name) {
                changed(
                    ObjectKind::Column,
                    quoted(&[&expected.schema, &expected.name, &column.name]),
                    &column.comment,
                    &found.comment,
                );
            }
        }
    }
}
