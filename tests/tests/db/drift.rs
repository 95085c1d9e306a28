//! Manual changes to a migrated database are reported as drift.

use strata::{check_drift, Difference, DifferenceKind, DriftPolicy, Error, Migrator, ObjectKind};

use crate::support::{apply, fresh_db, psql, Scratch, SHOP};

/// Migrates a fresh database, makes one manual change and returns the drift.
async fn drift_after(manual_change: &str) -> Vec<Difference> {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &migrations).await;
    let before = check_drift(&pool, &migrations).await.unwrap();
    assert!(before.is_clean(), "clean before the change: {before}");

    psql(&pool, manual_change).await;
    let report = check_drift(&pool, &migrations).await.unwrap();
    assert!(!report.is_clean(), "`{manual_change}` must be reported");
    report.differences
}

fn only(differences: Vec<Difference>) -> Difference {
    assert_eq!(differences.len(), 1, "{differences:#?}");
    differences.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_dropped_column_is_missing() {
    let d = only(drift_after(r#"ALTER TABLE tenant_kct.customers DROP COLUMN note"#).await);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::Column)
    );
    assert_eq!(d.name, "tenant_kct.customers.note");
    assert_eq!(d.expected.as_deref(), Some("text NULL"));
}

#[tokio::test]
async fn a_changed_column_type_is_reported_with_both_types() {
    let d =
        only(drift_after(r#"ALTER TABLE tenant_kct.customers ALTER COLUMN email TYPE text"#).await);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Column)
    );
    assert_eq!(d.property.as_deref(), Some("type"));
    assert_eq!(d.expected.as_deref(), Some("character varying(255)"));
    assert_eq!(d.actual.as_deref(), Some("text"));
    assert_eq!(
        d.to_string(),
        "changed column tenant_kct.customers.email type: expected character varying(255), found text"
    );
}

#[tokio::test]
async fn a_dropped_not_null_is_reported() {
    let d = only(
        drift_after(r#"ALTER TABLE tenant_shared.stock_level ALTER COLUMN quantity DROP NOT NULL"#)
            .await,
    );
    assert_eq!(d.name, "tenant_shared.stock_level.quantity");
    assert_eq!(d.property.as_deref(), Some("nullability"));
    assert_eq!(d.expected.as_deref(), Some("NOT NULL"));
    assert_eq!(d.actual.as_deref(), Some("NULL"));
}

#[tokio::test]
async fn a_changed_default_is_reported() {
    let d = only(
        drift_after(
            r#"ALTER TABLE tenant_kct.customers ALTER COLUMN display_name SET DEFAULT 'someone'"#,
        )
        .await,
    );
    assert_eq!(d.property.as_deref(), Some("default"));
    assert_eq!(d.expected.as_deref(), Some("'anonymous'"));
}

#[tokio::test]
async fn an_extra_table_in_a_managed_schema_is_unexpected() {
    let d = only(drift_after(r#"CREATE TABLE tenant_kct.scratchpad (id int)"#).await);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Unexpected, ObjectKind::Table)
    );
    assert_eq!(d.name, "tenant_kct.scratchpad");
}

#[tokio::test]
async fn tables_outside_the_managed_schemas_are_not_drift() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &migrations).await;
    psql(&pool, "CREATE TABLE public.someone_elses (id int)").await;
    let report = check_drift(&pool, &migrations).await.unwrap();
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_dropped_unique_constraint_is_missing() {
    let d = only(
        drift_after(r#"ALTER TABLE tenant_kct.customers DROP CONSTRAINT customers_email_key"#)
            .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::Unique)
    );
    assert_eq!(d.expected.as_deref(), Some("customers_email_key (email)"));
}

#[tokio::test]
async fn an_added_column_and_a_dropped_primary_key_are_reported_together() {
    let differences = drift_after(
        r#"ALTER TABLE tenant_shared.stock_level ADD COLUMN bin text;
           ALTER TABLE tenant_shared.stock_level DROP CONSTRAINT stock_level_pkey"#,
    )
    .await;
    let kinds: Vec<(DifferenceKind, ObjectKind)> =
        differences.iter().map(|d| (d.kind, d.object)).collect();
    assert_eq!(
        kinds,
        vec![
            (DifferenceKind::Unexpected, ObjectKind::Column),
            (DifferenceKind::Missing, ObjectKind::PrimaryKey),
        ],
        "{differences:#?}"
    );
}

#[tokio::test]
async fn the_report_serializes_and_the_default_policy_refuses_to_start() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &migrations).await;
    psql(&pool, "DROP TABLE tenant_shared.stock_level").await;

    let error = Migrator::new(&migrations)
        .run(&pool)
        .await
        .expect_err("drift fails the start by default");
    let Error::Drift(report) = &error else {
        panic!("unexpected error: {error}");
    };
    let json = serde_json::to_value(report.as_ref()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"differences": [
            {"kind": "missing", "object": "table", "name": "tenant_shared.stock_level"}
        ]})
    );
    assert!(error
        .to_string()
        .contains("missing table tenant_shared.stock_level"));

    let warned = Migrator::new(&migrations)
        .drift_policy(DriftPolicy::Warn)
        .run(&pool)
        .await
        .unwrap();
    assert_eq!(warned.drift.differences.len(), 1);
}

/// Models with every kind of object drift can find.
const RICH: &str = r#"
#[strata::schema("tenant_kct", table = "customers")]
#[index(columns = ["email", "note"], name = "customers_open_notes", where = "note IS NOT NULL")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    #[column(index, check = "length(note) < 2000")]
    pub note: Option<String>,
}

#[strata::schema("tenant_kct", table = "orders")]
#[check(name = "orders_total_not_negative", expr = "total_cents >= 0")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade")]
    pub customer_id: i64,
    pub total_cents: i64,
}

#[strata::schema("tenant_shared", table = "products", moved_from = "public", compat_view)]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
}
"#;

async fn rich_drift_after(manual_change: &str) -> Vec<Difference> {
    let scratch = Scratch::with_models(RICH);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    let report = apply(&pool, &migrations).await;
    assert!(
        report.drift.is_clean(),
        "clean before the change: {}",
        report.drift
    );
    psql(&pool, manual_change).await;
    check_drift(&pool, &migrations).await.unwrap().differences
}

#[tokio::test]
async fn a_dropped_index_is_missing() {
    let d = only(rich_drift_after("DROP INDEX tenant_kct.customers_note_idx").await);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::Index)
    );
    assert_eq!(d.name, "tenant_kct.customers_note_idx");
}

#[tokio::test]
async fn an_index_over_other_columns_or_predicate_is_changed() {
    let d = only(
        rich_drift_after(
            "DROP INDEX tenant_kct.customers_open_notes;
             CREATE INDEX customers_open_notes ON tenant_kct.customers (note, email) WHERE note IS NOT NULL",
        )
        .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Index)
    );
    assert_eq!(
        d.actual.as_deref(),
        Some("(note, email) where (note IS NOT NULL)")
    );

    let d = only(
        rich_drift_after(
            "DROP INDEX tenant_kct.customers_open_notes;
             CREATE INDEX customers_open_notes ON tenant_kct.customers (email, note)",
        )
        .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Index)
    );
}

#[tokio::test]
async fn an_extra_index_is_unexpected() {
    let d = only(rich_drift_after("CREATE INDEX adhoc ON tenant_kct.orders (total_cents)").await);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Unexpected, ObjectKind::Index)
    );
    assert_eq!(d.name, "tenant_kct.adhoc");
}

#[tokio::test]
async fn a_dropped_or_changed_foreign_key_is_reported() {
    let d = only(
        rich_drift_after("ALTER TABLE tenant_kct.orders DROP CONSTRAINT orders_customer_id_fkey")
            .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::ForeignKey)
    );
    assert_eq!(
        d.expected.as_deref(),
        Some("(customer_id) references tenant_kct.customers (id) on delete cascade")
    );

    let d = only(
        rich_drift_after(
            "ALTER TABLE tenant_kct.orders DROP CONSTRAINT orders_customer_id_fkey;
             ALTER TABLE tenant_kct.orders ADD CONSTRAINT orders_customer_id_fkey
                 FOREIGN KEY (customer_id) REFERENCES tenant_kct.customers (id) ON DELETE RESTRICT",
        )
        .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::ForeignKey)
    );
    assert_eq!(
        d.actual.as_deref(),
        Some("(customer_id) references tenant_kct.customers (id) on delete restrict")
    );
}

#[tokio::test]
async fn a_dropped_or_changed_check_is_reported() {
    let d = only(
        rich_drift_after("ALTER TABLE tenant_kct.orders DROP CONSTRAINT orders_total_not_negative")
            .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::Check)
    );

    let d = only(
        rich_drift_after(
            "ALTER TABLE tenant_kct.customers DROP CONSTRAINT customers_note_check;
             ALTER TABLE tenant_kct.customers ADD CONSTRAINT customers_note_check CHECK (length(note) < 20)",
        )
        .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Check)
    );
    assert_eq!(d.expected.as_deref(), Some("length(note) < 2000"));
}

#[tokio::test]
async fn a_dropped_or_repointed_compat_view_is_reported() {
    let d = only(rich_drift_after("DROP VIEW public.products").await);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::View)
    );
    assert_eq!(d.name, "public.products");

    let d = only(
        rich_drift_after(
            "CREATE TABLE public.elsewhere (id bigint);
             CREATE OR REPLACE VIEW public.products WITH (security_invoker = true) AS SELECT id FROM public.elsewhere",
        )
        .await,
    );
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::View)
    );
    assert_eq!(d.actual.as_deref(), Some("public.elsewhere"));
}

#[tokio::test]
async fn checks_postgresql_rewrites_are_not_drift() {
    let models = r#"
#[strata::schema("tenant_kct", table = "orders")]
#[check(name = "orders_status_known", expr = "status IN ('open', 'paid', 'shipped')")]
#[check(name = "orders_not_void", expr = "status NOT IN ('void')")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(16)")]
    pub status: String,
    #[column(check = "rating BETWEEN 1 AND 5")]
    pub rating: i16,
    #[column(check = "discount NOT BETWEEN 50 AND 100")]
    pub discount: i32,
    pub note: Option<String>,
}
"#;
    let scratch = Scratch::with_models(models);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    let report = apply(&pool, &migrations).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    // A real change to one of them still shows.
    psql(
        &pool,
        "ALTER TABLE tenant_kct.orders DROP CONSTRAINT orders_status_known;
         ALTER TABLE tenant_kct.orders ADD CONSTRAINT orders_status_known CHECK (status IN ('open', 'paid'))",
    )
    .await;
    let d = only(check_drift(&pool, &migrations).await.unwrap().differences);
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Check)
    );
}

/// Mixed-case names sort differently under a linguistic collation than in
/// byte order. The catalog's `name` columns collate as "C" and strata sorts
/// tables itself before matching, so a database whose default collation is
/// linguistic must check clean too; this guards that assumption.
#[tokio::test]
async fn a_database_with_a_linguistic_collation_is_checked_correctly() {
    use strata::sqlx::{self, Connection, PgConnection};
    let models = r#"
#[strata::schema("public", table = "AiAction")]
pub struct AiAction {
    #[column(primary_key, identity)]
    pub id: i64,
    pub action: String,
}

#[strata::schema("public", table = "appointments")]
pub struct Appointment {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = AiAction)]
    pub action_id: Option<i64>,
}

#[strata::schema("public", table = "Zebra")]
pub struct Zebra {
    #[column(primary_key, identity)]
    pub id: i64,
}
"#;
    let scratch = Scratch::with_models(models);
    scratch.build();
    let migrations = scratch.migrations();

    let (db, _pool) = fresh_db().await;
    let name = format!("{}_icu", db.name());
    let mut admin = PgConnection::connect(&strata::testing::server_url().unwrap())
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let url = db.url().replace(db.name(), &name);
    let pool = strata::sqlx::PgPool::connect(&url).await.unwrap();
    let (collation,): (String,) =
        sqlx::query_as("SELECT string_agg(x, ',' ORDER BY x) FROM unnest(ARRAY['appointments', 'AiAction', 'Zebra']) x")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        collation, "AiAction,appointments,Zebra",
        "the database sorts linguistically"
    );
    let report = apply(&pool, &migrations).await;
    assert!(report.drift.is_clean(), "{}", report.drift);
    pool.close().await;
    sqlx::raw_sql(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// The drift check compares a table's columns, keys, indexes and comments
/// as its rows stream in, and frees them; a table with an expression the
/// server has not spelt yet waits for the spelling. Either way it must
/// report exactly what comparing the whole catalog at once reports, in the
/// same order.
#[tokio::test]
async fn comparing_tables_as_they_stream_in_reports_what_the_whole_catalog_does() {
    let scratch = Scratch::with_models(RICH);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;
    assert!(apply(&pool, &migrations).await.drift.is_clean());
    psql(
        &pool,
        "ALTER TABLE tenant_kct.orders ALTER COLUMN total_cents TYPE numeric;
         ALTER TABLE tenant_kct.orders DROP CONSTRAINT orders_customer_id_fkey;
         DROP INDEX tenant_kct.customers_note_idx;
         CREATE INDEX customers_adhoc ON tenant_kct.customers (email) WHERE email <> '';
         ALTER TABLE tenant_kct.customers DROP CONSTRAINT customers_email_key;
         COMMENT ON COLUMN tenant_kct.customers.note IS 'written by hand';
         COMMENT ON TABLE tenant_kct.orders IS 'also by hand';
         ALTER TABLE tenant_shared.products ADD COLUMN extra integer DEFAULT 1;",
    )
    .await;
    let whole = strata::__bench::check_drift_whole(&pool, &migrations)
        .await
        .unwrap();
    // The spellings cached by the clean check: every table compared as it came.
    let streamed = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(streamed, whole);
    // No spellings cached: the tables with expressions wait for them.
    psql(&pool, r#"DELETE FROM "strata"."expressions""#).await;
    let uncached = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(uncached, whole);

    let found: Vec<(DifferenceKind, ObjectKind, &str, Option<&str>)> = whole
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.as_str(), d.property.as_deref()))
        .collect();
    use DifferenceKind::*;
    for planted in [
        (
            Changed,
            ObjectKind::Column,
            "tenant_kct.orders.total_cents",
            Some("type"),
        ),
        (
            Missing,
            ObjectKind::ForeignKey,
            "tenant_kct.orders_customer_id_fkey",
            None,
        ),
        (
            Missing,
            ObjectKind::Index,
            "tenant_kct.customers_note_idx",
            None,
        ),
        (
            Unexpected,
            ObjectKind::Index,
            "tenant_kct.customers_adhoc",
            None,
        ),
        (
            Missing,
            ObjectKind::Unique,
            "tenant_kct.customers_email_key",
            None,
        ),
        (
            Changed,
            ObjectKind::Column,
            "tenant_kct.customers.note",
            Some("comment"),
        ),
        (
            Changed,
            ObjectKind::Table,
            "tenant_kct.orders",
            Some("comment"),
        ),
        (
            Unexpected,
            ObjectKind::Column,
            "tenant_shared.products.extra",
            None,
        ),
        // The type change reaches the check on the column.
        (
            Changed,
            ObjectKind::Check,
            "tenant_kct.orders_total_not_negative",
            None,
        ),
    ] {
        assert!(found.contains(&planted), "{planted:?} in {whole}");
    }
    assert_eq!(found.len(), 9, "{whole}");
}

/// The same on the KCT example, whose `orders` a materialized view reads
/// and an audit trigger watches (held whole by the check, since their
/// definitions are spelt against its columns), beside tables read one at
/// a time.
#[tokio::test]
async fn comparing_kct_as_it_streams_in_reports_what_the_whole_catalog_does() {
    let kct = strata::Migrations::from_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/kct-menswear/migrations"
    ))
    .unwrap();
    let (_db, pool) = fresh_db().await;
    assert!(apply(&pool, &kct).await.drift.is_clean());
    psql(
        &pool,
        "ALTER TABLE tenant_kct.orders ADD COLUMN hand_made integer;
         ALTER TABLE tenant_kct.orders ALTER COLUMN placed_at DROP DEFAULT;
         ALTER TABLE tenant_kct.customers ADD CONSTRAINT adhoc CHECK (id > 0);
         CREATE INDEX adhoc_idx ON tenant_kct.leads (id);",
    )
    .await;
    let whole = strata::__bench::check_drift_whole(&pool, &kct)
        .await
        .unwrap();
    assert_eq!(check_drift(&pool, &kct).await.unwrap(), whole);
    psql(&pool, r#"DELETE FROM "strata"."expressions""#).await;
    assert_eq!(check_drift(&pool, &kct).await.unwrap(), whole);
    let names: Vec<&str> = whole.differences.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "tenant_kct.orders.placed_at",
            "tenant_kct.orders.hand_made",
            "tenant_kct.adhoc_idx",
            "tenant_kct.adhoc"
        ],
        "{whole}"
    );
}
