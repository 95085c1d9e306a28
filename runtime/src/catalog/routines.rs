//! Functions and procedures of `Builder::sql_dir`: each must exist with its
//! argument types and hold its file's definition, compared as the server
//! prints both (`pg_get_functiondef`); a function or procedure in a managed
//! schema that no file declares is unexpected.

use strata_manifest::{definition_shape, Routine, SchemaState};

use super::{rows, Compare, Part, Read};
use crate::drift::{Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// The input argument types of the routine `p`, joined with `, `: built-in
/// types by `format_type`, others `schema.name`, as the build spells them.
macro_rules! argument_types {
    () => {
        "(SELECT coalesce(string_agg(
                      CASE WHEN e.typnamespace = 'pg_catalog'::regnamespace
                           THEN pg_catalog.format_type(a.t, NULL)
                           ELSE en.nspname || '.' || e.typname || CASE WHEN e.oid <> ty.oid THEN '[]' ELSE '' END
                      END, ', ' ORDER BY a.ord), '')
               FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, ord)
               JOIN pg_catalog.pg_type ty ON ty.oid = a.t
               JOIN pg_catalog.pg_type e ON e.oid = CASE WHEN ty.typcategory = 'A' AND ty.typelem <> 0
                                                         THEN ty.typelem ELSE ty.oid END
               JOIN pg_catalog.pg_namespace en ON en.oid = e.typnamespace)"
    };
}
pub(crate) use argument_types;

/// Schema, name, whether a procedure, input argument types (spelt as the
/// build spells them: built-in types by `format_type`, others
/// `schema.name`) and definition of every function and procedure in the
/// managed schemas but those an extension owns. Aggregates and window
/// functions are not read.
pub(crate) const PART: Part = Part {
    name: "routines",
    sql: concat!(
        "SELECT coalesce(json_agg(json_build_array(n.nspname, p.proname, p.prokind = 'p',
            ",
        argument_types!(),
        ",
            pg_catalog.pg_get_functiondef(p.oid))
          ORDER BY n.nspname, p.proname, p.oid), '[]')
   FROM pg_catalog.pg_proc p
   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = ANY($1::text[]) AND p.prokind IN ('f', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                     WHERE x.classid = 'pg_catalog.pg_proc'::regclass AND x.objid = p.oid
                       AND x.deptype = 'e')"
    ),
    read: Read::Json(|json, catalog| {
        for (schema, name, procedure, args, sql) in
            rows::<(String, String, bool, String, String)>(json)?
        {
            catalog.state.add_routine(Routine {
                schema,
                name,
                args,
                procedure,
                sql,
            });
        }
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn kind(r: &Routine) -> ObjectKind {
    if r.procedure {
        ObjectKind::Procedure
    } else {
        ObjectKind::Function
    }
}

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    let actual = &catalog.state.routines;
    for want in &expected.routines {
        let Some(have) = actual.iter().find(|r| r.same_object(want)) else {
            let others: Vec<String> = actual
                .iter()
                .filter(|r| r.schema == want.schema && r.name == want.name)
                .map(|r| format!("({})", r.args))
                .collect();
            let d = out.push(Missing, kind(want), want.signature());
            if !others.is_empty() {
                d.actual = Some(format!("only {}", others.join(", ")));
            }
            continue;
        };
        if want.procedure != have.procedure {
            let d = out.push(Changed, kind(want), want.signature());
            d.property = Some("kind".to_owned());
            d.expected = Some(want.keyword().to_lowercase());
            d.actual = Some(have.keyword().to_lowercase());
            continue;
        }
        // Compared where the server could spell the file's definition.
        if let Some(spelled) = catalog.canonical.routine(want) {
            let live = definition_shape(&have.sql);
            if spelled != live {
                let d = out.push(Changed, kind(want), want.signature());
                d.property = Some("definition".to_owned());
                // The file's statement, and the server's print of the live one.
                d.expected = Some(want.sql.clone());
                d.actual = Some(have.sql.trim().to_owned());
            }
        }
    }
    for have in actual {
        if !expected.routines.iter().any(|r| r.same_object(have)) {
            out.push(Unexpected, kind(have), have.signature()).actual =
                Some(have.keyword().to_lowercase());
        }
    }
}
