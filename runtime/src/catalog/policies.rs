//! Row-level security: whether a table enforces it (read with the tables),
//! and its policies, compared by what they do: command, permissive or
//! restrictive, roles, and `USING` and `WITH CHECK` as the server spells
//! them. A policy renamed by hand but doing the same is still reported, by
//! name; one that keeps its name but allows more (`USING (true)`) is
//! `changed`.

use strata_manifest::{Policy, PolicyCommand, Table};

use super::{read_row, Compare, Part, Read, TableCompare};
use crate::canonical::{Kind, TableSpelling};
use crate::drift::{quoted, same_expr, Collector, DifferenceKind, ObjectKind};

type Row = (
    String,
    String,
    String,
    String,
    bool,
    Vec<String>,
    Option<String>,
    Option<String>,
);

/// Schema, table, name, command (`polcmd`), permissive, roles (`public`
/// for PUBLIC), `USING` and `WITH CHECK` of every policy, a table's
/// together.
pub(crate) const PART: Part = Part {
    name: "policies",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text, p.polname::text, p.polcmd::text,
            p.polpermissive::text,
            array_to_json(ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'public'
                                            ELSE pg_catalog.pg_get_userbyid(r.oid)::text END
                                FROM unnest(p.polroles) AS r(oid) ORDER BY 1))::text,
            pg_catalog.pg_get_expr(p.polqual, p.polrelid),
            pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)]
   FROM pg_catalog.pg_policy p
   JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1::text[])
   ORDER BY p.polrelid, p.polname",
    read: Read::Rows(|fields, catalog| {
        let (schema, table, name, command, permissive, roles, using, with_check): Row =
            read_row(fields)?;
        let command = PolicyCommand::parse(&command).ok_or_else(|| {
            <serde::de::value::Error as serde::de::Error>::custom(format!(
                "policy {name} has a command strata does not know: `{command}`"
            ))
        })?;
        if let Some(at) = catalog.table_index(&schema, &table) {
            catalog.state.tables[at].add_policy(Policy {
                name,
                command,
                restrictive: !permissive,
                roles: roles.into_iter().filter(|r| r != "public").collect(),
                using,
                with_check,
            });
        }
        Ok(())
    }),
    compare: Compare::Table(TableCompare {
        complete_with: "policies",
        compare,
        release: |table| table.policies = Vec::new(),
    }),
};

fn compare(expected: &Table, actual: &Table, spelling: &TableSpelling<'_>, out: &mut Collector) {
    let (want, have) = (expected.row_security(), actual.row_security());
    if want != have {
        let d = out.push(
            DifferenceKind::Changed,
            ObjectKind::Table,
            quoted(&[&expected.schema, &expected.name]),
        );
        d.property = Some("row-level security".to_owned());
        d.expected = Some(want.describe().to_owned());
        d.actual = Some(have.describe().to_owned());
    }
    use DifferenceKind::*;
    let name = |p: &Policy| quoted(&[&expected.schema, &expected.name, &p.name]);
    for want in &expected.policies {
        match actual.policies.iter().find(|p| p.name == want.name) {
            None => {
                out.push(Missing, ObjectKind::Policy, name(want)).expected = Some(want.describe())
            }
            Some(have) if !want.same_as(have, |a, b| same_expr(spelling, Kind::Policy, a, b)) => {
                let d = out.push(Changed, ObjectKind::Policy, name(want));
                d.expected = Some(want.describe());
                d.actual = Some(have.describe());
            }
            Some(_) => {}
        }
    }
    for have in &actual.policies {
        if !expected.policies.iter().any(|p| p.name == have.name) {
            out.push(Unexpected, ObjectKind::Policy, name(have)).actual = Some(have.describe());
        }
    }
}
