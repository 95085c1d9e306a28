//! Adopting a database strata did not create: its migrations are recorded
//! as applied, without running them, once the catalog is proven to match.

use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};

use crate::drift::{compare, DriftReport};
use crate::error::db;
use crate::migrations::Migration;
use crate::migrator::expected_state;
use crate::session::{connect, query_as};
use crate::tracking::{self, Recorded, SELECT_APPLIED};
use crate::{introspect, Error, MigrationStatus, Migrator};
use strata_manifest::Manifest;

/// What a baseline recorded.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BaselineReport {
    /// The scope in `strata.migrations`.
    pub scope: String,
    /// The migrations recorded as applied, oldest first.
    pub recorded: Vec<MigrationStatus>,
    /// The drift check that allowed it: clean.
    pub drift: DriftReport,
}

/// What a tenant baseline recorded.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TenantBaselineReport {
    /// The tenant schemas, each now at the newest tenant migration (or the target).
    pub tenants: Vec<String>,
    /// The tenant migrations recorded for each, oldest first.
    pub recorded: Vec<MigrationStatus>,
    /// The registry rows whose id names no schema: left out.
    pub invalid: Vec<crate::InvalidTenant>,
}

const CONTEXT: &str = "recording the baseline";

/// The migrations up to `target` (all without one), the last of them, and
/// the state after it: what a baseline records and checks against.
fn up_to<'a>(
    manifest: &Manifest,
    all: &'a [Migration<'a>],
    target: Option<u32>,
) -> (Vec<&'a Migration<'a>>, u32, strata_manifest::SchemaState) {
    let target = target.unwrap_or(u32::MAX);
    let chosen: Vec<_> = all.iter().filter(|m| m.version <= target).collect();
    let version = chosen.last().map_or(0, |m| m.version);
    let expected = expected_state(manifest, Some(version));
    (chosen, version, expected)
}

fn statuses(chosen: &[&Migration<'_>]) -> Vec<MigrationStatus> {
    chosen
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            name: m.name.to_owned(),
        })
        .collect()
}

/// A connection of its own with the tracking table made.
async fn tracked_connection(pool: &PgPool) -> Result<PgConnection, Error> {
    let mut conn = connect(pool).await?;
    tracking::ensure(&mut conn).await?;
    Ok(conn)
}

/// Locks `scope` and refuses it when it has migrations recorded already.
async fn claim(tx: &mut PgConnection, scope: &str) -> Result<(), Error> {
    tracking::lock(tx, scope).await?;
    let recorded: Vec<Recorded> = query_as(SELECT_APPLIED)
        .bind(scope)
        .fetch_all(&mut *tx)
        .await
        .map_err(db(CONTEXT))?;
    match recorded.is_empty() {
        true => Ok(()),
        false => Err(Error::AlreadyTracked {
            scope: scope.to_owned(),
            count: recorded.len(),
        }),
    }
}

/// Records `chosen` as applied in `scope`, none of them run.
async fn record(
    tx: &mut PgConnection,
    scope: &str,
    chosen: &[&Migration<'_>],
) -> Result<(), Error> {
    for migration in chosen {
        let no_time = std::time::Duration::ZERO;
        tracking::record_in(tx, scope, migration, no_time, None, migration.transactional).await?;
    }
    Ok(())
}

impl Migrator<'_> {
    /// Records every migration (up to the target) as applied without
    /// running it, on a database that already holds what they make: one
    /// adopted with `strata pull`, or made by hand. Refused, with nothing
    /// recorded, when the scope has migrations recorded already, or when
    /// the catalog differs from the state after the last of them
    /// ([`Error::BaselineDrift`] lists how). The check and the records are
    /// one transaction, under the scope's lock, so no start-up runs
    /// between them. A fresh database still runs the same migrations as
    /// any other.
    pub async fn baseline(&self, pool: &PgPool) -> Result<BaselineReport, Error> {
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let (chosen, version, expected) = up_to(&manifest, &all, self.target);
        let mut conn = tracked_connection(pool).await?;
        let mut tx = conn.begin().await.map_err(db(CONTEXT))?;
        claim(&mut tx, &self.scope).await?;
        let catalog = introspect::read_catalog(&mut tx, &expected).await?;
        let drift = compare(&expected, &catalog);
        if !drift.is_clean() {
            return Err(Error::BaselineDrift {
                version,
                drift: Box::new(drift),
            });
        }
        record(&mut tx, &self.scope, &chosen).await?;
        tx.commit().await.map_err(db(CONTEXT))?;
        let _ = conn.close().await;
        Ok(BaselineReport {
            scope: self.scope.clone(),
            recorded: statuses(&chosen),
            drift,
        })
    }
}

impl crate::Tenants<'_> {
    /// [`Migrator::baseline`] for every tenant in the registry: each
    /// tenant's schema must match the tenant models (one pass over the
    /// catalog), and none may have migrations recorded; then the tenant
    /// migrations are recorded as applied for all of them in one
    /// transaction, or for none.
    pub async fn baseline_all(&self, pool: &PgPool) -> Result<TenantBaselineReport, Error> {
        let crate::TenantList { tenants, invalid } = self.list(pool).await?;
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let (chosen, _, expected) = up_to(&manifest, &all, self.target);
        let mut conn = tracked_connection(pool).await?;
        let mut tx = conn.begin().await.map_err(db(CONTEXT))?;
        for tenant in &tenants {
            claim(&mut tx, tenant.name()).await?;
        }
        let together = crate::tenant_drift::all_tenants(&expected, &tenants);
        let catalog = introspect::read_catalog(&mut tx, &together).await?;
        let drift = crate::tenant_drift::drift_by_tenant(&expected, &tenants, catalog);
        if !drift.is_clean() {
            return Err(Error::TenantBaselineDrift {
                drift: Box::new(drift),
            });
        }
        for tenant in &tenants {
            record(&mut tx, tenant.name(), &chosen).await?;
        }
        tx.commit().await.map_err(db(CONTEXT))?;
        let _ = conn.close().await;
        Ok(TenantBaselineReport {
            tenants: tenants.iter().map(|t| t.name().to_owned()).collect(),
            recorded: statuses(&chosen),
            invalid,
        })
    }
}
