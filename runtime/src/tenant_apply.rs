//! Applying a tenant's pending migrations inside one transaction.

use std::time::Instant;

use sqlx::PgConnection;
use strata_manifest::tenant_sql;

use crate::migrations::Migration;
use crate::runner::run_statements;
use crate::tracking::record_in;
use crate::{AppliedMigration, Error, TenantSchema, Tenants};

/// Why applying a tenant's pending migrations stopped. The caller rolls
/// back the transaction (and commits it when they all ran).
pub(crate) enum Stop {
    /// A statement timed out waiting for a lock: worth another try.
    LockTimeout(String),
    /// Anything else, with the version of the migration that failed.
    Failed(Error, Option<u32>),
}

/// Runs `pending` on `conn`, which is inside the tenant's transaction and
/// holds its lock, statement by statement with the tenant's schema in place
/// of the placeholder, and records each in `strata.migrations`.
pub(crate) async fn apply_pending(
    tenants: &Tenants<'_>,
    conn: &mut PgConnection,
    tenant: &TenantSchema,
    pending: &[&Migration<'_>],
) -> Result<Vec<AppliedMigration>, Stop> {
    if let Err(error) = tenants.timeouts.set_local(conn).await {
        return Err(Stop::Failed(error, None));
    }
    let mut applied = Vec::with_capacity(pending.len());
    for migration in pending {
        if !migration.transactional {
            let error = Error::TenantNoTransaction {
                file: migration.file.to_owned(),
            };
            return Err(Stop::Failed(error, Some(migration.version)));
        }
        let started = Instant::now();
        let sql = tenant_sql(migration.sql, tenant.quoted());
        if let Err(failed) = run_statements(conn, &sql).await {
            if failed.is_lock_timeout() {
                return Err(Stop::LockTimeout(format!(
                    "{} (tenant {tenant})",
                    migration.file
                )));
            }
            let error = Error::TenantMigrationFailed {
                tenant: tenant.name().to_owned(),
                file: migration.file.to_owned(),
                statement: failed.at().map(Box::new),
                message: failed.message,
                code: failed.code,
            };
            return Err(Stop::Failed(error, Some(migration.version)));
        }
        let duration = started.elapsed();
        if let Err(error) = record_in(conn, tenant.name(), migration, duration, None, true).await {
            return Err(Stop::Failed(error, None));
        }
        applied.push(AppliedMigration {
            version: migration.version,
            name: migration.name.to_owned(),
            duration,
        });
    }
    Ok(applied)
}
