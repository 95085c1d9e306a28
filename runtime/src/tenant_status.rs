//! The fleet's status: every tenant's version, failures, tenants ahead of
//! this binary, registry ids with no schema, schemas under the prefix with
//! no registry row, archives and rollouts, from a few queries however many
//! tenants there are.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::error::db;
use crate::session::query_as;
use crate::tenants::first_line;
use crate::tracking::fetch_if_tracked;
use crate::{ArchivedTenant, Error, InvalidTenant, RolloutState, Tenants};

/// Returns, for each scope of `$1` with rows, its newest version applied
/// and the first line of the error of its newest failed migration.
const VERSIONS: &str = r#"SELECT "scope",
    coalesce(max("version") FILTER (WHERE "success"), 0),
    (array_agg(split_part("error", E'\n', 1) ORDER BY "version" DESC) FILTER (WHERE NOT "success"))[1]
FROM "strata"."migrations" WHERE "scope" = ANY($1) GROUP BY "scope""#;

/// Returns the schemas whose name starts with `$1`.
const UNDER_PREFIX: &str = r#"SELECT nspname::text FROM pg_catalog.pg_namespace
WHERE left(nspname, length($1)) = $1 ORDER BY 1"#;

/// Where every tenant stands.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct FleetStatus {
    /// Tenants the registry lists (whose id names a schema).
    pub tenants: usize,
    /// The newest tenant migration this binary knows (up to the target).
    pub latest_version: u32,
    /// How many tenants are at each version (0: nothing applied).
    pub versions: BTreeMap<u32, usize>,
    /// Tenants whose last attempt failed, and why.
    pub failed: Vec<FailedTenant>,
    /// Tenants at a version newer than this binary knows.
    pub ahead: Vec<String>,
    /// Registry ids whose schema does not exist.
    pub missing: Vec<String>,
    /// Schemas under the prefix that no registry row names (nor an
    /// archive): orphans, or tenants made outside the registry.
    pub orphans: Vec<String>,
    /// Registry rows whose id names no valid schema.
    pub invalid: Vec<InvalidTenant>,
    /// Tenants archived.
    pub archived: Vec<ArchivedTenant>,
    /// Rollouts running (or interrupted) or stopped.
    pub rollouts: Vec<RolloutState>,
    /// The tenants that differ from the tenant models, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drifted: Option<Vec<String>>,
}

/// A tenant whose last attempt failed.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FailedTenant {
    /// Its schema.
    pub tenant: String,
    /// The version it stays at.
    pub version: u32,
    /// The first line of the error.
    pub error: String,
}

impl FleetStatus {
    /// True when every tenant is at the latest version, none failed, none
    /// is missing, ahead, orphaned, invalid or drifted, and no rollout is
    /// unfinished.
    pub fn is_current(&self) -> bool {
        self.versions.keys().all(|v| *v == self.latest_version)
            && self.failed.is_empty()
            && self.ahead.is_empty()
            && self.missing.is_empty()
            && self.orphans.is_empty()
            && self.invalid.is_empty()
            && self.rollouts.is_empty()
            && self.drifted.as_ref().map_or(true, Vec::is_empty)
    }
}

impl fmt::Display for FleetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} tenants; latest tenant migration {}",
            self.tenants, self.latest_version
        )?;
        for (version, count) in &self.versions {
            let mark = if *version == self.latest_version {
                " (latest)"
            } else {
                ""
            };
            writeln!(f, "  at version {version}{mark}: {count}")?;
        }
        let list = |f: &mut fmt::Formatter<'_>, title: &str, items: &[String]| -> fmt::Result {
            if !items.is_empty() {
                writeln!(f, "{title} ({}): {}", items.len(), items.join(", "))?;
            }
            Ok(())
        };
        for failed in &self.failed {
            writeln!(
                f,
                "failed: {} at version {}: {}",
                failed.tenant, failed.version, failed.error
            )?;
        }
        list(f, "ahead of this binary", &self.ahead)?;
        list(f, "in the registry, no schema", &self.missing)?;
        list(
            f,
            "orphans: schemas under the prefix no registry row names",
            &self.orphans,
        )?;
        for invalid in &self.invalid {
            writeln!(f, "invalid: {invalid}")?;
        }
        let archived: Vec<String> = self
            .archived
            .iter()
            .map(|a| format!("{} (in {})", a.tenant, a.archived_as))
            .collect();
        list(f, "archived", &archived)?;
        for rollout in &self.rollouts {
            write!(
                f,
                "rollout ({} to {}): {}, {} of {} waves done, {} of {} tenants failed",
                rollout.action,
                rollout.target,
                rollout.state,
                rollout.waves_done,
                rollout.waves,
                rollout.failed,
                rollout.tenants
            )?;
            match &rollout.reason {
                Some(reason) => writeln!(f, ": {reason}")?,
                None => writeln!(f)?,
            }
        }
        if let Some(drifted) = &self.drifted {
            match drifted.is_empty() {
                true => writeln!(f, "drift: none")?,
                false => list(f, "drifted", drifted)?,
            }
        }
        Ok(())
    }
}

impl Tenants<'_> {
    /// Where every tenant of the registry stands; with `drift`, each is
    /// also checked against the tenant models (one pass over the catalog).
    pub async fn status(&self, pool: &PgPool, drift: bool) -> Result<FleetStatus, Error> {
        let list = self.list(pool).await?;
        let latest = self.target_version()?;
        let newest = self
            .migrations
            .manifest()?
            .migrations
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let names: Vec<&str> = list.tenants.iter().map(|t| t.name()).collect();
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let rows: Vec<(String, i64, Option<String>)> = fetch_if_tracked(
            &mut conn,
            "reading the tenants' versions",
            query_as(VERSIONS).bind(&names),
        )
        .await?;
        let versions: HashMap<String, (u32, Option<String>)> = rows
            .into_iter()
            .map(|(scope, v, e)| (scope, (u32::try_from(v).unwrap_or(0), e)))
            .collect();
        let schemas = self.schemas_under_prefix(&mut conn).await?;
        drop(conn);
        let archived = self.archived(pool).await?;

        let mut status = FleetStatus {
            tenants: list.tenants.len(),
            latest_version: latest,
            invalid: list.invalid,
            archived,
            rollouts: self.rollouts(pool).await?,
            ..FleetStatus::default()
        };
        let listed: BTreeSet<&str> = names.iter().copied().collect();
        for tenant in &list.tenants {
            let (version, error) = versions.get(tenant.name()).cloned().unwrap_or((0, None));
            *status.versions.entry(version).or_default() += 1;
            if version > newest {
                status.ahead.push(tenant.name().to_owned());
            }
            if let Some(error) = error {
                status.failed.push(FailedTenant {
                    tenant: tenant.name().to_owned(),
                    version,
                    error: first_line(&error).to_owned(),
                });
            }
            if !schemas.contains(tenant.name()) {
                status.missing.push(tenant.name().to_owned());
            }
        }
        status.orphans = schemas
            .iter()
            .filter(|s| !listed.contains(s.as_str()))
            .cloned()
            .collect();
        if drift {
            let report = self.check_drift(pool, &list.tenants).await?;
            status.drifted = Some(report.drifted.into_keys().collect());
        }
        Ok(status)
    }

    /// The schemas whose name starts with the tenant prefix.
    pub(crate) async fn schemas_under_prefix(
        &self,
        conn: &mut PgConnection,
    ) -> Result<BTreeSet<String>, Error> {
        let rows: Vec<(String,)> = query_as(UNDER_PREFIX)
            .bind(&self.prefix)
            .fetch_all(&mut *conn)
            .await
            .map_err(db("listing the schemas under the tenant prefix"))?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }
}
