//! The legacy→current schema-parity job, which its team did with a Python
//! comparator and eight hand-staged SQL files and finished at 153 of 155
//! constraints: strata brings the current database to parity with the
//! legacy one in stages, keeping every row, then adopts the legacy
//! database (models pulled from it, migration 1 recorded as applied).
//!
//! `cargo run -p legacy-parity` uses `DATABASE_URL`'s server, or a
//! throwaway PostgreSQL; it ends with `parity: clean`.

use anyhow::{bail, Context};
use strata::sqlx::{self, PgPool};
use strata::{Migrations, Migrator};
use strata_tools::{DatabaseDiff, StageOutcome};

const LEGACY: &str = include_str!("../sql/legacy.sql");
const CURRENT: &str = include_str!("../sql/current.sql");

/// The tables that hold rows in the current database, and a query that
/// fingerprints them by the columns both sides had from the start.
const KEPT: &[(&str, &str)] = &[
    ("catalog.products", "SELECT string_agg(id || ':' || sku || ':' || name, ',' ORDER BY id) FROM catalog.products"),
    ("catalog.product_variants", "SELECT string_agg(id || ':' || size || ':' || stock, ',' ORDER BY id) FROM catalog.product_variants"),
    ("accounts.profiles", "SELECT string_agg(id || ':' || email, ',' ORDER BY id) FROM accounts.profiles"),
    ("accounts.user_roles", "SELECT string_agg(id || ':' || role::text, ',' ORDER BY id) FROM accounts.user_roles"),
    ("accounts.wishlist_items", "SELECT string_agg(profile_id || ':' || product_id, ',' ORDER BY id) FROM accounts.wishlist_items"),
    ("commerce.orders", "SELECT string_agg(id || ':' || total_cents, ',' ORDER BY id) FROM commerce.orders"),
    ("commerce.order_items", "SELECT string_agg(id || ':' || unit_cents, ',' ORDER BY id) FROM commerce.order_items"),
    ("commerce.payments", "SELECT string_agg(id || ':' || amount_cents, ',' ORDER BY id) FROM commerce.payments"),
];

async fn fingerprints(pool: &PgPool) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (table, query) in KEPT {
        let rows: Option<String> = sqlx::query_scalar(query).fetch_one(pool).await?;
        out.push((table.to_string(), rows.unwrap_or_default()));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("DATABASE_URL").is_none() {
        println!("DATABASE_URL is unset: starting a throwaway PostgreSQL");
    }
    let current = strata::testing::database().await?;
    let legacy = strata::testing::database().await?;
    let (current_pool, legacy_pool) = (current.pool().await?, legacy.pool().await?);
    sqlx::raw_sql(LEGACY)
        .execute(&legacy_pool)
        .await
        .context("making the legacy database")?;
    sqlx::raw_sql(CURRENT)
        .execute(&current_pool)
        .await
        .context("making the current database")?;

    let legacy_state = strata::read_database(&legacy_pool, None).await?;
    let count = |f: &dyn Fn(&strata_build::manifest::Table) -> usize| -> usize {
        legacy_state.tables.iter().map(f).sum()
    };
    println!(
        "legacy: {} schemas, {} tables, {} views, {} sequences, {} functions, {} triggers, {} indexes, {} constraints",
        legacy_state.schemas.len(),
        legacy_state.tables.len(),
        legacy_state.views.len(),
        legacy_state.sequences.len(),
        legacy_state.routines.len(),
        legacy_state.triggers.len(),
        count(&|t| t.indexes.len()),
        count(&|t| t.primary_key.iter().count() + t.uniques.len() + t.foreign_keys.len() + t.checks.len()),
    );
    let before = fingerprints(&current_pool).await?;

    // What the diff would change that can lose data is shown, then confirmed.
    let plan = match DatabaseDiff::plan(&current_pool, &legacy_pool, None, false).await {
        Ok(plan) => plan,
        Err(strata_tools::Error::DiffRefused(refused)) => {
            println!("confirmed by the operator, as `strata diff --unsafe` does:");
            for step in &refused.unconfirmed {
                println!("  - {step}");
            }
            DatabaseDiff::plan(&current_pool, &legacy_pool, None, true).await?
        }
        Err(other) => return Err(other.into()),
    };
    let outcomes = plan.apply(&current_pool).await?;
    println!(
        "\n{:<6} {:<52} {:>7} {:>8} {:>7}",
        "stage", "", "objects", "applied", "failed"
    );
    for (stage, outcome) in plan.stages.iter().zip(&outcomes) {
        let (applied, failed) = match outcome {
            StageOutcome::Applied => (stage.changes, 0),
            StageOutcome::Failed { .. } => (0, stage.changes),
            StageOutcome::NotRun => (0, 0),
        };
        println!(
            "{:<6} {:<52} {:>7} {:>8} {:>7}",
            stage.number, stage.title, stage.changes, applied, failed
        );
        if let StageOutcome::Failed { error } = outcome {
            println!("       {error}");
        }
    }
    let total: usize = plan.stages.iter().map(|s| s.changes).sum();
    println!("{:<59} {total:>7}\n", "total");

    let after = fingerprints(&current_pool).await?;
    for ((table, was), (_, now)) in before.iter().zip(&after) {
        if was != now {
            bail!("{table} lost or changed rows: {was} became {now}");
        }
    }
    println!(
        "every row kept: {} tables compared before and after",
        KEPT.len()
    );

    // Adopt the legacy database: models pulled, built, migration 1 recorded.
    let krate = tempfile::tempdir()?;
    let pulled = strata_tools::pull::write(&legacy_state, krate.path())?;
    println!(
        "pulled the legacy database into {} files ({} not expressible in models)",
        pulled.files.len(),
        pulled.not_expressed.len()
    );
    for object in &pulled.not_expressed {
        println!("  - {object}");
    }
    pulled.build.builder(krate.path()).frozen(false).run()?;
    let migrations = Migrations::from_dir(krate.path().join("migrations"))?;
    let baseline = Migrator::new(&migrations).baseline(&legacy_pool).await?;
    println!(
        "baseline: migration {} recorded as applied on the legacy database, drift {}",
        baseline.recorded.last().map_or(0, |m| m.version),
        baseline.drift
    );
    let start = Migrator::new(&migrations).run(&legacy_pool).await?;
    println!(
        "start-up on the adopted database: {} applied, drift {}",
        start.applied.len(),
        start.drift
    );

    let remaining = plan.remaining(&current_pool, &legacy_pool).await?;
    if !remaining.is_empty() {
        for line in &remaining {
            println!("  - {line}");
        }
        bail!("{} difference(s) remain", remaining.len());
    }
    println!("parity: clean");
    Ok(())
}
