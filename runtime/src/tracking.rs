//! The tracking table `strata.migrations` and the lock that serialises start-ups.

/// The first half of every advisory lock key strata takes ("STRA").
pub(crate) const LOCK_CLASS: i32 = 0x5354_5241;

/// Waits for the transaction-level lock of one scope (or of the tracking
/// table itself, for scope ""). Transaction-level, not session-level: it is
/// released by COMMIT or ROLLBACK on any path, so a failed or cancelled
/// start-up never leaves it behind on a pooled connection.
pub(crate) const LOCK_SCOPE: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

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
    "error" text,
    PRIMARY KEY ("scope", "version")
)"#;

/// Returns version, name, checksum and success of every recorded migration of a scope.
pub(crate) const SELECT_APPLIED: &str = r#"SELECT "version", "name", "checksum", "success"
FROM "strata"."migrations" WHERE "scope" = $1 ORDER BY "version""#;

/// Returns a row when the given version of a scope is applied successfully.
pub(crate) const IS_APPLIED: &str = r#"SELECT 1 FROM "strata"."migrations"
WHERE "scope" = $1 AND "version" = $2 AND "success""#;

/// Records the outcome of one migration: scope, version, name, checksum, execution_ms, success, error.
pub(crate) const RECORD: &str = r#"INSERT INTO "strata"."migrations"
    ("scope", "version", "name", "checksum", "execution_ms", "success", "error")
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT ("scope", "version") DO UPDATE SET
    "name" = EXCLUDED."name", "checksum" = EXCLUDED."checksum", "applied_at" = now(),
    "execution_ms" = EXCLUDED."execution_ms", "success" = EXCLUDED."success",
    "error" = EXCLUDED."error""#;

/// Forgets a migration of a scope, once its down file has undone it.
pub(crate) const FORGET: &str =
    r#"DELETE FROM "strata"."migrations" WHERE "scope" = $1 AND "version" = $2"#;
