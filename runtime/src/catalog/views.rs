//! Views and materialized views of `#[strata::view]` models: each must
//! exist, be of its kind, give the struct's columns, and hold the model's
//! definition (as the server spells it); a view in a managed schema that no
//! model declares (and no compat view is) is unexpected.

use std::collections::BTreeSet;

use strata_manifest::{Index, QualifiedName, SchemaState, View};

use super::{rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

type Row = (
    String,
    String,
    bool,
    Vec<String>,
    Option<String>,
    Vec<(String, Vec<String>, bool)>,
);

/// Schema, name, whether materialized, columns in order, definition, and a
/// materialized view's indexes, of every view in the managed schemas but
/// those an extension owns.
pub(crate) const PART: Part = Part {
    name: "views",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, c.relkind = 'm',
            ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
            pg_catalog.pg_get_viewdef(c.oid),
            (SELECT coalesce(json_agg(json_build_array(i.relname,
                        ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                              JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                              ORDER BY k.ord),
                        x.indisunique) ORDER BY i.relname), '[]')
               FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
              WHERE x.indrelid = c.oid))
          ORDER BY n.nspname, c.relname), '[]')
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('v', 'm')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                     WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid
                       AND e.deptype = 'e')",
    read: Read::Json(|json, catalog| {
        for (schema, name, materialized, columns, definition, indexes) in rows::<Row>(json)? {
            catalog.state.add_view(View {
                schema,
                name,
                sql: definition.unwrap_or_default(),
                materialized,
                columns,
                indexes: indexes
                    .into_iter()
                    .map(|(name, columns, unique)| Index {
                        name,
                        columns,
                        unique,
                        predicate: None,
                        ..Index::default()
                    })
                    .collect(),
            });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let kind = |v: &View| {
        if v.materialized {
            "materialized view"
        } else {
            "view"
        }
    };
    let actual = &catalog.state.views;
    let find = |name: &QualifiedName| actual.iter().find(|v| v.qualified_name() == *name);
    for want in &expected.views {
        let name = quoted(&[&want.schema, &want.name]);
        let Some(have) = find(&want.qualified_name()) else {
            out.push(Missing, ObjectKind::View, name).expected = Some(kind(want).to_owned());
            continue;
        };
        let mut changed = |property: &str, expected: String, actual: String| {
            let d = out.push(Changed, ObjectKind::View, name.clone());
            d.property = Some(property.to_owned());
            d.expected = Some(expected);
            d.actual = Some(actual);
        };
        if want.materialized != have.materialized {
            changed("kind", kind(want).to_owned(), kind(have).to_owned());
        }
        // Read by name (the struct's `FromRow`, its `SELECT`), so in any order.
        let sorted = |v: &View| {
            let mut columns = v.columns.clone();
            columns.sort();
            columns
        };
        if sorted(want) != sorted(have) {
            changed("columns", want.columns.join(", "), have.columns.join(", "));
        }
        // Compared where the server could spell the model's definition; a
        // text comparison of two deparsed queries would only add noise.
        let spelled = catalog.canonical.view(want, expected, &catalog.state);
        if let Some(spelled) = spelled {
            if spelled != have.sql {
                changed("definition", spelled.to_owned(), have.sql.clone());
            }
        }
        let indexes = |v: &View| {
            let mut all: Vec<String> = v
                .indexes
                .iter()
                .map(|i| {
                    format!(
                        "{} ({}){}",
                        i.name,
                        i.columns.join(", "),
                        if i.unique { " unique" } else { "" }
                    )
                })
                .collect();
            all.sort();
            all.join("; ")
        };
        if want.materialized && indexes(want) != indexes(have) {
            changed("indexes", indexes(want), indexes(have));
        }
    }
    let declared: BTreeSet<QualifiedName> = expected
        .views
        .iter()
        .map(View::qualified_name)
        .chain(expected.views().map(|(v, _)| v.clone()))
        .collect();
    for have in actual {
        if !declared.contains(&have.qualified_name()) {
            out.push(
                Unexpected,
                ObjectKind::View,
                quoted(&[&have.schema, &have.name]),
            )
            .actual = Some(kind(have).to_owned());
        }
    }
}
