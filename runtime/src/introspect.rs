//! Reads the live catalog of the managed schemas, in one statement whatever their size.

use sqlx::{Connection, PgConnection, Row};
use strata_manifest::{
    Action, Check, Column, ForeignKey, Index, Key, QualifiedName, SchemaState, Table,
};

use crate::canonical::{canonicalise, requests, Canonical, CACHED};
use crate::error::{db, Error};

/// Everything the drift check needs from the catalog, as one statement: one
/// round trip and one snapshot however many tables there are, and safe
/// behind a transaction pooler. `$1` is the schemas, `$2` and `$3` the
/// schemas and names of the compat views, bound as `text[]` (an unnamed
/// statement, never names spliced into SQL). Each column is a JSON array:
/// 1. the given schemas that exist;
/// 2. schema and name of every ordinary or partitioned table in them;
/// 3. schema, table, column, type (as format_type spells it), nullable,
///    default expression and identity, for every live column, in column order;
/// 4. schema, table, name, kind ('p', 'u', 'f' or 'c'), columns in key order,
///    and for a foreign key the referenced schema, table and columns and its
///    ON DELETE / ON UPDATE codes, for a check its definition;
/// 5. schema, table, name, key columns (an expression shows as
///    "(expression)"), uniqueness and partial predicate of every index that
///    does not back a primary key, unique or exclusion constraint;
/// 6. schema and name of each given view that exists, with each table it reads;
/// 7. the database's settings for every role (`ALTER DATABASE … SET`);
/// 8. whether the expression cache `strata.expressions` exists.
const CATALOG: &str = r#"SELECT
(SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname), '[]')
   FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[]))::text,
(SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname) ORDER BY n.nspname, c.relname), '[]')
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p'))::text,
(SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, a.attname,
            pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '')
          ORDER BY n.nspname, c.relname, a.attnum), '[]')
   FROM pg_catalog.pg_attribute a
   JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped)::text,
(SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, con.conname, con.contype,
            ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)
                  ORDER BY array_position(con.conkey, a.attnum)),
            fn.nspname, fc.relname,
            ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = con.confrelid AND a.attnum = ANY(con.confkey)
                  ORDER BY array_position(con.confkey, a.attnum)),
            con.confdeltype, con.confupdtype,
            CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid) END)
          ORDER BY n.nspname, c.relname, con.conname), '[]')
   FROM pg_catalog.pg_constraint con
   JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
   LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND con.contype IN ('p', 'u', 'f', 'c'))::text,
(SELECT coalesce(json_agg(json_build_array(n.nspname, t.relname, i.relname,
            ARRAY(SELECT COALESCE(a.attname::text, '(expression)')
                  FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                  WHERE k.ord <= x.indnkeyatts
                  ORDER BY k.ord),
            x.indisunique, pg_catalog.pg_get_expr(x.indpred, x.indrelid))
          ORDER BY n.nspname, t.relname, i.relname), '[]')
   FROM pg_catalog.pg_index x
   JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
   JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND t.relkind IN ('r', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                     WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')))::text,
(SELECT coalesce(json_agg(DISTINCT jsonb_build_array(v.schema, v.name, tn.nspname, t.relname)), '[]')
   FROM unnest($2::text[], $3::text[]) AS v(schema, name)
   JOIN pg_catalog.pg_namespace vn ON vn.nspname = v.schema
   JOIN pg_catalog.pg_class vc ON vc.relnamespace = vn.oid AND vc.relname = v.name AND vc.relkind = 'v'
   LEFT JOIN pg_catalog.pg_rewrite r ON r.ev_class = vc.oid
   LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
        AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> vc.oid
   LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
   LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace)::text,
(SELECT coalesce(to_json(s.setconfig), '[]')
   FROM pg_catalog.pg_db_role_setting s
   JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
   WHERE d.datname = current_database() AND s.setrole = 0)::text,
to_regclass('"strata"."expressions"') IS NOT NULL"#;

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
    /// The server's spelling of the expected expressions.
    pub(crate) canonical: std::sync::Arc<Canonical>,
}

/// Reads the catalog for the schemas and views of `expected`, in one
/// statement however many tables there are.
pub(crate) async fn read_catalog(
    conn: &mut PgConnection,
    expected: &SchemaState,
) -> Result<Catalog, Error> {
    read_catalog_with(conn, expected, true).await
}

/// [`read_catalog`], with the server's spelling of the expected expressions
/// or (`canonical` false, for the benchmark's baseline) without.
pub(crate) async fn read_catalog_with(
    conn: &mut PgConnection,
    expected: &SchemaState,
    canonical: bool,
) -> Result<Catalog, Error> {
    let names: Vec<String> = expected.schemas.iter().cloned().collect();
    let (view_schemas, view_names): (Vec<String>, Vec<String>) = expected
        .views()
        .map(|(v, _)| (v.schema.clone(), v.name.clone()))
        .unzip();
    let context = "reading the catalog for the drift check";
    // In an explicit transaction, so that a transaction pooler keeps the
    // unnamed statement's parse and its execution on one server connection.
    let mut tx = conn.begin().await.map_err(db(context))?;
    let row = crate::session::query(CATALOG)
        .bind(&names)
        .bind(&view_schemas)
        .bind(&view_names)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    // The server's spelling of the expected expressions, from its cache, in
    // the same transaction (no round trip when there is nothing to spell).
    let wanted = if canonical {
        requests(expected)
    } else {
        Default::default()
    };
    let cache_exists: bool = row.try_get(7).map_err(db(context))?;
    let cached = match (cache_exists, wanted.is_empty()) {
        (false, _) => None,
        (true, true) => Some(Default::default()),
        (true, false) => {
            let keys: Vec<String> = wanted.keys().map(|r| r.key()).collect();
            let rows: Vec<(String, String)> = crate::session::query_as(CACHED)
                .bind(&keys)
                .fetch_all(&mut *tx)
                .await
                .map_err(db(context))?;
            Some(rows.into_iter().collect())
        }
    };
    tx.commit().await.map_err(db(context))?;
    let part = |i: usize| -> Result<String, Error> {
        let text: Option<String> = row.try_get(i).map_err(db(context))?;
        Ok(text.unwrap_or_else(|| "[]".to_owned()))
    };
    let parse_error = |e: serde_json::Error| Error::Database {
        context,
        source: sqlx::Error::Decode(Box::new(e)),
    };
    let found: Vec<String> = serde_json::from_str(&part(0)?).map_err(parse_error)?;
    let mut tables: Vec<(String, String)> = serde_json::from_str(&part(1)?).map_err(parse_error)?;
    let columns: Vec<ColumnRow> = serde_json::from_str(&part(2)?).map_err(parse_error)?;
    let constraints: Vec<ConstraintRow> = serde_json::from_str(&part(3)?).map_err(parse_error)?;
    let indexes: Vec<IndexRow> = serde_json::from_str(&part(4)?).map_err(parse_error)?;
    let view_rows: Vec<(String, String, Option<String>, Option<String>)> =
        serde_json::from_str(&part(5)?).map_err(parse_error)?;
    let settings: Vec<String> = serde_json::from_str(&part(6)?).map_err(parse_error)?;
    // The binary search below needs Rust's byte order. The catalog's `name`
    // columns sort as "C" too, but that is PostgreSQL's choice, not ours.
    tables.sort();

    let mut state = SchemaState {
        schemas: found.into_iter().collect(),
        tables: tables
            .into_iter()
            .map(|(schema, name)| Table::new(schema, name))
            .collect(),
        search_path: settings
            .iter()
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
                using: None,
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
    let canonical = std::sync::Arc::new(match wanted.is_empty() {
        true => Canonical::default(),
        false => canonicalise(conn, wanted, cached).await,
    });
    Ok(Catalog {
        state,
        views,
        canonical,
    })
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
pub(crate) fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_suffix("NOT VALID").unwrap_or(text).trim();
    text.strip_prefix("CHECK").unwrap_or(text).trim().to_owned()
}
