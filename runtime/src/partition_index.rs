//! An index built on a partitioned table that takes writes.
//!
//! PostgreSQL cannot build an index `CONCURRENTLY` on a partitioned table,
//! and a plain build locks every partition against writes until all are
//! built. So a `CREATE INDEX CONCURRENTLY` on one, in a no-transaction
//! migration, runs as the PostgreSQL manual describes: the parent's index
//! made `ON ONLY` the parent (a catalog update, left invalid), then on each
//! partition an index built `CONCURRENTLY` and attached to it. Once every
//! partition's is attached, PostgreSQL marks the parent's valid.
//!
//! Each step looks first at what is there, so a build that failed part way
//! (a duplicate in one partition) goes on from where it stopped when run
//! again: partitions already attached are left alone, and a partition's
//! INVALID build is dropped and built again.

use std::future::Future;
use std::pin::Pin;

use sqlx::{Connection, PgConnection};
use strata_manifest::{partition_index_name, qualified};

use crate::apply::drop_if_invalid;
use crate::index_target::ConcurrentIndex;
use crate::session::query_as;

/// The schema, name and kind of a table, by its name as written.
const TABLE: &str = r#"SELECT n.nspname::text, c.relname::text, c.relkind::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)"#;

/// The partitions of table `$1` (qualified), each with whether an index of
/// it is attached to index `$2` (qualified) already.
const PARTITIONS: &str = r#"SELECT n.nspname::text, c.relname::text, c.relkind::text,
       EXISTS (SELECT FROM pg_catalog.pg_inherits ii
               JOIN pg_catalog.pg_index x ON x.indexrelid = ii.inhrelid
               WHERE ii.inhparent = to_regclass($2) AND x.indrelid = c.oid)
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = to_regclass($1)
ORDER BY c.relname"#;

/// The schema and name of `build`'s table when it is a partitioned table.
pub(crate) async fn partitioned(
    conn: &mut PgConnection,
    build: &ConcurrentIndex<'_>,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let table: Option<(String, String, String)> = query_as(TABLE)
        .bind(build.table)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(table.and_then(|(schema, name, kind)| (kind == "p").then_some((schema, name))))
}

/// Builds `build` on the partitioned table `schema.table`: the parent's
/// index `ON ONLY`, then each partition's `CONCURRENTLY`, attached.
pub(crate) async fn build_on_each_partition(
    conn: &mut PgConnection,
    build: &ConcurrentIndex<'_>,
    schema: &str,
    table: &str,
) -> Result<(), sqlx::Error> {
    // Built already (a resumed run): not even the brief lock `ON ONLY` takes.
    let mut tx = conn.begin().await?;
    let valid: Option<(bool,)> = query_as(crate::tracking::INDEX_VALID)
        .bind(schema)
        .bind(&build.name)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    if valid == Some((true,)) {
        return Ok(());
    }
    let parent = qualified(schema, table);
    let index = qualified(schema, &build.name);
    let on_only = build.statement("IF NOT EXISTS", &build.name, &format!("ONLY {parent}"));
    sqlx::Executor::execute(&mut *conn, on_only.as_str()).await?;
    each_partition(conn, build, &parent, &index, &build.name).await
}

type Step<'a> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'a>>;

/// Builds and attaches the index of every partition of `parent` that has
/// none attached to `index` (named `name`) yet. A partition that is
/// partitioned in turn gets its index `ON ONLY`, its own partitions' built
/// and attached, and is then attached itself.
fn each_partition<'a>(
    conn: &'a mut PgConnection,
    build: &'a ConcurrentIndex<'a>,
    parent: &'a str,
    index: &'a str,
    name: &'a str,
) -> Step<'a> {
    Box::pin(async move {
        let mut tx = conn.begin().await?;
        let partitions: Vec<(String, String, String, bool)> = query_as(PARTITIONS)
            .bind(parent)
            .bind(index)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        for (schema, partition, kind, attached) in partitions {
            // A foreign table takes no index: PostgreSQL skips it too.
            if attached || kind == "f" {
                continue;
            }
            let part_name = partition_index_name(&partition, name);
            let part_index = qualified(&schema, &part_name);
            let part_table = qualified(&schema, &partition);
            if kind == "p" {
                let on_only =
                    build.statement("IF NOT EXISTS", &part_name, &format!("ONLY {part_table}"));
                sqlx::Executor::execute(&mut *conn, on_only.as_str()).await?;
                each_partition(conn, build, &part_table, &part_index, &part_name).await?;
            } else {
                drop_if_invalid(conn, Some(&schema), &part_name).await?;
                let concurrently =
                    build.statement("CONCURRENTLY IF NOT EXISTS", &part_name, &part_table);
                sqlx::Executor::execute(&mut *conn, concurrently.as_str()).await?;
            }
            let attach = format!("ALTER INDEX {index} ATTACH PARTITION {part_index}");
            sqlx::Executor::execute(&mut *conn, attach.as_str()).await?;
        }
        Ok(())
    })
}
