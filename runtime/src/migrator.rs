//! Applies pending migrations at start-up, exactly once however many replicas
//! start, and rolls them back on request.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use strata_manifest::{Confirm, Manifest, SchemaState};
use tracing::Instrument;

use crate::drift::{compare_expected, compare_kinds, DriftCheck, DriftPolicy, DriftReport};
use crate::error::db;
use crate::migrations::Migration;
use crate::runner::Timeouts;
use crate::session::{connect, query_as};
use crate::tracking::{applied_versions, check_history, Recorded};
use crate::{introspect, tracking, watch, Error, Migrations};

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
#[derive(Clone)]
pub struct Migrator<'m> {
    pub(crate) migrations: &'m Migrations,
    pub(crate) scope: String,
    pub(crate) drift_policy: DriftPolicy,
    pub(crate) target: Option<u32>,
    pub(crate) timeouts: Timeouts,
    pub(crate) allow_unknown: bool,
    pub(crate) retry_failed: bool,
    pub(crate) confirm: Confirm,
    pub(crate) direct: Option<PgConnectOptions>,
    pub(crate) ddl_watch: bool,
}

/// Everything but the password of [`Migrator::direct`]'s options.
impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations)
            .field("scope", &self.scope)
            .field("drift_policy", &self.drift_policy)
            .field("target", &self.target)
            .field("timeouts", &self.timeouts)
            .field("allow_unknown", &self.allow_unknown)
            .field("retry_failed", &self.retry_failed)
            .field("confirm", &self.confirm)
            .field("direct", &self.direct.as_ref().map(crate::redact::options))
            .field("ddl_watch", &self.ddl_watch)
            .finish()
    }
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The migrations this run applied, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// How many migrations were already applied.
    pub already_applied: usize,
    /// The drift check after applying (empty when the policy is `Ignore`).
    pub drift: DriftReport,
    /// Whether that check read the whole catalog, or the DDL watch showed
    /// that nothing changed since the last clean one.
    pub drift_check: DriftCheck,
    /// The partitions this run made ahead of time (`partition_interval`,
    /// `default_partition`), schema-qualified.
    pub partitions_made: Vec<String>,
    /// The partitions past `partitions_kept` this run detached and dropped,
    /// as confirmed (`Migrator::confirm`, `STRATA_CONFIRM`).
    pub partitions_dropped: Vec<String>,
    /// The partitions past `partitions_kept` kept because their drop is not
    /// confirmed: confirm each by name to drop it at the next start-up.
    pub partitions_unconfirmed: Vec<String>,
    /// A no-transaction migration another process is applying right now
    /// (a long `CREATE INDEX CONCURRENTLY`), if any: this run started
    /// without it and the migrations after it, made no partitions and
    /// checked no drift (`drift_check` is `Skipped`). Start again once it
    /// is done.
    pub in_progress: Vec<String>,
}

/// What a rollback did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RollbackReport {
    /// The migrations undone, newest first.
    pub reverted: Vec<AppliedMigration>,
    /// The drift check against the version rolled back to (empty when the policy is `Ignore`).
    pub drift: DriftReport,
}

/// One migration applied (or undone) by this run.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
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
            target: None,
            timeouts: Timeouts::default(),
            allow_unknown: false,
            retry_failed: false,
            confirm: Confirm::none(),
            direct: None,
            ddl_watch: true,
        }
    }

    /// Whether a start-up installs and uses the DDL watch (default true): an
    /// event trigger that logs every DDL transaction, so that a start-up with
    /// nothing pending and no DDL since the last clean drift check reads only
    /// the database's settings instead of the whole catalog. Installing it
    /// takes a superuser; for any other role every start-up checks in full.
    /// With `false`, nothing is installed and every check is full; an
    /// installed watch stays (drop it with `DROP EVENT TRIGGER strata_ddl`).
    pub fn ddl_watch(mut self, watch: bool) -> Self {
        self.ddl_watch = watch;
        self
    }

    /// A direct connection to the server, not through a pooler, for
    /// `-- strata:no-transaction` migrations (as Prisma's `directUrl`).
    /// `CREATE INDEX CONCURRENTLY` cannot run in a transaction, so its
    /// timeouts can only be set for a whole session; through a transaction
    /// pooler such a `SET` would stay on a server connection that other
    /// clients get next. Without a direct connection, no-transaction
    /// migrations run on the start-up's connection without strata's
    /// `lock_timeout` and `statement_timeout` (set them for the migrating
    /// role instead: `ALTER ROLE … SET lock_timeout = '2s'`).
    pub fn direct(mut self, options: PgConnectOptions) -> Self {
        self.direct = Some(options);
        self
    }

    /// Confirms one lossy down step for [`Migrator::rollback_to`], named as
    /// its refusal names it (`shop.items.note`, or a hand-written down
    /// file's name). The environment's `STRATA_CONFIRM` (`all`, or names
    /// separated by commas) adds to it, as it does at build time.
    pub fn confirm(mut self, object: impl Into<String>) -> Self {
        self.confirm = self.confirm.object(object);
        self
    }

    /// Confirms every lossy down step, as `STRATA_CONFIRM=all` does.
    pub fn confirm_all(mut self) -> Self {
        self.confirm = Confirm::all();
        self
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
        self.timeouts.lock_timeout = timeout;
        self
    }

    /// How many times a migration that timed out on a lock is tried again,
    /// with a growing pause, before the start-up gives up (default 5).
    pub fn lock_retries(mut self, retries: u32) -> Self {
        self.timeouts.lock_retries = retries;
        self
    }

    /// The `statement_timeout` of each migration statement (default none).
    /// The start-up sets it on its own connection, so it never inherits the
    /// application's, which is made for queries, not for building indexes.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.statement_timeout = timeout;
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
        // Without the changes and the state: at 11,000 tables they are tens
        // of MiB, and a start-up the DDL watch vouches for needs neither.
        let manifest = self.migrations.manifest_light()?;
        let all = self.migrations.load(&manifest)?;
        let target = self.target.unwrap_or(u32::MAX);
        let mut conn = connect(pool).await?;
        let recorded = self.recorded(&mut conn, &all).await?;
        let watched = self.ddl_watch
            && self.drift_policy != DriftPolicy::Ignore
            && watch::ensure(&mut conn).await?;
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
            drift_check: DriftCheck::Skipped,
            partitions_made: Vec::new(),
            partitions_dropped: Vec::new(),
            partitions_unconfirmed: Vec::new(),
            in_progress: Vec::new(),
        };
        for migration in all.iter().filter(|m| m.version <= target) {
            if applied_versions(&recorded).any(|v| v == migration.version) {
                report.already_applied += 1;
                continue;
            }
            match self.apply_with_retries(&mut conn, migration).await {
                Ok(Some(applied)) => report.applied.push(applied),
                Ok(None) => report.already_applied += 1,
                // A long online step another replica runs: this one starts
                // without it and without what follows it, and says so.
                Err(Error::InProgressElsewhere { file, recorded }) => {
                    tracing::warn!(
                        file,
                        claim = recorded,
                        "strata: another process is applying this migration; starting without it and the ones after it, and without a drift check"
                    );
                    report.in_progress.push(file);
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        if !report.in_progress.is_empty() {
            // The catalog is on its way to the migration's state: a drift
            // check now would report the build under way.
            let _ = conn.close().await;
            return Ok(report);
        }
        // The partitions ahead, for the state this binary migrated to.
        let last = manifest.migrations.last().map_or(0, |m| m.version);
        let partitioned = match self.target {
            Some(target) if target < last => Vec::new(),
            _ => crate::partitions::partitioned(&manifest.state),
        };
        if !partitioned.is_empty() {
            let confirm = crate::migrations::with_env_confirmation(&self.confirm);
            let done = crate::partitions::maintain(&mut conn, partitioned, &confirm).await?;
            report.partitions_made = done.made;
            report.partitions_dropped = done.dropped;
            report.partitions_unconfirmed = done.unconfirmed;
            for object in &report.partitions_unconfirmed {
                tracing::warn!(partition = %object, "strata: a partition past partitions_kept is kept until its drop is confirmed");
            }
        }
        let fingerprint =
            watched.then(|| watch::fingerprint(&self.migrations.manifest_digest(), self.target));
        (report.drift, report.drift_check) = self
            .checked_drift(
                &mut conn,
                Expected::Lazily {
                    light: &manifest.state,
                    last: manifest.migrations.last().map_or(0, |m| m.version),
                },
                fingerprint.as_deref(),
            )
            .await?;
        let _ = conn.close().await;
        tracing::info!(
            applied = report.applied.len(),
            already_applied = report.already_applied,
            drift = report.drift.differences.len(),
            drift_check = ?report.drift_check,
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
        // Everything that would refuse is refused before anything is undone.
        crate::migrations::refuse_down_files(&undo)?;
        let confirm = crate::migrations::with_env_confirmation(&self.confirm);
        let unconfirmed: Vec<_> = undo
            .iter()
            .flat_map(|m| m.lossy_down.iter())
            .filter(|step| !confirm.covers(&step.object))
            .cloned()
            .collect();
        if !unconfirmed.is_empty() {
            return Err(Error::UnconfirmedRollback { steps: unconfirmed });
        }
        let mut reverted: Vec<AppliedMigration> = Vec::new();
        for migration in undo {
            match self.revert_one(&mut conn, migration).await {
                Ok(Some(done)) => reverted.push(done),
                Ok(None) => {}
                Err(cause) if reverted.is_empty() => return Err(cause),
                Err(cause) => {
                    return Err(Error::RollbackIncomplete {
                        undone: reverted
                            .iter()
                            .map(|m| format!("{:04} {}", m.version, m.name))
                            .collect(),
                        at: migration.version,
                        cause: Box::new(cause),
                    })
                }
            }
        }
        let (drift, _) = self
            .checked_drift(
                &mut conn,
                Expected::State(Box::new(manifest.state_at(version))),
                None,
            )
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
        tracking::ensure(conn).await?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        let recorded: Vec<Recorded> = query_as(tracking::SELECT_APPLIED)
            .bind(&self.scope)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("reading strata.migrations"))?;
        tx.commit().await.map_err(db("reading strata.migrations"))?;
        check_history(&recorded, migrations, self.allow_unknown)?;
        Ok(recorded)
    }

    /// Checks drift: only what the DDL watch cannot vouch for when it has
    /// seen no DDL since the last clean check of `fingerprint`, else in full
    /// (recording a clean full check for the next start-up).
    async fn checked_drift(
        &self,
        conn: &mut PgConnection,
        expected: Expected<'_>,
        fingerprint: Option<&str>,
    ) -> Result<(DriftReport, DriftCheck), Error> {
        if self.drift_policy == DriftPolicy::Ignore {
            return Ok((DriftReport::default(), DriftCheck::Skipped));
        }
        let light: &SchemaState = match &expected {
            Expected::Lazily { light, .. } => light,
            Expected::State(state) => state,
        };
        let unwatched = match fingerprint {
            Some(fingerprint) => introspect::read_unwatched(conn, light, fingerprint).await?,
            None => None,
        };
        let (drift, how) = match unwatched {
            Some(catalog) => {
                let drift = compare_kinds(
                    crate::catalog::UNWATCHED,
                    &crate::expected::Expected::whole(light),
                    &catalog,
                );
                // Nothing changed in these schemas up to now: the clean
                // check moves up to now, and the log forgets what came
                // between (other schemas' DDL), unread from then on.
                // (The check's own schemas: the light state holds none.)
                if let (true, Some(fingerprint), Some(Some(schemas))) =
                    (drift.is_clean(), fingerprint, &catalog.seen.renews)
                {
                    let schemas: Vec<&str> = schemas.iter().map(String::as_str).collect();
                    watch::record(conn, fingerprint, &catalog.seen, &schemas).await;
                }
                (drift, DriftCheck::Unchanged)
            }
            None => {
                let expected = match expected {
                    Expected::State(state) => crate::expected::Expected::owned(*state),
                    Expected::Lazily { last, .. } => {
                        match self.target {
                            // Replayed from the changes, which only this needs.
                            Some(version) if version < last => crate::expected::Expected::owned(
                                self.migrations.manifest()?.state_at(version),
                            ),
                            _ => self.migrations.expected()?,
                        }
                    }
                };
                let catalog = introspect::read_catalog_for_drift(conn, &expected).await?;
                let drift = compare_expected(&expected, &catalog);
                if let (true, Some(fingerprint)) = (drift.is_clean(), fingerprint) {
                    let schemas: Vec<&str> =
                        expected.state.schemas.iter().map(String::as_str).collect();
                    watch::record(conn, fingerprint, &catalog.seen, &schemas).await;
                }
                (drift, DriftCheck::Full)
            }
        };
        if self.drift_policy == DriftPolicy::Fail && !drift.is_clean() {
            return Err(Error::Drift(Box::new(drift)));
        }
        Ok((drift, how))
    }
}

/// The state a drift check compares with: at hand, or to be read from the
/// whole manifest only if the check must be full (a light manifest's state,
/// which holds what the kinds the DDL watch cannot vouch for compare).
enum Expected<'a> {
    State(Box<SchemaState>),
    Lazily { light: &'a SchemaState, last: u32 },
}

/// The state drift is checked against: after the target, or after the last migration.
pub(crate) fn expected_state(manifest: &Manifest, target: Option<u32>) -> SchemaState {
    let last = manifest.migrations.last().map_or(0, |m| m.version);
    match target {
        Some(version) if version < last => manifest.state_at(version),
        _ => manifest.state.clone(),
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
