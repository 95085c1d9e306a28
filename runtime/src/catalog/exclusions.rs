//! Exclusion constraints of `Builder::sql_dir`, on their tables: each must
//! exist with its file's definition, compared in the server's spelling
//! (the file's constraint is added to a scratch copy of its table and read
//! back as the live ones are); one on a managed table that no file
//! declares is unexpected.

use strata_manifest::{quote_ident, Exclusion, Table};

use super::{read_row, Compare, Part, Read, Spell, TableCompare};
use crate::canonical::TableSpelling;
use crate::drift::{compare_named, Collector, ObjectKind};

/// Schema, table, name and definition of every exclusion constraint, a
/// table's together.
pub(crate) const PART: Part = Part {
    name: "exclusions",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text, con.conname::text,
            pg_catalog.pg_get_constraintdef(con.oid)]
   FROM pg_catalog.pg_constraint con
   JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND con.contype = 'x'
   ORDER BY con.conrelid, con.conname",
    read: Read::Rows(|fields, catalog| {
        let (schema, table, name, definition): (String, String, String, String) = read_row(fields)?;
        if let Some(at) = catalog.table_index(&schema, &table) {
            catalog.state.tables[at]
                .exclusions
                .push(Exclusion { name, definition });
        }
        Ok(())
    }),
    compare: Compare::Table(TableCompare {
        complete_with: "exclusions",
        compare,
        release: |table| table.exclusions = Vec::new(),
    }),
};

/// Each constraint's statement, run on a scratch copy of its table's columns.
pub(crate) const SPELL: Spell = Spell {
    part: "exclusions",
    of_state: |_| Vec::new(),
    of_table: |table| {
        let name = table.qualified_name();
        table
            .exclusions
            .iter()
            .map(|e| e.statement(&name))
            .collect()
    },
    scratch: |text, object| {
        let (table, exclusion) = Exclusion::from_sql(text).ok()?;
        // Not `strata_x_…`: the scratch defaults and predicates are read by that prefix.
        let copy = quote_ident(&format!("strata_tx_{object}"));
        Some(format!(
            "CREATE TEMP TABLE {copy} (LIKE {});\nALTER TABLE pg_temp.{copy} ADD CONSTRAINT {} {};",
            strata_manifest::qualified(&table.schema, &table.name),
            quote_ident(object),
            exclusion.definition
        ))
    },
    read_back: "SELECT c.conname::text, pg_catalog.pg_get_constraintdef(c.oid)
   FROM pg_catalog.pg_constraint c
   WHERE c.connamespace = pg_catalog.pg_my_temp_schema() AND c.contype = 'x'
     AND c.conname LIKE 'strata\\_x\\_%'",
};

fn compare(expected: &Table, actual: &Table, spelling: &TableSpelling<'_>, out: &mut Collector) {
    let i = super::SPELLED.iter().position(|s| s.part == SPELL.part);
    let name = expected.qualified_name();
    compare_named(
        out,
        ObjectKind::Exclusion,
        &expected.schema,
        &expected.exclusions,
        &actual.exclusions,
        |e| &e.name,
        |e| e.definition.clone(),
        |want, have| {
            if want.definition.trim() == have.definition.trim() {
                return true;
            }
            match i.and_then(|i| spelling.spelled(i, &want.statement(&name))) {
                Some(spelled) => spelled == have.definition,
                None => {
                    strata_manifest::canonical_expr(&want.definition)
                        == strata_manifest::canonical_expr(&have.definition)
                }
            }
        },
    );
}
