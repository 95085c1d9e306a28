//! strata's benchmark: each measurement against a baseline measured in the
//! same run, on the same server, from the same client, printed as a ratio.
//!
//! `cargo run --release -p strata-tests --bin strata-bench` (a throwaway
//! PostgreSQL, or `DATABASE_URL`'s server).

use std::time::{Duration, Instant};

use strata::sqlx::{self, Connection, PgConnection, PgPool};
use strata::{DriftPolicy, Migrations, Migrator};
use strata_manifest::{
    constraint_name, Column, ForeignKey, Index, QualifiedName, SchemaState, Table,
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

/// 10 schemas of 100 tables: each with an identity key, seven columns, a
/// unique constraint, an index, and a foreign key to the previous table.
fn thousand_tables() -> SchemaState {
    let mut state = SchemaState::default();
    for s in 0..10 {
        let schema = format!("bench_{s}");
        for t in 0..100 {
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
    }
    state
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("strata bench: medians; each line is strata against a baseline from the same run\n");
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

    // A generated 1,000-table, 10-schema database.
    let state = thousand_tables();
    let dir = tempfile::tempdir().unwrap();
    let sql =
        strata_tests::write_migrations(dir.path(), &[(&SchemaState::default(), &state)]).remove(0);
    let big = Migrations::from_dir(dir.path()).unwrap();

    let strata_db = strata::testing::database().await.unwrap();
    let strata_pool = strata_db.pool().await.unwrap();
    let start = Instant::now();
    Migrator::new(&big)
        .drift_policy(DriftPolicy::Ignore)
        .run(&strata_pool)
        .await
        .unwrap();
    let apply = start.elapsed();

    let psql_db = strata::testing::database().await.unwrap();
    let file = dir.path().join("0001_step_1.sql");
    let start = Instant::now();
    let status = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f"])
        .arg(&file)
        .arg(psql_db.url())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("psql runs");
    let psql = start.elapsed();
    assert!(status.success(), "psql failed on the generated SQL");
    show(
        &format!(
            "apply 1,000-table initial migration ({} KiB)",
            sql.len() / 1024
        ),
        apply,
        "psql -1 -f of the same file",
        psql,
    );

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
        "drift check (1,000 tables, 10 schemas)",
        drift_big,
        "one catalog query, same tables",
        catalog_big,
    );
}
