//! The fleet's tables in the control database: the servers, the placement
//! of each tenant, and the moves under way.

use sqlx::{Acquire, PgConnection};

use crate::error::db;
use crate::session::query;
use crate::Error;

/// The message that opens every write refused by a move's fence or by a
/// replicated schema's copy: what [`crate::Fleet::is_fenced`] looks for.
pub(crate) const FENCE_MESSAGE: &str = "strata fleet:";

const CREATE: [&str; 3] = [
    r#"CREATE TABLE IF NOT EXISTS "strata"."fleet_servers" (
    "name" text PRIMARY KEY,
    "url" text NOT NULL,
    "added_at" timestamp with time zone NOT NULL DEFAULT now()
)"#,
    r#"CREATE TABLE IF NOT EXISTS "strata"."fleet_placements" (
    "tenant" text PRIMARY KEY,
    "server" text NOT NULL REFERENCES "strata"."fleet_servers" ("name"),
    "placed_at" timestamp with time zone NOT NULL DEFAULT now()
)"#,
    r#"CREATE TABLE IF NOT EXISTS "strata"."fleet_moves" (
    "tenant" text PRIMARY KEY REFERENCES "strata"."fleet_placements" ("tenant"),
    "from_server" text NOT NULL REFERENCES "strata"."fleet_servers" ("name"),
    "to_server" text NOT NULL REFERENCES "strata"."fleet_servers" ("name"),
    "keep_source" boolean NOT NULL,
    "step" text NOT NULL,
    "started_at" timestamp with time zone NOT NULL DEFAULT now(),
    "updated_at" timestamp with time zone NOT NULL DEFAULT now()
)"#,
];

const EXISTS: &str = r#"SELECT to_regclass('"strata"."fleet_moves"') IS NOT NULL"#;

pub(crate) const ADD_SERVER: &str = r#"INSERT INTO "strata"."fleet_servers" ("name", "url") VALUES ($1, $2)
ON CONFLICT ("name") DO UPDATE SET "url" = EXCLUDED."url""#;

/// Returns every server, its URL and how many tenants it holds.
pub(crate) const SERVERS: &str = r#"SELECT s."name", s."url", count(p."tenant")
FROM "strata"."fleet_servers" s LEFT JOIN "strata"."fleet_placements" p ON p."server" = s."name"
GROUP BY s."name", s."url" ORDER BY s."name""#;

/// Returns every server and how many tenants it holds.
pub(crate) const COUNTS: &str = r#"SELECT s."name", count(p."tenant")
FROM "strata"."fleet_servers" s LEFT JOIN "strata"."fleet_placements" p ON p."server" = s."name"
GROUP BY s."name""#;

pub(crate) const PLACEMENT: &str = r#"SELECT p."tenant", p."server", m."to_server"
FROM "strata"."fleet_placements" p LEFT JOIN "strata"."fleet_moves" m ON m."tenant" = p."tenant"
ORDER BY p."tenant""#;

pub(crate) const SERVER_OF: &str =
    r#"SELECT "server" FROM "strata"."fleet_placements" WHERE "tenant" = $1"#;

pub(crate) const URL_OF: &str = r#"SELECT "url" FROM "strata"."fleet_servers" WHERE "name" = $1"#;

pub(crate) const PLACE: &str = r#"INSERT INTO "strata"."fleet_placements" ("tenant", "server") VALUES ($1, $2)
ON CONFLICT ("tenant") DO UPDATE SET "server" = EXCLUDED."server""#;

/// Creates the fleet's tables unless they exist.
pub(crate) async fn ensure(conn: &mut PgConnection) -> Result<(), Error> {
    crate::tracking::ensure(conn).await?;
    let context = "creating the fleet's tables in the control database";
    let mut tx = conn.begin().await.map_err(db(context))?;
    let (exists,): (bool,) = crate::session::query_as(EXISTS)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(context))?;
    if !exists {
        crate::tracking::lock(&mut tx, "").await?;
        for statement in CREATE {
            query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db(context))?;
        }
    }
    tx.commit().await.map_err(db(context))
}

/// A server's name: what names its publication and subscription, so
/// lowercase ASCII letters, digits, `-` and `_`, at most 40 bytes.
pub(crate) fn check_server_name(name: &str) -> Result<(), Error> {
    let fine = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    match fine {
        true => Ok(()),
        false => Err(Error::InvalidServer {
            server: name.to_owned(),
            reason: "a server's name is 1 to 40 lowercase ASCII letters, digits, `-` or `_`\nhelp: name it after where it runs, such as \"eu-1\"".to_owned(),
        }),
    }
}
