//! Reads the live catalog of the managed schemas, in one statement whatever
//! their size, made of the parts each kind of object reads (`catalog`).

use sqlx::{Connection, PgConnection, Row};
use strata_manifest::SchemaState;

use crate::canonical::{canonicalise, requests, Canonical, CACHED};
use crate::catalog::{fast_statement, statement, KINDS, UNWATCHED};
use crate::error::{db, Error};

/// What the catalog holds: the managed schemas' state and the compat views found.
pub(crate) struct Catalog {
    pub(crate) state: SchemaState,
    /// Each expected compat view that exists.
    pub(crate) views: Vec<crate::catalog::FoundView>,
    /// The server's spelling of the expected expressions.
    pub(crate) canonical: std::sync::Arc<Canonical>,
    /// The sequences a `serial` column owns: never unexpected. (Those of
    /// identity columns are not read at all.) A set: a schema may have
    /// thousands.
    pub(crate) column_sequences: std::collections::HashSet<(String, String)>,
    /// The snapshot the catalog was read in, and the DDL watch it saw.
    pub(crate) seen: crate::watch::Seen,
    /// The table the last object read belonged to: a table's columns, keys
    /// and indexes come one after another, so most lookups end here.
    pub(crate) last_table: usize,
}

impl Catalog {
    /// The index of table `schema.table`, as [`crate::catalog::find`] gives it.
    pub(crate) fn table_index(&mut self, schema: &str, table: &str) -> Option<usize> {
        let hit = self
            .state
            .tables
            .get(self.last_table)
            .is_some_and(|t| t.name == table && t.schema == schema);
        if !hit {
            self.last_table = crate::catalog::find(&self.state, schema, table)?;
        }
        Some(self.last_table)
    }
}

impl Catalog {
    fn empty(seen: crate::watch::Seen) -> Self {
        Catalog {
            state: SchemaState::default(),
            views: Vec::new(),
            canonical: Default::default(),
            column_sequences: Default::default(),
            seen,
            last_table: 0,
        }
    }
}

/// The parameters both catalog statements bind: the managed schemas, and
/// the schemas and names of the compat views.
fn parameters(expected: &SchemaState) -> (Vec<String>, Vec<String>, Vec<String>) {
    let names: Vec<String> = expected.schemas.iter().cloned().collect();
    let (view_schemas, view_names): (Vec<String>, Vec<String>) = expected
        .views()
        .map(|(v, _)| (v.schema.clone(), v.name.clone()))
        .unzip();
    (names, view_schemas, view_names)
}

fn parse_error(context: &'static str) -> impl Fn(serde_json::Error) -> Error + Copy {
    move |e| Error::Database {
        context,
        source: sqlx::Error::Decode(Box::new(e)),
    }
}

/// When the DDL watch says nothing changed since the last clean check of
/// `fingerprint`, the catalog of the kinds it cannot vouch for
/// ([`UNWATCHED`]); `None` when the whole catalog must be read.
pub(crate) async fn read_unwatched(
    conn: &mut PgConnection,
    expected: &SchemaState,
    fingerprint: &str,
) -> Result<Option<Catalog>, Error> {
    let (names, view_schemas, view_names) = parameters(expected);
    let context = "reading strata's DDL watch";
    let mut tx = conn.begin().await.map_err(db(context))?;
    let row = crate::session::query(fast_statement())
        .bind(&names)
        .bind(&view_schemas)
        .bind(&view_names)
        .bind(fingerprint)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    tx.commit().await.map_err(db(context))?;
    let unchanged: bool = row.try_get(0).map_err(db(context))?;
    if !unchanged {
        return Ok(None);
    }
    let mut catalog = Catalog::empty(crate::watch::Seen {
        snapshot: String::new(),
        watch: None,
    });
    for (i, kind) in UNWATCHED.iter().enumerate() {
        let text: Option<String> = row.try_get(i + 1).map_err(db(context))?;
        // The unwatched kinds are read as one JSON document each.
        if let crate::catalog::Read::Json(read) = kind.read {
            read(text.as_deref().unwrap_or("[]"), &mut catalog).map_err(parse_error(context))?;
        }
    }
    Ok(Some(catalog))
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
    let (names, view_schemas, view_names) = parameters(expected);
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
    // Kind by kind, each object read as it comes and dropped. With no
    // parallel plan, the server's Append sends the kinds in statement order.
    sqlx::Executor::execute(&mut *tx, "SET LOCAL max_parallel_workers_per_gather = 0")
        .await
        .map_err(db(context))?;
    let parse_error = parse_error(context);
    let field_error = |e: serde::de::value::Error| Error::Database {
        context,
        source: sqlx::Error::Decode(Box::new(e)),
    };
    let out_of_order = || Error::Database {
        context,
        source: sqlx::Error::Protocol("the catalog statement's rows came out of order".to_owned()),
    };
    let mut catalog = Catalog::empty(crate::watch::Seen {
        snapshot: String::new(),
        watch: None,
    });
    let mut extras: Option<(bool, String, String, Option<String>)> = None;
    // The kinds before `done` are read; `current` is being read.
    let mut done = 0;
    let mut current: Option<usize> = None;
    // A kind read as one JSON document has exactly one row; one read by
    // rows may have none.
    let skip = |from: usize, to: usize| {
        KINDS[from..to]
            .iter()
            .all(|k| matches!(k.read, crate::catalog::Read::Rows(_)))
    };
    {
        use futures_util::TryStreamExt;
        let mut stream = crate::session::query(statement())
            .bind(&names)
            .bind(&view_schemas)
            .bind(&view_names)
            .fetch(&mut *tx);
        while let Some(row) = stream.try_next().await.map_err(db(context))? {
            let index: i32 = row.try_get(0).map_err(db(context))?;
            let fields: Vec<Option<String>> = row.try_get(1).map_err(db(context))?;
            let first = fields.first().cloned().flatten();
            let Some(i) = usize::try_from(index).ok().filter(|i| *i < KINDS.len()) else {
                extras = Some(
                    serde_json::from_str(first.as_deref().unwrap_or("null"))
                        .map_err(parse_error)?,
                );
                continue;
            };
            if current != Some(i) {
                if i < done || !skip(done, i) {
                    return Err(out_of_order());
                }
                current = Some(i);
                done = i + 1;
            } else if matches!(KINDS[i].read, crate::catalog::Read::Json(_)) {
                return Err(out_of_order());
            }
            // Read in order: a view's spelling depends on the live layout of its tables.
            match KINDS[i].read {
                crate::catalog::Read::Json(read) => {
                    read(first.as_deref().unwrap_or("[]"), &mut catalog).map_err(parse_error)?
                }
                crate::catalog::Read::Rows(read) => {
                    read(&fields, &mut catalog).map_err(field_error)?
                }
            }
        }
    }
    if !skip(done, KINDS.len()) {
        return Err(out_of_order());
    }
    let (cache_exists, search_path, snapshot, watch) = extras.ok_or_else(|| Error::Database {
        context,
        source: sqlx::Error::RowNotFound,
    })?;
    catalog.seen = crate::watch::Seen { snapshot, watch };
    // The server's spelling of the expected expressions, from its cache, in
    // the same transaction (no round trip when there is nothing to spell).
    let wanted = if canonical {
        requests(expected, &catalog.state)
    } else {
        Default::default()
    };
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
