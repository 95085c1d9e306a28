//! Tenants across a fleet of PostgreSQL servers: the servers and the
//! placement of each tenant, kept in the control database (the one with the
//! shared schemas and the tenant registry); a pool per server, shared by
//! its tenants; the shared schemas the tenants reference, replicated to
//! every server; migrations, drift and health across the fleet; and tenants
//! moved between servers online, by logical replication.

mod control;
mod drift;
mod migrate;
mod moves;
mod replica;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Acquire, PgPool};

use crate::error::db;
use crate::session::{query, query_as};
use crate::{Error, Migrations, TenantSchema, Tenants};

pub use drift::{FleetDrift, FleetHealth, ServerDrift, ServerHealth};
pub use migrate::{FleetReport, ServerReport};
pub use moves::{MoveReport, MoveStep};

/// How a new tenant is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// On the server with the fewest tenants (by name, among equals).
    Fewest,
    /// On the server of this name.
    On(String),
}

/// One server of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Server {
    /// Its name.
    pub name: String,
    /// Its URL, without the password.
    pub url: String,
    /// How many tenants the placement puts on it.
    pub tenants: usize,
}

/// Where a tenant lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Placement {
    /// The tenant's schema.
    pub tenant: String,
    /// The server that holds it.
    pub server: String,
    /// The server it is being moved to, while a move is under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moving_to: Option<String>,
}

/// A tenant created on the fleet.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlacedTenant {
    /// The tenant's schema.
    pub tenant: TenantSchema,
    /// The server it was placed on.
    pub server: String,
    /// How many tenant migrations were applied.
    pub applied: usize,
}

/// The tenants of an application spread over several PostgreSQL servers.
///
/// The control database holds the shared schemas, the tenant registry, the
/// list of servers (`strata.fleet_servers`) and the placement of every
/// tenant (`strata.fleet_placements`). Each server holds its tenants'
/// schemas, their history in its own `strata.migrations`, and a read-only
/// copy of the replicated shared schemas.
///
/// ```no_run
/// # async fn start(shared: &strata::Migrations, tenant: &strata::Migrations) -> Result<(), strata::Error> {
/// let tenants = strata::Tenants::new(tenant).registry("public", "tenants", "id");
/// let fleet = strata::Fleet::connect("postgres://control/app", shared, tenants)
///     .await?
///     .replicate("contact");
/// fleet.add_server("eu-1", "postgres://eu-1/app").await?;
/// fleet.migrate().await?;
/// let acme = fleet.tenants().schema("acme")?;
/// fleet.create(&acme, strata::Place::Fewest).await?;
/// let pool = fleet.pool_for(&acme).await?; // the pool of acme's server
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Fleet<'m> {
    control: PgPool,
    control_url: String,
    shared: &'m Migrations,
    tenants: Tenants<'m>,
    replicated: Vec<String>,
    connections: u32,
    copy_timeout: Duration,
    keep_source: bool,
    stop_move_after: Option<MoveStep>,
    pools: Arc<Mutex<HashMap<String, (String, PgPool)>>>,
}

impl std::fmt::Debug for Fleet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("control", &crate::redact::url(&self.control_url))
            .field("replicated", &self.replicated)
            .field("tenants", &self.tenants)
            .finish_non_exhaustive()
    }
}

impl<'m> Fleet<'m> {
    /// The fleet whose control database is at `control_url`: the shared
    /// migrations run there, and `tenants` (with its registry) says how
    /// tenants are named and migrated on every server. The control URL is
    /// also how the servers subscribe to the replicated schemas, so it must
    /// be reachable from them.
    pub async fn connect(
        control_url: &str,
        shared: &'m Migrations,
        tenants: Tenants<'m>,
    ) -> Result<Fleet<'m>, Error> {
        let control = PgPoolOptions::new()
            .max_connections(8)
            .connect(control_url)
            .await
            .map_err(|e| Error::ServerUnreachable {
                server: "control".to_owned(),
                message: crate::describe_sqlx_error(&e),
            })?;
        let mut conn = control.acquire().await.map_err(db("connecting"))?;
        control::ensure(&mut conn).await?;
        drop(conn);
        Ok(Fleet {
            control,
            control_url: control_url.to_owned(),
            shared,
            tenants,
            replicated: Vec::new(),
            connections: 8,
            copy_timeout: Duration::from_secs(600),
            keep_source: false,
            stop_move_after: None,
            pools: Arc::default(),
        })
    }

    /// Replicates shared schema `schema` to every server: its tables are
    /// made there as the control database has them, their rows flow from
    /// the control database by logical replication, and the copies refuse
    /// writes. The shared schemas that tenant tables reference must be
    /// replicated.
    pub fn replicate(mut self, schema: impl Into<String>) -> Self {
        let schema = schema.into();
        if !self.replicated.contains(&schema) {
            self.replicated.push(schema);
            self.replicated.sort();
        }
        self
    }

    /// How many connections each server's pool holds (default 8).
    pub fn connections_per_server(mut self, connections: u32) -> Self {
        self.connections = connections.max(1);
        self
    }

    /// How long a move waits for the first copy of a tenant's rows, and
    /// then for the target to catch up (default 10 minutes).
    pub fn copy_timeout(mut self, timeout: Duration) -> Self {
        self.copy_timeout = timeout;
        self
    }

    /// The control database.
    pub fn control(&self) -> &PgPool {
        &self.control
    }

    /// How tenants are named and migrated.
    pub fn tenants(&self) -> &Tenants<'m> {
        &self.tenants
    }

    /// The replicated shared schemas.
    pub fn replicated(&self) -> &[String] {
        &self.replicated
    }

    /// Adds a server to the fleet, or changes the URL of one it holds. The
    /// server is connected to first: a URL that does not reach it is an
    /// error, and nothing is recorded.
    pub async fn add_server(&self, name: &str, url: &str) -> Result<(), Error> {
        control::check_server_name(name)?;
        let pool = PgPoolOptions::new()
            .max_connections(self.connections)
            .connect(url)
            .await
            .map_err(|e| Error::ServerUnreachable {
                server: name.to_owned(),
                message: crate::describe_sqlx_error(&e),
            })?;
        query(control::ADD_SERVER)
            .bind(name)
            .bind(url)
            .execute(&self.control)
            .await
            .map_err(db("recording the server in strata.fleet_servers"))?;
        self.pools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), (url.to_owned(), pool));
        Ok(())
    }

    /// The servers, in name order, with how many tenants each holds.
    pub async fn servers(&self) -> Result<Vec<Server>, Error> {
        let rows: Vec<(String, String, i64)> = query_as(control::SERVERS)
            .fetch_all(&self.control)
            .await
            .map_err(db("reading strata.fleet_servers"))?;
        Ok(rows
            .into_iter()
            .map(|(name, url, tenants)| Server {
                name,
                url: crate::redact::url(&url),
                tenants: usize::try_from(tenants).unwrap_or(0),
            })
            .collect())
    }

    /// Where every tenant lives, in tenant order.
    pub async fn placement(&self) -> Result<Vec<Placement>, Error> {
        let rows: Vec<(String, String, Option<String>)> = query_as(control::PLACEMENT)
            .fetch_all(&self.control)
            .await
            .map_err(db("reading strata.fleet_placements"))?;
        Ok(rows
            .into_iter()
            .map(|(tenant, server, moving_to)| Placement {
                tenant,
                server,
                moving_to,
            })
            .collect())
    }

    /// The server that holds `tenant`: one lookup in the control database.
    pub async fn server_of(&self, tenant: &TenantSchema) -> Result<String, Error> {
        let row: Option<(String,)> = query_as(control::SERVER_OF)
            .bind(tenant.name())
            .fetch_optional(&self.control)
            .await
            .map_err(db("reading strata.fleet_placements"))?;
        row.map(|(server,)| server)
            .ok_or_else(|| Error::TenantNotPlaced {
                tenant: tenant.name().to_owned(),
            })
    }

    /// The pool of the server that holds `tenant`, shared with the other
    /// tenants of that server. Ask for it again for each unit of work: a
    /// move switches a tenant's server, and a write refused by a move's
    /// fence ([`Fleet::is_fenced`]) succeeds when retried on the pool this
    /// returns once the move has switched.
    pub async fn pool_for(&self, tenant: &TenantSchema) -> Result<PgPool, Error> {
        let server = self.server_of(tenant).await?;
        self.pool_of(&server).await
    }

    /// True when `error` is a write refused because its tenant is being
    /// moved to another server (or because it went to a read-only copy of a
    /// replicated schema): retry it on [`Fleet::pool_for`]'s pool.
    pub fn is_fenced(error: &sqlx::Error) -> bool {
        error
            .as_database_error()
            .is_some_and(|e| e.message().starts_with(control::FENCE_MESSAGE))
    }

    /// The pool of server `name`, made on first use.
    pub(crate) async fn pool_of(&self, name: &str) -> Result<PgPool, Error> {
        if let Some((_, pool)) = self
            .pools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(pool.clone());
        }
        let url = self.url_of(name).await?;
        let pool = PgPoolOptions::new()
            .max_connections(self.connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy(&url)
            .map_err(|e| Error::InvalidServer {
                server: name.to_owned(),
                reason: crate::describe_sqlx_error(&e),
            })?;
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let (_, pool) = pools.entry(name.to_owned()).or_insert((url, pool));
        Ok(pool.clone())
    }

    /// The URL of server `name`, as recorded.
    pub(crate) async fn url_of(&self, name: &str) -> Result<String, Error> {
        let row: Option<(String,)> = query_as(control::URL_OF)
            .bind(name)
            .fetch_optional(&self.control)
            .await
            .map_err(db("reading strata.fleet_servers"))?;
        match row {
            Some((url,)) => Ok(url),
            None => Err(Error::UnknownServer {
                server: name.to_owned(),
                known: self.servers().await?.into_iter().map(|s| s.name).collect(),
            }),
        }
    }

    /// The tenants placed on each server, every server listed.
    pub(crate) async fn tenants_by_server(
        &self,
    ) -> Result<BTreeMap<String, Vec<TenantSchema>>, Error> {
        let mut by_server: BTreeMap<String, Vec<TenantSchema>> = self
            .servers()
            .await?
            .into_iter()
            .map(|s| (s.name, Vec::new()))
            .collect();
        for placement in self.placement().await? {
            let tenant = self.tenant_of_schema(&placement.tenant)?;
            by_server.entry(placement.server).or_default().push(tenant);
        }
        Ok(by_server)
    }

    /// The tenant whose schema is `schema`.
    pub(crate) fn tenant_of_schema(&self, schema: &str) -> Result<TenantSchema, Error> {
        let id = schema
            .strip_prefix(self.tenants.prefix.as_str())
            .unwrap_or(schema);
        self.tenants.schema(id)
    }

    /// The same tenants, without the registry: on a server, the tenants
    /// are the ones the placement names, and the registry stays on the
    /// control database.
    pub(crate) fn on_server(&self) -> Tenants<'m> {
        let mut tenants = self.tenants.clone();
        tenants.registry = None;
        tenants
    }

    /// Places an existing tenant, already on `server`, in the placement
    /// (a tenant created before the fleet, say).
    pub async fn place(&self, tenant: &TenantSchema, server: &str) -> Result<(), Error> {
        self.url_of(server).await?;
        query(control::PLACE)
            .bind(tenant.name())
            .bind(server)
            .execute(&self.control)
            .await
            .map_err(db("recording the tenant in strata.fleet_placements"))?;
        Ok(())
    }

    /// Creates a tenant on the server `place` picks: its placement, then its
    /// schema and migrations on that server (one transaction there), then
    /// its registry row, unless the caller wrote it first (a registry with
    /// more columns than the id). Run again after a failure, it goes on
    /// where it stopped: a placed tenant keeps its server.
    pub async fn create(&self, tenant: &TenantSchema, place: Place) -> Result<PlacedTenant, Error> {
        let server = self.choose(tenant, &place).await?;
        let pool = self.pool_of(&server).await?;
        let applied = match self.on_server().create(&pool, tenant).await {
            Ok(created) => created.applied.len(),
            // Created by a run that stopped before its registry row.
            Err(Error::TenantExists { .. }) if !self.registered(tenant).await? => 0,
            Err(error) => return Err(self.unreachable(&server, error)),
        };
        // A registry row written before (by the caller, with the columns
        // of its own a registry may have) is left as it is.
        if let (Some(registry), false) = (&self.tenants.registry, self.registered(tenant).await?) {
            let (table, column) = registry.names();
            let insert =
                format!("INSERT INTO {table} ({column}) VALUES ($1) ON CONFLICT DO NOTHING");
            query(&insert)
                .bind(tenant.id())
                .execute(&self.control)
                .await
                .map_err(|e| registry.error("adding the tenant to the registry", e))?;
        }
        Ok(PlacedTenant {
            tenant: tenant.clone(),
            server,
            applied,
        })
    }

    /// Whether the registry lists `tenant` (true without a registry).
    async fn registered(&self, tenant: &TenantSchema) -> Result<bool, Error> {
        let Some(registry) = &self.tenants.registry else {
            return Ok(true);
        };
        let (table, column) = registry.names();
        let select = format!("SELECT 1 FROM {table} WHERE {column}::text = $1");
        Ok(query(&select)
            .bind(tenant.id())
            .fetch_optional(&self.control)
            .await
            .map_err(|e| registry.error("reading the tenant registry", e))?
            .is_some())
    }

    /// The tenant's server: the one placed already, or one chosen by
    /// `place` and recorded, under the placement's lock so that two
    /// creations at once count each other.
    async fn choose(&self, tenant: &TenantSchema, place: &Place) -> Result<String, Error> {
        let mut conn = self.control.acquire().await.map_err(db("connecting"))?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        crate::tracking::lock(&mut tx, "strata.fleet_placements").await?;
        let placed: Option<(String,)> = query_as(control::SERVER_OF)
            .bind(tenant.name())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("reading strata.fleet_placements"))?;
        if let Some((server,)) = placed {
            return Ok(server);
        }
        let servers = self.servers().await?;
        let server = match place {
            Place::On(name) => servers
                .iter()
                .find(|s| &s.name == name)
                .map(|s| s.name.clone())
                .ok_or_else(|| Error::UnknownServer {
                    server: name.clone(),
                    known: servers.iter().map(|s| s.name.clone()).collect(),
                })?,
            Place::Fewest => {
                let counts: Vec<(String, i64)> = query_as(control::COUNTS)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db("counting the tenants of each server"))?;
                counts
                    .into_iter()
                    .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)))
                    .map(|(name, _)| name)
                    .ok_or_else(|| Error::UnknownServer {
                        server: "(any)".to_owned(),
                        known: Vec::new(),
                    })?
            }
        };
        query(control::PLACE)
            .bind(tenant.name())
            .bind(&server)
            .execute(&mut *tx)
            .await
            .map_err(db("recording the tenant in strata.fleet_placements"))?;
        tx.commit()
            .await
            .map_err(db("committing the tenant's placement"))?;
        Ok(server)
    }

    /// `error`, met on `server`: a connection that failed is said as the
    /// server being unreachable, by name.
    pub(crate) fn unreachable(&self, server: &str, error: Error) -> Error {
        match &error {
            Error::Database { cause, .. } if is_connection_error(cause) => {
                Error::ServerUnreachable {
                    server: server.to_owned(),
                    message: crate::describe_sqlx_error(cause),
                }
            }
            _ => error,
        }
    }
}

/// True for an error that says the server could not be reached (or went
/// away), not that a statement failed.
pub(crate) fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code == "57P01" || code == "57P03"),
        _ => false,
    }
}
