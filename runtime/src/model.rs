//! What `#[schema]` generates for every model.

/// A table described by a `#[strata::schema]` struct. Implemented by the
/// attribute; every name in it is the one in the database, unquoted, and
/// `QUALIFIED` is ready to put into SQL.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a strata model",
    label = "`references` must name a struct with #[strata::schema(…)]",
    note = "for a table strata does not manage, write references = \"schema.table(column)\""
)]
pub trait Model {
    /// The schema, such as `tenant_kct`.
    const SCHEMA: &'static str;
    /// The table, such as `customers`.
    const TABLE: &'static str;
    /// `"tenant_kct"."customers"`, quoted.
    const QUALIFIED: &'static str;
    /// The columns, in field order.
    const COLUMNS: &'static [&'static str];
    /// The primary key's columns, in key order; empty without a key.
    const PRIMARY_KEY: &'static [&'static str];
    /// True for a model in every tenant's schema (`#[strata::schema(tenant)]`):
    /// its `SCHEMA` is then the placeholder `{tenant}`, and its SQL comes from
    /// functions that take a [`crate::TenantSchema`].
    const TENANT: bool = false;
}

/// A model in a named schema, which any model may reference. Implemented by
/// the attribute for every model that is not a tenant model.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a strata model in a named schema",
    label = "`references` on a shared table must name a struct with #[strata::schema(\"…\")]",
    note = "a tenant table (#[strata::schema(tenant)]) exists once per tenant, so a shared table cannot reference it; for a table strata does not manage, write references = \"schema.table(column)\""
)]
pub trait SharedModel: Model {}

/// A PostgreSQL enum type described by a `#[strata::schema]` enum.
/// Implemented by the attribute, with sqlx's `Type`, `Encode` and `Decode`,
/// so a field of the enum's type binds and reads as the enum.
#[diagnostic::on_unimplemented(
    message = "strata cannot tell which PostgreSQL type stores `{Self}`",
    label = "not a type strata maps",
    note = "name the column's type: #[column(type = \"text\")], or make `{Self}` a PostgreSQL enum: #[strata::schema(\"…\")] on a unit-only enum"
)]
pub trait PgEnum: Sized + 'static {
    /// The schema, such as `tenant_shared`.
    const SCHEMA: &'static str;
    /// The type's name, such as `order_status`.
    const NAME: &'static str;
    /// `"tenant_shared"."order_status"`, quoted.
    const QUALIFIED: &'static str;
    /// The values, in order.
    const VALUES: &'static [&'static str];
    /// This value, as PostgreSQL spells it.
    fn as_str(&self) -> &'static str;
    /// The value spelt `text`, if there is one.
    fn from_str(text: &str) -> Option<Self>;
}
