//! Extensions: each one the build names must be installed.

use strata_manifest::SchemaState;

use super::{rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Every installed extension and its schema (a short list; no schema
/// filter applies).
pub(crate) const PART: Part = Part {
    name: "extensions",
    sql:
        "SELECT coalesce(json_agg(json_build_array(x.extname, n.nspname) ORDER BY x.extname), '[]')
   FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace",
    read: Read::Json(|json, catalog| {
        for (name, schema) in rows::<(String, String)>(json)? {
            catalog.state.extensions.insert(name.clone());
            catalog.state.extension_schemas.insert(name, schema);
        }
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
    for (extension, want) in &expected.extension_schemas {
        let have = catalog.state.extension_schemas.get(extension);
        if have.is_some_and(|have| have != want) {
            let d = out.push(
                DifferenceKind::Changed,
                ObjectKind::Extension,
                quoted(&[extension]),
            );
            d.property = Some("schema".to_owned());
            d.expected = Some(want.clone());
            d.actual = have.cloned();
        }
    }
}
