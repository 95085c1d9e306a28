//! Compat views: each must exist and read its table.

use strata_manifest::{Privilege, QualifiedName, SchemaState};

use super::{rows, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// A compat view the catalog holds.
pub(crate) struct FoundView {
    pub(crate) name: QualifiedName,
    /// A table it reads (one row per table).
    pub(crate) reads: Option<QualifiedName>,
    /// Whether it is `security_invoker`.
    pub(crate) security_invoker: bool,
    /// Each role but its owner that holds a privilege on it, with the privilege.
    pub(crate) privileges: Vec<(String, String)>,
}

/// Schema and name of each expected compat view that exists, with each table
/// it reads and whether it is `security_invoker`.
pub(crate) const PART: Part = Part {
    name: "compat views",
    sql: "SELECT coalesce(json_agg(DISTINCT jsonb_build_array(v.schema, v.name, tn.nspname, t.relname,
            coalesce(pg_catalog.lower((SELECT o.option_value FROM pg_catalog.pg_options_to_table(vc.reloptions) o
                                       WHERE o.option_name = 'security_invoker'))
                     IN ('true', 'on', 'yes', '1'), false),
            coalesce((SELECT jsonb_agg(jsonb_build_array(pg_catalog.pg_get_userbyid(a.grantee), a.privilege_type) ORDER BY pg_catalog.pg_get_userbyid(a.grantee), a.privilege_type)
                      FROM pg_catalog.aclexplode(vc.relacl) AS a
                      WHERE a.grantee <> vc.relowner AND a.grantee <> 0), '[]'::jsonb))), '[]')
   FROM unnest($2::text[], $3::text[]) AS v(schema, name)
   JOIN pg_catalog.pg_namespace vn ON vn.nspname = v.schema
   JOIN pg_catalog.pg_class vc ON vc.relnamespace = vn.oid AND vc.relname = v.name AND vc.relkind = 'v'
   LEFT JOIN pg_catalog.pg_rewrite r ON r.ev_class = vc.oid
   LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
        AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> vc.oid
   LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
   LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace",
    read: Read::Json(|json, catalog| {
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            bool,
            Vec<(String, String)>,
        );
        catalog.views = rows::<Row>(json)?
            .into_iter()
            .map(
                |(schema, name, target_schema, target, security_invoker, privileges)| FoundView {
                    name: QualifiedName::new(schema, name),
                    reads: target_schema
                        .zip(target)
                        .map(|(s, t)| QualifiedName::new(s, t)),
                    security_invoker,
                    privileges,
                },
            )
            .collect();
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    for (view, table) in expected.views() {
        let name = quoted(&[&view.schema, &view.name]);
        let found: Vec<&FoundView> = catalog.views.iter().filter(|v| v.name == *view).collect();
        let targets: Vec<&Option<QualifiedName>> = found.iter().map(|v| &v.reads).collect();
        let want = table.qualified_name();
        let want_text = quoted(&[&want.schema, &want.name]);
        if targets.is_empty() {
            out.push(Missing, ObjectKind::View, name).expected = Some(format!("over {want_text}"));
            continue;
        }
        let invoker = found.iter().any(|v| v.security_invoker);
        if invoker != table.compat_view_security_invoker {
            let d = out.push(Changed, ObjectKind::View, name.clone());
            d.property = Some("security_invoker".to_owned());
            d.expected = Some(table.compat_view_security_invoker.to_string());
            d.actual = Some(invoker.to_string());
        }
        // It carries its table's grants: a `security_invoker` view needs its
        // caller to hold privileges on both. Only the declared roles count.
        for role in &expected.roles {
            let wanted = table.privileges_of(role);
            let mut had: Vec<Privilege> = found
                .first()
                .map(|v| v.privileges.as_slice())
                .unwrap_or_default()
                .iter()
                .filter(|(r, _)| r == role)
                .filter_map(|(_, p)| Privilege::parse(p))
                .collect();
            had.sort();
            had.dedup();
            if wanted != had.as_slice() {
                let kind = match (wanted.is_empty(), had.is_empty()) {
                    (false, true) => Missing,
                    (true, false) => Unexpected,
                    _ => Changed,
                };
                let d = out.push(kind, ObjectKind::Grant, name.clone());
                d.property = Some(format!("privileges of {role}"));
                d.expected = (!wanted.is_empty()).then(|| super::grants::spell(wanted));
                d.actual = (!had.is_empty()).then(|| super::grants::spell(&had));
            }
        }
        if !targets.iter().any(|t| t.as_ref() == Some(&want)) {
            let d = out.push(Changed, ObjectKind::View, name);
            d.property = Some("table".to_owned());
            d.expected = Some(want_text);
            d.actual = Some(
                targets
                    .iter()
                    .filter_map(|t| t.as_ref().map(|t| quoted(&[&t.schema, &t.name])))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
    }
}
