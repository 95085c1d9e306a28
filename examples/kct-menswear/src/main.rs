//! KCT Menswear's shop, split into domain schemas: migrated, used through the
//! generated SQL and drift-checked by strata.
//!
//! `cargo run -p kct-menswear` migrates and places an order;
//! `-- replay` replays the shop's move out of `public` with its data;
//! `-- rollback` replays it and rolls it back; `-- serve [--port N]` serves
//! the health endpoint. Each uses `DATABASE_URL`, or a throwaway local
//! PostgreSQL when it is unset.

mod loader;
mod models;
mod replay;
mod serve;

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use models::analytics::{CustomerSegment, DailyRevenue};
use models::audit::ChangeLog;
use models::kct::{Customer, Order, OrderItem, OrderStatus};
use models::shared::{Product, ProductVariant, Supplier};
use strata::sqlx::{self, postgres::PgPoolOptions, PgPool};
use strata::{Model, PgEnum};

static MIGRATIONS: strata::Migrations = strata::embed_migrations!();

const USAGE: &str = "usage: kct-menswear [replay | rollback | serve [--port N]]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("demo");
    if !matches!(command, "demo" | "replay" | "rollback" | "serve") {
        anyhow::bail!("unknown command `{command}`\n{USAGE}");
    }

    // Keep the cluster alive until the end of main; it is removed when dropped.
    let (_cluster, url) = match std::env::var("DATABASE_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            println!("DATABASE_URL is unset: starting a throwaway PostgreSQL");
            let cluster = strata::testing::Cluster::start()?;
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;

    match command {
        "replay" => {
            replay::replay(&pool, &url).await?;
        }
        "rollback" => replay::rollback(&pool, &url).await?,
        "serve" => {
            let port = match args.get(1).map(String::as_str) {
                Some("--port") => args
                    .get(2)
                    .and_then(|p| p.parse().ok())
                    .with_context(|| format!("--port needs a port number\n{USAGE}"))?,
                Some(other) => anyhow::bail!("unknown option `{other}`\n{USAGE}"),
                None => 8080,
            };
            let report = strata::Migrator::new(&MIGRATIONS).run(&pool).await?;
            println!("{} migration(s) applied", report.applied.len());
            tokio::select! {
                served = serve::serve(pool, port) => served?,
                _ = tokio::signal::ctrl_c() => println!("stopped"),
            }
        }
        _ => demo(&pool).await?,
    }
    Ok(())
}

/// Migrates, places an order across the schemas, and checks drift.
async fn demo(pool: &PgPool) -> anyhow::Result<()> {
    let report = strata::Migrator::new(&MIGRATIONS).run(pool).await?;
    for applied in &report.applied {
        println!(
            "applied {:04}_{} in {:?}",
            applied.version, applied.name, applied.duration
        );
    }
    println!(
        "{} migration(s) applied, {} already applied",
        report.applied.len(),
        report.already_applied
    );

    place_an_order(pool).await?;

    let drift = strata::check_drift(pool, &MIGRATIONS).await?;
    println!("drift: {drift}");
    if !drift.is_clean() {
        std::process::exit(1);
    }
    Ok(())
}

/// Writes a supplier, a product with a variant, a customer with an order and
/// a segment across the four schemas, and reads them back: the audit
/// trigger's entry, the refreshed revenue view, a trigram search.
async fn place_an_order(pool: &PgPool) -> anyhow::Result<()> {
    // Unique per run, so that running twice against one DATABASE_URL works.
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();

    let supplier: Supplier = sqlx::query_as(Supplier::INSERT)
        .bind(format!("Ermenegildo Mills {run}"))
        .bind(Some("orders@mills.example"))
        .bind("IT")
        .fetch_one(pool)
        .await?;
    let product: Product = sqlx::query_as(Product::INSERT)
        .bind(format!("SUIT-NAVY-{run}"))
        .bind("Navy wool suit")
        .bind(Some("Two-piece, half-canvassed"))
        .bind(89_900_i64)
        .bind(Some(supplier.id))
        .bind(true)
        .bind(chrono_now())
        .fetch_one(pool)
        .await?;
    let variant: ProductVariant = sqlx::query_as(ProductVariant::INSERT)
        .bind(product.id)
        .bind(format!("SUIT-NAVY-40R-{run}"))
        .bind("40R")
        .bind("navy")
        .bind(89_900_i64)
        .bind(12_i32)
        .fetch_one(pool)
        .await?;
    let customer: Customer = sqlx::query_as(Customer::INSERT)
        .bind(format!("groom.{run}@example.com"))
        .bind("Sam Carter")
        .bind(None::<String>)
        .bind(Some("Wedding in June"))
        .bind(chrono_now())
        .fetch_one(pool)
        .await?;
    let order: Order = sqlx::query_as(Order::INSERT)
        .bind(customer.id)
        .bind(OrderStatus::Paid)
        .bind(variant.price_cents)
        .bind(chrono_now())
        .fetch_one(pool)
        .await?;
    let item: OrderItem = sqlx::query_as(OrderItem::INSERT)
        .bind(order.id)
        .bind(1_i32)
        .bind(product.id)
        .bind(Some(variant.id))
        .bind(1_i32)
        .bind(variant.price_cents)
        .bind(None::<i64>)
        .fetch_one(pool)
        .await?;
    sqlx::query_as::<_, CustomerSegment>(CustomerSegment::INSERT)
        .bind(format!("wedding-{run}"))
        .bind("note ILIKE '%wedding%'")
        .bind(1_i32)
        .bind(chrono_now())
        .fetch_one(pool)
        .await?;
    // The audit trigger logged the order as it was written.
    let logged: Vec<ChangeLog> = sqlx::query_as(&format!(
        "{} WHERE entity = $1 AND entity_id = $2",
        ChangeLog::SELECT
    ))
    .bind(format!("{}.{}", Order::SCHEMA, Order::TABLE))
    .bind(order.id)
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(
        logged.len() == 1 && logged[0].action == "insert",
        "the audit trigger logs the new order: {logged:?}"
    );
    anyhow::ensure!(logged[0].changes["total_cents"] == order.total_cents);

    let back: Order = sqlx::query_as(Order::SELECT_BY_PK)
        .bind(order.id)
        .fetch_one(pool)
        .await?;
    let line: OrderItem = sqlx::query_as(OrderItem::SELECT_BY_PK)
        .bind(item.order_id)
        .bind(item.line)
        .fetch_one(pool)
        .await?;
    anyhow::ensure!(back.customer_id == customer.id && line.variant_id == Some(variant.id));
    anyhow::ensure!(back.status == OrderStatus::Paid);

    // The revenue view, refreshed concurrently, counts the new order.
    DailyRevenue::refresh(pool).await?;
    let today: DailyRevenue =
        sqlx::query_as(&format!("{} WHERE day = $1::date", DailyRevenue::SELECT))
            .bind(back.placed_at)
            .fetch_one(pool)
            .await?;
    anyhow::ensure!(today.revenue_cents >= back.total_cents);
    // The trigram index finds a product by a misspelt fragment of its name.
    let (found,): (String,) = sqlx::query_as(
        "SELECT name FROM tenant_shared.products WHERE name % $1 ORDER BY similarity(name, $1) DESC LIMIT 1",
    )
    .bind("navy wol suit")
    .fetch_one(pool)
    .await?;
    println!(
        "order {} for {} in {}: {} x {} ({} cents), status {}",
        back.id,
        customer.email,
        Order::QUALIFIED,
        line.quantity,
        product.name,
        back.total_cents,
        back.status.as_str()
    );
    println!(
        "revenue on {}: {} orders, {} cents; audit log: {} entry for the order; search \"navy wol suit\": {found}",
        today.day,
        today.orders,
        today.revenue_cents,
        logged.len()
    );
    Ok(())
}

fn chrono_now() -> sqlx::types::chrono::DateTime<sqlx::types::chrono::Utc> {
    sqlx::types::chrono::Utc::now()
}
