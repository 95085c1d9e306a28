//! The DDL watch: how a start-up with nothing pending knows, in one small
//! query, that nothing has changed since the last clean drift check, and
//! skips reading the whole catalog.
//!
//! An event trigger (`strata_ddl`, on `ddl_command_end`, enabled `ALWAYS` so
//! that it fires under `session_replication_role = replica` too) writes the
//! transaction id of every DDL transaction to `strata.ddl_log`. A clean full
//! check records, per fingerprint of the state it checked against, the
//! snapshot its catalog statement read, and the schemas it checked. A later
//! start-up against the same state skips the full check when every logged
//! transaction that touched those schemas (or unknown ones) is visible in
//! that snapshot, that is, when the catalog it would read is the one already
//! found clean. Logging by transaction id, not by counter, keeps it exact: a
//! DDL transaction still open at the clean check is not visible in its
//! snapshot, so once it commits, the next start-up checks in full; a rolled
//! back one leaves no row.
//!
//! What fires no event is read at every start-up instead: the database's
//! settings (`ALTER DATABASE … SET`), and the watch itself (the catalog rows
//! of the event trigger and of its function, whose `xmin` changes with any
//! `ALTER EVENT TRIGGER … DISABLE`, `ENABLE` or `CREATE OR REPLACE`).
//! Only a superuser can create an event trigger: for any other role nothing
//! is installed and every start-up checks in full.

use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::error::db;
use crate::session::{query, query_as};
use crate::Error;

/// The statements that install the watch, in one transaction under the
/// tracking table's lock. The function is `SECURITY DEFINER` with a pinned
/// `search_path`, so that a role without rights on `strata` can still run
/// DDL (a temporary table) and no object of its can stand in for the log.
pub(crate) const INSTALL: &[&str] = &[
    // A watch of an older release is made again: first out of the way, so
    // that its function does not log the statements that change its tables.
    r#"DROP EVENT TRIGGER IF EXISTS "strata_ddl""#,
    r#"CREATE TABLE IF NOT EXISTS "strata"."ddl_log" (
    "xid" xid8 PRIMARY KEY,
    "tag" text NOT NULL,
    "logged_at" timestamp with time zone NOT NULL DEFAULT now(),
    "schemas" text[]
)"#,
    // A log of an older release: its rows say no schema, so they count for every check.
    r#"ALTER TABLE "strata"."ddl_log" ADD COLUMN IF NOT EXISTS "schemas" text[]"#,
    r#"CREATE TABLE IF NOT EXISTS "strata"."clean_checks" (
    "fingerprint" text PRIMARY KEY,
    "snapshot" pg_snapshot NOT NULL,
    "watch" text NOT NULL,
    "checked_at" timestamp with time zone NOT NULL DEFAULT now(),
    "schemas" text[]
)"#,
    // Checks of an older release name no schemas: any DDL counts for them.
    r#"ALTER TABLE "strata"."clean_checks" ADD COLUMN IF NOT EXISTS "schemas" text[]"#,
    r#"CREATE OR REPLACE FUNCTION "strata"."log_ddl"() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
DECLARE
    touched text[];
BEGIN
    -- Refreshing a materialized view changes its rows, not the schema.
    IF tg_tag = 'REFRESH MATERIALIZED VIEW' THEN
        RETURN;
    END IF;
    -- Commands on temporary objects only leave the schema as it was.
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands())
       AND NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c
                       WHERE c.schema_name IS NULL OR c.schema_name NOT LIKE 'pg\_temp%') THEN
        RETURN;
    END IF;
    -- Never stand in the way of DDL, not even of dropping strata itself.
    IF to_regclass('"strata"."ddl_log"') IS NULL THEN
        RETURN;
    END IF;
    -- The schemas the commands touched (a schema's own name for CREATE
    -- SCHEMA; a partition's or child's parent's too), so that a check of
    -- other schemas (the shared ones, beside thousands of tenants) stays
    -- valid. Unknown (NULL) when a command names none: a drop, an
    -- extension, a publication; such a transaction counts for every check.
    SELECT CASE WHEN bool_or(s IS NULL) THEN NULL ELSE array_agg(DISTINCT s) END
      INTO touched
      FROM (SELECT CASE WHEN c.object_type = 'schema'
                        THEN (SELECT n.nspname::text FROM pg_namespace n WHERE n.oid = c.objid)
                        ELSE c.schema_name END AS s
              FROM pg_event_trigger_ddl_commands() c
            UNION ALL
            SELECT n.nspname::text
              FROM pg_event_trigger_ddl_commands() c
              JOIN pg_inherits i ON c.classid = 'pg_class'::regclass AND i.inhrelid = c.objid
              JOIN pg_class p ON p.oid = i.inhparent
              JOIN pg_namespace n ON n.oid = p.relnamespace) AS touched_schemas;
    INSERT INTO "strata"."ddl_log" AS l ("xid", "tag", "schemas")
    VALUES (pg_current_xact_id(), tg_tag, touched)
    ON CONFLICT ("xid") DO UPDATE SET "schemas" = CASE
        WHEN EXCLUDED."schemas" IS NULL THEN NULL
        ELSE ARRAY(SELECT DISTINCT unnest(l."schemas" || EXCLUDED."schemas")) END
    WHERE l."schemas" IS NOT NULL;
END
$body$"#,
    r#"CREATE EVENT TRIGGER "strata_ddl" ON ddl_command_end EXECUTE FUNCTION "strata"."log_ddl"()"#,
    r#"ALTER EVENT TRIGGER "strata_ddl" ENABLE ALWAYS"#,
];

/// Whether the watch is installed (both tables and the event trigger),
/// and whether this role could install it: a superuser.
pub(crate) const STATUS: &str = r#"SELECT
    to_regclass('"strata"."clean_checks"') IS NOT NULL
        AND to_regclass('"strata"."ddl_log"') IS NOT NULL
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'strata_ddl')
        -- this release's log and checks, which say the schemas each touched
        AND (SELECT count(*) = 2 FROM pg_catalog.pg_attribute
             WHERE attrelid IN (to_regclass('"strata"."ddl_log"'), to_regclass('"strata"."clean_checks"'))
               AND attname = 'schemas' AND NOT attisdropped),
    coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false)"#;

/// The watch as the catalog has it now: the event trigger's and its
/// function's row versions and whether it fires always; NULL without it.
/// Spliced into the drift statement and the fast check, never formatted.
pub(crate) const WATCH: &str = r#"(SELECT e.xmin::text || '/' || p.xmin::text || '/' || e.evtenabled::text
    FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
    WHERE e.evtname = 'strata_ddl' AND e.evtenabled = 'A')"#;

/// True when the last clean check of fingerprint `$4` still holds: the
/// watch is the one it saw, and it logged no DDL transaction that the
/// check's snapshot did not see in the schemas it checked (or in schemas
/// the log could not name, or for a check that named none). A column of the fast statement
/// (`catalog::fast_statement`), whose `FROM` is [`FROM_CLEAN_CHECK`].
pub(crate) fn unchanged_column() -> String {
    format!(
        r#"coalesce(c.watch = {WATCH}
    AND NOT EXISTS (SELECT 1 FROM "strata"."ddl_log" l
                    WHERE NOT pg_catalog.pg_visible_in_snapshot(l.xid, c.snapshot)
                      AND (l.schemas IS NULL OR c.schemas IS NULL OR l.schemas && c.schemas)), false)"#
    )
}

/// How many logged DDL transactions came after the last clean check's
/// snapshot began (all of them, whatever schemas they touched: a tenant's
/// creation as much as a shared change), by the log's key. A column of the
/// fast statement.
pub(crate) const BACKLOG_COLUMN: &str = r#"(SELECT count(*) FROM "strata"."ddl_log" l
    WHERE c.snapshot IS NOT NULL AND l.xid >= pg_catalog.pg_snapshot_xmin(c.snapshot))"#;

/// Past this many logged transactions after a clean check, a start-up that
/// finds none of them touching its schemas records its own snapshot as the
/// clean check, and the log forgets them: the next start-up does not read
/// them again, so its cost does not grow with the DDL of other schemas
/// (thousands of tenants created beside the shared ones).
pub(crate) const BACKLOG_FOLDED: i64 = 64;

/// The `FROM` of the fast statement: the clean check of fingerprint `$4`, if any.
pub(crate) const FROM_CLEAN_CHECK: &str =
    r#"FROM (SELECT 1) AS one LEFT JOIN "strata"."clean_checks" c ON c.fingerprint = $4"#;

/// Records a clean check of fingerprint `$1` at snapshot `$2` with watch
/// `$3`, then forgets what no recorded check needs: checks older than 30
/// days, and logged transactions that every recorded snapshot sees.
const RECORD: &[&str] = &[
    r#"INSERT INTO "strata"."clean_checks" ("fingerprint", "snapshot", "watch", "schemas")
VALUES ($1, $2::pg_snapshot, $3, $4)
ON CONFLICT ("fingerprint") DO UPDATE SET
    "snapshot" = EXCLUDED."snapshot", "watch" = EXCLUDED."watch", "checked_at" = now(),
    "schemas" = EXCLUDED."schemas""#,
    r#"DELETE FROM "strata"."clean_checks" WHERE "checked_at" < now() - interval '30 days'"#,
    r#"DELETE FROM "strata"."ddl_log" l WHERE NOT EXISTS (
    SELECT 1 FROM "strata"."clean_checks" c
    WHERE NOT pg_catalog.pg_visible_in_snapshot(l.xid, c.snapshot))"#,
];

/// What a clean full check saw, to record.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// `pg_current_snapshot()` of the catalog statement.
    pub snapshot: String,
    /// [`WATCH`] in that statement; `None` without the watch.
    pub watch: Option<String>,
    /// For a clean check renewed by a start-up's fast path, the schemas
    /// the check it renews covered (`None`: every schema).
    pub renews: Option<Option<Vec<String>>>,
}

/// The fingerprint of a check: this release's comparison, the manifest it
/// checks against (by the digest of its bytes), and the version the state
/// is taken at.
pub(crate) fn fingerprint(manifest_digest: &str, target: Option<u32>) -> String {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    hash.update([0]);
    hash.update(target.map_or(String::new(), |t| t.to_string()).as_bytes());
    hash.update([0]);
    hash.update(manifest_digest.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Installs the watch, unless it is there or this role cannot; under the
/// tracking table's lock. Returns whether it is installed.
pub(crate) async fn ensure(conn: &mut PgConnection) -> Result<bool, Error> {
    use sqlx::Connection;
    let context = "installing strata's DDL watch";
    let mut tx = conn.begin().await.map_err(db(context))?;
    let (installed, can_install): (bool, bool) = query_as(STATUS)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    if installed || !can_install {
        tx.commit().await.map_err(db(context))?;
        return Ok(installed);
    }
    crate::tracking::lock(&mut tx, "").await?;
    // Another start-up may have installed it while this one waited.
    let (installed, _): (bool, bool) = query_as(STATUS)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    if !installed {
        for statement in INSTALL {
            query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db(context))?;
        }
    }
    tx.commit().await.map_err(db(context))?;
    Ok(true)
}

/// Records a clean check of `schemas`. A database that cannot take the
/// write (a standby) only loses the fast path, so a failure is logged, not
/// returned.
pub(crate) async fn record(
    conn: &mut PgConnection,
    fingerprint: &str,
    seen: &Seen,
    schemas: &[&str],
) {
    use sqlx::Connection;
    let Some(watch) = &seen.watch else {
        return;
    };
    let result: Result<(), sqlx::Error> = async {
        let mut tx = conn.begin().await?;
        for (i, statement) in RECORD.iter().enumerate() {
            let q = query(statement);
            let q = match i {
                0 => q
                    .bind(fingerprint)
                    .bind(&seen.snapshot)
                    .bind(watch)
                    .bind(schemas),
                _ => q,
            };
            q.execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(%error, "strata: could not record the clean drift check; the next start-up checks in full");
    }
}
