//! The replay of KCT Menswear's split: the single-schema shop with its data,
//! the move into domain schemas, and the proof that nothing was lost.

use anyhow::{bail, ensure, Context};
use strata::sqlx::{self, Connection, PgConnection, PgPool};
use strata::{Migrator, Model};

use crate::loader;
use crate::models::{analytics::*, kct::*, public::*, shared::*};
use crate::MIGRATIONS;

/// The version of the single-schema shop.
const SINGLE_SCHEMA: u32 = 1;
/// The version the move out of `public` ends at; after it come changes to
/// the populated tables, applied while orders keep coming in.
const MOVED: u32 = 4;
const SEED: u64 = 0x4B43_5420_4D45_4E53;

/// Every table of the shop: where it lives now, by its model.
fn entities() -> Vec<(&'static str, &'static str)> {
    macro_rules! of {
        ($($model:ty),* $(,)?) => { vec![$((<$model>::SCHEMA, <$model>::TABLE)),*] };
    }
    of![
        Product,
        ProductVariant,
        ProductImage,
        ProductReview,
        Supplier,
        PurchaseOrder,
        PurchaseOrderItem,
        InventoryLog,
        StockAlert,
        Collection,
        ProductCollection,
        ColorPalette,
        EventProfile,
        Customer,
        Order,
        OrderItem,
        Appointment,
        Lead,
        Measurement,
        CustomerProfile,
        PurchaseHistory,
        SavedOutfit,
        OutfitTemplate,
        OutfitComponent,
        CustomerSegment,
        User,
        AiAction,
    ]
}

/// Row count and a checksum of every row of `schema.table`.
async fn fingerprint(pool: &PgPool, schema: &str, table: &str) -> anyhow::Result<(i64, String)> {
    let sql = format!(
        "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {} t",
        strata::qualified(schema, table)
    );
    sqlx::query_as(&sql)
        .fetch_one(pool)
        .await
        .with_context(|| format!("reading {schema}.{table}"))
}

/// The fingerprints of every table, at its place before the move (`public`) or after it.
async fn snapshot(pool: &PgPool, moved: bool) -> anyhow::Result<Vec<(i64, String)>> {
    let mut prints = Vec::new();
    for (schema, table) in entities() {
        let schema = if moved { schema } else { "public" };
        prints.push(fingerprint(pool, schema, table).await?);
    }
    Ok(prints)
}

/// Migrates to the single-schema shop, loads it, moves it, and verifies.
/// Returns the fingerprints taken before the move.
pub async fn replay(pool: &PgPool, url: &str) -> anyhow::Result<Vec<(i64, String)>> {
    let applied: Option<(i64,)> = sqlx::query_as(
        r#"SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"#,
    )
    .fetch_optional(pool)
    .await?;
    if applied.is_some_and(|(n,)| n > 0) {
        bail!("the replay needs an empty database; point DATABASE_URL at a new one, or unset it for a throwaway server");
    }

    let start = Migrator::new(&MIGRATIONS)
        .target(SINGLE_SCHEMA)
        .run(pool)
        .await?;
    println!(
        "migrated to version {SINGLE_SCHEMA}, the single-schema shop: {} tables in public",
        entities().len()
    );
    ensure!(
        start.drift.is_clean(),
        "drift before the move: {}",
        start.drift
    );

    let loaded = loader::load(pool, SEED).await?;
    let rows: usize = loaded.iter().map(|(_, n)| n).sum();
    println!(
        "loaded {rows} rows into {} tables (seed {SEED:#x})",
        loaded.len()
    );
    let before = snapshot(pool, false).await?;

    let report = Migrator::new(&MIGRATIONS).target(MOVED).run(pool).await?;
    for applied in &report.applied {
        println!(
            "applied {:04}_{} in {:?}",
            applied.version, applied.name, applied.duration
        );
    }
    let after = snapshot(pool, true).await?;

    println!();
    println!("{:<36} {:>8} {:>8}  status", "entity", "before", "after");
    let mut mismatches = 0;
    for (((schema, table), b), a) in entities().into_iter().zip(&before).zip(&after) {
        let same = a == b;
        mismatches += usize::from(!same);
        println!(
            "{:<36} {:>8} {:>8}  {}",
            format!("{schema}.{table}"),
            b.0,
            a.0,
            if same { "ok" } else { "MISMATCH" }
        );
    }
    ensure!(
        mismatches == 0,
        "{mismatches} tables changed during the move"
    );
    let count = |schema: &str, table: &str| {
        entities()
            .iter()
            .position(|e| *e == (schema, table))
            .map(|i| after[i].0)
    };
    for (schema, table, expected) in [
        (Product::SCHEMA, Product::TABLE, loader::PRODUCTS),
        (
            ProductVariant::SCHEMA,
            ProductVariant::TABLE,
            loader::VARIANTS,
        ),
        (Customer::SCHEMA, Customer::TABLE, loader::CUSTOMERS),
        (
            CustomerSegment::SCHEMA,
            CustomerSegment::TABLE,
            loader::SEGMENTS,
        ),
    ] {
        ensure!(
            count(schema, table) == Some(expected as i64),
            "{schema}.{table} holds {:?} rows, expected {expected}",
            count(schema, table)
        );
    }

    verify_layout(pool).await?;
    verify_joins(pool, url).await?;
    verify_revenue(pool).await?;
    next_migrations_while_orders_come_in(pool, url).await?;

    let drift = strata::check_drift(pool, &MIGRATIONS).await?;
    println!("\ndrift: {drift}");
    ensure!(drift.is_clean(), "the database drifted from the models");
    Ok(before)
}

/// The migrations after the move, which change the populated tables (an
/// index on `orders.status`, a foreign key on `order_items`, `NOT NULL` on
/// `appointments.stylist` after a backfill), applied while a writer places
/// an order in a loop, each in its own transaction. Prints the writer's
/// longest wait between two commits, checks that every order it placed is
/// there, and takes them out again, so that the shop's rows are as the
/// loader made them.
async fn next_migrations_while_orders_come_in(pool: &PgPool, url: &str) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let (last_before,): (i64,) =
        sqlx::query_as("SELECT coalesce(max(id), 0) FROM tenant_kct.orders")
            .fetch_one(pool)
            .await?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = PgConnection::connect(url).await?;
    let writing = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let (mut placed, mut longest) = (0u64, Duration::ZERO);
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                sqlx::query(
                    "INSERT INTO tenant_kct.orders (customer_id, status, total_cents) VALUES (1, 'pending', 100)",
                )
                .execute(&mut writer)
                .await?;
                placed += 1;
                longest = longest.max(last.elapsed());
                last = Instant::now();
            }
            anyhow::Ok((placed, longest))
        })
    };
    // The writer is placing orders before the first statement runs.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let report = Migrator::new(&MIGRATIONS).run(pool).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    let (placed, longest) = writing.await??;

    println!(
        "
the next migrations, on the populated tables, while orders come in"
    );
    for applied in &report.applied {
        println!(
            "applied {:04}_{} in {:?}",
            applied.version, applied.name, applied.duration
        );
    }
    ensure!(
        report.applied.len() == 3,
        "expected the backfill and the two migrations the build split, applied {}",
        report.applied.len()
    );
    let (kept,): (i64,) = sqlx::query_as("SELECT count(*) FROM tenant_kct.orders WHERE id > $1")
        .bind(last_before)
        .fetch_one(pool)
        .await?;
    println!(
        "writer: {placed} orders placed meanwhile, all kept: {}; longest wait between two commits: {:.1} ms",
        kept == placed as i64,
        longest.as_secs_f64() * 1e3
    );
    ensure!(kept == placed as i64, "{placed} orders placed, {kept} kept");
    sqlx::query("DELETE FROM tenant_kct.orders WHERE id > $1")
        .bind(last_before)
        .execute(pool)
        .await?;
    Ok(())
}

/// Foreign keys per schema pair and tables per schema, as the shop's report had them.
async fn verify_layout(pool: &PgPool) -> anyhow::Result<()> {
    // Returns the referencing and the referenced schema of every foreign key, counted.
    let keys: Vec<(String, String, i64)> = sqlx::query_as(
        r#"SELECT n.nspname::text, fn.nspname::text, count(*)
           FROM pg_catalog.pg_constraint con
           JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
           JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
           WHERE con.contype = 'f' AND n.nspname <> 'strata'
           GROUP BY 1, 2 ORDER BY 1, 2"#,
    )
    .fetch_all(pool)
    .await?;
    println!("\nforeign keys by schema pair");
    for (from, to, n) in &keys {
        println!("  {from:<14} -> {to:<14} {n:>3}");
    }
    let total: i64 = keys.iter().map(|(_, _, n)| n).sum();
    println!("  {:<32} {total:>3}", "total");
    ensure!(total == 23, "expected 23 foreign keys, found {total}");

    // Returns the number of tables in each of the shop's schemas.
    let tables: Vec<(String, i64)> = sqlx::query_as(
        r#"SELECT s.name, count(c.oid)
           FROM unnest(ARRAY['tenant_shared', 'tenant_kct', 'analytics', 'audit', 'public', 'cache']) WITH ORDINALITY AS s(name, ord)
           LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.name
           LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
           GROUP BY s.name, s.ord ORDER BY s.ord"#,
    )
    .fetch_all(pool)
    .await?;
    println!("\ntables per schema");
    for (schema, n) in &tables {
        println!("  {schema:<14} {n:>3}");
    }
    let counts: Vec<i64> = tables.iter().map(|(_, n)| *n).collect();
    ensure!(
        counts == [13, 11, 1, 1, 2, 0],
        "tables per schema: {counts:?}"
    );
    Ok(())
}

/// Joins across the new schemas, and an old unqualified query on a new session.
async fn verify_joins(pool: &PgPool, url: &str) -> anyhow::Result<()> {
    println!("\ncross-schema joins");
    let (products, variants): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT p.id), count(v.id)
         FROM tenant_shared.products p JOIN tenant_shared.product_variants v ON v.product_id = p.id",
    )
    .fetch_one(pool)
    .await?;
    println!("  products with their variants      {products:>6} products, {variants:>6} variants");
    let (customers, orders): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT c.id), count(o.id)
         FROM tenant_kct.customers c JOIN tenant_kct.orders o ON o.customer_id = c.id",
    )
    .fetch_one(pool)
    .await?;
    println!("  customers with their orders       {customers:>6} customers, {orders:>6} orders");
    let (lines, revenue): (i64, i64) = sqlx::query_as(
        "SELECT count(*), sum(i.quantity * i.unit_price_cents)::bigint
         FROM tenant_kct.order_items i
         JOIN tenant_shared.products p ON p.id = i.product_id
         JOIN tenant_shared.product_variants v ON v.id = i.variant_id AND v.product_id = p.id",
    )
    .fetch_one(pool)
    .await?;
    println!("  order items with their products   {lines:>6} lines, {revenue} cents");
    ensure!(products == loader::PRODUCTS as i64 && variants == loader::VARIANTS as i64);

    // The database's search_path applies to new sessions: an old query, unqualified.
    let mut legacy = PgConnection::connect(url).await?;
    let (legacy_count,): (i64,) = sqlx::query_as("SELECT count(*) FROM products")
        .fetch_one(&mut legacy)
        .await
        .context("an unqualified legacy query after the move")?;
    println!("  legacy `SELECT count(*) FROM products` on a new session: {legacy_count}");
    ensure!(legacy_count == loader::PRODUCTS as i64);
    legacy.close().await?;
    Ok(())
}

/// The materialized revenue view, refreshed over the moved orders, agrees
/// with the orders themselves.
async fn verify_revenue(pool: &PgPool) -> anyhow::Result<()> {
    DailyRevenue::refresh(pool).await?;
    let (days, orders, cents): (i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), sum(orders)::bigint, sum(revenue_cents)::bigint FROM ({}) r",
        DailyRevenue::SELECT
    ))
    .fetch_one(pool)
    .await?;
    let (kept, kept_cents): (i64, i64) = sqlx::query_as(
        "SELECT count(*), sum(total_cents)::bigint FROM tenant_kct.orders WHERE status <> 'returned'",
    )
    .fetch_one(pool)
    .await?;
    println!(
        "
revenue view, refreshed: {days} days, {orders} orders, {cents} cents"
    );
    ensure!(
        (orders, cents) == (kept, kept_cents),
        "the revenue view says {orders} orders and {cents} cents, the orders {kept} and {kept_cents}"
    );
    Ok(())
}

/// The replay, then the rollback plan carried out: every table back in
/// `public` with every row, and no drift against the single-schema version.
pub async fn rollback(pool: &PgPool, url: &str) -> anyhow::Result<()> {
    let before = replay(pool, url).await?;
    println!("\nrolling back to version {SINGLE_SCHEMA}");
    // Version 2 also created audit.change_log: undoing it drops that table
    // and its rows; version 4 made orders.status an enum, and going back to
    // varchar(24) is a narrowing strata cannot prove safe (every label fits:
    // the longest is 9 characters); version 6 added
    // order_items.outfit_template_id, which going back drops. strata
    // refuses until the plan confirms all three by name.
    let refused = Migrator::new(&MIGRATIONS)
        .rollback_to(pool, SINGLE_SCHEMA)
        .await;
    match refused {
        Err(strata::Error::UnconfirmedRollback { steps }) => {
            for step in &steps {
                println!("needs confirming: {step}");
            }
        }
        other => anyhow::bail!("an unconfirmed lossy rollback must be refused, got {other:?}"),
    }
    let report = Migrator::new(&MIGRATIONS)
        .confirm("audit.change_log")
        .confirm("tenant_kct.orders.status")
        .confirm("tenant_kct.order_items.outfit_template_id")
        .rollback_to(pool, SINGLE_SCHEMA)
        .await?;
    for reverted in &report.reverted {
        println!(
            "reverted {:04}_{} in {:?}",
            reverted.version, reverted.name, reverted.duration
        );
    }
    let back = snapshot(pool, false).await?;
    println!("\n{:<36} {:>8} {:>8}  status", "entity", "before", "back");
    let mut mismatches = 0;
    for (((_, table), b), a) in entities().into_iter().zip(&before).zip(&back) {
        let same = a == b;
        mismatches += usize::from(!same);
        println!(
            "{:<36} {:>8} {:>8}  {}",
            format!("public.{table}"),
            b.0,
            a.0,
            if same { "ok" } else { "MISMATCH" }
        );
    }
    ensure!(
        mismatches == 0,
        "{mismatches} tables changed during the rollback"
    );
    let (elsewhere,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname IN ('tenant_shared', 'tenant_kct', 'analytics', 'audit', 'cache')",
    )
    .fetch_one(pool)
    .await?;
    ensure!(
        elsewhere == 0,
        "{elsewhere} tables are still outside public"
    );
    println!("\nevery table is back in public");
    println!("drift against version {SINGLE_SCHEMA}: {}", report.drift);
    Ok(())
}
