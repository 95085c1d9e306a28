//! The connection a start-up works on: its own, never a pooled one, and safe
//! behind a transaction-pooling PgBouncer.
//!
//! Every query runs inside an explicit transaction, so that a transaction
//! pooler keeps one server connection for all of it, and as an unnamed
//! statement, since a named one prepared on one server connection does not
//! exist on the next (PgBouncer before 1.21 cannot track them).

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use crate::error::db;
use crate::Error;

/// A connection of the start-up's own, made with the pool's options. Dropping
/// it (a cancelled start-up) closes it, and the server rolls back whatever it
/// was doing at once, where a pooled connection would linger in its transaction.
pub(crate) async fn connect(pool: &PgPool) -> Result<PgConnection, Error> {
    PgConnection::connect_with(&pool.connect_options())
        .await
        .map_err(db("connecting"))
}

/// An unnamed statement.
pub(crate) fn query(sql: &str) -> Query<'_, Postgres, PgArguments> {
    sqlx::query(sql).persistent(false)
}

/// An unnamed statement whose rows become `T`.
pub(crate) fn query_as<'q, T>(sql: &'q str) -> QueryAs<'q, Postgres, T, PgArguments>
where
    T: for<'r> sqlx::FromRow<'r, PgRow>,
{
    sqlx::query_as(sql).persistent(false)
}
