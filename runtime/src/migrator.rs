//! Applies pending migrations at start-up, exactly once however many replicas
//! start, and rolls them back on request.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use strata_manifest::{split_statements, Manifest, SchemaState};
use tracing::Instrument;

use crate::drift::{compare, DriftPolicy, DriftReport};
use crate::error::db;
use crate::migrations::Migration;
use crate::session::{connect, query, query_as};
use crate::{introspect, tracking, Error, Migrations};

/// The scope of an application's own migrations in `strata.migrations`.
pub const DEFAULT_SCOPE: &str = "default";

/// SQLSTATE `lock_not_available`: `lock_timeout` ran out.
const LOCK_NOT_AVAILABLE: &str = "55P03";

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
    lock_timeout: Duration,
    lock_retries: u32,
    statement_timeout: Duration,
    allow_unknown: bool,
    retry_failed: bool,
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

/// A row of `strata.migrations`: version, name, checksum, success, transactional, error.
type Recorded = (i64, String, String, bool, bool, Option<String>);

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

impl<'m> Migrator<'m> {
    /// A migrator for these migrations, in the default scope, failing on drift.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            scope: DEFAULT_SCOPE.to_owned(),
            drift_policy: DriftPolicy::Fail,
            target: None,
            lock_timeout: Duration::from_secs(2),
            lock_retries: 5,
            statement_timeout: Duration::ZERO,
            allow_unknown: false,
            retry_failed: false,
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

    /// How long a migration may wait for a table lock before it gives up and
    /// tries again (default 2 s). Kept short because while an `ALTER TABLE`
    /// waits for its lock, every query on that table queues behind it.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How many times a migration that timed out on a lock is tried again,
    /// with a growing pause, before the start-up gives up (default 5).
    pub fn lock_retries(mut self, retries: u32) -> Self {
        self.lock_retries = retries;
        self
    }

    /// The `statement_timeout` of each migration statement (default none).
    /// The start-up sets it on its own connection, so it never inherits the
    /// application's, which is made for queries, not for building indexes.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Start even when the database has migrations applied that this binary
    /// does not know, as after a deploy was rolled back (default: refuse).
    pub fn allow_unknown_migrations(mut self, allow: bool) -> Self {
        self.allow_unknown = allow;
        self
    }

    /// Run again, from its first statement, a `-- strata:no-transaction`
    /// migration that failed or was interrupted earlier (default: refuse to
    /// start). Any INVALID index its concurrent builds left is rebuilt.
    pub fn retry_failed(mut self, retry: bool) -> Self {
        self.retry_failed = retry;
        self
    }

    /// Applies every pending migration (up to the target), each in its own
    /// transaction, then checks drift.
    pub async fn run(&self, pool: &PgPool) -> Result<RunReport, Error> {
        let span = tracing::info_span!("strata.run", scope = %self.scope);
        self.run_inner(pool).instrument(span).await
    }

    async fn run_inner(&self, pool: &PgPool) -> Result<RunReport, Error> {
        let started = Instant::now();
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let target = self.target.unwrap_or(u32::MAX);
        let mut conn = connect(pool).await?;
        let recorded = self.recorded(&mut conn, &all).await?;
        if let Some(newest) = applied_versions(&recorded)
            .filter(|v| *v > target && all.iter().any(|m| m.version == *v))
            .max()
        {
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
            match self.apply_with_retries(&mut conn, migration).await? {
                Some(applied) => report.applied.push(applied),
                None => report.already_applied += 1,
            }
        }
        report.drift = self
            .checked_drift(&mut conn, &expected_state(&manifest, self.target))
            .await?;
        let _ = conn.close().await;
        tracing::info!(
            applied = report.applied.len(),
            already_applied = report.already_applied,
            drift = report.drift.differences.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "strata: start-up done"
        );
        Ok(report)
    }

    /// Undoes every applied migration newer than `version`, newest first,
    /// each with its down file in its own transaction, then checks drift
    /// against the state after `version` (0: before the first migration).
    pub async fn rollback_to(&self, pool: &PgPool, version: u32) -> Result<RollbackReport, Error> {
        let span = tracing::info_span!("strata.rollback", scope = %self.scope, version);
        self.rollback_inner(pool, version).instrument(span).await
    }

    async fn rollback_inner(&self, pool: &PgPool, version: u32) -> Result<RollbackReport, Error> {
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let mut conn = connect(pool).await?;
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
        let _ = conn.close().await;
        Ok(RollbackReport { reverted, drift })
    }

    /// Creates the tracking table if needed and reads this scope's rows,
    /// refusing an edited migration or one this binary does not know.
    async fn recorded(
        &self,
        conn: &mut PgConnection,
        migrations: &[Migration<'_>],
    ) -> Result<Vec<Recorded>, Error> {
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        lock(&mut tx, "").await?;
        for statement in [tracking::CREATE_SCHEMA, tracking::CREATE_TABLE] {
            query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db("creating strata.migrations"))?;
        }
        let recorded: Vec<Recorded> = query_as(tracking::SELECT_APPLIED)
            .bind(&self.scope)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("reading strata.migrations"))?;
        tx.commit()
            .await
            .map_err(db("creating strata.migrations"))?;
        for (version, name, recorded_checksum, success, ..) in &recorded {
            if !success {
                continue;
            }
            let Some(migration) = migrations.iter().find(|m| i64::from(m.version) == *version)
            else {
                if self.allow_unknown {
                    tracing::warn!(
                        version,
                        name,
                        "strata: the database has a migration this binary does not know"
                    );
                    continue;
                }
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

    /// Applies one migration, trying again with a growing pause while it
    /// times out waiting for a table lock.
    async fn apply_with_retries(
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
            let mut pause = Duration::from_millis(100);
            for attempt in 0..=self.lock_retries {
                match self.apply_one(conn, migration).await {
                    Ok(done) => return Ok(done),
                    Err(Failure::Fatal(error)) => return Err(error),
                    Err(Failure::LockTimeout) if attempt < self.lock_retries => {
                        tracing::warn!(
                            attempt = attempt + 1,
                            pause_ms = pause.as_millis() as u64,
                            "strata: lock timeout, trying again"
                        );
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                    Err(Failure::LockTimeout) => {}
                }
            }
            Err(Error::LockTimeout {
                file: migration.file.to_owned(),
                attempts: self.lock_retries + 1,
                lock_timeout: self.lock_timeout,
            })
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
        for statement in split_statements(migration.sql) {
            let span = tracing::debug_span!(
                "strata.statement",
                number = statement.number,
                line = statement.line
            );
            let at = Instant::now();
            // A query without arguments goes over the simple-query protocol, as
            // psql would send it.
            let outcome = sqlx::Executor::execute(&mut *tx, statement.sql)
                .instrument(span)
                .await;
            tracing::debug!(
                number = statement.number,
                elapsed_ms = at.elapsed().as_millis() as u64,
                "strata: statement"
            );
            let Err(error) = outcome else { continue };
            tx.rollback()
                .await
                .map_err(db("rolling back a failed migration"))?;
            let (message, code) = split_error(&error);
            if code.as_deref() == Some(LOCK_NOT_AVAILABLE) {
                return Err(Failure::LockTimeout);
            }
            let failure = Error::MigrationFailed {
                file: migration.file.to_owned(),
                statement: Some((statement.number, statement.line, shorten(statement.sql))),
                message,
                code,
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
    /// "running" row, so no second process starts it; a failure leaves a
    /// failed row that later start-ups refuse until told to retry.
    async fn apply_outside_transaction(
        &self,
        conn: &mut PgConnection,
        migration: &Migration<'_>,
    ) -> Result<Option<AppliedMigration>, Error> {
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
            if !self.retry_failed {
                tx.commit().await.map_err(db("committing"))?;
                return Err(Error::NeedsResolution {
                    file: migration.file.to_owned(),
                    recorded: recorded.unwrap_or_else(|| "failed".to_owned()),
                });
            }
        }
        record_in(
            &mut tx,
            &self.scope,
            migration,
            Duration::ZERO,
            Some("running"),
            false,
        )
        .await?;
        tx.commit().await.map_err(db("claiming a migration"))?;

        // Outside a transaction SET LOCAL does nothing: set, and reset after.
        let timeouts = format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            self.lock_timeout.as_millis(),
            self.statement_timeout.as_millis()
        );
        sqlx::Executor::execute(&mut *conn, timeouts.as_str())
            .await
            .map_err(db("setting the migration's timeouts"))?;
        let started = Instant::now();
        let mut failure = None;
        for statement in split_statements(migration.sql) {
            if let Err(error) = self.run_outside(conn, statement.sql).await {
                let (message, code) = split_error(&error);
                failure = Some(Error::NonTransactionalFailed {
                    file: migration.file.to_owned(),
                    statement: Some((statement.number, statement.line, shorten(statement.sql))),
                    message,
                    code,
                });
                break;
            }
        }
        sqlx::Executor::execute(&mut *conn, "RESET lock_timeout; RESET statement_timeout")
            .await
            .map_err(db("resetting the migration's timeouts"))?;
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

    /// One statement outside a transaction. A concurrent index build that
    /// failed before leaves an INVALID index that `IF NOT EXISTS` would
    /// silently keep: it is dropped first, so it is really rebuilt.
    async fn run_outside(&self, conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
        if let Some((schema, index)) = concurrent_index(sql) {
            let valid: Option<(bool,)> = sqlx::query_as(tracking::INDEX_VALID)
                .persistent(false)
                .bind(schema.as_deref())
                .bind(&index)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some((false,)) = valid {
                tracing::warn!(
                    index,
                    "strata: rebuilding an INVALID index left by a failed concurrent build"
                );
                let target = match &schema {
                    Some(schema) => crate::qualified(schema, &index),
                    None => crate::quote_ident(&index),
                };
                let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {target}");
                sqlx::Executor::execute(&mut *conn, drop.as_str()).await?;
            }
        }
        sqlx::Executor::execute(&mut *conn, sql).await.map(drop)
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
        lock(&mut tx, &self.scope).await?;
        if !is_applied(&mut tx, &self.scope, migration.version).await? {
            tx.commit().await.map_err(db("committing"))?;
            return Ok(None);
        }
        self.set_timeouts(&mut tx).await?;
        let started = Instant::now();
        for statement in split_statements(down_sql) {
            if let Err(error) = sqlx::Executor::execute(&mut *tx, statement.sql).await {
                tx.rollback()
                    .await
                    .map_err(db("rolling back a failed down migration"))?;
                let (message, code) = split_error(&error);
                return Err(Error::MigrationFailed {
                    file: down_file.to_owned(),
                    statement: Some((statement.number, statement.line, shorten(statement.sql))),
                    message,
                    code,
                });
            }
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

    /// `lock_timeout` and `statement_timeout` for this transaction only, so
    /// nothing leaks to the next user of a pooled server connection.
    async fn set_timeouts(&self, conn: &mut PgConnection) -> Result<(), Error> {
        let mut sql = format!(
            "SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}",
            self.lock_timeout.as_millis(),
            self.statement_timeout.as_millis()
        );
        // PostgreSQL 14 and later notice a vanished client (a start-up killed
        // mid-migration) while a statement runs, roll back and free the lock,
        // instead of finishing the statement first.
        if conn.server_version_num().is_some_and(|v| v >= 140_000) {
            sql.push_str("; SET LOCAL client_connection_check_interval = 1000");
        }
        sqlx::Executor::execute(&mut *conn, sql.as_str())
            .await
            .map_err(db("setting the migration's timeouts"))?;
        Ok(())
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

/// Waits for the transaction-level lock of a scope ("" for the tracking
/// table itself), with no `lock_timeout`: waiting for another replica's
/// migration is right. Released by COMMIT or ROLLBACK on every path.
async fn lock(conn: &mut PgConnection, scope: &str) -> Result<(), Error> {
    sqlx::Executor::execute(&mut *conn, "SET LOCAL lock_timeout = 0")
        .await
        .map_err(db("waiting for the migration lock"))?;
    query(tracking::LOCK_SCOPE)
        .bind(tracking::LOCK_CLASS)
        .bind(scope)
        .execute(conn)
        .await
        .map_err(db("waiting for the migration lock"))?;
    Ok(())
}

async fn is_applied(conn: &mut PgConnection, scope: &str, version: u32) -> Result<bool, Error> {
    let row = query(tracking::IS_APPLIED)
        .bind(scope)
        .bind(i64::from(version))
        .fetch_optional(conn)
        .await
        .map_err(db("reading strata.migrations"))?;
    Ok(row.is_some())
}

async fn record_in(
    conn: &mut PgConnection,
    scope: &str,
    migration: &Migration<'_>,
    duration: Duration,
    error: Option<&str>,
    transactional: bool,
) -> Result<(), Error> {
    query(tracking::RECORD)
        .bind(scope)
        .bind(i64::from(migration.version))
        .bind(migration.name)
        .bind(&migration.checksum)
        .bind(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
        .bind(error.is_none())
        .bind(error)
        .bind(transactional)
        .execute(conn)
        .await
        .map_err(db("recording a migration in strata.migrations"))?;
    Ok(())
}

/// The schema (if written) and name of the index a `CREATE [UNIQUE] INDEX
/// CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] [schema.]table` statement builds.
fn concurrent_index(sql: &str) -> Option<(Option<String>, String)> {
    let tokens = tokens(sql, 12);
    let word = |i: usize| {
        tokens
            .get(i)
            .map(|(t, quoted)| (t.to_ascii_lowercase(), *quoted))
    };
    let mut i = 0;
    let is = |i: usize, w: &str| word(i).is_some_and(|(t, quoted)| !quoted && t == w);
    if !is(i, "create") {
        return None;
    }
    i += 1;
    if is(i, "unique") {
        i += 1;
    }
    if !(is(i, "index") && is(i + 1, "concurrently")) {
        return None;
    }
    i += 2;
    if is(i, "if") && is(i + 1, "not") && is(i + 2, "exists") {
        i += 3;
    }
    let (name, _) = tokens.get(i)?.clone();
    i += 1;
    if !is(i, "on") {
        return None;
    }
    i += 1;
    if is(i, "only") {
        i += 1;
    }
    let schema = match tokens.get(i + 1) {
        Some((dot, false)) if dot == "." => tokens.get(i).map(|(s, _)| s.clone()),
        _ => None,
    };
    Some((schema, name))
}

/// The first `limit` tokens of a statement: words (folded to lower case, as
/// PostgreSQL folds unquoted names), quoted names (`true`) and single
/// punctuation characters.
fn tokens(sql: &str, limit: usize) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if out.len() >= limit {
            break;
        }
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut name = String::new();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        name.push('"');
                        continue;
                    }
                    break;
                }
                name.push(c);
            }
            out.push((name, true));
        } else if c.is_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if !(c.is_alphanumeric() || c == '_' || c == '$') {
                    break;
                }
                word.push(c.to_ascii_lowercase());
                chars.next();
            }
            out.push((word, false));
        } else {
            chars.next();
            out.push((c.to_string(), false));
        }
    }
    out
}

fn applied_versions(recorded: &[Recorded]) -> impl Iterator<Item = u32> + '_ {
    recorded
        .iter()
        .filter(|(_, _, _, success, ..)| *success)
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

/// A statement for an error message: its first line, at most 120 characters.
fn shorten(sql: &str) -> String {
    let first = sql.lines().next().unwrap_or_default().trim();
    let mut short: String = first.chars().take(120).collect();
    if short.len() < sql.trim().len() {
        short.push_str(" …");
    }
    short
}

fn split_error(error: &sqlx::Error) -> (String, Option<String>) {
    match error {
        sqlx::Error::Database(e) => (e.message().to_owned(), e.code().map(|c| c.into_owned())),
        other => (other.to_string(), None),
    }
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

#[cfg(test)]
mod tests {
    use super::concurrent_index;

    #[test]
    fn finds_the_index_a_concurrent_build_makes() {
        assert_eq!(
            concurrent_index(
                r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Notes_idx" ON "tenant_kct"."customers" ("note")"#
            ),
            Some((Some("tenant_kct".into()), "Notes_idx".into()))
        );
        assert_eq!(
            concurrent_index("create index concurrently orders_idx on only orders (placed_at)"),
            Some((None, "orders_idx".into()))
        );
        assert_eq!(
            concurrent_index("CREATE INDEX orders_idx ON orders (placed_at)"),
            None
        );
    }
}
