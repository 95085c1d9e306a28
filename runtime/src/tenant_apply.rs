//! Applying a tenant's pending migrations: inside one transaction, and for
//! a tenant that exists, the steps of a migration that run after it.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};
use strata_manifest::{after_transaction, in_one_transaction, split_statements, tenant_sql};

use crate::apply::run_outside;
use crate::error::db;
use crate::migrations::Migration;
use crate::runner::{run_statements, Failed};
use crate::session::query;
use crate::tracking::{self, record_failure, record_in};
use crate::{AppliedMigration, Error, TenantSchema, Tenants};

/// Why applying a tenant's pending migrations stopped. The caller rolls
/// back the transaction (and commits it when they all ran).
pub(crate) enum Stop {
    /// A statement timed out waiting for a lock: worth another try.
    LockTimeout(String),
    /// Anything else, with the version of the migration that failed.
    Failed(Error, Option<u32>),
}

/// What of a migration runs in the tenant's transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// All of it, its steps after the transaction without `CONCURRENTLY`:
    /// a new tenant, whose tables are new.
    Whole,
    /// What comes before its steps after the transaction; it is recorded
    /// once those have run too.
    Head,
}

/// Runs `pending` on `conn`, which is inside the tenant's transaction and
/// holds its lock, statement by statement with the tenant's schema in place
/// of the placeholder, and records each in `strata.migrations`. With
/// `last` = [`Part::Head`], the last migration runs only up to its steps
/// after the transaction, is not recorded, and its progress is noted
/// instead (nothing of its after-steps done).
pub(crate) async fn apply_pending(
    tenants: &Tenants<'_>,
    conn: &mut PgConnection,
    tenant: &TenantSchema,
    pending: &[&Migration<'_>],
    last: Part,
) -> Result<Vec<AppliedMigration>, Stop> {
    if let Err(error) = tenants.timeouts.set_local(conn).await {
        return Err(Stop::Failed(error, None));
    }
    let mut applied = Vec::with_capacity(pending.len());
    for (at, migration) in pending.iter().enumerate() {
        if !migration.transactional {
            let error = Error::TenantNoTransaction {
                file: migration.file.to_owned(),
            };
            return Err(Stop::Failed(error, Some(migration.version)));
        }
        let head_only = last == Part::Head && at + 1 == pending.len();
        let started = Instant::now();
        let sql = match after_transaction(migration.sql) {
            (head, Some(_)) if head_only => tenant_sql(head, tenant.quoted()),
            (head, Some(tail)) => tenant_sql(
                &format!("{head}\n{}", in_one_transaction(tail)),
                tenant.quoted(),
            ),
            (whole, None) => tenant_sql(whole, tenant.quoted()),
        };
        if let Err(failed) = run_statements(conn, &sql).await {
            return Err(stop(tenant, migration, failed));
        }
        if head_only {
            let noted = query(tracking::RECORD_PROGRESS)
                .bind(tenant.name())
                .bind(i64::from(migration.version))
                .bind(&migration.checksum)
                .bind(0_i32)
                .execute(&mut *conn)
                .await
                .map_err(db("recording progress in strata.progress"));
            if let Err(error) = noted {
                return Err(Stop::Failed(error, None));
            }
            continue;
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

fn stop(tenant: &TenantSchema, migration: &Migration<'_>, failed: Failed) -> Stop {
    if failed.is_lock_timeout() {
        return Stop::LockTimeout(format!("{} (tenant {tenant})", migration.file));
    }
    let error = Error::TenantMigrationFailed {
        tenant: tenant.name().to_owned(),
        file: migration.file.to_owned(),
        statement: failed.at().map(Box::new),
        message: failed.message,
        code: failed.code,
    };
    Stop::Failed(error, Some(migration.version))
}

/// Whether `migration` has steps that run after the tenant's transaction.
pub(crate) fn has_after_steps(migration: &Migration<'_>) -> bool {
    after_transaction(migration.sql).1.is_some()
}

/// Brings a tenant that exists (at `version`) up to date when a pending
/// migration has steps after the transaction. The migrations up to the
/// first such one run in one transaction with that one's part before its
/// steps; then each step runs on its own, its progress noted, and the
/// migration is recorded only once all have run; and so on. A failed step
/// stops the tenant there; the next run goes on from it. All of it on a
/// connection of its own that holds the tenant's lock for the session, so
/// that no second process runs the same steps meanwhile.
pub(crate) async fn apply_in_steps(
    tenants: &Tenants<'_>,
    pool: &PgPool,
    tenant: &TenantSchema,
    pending: &[&Migration<'_>],
    version: u32,
) -> Result<Vec<AppliedMigration>, (u32, Stop)> {
    let mut conn = crate::session::connect(pool).await.map_err(fail(version))?;
    let outcome = steps(tenants, &mut conn, tenant, pending, version).await;
    // Closing the connection releases the session's lock.
    let _ = conn.close().await;
    outcome
}

/// A failure at `version`, not tied to one migration.
fn fail(version: u32) -> impl Fn(Error) -> (u32, Stop) {
    move |error| (version, Stop::Failed(error, None))
}

async fn steps(
    tenants: &Tenants<'_>,
    conn: &mut PgConnection,
    tenant: &TenantSchema,
    pending: &[&Migration<'_>],
    mut version: u32,
) -> Result<Vec<AppliedMigration>, (u32, Stop)> {
    // The connection is ours alone: its session lock and settings stay
    // on it until it closes.
    query(tracking::LOCK_SCOPE_SESSION)
        .bind(tracking::LOCK_CLASS)
        .bind(tenant.name())
        .execute(&mut *conn)
        .await
        .map_err(db("waiting for the tenant's lock"))
        .map_err(fail(version))?;
    let timeouts = format!(
        "SET lock_timeout = {}; SET statement_timeout = {}",
        tenants.timeouts.lock_timeout.as_millis(),
        tenants.timeouts.statement_timeout.as_millis()
    );
    sqlx::Executor::execute(&mut *conn, timeouts.as_str())
        .await
        .map_err(db("setting the migration's timeouts"))
        .map_err(fail(version))?;

    let mut applied = Vec::new();
    let mut rest = pending;
    while let Some(first) = rest.first() {
        let through = rest
            .iter()
            .position(|m| has_after_steps(m))
            .unwrap_or(rest.len() - 1);
        let (group, after) = rest.split_at(through + 1);
        rest = after;
        let last = group[through];
        let with_steps = has_after_steps(last);
        // A run that stopped in the steps of `first` left its progress.
        let done = match with_steps && through == 0 {
            true => tracking::read_progress(conn, tenant.name(), first)
                .await
                .map_err(fail(version))?,
            false => None,
        };
        if done.is_none() {
            let mut tx = conn
                .begin()
                .await
                .map_err(db("starting a transaction"))
                .map_err(fail(version))?;
            tracking::lock(&mut tx, tenant.name())
                .await
                .map_err(fail(version))?;
            let part = if with_steps { Part::Head } else { Part::Whole };
            let ran = match apply_pending(tenants, &mut tx, tenant, group, part).await {
                Ok(ran) => ran,
                Err(stop) => {
                    let _ = tx.rollback().await;
                    if let Stop::Failed(error, Some(failed)) = &stop {
                        if let Some(migration) = group.iter().find(|m| m.version == *failed) {
                            let _ =
                                record_failure(conn, tenant.name(), migration, &error.to_string())
                                    .await;
                        }
                    }
                    return Err((version, stop));
                }
            };
            tx.commit()
                .await
                .map_err(db("committing a tenant's migrations"))
                .map_err(fail(version))?;
            if let Some(ran_last) = ran.last() {
                version = ran_last.version;
            }
            applied.extend(ran);
        }
        if with_steps {
            let ran = after_steps(conn, tenant, last, done.unwrap_or(0))
                .await
                .map_err(|stop| (version, stop))?;
            version = last.version;
            applied.push(ran);
        }
    }
    Ok(applied)
}

/// Runs `migration`'s steps after the transaction from the `done`th on,
/// each on its own, noting each; records the migration when all have run.
async fn after_steps(
    conn: &mut PgConnection,
    tenant: &TenantSchema,
    migration: &Migration<'_>,
    done: usize,
) -> Result<AppliedMigration, Stop> {
    let failed_with = |error: Error| Stop::Failed(error, None);
    let tail = after_transaction(migration.sql).1.unwrap_or_default();
    let sql = tenant_sql(tail, tenant.quoted());
    let started = Instant::now();
    for (at, statement) in split_statements(&sql).into_iter().enumerate() {
        if at < done {
            continue;
        }
        if let Err(error) = run_outside(conn, statement.sql).await {
            let failed = Failed::new(&statement, &error);
            let stop = stop(tenant, migration, failed);
            if let Stop::Failed(error, _) = &stop {
                let _ = record_failure(conn, tenant.name(), migration, &error.to_string()).await;
            }
            return Err(stop);
        }
        tracking::note_progress(conn, tenant.name(), migration, at + 1)
            .await
            .map_err(failed_with)?;
    }
    let duration: Duration = started.elapsed();
    let mut tx = conn
        .begin()
        .await
        .map_err(db("starting a transaction"))
        .map_err(failed_with)?;
    record_in(&mut tx, tenant.name(), migration, duration, None, false)
        .await
        .map_err(failed_with)?;
    query(tracking::FORGET_PROGRESS)
        .bind(tenant.name())
        .bind(i64::from(migration.version))
        .execute(&mut *tx)
        .await
        .map_err(db("forgetting progress in strata.progress"))
        .map_err(failed_with)?;
    tx.commit()
        .await
        .map_err(db("recording a migration"))
        .map_err(failed_with)?;
    Ok(AppliedMigration {
        version: migration.version,
        name: migration.name.to_owned(),
        duration,
    })
}
