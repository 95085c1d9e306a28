//! A live database read whole into a schema state, as the drift check
//! reads it: what `strata diff` compares and `strata pull` writes out.

use sqlx::PgPool;
use strata_manifest::SchemaState;

use crate::error::db;
use crate::session::{connect, query_as};
use crate::{introspect, Error};

/// Every schema a database's users made: not PostgreSQL's own, not
/// `information_schema`, not strata's, not an extension's.
const USER_SCHEMAS: &str = r#"SELECT n.nspname::text FROM pg_catalog.pg_namespace n
WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname NOT IN ('information_schema', 'strata')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_namespace'::regclass
                    AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY 1"#;

/// Every schema the users of the database behind `pool` made.
pub async fn user_schemas(pool: &PgPool) -> Result<Vec<String>, Error> {
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    schemas_of(&mut conn).await
}

async fn schemas_of(conn: &mut sqlx::PgConnection) -> Result<Vec<String>, Error> {
    Ok(query_as::<(String,)>(USER_SCHEMAS)
        .fetch_all(conn)
        .await
        .map_err(db("listing the database's schemas"))?
        .into_iter()
        .map(|(name,)| name)
        .collect())
}

/// The database behind `pool` as a schema state: the schemas named, or
/// every schema its users made, with their tables, columns, keys,
/// indexes, checks, views, enums, functions, procedures, sequences,
/// triggers, comments, extensions and `search_path`, in one catalog
/// statement.
pub async fn read_database(
    pool: &PgPool,
    schemas: Option<&[String]>,
) -> Result<SchemaState, Error> {
    // A connection of its own, on an empty search path: the server prints
    // every name in a view, trigger or default qualified, whatever the
    // database's `search_path`, so two databases read alike compare alike.
    let mut conn = connect(pool).await?;
    sqlx::Executor::execute(&mut conn, "SET search_path = pg_catalog")
        .await
        .map_err(db("reading the database"))?;
    let names: Vec<String> = match schemas {
        Some(names) => names.to_vec(),
        None => schemas_of(&mut conn).await?,
    };
    let mut wanted = SchemaState::default();
    wanted.schemas = names.into_iter().collect();
    let catalog = introspect::read_catalog(&mut conn, &wanted).await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(catalog.state)
}
