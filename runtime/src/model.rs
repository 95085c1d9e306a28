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
