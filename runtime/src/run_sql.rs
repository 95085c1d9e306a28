//! SQL text run as strata runs a migration's statements, for tools that
//! apply SQL of their own (`strata diff --apply`): one runner for all.

use sqlx::{Connection, PgPool};

use crate::error::db;
use crate::Error;

/// Where the statements of [`run_sql`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunIn {
    /// All in one transaction: they apply whole, or nothing of them stays.
    OneTransaction,
    /// Each on its own, outside a transaction (`CREATE INDEX
    /// CONCURRENTLY`): a failure stops there, and what ran before stays.
    EachOnItsOwn,
}

/// Runs `sql` on a connection of its own, as a migration's statements run:
/// in one transaction, sent in one round trip and, if it fails, run again
/// statement by statement to name the one that fails; or each statement on
/// its own, an INVALID index of an earlier failed build built again and an
/// index on a partitioned table built on each partition. `Ok(None)` when
/// every statement ran; `Ok(Some(why))` when one failed, naming it (its
/// number, line and text) with PostgreSQL's reason.
pub async fn run_sql(pool: &PgPool, sql: &str, run_in: RunIn) -> Result<Option<String>, Error> {
    let context = "running SQL as a migration runs";
    let mut conn = crate::session::connect(pool).await?;
    let failure = match run_in {
        RunIn::OneTransaction => {
            let mut tx = conn.begin().await.map_err(db(context))?;
            match crate::runner::run_statements(&mut tx, sql).await {
                Ok(()) => {
                    tx.commit().await.map_err(db(context))?;
                    None
                }
                Err(failed) => {
                    tx.rollback().await.map_err(db(context))?;
                    Some(failed.to_string())
                }
            }
        }
        RunIn::EachOnItsOwn => {
            let mut failure = None;
            for statement in strata_manifest::split_statements(sql) {
                if let Err(error) = crate::apply::run_outside(&mut conn, statement.sql).await {
                    failure = Some(crate::runner::Failed::new(&statement, &error).to_string());
                    break;
                }
            }
            failure
        }
    };
    let _ = conn.close().await;
    Ok(failure)
}
