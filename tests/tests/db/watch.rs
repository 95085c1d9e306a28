//! The DDL watch: a start-up with nothing pending skips the full drift check
//! only while no DDL has run since the last clean one, and still sees what
//! fires no DDL event.

use strata::sqlx::{self, Connection, PgConnection};
use strata::{
    DifferenceKind, DriftCheck, DriftPolicy, Migrations, Migrator, ObjectKind, RunReport,
};

use crate::support::{fresh_db, psql, Db, Scratch, SHOP};

/// A migrated shop database whose second start-up took the fast path.
async fn watched_shop() -> (Db, Migrations) {
    let scratch = Scratch::with_models(SHOP);
    scratch
        .builder()
        .search_path(["tenant_kct", "public"])
        .run()
        .expect("the build succeeds");
    let migrations = scratch.migrations();
    let (db, pool) = fresh_db().await;
    let first = start(&pool, &migrations).await;
    assert_eq!(first.drift_check, DriftCheck::Full);
    assert!(first.drift.is_clean(), "{}", first.drift);
    let second = start(&pool, &migrations).await;
    assert_eq!(
        second.drift_check,
        DriftCheck::Unchanged,
        "nothing ran since the clean check"
    );
    assert!(second.drift.is_clean(), "{}", second.drift);
    ((db, pool), migrations)
}

async fn start(pool: &sqlx::PgPool, migrations: &Migrations) -> RunReport {
    Migrator::new(migrations)
        .drift_policy(DriftPolicy::Warn)
        .run(pool)
        .await
        .unwrap_or_else(|e| panic!("start-up failed: {e}"))
}

/// After `change`, the next start-up checks in full and finds the column.
async fn full_check_finds_the_column(change: &str) {
    let ((_db, pool), migrations) = watched_shop().await;
    psql(&pool, change).await;
    let report = start(&pool, &migrations).await;
    assert_eq!(report.drift_check, DriftCheck::Full, "after `{change}`");
    let found: Vec<String> = report
        .drift
        .differences
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        found,
        ["unexpected column tenant_kct.customers.planted (integer NULL)"],
        "after `{change}`"
    );
}

#[tokio::test]
async fn ddl_after_the_clean_check_brings_the_full_check_back() {
    full_check_finds_the_column("ALTER TABLE tenant_kct.customers ADD COLUMN planted integer")
        .await;
}

#[tokio::test]
async fn ddl_under_session_replication_role_replica_is_seen() {
    full_check_finds_the_column(
        "SET session_replication_role = replica;
         ALTER TABLE tenant_kct.customers ADD COLUMN planted integer;
         RESET session_replication_role",
    )
    .await;
}

#[tokio::test]
async fn ddl_while_the_watch_was_disabled_is_seen() {
    full_check_finds_the_column(
        "ALTER EVENT TRIGGER strata_ddl DISABLE;
         ALTER TABLE tenant_kct.customers ADD COLUMN planted integer;
         ALTER EVENT TRIGGER strata_ddl ENABLE ALWAYS",
    )
    .await;
}

#[tokio::test]
async fn ddl_after_the_log_function_was_replaced_is_seen() {
    full_check_finds_the_column(
        "CREATE OR REPLACE FUNCTION strata.log_ddl() RETURNS event_trigger
         LANGUAGE plpgsql AS $$ BEGIN END $$;
         ALTER TABLE tenant_kct.customers ADD COLUMN planted integer",
    )
    .await;
}

#[tokio::test]
async fn ddl_after_the_watch_was_dropped_is_seen_and_the_watch_comes_back() {
    full_check_finds_the_column(
        "DROP EVENT TRIGGER strata_ddl;
         ALTER TABLE tenant_kct.customers ADD COLUMN planted integer",
    )
    .await;
}

#[tokio::test]
async fn a_dropped_watch_is_installed_again_and_used() {
    let ((_db, pool), migrations) = watched_shop().await;
    psql(&pool, "DROP EVENT TRIGGER strata_ddl").await;
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Full
    );
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Unchanged
    );
    psql(&pool, "ALTER TABLE tenant_kct.customers DROP COLUMN note").await;
    let report = start(&pool, &migrations).await;
    assert_eq!(report.drift_check, DriftCheck::Full);
    assert_eq!(
        report.drift.differences[0].to_string(),
        "missing column tenant_kct.customers.note (text NULL)"
    );
}

#[tokio::test]
async fn alter_database_set_fires_no_event_and_is_read_at_every_start_up() {
    let ((_db, pool), migrations) = watched_shop().await;
    psql(
        &pool,
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public', current_database()); END $$",
    )
    .await;
    let report = start(&pool, &migrations).await;
    assert_eq!(report.drift_check, DriftCheck::Unchanged);
    let d = &report.drift.differences;
    assert_eq!(d.len(), 1, "{}", report.drift);
    assert_eq!(
        (d[0].kind, d[0].object),
        (DifferenceKind::Changed, ObjectKind::Setting)
    );
    assert_eq!(d[0].expected.as_deref(), Some("tenant_kct, public"));
    assert_eq!(d[0].actual.as_deref(), Some("public"));
    let refused = Migrator::new(&migrations).run(&pool).await;
    assert!(
        matches!(refused, Err(strata::Error::Drift(_))),
        "the default policy refuses a changed setting on the fast path too"
    );
}

#[tokio::test]
async fn what_leaves_the_schema_as_it_was_keeps_the_fast_path() {
    let ((_db, pool), migrations) = watched_shop().await;
    psql(
        &pool,
        "BEGIN; ALTER TABLE tenant_kct.customers ADD COLUMN planted integer; ROLLBACK;",
    )
    .await;
    psql(
        &pool,
        "CREATE TEMPORARY TABLE scratch (x int); INSERT INTO scratch VALUES (1)",
    )
    .await;
    psql(
        &pool,
        "INSERT INTO tenant_shared.stock_level VALUES ('a', 1, 2)",
    )
    .await;
    let report = start(&pool, &migrations).await;
    assert_eq!(
        report.drift_check,
        DriftCheck::Unchanged,
        "a rolled-back ALTER, a temporary table and rows change no schema"
    );
}

#[tokio::test]
async fn ddl_still_open_during_the_clean_check_is_seen_once_committed() {
    let ((db, pool), migrations) = watched_shop().await;
    // Committed DDL the watch cannot place (a drop): the next check is full.
    psql(
        &pool,
        "CREATE TABLE public.elsewhere (x int); DROP TABLE public.elsewhere",
    )
    .await;
    let mut open = PgConnection::connect(db.url()).await.unwrap();
    sqlx::raw_sql("BEGIN; ALTER TABLE tenant_kct.customers ADD COLUMN planted integer")
        .execute(&mut open)
        .await
        .unwrap();
    // The catalog statement waits for the open transaction's lock on the
    // table (`pg_get_expr` takes ACCESS SHARE), with its snapshot taken
    // before the commit: so it must not vouch for the column it may not see.
    let (during, ()) = tokio::join!(start(&pool, &migrations), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::raw_sql("COMMIT").execute(&mut open).await.unwrap();
    });
    assert_eq!(during.drift_check, DriftCheck::Full);
    let after = start(&pool, &migrations).await;
    assert_eq!(
        after.drift_check,
        DriftCheck::Full,
        "the DDL committed after the clean check's snapshot"
    );
    assert_eq!(
        after.drift.differences[0].to_string(),
        "unexpected column tenant_kct.customers.planted (integer NULL)"
    );
}

#[tokio::test]
async fn a_role_that_cannot_create_event_triggers_checks_in_full() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (db, pool) = fresh_db().await;
    let role = format!("plain_{}", db.name());
    psql(
        &pool,
        &format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'plain';
             GRANT CREATE ON DATABASE {} TO {role}",
            db.name()
        ),
    )
    .await;
    let options: strata::sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let plain = strata::sqlx::PgPool::connect_with(options.username(&role).password("plain"))
        .await
        .unwrap();
    for _ in 0..2 {
        let report = start(&plain, &migrations).await;
        assert_eq!(report.drift_check, DriftCheck::Full);
        assert!(report.drift.is_clean(), "{}", report.drift);
    }
    let (triggers,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_event_trigger")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(triggers, 0, "nothing is installed for a plain role");
    plain.close().await;
    psql(&pool, &format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;
}

#[tokio::test]
async fn ddl_watch_false_installs_nothing_and_checks_in_full() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    for _ in 0..2 {
        let report = Migrator::new(&migrations)
            .ddl_watch(false)
            .run(&pool)
            .await
            .unwrap();
        assert_eq!(report.drift_check, DriftCheck::Full);
    }
    let (triggers,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_event_trigger")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(triggers, 0);
}

#[tokio::test]
async fn a_plain_role_runs_ddl_under_the_watch() {
    let ((db, pool), _migrations) = watched_shop().await;
    let role = format!("app_{}", db.name());
    psql(
        &pool,
        &format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'app'; GRANT CREATE ON SCHEMA public TO {role}"
        ),
    )
    .await;
    let options: strata::sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let mut app = PgConnection::connect_with(&options.username(&role).password("app"))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE public.app_table (x int); CREATE TEMPORARY TABLE t (x int)")
        .execute(&mut app)
        .await
        .expect("the watch's function runs as its owner, not as the role running DDL");
    app.close().await.unwrap();
    let (logged,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM strata.ddl_log WHERE tag = 'CREATE TABLE'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        logged, 1,
        "the plain table is logged, the temporary one is not"
    );
    psql(&pool, &format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;
}

#[tokio::test]
async fn ddl_in_schemas_the_check_does_not_cover_keeps_the_fast_path() {
    let ((_db, pool), migrations) = watched_shop().await;
    // A tenant made beside the shared schemas, as a fan-out makes them: its
    // schema, tables, a key into a shared table, an index, a comment.
    psql(
        &pool,
        "BEGIN;
         CREATE SCHEMA tenant_acme;
         CREATE TABLE tenant_acme.orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                          customer_id bigint REFERENCES tenant_kct.customers (id));
         CREATE INDEX orders_customer_idx ON tenant_acme.orders (customer_id);
         COMMENT ON TABLE tenant_acme.orders IS 'one tenant''s orders';
         COMMIT;
         ALTER TABLE tenant_acme.orders ADD COLUMN note text;",
    )
    .await;
    let report = start(&pool, &migrations).await;
    assert_eq!(
        report.drift_check,
        DriftCheck::Unchanged,
        "DDL in a schema the models do not manage changes nothing they check"
    );
    assert!(report.drift.is_clean(), "{}", report.drift);

    // In the same transaction as DDL in a managed schema, it is seen.
    psql(
        &pool,
        "BEGIN;
         CREATE TABLE tenant_acme.notes (id int);
         ALTER TABLE tenant_kct.customers ADD COLUMN planted integer;
         COMMIT;",
    )
    .await;
    let report = start(&pool, &migrations).await;
    assert_eq!(report.drift_check, DriftCheck::Full);
    assert_eq!(report.drift.differences.len(), 1, "{}", report.drift);
    psql(
        &pool,
        "ALTER TABLE tenant_kct.customers DROP COLUMN planted",
    )
    .await;
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Full
    );
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Unchanged
    );

    // A drop names no schema to the watch: it counts for every check.
    psql(&pool, "DROP TABLE tenant_acme.notes").await;
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Full
    );
}

/// How many DDL transactions the log holds, and the snapshot of the clean check.
async fn log_and_check(pool: &sqlx::PgPool) -> (i64, String) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM strata.ddl_log), (SELECT snapshot::text FROM strata.clean_checks)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_backlog_of_other_schemas_ddl_is_read_once_then_folded_into_the_clean_check() {
    let ((_db, pool), migrations) = watched_shop().await;
    // A hundred tenants made beside the shared schemas, a transaction each.
    let mut tenants = String::new();
    for i in 0..100 {
        tenants.push_str(&format!(
            "BEGIN; CREATE SCHEMA tenant_{i}; CREATE TABLE tenant_{i}.orders (id int PRIMARY KEY); COMMIT;\n"
        ));
    }
    psql(&pool, &tenants).await;
    let (logged, before) = log_and_check(&pool).await;
    assert!(logged >= 100, "{logged}");

    // The start-up reads them, finds none in its schemas, and renews the
    // clean check with its own snapshot: the log forgets them.
    let report = start(&pool, &migrations).await;
    assert_eq!(report.drift_check, DriftCheck::Unchanged);
    let (logged, after) = log_and_check(&pool).await;
    assert_eq!(logged, 0, "the backlog no check needs is forgotten");
    assert_ne!(after, before, "the clean check moved up");
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Unchanged
    );

    // A change to a managed schema after the renewal is still seen.
    psql(
        &pool,
        "ALTER TABLE tenant_kct.customers ADD COLUMN planted integer",
    )
    .await;
    let report = start(&pool, &migrations).await;
    assert_eq!(report.drift_check, DriftCheck::Full);
    assert_eq!(report.drift.differences.len(), 1, "{}", report.drift);

    // A short backlog is left as it is: no write at start-up for it.
    psql(
        &pool,
        "ALTER TABLE tenant_kct.customers DROP COLUMN planted",
    )
    .await;
    start(&pool, &migrations).await;
    psql(
        &pool,
        "CREATE SCHEMA tenant_x; CREATE TABLE tenant_x.t (id int)",
    )
    .await;
    let (_, before) = log_and_check(&pool).await;
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Unchanged
    );
    assert_eq!(log_and_check(&pool).await.1, before);
}

#[tokio::test]
async fn the_watch_of_an_older_release_is_made_again() {
    let ((_db, pool), migrations) = watched_shop().await;
    // An older release's log had no schemas: its watch is installed anew.
    let (columns,): (Vec<String>,) = sqlx::query_as(
        "SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = 'strata.ddl_log'::regclass AND attnum > 0",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(columns.contains(&"schemas".to_owned()), "{columns:?}");
    psql(
        &pool,
        "ALTER EVENT TRIGGER strata_ddl DISABLE;
         ALTER TABLE strata.ddl_log DROP COLUMN schemas;
         ALTER TABLE strata.clean_checks DROP COLUMN schemas;
         ALTER EVENT TRIGGER strata_ddl ENABLE ALWAYS;",
    )
    .await;
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Full
    );
    let (has,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'strata.ddl_log'::regclass AND attname = 'schemas' AND NOT attisdropped)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(has);
    assert_eq!(
        start(&pool, &migrations).await.drift_check,
        DriftCheck::Unchanged
    );
}
