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
use models::analytics::CustomerSegment;
use models::audit::ChangeLog;
use models::kct::{Customer, Order, OrderItem};
use models::shared::{Product, ProductVariant, Supplier};
use strata::sqlx::{self, postgres::PgPoolOptions, PgPool};
use strata::Model;

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

/// Writes a supplier, a product with a variant, a customer with an order, a
/// segment and an audit entry across the four schemas, and reads them back.
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
        .bind("paid")
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
        .fetch_one(pool)
        .await?;
    sqlx::query_as::<_, CustomerSegment>(CustomerSegment::INSERT)
        .bind(format!("wedding-{run}"))
        .bind("note ILIKE '%wedding%'")
        .bind(1_i32)
        .bind(chrono_now())
        .fetch_one(pool)
        .await?;
    sqlx::query_as::<_, ChangeLog>(ChangeLog::INSERT)
        .bind(Order::QUALIFIED)
        .bind(order.id)
        .bind("insert")
        .bind(sqlx::types::Json(serde_json_value(order.total_cents)))
        .bind(chrono_now())
        .fetch_one(pool)
        .await?;

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
    println!(
        "order {} for {} in {}: {} x {} ({} cents), status {}",
        back.id,
        customer.email,
        Order::QUALIFIED,
        line.quantity,
        product.name,
        back.total_cents,
        back.status
    );
    Ok(())
}

fn chrono_now() -> sqlx::types::chrono::DateTime<sqlx::types::chrono::Utc> {
    sqlx::types::chrono::Utc::now()
}

fn serde_json_value(total_cents: i64) -> sqlx::types::JsonValue {
    let mut map = sqlx::types::JsonValue::Object(Default::default());
    map["total_cents"] = total_cents.into();
    map
}
