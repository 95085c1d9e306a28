//! Applying and undoing one migration: in a transaction with retries on lock
//! timeouts, or statement by statement outside one.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use strata_manifest::split_statements;
use tracing::Instrument;

use crate::error::db;
use crate::index_target::concurrent_index;
use crate::migrations::Migration;
use crate::migrator::{AppliedMigration, Migrator};
use crate::partition_index::{build_on_each_partition, partitioned};
use crate::runner::{run_statements, Failed};
use crate::session::{query, query_as};
use crate::tracking::{is_applied, lock, record_in};
use crate::{tracking, Error};

/// Why one attempt at a migration did not commit.
enum Failure {
    /// `lock_timeout` ran out: worth another try.
    LockTimeout,
    /// Anything else: final.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Fatal(error)
    }
}

impl Migrator<'_> {
    /// Applies one migration, trying again with a growing pause while it
    /// times out waiting for a table lock.
    pub(crate) async fn apply_with_retries(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Error> {
        let span = tracing::info_span!(
            "strata.migration",
            version = migration.version,
            name = migration.name
        );
        async {
            if !migration.transactional {
                return self.apply_outside_transaction(conn, migration).await;
            }
            let mut backoff = self.timeouts.backoff();
            loop {
                match self.apply_one(conn, migration).await {
                    Ok(done) => return Ok(done),
                    Err(Failure::Fatal(error)) => return Err(error),
                    Err(Failure::LockTimeout) if backoff.wait().await => {}
                    Err(Failure::LockTimeout) => return Err(self.timeouts.gave_up(migration.file)),
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Applies one migration in its own transaction under the scope's lock.
    /// `None` when another process applied it while this one waited for the lock.
    async fn apply_one(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Failure> {
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        lock(&mut tx, &self.scope).await?;
        if is_applied(&mut tx, &self.scope, migration.version).await? {
            tx.commit().await.map_err(db("committing"))?;
            return Ok(None);
        }
        self.set_timeouts(&mut tx).await?;

        let started = Instant::now();
        if let Err(failed) = run_statements(&mut tx, migration.sql).await {
            tx.rollback()
                .await
                .map_err(db("rolling back a failed migration"))?;
            if failed.is_lock_timeout() {
                return Err(Failure::LockTimeout);
            }
            let failure = Error::MigrationFailed {
                file: migration.file.to_owned(),
                statement: failed.at(),
                message: failed.message,
                code: failed.code,
            };
            self.record(
                conn,
                migration,
                started.elapsed(),
                Some(&failure.to_string()),
            )
            .await?;
            return Err(Failure::Fatal(failure));
        }
        let duration = started.elapsed();
        record_in(&mut tx, &self.scope, migration, duration, None, true).await?;
        tx.commit().await.map_err(db("committing a migration"))?;
        tracing::info!(
            elapsed_ms = duration.as_millis() as u64,
            "strata: migration applied"
        );
        Ok(Some(AppliedMigration {
            version: migration.version,
            name: migration.name.to_owned(),
            duration,
        }))
    }

    /// Applies a `-- strata:no-transaction` migration statement by statement,
    /// each committing on its own (`CREATE INDEX CONCURRENTLY` cannot run in
    /// a transaction). It is claimed first, under the scope's lock, by a
    /// "running" row (naming the direct connection's backend, so that
    /// another start-up can tell it is in progress and start without it),
    /// so no second process starts it; a failure leaves a
    /// failed row that later start-ups refuse until told to retry.
    async fn apply_outside_transaction(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Error> {
        // Outside a transaction SET LOCAL does nothing, and a session-level
        // SET through a transaction pooler lands on a server connection other
        // clients get next. So the timeouts are set only on a direct
        // connection of this migration's own (Migrator::direct), closed after.
        let mut direct = match &self.direct {
            Some(options) => Some(self.direct_connection(options).await?),
            None => None,
        };
        // The claim names the direct connection's backend, which lives as
        // long as this process runs the migration: another process that
        // finds it alive knows the migration is in progress, not failed.
        let claim = match direct.as_mut() {
            Some(direct) => {
                let (claimant,): (String,) = query_as(tracking::CLAIMANT)
                    .fetch_one(&mut *direct)
                    .await
                    .map_err(db("naming the migration's backend"))?;
                claimant
            }
            None => tracking::RUNNING.to_owned(),
        };
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        lock(&mut tx, &self.scope).await?;
        if is_applied(&mut tx, &self.scope, migration.version).await? {
            tx.commit().await.map_err(db("committing"))?;
            return Ok(None);
        }
        let earlier: Option<(bool, Option<String>)> = query_as(tracking::STATE)
            .bind(&self.scope)
            .bind(i64::from(migration.version))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("reading strata.migrations"))?;
        if let Some((false, recorded)) = earlier {
            let recorded = recorded.unwrap_or_else(|| "failed".to_owned());
            // Even a retry leaves a migration alone while its claimant runs it.
            let running = match recorded.starts_with(tracking::RUNNING_ON) {
                true => {
                    query_as::<(bool,)>(tracking::CLAIMANT_ALIVE)
                        .bind(&recorded)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db("looking for the migration's backend"))?
                        .0
                }
                false => false,
            };
            if running || !self.retry_failed {
                tx.commit().await.map_err(db("committing"))?;
                if let Some(direct) = direct {
                    let _ = direct.close().await;
                }
                return Err(match running {
                    true => Error::InProgressElsewhere {
                        file: migration.file.to_owned(),
                        recorded,
                    },
                    false => Error::NeedsResolution {
                        file: migration.file.to_owned(),
                        recorded,
                    },
                });
            }
        }
        record_in(
            &mut tx,
            &self.scope,
            migration,
            Duration::ZERO,
            Some(&claim),
            false,
        )
        .await?;
        tx.commit().await.map_err(db("claiming a migration"))?;
        if direct.is_none() {
            tracing::warn!(
                file = migration.file,
                "strata: a no-transaction migration runs without strata's lock_timeout and statement_timeout; give Migrator::direct an unpooled connection to set them, or set them for the role"
            );
        }
        // A retry goes on from the statement that failed: those before it
        // ran, and some cannot run twice (a check dropped, a key added).
        // Each in a transaction, so a transaction pooler keeps the unnamed
        // statement's parse and execution on one server connection.
        let done = tracking::read_progress(conn, &self.scope, migration)
            .await?
            .unwrap_or(0);
        let started = Instant::now();
        let mut failure = None;
        for (at, statement) in split_statements(migration.sql).into_iter().enumerate() {
            if at < done {
                continue;
            }
            let on = direct.as_mut().unwrap_or(&mut *conn);
            if let Err(error) = run_outside(on, statement.sql).await {
                let failed = Failed::new(&statement, &error);
                failure = Some(Error::NonTransactionalFailed {
                    file: migration.file.to_owned(),
                    statement: failed.at(),
                    message: failed.message,
                    code: failed.code,
                });
                break;
            }
            tracking::note_progress(conn, &self.scope, migration, at + 1).await?;
        }
        if let Some(direct) = direct {
            let _ = direct.close().await;
        }
        let duration = started.elapsed();
        let error = failure.as_ref().map(ToString::to_string);
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        record_in(
            &mut tx,
            &self.scope,
            migration,
            duration,
            error.as_deref(),
            false,
        )
        .await?;
        if failure.is_none() {
            query(tracking::FORGET_PROGRESS)
                .bind(&self.scope)
                .bind(i64::from(migration.version))
                .execute(&mut *tx)
                .await
                .map_err(db("forgetting progress in strata.progress"))?;
        }
        tx.commit().await.map_err(db("recording a migration"))?;
        match failure {
            Some(failure) => Err(failure),
            None => Ok(Some(AppliedMigration {
                version: migration.version,
                name: migration.name.to_owned(),
                duration,
            })),
        }
    }

    /// Undoes one migration with its down file, in its own transaction under
    /// the scope's lock. `None` when another process undid it meanwhile.
    pub(crate) async fn revert_one(
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
        lock(&mut tx, &self.scope).await?;
        if !is_applied(&mut tx, &self.scope, migration.version).await? {
            tx.commit().await.map_err(db("committing"))?;
            return Ok(None);
        }
        self.set_timeouts(&mut tx).await?;
        let started = Instant::now();
        if let Err(failed) = run_statements(&mut tx, down_sql).await {
            tx.rollback()
                .await
                .map_err(db("rolling back a failed down migration"))?;
            return Err(Error::MigrationFailed {
                file: down_file.to_owned(),
                statement: failed.at(),
                message: failed.message,
                code: failed.code,
            });
        }
        query(tracking::FORGET)
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

    /// The direct connection a no-transaction migration runs on, with the
    /// migration's timeouts for the whole session (it is closed after).
    async fn direct_connection(&self, options: &PgConnectOptions) -> Result<PgConnection, Error> {
        let context = "connecting directly for a no-transaction migration";
        let mut conn = PgConnection::connect_with(options)
            .await
            .map_err(db(context))?;
        let mut sql = format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            self.timeouts.lock_timeout.as_millis(),
            self.timeouts.statement_timeout.as_millis()
        );
        if conn.server_version_num().is_some_and(|v| v >= 140_000) {
            sql.push_str("; SET client_connection_check_interval = 1000");
        }
        sqlx::Executor::execute(&mut conn, sql.as_str())
            .await
            .map_err(db(context))?;
        Ok(conn)
    }

    async fn set_timeouts(&self, conn: &mut PgConnection) -> Result<(), Error> {
        self.timeouts.set_local(conn).await
    }

    async fn record(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
        duration: Duration,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        record_in(&mut tx, &self.scope, migration, duration, error, true).await?;
        tx.commit()
            .await
            .map_err(db("recording a migration in strata.migrations"))
    }
}

/// One statement outside a transaction. A concurrent index build that
/// failed before leaves an INVALID index that `IF NOT EXISTS` would
/// silently keep: it is dropped first, so it is really rebuilt. One on
/// a partitioned table, which PostgreSQL cannot build `CONCURRENTLY`, is
/// built on each partition and attached (see `partition_index`).
pub(crate) async fn run_outside(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    if let Some(build) = concurrent_index(sql) {
        if let Some((schema, table)) = partitioned(conn, &build).await? {
            return build_on_each_partition(conn, &build, &schema, &table).await;
        }
        drop_if_invalid(conn, build.schema.as_deref(), &build.name).await?;
    }
    sqlx::Executor::execute(&mut *conn, sql).await.map(drop)
}

/// Drops index `name` (in `schema`, or the current one) if it is INVALID:
/// what a failed concurrent build leaves, which `IF NOT EXISTS` would keep.
pub(crate) async fn drop_if_invalid(
    conn: &mut PgConnection,
    schema: Option<&str>,
    name: &str,
) -> Result<(), sqlx::Error> {
    // In a transaction, so a pooler keeps its parse and execution together.
    let mut tx = conn.begin().await?;
    let valid: Option<(bool,)> = query_as(tracking::INDEX_VALID)
        .bind(schema)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    if let Some((false,)) = valid {
        tracing::warn!(
            index = name,
            "strata: rebuilding an INVALID index left by a failed concurrent build"
        );
        let target = match schema {
            Some(schema) => crate::qualified(schema, name),
            None => crate::quote_ident(name),
        };
        let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {target}");
        sqlx::Executor::execute(&mut *conn, drop.as_str()).await?;
    }
    Ok(())
}
