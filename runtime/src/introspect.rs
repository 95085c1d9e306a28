//! Reads the live catalog of the managed schemas, in one statement whatever
//! their size, made of the parts each kind of object reads (`catalog`).

use sqlx::{Connection, PgConnection, Row};
use strata_manifest::SchemaState;

use crate::canonical::{canonicalise, requests, Canonical, CACHED};
use crate::catalog::{statement, KINDS};
use crate::error::{db, Error};

/// What the catalog holds: the managed schemas' state and the compat views found.
pub(crate) struct Catalog {
    pub(crate) state: SchemaState,
    /// Each expected compat view that exists.
    pub(crate) views: Vec<crate::catalog::FoundView>,
    /// The server's spelling of the expected expressions.
    pub(crate) canonical: std::sync::Arc<Canonical>,
    /// The sequences a column owns (an identity's, a `serial`'s): never unexpected.
    pub(crate) column_sequences: Vec<(String, String)>,
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
    // The statement's estimated cost is that of every kind's subquery
    // together, which passes `jit_above_cost` on a schema of any size: the
    // server then spends far longer compiling it (a third of a second for
    // KCT's 28 tables, seconds for 1,126) than running it. For this
    // transaction only, so nothing leaks through a pooler.
    sqlx::Executor::execute(&mut *tx, "SET LOCAL jit = off")
        .await
        .map_err(db(context))?;
    let row = crate::session::query(statement())
        .bind(&names)
        .bind(&view_schemas)
        .bind(&view_names)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    // Read first: a view's spelling depends on the live layout of its tables.
    let part = |i: usize| -> Result<String, Error> {
        let text: Option<String> = row.try_get(i).map_err(db(context))?;
        Ok(text.unwrap_or_else(|| "[]".to_owned()))
    };
    let parse_error = |e: serde_json::Error| Error::Database {
        context,
        source: sqlx::Error::Decode(Box::new(e)),
    };
    let mut catalog = Catalog {
        state: SchemaState::default(),
        views: Vec::new(),
        canonical: Default::default(),
        column_sequences: Vec::new(),
    };
    for (i, kind) in KINDS.iter().enumerate() {
        (kind.read)(&part(i)?, &mut catalog).map_err(parse_error)?;
    }
    // The server's spelling of the expected expressions, from its cache, in
    // the same transaction (no round trip when there is nothing to spell).
    let wanted = if canonical {
        requests(expected, &catalog.state)
    } else {
        Default::default()
    };
    let cache_exists: bool = row.try_get(KINDS.len()).map_err(db(context))?;
    let search_path: String = row.try_get(KINDS.len() + 1).map_err(db(context))?;
    let cached = match (cache_exists, wanted.is_empty()) {
        (false, _) => None,
        (true, true) => Some(Default::default()),
        (true, false) => {
            let keys: Vec<String> = wanted.keys().map(|r| r.key(&search_path)).collect();
            let rows: Vec<(String, String)> = crate::session::query_as(CACHED)
                .bind(&keys)
                .fetch_all(&mut *tx)
                .await
                .map_err(db(context))?;
            Some(rows.into_iter().collect())
        }
    };
    tx.commit().await.map_err(db(context))?;
    let canonical = std::sync::Arc::new(match wanted.is_empty() {
        true => Canonical::default(),
        false => canonicalise(conn, wanted, cached, &search_path).await,
    });
    catalog.canonical = canonical;
    Ok(catalog)
}
