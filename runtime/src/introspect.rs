//! Reads the live catalog of the managed schemas, in seven queries whatever their size.

use sqlx::{Connection, PgConnection};
use strata_manifest::{
    Action, Check, Column, ForeignKey, Index, Key, QualifiedName, SchemaState, Table,
};

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

/// Returns, for every primary key, unique, foreign key and check constraint
/// of those tables: schema, table, constraint name, kind ('p', 'u', 'f' or
/// 'c'), its columns in key order, and for a foreign key the referenced
/// schema, table and columns and its ON DELETE / ON UPDATE codes; for a
/// check, its definition as PostgreSQL prints it.
const CONSTRAINTS: &str = r#"SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       fn.nspname::text, fc.relname::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text,
       CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid) END
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname = ANY($1) AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY 1, 2, 3"#;

/// Returns schema, table, index name, its key columns in order (an
/// expression shows as "(expression)"), whether it is unique, and the WHERE
/// of a partial index, for every index of those tables that does not back a
/// primary key, unique or exclusion constraint.
const INDEXES: &str = r#"SELECT n.nspname::text, t.relname::text, i.relname::text,
       ARRAY(SELECT COALESCE(a.attname::text, '(expression)')
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= x.indnkeyatts
             ORDER BY k.ord),
       x.indisunique,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid)
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = ANY($1) AND t.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                  WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY 1, 2, 3"#;

/// Returns, for each of the given views ($1 schemas, $2 names) that exists,
/// its schema and name and the schema and name of each table it reads.
const VIEWS: &str = r#"SELECT v.schema, v.name, tn.nspname::text, t.relname::text
FROM unnest($1::text[], $2::text[]) AS v(schema, name)
JOIN pg_catalog.pg_namespace vn ON vn.nspname = v.schema
JOIN pg_catalog.pg_class vc ON vc.relnamespace = vn.oid AND vc.relname = v.name AND vc.relkind = 'v'
LEFT JOIN pg_catalog.pg_rewrite r ON r.ev_class = vc.oid
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
     AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> vc.oid
LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4"#;

/// Returns the settings this database carries for every role
/// (`ALTER DATABASE … SET`), as `name=value` strings.
const DATABASE_SETTINGS: &str = r#"SELECT s.setconfig
FROM pg_catalog.pg_db_role_setting s
JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
WHERE d.datname = current_database() AND s.setrole = 0"#;

type ColumnRow = (String, String, String, String, bool, Option<String>, bool);
type ConstraintRow = (
    String,
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    String,
    String,
    Option<String>,
);
type IndexRow = (String, String, String, Vec<String>, bool, Option<String>);

/// What the catalog holds: the managed schemas' state and the compat views found.
pub(crate) struct Catalog {
    pub(crate) state: SchemaState,
    /// Each expected view that exists, with the tables it reads.
    pub(crate) views: Vec<(QualifiedName, Option<QualifiedName>)>,
}

/// Reads the catalog for the schemas and views of `expected`, in seven
/// queries however many tables there are.
pub(crate) async fn read_catalog(
    conn: &mut PgConnection,
    expected: &SchemaState,
) -> Result<Catalog, Error> {
    let names: Vec<String> = expected.schemas.iter().cloned().collect();
    let context = "reading the catalog for the drift check";
    // One snapshot for all seven queries, and one server connection behind a pooler.
    let mut tx = conn.begin().await.map_err(db(context))?;
    sqlx::Executor::execute(
        &mut *tx,
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    )
    .await
    .map_err(db(context))?;
    let conn = &mut *tx;
    let found: Vec<(String,)> = crate::session::query_as(SCHEMAS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let tables: Vec<(String, String)> = crate::session::query_as(TABLES)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let columns: Vec<ColumnRow> = crate::session::query_as(COLUMNS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let constraints: Vec<ConstraintRow> = crate::session::query_as(CONSTRAINTS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let indexes: Vec<IndexRow> = crate::session::query_as(INDEXES)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
    let (view_schemas, view_names): (Vec<String>, Vec<String>) = expected
        .views()
        .map(|(v, _)| (v.schema.clone(), v.name.clone()))
        .unzip();
    let view_rows: Vec<(String, String, Option<String>, Option<String>)> =
        crate::session::query_as(VIEWS)
            .bind(&view_schemas)
            .bind(&view_names)
            .fetch_all(&mut *conn)
            .await
            .map_err(db(context))?;

    let settings: Option<(Vec<String>,)> = crate::session::query_as(DATABASE_SETTINGS)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db(context))?;

    tx.commit().await.map_err(db(context))?;

    let mut state = SchemaState {
        schemas: found.into_iter().map(|(s,)| s).collect(),
        tables: tables
            .into_iter()
            .map(|(schema, name)| Table::new(schema, name))
            .collect(),
        search_path: settings
            .into_iter()
            .flat_map(|(settings,)| settings)
            .find_map(|s| s.strip_prefix("search_path=").map(parse_search_path)),
    };
    // Every list is sorted by (schema, table), so each row finds its table by binary search.
    let find = |state: &SchemaState, schema: &str, table: &str| {
        state
            .tables
            .binary_search_by(|t| (t.schema.as_str(), t.name.as_str()).cmp(&(schema, table)))
            .ok()
    };
    for (schema, table, name, sql_type, nullable, default, identity) in columns {
        if let Some(at) = find(&state, &schema, &table) {
            state.tables[at].columns.push(Column {
                name,
                sql_type,
                nullable,
                default,
                identity,
                renamed_from: None,
            });
        }
    }
    for (
        schema,
        table,
        name,
        kind,
        columns,
        ref_schema,
        ref_table,
        ref_columns,
        on_delete,
        on_update,
        check,
    ) in constraints
    {
        let Some(at) = find(&state, &schema, &table) else {
            continue;
        };
        let t = &mut state.tables[at];
        match kind.as_str() {
            "p" => t.primary_key = Some(Key { name, columns }),
            "u" => t.uniques.push(Key { name, columns }),
            "f" => t.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: QualifiedName::new(
                    ref_schema.unwrap_or_default(),
                    ref_table.unwrap_or_default(),
                ),
                referenced_columns: ref_columns,
                on_delete: action(&on_delete),
                on_update: action(&on_update),
            }),
            _ => t.checks.push(Check {
                name,
                expr: check_expression(check.as_deref().unwrap_or_default()),
            }),
        }
    }
    for (schema, table, name, columns, unique, predicate) in indexes {
        if let Some(at) = find(&state, &schema, &table) {
            state.tables[at].indexes.push(Index {
                name,
                columns,
                unique,
                predicate,
            });
        }
    }
    let views = view_rows
        .into_iter()
        .map(|(schema, name, target_schema, target)| {
            let target = target_schema
                .zip(target)
                .map(|(s, t)| QualifiedName::new(s, t));
            (QualifiedName::new(schema, name), target)
        })
        .collect();
    Ok(Catalog { state, views })
}

/// `public, "Tenant", analytics` → the schema names, unquoted.
fn parse_search_path(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|part| {
            let part = part.trim();
            match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => part.to_owned(),
            }
        })
        .filter(|part| !part.is_empty())
        .collect()
}

/// `confdeltype` / `confupdtype` codes.
fn action(code: &str) -> Action {
    match code {
        "r" => Action::Restrict,
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

/// `CHECK ((total_cents >= 0)) NOT VALID` → `(total_cents >= 0)`.
fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_suffix("NOT VALID").unwrap_or(text).trim();
    text.strip_prefix("CHECK").unwrap_or(text).trim().to_owned()
}
