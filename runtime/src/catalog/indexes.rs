//! Indexes other than those behind keys: columns, uniqueness and predicate.

use strata_manifest::{Index, Table};

use super::{read_row, Compare, Part, Read, TableCompare};
use crate::canonical::{Kind, TableSpelling};
use crate::drift::{compare_named, same_expr, Collector, ObjectKind};

type Row = (
    String,
    String,
    String,
    Vec<String>,
    bool,
    Option<String>,
    String,
    Option<String>,
);

/// Schema, table, name, key columns (an expression shows as
/// "(expression)"), uniqueness, partial predicate, access method and
/// operator classes other than the default (joined with `,`) of every index that
/// does not back a primary key, unique or exclusion constraint. Ordered by
/// table oid, not name: a table's indexes come together, and the sort is
/// cheaper. Each key column is one index probe, and the operator classes
/// are looked up only for an index that has a non-default one (`indclass`
/// holds the key columns' only): a join per index of both cost more than
/// reading the indexes themselves.
pub(crate) const PART: Part = Part {
    name: "indexes",
    sql: "SELECT ARRAY[n.nspname::text, t.relname::text, i.relname::text,
            array_to_json(ARRAY(SELECT COALESCE((SELECT a.attname::text FROM pg_catalog.pg_attribute a
                                                 WHERE a.attrelid = x.indrelid AND a.attnum = k.attnum),
                                                '(expression)')
                  FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  WHERE k.ord <= x.indnkeyatts
                  ORDER BY k.ord))::text,
            x.indisunique::text, pg_catalog.pg_get_expr(x.indpred, x.indrelid),
            (SELECT am.amname::text FROM pg_catalog.pg_am am WHERE am.oid = i.relam),
            CASE WHEN x.indclass::oid[] && (SELECT array_agg(d.oid) FROM pg_catalog.pg_opclass d
                                             WHERE NOT d.opcdefault)
                 THEN (SELECT string_agg(DISTINCT oc.opcname, ',')
                         FROM pg_catalog.pg_opclass oc
                        WHERE oc.oid = ANY (x.indclass::oid[]) AND NOT oc.opcdefault) END]
   FROM pg_catalog.pg_index x
   JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
   JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND t.relkind IN ('r', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                     WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))
   ORDER BY x.indrelid, i.relname",
    read: Read::Rows(|fields, catalog| {
        let (schema, table, name, columns, unique, predicate, method, opclass): Row =
            read_row(fields)?;
        if let Some(at) = catalog.table_index(&schema, &table) {
            catalog.state.tables[at].indexes.push(Index {
                name,
                columns,
                unique,
                predicate,
                method: Some(method),
                opclass,
            });
        }
        Ok(())
    }),
    compare: Compare::Table(TableCompare {
        complete_with: "indexes",
        compare,
        release: |table| table.indexes = Vec::new(),
    }),
};

fn compare(expected: &Table, actual: &Table, spelling: &TableSpelling<'_>, out: &mut Collector) {
    {
        compare_named(
            out,
            ObjectKind::Index,
            &expected.schema,
            &expected.indexes,
            &actual.indexes,
            |i| &i.name,
            describe,
            |a, b| {
                a.columns == b.columns
                    && a.unique == b.unique
                    && a.method() == b.method()
                    && a.opclass == b.opclass
                    && match (&a.predicate, &b.predicate) {
                        (Some(want), Some(have)) => {
                            same_expr(spelling, Kind::Predicate, want, have)
                        }
                        (want, have) => want.is_none() && have.is_none(),
                    }
            },
        );
    }
}

fn describe(index: &Index) -> String {
    let mut text = match &index.opclass {
        Some(ops) => format!("({} {ops})", index.columns.join(", ")),
        None => format!("({})", index.columns.join(", ")),
    };
    if index.method() != "btree" {
        text = format!("using {} {text}", index.method());
    }
    if index.unique {
        text.push_str(" unique");
    }
    if let Some(predicate) = &index.predicate {
        text.push_str(" where ");
        text.push_str(predicate);
    }
    text
}
