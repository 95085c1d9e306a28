//! Columns: type, nullability, default (in the server's own spelling) and identity.

use strata_manifest::{canonical_default, canonical_expr, quote_ident, Column, Table};

use super::{read_row, Compare, Part, Read, Spell, TableCompare};
use crate::canonical::{Kind, TableSpelling};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};

type Row = (
    String,
    String,
    String,
    String,
    bool,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// Schema, table, column, type (as format_type spells it, but an enum type
/// always as `"schema"."name"`, whatever the search path), nullable, default
/// expression, identity (`a` always, `d` by default, else empty), generation expression and comment, for every live column,
/// in column order, a table's columns together (by table oid: a cheaper
/// sort than by name, and a table's parts find it by name anyway). The enum test is a hashed subplan and the name a
/// lookup for enum columns only: joining every column to `pg_type` cost a
/// sixth of the part.
pub(crate) const PART: Part = Part {
    name: "columns",
    sql: r#"SELECT ARRAY[n.nspname::text, c.relname::text, a.attname::text,
            CASE WHEN a.atttypid IN (SELECT e.oid FROM pg_catalog.pg_type e WHERE e.typtype = 'e')
                 THEN (SELECT '"' || replace(tn.nspname, '"', '""') || '"."' || replace(ty.typname, '"', '""') || '"'
                         FROM pg_catalog.pg_type ty JOIN pg_catalog.pg_namespace tn ON tn.oid = ty.typnamespace
                        WHERE ty.oid = a.atttypid)
                 ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END,
            (NOT a.attnotnull)::text,
            CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
            a.attidentity::text,
            CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
            ds.description]
   FROM pg_catalog.pg_attribute a
   JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   LEFT JOIN pg_catalog.pg_description ds ON ds.objoid = a.attrelid
        AND ds.classoid = 'pg_catalog.pg_class'::regclass AND ds.objsubid = a.attnum
   WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY a.attrelid, a.attnum"#,
    read: Read::Rows(|fields, catalog| {
        let (schema, table, name, sql_type, nullable, default, identity, generated, comment): Row =
            read_row(fields)?;
        if let Some(at) = catalog.table_index(&schema, &table) {
            catalog.state.tables[at].columns.push(Column {
                name,
                sql_type,
                nullable,
                default,
                identity: !identity.is_empty(),
                identity_always: identity == "a",
                generated,
                comment,
                renamed_from: None,
                using: None,
            });
        }
        Ok(())
    }),
    compare: Compare::Table(TableCompare {
        complete_with: "columns",
        compare,
        release: |table| table.columns = Vec::new(),
    }),
};

fn compare(expected: &Table, actual: &Table, canonical: &TableSpelling<'_>, out: &mut Collector) {
    use DifferenceKind::*;
    {
        let name = |column: &str| quoted(&[&expected.schema, &expected.name, column]);
        for column in &expected.columns {
            let Some(found) = actual.column(&column.name) else {
                out.push(Missing, ObjectKind::Column, name(&column.name))
                    .expected = Some(describe(column));
                continue;
            };
            let mut changed = |property: &str, want: Option<String>, have: Option<String>| {
                let d = out.push(Changed, ObjectKind::Column, name(&column.name));
                d.property = Some(property.to_owned());
                d.expected = want;
                d.actual = have;
            };
            if column.sql_type != found.sql_type && !same_type(column, &found.sql_type, canonical) {
                changed(
                    "type",
                    Some(column.sql_type.clone()),
                    Some(found.sql_type.clone()),
                );
            }
            if column.nullable != found.nullable {
                let spell =
                    |nullable: bool| Some(if nullable { "NULL" } else { "NOT NULL" }.to_owned());
                changed("nullability", spell(column.nullable), spell(found.nullable));
            }
            let same_default = match (&column.default, &found.default) {
                (Some(want), Some(have)) => {
                    match canonical.get(Kind::Default, Some(&column.name), want) {
                        Some(spelled) => spelled == have,
                        None => canonical_default(want) == canonical_default(have),
                    }
                }
                (Some(want), None) => {
                    canonical.get(Kind::Default, Some(&column.name), want) == Some("")
                }
                (want, have) => want.is_none() && have.is_none(),
            };
            if !same_default {
                changed("default", column.default.clone(), found.default.clone());
            }
            let same_generated = match (&column.generated, &found.generated) {
                (Some(want), Some(have)) => {
                    match canonical.get(Kind::Generated, Some(&column.name), want) {
                        Some(spelled) => spelled == have,
                        None => canonical_expr(want) == canonical_expr(have),
                    }
                }
                (want, have) => want.is_none() && have.is_none(),
            };
            if !same_generated {
                changed(
                    "generated",
                    column.generated.clone(),
                    found.generated.clone(),
                );
            }
            let kind = |c: &Column| match (c.identity, c.identity_always) {
                (false, _) => None,
                (true, false) => Some("by default".to_owned()),
                (true, true) => Some("always".to_owned()),
            };
            if kind(column) != kind(found) {
                changed("identity", kind(column), kind(found));
            }
        }
        for column in &actual.columns {
            if expected.column(&column.name).is_none() {
                out.push(Unexpected, ObjectKind::Column, name(&column.name))
                    .actual = Some(describe(column));
            }
        }
    }
}

fn describe(column: &Column) -> String {
    let mut text = column.sql_type.clone();
    text.push_str(if column.nullable {
        " NULL"
    } else {
        " NOT NULL"
    });
    if let Some(default) = &column.default {
        text.push_str(" DEFAULT ");
        text.push_str(default);
    }
    if let Some(expr) = &column.generated {
        text.push_str(" GENERATED ALWAYS AS (");
        text.push_str(expr);
        text.push(')');
    }
    text
}

/// The types whose spelling the server decides: those of a schema
/// (`public.geometry(Polygon,4326)`, a domain), and any name strata does
/// not know as built in (`citext`, `ltree`). `format_type` leaves out the
/// schema of a type on the search path and prints a typmod as the type's
/// own function does, so such a type is spelt on a scratch column, in the
/// session that reads the catalog. An enum's type is spelt as the catalog
/// part spells it already.
pub(crate) const SPELL: Spell = Spell {
    part: "columns",
    of_state: |_| Vec::new(),
    of_table: |table| {
        let mut types: Vec<String> = table
            .columns
            .iter()
            .filter(|c| {
                !c.sql_type.starts_with('"') && !strata_manifest::is_builtin_type(&c.sql_type)
            })
            .map(|c| c.sql_type.clone())
            .collect();
        types.sort();
        types.dedup();
        types
    },
    // Not `strata_x_…`: the scratch defaults are read by that prefix.
    scratch: |text, object| {
        Some(format!(
            "CREATE TEMP TABLE {} (c {text});",
            quote_ident(&format!("strata_tc_{object}"))
        ))
    },
    read_back: "SELECT substr(c.relname, 11)::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1
   WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relkind = 'r'
     AND c.relname LIKE 'strata\\_tc\\_%'",
};

/// True when the server spells the model's type of `column` as `found`.
fn same_type(column: &Column, found: &str, spelling: &TableSpelling<'_>) -> bool {
    let i = super::SPELLED.iter().position(|s| s.part == SPELL.part);
    i.and_then(|i| spelling.spelled(i, &column.sql_type))
        .is_some_and(|spelled| spelled == found)
}
