//! Applies pending migrations at start-up, exactly once however many replicas start.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};

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

/// One migration applied by this run.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedMigration {
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// How long it took.
    pub duration: Duration,
}

impl<'m> Migrator<'m> {
    /// A migrator for these migrations, in the default scope, failing on drift.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            scope: DEFAULT_SCOPE.to_owned(),
            drift_policy: DriftPolicy::Fail,
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

    /// Applies every pending migration, each in its own transaction, then checks drift.
    pub async fn run(&self, pool: &PgPool) -> Result<RunReport, Error> {
        let manifest = self.migrations.manifest()?;
        let migrations = self.migrations.load(&manifest)?;
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;

        ensure_tracking_table(&mut conn).await?;
        let recorded: Vec<(i64, String, String, bool)> = sqlx::query_as(tracking::SELECT_APPLIED)
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

        let mut report = RunReport {
            applied: Vec::new(),
            already_applied: 0,
            drift: DriftReport::default(),
        };
        for migration in &migrations {
            let done = recorded
                .iter()
                .any(|(v, _, _, ok)| *ok && *v == i64::from(migration.version));
            if done {
                report.already_applied += 1;
                continue;
            }
            match self.apply_one(&mut conn, migration).await? {
                Some(applied) => report.applied.push(applied),
                None => report.already_applied += 1,
            }
        }

        if self.drift_policy != DriftPolicy::Ignore {
            let actual = introspect::read_state(&mut conn, &manifest.state.schemas).await?;
            report.drift = compare(&manifest.state, &actual);
            if self.drift_policy == DriftPolicy::Fail && !report.drift.is_clean() {
                return Err(Error::Drift(Box::new(report.drift)));
            }
        }
        Ok(report)
    }

    /// Applies one migration in its own transaction under the scope's lock.
    /// `None` when another process applied it while this one waited for the lock.
    async fn apply_one(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Error> {
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        sqlx::query(tracking::LOCK_SCOPE)
            .bind(tracking::LOCK_CLASS)
            .bind(&self.scope)
            .execute(&mut *tx)
            .await
            .map_err(db("waiting for the migration lock"))?;
        let already = sqlx::query(tracking::IS_APPLIED)
            .bind(&self.scope)
            .bind(i64::from(migration.version))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("reading strata.migrations"))?;
        if already.is_some() {
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
            let (message, code) = match &error {
                sqlx::Error::Database(e) => {
                    (e.message().to_owned(), e.code().map(|c| c.into_owned()))
                }
                other => (other.to_string(), None),
            };
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
