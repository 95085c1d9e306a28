//! Applying a tenant's pending migrations inside one transaction.

use std::time::Instant;

use sqlx::PgConnection;
use strata_manifest::{split_statements, tenant_sql};

use crate::apply::{record_in, set_local_timeouts, LOCK_NOT_AVAILABLE};
use crate::migrations::Migration;
use crate::migrator::{shorten, split_error};
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
    if let Err(error) =
        set_local_timeouts(conn, tenants.lock_timeout, tenants.statement_timeout).await
    {
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
        for statement in split_statements(&sql) {
            let Err(error) = sqlx::Executor::execute(&mut *conn, statement.sql).await else {
                continue;
            };
            let (message, code) = split_error(&error);
            if code.as_deref() == Some(LOCK_NOT_AVAILABLE) {
                return Err(Stop::LockTimeout(format!(
                    "{} (tenant {tenant})",
                    migration.file
                )));
            }
            let error = Error::TenantMigrationFailed {
                tenant: tenant.name().to_owned(),
                file: migration.file.to_owned(),
                statement: Some(Box::new((
                    statement.number,
                    statement.line,
                    shorten(statement.sql),
                ))),
                message,
                code,
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
