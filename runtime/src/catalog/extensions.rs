//! Extensions: each one the build names must be installed.

use strata_manifest::SchemaState;

use super::{rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Every installed extension (a short list; no schema filter applies).
pub(crate) const PART: Part = Part {
    name: "extensions",
    sql: "SELECT coalesce(json_agg(x.extname ORDER BY x.extname), '[]') FROM pg_catalog.pg_extension x",
    read: Read::Json(|json, catalog| {
        catalog.state.extensions = rows::<String>(json)?.into_iter().collect();
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    for extension in expected.extensions.difference(&catalog.state.extensions) {
        out.push(
            DifferenceKind::Missing,
            ObjectKind::Extension,
            quoted(&[extension]),
        );
    }
}
