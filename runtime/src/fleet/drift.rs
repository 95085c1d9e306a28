//! Drift and health across the fleet: the shared schemas on the control
//! database; on every server, its tenants (one catalog statement per
//! server, in chunks of 2,000 tenants), its copy of the replicated schemas,
//! and the tenant schemas the placement does not put there.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::PgPool;

use super::replica::{copy_plan, read_copy, same_database, without_trigger, READ_ONLY_TRIGGER};
use super::Fleet;
use crate::error::db;
use crate::session::query_as;
use crate::tracking::fetch_if_tracked;
use crate::{read_database, DriftReport, Error, TenantDrift, TenantHealth, TenantSchema};

/// Returns, for each given scope with rows, its newest version applied.
const VERSIONS: &str = r#"SELECT coalesce(max("version") FILTER (WHERE "success"), 0)
FROM "strata"."migrations" WHERE "scope" = ANY($1) GROUP BY "scope""#;

/// The drift of the whole fleet.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct FleetDrift {
    /// The shared schemas, on the control database.
    pub shared: DriftReport,
    /// Each server, in name order.
    pub servers: Vec<ServerDrift>,
}

/// The drift of one server.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ServerDrift {
    /// The server's name.
    pub server: String,
    /// Why it was not checked, when it could not be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its tenants.
    pub tenants: TenantDrift,
    /// How its copy of the replicated schemas differs from the control
    /// database's: the statements that would make them equal, and the
    /// tables that do not refuse writes.
    pub copy: Vec<String>,
    /// Tenant schemas on it that the placement puts on no server, or on
    /// another: left over, or from a move that stopped half-way.
    pub orphans: Vec<String>,
    /// Tenant schemas on it that a move under way is bringing there or
    /// taking away: not orphans, and not yet (or no longer) placed here.
    pub moving: Vec<String>,
}

impl ServerDrift {
    /// True when the server was reached and nothing on it differs.
    pub fn is_clean(&self) -> bool {
        self.error.is_none()
            && self.tenants.is_clean()
            && self.copy.is_empty()
            && self.orphans.is_empty()
    }
}

impl FleetDrift {
    /// True when the control database and every server are clean.
    pub fn is_clean(&self) -> bool {
        self.shared.is_clean() && self.servers.iter().all(ServerDrift::is_clean)
    }
}

impl std::fmt::Display for FleetDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.is_clean() {
            true => write!(f, "drift: clean")?,
            false => write!(f, "drift: found")?,
        }
        write!(f, "\ncontrol: {}", self.shared)?;
        for server in &self.servers {
            write!(f, "\n{}: ", server.server)?;
            if let Some(error) = &server.error {
                write!(f, "not checked: {}", crate::tenants::first_line(error))?;
                continue;
            }
            write!(f, "{}", server.tenants.to_string().replace('\n', "\n  "))?;
            for line in &server.copy {
                write!(f, "\n  replicated copy: {line}")?;
            }
            for orphan in &server.orphans {
                write!(f, "\n  orphan: {orphan} is here, and the placement puts it on no server or another")?;
            }
            for moving in &server.moving {
                write!(f, "\n  moving: {moving}, by a move under way")?;
            }
        }
        Ok(())
    }
}

/// The health of the whole fleet.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct FleetHealth {
    /// Tenants placed, on every server.
    pub tenants: usize,
    /// How many tenants are at each version, on every server (0: none applied).
    pub versions: BTreeMap<u32, usize>,
    /// The servers that could not be reached.
    pub unreachable: Vec<String>,
    /// Each server, in name order.
    pub servers: Vec<ServerHealth>,
}

/// The health of one server.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ServerHealth {
    /// The server's name.
    pub server: String,
    /// Why it could not be read, when it could not be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tenants the placement puts on it.
    pub tenants: usize,
    /// How many of them are at each version (0: none applied).
    pub versions: BTreeMap<u32, usize>,
    /// Their health: current, behind, failed, drifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<TenantHealth>,
    /// Tenant schemas on it that the placement does not put there.
    pub orphans: Vec<String>,
}

impl Fleet<'_> {
    /// Checks the whole fleet for drift: the shared schemas on the control
    /// database, and on every server its tenants against the tenant models,
    /// its copy of the replicated schemas against the control database's,
    /// and the tenant schemas the placement does not put there. A server
    /// that cannot be reached is reported by name; the rest are checked.
    pub async fn check_drift(&self) -> Result<FleetDrift, Error> {
        let shared = crate::check_drift(&self.control, self.shared).await?;
        let desired = match self.replicated.is_empty() {
            true => None,
            false => Some(read_database(&self.control, Some(&self.replicated)).await?),
        };
        let arriving = self.arriving().await?;
        let by_server = self.tenants_by_server().await?;
        let checks = by_server.into_iter().map(|(server, tenants)| {
            let desired = desired.as_ref();
            let arriving = &arriving;
            async move {
                let checked = async {
                    let pool = self.pool_of(&server).await?;
                    let drift = self.on_server().check_drift(&pool, &tenants).await?;
                    let mut copy = Vec::new();
                    if let Some(desired) = desired {
                        if !same_database(&pool, &self.control).await? {
                            let current = read_copy(&pool, &self.replicated).await?;
                            copy.extend(copy_plan(&current, desired)?.into_iter().map(|(sql, _)| sql));
                            copy.extend(
                                without_trigger(&pool, &self.replicated, READ_ONLY_TRIGGER)
                                    .await?
                                    .into_iter()
                                    .map(|t| format!("{t} does not refuse writes (no trigger {READ_ONLY_TRIGGER})")),
                            );
                        }
                    }
                    let (orphans, arriving) =
                        self.strangers(&pool, &server, &tenants, arriving).await?;
                    Ok::<_, Error>((drift, copy, orphans, arriving))
                }
                .await
                .map_err(|e| self.unreachable(&server, e));
                match checked {
                    Ok((tenants, copy, orphans, moving)) => ServerDrift {
                        server,
                        error: None,
                        tenants,
                        copy,
                        orphans,
                        moving,
                    },
                    Err(error) => ServerDrift {
                        server,
                        error: Some(error.to_string()),
                        tenants: TenantDrift::default(),
                        copy: Vec::new(),
                        orphans: Vec::new(),
                        moving: Vec::new(),
                    },
                }
            }
        });
        let servers = futures_util::future::join_all(checks).await;
        Ok(FleetDrift { shared, servers })
    }

    /// The health of every server: its tenants at each version, current,
    /// behind, failed and drifted, and its orphans; the servers that cannot
    /// be reached, by name.
    pub async fn health(&self) -> Result<FleetHealth, Error> {
        let arriving = self.arriving().await?;
        let by_server = self.tenants_by_server().await?;
        let reads = by_server.into_iter().map(|(server, tenants)| {
            let arriving = &arriving;
            async move {
                let read = async {
                    let pool = self.pool_of(&server).await?;
                    let versions = versions(&pool, &tenants).await?;
                    let health = self.on_server().health_of(&pool, &tenants).await?;
                    let (orphans, _) = self.strangers(&pool, &server, &tenants, arriving).await?;
                    Ok::<_, Error>((versions, health, orphans))
                }
                .await
                .map_err(|e| self.unreachable(&server, e));
                let count = tenants.len();
                match read {
                    Ok((versions, health, orphans)) => ServerHealth {
                        server,
                        error: None,
                        tenants: count,
                        versions,
                        health: Some(health),
                        orphans,
                    },
                    Err(error) => ServerHealth {
                        server,
                        error: Some(error.to_string()),
                        tenants: count,
                        versions: BTreeMap::new(),
                        health: None,
                        orphans: Vec::new(),
                    },
                }
            }
        });
        let servers = futures_util::future::join_all(reads).await;
        let mut health = FleetHealth {
            tenants: servers.iter().map(|s| s.tenants).sum(),
            versions: BTreeMap::new(),
            unreachable: servers
                .iter()
                .filter(|s| s.error.is_some())
                .map(|s| s.server.clone())
                .collect(),
            servers,
        };
        for server in &health.servers {
            for (version, count) in &server.versions {
                *health.versions.entry(*version).or_default() += count;
            }
        }
        Ok(health)
    }

    /// The tenants a move under way brings to a server or takes from it,
    /// as (server, tenant): both ends of every move.
    async fn arriving(&self) -> Result<BTreeSet<(String, String)>, Error> {
        let rows: Vec<(String, String, String)> =
            query_as(r#"SELECT "tenant", "from_server", "to_server" FROM "strata"."fleet_moves""#)
                .fetch_all(&self.control)
                .await
                .map_err(db("reading strata.fleet_moves"))?;
        Ok(rows
            .into_iter()
            .flat_map(|(tenant, from, to)| [(from, tenant.clone()), (to, tenant)])
            .collect())
    }

    /// The tenant schemas on `server` that the placement does not put
    /// there: orphans, and those a move is bringing.
    async fn strangers(
        &self,
        pool: &PgPool,
        server: &str,
        placed: &[TenantSchema],
        arriving: &BTreeSet<(String, String)>,
    ) -> Result<(Vec<String>, Vec<String>), Error> {
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let here = self.tenants.schemas_under_prefix(&mut conn).await?;
        let placed: BTreeSet<&str> = placed.iter().map(TenantSchema::name).collect();
        let (arriving, orphans): (Vec<String>, Vec<String>) = here
            .into_iter()
            .filter(|s| !placed.contains(s.as_str()))
            .partition(|s| arriving.contains(&(server.to_owned(), s.clone())));
        Ok((orphans, arriving))
    }
}

/// How many of `tenants` are at each version on the server behind `pool`.
async fn versions(pool: &PgPool, tenants: &[TenantSchema]) -> Result<BTreeMap<u32, usize>, Error> {
    let names: Vec<&str> = tenants.iter().map(TenantSchema::name).collect();
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    let rows: Vec<(i64,)> = fetch_if_tracked(
        &mut conn,
        "reading the tenants' versions",
        query_as(VERSIONS).bind(&names),
    )
    .await?;
    let mut versions = BTreeMap::new();
    for (version,) in &rows {
        *versions
            .entry(u32::try_from(*version).unwrap_or(0))
            .or_default() += 1;
    }
    let never = tenants.len().saturating_sub(rows.len());
    if never > 0 {
        *versions.entry(0).or_default() += never;
    }
    Ok(versions)
}
