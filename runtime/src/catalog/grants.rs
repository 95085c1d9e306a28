//! Grants: what each role the models declare (`Builder::role`) may do with
//! each table, and its `USAGE` on the schemas. Grants to roles the models
//! do not declare are not strata's, and not read into the comparison.

use std::collections::BTreeSet;

use strata_manifest::{schema_usage, Grant, Privilege, SchemaState};

use super::{find, read_row, rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Schema, table, role and privileges of every grant on a table in the
/// managed schemas to a role other than its owner, a table's together.
pub(crate) const TABLES: Part = Part {
    name: "grants",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text, pg_catalog.pg_get_userbyid(a.grantee)::text,
            array_to_json(array_agg(a.privilege_type::text ORDER BY a.privilege_type))::text]
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS a
   WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND a.grantee <> c.relowner AND a.grantee <> 0
   GROUP BY c.oid, n.nspname, c.relname, pg_catalog.pg_get_userbyid(a.grantee)
   ORDER BY c.oid, pg_catalog.pg_get_userbyid(a.grantee)",
    read: Read::Rows(|fields, catalog| {
        let (schema, table, role, privileges): (String, String, String, Vec<String>) =
            read_row(fields)?;
        if let Some(at) = catalog.table_index(&schema, &table) {
            let mut privileges: Vec<Privilege> = privileges
                .iter()
                .filter_map(|p| Privilege::parse(p))
                .collect();
            privileges.sort();
            catalog.state.tables[at].add_grant(Grant { role, privileges });
        }
        Ok(())
    }),
    compare: Compare::State(compare_tables),
};

/// Each managed schema and role with `USAGE` on it, but its owner.
pub(crate) const SCHEMAS: Part = Part {
    name: "schema grants",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, pg_catalog.pg_get_userbyid(a.grantee))), '[]')
   FROM pg_catalog.pg_namespace n
   CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) AS a
   WHERE n.nspname = ANY($1::text[]) AND a.privilege_type = 'USAGE' AND a.grantee <> n.nspowner AND a.grantee <> 0",
    read: Read::Json(|json, catalog| {
        catalog.schema_usage = rows::<(String, String)>(json)?.into_iter().collect();
        Ok(())
    }),
    compare: Compare::State(compare_schemas),
};

/// `select, insert`.
pub(crate) fn spell(privileges: &[Privilege]) -> String {
    privileges
        .iter()
        .map(|p| p.sql().to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

fn compare_tables(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    for want in &expected.tables {
        let Some(at) = find(&catalog.state, &want.schema, &want.name) else {
            continue;
        };
        let have = &catalog.state.tables[at];
        for role in &expected.roles {
            let (wanted, had) = (want.privileges_of(role), have.privileges_of(role));
            if wanted == had {
                continue;
            }
            let kind = match (wanted.is_empty(), had.is_empty()) {
                (false, true) => Missing,
                (true, false) => Unexpected,
                _ => Changed,
            };
            let d = out.push(kind, ObjectKind::Grant, quoted(&[&want.schema, &want.name]));
            d.property = Some(format!("privileges of {role}"));
            d.expected = (!wanted.is_empty()).then(|| spell(wanted));
            d.actual = (!had.is_empty()).then(|| spell(had));
        }
    }
}

fn compare_schemas(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    let wanted = schema_usage(expected);
    let declared = |role: &String| expected.roles.contains(role);
    let had: BTreeSet<(String, String)> = catalog
        .schema_usage
        .iter()
        .filter(|(_, role)| declared(role))
        .cloned()
        .collect();
    for (kind, pairs) in [
        (DifferenceKind::Missing, wanted.difference(&had)),
        (DifferenceKind::Unexpected, had.difference(&wanted)),
    ] {
        for (schema, role) in pairs {
            let d = out.push(kind, ObjectKind::Grant, quoted(&[schema]));
            d.property = Some(format!("usage of {role}"));
        }
    }
}
