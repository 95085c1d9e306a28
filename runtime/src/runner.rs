//! The one statement runner, the one retry policy and the one set of
//! timeouts, shared by start-up, rollback and the tenant fan-out.

use std::time::Duration;

use sqlx::PgConnection;
use strata_manifest::{split_statements, Statement};
use tracing::Instrument;

use crate::error::db;
use crate::Error;

/// SQLSTATE `lock_not_available`: `lock_timeout` ran out.
pub(crate) const LOCK_NOT_AVAILABLE: &str = "55P03";

/// How long a migration waits for a table lock, how often it tries again,
/// and how long one statement may run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) lock_timeout: Duration,
    pub(crate) lock_retries: u32,
    pub(crate) statement_timeout: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            lock_timeout: Duration::from_secs(2),
            lock_retries: 5,
            statement_timeout: Duration::ZERO,
        }
    }
}

impl Timeouts {
    /// Sets them for this transaction only, so nothing leaks to the next
    /// user of a pooled server connection.
    pub(crate) async fn set_local(&self, conn: &mut PgConnection) -> Result<(), Error> {
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

    /// The error for a migration that timed out on a lock every time.
    pub(crate) fn gave_up(&self, file: &str) -> Error {
        Error::LockTimeout {
            file: file.to_owned(),
            attempts: self.lock_retries + 1,
            lock_timeout: self.lock_timeout,
        }
    }

    /// The pauses between attempts.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff {
            left: self.lock_retries,
            pause: Duration::from_millis(100),
        }
    }
}

/// The pause before each new attempt after a lock timeout: 100 ms, doubling
/// up to 5 s, as many times as `lock_retries` says.
#[derive(Debug)]
pub(crate) struct Backoff {
    left: u32,
    pause: Duration,
}

impl Backoff {
    /// Waits before the next attempt; false when no attempt is left.
    pub(crate) async fn wait(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        tracing::warn!(
            pause_ms = self.pause.as_millis() as u64,
            "strata: lock timeout, trying again"
        );
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(5));
        true
    }
}

/// A statement that failed: where it is in its file, and what PostgreSQL said.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub(crate) number: usize,
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) message: String,
    pub(crate) code: Option<String>,
}

/// `statement 3 (line 7: ALTER TABLE …): the server's reason (SQLSTATE …)`,
/// or the reason alone when the statement could not be told.
impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.number > 0 {
            write!(
                f,
                "statement {} (line {}: {}): ",
                self.number, self.line, self.text
            )?;
        }
        f.write_str(&self.message)?;
        match &self.code {
            Some(code) => write!(f, " (SQLSTATE {code})"),
            None => Ok(()),
        }
    }
}

impl Failed {
    pub(crate) fn new(statement: &Statement<'_>, error: &sqlx::Error) -> Self {
        let (message, code) = split_error(error);
        Failed {
            number: statement.number,
            line: statement.line,
            text: shorten(statement.sql),
            message,
            code,
        }
    }

    /// True when `lock_timeout` ran out: worth another try.
    pub(crate) fn is_lock_timeout(&self) -> bool {
        self.code.as_deref() == Some(LOCK_NOT_AVAILABLE)
    }

    /// Number, line and text, as the errors carry them (none when the
    /// statement could not be told).
    pub(crate) fn at(&self) -> Option<(usize, usize, String)> {
        (self.number > 0).then(|| (self.number, self.line, self.text.clone()))
    }
}

/// Runs `sql` on `conn`, which is inside a transaction, stopping at the
/// first statement that fails.
///
/// The whole file goes in one round trip, as `psql -1 -f` would send it,
/// behind a savepoint. Only if it fails is the savepoint rolled back and the
/// file run again statement by statement, so that the error names the
/// statement (its number, line and text). With debug-level tracing on,
/// statements always run one by one, each in its `strata.statement` span.
pub(crate) async fn run_statements(conn: &mut PgConnection, sql: &str) -> Result<(), Failed> {
    if tracing::enabled!(tracing::Level::DEBUG) {
        return run_one_by_one(conn, sql).await;
    }
    let batch = format!("SAVEPOINT strata_batch;\n{sql}\n;RELEASE SAVEPOINT strata_batch");
    let Err(error) = sqlx::Executor::execute(&mut *conn, batch.as_str()).await else {
        return Ok(());
    };
    let (message, code) = split_error(&error);
    let failed = Failed {
        number: 0,
        line: 0,
        text: String::new(),
        message,
        code,
    };
    if failed.is_lock_timeout() {
        // Worth another try as it is; which statement waited does not matter.
        return Err(failed);
    }
    let undone = sqlx::Executor::execute(&mut *conn, "ROLLBACK TO SAVEPOINT strata_batch").await;
    let located = match undone {
        Ok(_) => run_one_by_one(conn, sql).await,
        Err(_) => Ok(()),
    };
    // Run alone, every statement passed: report the batch's error as it came.
    located.and(Err(failed))
}

/// Runs `sql` on `conn` statement by statement, each as a simple query as
/// psql would send it, stopping at the first that fails.
async fn run_one_by_one(conn: &mut PgConnection, sql: &str) -> Result<(), Failed> {
    for statement in split_statements(sql) {
        let span = tracing::debug_span!(
            "strata.statement",
            number = statement.number,
            line = statement.line
        );
        let at = std::time::Instant::now();
        let outcome = sqlx::Executor::execute(&mut *conn, statement.sql)
            .instrument(span)
            .await;
        tracing::debug!(
            number = statement.number,
            elapsed_ms = at.elapsed().as_millis() as u64,
            "strata: statement"
        );
        if let Err(error) = outcome {
            return Err(Failed::new(&statement, &error));
        }
    }
    Ok(())
}

/// A statement for an error message: its first line, at most 120 characters.
pub(crate) fn shorten(sql: &str) -> String {
    let first = sql.lines().next().unwrap_or_default().trim();
    let mut short: String = first.chars().take(120).collect();
    if short.len() < sql.trim().len() {
        short.push_str(" …");
    }
    short
}

pub(crate) fn split_error(error: &sqlx::Error) -> (String, Option<String>) {
    match error {
        sqlx::Error::Database(e) => (e.message().to_owned(), e.code().map(|c| c.into_owned())),
        other => (other.to_string(), None),
    }
}
