//! The server's own spelling of the models' expressions (checks, partial
//! index predicates, column defaults), so that drift compares what
//! PostgreSQL stores with what PostgreSQL would store for the model, and no
//! rewrite it makes (IN to ANY, BETWEEN, casts, parentheses, operator
//! forms, …) can show up as drift.
//!
//! Each expression is given to the server on a scratch temporary table
//! with the model's columns, inside a transaction that is rolled back, and
//! read back with `pg_get_constraintdef` / `pg_get_expr`, exactly as the
//! live catalog is read. It is the model's text that is canonicalised, never
//! what the live database holds (that would bless a hand edit). Results are
//! cached in `strata.expressions`, keyed by the expression, the columns it
//! can see and `server_version_num`, so a start-up with nothing new costs one
//! more small query.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use sqlx::{Connection, PgConnection};
use strata_manifest::{
    definition_shape, identify, quote_ident, replace_spans, Routine, SchemaState, SqlObject, Table,
    Trigger, View,
};

use crate::expected::Expected;
use crate::session::{query, query_as};

/// What kind of expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Check,
    Predicate,
    Default,
    Generated,
    View,
    Routine,
    Trigger,
    Policy,
    /// A kind of the catalog that spells its own (`catalog::SPELLED`, by
    /// its place in that list).
    Spelled(usize),
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Predicate => "predicate",
            Kind::Default => "default",
            Kind::Generated => "generated",
            Kind::View => "view",
            Kind::Routine => "routine",
            Kind::Trigger => "trigger",
            Kind::Policy => "policy",
            Kind::Spelled(i) => crate::catalog::SPELLED[i].part,
        }
    }
}

/// One expression to canonicalise: its kind, what it can see (the table's
/// columns and their types, or for a default the column's type), its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Request {
    pub(crate) context: String,
    pub(crate) expression: String,
}

impl Request {
    /// The cache key: the SHA-256 of the context and the expression.
    /// The server prints a name qualified or not by the session's
    /// `search_path` (`search_path`: its schemas, as `current_schemas`
    /// gives them), so the key holds it: sessions with other paths never
    /// share a spelling.
    pub(crate) fn key(&self, search_path: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(search_path.as_bytes());
        hash.update([0]);
        hash.update(self.context.as_bytes());
        hash.update([0]);
        hash.update(self.expression.as_bytes());
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The server's spelling of each expression it could read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Canonical {
    spelled: HashMap<Request, String>,
}

impl Canonical {
    /// The spellings of one table's expressions.
    pub(crate) fn table<'c>(&'c self, table: &'c Table) -> TableSpelling<'c> {
        TableSpelling {
            canonical: self,
            table,
            shape: std::cell::OnceCell::new(),
            missed: std::cell::Cell::new(false),
        }
    }

    /// The spellings `cached` (the cache's rows, by key) holds for `wanted`.
    pub(crate) fn from_cache(
        wanted: &BTreeMap<Request, Source>,
        cached: Option<&BTreeMap<String, String>>,
        search_path: &str,
    ) -> Canonical {
        let mut canonical = Canonical::default();
        let Some(cached) = cached else {
            return canonical;
        };
        for request in wanted.keys() {
            if let Some(text) = cached.get(&request.key(search_path)) {
                canonical.spelled.insert(request.clone(), text.clone());
            }
        }
        canonical
    }
}

impl Canonical {
    /// The server's spelling of a view's definition, in `expected`.
    pub(crate) fn view(
        &self,
        view: &View,
        expected: &SchemaState,
        live: &SchemaState,
    ) -> Option<&str> {
        let request = Request {
            context: view_context(view, expected, live),
            expression: view.sql.clone(),
        };
        self.spelled.get(&request).map(String::as_str)
    }
}

impl Canonical {
    /// The server's spelling of a function's definition, without its name.
    pub(crate) fn routine(&self, routine: &Routine) -> Option<&str> {
        self.spelled
            .get(&routine_request(routine))
            .map(String::as_str)
    }

    /// The server's spelling of a trigger's definition, without its name and table.
    pub(crate) fn trigger(&self, trigger: &Trigger, expected: &SchemaState) -> Option<&str> {
        let (request, _) = trigger_request(trigger, expected)?;
        self.spelled.get(&request).map(String::as_str)
    }
}

impl Canonical {
    /// The server's spelling of `expression`, an object of the kind
    /// `SPELLED[i]`.
    pub(crate) fn spelled(&self, i: usize, expression: &str) -> Option<&str> {
        let request = Request {
            context: Kind::Spelled(i).tag().to_owned(),
            expression: expression.to_owned(),
        };
        self.spelled.get(&request).map(String::as_str)
    }
}

/// A request of the kind `SPELLED[i]`: of the state (`at` none), or of
/// the table `at`, spelt against its shape.
fn spelled_request(i: usize, expression: String, at: Option<(usize, &str)>) -> (Request, Source) {
    let tag = Kind::Spelled(i).tag();
    let request = Request {
        context: match at {
            Some((_, shape)) => format!("{tag}\u{1f}{shape}"),
            None => tag.to_owned(),
        },
        expression,
    };
    (request, (Kind::Spelled(i), at.map(|(at, _)| at), None))
}

fn routine_request(routine: &Routine) -> Request {
    Request {
        context: Kind::Routine.tag().to_owned(),
        expression: routine.sql.clone(),
    }
}

/// A trigger is spelt on a scratch copy of its table: the context is that
/// table's shape. `None` for a trigger on no managed table (on a view).
fn trigger_request<'s>(
    trigger: &Trigger,
    expected: &'s SchemaState,
) -> Option<(Request, &'s Table)> {
    let table = expected.table(&trigger.schema, &trigger.table)?;
    Some((
        Request {
            context: format!("{}\u{1f}{}", Kind::Trigger.tag(), shape(table)),
            expression: trigger.sql.clone(),
        },
        table,
    ))
}

/// What a view's definition is spelt against: the shapes of the tables it
/// reads and, for the views it reads, their own definitions and what those
/// read (the server writes casts that depend on the column types).
fn view_context(view: &View, expected: &SchemaState, live: &SchemaState) -> String {
    use sha2::{Digest, Sha256};
    fn add(
        hash: &mut Sha256,
        view: &View,
        (expected, live): (&SchemaState, &SchemaState),
        depth: usize,
    ) {
        for read in view.reads() {
            // A table as it is laid out in the database: `*` expands to its
            // columns in their physical order, which a rollback that brought
            // a dropped column back (last) changes.
            let table = live
                .table(&read.schema, &read.name)
                .or_else(|| expected.table(&read.schema, &read.name));
            if let Some(table) = table {
                hash.update(shape(table).as_bytes());
            } else if let Some(inner) = expected.views.iter().find(|v| v.qualified_name() == read) {
                hash.update(inner.sql.as_bytes());
                if depth < 8 {
                    add(hash, inner, (expected, live), depth + 1);
                }
            }
            hash.update([0]);
        }
    }
    let mut hash = Sha256::new();
    add(&mut hash, view, (expected, live), 0);
    let digest: String = hash
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}\u{1f}{digest}", Kind::View.tag())
}

/// [`Canonical`] for one table, whose shape is hashed once, when first needed.
#[derive(Debug)]
pub(crate) struct TableSpelling<'c> {
    canonical: &'c Canonical,
    table: &'c Table,
    shape: std::cell::OnceCell<String>,
    missed: std::cell::Cell<bool>,
}

impl TableSpelling<'_> {
    /// The server's spelling of a check, predicate or default (of `column`);
    /// empty for a default the server keeps no expression for.
    pub(crate) fn get(&self, kind: Kind, column: Option<&str>, expr: &str) -> Option<&str> {
        let shape = self.shape.get_or_init(|| shape(self.table));
        let request = Request {
            context: context(shape, self.table, kind, column)?,
            expression: expr.to_owned(),
        };
        let spelled = self.canonical.spelled.get(&request).map(String::as_str);
        if spelled.is_none() {
            self.missed.set(true);
        }
        spelled
    }

    /// The server's spelling of `expression`, one of the table's objects
    /// of the kind `SPELLED[i]` (`catalog::Spell::of_table`).
    pub(crate) fn spelled(&self, i: usize, expression: &str) -> Option<&str> {
        let shape = self.shape.get_or_init(|| shape(self.table));
        let request = Request {
            context: format!("{}\u{1f}{shape}", Kind::Spelled(i).tag()),
            expression: expression.to_owned(),
        };
        let spelled = self.canonical.spelled.get(&request).map(String::as_str);
        if spelled.is_none() {
            self.missed.set(true);
        }
        spelled
    }

    /// Whether [`TableSpelling::get`] was asked for an expression it has no
    /// spelling of: a comparison made before the server spelt every
    /// expression (while the catalog streams in) is then not final.
    pub(crate) fn missed(&self) -> bool {
        self.missed.get()
    }
}

/// The columns a table's checks and predicates can see, with their types,
/// hashed: what the server's spelling of them depends on.
fn shape(table: &Table) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for column in &table.columns {
        hash.update(column.name.as_bytes());
        hash.update([0]);
        hash.update(column.sql_type.as_bytes());
        hash.update([1]);
    }
    hash.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a check, predicate or default can see, as part of the cache key:
/// its kind and the table's shape, or for a default its column's type.
fn context(shape: &str, table: &Table, kind: Kind, column: Option<&str>) -> Option<String> {
    Some(match kind {
        Kind::Default => format!("{}\u{1f}{}", kind.tag(), table.column(column?)?.sql_type),
        // A generation expression sees the table's other columns.
        Kind::Generated => format!(
            "{}\u{1f}{shape}\u{1f}{}",
            kind.tag(),
            table.column(column?)?.sql_type
        ),
        // A view's definition sees the database, not one table.
        Kind::View => kind.tag().to_owned(),
        _ => format!("{}\u{1f}{shape}", kind.tag()),
    })
}

/// Where an expression comes from: its kind, its table (by its place in
/// the expected state's tables; none for a view's or a function's
/// definition), and for a default its column.
pub(crate) type Source = (Kind, Option<usize>, Option<String>);

/// The definitions of the views of `expected`, each once: what they are
/// spelt against depends on the live layout of the tables they read.
pub(crate) fn view_requests(
    expected: &SchemaState,
    live: &SchemaState,
) -> BTreeMap<Request, Source> {
    let mut all = BTreeMap::new();
    for view in &expected.views {
        let request = Request {
            context: view_context(view, expected, live),
            expression: view.sql.clone(),
        };
        all.entry(request).or_insert((Kind::View, None, None));
    }
    all
}

/// Every expression of `expected` but the views' definitions, each once:
/// what `expected` alone decides, known before the catalog is read.
pub(crate) fn table_requests(expected: &SchemaState) -> BTreeMap<Request, Source> {
    let mut all = BTreeMap::new();
    for (at, table) in expected.tables.iter().enumerate() {
        for (request, source) in requests_of_table(table, at) {
            all.entry(request).or_insert(source);
        }
    }
    for (request, source) in state_requests(expected) {
        all.entry(request).or_insert(source);
    }
    all
}

/// The definitions of the functions and triggers of `expected`: a
/// trigger's is spelt on its table, which `expected` must hold whole.
pub(crate) fn state_requests(expected: &SchemaState) -> Vec<(Request, Source)> {
    let mut all = Vec::new();
    for routine in &expected.routines {
        all.push((routine_request(routine), (Kind::Routine, None, None)));
    }
    for trigger in &expected.triggers {
        if let Some((request, table)) = trigger_request(trigger, expected) {
            let at = crate::catalog::find(expected, &table.schema, &table.name);
            all.push((request, (Kind::Trigger, at, None)));
        }
    }
    for (i, spell) in crate::catalog::SPELLED.iter().enumerate() {
        for expression in (spell.of_state)(expected) {
            all.push(spelled_request(i, expression, None));
        }
    }
    all
}

/// The checks, predicates, defaults and generation expressions of `table`,
/// the expected state's table `at`.
pub(crate) fn requests_of_table(table: &Table, at: usize) -> Vec<(Request, Source)> {
    let mut all = Vec::new();
    let shape = shape(table);
    let mut add = |kind: Kind, column: Option<&str>, expr: &str| {
        if let Some(context) = context(&shape, table, kind, column) {
            let request = Request {
                context,
                expression: expr.to_owned(),
            };
            all.push((request, (kind, Some(at), column.map(str::to_owned))));
        }
    };
    for check in &table.checks {
        add(Kind::Check, None, &check.expr);
    }
    for index in &table.indexes {
        if let Some(predicate) = &index.predicate {
            add(Kind::Predicate, None, predicate);
        }
    }
    for policy in &table.policies {
        for expr in policy.using.iter().chain(&policy.with_check) {
            add(Kind::Policy, None, expr);
        }
    }
    for column in &table.columns {
        if let Some(default) = &column.default {
            add(Kind::Default, Some(&column.name), default);
        }
        if let Some(expr) = &column.generated {
            add(Kind::Generated, Some(&column.name), expr);
        }
    }
    for (i, spell) in crate::catalog::SPELLED.iter().enumerate() {
        for expression in (spell.of_table)(table) {
            all.push(spelled_request(i, expression, Some((at, &shape))));
        }
    }
    all
}

/// Returns the cached spellings for this server version: key and
/// canonical text, for the keys in `$1`.
pub(crate) const CACHED: &str = r#"SELECT "key", "canonical" FROM "strata"."expressions"
WHERE "server_version" = current_setting('server_version_num')::int AND "key" = ANY($1::text[])"#;

/// Remembers spellings for this server version; `$1`, `$2`, `$3`: keys,
/// expressions, canonical texts.
const REMEMBER: &str = r#"INSERT INTO "strata"."expressions" ("server_version", "key", "expression", "canonical")
SELECT current_setting('server_version_num')::int, r.* FROM unnest($1::text[], $2::text[], $3::text[]) AS r
ON CONFLICT DO NOTHING"#;

/// Returns the name and definition of each scratch check.
const SCRATCH_CHECKS: &str = r#"SELECT c.conname::text, pg_catalog.pg_get_constraintdef(c.oid)
FROM pg_catalog.pg_constraint c
WHERE c.connamespace = pg_catalog.pg_my_temp_schema() AND c.conname LIKE 'strata\_x\_%'"#;

/// Returns the name and predicate of each scratch index.
const SCRATCH_PREDICATES: &str = r#"SELECT i.relname::text, pg_catalog.pg_get_expr(x.indpred, x.indrelid)
FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
WHERE i.relnamespace = pg_catalog.pg_my_temp_schema() AND i.relname LIKE 'strata\_x\_%'"#;

/// Returns the scratch table and default of each scratch default.
const SCRATCH_DEFAULTS: &str = r#"SELECT c.relname::text, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_class c ON c.oid = d.adrelid
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relname LIKE 'strata\_x\_%'"#;

/// Returns the name and `USING` expression of each scratch policy.
const SCRATCH_POLICIES: &str = r#"SELECT p.polname::text, pg_catalog.pg_get_expr(p.polqual, p.polrelid)
FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND p.polname LIKE 'strata\_x\_%'"#;

/// Returns the name and definition of each scratch view.
const SCRATCH_VIEWS: &str = r#"SELECT c.relname::text, pg_catalog.pg_get_viewdef(c.oid)
FROM pg_catalog.pg_class c
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relkind = 'v' AND c.relname LIKE 'strata\_x\_%'"#;

/// Returns the name and definition of each scratch function or procedure.
const SCRATCH_ROUTINES: &str = r#"SELECT p.proname::text, pg_catalog.pg_get_functiondef(p.oid)
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = pg_catalog.pg_my_temp_schema() AND p.proname LIKE 'strata\_x\_%'"#;

/// Returns the name and definition of each scratch trigger.
const SCRATCH_TRIGGERS: &str = r#"SELECT t.tgname::text, pg_catalog.pg_get_triggerdef(t.oid)
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND t.tgname LIKE 'strata\_x\_%'"#;

/// The server's spelling of every expression in `wanted`: from `cached`
/// (what the cache held, by key; `None` when there is no cache), else from
/// scratch tables, then cached. An expression the server cannot take on a
/// scratch table (a read-only standby, a function that is missing) is left
/// out, and drift falls back to comparing text.
pub(crate) async fn canonicalise(
    conn: &mut PgConnection,
    wanted: BTreeMap<Request, Source>,
    cached: Option<BTreeMap<String, String>>,
    search_path: &str,
    expected: &Expected<'_>,
) -> Canonical {
    let mut canonical = Canonical::from_cache(&wanted, cached.as_ref(), search_path);
    let missing: Vec<(&Request, &Source)> = wanted
        .iter()
        .filter(|(request, _)| !canonical.spelled.contains_key(*request))
        .collect();
    if missing.is_empty() {
        return canonical;
    }
    let fresh = match on_scratch(conn, &missing, expected).await {
        Ok(fresh) => fresh,
        Err(error) => {
            tracing::debug!(%error, "strata: expressions could not be canonicalised together; trying one by one");
            let mut fresh = BTreeMap::new();
            for one in &missing {
                if let Ok(spelled) = on_scratch(conn, std::slice::from_ref(one), expected).await {
                    fresh.extend(spelled);
                }
            }
            fresh
        }
    };
    if cached.is_some() && !fresh.is_empty() {
        if let Err(error) = remember(conn, &fresh, search_path).await {
            tracing::debug!(%error, "strata: could not cache canonical expressions");
        }
    }
    canonical.spelled.extend(fresh);
    canonical
}

async fn remember(
    conn: &mut PgConnection,
    fresh: &BTreeMap<Request, String>,
    search_path: &str,
) -> Result<(), sqlx::Error> {
    let mut keys = Vec::new();
    let mut expressions = Vec::new();
    let mut texts = Vec::new();
    for (request, text) in fresh {
        keys.push(request.key(search_path));
        expressions.push(request.expression.as_str());
        texts.push(text.as_str());
    }
    let mut tx = conn.begin().await?;
    query(REMEMBER)
        .bind(&keys)
        .bind(&expressions)
        .bind(&texts)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Creates a scratch table per context and gives it the expressions, in a
/// transaction that is rolled back, and reads back what the server made of
/// them. The expressions are the models' own text, which the migrations ran
/// already; names are quoted.
async fn on_scratch(
    conn: &mut PgConnection,
    missing: &[(&Request, &Source)],
    expected: &Expected<'_>,
) -> Result<BTreeMap<Request, String>, sqlx::Error> {
    let mut tables: BTreeMap<&str, String> = BTreeMap::new();
    let mut sql = String::new();
    // Each scratch object given to the server, with what it spells.
    let mut names: BTreeMap<String, (&Request, Kind)> = BTreeMap::new();
    for (n, (request, (kind, at, column))) in missing.iter().enumerate() {
        let table: std::borrow::Cow<'_, Table> = match at {
            Some(at) => expected.table(*at),
            // An expression that belongs to no table (a view's definition).
            None => std::borrow::Cow::Owned(Table::default()),
        };
        let object = format!("strata_x_{n}");
        match kind {
            Kind::Default => {
                let Some(column) = column.as_deref().and_then(|c| table.column(c)) else {
                    continue;
                };
                let _ = writeln!(
                    sql,
                    "CREATE TEMP TABLE {} (\"c\" {} DEFAULT {});",
                    quote_ident(&object),
                    column.sql_type,
                    request.expression
                );
            }
            Kind::View => {
                let _ = writeln!(
                    sql,
                    "CREATE TEMP VIEW {} AS {};",
                    quote_ident(&object),
                    request.expression.trim().trim_end_matches(';')
                );
            }
            Kind::Routine => {
                // The file's statement, made in the session's temporary schema.
                let Ok(SqlObject::Routine { name_span, .. }) = identify(&request.expression) else {
                    continue;
                };
                let scratch = format!("pg_temp.{}", quote_ident(&object));
                let _ = writeln!(
                    sql,
                    "{};",
                    replace_spans(&request.expression, &[(name_span, scratch.as_str())])
                );
            }
            Kind::Trigger => {
                // The file's statement, on a temporary copy of its table's columns.
                let Ok(SqlObject::Trigger {
                    name_span,
                    table_span,
                    ..
                }) = identify(&request.expression)
                else {
                    continue;
                };
                let copy = format!("strata_tt_{n}");
                let _ = writeln!(
                    sql,
                    "CREATE TEMP TABLE {} (LIKE {});",
                    quote_ident(&copy),
                    strata_manifest::qualified(&table.schema, &table.name)
                );
                let on = format!("pg_temp.{}", quote_ident(&copy));
                let _ = writeln!(
                    sql,
                    "{};",
                    replace_spans(
                        &request.expression,
                        &[
                            (name_span, quote_ident(&object).as_str()),
                            (table_span, on.as_str())
                        ]
                    )
                );
            }
            Kind::Spelled(i) => {
                let Some(statement) =
                    (crate::catalog::SPELLED[*i].scratch)(&request.expression, &object)
                else {
                    continue;
                };
                let _ = writeln!(sql, "{statement}");
            }
            Kind::Generated => {
                // The table's plain columns, and this one computed from them.
                let Some(column) = column.as_deref().and_then(|c| table.column(c)) else {
                    continue;
                };
                let mut columns: Vec<String> = table
                    .columns
                    .iter()
                    .filter(|c| c.generated.is_none())
                    .map(|c| format!("{} {}", quote_ident(&c.name), c.sql_type))
                    .collect();
                columns.push(format!(
                    "{} {} GENERATED ALWAYS AS ({}) STORED",
                    quote_ident(&column.name),
                    column.sql_type,
                    request.expression
                ));
                let _ = writeln!(
                    sql,
                    "CREATE TEMP TABLE {} ({});",
                    quote_ident(&object),
                    columns.join(", ")
                );
            }
            Kind::Check | Kind::Predicate | Kind::Policy => {
                let count = tables.len();
                let scratch = tables.entry(&request.context).or_insert_with(|| {
                    let name = format!("strata_t_{count}");
                    let columns: Vec<String> = table
                        .columns
                        .iter()
                        .map(|c| format!("{} {}", quote_ident(&c.name), c.sql_type))
                        .collect();
                    let _ = writeln!(
                        sql,
                        "CREATE TEMP TABLE {} ({});",
                        quote_ident(&name),
                        columns.join(", ")
                    );
                    name
                });
                let scratch = quote_ident(scratch);
                if *kind == Kind::Check {
                    let _ = writeln!(
                        sql,
                        "ALTER TABLE {scratch} ADD CONSTRAINT {} CHECK ({}) NOT VALID;",
                        quote_ident(&object),
                        request.expression
                    );
                } else if *kind == Kind::Policy {
                    // As `USING`; PostgreSQL prints `WITH CHECK` alike.
                    let _ = writeln!(
                        sql,
                        "CREATE POLICY {} ON {scratch} USING ({});",
                        quote_ident(&object),
                        request.expression
                    );
                } else {
                    let first = table.columns.first().map(|c| quote_ident(&c.name));
                    let Some(first) = first else { continue };
                    let _ = writeln!(
                        sql,
                        "CREATE INDEX {} ON {scratch} ({first}) WHERE {};",
                        quote_ident(&object),
                        request.expression
                    );
                }
            }
        }
        names.insert(object, (*request, *kind));
    }
    let mut tx = conn.begin().await?;
    // Temporary objects only, and all rolled back: nothing else is touched.
    sqlx::Executor::execute(&mut *tx, sql.as_str()).await?;
    let mut rows: Vec<(String, String)> = query_as(SCRATCH_CHECKS).fetch_all(&mut *tx).await?;
    rows.extend(
        query_as::<(String, Option<String>)>(SCRATCH_PREDICATES)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .filter_map(|(name, text)| Some((name, text?))),
    );
    rows.extend(
        query_as::<(String, Option<String>)>(SCRATCH_DEFAULTS)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .filter_map(|(name, text)| Some((name, text?))),
    );
    rows.extend(
        query_as::<(String, Option<String>)>(SCRATCH_VIEWS)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .filter_map(|(name, text)| Some((name, text?))),
    );
    rows.extend(
        query_as::<(String, Option<String>)>(SCRATCH_POLICIES)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .filter_map(|(name, text)| Some((name, text?))),
    );
    for scratch in [SCRATCH_ROUTINES, SCRATCH_TRIGGERS] {
        rows.extend(
            query_as::<(String, Option<String>)>(scratch)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .filter_map(|(name, text)| Some((name, definition_shape(&text?)))),
        );
    }
    // Last, so that a kind's own reading is what stands for its objects
    // (an exclusion constraint's index has its name too, and a predicate).
    let used: std::collections::BTreeSet<usize> = names
        .values()
        .filter_map(|(_, kind)| match kind {
            Kind::Spelled(i) => Some(*i),
            _ => None,
        })
        .collect();
    for i in used {
        rows.extend(
            query_as::<(String, Option<String>)>(crate::catalog::SPELLED[i].read_back)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .filter_map(|(name, text)| Some((name, text?))),
        );
    }
    tx.rollback().await?;
    let mut spelled = BTreeMap::new();
    for (name, text) in rows {
        if let Some((request, kind)) = names.get(&name) {
            let text = match kind {
                Kind::Check => crate::catalog::check_expression(&text),
                _ => text,
            };
            spelled.insert((*request).clone(), text);
        }
    }
    // A default PostgreSQL keeps no expression for (`DEFAULT NULL`) is no default.
    for (request, kind) in names.values() {
        if *kind == Kind::Default {
            spelled.entry((*request).clone()).or_default();
        }
    }
    Ok(spelled)
}
