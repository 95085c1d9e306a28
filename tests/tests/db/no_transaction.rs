//! Migrations marked `-- strata:no-transaction`: run statement by statement,
//! a failure is recorded and refused until retried, and an INVALID index left
//! by a failed concurrent build is rebuilt, never kept.

use strata::sqlx;
use strata::{Error, Migrator};

use crate::support::{fresh_db, psql, Scratch, SHOP};

/// A second migration that builds a unique index concurrently.
pub(crate) fn concurrent_unique_index() -> Scratch {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&SHOP.replace(
        r#"#[strata::schema("tenant_kct", table = "customers")]"#,
        "#[strata::schema(\"tenant_kct\", table = \"customers\")]\n#[index(columns = [\"note\"], unique, name = \"customers_note_uidx\")]",
    ));
    let written = scratch.build().written.unwrap();
    let sql = std::fs::read_to_string(&written).unwrap();
    // The build splits it off by itself: `customers` existed before.
    assert!(
        sql.starts_with(strata::NO_TRANSACTION)
            && sql.contains("CREATE UNIQUE INDEX CONCURRENTLY \"customers_note_uidx\""),
        "{sql}"
    );
    scratch
}

async fn index_valid(pool: &strata::sqlx::PgPool) -> Option<bool> {
    sqlx::query_as::<_, (bool,)>(
        "SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname = 'customers_note_uidx'",
    )
    .fetch_optional(pool)
    .await
    .unwrap()
    .map(|(v,)| v)
}

#[tokio::test]
async fn a_concurrent_index_builds_outside_a_transaction() {
    let scratch = concurrent_unique_index();
    let (_db, pool) = fresh_db().await;
    let report = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied.len(), 2);
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(index_valid(&pool).await, Some(true));
}

#[tokio::test]
async fn a_failed_concurrent_build_is_refused_until_retried_and_then_rebuilt() {
    let scratch = concurrent_unique_index();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .unwrap();
    psql(
        &pool,
        "INSERT INTO tenant_kct.customers (email, note) VALUES ('a@x.org', 'same'), ('b@x.org', 'same')",
    )
    .await;

    let error = Migrator::new(&migrations)
        .run(&pool)
        .await
        .expect_err("duplicates");
    let Error::NonTransactionalFailed {
        file,
        statement,
        code,
        ..
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert!(file.starts_with("0002_"));
    assert_eq!(code.as_deref(), Some("23505"));
    assert!(statement.as_ref().unwrap().2.contains("CONCURRENTLY"));
    assert!(error.to_string().contains("retry_failed(true)"), "{error}");
    // The failed concurrent build left an INVALID index behind.
    assert_eq!(index_valid(&pool).await, Some(false));

    // Later start-ups refuse, saying how to resolve it.
    let refused = Migrator::new(&migrations)
        .run(&pool)
        .await
        .expect_err("refused");
    assert!(
        matches!(&refused, Error::NeedsResolution { file, .. } if file.starts_with("0002_")),
        "{refused}"
    );

    // Fixed and retried: the INVALID index is rebuilt, not kept by IF NOT EXISTS.
    psql(&pool, "UPDATE tenant_kct.customers SET note = email").await;
    let report = Migrator::new(&migrations)
        .retry_failed(true)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied.len(), 1);
    assert_eq!(index_valid(&pool).await, Some(true));
    assert!(report.drift.is_clean(), "{}", report.drift);
    let duplicate =
        sqlx::query("INSERT INTO tenant_kct.customers (email, note) VALUES ('c@x.org', 'a@x.org')")
            .execute(&pool)
            .await;
    assert!(duplicate.is_err(), "the rebuilt index enforces uniqueness");
}

/// A replica that starts while another runs a long concurrent build does
/// not fail or wait: it starts without that migration and says so, and
/// even a retry leaves it to the process running it. A claim whose
/// backend is gone (a process that died) is refused until retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_starts_while_another_runs_a_long_concurrent_build() {
    use strata::sqlx::Connection;

    let scratch = concurrent_unique_index();
    let (db, pool) = fresh_db().await;
    Migrator::new(&scratch.migrations())
        .target(1)
        .run(&pool)
        .await
        .unwrap();
    // A process that died while it built the index: its backend is gone.
    psql(
        &pool,
        "INSERT INTO strata.migrations (scope, version, name, checksum, execution_ms, success, error, transactional)
         VALUES ('default', 2, 'gone', 'gone', 0, false, 'running on backend 1 started 0', false)",
    )
    .await;
    let dead = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap_err();
    assert!(matches!(dead, Error::NeedsResolution { .. }), "{dead}");

    // An open snapshot holds the concurrent build in its wait, as a long
    // build on a big table would take its time.
    let mut reader = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::raw_sql(
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM tenant_kct.customers",
    )
    .execute(&mut reader)
    .await
    .unwrap();
    let building = {
        let (migrations, pool) = (scratch.migrations(), pool.clone());
        let direct: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
        tokio::spawn(async move {
            Migrator::new(&migrations)
                .direct(direct)
                .retry_failed(true)
                .run(&pool)
                .await
        })
    };
    loop {
        let (claim,): (Option<String>,) =
            sqlx::query_as("SELECT error FROM strata.migrations WHERE version = 2")
                .fetch_one(&pool)
                .await
                .unwrap();
        let claim = claim.unwrap_or_default();
        if claim.starts_with("running on backend ") && claim != "running on backend 1 started 0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    for retry in [false, true] {
        let report = Migrator::new(&scratch.migrations())
            .retry_failed(retry)
            .run(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.in_progress.len(), 1, "{report:?}");
        assert!(report.in_progress[0].starts_with("0002_"), "{report:?}");
        assert!(report.applied.is_empty());
        assert_eq!(report.drift_check, strata::DriftCheck::Skipped);
    }
    assert!(!building.is_finished(), "the build waits for the reader");
    let health = strata::health(&pool, &scratch.migrations()).await.unwrap();
    assert_eq!(health.status, strata::HealthStatus::Pending);
    assert_eq!(
        health
            .migrations
            .pending
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>(),
        [2]
    );

    sqlx::raw_sql("COMMIT").execute(&mut reader).await.unwrap();
    let built = building.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(built.applied.len(), 1);
    assert_eq!(index_valid(&pool).await, Some(true));
    let after = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap();
    assert!(after.in_progress.is_empty() && after.applied.is_empty());
    assert!(after.drift.is_clean(), "{}", after.drift);
}
