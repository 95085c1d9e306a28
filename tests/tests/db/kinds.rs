//! Issue 11: the object kinds beyond tables, each from the build to a real
//! PostgreSQL and back, with drift.

use strata::{check_drift, DifferenceKind, Migrator, ObjectKind};

use crate::support::{apply, fresh_db, psql, Scratch};

const ITEMS: &str = r#"
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
}
"#;

#[tokio::test]
async fn an_extension_is_created_first_dropped_last_and_missing_is_drift() {
    let scratch = Scratch::with_models(ITEMS);
    scratch.builder().extension("pg_trgm").run().unwrap();
    let (_, up) = scratch
        .files()
        .into_iter()
        .find(|(name, _)| name == "0001_initial.sql")
        .expect("the first migration");
    let extension = up.find(r#"CREATE EXTENSION IF NOT EXISTS "pg_trgm" SCHEMA "public";"#);
    let table = up.find(r#"CREATE TABLE "shop"."item""#);
    assert!(extension.is_some() && extension < table, "{up}");

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    // The extension works: its similarity() is there.
    psql(&pool, "SELECT similarity('shirt', 'shirts')").await;

    psql(&pool, "DROP EXTENSION pg_trgm").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(drift.differences.len(), 1, "{drift}");
    let d = &drift.differences[0];
    assert_eq!(
        (d.kind, d.object, d.name.as_str()),
        (DifferenceKind::Missing, ObjectKind::Extension, "pg_trgm")
    );
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - missing extension pg_trgm"
    );

    // Removed from the build: dropped, and the down file makes it again.
    psql(&pool, "CREATE EXTENSION pg_trgm").await;
    scratch.build();
    let files = scratch.files();
    let (_, drop) = files
        .iter()
        .find(|(name, _)| name.starts_with("0002_") && !name.ends_with(".down.sql"))
        .expect("a second migration");
    assert!(
        drop.contains(r#"DROP EXTENSION IF EXISTS "pg_trgm";"#),
        "{drop}"
    );
    let migrations = scratch.migrations();
    apply(&pool, &migrations).await;
    let installed = |pool| async move {
        let (n,): (i64,) =
            strata::sqlx::query_as("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
                .fetch_one(&pool)
                .await
                .unwrap();
        n
    };
    assert_eq!(installed(pool.clone()).await, 0);
    Migrator::new(&migrations)
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert_eq!(
        installed(pool.clone()).await,
        1,
        "the down file creates it again"
    );
}

/// Today an extension's own table in a managed schema failed start-up as unexpected.
#[tokio::test]
async fn what_an_extension_owns_in_a_managed_schema_is_never_drift() {
    let scratch = Scratch::with_models(ITEMS);
    scratch.builder().extension("pg_trgm").run().unwrap();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    apply(&pool, &migrations).await;
    // As an extension's install script would: a table of its own, here in
    // the managed schema.
    psql(
        &pool,
        "CREATE TABLE shop.trgm_settings (k text); ALTER EXTENSION pg_trgm ADD TABLE shop.trgm_settings",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert!(drift.is_clean(), "{drift}");
    // A table of nobody's is still unexpected.
    psql(&pool, "CREATE TABLE shop.stray (k text)").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - unexpected table shop.stray"
    );
}

async fn reads_security_invoker(pool: &strata::sqlx::PgPool) -> bool {
    let (options,): (Option<Vec<String>>,) = strata::sqlx::query_as(
        "SELECT reloptions::text[] FROM pg_class WHERE oid = 'public.products'::regclass",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    options
        .unwrap_or_default()
        .contains(&"security_invoker=true".to_owned())
}

/// A compat view made by strata 0.1.0 reads its table with its owner's
/// privileges. The first build after upgrading writes the migration that
/// makes it `security_invoker`; until that is applied, it is not drift.
#[tokio::test]
async fn a_compat_view_from_release_0_1_gains_security_invoker_by_a_migration() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/release-0.1.0");
    let scratch =
        Scratch::with_models(&std::fs::read_to_string(fixture.join("models.rs")).unwrap());
    std::fs::create_dir_all(scratch.migrations_dir()).unwrap();
    for (name, text) in crate::support::files_in(&fixture.join("migrations")) {
        std::fs::write(scratch.migrations_dir().join(name), text).unwrap();
    }
    let (_db, pool) = fresh_db().await;
    let released = scratch.migrations();
    let report = Migrator::new(&released).run(&pool).await.unwrap();
    assert!(
        report.drift.is_clean(),
        "0.1.0's migrations: {}",
        report.drift
    );
    assert!(!reads_security_invoker(&pool).await);

    let outcome = scratch.build();
    assert_eq!(outcome.changes, ["set security_invoker on view products"]);
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(
        up.contains(r#"ALTER VIEW "public"."products" SET (security_invoker = true);"#),
        "{up}"
    );
    let upgraded = scratch.migrations();
    let report = Migrator::new(&upgraded).run(&pool).await.unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert!(reads_security_invoker(&pool).await);

    psql(&pool, "ALTER VIEW public.products RESET (security_invoker)").await;
    let drift = check_drift(&pool, &upgraded).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - changed view public.products security_invoker: expected true, found false"
    );
    psql(
        &pool,
        "ALTER VIEW public.products SET (security_invoker = true)",
    )
    .await;
    let back = Migrator::new(&upgraded)
        .rollback_to(&pool, 2)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    assert!(
        !reads_security_invoker(&pool).await,
        "the down file resets it"
    );
}

const LINES: &str = include_str!("fixtures/kinds.rs");

include!("fixtures/kinds.rs");

#[tokio::test]
async fn a_generated_column_is_computed_by_postgres_and_its_expression_is_checked() {
    let scratch = Scratch::with_models(LINES);
    scratch.build();
    let up = &scratch.files()[1].1;
    assert!(
        up.contains(
            r#""total_cents" bigint GENERATED ALWAYS AS (price_cents * quantity) STORED NOT NULL"#
        ),
        "{up}"
    );
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    // insert_row and update_row leave the generated column to PostgreSQL.
    let mut line = Line {
        id: 0,
        price_cents: 250,
        quantity: 4,
        total_cents: -1,
    };
    let stored = line.insert_row(&pool).await.unwrap();
    assert_eq!(stored.total_cents, 1000);
    line.id = stored.id;
    line.quantity = 5;
    assert_eq!(line.update_row(&pool).await.unwrap(), 1);
    let read: Line = strata::sqlx::query_as(Line::SELECT_BY_PK)
        .bind(stored.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(read.total_cents, 1250);
    assert!(
        Line::INSERT.starts_with(
            r#"INSERT INTO "shop"."line" ("price_cents", "quantity") VALUES ($1, $2)"#
        ),
        "{}",
        Line::INSERT
    );

    psql(
        &pool,
        "ALTER TABLE shop.line ALTER COLUMN total_cents DROP EXPRESSION",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - changed column shop.line.total_cents generated: expected price_cents * quantity, found none"
    );

    // PostgreSQL 15 cannot change the expression in place: the build says what to do.
    scratch.write_models(&LINES.replace("price_cents * quantity", "price_cents * quantity * 2"));
    let refused = scratch.builder().run().unwrap_err().to_string();
    assert!(
        refused.contains("column shop.line.total_cents: PostgreSQL 15 cannot change a generated column's expression in place; add a new generated field under another name"),
        "{refused}"
    );
}

const DOCUMENTED: &str = r#"
/// What the shop sells.
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    /// The name on the label; it's what customers search.
    pub name: String,
}
"#;

async fn comment(pool: &strata::sqlx::PgPool, column: Option<i32>) -> Option<String> {
    let (text,): (Option<String>,) =
        strata::sqlx::query_as("SELECT col_description('shop.item'::regclass, $1)")
            .bind(column.unwrap_or(0))
            .fetch_one(pool)
            .await
            .unwrap();
    text
}

#[tokio::test]
async fn doc_comments_become_comments_and_a_changed_comment_is_drift() {
    let scratch = Scratch::with_models(DOCUMENTED);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(
        comment(&pool, None).await.as_deref(),
        Some("What the shop sells.")
    );
    assert_eq!(
        comment(&pool, Some(2)).await.as_deref(),
        Some("The name on the label; it's what customers search.")
    );

    psql(
        &pool,
        "COMMENT ON COLUMN shop.item.name IS 'edited by hand'",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - changed column shop.item.name comment: expected The name on the label; it's what customers search., found edited by hand"
    );
    psql(
        &pool,
        "COMMENT ON COLUMN shop.item.name IS 'The name on the label; it''s what customers search.'",
    )
    .await;

    // A renamed field keeps its comment; a removed doc comment removes it.
    let next = DOCUMENTED
        .replace("/// What the shop sells.\n", "")
        .replace(
            "pub name: String",
            "#[column(renamed_from = \"name\")]\n    pub label: String",
        );
    scratch.write_models(&next);
    let outcome = scratch.build();
    assert_eq!(
        outcome.changes,
        ["rename item.name to label", "comment on item"]
    );
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(comment(&pool, None).await, None);
    assert!(comment(&pool, Some(2)).await.is_some());

    let back = Migrator::new(&migrations)
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    assert_eq!(
        comment(&pool, None).await.as_deref(),
        Some("What the shop sells.")
    );
}

const TENANT_KINDS: &str = r#"
#[strata::schema("shared")]
pub enum Stage {
    Lead,
    Won,
}

/// A deal a tenant works on.
#[strata::schema(tenant, table = "deals")]
pub struct Deal {
    #[column(primary_key, identity)]
    pub id: i64,
    /// What it is worth, in cents.
    pub cents: i64,
    pub seats: i32,
    #[column(generated = "cents * seats")]
    pub total: i64,
    #[column(default = "'lead'")]
    pub stage: Stage,
}
"#;

/// Tenant models use the new kinds too: a shared enum, generated columns
/// and comments, created in every tenant and drift-checked per tenant.
#[tokio::test]
async fn tenant_models_carry_comments_generated_columns_and_shared_enums() {
    let scratch = Scratch::with_models(TENANT_KINDS);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;
    let tenant_migrations =
        strata::Migrations::from_dir(scratch.migrations_dir().join("tenant")).unwrap();
    let tenants = strata::Tenants::new(&tenant_migrations);
    let all: Vec<strata::TenantSchema> = ["acme", "globex"]
        .iter()
        .map(|id| tenants.schema(id).unwrap())
        .collect();
    for tenant in &all {
        tenants.create(&pool, tenant).await.unwrap();
    }
    assert!(tenants.check_drift(&pool, &all).await.unwrap().is_clean());
    psql(
        &pool,
        "INSERT INTO tenant_acme.deals (cents, seats) VALUES (1000, 3)",
    )
    .await;
    let (total, stage): (i64, String) =
        strata::sqlx::query_as("SELECT total, stage::text FROM tenant_acme.deals")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((total, stage.as_str()), (3000, "lead"));

    psql(&pool, "COMMENT ON TABLE tenant_globex.deals IS NULL").await;
    let drift = tenants.check_drift(&pool, &all).await.unwrap();
    assert_eq!(drift.drifted.keys().collect::<Vec<_>>(), ["tenant_globex"]);
    assert_eq!(
        drift.tenant("tenant_globex").unwrap().to_string(),
        "1 difference\n  - changed table tenant_globex.deals comment: expected A deal a tenant works on., found none"
    );
}

mod views {
    include!("fixtures/views.rs");
}

const VIEWS: &str = include_str!("fixtures/views.rs");

#[tokio::test]
async fn views_follow_what_they_read_and_a_materialized_view_refreshes() {
    use views::{BigCustomers, CustomerTotals, Revenue};
    let scratch = Scratch::with_models(VIEWS);
    scratch.build();
    let up = &scratch.files()[1].1;
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(
        at(r#"CREATE TABLE "shop"."orders""#) < at(r#"CREATE VIEW "analytics"."customer_totals""#)
    );
    assert!(
        at(r#"CREATE VIEW "analytics"."customer_totals""#)
            < at(r#"CREATE VIEW "analytics"."big_customers""#)
    );
    assert!(
        up.contains(
            r#"CREATE UNIQUE INDEX "revenue_one_row" ON "analytics"."revenue" ("orders");"#
        ),
        "{up}"
    );

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    for (customer_id, cents) in [(1, 900), (1, 400), (2, 50)] {
        let order = views::ShopOrder {
            id: 0,
            customer_id,
            cents,
        };
        let stored = order.insert_row(&pool).await.unwrap();
        assert!(stored.id > 0, "PostgreSQL numbers the orders");
    }
    let totals: Vec<CustomerTotals> =
        strata::sqlx::query_as(&format!("{} ORDER BY customer_id", CustomerTotals::SELECT))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        totals[0],
        CustomerTotals {
            customer_id: 1,
            total: 1300
        }
    );
    let big: Vec<BigCustomers> = strata::sqlx::query_as(BigCustomers::SELECT)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(big, [BigCustomers { customer_id: 1 }]);
    Revenue::refresh(&pool).await.unwrap();
    let revenue: Revenue = strata::sqlx::query_as(Revenue::SELECT)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        revenue,
        Revenue {
            orders: 3,
            cents: 1350
        }
    );

    // A type change under the views: they go before it and come back after.
    scratch.write_models(&VIEWS.replace("pub cents: i32", "pub cents: i64"));
    // integer to bigint rewrites the table: a hazard, confirmed.
    let outcome = scratch
        .builder()
        .confirm("shop.orders.cents")
        .run()
        .unwrap();
    let sql = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    let at = |text: &str| {
        sql.find(text)
            .unwrap_or_else(|| panic!("{text} in:\n{sql}"))
    };
    assert!(
        at(r#"DROP VIEW "analytics"."big_customers";"#)
            < at(r#"DROP VIEW "analytics"."customer_totals";"#)
    );
    assert!(at(r#"DROP VIEW "analytics"."customer_totals";"#) < at("TYPE bigint"));
    assert!(at("TYPE bigint") < at(r#"CREATE VIEW "analytics"."customer_totals""#));
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let big: Vec<BigCustomers> = strata::sqlx::query_as(BigCustomers::SELECT)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(big.len(), 1, "the views work again, over every row");

    // Manual changes are drift, naming what differs.
    psql(
        &pool,
        "CREATE OR REPLACE VIEW analytics.big_customers AS SELECT customer_id FROM analytics.customer_totals WHERE total > 5",
    )
    .await;
    psql(&pool, "CREATE VIEW analytics.by_hand AS SELECT 1 AS one").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found: Vec<String> = drift.differences.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 2, "{drift}");
    assert!(
        found[0].starts_with("changed view analytics.big_customers definition: expected"),
        "{drift}"
    );
    assert!(
        found[0].contains("> 1000") && found[0].contains("> 5"),
        "{drift}"
    );
    assert_eq!(found[1], "unexpected view analytics.by_hand (view)");
}

#[tokio::test]
async fn a_view_whose_sql_gives_other_columns_is_reported_naming_them() {
    let models = VIEWS.replace("AS total FROM shop.orders", "AS sum_cents FROM shop.orders");
    let models = models.replace("WHERE total > 1000", "WHERE sum_cents > 1000");
    let scratch = Scratch::with_models(&models);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let refused = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("changed view analytics.customer_totals columns: expected customer_id, total, found customer_id, sum_cents"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_trigram_index_names_its_method_and_operator_class_and_drift_sees_them() {
    let models = ITEMS.replace(
        "#[strata::schema(\"shop\", table = \"item\")]",
        "#[strata::schema(\"shop\", table = \"item\")]\n#[index(columns = [\"name\"], name = \"item_name_trgm\", using = \"gin\", ops = \"gin_trgm_ops\")]",
    );
    let scratch = Scratch::with_models(&models);
    let outcome = scratch.builder().extension("pg_trgm").run().unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(
        up.contains(
            r#"CREATE INDEX "item_name_trgm" ON "shop"."item" USING gin ("name" gin_trgm_ops);"#
        ),
        "{up}"
    );
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);

    psql(&pool, "DROP INDEX shop.item_name_trgm").await;
    psql(&pool, "CREATE INDEX item_name_trgm ON shop.item (name)").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - changed index shop.item_name_trgm: expected using gin (name gin_trgm_ops), found (name)",
    );
}

/// The server prints names qualified or not by the session's `search_path`:
/// a spelling cached by the migrating session (whose path predates the
/// `ALTER DATABASE … SET search_path` it ran) must not be compared with what
/// a later session, on the database's new path, reads.
#[tokio::test]
async fn a_session_on_another_search_path_reads_no_spelling_cached_for_the_migrating_one() {
    let scratch = Scratch::with_models(&format!(
        "{}\n{}",
        include_str!("fixtures/enums.rs"),
        r#"
#[strata::view("shop", sql = "SELECT id FROM shop.orders WHERE status <> 'paid'")]
pub struct Unpaid {
    pub id: i64,
}
"#
    ));
    scratch
        .builder()
        .search_path(["public", "shop"])
        .run()
        .unwrap();
    let (db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    // New sessions start on the database's path, which now holds `shop`.
    let later = strata::sqlx::PgPool::connect(db.url()).await.unwrap();
    let (path,): (String,) = strata::sqlx::query_as("SHOW search_path")
        .fetch_one(&later)
        .await
        .unwrap();
    assert!(path.contains("shop"), "{path}");
    let drift = check_drift(&later, &migrations).await.unwrap();
    assert!(drift.is_clean(), "{drift}");
}

/// An extension goes where the application's sessions look: the first schema
/// of the database's `search_path`. Left to PostgreSQL, it went to the first
/// schema of the migrating session's path, `"$user"`, which for a role
/// named `strata` is strata's own bookkeeping schema, and sessions on the
/// database's path then found none of its operators (KCT's trigram search
/// failed now and then, by which pooled connection ran it).
#[tokio::test]
async fn an_extension_goes_to_the_first_schema_of_the_databases_search_path() {
    let scratch = Scratch::with_models(ITEMS);
    let outcome = scratch
        .builder()
        .extension("pg_trgm")
        .search_path(["public", "shop"])
        .run()
        .unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(
        up.contains(r#"CREATE EXTENSION IF NOT EXISTS "pg_trgm" SCHEMA "public";"#),
        "{up}"
    );
    let (db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let later = strata::sqlx::PgPool::connect(db.url()).await.unwrap();
    let (schema, similar): (String, bool) = strata::sqlx::query_as(
        "SELECT n.nspname::text, 'navy wool' % 'navy wol'
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
    )
    .fetch_one(&later)
    .await
    .unwrap();
    assert_eq!((schema.as_str(), similar), ("public", true));
}
