//! Applies pending migrations at start-up, exactly once however many replicas
//! start, and rolls them back on request.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use strata_manifest::{Manifest, SchemaState};

use crate::drift::{compare, DriftPolicy, DriftReport};
use crate::error::db;
use crate::migrations::Migration;
use crate::{introspect, tracking, Error, Migrations};

/// The scope of an application's own migrations in `strata.migrations`.
pub const DEFAULT_SCOPE: &str = "default";

/// Applies migrations and checks drift.
///
/// ```no_run
/// # async fn start(pool: strata::sqlx::PgPool, migrations: &strata::Migrations) -> Result<(), strata::Error> {
/// let report = strata::Migrator::new(migrations).run(&pool).await?;
/// assert!(report.drift.is_clean());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    scope: String,
    drift_policy: DriftPolicy,
    target: Option<u32>,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The migrations this run applied, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// How many migrations were already applied.
    pub already_applied: usize,
    /// The drift check after applying (empty when the policy is `Ignore`).
    pub drift: DriftReport,
}

/// What a rollback did.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// The migrations undone, newest first.
    pub reverted: Vec<AppliedMigration>,
    /// The drift check against the version rolled back to (empty when the policy is `Ignore`).
    pub drift: DriftReport,
}

/// One migration applied (or undone) by this run.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedMigration {
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// How long it took.
    pub duration: Duration,
}

/// A row of `strata.migrations`: version, name, checksum, success.
type Recorded = (i64, String, String, bool);

impl<'m> Migrator<'m> {
    /// A migrator for these migrations, in the default scope, failing on drift.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            scope: DEFAULT_SCOPE.to_owned(),
            drift_policy: DriftPolicy::Fail,
            target: None,
        }
    }

    /// The scope recorded in `strata.migrations` (default `"default"`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// What to do when the database has drifted after migrating (default `Fail`).
    pub fn drift_policy(mut self, policy: DriftPolicy) -> Self {
        self.drift_policy = policy;
        self
    }

    /// Apply migrations up to and including `version` only, and check drift
    /// against the state after it: for a service or a test that must stand
    /// on an older schema.
    pub fn target(mut self, version: u32) -> Self {
        self.target = Some(version);
        self
    }

    /// Applies every pending migration (up to the target), each in its own
    /// transaction, then checks drift.
    pub async fn run(&self, pool: &PgPool) -> Result<RunReport, Error> {
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let target = self.target.unwrap_or(u32::MAX);
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let recorded = self.recorded(&mut conn, &all).await?;
        if let Some(newest) = applied_versions(&recorded).filter(|v| *v > target).max() {
            return Err(Error::AheadOfTarget {
                applied: newest,
                target,
            });
        }

        let mut report = RunReport {
            applied: Vec::new(),
            already_applied: 0,
            drift: DriftReport::default(),
        };
        for migration in all.iter().filter(|m| m.version <= target) {
            if applied_versions(&recorded).any(|v| v == migration.version) {
                report.already_applied += 1;
                continue;
            }
            match self.apply_one(&mut conn, migration).await? {
                Some(applied) => report.applied.push(applied),
                None => report.already_applied += 1,
            }
        }
        report.drift = self
            .checked_drift(&mut conn, &expected_state(&manifest, self.target))
            .await?;
        Ok(report)
    }

    /// Undoes every applied migration newer than `version`, newest first,
    /// each with its down file in its own transaction, then checks drift
    /// against the state after `version` (0: before the first migration).
    pub async fn rollback_to(&self, pool: &PgPool, version: u32) -> Result<RollbackReport, Error> {
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let recorded = self.recorded(&mut conn, &all).await?;
        let mut undo: Vec<&Migration<'_>> = all
            .iter()
            .filter(|m| m.version > version && applied_versions(&recorded).any(|v| v == m.version))
            .collect();
        undo.sort_by_key(|m| std::cmp::Reverse(m.version));
        let mut reverted = Vec::new();
        for migration in undo {
            if let Some(done) = self.revert_one(&mut conn, migration).await? {
                reverted.push(done);
            }
        }
        let drift = self
            .checked_drift(&mut conn, &manifest.state_at(version))
            .await?;
        Ok(RollbackReport { reverted, drift })
    }

    /// Creates the tracking table if needed and reads this scope's rows,
    /// refusing an edited migration or one this binary does not know.
    async fn recorded(
        &self,
        conn: &mut PgConnection,
        migrations: &[Migration<'_>],
    ) -> Result<Vec<Recorded>, Error> {
        ensure_tracking_table(conn).await?;
        let recorded: Vec<Recorded> = sqlx::query_as(tracking::SELECT_APPLIED)
            .bind(&self.scope)
            .fetch_all(&mut *conn)
            .await
            .map_err(db("reading strata.migrations"))?;
        for (version, name, recorded_checksum, success) in &recorded {
            if !success {
                continue;
            }
            let Some(migration) = migrations.iter().find(|m| i64::from(m.version) == *version)
            else {
                return Err(Error::UnknownMigration {
                    version: u32::try_from(*version).unwrap_or(u32::MAX),
                    name: name.clone(),
                });
            };
            if &migration.checksum != recorded_checksum {
                return Err(Error::ChecksumMismatch {
                    file: migration.file.to_owned(),
                    recorded: recorded_checksum.clone(),
                    current: migration.checksum.clone(),
                });
            }
        }
        Ok(recorded)
    }

    async fn checked_drift(
        &self,
        conn: &mut PgConnection,
        expected: &SchemaState,
    ) -> Result<DriftReport, Error> {
        if self.drift_policy == DriftPolicy::Ignore {
            return Ok(DriftReport::default());
        }
        let catalog = introspect::read_catalog(conn, expected).await?;
        let drift = compare(expected, &catalog);
        if self.drift_policy == DriftPolicy::Fail && !drift.is_clean() {
            return Err(Error::Drift(Box::new(drift)));
        }
        Ok(drift)
    }

    /// Applies one migration in its own transaction under the scope's lock.
    /// `None` when another process applied it while this one waited for the lock.
    async fn apply_one(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Error> {
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        self.lock(&mut tx).await?;
        if self.is_applied(&mut tx, migration.version).await? {
            tx.commit().await.map_err(db("committing"))?;
            return Ok(None);
        }

        let started = Instant::now();
        // A query without arguments goes over the simple-query protocol, which
        // runs a file of many statements in one round trip. (Not `raw_sql`:
        // its future is not provably `Send`, rust-lang/rust#64552, and a
        // start-up must be spawnable.)
        let outcome = sqlx::Executor::execute(&mut *tx, migration.sql).await;
        if let Err(error) = outcome {
            tx.rollback()
                .await
                .map_err(db("rolling back a failed migration"))?;
            let (message, code) = split_error(&error);
            self.record(&mut *conn, migration, started.elapsed(), Some(&message))
                .await?;
            return Err(Error::MigrationFailed {
                file: migration.file.to_owned(),
                message,
                code,
            });
        }
        let duration = started.elapsed();
        self.record(&mut tx, migration, duration, None).await?;
        tx.commit().await.map_err(db("committing a migration"))?;
        Ok(Some(AppliedMigration {
            version: migration.version,
            name: migration.name.to_owned(),
            duration,
        }))
    }

    /// Undoes one migration with its down file, in its own transaction under
    /// the scope's lock. `None` when another process undid it meanwhile.
    async fn revert_one(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Error> {
        let Some((down_file, down_sql)) = migration.down else {
            return Err(Error::NoDownMigration {
                file: migration.file.to_owned(),
            });
        };
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        self.lock(&mut tx).await?;
        if !self.is_applied(&mut tx, migration.version).await? {
            tx.commit().await.map_err(db("committing"))?;
            return Ok(None);
        }
        let started = Instant::now();
        if let Err(error) = sqlx::Executor::execute(&mut *tx, down_sql).await {
            tx.rollback()
                .await
                .map_err(db("rolling back a failed down migration"))?;
            let (message, code) = split_error(&error);
            return Err(Error::MigrationFailed {
                file: down_file.to_owned(),
                message,
                code,
            });
        }
        sqlx::query(tracking::FORGET)
            .bind(&self.scope)
            .bind(i64::from(migration.version))
            .execute(&mut *tx)
            .await
            .map_err(db("removing a migration from strata.migrations"))?;
        tx.commit().await.map_err(db("committing a rollback"))?;
        Ok(Some(AppliedMigration {
            version: migration.version,
            name: migration.name.to_owned(),
            duration: started.elapsed(),
        }))
    }

    async fn lock(&self, conn: &mut PgConnection) -> Result<(), Error> {
        sqlx::query(tracking::LOCK_SCOPE)
            .bind(tracking::LOCK_CLASS)
            .bind(&self.scope)
            .execute(conn)
            .await
            .map_err(db("waiting for the migration lock"))?;
        Ok(())
    }

    async fn is_applied(&self, conn: &mut PgConnection, version: u32) -> Result<bool, Error> {
        let row = sqlx::query(tracking::IS_APPLIED)
            .bind(&self.scope)
            .bind(i64::from(version))
            .fetch_optional(conn)
            .await
            .map_err(db("reading strata.migrations"))?;
        Ok(row.is_some())
    }

    async fn record(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
        duration: Duration,
        error: Option<&str>,
    ) -> Result<(), Error> {
        sqlx::query(tracking::RECORD)
            .bind(&self.scope)
            .bind(i64::from(migration.version))
            .bind(migration.name)
            .bind(&migration.checksum)
            .bind(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
            .bind(error.is_none())
            .bind(error)
            .execute(conn)
            .await
            .map_err(db("recording a migration in strata.migrations"))?;
        Ok(())
    }
}

fn applied_versions(recorded: &[Recorded]) -> impl Iterator<Item = u32> + '_ {
    recorded
        .iter()
        .filter(|(_, _, _, success)| *success)
        .filter_map(|(version, ..)| u32::try_from(*version).ok())
}

/// The state drift is checked against: after the target, or after the last migration.
fn expected_state(manifest: &Manifest, target: Option<u32>) -> SchemaState {
    let last = manifest.migrations.last().map_or(0, |m| m.version);
    match target {
        Some(version) if version < last => manifest.state_at(version),
        _ => manifest.state.clone(),
    }
}

fn split_error(error: &sqlx::Error) -> (String, Option<String>) {
    match error {
        sqlx::Error::Database(e) => (e.message().to_owned(), e.code().map(|c| c.into_owned())),
        other => (other.to_string(), None),
    }
}

async fn ensure_tracking_table(conn: &mut PgConnection) -> Result<(), Error> {
    let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
    sqlx::query(tracking::LOCK_SCOPE)
        .bind(tracking::LOCK_CLASS)
        .bind("")
        .execute(&mut *tx)
        .await
        .map_err(db("waiting for the migration lock"))?;
    for statement in [tracking::CREATE_SCHEMA, tracking::CREATE_TABLE] {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .map_err(db("creating strata.migrations"))?;
    }
    tx.commit().await.map_err(db("creating strata.migrations"))
}

/// Start-ups are spawned onto runtimes: this fails to compile if either
/// future stops being `Send + 'static` when spawned the usual way (sqlx's
/// executor bounds make that easy to break, rust-lang/rust#64552).
#[allow(dead_code)]
fn futures_are_spawnable(pool: PgPool, migrations: std::sync::Arc<Migrations>) {
    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
    let (run_pool, run_migrations) = (pool.clone(), migrations.clone());
    spawnable(async move { Migrator::new(&run_migrations).run(&run_pool).await });
    spawnable(async move { Migrator::new(&migrations).rollback_to(&pool, 0).await });
}
