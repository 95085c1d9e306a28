//! Publications of `Builder::sql_dir`: each must exist and send what its
//! file says (all tables, or the tables with their column lists and row
//! filters, the schemas, the actions, via the partition root or not); one
//! that no file declares is unexpected. They belong to the database, so
//! every one is read, but strata's own.

use strata_manifest::{Publication, PublishedTable, QualifiedName, SchemaState, ACTIONS};

use super::{rows, Compare, Part, Read};
use crate::drift::{Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

type Row = (
    String,
    bool,
    Vec<(String, String, Option<Vec<String>>, Option<String>)>,
    Vec<String>,
    [bool; 4],
    bool,
);

/// Name, all tables, tables (schema, name, columns sorted by name when a
/// list, row filter), schemas, the four actions and `pubviaroot`.
pub(crate) const PART: Part = Part {
    name: "publications",
    sql: "SELECT coalesce(json_agg(json_build_array(p.pubname, p.puballtables,
            (SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname,
                        CASE WHEN r.prattrs IS NOT NULL THEN
                          (SELECT json_agg(a.attname ORDER BY a.attname) FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = r.prrelid AND a.attnum = ANY (r.prattrs::int2[])) END,
                        pg_catalog.pg_get_expr(r.prqual, r.prrelid))
                      ORDER BY n.nspname, c.relname), '[]')
               FROM pg_catalog.pg_publication_rel r
               JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE r.prpubid = p.oid),
            ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_publication_namespace x
                  JOIN pg_catalog.pg_namespace n ON n.oid = x.pnnspid
                  WHERE x.pnpubid = p.oid ORDER BY 1),
            json_build_array(p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate),
            p.pubviaroot) ORDER BY p.pubname), '[]')
   FROM pg_catalog.pg_publication p
   WHERE p.pubname NOT LIKE 'strata\\_%'",
    read: Read::Json(|json, catalog| {
        for (name, all_tables, tables, schemas, actions, via_root) in rows::<Row>(json)? {
            catalog.state.publications.push(Publication {
                name,
                all_tables,
                tables: tables
                    .into_iter()
                    .map(|(schema, table, columns, filter)| PublishedTable {
                        table: QualifiedName::new(schema, table),
                        columns,
                        filter,
                    })
                    .collect(),
                schemas,
                publish: ACTIONS
                    .iter()
                    .zip(actions)
                    .filter(|(_, on)| *on)
                    .map(|(a, _)| (*a).to_owned())
                    .collect(),
                via_root,
            });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let actual = &catalog.state.publications;
    for want in &expected.publications {
        let Some(have) = actual.iter().find(|p| p.name == want.name) else {
            out.push(Missing, ObjectKind::Publication, want.name.clone());
            continue;
        };
        if !want.same(have) {
            let d = out.push(Changed, ObjectKind::Publication, want.name.clone());
            d.property = Some("definition".to_owned());
            d.expected = Some(want.statement());
            d.actual = Some(have.statement());
        }
    }
    for have in actual {
        if !expected.publications.iter().any(|p| p.name == have.name) {
            out.push(Unexpected, ObjectKind::Publication, have.name.clone());
        }
    }
}
