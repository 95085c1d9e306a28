//! Domains of `Builder::sql_dir`: each must exist with its file's base
//! type, collation, default, `NOT NULL` and checks, compared in the
//! server's own spelling (the file's statement is made again as a scratch
//! domain and read back as the live ones are); a domain in a managed
//! schema that no file declares, and no extension owns, is unexpected.

use strata_manifest::{quote_ident, Domain, DomainShape, SchemaState};

use super::{rows, Compare, Part, Read, Spell};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// A domain `t` (its base type `b`, its schema `n`) as a `CREATE DOMAIN`
/// statement: what both the live domains and the scratch copies are read
/// as, so that the two are spelt alike, and what `strata pull` writes.
macro_rules! domain_statement {
    () => {
        "'CREATE DOMAIN ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)
          || ' AS ' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
          || coalesce(' COLLATE ' || (SELECT pg_catalog.quote_ident(co.collname)
                                        FROM pg_catalog.pg_collation co
                                       WHERE co.oid = t.typcollation AND t.typcollation <> b.typcollation), '')
          || coalesce(' DEFAULT ' || pg_catalog.pg_get_expr(t.typdefaultbin, 0), '')
          || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
          || coalesce((SELECT string_agg(' CONSTRAINT ' || pg_catalog.quote_ident(c.conname) || ' '
                                         || pg_catalog.pg_get_constraintdef(c.oid), '' ORDER BY c.conname)
                         FROM pg_catalog.pg_constraint c
                        WHERE c.contypid = t.oid AND c.contype = 'c'), '')"
    };
}

/// Schema, name and statement of every domain in the managed schemas but
/// those an extension owns.
pub(crate) const PART: Part = Part {
    name: "domains",
    sql: concat!(
        "SELECT coalesce(json_agg(json_build_array(n.nspname, t.typname, ",
        domain_statement!(),
        ") ORDER BY n.nspname, t.typname), '[]')
   FROM pg_catalog.pg_type t
   JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
   JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typtype = 'd' AND n.nspname = ANY($1::text[])
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                     WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid
                       AND e.deptype = 'e')"
    ),
    read: Read::Json(|json, catalog| {
        for (schema, name, sql) in rows::<(String, String, String)>(json)? {
            catalog.state.add_domain(Domain { schema, name, sql });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

/// Each domain's statement, made again in the temporary schema.
pub(crate) const SPELL: Spell = Spell {
    part: "domains",
    of_state: |state| state.domains.iter().map(|d| d.sql.clone()).collect(),
    of_table: |_| Vec::new(),
    scratch: |text, object| {
        let domain = Domain::from_sql(text).ok()?;
        Some(format!(
            "{};",
            domain.renamed(&format!("pg_temp.{}", quote_ident(object)))
        ))
    },
    read_back: concat!(
        "SELECT t.typname::text, ",
        domain_statement!(),
        "
   FROM pg_catalog.pg_type t
   JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
   JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typtype = 'd' AND t.typnamespace = pg_catalog.pg_my_temp_schema()
     AND t.typname LIKE 'strata\\_x\\_%'"
    ),
};

/// What a domain is, as the server spells the expected one when it could,
/// else as written.
fn expected_shape(want: &Domain, catalog: &Catalog) -> Option<DomainShape> {
    let i = super::SPELLED.iter().position(|s| s.part == SPELL.part)?;
    match catalog.canonical.spelled(i, &want.sql) {
        Some(spelled) => Domain::from_sql(spelled).ok()?.shape(),
        None => want.shape(),
    }
}

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let find = |among: &'_ [Domain], d: &Domain| {
        among
            .iter()
            .find(|o| o.schema == d.schema && o.name == d.name)
            .cloned()
    };
    for want in &expected.domains {
        let name = quoted(&[&want.schema, &want.name]);
        let Some(have) = find(&catalog.state.domains, want) else {
            out.push(Missing, ObjectKind::Domain, name);
            continue;
        };
        let (Some(w), Some(h)) = (expected_shape(want, catalog), have.shape()) else {
            continue;
        };
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
        let same_text = |a: &str, b: &str| {
            strata_manifest::canonical_expr(a) == strata_manifest::canonical_expr(b)
        };
        let fields: [(&str, String, String, bool); 4] = [
            (
                "type",
                w.data_type.clone(),
                h.data_type.clone(),
                strata_manifest::canonical_type(&w.data_type)
                    == strata_manifest::canonical_type(&h.data_type),
            ),
            (
                "collation",
                show(&w.collation),
                show(&h.collation),
                w.collation == h.collation,
            ),
            (
                "default",
                show(&w.default),
                show(&h.default),
                match (&w.default, &h.default) {
                    (Some(a), Some(b)) => same_text(a, b),
                    (a, b) => a == b,
                },
            ),
            (
                "not null",
                w.not_null.to_string(),
                h.not_null.to_string(),
                w.not_null == h.not_null,
            ),
        ];
        for (property, expected, actual, same) in fields {
            if !same {
                let d = out.push(Changed, ObjectKind::Domain, name.clone());
                d.property = Some(property.to_owned());
                d.expected = Some(expected);
                d.actual = Some(actual);
            }
        }
        let describe = |c: &strata_manifest::DomainCheck| {
            format!(
                "CHECK ({}){}",
                c.expr,
                if c.valid { "" } else { " NOT VALID" }
            )
        };
        for check in &w.checks {
            let property = Some(format!("check {}", check.name));
            match h.checks.iter().find(|c| c.name == check.name) {
                None => {
                    let d = out.push(Missing, ObjectKind::Domain, name.clone());
                    d.property = property;
                    d.expected = Some(describe(check));
                }
                Some(found)
                    if !same_text(&found.expr, &check.expr) || found.valid != check.valid =>
                {
                    let d = out.push(Changed, ObjectKind::Domain, name.clone());
                    d.property = property;
                    d.expected = Some(describe(check));
                    d.actual = Some(describe(found));
                }
                Some(_) => {}
            }
        }
        for check in &h.checks {
            if !w.checks.iter().any(|c| c.name == check.name) {
                let d = out.push(Unexpected, ObjectKind::Domain, name.clone());
                d.property = Some(format!("check {}", check.name));
                d.actual = Some(describe(check));
            }
        }
    }
    for have in &catalog.state.domains {
        if find(&expected.domains, have).is_none() {
            out.push(
                Unexpected,
                ObjectKind::Domain,
                quoted(&[&have.schema, &have.name]),
            );
        }
    }
}
