//! What a health endpoint reports: schemas, migrations and drift, in one call.

use serde::Serialize;
use sqlx::PgPool;

use crate::drift::{compare, DriftReport};
use crate::error::db;
use crate::migrator::DEFAULT_SCOPE;
use crate::session::query_as;
use crate::tracking::fetch_if_tracked;
use crate::{introspect, Error, Migrations, TenantHealth, Tenants};

/// Returns the version of every migration of a scope applied successfully.
const APPLIED_VERSIONS: &str =
    r#"SELECT "version" FROM "strata"."migrations" WHERE "scope" = $1 AND "success" ORDER BY 1"#;

/// The database's schemas and migrations against the binary's models.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Health {
    /// `ok`, `pending` (migrations not applied yet) or `drift`.
    pub status: HealthStatus,
    /// Every managed schema.
    pub schemas: Vec<SchemaHealth>,
    /// Applied and pending migrations.
    pub migrations: MigrationHealth,
    /// The drift check against the newest models.
    pub drift: DriftReport,
    /// The tenants, from [`health_with_tenants`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenants: Option<TenantHealth>,
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Every migration applied, no drift.
    Ok,
    /// Some migrations are not applied yet (or some tenant is behind, failed or never created).
    Pending,
    /// Every migration applied, and the database differs from the models.
    Drift,
}

/// One managed schema.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SchemaHealth {
    /// Its name.
    pub name: String,
    /// Whether it exists.
    pub exists: bool,
    /// The tables the models put in it.
    pub expected_tables: Vec<String>,
    /// The tables it holds.
    pub found_tables: Vec<String>,
    /// The other kinds of object the models put in it or it holds, by kind
    /// (`enums`, `views`, and each `sql_dir` kind by its folder: `functions`, `procedures`, `sequences`, `domains`, `triggers`, `exclusions`); a kind with
    /// nothing expected and nothing found is left out.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub objects: std::collections::BTreeMap<&'static str, ObjectsHealth>,
}

/// One kind of object in one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ObjectsHealth {
    /// What the models put there, by name (a function with its argument
    /// types, a trigger as `table.name`).
    pub expected: Vec<String>,
    /// What the schema holds.
    pub found: Vec<String>,
}

/// The objects of `state` in `schema` other than tables, by kind.
fn objects_in(
    state: &strata_manifest::SchemaState,
    schema: &str,
) -> std::collections::BTreeMap<&'static str, Vec<String>> {
    let mut objects: std::collections::BTreeMap<&'static str, Vec<String>> = [
        (
            "enums",
            state
                .enums
                .iter()
                .filter(|e| e.schema == schema)
                .map(|e| e.name.clone())
                .collect(),
        ),
        (
            "views",
            state
                .views
                .iter()
                .map(|v| v.qualified_name())
                .chain(state.views().map(|(compat, _)| compat.clone()))
                .filter(|v| v.schema == schema)
                .map(|v| v.name)
                .collect::<std::collections::BTreeSet<String>>()
                .into_iter()
                .collect(),
        ),
    ]
    .into_iter()
    .collect();
    // Every kind of the `sql_dir`, each under its folder's name.
    for file in strata_manifest::sql_files::files(state) {
        if file.schema == schema {
            objects.entry(file.folder).or_default().push(file.name);
        }
    }
    objects
}

fn objects(
    expected: &strata_manifest::SchemaState,
    found: &strata_manifest::SchemaState,
    schema: &str,
) -> std::collections::BTreeMap<&'static str, ObjectsHealth> {
    let (mut expected, mut found) = (objects_in(expected, schema), objects_in(found, schema));
    let kinds: std::collections::BTreeSet<&'static str> =
        expected.keys().chain(found.keys()).copied().collect();
    kinds
        .into_iter()
        .map(|kind| {
            let health = ObjectsHealth {
                expected: expected.remove(kind).unwrap_or_default(),
                found: found.remove(kind).unwrap_or_default(),
            };
            (kind, health)
        })
        .filter(|(_, h)| !(h.expected.is_empty() && h.found.is_empty()))
        .collect()
}

/// Applied and pending migrations.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MigrationHealth {
    /// Applied, oldest first.
    pub applied: Vec<MigrationStatus>,
    /// Not applied yet, oldest first.
    pub pending: Vec<MigrationStatus>,
}

/// One migration.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
}

/// Reports the managed schemas, the migrations and the drift, reading the
/// catalog in a fixed number of queries; for a `/health` endpoint.
pub async fn health(pool: &PgPool, migrations: &Migrations) -> Result<Health, Error> {
    let manifest = migrations.manifest()?;
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    let context = "reading strata.migrations for the health report";
    let applied: Vec<(i64,)> = fetch_if_tracked(
        &mut conn,
        context,
        query_as(APPLIED_VERSIONS).bind(DEFAULT_SCOPE),
    )
    .await?;
    let catalog = introspect::read_catalog(&mut conn, &manifest.state).await?;
    let drift = compare(&manifest.state, &catalog);

    let (done, pending): (Vec<_>, Vec<_>) = manifest
        .migrations
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            name: m.name.clone(),
        })
        .partition(|m| applied.iter().any(|(v,)| *v == i64::from(m.version)));
    let tables_in = |state: &strata_manifest::SchemaState, schema: &str| -> Vec<String> {
        state
            .tables
            .iter()
            .filter(|t| t.schema == schema)
            .map(|t| t.name.clone())
            .collect()
    };
    // The sequences of identity and serial columns belong to their tables.
    let mut found = catalog.state.clone();
    found.sequences.retain(|q| {
        !catalog
            .column_sequences
            .contains(&(q.schema.clone(), q.name.clone()))
    });
    let schemas = manifest
        .state
        .schemas
        .iter()
        .map(|name| SchemaHealth {
            name: name.clone(),
            exists: catalog.state.schemas.contains(name),
            expected_tables: tables_in(&manifest.state, name),
            found_tables: tables_in(&catalog.state, name),
            objects: objects(&manifest.state, &found, name),
        })
        .collect();
    let status = if !pending.is_empty() {
        HealthStatus::Pending
    } else if !drift.is_clean() {
        HealthStatus::Drift
    } else {
        HealthStatus::Ok
    };
    Ok(Health {
        status,
        schemas,
        migrations: MigrationHealth {
            applied: done,
            pending,
        },
        drift,
        tenants: None,
    })
}

/// [`health`] with a summary of every tenant in the registry of `tenants`:
/// how many are current, behind, failed, never created or drifted, and the
/// first of them by name. The status is `pending` while any tenant is not
/// at the newest tenant migration, and `drift` when any has drifted.
pub async fn health_with_tenants(
    pool: &PgPool,
    migrations: &Migrations,
    tenants: &Tenants<'_>,
) -> Result<Health, Error> {
    let mut health = health(pool, migrations).await?;
    let summary = tenants.health(pool).await?;
    if health.status == HealthStatus::Ok || health.status == HealthStatus::Drift {
        if summary.behind + summary.missing + summary.failed > 0 {
            health.status = HealthStatus::Pending;
        } else if summary.drifted > 0 {
            health.status = HealthStatus::Drift;
        }
    }
    health.tenants = Some(summary);
    Ok(health)
}
