//! Issue 14, item 1: a change to a table that existed before the
//! migration keeps it writable. An index is built (and dropped)
//! `CONCURRENTLY`, in a migration of its own that the build splits off and
//! marks `-- strata:no-transaction`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use strata::sqlx::{self, Connection};
use strata::Migrator;

use crate::support::{fresh_db, psql, Scratch};

const ORDERS: &str = r#"
#[strata::schema("shop")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    pub customer: Option<String>,
    pub total_cents: i64,
}
"#;

/// The orders with a million rows (`customer <n>`, `n` cents), loaded once
/// per test process into a template database; each test gets a copy of
/// it, at version 1 of `ORDERS`'s migrations, and a scratch crate built
/// from `ORDERS` to go on from.
async fn orders_with_rows() -> (Scratch, crate::support::Db) {
    static TEMPLATE: tokio::sync::OnceCell<strata::testing::TestDatabase> =
        tokio::sync::OnceCell::const_new();
    let scratch = Scratch::with_models(ORDERS);
    scratch.build();
    let template = TEMPLATE
        .get_or_init(|| async {
            let db = strata::testing::database().await.unwrap();
            let pool = db.pool().await.unwrap();
            Migrator::new(&scratch.migrations())
                .run(&pool)
                .await
                .unwrap();
            psql(
                &pool,
                "INSERT INTO shop.\"order\" (customer, total_cents)
                 SELECT 'customer ' || n, n FROM generate_series(1, 1000000) n",
            )
            .await;
            psql(&pool, "VACUUM ANALYZE shop.\"order\"").await;
            // A template takes no session while it is copied.
            pool.close().await;
            db
        })
        .await;
    let db = strata::testing::database_from(template.name())
        .await
        .unwrap();
    let pool = db.pool().await.unwrap();
    (scratch, (db, pool))
}

#[tokio::test]
async fn an_index_on_a_table_with_rows_is_built_concurrently_while_writes_go_on() {
    let (scratch, (db, pool)) = orders_with_rows().await;

    // A new column and an index on an old one: the column in a migration
    // of its own, then the index, concurrently, outside a transaction.
    scratch.write_models(
        &ORDERS
            .replace(
                "    pub customer: Option<String>,",
                "    #[column(index)]\n    pub customer: Option<String>,",
            )
            .replace(
                "    pub total_cents: i64,",
                "    pub total_cents: i64,\n    pub note: Option<String>,",
            ),
    );
    let outcome = scratch.build();
    let files = sql_files(&scratch);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0001_initial.down.sql",
            "0001_initial.sql",
            "0002_add_order_note.down.sql",
            "0002_add_order_note.sql",
            "0003_add_index_order_customer_idx.down.sql",
            "0003_add_index_order_customer_idx.sql",
        ],
        "{outcome:?}"
    );
    let text = |name: &str| files.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let build = text("0003_add_index_order_customer_idx.sql");
    assert!(build.starts_with("-- strata:no-transaction\n"), "{build}");
    assert!(
        build.contains("CREATE INDEX CONCURRENTLY \"order_customer_idx\" ON \"shop\".\"order\" (\"customer\");"),
        "{build}"
    );
    assert!(!text("0002_add_order_note.sql").contains("INDEX"));
    // Its down file runs in a transaction, like every down file.
    let down = text("0003_add_index_order_customer_idx.down.sql");
    assert!(
        down.contains("DROP INDEX \"shop\".\"order_customer_idx\";")
            && !down.contains("no-transaction"),
        "{down}"
    );

    // A writer inserts row after row, each refusing to wait more than
    // 50 ms for a lock, while the migrations run: a plain CREATE INDEX
    // would hold its SHARE lock for the whole build and time it out.
    let report = orders_while_writing(db.url(), &pool, &scratch).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(report.applied.len(), 2);
    let (valid, transactional): (bool, bool) = sqlx::query_as(
        "SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = 'shop.order_customer_idx'::regclass),
                (SELECT transactional FROM strata.migrations WHERE version = 3)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(valid);
    assert!(!transactional, "recorded as run outside a transaction");

    // Dropped again: concurrently, in a migration of its own.
    scratch.write_models(&ORDERS.replace(
        "    pub total_cents: i64,",
        "    pub total_cents: i64,\n    pub note: Option<String>,",
    ));
    scratch.build();
    let files = sql_files(&scratch);
    let (_, drop) = files.last().unwrap();
    assert!(drop.starts_with("-- strata:no-transaction\n"), "{drop}");
    assert!(
        drop.contains("DROP INDEX CONCURRENTLY IF EXISTS \"shop\".\"order_customer_idx\";"),
        "{drop}"
    );
    crate::support::migrate_clean(&scratch, &pool).await;
    // And back, through the plain down files.
    crate::support::rolled_back_clean(&scratch, &pool, 1, &["shop.order.note"]).await;
}

/// A table the migration creates keeps plain DDL: its index is built with
/// it, in the same transaction.
#[test]
fn a_new_tables_index_stays_in_its_transaction() {
    let scratch = Scratch::with_models(&ORDERS.replace(
        "    pub customer: Option<String>,",
        "    #[column(index)]\n    pub customer: Option<String>,",
    ));
    scratch.build();
    let files = sql_files(&scratch);
    assert_eq!(files.len(), 2, "one migration and its down file");
    let up = &files[1].1;
    assert!(up.contains("CREATE INDEX \"order_customer_idx\""), "{up}");
    assert!(
        !up.contains("CONCURRENTLY") && !up.contains("no-transaction"),
        "{up}"
    );
}

/// The migration files, by name, without the manifest.
fn sql_files(scratch: &Scratch) -> Vec<(String, String)> {
    let mut files = scratch.files();
    files.retain(|(name, _)| name.ends_with(".sql"));
    files
}

/// Applies `migrations` (retrying a failed one when `retry`) while a
/// [`Writer`] runs `insert` over and over: no write may fail on a lock of
/// the migration, and the writer must have gone on throughout.
async fn applied_while_writing(
    url: &str,
    pool: &sqlx::PgPool,
    migrations: &strata::Migrations,
    retry: bool,
    table: &'static str,
    insert: &'static str,
) -> strata::RunReport {
    let writer = Writer::start(url, table, insert).await;
    let report = Migrator::new(migrations)
        .retry_failed(retry)
        .run(pool)
        .await
        .unwrap();
    let (written, refused) = writer.stop().await;
    assert_eq!(refused, 0, "no write failed on a lock of the migration");
    assert!(written > 1, "the writer went on during the migration");
    report
}

/// [`applied_while_writing`] of the scratch crate's migrations, with the
/// writer placing orders.
async fn orders_while_writing(
    url: &str,
    pool: &sqlx::PgPool,
    scratch: &Scratch,
) -> strata::RunReport {
    applied_while_writing(
        url,
        pool,
        &scratch.migrations(),
        false,
        "shop.\"order\"",
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('live', 1)",
    )
    .await
}

/// A writer on its own connection, inserting row after row until stopped,
/// each insert refusing to wait more than 10 s for a lock: long enough that
/// a loaded machine's brief catalog locks never fail a write, short enough
/// that a lock held through a build or a rewrite would. How long writes
/// pause is `strata-bench online`'s measure, not a test's: these machines
/// are shared, and a timed assertion would fail with the load.
pub(crate) struct Writer {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
    builds: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
    monitor: tokio::task::JoinHandle<()>,
}

/// Whether a granted `SHARE` lock is held on table `$1` of this database,
/// or on one of its partitions: the lock of `CREATE INDEX` without
/// `CONCURRENTLY`, which blocks writes for the whole build (and no other
/// statement takes on a table). A partitioned table's own is left out:
/// `CREATE INDEX … ON ONLY` takes it for a moment and builds nothing, the
/// partitions' indexes being built concurrently and attached.
const BLOCKING_BUILD: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE l.locktype = 'relation' AND l.mode = 'ShareLock' AND l.granted AND c.relkind = 'r'
      AND (c.oid = $1::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass))
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))";

impl Writer {
    /// Started, and once it has written its first row; it inserts into
    /// `table` with `insert`, while a second connection watches `table`
    /// for a blocking index build.
    pub(crate) async fn start(url: &str, table: &'static str, insert: &'static str) -> Writer {
        let impatient = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(
                url.parse::<sqlx::postgres::PgConnectOptions>()
                    .unwrap()
                    .options([("lock_timeout", "10s")]),
            )
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (written, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let builds = Arc::new(AtomicU64::new(0));
        let task = {
            let stop = stop.clone();
            let (written, refused) = (written.clone(), refused.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match sqlx::query(insert).execute(&impatient).await {
                        Ok(_) => written.fetch_add(1, Ordering::Relaxed),
                        Err(_) => refused.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        };
        let monitor = {
            let (stop, builds) = (stop.clone(), builds.clone());
            let mut watcher = sqlx::PgConnection::connect(url).await.unwrap();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let (seen,): (bool,) = sqlx::query_as(BLOCKING_BUILD)
                        .bind(table)
                        .fetch_one(&mut watcher)
                        .await
                        .unwrap();
                    if seen {
                        builds.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            })
        };
        while written.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        Writer {
            stop,
            written,
            refused,
            builds,
            task,
            monitor,
        }
    }

    /// Stops it: the rows it wrote, and the writes that failed on a lock.
    /// Asserts that no blocking index build on its table was seen.
    pub(crate) async fn stop(self) -> (u64, u64) {
        let written = self.written.load(Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        self.monitor.await.unwrap();
        assert_eq!(
            self.builds.load(Ordering::Relaxed),
            0,
            "an index was built on the written table without CONCURRENTLY, blocking its writes"
        );
        (written, self.refused.load(Ordering::Relaxed))
    }
}

/// A check and a foreign key added to a table with a million rows: each
/// added `NOT VALID` (a catalog update), then validated in a migration
/// without a transaction, each validation in a transaction of its own that
/// lets writes go on; a validation that fails is refused until retried.
#[tokio::test]
async fn a_check_and_a_foreign_key_on_a_table_with_rows_are_validated_apart_while_writes_go_on() {
    let (scratch, (db, pool)) = orders_with_rows().await;
    psql(
        &pool,
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('refund', -5)",
    )
    .await;
    let checked = ORDERS.replace(
        "    pub total_cents: i64,",
        "    #[column(check = \"total_cents >= 0\")]\n    pub total_cents: i64,\n    #[column(references = Region)]\n    pub region_id: Option<i64>,",
    ) + r#"
#[strata::schema("shop")]
pub struct Region {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
}
"#;
    scratch.write_models(&checked);
    scratch.build();
    let files = sql_files(&scratch);
    let (name, validate) = files
        .iter()
        .rev()
        .find(|(n, _)| !n.ends_with(".down.sql"))
        .unwrap();
    assert!(
        validate.starts_with("-- strata:no-transaction\n"),
        "{name}: {validate}"
    );
    for constraint in ["order_total_cents_check", "order_region_id_fkey"] {
        assert!(
            validate.contains(&format!("VALIDATE CONSTRAINT \"{constraint}\";")),
            "{validate}"
        );
    }
    let (_, added) = &files[files.len() - 3];
    assert!(
        added.contains("CHECK (total_cents >= 0) NOT VALID;")
            && added.contains("REFERENCES \"shop\".\"region\" (\"id\") NOT VALID;"),
        "{added}"
    );

    // A row breaks the check: the validation fails, the check stays NOT
    // VALID (so new rows are checked already), and start-up is refused
    // until the row is fixed and the migration retried.
    let migrations = scratch.migrations();
    let failed = Migrator::new(&migrations).run(&pool).await;
    assert!(failed.is_err(), "{failed:?}");
    let refused = psql_err(
        &pool,
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('x', -1)",
    )
    .await;
    assert_eq!(
        refused.as_deref(),
        Some("23514"),
        "new rows are checked before validation"
    );
    psql(
        &pool,
        "UPDATE shop.\"order\" SET total_cents = 5 WHERE total_cents < 0",
    )
    .await;

    let report = applied_while_writing(
        db.url(),
        &pool,
        &migrations,
        true,
        "shop.\"order\"",
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('live', 1)",
    )
    .await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (valid,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'shop.order'::regclass AND contype IN ('c', 'f') AND convalidated",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(valid, 2);
}

/// The SQLSTATE of `sql`'s error, if it fails.
async fn psql_err(pool: &sqlx::PgPool, sql: &str) -> Option<String> {
    match sqlx::raw_sql(sql).execute(pool).await {
        Ok(_) => None,
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
        Err(e) => Some(e.to_string()),
    }
}

/// `SET NOT NULL` on a column of a table with rows, in four steps: a check
/// `IS NOT NULL` added `NOT VALID`, validated (writes go on), `SET NOT
/// NULL` (which the valid check spares its scan), and the check dropped.
#[tokio::test]
async fn set_not_null_on_a_table_with_rows_goes_through_a_validated_check() {
    let (scratch, (db, pool)) = orders_with_rows().await;
    scratch.write_models(&ORDERS.replace("Option<String>", "String"));
    scratch
        .builder()
        .confirm("shop.order.customer")
        .run()
        .unwrap();
    let files = sql_files(&scratch);
    let (first, second) = (&files[3].1, last_up(&files));
    assert!(
        first.contains(
            "ADD CONSTRAINT \"order_customer_not_null\" CHECK (\"customer\" IS NOT NULL) NOT VALID;"
        ) && !first.contains("SET NOT NULL"),
        "{first}"
    );
    let at = |s: &str| second.find(s).unwrap_or_else(|| panic!("{s} in {second}"));
    assert!(second.starts_with("-- strata:no-transaction\n"), "{second}");
    assert!(at("VALIDATE CONSTRAINT \"order_customer_not_null\"") < at("SET NOT NULL"));
    assert!(at("SET NOT NULL") < at("DROP CONSTRAINT \"order_customer_not_null\""));

    let report = orders_while_writing(db.url(), &pool, &scratch).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (not_null, checks): (bool, i64) = sqlx::query_as(
        "SELECT (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'shop.order'::regclass AND attname = 'customer'),
                (SELECT count(*) FROM pg_constraint WHERE conrelid = 'shop.order'::regclass AND contype = 'c')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(not_null);
    assert_eq!(checks, 0, "the check went once SET NOT NULL stood");
    crate::support::rolled_back_clean(&scratch, &pool, 1, &[]).await;
}

/// A unique constraint on a table with rows: its index built `CREATE
/// UNIQUE INDEX CONCURRENTLY` and taken by `ADD CONSTRAINT … UNIQUE USING
/// INDEX`, outside a transaction; duplicates fail the build, whose INVALID
/// index a retry builds again once they are gone.
#[tokio::test]
async fn a_unique_constraint_on_a_table_with_rows_is_built_on_a_concurrent_index() {
    let (scratch, (db, pool)) = orders_with_rows().await;
    psql(
        &pool,
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('customer 7', 7)",
    )
    .await;
    scratch.write_models(&ORDERS.replace(
        "    pub customer: Option<String>,",
        "    #[column(unique)]\n    pub customer: Option<String>,",
    ));
    scratch.build();
    let files = sql_files(&scratch);
    let up = last_up(&files);
    assert!(up.starts_with("-- strata:no-transaction\n"), "{up}");
    let at = |s: &str| up.find(s).unwrap_or_else(|| panic!("{s} in {up}"));
    assert!(
        at("CREATE UNIQUE INDEX CONCURRENTLY \"order_customer_key\" ON \"shop\".\"order\" (\"customer\");")
            < at("ADD CONSTRAINT \"order_customer_key\" UNIQUE USING INDEX \"order_customer_key\";")
    );

    // A duplicate: the build fails and leaves its index INVALID.
    let migrations = scratch.migrations();
    assert!(Migrator::new(&migrations).run(&pool).await.is_err());
    psql(
        &pool,
        "DELETE FROM shop.\"order\" WHERE customer = 'customer 7' AND total_cents = 7 AND id > 1000000",
    )
    .await;
    let report = applied_while_writing(
        db.url(),
        &pool,
        &migrations,
        true,
        "shop.\"order\"",
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('live ' || gen_random_uuid(), 1)",
    )
    .await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (unique,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT FROM pg_constraint WHERE conname = 'order_customer_key' AND contype = 'u')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(unique);
}

/// The text of the last migration (not down file) among `files`.
fn last_up(files: &[(String, String)]) -> &str {
    files
        .iter()
        .rev()
        .find(|(name, _)| !name.ends_with(".down.sql"))
        .map(|(_, text)| text.as_str())
        .expect("a migration")
}

/// A change that rewrites a table with rows is a hazard: refused until
/// confirmed, then recorded in the manifest next to its migration. A type
/// change PostgreSQL makes in the catalog alone (a longer `varchar`) is not.
#[tokio::test]
async fn a_rewrite_is_a_hazard_confirmed_and_recorded_and_a_longer_varchar_is_not() {
    let models = r#"
#[strata::schema("shop")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(20)")]
    pub sku: String,
    pub quantity: i32,
}
"#;
    let scratch = Scratch::with_models(models);
    scratch.build();
    let longer = models.replace("varchar(20)", "varchar(40)");
    scratch.write_models(&longer);
    let outcome = scratch.build();
    assert!(
        outcome.written.is_some() && outcome.warnings.is_empty(),
        "{outcome:?}"
    );

    let wider = longer.replace("pub quantity: i32,", "pub quantity: i64,");
    scratch.write_models(&wider);
    let refused = scratch.builder().run().unwrap_err().to_string();
    assert!(
        refused.contains(
            "shop.item.quantity: change type from integer to bigint: PostgreSQL rewrites the table"
        ) && refused.contains("expand and contract"),
        "{refused}"
    );
    crate::support::build_confirmed(&scratch, "shop.item.quantity");
    let manifest = std::fs::read_to_string(scratch.migrations_dir().join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let hazards: Vec<&str> = manifest["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hazards"].as_array().map_or(0, Vec::len))
        .map(|n| if n == 0 { "-" } else { "hazard" })
        .collect();
    assert_eq!(hazards, ["-", "-", "hazard"]);
    let (_db, pool) = fresh_db().await;
    crate::support::migrate_clean(&scratch, &pool).await;
}

/// A column added with a volatile default to a table with a million rows:
/// added bare, its default set, the old rows filled in batches (each
/// committed on its own), then NOT NULL through a validated check. Each
/// row gets its own value, and no write waits.
#[tokio::test]
async fn a_volatile_default_is_filled_in_batches_while_writes_go_on() {
    let (scratch, (db, pool)) = orders_with_rows().await;
    scratch.write_models(&ORDERS.replace(
        "    pub total_cents: i64,",
        "    pub total_cents: i64,\n    #[column(default = \"random()\")]\n    pub weight: f64,",
    ));
    // Not a hazard any more: no confirmation.
    let outcome = scratch.builder().backfill_batch(100_000).run().unwrap();
    assert!(outcome.warnings.is_empty(), "{outcome:?}");
    let files = sql_files(&scratch);
    let (first, second) = (&files[3].1, last_up(&files));
    assert!(
        first.contains("ADD COLUMN \"weight\" double precision;")
            && first.contains("ALTER COLUMN \"weight\" SET DEFAULT random();")
            && first.contains("CHECK (\"weight\" IS NOT NULL) NOT VALID"),
        "{first}"
    );
    assert!(second.starts_with("-- strata:no-transaction\n"), "{second}");
    let at = |s: &str| second.find(s).unwrap_or_else(|| panic!("{s} in {second}"));
    assert!(at("UPDATE \"shop\".\"order\" SET \"weight\" = random()") < at("VALIDATE CONSTRAINT"));
    assert!(
        second.contains("ceil(100000 * c.relpages / c.reltuples)"),
        "{second}"
    );

    let report = orders_while_writing(db.url(), &pool, &scratch).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (rows, unfilled, distinct, not_null): (i64, i64, i64, bool) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE weight IS NULL), count(DISTINCT weight),
                (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'shop.order'::regclass AND attname = 'weight')
         FROM shop.\"order\"",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(rows > 1_000_000, "the million rows and the writer's");
    assert_eq!(unfilled, 0);
    assert!(
        distinct > rows * 9 / 10,
        "each row its own value: {distinct} of {rows}"
    );
    assert!(not_null);
    crate::support::rolled_back_clean(&scratch, &pool, 1, &["shop.order.weight"]).await;
}

/// A migration without a transaction that fails part-way is resumed from
/// the statement that failed: the steps before it (a check validated,
/// `SET NOT NULL`, the check dropped) are not run again, which they could
/// not be (the check is gone).
#[tokio::test]
async fn a_no_transaction_migration_that_failed_part_way_resumes_where_it_stopped() {
    let (scratch, (_db, pool)) = orders_with_rows().await;
    psql(
        &pool,
        "INSERT INTO shop.\"order\" (customer, total_cents) VALUES ('refund', -5)",
    )
    .await;
    scratch.write_models(&ORDERS.replace("Option<String>", "String").replace(
        "    pub total_cents: i64,",
        "    #[column(check = \"total_cents >= 0\")]\n    pub total_cents: i64,",
    ));
    scratch
        .builder()
        .confirm("shop.order.customer")
        .run()
        .unwrap();
    let files = sql_files(&scratch);
    let second = last_up(&files);
    let at = |s: &str| second.find(s).unwrap_or_else(|| panic!("{s} in {second}"));
    assert!(
        at("DROP CONSTRAINT \"order_customer_not_null\"")
            < at("VALIDATE CONSTRAINT \"order_total_cents_check\""),
        "the NOT NULL steps come first: {second}"
    );

    // The check's validation fails on the refund, after NOT NULL is done.
    let failed = Migrator::new(&scratch.migrations()).run(&pool).await;
    assert!(
        matches!(failed, Err(strata::Error::NonTransactionalFailed { .. })),
        "{failed:?}"
    );
    let (not_null,): (bool,) = sqlx::query_as(
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'shop.order'::regclass AND attname = 'customer'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(not_null, "the steps before the failure stay done");

    // Fixed, and retried: it goes on from the failed validation.
    psql(&pool, "DELETE FROM shop.\"order\" WHERE total_cents < 0").await;
    let report = Migrator::new(&scratch.migrations())
        .retry_failed(true)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("the retry resumes: {e}"));
    assert!(report.drift.is_clean(), "{}", report.drift);
}
