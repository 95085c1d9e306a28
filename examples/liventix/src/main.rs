//! Liventix, an events platform, moved from one `public` schema into eleven
//! domain schemas by strata: tables moved and renamed with their rows,
//! compat views under the old names, row-level security on the
//! organisation's data, grants to the application's role, and the
//! analytics table turned into monthly partitions with its 206,610 rows.
//!
//! `cargo run -p liventix` starts from the single-schema version with its
//! data, migrates, verifies every row, shows two organisations isolated
//! from each other as `liventix_app`, and checks drift. It uses
//! `DATABASE_URL` (an empty database, reached as a superuser or a role with
//! BYPASSRLS that may `SET ROLE liventix_app`), or a throwaway local
//! PostgreSQL when it is unset.

mod loader;
// The models are the schema; the demo reads only a few of their fields.
#[allow(dead_code)]
mod models;
mod tables;

use anyhow::{bail, ensure, Context};
use strata::sqlx::{self, postgres::PgPoolOptions, Connection, PgPool};
use strata::{Migrator, Model};

use models::ticketing::{Order, Ticket};

static MIGRATIONS: strata::Migrations = strata::embed_migrations!();

/// The version of the single `public` schema.
const MONOLITH: u32 = 1;
const SEED: f64 = 0.2026;
const APP: &str = "liventix_app";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&pool)
    .await?;
    if tables > 0 {
        bail!("the demo needs an empty database; point DATABASE_URL at a new one, or unset it for a throwaway server");
    }

    // The platform as it was: one schema.
    let start = Migrator::new(&MIGRATIONS)
        .target(MONOLITH)
        .run(&pool)
        .await?;
    ensure!(
        start.drift.is_clean(),
        "drift before the move: {}",
        start.drift
    );
    let mut conn = pool.acquire().await?;
    loader::load(&mut conn, SEED).await?;
    drop(conn);
    for (table, rows) in loader::REPORTED {
        let (count,) = census(&pool, "public", table).await?;
        ensure!(
            count == *rows,
            "public.{table} holds {count} rows, not the report's {rows}"
        );
    }
    let mut before = Vec::new();
    for (old, _, _) in tables::TABLES {
        before.push(fingerprint(&pool, "public", old).await?);
    }
    let rows: i64 = before.iter().map(|(n, _)| n).sum();
    println!(
        "version {MONOLITH}: {} tables in public, {rows} rows (seed {SEED})",
        tables::TABLES.len()
    );

    // The move into the domains.
    let report = Migrator::new(&MIGRATIONS).run(&pool).await?;
    for applied in &report.applied {
        println!(
            "applied {:04}_{} in {:?}",
            applied.version, applied.name, applied.duration
        );
    }
    println!(
        "{} partitions made ahead at start-up",
        report.partitions_made.len()
    );

    // Every row of every table, at its new place.
    let mut lost = 0;
    for ((old, schema, table), was) in tables::TABLES.iter().zip(&before) {
        let now = fingerprint(&pool, schema, table).await?;
        if now != *was {
            println!("public.{old} -> {schema}.{table}: {} rows before, {} after, or their contents differ", was.0, now.0);
            lost += 1;
        }
    }
    ensure!(lost == 0, "{lost} tables lost or changed rows in the move");
    println!();
    println!(
        "{:<20} {:<30} {:>8} {:>8}",
        "before", "after", "rows", "after"
    );
    for (table, rows) in loader::REPORTED {
        let (_, schema, now) = tables::TABLES
            .iter()
            .find(|(old, _, _)| old == table)
            .context("a reported table is in the list")?;
        let (count,) = census(&pool, schema, now).await?;
        println!(
            "{:<20} {:<30} {rows:>8} {count:>8}",
            format!("public.{table}"),
            format!("{schema}.{now}")
        );
    }
    println!(
        "every row of all {} tables kept, checksummed",
        tables::TABLES.len()
    );
    let (partitions,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_catalog.pg_inherits WHERE inhparent = 'analytics.events'::regclass",
    )
    .fetch_one(&pool)
    .await?;
    ensure!(
        partitions == loader::ANALYTICS_MONTHS + 3,
        "analytics.events has {partitions} partitions"
    );
    println!(
        "analytics.events: {partitions} monthly partitions ({} with rows, 3 ahead)",
        loader::ANALYTICS_MONTHS
    );
    println!();

    // Two organisations, each seeing only its own rows.
    for (org, other) in [(1_i64, 2_i64), (2, 1)] {
        isolated(&pool, org, other).await?;
    }

    let drift = strata::check_drift(&pool, &MIGRATIONS).await?;
    println!("drift: {drift}");
    if !drift.is_clean() {
        std::process::exit(1);
    }
    Ok(())
}

/// `(count)` of `schema.table`'s rows, every one of them: read with row
/// security off, which is an error (not fewer rows) for a role it binds.
async fn census(pool: &PgPool, schema: &str, table: &str) -> anyhow::Result<(i64,)> {
    let (count, _) = fingerprint(pool, schema, table).await?;
    Ok((count,))
}

/// Row count and an order-free checksum of every row of `schema.table`.
async fn fingerprint(pool: &PgPool, schema: &str, table: &str) -> anyhow::Result<(i64, i64)> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::raw_sql("SET LOCAL row_security = off")
        .execute(&mut *tx)
        .await?;
    let print: (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), coalesce(sum(hashtext(t::text)::bigint), 0)::bigint FROM {} t",
        strata::qualified(schema, table)
    ))
    .fetch_one(&mut *tx)
    .await
    .with_context(|| format!("reading every row of {schema}.{table}"))?;
    tx.commit().await?;
    Ok(print)
}

/// As `liventix_app`, acting for `org` and its member: the tickets and
/// orders it sees, directly and through the compat views, are exactly its
/// organisation's; writing a ticket for `other` is refused.
async fn isolated(pool: &PgPool, org: i64, other: i64) -> anyhow::Result<()> {
    let (tickets, orders): (i64, i64) = {
        let mut conn = pool.acquire().await?;
        let mut tx = conn.begin().await?;
        sqlx::raw_sql("SET LOCAL row_security = off")
            .execute(&mut *tx)
            .await?;
        let counts = sqlx::query_as(&format!(
            "SELECT (SELECT count(*) FROM {} WHERE org_id = $1), (SELECT count(*) FROM {} WHERE org_id = $1)",
            Ticket::QUALIFIED,
            Order::QUALIFIED
        ))
        .bind(org)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        counts
    };

    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    acting_for(&mut tx, org).await?;
    let seen: (i64, i64, i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT (SELECT count(*) FROM {tickets}), (SELECT count(*) FROM public.tickets),
                (SELECT count(*) FROM {orders}), (SELECT count(*) FROM public.orders),
                (SELECT count(*) FROM {tickets} WHERE org_id <> $1)
                  + (SELECT count(*) FROM {orders} WHERE org_id <> $1)",
        tickets = Ticket::QUALIFIED,
        orders = Order::QUALIFIED
    ))
    .bind(org)
    .fetch_one(&mut *tx)
    .await?;
    tx.rollback().await?;
    ensure!(
        seen == (tickets, tickets, orders, orders, 0),
        "organisation {org} sees (tickets, through public.tickets, orders, through public.orders, others' rows) = {seen:?}, not ({tickets}, {tickets}, {orders}, {orders}, 0)"
    );

    // A ticket written for the other organisation is refused, directly and
    // through the compat view.
    let mut refusals = Vec::new();
    for table in [Ticket::QUALIFIED, "public.tickets"] {
        let mut tx = conn.begin().await?;
        acting_for(&mut tx, org).await?;
        let written = sqlx::query(&format!(
            "INSERT INTO {table} (org_id, event_id, tier_id, code)
             SELECT $1, event_id, id, 'FORGED-' || $1 || '-' || $2 FROM {} WHERE org_id = $2 LIMIT 1",
            "ticketing.ticket_tiers"
        ))
        .bind(other)
        .bind(org)
        .execute(&mut *tx)
        .await;
        tx.rollback().await?;
        match written {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                refusals.push(e.message().to_owned());
            }
            Err(e) => return Err(e).context("writing a ticket for another organisation"),
            Ok(done) => bail!(
                "a ticket for organisation {other} was written while acting for {org} ({} rows)",
                done.rows_affected()
            ),
        }
    }
    println!(
        "as {APP} for organisation {org}: {tickets} tickets and {orders} orders, the same through public.tickets and public.orders, none of another organisation; a ticket for organisation {other} refused ({})",
        refusals.first().map(String::as_str).unwrap_or_default()
    );
    Ok(())
}

/// Acts as `liventix_app` for `org` and its member for the rest of `tx`.
async fn acting_for(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    org: i64,
) -> anyhow::Result<()> {
    sqlx::raw_sql(&format!("SET LOCAL ROLE {APP}"))
        .execute(&mut **tx)
        .await?;
    strata::rls::set_local(tx, "app.org_id", &org.to_string()).await?;
    // The members are the organisations' owners: person 1 of organisation
    // 1, person 2 of organisation 2.
    strata::rls::set_local(tx, "app.user_id", &org.to_string()).await?;
    Ok(())
}
