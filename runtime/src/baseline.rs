//! Adopting a database strata did not create: its migrations are recorded
//! as applied, without running them, once the catalog is proven to match.

use serde::Serialize;
use sqlx::{Connection, PgPool};

use crate::drift::{compare, DriftReport};
use crate::error::db;
use crate::migrator::expected_state;
use crate::session::{connect, query_as};
use crate::tracking::{self, Recorded, SELECT_APPLIED};
use crate::{introspect, Error, MigrationStatus, Migrator};

/// What a baseline recorded.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    /// The scope in `strata.migrations`.
    pub scope: String,
    /// The migrations recorded as applied, oldest first.
    pub recorded: Vec<MigrationStatus>,
    /// The drift check that allowed it: clean.
    pub drift: DriftReport,
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
        let target = self.target.unwrap_or(u32::MAX);
        let chosen: Vec<_> = all.iter().filter(|m| m.version <= target).collect();
        let version = chosen.last().map_or(0, |m| m.version);
        let expected = expected_state(&manifest, Some(version));

        let mut conn = connect(pool).await?;
        tracking::ensure(&mut conn).await?;
        let context = "recording the baseline";
        let mut tx = conn.begin().await.map_err(db(context))?;
        tracking::lock(&mut tx, &self.scope).await?;
        let recorded: Vec<Recorded> = query_as(SELECT_APPLIED)
            .bind(&self.scope)
            .fetch_all(&mut *tx)
            .await
            .map_err(db(context))?;
        if !recorded.is_empty() {
            return Err(Error::AlreadyTracked {
                scope: self.scope.clone(),
                count: recorded.len(),
            });
        }
        let catalog = introspect::read_catalog(&mut tx, &expected).await?;
        let drift = compare(&expected, &catalog);
        if !drift.is_clean() {
            return Err(Error::BaselineDrift {
                version,
                drift: Box::new(drift),
            });
        }
        for migration in &chosen {
            tracking::record_in(
                &mut tx,
                &self.scope,
                migration,
                std::time::Duration::ZERO,
                None,
                migration.transactional,
            )
            .await?;
        }
        tx.commit().await.map_err(db(context))?;
        let _ = conn.close().await;
        Ok(BaselineReport {
            scope: self.scope.clone(),
            recorded: chosen
                .iter()
                .map(|m| MigrationStatus {
                    version: m.version,
                    name: m.name.to_owned(),
                })
                .collect(),
            drift,
        })
    }
}

/// What a tenant baseline recorded.
#[derive(Debug, Clone, Serialize)]
pub struct TenantBaselineReport {
    /// The tenant schemas, each now at the newest tenant migration (or the target).
    pub tenants: Vec<String>,
    /// The tenant migrations recorded for each, oldest first.
    pub recorded: Vec<MigrationStatus>,
}

impl crate::Tenants<'_> {
    /// [`Migrator::baseline`] for every tenant in the registry: each
    /// tenant's schema must match the tenant models (one pass over the
    /// catalog), and none may have migrations recorded; then the tenant
    /// migrations are recorded as applied for all of them in one
    /// transaction, or for none.
    pub async fn baseline_all(&self, pool: &PgPool) -> Result<TenantBaselineReport, Error> {
        let tenants = self.list(pool).await?;
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let target = self.target.unwrap_or(u32::MAX);
        let chosen: Vec<_> = all.iter().filter(|m| m.version <= target).collect();
        let version = chosen.last().map_or(0, |m| m.version);
        let expected = expected_state(&manifest, Some(version));

        let mut conn = connect(pool).await?;
        tracking::ensure(&mut conn).await?;
        let context = "recording the tenants' baseline";
        let mut tx = conn.begin().await.map_err(db(context))?;
        for tenant in &tenants {
            tracking::lock(&mut tx, tenant.name()).await?;
            let recorded: Vec<Recorded> = query_as(SELECT_APPLIED)
                .bind(tenant.name())
                .fetch_all(&mut *tx)
                .await
                .map_err(db(context))?;
            if !recorded.is_empty() {
                return Err(Error::AlreadyTracked {
                    scope: tenant.name().to_owned(),
                    count: recorded.len(),
                });
            }
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
            for migration in &chosen {
                tracking::record_in(
                    &mut tx,
                    tenant.name(),
                    migration,
                    std::time::Duration::ZERO,
                    None,
                    migration.transactional,
                )
                .await?;
            }
        }
        tx.commit().await.map_err(db(context))?;
        let _ = conn.close().await;
        Ok(TenantBaselineReport {
            tenants: tenants.iter().map(|t| t.name().to_owned()).collect(),
            recorded: chosen
                .iter()
                .map(|m| MigrationStatus {
                    version: m.version,
                    name: m.name.to_owned(),
                })
                .collect(),
        })
    }
}
