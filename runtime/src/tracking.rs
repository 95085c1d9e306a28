//! The tracking table `strata.migrations`: reading and recording a scope's
//! migrations, and the lock that serialises start-ups and tenants.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{Connection, PgConnection, Postgres};

use crate::error::db;
use std::time::Duration;

use crate::migrations::Migration;
use crate::session::{query, query_as};
use crate::Error;

/// A row of `strata.migrations`: version, name, checksum, success, transactional, error.
pub(crate) type Recorded = (i64, String, String, bool, bool, Option<String>);

/// The versions a scope has applied successfully.
pub(crate) fn applied_versions(recorded: &[Recorded]) -> impl Iterator<Item = u32> + '_ {
    recorded
        .iter()
        .filter(|(_, _, _, success, ..)| *success)
        .filter_map(|(version, ..)| u32::try_from(*version).ok())
}

/// Refuses a history in which an applied migration was edited since, or is
/// one `migrations` does not have (with `allow_unknown`, only a warning).
pub(crate) fn check_history(
    recorded: &[Recorded],
    migrations: &[Migration<'_>],
    allow_unknown: bool,
) -> Result<(), Error> {
    for (version, name, recorded_checksum, success, ..) in recorded {
        if !success {
            continue;
        }
        let Some(migration) = migrations.iter().find(|m| i64::from(m.version) == *version) else {
            if allow_unknown {
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
    Ok(())
}

/// The first half of every advisory lock key strata takes ("STRA").
pub(crate) const LOCK_CLASS: i32 = 0x5354_5241;

/// Waits for the transaction-level lock of one scope (or of the tracking
/// table itself, for scope ""). Transaction-level, not session-level: it is
/// released by COMMIT or ROLLBACK on any path, so a failed or cancelled
/// start-up never leaves it behind on a pooled connection.
pub(crate) const LOCK_SCOPE: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

/// The same lock for a session: only on a connection of strata's own,
/// closed after (a tenant's steps after its transaction), never a pooled one.
pub(crate) const LOCK_SCOPE_SESSION: &str = "SELECT pg_advisory_lock($1, hashtext($2))";

/// Creates the tracking schema; run under the lock, so concurrent starts never race on it.
pub(crate) const CREATE_SCHEMA: &str = r#"CREATE SCHEMA IF NOT EXISTS "strata""#;

/// Creates the tracking table: one row per scope and migration version.
pub(crate) const CREATE_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "strata"."migrations" (
    "scope" text NOT NULL,
    "version" bigint NOT NULL,
    "name" text NOT NULL,
    "checksum" text NOT NULL,
    "applied_at" timestamp with time zone NOT NULL DEFAULT now(),
    "execution_ms" bigint NOT NULL,
    "success" boolean NOT NULL,
    "transactional" boolean NOT NULL DEFAULT true,
    "error" text,
    PRIMARY KEY ("scope", "version")
)"#;

/// Creates the cache of the server's spelling of the models' expressions
/// (see `canonical.rs`): one row per server version and key, the SHA-256 of
/// the expression and the columns it sees; the expression is kept for people.
pub(crate) const CREATE_EXPRESSIONS: &str = r#"CREATE TABLE IF NOT EXISTS "strata"."expressions" (
    "server_version" integer NOT NULL,
    "key" text NOT NULL,
    "expression" text NOT NULL,
    "canonical" text NOT NULL,
    PRIMARY KEY ("server_version", "key")
)"#;

/// Creates the progress of the migrations that run outside a transaction:
/// how many of its statements one has run, so that a retry after a
/// failure goes on from the statement that failed instead of running
/// again what it cannot run twice (a check dropped, an index built).
/// Keyed by the file's checksum too: a file made again under the same
/// version starts from its first statement.
pub(crate) const CREATE_PROGRESS: &str = r#"CREATE TABLE IF NOT EXISTS "strata"."progress" (
    "scope" text NOT NULL,
    "version" bigint NOT NULL,
    "checksum" text NOT NULL,
    "statements_done" integer NOT NULL,
    PRIMARY KEY ("scope", "version")
)"#;

/// Returns how many statements of version `$2` of scope `$1`, as the file
/// of checksum `$3` has them, have run.
pub(crate) const PROGRESS: &str = r#"SELECT "statements_done" FROM "strata"."progress"
WHERE "scope" = $1 AND "version" = $2 AND "checksum" = $3"#;

/// Records that `$4` statements of version `$2` of scope `$1` (checksum
/// `$3`) have run.
pub(crate) const RECORD_PROGRESS: &str = r#"INSERT INTO "strata"."progress" ("scope", "version", "checksum", "statements_done")
VALUES ($1, $2, $3, $4)
ON CONFLICT ("scope", "version") DO UPDATE SET "checksum" = EXCLUDED."checksum", "statements_done" = EXCLUDED."statements_done""#;

/// Forgets the progress of version `$2` of scope `$1`, once it is applied
/// or undone.
pub(crate) const FORGET_PROGRESS: &str =
    r#"DELETE FROM "strata"."progress" WHERE "scope" = $1 AND "version" = $2"#;

/// Returns whether each of strata's tables exists.
const BOTH_EXIST: &str = r#"SELECT to_regclass('"strata"."migrations"') IS NOT NULL
    AND to_regclass('"strata"."expressions"') IS NOT NULL
    AND to_regclass('"strata"."progress"') IS NOT NULL"#;

/// Returns version, name, checksum and success of every recorded migration of a scope.
pub(crate) const SELECT_APPLIED: &str = r#"SELECT "version", "name", "checksum", "success", "transactional", "error"
FROM "strata"."migrations" WHERE "scope" = $1 ORDER BY "version""#;

/// Returns a row when the given version of a scope is applied successfully.
pub(crate) const IS_APPLIED: &str = r#"SELECT 1 FROM "strata"."migrations"
WHERE "scope" = $1 AND "version" = $2 AND "success""#;

/// Records the outcome of one migration: scope, version, name, checksum,
/// execution_ms, success, error, transactional.
pub(crate) const RECORD: &str = r#"INSERT INTO "strata"."migrations"
    ("scope", "version", "name", "checksum", "execution_ms", "success", "error", "transactional")
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT ("scope", "version") DO UPDATE SET
    "name" = EXCLUDED."name", "checksum" = EXCLUDED."checksum", "applied_at" = now(),
    "execution_ms" = EXCLUDED."execution_ms", "success" = EXCLUDED."success",
    "error" = EXCLUDED."error", "transactional" = EXCLUDED."transactional""#;

/// The claim of a no-transaction migration whose process has no direct
/// connection: nothing tells whether it still runs.
pub(crate) const RUNNING: &str = "running";

/// How the claim of a migration run on a direct connection begins.
pub(crate) const RUNNING_ON: &str = "running on backend ";

/// The claim of a migration run on this connection: `running on backend
/// <pid> started <backend_start, in seconds since 1970>`, which [`CLAIMANT_ALIVE`] reads back.
pub(crate) const CLAIMANT: &str = r#"SELECT 'running on backend ' || pg_backend_pid() || ' started ' || extract(epoch FROM backend_start)::text
FROM pg_catalog.pg_stat_activity WHERE pid = pg_backend_pid()"#;

/// Whether the backend a claim `$1` names (see [`CLAIMANT`]) still runs:
/// the same pid, started at the same time.
pub(crate) const CLAIMANT_ALIVE: &str = r#"SELECT EXISTS (
    SELECT FROM pg_catalog.pg_stat_activity
    WHERE $1 = 'running on backend ' || pid || ' started ' || extract(epoch FROM backend_start)::text)"#;

/// Returns whether the index `$2` in schema `$1` (or the current one) exists and is valid.
pub(crate) const INDEX_VALID: &str = r#"SELECT x.indisvalid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
WHERE n.nspname = coalesce($1, current_schema()) AND i.relname = $2"#;

/// Forgets a migration of a scope, once its down file has undone it.
pub(crate) const FORGET: &str =
    r#"DELETE FROM "strata"."migrations" WHERE "scope" = $1 AND "version" = $2"#;

/// Returns success and error of one version of a scope, if recorded.
pub(crate) const STATE: &str = r#"SELECT "success", "error" FROM "strata"."migrations"
WHERE "scope" = $1 AND "version" = $2"#;

/// Returns whether the tracking table exists.
pub(crate) const EXISTS: &str = r#"SELECT to_regclass('"strata"."migrations"') IS NOT NULL"#;

/// Creates the tracking table unless it exists, under the lock of scope "",
/// in a transaction of its own (a savepoint inside the caller's).
pub(crate) async fn ensure(conn: &mut PgConnection) -> Result<(), Error> {
    let context = "creating strata.migrations";
    let mut tx = conn.begin().await.map_err(db(context))?;
    let (exists,): (bool,) = query_as(BOTH_EXIST)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    if !exists {
        lock(&mut tx, "").await?;
        for statement in [
            CREATE_SCHEMA,
            CREATE_TABLE,
            CREATE_EXPRESSIONS,
            CREATE_PROGRESS,
        ] {
            query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db(context))?;
        }
    }
    tx.commit().await.map_err(db(context))
}

/// Runs `query` in a transaction of its own, or returns no rows when the
/// tracking table does not exist yet (a database strata never migrated).
pub(crate) async fn fetch_if_tracked<'q, T>(
    conn: &mut PgConnection,
    context: &'static str,
    query: QueryAs<'q, Postgres, T, PgArguments>,
) -> Result<Vec<T>, Error>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let mut tx = conn.begin().await.map_err(db(context))?;
    let (tracked,): (bool,) = query_as(EXISTS)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    let rows = match tracked {
        true => query.fetch_all(&mut *tx).await.map_err(db(context))?,
        false => Vec::new(),
    };
    tx.commit().await.map_err(db(context))?;
    Ok(rows)
}

/// Records a failed migration of a scope in its own transaction, after the
/// migration's own was rolled back.
pub(crate) async fn record_failure(
    conn: &mut PgConnection,
    scope: &str,
    migration: &Migration<'_>,
    error: &str,
) -> Result<(), Error> {
    let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
    record_in(&mut tx, scope, migration, Duration::ZERO, Some(error), true).await?;
    tx.commit()
        .await
        .map_err(db("recording a migration in strata.migrations"))
}

/// Waits for the transaction-level lock of a scope ("" for the tracking
/// table itself), with no `lock_timeout`: waiting for another replica's
/// migration is right. Released by COMMIT or ROLLBACK on every path.
pub(crate) async fn lock(conn: &mut PgConnection, scope: &str) -> Result<(), Error> {
    sqlx::Executor::execute(&mut *conn, "SET LOCAL lock_timeout = 0")
        .await
        .map_err(db("waiting for the migration lock"))?;
    query(LOCK_SCOPE)
        .bind(LOCK_CLASS)
        .bind(scope)
        .execute(conn)
        .await
        .map_err(db("waiting for the migration lock"))?;
    Ok(())
}

pub(crate) async fn is_applied(
    conn: &mut PgConnection,
    scope: &str,
    version: u32,
) -> Result<bool, Error> {
    let row = query(IS_APPLIED)
        .bind(scope)
        .bind(i64::from(version))
        .fetch_optional(conn)
        .await
        .map_err(db("reading strata.migrations"))?;
    Ok(row.is_some())
}

pub(crate) async fn record_in(
    conn: &mut PgConnection,
    scope: &str,
    migration: &Migration<'_>,
    duration: Duration,
    error: Option<&str>,
    transactional: bool,
) -> Result<(), Error> {
    query(RECORD)
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

/// How many statements of `migration` (of `scope`) have run, if a run of it
/// stopped part way; each query in a transaction of its own, for a pooler.
pub(crate) async fn read_progress(
    conn: &mut PgConnection,
    scope: &str,
    migration: &Migration<'_>,
) -> Result<Option<usize>, Error> {
    let mut tx = conn.begin().await.map_err(db("reading strata.progress"))?;
    let done: Option<(i32,)> = query_as(PROGRESS)
        .bind(scope)
        .bind(i64::from(migration.version))
        .bind(&migration.checksum)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("reading strata.progress"))?;
    tx.commit().await.map_err(db("reading strata.progress"))?;
    Ok(done.map(|(n,)| usize::try_from(n).unwrap_or(0)))
}

/// Notes that `done` statements of `migration` (of `scope`) have run.
pub(crate) async fn note_progress(
    conn: &mut PgConnection,
    scope: &str,
    migration: &Migration<'_>,
    done: usize,
) -> Result<(), Error> {
    let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
    query(RECORD_PROGRESS)
        .bind(scope)
        .bind(i64::from(migration.version))
        .bind(&migration.checksum)
        .bind(i32::try_from(done).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db("recording progress in strata.progress"))?;
    tx.commit()
        .await
        .map_err(db("recording progress in strata.progress"))
}
