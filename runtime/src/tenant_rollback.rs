//! Rolling tenants back: each tenant's migrations newer than a version
//! undone with their down files, newest first, in one transaction per
//! tenant under its lock. A tenant is rolled back completely or not at all;
//! one that fails keeps its version and its data, and the others go on.

use std::time::Instant;

use sqlx::{Acquire, PgPool};
use strata_manifest::{after_transaction, in_one_transaction, tenant_sql, Unconfirmed};

use crate::error::db;
use crate::migrations::Migration;
use crate::runner::run_statements;
use crate::session::{query, query_as};
use crate::tenant_apply::Stop;
use crate::tenants::{Action, Listed};
use crate::tracking::{self, applied_versions, check_history, Recorded};
use crate::{AppliedMigration, Error, TenantSchema, TenantStatus, Tenants, TenantsReport};

impl Tenants<'_> {
    /// Rolls each tenant back to `version` (0: before its first migration,
    /// which drops what the tenant stream made), `concurrency` at a time.
    /// A down step that can lose data (dropping a table or a column) runs
    /// only when confirmed ([`Tenants::confirm`], `STRATA_CONFIRM`); a
    /// tenant with one unconfirmed fails and is left as it is. Run again,
    /// it goes on with the tenants not yet rolled back.
    pub async fn rollback(
        &self,
        pool: &PgPool,
        tenants: &[TenantSchema],
        version: u32,
    ) -> Result<TenantsReport, Error> {
        let listed = tenants.iter().cloned().map(Listed::Tenant).collect();
        self.run(pool, listed, Action::Rollback(version)).await
    }

    /// One tenant's rollback to `to`, in one transaction.
    pub(crate) async fn revert(
        &self,
        pool: &PgPool,
        tenant: &TenantSchema,
        all: &[Migration<'_>],
        to: u32,
    ) -> Result<TenantStatus, (u32, Stop)> {
        let fail = |version: u32| move |error: Error| (version, Stop::Failed(error, None));
        let mut conn = pool
            .acquire()
            .await
            .map_err(db("connecting"))
            .map_err(fail(0))?;
        let mut tx = conn
            .begin()
            .await
            .map_err(db("starting a transaction"))
            .map_err(fail(0))?;
        tracking::lock(&mut tx, tenant.name())
            .await
            .map_err(fail(0))?;
        let recorded: Vec<Recorded> = query_as(tracking::SELECT_APPLIED)
            .bind(tenant.name())
            .fetch_all(&mut *tx)
            .await
            .map_err(db("reading strata.migrations"))
            .map_err(fail(0))?;
        let applied: Vec<u32> = applied_versions(&recorded).collect();
        let version = applied.iter().copied().max().unwrap_or(0);
        let newest = all.iter().map(|m| m.version).max().unwrap_or(0);
        if version > newest {
            return Ok(TenantStatus::Ahead { version, newest });
        }
        check_history(&recorded, all, false).map_err(fail(version))?;
        let mut undo: Vec<&Migration<'_>> = all
            .iter()
            .filter(|m| m.version > to && applied.contains(&m.version))
            .collect();
        if undo.is_empty() {
            return Ok(TenantStatus::Current { version });
        }
        undo.sort_by_key(|m| std::cmp::Reverse(m.version));
        refusal(self, tenant, &undo).map_err(fail(version))?;

        self.timeouts
            .set_local(&mut tx)
            .await
            .map_err(fail(version))?;
        let mut reverted = Vec::with_capacity(undo.len());
        for migration in undo {
            let (down_file, down_sql) = migration.down.unwrap_or_default();
            let started = Instant::now();
            let sql = match after_transaction(down_sql) {
                (head, Some(tail)) => format!("{head}\n{}", in_one_transaction(tail)),
                (whole, None) => whole.to_owned(),
            };
            if let Err(failed) = run_statements(&mut tx, &tenant_sql(&sql, tenant.quoted())).await {
                let _ = tx.rollback().await;
                if failed.is_lock_timeout() {
                    let file = format!("{down_file} (tenant {tenant})");
                    return Err((version, Stop::LockTimeout(file)));
                }
                let error = Error::TenantMigrationFailed {
                    tenant: tenant.name().to_owned(),
                    file: down_file.to_owned(),
                    statement: failed.at().map(Box::new),
                    message: failed.message,
                    code: failed.code,
                };
                return Err((version, Stop::Failed(error, None)));
            }
            query(tracking::FORGET)
                .bind(tenant.name())
                .bind(i64::from(migration.version))
                .execute(&mut *tx)
                .await
                .map_err(db("removing a migration from strata.migrations"))
                .map_err(fail(version))?;
            reverted.push(AppliedMigration {
                version: migration.version,
                name: migration.name.to_owned(),
                duration: started.elapsed(),
            });
        }
        tx.commit()
            .await
            .map_err(db("committing a tenant's rollback"))
            .map_err(fail(version))?;
        let now = applied
            .iter()
            .copied()
            .filter(|v| *v <= to)
            .max()
            .unwrap_or(0);
        Ok(TenantStatus::RolledBack {
            from: version,
            to: now,
            migrations: reverted,
        })
    }
}

/// Why `undo` may not run on `tenant`: a down file missing or edited since
/// the build judged it, or a lossy step not confirmed, for this tenant or
/// for every tenant.
fn refusal(
    tenants: &Tenants<'_>,
    tenant: &TenantSchema,
    undo: &[&Migration<'_>],
) -> Result<(), Error> {
    crate::migrations::refuse_down_files(undo)?;
    let confirm = crate::migrations::with_env_confirmation(&tenants.confirm);
    let placeholder = strata_manifest::TENANT_PLACEHOLDER;
    let steps: Vec<Unconfirmed> = undo
        .iter()
        .flat_map(|m| m.lossy_down.iter())
        .filter(|step| {
            let own = step.object.replace(placeholder, tenant.name());
            !confirm.covers(&step.object) && !confirm.covers(&own)
        })
        .map(|step| Unconfirmed {
            object: step.object.replace(placeholder, tenant.name()),
            what: step.what.replace(placeholder, tenant.name()),
            help: step.help.clone(),
        })
        .collect();
    match steps.is_empty() {
        true => Ok(()),
        false => Err(Error::UnconfirmedRollback { steps }),
    }
}
