//! Schema per tenant: creating a tenant and migrating every tenant.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool, Postgres};
use strata_manifest::{qualified, quote_ident};

use crate::error::db;
use crate::migrations::Migration;
use crate::runner::Timeouts;
use crate::session::{query, query_as};
use crate::tenant::check_prefix;
use crate::tenant_apply::{apply_in_steps, apply_pending, has_after_steps, Part, Stop};
use crate::tracking::{applied_versions, check_history, Recorded};
use crate::{tracking, AppliedMigration, Error, Migrations, TenantSchema};

/// Returns, for each scope of `$1` with rows: its newest version applied,
/// how many versions up to `$4` it has applied, and whether any applied
/// migration is not one of this binary's (versions `$2` with checksums
/// `$3`): unknown, or edited since.
const SETTLED: &str = r#"SELECT "scope",
    coalesce(max("version") FILTER (WHERE "success"), 0),
    count(*) FILTER (WHERE "success" AND "version" <= $4),
    coalesce(bool_or("success" AND ("version", "checksum") NOT IN (
        SELECT v, c FROM unnest($2::bigint[], $3::text[]) AS k (v, c))), false)
FROM "strata"."migrations" WHERE "scope" = ANY($1) GROUP BY "scope""#;

/// Returns a row when a schema of this name exists.
const SCHEMA_EXISTS: &str = "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1";

/// Whether the schema of `tenant` exists.
pub(crate) async fn schema_exists(
    conn: &mut PgConnection,
    tenant: &TenantSchema,
) -> Result<bool, Error> {
    Ok(query(SCHEMA_EXISTS)
        .bind(tenant.name())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("looking for the tenant's schema"))?
        .is_some())
}

/// The tenants of an application and their migrations: the tenant stream
/// that `strata_build` writes for `#[strata::schema(tenant)]` models.
///
/// ```no_run
/// # async fn start(pool: strata::sqlx::PgPool, tenant_migrations: &strata::Migrations) -> Result<(), strata::Error> {
/// let tenants = strata::Tenants::new(tenant_migrations)
///     .prefix("tenant_")
///     .registry("public", "tenants", "id")
///     .concurrency(8);
/// tenants.create(&pool, &tenants.schema("acme")?).await?;
/// let report = tenants.migrate_all(&pool).await?;
/// for failed in report.failed() {
///     eprintln!("{failed}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tenants<'m> {
    pub(crate) migrations: &'m Migrations,
    pub(crate) prefix: String,
    pub(crate) registry: Option<Registry>,
    concurrency: usize,
    pub(crate) target: Option<u32>,
    pub(crate) timeouts: Timeouts,
    progress: Option<Arc<ProgressFn>>,
    pub(crate) confirm: strata_manifest::Confirm,
    rollout: Option<crate::Rollout>,
    pub(crate) wave_progress: Option<Arc<WaveFn>>,
}

type WaveFn = dyn Fn(crate::WaveProgress<'_>) + Send + Sync;

type ProgressFn = dyn Fn(TenantProgress<'_>) + Send + Sync;

/// Where the tenant ids are listed: a table and its id column.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) column: String,
}

impl Registry {
    /// `error`, met `doing` something with the registry: a registry that is
    /// not there (no such table, column or schema) is said as such.
    /// The registry's table, quoted and qualified, and its id column, quoted.
    pub(crate) fn names(&self) -> (String, String) {
        (
            qualified(&self.schema, &self.table),
            quote_ident(&self.column),
        )
    }

    pub(crate) fn error(&self, doing: &'static str, error: sqlx::Error) -> Error {
        let missing = error
            .as_database_error()
            .and_then(|e| e.code())
            .is_some_and(|code| matches!(code.as_ref(), "42P01" | "42703" | "3F000"));
        match missing {
            true => Error::NoRegistryTable {
                registry: format!("{}.{}.{}", self.schema, self.table, self.column),
                message: error
                    .as_database_error()
                    .map(|e| e.message().to_owned())
                    .unwrap_or_default(),
            },
            false => db(doing)(error),
        }
    }
}

impl std::fmt::Debug for Tenants<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants")
            .field("prefix", &self.prefix)
            .field("registry", &self.registry)
            .field("concurrency", &self.concurrency)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// What a run does to each tenant.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Action {
    /// Brings it up to date (or to the target).
    Migrate,
    /// Undoes its migrations newer than this version.
    Rollback(u32),
}

/// A tenant to migrate, or a registry id that names no valid schema.
pub(crate) enum Listed {
    Tenant(TenantSchema),
    Invalid(String, Error),
}

impl Listed {
    /// The tenant's schema, when the id names one.
    pub(crate) fn schema(&self) -> Option<&TenantSchema> {
        match self {
            Listed::Tenant(tenant) => Some(tenant),
            Listed::Invalid(..) => None,
        }
    }

    /// The tenant's id, as the registry holds it.
    pub(crate) fn id(&self) -> &str {
        match self {
            Listed::Tenant(tenant) => tenant.id(),
            Listed::Invalid(id, _) => id,
        }
    }

    /// How a report names it: its schema, or the id that names none.
    pub(crate) fn label(&self) -> &str {
        match self {
            Listed::Tenant(tenant) => tenant.name(),
            Listed::Invalid(id, _) => id,
        }
    }
}

/// What [`Tenants::create`] did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CreatedTenant {
    /// The new schema.
    pub tenant: TenantSchema,
    /// The tenant migrations applied, oldest first.
    pub applied: Vec<AppliedMigration>,
}

/// What a run over many tenants did, one outcome per tenant in the order given.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct TenantsReport {
    /// Every tenant's outcome.
    pub tenants: Vec<TenantOutcome>,
    /// How long the whole run took.
    pub elapsed: Duration,
    /// The rollout, when the run was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::RolloutReport>,
}

/// One tenant's outcome.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct TenantOutcome {
    /// The tenant's schema (or, for an id that names no valid schema, the id).
    pub tenant: String,
    /// What happened.
    #[serde(flatten)]
    pub status: TenantStatus,
}

/// What happened to one tenant.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TenantStatus {
    /// Migrations were applied, all in one transaction.
    Applied {
        /// The version before.
        from: u32,
        /// The version now.
        to: u32,
        /// The migrations applied, oldest first.
        migrations: Vec<AppliedMigration>,
    },
    /// Migrations were undone with their down files, all in one transaction.
    RolledBack {
        /// The version before.
        from: u32,
        /// The version now.
        to: u32,
        /// The migrations undone, newest first.
        migrations: Vec<AppliedMigration>,
    },
    /// Nothing was pending (or, for a rollback, nothing newer than its version).
    Current {
        /// The tenant's version.
        version: u32,
    },
    /// Something failed; the tenant's transaction was rolled back, so it is
    /// still at `version`, exactly as before the run. But for a migration
    /// with steps after the transaction (`-- strata:after-transaction`):
    /// the migrations before it stay applied, and its part before the
    /// steps and the steps that ran stay done; the next run goes on from
    /// the step that failed, and `version` is the version reached.
    Failed {
        /// The version the tenant stays at.
        version: u32,
        /// Why.
        #[serde(serialize_with = "as_text")]
        error: Error,
    },
    /// A rollout stopped before the tenant's wave: it is as it was.
    NotReached,
    /// The tenant's server could not be reached, so it was not touched:
    /// it is as it was, and the next run goes on with it.
    Unreachable {
        /// The server of the fleet that holds it.
        server: String,
        /// Why.
        #[serde(serialize_with = "as_text")]
        error: Error,
    },
    /// The tenant has a migration newer than any this binary knows: a newer
    /// binary migrated it (during a rolling deploy, say). It is left as it
    /// is; nothing is rolled back.
    Ahead {
        /// The tenant's version.
        version: u32,
        /// The newest tenant migration this binary knows.
        newest: u32,
    },
}

/// The tenants a registry lists: those whose id names a schema, and the
/// rows whose id cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TenantList {
    /// The tenants, in id order.
    pub tenants: Vec<TenantSchema>,
    /// The registry rows whose id names no valid schema.
    pub invalid: Vec<InvalidTenant>,
}

/// A registry row whose id names no valid schema: reported, never migrated,
/// and no reason to stop for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InvalidTenant {
    /// The id as the registry holds it.
    pub id: String,
    /// Why it names no schema.
    pub error: String,
}

impl std::fmt::Display for InvalidTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "registry id {:?}: {}", self.id, first_line(&self.error))
    }
}

/// The first line of an error, without its help.
pub(crate) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Passed to the progress callback after each tenant.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TenantProgress<'a> {
    /// Tenants finished so far, this one included.
    pub done: usize,
    /// Tenants in the run.
    pub total: usize,
    /// This tenant's outcome.
    pub outcome: &'a TenantOutcome,
}

impl<'m> Tenants<'m> {
    /// The tenants migrated with `migrations` (the tenant stream), in
    /// schemas named `tenant_<id>`, four at a time, no registry.
    pub fn new(migrations: &'m Migrations) -> Self {
        Tenants {
            migrations,
            prefix: TenantSchema::DEFAULT_PREFIX.to_owned(),
            registry: None,
            concurrency: 4,
            target: None,
            timeouts: Timeouts::default(),
            progress: None,
            confirm: strata_manifest::Confirm::none(),
            rollout: None,
            wave_progress: None,
        }
    }

    /// The prefix of every tenant schema (default `tenant_`): lowercase
    /// ASCII letters, digits and `_`, starting with a letter and ending with `_`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The table that lists the tenants, and its column of tenant ids, such
    /// as `registry("public", "tenants", "id")`. [`Tenants::create`] inserts
    /// the id in the same transaction that creates the schema, and
    /// [`Tenants::migrate_all`] migrates every id listed.
    pub fn registry(
        mut self,
        schema: impl Into<String>,
        table: impl Into<String>,
        id_column: impl Into<String>,
    ) -> Self {
        self.registry = Some(Registry {
            schema: schema.into(),
            table: table.into(),
            column: id_column.into(),
        });
        self
    }

    /// How many tenants are migrated at once, each on its own connection
    /// from the pool (default 4; at least 1).
    pub fn concurrency(mut self, tenants: usize) -> Self {
        self.concurrency = tenants.max(1);
        self
    }

    /// Migrate tenants up to and including `version` only (default: all).
    pub fn target(mut self, version: u32) -> Self {
        self.target = Some(version);
        self
    }

    /// How long a tenant's migration waits for a table lock before it is
    /// rolled back and tried again (default 2 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.lock_timeout = timeout;
        self
    }

    /// How many times a tenant that timed out on a lock is tried again (default 5).
    pub fn lock_retries(mut self, retries: u32) -> Self {
        self.timeouts.lock_retries = retries;
        self
    }

    /// The `statement_timeout` of each tenant migration statement (default none).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.statement_timeout = timeout;
        self
    }

    /// Called after each tenant of [`Tenants::migrate`] and
    /// [`Tenants::migrate_all`] finishes, in the order they finish.
    pub fn on_progress(
        mut self,
        callback: impl Fn(TenantProgress<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Migrates (and rolls back) in the waves of `rollout`: canaries first,
    /// a pause or a health gate between waves, an error budget. Its
    /// progress is kept in `strata.rollouts`, so a run interrupted resumes
    /// on the next.
    pub fn rollout(mut self, rollout: crate::Rollout) -> Self {
        self.rollout = Some(rollout);
        self
    }

    /// Called after each wave of a rollout.
    pub fn on_wave(
        mut self,
        callback: impl Fn(crate::WaveProgress<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.wave_progress = Some(Arc::new(callback));
        self
    }

    /// The version a migration takes the tenants to: the newest tenant
    /// migration, or the newest up to the target.
    pub(crate) fn target_version(&self) -> Result<u32, Error> {
        let target = self.target.unwrap_or(u32::MAX);
        Ok(self
            .migrations
            .manifest()?
            .migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| *v <= target)
            .max()
            .unwrap_or(0))
    }

    /// Confirms one lossy down step of [`Tenants::rollback`], named as the
    /// refusal names it: for one tenant (`tenant_acme.contacts.phone`) or
    /// for every tenant (`{tenant}.contacts.phone`). `STRATA_CONFIRM` adds
    /// to these.
    pub fn confirm(mut self, object: impl Into<String>) -> Self {
        self.confirm = self.confirm.object(object);
        self
    }

    /// Confirms every lossy down step of [`Tenants::rollback`].
    pub fn confirm_all(mut self) -> Self {
        self.confirm = strata_manifest::Confirm::all();
        self
    }

    /// The schema of tenant `id` under this prefix, or why the id cannot name one.
    pub fn schema(&self, id: &str) -> Result<TenantSchema, Error> {
        TenantSchema::with_prefix(&self.prefix, id)
    }

    /// The tenants listed in the registry, in id order, and the rows whose
    /// id cannot name a schema.
    pub async fn list(&self, pool: &PgPool) -> Result<TenantList, Error> {
        check_prefix(&self.prefix)?;
        let mut list = TenantList::default();
        for id in self.registry_ids(pool).await? {
            match self.schema(&id) {
                Ok(tenant) => list.tenants.push(tenant),
                Err(error) => list.invalid.push(InvalidTenant {
                    id,
                    error: error.to_string(),
                }),
            }
        }
        Ok(list)
    }

    /// Creates a tenant: its schema, every tenant migration (up to the
    /// target) and, with a registry, its registry row, in one transaction:
    /// afterwards the tenant is complete, or absent if this failed.
    pub async fn create(
        &self,
        pool: &PgPool,
        tenant: &TenantSchema,
    ) -> Result<CreatedTenant, Error> {
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        tracking::ensure(&mut conn).await?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        // The schema first, so that an existing tenant is reported as such.
        let created = self.create_in(&mut tx, tenant).await?;
        if let Some(registry) = &self.registry {
            let (table, column) = registry.names();
            let insert = format!("INSERT INTO {table} ({column}) VALUES ($1)");
            query(&insert)
                .bind(tenant.id())
                .execute(&mut *tx)
                .await
                .map_err(|e| registry.error("adding the tenant to the registry", e))?;
        }
        tx.commit().await.map_err(db("committing a new tenant"))?;
        Ok(created)
    }

    /// Creates a tenant inside the caller's transaction, which may add the
    /// tenant's own rows (a registry row with more columns, say): nothing of
    /// it exists until the caller commits. Fails if the schema exists.
    pub async fn create_in(
        &self,
        tx: &mut sqlx::Transaction<'_, Postgres>,
        tenant: &TenantSchema,
    ) -> Result<CreatedTenant, Error> {
        let conn: &mut PgConnection = tx;
        check_prefix(&self.prefix)?;
        if tenant.prefix() != self.prefix {
            return Err(Error::InvalidTenantId {
                id: tenant.id().to_owned(),
                prefix: self.prefix.clone(),
                reason: format!("its schema {tenant} has the prefix {:?}", tenant.prefix()),
            });
        }
        tracking::ensure(conn).await?;
        crate::tracking::lock(conn, tenant.name()).await?;
        let exists = schema_exists(conn, tenant).await?;
        if exists {
            return Err(Error::TenantExists {
                schema: tenant.name().to_owned(),
            });
        }
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        let pending: Vec<&Migration<'_>> = self.pending(&all, &[]);
        match apply_pending(self, conn, tenant, &pending, Part::Whole).await {
            Ok(applied) => Ok(CreatedTenant {
                tenant: tenant.clone(),
                applied,
            }),
            Err(Stop::LockTimeout(file)) => Err(Error::LockTimeout {
                file,
                attempts: 1,
                lock_timeout: self.timeouts.lock_timeout,
            }),
            Err(Stop::Failed(error, _)) => Err(error),
        }
    }

    /// Migrates every tenant in the registry; see [`Tenants::migrate`]. An
    /// id that cannot name a schema is reported as a failed tenant.
    pub async fn migrate_all(&self, pool: &PgPool) -> Result<TenantsReport, Error> {
        let ids = self.registry_ids(pool).await?;
        let tenants = ids
            .into_iter()
            .map(|id| match self.schema(&id) {
                Ok(schema) => Listed::Tenant(schema),
                Err(error) => Listed::Invalid(id, error),
            })
            .collect();
        self.run(pool, tenants, Action::Migrate).await
    }

    /// Brings each tenant up to date, `concurrency` at a time. Each tenant's
    /// pending migrations run in one transaction under the tenant's lock: a
    /// tenant is migrated completely or not at all, and a failure stops only
    /// that tenant (it is reported, and keeps its version and its data). A
    /// tenant with no migrations applied yet is created. A migration's
    /// steps after its `-- strata:after-transaction` line run, for a tenant
    /// that exists, after the transaction, each on its own and resumably;
    /// the tenant's version advances when they all have. Errors only when
    /// nothing can be done at all (no database, an unreadable manifest).
    pub async fn migrate(
        &self,
        pool: &PgPool,
        tenants: &[TenantSchema],
    ) -> Result<TenantsReport, Error> {
        self.run(
            pool,
            tenants.iter().cloned().map(Listed::Tenant).collect(),
            Action::Migrate,
        )
        .await
    }

    /// Does `action` to each tenant: in the rollout's waves, if one is set.
    pub(crate) async fn run(
        &self,
        pool: &PgPool,
        tenants: Vec<Listed>,
        action: Action,
    ) -> Result<TenantsReport, Error> {
        match &self.rollout {
            Some(rollout) => self.roll_out(pool, rollout, tenants, action).await,
            None => {
                let total = tenants.len();
                self.run_each(pool, tenants, action, (0, total)).await
            }
        }
    }

    /// Does `action` to each tenant, `concurrency` at a time.
    /// `span`: how many tenants of the whole run came before these, and
    /// how many it has, for the progress callback (a rollout's waves).
    pub(crate) async fn run_each(
        &self,
        pool: &PgPool,
        tenants: Vec<Listed>,
        action: Action,
        span: (usize, usize),
    ) -> Result<TenantsReport, Error> {
        let started = Instant::now();
        check_prefix(&self.prefix)?;
        let manifest = self.migrations.manifest()?;
        let all = self.migrations.load(&manifest)?;
        if let Some(m) = all.iter().find(|m| !m.transactional) {
            return Err(Error::TenantNoTransaction {
                file: m.file.to_owned(),
            });
        }
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        tracking::ensure(&mut conn).await?;
        let settled = self.settled(&mut conn, &tenants, &all, action).await?;
        drop(conn);

        let total = tenants.len();
        let all = &all;
        let settled = &settled;
        let mut outcomes: Vec<Option<TenantOutcome>> = (0..total).map(|_| None).collect();
        let mut running = stream::iter(tenants.into_iter().enumerate())
            .map(|(at, tenant)| async move {
                let outcome = match tenant {
                    Listed::Tenant(tenant) if settled.contains_key(tenant.name()) => {
                        TenantOutcome {
                            status: TenantStatus::Current {
                                version: settled[tenant.name()],
                            },
                            tenant: tenant.name().to_owned(),
                        }
                    }
                    Listed::Tenant(tenant) => TenantOutcome {
                        status: match action {
                            Action::Migrate => {
                                self.retried(|| self.attempt(pool, &tenant, all)).await
                            }
                            Action::Rollback(to) => {
                                self.retried(|| self.revert(pool, &tenant, all, to)).await
                            }
                        },
                        tenant: tenant.name().to_owned(),
                    },
                    Listed::Invalid(id, error) => TenantOutcome {
                        tenant: id,
                        status: TenantStatus::Failed { version: 0, error },
                    },
                };
                (at, outcome)
            })
            .buffer_unordered(self.concurrency);
        let mut done = 0;
        while let Some((at, outcome)) = running.next().await {
            done += 1;
            if let Some(progress) = &self.progress {
                progress(TenantProgress {
                    done: span.0 + done,
                    total: span.1,
                    outcome: &outcome,
                });
            }
            outcomes[at] = Some(outcome);
        }
        let report = TenantsReport {
            tenants: outcomes.into_iter().flatten().collect(),
            elapsed: started.elapsed(),
            rollout: None,
        };
        tracing::info!(
            tenants = total,
            failed = report.failed().count(),
            elapsed_ms = report.elapsed.as_millis() as u64,
            "strata: tenants migrated"
        );
        Ok(report)
    }

    /// The tenants that `action` would leave as they are, with their
    /// versions, read for all of them in one query: already at the version
    /// it takes them to, every migration up to it applied as this binary
    /// has it, none newer. They are passed over without a transaction of
    /// their own, so that a run with nothing to do costs one query however
    /// many tenants there are; every other tenant is locked and read again.
    async fn settled(
        &self,
        conn: &mut PgConnection,
        tenants: &[Listed],
        all: &[Migration<'_>],
        action: Action,
    ) -> Result<std::collections::HashMap<String, u32>, Error> {
        let names: Vec<&str> = tenants
            .iter()
            .filter_map(Listed::schema)
            .map(TenantSchema::name)
            .collect();
        if names.is_empty() {
            return Ok(Default::default());
        }
        let (to, wanted) = match action {
            Action::Migrate => {
                let to = self.target_version()?;
                (to, all.iter().filter(|m| m.version <= to).count())
            }
            Action::Rollback(to) => (to, usize::MAX),
        };
        let versions: Vec<i64> = all.iter().map(|m| i64::from(m.version)).collect();
        let checksums: Vec<&str> = all.iter().map(|m| m.checksum.as_str()).collect();
        let rows: Vec<(String, i64, i64, bool)> = query_as(SETTLED)
            .bind(&names)
            .bind(&versions)
            .bind(&checksums)
            .bind(i64::from(to))
            .fetch_all(&mut *conn)
            .await
            .map_err(db("reading the tenants' versions"))?;
        Ok(rows
            .into_iter()
            .filter(|(_, version, applied, strange)| {
                let version = u32::try_from(*version).unwrap_or(u32::MAX);
                !strange
                    && match action {
                        Action::Migrate => {
                            version == to && to > 0 && usize::try_from(*applied) == Ok(wanted)
                        }
                        Action::Rollback(_) => version <= to,
                    }
            })
            .map(|(scope, version, ..)| (scope, u32::try_from(version).unwrap_or(0)))
            .collect())
    }

    /// One tenant's `attempt`, tried again while it times out on a lock.
    async fn retried<F, Fut>(&self, attempt: F) -> TenantStatus
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<TenantStatus, (u32, Stop)>>,
    {
        let mut backoff = self.timeouts.backoff();
        loop {
            match attempt().await {
                Ok(status) => return status,
                Err((version, Stop::LockTimeout(file))) => {
                    if !backoff.wait().await {
                        let error = self.timeouts.gave_up(&file);
                        return TenantStatus::Failed { version, error };
                    }
                }
                Err((version, Stop::Failed(error, _))) => {
                    return TenantStatus::Failed { version, error }
                }
            }
        }
    }

    /// One transaction: lock the tenant, read its history, apply what is pending.
    pub(crate) async fn attempt(
        &self,
        pool: &PgPool,
        tenant: &TenantSchema,
        all: &[Migration<'_>],
    ) -> Result<TenantStatus, (u32, Stop)> {
        let fail = |error: Error| (0, Stop::Failed(error, None));
        let mut conn = pool
            .acquire()
            .await
            .map_err(db("connecting"))
            .map_err(fail)?;
        let mut tx = conn
            .begin()
            .await
            .map_err(db("starting a transaction"))
            .map_err(fail)?;
        crate::tracking::lock(&mut tx, tenant.name())
            .await
            .map_err(fail)?;
        let recorded: Vec<Recorded> = query_as(tracking::SELECT_APPLIED)
            .bind(tenant.name())
            .fetch_all(&mut *tx)
            .await
            .map_err(db("reading strata.migrations"))
            .map_err(fail)?;
        let applied: Vec<u32> = applied_versions(&recorded).collect();
        let version = applied.iter().copied().max().unwrap_or(0);
        let newest = all.iter().map(|m| m.version).max().unwrap_or(0);
        if version > newest {
            let _ = tx.rollback().await;
            return Ok(TenantStatus::Ahead { version, newest });
        }
        if applied.is_empty() {
            // A tenant is made only in a schema that is not there yet: one
            // that is (a shared domain schema named like a tenant) is not
            // this tenant's to write into.
            let exists = schema_exists(&mut tx, tenant).await.map_err(fail)?;
            if exists {
                return Err(fail(Error::NotATenant {
                    schema: tenant.name().to_owned(),
                    id: tenant.id().to_owned(),
                }));
            }
        }
        check_history(&recorded, all, false).map_err(|e| (version, Stop::Failed(e, None)))?;
        let pending = self.pending(all, &applied);
        if pending.is_empty() {
            tx.commit()
                .await
                .map_err(db("committing"))
                .map_err(|e| (version, Stop::Failed(e, None)))?;
            return Ok(TenantStatus::Current { version });
        }
        // A tenant that exists runs the steps after a migration's
        // transaction after it; a new one (nothing applied) runs them in it.
        if !applied.is_empty() && pending.iter().any(|m| has_after_steps(m)) {
            tx.commit()
                .await
                .map_err(db("committing"))
                .map_err(|e| (version, Stop::Failed(e, None)))?;
            drop(conn);
            let migrations = apply_in_steps(self, pool, tenant, &pending, version).await?;
            return Ok(TenantStatus::Applied {
                from: version,
                to: migrations.last().map_or(version, |m| m.version),
                migrations,
            });
        }
        match apply_pending(self, &mut tx, tenant, &pending, Part::Whole).await {
            Ok(migrations) => {
                tx.commit()
                    .await
                    .map_err(db("committing a tenant's migrations"))
                    .map_err(|e| (version, Stop::Failed(e, None)))?;
                Ok(TenantStatus::Applied {
                    from: version,
                    to: migrations.last().map_or(version, |m| m.version),
                    migrations,
                })
            }
            Err(stop) => {
                // Roll back first, then record the failure where the next run
                // and the health report see it.
                let _ = tx.rollback().await;
                if let Stop::Failed(error, Some(failed)) = &stop {
                    if let Some(migration) = pending.iter().find(|m| m.version == *failed) {
                        let _ = crate::tracking::record_failure(
                            &mut conn,
                            tenant.name(),
                            migration,
                            &error.to_string(),
                        )
                        .await;
                    }
                }
                Err((version, stop))
            }
        }
    }

    /// The migrations not in `applied`, up to the target, oldest first.
    fn pending<'a, 'b>(&self, all: &'b [Migration<'a>], applied: &[u32]) -> Vec<&'b Migration<'a>> {
        let target = self.target.unwrap_or(u32::MAX);
        all.iter()
            .filter(|m| m.version <= target && !applied.contains(&m.version))
            .collect()
    }

    /// The ids in the registry, in order.
    pub(crate) async fn registry_ids(&self, pool: &PgPool) -> Result<Vec<String>, Error> {
        let registry = self.registry.as_ref().ok_or(Error::NoTenantRegistry)?;
        let (table, column) = registry.names();
        let select = format!("SELECT {column}::text FROM {table} ORDER BY 1");
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let mut tx = conn
            .begin()
            .await
            .map_err(db("reading the tenant registry"))?;
        let rows: Vec<(String,)> = query_as(&select)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| registry.error("reading the tenant registry", e))?;
        tx.commit()
            .await
            .map_err(db("reading the tenant registry"))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}

impl TenantsReport {
    /// The tenants that failed, each still at its previous version, and
    /// those whose server could not be reached.
    pub fn failed(&self) -> impl Iterator<Item = &TenantOutcome> {
        self.tenants.iter().filter(|t| {
            matches!(
                t.status,
                TenantStatus::Failed { .. } | TenantStatus::Unreachable { .. }
            )
        })
    }

    /// The tenants this run migrated.
    pub fn applied(&self) -> impl Iterator<Item = &TenantOutcome> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.status, TenantStatus::Applied { .. }))
    }

    /// The tenants this run rolled back.
    pub fn rolled_back(&self) -> impl Iterator<Item = &TenantOutcome> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.status, TenantStatus::RolledBack { .. }))
    }

    /// The tenants that had nothing pending.
    pub fn current(&self) -> impl Iterator<Item = &TenantOutcome> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.status, TenantStatus::Current { .. }))
    }

    /// The tenants a newer binary migrated, left as they are.
    pub fn ahead(&self) -> impl Iterator<Item = &TenantOutcome> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.status, TenantStatus::Ahead { .. }))
    }

    /// True when every tenant given is at the target now, migrated by this
    /// run or current already (as [`crate::Status::is_current`] says of one
    /// scope): none failed, none is ahead of this binary, none was left
    /// out by a rollout that stopped.
    pub fn is_current(&self) -> bool {
        self.tenants.iter().all(|t| {
            matches!(
                t.status,
                TenantStatus::Applied { .. }
                    | TenantStatus::RolledBack { .. }
                    | TenantStatus::Current { .. }
            )
        })
    }
}

impl std::fmt::Display for TenantsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rolled_back = self.rolled_back().count();
        let done = match rolled_back {
            0 => format!("{} migrated", self.applied().count()),
            n => format!("{n} rolled back"),
        };
        write!(
            f,
            "{} tenants: {done}, {} already current, {} failed, in {:.1?}",
            self.tenants.len(),
            self.current().count(),
            self.failed().count(),
            self.elapsed
        )?;
        for ahead in self.ahead() {
            write!(f, "\n  - {ahead}")?;
        }
        if let Some(rollout) = &self.rollout {
            write!(
                f,
                "\nrollout: {} of {} waves done{}",
                rollout.waves_done,
                rollout.waves,
                if rollout.resumed { ", resumed" } else { "" }
            )?;
            if let Some(reason) = &rollout.stopped {
                let left = self
                    .tenants
                    .iter()
                    .filter(|t| matches!(t.status, TenantStatus::NotReached))
                    .count();
                write!(
                    f,
                    "; stopped: {reason}; {left} tenant(s) not reached\nhelp: fix what failed, then run the rollout again: it goes on where it stopped"
                )?;
            }
        }
        for failed in self.failed() {
            write!(f, "\n  - {failed}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for TenantOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.status {
            TenantStatus::Applied { from, to, .. } => {
                write!(f, "{}: migrated from version {from} to {to}", self.tenant)
            }
            TenantStatus::RolledBack { from, to, .. } => {
                write!(f, "{}: rolled back from version {from} to {to}", self.tenant)
            }
            TenantStatus::Current { version } => {
                write!(f, "{}: current at version {version}", self.tenant)
            }
            TenantStatus::Failed { version, error } => write!(
                f,
                "{}: failed, still at version {version}: {error}",
                self.tenant
            ),
            TenantStatus::NotReached => write!(
                f,
                "{}: not reached, as it was: the rollout stopped before its wave",
                self.tenant
            ),
            TenantStatus::Unreachable { error, .. } => write!(
                f,
                "{}: not touched, as it was: {}",
                self.tenant,
                first_line(&error.to_string())
            ),
            TenantStatus::Ahead { version, newest } => write!(
                f,
                "{}: ahead, at version {version} while this binary knows up to {newest}; left as it is (a newer binary migrated it)",
                self.tenant
            ),
        }
    }
}

fn as_text<S: serde::Serializer>(error: &Error, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(error)
}
