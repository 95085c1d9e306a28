//! Tables: every ordinary or partitioned table in a managed schema is
//! either a model's or unexpected.

use strata_manifest::{PartitionMethod, Partitioning, SchemaState, Table};

use std::collections::HashSet;

use super::{find, rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Schema, name, comment, row-level security (enabled, forced) and
/// partitioning (method and key columns) of every ordinary or partitioned
/// table in the managed schemas, but partitions (judged by their parent's
/// rule, `partitions.rs`) and those an extension owns (`pg_depend` type
/// `e`): they are the extension's, never drift.
pub(crate) const PART: Part = Part {
    name: "tables",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, ds.description,
            c.relrowsecurity, c.relforcerowsecurity,
            (SELECT json_build_array(p.partstrat,
                      (SELECT json_agg(a.attname ORDER BY k.ord)
                         FROM unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum),
                      CASE WHEN p.partstrat = 'h'
                           THEN (SELECT count(*) FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) END)
               FROM pg_catalog.pg_partitioned_table p WHERE p.partrelid = c.oid)) ORDER BY n.nspname, c.relname), '[]')
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_description ds ON ds.objoid = c.oid
        AND ds.classoid = 'pg_catalog.pg_class'::regclass AND ds.objsubid = 0
   WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                     WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid
                       AND e.deptype = 'e')",
    read: Read::Json(|json, catalog| {
        type Row = (
            String,
            String,
            Option<String>,
            bool,
            bool,
            Option<(String, Vec<String>, Option<u32>)>,
        );
        let mut tables: Vec<Row> = rows(json)?;
        // The binary search of the later parts needs Rust's byte order. The
        // catalog's `name` columns sort as "C" too, but that is PostgreSQL's
        // choice, not ours.
        tables.sort();
        catalog.state.tables = tables
            .into_iter()
            .map(|(schema, name, comment, enabled, forced, partition)| Table {
                comment,
                rls: enabled,
                rls_forced: (enabled != forced).then_some(forced),
                partition: partition.map(|(method, columns, hash)| Partitioning {
                    method: match method.as_str() {
                        "l" => PartitionMethod::List,
                        "h" => PartitionMethod::Hash,
                        _ => PartitionMethod::Range,
                    },
                    columns,
                    interval: None,
                    ahead: 0,
                    default_partition: false,
                    kept: None,
                    hash_partitions: hash,
                }),
                ..Table::new(schema, name)
            })
            .collect();
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    let actual = &catalog.state;
    for table in &expected.tables {
        if find(actual, &table.schema, &table.name).is_none() {
            out.push(
                DifferenceKind::Missing,
                ObjectKind::Table,
                quoted(&[&table.schema, &table.name]),
            );
        }
    }
    let wanted: HashSet<(&str, &str)> = expected
        .tables
        .iter()
        .map(|t| (t.schema.as_str(), t.name.as_str()))
        .collect();
    for table in &actual.tables {
        if !wanted.contains(&(table.schema.as_str(), table.name.as_str())) {
            out.push(
                DifferenceKind::Unexpected,
                ObjectKind::Table,
                quoted(&[&table.schema, &table.name]),
            );
        }
    }
}
