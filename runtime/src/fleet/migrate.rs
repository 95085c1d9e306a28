//! Migrations across the fleet: the shared stream on the control database,
//! the replicated schemas' copies on every server, then every server's
//! tenants, the servers at once and each server's tenants `concurrency` at
//! a time.

use std::time::{Duration, Instant};

use serde::Serialize;
use strata_manifest::SchemaState;

use super::replica::{
    check_can_publish, check_replica_identity, publish, same_database, sync_copy,
    SHARED_PUBLICATION,
};
use super::Fleet;
use crate::{
    read_database, Error, Migrator, RunReport, TenantOutcome, TenantSchema, TenantStatus,
    TenantsReport,
};

/// What a migration of the fleet did.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct FleetReport {
    /// The shared stream, on the control database.
    pub shared: RunReport,
    /// Each server, in name order.
    pub servers: Vec<ServerReport>,
    /// How long the whole run took.
    pub elapsed: Duration,
}

/// What a migration of the fleet did on one server.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ServerReport {
    /// The server's name.
    pub server: String,
    /// Why the server was not migrated, when it could not be reached (or
    /// its copy of the replicated schemas could not be brought up to date);
    /// its tenants are then reported as not touched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The statements that brought its copy of the replicated schemas to
    /// the control database's, one group per transaction.
    pub copy: Vec<String>,
    /// Its tenants.
    pub tenants: TenantsReport,
}

impl FleetReport {
    /// Every tenant that failed or was not touched, with its server.
    pub fn failed(&self) -> impl Iterator<Item = (&str, &TenantOutcome)> {
        self.servers
            .iter()
            .flat_map(|s| s.tenants.failed().map(move |t| (s.server.as_str(), t)))
    }

    /// True when every server was reached and every tenant is current.
    pub fn is_current(&self) -> bool {
        self.servers
            .iter()
            .all(|s| s.error.is_none() && s.tenants.is_current())
    }
}

impl std::fmt::Display for FleetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "shared schemas: {} migration(s) applied; {} server(s) in {:.1?}",
            self.shared.applied.len(),
            self.servers.len(),
            self.elapsed
        )?;
        for server in &self.servers {
            write!(f, "\n{}: ", server.server)?;
            match &server.error {
                Some(error) => write!(
                    f,
                    "not migrated: {}; {} tenant(s) not touched",
                    crate::tenants::first_line(error),
                    server.tenants.tenants.len()
                )?,
                None => write!(f, "{}", server.tenants.to_string().replace('\n', "\n  "))?,
            }
        }
        Ok(())
    }
}

impl Fleet<'_> {
    /// Migrates the fleet: the shared stream on the control database; on
    /// every server, its copy of the replicated schemas made equal to the
    /// control database's and subscribed to its rows; then every server's
    /// tenants, as [`crate::Tenants::migrate`] does on one server (with its
    /// rollout, its error budget and its resume, per server). The servers
    /// are migrated at once. A server that cannot be reached fails none of
    /// the others: its tenants are reported as not touched
    /// ([`TenantStatus::Unreachable`]), and the next run goes on with them.
    pub async fn migrate(&self) -> Result<FleetReport, Error> {
        let started = Instant::now();
        let shared = Migrator::new(self.shared).run(&self.control).await?;
        let desired = self.publish_replicated().await?;
        let by_server = self.tenants_by_server().await?;
        let moving: std::collections::BTreeMap<String, String> = self
            .placement()
            .await?
            .into_iter()
            .filter_map(|p| p.moving_to.map(|to| (p.tenant, to)))
            .collect();
        let moving = &moving;
        let runs = by_server.into_iter().map(|(server, tenants)| {
            self.migrate_server(server, tenants, desired.as_ref(), moving)
        });
        let servers = futures_util::future::join_all(runs).await;
        Ok(FleetReport {
            shared,
            servers,
            elapsed: started.elapsed(),
        })
    }

    /// Publishes the replicated schemas on the control database, after
    /// checking that no tenant table references a shared table that is not
    /// replicated; returns the state every copy is brought to.
    async fn publish_replicated(&self) -> Result<Option<SchemaState>, Error> {
        self.check_references()?;
        if self.replicated.is_empty() {
            return Ok(None);
        }
        check_can_publish(&self.control, "control").await?;
        check_replica_identity(&self.control, "control", &self.replicated).await?;
        publish(&self.control, SHARED_PUBLICATION, &self.replicated).await?;
        Ok(Some(
            read_database(&self.control, Some(&self.replicated)).await?,
        ))
    }

    /// A tenant table's foreign key to a shared table that is not
    /// replicated cannot hold on any server but the control database.
    pub(crate) fn check_references(&self) -> Result<(), Error> {
        let manifest = self.tenants.migrations.manifest()?;
        for table in &manifest.state.tables {
            for key in &table.foreign_keys {
                let schema = &key.references.schema;
                let shared = schema != strata_manifest::TENANT_PLACEHOLDER;
                if shared && !self.replicated.contains(schema) {
                    return Err(Error::SharedNotReplicated {
                        tenant_table: format!("{}.{}", table.schema, table.name),
                        shared_table: format!("{schema}.{}", key.references.name),
                        schema: schema.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    async fn migrate_server(
        &self,
        server: String,
        tenants: Vec<TenantSchema>,
        desired: Option<&SchemaState>,
        moving: &std::collections::BTreeMap<String, String>,
    ) -> ServerReport {
        let started = Instant::now();
        let mut report = ServerReport {
            server: server.clone(),
            error: None,
            copy: Vec::new(),
            tenants: TenantsReport {
                tenants: Vec::new(),
                elapsed: Duration::ZERO,
                rollout: None,
            },
        };
        let prepared = async {
            let pool = self.pool_of(&server).await?;
            if let Some(desired) = desired {
                if !same_database(&pool, &self.control).await? {
                    report.copy = sync_copy(
                        &pool,
                        &server,
                        &self.control,
                        &self.control_url,
                        &self.replicated,
                        desired,
                    )
                    .await?;
                }
            }
            Ok::<_, Error>(pool)
        }
        .await
        .map_err(|e| self.unreachable(&server, e));
        let pool = match prepared {
            Ok(pool) => pool,
            Err(error) => {
                untouched(&mut report, tenants, &error);
                report.tenants.elapsed = started.elapsed();
                return report;
            }
        };
        // A tenant on its way to another server keeps its version until
        // the move ends.
        let (tenants, held): (Vec<TenantSchema>, Vec<TenantSchema>) = tenants
            .into_iter()
            .partition(|t| !moving.contains_key(t.name()));
        for tenant in held {
            let version: Result<(i64,), _> = crate::session::query_as(
                r#"SELECT coalesce(max("version") FILTER (WHERE "success"), 0) FROM "strata"."migrations" WHERE "scope" = $1"#,
            )
            .bind(tenant.name())
            .fetch_one(&pool)
            .await;
            report.tenants.tenants.push(TenantOutcome {
                tenant: tenant.name().to_owned(),
                status: TenantStatus::Failed {
                    version: version.map_or(0, |(v,)| u32::try_from(v).unwrap_or(0)),
                    error: Error::TenantMoving {
                        tenant: tenant.name().to_owned(),
                        id: tenant.id().to_owned(),
                        to: moving[tenant.name()].clone(),
                    },
                },
            });
        }
        match self.on_server().migrate(&pool, &tenants).await {
            Ok(mut migrated) => {
                // A tenant that failed because the server went away during
                // the run is reported as not reached there, naming it: its
                // transaction, if it began, was rolled back with the session.
                for outcome in &mut migrated.tenants {
                    let status = std::mem::replace(&mut outcome.status, TenantStatus::NotReached);
                    outcome.status = match status {
                        TenantStatus::Failed { version, error } => match self
                            .unreachable(&server, error)
                        {
                            error @ Error::ServerUnreachable { .. } => TenantStatus::Unreachable {
                                server: server.clone(),
                                error,
                            },
                            error => TenantStatus::Failed { version, error },
                        },
                        other => other,
                    };
                }
                migrated.tenants.append(&mut report.tenants.tenants);
                report.tenants = migrated;
            }
            Err(error) => {
                let error = self.unreachable(&server, error);
                untouched(&mut report, tenants, &error);
            }
        }
        report
    }
}

/// Reports the tenants of a server that could not be migrated at all
/// (`error`) as not touched, each naming the server.
fn untouched(report: &mut ServerReport, tenants: Vec<TenantSchema>, error: &Error) {
    report.error = Some(error.to_string());
    let message = crate::tenants::first_line(&error.to_string()).to_owned();
    report.tenants.tenants = tenants
        .into_iter()
        .map(|tenant| TenantOutcome {
            tenant: tenant.name().to_owned(),
            status: TenantStatus::Unreachable {
                server: report.server.clone(),
                error: Error::ServerUnreachable {
                    server: report.server.clone(),
                    message: message.clone(),
                },
            },
        })
        .collect();
}
