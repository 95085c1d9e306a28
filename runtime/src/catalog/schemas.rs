//! Schemas: each managed schema must exist.

use strata_manifest::SchemaState;

use super::{rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// The managed schemas that exist.
pub(crate) const PART: Part = Part {
    name: "schemas",
    sql: "SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname), '[]')
   FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[])",
    read: Read::Json(|json, catalog| {
        catalog.state.schemas = rows::<String>(json)?.into_iter().collect();
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    for schema in expected.schemas.difference(&catalog.state.schemas) {
        out.push(
            DifferenceKind::Missing,
            ObjectKind::Schema,
            quoted(&[schema]),
        );
    }
}
