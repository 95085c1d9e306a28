//! Applying migrations: once, in order, and never an edited one.

use strata::sqlx;
use strata::{Error, Migrator};

use crate::support::{apply, fresh_db, migrated_shop, psql, Scratch, SHOP};

#[tokio::test]
async fn a_fresh_database_is_migrated_and_clean() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let (_db, pool) = fresh_db().await;

    let report = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.applied[0].name, "initial");
    assert!(report.drift.is_clean(), "{}", report.drift);

    let tracked: Vec<(String, i64, String, bool)> = sqlx::query_as(
        r#"SELECT "scope", "version", "name", "success" FROM "strata"."migrations""#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(tracked, vec![("default".into(), 1, "initial".into(), true)]);
}

#[tokio::test]
async fn a_second_run_applies_nothing() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;

    apply(&pool, &migrations).await;
    let again = apply(&pool, &migrations).await;
    assert!(again.applied.is_empty());
    assert_eq!(again.already_applied, 1);
    assert!(again.drift.is_clean(), "{}", again.drift);
}

#[tokio::test]
async fn a_model_change_becomes_one_migration_that_applies_cleanly() {
    let (scratch, (_db, pool)) = migrated_shop().await;

    scratch.write_models(&SHOP.replace(
        "    pub note: Option<String>,\n",
        "    pub note: Option<String>,\n    #[column(default = \"0\")]\n    pub visits: i32,\n",
    ));
    let outcome = scratch.build();
    let written = outcome.written.expect("a migration is written");
    assert_eq!(
        written.file_name().unwrap().to_str(),
        Some("0002_add_customers_visits.sql")
    );
    assert_eq!(
        scratch.files().len(),
        5,
        "two migrations, their downs and the manifest"
    );

    let report = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.applied[0].version, 2);
    assert!(report.drift.is_clean(), "{}", report.drift);
}

#[tokio::test]
async fn an_applied_migration_edited_afterwards_is_refused_by_name() {
    let (scratch, (_db, pool)) = migrated_shop().await;

    let file = scratch.migrations_dir().join("0001_initial.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("'anonymous'", "'nobody'")).unwrap();

    let error = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .expect_err("an edited migration must be refused");
    assert!(
        matches!(&error, Error::ChecksumMismatch { file, .. } if file == "0001_initial.sql"),
        "{error}"
    );
    assert!(error.to_string().contains("0001_initial.sql"));
}

#[tokio::test]
async fn line_endings_alone_are_not_an_edit() {
    let (scratch, (_db, pool)) = migrated_shop().await;

    let file = scratch.migrations_dir().join("0001_initial.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace('\n', "\r\n")).unwrap();
    let report = apply(&pool, &scratch.migrations()).await;
    assert_eq!(report.already_applied, 1);
}

#[tokio::test]
async fn a_failing_migration_is_rolled_back_recorded_and_retried_once_fixed() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let (_db, pool) = fresh_db().await;

    let file = scratch.migrations_dir().join("0001_initial.sql");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{good}\nSELECT * FROM no_such_table;\n")).unwrap();

    let error = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .expect_err("the migration fails");
    let Error::MigrationFailed {
        file,
        statement,
        message,
        code,
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(file, "0001_initial.sql");
    assert!(message.contains("no_such_table"), "{message}");
    assert_eq!(code.as_deref(), Some("42P01"));
    let (number, _, text) = statement.as_ref().expect("the failing statement is named");
    assert_eq!(text, "SELECT * FROM no_such_table");
    assert!(
        *number > 3,
        "after the schema and table statements: {number}"
    );
    assert!(
        error.to_string().contains("SELECT * FROM no_such_table"),
        "{error}"
    );

    // No lock of ours is left, so another replica proceeds at once (to the same failure).
    assert_eq!(crate::support::our_locks(&pool).await, 0);
    let second = Migrator::new(&scratch.migrations()).run(&pool).await;
    assert!(matches!(second, Err(Error::MigrationFailed { .. })));

    // Nothing of it stayed: the schemas it created were rolled back with it.
    let schemas: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'tenant_%'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(schemas.is_empty(), "{schemas:?}");
    let recorded: (bool, Option<String>) = sqlx::query_as(
        r#"SELECT "success", "error" FROM "strata"."migrations" WHERE "version" = 1"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!recorded.0);
    assert!(recorded.1.unwrap().contains("no_such_table"));

    std::fs::write(scratch.migrations_dir().join("0001_initial.sql"), good).unwrap();
    let report = apply(&pool, &scratch.migrations()).await;
    assert_eq!(report.applied.len(), 1);
    assert!(report.drift.is_clean(), "{}", report.drift);
}

#[tokio::test]
async fn a_database_ahead_of_the_binary_is_refused() {
    let (scratch, (_db, pool)) = migrated_shop().await;
    psql(
        &pool,
        r#"INSERT INTO "strata"."migrations" ("scope", "version", "name", "checksum", "execution_ms", "success")
           VALUES ('default', 2, 'from_a_newer_release', 'x', 1, true)"#,
    )
    .await;

    let error = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .expect_err("an unknown applied migration is refused");
    assert!(
        matches!(&error, Error::UnknownMigration { version: 2, name } if name == "from_a_newer_release"),
        "{error}"
    );
}

#[tokio::test]
async fn concurrent_starts_apply_each_migration_exactly_once() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&SHOP.replace(
        "    pub note: Option<String>,\n",
        "    pub note: Option<String>,\n    pub phone: Option<String>,\n",
    ));
    scratch.build();
    let migrations = std::sync::Arc::new(scratch.migrations());
    let (db, _pool) = fresh_db().await;

    let mut starts = Vec::new();
    for _ in 0..8 {
        // A pool each, as separate replicas would have.
        let pool = db.pool().await.unwrap();
        let migrations = migrations.clone();
        starts.push(tokio::spawn(async move {
            Migrator::new(&migrations).run(&pool).await
        }));
    }
    let mut applied = 0;
    for start in starts {
        let report = start.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
        applied += report.applied.len();
        assert!(report.drift.is_clean(), "{}", report.drift);
    }
    assert_eq!(
        applied, 2,
        "each of the two migrations applied by exactly one start"
    );
}
