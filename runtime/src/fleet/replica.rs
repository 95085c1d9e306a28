//! Logical replication for the fleet: the replicated shared schemas copied
//! to every server, and the publications, slots and subscriptions a move
//! makes and drops.
//!
//! A slot is always made on the publisher before its subscription (which
//! is then made with `create_slot = false`), and dropped there after it:
//! so a publisher and a subscriber may be two databases of one cluster,
//! where `CREATE SUBSCRIPTION` would otherwise wait on itself.

use std::time::{Duration, Instant};

use sqlx::{Acquire, PgPool};
use strata_manifest::{plan, quote_ident, quote_literal, Confirm, SchemaState, Stream};

use super::control::FENCE_MESSAGE;
use crate::error::db;
use crate::session::{query, query_as};
use crate::{read_database, run_sql, Error, RunIn};

/// The publication of the replicated schemas, on the control database.
pub(crate) const SHARED_PUBLICATION: &str = "strata_shared";

/// The trigger that makes a table of a replicated schema's copy refuse
/// writes. Logical replication applies rows with `session_replication_role
/// = replica`, where it does not fire.
pub(crate) const READ_ONLY_TRIGGER: &str = "strata_read_only";

/// The trigger of a move's write fence on the tenant's tables at the source.
pub(crate) const FENCE_TRIGGER: &str = "strata_move_fence";

/// A name of strata's for `what` of `key` (a server, a tenant's schema):
/// `strata_<what>_<hash>`, within the 63 bytes of a slot name whatever the
/// key, and the same in every version of strata (FNV-1a), so that a run
/// resumes with the names an earlier one made.
pub(crate) fn object_name(what: &str, key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("strata_{what}_{hash:016x}")
}

/// Checks that the database behind `pool` can publish: PostgreSQL 15 or
/// newer (`FOR TABLES IN SCHEMA`), and `wal_level = logical`.
pub(crate) async fn check_can_publish(pool: &PgPool, server: &str) -> Result<(), Error> {
    let (version, wal_level): (i32, String) =
        query_as("SELECT current_setting('server_version_num')::int, current_setting('wal_level')")
            .fetch_one(pool)
            .await
            .map_err(db("reading the server's settings"))?;
    if version < 150000 {
        return Err(Error::ReplicationUnavailable {
            server: server.to_owned(),
            reason: format!("it runs PostgreSQL {}, and publishing a schema (`FOR TABLES IN SCHEMA`) needs 15 or newer\nhelp: upgrade the server", version / 10000),
        });
    }
    if wal_level != "logical" {
        return Err(Error::ReplicationUnavailable {
            server: server.to_owned(),
            reason: format!("its wal_level is {wal_level}, and logical replication needs `logical`\nhelp: set `wal_level = logical` in its postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart it"),
        });
    }
    Ok(())
}

/// Which database `pool` reaches: its cluster's system identifier and its
/// name, the same from any URL that reaches it.
pub(crate) async fn identity(pool: &PgPool) -> Result<String, Error> {
    const WHICH: &str =
        "SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())::text || '/' || current_database()";
    let (which,): (String,) = query_as(WHICH)
        .fetch_one(pool)
        .await
        .map_err(db("identifying a database"))?;
    Ok(which)
}

/// Whether the two pools reach the same database (the control database
/// listed as a server of its own, say).
pub(crate) async fn same_database(a: &PgPool, b: &PgPool) -> Result<bool, Error> {
    Ok(identity(a).await? == identity(b).await?)
}

/// Subscriptions are listed cluster-wide: `$1`, made in this database.
const SUBSCRIPTION_HERE: &str = "SELECT 1 FROM pg_catalog.pg_subscription
WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())";

/// Whether this database has subscription `name`.
async fn subscribed(subscriber: &PgPool, name: &str) -> Result<bool, Error> {
    Ok(query(SUBSCRIPTION_HERE)
        .bind(name)
        .fetch_optional(subscriber)
        .await
        .map_err(db("looking for a subscription"))?
        .is_some())
}

/// Runs `sql` on a connection of its own, outside a transaction, as
/// `CREATE`, `ALTER` and `DROP SUBSCRIPTION` must run.
async fn outside_transaction(
    pool: &PgPool,
    sql: &[String],
    doing: &'static str,
) -> Result<(), Error> {
    let mut conn = crate::session::connect(pool).await?;
    for statement in sql {
        sqlx::Executor::execute(&mut conn, statement.as_str())
            .await
            .map_err(db(doing))?;
    }
    Ok(())
}

/// Makes `publication` publish exactly the tables of `schemas`.
pub(crate) async fn publish(
    pool: &PgPool,
    publication: &str,
    schemas: &[String],
) -> Result<(), Error> {
    let list = schemas
        .iter()
        .map(|s| quote_ident(s))
        .collect::<Vec<_>>()
        .join(", ");
    let exists = query("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1")
        .bind(publication)
        .fetch_optional(pool)
        .await
        .map_err(db("looking for a publication"))?
        .is_some();
    let sql = match exists {
        true => format!(
            "ALTER PUBLICATION {} SET TABLES IN SCHEMA {list}",
            quote_ident(publication)
        ),
        false => format!(
            "CREATE PUBLICATION {} FOR TABLES IN SCHEMA {list}",
            quote_ident(publication)
        ),
    };
    query(&sql)
        .execute(pool)
        .await
        .map_err(db("publishing the schemas"))?;
    Ok(())
}

/// Drops `publication`, if there.
pub(crate) async fn unpublish(pool: &PgPool, publication: &str) -> Result<(), Error> {
    let sql = format!("DROP PUBLICATION IF EXISTS {}", quote_ident(publication));
    query(&sql)
        .execute(pool)
        .await
        .map_err(db("dropping a publication"))?;
    Ok(())
}

/// Subscribes the database behind `subscriber` to `publication` of the one
/// at `publisher_url` (`publisher` is a pool of it), as subscription and
/// slot `name`, copying the rows there now. Nothing when it exists;
/// otherwise, after a refresh, tables added to the publication since are
/// copied too.
pub(crate) async fn subscribe(
    subscriber: &PgPool,
    publisher: &PgPool,
    publisher_url: &str,
    publication: &str,
    name: &str,
) -> Result<bool, Error> {
    let exists = subscribed(subscriber, name).await?;
    if exists {
        return Ok(false);
    }
    let slot = query("SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1")
        .bind(name)
        .fetch_optional(publisher)
        .await
        .map_err(db("looking for a replication slot"))?
        .is_some();
    if !slot {
        query("SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')")
            .bind(name)
            .execute(publisher)
            .await
            .map_err(db("creating a replication slot on the publisher"))?;
    }
    // CREATE SUBSCRIPTION takes no parameters: the connection string is a
    // literal, quoted as one.
    let sql = format!(
        "CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (create_slot = false, slot_name = {}, copy_data = true, synchronous_commit = on)",
        quote_ident(name),
        quote_literal(&conninfo(publisher_url)),
        quote_ident(publication),
        quote_literal(name),
    );
    outside_transaction(subscriber, &[sql], "creating a subscription").await?;
    Ok(true)
}

/// Copies the tables added to the publication since subscription `name`
/// was made or last refreshed.
pub(crate) async fn refresh(subscriber: &PgPool, name: &str) -> Result<(), Error> {
    let sql = format!(
        "ALTER SUBSCRIPTION {} REFRESH PUBLICATION",
        quote_ident(name)
    );
    outside_transaction(subscriber, &[sql], "refreshing a subscription").await
}

/// Drops subscription `name` on the subscriber and its slot on the
/// publisher, whichever of them is still there.
pub(crate) async fn unsubscribe(
    subscriber: &PgPool,
    publisher: &PgPool,
    name: &str,
) -> Result<(), Error> {
    let exists = subscribed(subscriber, name).await?;
    if exists {
        let quoted = quote_ident(name);
        let sql = [
            format!("ALTER SUBSCRIPTION {quoted} DISABLE"),
            format!("ALTER SUBSCRIPTION {quoted} SET (slot_name = NONE)"),
            format!("DROP SUBSCRIPTION {quoted}"),
        ];
        outside_transaction(subscriber, &sql, "dropping a subscription").await?;
    }
    // The slot stays active until the subscriber's worker has stopped.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row: Option<(bool,)> =
            query_as("SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1")
                .bind(name)
                .fetch_optional(publisher)
                .await
                .map_err(db("looking for a replication slot"))?;
        match row {
            None => return Ok(()),
            Some((false,)) => {
                query("SELECT pg_catalog.pg_drop_replication_slot($1)")
                    .bind(name)
                    .execute(publisher)
                    .await
                    .map_err(db("dropping a replication slot"))?;
                return Ok(());
            }
            Some((true,)) if Instant::now() > deadline => {
                return Err(Error::ReplicationUnavailable {
                    server: "publisher".to_owned(),
                    reason: format!("replication slot {name} is still in use 30 s after its subscription was dropped\nhelp: see pg_stat_replication for who holds it, and drop it with pg_drop_replication_slot once idle"),
                });
            }
            Some((true,)) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Waits until every table of subscription `name` has its first copy and
/// follows the stream (`pg_subscription_rel` state `r`), and there are as
/// many of them as `publication` of the publisher publishes.
pub(crate) async fn wait_copied(
    subscriber: &PgPool,
    publisher: &PgPool,
    publication: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let (tables,): (i64,) =
        query_as("SELECT count(*) FROM pg_catalog.pg_publication_tables WHERE pubname = $1")
            .bind(publication)
            .fetch_one(publisher)
            .await
            .map_err(db("counting the published tables"))?;
    let deadline = Instant::now() + timeout;
    loop {
        let (ready, all): (i64, i64) = query_as(
            "SELECT count(*) FILTER (WHERE r.srsubstate = 'r'), count(*)
             FROM pg_catalog.pg_subscription_rel r JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid
             WHERE s.subname = $1",
        )
        .bind(name)
        .fetch_one(subscriber)
        .await
        .map_err(db("reading the subscription's tables"))?;
        if ready == all && all >= tables {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::ReplicationUnavailable {
                server: "subscriber".to_owned(),
                reason: format!("subscription {name} copied {ready} of {tables} tables in {timeout:?}\nhelp: the subscriber's log says why (a table that differs, a row that breaks a key); fix it and run again"),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the subscriber of slot `name` has applied the publisher's
/// changes up to `lsn`.
pub(crate) async fn wait_caught_up(
    publisher: &PgPool,
    name: &str,
    lsn: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let (done,): (Option<bool>,) = query_as(
            "SELECT (SELECT confirmed_flush_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1) >= $2::pg_lsn",
        )
        .bind(name)
        .bind(lsn)
        .fetch_one(publisher)
        .await
        .map_err(db("reading the replication slot's position"))?;
        if done == Some(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::ReplicationUnavailable {
                server: "subscriber".to_owned(),
                reason: format!("slot {name} did not reach {lsn} in {timeout:?}\nhelp: the subscriber's log says why"),
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The connection string a subscription uses for `url`: libpq reads the
/// same URLs as strata, but for the parameters only sqlx knows.
fn conninfo(url: &str) -> String {
    const SQLX_ONLY: [&str; 1] = ["statement-cache-capacity"];
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !SQLX_ONLY.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    parsed.to_string()
}

/// Refuses to publish `schemas` when a table there has no replica identity
/// (no primary key, and `REPLICA IDENTITY DEFAULT` or `NOTHING`): once
/// published, its UPDATEs and DELETEs would fail on the publisher.
pub(crate) async fn check_replica_identity(
    pool: &PgPool,
    server: &str,
    schemas: &[String],
) -> Result<(), Error> {
    let tables: Vec<(String,)> = query_as(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind = 'r'
           AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS (
               SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
         ORDER BY 1",
    )
    .bind(schemas)
    .fetch_all(pool)
    .await
    .map_err(db("reading the tables' replica identities"))?;
    match tables.first() {
        None => Ok(()),
        Some((first,)) => Err(Error::ReplicationUnavailable {
            server: server.to_owned(),
            reason: format!(
                "{} {} no primary key and no replica identity, so once published {} UPDATEs and DELETEs would fail; nothing was published\nhelp: give {} a primary key, or `ALTER TABLE {first} REPLICA IDENTITY FULL`",
                tables.iter().map(|(t,)| t.as_str()).collect::<Vec<_>>().join(", "),
                if tables.len() == 1 { "has" } else { "have" },
                if tables.len() == 1 { "its" } else { "their" },
                if tables.len() == 1 { "it" } else { "each" },
            ),
        }),
    }
}

/// The function the read-only trigger and a move's fence call: it refuses
/// the write with a message naming the table and what to do.
const REFUSE_FUNCTION: &str = r#"CREATE OR REPLACE FUNCTION "strata"."refuse_write"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% %.% refuses writes: %', 'strata fleet:', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'read_only_sql_transaction';
END
$$"#;

/// Puts trigger `trigger`, refusing writes with `why`, on every table of
/// `schemas` that lacks it, in one transaction.
pub(crate) async fn refuse_writes(
    pool: &PgPool,
    schemas: &[String],
    trigger: &str,
    why: &str,
) -> Result<(), Error> {
    debug_assert!(FENCE_MESSAGE == "strata fleet:");
    let context = "making tables refuse writes";
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    crate::tracking::ensure(&mut conn).await?;
    let mut tx = conn.begin().await.map_err(db(context))?;
    // Committed durably whatever the server's default: a move's fence is
    // then flushed, with every write before it, when this returns.
    query("SET LOCAL synchronous_commit = on")
        .execute(&mut *tx)
        .await
        .map_err(db(context))?;
    query(REFUSE_FUNCTION)
        .execute(&mut *tx)
        .await
        .map_err(db(context))?;
    let tables: Vec<(String, String)> = query_as(
        "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $2)
         ORDER BY 1, 2",
    )
    .bind(schemas)
    .bind(trigger)
    .fetch_all(&mut *tx)
    .await
    .map_err(db(context))?;
    for (schema, table) in tables {
        let sql = format!(
            r#"CREATE TRIGGER {} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION "strata"."refuse_write"({})"#,
            quote_ident(trigger),
            strata_manifest::qualified(&schema, &table),
            quote_literal(why),
        );
        query(&sql).execute(&mut *tx).await.map_err(db(context))?;
    }
    tx.commit().await.map_err(db(context))
}

/// The tables of `schemas` that lack trigger `trigger`, as `schema.table`.
pub(crate) async fn without_trigger(
    pool: &PgPool,
    schemas: &[String],
    trigger: &str,
) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = query_as(
        "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $2)
         ORDER BY 1",
    )
    .bind(schemas)
    .bind(trigger)
    .fetch_all(pool)
    .await
    .map_err(db("reading the tables' triggers"))?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

/// The database behind `pool` over `schemas`, as the drift check reads it,
/// without strata's own triggers (the copies' read-only one).
pub(crate) async fn read_copy(pool: &PgPool, schemas: &[String]) -> Result<SchemaState, Error> {
    let mut state = read_database(pool, Some(schemas)).await?;
    state
        .triggers
        .retain(|t| t.name != READ_ONLY_TRIGGER && t.name != FENCE_TRIGGER);
    Ok(state)
}

/// What turns the copy `current` into `desired`, as statements to run, each
/// with where it runs. A copy holds nothing the control database does not,
/// so what a change could lose there is never lost: every change is
/// confirmed.
pub(crate) fn copy_plan(
    current: &SchemaState,
    desired: &SchemaState,
) -> Result<Vec<(String, RunIn)>, Error> {
    let planned = plan(current, desired, &Confirm::all(), Stream::DatabaseDiff).map_err(|e| {
        Error::ReplicationUnavailable {
            server: "copy".to_owned(),
            reason: e.to_string(),
        }
    })?;
    Ok(planned
        .migrations
        .into_iter()
        .map(|m| {
            let run_in = match m.in_transaction {
                true => RunIn::OneTransaction,
                false => RunIn::EachOnItsOwn,
            };
            (
                strata_manifest::render_migration(1, "fleet copy", &m.changes),
                run_in,
            )
        })
        .collect())
}

/// Brings the copy of the replicated schemas on the server behind `pool`
/// to `desired`, makes its tables refuse writes, and subscribes it to the
/// control database's publication (or refreshes the subscription, so that
/// new tables are copied). Returns what it changed, one line per
/// statement group.
pub(crate) async fn sync_copy(
    pool: &PgPool,
    server: &str,
    control: &PgPool,
    control_url: &str,
    schemas: &[String],
    desired: &SchemaState,
) -> Result<Vec<String>, Error> {
    let current = read_copy(pool, schemas).await?;
    let mut changed = Vec::new();
    for (sql, run_in) in copy_plan(&current, desired)? {
        if let Some(failed) = run_sql(pool, &sql, run_in).await? {
            return Err(Error::ReplicationUnavailable {
                server: server.to_owned(),
                reason: format!("its copy of the replicated schemas could not be brought to the control database's: {failed}"),
            });
        }
        changed.push(sql);
    }
    refuse_writes(
        pool,
        schemas,
        READ_ONLY_TRIGGER,
        "it is a copy of a replicated schema: write to the control database",
    )
    .await?;
    let name = object_name("shared", &format!("{}/{server}", identity(control).await?));
    if !subscribe(pool, control, control_url, SHARED_PUBLICATION, &name).await? {
        refresh(pool, &name).await?;
    }
    wait_copied(
        pool,
        control,
        SHARED_PUBLICATION,
        &name,
        Duration::from_secs(120),
    )
    .await?;
    Ok(changed)
}
