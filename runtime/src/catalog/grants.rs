//! Grants: what each role the models declare (`Builder::role`) may do with
//! each table, and its `USAGE` on the schemas. Grants to roles the models
//! do not declare are not strata's, and not read into the comparison.
//! The privileges on functions, procedures, sequences and types are read
//! whole: where they differ from a new object's.

use std::collections::BTreeSet;

use strata_manifest::object_grant::{deviations, Acl};
use strata_manifest::{
    schema_usage, DefaultPrivileges, Grant, ObjectPrivilege, ObjectRef, ObjectRefKind, Privilege,
    SchemaState,
};

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

/// Each schema the expected grants can name (a managed one, or one that
/// holds a compat view, such as `public` after its last table moved out)
/// and role with `USAGE` on it, but its owner.
pub(crate) const SCHEMAS: Part = Part {
    name: "schema grants",
    sql: "SELECT coalesce(json_agg(json_build_array(n.nspname, pg_catalog.pg_get_userbyid(a.grantee))), '[]')
   FROM pg_catalog.pg_namespace n
   CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) AS a
   WHERE (n.nspname = ANY($1::text[]) OR n.nspname = ANY($2::text[]))
     AND a.privilege_type = 'USAGE' AND a.grantee <> n.nspowner AND a.grantee <> 0",
    read: Read::Json(|json, catalog| {
        catalog.schema_usage = rows::<(String, String)>(json)?.into_iter().collect();
        Ok(())
    }),
    compare: Compare::State(compare_schemas),
};

/// Schema, role and privilege of every default privilege on the tables
/// made later in a managed schema, whichever role's tables they are for.
pub(crate) const DEFAULTS: Part = Part {
    name: "default privileges",
    sql:
        "SELECT coalesce(json_agg(json_build_array(n.nspname, pg_catalog.pg_get_userbyid(a.grantee),
            a.privilege_type)), '[]')
   FROM pg_catalog.pg_default_acl d
   JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
   CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) AS a
   WHERE n.nspname = ANY($1::text[]) AND d.defaclobjtype = 'r' AND a.grantee <> 0",
    read: Read::Json(|json, catalog| {
        let mut by_pair: std::collections::BTreeMap<(String, String), BTreeSet<Privilege>> =
            Default::default();
        for (schema, role, privilege) in rows::<(String, String, String)>(json)? {
            if let Some(p) = Privilege::parse(&privilege) {
                by_pair.entry((schema, role)).or_default().insert(p);
            }
        }
        catalog.state.default_privileges = by_pair
            .into_iter()
            .map(|((schema, role), privileges)| DefaultPrivileges {
                schema,
                role,
                privileges: privileges.into_iter().collect(),
            })
            .collect();
        Ok(())
    }),
    compare: Compare::State(compare_defaults),
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
            differ(
                out,
                quoted(&[&want.schema, &want.name]),
                format!("privileges of {role}"),
                wanted,
                had,
            );
        }
    }
}

/// A grant difference on `name`: the privileges `wanted` and those `had`
/// (which differ), missing when none is had, unexpected when none is wanted.
fn differ(
    out: &mut Collector,
    name: String,
    property: String,
    wanted: &[Privilege],
    had: &[Privilege],
) {
    let kind = match (wanted.is_empty(), had.is_empty()) {
        (false, true) => DifferenceKind::Missing,
        (true, false) => DifferenceKind::Unexpected,
        _ => DifferenceKind::Changed,
    };
    let d = out.push(kind, ObjectKind::Grant, name);
    d.property = Some(property);
    d.expected = (!wanted.is_empty()).then(|| spell(wanted));
    d.actual = (!had.is_empty()).then(|| spell(had));
}

fn compare_defaults(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    let of = |state: &SchemaState, schema: &str, role: &str| {
        state
            .default_privileges
            .iter()
            .find(|d| d.schema == schema && d.role == role)
            .map(|d| d.privileges.clone())
            .unwrap_or_default()
    };
    let pairs: BTreeSet<(&str, &str)> = expected
        .default_privileges
        .iter()
        .chain(&catalog.state.default_privileges)
        .map(|d| (d.schema.as_str(), d.role.as_str()))
        .filter(|(_, role)| expected.roles.contains(*role))
        .collect();
    for (schema, role) in pairs {
        let (wanted, had) = (of(expected, schema, role), of(&catalog.state, schema, role));
        if wanted == had {
            continue;
        }
        differ(
            out,
            quoted(&[schema]),
            format!("default privileges of {role} on tables made later"),
            &wanted,
            &had,
        );
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

/// Kind, schema, name, argument types (a routine's) and privileges but its
/// owner's (grantee, `PUBLIC` for every role, privilege, grantable) of
/// every function, procedure, sequence, enum and domain in the managed
/// schemas whose privileges were ever set (a `NULL` ACL is a new object's
/// defaults), but what an extension owns.
pub(crate) const OBJECTS: Part = Part {
    name: "object grants",
    sql: concat!(
        "SELECT coalesce(json_agg(json_build_array(o.kind, o.schema, o.name, o.args,
            (SELECT coalesce(json_agg(json_build_array(
                        CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END,
                        a.privilege_type, a.is_grantable)), '[]')
               FROM pg_catalog.aclexplode(o.acl) AS a WHERE a.grantee <> o.owner))), '[]')
   FROM (SELECT CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END AS kind,
                n.nspname::text AS schema, p.proname::text AS name, ",
        super::routines::argument_types!(),
        " AS args, p.proacl AS acl, p.proowner AS owner, p.oid, 'pg_catalog.pg_proc'::regclass AS class
           FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE p.proacl IS NOT NULL AND p.prokind IN ('f', 'p') AND n.nspname = ANY($1::text[])
         UNION ALL
         SELECT 'sequence', n.nspname::text, c.relname::text, NULL, c.relacl, c.relowner, c.oid,
                'pg_catalog.pg_class'::regclass
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relacl IS NOT NULL AND c.relkind = 'S' AND n.nspname = ANY($1::text[])
         UNION ALL
         SELECT 'type', n.nspname::text, t.typname::text, NULL, t.typacl, t.typowner, t.oid,
                'pg_catalog.pg_type'::regclass
           FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE t.typacl IS NOT NULL AND t.typtype IN ('e', 'd') AND n.nspname = ANY($1::text[])) AS o
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                    WHERE x.classid = o.class AND x.objid = o.oid AND x.deptype = 'e')"
    ),
    read: Read::Json(|json, catalog| {
        type Row = (ObjectRefKind, String, String, Option<String>, Vec<(String, String, bool)>);
        for (kind, schema, name, args, entries) in rows::<Row>(json)? {
            let on = ObjectRef {
                kind,
                schema,
                name,
                args,
            };
            let acl: Acl = entries
                .into_iter()
                .map(|(grantee, privilege, grantable)| ((grantee, privilege), grantable))
                .collect();
            catalog
                .state
                .object_privileges
                .extend(deviations(&on, &acl));
        }
        catalog.state.object_privileges.sort();
        Ok(())
    }),
    compare: Compare::State(compare_objects),
};

/// `EXECUTE to api (with grant option), not EXECUTE to PUBLIC`: how an
/// object's privileges differ from a new object's.
fn describe(entries: &[&ObjectPrivilege]) -> String {
    if entries.is_empty() {
        return "as a new object's".to_owned();
    }
    let parts: Vec<String> = entries
        .iter()
        .map(|p| {
            let option = if p.grantable {
                " with grant option"
            } else {
                ""
            };
            match p.revoked {
                true => format!("no {} for {}", p.privilege, p.grantee),
                false => format!("{} to {}{option}", p.privilege, p.grantee),
            }
        })
        .collect();
    parts.join(", ")
}

fn compare_objects(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    let actual = &catalog.state;
    let mut objects: Vec<&ObjectRef> = expected
        .object_privileges
        .iter()
        .chain(&actual.object_privileges)
        .map(|p| &p.on)
        .collect();
    objects.sort();
    objects.dedup();
    for on in objects {
        // One missing, or that should not be there, is its own kind's to report.
        if !on.exists_in(expected) || !on.exists_in(actual) {
            continue;
        }
        let of = |state: &'_ SchemaState| -> Vec<ObjectPrivilege> {
            state
                .object_privileges
                .iter()
                .filter(|p| p.on == *on)
                .cloned()
                .collect()
        };
        let (want, have) = (of(expected), of(actual));
        if want != have {
            let d = out.push(DifferenceKind::Changed, ObjectKind::Grant, on.to_string());
            d.property = Some("privileges".to_owned());
            d.expected = Some(describe(&want.iter().collect::<Vec<_>>()));
            d.actual = Some(describe(&have.iter().collect::<Vec<_>>()));
        }
    }
}
