//! strata's benchmark: each measurement against a baseline measured in the
//! same run, on the same server, from the same client, printed as a ratio.
//!
//! `cargo run --release -p strata-tests --bin strata-bench [tenants]` (a
//! throwaway PostgreSQL, or `DATABASE_URL`'s server); `tenants` runs the
//! schema-per-tenant benchmark alone, `core` everything but it.

use std::time::{Duration, Instant};

use strata::sqlx::{self, Connection, PgConnection, PgPool};
use strata::{DriftPolicy, Migrations, Migrator, TenantSchema, Tenants};
use strata_manifest::{
    constraint_name, tenant_sql, Column, ForeignKey, Index, QualifiedName, Routine, SchemaState,
    Table, Trigger, View,
};

/// The median of `runs` timings of `f`.
async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[runs / 2]
}

fn show(name: &str, measured: Duration, baseline_name: &str, baseline: Duration) {
    println!(
        "{name:<52} {:>10.3} ms   {baseline_name:<40} {:>10.3} ms   ratio {:>8.1}",
        measured.as_secs_f64() * 1e3,
        baseline.as_secs_f64() * 1e3,
        measured.as_secs_f64() / baseline.as_secs_f64()
    );
}

/// `count` tables over 10 schemas: each with an identity key, seven
/// columns, a unique constraint, an index, and a foreign key to the
/// previous table of its schema.
fn many_tables(count: usize) -> SchemaState {
    let mut state = SchemaState::default();
    for s in 0..10 {
        let schema = format!("bench_{s}");
        for t in 0..count / 10 + usize::from(s < count % 10) {
            let name = format!("table_{t:03}");
            let mut table = Table::new(&schema, &name);
            let mut id = Column::new("id", "bigint").not_null();
            id.identity = true;
            table.columns.push(id);
            for (c, ty) in [
                "text",
                "integer",
                "bigint",
                "boolean",
                "timestamp with time zone",
                "numeric(12,2)",
                "character varying(64)",
            ]
            .iter()
            .enumerate()
            {
                table.columns.push(Column::new(format!("col_{c}"), *ty));
            }
            table.set_primary_key(vec!["id".into()]);
            table.add_unique(vec!["col_6".into()]);
            table.add_index(Index {
                name: constraint_name(&name, &["col_1".into()], "idx"),
                columns: vec!["col_1".into()],
                unique: false,
                predicate: None,
                ..Default::default()
            });
            if t > 0 {
                table.columns.push(Column::new("parent_id", "bigint"));
                table.add_foreign_key(ForeignKey {
                    name: constraint_name(&name, &["parent_id".into()], "fkey"),
                    columns: vec!["parent_id".into()],
                    references: QualifiedName::new(&schema, format!("table_{:03}", t - 1)),
                    referenced_columns: vec!["id".into()],
                    on_delete: Default::default(),
                    on_update: Default::default(),
                });
            }
            state.add_table(table);
        }
        // Views, a function and triggers mixed in: a view over the schema's
        // first table, and an audit-style trigger on each of its first ten.
        state.add_view(View {
            schema: schema.clone(),
            name: "first_ids".to_owned(),
            sql: format!("SELECT id, col_0 FROM {schema}.table_000"),
            materialized: false,
            columns: vec!["id".into(), "col_0".into()],
            indexes: Vec::new(),
        });
        state.add_routine(
            Routine::from_sql(&format!(
                "CREATE FUNCTION {schema}.touched() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            ))
            .unwrap(),
        );
        for t in 0..10.min(count / 10) {
            state.add_trigger(
                Trigger::from_sql(&format!(
                    "CREATE TRIGGER touch BEFORE UPDATE ON {schema}.table_{t:03} FOR EACH ROW EXECUTE FUNCTION {schema}.touched()"
                ))
                .unwrap(),
            );
        }
    }
    state
}

/// How many tenants the tenant benchmark migrates.
const TENANTS: usize = 1000;

/// Runs `psql -X -q -v ON_ERROR_STOP=1 <args> -f file url`; returns how long it took.
fn psql_file(args: &[&str], file: &std::path::Path, url: &str) -> Duration {
    let start = Instant::now();
    let status = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .arg("-f")
        .arg(file)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed on {}", file.display());
    start.elapsed()
}

/// 1,000 tenants: strata's fan-out against psql applying the same SQL.
async fn tenants_bench() {
    let (v1, v2) = strata_tests::tenant_stream();
    let dir = tempfile::tempdir().unwrap();
    let ups =
        strata_tests::write_migrations(dir.path(), &[(&SchemaState::default(), &v1), (&v1, &v2)]);
    let v1_dir = tempfile::tempdir().unwrap();
    strata_tests::write_migrations(v1_dir.path(), &[(&SchemaState::default(), &v1)]);
    let stream_v1 = Migrations::from_dir(v1_dir.path()).unwrap();
    let stream_v2 = Migrations::from_dir(dir.path()).unwrap();
    let tenants: Vec<TenantSchema> = (0..TENANTS)
        .map(|i| TenantSchema::new(&format!("b{i:04}")).unwrap())
        .collect();
    const SHARED: &str = "CREATE SCHEMA bench_shared;
        CREATE TABLE bench_shared.kinds (id bigint PRIMARY KEY);
        CREATE TABLE bench_shared.types (id bigint PRIMARY KEY)";

    let strata_db = strata::testing::database().await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(strata_db.url())
        .await
        .unwrap();
    sqlx::raw_sql(SHARED).execute(&pool).await.unwrap();
    let start = Instant::now();
    let created = Tenants::new(&stream_v1)
        .concurrency(4)
        .migrate(&pool, &tenants)
        .await
        .unwrap();
    let create = start.elapsed();
    assert!(
        created.is_success() && created.applied().count() == TENANTS,
        "{created}"
    );
    let start = Instant::now();
    let followed = Tenants::new(&stream_v2)
        .concurrency(4)
        .migrate(&pool, &tenants)
        .await
        .unwrap();
    let follow_up = start.elapsed();
    assert!(
        followed.is_success() && followed.applied().count() == TENANTS,
        "{followed}"
    );

    // psql: the same SQL, each tenant in its own transaction, in one session
    // (psql -1 on one file of 11,000 tables would need more locks than one
    // transaction may hold); and a loop of psql -1 -f, one file per tenant.
    let psql_db = strata::testing::database().await.unwrap();
    sqlx::raw_sql(SHARED)
        .execute(&psql_db.pool().await.unwrap())
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut timings = Vec::new();
    for (step, up) in ups.iter().enumerate() {
        let mut all = String::new();
        for tenant in &tenants {
            all.push_str("BEGIN;\n");
            all.push_str(&tenant_sql(up, tenant.quoted()));
            all.push_str("\nCOMMIT;\n");
        }
        let file = files.path().join(format!("all_{step}.sql"));
        std::fs::write(&file, all).unwrap();
        timings.push(psql_file(&[], &file, psql_db.url()));
    }
    let loop_db = strata::testing::database().await.unwrap();
    sqlx::raw_sql(SHARED)
        .execute(&loop_db.pool().await.unwrap())
        .await
        .unwrap();
    let start = Instant::now();
    for tenant in &tenants {
        let file = files.path().join(format!("{}.sql", tenant.name()));
        std::fs::write(&file, tenant_sql(&ups[0], tenant.quoted())).unwrap();
        psql_file(&["-1"], &file, loop_db.url());
    }
    let psql_loop = start.elapsed();

    let per_second = |d: Duration| TENANTS as f64 / d.as_secs_f64();
    show(
        "create 1,000 tenants x 11 tables (concurrency 4)",
        create,
        "psql -f, one session, BEGIN/COMMIT each",
        timings[0],
    );
    show(
        "create 1,000 tenants x 11 tables (concurrency 4)",
        create,
        "psql -1 -f per tenant, in a loop",
        psql_loop,
    );
    show(
        "follow-up migration, 1,000 tenants",
        follow_up,
        "psql -f, one session, BEGIN/COMMIT each",
        timings[1],
    );
    println!(
        "tenants per second: create {:.0} (psql one session {:.0}, psql loop {:.0}); follow-up {:.0} (psql {:.0})",
        per_second(create),
        per_second(timings[0]),
        per_second(psql_loop),
        per_second(follow_up),
        per_second(timings[1])
    );

    let names: Vec<String> = tenants.iter().map(|t| t.name().to_owned()).collect();
    let checker = Tenants::new(&stream_v2);
    let drift = median(5, || async {
        assert!(checker
            .check_drift(&pool, &tenants)
            .await
            .unwrap()
            .is_clean());
    })
    .await;
    let catalog = median(5, || one_catalog_query(&pool, &names)).await;
    show(
        "drift check, 1,000 tenants (11,000 tables)",
        drift,
        "one catalog query, same schemas",
        catalog,
    );
}

/// The baseline for a drift check: one catalog query over the same tables.
async fn one_catalog_query(pool: &PgPool, schemas: &[String]) {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .bind(schemas)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!rows.is_empty());
}

/// Where a drift check's time goes: each kind's catalog subquery on its
/// own, as the drift statement runs it.
async fn drift_breakdown(pool: &PgPool, schemas: &[String], whole: Duration) {
    let mut sum = Duration::ZERO;
    for (name, sql) in strata::__private::catalog_parts() {
        let statement = format!("SELECT ({sql})::text");
        let took = median(11, || async {
            sqlx::query(&statement)
                .bind(schemas)
                .bind(Vec::<String>::new())
                .bind(Vec::<String>::new())
                .fetch_one(pool)
                .await
                .unwrap();
        })
        .await;
        sum += took;
        println!("    {name:<48} {:>10.3} ms", took.as_secs_f64() * 1e3);
    }
    show(
        "    the kinds' subqueries, one by one, summed",
        sum,
        "the whole drift check",
        whole,
    );
}

/// The expression corpus: today's drift check, which asks the server to
/// spell the models' expressions (cached), against comparing their text.
async fn corpus_bench() {
    let corpus = strata_tests::corpus::corpus_state("corpus", "items");
    let corpus_dir = tempfile::tempdir().unwrap();
    strata_tests::write_migrations(corpus_dir.path(), &[(&SchemaState::default(), &corpus)]);
    let corpus_migrations = Migrations::from_dir(corpus_dir.path()).unwrap();
    let corpus_db = strata::testing::database().await.unwrap();
    let corpus_pool = corpus_db.pool().await.unwrap();
    Migrator::new(&corpus_migrations)
        .run(&corpus_pool)
        .await
        .unwrap();
    // Interleaved, so that the machine's drifting load falls on both alike.
    let mut canonical = Vec::new();
    let mut textual = Vec::new();
    for _ in 0..101 {
        let start = Instant::now();
        assert!(strata::check_drift(&corpus_pool, &corpus_migrations)
            .await
            .unwrap()
            .is_clean());
        canonical.push(start.elapsed());
        let start = Instant::now();
        strata::__private::check_drift_textual(&corpus_pool, &corpus_migrations)
            .await
            .unwrap();
        textual.push(start.elapsed());
    }
    canonical.sort();
    textual.sort();
    let (canonical, textual) = (canonical[50], textual[50]);
    let table = &corpus.tables[0];
    let expressions = table.checks.len()
        + table.indexes.len()
        + table.columns.iter().filter(|c| c.default.is_some()).count();
    show(
        &format!("drift check, expression corpus ({expressions} expressions)"),
        canonical,
        "the same check comparing text (before)",
        textual,
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("strata bench: medians; each line is strata against a baseline from the same run\n");
    // `strata-bench tenants` runs the tenant benchmark alone.
    if std::env::args().nth(1).as_deref() == Some("tenants") {
        tenants_bench().await;
        return;
    }
    // `strata-bench corpus` runs the expression corpus alone.
    if std::env::args().nth(1).as_deref() == Some("corpus") {
        corpus_bench().await;
        return;
    }
    let kct_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/kct-menswear/migrations");
    let kct = Migrations::from_dir(&kct_dir).expect("the KCT migrations");

    // Start-up with nothing pending, on the migrated KCT schema.
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    Migrator::new(&kct).run(&pool).await.unwrap();
    let startup = median(21, || async {
        let report = Migrator::new(&kct).run(&pool).await.unwrap();
        assert!(report.applied.is_empty() && report.drift.is_clean());
    })
    .await;
    let select_one = median(201, || async {
        sqlx::query("SELECT 1").execute(&pool).await.unwrap();
    })
    .await;
    let connect_select_one = median(21, || async {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        sqlx::query("SELECT 1").execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    })
    .await;
    show(
        "start-up, nothing pending (KCT, 28 tables)",
        startup,
        "SELECT 1 round trip (pooled)",
        select_one,
    );
    show(
        "start-up, nothing pending (KCT, 28 tables)",
        startup,
        "connect + SELECT 1 + close",
        connect_select_one,
    );

    let kct_schemas: Vec<String> = kct.manifest().unwrap().state.schemas.into_iter().collect();
    let drift_kct = median(51, || async {
        assert!(strata::check_drift(&pool, &kct).await.unwrap().is_clean());
    })
    .await;
    let catalog_kct = median(51, || one_catalog_query(&pool, &kct_schemas)).await;
    show(
        "drift check (KCT, 28 tables)",
        drift_kct,
        "one catalog query, same tables",
        catalog_kct,
    );

    corpus_bench().await;

    // A generated 1,126-table, 10-schema database, applied three times each way.
    let state = many_tables(1126);
    let dir = tempfile::tempdir().unwrap();
    let sql =
        strata_tests::write_migrations(dir.path(), &[(&SchemaState::default(), &state)]).remove(0);
    let big = Migrations::from_dir(dir.path()).unwrap();
    let file = dir.path().join("0001_step_1.sql");
    let mut strata_times = Vec::new();
    let mut psql_times = Vec::new();
    let mut strata_dbs = Vec::new();
    for _ in 0..3 {
        let strata_db = strata::testing::database().await.unwrap();
        let strata_pool = strata_db.pool().await.unwrap();
        let start = Instant::now();
        Migrator::new(&big)
            .drift_policy(DriftPolicy::Ignore)
            .run(&strata_pool)
            .await
            .unwrap();
        strata_times.push(start.elapsed());
        strata_dbs.push((strata_db, strata_pool));
        let psql_db = strata::testing::database().await.unwrap();
        psql_times.push(psql_file(&["-1"], &file, psql_db.url()));
        psql_db.destroy().await.unwrap();
    }
    strata_times.sort();
    psql_times.sort();
    show(
        &format!(
            "apply 1,126-table initial migration ({} KiB)",
            sql.len() / 1024
        ),
        strata_times[1],
        "psql -1 -f of the same file",
        psql_times[1],
    );
    let strata_pool = strata_dbs[0].1.clone();

    let schemas: Vec<String> = state.schemas.iter().cloned().collect();
    let drift_big = median(11, || async {
        assert!(strata::check_drift(&strata_pool, &big)
            .await
            .unwrap()
            .is_clean());
    })
    .await;
    let catalog_big = median(11, || one_catalog_query(&strata_pool, &schemas)).await;
    show(
        "drift check (1,126 tables, 10 schemas)",
        drift_big,
        "one catalog query, same tables",
        catalog_big,
    );
    drift_breakdown(&strata_pool, &schemas, drift_big).await;

    // `strata-bench core` leaves the tenant benchmark out.
    if std::env::args().nth(1).as_deref() != Some("core") {
        tenants_bench().await;
    }
}
