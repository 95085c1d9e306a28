//! Moves and renames keep every row, key, index and sequence; downs undo them.

use strata::sqlx::{self, PgPool};
use strata::{check_drift, check_drift_at, DriftPolicy, Error, Migrator};

use crate::support::{apply, fresh_db, migrate_clean, psql, Scratch};

const IN_PUBLIC: &str = include_str!("../../golden/move_table_with_compat_view/before.rs");
const MOVED: &str = include_str!("../../golden/move_table_with_compat_view/after.rs");

/// Row count and a checksum of every row, as text, of a table.
async fn fingerprint(pool: &PgPool, table: &str) -> (i64, String) {
    sqlx::query_as(&format!(
        "SELECT count(*), coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t"
    ))
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("{table}: {e}"))
}

async fn shop_in_public() -> (Scratch, crate::support::Db) {
    let scratch = Scratch::with_models(IN_PUBLIC);
    scratch.build();
    let db = fresh_db().await;
    apply(&db.1, &scratch.migrations()).await;
    psql(
        &db.1,
        "INSERT INTO public.products (sku) SELECT 'SKU-' || i FROM generate_series(1, 3) i;
         INSERT INTO public.product_variants (product_id) SELECT 1 + i % 3 FROM generate_series(1, 5) i;",
    )
    .await;
    (scratch, db)
}

#[tokio::test]
async fn moving_tables_out_of_public_keeps_rows_keys_indexes_and_sequences() {
    let (scratch, (_db, pool)) = shop_in_public().await;
    let products = fingerprint(&pool, "public.products").await;
    let variants = fingerprint(&pool, "public.product_variants").await;

    scratch.write_models(MOVED);
    let written = scratch.build().written.expect("the move is a migration");
    let sql = std::fs::read_to_string(&written).unwrap();
    assert!(
        !sql.contains("DROP TABLE") && !sql.contains("CREATE TABLE"),
        "{sql}"
    );
    let report = apply(&pool, &scratch.migrations()).await;
    assert_eq!(report.applied.len(), 1);
    assert!(report.drift.is_clean(), "{}", report.drift);

    assert_eq!(fingerprint(&pool, "tenant_shared.products").await, products);
    assert_eq!(
        fingerprint(&pool, "tenant_shared.product_variants").await,
        variants
    );

    // The foreign key still points at the moved table and is enforced.
    let orphan = sqlx::query("INSERT INTO tenant_shared.product_variants (product_id) VALUES (99)")
        .execute(&pool)
        .await
        .expect_err("the foreign key still holds");
    assert_eq!(
        orphan.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("23503")
    );
    // The identity sequence moved along and carries on where it was.
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO tenant_shared.products (sku) VALUES ('SKU-4') RETURNING id")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(id, 4);
    // The index moved along too.
    let (indexes,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'tenant_shared' AND indexname = 'product_variants_product_id_idx'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, 1);

    // Legacy, unqualified queries keep reading and writing through the compat view.
    let (legacy,): (i64,) = sqlx::query_as("SELECT count(*) FROM products")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(legacy, 4);
    psql(&pool, "INSERT INTO products (sku) VALUES ('SKU-5')").await;
    assert_eq!(fingerprint(&pool, "tenant_shared.products").await.0, 5);

    // A hint left in place after it was applied is harmless.
    assert_eq!(scratch.build().written, None);
}

#[tokio::test]
async fn removing_the_compat_view_drops_only_the_view() {
    let (scratch, (_db, pool)) = shop_in_public().await;
    scratch.write_models(MOVED);
    scratch.build();
    apply(&pool, &scratch.migrations()).await;
    let products = fingerprint(&pool, "tenant_shared.products").await;

    scratch.write_models(&MOVED.replace(", compat_view", ""));
    let written = scratch
        .build()
        .written
        .expect("dropping the view is a migration");
    let sql = std::fs::read_to_string(written).unwrap();
    let statements: Vec<&str> = sql
        .lines()
        .filter(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    assert_eq!(statements, [r#"DROP VIEW "public"."products";"#]);
    let report = apply(&pool, &scratch.migrations()).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(fingerprint(&pool, "tenant_shared.products").await, products);
}

#[tokio::test]
async fn rolling_back_a_move_puts_every_row_back() {
    let (scratch, (_db, pool)) = shop_in_public().await;
    let products = fingerprint(&pool, "public.products").await;
    let variants = fingerprint(&pool, "public.product_variants").await;
    scratch.write_models(MOVED);
    scratch.build();
    let migrations = scratch.migrations();
    apply(&pool, &migrations).await;

    let report = Migrator::new(&migrations)
        .rollback_to(&pool, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(report.reverted[0].version, 2);
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(fingerprint(&pool, "public.products").await, products);
    assert_eq!(
        fingerprint(&pool, "public.product_variants").await,
        variants
    );
    let (tracked,): (i64,) = sqlx::query_as(r#"SELECT max("version") FROM "strata"."migrations""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tracked, 1);
    // Against the newest models the database is now behind: that is drift.
    assert!(!check_drift(&pool, &migrations).await.unwrap().is_clean());
    assert!(check_drift_at(&pool, &migrations, 1)
        .await
        .unwrap()
        .is_clean());
}

#[tokio::test]
async fn a_target_version_stops_there_and_a_database_past_it_is_refused() {
    let (scratch, (_db, pool)) = shop_in_public().await;
    scratch.write_models(MOVED);
    scratch.build();
    let migrations = scratch.migrations();

    let held = Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .unwrap();
    assert!(held.applied.is_empty());
    assert!(held.drift.is_clean(), "{}", held.drift);

    apply(&pool, &migrations).await;
    let error = Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .expect_err("the database is past the target");
    assert!(
        matches!(
            error,
            Error::AheadOfTarget {
                applied: 2,
                target: 1
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn renaming_a_table_and_a_column_keeps_every_row() {
    let before = include_str!("../../golden/rename_column/before.rs");
    let scratch = Scratch::with_models(before);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;
    psql(
        &pool,
        "INSERT INTO tenant_kct.customers (email, note) SELECT 'c' || i || '@x.org', 'note ' || i FROM generate_series(1, 20) i",
    )
    .await;
    let rows = fingerprint(&pool, "tenant_kct.customers").await;

    scratch.write_models(
        &before
            .replace(
                r#"table = "customers""#,
                r#"table = "clients", renamed_from = "customers""#,
            )
            .replace(
                "    pub note:",
                "    #[column(renamed_from = \"note\")]\n    pub remark:",
            ),
    );
    scratch.build();
    let report = apply(&pool, &scratch.migrations()).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(fingerprint(&pool, "tenant_kct.clients").await, rows);
    let (remark,): (String,) =
        sqlx::query_as("SELECT remark FROM tenant_kct.clients WHERE email = 'c7@x.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(remark, "note 7");
}

#[tokio::test]
async fn destructive_changes_are_written_only_when_confirmed() {
    let before = include_str!("../../golden/drop_column_confirmed/before.rs");
    let after = include_str!("../../golden/drop_column_confirmed/after.rs");
    let scratch = Scratch::with_models(before);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;

    scratch.write_models(after);
    let refused = scratch
        .builder()
        .run()
        .expect_err("refused without confirmation");
    let message = refused.to_string();
    assert!(
        message.contains("tenant_kct.customers.note: drop column"),
        "{message}"
    );
    assert!(
        message.contains("STRATA_CONFIRM=tenant_kct.customers.note"),
        "{message}"
    );

    let written = scratch
        .builder()
        .allow_destructive(true)
        .run()
        .unwrap()
        .written
        .unwrap();
    let sql = std::fs::read_to_string(written).unwrap();
    assert!(
        sql.contains(
            "-- 8. confirmed drops\nALTER TABLE \"tenant_kct\".\"customers\" DROP COLUMN \"note\";"
        ),
        "{sql}"
    );
    let report = Migrator::new(&scratch.migrations())
        .drift_policy(DriftPolicy::Fail)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.drift.is_clean());
}

#[tokio::test]
async fn foreign_keys_may_point_forward_and_in_cycles_across_schemas() {
    let models = r#"
#[strata::schema("tenant_kct", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Outfit, on_delete = "set null")]
    pub favourite_outfit_id: Option<i64>,
}

#[strata::schema("tenant_shared", table = "outfits")]
pub struct Outfit {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade")]
    pub designed_for: i64,
}
"#;
    let scratch = Scratch::with_models(models);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let report = apply(&pool, &scratch.migrations()).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO tenant_kct.customers DEFAULT VALUES;
         INSERT INTO tenant_shared.outfits (designed_for) VALUES (1);
         UPDATE tenant_kct.customers SET favourite_outfit_id = 1;
         DELETE FROM tenant_kct.customers;",
    )
    .await;
    assert_eq!(
        fingerprint(&pool, "tenant_shared.outfits").await.0,
        0,
        "cascaded"
    );
}

/// Tables moved out of `public` with compat views, granted to the
/// application's role: `public` holds only the compat views now, and its
/// `USAGE` for that role is strata's own grant, never drift.
#[tokio::test]
async fn a_grant_through_compat_views_left_in_public_is_not_drift() {
    let role = "moves_app_user";
    let granted = |schema: &str, extra: &str| {
        IN_PUBLIC
            .replace(
                "#[strata::schema(\"public\", table = \"products\")]",
                &format!("#[strata::schema(\"{schema}\", table = \"products\"{extra})]\n#[grant(select, to = \"{role}\")]"),
            )
            .replace(
                "#[strata::schema(\"public\", table = \"product_variants\")]",
                &format!("#[strata::schema(\"{schema}\", table = \"product_variants\"{extra})]\n#[grant(select, to = \"{role}\")]"),
            )
    };
    let scratch = Scratch::with_models(&granted("public", ""));
    scratch.builder().role(role).run().unwrap();
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;
    scratch.write_models(&granted(
        "tenant_shared",
        ", moved_from = \"public\", compat_view",
    ));
    scratch.builder().role(role).run().unwrap();
    migrate_clean(&scratch, &pool).await;
    let again = check_drift(&pool, &scratch.migrations()).await.unwrap();
    assert!(again.is_clean(), "{again}");
    // And the grant is really there: the role reads through the compat view.
    psql(
        &pool,
        &format!("SET ROLE {role}; SELECT count(*) FROM public.products; RESET ROLE"),
    )
    .await;
}
