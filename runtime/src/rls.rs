//! Row-level security at run time: who the current transaction acts for.

use sqlx::{Postgres, Transaction};

use crate::error::db;
use crate::Error;

/// Sets `setting` (a custom setting with a prefix, such as `app.org_id`)
/// to `value` for the rest of the caller's open transaction, as the
/// models' policies read it (`current_setting('app.org_id', true)`).
///
/// It takes the transaction, not a connection: `set_config(…, true)` lasts
/// until the transaction ends, so in autocommit it would be gone before
/// the next statement, and it never outlives the transaction on a pooled
/// connection (PgBouncer in transaction mode included). The value is
/// bound, never written into the SQL.
///
/// ```no_run
/// # async fn run(pool: &strata::sqlx::PgPool, org_id: i64) -> Result<(), strata::Error> {
/// let mut tx = pool.begin().await.map_err(|e| strata::Error::Database { context: "begin", cause: e })?;
/// strata::rls::set_local(&mut tx, "app.org_id", &org_id.to_string()).await?;
/// // … queries here see only the organisation's rows …
/// # Ok(()) }
/// ```
pub async fn set_local(
    tx: &mut Transaction<'_, Postgres>,
    setting: &str,
    value: &str,
) -> Result<(), Error> {
    let well_formed = setting.split_once('.').is_some_and(|(prefix, name)| {
        let word = |w: &str| {
            !w.is_empty()
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !w.starts_with(|c: char| c.is_ascii_digit())
        };
        word(prefix) && word(name)
    });
    if !well_formed {
        return Err(Error::InvalidSetting {
            setting: setting.to_owned(),
        });
    }
    sqlx::query("SELECT pg_catalog.set_config($1, $2, true)")
        .bind(setting)
        .bind(value)
        .execute(&mut **tx)
        .await
        .map_err(db("setting the transaction's row-level security context"))?;
    Ok(())
}
