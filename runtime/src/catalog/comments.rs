//! Comments: on tables and columns (read with them), and on functions,
//! procedures, views and indexes.

use strata_manifest::{ObjectRef, ObjectRefKind, SchemaState, Table};

use super::stream::keep_all;
use super::{Compare, Part, Read, TableCompare};
use crate::canonical::TableSpelling;
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// Comments on tables come with the tables ([`super::tables`]), on
/// columns with the columns ([`super::columns`]): a join of their own cost
/// more than reading them, and a table's columns and their comments are
/// compared together, as they come.
pub(crate) const PART: Part = Part {
    name: "comments",
    sql: "",
    read: Read::Nothing,
    compare: Compare::Table(TableCompare {
        complete_with: "columns",
        compare,
        // The columns' release frees their comments.
        release: keep_all,
    }),
};

fn compare(expected: &Table, actual: &Table, _: &TableSpelling<'_>, out: &mut Collector) {
    {
        let mut changed = |object, name: String, want: &Option<String>, have: &Option<String>| {
            if want != have {
                let d = out.push(DifferenceKind::Changed, object, name);
                d.property = Some("comment".to_owned());
                d.expected = want.clone();
                d.actual = have.clone();
            }
        };
        changed(
            ObjectKind::Table,
            quoted(&[&expected.schema, &expected.name]),
            &expected.comment,
            &actual.comment,
        );
        for column in &expected.columns {
            if let Some(found) = actual.column(&column.name) {
                changed(
                    ObjectKind::Column,
                    quoted(&[&expected.schema, &expected.name, &column.name]),
                    &column.comment,
                    &found.comment,
                );
            }
        }
    }
}

/// Kind, schema, name, argument types (a routine's) and text of every
/// comment on a function, procedure, view, materialized view or index in
/// the managed schemas: not on what an extension owns, nor on the index
/// behind a key (a key's comment is not modelled).
pub(crate) const OBJECTS: Part = Part {
    name: "object comments",
    sql: concat!(
        "SELECT coalesce(json_agg(json_build_array(o.kind, o.schema, o.name, o.args, o.text)), '[]')
   FROM (SELECT CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END AS kind,
                n.nspname::text AS schema, p.proname::text AS name,
                ",
        super::routines::argument_types!(),
        " AS args, d.description AS text, d.objoid
           FROM pg_catalog.pg_description d
           JOIN pg_catalog.pg_proc p ON p.oid = d.objoid
           JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE d.classoid = 'pg_catalog.pg_proc'::regclass AND p.prokind IN ('f', 'p')
            AND n.nspname = ANY($1::text[])
         UNION ALL
         SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view' ELSE 'index' END,
                n.nspname::text, c.relname::text, NULL, d.description, d.objoid
           FROM pg_catalog.pg_description d
           JOIN pg_catalog.pg_class c ON c.oid = d.objoid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
            AND c.relkind IN ('v', 'm', 'i', 'I') AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = c.oid
                            AND c.relkind IN ('i', 'I') AND k.contype IN ('p', 'u', 'x'))) AS o
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                    WHERE x.objid = o.objoid AND x.deptype = 'e'
                      AND x.classid IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_class'::regclass))"
    ),
    read: Read::Json(|json, catalog| {
        for (kind, schema, name, args, text) in
            super::rows::<(ObjectRefKind, String, String, Option<String>, String)>(json)?
        {
            let on = ObjectRef {
                kind,
                schema,
                name,
                args,
            };
            catalog.state.set_comment(&on, Some(text));
        }
        Ok(())
    }),
    compare: Compare::State(compare_objects),
};

fn compare_objects(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    let actual = &catalog.state;
    let mut changed = |on: &ObjectRef, want: Option<&str>, have: Option<&str>| {
        if want != have {
            let object = match on.kind {
                ObjectRefKind::Function => ObjectKind::Function,
                ObjectRefKind::Procedure => ObjectKind::Procedure,
                ObjectRefKind::View | ObjectRefKind::MaterializedView => ObjectKind::View,
                ObjectRefKind::Index => ObjectKind::Index,
                ObjectRefKind::Sequence => ObjectKind::Sequence,
                // Comments on types are not taken (`ObjectComment::from_sql`).
                ObjectRefKind::Type => ObjectKind::Domain,
            };
            let name = match &on.args {
                Some(args) => format!("{}.{}({args})", on.schema, on.name),
                None => quoted(&[&on.schema, &on.name]),
            };
            let d = out.push(DifferenceKind::Changed, object, name);
            d.property = Some("comment".to_owned());
            d.expected = want.map(str::to_owned);
            d.actual = have.map(str::to_owned);
        }
    };
    // Where the object is in both: one missing, or that should not be
    // there, is reported as such by its own kind.
    for comment in &expected.comments {
        if comment.on.exists_in(actual) {
            changed(
                &comment.on,
                Some(&comment.text),
                actual.comment_on(&comment.on),
            );
        }
    }
    for comment in &actual.comments {
        if expected.comment_on(&comment.on).is_none() && comment.on.exists_in(expected) {
            changed(&comment.on, None, Some(&comment.text));
        }
    }
}
