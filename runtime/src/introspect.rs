//! Reads the live catalog of the managed schemas, in one statement whatever
//! their size, made of the parts each kind of object reads (`catalog`).

use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};
use strata_manifest::SchemaState;

use crate::canonical::{canonicalise, view_requests, Canonical, CACHED};
use crate::catalog::{fast_statement, statement, Streamer, KINDS, UNWATCHED};
use crate::error::{db, Error};
use crate::expected::Expected;

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
    /// The table the object being read belongs to, once looked up.
    pub(crate) touched: Option<usize>,
    /// What the drift check compared while the catalog streamed in.
    pub(crate) streamed: crate::catalog::Streamed,
    /// Each managed schema and role with `USAGE` on it.
    pub(crate) schema_usage: std::collections::BTreeSet<(String, String)>,
    /// The server's date and the partitions of the partitioned tables.
    pub(crate) partitions: crate::catalog::PartitionsSeen,
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
        self.touched = Some(self.last_table);
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
            touched: None,
            streamed: Default::default(),
            schema_usage: Default::default(),
            partitions: Default::default(),
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
        cause: sqlx::Error::Decode(Box::new(e)),
    }
}

/// When the DDL watch says nothing changed since the last clean check of
/// `fingerprint`, the catalog of the kinds it cannot vouch for
/// ([`UNWATCHED`]); `None` when the whole catalog must be read. Its `seen`
/// holds this statement's snapshot and watch when the log holds more than
/// [`crate::watch::BACKLOG_FOLDED`] transactions after the clean check
/// (none touching its schemas): the clean check to record instead.
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
    // A long backlog of other schemas' DDL: what the clean check is
    // renewed with (by the caller, once the unwatched kinds are clean).
    let after = 1 + UNWATCHED.len();
    let backlog: i64 = row.try_get(after).map_err(db(context))?;
    let seen = match backlog > crate::watch::BACKLOG_FOLDED {
        true => crate::watch::Seen {
            snapshot: row.try_get(after + 1).map_err(db(context))?,
            watch: row.try_get(after + 2).map_err(db(context))?,
            renews: Some(row.try_get(after + 3).map_err(db(context))?),
        },
        false => crate::watch::Seen {
            snapshot: String::new(),
            watch: None,
            renews: None,
        },
    };
    let mut catalog = Catalog::empty(seen);
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
    read_catalog_with(conn, &Expected::whole(expected), true, false).await
}

/// [`read_catalog`] for a drift check: the kinds compared table by table are
/// compared while the rows stream in, and what a compared table held is
/// freed (`catalog/stream.rs`), so the catalog is not whole afterwards.
pub(crate) async fn read_catalog_for_drift(
    conn: &mut PgConnection,
    expected: &Expected<'_>,
) -> Result<Catalog, Error> {
    read_catalog_with(conn, expected, true, true).await
}

/// Sets the catalog statement's transaction up and reads what its
/// expressions' spellings depend on: whether the expression cache exists,
/// and the session's `search_path` schemas (which the cache keys hold).
///
/// The statement's estimated cost is that of every kind's subquery
/// together, which passes `jit_above_cost` on a schema of any size: the
/// server then spends far longer compiling it (a third of a second for
/// KCT's 28 tables, seconds for 1,126) than running it. Without a parallel
/// plan, the server's Append sends the kinds in statement order. Both for
/// this transaction only, so nothing leaks through a pooler.
///
/// Without parameters, so sent as one simple query: one round trip, where
/// an unnamed statement takes two.
const SET_UP: &str = r#"SET LOCAL jit = off;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT to_regclass('"strata"."expressions"') IS NOT NULL,
    pg_catalog.array_to_string(pg_catalog.current_schemas(false), ',')"#;

/// Runs [`SET_UP`]; a function of its own, with a named lifetime, so that
/// the future of a start-up that reads the catalog stays `Send`.
async fn set_up(conn: &mut PgConnection) -> Result<PgRow, sqlx::Error> {
    use sqlx::Executor;
    conn.fetch_one(SET_UP).await
}

/// The cache's spellings of `wanted`, by key.
async fn cached(
    conn: &mut PgConnection,
    wanted: impl IntoIterator<Item = &crate::canonical::Request>,
    search_path: &str,
) -> Result<std::collections::BTreeMap<String, String>, sqlx::Error> {
    let keys: Vec<String> = wanted.into_iter().map(|r| r.key(search_path)).collect();
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, String)> = crate::session::query_as(CACHED)
        .bind(&keys)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// [`read_catalog`], with the server's spelling of the expected expressions
/// or (`canonical` false, for the benchmark's baseline) without, and
/// (`stream`) compared table by table as it comes, for a drift check.
pub(crate) async fn read_catalog_with(
    conn: &mut PgConnection,
    whole: &Expected<'_>,
    canonical: bool,
    stream: bool,
) -> Result<Catalog, Error> {
    let expected: &SchemaState = &whole.state;
    let (names, view_schemas, view_names) = parameters(expected);
    let context = "reading the catalog for the drift check";
    // In an explicit transaction, so that a transaction pooler keeps the
    // unnamed statement's parse and its execution on one server connection.
    let mut tx = conn.begin().await.map_err(db(context))?;
    let set_up = set_up(&mut tx).await.map_err(db(context))?;
    let cache_exists: bool = set_up.try_get(0).map_err(db(context))?;
    let search_path: String = set_up.try_get(1).map_err(db(context))?;
    // The spellings of what `expected` alone decides, before the catalog,
    // so that tables can be compared as they come.
    let table_wanted = match canonical {
        true => whole.requests().clone(),
        false => Default::default(),
    };
    // The views' definitions are spelt against the live layout of the
    // tables they read, which is the expected layout unless a table has
    // drifted: their spellings for that layout are asked for now, in the
    // same round trip, and only those of another layout once it is read.
    let views_foreseen = match canonical && cache_exists {
        true => view_requests(expected, expected),
        false => Default::default(),
    };
    let mut cache = match cache_exists {
        true => Some(
            cached(
                &mut tx,
                table_wanted.keys().chain(views_foreseen.keys()),
                &search_path,
            )
            .await
            .map_err(db(context))?,
        ),
        false => None,
    };
    let mut streamer = stream.then(|| {
        Streamer::new(
            whole,
            Canonical::from_cache(&table_wanted, cache.as_ref(), &search_path),
        )
    });
    let parse_error = parse_error(context);
    let field_error = |e: serde::de::value::Error| Error::Database {
        context,
        cause: sqlx::Error::Decode(Box::new(e)),
    };
    let out_of_order = || Error::Database {
        context,
        cause: sqlx::Error::Protocol("the catalog statement's rows came out of order".to_owned()),
    };
    let mut catalog = Catalog::empty(crate::watch::Seen {
        snapshot: String::new(),
        watch: None,
        renews: None,
    });
    let mut extras: Option<(String, Option<String>)> = None;
    // The kinds before `done` are read; `current` is being read.
    let mut done = 0;
    let mut current: Option<usize> = None;
    // A kind read as one JSON document has exactly one row; one read by
    // rows may have none, and one read with another kind has none.
    let skip = |from: usize, to: usize| {
        KINDS[from..to]
            .iter()
            .all(|k| !matches!(k.read, crate::catalog::Read::Json(_)))
    };
    {
        use futures_util::TryStreamExt;
        let mut rows = crate::session::query(statement(!view_names.is_empty()))
            .bind(&names)
            .bind(&view_schemas)
            .bind(&view_names)
            .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db(context))? {
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
                if let Some(streamer) = streamer.as_mut() {
                    streamer.finish(&mut catalog);
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
                    catalog.touched = None;
                    read(&fields, &mut catalog).map_err(field_error)?;
                    if let Some(streamer) = streamer.as_mut() {
                        let touched = catalog.touched;
                        streamer
                            .row(i, touched, &mut catalog)
                            .map_err(|()| out_of_order())?;
                    }
                }
                crate::catalog::Read::Nothing => return Err(out_of_order()),
            }
        }
    }
    if let Some(streamer) = streamer.as_mut() {
        streamer.finish(&mut catalog);
    }
    if !skip(done, KINDS.len()) {
        return Err(out_of_order());
    }
    let (snapshot, watch) = extras.ok_or_else(|| Error::Database {
        context,
        cause: sqlx::Error::RowNotFound,
    })?;
    catalog.seen = crate::watch::Seen {
        snapshot,
        watch,
        renews: None,
    };
    // The views' definitions, spelt against the live layout of the tables
    // they read: the cached spellings not yet asked for, in the same
    // transaction.
    let view_wanted = match canonical {
        true => view_requests(expected, &catalog.state),
        false => Default::default(),
    };
    if let Some(cache) = cache.as_mut() {
        let unforeseen = view_wanted
            .keys()
            .filter(|r| !views_foreseen.contains_key(*r));
        cache.extend(
            cached(&mut tx, unforeseen, &search_path)
                .await
                .map_err(db(context))?,
        );
    }
    tx.commit().await.map_err(db(context))?;
    let mut wanted = table_wanted;
    for (request, source) in view_wanted {
        wanted.entry(request).or_insert(source);
    }
    let canonical = std::sync::Arc::new(match wanted.is_empty() {
        true => Canonical::default(),
        false => canonicalise(conn, wanted, cache, &search_path, whole).await,
    });
    catalog.canonical = canonical;
    Ok(catalog)
}
