//! Primary keys, unique constraints and foreign keys.

use strata_manifest::{Action, ForeignKey, Key, QualifiedName, SchemaState};

use super::{find, read_row, tables, Part, Read};
use crate::drift::{compare_named, quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

type Row = (
    String,
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    String,
    String,
);

/// Schema, table, name, kind ('p', 'u' or 'f'), columns in key order, and for
/// a foreign key the referenced schema, table and columns and its ON DELETE /
/// ON UPDATE codes.
pub(crate) const PART: Part = Part {
    name: "keys",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
            array_to_json(ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)
                  ORDER BY array_position(con.conkey, a.attnum)))::text,
            fn.nspname::text, fc.relname::text,
            array_to_json(ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = con.confrelid AND a.attnum = ANY(con.confkey)
                  ORDER BY array_position(con.confkey, a.attnum)))::text,
            con.confdeltype::text, con.confupdtype::text]
   FROM pg_catalog.pg_constraint con
   JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
   LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND con.contype IN ('p', 'u', 'f')
   ORDER BY n.nspname, c.relname, con.conname",
    read: Read::Rows(|fields, catalog| {
        let row: Row = read_row(fields)?;
        let (
            schema,
            table,
            name,
            kind,
            columns,
            ref_schema,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
        ) = row;
        let Some(at) = find(&catalog.state, &schema, &table) else {
            return Ok(());
        };
        let t = &mut catalog.state.tables[at];
        match kind.as_str() {
            "p" => t.primary_key = Some(Key { name, columns }),
            "u" => t.uniques.push(Key { name, columns }),
            _ => t.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: QualifiedName::new(
                    ref_schema.unwrap_or_default(),
                    ref_table.unwrap_or_default(),
                ),
                referenced_columns: ref_columns,
                on_delete: action(&on_delete),
                on_update: action(&on_update),
            }),
        }
        Ok(())
    }),
    compare,
};

/// `confdeltype` / `confupdtype` codes.
fn action(code: &str) -> Action {
    match code {
        "r" => Action::Restrict,
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    for (expected, actual) in tables::pairs(expected, catalog) {
        let table = quoted(&[&expected.schema, &expected.name]);
        match (&expected.primary_key, &actual.primary_key) {
            (Some(want), None) => {
                out.push(Missing, ObjectKind::PrimaryKey, table.clone())
                    .expected = Some(describe_key(want));
            }
            (None, Some(have)) => {
                out.push(Unexpected, ObjectKind::PrimaryKey, table.clone())
                    .actual = Some(describe_key(have));
            }
            (Some(want), Some(have)) if want.columns != have.columns => {
                let d = out.push(Changed, ObjectKind::PrimaryKey, table.clone());
                d.expected = Some(describe_key(want));
                d.actual = Some(describe_key(have));
            }
            _ => {}
        }
        let name = |key: &Key| quoted(&[&expected.schema, &key.name]);
        for key in &expected.uniques {
            if !actual.uniques.iter().any(|k| k.columns == key.columns) {
                out.push(Missing, ObjectKind::Unique, name(key)).expected = Some(describe_key(key));
            }
        }
        for key in &actual.uniques {
            if !expected.uniques.iter().any(|k| k.columns == key.columns) {
                out.push(Unexpected, ObjectKind::Unique, name(key)).actual =
                    Some(describe_key(key));
            }
        }
        compare_named(
            out,
            ObjectKind::ForeignKey,
            &expected.schema,
            &expected.foreign_keys,
            &actual.foreign_keys,
            |k| &k.name,
            describe_foreign_key,
            |a, b| a == b,
        );
    }
}

fn describe_key(key: &Key) -> String {
    format!("{} ({})", key.name, key.columns.join(", "))
}

fn describe_foreign_key(key: &ForeignKey) -> String {
    let mut text = format!(
        "({}) references {} ({})",
        key.columns.join(", "),
        quoted(&[&key.references.schema, &key.references.name]),
        key.referenced_columns.join(", ")
    );
    for (what, action) in [("on delete", key.on_delete), ("on update", key.on_update)] {
        if !action.is_default() {
            text.push_str(&format!(" {what} {}", action.sql().to_ascii_lowercase()));
        }
    }
    text
}
