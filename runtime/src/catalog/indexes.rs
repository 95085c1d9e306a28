//! Indexes other than those behind keys: columns (or keys: expressions,
//! orders, collations, operator classes), uniqueness and predicate.

use strata_manifest::{quote_ident, Index, Table};

use super::{read_row, Compare, Part, Read, Spell, TableCompare};
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
/// reading the indexes themselves. An index that is more than its columns
/// (an expression, `DESC` or `NULLS FIRST`, a collation other than its
/// column's, operator classes that differ between keys) comes with its
/// whole definition, whose key list is compared instead.
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
                        WHERE oc.oid = ANY (x.indclass::oid[]) AND NOT oc.opcdefault) END,
            CASE WHEN x.indexprs IS NOT NULL
                   OR EXISTS (SELECT 1 FROM unnest(x.indoption::int2[]) o WHERE o <> 0)
                   OR EXISTS (SELECT 1 FROM unnest(x.indcollation::oid[], x.indkey::int2[]) AS u(coll, attnum)
                              JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.attnum
                              WHERE u.coll <> a.attcollation)
                   OR (x.indnkeyatts > 1
                       AND (SELECT count(DISTINCT c) FROM unnest(x.indclass::oid[]) c) > 1
                       AND x.indclass::oid[] && (SELECT array_agg(d.oid) FROM pg_catalog.pg_opclass d
                                                  WHERE NOT d.opcdefault))
                 THEN pg_catalog.pg_get_indexdef(x.indexrelid) END]
   FROM pg_catalog.pg_index x
   JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
   JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND t.relkind IN ('r', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                     WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))
   ORDER BY x.indrelid, i.relname",
    read: Read::Rows(|fields, catalog| {
        let (schema, table, name, columns, unique, predicate, method, opclass, definition): Row =
            read_row(fields)?;
        let keys = definition.as_deref().and_then(Index::keys_of_definition);
        if let Some(at) = catalog.table_index(&schema, &table) {
            catalog.state.tables[at].indexes.push(Index {
                name,
                // The columns it reads by name; the keys say the rest.
                columns: match keys {
                    Some(_) => columns.into_iter().filter(|c| c != "(expression)").collect(),
                    None => columns,
                },
                unique,
                predicate,
                method: Some(method),
                opclass: opclass.filter(|_| keys.is_none()),
                keys,
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
                let same_keys = match (&a.keys, &b.keys) {
                    (None, None) => a.columns == b.columns && a.opclass == b.opclass,
                    (Some(want), Some(have)) => same_keys(expected, a, want, have, spelling),
                    // Keys that say no more than columns (`keys = "email"`,
                    // `keys = "name text_pattern_ops"`) read back as columns.
                    (Some(want), None) => same_keys(expected, a, want, &plain_keys(b), spelling),
                    (None, Some(_)) => false,
                };
                same_keys
                    && a.unique == b.unique
                    && a.method() == b.method()
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

/// The model's key list is the live one, as written or as the server
/// spells it on a scratch copy of the table.
fn same_keys(
    table: &Table,
    index: &Index,
    want: &str,
    have: &str,
    spelling: &TableSpelling<'_>,
) -> bool {
    if same_tokens(want, have) {
        return true;
    }
    let i = super::SPELLED.iter().position(|s| s.part == SPELL.part);
    let statement = index.keys_statement(&table.qualified_name());
    match i.and_then(|i| spelling.spelled(i, &statement)) {
        Some(spelled) => {
            Index::keys_of_definition(spelled).is_some_and(|spelled| same_tokens(&spelled, have))
        }
        None => strata_manifest::canonical_expr(want) == strata_manifest::canonical_expr(have),
    }
}

/// The key list of an index read as plain columns: each column, quoted,
/// with the operator class they share.
fn plain_keys(index: &Index) -> String {
    let keys: Vec<String> = index
        .columns
        .iter()
        .map(|c| match &index.opclass {
            Some(ops) => format!("{} {ops}", quote_ident(c)),
            None => quote_ident(c),
        })
        .collect();
    keys.join(", ")
}

/// The same tokens, a name the same whether quoted or not (`email` and
/// `"email"`; PostgreSQL quotes only where it must).
fn same_tokens(a: &str, b: &str) -> bool {
    let tokens = |text: &str| -> Vec<String> {
        strata_manifest::lexer::significant(text)
            .iter()
            .map(|t| t.name().unwrap_or_else(|| t.text.to_owned()))
            .collect()
    };
    tokens(a) == tokens(b)
}

/// Each key list's statement, run on a scratch copy of its table.
pub(crate) const SPELL: Spell = Spell {
    part: "indexes",
    of_state: |_| Vec::new(),
    of_table: |table| {
        let name = table.qualified_name();
        table
            .indexes
            .iter()
            .filter(|i| i.keys.is_some())
            .map(|i| i.keys_statement(&name))
            .collect()
    },
    scratch: |text, object| {
        let (table, rest) = Index::keys_from_statement(text)?;
        // Not `strata_x_…`: the scratch defaults and predicates are read by that prefix.
        let copy = quote_ident(&format!("strata_ti_{object}"));
        Some(format!(
            "CREATE TEMP TABLE {copy} (LIKE {});\nCREATE INDEX {} ON pg_temp.{copy} {rest};",
            strata_manifest::qualified(&table.schema, &table.name),
            quote_ident(object),
        ))
    },
    // Those without a predicate (a scratch predicate's index has one) or
    // a constraint (a scratch exclusion constraint's).
    read_back: "SELECT c.relname::text, pg_catalog.pg_get_indexdef(c.oid)
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_index x ON x.indexrelid = c.oid
   WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relkind = 'i'
     AND x.indpred IS NULL AND c.relname LIKE 'strata\\_x\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = c.oid)",
};

fn describe(index: &Index) -> String {
    let mut text = match (&index.keys, &index.opclass) {
        (Some(keys), _) => format!("({keys})"),
        (None, Some(ops)) => format!("({} {ops})", index.columns.join(", ")),
        (None, None) => format!("({})", index.columns.join(", ")),
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
