//! Start-ups under the faults real deploys inflict: racing replicas, kills,
//! cancellations and locks held by the application.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use strata::sqlx::{self, PgPool};
use strata::{Error, Migrator};

use crate::support::{apply, fresh_db, our_locks, psql, Scratch, SHOP};

/// A scratch crate with two migrations; `tweak` edits the second before it is applied.
fn two_migrations(tweak: impl Fn(String) -> String) -> Scratch {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&SHOP.replace(
        "    pub note: Option<String>,\n",
        "    pub note: Option<String>,\n    pub phone: Option<String>,\n",
    ));
    let written = scratch.build().written.unwrap();
    let sql = std::fs::read_to_string(&written).unwrap();
    std::fs::write(&written, tweak(sql)).unwrap();
    scratch
}

fn start(scratch: &Scratch, url: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_strata-start"))
        .arg(scratch.migrations_dir())
        .args(args)
        .env("DATABASE_URL", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the start-up process runs")
}

/// The two-migration scratch crate, its migrations, and a fresh database at version 1.
async fn at_version_one() -> (Scratch, strata::Migrations, crate::support::Db) {
    let scratch = two_migrations(|sql| sql);
    let migrations = scratch.migrations();
    let db = fresh_db().await;
    Migrator::new(&migrations)
        .target(1)
        .run(&db.1)
        .await
        .unwrap();
    (scratch, migrations, db)
}

/// An application transaction that has read the customers and stays open.
async fn open_reader(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut reader = pool.begin().await.unwrap();
    sqlx::query("SELECT count(*) FROM tenant_kct.customers")
        .execute(&mut *reader)
        .await
        .unwrap();
    reader
}

/// A PgBouncer in front of the test server, and the test database's URL through it.
fn through_pgbouncer(db: &strata::testing::TestDatabase) -> (strata::testing::PgBouncer, String) {
    let server = strata::testing::server_url().unwrap();
    let bouncer = strata::testing::PgBouncer::start(&server).unwrap_or_else(|e| panic!("{e}"));
    let url = bouncer.database_url(db.name());
    (bouncer, url)
}

/// Other sessions on this database that are inside a transaction.
async fn open_transactions(pool: &PgPool) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    n
}

/// Polls until `done` holds, for at most `limit` (a bound, not a measurement).
async fn eventually<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn applied_rows(pool: &PgPool) -> Vec<(i64, bool)> {
    sqlx::query_as(r#"SELECT "version", "success" FROM "strata"."migrations" ORDER BY 1"#)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn sixteen_processes_starting_at_once_apply_each_migration_exactly_once() {
    let scratch = two_migrations(|sql| sql);
    let (db, pool) = fresh_db().await;
    let children: Vec<Child> = (0..16).map(|_| start(&scratch, db.url(), &[])).collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut applied = 0;
    for output in &outputs {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "a start-up failed: {stderr}");
        assert!(
            !stderr.contains("already exists") && !stderr.contains("duplicate key"),
            "{stderr}"
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        applied += report["applied"].as_array().unwrap().len();
        assert_eq!(report["drift"]["differences"], serde_json::json!([]));
    }
    assert_eq!(
        applied, 2,
        "two migrations, each applied by exactly one process"
    );
    assert_eq!(applied_rows(&pool).await, vec![(1, true), (2, true)]);
    assert_eq!(our_locks(&pool).await, 0);
}

#[tokio::test]
async fn a_start_up_killed_mid_migration_leaves_no_partial_ddl_and_no_lock() {
    // The second migration adds a column, then sleeps inside its transaction.
    let scratch = two_migrations(|sql| format!("{sql}SELECT pg_sleep(3);\n"));
    let (db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .unwrap();

    let mut child = start(&scratch, db.url(), &[]);
    let sleeping = eventually(Duration::from_secs(20), || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%SELECT pg_sleep(3)%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        n > 0
    })
    .await;
    assert!(sleeping, "the migration did not start");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // The server notices the vanished client, rolls back and frees the lock.
    assert!(
        eventually(Duration::from_secs(10), || async {
            our_locks(&pool).await == 0
        })
        .await
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            open_transactions(&pool).await == 0
        })
        .await
    );
    let (phone,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'phone'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(phone, 0, "the half-applied migration was rolled back");
    assert_eq!(applied_rows(&pool).await, vec![(1, true)]);

    let restart = start(&scratch, db.url(), &[]).wait_with_output().unwrap();
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );
    assert_eq!(applied_rows(&pool).await, vec![(1, true), (2, true)]);
}

#[tokio::test]
async fn a_cancelled_start_up_leaves_no_lock_and_no_open_transaction() {
    let scratch = two_migrations(|sql| format!("{sql}SELECT pg_sleep(5);\n"));
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;

    let cancelled = tokio::time::timeout(
        Duration::from_millis(700),
        Migrator::new(&migrations).run(&pool),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "the start-up was cancelled mid-migration"
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            our_locks(&pool).await == 0
        })
        .await
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            open_transactions(&pool).await == 0
        })
        .await
    );

    let report = Migrator::new(&migrations)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied.len() + report.already_applied, 2);
}

#[tokio::test]
async fn a_migration_behind_a_long_read_gives_up_and_says_why() {
    let (_scratch, migrations, (_db, pool)) = at_version_one().await;
    let mut reader = open_reader(&pool).await;
    let error = Migrator::new(&migrations)
        .lock_timeout(Duration::from_millis(100))
        .lock_retries(2)
        .run(&pool)
        .await
        .expect_err("the migration cannot get its lock");
    assert!(
        matches!(&error, Error::LockTimeout { attempts: 3, file, .. } if file.starts_with("0002_")),
        "{error}"
    );
    assert!(error.to_string().contains("pg_stat_activity"), "{error}");
    // The application's session was never blocked and is still usable.
    sqlx::query("SELECT count(*) FROM tenant_kct.customers")
        .execute(&mut *reader)
        .await
        .unwrap();
    reader.rollback().await.unwrap();
    assert_eq!(applied_rows(&pool).await, vec![(1, true)]);

    // Once the reader is gone, the next start-up goes through.
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert_eq!(report.applied.len(), 1);
}

#[tokio::test]
async fn a_lock_released_during_the_retries_lets_the_migration_through() {
    let (_scratch, migrations, (_db, pool)) = at_version_one().await;
    let reader = open_reader(&pool).await;
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        reader.rollback().await.unwrap();
    });
    let report = Migrator::new(&migrations)
        .lock_timeout(Duration::from_millis(100))
        .lock_retries(10)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    release.await.unwrap();
    assert_eq!(report.applied.len(), 1);
}

#[tokio::test]
async fn a_database_ahead_of_the_binary_may_be_allowed() {
    let scratch = two_migrations(|sql| sql);
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;
    let older = Scratch::with_models(SHOP);
    older.build();
    let error = Migrator::new(&older.migrations())
        .run(&pool)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::UnknownMigration { version: 2, .. }),
        "{error}"
    );
    let report = Migrator::new(&older.migrations())
        .allow_unknown_migrations(true)
        .drift_policy(strata::DriftPolicy::Warn)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.applied.is_empty());
}

#[tokio::test]
async fn three_replicas_through_pgbouncer_in_transaction_mode_apply_each_migration_once() {
    let scratch = two_migrations(|sql| format!("{sql}SELECT pg_sleep(0.2);\n"));
    let (db, pool) = fresh_db().await;
    let (_bouncer, through) = through_pgbouncer(&db);

    let mut children: Vec<Child> = (0..3).map(|_| start(&scratch, &through, &[])).collect();
    // A hang is a failure: nothing here needs more than a few seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    while children.iter_mut().any(|c| c.try_wait().unwrap().is_none()) {
        if Instant::now() > deadline {
            children.iter_mut().for_each(|c| drop(c.kill()));
            panic!("a start-up through PgBouncer hung");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "a start-up through PgBouncer failed: {stderr}"
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        applied += report["applied"].as_array().unwrap().len();
        assert_eq!(report["drift"]["differences"], serde_json::json!([]));
    }
    assert_eq!(applied, 2);
    assert_eq!(applied_rows(&pool).await, vec![(1, true), (2, true)]);
    assert_eq!(our_locks(&pool).await, 0);
}

/// Why strata's locks are transaction-level: behind a transaction pooler a
/// session-level advisory lock lands on a shared server connection, and a
/// second client "takes" the same lock again.
#[tokio::test]
async fn a_session_level_lock_does_not_hold_behind_pgbouncer() {
    use strata::sqlx::{Connection, PgConnection};
    let (db, _pool) = fresh_db().await;
    let (_bouncer, url) = through_pgbouncer(&db);
    let mut first = PgConnection::connect(&url).await.unwrap();
    let mut second = PgConnection::connect(&url).await.unwrap();
    let take = "SELECT pg_try_advisory_lock(4242)";
    let (a,): (bool,) = sqlx::query_as(take)
        .persistent(false)
        .fetch_one(&mut first)
        .await
        .unwrap();
    let (b,): (bool,) = sqlx::query_as(take)
        .persistent(false)
        .fetch_one(&mut second)
        .await
        .unwrap();
    assert!(
        a && b,
        "both clients hold the same session lock: it protects nothing"
    );
}

/// Issue 10, item 8: a no-transaction migration set its timeouts for the
/// session; through a transaction pooler that SET stayed on a server
/// connection other clients got. Now nothing is SET through the pooler, and
/// the timeouts go on a direct connection when one is given.
#[tokio::test]
async fn a_no_transaction_migration_through_pgbouncer_leaves_no_setting_behind() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let scratch = crate::no_transaction::concurrent_unique_index();
    let (db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .unwrap();
    psql(
        &pool,
        "INSERT INTO tenant_kct.customers (email, note) SELECT 'c' || i || '@example.com', 'n' || i FROM generate_series(1, 200000) i",
    )
    .await;
    let (_bouncer, url) = through_pgbouncer(&db);
    let bounced = strata::sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .unwrap();

    // Other clients keep asking their server connection for its settings
    // while the migration runs.
    let done = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let watchers: Vec<_> = (0..3)
        .map(|_| {
            let (pool, done, seen) = (bounced.clone(), done.clone(), seen.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    let row: Result<(String, String), _> = strata::sqlx::query_as(
                        "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
                    )
                    .persistent(false)
                    .fetch_one(&pool)
                    .await;
                    if let Ok(settings) = row {
                        if settings != ("0".to_owned(), "0".to_owned()) {
                            seen.lock().unwrap().push(settings);
                        }
                    }
                }
            })
        })
        .collect();
    let report = Migrator::new(&migrations)
        .statement_timeout(Duration::from_secs(1234))
        .run(&bounced)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied.len(), 1);
    done.store(true, Ordering::Relaxed);
    for watcher in watchers {
        watcher.await.unwrap();
    }
    // Both server connections, held at once so each is asked.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tx = bounced.begin().await.unwrap();
        let settings: (String, String) = strata::sqlx::query_as(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
        )
        .persistent(false)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        seen.lock()
            .unwrap()
            .extend(Some(settings).filter(|s| *s != ("0".to_owned(), "0".to_owned())));
        held.push(tx);
    }
    drop(held);
    assert_eq!(
        *seen.lock().unwrap(),
        Vec::<(String, String)>::new(),
        "another client saw the migration's timeouts"
    );
}

#[tokio::test]
async fn a_direct_connection_gives_a_no_transaction_migration_its_timeouts() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let slow = scratch.migrations_dir().join("0002_slow.sql");
    std::fs::write(
        &slow,
        format!("{}\nSELECT pg_sleep(3);\n", strata::NO_TRANSACTION),
    )
    .unwrap();
    scratch.build();
    let (db, _pool) = fresh_db().await;
    let (_bouncer, url) = through_pgbouncer(&db);
    let bounced = strata::sqlx::PgPool::connect(&url).await.unwrap();
    let direct: strata::sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let failed = Migrator::new(&scratch.migrations())
        .statement_timeout(Duration::from_millis(200))
        .direct(direct)
        .run(&bounced)
        .await;
    let Err(strata::Error::NonTransactionalFailed { code, file, .. }) = &failed else {
        panic!("the statement_timeout applies on the direct connection: {failed:?}");
    };
    assert_eq!(
        (code.as_deref(), file.as_str()),
        (Some("57014"), "0002_slow.sql")
    );
}
