//! Partitions made ahead of time: for each table partitioned by a range of
//! time (`partition_interval`), the current period's partition and
//! `partitions_ahead` more, and the default partition when declared.
//!
//! Each is made as a plain table (`CREATE TABLE … (LIKE parent INCLUDING
//! DEFAULTS INCLUDING CONSTRAINTS)`) and then attached (`ATTACH
//! PARTITION`), which takes a `SHARE UPDATE EXCLUSIVE` lock on the parent
//! where `CREATE TABLE … PARTITION OF` would take `ACCESS EXCLUSIVE` and
//! stop every read and write of it. PostgreSQL builds the parent's indexes
//! on the new partition as it attaches. Nothing is ever dropped here.

use sqlx::{Connection, PgConnection};
use strata_manifest::{qualified, quote_ident, quote_literal, Partitioning, SchemaState, Table};

use crate::error::db;
use crate::Error;

/// The partitions `table` needs now: `(name, from, to)` for each period
/// from the current one to `ahead` after it, as the server's clock and
/// time zone give them, and whether its default partition is missing.
const NEEDED: &str = r#"SELECT to_char(b, $2), b::text, (b + ('1 ' || $1)::interval)::text
FROM generate_series(date_trunc($1, now()), date_trunc($1, now()) + ($3 || ' ' || $1)::interval,
                     ('1 ' || $1)::interval) AS b"#;

/// The names of the partitions of `$1` (a quoted qualified name).
const CHILDREN: &str = r#"SELECT c.relname::text
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass($1)"#;

/// The name suffix of the oldest period kept: `$3` whole periods of `$1`
/// before the current one, in `to_char` pattern `$2`.
const OLDEST_KEPT: &str =
    r#"SELECT to_char(date_trunc($1, now()) - ($3 || ' ' || $1)::interval, $2)"#;

/// In one statement, without a transaction or a lock: the partitions of
/// `$1`, the name suffixes of the periods from the current one to `$4`
/// after it (of unit `$2`, in pattern `$3`), and the suffix of the oldest
/// period kept (`$5` before the current one).
const SURVEY: &str = r#"SELECT
    ARRAY(SELECT c.relname::text FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = to_regclass($1)),
    ARRAY(SELECT to_char(b, $3)
          FROM generate_series(date_trunc($2, now()), date_trunc($2, now()) + ($4 || ' ' || $2)::interval,
                               ('1 ' || $2)::interval) AS b),
    to_char(date_trunc($2, now()) - ($5 || ' ' || $2)::interval, $3)"#;

/// Whether `table` lacks a partition it needs now, or has one past its
/// retention: a start-up with nothing to do reads this one statement and
/// takes no lock.
async fn work_to_do(
    conn: &mut PgConnection,
    table: &Table,
    rule: &Partitioning,
) -> Result<bool, Error> {
    let interval = rule
        .interval
        .unwrap_or(strata_manifest::PartitionInterval::Month);
    let (children, periods, oldest): (Vec<String>, Vec<String>, String) = sqlx::query_as(SURVEY)
        .bind(qualified(&table.schema, &table.name))
        .bind(interval.unit())
        .bind(interval.suffix_pattern())
        .bind(rule.ahead.to_string())
        .bind(rule.kept.unwrap_or(0).to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(db("making partitions ahead"))?;
    let has = |name: &str| children.iter().any(|c| c == name);
    let missing_period = rule.interval.is_some()
        && periods
            .iter()
            .any(|suffix| !has(&Partitioning::partition_name(&table.name, Some(suffix))));
    let missing_default =
        rule.default_partition && !has(&Partitioning::partition_name(&table.name, None));
    let expired = rule.interval.is_some()
        && rule.kept.is_some()
        && !expired(children.iter(), &table.name, &oldest).is_empty();
    Ok(missing_period || missing_default || expired)
}

/// The partitions of `table` among `children` wholly before the period
/// whose suffix is `oldest`, by name (`event_p202401` sorts before
/// `event_p202412`), sorted.
fn expired<'a>(
    children: impl Iterator<Item = &'a String>,
    table: &str,
    oldest: &str,
) -> Vec<String> {
    let prefix = format!("{table}_p");
    let mut old: Vec<String> = children
        .filter(|c| {
            c.strip_prefix(prefix.as_str()).is_some_and(|suffix| {
                suffix.len() == oldest.len()
                    && suffix.chars().all(|ch| ch.is_ascii_digit())
                    && suffix < oldest
            })
        })
        .cloned()
        .collect();
    old.sort();
    old
}

/// What a start-up did to the partitions.
#[derive(Debug, Default)]
pub(crate) struct Maintained {
    /// Made ahead.
    pub(crate) made: Vec<String>,
    /// Past `partitions_kept`, detached and dropped (confirmed).
    pub(crate) dropped: Vec<String>,
    /// Past `partitions_kept`, kept until confirmed.
    pub(crate) unconfirmed: Vec<String>,
}

/// The partitioned tables of `state`, owned (so that no future holds a
/// borrow of the state across its awaits).
pub(crate) fn partitioned(state: &SchemaState) -> Vec<Table> {
    let mut tables = Vec::new();
    for table in &state.tables {
        if table.partition.is_some() {
            tables.push(table.clone());
        }
    }
    tables
}

/// Makes the partitions every one of `tables` needs and does not have;
/// returns them, schema-qualified.
pub(crate) async fn maintain(
    conn: &mut PgConnection,
    tables: Vec<Table>,
    confirm: &strata_manifest::Confirm,
) -> Result<Maintained, Error> {
    let mut done = Maintained::default();
    for table in tables {
        maintain_table(conn, table, confirm, &mut done).await?;
    }
    Ok(done)
}

async fn maintain_table(
    conn: &mut PgConnection,
    table: Table,
    confirm: &strata_manifest::Confirm,
    done: &mut Maintained,
) -> Result<(), Error> {
    let Some(rule) = table.partition.clone() else {
        return Ok(());
    };
    let context = "making partitions ahead";
    let parent = qualified(&table.schema, &table.name);
    if !work_to_do(conn, &table, &rule).await? {
        return Ok(());
    }
    let mut tx = conn.begin().await.map_err(db(context))?;
    // One maker per table at a time: two services starting together would
    // otherwise both make the same partition, and one fail.
    sqlx::query(
        "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('strata partitions ' || $1))",
    )
    .bind(&parent)
    .execute(&mut *tx)
    .await
    .map_err(db(context))?;
    let children: Vec<(String,)> = sqlx::query_as(CHILDREN)
        .bind(&parent)
        .fetch_all(&mut *tx)
        .await
        .map_err(db(context))?;
    let children: std::collections::HashSet<String> = children.into_iter().map(|(c,)| c).collect();
    let mut wanted: Vec<(String, String)> = Vec::new();
    if let Some(interval) = rule.interval {
        let periods: Vec<(String, String, String)> = sqlx::query_as(NEEDED)
            .bind(interval.unit())
            .bind(interval.suffix_pattern())
            .bind(rule.ahead.to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(db(context))?;
        for (suffix, from, to) in periods {
            let name = Partitioning::partition_name(&table.name, Some(&suffix));
            if !children.contains(&name) {
                let bound = format!(
                    "FOR VALUES FROM ({}) TO ({})",
                    quote_literal(&from),
                    quote_literal(&to)
                );
                wanted.push((name, bound));
            }
        }
    }
    let default = Partitioning::partition_name(&table.name, None);
    if rule.default_partition && !children.contains(&default) {
        wanted.push((default, "DEFAULT".to_owned()));
    }
    // Retention: partitions wholly before the oldest period kept, by name
    // (`event_p202401` sorts before `event_p202412`), detached and dropped
    // only when confirmed, as every change that loses rows.
    if let (Some(interval), Some(kept)) = (rule.interval, rule.kept) {
        let (oldest,): (String,) = sqlx::query_as(OLDEST_KEPT)
            .bind(interval.unit())
            .bind(interval.suffix_pattern())
            .bind(kept.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db(context))?;
        for child in expired(children.iter(), &table.name, &oldest) {
            let object = strata_manifest::object_name(&[&table.schema, &child]);
            if !confirm.covers(&object) {
                done.unconfirmed.push(object);
                continue;
            }
            let quoted = format!("{}.{}", quote_ident(&table.schema), quote_ident(&child));
            for statement in [
                format!("ALTER TABLE {parent} DETACH PARTITION {quoted}"),
                format!("DROP TABLE {quoted}"),
            ] {
                sqlx::Executor::execute(&mut *tx, statement.as_str())
                    .await
                    .map_err(db(context))?;
            }
            done.dropped.push(object);
        }
    }
    for (name, bound) in wanted {
        let child = format!("{}.{}", quote_ident(&table.schema), quote_ident(&name));
        let create = format!(
            "CREATE TABLE {child} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        );
        let attach = format!("ALTER TABLE {parent} ATTACH PARTITION {child} {bound}");
        for statement in [create, attach] {
            sqlx::Executor::execute(&mut *tx, statement.as_str())
                .await
                .map_err(db(context))?;
        }
        done.made
            .push(strata_manifest::object_name(&[&table.schema, &name]));
    }
    tx.commit().await.map_err(db(context))?;
    Ok(())
}
