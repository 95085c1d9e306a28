//! Enum types: each must exist with its values in order; an enum type in a
//! managed schema that no model declares is unexpected.

use strata_manifest::{EnumType, SchemaState};

use super::{rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Schema, name and values (in their order) of every enum type in the
/// managed schemas, but those an extension owns.
pub(crate) const PART: Part = Part {
    name: "enums",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, t.typname,
            ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                  WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder))
          ORDER BY n.nspname, t.typname), '[]')
   FROM pg_catalog.pg_type t
   JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = ANY($1::text[]) AND t.typtype = 'e'
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                     WHERE x.classid = 'pg_catalog.pg_type'::regclass AND x.objid = t.oid
                       AND x.deptype = 'e')",
    read: Read::Json(|json, catalog| {
        for (schema, name, values) in rows::<(String, String, Vec<String>)>(json)? {
            catalog.state.add_enum(EnumType {
                schema,
                name,
                values,
                renamed_values: Vec::new(),
            });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let find = |state: &'_ SchemaState, e: &EnumType| {
        state
            .enums
            .iter()
            .find(|f| f.schema == e.schema && f.name == e.name)
            .cloned()
    };
    for want in &expected.enums {
        let name = quoted(&[&want.schema, &want.name]);
        match find(&catalog.state, want) {
            None => {
                out.push(Missing, ObjectKind::Enum, name).expected = Some(want.values.join(", "));
            }
            Some(have) if have.values != want.values => {
                let d = out.push(Changed, ObjectKind::Enum, name);
                d.property = Some("values".to_owned());
                d.expected = Some(want.values.join(", "));
                d.actual = Some(have.values.join(", "));
            }
            Some(_) => {}
        }
    }
    for have in &catalog.state.enums {
        if find(expected, have).is_none() {
            out.push(
                Unexpected,
                ObjectKind::Enum,
                quoted(&[&have.schema, &have.name]),
            )
            .actual = Some(have.values.join(", "));
        }
    }
}
