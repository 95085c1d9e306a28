//! Issue 10: nothing lost, nothing ignored, nothing panics. One test per
//! defect a new user met, each on a real PostgreSQL.

use strata::sqlx;
use strata::{DriftPolicy, Error, Migrator};

use crate::support::{apply, fresh_db, psql, Scratch};

const LABELS: &str = r#"
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(20)", check = "label <> 'abé'")]
    pub label: String,
}
"#;

async fn scalar(pool: &sqlx::PgPool, sql: &str) -> String {
    let (value,): (String,) = sqlx::query_as(sql).fetch_one(pool).await.unwrap();
    value
}

/// Issue 10, item 1: A check with a non-ASCII literal applied, then every later start-up
/// panicked in the drift check.
#[tokio::test]
async fn a_non_ascii_check_never_stops_a_start_up() {
    let scratch = Scratch::with_models(LABELS);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    Migrator::new(&migrations).run(&pool).await.unwrap();
    let again = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(again.drift.is_clean(), "{}", again.drift);
    psql(&pool, r#"INSERT INTO shop.item (label) VALUES ('abc')"#).await;
    let refused = sqlx::query(r#"INSERT INTO shop.item (label) VALUES ('abé')"#)
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the check is really there");
}

/// Issue 10, item 2: Rolling back a widened column cut a 50-character value to 10.
#[tokio::test]
async fn a_rollback_never_cuts_data_silently() {
    let v1 = r#"
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(10)")]
    pub note: Option<String>,
}
"#;
    let scratch = Scratch::with_models(v1);
    scratch.build();
    scratch.write_models(&v1.replace("    #[column(type = \"varchar(10)\")]\n", ""));
    scratch.build();
    let sql: String = scratch
        .files()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".sql"))
        .map(|(_, text)| text)
        .collect();
    assert!(
        !sql.contains("::character varying(10)"),
        "no truncating explicit cast is generated:\n{sql}"
    );
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    apply(&pool, &migrations).await;
    let long = "x".repeat(50);
    psql(
        &pool,
        &format!("INSERT INTO shop.item (note) VALUES ('{long}')"),
    )
    .await;

    let refused = Migrator::new(&migrations).rollback_to(&pool, 1).await;
    let Err(Error::UnconfirmedRollback { steps }) = &refused else {
        panic!("a narrowing down step is refused unconfirmed: {refused:?}");
    };
    assert_eq!(steps[0].object, "shop.item.note");
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("STRATA_CONFIRM=shop.item.note"));

    // Confirmed, the narrowing runs, and PostgreSQL refuses the long value.
    let failed = Migrator::new(&migrations)
        .confirm("shop.item.note")
        .rollback_to(&pool, 1)
        .await;
    let Err(Error::MigrationFailed { code, .. }) = &failed else {
        panic!("a value that does not fit fails loudly: {failed:?}");
    };
    assert_eq!(
        code.as_deref(),
        Some("22001"),
        "string_data_right_truncation"
    );
    assert_eq!(scalar(&pool, "SELECT note FROM shop.item").await, long);
    let kind = scalar(
        &pool,
        "SELECT data_type::text FROM information_schema.columns WHERE table_schema = 'shop' AND column_name = 'note'",
    )
    .await;
    assert_eq!(kind, "text", "the column is still text");

    // Once the value fits, the confirmed rollback goes through.
    psql(&pool, "UPDATE shop.item SET note = 'short'").await;
    let done = Migrator::new(&migrations)
        .confirm("shop.item.note")
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert_eq!(done.reverted.len(), 1);
    assert!(done.drift.is_clean(), "{}", done.drift);
}

const BACKFILL_V1: &str = crate::support::ITEM;

/// Issue 10, item 3: A hand-written migration was ignored by the build and the runtime.
#[tokio::test]
async fn a_hand_written_migration_is_taken_in_and_applied_in_order() {
    let scratch = Scratch::with_models(BACKFILL_V1);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;
    psql(
        &pool,
        "INSERT INTO shop.item (label) VALUES ('one'), ('two')",
    )
    .await;

    let path = strata_build::new_migration(scratch.migrations_dir(), "backfill_labels").unwrap();
    assert!(path.ends_with("0002_backfill_labels.sql"), "{path:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}UPDATE shop.item SET label = upper(label);\n"),
    )
    .unwrap();

    // Frozen, the build fails while the manifest does not hold it.
    let frozen = scratch.builder().frozen(true).run().unwrap_err();
    assert!(
        frozen
            .to_string()
            .contains("take in the hand-written migration 0002_backfill_labels.sql"),
        "{frozen}"
    );
    // A model change in the same build numbers after it.
    scratch.write_models(&BACKFILL_V1.replace(
        "    pub label: String,\n",
        "    pub label: String,\n    pub note: Option<String>,\n",
    ));
    let outcome = scratch.build();
    let written = outcome.written.expect("the model change is written");
    assert!(written.ends_with("0003_add_item_note.sql"), "{written:?}");

    let report = apply(&pool, &scratch.migrations()).await;
    let applied: Vec<u32> = report.applied.iter().map(|m| m.version).collect();
    assert_eq!(applied, [2, 3]);
    let labels: Vec<(String,)> = sqlx::query_as("SELECT label FROM shop.item ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(labels, [("ONE".to_owned(),), ("TWO".to_owned(),)]);
    assert!(report.drift.is_clean(), "{}", report.drift);

    // Rolling back past it without a down file is refused before anything runs.
    let refused = Migrator::new(&scratch.migrations())
        .confirm_all()
        .rollback_to(&pool, 1)
        .await;
    let Err(Error::NoDownMigration { file }) = &refused else {
        panic!("refused, naming the file: {refused:?}");
    };
    assert_eq!(file, "0002_backfill_labels.sql");
    let (versions,): (i64,) = sqlx::query_as("SELECT count(*) FROM strata.migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions, 3, "nothing was undone, not even 0003");
}

#[test]
fn what_the_build_cannot_take_in_is_an_error_naming_the_file() {
    let scratch = Scratch::with_models(BACKFILL_V1);
    scratch.build();
    let dir = scratch.migrations_dir();
    for (file, expected) in [
        ("0004_gap.sql", "a gap in the numbering"),
        ("0001_again.sql", "is taken"),
        ("notes.txt", "not a migration"),
        ("0002_orphan.down.sql", "a down file without its migration"),
    ] {
        std::fs::write(dir.join(file), "SELECT 1;\n").unwrap();
        let error = scratch.builder().run().unwrap_err().to_string();
        assert!(error.contains(file), "{file}: {error}");
        assert!(error.contains(expected), "{file}: {error}");
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("0002_a.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.join("0002_b.sql"), "SELECT 1;\n").unwrap();
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(
        error.contains("a second migration numbered 0002"),
        "{error}"
    );
}

/// Issue 10, item 4: `renamed_from` whose old name a new field takes: the rename vanished.
#[tokio::test]
async fn a_rename_whose_old_name_a_new_field_takes_renames_then_adds() {
    let scratch = Scratch::with_models(BACKFILL_V1);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;
    psql(&pool, "INSERT INTO shop.item (label) VALUES ('kept')").await;
    scratch.write_models(&BACKFILL_V1.replace(
        "    pub label: String,\n",
        "    #[column(renamed_from = \"label\")]\n    pub title: String,\n    pub label: Option<String>,\n",
    ));
    let outcome = scratch.build();
    assert_eq!(
        outcome.changes,
        ["rename item.label to title", "add item.label"]
    );
    let report = apply(&pool, &scratch.migrations()).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (title, label): (String, Option<String>) =
        sqlx::query_as("SELECT title, label FROM shop.item")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((title.as_str(), label), ("kept", None));

    // A hint that names nothing is an error, not ignored.
    scratch.write_models(&BACKFILL_V1.replace(
        "    pub label: String,\n",
        "    pub title: String,\n    pub label: Option<String>,\n    #[column(renamed_from = \"labl\")]\n    pub name: String,\n",
    ));
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(error.contains("renamed_from = \"labl\""), "{error}");
    assert!(error.contains("no such column"), "{error}");
}

/// Issue 10, item 5: A required column added to a table with rows was written, and start-up failed.
#[tokio::test]
async fn a_change_that_cannot_apply_to_rows_fails_the_build_until_confirmed() {
    let scratch = Scratch::with_models(BACKFILL_V1);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;
    scratch.write_models(&BACKFILL_V1.replace(
        "    pub label: String,\n",
        "    pub label: String,\n    pub sku: String,\n",
    ));
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(error.contains("shop.item.sku"), "{error}");
    assert!(
        error.contains("default = "),
        "says what to write instead: {error}"
    );
    assert!(error.contains("STRATA_CONFIRM=shop.item.sku"), "{error}");
    assert!(scratch
        .files()
        .iter()
        .all(|(name, _)| !name.starts_with("0002")));

    // Confirming another object does not confirm this one; naming it does.
    assert!(scratch.builder().confirm("shop.item.label").run().is_err());
    let outcome = scratch.builder().confirm("shop.item.sku").run().unwrap();
    assert!(outcome.written.is_some());
    // On the empty table the user vouched for, it applies.
    assert!(apply(&pool, &scratch.migrations()).await.drift.is_clean());

    // A type change without an implicit cast needs `using`, shown in the error.
    scratch.write_models(&BACKFILL_V1.replace(
        "    pub label: String,\n",
        "    pub label: i64,\n    pub sku: String,\n",
    ));
    let error = scratch
        .builder()
        .confirm_all()
        .run()
        .unwrap_err()
        .to_string();
    assert!(error.contains("#[column(using = "), "{error}");
    scratch.write_models(&BACKFILL_V1.replace(
        "    pub label: String,\n",
        "    #[column(using = \"length(label)\")]\n    pub label: i64,\n    pub sku: String,\n",
    ));
    scratch.builder().confirm("shop.item.label").run().unwrap();
    psql(
        &pool,
        "INSERT INTO shop.item (label, sku) VALUES ('four', 'a')",
    )
    .await;
    assert!(apply(&pool, &scratch.migrations()).await.drift.is_clean());
    let (label,): (i64,) = sqlx::query_as("SELECT label FROM shop.item")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(label, 4);
}

/// Issue 10, item 7: Names were spliced into the drift statement and placeholders replaced
/// over its text: a schema spelt like a placeholder broke it.
#[tokio::test]
async fn schemas_named_like_sql_placeholders_are_checked_like_any_other() {
    let models = r#"
#[strata::schema("{schemas}", table = "a")]
pub struct A {
    #[column(primary_key)]
    pub id: i64,
}
#[strata::schema("$1::text[]", table = "{view_names}")]
pub struct B {
    #[column(primary_key)]
    pub id: i64,
    #[column(default = "'{view_schemas}'")]
    pub tag: String,
}
#[strata::schema("it's \\ E'", table = "c")]
pub struct C {
    #[column(primary_key)]
    pub id: i64,
}
"#;
    let scratch = Scratch::with_models(models);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        r#"ALTER TABLE "$1::text[]"."{view_names}" ADD COLUMN extra int"#,
    )
    .await;
    let drift = strata::check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(drift.differences.len(), 1, "{drift}");
    assert!(drift.to_string().contains("extra"), "{drift}");
    let warned = Migrator::new(&migrations)
        .drift_policy(DriftPolicy::Warn)
        .run(&pool)
        .await
        .unwrap();
    assert_eq!(warned.drift.differences.len(), 1);
}

/// A hand-written down file that can lose data is marked in the manifest,
/// and a rollback through it needs the file confirmed by name.
#[tokio::test]
async fn a_lossy_hand_written_down_file_needs_confirming_by_its_name() {
    let scratch = Scratch::with_models(BACKFILL_V1);
    scratch.build();
    let dir = scratch.migrations_dir();
    std::fs::write(
        dir.join("0002_seed_items.sql"),
        "INSERT INTO shop.item (label) VALUES ('seeded');\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("0002_seed_items.down.sql"),
        "DELETE FROM shop.item WHERE label = 'seeded';\n",
    )
    .unwrap();
    scratch.build();
    let manifest = scratch.migrations().manifest().unwrap();
    let entry = &manifest.migrations[1];
    assert!(entry.hand_written);
    assert_eq!(entry.lossy_down[0].object, "0002_seed_items.down.sql");

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    apply(&pool, &migrations).await;
    let refused = Migrator::new(&migrations).rollback_to(&pool, 1).await;
    let Err(Error::UnconfirmedRollback { steps }) = &refused else {
        panic!("refused: {refused:?}");
    };
    assert!(steps[0].what.contains("DELETE FROM shop.item"), "{steps:?}");
    Migrator::new(&migrations)
        .confirm("0002_seed_items.down.sql")
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert_eq!(
        scalar(&pool, "SELECT count(*)::text FROM shop.item").await,
        "0"
    );
}

/// A database an older strata migrated has `strata.migrations` but no
/// expression cache: the next start-up adds the cache and starts clean.
#[tokio::test]
async fn a_database_from_before_the_expression_cache_starts_and_gains_it() {
    let scratch = Scratch::with_models(LABELS);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    apply(&pool, &migrations).await;
    psql(&pool, "DROP TABLE strata.expressions").await;
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.applied.is_empty());
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (cached,): (i64,) = sqlx::query_as("SELECT count(*) FROM strata.expressions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(cached, 1, "the check's spelling is cached again");
}

/// Found by the property test: PostgreSQL keeps a column's default in the
/// old type's spelling when the type changes (`'dflt'::character varying` on
/// a `text` column), and the next start-up called that drift. The default is
/// set again with the type, both ways.
#[tokio::test]
async fn a_retyped_column_keeps_its_default_spelled_for_its_new_type() {
    let v1 = r#"
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(10)", default = "'dflt'")]
    pub note: String,
    #[column(type = "integer", default = "7")]
    pub size: i32,
}
"#;
    let scratch = Scratch::with_models(v1);
    scratch.build();
    let v2 = v1
        .replace("type = \"varchar(10)\", ", "type = \"text\", ")
        .replace("type = \"integer\", default = \"7\"", "type = \"bigint\"")
        .replace("pub size: i32", "pub size: i64");
    scratch.write_models(&v2);
    // integer to bigint rewrites the table: a hazard, confirmed.
    scratch.builder().confirm("shop.item.size").run().unwrap();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let up = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(up.drift.is_clean(), "{}", up.drift);
    assert_eq!(
        scalar(&pool, "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attname = 'note'").await,
        "'dflt'::text"
    );
    psql(&pool, "INSERT INTO shop.item (size) VALUES (1)").await;

    let down = Migrator::new(&migrations)
        .confirm("shop.item.note")
        .confirm("shop.item.size")
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert!(down.drift.is_clean(), "{}", down.drift);
    assert_eq!(
        scalar(&pool, "SELECT note || ':' || size FROM shop.item").await,
        "dflt:1",
        "the row is kept, and the restored default fills new rows"
    );
    psql(&pool, "INSERT INTO shop.item (note) VALUES ('x')").await;
    assert_eq!(
        scalar(&pool, "SELECT size::text FROM shop.item WHERE note = 'x'").await,
        "7"
    );
}
