//! Reads the live catalog of the managed schemas, in four queries whatever their size.

use std::collections::BTreeSet;

use sqlx::PgConnection;
use strata_manifest::{Column, Key, SchemaState, Table};

use crate::error::{db, Error};

/// Returns the name of each given schema that exists.
const SCHEMAS: &str = r#"SELECT n.nspname::text
FROM pg_catalog.pg_namespace n
WHERE n.nspname = ANY($1)"#;

/// Returns schema and name of every ordinary or partitioned table in the given schemas.
const TABLES: &str = r#"SELECT n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
ORDER BY 1, 2"#;

/// Returns schema, table, column, type (as format_type spells it), nullable,
/// default expression and whether it is an identity column, for every live
/// column of those tables, in column order.
const COLUMNS: &str = r#"SELECT n.nspname::text, c.relname::text, a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid),
       a.attidentity <> ''
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, 2, a.attnum"#;

/// Returns schema, table, constraint name, kind ('p' or 'u') and the columns
/// in key order, for every primary key and unique constraint of those tables.
const KEYS: &str = r#"SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND con.contype IN ('p', 'u')
ORDER BY 1, 2, 3"#;

type ColumnRow = (String, String, String, String, bool, Option<String>, bool);
type KeyRow = (String, String, String, String, Vec<String>);

/// The state of the given schemas as the catalog has it.
pub(crate) async fn read_state(
    conn: &mut PgConnection,
    schemas: &BTreeSet<String>,
) -> Result<SchemaState, Error> {
    let names: Vec<String> = schemas.iter().cloned().collect();
    let context = "reading the catalog for the drift check";
    let found: Vec<(String,)> = sqlx::query_as(SCHEMAS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let tables: Vec<(String, String)> = sqlx::query_as(TABLES)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let columns: Vec<ColumnRow> = sqlx::query_as(COLUMNS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let keys: Vec<KeyRow> = sqlx::query_as(KEYS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;

    let mut state = SchemaState {
        schemas: found.into_iter().map(|(s,)| s).collect(),
        tables: tables
            .into_iter()
            .map(|(schema, name)| Table::new(schema, name))
            .collect(),
    };
    // Both lists are sorted by (schema, table), so each row finds its table by binary search.
    let find = |state: &mut SchemaState, schema: &str, table: &str| {
        let at = state
            .tables
            .binary_search_by(|t| (t.schema.as_str(), t.name.as_str()).cmp(&(schema, table)))
            .ok()?;
        Some(at)
    };
    for (schema, table, name, sql_type, nullable, default, identity) in columns {
        if let Some(at) = find(&mut state, &schema, &table) {
            state.tables[at].columns.push(Column {
                name,
                sql_type,
                nullable,
                default,
                identity,
            });
        }
    }
    for (schema, table, name, kind, columns) in keys {
        if let Some(at) = find(&mut state, &schema, &table) {
            let key = Key { name, columns };
            match kind.as_str() {
                "p" => state.tables[at].primary_key = Some(key),
                _ => state.tables[at].uniques.push(key),
            }
        }
    }
    Ok(state)
}
