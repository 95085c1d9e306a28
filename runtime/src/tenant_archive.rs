//! The end of a tenant's life: dropped (confirmed by name), or archived out
//! of the live tenant schemas and restored later. Each is one transaction
//! that changes the schema, its history in `strata.migrations` and its
//! registry row together, or changes nothing.

use serde::Serialize;
use sqlx::{Acquire, PgConnection, PgPool};
use strata_manifest::quote_ident;

use crate::error::db;
use crate::session::{query, query_as};
use crate::tenants::schema_exists;
use crate::tracking;
use crate::{Error, TenantSchema, Tenants, TenantsReport};

/// Creates the list of archived tenants: which schema holds each, and its
/// registry row as it was.
const CREATE_ARCHIVES: &str = r#"CREATE TABLE IF NOT EXISTS "strata"."archives" (
    "tenant" text PRIMARY KEY,
    "id" text NOT NULL,
    "archived_as" text NOT NULL UNIQUE,
    "registry_row" jsonb,
    "archived_at" timestamp with time zone NOT NULL DEFAULT now()
)"#;

/// Returns the objects outside schema `$1` that depend on something in it:
/// what `DROP SCHEMA … CASCADE` would drop besides the schema's own.
const DEPENDENTS_OUTSIDE: &str = r#"SELECT DISTINCT o.type || ' ' || o.identity
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class c ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1
LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
CROSS JOIN LATERAL pg_catalog.pg_identify_object(
    CASE WHEN r.oid IS NULL THEN d.classid ELSE 'pg_catalog.pg_class'::regclass END,
    coalesce(r.ev_class, d.objid),
    CASE WHEN r.oid IS NULL THEN d.objsubid ELSE 0 END) o
WHERE d.deptype = 'n' AND o.schema IS DISTINCT FROM $1
ORDER BY 1"#;

/// A tenant archived: out of the registry and the tenant schemas, its data
/// kept in a schema of strata's until it is restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ArchivedTenant {
    /// The tenant's schema, as it was and will be again.
    pub tenant: String,
    /// The tenant's id.
    pub id: String,
    /// The schema that keeps its data meanwhile (`strata_archive_1`).
    pub archived_as: String,
}

impl Tenants<'_> {
    /// Drops a tenant: its schema with everything in it, its history in
    /// `strata.migrations` and, with a registry, its registry row, in one
    /// transaction. It loses data, so it runs only when the tenant is
    /// confirmed by name ([`Tenants::confirm`] with the schema or the id;
    /// `confirm_all` is not enough), and never when an object outside the
    /// schema depends on it.
    pub async fn drop_tenant(&self, pool: &PgPool, tenant: &TenantSchema) -> Result<(), Error> {
        let confirm = crate::migrations::with_env_confirmation(&self.confirm);
        if !(confirm.names(tenant.name()) || confirm.names(tenant.id())) {
            return Err(Error::TenantDropUnconfirmed {
                schema: tenant.name().to_owned(),
                id: tenant.id().to_owned(),
            });
        }
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        tracking::ensure(&mut conn).await?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        tracking::lock(&mut tx, tenant.name()).await?;
        require_schema(&mut tx, tenant).await?;
        let outside: Vec<(String,)> = query_as(DEPENDENTS_OUTSIDE)
            .bind(tenant.name())
            .fetch_all(&mut *tx)
            .await
            .map_err(db("looking for what depends on the tenant"))?;
        if !outside.is_empty() {
            return Err(Error::TenantDependedOn {
                schema: tenant.name().to_owned(),
                objects: outside.into_iter().map(|(o,)| o).collect(),
            });
        }
        let drop = format!("DROP SCHEMA {} CASCADE", tenant.quoted());
        query(&drop)
            .execute(&mut *tx)
            .await
            .map_err(db("dropping the tenant's schema"))?;
        forget_history(&mut tx, tenant.name()).await?;
        self.delete_registry_row(&mut tx, tenant).await?;
        tx.commit()
            .await
            .map_err(db("committing the tenant's drop"))?;
        tracing::info!(tenant = tenant.name(), "strata: tenant dropped");
        Ok(())
    }

    /// Archives a tenant: its schema is renamed to one of strata's
    /// (`strata_archive_N`), with its data, its history and its registry
    /// row kept, in one transaction. An archived tenant is not migrated,
    /// not checked for drift and not an orphan; [`Tenants::restore`]
    /// brings it back.
    pub async fn archive(
        &self,
        pool: &PgPool,
        tenant: &TenantSchema,
    ) -> Result<ArchivedTenant, Error> {
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        tracking::ensure(&mut conn).await?;
        ensure_archives(&mut conn).await?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        tracking::lock(&mut tx, tenant.name()).await?;
        require_schema(&mut tx, tenant).await?;
        let (number,): (i64,) = query_as(
            r#"SELECT coalesce(max(substr("archived_as", 16)::bigint), 0) + 1 FROM "strata"."archives""#,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db("numbering the archive"))?;
        let archived_as = format!("strata_archive_{number}");
        let row = self.registry_row(&mut tx, tenant).await?;
        let rename = format!(
            "ALTER SCHEMA {} RENAME TO {}",
            tenant.quoted(),
            quote_ident(&archived_as)
        );
        query(&rename)
            .execute(&mut *tx)
            .await
            .map_err(db("moving the tenant's schema to the archive"))?;
        move_history(&mut tx, tenant.name(), &archived_as).await?;
        query(r#"INSERT INTO "strata"."archives" ("tenant", "id", "archived_as", "registry_row") VALUES ($1, $2, $3, $4)"#)
            .bind(tenant.name())
            .bind(tenant.id())
            .bind(&archived_as)
            .bind(row)
            .execute(&mut *tx)
            .await
            .map_err(db("recording the archive"))?;
        self.delete_registry_row(&mut tx, tenant).await?;
        tx.commit()
            .await
            .map_err(db("committing the tenant's archive"))?;
        tracing::info!(
            tenant = tenant.name(),
            archived_as,
            "strata: tenant archived"
        );
        Ok(ArchivedTenant {
            tenant: tenant.name().to_owned(),
            id: tenant.id().to_owned(),
            archived_as,
        })
    }

    /// Restores an archived tenant: its schema, history and registry row
    /// back in one transaction, then the tenant migrated to the current
    /// version like any other (the report says how).
    pub async fn restore(
        &self,
        pool: &PgPool,
        tenant: &TenantSchema,
    ) -> Result<TenantsReport, Error> {
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        tracking::ensure(&mut conn).await?;
        ensure_archives(&mut conn).await?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        tracking::lock(&mut tx, tenant.name()).await?;
        let found: Option<(String, Option<serde_json::Value>)> = query_as(
            r#"SELECT "archived_as", "registry_row" FROM "strata"."archives" WHERE "tenant" = $1"#,
        )
        .bind(tenant.name())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("reading the archive"))?;
        let Some((archived_as, row)) = found else {
            return Err(Error::TenantNotFound {
                what: format!("tenant {tenant} is not archived, so there is nothing to restore"),
            });
        };
        let exists = schema_exists(&mut tx, tenant).await?;
        if exists {
            return Err(Error::TenantExists {
                schema: tenant.name().to_owned(),
            });
        }
        let rename = format!(
            "ALTER SCHEMA {} RENAME TO {}",
            quote_ident(&archived_as),
            tenant.quoted()
        );
        query(&rename)
            .execute(&mut *tx)
            .await
            .map_err(db("moving the tenant's schema back from the archive"))?;
        move_history(&mut tx, &archived_as, tenant.name()).await?;
        query(r#"DELETE FROM "strata"."archives" WHERE "tenant" = $1"#)
            .bind(tenant.name())
            .execute(&mut *tx)
            .await
            .map_err(db("removing the archive record"))?;
        self.insert_registry_row(&mut tx, tenant, row).await?;
        tx.commit()
            .await
            .map_err(db("committing the tenant's restore"))?;
        tracing::info!(
            tenant = tenant.name(),
            archived_as,
            "strata: tenant restored"
        );
        self.migrate(pool, std::slice::from_ref(tenant)).await
    }

    /// The tenants archived, oldest first.
    pub async fn archived(&self, pool: &PgPool) -> Result<Vec<ArchivedTenant>, Error> {
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let context = "reading the archived tenants";
        let (exists,): (bool,) =
            query_as(r#"SELECT to_regclass('"strata"."archives"') IS NOT NULL"#)
                .fetch_one(&mut *conn)
                .await
                .map_err(db(context))?;
        if !exists {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, String)> = query_as(
            r#"SELECT "tenant", "id", "archived_as" FROM "strata"."archives" ORDER BY "archived_at", "tenant""#,
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
        Ok(rows
            .into_iter()
            .filter(|(tenant, ..)| tenant.starts_with(&self.prefix))
            .map(|(tenant, id, archived_as)| ArchivedTenant {
                tenant,
                id,
                archived_as,
            })
            .collect())
    }

    async fn registry_row(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantSchema,
    ) -> Result<Option<serde_json::Value>, Error> {
        let Some(registry) = &self.registry else {
            return Ok(None);
        };
        let (table, column) = registry.names();
        let select = format!("SELECT to_jsonb(r) FROM {table} r WHERE {column}::text = $1");
        let row: Option<(serde_json::Value,)> = query_as(&select)
            .bind(tenant.id())
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| registry.error("reading the tenant's registry row", e))?;
        Ok(row.map(|(r,)| r))
    }

    async fn delete_registry_row(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantSchema,
    ) -> Result<(), Error> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let (table, column) = registry.names();
        let delete = format!("DELETE FROM {table} WHERE {column}::text = $1");
        query(&delete)
            .bind(tenant.id())
            .execute(&mut *conn)
            .await
            .map_err(|e| registry.error("removing the tenant from the registry", e))?;
        Ok(())
    }

    async fn insert_registry_row(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantSchema,
        row: Option<serde_json::Value>,
    ) -> Result<(), Error> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let (table, column) = registry.names();
        let (insert, row) = match row {
            // The row as it was, every column of it.
            Some(row) => (
                format!(
                    "INSERT INTO {table} SELECT * FROM jsonb_populate_record(NULL::{table}, $1)"
                ),
                row,
            ),
            None => (
                format!("INSERT INTO {table} ({column}) SELECT $1 ->> 'id'"),
                serde_json::json!({ "id": tenant.id() }),
            ),
        };
        query(&insert)
            .bind(row)
            .execute(&mut *conn)
            .await
            .map_err(|e| registry.error("putting the tenant back in the registry", e))?;
        Ok(())
    }
}

async fn ensure_archives(conn: &mut PgConnection) -> Result<(), Error> {
    let mut tx = conn.begin().await.map_err(db("creating strata.archives"))?;
    tracking::lock(&mut tx, "").await?;
    query(CREATE_ARCHIVES)
        .execute(&mut *tx)
        .await
        .map_err(db("creating strata.archives"))?;
    tx.commit().await.map_err(db("creating strata.archives"))
}

async fn require_schema(conn: &mut PgConnection, tenant: &TenantSchema) -> Result<(), Error> {
    let exists = schema_exists(conn, tenant).await?;
    match exists {
        true => Ok(()),
        false => Err(Error::TenantNotFound {
            what: format!("tenant {tenant} has no schema"),
        }),
    }
}

async fn forget_history(conn: &mut PgConnection, scope: &str) -> Result<(), Error> {
    for table in [r#""strata"."migrations""#, r#""strata"."progress""#] {
        query(&format!(r#"DELETE FROM {table} WHERE "scope" = $1"#))
            .bind(scope)
            .execute(&mut *conn)
            .await
            .map_err(db("forgetting the tenant's history"))?;
    }
    Ok(())
}

async fn move_history(conn: &mut PgConnection, from: &str, to: &str) -> Result<(), Error> {
    for table in [r#""strata"."migrations""#, r#""strata"."progress""#] {
        query(&format!(
            r#"UPDATE {table} SET "scope" = $2 WHERE "scope" = $1"#
        ))
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await
        .map_err(db("moving the tenant's history"))?;
    }
    Ok(())
}
