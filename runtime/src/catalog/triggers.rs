//! Triggers of `Builder::sql_dir`: each must exist on its table and hold
//! its file's definition, compared as the server prints both
//! (`pg_get_triggerdef`); a trigger on a managed table that no file
//! declares is unexpected. Triggers PostgreSQL makes itself (for foreign
//! keys, and the clone of a partitioned table's trigger on each of its
//! partitions) are not read.

use strata_manifest::{definition_shape, SchemaState, Trigger};

use super::{rows, Compare, Part, Read};
use crate::drift::{Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Schema, table, name, function and definition of every trigger on a
/// table or view in the managed schemas, but internal ones.
pub(crate) const PART: Part = Part {
    name: "triggers",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, t.tgname,
            fn.nspname || '.' || f.proname, pg_catalog.pg_get_triggerdef(t.oid))
          ORDER BY n.nspname, c.relname, t.tgname), '[]')
   FROM pg_catalog.pg_trigger t
   JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   JOIN pg_catalog.pg_proc f ON f.oid = t.tgfoid
   JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
   WHERE n.nspname = ANY($1::text[]) AND NOT t.tgisinternal AND t.tgparentid = 0",
    read: Read::Json(|json, catalog| {
        for (schema, table, name, function, sql) in
            rows::<(String, String, String, String, String)>(json)?
        {
            catalog.state.add_trigger(Trigger {
                schema,
                table,
                name,
                function,
                sql,
            });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let actual = &catalog.state.triggers;
    let find = |among: &'_ [Trigger], t: &Trigger| {
        among
            .iter()
            .find(|o| o.schema == t.schema && o.table == t.table && o.name == t.name)
            .cloned()
    };
    for want in &expected.triggers {
        let Some(have) = find(actual, want) else {
            out.push(Missing, ObjectKind::Trigger, want.full_name())
                .expected = Some(format!("executing {}", want.function));
            continue;
        };
        if let Some(spelled) = catalog.canonical.trigger(want, expected) {
            if spelled != definition_shape(&have.sql) {
                let d = out.push(Changed, ObjectKind::Trigger, want.full_name());
                d.property = Some("definition".to_owned());
                // The file's statement, and the server's print of the live one.
                d.expected = Some(want.sql.clone());
                d.actual = Some(have.sql.clone());
            }
        }
    }
    for have in actual {
        if find(&expected.triggers, have).is_none() {
            out.push(Unexpected, ObjectKind::Trigger, have.full_name())
                .actual = Some(format!("executing {}", have.function));
        }
    }
}
