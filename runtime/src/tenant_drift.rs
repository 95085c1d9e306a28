//! Drift and health for every tenant at once: one catalog statement for all
//! their schemas, one query of `strata.migrations` for all their versions.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;
use sqlx::PgPool;
use strata_manifest::{SchemaState, Table};

use crate::drift::{compare, DriftReport};
use crate::error::db;
use crate::introspect::{read_catalog, Catalog};
use crate::migrator::expected_state;
use crate::session::query_as;
use crate::tenants::first_line;
use crate::tracking::fetch_if_tracked;
use crate::{Error, InvalidTenant, TenantSchema, Tenants};

/// Returns, for each given scope with rows, its newest version applied
/// successfully (0 if none) and the errors of its failed migrations.
const TENANT_VERSIONS: &str = r#"SELECT "scope",
    coalesce(max("version") FILTER (WHERE "success"), 0),
    string_agg("error", '; ' ORDER BY "version") FILTER (WHERE NOT "success")
FROM "strata"."migrations" WHERE "scope" = ANY($1) GROUP BY "scope""#;

/// How many tenants one catalog statement of a tenant drift check reads.
const DRIFT_CHUNK: usize = 2000;

/// How many problems a health report lists by name.
const PROBLEMS_LISTED: usize = 50;

/// The drift of many tenants, from one pass over the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TenantDrift {
    /// How many tenants were checked.
    pub checked: usize,
    /// The tenants that differ from the tenant models, by schema.
    pub drifted: BTreeMap<String, DriftReport>,
    /// The registry rows whose id names no schema, so were not checked.
    pub invalid: Vec<InvalidTenant>,
}

impl TenantDrift {
    /// True when every tenant checked matches the tenant models, and every
    /// registry row named one.
    pub fn is_clean(&self) -> bool {
        self.drifted.is_empty() && self.invalid.is_empty()
    }

    /// One tenant's differences; `None` when it is clean (or was not checked).
    pub fn tenant(&self, schema: &str) -> Option<&DriftReport> {
        self.drifted.get(schema)
    }
}

impl fmt::Display for TenantDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.drifted.is_empty() {
            write!(f, "clean ({} tenants)", self.checked)?;
        } else {
            write!(
                f,
                "{} of {} tenants drifted",
                self.drifted.len(),
                self.checked
            )?;
        }
        for (tenant, drift) in &self.drifted {
            write!(f, "\n{tenant}: {}", drift.to_string().replace('\n', "\n  "))?;
        }
        for invalid in &self.invalid {
            write!(f, "\nnot checked: {invalid}")?;
        }
        Ok(())
    }
}

/// The tenants' part of a health report.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct TenantHealth {
    /// Tenants listed.
    pub tenants: usize,
    /// At the newest tenant migration, without drift.
    pub current: usize,
    /// Behind the newest tenant migration (some applied).
    pub behind: usize,
    /// With no tenant migration applied: listed, but never created.
    pub missing: usize,
    /// Whose last attempt failed.
    pub failed: usize,
    /// Whose schema differs from the tenant models.
    pub drifted: usize,
    /// At a version newer than any this binary knows (a newer binary
    /// migrated them).
    pub ahead: usize,
    /// Registry rows whose id names no valid schema.
    pub invalid: usize,
    /// Schemas under the tenant prefix that no registry row names.
    pub orphans: usize,
    /// The newest tenant migration.
    pub latest_version: u32,
    /// The first tenants with a problem, by name.
    pub problems: Vec<TenantProblem>,
}

/// A tenant that is not current.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TenantProblem {
    /// The tenant's schema.
    pub tenant: String,
    /// Its version.
    pub version: u32,
    /// What is wrong.
    pub problem: String,
}

impl TenantHealth {
    /// True when every tenant is current and clean.
    pub fn is_current(&self) -> bool {
        self.current == self.tenants
    }
}

impl Tenants<'_> {
    /// Checks every given tenant's schema against the tenant models (at the
    /// target, if one is set), reading the catalog once for all of them.
    pub async fn check_drift(
        &self,
        pool: &PgPool,
        tenants: &[TenantSchema],
    ) -> Result<TenantDrift, Error> {
        let expected = expected_state(&self.migrations.manifest()?, self.target);
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        // In chunks, each one catalog statement: what is held at once (the
        // expected tables, the rows read) does not grow with the tenants,
        // and only the drifted tenants' reports are kept.
        let mut drift = TenantDrift::default();
        for chunk in tenants.chunks(DRIFT_CHUNK) {
            let catalog = read_catalog(&mut conn, &all_tenants(&expected, chunk)).await?;
            let part = drift_by_tenant(&expected, chunk, catalog);
            drift.checked += part.checked;
            drift.drifted.extend(part.drifted);
        }
        Ok(drift)
    }

    /// [`Tenants::check_drift`] for every tenant in the registry; a row
    /// whose id names no schema is listed in [`TenantDrift::invalid`].
    pub async fn check_drift_all(&self, pool: &PgPool) -> Result<TenantDrift, Error> {
        let list = self.list(pool).await?;
        let mut drift = self.check_drift(pool, &list.tenants).await?;
        drift.invalid = list.invalid;
        Ok(drift)
    }

    /// A summary of every tenant in the registry: versions from one query of
    /// `strata.migrations`, drift from one pass over the catalog. A row
    /// whose id names no schema is counted and listed, not a failure of
    /// the whole.
    pub async fn health(&self, pool: &PgPool) -> Result<TenantHealth, Error> {
        let list = self.list(pool).await?;
        let mut health = self.health_of(pool, &list.tenants).await?;
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let schemas = self.schemas_under_prefix(&mut conn).await?;
        let listed: std::collections::HashSet<&str> =
            list.tenants.iter().map(TenantSchema::name).collect();
        health.orphans = schemas
            .iter()
            .filter(|s| !listed.contains(s.as_str()))
            .count();
        health.tenants += list.invalid.len();
        health.invalid = list.invalid.len();
        for invalid in list.invalid {
            if health.problems.len() < PROBLEMS_LISTED {
                health.problems.push(TenantProblem {
                    problem: format!("invalid registry id: {}", first_line(&invalid.error)),
                    tenant: invalid.id,
                    version: 0,
                });
            }
        }
        Ok(health)
    }

    /// [`Tenants::health`] of the tenants given.
    pub async fn health_of(
        &self,
        pool: &PgPool,
        tenants: &[TenantSchema],
    ) -> Result<TenantHealth, Error> {
        let manifest = self.migrations.manifest()?;
        let target = self.target.unwrap_or(u32::MAX);
        let latest = manifest
            .migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| *v <= target)
            .max()
            .unwrap_or(0);
        let newest = manifest
            .migrations
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let names: Vec<&str> = tenants.iter().map(TenantSchema::name).collect();
        let context = "reading the tenants' versions";
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let rows: Vec<(String, i64, Option<String>)> =
            fetch_if_tracked(&mut conn, context, query_as(TENANT_VERSIONS).bind(&names)).await?;
        drop(conn);
        let versions: HashMap<String, (u32, Option<String>)> = rows
            .into_iter()
            .map(|(scope, v, e)| (scope, (u32::try_from(v).unwrap_or(0), e)))
            .collect();
        let drift = self.check_drift(pool, tenants).await?;

        let mut health = TenantHealth {
            tenants: tenants.len(),
            latest_version: latest,
            ..TenantHealth::default()
        };
        for tenant in tenants {
            let (version, error) = versions.get(tenant.name()).cloned().unwrap_or((0, None));
            let problem = if version > newest {
                health.ahead += 1;
                Some(format!(
                    "ahead: at version {version}, newer than this binary's {newest}"
                ))
            } else if let Some(error) = error {
                health.failed += 1;
                Some(format!("failed: {error}"))
            } else if version == 0 {
                health.missing += 1;
                Some("no tenant migration applied: the tenant was never created".to_owned())
            } else if version < latest {
                health.behind += 1;
                Some(format!("behind: at version {version} of {latest}"))
            } else if let Some(report) = drift.tenant(tenant.name()) {
                health.drifted += 1;
                Some(format!("drift: {report}"))
            } else {
                health.current += 1;
                None
            };
            if let Some(problem) = problem {
                if health.problems.len() < PROBLEMS_LISTED {
                    health.problems.push(TenantProblem {
                        tenant: tenant.name().to_owned(),
                        version,
                        problem,
                    });
                }
            }
        }
        Ok(health)
    }
}

/// The tenant stream's state repeated for every tenant: what the catalog
/// statement reads in one go.
pub(crate) fn all_tenants(template: &SchemaState, tenants: &[TenantSchema]) -> SchemaState {
    let mut all = SchemaState::default();
    for tenant in tenants {
        let one = template.for_tenant(tenant.name());
        all.schemas.extend(one.schemas);
        all.tables.extend(one.tables);
    }
    // Sorted once here, rather than inserting 10,000 tables one by one.
    all.tables
        .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    all
}

/// Splits the catalog by schema and compares each tenant with its own expected state.
pub(crate) fn drift_by_tenant(
    template: &SchemaState,
    tenants: &[TenantSchema],
    catalog: Catalog,
) -> TenantDrift {
    let mut tables: HashMap<String, Vec<Table>> = HashMap::new();
    for table in catalog.state.tables {
        tables.entry(table.schema.clone()).or_default().push(table);
    }
    let mut views: HashMap<String, Vec<_>> = HashMap::new();
    for view in catalog.views {
        views
            .entry(view.name.schema.clone())
            .or_default()
            .push(view);
    }
    let mut drift = TenantDrift {
        checked: tenants.len(),
        ..TenantDrift::default()
    };
    for tenant in tenants {
        let name = tenant.name();
        let expected = template.for_tenant(name);
        let mut state = SchemaState::default();
        state.tables = tables.remove(name).unwrap_or_default();
        if catalog.state.schemas.contains(name) {
            state.schemas.insert(name.to_owned());
        }
        let one = Catalog {
            state,
            views: views.remove(name).unwrap_or_default(),
            canonical: catalog.canonical.clone(),
            column_sequences: Default::default(),
            seen: catalog.seen.clone(),
            last_table: 0,
            touched: None,
            streamed: Default::default(),
            schema_usage: catalog
                .schema_usage
                .iter()
                .filter(|(schema, _)| schema == name)
                .cloned()
                .collect(),
            partitions: Default::default(),
        };
        let report = compare(&expected, &one);
        if !report.is_clean() {
            drift.drifted.insert(name.to_owned(), report);
        }
    }
    drift
}
