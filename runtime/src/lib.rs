//! strata keeps a multi-schema PostgreSQL database in step with the
//! application's `#[schema]` models: it applies the migrations `cargo build`
//! wrote, once, under a lock, and checks the live catalog for drift.
//!
//! ```no_run
//! # async fn start(pool: strata::sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
//! #[strata::schema("tenant_kct", table = "customers")]
//! pub struct Customer {
//!     #[column(primary_key, identity)]
//!     pub id: i64,
//!     #[column(unique, type = "varchar(255)")]
//!     pub email: String,
//!     pub note: Option<String>,
//! }
//!
//! # /*
//! static MIGRATIONS: strata::Migrations = strata::embed_migrations!();
//! # */
//! # static MIGRATIONS: strata::Migrations = strata::Migrations::__embedded("", &[]);
//! let report = strata::Migrator::new(&MIGRATIONS).run(&pool).await?;
//! println!("applied {} migrations, drift: {}", report.applied.len(), report.drift);
//! let customers: Vec<Customer> = strata::sqlx::query_as(Customer::SELECT).fetch_all(&pool).await?;
//! # Ok(()) }
//! ```
//!
//! # Models
//!
//! [`schema`] makes a struct the model of a table (or an enum a
//! PostgreSQL enum type) and [`view`] the rows of a view: their pages are
//! the reference of every attribute and key, with an example each. The
//! guide (`docs/` in the repository) has a chapter for each thing a
//! service does: models, SQL objects, row-level security, partitions,
//! what the build writes, start-up and drift, schema per tenant, adopting
//! a database, the command line.
//!
//! Changes that can lose data or cannot apply to a table with rows are
//! written, and lossy rollbacks run, only when confirmed by name:
//! `STRATA_CONFIRM=shop.items.sku`, [`Migrator::confirm`].
#![deny(missing_docs)]

extern crate self as strata;

mod apply;
mod baseline;
mod canonical;
mod catalog;
mod connect_error;
mod drift;
mod error;
mod expected;
mod fleet;
mod health;
mod index_target;
mod introspect;
mod migrations;
mod migrator;
mod model;
mod partition_index;
mod partitions;
mod read_database;
mod redact;
mod rollout;
mod run_sql;
mod runner;
mod session;
mod status;
mod tenant;
mod tenant_apply;
mod tenant_archive;
mod tenant_drift;
mod tenant_rollback;
mod tenant_status;
mod tenants;
mod tracking;
mod watch;

pub mod rls;
#[cfg(feature = "testing")]
pub mod testing;

pub use baseline::{BaselineReport, TenantBaselineReport};
pub use connect_error::describe_sqlx_error;
pub use drift::{
    check_drift, check_drift_at, Difference, DifferenceKind, DriftCheck, DriftPolicy, DriftReport,
    ObjectKind,
};
pub use error::{Caller, Error, MoveFailure};
pub use fleet::{
    Fleet, FleetDrift, FleetHealth, FleetReport, MoveReport, MoveStep, Place, PlacedTenant,
    Placement, Server, ServerDrift, ServerHealth, ServerReport,
};
pub use health::{
    health, health_with_tenants, Health, HealthStatus, MigrationHealth, MigrationStatus,
    ObjectsHealth, SchemaHealth,
};
pub use migrations::{EmbeddedData, Migrations, NO_TRANSACTION};
pub use migrator::{AppliedMigration, Migrator, RollbackReport, RunReport};
pub use model::{Model, PgEnum};
pub use read_database::{read_database, user_schemas};
pub use rollout::{Rollout, RolloutReport, RolloutState, WaveProgress};
pub use run_sql::{run_sql, RunIn};
/// The JSON library the reports serialize with (`serde_json::to_string(&health)`),
/// so that a service needs no second dependency to print them.
pub use serde_json;
pub use sqlx;
pub use status::{
    DriftAt, MigrationLine, MigrationState, Plan, PlannedMigration, Status, UnknownMigration,
};
pub use strata_macros::{schema, view};
/// Quoting for names in SQL written by hand: `quote_ident("AiAction")` is
/// `"AiAction"`, `qualified("tenant_kct", "orders")` is `"tenant_kct"."orders"`.
pub use strata_manifest::{qualified, quote_ident};
pub use tenant::TenantSchema;
pub use tenant_archive::ArchivedTenant;
pub use tenant_drift::{TenantDrift, TenantHealth, TenantProblem};
pub use tenant_status::{FailedTenant, FleetStatus};
pub use tenants::{
    CreatedTenant, InvalidTenant, TenantList, TenantOutcome, TenantProgress, TenantStatus, Tenants,
    TenantsReport,
};

/// The benchmark's and the self-checking tests' way in (feature `bench`).
#[cfg(feature = "bench")]
#[doc(hidden)]
#[path = "bench.rs"]
pub mod __bench;

#[doc(hidden)]
pub mod __private {
    pub use crate::model::SharedModel;
    pub use sqlx;

    /// Encodes an enum value as its text (PostgreSQL takes enum input as text).
    pub fn encode_enum<E: crate::PgEnum>(
        value: &E,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<'_, sqlx::Postgres>>::encode(value.as_str(), buf)
    }

    /// A field of a `#[strata::schema]` enum type, bound as that type.
    #[derive(Debug)]
    pub struct EnumArg<'a, E>(&'a E);

    /// Binds an enum field.
    pub fn enum_arg<E: crate::PgEnum>(value: &E) -> EnumArg<'_, E> {
        EnumArg(value)
    }

    /// Binds a nullable enum field.
    pub fn enum_opt_arg<E: crate::PgEnum>(value: &Option<E>) -> Option<EnumArg<'_, E>> {
        value.as_ref().map(EnumArg)
    }

    impl<E: crate::PgEnum> sqlx::Type<sqlx::Postgres> for EnumArg<'_, E> {
        fn type_info() -> sqlx::postgres::PgTypeInfo {
            sqlx::postgres::PgTypeInfo::with_name(E::QUALIFIED)
        }
    }

    impl<'q, E: crate::PgEnum> sqlx::Encode<'q, sqlx::Postgres> for EnumArg<'_, E> {
        fn encode_by_ref(
            &self,
            buf: &mut sqlx::postgres::PgArgumentBuffer,
        ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
            encode_enum(self.0, buf)
        }
    }

    /// A column of a `#[strata::schema]` enum type, read as that type.
    struct EnumColumn<E>(E);

    impl<E: crate::PgEnum> sqlx::Type<sqlx::Postgres> for EnumColumn<E> {
        fn type_info() -> sqlx::postgres::PgTypeInfo {
            sqlx::postgres::PgTypeInfo::with_name(E::QUALIFIED)
        }
        fn compatible(_: &sqlx::postgres::PgTypeInfo) -> bool {
            // Whatever the server names the type (with or without its
            // schema, as the search path has it); the value is read as text.
            true
        }
    }

    impl<'r, E: crate::PgEnum> sqlx::Decode<'r, sqlx::Postgres> for EnumColumn<E> {
        fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
            decode_enum(value).map(EnumColumn)
        }
    }

    /// Reads an enum field.
    pub fn get_enum<E: crate::PgEnum>(
        row: &sqlx::postgres::PgRow,
        column: &str,
    ) -> Result<E, sqlx::Error> {
        sqlx::Row::try_get::<EnumColumn<E>, _>(row, column).map(|c| c.0)
    }

    /// Reads a nullable enum field.
    pub fn get_enum_opt<E: crate::PgEnum>(
        row: &sqlx::postgres::PgRow,
        column: &str,
    ) -> Result<Option<E>, sqlx::Error> {
        sqlx::Row::try_get::<Option<EnumColumn<E>>, _>(row, column).map(|c| c.map(|c| c.0))
    }

    /// Decodes an enum value from its text, naming the value it does not know.
    pub fn decode_enum<E: crate::PgEnum>(
        value: sqlx::postgres::PgValueRef<'_>,
    ) -> Result<E, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'_, sqlx::Postgres>>::decode(value)?;
        E::from_str(text).ok_or_else(|| {
            format!(
                "{} has no value `{text}` (it has: {}); the database holds a value the binary does not know",
                E::QUALIFIED,
                E::VALUES.join(", ")
            )
            .into()
        })
    }

    /// A tenant model's SQL with the tenant's schema in place of the placeholder.
    pub fn tenant_sql(template: &str, tenant: &crate::TenantSchema) -> String {
        strata_manifest::tenant_sql(template, tenant.quoted())
    }
}
